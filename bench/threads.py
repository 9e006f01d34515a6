#!/usr/bin/env python3
"""A gateway's CPU time per thread group, from /proc/PID/task/*/stat (utime + stime, clock ticks).

    threads.py snapshot PID            # prints one JSON object: {"total": ticks, "tasks": {tid: [comm, ticks]}}
    threads.py delta BEFORE AFTER N    # BEFORE/AFTER are snapshot JSON files; prints µs per transaction per group

The groups follow the JVM's and phigate's thread names (/proc shows the first 15 characters). Time of threads that
ended between the two snapshots counts under "ended" (the process total includes it; no task shows it).
"""
import json
import os
import re
import sys

GROUPS = [
    ("session", re.compile(r"^(ForkJoinPool|pg-upstream-|pg-conn-|pg-session-|mongo-conn-|mongo-session-|phigate-\d|kill-|terminate-)")),  # carriers, platform sessions
    ("poller", re.compile(r"poller", re.IGNORECASE)),
    ("grammar", re.compile(r"^sql-grammar")),
    ("journal", re.compile(r"^phigate-audit-[wcs]")),  # writer, wal, callback, spare
    ("ingest", re.compile(r"^phigate-audit-i")),
    ("jit", re.compile(r"CompilerThre")),
    ("gc", re.compile(r"^(GC Thread|G1 |VM Thread|VM Periodic)")),
]


def group_of(comm):
    for name, pattern in GROUPS:
        if pattern.search(comm):
            return name
    return "other"


def ticks(stat_line):
    # comm is in parentheses and may hold spaces; the fields after ") " are numbered from 3.
    rest = stat_line[stat_line.rindex(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def snapshot(pid):
    with open(f"/proc/{pid}/stat") as f:
        total = ticks(f.read())
    tasks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                line = f.read()
        except OSError:
            continue  # ended while we read
        tasks[tid] = [line[line.index("(") + 1:line.rindex(")")], ticks(line)]
    return {"total": total, "tasks": tasks}


def delta(before, after, transactions):
    hz = os.sysconf("SC_CLK_TCK")
    groups = {name: 0 for name, _ in GROUPS}
    groups["other"] = 0
    seen = 0
    for tid, (comm, t) in after["tasks"].items():
        d = t - before["tasks"].get(tid, [comm, 0])[1]
        groups[group_of(comm)] += d
        seen += d
    groups["ended"] = max(0, after["total"] - before["total"] - seen)
    scale = 1e6 / hz / max(1, transactions)
    return {name: round(v * scale, 1) for name, v in groups.items()}


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        print(json.dumps(snapshot(sys.argv[2])))
    elif sys.argv[1] == "delta":
        with open(sys.argv[2]) as a, open(sys.argv[3]) as b:
            print(json.dumps(delta(json.load(a), json.load(b), int(sys.argv[4])), separators=(",", ":")))
    else:
        sys.exit("usage: threads.py snapshot PID | delta BEFORE AFTER TRANSACTIONS")
