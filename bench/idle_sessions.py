#!/usr/bin/env python3
"""Opens N idle sessions through phigate and measures the gateway's memory before, with all N open, and after
they close. Used by bench/idle.sh; standard library only.

Each session speaks the PostgreSQL protocol over a raw socket: a StartupMessage, the agent token as the password
(phigate asks for AuthenticationCleartextPassword: the token is the password, and cleartext is allowed on
loopback without TLS), `select 1` once through the simple protocol, then nothing until Terminate. A raw client
is used instead of psql or a driver because N processes or N driver connections would cost the machine more
than the gateway being measured.

At each point the memory is read from /proc/PID/status (VmRSS, VmHWM) and from `jcmd PID GC.heap_info`, then
once more after `jcmd PID GC.run`, so the heap is reported both as found (live objects plus garbage not yet
collected) and live.

  idle_sessions.py --port P --user U --database D --sessions N --pid PID --jcmd JCMD --out OUT.json \
      [--parallel 16] [--settle 3] [--backends-cmd CMD] [--meta JSON] [--diagnose DIR]

With --diagnose DIR, where the memory went with all N open is written to DIR: Native Memory Tracking's summary and
its difference from before the sessions (when the JVM runs with -XX:NativeMemoryTracking=summary), the class
histogram and a thread dump.
  (the token is read from the PHIGATE_TOKEN environment variable)
"""
import argparse
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


class PgError(Exception):
    pass


class Session:
    """One client connection. Reads are buffered and framed by length, never assuming one recv is one message."""

    def __init__(self, port, user, database, token, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        params = b"".join(k.encode() + b"\0" + v.encode() + b"\0"
                          for k, v in [("user", user), ("database", database), ("application_name", "idle-bench")])
        body = struct.pack("!i", 196608) + params + b"\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        while True:
            kind, payload = self.read()
            if kind == b"R":
                code = struct.unpack("!i", payload[:4])[0]
                if code == 3:  # AuthenticationCleartextPassword
                    self.send(b"p", token.encode() + b"\0")
                elif code != 0:
                    raise PgError(f"authentication method {code} asked for; this client speaks cleartext only")
            elif kind == b"Z":
                break
        self.send(b"Q", b"select 1\0")
        rows = 0
        while True:
            kind, payload = self.read()
            if kind == b"D":
                rows += 1
            elif kind == b"Z":
                break
        if rows != 1:
            raise PgError(f"select 1 returned {rows} rows")

    def read(self):
        while True:
            if len(self.buf) >= 5:
                length = struct.unpack("!i", self.buf[1:5])[0]
                if len(self.buf) >= 1 + length:
                    kind, payload = self.buf[:1], self.buf[5:1 + length]
                    self.buf = self.buf[1 + length:]
                    if kind == b"E":
                        fields = dict((f[:1].decode(), f[1:].decode(errors="replace"))
                                      for f in payload.split(b"\0") if f)
                        raise PgError(f"{fields.get('C', '?')}: {fields.get('M', '?')}")
                    return kind, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                raise PgError("server closed the connection")
            self.buf += chunk

    def send(self, kind, payload):
        self.sock.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)

    def close(self):
        try:
            self.send(b"X", b"")  # Terminate
        except OSError:
            pass
        self.sock.close()


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    return {"rss_kib": out.get("VmRSS"), "hwm_kib": out.get("VmHWM"), "os_threads": out.get("Threads")}


def heap_used_kib(jcmd, pid):
    text = subprocess.run([jcmd, str(pid), "GC.heap_info"], capture_output=True, text=True).stdout
    for line in text.splitlines():
        m = re.search(r"heap .*used (\d+)K", line)
        if m:
            return int(m.group(1))
    return None


def backends(cmd):
    if not cmd:
        return None
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    return int(out) if out.isdigit() else None


def sample(args, label):
    s = {"point": label, **proc_status(args.pid), "heap_used_kib": heap_used_kib(args.jcmd, args.pid),
         "upstream_backends": backends(args.backends_cmd)}
    subprocess.run([args.jcmd, str(args.pid), "GC.run"], capture_output=True)
    time.sleep(0.5)
    s["heap_live_kib"] = heap_used_kib(args.jcmd, args.pid)
    s["rss_after_gc_kib"] = proc_status(args.pid)["rss_kib"]
    print(f"  {label:<8} RSS {s['rss_kib'] / 1024:7.1f} MiB  HWM {s['hwm_kib'] / 1024:7.1f} MiB  heap used "
          f"{(s['heap_used_kib'] or 0) / 1024:6.1f} MiB, live after GC {(s['heap_live_kib'] or 0) / 1024:6.1f} MiB"
          f"  upstream backends {s['upstream_backends']}", file=sys.stderr, flush=True)
    return s


def diagnose(args, label):
    """Writes NMT, the class histogram and the threads at this point to args.diagnose (see the module comment)."""
    if not args.diagnose:
        return
    os.makedirs(args.diagnose, exist_ok=True)
    commands = {"before": [["VM.native_memory", "baseline"], ["VM.native_memory", "summary"]],
                "open": [["VM.native_memory", "summary.diff"], ["VM.native_memory", "summary"],
                         ["GC.class_histogram"], ["Thread.print"], ["GC.heap_info"]]}
    for command in commands.get(label, []):
        out = subprocess.run([args.jcmd, str(args.pid), *command], capture_output=True, text=True).stdout
        with open(os.path.join(args.diagnose, f"{label}-{'-'.join(command)}.txt"), "w") as f:
            f.write(out)


def main():
    p = argparse.ArgumentParser()
    for name in ("--port", "--sessions", "--pid"):
        p.add_argument(name, type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--database", required=True)
    p.add_argument("--jcmd", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--parallel", type=int, default=16)
    p.add_argument("--settle", type=float, default=3)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--backends-cmd", default="")
    p.add_argument("--meta", default="{}")
    p.add_argument("--diagnose", default="")
    args = p.parse_args()
    token = os.environ["PHIGATE_TOKEN"]
    n = args.sessions

    time.sleep(args.settle)
    diagnose(args, "before")
    before = sample(args, "before")

    start = time.monotonic()
    with ThreadPoolExecutor(args.parallel) as pool:
        futures = [pool.submit(Session, args.port, args.user, args.database, token, args.timeout) for _ in range(n)]
        sessions, errors = [], []
        for f in futures:
            try:
                sessions.append(f.result())
            except Exception as e:  # every failure is reported; the run fails below
                errors.append(str(e))
    open_seconds = time.monotonic() - start
    if errors:
        for s in sessions:
            s.close()
        print(f"{len(errors)} of {n} sessions failed; first: {errors[0]}", file=sys.stderr)
        return 1
    print(f"  opened {n} sessions in {open_seconds:.1f} s ({n / open_seconds:.0f}/s), each ran select 1 once",
          file=sys.stderr, flush=True)
    time.sleep(args.settle)
    with_open = sample(args, "open")
    diagnose(args, "open")  # after the sample: the class histogram collects the heap

    for s in sessions:
        s.close()
    # Wait for the gateway to let go of the upstream sessions, then let it settle.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (backends(args.backends_cmd) or 0) > (before["upstream_backends"] or 0):
        time.sleep(0.5)
    time.sleep(args.settle)
    after = sample(args, "closed")

    per = lambda key: round((with_open[key] - before[key]) / n, 1) if with_open[key] and before[key] else None
    doc = {"kind": "idle", "meta": json.loads(args.meta), "sessions": n, "open_seconds": round(open_seconds, 2),
           "samples": [before, with_open, after],
           "per_session_kib": {"rss": per("rss_kib"), "rss_after_gc": per("rss_after_gc_kib"),
                               "heap_used": per("heap_used_kib"), "heap_live": per("heap_live_kib")},
           "method": {"rss": "VmRSS and VmHWM from /proc/PID/status",
                      "heap_used": "jcmd GC.heap_info 'used' as found (live + uncollected garbage)",
                      "heap_live": "jcmd GC.heap_info 'used' right after jcmd GC.run",
                      "per_session": "(open - before) / sessions"}}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    mib = lambda kib: "n/a" if kib is None else f"{kib / 1024:,.1f}"
    print()
    print(f"phigate with {n} idle sessions (each authenticated with a token, `select 1` once, then idle)")
    print()
    print("| point | RSS MiB | RSS MiB after GC | VmHWM MiB | heap used MiB | heap live MiB | upstream backends |")
    print("|---|---|---|---|---|---|---|")
    for s in (before, with_open, after):
        print(f"| {s['point']} | {mib(s['rss_kib'])} | {mib(s['rss_after_gc_kib'])} | {mib(s['hwm_kib'])} | "
              f"{mib(s['heap_used_kib'])} | {mib(s['heap_live_kib'])} | {s['upstream_backends']} |")
    ps = doc["per_session_kib"]
    print()
    print(f"per session: RSS {ps['rss']} KiB, heap live {ps['heap_live']} KiB (heap used as found "
          f"{ps['heap_used']} KiB); opened at {n / open_seconds:.0f} sessions/s")
    print()
    print(f"JSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
