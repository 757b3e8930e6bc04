'use strict';
// Kiln's Node.js runtime: runs a Lambda-style Node.js handler against the Lambda Runtime API.
//
// Loaded by bootstrap.js (a normal start: `node /var/runtime/node/bootstrap.js`) and by snapshot.js (a start-up
// snapshot: the handler is loaded while the snapshot is built, and main() runs when it is restored). Nothing here
// reads the environment at load time: values that differ per environment (AWS_LAMBDA_RUNTIME_API,
// _KILN_OUTPUT_MARK, ...) are read in main(), so that a snapshot does not carry the build's.
// No dependencies; only node:net and node:util are loaded before the handler (both are part of Node's
// built-in snapshot), everything else on demand.
//
// The Runtime API is spoken over one kept-alive TCP connection by a small HTTP/1.1 client written on node:net:
// measured against node:http with a keep-alive agent, it takes about 40% less time per invocation (no
// ClientRequest / IncomingMessage streams per call). Response streaming, which needs chunked bodies and
// trailers, uses node:http.

const net = require('node:net');
const util = require('node:util');

const ERROR_TYPE = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY = 'Lambda-Runtime-Function-Error-Body';
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

// ------------------------------------------------------------------ Runtime API client

let api; // set by main()

function parseApiAddress(value) {
  const address = value || '127.0.0.1:9001';
  const slash = address.indexOf('/');
  const hostPort = slash < 0 ? address : address.slice(0, slash);
  const colon = hostPort.lastIndexOf(':');
  const prefix = slash < 0 ? '' : '/' + address.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return {
    hostPort,
    host: colon < 0 ? hostPort : hostPort.slice(0, colon),
    port: colon < 0 ? 80 : Number(hostPort.slice(colon + 1)),
    prefix: prefix === '/' ? '' : prefix,
  };
}

function fatal(message, err) {
  process.stderr.write(`kiln runtime: ${message}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

/** One HTTP/1.1 exchange at a time over a kept-alive socket; requests made meanwhile wait their turn. */
const client = {
  socket: null,
  busy: null, // {method, path, head, body, callback, retried, received}
  waiting: [],
  chunks: [],
  length: 0,

  connect() {
    const socket = net.createConnection({ host: api.host, port: api.port, noDelay: true });
    socket.on('data', (data) => this.onData(data));
    socket.on('error', (err) => this.onClosed(socket, err));
    socket.on('close', () => this.onClosed(socket, new Error('connection closed')));
    this.socket = socket;
  },

  onClosed(socket, err) {
    if (this.socket !== socket) return;
    this.socket = null;
    const busy = this.busy;
    if (!busy) return;
    // a kept-alive connection the server closed while idle fails on first use: retry once on a new one
    if (!busy.retried && !busy.received) {
      busy.retried = true;
      this.chunks = [];
      this.length = 0;
      this.send();
    } else {
      fatal(`${busy.method} ${busy.path} failed`, err);
    }
  },

  request(method, path, headers, body, callback) {
    let head = `${method} ${api.prefix}${path} HTTP/1.1\r\nHost: ${api.hostPort}\r\n`;
    for (const name in headers) head += `${name}: ${String(headers[name]).replace(/[\r\n]/g, ' ')}\r\n`;
    if (body !== undefined) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    const exchange = { method, path, head: head + '\r\n', body, callback, retried: false, received: false };
    if (this.busy) this.waiting.push(exchange);
    else {
      this.busy = exchange;
      this.send();
    }
  },

  send() {
    if (!this.socket) this.connect();
    const { head, body } = this.busy;
    if (body === undefined) this.socket.write(head, 'latin1');
    else if (typeof body === 'string') this.socket.write(head + body);
    else {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
    }
  },

  onData(data) {
    const busy = this.busy;
    if (!busy) return; // nothing asked: ignore
    busy.received = true;
    this.chunks.push(data);
    this.length += data.length;
    const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    this.chunks = [buf];
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = buf.toString('latin1', 0, end).split('\r\n');
    const status = Number(lines[0].split(' ', 3)[1]);
    const headers = {};
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      if (colon > 0) headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
    }
    let body;
    let consumed;
    if ((headers['transfer-encoding'] || '').toLowerCase().includes('chunked')) {
      const parts = [];
      let at = end + 4;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
        if (size === 0) {
          const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd); // at lineEnd itself when there are no trailers
          if (trailerEnd < 0) return;
          consumed = trailerEnd + 4;
          break;
        }
        if (buf.length < lineEnd + 2 + size + 2) return;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] || 0);
      if (buf.length < end + 4 + length) return;
      body = buf.subarray(end + 4, end + 4 + length);
      consumed = end + 4 + length;
    }
    this.chunks = consumed < buf.length ? [buf.subarray(consumed)] : [];
    this.length = consumed < buf.length ? buf.length - consumed : 0;
    if ((headers.connection || '').toLowerCase() === 'close') {
      const socket = this.socket;
      this.socket = null;
      socket.destroy();
    }
    this.busy = this.waiting.shift() || null;
    if (this.busy) this.send();
    else if (this.socket) this.socket.unref(); // an idle connection must not keep the event loop alive
    busy.callback(status, headers, body);
  },
};

function request(method, path, headers, body, callback) {
  if (client.socket) client.socket.ref();
  client.request(method, path, headers || {}, body, callback);
}

function post(path, body, headers, callback) {
  request('POST', path, Object.assign({ 'Content-Type': 'application/json' }, headers), body, (status, _h, answer) => {
    if (status >= 300) {
      process.stderr.write(`kiln runtime: POST ${path} returned HTTP ${status}: ${answer.toString().slice(0, 200)}\n`);
    }
    if (callback) callback();
  });
}

// ------------------------------------------------------------------ errors

class RuntimeError extends Error {}
function runtimeError(name) {
  const c = class extends RuntimeError {};
  c.prototype.name = `Runtime.${name}`;
  return c;
}
const ImportModuleError = runtimeError('ImportModuleError');
const HandlerNotFound = runtimeError('HandlerNotFound');
const MalformedHandlerName = runtimeError('MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
const MalformedStreamingHandler = runtimeError('MalformedStreamingHandler');
const InvalidStreamingOperation = runtimeError('InvalidStreamingOperation');
const UnhandledPromiseRejection = runtimeError('UnhandledPromiseRejection');
const NodeJsExit = runtimeError('NodeJsExit');

function isError(e) {
  return util.types.isNativeError(e) || (e && typeof e.name === 'string' && typeof e.message === 'string' && typeof e.stack === 'string');
}

/** The error body Lambda's Node.js runtime posts: {errorType, errorMessage, trace}. */
function errorResponse(error) {
  try {
    if (isError(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: String(error.stack).split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_) {
    return { errorType: 'handled', errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack' };
  }
}

function formatError(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => {
      if (v instanceof Error) {
        const out = Object.assign({ errorType: v.name, errorMessage: v.message, code: v.code }, v);
        if (typeof v.stack === 'string') out.stack = v.stack.split('\n');
        return out;
      }
      return v;
    });
  } catch (_) {
    return '\t' + JSON.stringify(errorResponse(error));
  }
}

// ------------------------------------------------------------------ logging (Lambda's text and JSON formats)

const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
let logError = (message, error) => console.error(message, formatError(error));

function patchConsole() {
  const minimum = LEVELS[String(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || LEVELS.TRACE;
  const json = String(process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';
  const out = process.stdout;
  const noop = () => {};
  const textLogger = (level) => (...params) => {
    const line = `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level}\t${util.format(...params)}`;
    out.write(line.replace(/\n/g, '\r') + '\n');
  };
  const jsonLogger = (level) => (...params) => {
    const record = { timestamp: new Date().toISOString(), level, requestId: globalThis[REQUEST_ID] };
    if (params.length === 1 && !(params[0] instanceof Error)) {
      record.message = params[0];
    } else {
      record.message = util.format(...params);
      const err = params.find((p) => p instanceof Error);
      if (err) {
        record.errorType = err.constructor?.name ?? 'UnknownError';
        record.errorMessage = err.message;
        record.stackTrace = typeof err.stack === 'string' ? err.stack.split('\n') : [];
      }
    }
    let line;
    try {
      line = JSON.stringify(record);
    } catch (_) {
      record.message = util.format(record.message);
      line = JSON.stringify(record);
    }
    out.write(line.replace(/\n/g, '\r') + '\n');
  };
  const make = json ? jsonLogger : textLogger;
  const pick = (level) => (LEVELS[level] >= minimum ? make(level) : noop);
  console.trace = pick('TRACE');
  console.debug = pick('DEBUG');
  console.info = pick('INFO');
  console.log = pick('INFO');
  console.warn = pick('WARN');
  console.error = pick('ERROR');
  console.fatal = pick('FATAL');
  if (json) {
    const error = make('ERROR');
    logError = (message, err) => error(message, err);
  } else {
    const error = textLogger('ERROR');
    logError = (message, err) => error(message, formatError(err));
  }
}

// ------------------------------------------------------------------ handler loading

function resolveHandlerFunction(object, nestedProperty) {
  return nestedProperty.split('.').reduce((nested, key) => nested && nested[key], object);
}

function packageTypeIsModule(folder) {
  const path = require('node:path');
  const fs = require('node:fs');
  for (;;) {
    if (folder.endsWith('/node_modules')) return false;
    const pj = path.join(folder, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
      } catch (e) {
        console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
        return false;
      }
    }
    const parent = path.dirname(folder);
    if (parent === folder) return false;
    folder = parent;
  }
}

/** Loads the handler's module with Node's own loaders (require, or import for ES modules). */
async function loadModule(taskRoot, moduleRoot, moduleName) {
  const path = require('node:path');
  const fs = require('node:fs');
  const base = path.resolve(taskRoot, moduleRoot, moduleName);
  const importFile = async (file) => import(require('node:url').pathToFileURL(file).href);
  if (fs.existsSync(base) && fs.statSync(base).isFile()) return require(base);
  const jsExists = fs.existsSync(base + '.js');
  const esm = jsExists && packageTypeIsModule(path.dirname(base + '.js'));
  if (jsExists) return esm ? importFile(base + '.js') : require(base + '.js');
  if (fs.existsSync(base + '.mjs')) return importFile(base + '.mjs');
  if (fs.existsSync(base + '.cjs')) return require(base + '.cjs');
  // Fall back to Node's own resolution (a directory with index.js, a package under node_modules, ...).
  return require(require.resolve(moduleName, { paths: [taskRoot, path.resolve(taskRoot, moduleRoot)] }));
}

/** The handler function named by {@code fullHandler} ("dir/module.export"), its module loaded by loadModule. */
async function loadHandler(taskRoot, fullHandler, load = loadModule) {
  if (!fullHandler) throw new MalformedHandlerName('Bad handler');
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(`'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`);
  }
  const slash = fullHandler.lastIndexOf('/');
  const moduleRoot = fullHandler.slice(0, slash + 1);
  const match = /^([^.]*)\.(.*)$/.exec(fullHandler.slice(slash + 1));
  if (!match) throw new MalformedHandlerName('Bad handler');
  let app;
  try {
    app = await load(taskRoot, moduleRoot, match[1]);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const handler = resolveHandlerFunction(app, match[2]);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler;
}

// ------------------------------------------------------------------ awslambda global (response streaming)

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType('application/vnd.awslambda.http-integration-response');
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

function installGlobal() {
  if (globalThis.awslambda && globalThis.awslambda.HttpResponseStream === HttpResponseStream) return; // done at build
  const flag = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (flag === '1' || flag === 'true') return;
  globalThis.awslambda = {
    streamifyResponse(handler, options) {
      handler[STREAMING] = 'response';
      if (typeof options?.highWaterMark === 'number') handler[HIGH_WATER_MARK] = parseInt(options.highWaterMark);
      return handler;
    },
    HttpResponseStream,
  };
}

// ------------------------------------------------------------------ invocation loop

let handler;
let streaming = false;
let isAsyncHandler = false;
let onBeforeExit = null; // what to do when the event loop drains during the current invocation
let current = null; // {id, done} of the invocation in progress

// Kiln waits for this line before closing an invocation's log: every line the function printed before it is
// then in that log, however late the platform got to read the pipe.
// Written to the file descriptor itself (synchronously, as Node writes to pipes on Linux anyway), so a handler
// that replaced process.stdout.write cannot swallow it.
let OUTPUT_MARK = null; // set by main()
function markEndOfOutput() {
  if (OUTPUT_MARK) require('node:fs').writeSync(1, OUTPUT_MARK);
}

function invocationPath(id, what) {
  return `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/${what}`;
}

function postInvocationError(id, error, callback) {
  const body = errorResponse(error);
  markEndOfOutput();
  post(invocationPath(id, 'error'), JSON.stringify(body), { [ERROR_TYPE]: body.errorType }, callback);
}

function postInvocationResponse(id, result, callback) {
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch (_) {
    const err = new Error('Unable to stringify response body');
    logError('Invoke Error', err);
    postInvocationError(id, err, callback);
    return;
  }
  markEndOfOutput();
  post(invocationPath(id, 'response'), body === undefined ? 'null' : body, null, callback);
}

function next() {
  request('GET', '/2018-06-01/runtime/invocation/next', null, undefined, (status, headers, body) => {
    if (status !== 200) fatal('GET /runtime/invocation/next', `HTTP ${status} ${body}`);
    if (streaming) invokeStreaming(headers, body);
    else invoke(headers, body);
  });
}

function scheduleNext() {
  current = null;
  setImmediate(next);
}

function parseHeaderJson(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

function buildContext(headers, base) {
  const env = process.env;
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  if (headers['lambda-runtime-trace-id']) env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
  else delete env._X_AMZN_TRACE_ID;
  return Object.assign(base, {
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseHeaderJson(headers['lambda-runtime-client-context'], 'ClientContext'),
    identity: parseHeaderJson(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    tenantId: headers['lambda-runtime-aws-tenant-id'],
    getRemainingTimeInMillis() {
      return deadline - Date.now();
    },
  });
}

function invoke(headers, body) {
  const id = headers['lambda-runtime-aws-request-id'];
  globalThis[REQUEST_ID] = id;
  const invocation = { id, done: false };
  current = invocation;

  let waitForEmptyEventLoop = true;
  let completed = false; // a result or error has been (or is being) posted
  const complete = (result) => {
    if (completed) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    completed = true;
    invocation.done = true;
    postInvocationResponse(id, result, scheduleNext);
  };
  const fail = (err) => {
    if (completed) return;
    completed = true;
    invocation.done = true;
    logError('Invoke Error', err);
    postInvocationError(id, err, scheduleNext);
  };
  const done = (err, result) => {
    onBeforeExit = null;
    if (err !== undefined && err !== null) fail(err);
    else complete(result);
  };
  const callback = (err, result) => {
    onBeforeExit = null;
    if (err !== undefined && err !== null) fail(err);
    else if (!waitForEmptyEventLoop) complete(result);
    else onBeforeExit = () => setImmediate(() => complete(result));
  };
  let finished = false; // only the first of callback/succeed/fail/done counts
  const once = (fn) => (...args) => {
    if (!finished) {
      finished = true;
      fn(...args);
    }
  };
  const base = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: once((result) => done(null, result)),
    fail: once((err) => done(err === undefined || err === null ? 'handled' : err, null)),
    done: once(done),
  };
  // The event loop drains without the callback having been called: an async handler never settled
  // its promise (an error, as on Lambda), a synchronous one just returned (a null result).
  onBeforeExit = () => {
    onBeforeExit = null;
    if (isAsyncHandler) {
      const err = new NodeJsExit('The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled.');
      fail(err);
    } else {
      finished = true;
      complete(null);
    }
  };
  try {
    const context = buildContext(headers, base);
    const event = JSON.parse(body.toString('utf8'));
    const result = handler(event, context, once(callback));
    if (result && typeof result.then === 'function') {
      result.then(base.succeed, base.fail);
    }
  } catch (err) {
    once(callback)(err);
  }
}

// -------- response streaming

let streamingAgent = null;

function invokeStreaming(headers, body) {
  const id = headers['lambda-runtime-aws-request-id'];
  globalThis[REQUEST_ID] = id;
  const invocation = { id, done: false };
  current = invocation;
  onBeforeExit = null;

  let responded = null;
  const responseDone = new Promise((resolve) => (responded = resolve));
  const http = require('node:http');
  if (!streamingAgent) streamingAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const req = http.request({
    agent: streamingAgent,
    host: api.host,
    port: api.port,
    method: 'POST',
    path: api.prefix + invocationPath(id, 'response'),
    highWaterMark: handler[HIGH_WATER_MARK],
    headers: {
      'Lambda-Runtime-Function-Response-Mode': 'streaming',
      'Transfer-Encoding': 'chunked',
      Trailer: `${ERROR_TYPE}, ${ERROR_BODY}`,
      'Content-Type': 'application/octet-stream',
    },
  }, (res) => {
    res.on('data', () => {});
    res.on('end', () => responded(res.statusCode));
  });
  req.on('error', (err) => fatal('streaming response failed', err));

  let started = false;
  const beforeFirstWrite = () => {
    if (started) return;
    started = true;
    if (typeof stream._onBeforeFirstWrite === 'function') stream._onBeforeFirstWrite((chunk) => req.write(chunk));
  };
  const stream = req;
  stream.setContentType = (type) => {
    if (started || req.headersSent) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    req.setHeader('Content-Type', type);
  };
  const write = req.write.bind(req);
  const end = req.end.bind(req);
  stream.write = (chunk, encoding, cb) => {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && !(chunk instanceof Uint8Array)) chunk = JSON.stringify(chunk);
    beforeFirstWrite();
    return write(chunk, encoding, cb);
  };
  stream.end = (chunk, encoding, cb) => {
    if (typeof chunk === 'function') return stream.end(undefined, undefined, chunk);
    if (chunk !== undefined && chunk !== null) stream.write(chunk, encoding);
    else beforeFirstWrite();
    markEndOfOutput();
    return end(typeof encoding === 'function' ? encoding : cb);
  };
  const failStream = (err) => {
    if (req.writableEnded) {
      logError('Invoke Error', err);
      return;
    }
    logError('Invoke Error', err);
    const error = errorResponse(err);
    req.addTrailers({ [ERROR_TYPE]: error.errorType, [ERROR_BODY]: Buffer.from(JSON.stringify(error)).toString('base64') });
    markEndOfOutput();
    end();
  };
  const finish = async (work) => {
    try {
      await work();
    } catch (err) {
      failStream(err);
    }
    await responseDone;
    invocation.done = true;
    scheduleNext();
  };
  finish(async () => {
    const context = buildContext(headers, {});
    const event = JSON.parse(body.toString('utf8'));
    const result = handler(event, stream, context);
    if (!result || typeof result.then !== 'function') {
      throw new InvalidStreamingOperation('Streaming does not support non-async handlers.');
    }
    const value = await result;
    if (value !== undefined) console.warn('Streaming handlers ignore return values.');
    if (!req.writableEnded) throw new InvalidStreamingOperation('Response stream is not finished.');
  });
}

// ------------------------------------------------------------------ start

function postInitError(error) {
  const body = errorResponse(error);
  post('/2018-06-01/runtime/init/error', JSON.stringify(body), { [ERROR_TYPE]: body.errorType }, () => process.exit(129));
}

/** Whether a loaded handler streams its response; throws for a streaming mode this runtime does not know. */
function isStreaming(loaded) {
  if (loaded[STREAMING] === undefined || loaded[STREAMING] === null || loaded[STREAMING] === false) return false;
  if (loaded[STREAMING] !== 'response') throw new MalformedStreamingHandler('Only response streaming is supported.');
  return true;
}

/**
 * Runs the runtime: loads the handler named by _HANDLER (unless {@code preloaded}, the handler a snapshot was
 * built with) and serves invocations until the process is killed.
 */
async function main(preloaded) {
  api = parseApiAddress(process.env.AWS_LAMBDA_RUNTIME_API);
  OUTPUT_MARK = process.env._KILN_OUTPUT_MARK ? process.env._KILN_OUTPUT_MARK + '\n' : null;
  patchConsole();
  installGlobal();
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    if (current && !current.done) postInvocationError(current.id, error, () => process.exit(129));
    else if (!handler) postInitError(error);
    else process.exit(129);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(isError(reason) ? `${reason.name}: ${reason.message}` : String(reason));
    error.reason = reason;
    error.promise = promise;
    logError('Unhandled Promise Rejection', error);
    if (current && !current.done) postInvocationError(current.id, error, () => process.exit(128));
    else if (!handler) postInitError(error);
    else process.exit(128);
  });
  process.on('beforeExit', () => {
    const action = onBeforeExit;
    onBeforeExit = null;
    if (action) action();
  });

  const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let loaded;
  try {
    loaded = preloaded || await loadHandler(taskRoot, process.env._HANDLER || process.argv[2]);
    streaming = isStreaming(loaded);
  } catch (error) {
    logError('Init Error', error);
    postInitError(error);
    return;
  }
  handler = loaded;
  isAsyncHandler = handler.constructor && handler.constructor.name === 'AsyncFunction';
  next();
}

module.exports = { main, loadHandler, installGlobal, isStreaming, packageTypeIsModule };
