'use strict';
// Kiln Node.js start-up snapshot: builds a V8 snapshot of the runtime with the function's handler already
// loaded and initialized, and serves invocations from it when restored.
//
//   build:   node --snapshot-blob /run/kiln-output/node-startup.blob --build-snapshot /var/runtime/node/snapshot.js
//            (with the function's environment: _HANDLER, LAMBDA_TASK_ROOT, NODE_PATH, ...)
//   restore: node --snapshot-blob /run/kiln/node-startup.blob
//            (with the environment's own variables; no script argument)
//
// Node 20's snapshot builder can require built-in modules only, so this script loads runtime.js and the
// function's CommonJS module graph itself: it resolves files the way require does (relative paths,
// node_modules up the tree, NODE_PATH, package.json "main" and "exports"), compiles each file in the usual
// module wrapper and runs it. When the function cannot be snapshotted the build exits with status 1 and a last
// line "kiln snapshot: not possible: <reason>" on stderr; the function then starts normally.
//
// What a function may assume when it runs from a snapshot:
// - its module-level code ran once, in the build; module state, caches and tables built at init are there,
//   but the process (pid, file descriptors, sockets, timers) is a new one.
// - process.env is the restored environment's own; a value the init copied out of process.env keeps the
//   build's value. During the build AWS_LAMBDA_INITIALIZATION_TYPE is "snap-start" and there is no Runtime API.
// - Math.random is reseeded by V8, and crypto.randomUUID and crypto.randomInt get fresh random data; random
//   values the init computed itself are the same in every environment started from the snapshot.
// - v8.startupSnapshot.addSerializeCallback / addDeserializeCallback hooks registered by the function run at
//   the end of the build and at every restore (after Kiln's own, before the first request), e.g. to reopen
//   connections or reseed generators.
// - no ES modules, no dynamic import(), no native addons, only the built-in modules Node can snapshot (not
//   http, https, vm, module, ...), and the init must leave nothing pending (open sockets, timers, promises
//   waiting on I/O). Modules required lazily after the restore load through the same loader (any built-in
//   module is allowed then), but import() fails in them.
// - require.resolve, require.cache and module.exports work as usual; require.main is undefined, and "exports"
//   of packages are resolved with the conditions require, node and default (no "imports", no self-reference).

const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

/** Why the function's code does not allow a snapshot. */
class NotSnapshottable extends Error {}

const builtinRequire = require;
const buildListeners = [];

function refuse(reason) {
  const line = String(reason).replace(/\s*\n\s*/g, ' | ');
  fs.writeSync(2, `kiln snapshot: not possible: ${line}\n`);
  process.exit(1);
}

function onBuild(event, listener) {
  process.on(event, listener);
  buildListeners.push([event, listener]);
}

function summary(error) {
  return error && typeof error.message === 'string' ? `${error.name}: ${error.message}` : String(error);
}

function describe(error) {
  if (error instanceof NotSnapshottable) return error.message;
  return `the function's initialization failed: ${summary(error)}`;
}

// ------------------------------------------------------------------ CommonJS loading

// Node's builder warns (synchronously) about built-in modules it cannot snapshot; such a module fails the build.
let unsupportedBuiltin = null;
onBuild('warning', (warning) => {
  const m = /built-in module "([^"]+)" works in user snapshot/.exec(warning && warning.message);
  if (m) unsupportedBuiltin = m[1];
});

const cache = Object.create(null);
const nodePath = (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean).map((p) => path.resolve(p));
const EXTENSIONS = ['.js', '.json', '.node'];
const DYNAMIC_IMPORT = /\bimport\s*\(/;
let packageTypeIsModule = () => false; // runtime.js's, once it is loaded

function stat(file) {
  try {
    return fs.statSync(file);
  } catch (_) {
    return null;
  }
}
const isFile = (file) => stat(file)?.isFile() === true;
const isDirectory = (dir) => stat(dir)?.isDirectory() === true;

function notFound(request, from) {
  const err = new Error(`Cannot find module '${request}' from '${from}'`);
  err.code = 'MODULE_NOT_FOUND';
  return err;
}

function tryFile(base) {
  if (isFile(base)) return fs.realpathSync(base);
  for (const ext of EXTENSIONS) if (isFile(base + ext)) return fs.realpathSync(base + ext);
  return null;
}

function tryIndex(dir) {
  for (const ext of EXTENSIONS) if (isFile(path.join(dir, 'index' + ext))) return fs.realpathSync(path.join(dir, 'index' + ext));
  return null;
}

function readPackage(dir) {
  const file = path.join(dir, 'package.json');
  if (!isFile(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    e.message = `${file}: ${e.message}`;
    throw e;
  }
}

function tryDirectory(dir) {
  const pkg = readPackage(dir);
  if (pkg && typeof pkg.main === 'string') {
    const main = path.resolve(dir, pkg.main);
    const found = tryFile(main) || tryIndex(main);
    if (found) return found;
  }
  return tryIndex(dir);
}

/** The target of package.json "exports" for a subpath ("." or "./x"), with the conditions require, node, default. */
function exportsTarget(exports, subpath) {
  const condition = (target) => {
    if (typeof target === 'string') return target;
    if (Array.isArray(target)) {
      for (const t of target) {
        const found = condition(t);
        if (found) return found;
      }
      return null;
    }
    if (target && typeof target === 'object') {
      for (const key of Object.keys(target)) {
        if (key === 'require' || key === 'node' || key === 'default') {
          const found = condition(target[key]);
          if (found) return found;
        }
      }
    }
    return null;
  };
  const keyed = exports && typeof exports === 'object' && !Array.isArray(exports)
    && Object.keys(exports).some((k) => k.startsWith('.'));
  if (!keyed) return subpath === '.' ? condition(exports) : null;
  if (Object.hasOwn(exports, subpath)) return condition(exports[subpath]);
  for (const key of Object.keys(exports)) {
    const star = key.indexOf('*');
    if (star < 0) continue;
    const prefix = key.slice(0, star);
    const suffix = key.slice(star + 1);
    if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= key.length - 1) {
      const target = condition(exports[key]);
      if (target) return target.split('*').join(subpath.slice(prefix.length, subpath.length - suffix.length));
    }
  }
  return null;
}

function tryPackage(nodeModules, request) {
  const parts = request.split('/');
  const nameLength = request.startsWith('@') ? 2 : 1;
  const packageDir = path.join(nodeModules, ...parts.slice(0, nameLength));
  if (!isDirectory(packageDir)) return null;
  const pkg = readPackage(packageDir);
  if (pkg && pkg.exports !== undefined && pkg.exports !== null) {
    const subpath = parts.length > nameLength ? './' + parts.slice(nameLength).join('/') : '.';
    const target = exportsTarget(pkg.exports, subpath);
    if (!target) {
      const err = new Error(`Package subpath '${subpath}' is not defined by "exports" in ${packageDir}/package.json`);
      err.code = 'ERR_PACKAGE_PATH_NOT_EXPORTED';
      throw err;
    }
    const file = path.resolve(packageDir, target);
    return isFile(file) ? fs.realpathSync(file) : null;
  }
  const full = path.join(nodeModules, request);
  return tryFile(full) || tryDirectory(full);
}

function lookupPaths(dir) {
  const paths = [];
  for (let d = dir; ; d = path.dirname(d)) {
    if (path.basename(d) !== 'node_modules') paths.push(path.join(d, 'node_modules'));
    if (path.dirname(d) === d) break;
  }
  return paths.concat(nodePath);
}

const isPathRequest = (request) => request === '.' || request === '..' || request.startsWith('./')
  || request.startsWith('../') || path.isAbsolute(request);

function resolveFile(request, fromDir) {
  if (isPathRequest(request)) {
    const base = path.resolve(fromDir, request);
    const found = tryFile(base) || (isDirectory(base) ? tryDirectory(base) : null);
    if (found) return found;
  } else {
    for (const dir of lookupPaths(fromDir)) {
      const found = tryPackage(dir, request);
      if (found) return found;
    }
  }
  throw notFound(request, fromDir);
}

function requireBuiltin(id) {
  unsupportedBuiltin = null;
  let exports;
  let failure;
  try {
    exports = builtinRequire(id); // MODULE_NOT_FOUND for anything not built in
  } catch (e) {
    failure = e;
  }
  // checked first: such a module may also fail to load at all while a snapshot is built
  if (unsupportedBuiltin && v8.startupSnapshot.isBuildingSnapshot()) {
    throw new NotSnapshottable(`it requires the built-in module "${id}", which Node ${process.version} cannot snapshot`);
  }
  if (failure) throw failure;
  return exports;
}

function requireFrom(request, fromDir) {
  if (typeof request !== 'string' || request === '') {
    throw new TypeError(`The "id" argument must be a non-empty string. Received ${String(request)}`);
  }
  if (!isPathRequest(request)) {
    try {
      return requireBuiltin(request);
    } catch (e) {
      if (e instanceof NotSnapshottable || e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  return loadFile(resolveFile(request, fromDir));
}

function makeRequire(module) {
  const req = (request) => requireFrom(request, module.path);
  req.resolve = (request) => {
    if (!isPathRequest(request)) {
      try {
        builtinRequire(request);
        return request;
      } catch (_) {
        // not built in
      }
    }
    return resolveFile(request, module.path);
  };
  req.cache = cache;
  req.main = undefined;
  return req;
}

function loadFile(filename) {
  const cached = cache[filename];
  if (cached) return cached.exports;
  const ext = path.extname(filename);
  const relative = path.relative(process.cwd(), filename) || filename;
  if (ext === '.node') throw new NotSnapshottable(`${relative} is a native addon`);
  if (ext === '.mjs' || (ext === '.js' && packageTypeIsModule(path.dirname(filename)))) {
    throw new NotSnapshottable(`${relative} is an ES module`);
  }
  const module = { id: filename, filename, path: path.dirname(filename), exports: {}, loaded: false, children: [] };
  module.paths = lookupPaths(module.path);
  module.require = makeRequire(module);
  cache[filename] = module;
  try {
    let source = fs.readFileSync(filename, 'utf8');
    if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
    if (ext === '.json') {
      try {
        module.exports = JSON.parse(source);
      } catch (e) {
        e.message = `${filename}: ${e.message}`;
        throw e;
      }
    } else {
      // import() has no loader in code compiled here: such a module starts normally (a conservative match;
      // runtime.js imports only in a normal start)
      if (path.dirname(filename) !== __dirname && DYNAMIC_IMPORT.test(source)
          && v8.startupSnapshot.isBuildingSnapshot()) {
        throw new NotSnapshottable(`${relative} uses import()`);
      }
      if (source.startsWith('#!')) source = '//' + source.slice(2);
      // one line of wrapper, so that line numbers in stack traces are the file's; sourceURL names the file
      const wrapper = (0, eval)('(function (exports, require, module, __filename, __dirname) { ' + source
        + '\n})\n//# sourceURL=' + filename);
      wrapper.call(module.exports, module.exports, module.require, module, filename, module.path);
    }
  } catch (e) {
    delete cache[filename];
    throw e;
  }
  module.loaded = true;
  return module.exports;
}

/** The handler's module, found as runtime.js's loadModule finds it, loaded by loadFile. */
function loadHandlerModule(taskRoot, moduleRoot, moduleName) {
  const base = path.resolve(taskRoot, moduleRoot, moduleName);
  if (isFile(base)) return loadFile(fs.realpathSync(base));
  if (isFile(base + '.js')) return loadFile(fs.realpathSync(base + '.js'));
  if (isFile(base + '.mjs')) throw new NotSnapshottable(`${moduleName}.mjs is an ES module`);
  if (isFile(base + '.cjs')) return loadFile(fs.realpathSync(base + '.cjs'));
  for (const dir of [taskRoot, path.resolve(taskRoot, moduleRoot)]) {
    for (const nodeModules of lookupPaths(dir)) {
      const found = tryPackage(nodeModules, moduleName);
      if (found) return loadFile(found);
    }
  }
  throw notFound(moduleName, taskRoot);
}

// ------------------------------------------------------------------ restore

/**
 * Random data Node keeps in JS buffers would be the same in every restored process: draw until both caches
 * have been refilled. (Math.random needs nothing: V8 reseeds it on deserialization.)
 */
function refreshRandomCaches() {
  if (!process.moduleLoadList.includes('NativeModule internal/crypto/random')) return;
  const crypto = builtinRequire('node:crypto');
  for (let i = 0; i < 128; i++) crypto.randomUUID(); // a 128-UUID batch
  for (let i = 0; i < 1024; i++) crypto.randomInt(0, 1); // a 6 KiB cache, 6 bytes per draw
}

// Kiln's deserialize callback is registered before the function's code runs, so it runs before the function's.
v8.startupSnapshot.addDeserializeCallback(() => {
  for (const [event, listener] of buildListeners) process.off(event, listener);
  refreshRandomCaches();
});

// ------------------------------------------------------------------ build

function build() {
  if (!v8.startupSnapshot.isBuildingSnapshot()) refuse('snapshot.js must be run with node --build-snapshot');
  onBuild('uncaughtException', (error) => refuse(describe(error)));
  onBuild('unhandledRejection', (reason) => refuse(`unhandled rejection during the function's initialization: ${summary(reason)}`));
  let runtime;
  try {
    runtime = loadFile(path.join(__dirname, 'runtime.js'));
  } catch (e) {
    refuse(`cannot load the runtime: ${e.message}`);
  }
  packageTypeIsModule = runtime.packageTypeIsModule;
  runtime.installGlobal();
  const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  runtime.loadHandler(taskRoot, process.env._HANDLER || process.argv[2], loadHandlerModule).then((handler) => {
    runtime.isStreaming(handler);
    v8.startupSnapshot.addSerializeCallback(checkNothingOpen);
    v8.startupSnapshot.setDeserializeMainFunction(() => runtime.main(handler));
  }, (error) => refuse(describe(error)));
}

/*
 * An asynchronous init may still be working when the module has been loaded: Node serializes once the event
 * loop empties. A function that keeps it busy (an open connection, an interval) is killed by the recipe's
 * settle watch (NodeSnapshotRecipe). No timer of the builder's own may watch for that: a timer cleared while serializing
 * leaves Node's timer bookkeeping such that no timer keeps a restored process alive (seen on Node 20).
 */

// libuv handles Node itself keeps (and serializes or recreates); anything else open cannot be serialized
const NODE_OWN_HANDLES = new Set(['async', 'check', 'idle', 'prepare', 'timer', 'loop']);

/**
 * Open handles that do not keep the event loop alive (an unref'd server or socket, a signal listener, a child
 * process) would make Node abort while serializing: the diagnostic report lists every libuv handle. Inactive
 * ones are closing (stdio streams Node's own serialize callback has just destroyed, for one).
 */
function checkNothingOpen() {
  const open = process.report.getReport().libuv
    .filter((h) => h.is_active && !NODE_OWN_HANDLES.has(h.type) && h.stdio === undefined && !(h.fd >= 0 && h.fd <= 2));
  if (open.length > 0) {
    refuse(`the function's initialization left handles open: ${open.map((h) => h.type).join(', ')}`);
  }
}

build();
