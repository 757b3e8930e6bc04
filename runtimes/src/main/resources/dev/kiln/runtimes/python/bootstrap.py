# Kiln Python bootstrap: runs a Lambda-style Python handler against the Lambda Runtime API.
#
# Started as `python3 -S -u /var/runtime/python/bootstrap.py` with the Lambda environment variables set.
# Start-up speed matters: only sys/os (already loaded), json and socket are imported before the first
# invocation; logging is configured only if the function imports it, traceback only on errors.
import sys
import os
import json
import socket

_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
# Kiln waits for this line before closing an invocation's log: every line the function printed before it is
# then in that log, however late the platform got to read the pipe.
_OUTPUT_MARK = os.environ.get("_KILN_OUTPUT_MARK", "").encode("utf-8")


def _mark_end_of_output():
    if _OUTPUT_MARK:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        # Straight to the file descriptor: the handler may have replaced sys.stdout.
        os.write(1, _OUTPUT_MARK + b"\n")
_request_id = None  # request id of the invocation in progress, for logging


class _Fault(Exception):
    """An error the runtime reports with a Lambda error type (Runtime.*)."""

    def __init__(self, error_type, message, trace=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


# ---------------------------------------------------------------- Runtime API client (HTTP/1.1, keep-alive)


class _RuntimeApi:
    def __init__(self, address):
        host_port, _, prefix = address.partition("/")
        host, _, port = host_port.rpartition(":")
        self.host = host or "127.0.0.1"
        self.port = int(port or 80)
        self.prefix = ("/" + prefix.strip("/")) if prefix.strip("/") else ""
        self.host_header = "Host: " + host_port + "\r\n"
        self.sock = None
        self.reader = None

    def _connect(self):
        self.close()
        sock = socket.create_connection((self.host, self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.reader = sock.makefile("rb", 65536)

    def close(self):
        if self.sock is not None:
            try:
                self.reader.close()
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.reader = None

    def request(self, method, path, body=b"", headers=None):
        """Sends one request; returns (status, headers with lower-case names, body bytes)."""
        head = [method, " ", self.prefix, path, " HTTP/1.1\r\n", self.host_header]
        if headers:
            for name, value in headers.items():
                head.append("%s: %s\r\n" % (name, value))
        if method != "GET":
            head.append("Content-Length: %d\r\n" % len(body))
        head.append("\r\n")
        data = "".join(head).encode("latin-1", "replace") + body
        for attempt in (0, 1):
            fresh = self.sock is None
            if fresh:
                self._connect()
            try:
                self.sock.sendall(data)
                return self._read_response()
            except (OSError, _ConnectionClosed):
                self.close()
                if fresh or attempt:
                    raise
        raise OSError("unreachable")

    def _read_response(self):
        reader = self.reader
        line = reader.readline(65537)
        if not line:
            raise _ConnectionClosed()
        parts = line.split(None, 2)
        status = int(parts[1])
        headers = {}
        while True:
            line = reader.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(reader.readline(65537).split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while reader.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(reader.read(size))
                reader.readline(65537)
            body = b"".join(chunks)
        else:
            length = int(headers.get("content-length", "0"))
            body = reader.read(length) if length else b""
            if len(body) != length:
                raise _ConnectionClosed()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def next(self):
        status, headers, body = self.request("GET", "/2018-06-01/runtime/invocation/next")
        if status != 200:
            raise OSError("Runtime API /next returned HTTP %d: %r" % (status, body[:200]))
        return headers, body

    def post(self, path, body, headers):
        status, _, response = self.request("POST", path, body, headers)
        if status >= 300:
            # 413 (payload too large) and 400 are answered by the platform; nothing else to do here.
            sys.stderr.write("kiln runtime: POST %s returned HTTP %d: %r\n" % (path, status, response[:200]))
        return status


class _ConnectionClosed(Exception):
    pass


# ---------------------------------------------------------------- context


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id, self.cognito_identity_pool_id)


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __repr__(self):
        return "Client(%s)" % ",".join("%s=%s" % (s, getattr(self, s)) for s in self.__slots__)


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (self.custom, self.env, self.client)


def _object_from(cls, values):
    if values is None:
        return None
    obj = cls()
    for name in cls.__slots__:
        setattr(obj, name, values.get(name))
    return obj


class LambdaContext(object):
    def __init__(self, request_id, deadline_ms, function_arn, client_context, identity, tenant_id):
        environ = os.environ
        self.aws_request_id = request_id
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        self.tenant_id = tenant_id
        self.client_context = _object_from(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _object_from(Client, self.client_context.client)
        self.identity = _object_from(CognitoIdentity, {})
        if identity is not None:
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(_time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return ("LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
                "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,"
                "identity=%s,tenant_id=%s])") % (
            self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
            self.memory_limit_in_mb, self.function_version, self.invoked_function_arn, self.client_context,
            self.identity, self.tenant_id)


def _time():
    import time
    return time.time()


# ---------------------------------------------------------------- logging (configured when the function imports it)


def _configure_logging(logging):
    import time

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            try:
                sys.stdout.write(self.format(record))
            except Exception:
                self.handleError(record)

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request_id or ""
            return True

    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(LambdaLoggerFilter())
    root = logging.getLogger()
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    if level in ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL"):
        root.setLevel({"WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level))
    root.addHandler(handler)


class _LoggingImportHook(object):
    """A meta path finder that configures Lambda's log format right after `logging` is first imported."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        spec = None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is not None:
                spec = find_spec(name, path, target)
                if spec is not None:
                    break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            try:
                _configure_logging(module)
            except Exception as e:  # never break the function's import of logging
                sys.stderr.write("kiln runtime: could not configure logging: %r\n" % (e,))

        spec.loader.exec_module = exec_module
        return spec


# ---------------------------------------------------------------- errors


def _error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _exception_error(exc, request_id=None, message=None):
    import traceback
    frames = traceback.extract_tb(exc.__traceback__)
    # drop the bootstrap's own frames at the top of the traceback
    start = 0
    while start < len(frames) and frames[start].filename == __file__:
        start += 1
    frames = frames[start:] if start < len(frames) else frames
    return _error(message if message else str(exc), type(exc).__name__,
                  traceback.format_list(frames), request_id)


def _log_error(error):
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    trace = error.get("stackTrace")
    if trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in trace:
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")


# ---------------------------------------------------------------- JSON


def _json_default(obj):
    if type(obj).__name__ == "Decimal":
        import decimal
        if isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return float("nan")
            if obj == obj.to_integral_value():
                return int(obj)
            return float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


_ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") in ("AWS_Lambda_python3.11", None, "")


def _to_json(obj):
    return json.dumps(obj, default=_json_default, ensure_ascii=_ENSURE_ASCII)


# ---------------------------------------------------------------- handler loading


def _load_handler(handler):
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise _Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    module_name = module_name.replace("/", ".")
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise _Fault("Runtime.BuiltInModuleConflict",
                         "Cannot use built-in module %s as a handler module" % module_name)
        __import__(module_name)
        module = sys.modules[module_name]
    except ImportError as e:
        raise _Fault("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise _Fault("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, e), trace)
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _Fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))


def _set_up_path(task_root):
    version = "%d.%d" % sys.version_info[:2]
    script_dir = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if p and p != script_dir]
    front = [task_root, "/opt/python/lib/python%s/site-packages" % version, "/opt/python"]
    back = []
    for candidate in ("/usr/local/lib/python%s/dist-packages" % version, "/usr/lib/python3/dist-packages",
                      "/usr/lib/python%s/dist-packages" % version,
                      "%s/lib/python%s/site-packages" % (sys.prefix, version)):
        if candidate not in path and candidate not in back and os.path.isdir(candidate):
            back.append(candidate)
    sys.path[:] = front + [p for p in path if p not in front] + back


# ---------------------------------------------------------------- main loop


def _invoke(api, handler, headers, body):
    global _request_id
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    _request_id = request_id
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    error = None
    try:
        client_context = headers.get("lambda-runtime-client-context")
        identity = headers.get("lambda-runtime-cognito-identity")
        try:
            client_context = json.loads(client_context) if client_context else None
            identity = json.loads(identity) if identity else None
        except ValueError as e:
            raise _Fault("Runtime.LambdaContextUnmarshalError", "Unable to parse Client Context JSON: %s" % e)
        context = LambdaContext(request_id, int(headers.get("lambda-runtime-deadline-ms") or 0),
                                headers.get("lambda-runtime-invoked-function-arn"), client_context, identity,
                                headers.get("lambda-runtime-aws-tenant-id"))
        content_type = headers.get("content-type")
        if content_type and content_type != "application/json":
            event = body
        else:
            try:
                event = json.loads(body)
            except ValueError as e:
                raise _Fault("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        result = handler(event, context)
        if isinstance(result, (bytes, bytearray)):
            payload, result_type = bytes(result), "application/unknown"
        else:
            try:
                payload, result_type = _to_json(result).encode("utf-8"), "application/json"
            except Exception as e:
                raise _Fault("Runtime.MarshalError", "Unable to marshal response: %s" % e)
    except _Fault as fault:
        error = _error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as e:
        error = _exception_error(e, request_id)
    path = "/2018-06-01/runtime/invocation/" + request_id
    if error is None:
        _mark_end_of_output()
        api.post(path + "/response", payload, {"Content-Type": result_type})
    else:
        _log_error(error)
        _mark_end_of_output()
        api.post(path + "/error", _to_json(error).encode("utf-8"),
                 {"Content-Type": "application/json", _ERROR_TYPE_HEADER: error["errorType"]})


# ---------------------------------------------------------------- snapshot hooks and the fork server ("zygote")
#
# With _KILN_ZYGOTE_SOCKET set, the bootstrap imports the handler (the function's init runs once, here), runs the
# functions registered with snapshot_restore_py.register_before_snapshot, then serves forks: every connection to
# the socket asks for one new execution environment, made in three steps so that nothing of the zygote or of the
# other environments is visible or reachable from it:
#
# 1. The zygote forks; the child unshares user, mount, network, IPC, UTS and PID namespaces, mounts a private /tmp,
#    /dev/shm, /dev/mqueue and /dev/pts, hides /run (the zygote's control socket and output) under an empty
#    read-only mount and reports "unshared <pid>". Kiln moves it into the environment's cgroup, opens its Runtime
#    API in its network namespace and answers "joined".
# 2. It forks the environment's init, the first process of the new PID namespace (so already in the cgroup), and
#    exits. The init mounts a /proc of its namespace, drops every capability, becomes non-dumpable, installs the
#    child seccomp filter (_KILN_CHILD_SECCOMP) last, and forks the runtime; it then reaps orphans and, when the
#    runtime ends, writes its exit status to the connection.
# 3. The runtime reports "forked" and waits, parked, until Kiln sends the environment variables of the invocation
#    that needs it, runs the after-restore hooks and serves invocations like a normally started runtime. Its
#    output goes to the connection.

_before_snapshot = []
_after_restore = []


def _install_snapshot_module():
    # The names of Lambda SnapStart's snapshot_restore_py, so functions written for it run unchanged.
    import types
    module = types.ModuleType("snapshot_restore_py")

    def register_before_snapshot(func, *args, **kwargs):
        _before_snapshot.append((func, args, kwargs))
        return func

    def register_after_restore(func, *args, **kwargs):
        _after_restore.append((func, args, kwargs))
        return func

    module.register_before_snapshot = register_before_snapshot
    module.register_after_restore = register_after_restore
    module.get_before_snapshot = lambda: list(_before_snapshot)
    module.get_after_restore = lambda: list(_after_restore)
    sys.modules["snapshot_restore_py"] = module


def _run_hooks(hooks):
    for func, args, kwargs in hooks:
        func(*args, **kwargs)


_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC, _CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = (
    0x00020000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 2, 4, 8, 0x1000, 0x4000, 0x40000
_PR_SET_DUMPABLE, _PR_SET_SECCOMP, _PR_CAPBSET_DROP, _PR_SET_CHILD_SUBREAPER, _PR_SET_NO_NEW_PRIVS = 4, 22, 24, 36, 38
_SECCOMP_MODE_FILTER = 2
# What a booted sandbox masks in /proc (crun's maskedPaths): host details no function needs.
_PROC_MASKED_FILES = (b"kcore", b"keys", b"latency_stats", b"timer_list", b"timer_stats", b"sched_debug")
_PROC_MASKED_DIRS = (b"acpi", b"asound", b"scsi")


_fork_tools = None
# The filter every environment installs on itself: (the program's buffer, its struct sock_fprog), or None.
_child_seccomp = None


def _load_fork_tools():
    # Imported once in the zygote, before any fork: importing ctypes in every child would cost milliseconds of
    # each restore.
    global _fork_tools
    import ctypes
    import fcntl
    import struct
    libc = ctypes.CDLL(None, use_errno=True)
    ulong = ctypes.c_ulong
    # prctl is variadic: every argument must be passed as a full unsigned long (the kernel checks unused ones are 0)
    libc.prctl.argtypes = [ctypes.c_int, ulong, ulong, ulong, ulong]
    libc.prctl.restype = ctypes.c_int
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ulong, ctypes.c_char_p]
    libc.mount.restype = ctypes.c_int
    _fork_tools = (ctypes, fcntl, struct, libc)


def _check(result, what):
    if result != 0:
        errno = _fork_tools[0].get_errno()
        raise OSError(errno, "%s: %s" % (what, os.strerror(errno)))


def _mount(source, target, fstype, flags, options):
    _check(_fork_tools[3].mount(source, target, fstype, flags, options), "mount " + target.decode())


def _load_child_seccomp(path):
    """Reads the filter each environment installs: a raw array of struct sock_filter (8 bytes each)."""
    global _child_seccomp
    ctypes = _fork_tools[0]
    with open(path, "rb") as f:
        program = f.read()
    if not program or len(program) % 8 or len(program) // 8 > 4096:
        raise ValueError("%s is not a seccomp program (%d bytes)" % (path, len(program)))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buffer = ctypes.create_string_buffer(program, len(program))
    _child_seccomp = (buffer, SockFprog(len(program) // 8, ctypes.addressof(buffer)))


def _install_child_seccomp():
    if _child_seccomp is None:
        return
    ctypes, _, _, libc = _fork_tools
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "failed to set no_new_privs")
    _check(libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(_child_seccomp[1]), 0, 0),
           "failed to install the seccomp filter")


def _unshare(tmp_mb):
    """Step 1, in the zygote's child: namespaces of its own and private mounts; nothing of the zygote's /run."""
    ctypes, fcntl, struct, libc = _fork_tools
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
                        | _CLONE_NEWPID), "unshare")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write("%d %d 1" % (uid, uid))
    with open("/proc/self/gid_map", "w") as f:
        f.write("%d %d 1" % (gid, gid))
    _mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None)
    _mount(b"tmpfs", b"/tmp", b"tmpfs", _MS_NOSUID | _MS_NODEV, ("mode=1777,size=%dm" % tmp_mb).encode())
    _mount(b"shm", b"/dev/shm", b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, b"mode=1777,size=65536k")
    _mount(b"mqueue", b"/dev/mqueue", b"mqueue", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None)
    _mount(b"devpts", b"/dev/pts", b"devpts", _MS_NOSUID | _MS_NOEXEC, b"newinstance,ptmxmode=0666,mode=0620")
    # The zygote's control socket and output (/run/kiln-output) and run files (/run/kiln): out of sight. Mounts
    # under a mount made here cannot be unmounted from a user namespace made later, so this stays covered.
    _mount(b"tmpfs", b"/run", b"tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, b"mode=0755,size=4k")
    _check(libc.sethostname(b"kiln", 4), "sethostname")
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        flags = struct.unpack("16sH", fcntl.ioctl(probe, 0x8913, struct.pack("16sH22x", b"lo", 0))[:18])[1]
        fcntl.ioctl(probe, 0x8914, struct.pack("16sH22x", b"lo", flags | 1))  # SIOCSIFFLAGS: IFF_UP
    finally:
        probe.close()


def _confine_init():
    """Step 2, in process 1 of the new PID namespace: its /proc, no capabilities, the seccomp filter last."""
    libc = _fork_tools[3]
    _mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None)
    for name in _PROC_MASKED_FILES:
        if os.path.exists(b"/proc/" + name):
            _mount(b"/dev/null", b"/proc/" + name, None, _MS_BIND, None)
    for name in _PROC_MASKED_DIRS:
        if os.path.isdir(b"/proc/" + name):
            _mount(b"tmpfs", b"/proc/" + name, b"tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None)
    # Drop every capability the new user namespace gave us (bounding set, then the process's own sets).
    for cap in range(64):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break
    header = _fork_tools[2].pack("II", 0x20080522, 0)
    _check(libc.capset(header, bytes(24)), "capset")
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)  # inherited by the runtime: no process may read our /proc files
    _install_child_seccomp()


def _read_line(conn):
    # Kiln sends one line and then waits for the answer, so a chunk never holds more than that line.
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            raise _ConnectionClosed()
        data += chunk
    return data[:-1].decode("utf-8")


def _become_environment(conn, request):
    _unshare(int(request.get("tmpMb", 512)))
    conn.sendall(("unshared %d\n" % os.getpid()).encode())
    answer = _read_line(conn)
    if answer != "joined":
        raise ValueError("expected 'joined', got %r" % answer[:100])
    # Forked after Kiln moved us into the environment's cgroup, so everything of the environment is in it.
    if os.fork() != 0:
        os._exit(0)  # the zygote, our subreaper, adopts the init
    _confine_init()
    runtime = os.fork()
    if runtime == 0:
        conn.sendall(b"forked\n")
        _await_launch(conn)
    _serve_as_init(conn, runtime, request.get("exitMark", ""))


def _serve_as_init(conn, runtime, exit_mark):
    # Process 1 of the environment: reaps what the function leaves behind and reports the runtime's exit status.
    # When it ends, the kernel kills every process left in the namespace.
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)  # let go of the zygote's output pipe
    code = 137
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except (InterruptedError, KeyboardInterrupt):
            continue
        if pid == runtime:
            code = os.waitstatus_to_exitcode(status)
            code = code if code >= 0 else 128 - code
            break
    try:
        conn.sendall(("\n%s %d\n" % (exit_mark, code)).encode())
    except OSError:
        pass
    os._exit(0)


def _await_launch(conn):
    global _OUTPUT_MARK
    # parked until Kiln hands this environment to an invocation
    environment = json.loads(_read_line(conn))["env"]
    os.dup2(conn.fileno(), 1)
    os.dup2(conn.fileno(), 2)
    conn.close()
    os.environ.clear()
    os.environ.update(environment)
    _OUTPUT_MARK = os.environ.get("_KILN_OUTPUT_MARK", "").encode("utf-8")
    _run_hooks(_after_restore)
    _serve(_RuntimeApi(os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")), _zygote_handler)


_zygote_handler = None


def _serve_forks(path, handler, child_seccomp):
    import selectors
    global _zygote_handler
    _zygote_handler = handler
    _load_fork_tools()
    if child_seccomp:
        _load_child_seccomp(child_seccomp)
    # The inits our children leave behind become ours to reap.
    _check(_fork_tools[3].prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl PR_SET_CHILD_SUBREAPER")
    _run_hooks(_before_snapshot)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    sys.stdout.write("KILN-ZYGOTE-READY\n")
    sys.stdout.flush()
    while True:
        selector.select(0.1)
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            conn = None
        if conn is not None:
            conn.setblocking(True)
            try:
                request = json.loads(_read_line(conn))
            except (ValueError, _ConnectionClosed, OSError):
                conn.close()
                conn = None
        if conn is not None:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                try:
                    selector.close()
                    listener.close()
                    _become_environment(conn, request)
                except BaseException as e:  # the environment never started: tell Kiln why
                    try:
                        conn.sendall(("failed %s: %s\n" % (type(e).__name__, e)).encode())
                    except Exception:
                        pass
                finally:
                    os._exit(4)
            conn.close()  # the child holds the only copy: nothing of one environment stays in the zygote
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


def _serve(api, handler):
    while True:
        try:
            headers, body = api.next()
        except (OSError, _ConnectionClosed) as e:
            sys.stderr.write("kiln runtime: could not get the next invocation: %r\n" % (e,))
            sys.exit(2)
        _invoke(api, handler, headers, body)


def main():
    _install_snapshot_module()
    zygote_socket = os.environ.pop("_KILN_ZYGOTE_SOCKET", None)
    child_seccomp = os.environ.pop("_KILN_CHILD_SECCOMP", None)
    api = _RuntimeApi(os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    _set_up_path(task_root)
    if "logging" in sys.modules:
        _configure_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingImportHook())
    handler_name = os.environ.get("_HANDLER") or (sys.argv[1] if len(sys.argv) > 1 else "")
    try:
        handler = _load_handler(handler_name)
        error = None
    except _Fault as fault:
        error = _error(fault.message, fault.error_type, fault.trace)
    except Exception as e:
        error = _exception_error(e)
    if error is not None and zygote_socket:
        _log_error(error)
        sys.stdout.write("kiln zygote: the function's init failed, environments start normally\n")
        sys.exit(1)
    if zygote_socket:
        try:
            _serve_forks(zygote_socket, handler, child_seccomp)
        except (OSError, ValueError) as e:
            sys.stdout.write("kiln zygote: cannot serve forks (%s), environments start normally\n" % (e,))
            sys.exit(1)
    if error is not None:
        _log_error(error)
        api.post("/2018-06-01/runtime/init/error", _to_json(error).encode("utf-8"),
                 {"Content-Type": "application/json", _ERROR_TYPE_HEADER: error["errorType"]})
        sys.exit(1)
    _serve(api, handler)


if __name__ == "__main__":
    main()
