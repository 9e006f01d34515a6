#!/usr/bin/env python3
"""A gateway's CPU time per thread group, from /proc/PID/task/*/stat (utime + stime, clock ticks).

    threads.py snapshot PID            # prints one JSON object: {"total": ticks, "tasks": {tid: [comm, ticks]}}
    threads.py delta BEFORE AFTER N    # BEFORE/AFTER are snapshot JSON files; prints µs per transaction per group
    threads.py groups "C0 E0" "C1 E1" N THREADS_JSON
                                       # the audit journal's group commits (C) and records (E) before and after N
                                       # transactions: groups per transaction, records per group, and the journal
                                       # thread group's µs (from the delta's JSON) per group

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


def groups(before, after, transactions, threads):
    c0, e0 = (int(x) for x in before.split())
    c1, e1 = (int(x) for x in after.split())
    commits, events = c1 - c0, e1 - e0
    out = {"groups_per_tx": round(commits / max(1, transactions), 3),
           "records_per_group": round(events / commits, 2) if commits else None}
    journal = threads.get("journal")
    if journal is not None and commits:
        out["journal_us_per_group"] = round(journal * transactions / commits, 1)
    return out


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        print(json.dumps(snapshot(sys.argv[2])))
    elif sys.argv[1] == "delta":
        with open(sys.argv[2]) as a, open(sys.argv[3]) as b:
            print(json.dumps(delta(json.load(a), json.load(b), int(sys.argv[4])), separators=(",", ":")))
    elif sys.argv[1] == "groups":
        print(json.dumps(groups(sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5] or "{}")),
                         separators=(",", ":")))
    else:
        sys.exit("usage: threads.py snapshot PID | delta BEFORE AFTER TRANSACTIONS | groups BEFORE AFTER N THREADS")
