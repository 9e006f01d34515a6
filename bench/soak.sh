#!/usr/bin/env bash
# Soak: pgbench through phigate for a while with masking on, reporting tps, latency percentiles and the gateway's
# memory over time, and whether RSS stayed flat (no leak). Writes bench/results/soak-DATE.json.
#
#   bench/soak.sh                         # 10 minutes, 8 clients, custom script over a masked patients table
#   DURATION=120 CLIENTS=4 bench/soak.sh  # a short run
#
# The workload mixes a point read of three masked columns, a write with RETURNING of a masked column, and a
# pgbench -S style read, so every path that allocates per row (masking, recording, the audit queue) runs.
# Risk rules are on (every statement is judged against them); the workload itself never needs an approval, so
# the figures are the cost of masking, recording, scope and rules on the path, not of humans.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-600}"
CLIENTS="${CLIENTS:-8}"
THREADS="${THREADS:-2}"
SCALE="${SCALE:-10}"
SAMPLE="${SAMPLE:-5}"
PHIGATE_XMX="${PHIGATE_XMX:-256m}"

require_tools
bench_setup_workdir
trap bench_cleanup EXIT INT TERM

cat >"$WORK/soak-policy.yaml" <<POLICY
phi:
  $BENCH_DB:
    columns:
      public.soak_patients.ssn: ssn
      public.soak_patients.name: name
      public.soak_patients.born: dob
masking:
  key_file: masking.key
approvers:
  dba:
    match: { issuer: "https://bench.phigate.invalid", subject: "human:*" }
rules:
  - name: no-truncate
    when: { operations: [truncate] }
    deny: "truncation is done by the DBA team"
  - name: destructive
    when: { operations: [delete, ddl] }
    require_approval: { group: dba, approvers: 1, timeout: 1m, mode: ticket }
POLICY

start_postgres
PGPASSWORD="$DB_PASSWORD" "$PGBENCH" -i -s "$SCALE" -q -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" "$BENCH_DB" \
  >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; die "pgbench -i failed"; }
PGPASSWORD="$DB_PASSWORD" "$PSQL" -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" -d "$BENCH_DB" <<'SQL'
drop table if exists soak_patients;
create table soak_patients as
  select g as id, lpad((g * 7919 % 1000000000)::text, 9, '0') as ssn, 'name ' || g as name,
         date '1940-01-01' + (g % 20000) as born, 0 as visits
  from generate_series(1, 100000) g;
alter table soak_patients add primary key (id);
vacuum analyze;
SQL
# Response recording as bench/run.sh's phigate-rec when PHIGATE_RECORD_RESPONSES=true; off by default, as before.
start_phigate phigate "$PHIGATE_PORT" "${PHIGATE_RECORD_RESPONSES:-false}" "$WORK/soak-policy.yaml" "-Xmx$PHIGATE_XMX"
PHIGATE_PID="${PHIGATE_PIDS[phigate]}"

cat >"$WORK/soak.sql" <<'SCRIPT'
\set id random(1, 100000)
\set aid random(1, 100000 * :scale)
SELECT id, ssn, name, born FROM soak_patients WHERE id = :id;
UPDATE soak_patients SET visits = visits + 1 WHERE id = :id RETURNING ssn, visits;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SCRIPT

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$BENCH_DIR/results"
samples="$WORK/rss.tsv"
(
  start=$(date +%s)
  while kill -0 "$PHIGATE_PID" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$PHIGATE_PID/status" 2>/dev/null || echo 0)
    heap=$("$JAVA_HOME/bin/jcmd" "$PHIGATE_PID" GC.heap_info 2>/dev/null | awk '/used/ {for (i=1;i<=NF;i++) if ($i=="used") {print $(i+1); exit}}')
    load=$(cut -d' ' -f1 /proc/loadavg)
    printf '%s\t%s\t%s\t%s\n' "$(( $(date +%s) - start ))" "$rss" "${heap%K}" "$load" >>"$samples"
    sleep "$SAMPLE"
  done
) &
sampler=$!

log "soak: $DURATION s, $CLIENTS clients, sampling RSS every $SAMPLE s"
PGPASSWORD="$(target_password phigate)" "$PGBENCH" -n -f "$WORK/soak.sql" -M prepared -c "$CLIENTS" -j "$THREADS" \
  -T "$DURATION" -P 30 --log --log-prefix="$WORK/lat" -h 127.0.0.1 -p "$PHIGATE_PORT" -U "$BENCH_USER" "$BENCH_DB" \
  >"$WORK/pgbench.out" 2>&1 || { cat "$WORK/pgbench.out" >&2; die "pgbench through phigate failed"; }
kill "$sampler" 2>/dev/null || true
cat "$WORK/pgbench.out" >&2

python3 - "$WORK" "$BENCH_DIR/results/soak-$stamp.json" "$DURATION" "$CLIENTS" "$(machine_description)" <<'PY'
import glob, json, statistics, sys
work, out, duration, clients, machine = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
lat = []
for f in glob.glob(work + "/lat*"):
    for line in open(f):
        p = line.split()
        if len(p) >= 3:
            lat.append(int(p[2]))
lat.sort()
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000 if lat else None
tps = None
for line in open(work + "/pgbench.out"):
    if line.startswith("tps = "):
        tps = float(line.split()[2])
rows = [l.split("\t") for l in open(work + "/rss.tsv")]
samples = [{"t": int(r[0]), "rss_kib": int(r[1]), "heap_used_kib": int(r[2]) if r[2].strip().isdigit() else None,
            "load1": float(r[3]) if len(r) > 3 else None} for r in rows]
loads = [s["load1"] for s in samples if s["load1"] is not None]
# Flat means: the median RSS of the last fifth is within 10% of the median of the second fifth (the first fifth
# is warm-up: JIT, pools and the catalog cache filling).
n = len(samples)
flat = None
if n >= 10:
    second = statistics.median(s["rss_kib"] for s in samples[n // 5: 2 * n // 5])
    last = statistics.median(s["rss_kib"] for s in samples[4 * n // 5:])
    flat = {"second_fifth_rss_mib": round(second / 1024), "last_fifth_rss_mib": round(last / 1024),
            "growth": round(last / second - 1, 3), "flat": last <= second * 1.10}
doc = {"kind": "soak", "machine": machine, "duration_s": duration, "clients": clients, "tps": tps,
       "latency_ms": {"mean": round(statistics.mean(lat) / 1000, 2) if lat else None, "p50": pct(0.5),
                      "p99": pct(0.99), "p999": pct(0.999)},
       "rss": flat,
       # The machine is shared: 1-minute load average over the run (2 cores; pgbench, PostgreSQL and phigate
       # alone bring it to about 2), so a slow run can be told from a slow gateway.
       "load1": {"min": min(loads), "median": statistics.median(loads), "max": max(loads)} if loads else None,
       "samples": samples}
json.dump(doc, open(out, "w"), indent=2)
print(f"\ntps {tps}; latency ms: mean {doc['latency_ms']['mean']}, p50 {doc['latency_ms']['p50']}, "
      f"p99 {doc['latency_ms']['p99']}, p99.9 {doc['latency_ms']['p999']}")
if flat:
    print(f"RSS second fifth {flat['second_fifth_rss_mib']} MiB, last fifth {flat['last_fifth_rss_mib']} MiB "
          f"({flat['growth']:+.1%}): {'flat' if flat['flat'] else 'GROWING'}")
if loads:
    print(f"load average (1 min): min {min(loads)}, median {statistics.median(loads)}, max {max(loads)}")
print(f"JSON: {out}")
PY
