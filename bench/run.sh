#!/usr/bin/env bash
# pgbench through direct PostgreSQL, pgbouncer and phigate in three configurations (phigate: write-ahead audit;
# phigate-rec: plus response recording; phigate-mask: plus recording plus a masking policy) in interleaved rounds;
# prints tables of median tps, the ratios, mean and p99 latency, and writes bench/results/run-DATE.json and .svg.
# See bench/README.md.
#
#   bench/run.sh                      # ROUNDS=3 DURATION=10
#   ROUNDS=1 DURATION=5 bench/run.sh  # a quick look
#   MODES="select-prepared:8" bench/run.sh   # a subset, as mode:clients pairs
#   TARGETS="direct pgbouncer phigate" bench/run.sh   # a subset of the targets
#   GUARDED=1 bench/run.sh            # the database holds a function of its own, as production ones do
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Gateways listen for HTTP on their port plus this, for /metrics (audit_counts below).
PHIGATE_HTTP_OFFSET="${PHIGATE_HTTP_OFFSET:-1000}"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-10}"
SCALE="${SCALE:-10}"
THREADS="${THREADS:-2}"
MODES="${MODES:-select-simple:2 select-simple:8 select-extended:2 select-extended:8 select-prepared:2 select-prepared:8 tpcb-simple:8 patients-prepared:8 select-simple:64 select-prepared:64}"
TARGETS="${TARGETS:-direct pgbouncer phigate phigate-rec phigate-mask}"
if [ -n "${PHIGATE_BASELINE_JAR:-}" ] && [[ " $TARGETS " != *" baseline "* ]]; then
  TARGETS="$TARGETS baseline"
fi
PATIENTS="${PATIENTS:-100000}"
for target in $TARGETS; do
  case "$target" in direct|pgbouncer|phigate|phigate-rec|phigate-mask) ;;
    baseline) [ -n "${PHIGATE_BASELINE_JAR:-}" ] || { echo "target baseline needs PHIGATE_BASELINE_JAR" >&2; exit 1; } ;;
    *) echo "unknown target '$target' (direct pgbouncer phigate phigate-rec phigate-mask baseline)" >&2; exit 1 ;;
  esac
done
for pair in $MODES; do
  case "${pair%%:*}" in select-simple|select-extended|select-prepared|tpcb-simple|tpcb-extended|tpcb-prepared) ;;
    patients-simple|patients-extended|patients-prepared) ;;
    *) echo "unknown mode '${pair%%:*}' (select-, tpcb-, patients- with simple, extended or prepared)" >&2; exit 1 ;;
  esac
done
has_target() { [[ " $TARGETS " == *" $1 "* ]]; }

require_tools
bench_setup_workdir
trap bench_cleanup EXIT INT TERM

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$BENCH_DIR/results"
raw="$WORK/raw.tsv"

log "measuring fdatasync with pg_test_fsync (about 15 s)"
read -r fsync_ops fsync_usec <<<"$(measure_fsync)"
log "fdatasync: ${fsync_ops:-?} ops/s, ${fsync_usec:-?} µs per 8kB write"

start_postgres

log "pgbench -i -s $SCALE (direct)"
PGPASSWORD="$DB_PASSWORD" "$PGBENCH" -i -s "$SCALE" -q -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" "$BENCH_DB" \
  >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; die "pgbench -i failed"; }
# The patients table for the patients-* modes: synthetic rows only (md5 and arithmetic on the id), no real data.
# Created before the gateways start, so phigate-mask's policy names a table that exists.
log "patients table: $PATIENTS synthetic rows (direct)"
PGPASSWORD="$DB_PASSWORD" "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" -d "$BENCH_DB" <<SQL
create table patients (
  id integer primary key, name text not null, ssn text not null, birth_date date not null, zip text not null,
  mrn text not null, notes text not null);
insert into patients
  select g,
         'Patient ' || substr(md5('name' || g), 1, 10),
         lpad((g::bigint * 7919 % 900)::text, 3, '0') || '-' || lpad((g::bigint * 31 % 100)::text, 2, '0') || '-'
           || lpad((g::bigint * 104729 % 10000)::text, 4, '0'),
         date '1930-01-01' + (g::bigint * 37 % 30000)::integer,
         lpad((g::bigint * 7 % 100000)::text, 5, '0'),
         'MRN-' || lpad(g::text, 8, '0'),
         'synthetic note ' || md5('notes' || g)
  from generate_series(1, $PATIENTS) g;
SQL
# GUARDED=1: the database holds a function made after initdb, as nearly every production database does (an
# extension's); the gateway then checks for code run out of its sight (decisions 0064, 0086). One plain SQL function
# stands for an extension here: pg_stat_statements' CREATE EXTENSION needs contrib, which a bench machine may lack.
if [ "${GUARDED:-0}" = 1 ]; then
  log "guarded: one function made after initdb (direct)"
  PGPASSWORD="$DB_PASSWORD" "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" -d "$BENCH_DB" \
    -c "create function bench_extension_stand_in() returns int language sql as 'select 1'"
fi
cat >"$WORK/patients.sql" <<SCRIPT
\set id random(1, $PATIENTS)
SELECT id, name, ssn, birth_date, zip FROM patients WHERE id = :id;
SCRIPT
cat >"$WORK/patients-policy.yaml" <<POLICY
# phigate-mask: every PHI column of patients tagged; content detection off, so the figure is the cost of the
# tagged columns' operators (detection is measured on its own by bench/jmh's DetectorBenchmark).
phi:
  $BENCH_DB:
    columns:
      public.patients.name: name
      public.patients.ssn: ssn
      public.patients.birth_date: dob
      public.patients.zip: zip
      public.patients.mrn: mrn
      public.patients.notes: free_text
    detection: { enabled: false }
masking:
  key_file: masking.key
  defaults:
    ssn: { operator: partial, keep: 4 }
POLICY
# -n below skips pgbench's per-run VACUUM (it would run through each target); one VACUUM here instead.
PGPASSWORD="$DB_PASSWORD" "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" -d "$BENCH_DB" -qc 'vacuum analyze'

has_target pgbouncer && start_pgbouncer
# Each gateway is its own process on its own port, started once, so every configuration runs in the same rounds.
has_target phigate && start_phigate phigate "$PHIGATE_PORT" false ""
has_target phigate-rec && start_phigate phigate-rec "$PHIGATE_REC_PORT" true ""
has_target phigate-mask && start_phigate phigate-mask "$PHIGATE_MASK_PORT" true "$WORK/patients-policy.yaml"
# PHIGATE_BASELINE_MASK=1 runs the baseline as phigate-mask runs (recording and the masking policy), so a change to
# analysed sessions is measured against the build before it in the same run.
if [ "${PHIGATE_BASELINE_MASK:-0}" = 1 ]; then
  has_target baseline && start_phigate baseline "$PHIGATE_BASELINE_PORT" true "$WORK/patients-policy.yaml" \
    "${PHIGATE_BASELINE_JAVA_OPTS:-}" "$PHIGATE_BASELINE_JAR"
else
  has_target baseline && start_phigate baseline "$PHIGATE_BASELINE_PORT" false "" "${PHIGATE_BASELINE_JAVA_OPTS:-}" \
    "$PHIGATE_BASELINE_JAR"
fi

# Proof, once, that the configurations do what their names say: phigate-mask returns masked PHI, the others the
# stored values.
proof_sql="select id, name, ssn, birth_date, zip from patients where id = 42"
stored="$(PGPASSWORD="$DB_PASSWORD" "$PSQL" -X -At -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" -d "$BENCH_DB" -c "$proof_sql")"
log "patients row 42, direct:       $stored"
for target in $TARGETS; do
  case "$target" in direct) continue ;; esac
  got="$(PGPASSWORD="$(target_password "$target")" "$PSQL" -X -At -h 127.0.0.1 -p "$(target_port "$target")" \
    -U "$BENCH_USER" -d "$BENCH_DB" -c "$proof_sql")" || die "$target: $proof_sql failed"
  log "patients row 42, $(printf '%-13s' "$target:") $got"
  if [ "$target" = phigate-mask ] || { [ "$target" = baseline ] && [ "${PHIGATE_BASELINE_MASK:-0}" = 1 ]; }; then
    [ "$(cut -d'|' -f3 <<<"$got")" != "$(cut -d'|' -f3 <<<"$stored")" ] || die "$target returned the stored ssn"
  else
    [ "$got" = "$stored" ] || die "$target changed the row"
  fi
done

# One pgbench run; appends one line to $raw. Latency comes from pgbench's per-transaction log (--log): the
# third field of each line is that transaction's latency in µs. Mean and p99 are over every transaction of the
# run (p99 by nearest rank), so they do not depend on how pgbench samples progress.
# "COMMITS EVENTS" of a gateway's audit journal so far (phigate_audit_commits, phigate_audit_events_written on its
# /metrics), or nothing when it does not answer.
audit_counts() { # target
  curl -fsS --max-time 5 "http://127.0.0.1:$((PHIGATE_PORTS[$1] + PHIGATE_HTTP_OFFSET))/metrics" 2>/dev/null | awk '
    /^phigate_audit_commits(_total)? / { c = $2 } /^phigate_audit_events_written(_total)? / { e = $2 }
    END { if (c != "" && e != "") printf "%d %d\n", c, e }'
}

run_one() { # round target mode clients
  local round=$1 target=$2 mode=$3 clients=$4
  local protocol=${mode#*-} script=()
  case "$mode" in select-*) script=(-S) ;; tpcb-*) script=() ;; patients-*) script=(-f "$WORK/patients.sql") ;; esac
  local jobs=$THREADS; [ "$clients" -lt "$jobs" ] && jobs=$clients
  local prefix="$WORK/log/r$round-$target-$mode-$clients"
  mkdir -p "$WORK/log"
  local out cpu_pid="" cpu_before=""
  # The proxy's own CPU time over the run (utime + stime of every thread), for CPU per transaction: on a machine
  # where the clients, the server and the proxy share the cores, that is what decides the proxy's throughput.
  case "$target" in
    pgbouncer) cpu_pid="$(cat "$WORK/pgbouncer/pgbouncer.pid" 2>/dev/null || true)" ;;
    direct) ;;
    *) cpu_pid="${PHIGATE_PIDS[$target]:-}" ;;
  esac
  [ -n "$cpu_pid" ] && cpu_before="$(proc_cpu_ticks "$cpu_pid")"
  # For the gateways, the same time per thread group (session carriers, journal, ingest, poller, JIT, GC).
  local threads_before="" threads_us=""
  if [ -n "$cpu_pid" ] && [ "$target" != pgbouncer ]; then
    threads_before="$prefix.threads-before.json"
    python3 "$BENCH_DIR/threads.py" snapshot "$cpu_pid" >"$threads_before" || threads_before=""
  fi
  # The journal's group commits and records over the run, from the gateway's own counters: how many fdatasyncs
  # a transaction cost, and so the journal writer's CPU per group (the lever at low concurrency, decision 0072).
  local audit_before=""
  if [ -n "$threads_before" ]; then
    audit_before="$(audit_counts "$target")"
  fi
  if ! out="$(PGPASSWORD="$(target_password "$target")" "$PGBENCH" -n "${script[@]}" -M "$protocol" \
      -c "$clients" -j "$jobs" -T "$DURATION" --log --log-prefix="$prefix" \
      -h 127.0.0.1 -p "$(target_port "$target")" -U "$BENCH_USER" "$BENCH_DB" 2>&1)"; then
    echo "$out" >&2
    die "pgbench failed: $target $mode $clients clients"
  fi
  local tps failed
  tps="$(echo "$out" | awk '/^tps = / { print $3; exit }')"
  failed="$(echo "$out" | awk '/number of failed transactions/ { print $5; exit }')"
  local cpu_us=""
  if [ -n "$cpu_before" ]; then
    cpu_us="$(($(proc_cpu_ticks "$cpu_pid") - cpu_before))"
  fi
  if [ -n "$threads_before" ]; then
    python3 "$BENCH_DIR/threads.py" snapshot "$cpu_pid" >"$prefix.threads-after.json" || true
  fi
  read -r n mean p99 <<<"$(python3 "$BENCH_DIR/latency.py" "$prefix".[0-9]*)"
  if [ -n "$threads_before" ] && [ -s "$prefix.threads-after.json" ]; then
    threads_us="$(python3 "$BENCH_DIR/threads.py" delta "$threads_before" "$prefix.threads-after.json" "${n:-0}")"
  fi
  local journal=""
  if [ -n "$audit_before" ] && [ "${n:-0}" -gt 0 ]; then
    journal="$(python3 "$BENCH_DIR/threads.py" groups "$audit_before" "$(audit_counts "$target")" "$n" \
      "${threads_us:-}")" || journal=""
  fi
  rm -f "$prefix".*
  # CPU µs per transaction from clock ticks (USER_HZ) over the run's transactions.
  [ -n "$cpu_us" ] && [ "${n:-0}" -gt 0 ] && cpu_us="$(awk -v t="$cpu_us" -v hz="$(getconf CLK_TCK)" -v n="$n" \
    'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$mode" "$clients" "$tps" "$mean" \
    "$p99" "$n" "${failed:-0}" "$cpu_us" "$threads_us" "$journal" >>"$raw"
  log "round $round  $(printf '%-17s %2s clients  %-12s' "$mode" "$clients" "$target") tps $(printf '%9.0f' "$tps")  mean $(printf '%.3f' "$mean") ms  p99 $(printf '%.3f' "$p99") ms"
}

# Warm-up: the gateways are JVMs, and a fresh one spends seconds of CPU compiling its hot paths (measured at about
# 1 ms per transaction in a first 10 s round against 0.2 ms in the third). An untimed run per gateway and mode
# first, so the rounds measure the steady state a long-running gateway is in; direct and pgbouncer need none.
if [ "$WARMUP" -gt 0 ]; then
  log "warm-up: ${WARMUP}s per gateway and mode, not measured"
  for pair in $MODES; do
    for target in $TARGETS; do
      case "$target" in direct|pgbouncer) continue ;; esac
      mode="${pair%%:*}" clients="${pair##*:}"
      script=()
      case "$mode" in select-*) script=(-S) ;; patients-*) script=(-f "$WORK/patients.sql") ;; esac
      jobs=$THREADS; [ "$clients" -lt "$jobs" ] && jobs=$clients
      PGPASSWORD="$(target_password "$target")" "$PGBENCH" -n "${script[@]}" -M "${mode#*-}" -c "$clients" \
        -j "$jobs" -T "$WARMUP" -h 127.0.0.1 -p "$(target_port "$target")" -U "$BENCH_USER" "$BENCH_DB" \
        >/dev/null 2>&1 || die "warm-up failed: $target $mode $clients clients"
    done
  done
fi

log "$ROUNDS rounds of ${DURATION}s runs: ${MODES}"
for round in $(seq "$ROUNDS"); do
  for pair in $MODES; do
    for target in $TARGETS; do
      run_one "$round" "$target" "${pair%%:*}" "${pair##*:}"
    done
  done
done

# Audit rows per gateway: what each SQLite store has ingested so far.
audit_rows="$(python3 -c '
import json, sqlite3, sys
rows = {}
for name in sys.argv[2:]:
    try:
        rows[name] = sqlite3.connect(sys.argv[1] + "/" + name + "/audit.db").execute("select count(*) from audit_event").fetchone()[0]
    except Exception as e:
        rows[name] = None
print(json.dumps(rows))' "$WORK" "${!PHIGATE_PIDS[@]}")"

machine="$(machine_description)"
python3 "$BENCH_DIR/summarize.py" run \
  --raw "$raw" --json "$BENCH_DIR/results/run-$stamp.json" --svg "$BENCH_DIR/results/run-$stamp.svg" \
  --meta "$(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); m.update(dict(rounds=int(sys.argv[2]), duration_s=int(sys.argv[3]), scale=int(sys.argv[4]), threads=int(sys.argv[5]), fdatasync_ops_per_s=sys.argv[6], fdatasync_usec=sys.argv[7], phigate_commit=sys.argv[8], phigate_audit_rows=json.loads(sys.argv[9]), date=sys.argv[10], baseline_jar=sys.argv[11] or None, phigate_targets=json.loads(sys.argv[12]), patients_rows=int(sys.argv[13]), targets=sys.argv[14].split(), modes=sys.argv[15].split(), warmup_s=int(sys.argv[16]), guarded=sys.argv[17] == "1")); print(json.dumps(m))' \
    "$machine" "$ROUNDS" "$DURATION" "$SCALE" "$THREADS" "${fsync_ops:-?}" "${fsync_usec:-?}" \
    "$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" "$audit_rows" "$stamp" "${PHIGATE_BASELINE_JAR:-}" \
    "$(phigate_targets_json)" "$PATIENTS" "$TARGETS" "$MODES" "$WARMUP" "${GUARDED:-0}")"
