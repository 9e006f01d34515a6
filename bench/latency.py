#!/usr/bin/env python3
"""Reads pgbench per-transaction logs (--log, one file per thread) and prints: count, mean ms, p99 ms.

Each line is "client_id transaction_no time script_no time_epoch time_us [schedule_lag]" where time is the
transaction's latency in microseconds. Failed transactions (pgbench 15 writes "failed" or "serialization" in
the time field) are left out. p99 is the nearest-rank percentile over every transaction of the run.
"""
import math
import sys

latencies = []
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]))

if not latencies:
    print("0 nan nan")
    sys.exit(0)
latencies.sort()
n = len(latencies)
mean_ms = sum(latencies) / n / 1000.0
p99_ms = latencies[max(0, math.ceil(0.99 * n) - 1)] / 1000.0
print(f"{n} {mean_ms:.4f} {p99_ms:.4f}")
