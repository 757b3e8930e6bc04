#!/usr/bin/python3
"""Kiln's isolation probe: tries what each step of the event says and reports what happened.

Python handlers import it and call run(); the other runtimes' handlers start it as a child process
(/usr/bin/python3 kiln_probe.py) with {"requestId": ..., "event": ...} on stdin and return what it prints,
so every attack runs in that runtime's sandbox, as a process of that runtime.

The event is {"steps": {"name": {"do": "action", ...}, ...}}; the answer {"requestId", "pid", "steps": {"name":
result}}. Nothing here judges: the test decides what a result means.
"""
import ctypes
import http.client
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time

SKIP_WALK = {"/proc", "/sys", "/dev", "/usr"}


def attempt(fn):
    try:
        return {"ok": True, "value": fn()}
    except BaseException as e:  # a probe reports, it never fails
        return {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}


def read(path, limit=4096):
    with open(path, "rb") as f:
        return f.read(limit).decode("latin-1")


def write(path):
    with open(path, "w") as f:
        f.write("kiln-probe")
    if not os.path.basename(path).startswith("kiln-mark-"):
        os.unlink(path)
    return path


def status_fields():
    fields = {}
    for line in read("/proc/self/status", 65536).splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def identity(step, request_id):
    st = os.statvfs("/tmp")
    fields = status_fields()
    return {
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
        "status": {k: fields.get(k) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                                              "Seccomp")},
        "env": dict(os.environ),
        "tmpBytes": st.f_blocks * st.f_frsize,
    }


def reads(step, request_id):
    return {p: attempt(lambda p=p: read(p, 200)) for p in step["paths"]}


def writes(step, request_id):
    return {p: attempt(lambda p=p: write(p)) for p in step["paths"]}


def lists(step, request_id):
    return {p: attempt(lambda p=p: sorted(os.listdir(p))) for p in step["paths"]}


def find(step, request_id):
    found = []
    for root in step["roots"]:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in SKIP_WALK]
            for name in filenames + dirnames:
                if any(n in name for n in step["needles"]):
                    found.append(os.path.join(dirpath, name))
    return {"found": found}


def memory_cgroup(pid):
    # The memory controller's group under cgroup v1, else the unified (v2) one.
    unified = None
    for line in read("/proc/%s/cgroup" % pid, 65536).splitlines():
        parts = line.split(":", 2)
        if "memory" in parts[1].split(","):
            return parts[2]
        if parts[0] == "0" and parts[1] == "":
            unified = parts[2]
    return unified


def peek(pid):
    # Reads 16 bytes of the process's first readable mapping through /proc/PID/mem (needs ptrace access).
    for line in read("/proc/%d/maps" % pid, 1 << 20).splitlines():
        fields = line.split()
        if fields[1].startswith("r"):
            with open("/proc/%d/mem" % pid, "rb") as mem:
                mem.seek(int(fields[0].split("-")[0], 16))
                return mem.read(16).hex()
    raise OSError("no readable mapping")


def procs(step, request_id):
    # Another environment's processes are those outside our own memory cgroup: in a booted sandbox every visible
    # process is ours; a forked environment's parent, the zygote, is not.
    own = memory_cgroup("self")
    seen = {}
    for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
        cgroup = attempt(lambda pid=pid: memory_cgroup(pid))
        entry = {
            "cmdline": attempt(lambda pid=pid: read("/proc/%d/cmdline" % pid, 2000).replace("\0", " ")),
            "environ": attempt(lambda pid=pid: read("/proc/%d/environ" % pid, 8000).replace("\0", "\n")),
            "own": cgroup.get("value") == own and own is not None,
        }
        if not entry["own"]:
            entry["signal0"] = attempt(lambda pid=pid: os.kill(pid, 0))
            entry["mem"] = attempt(lambda pid=pid: peek(pid))
        seen[str(pid)] = entry
    return {"self": os.getpid(), "cgroup": own, "processes": seen}


def connect(step, request_id):
    def one(target):
        host, port = target.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=1.5)
        s.close()
        return "connected"

    # All at once: where a policy drops packets instead of refusing them, each attempt waits out its timeout.
    results = {}
    tries = [threading.Thread(target=lambda t=t: results.__setitem__(t, attempt(lambda: one(t))))
             for t in step["targets"]]
    for t in tries:
        t.start()
    for t in tries:
        t.join()
    return results


def sockets(step, request_id):
    # Every Unix socket a function could find: files under the writable and shared directories, and every path
    # (or abstract name) the network namespace lists. Only a booted sandbox's own Runtime API relay is expected.
    candidates = set()
    for root in ("/run", "/tmp", "/dev/shm", "/var/task"):
        for dirpath, dirnames, filenames in os.walk(root):
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    if stat.S_ISSOCK(os.lstat(path).st_mode):
                        candidates.add(path)
                except OSError:
                    pass
    listed = attempt(lambda: read("/proc/net/unix", 1 << 20))
    for line in listed.get("value", "").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 8:
            candidates.add(parts[7])
    candidates.discard("/run/kiln/runtime.sock")  # the socat relay's own end, in sandboxes that use one

    def one(path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1.5)
        try:
            s.connect("\0" + path[1:] if path.startswith("@") else path)
        finally:
            s.close()
        return "connected"

    return {p: attempt(lambda p=p: one(p)) for p in sorted(candidates)}


def privilege(step, request_id):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long

    def syscall(*args):
        result = libc.syscall(*args)
        if result < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return result

    def run(cmd):
        p = subprocess.run(cmd, capture_output=True, timeout=10)
        out = (p.stdout + p.stderr).decode("latin-1").strip()
        if p.returncode != 0:
            raise OSError("exit %d: %s" % (p.returncode, out))
        return out

    def io_uring():
        fd = syscall(425, 1, ctypes.create_string_buffer(120))  # io_uring_setup(1 entry, params)
        os.close(fd)
        return fd

    def bpf():
        attr = ctypes.create_string_buffer(72)
        ctypes.memmove(attr, (ctypes.c_uint32 * 4)(2, 4, 4, 1), 16)  # BPF_MAP_TYPE_ARRAY, key 4, value 4, 1 entry
        fd = syscall(321, 0, attr, 72)  # bpf(BPF_MAP_CREATE)
        os.close(fd)
        return fd

    return {
        "unshareUser": attempt(lambda: run(["/usr/bin/unshare", "-Ur", "/usr/bin/id", "-u"])),
        "mount": attempt(lambda: run(["/usr/bin/unshare", "-Urm", "/bin/sh", "-c",
                                      "mount -t tmpfs kiln /tmp && echo mounted"])),
        "keyctl": attempt(lambda: syscall(250, 0, -3, 0)),  # keyctl(KEYCTL_GET_KEYRING_ID, session keyring)
        "ioUring": attempt(io_uring),
        "bpf": attempt(bpf),
    }


def threads(step, request_id):
    gate = threading.Event()
    started = []
    failure = None
    threading.stack_size(64 * 1024)
    try:
        for _ in range(step["limit"]):
            t = threading.Thread(target=gate.wait)
            t.start()
            started.append(t)
    except BaseException as e:
        failure = "%s: %s" % (type(e).__name__, e)
    finally:
        gate.set()
        for t in started:
            t.join()
        threading.stack_size(0)
    return {"started": len(started), "failure": failure}


def allocate(step, request_id):
    kept = []
    for _ in range(step["mb"] // 16):
        kept.append(b"\x01" * (16 * 1024 * 1024))
    return {"allocatedMb": 16 * len(kept)}


def beacon(step, request_id):
    # Tells the test (which looks into sandboxes' /tmp from the host) that this step was reached, and by whom.
    with open("/tmp/kiln-beacon-" + step["id"], "w") as f:
        f.write(request_id)
    return {"written": True}


def plant(step, request_id):
    return {d: attempt(lambda d=d: write(os.path.join(d, step["marker"]))) for d in step["dirs"]}


def hold(step, request_id):
    # Keeps this invocation in flight, with a process whose command line carries the marker and a TCP listener
    # for other sandboxes to try, until the test overwrites this step's beacon with "release".
    marked = subprocess.Popen(["/usr/bin/python3", "-c", "import time; time.sleep(300)", step["marker"]])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", step["listen"]))
    listener.listen(16)
    listener.settimeout(0.02)
    accepted = []
    beacon_file = "/tmp/kiln-beacon-" + step["id"]
    deadline = time.monotonic() + step["maxSeconds"]
    try:
        while time.monotonic() < deadline:
            if read(beacon_file) == "release":
                return {"released": True, "accepted": accepted}
            try:
                conn, peer = listener.accept()
                accepted.append("%s:%d" % peer)
                conn.close()
            except socket.timeout:
                pass
        return {"released": False, "accepted": accepted}
    finally:
        listener.close()
        marked.kill()
        marked.wait()


def runtime_api():
    host, port = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001").rsplit(":", 1)
    return host, int(port)


def forge(step, request_id):
    host, port = runtime_api()

    def post(action):
        conn = http.client.HTTPConnection(host, port, timeout=3)
        try:
            conn.request("POST", "/2018-06-01/runtime/invocation/%s/%s" % (step["requestId"], action),
                         body=b'{"forged": true}', headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            return {"status": r.status, "body": r.read(500).decode("latin-1")}
        finally:
            conn.close()

    return {"response": attempt(lambda: post("response")), "error": attempt(lambda: post("error"))}


def next_invocation(step, request_id):
    def get():
        s = socket.create_connection(runtime_api(), timeout=step["wait"])
        s.settimeout(step["wait"])
        s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        finally:
            s.close()
        return data.decode("latin-1")

    return attempt(get)


ACTIONS = {
    "identity": identity, "read": reads, "write": writes, "list": lists, "find": find, "procs": procs,
    "connect": connect, "sockets": sockets, "privilege": privilege, "threads": threads,
    "allocate": allocate, "beacon": beacon, "plant": plant, "hold": hold, "forge": forge, "next": next_invocation,
}


def run(event, request_id):
    out = {"requestId": request_id, "pid": os.getpid(), "secret": event.get("secret"), "steps": {}}
    for name, step in event.get("steps", {}).items():
        try:
            out["steps"][name] = ACTIONS[step["do"]](step, request_id)
        except BaseException as e:
            out["steps"][name] = {"crashed": "%s: %s" % (type(e).__name__, e)}
    return out


if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump(run(request["event"], request["requestId"]), sys.stdout)
