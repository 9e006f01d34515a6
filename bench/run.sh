#!/usr/bin/env bash
# pgbench through direct PostgreSQL, pgbouncer and phigate in interleaved rounds; prints a table of median tps,
# mean and p99 latency and the ratios, and writes bench/results/run-DATE.json and .svg. See bench/README.md.
#
#   bench/run.sh                      # ROUNDS=3 DURATION=10
#   ROUNDS=1 DURATION=5 bench/run.sh  # a quick look
#   MODES="select-prepared:8" bench/run.sh   # a subset, as mode:clients pairs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
SCALE="${SCALE:-10}"
THREADS="${THREADS:-2}"
MODES="${MODES:-select-simple:2 select-simple:8 select-extended:2 select-extended:8 select-prepared:2 select-prepared:8 tpcb-simple:8}"
TARGETS="direct pgbouncer phigate"
[ -n "${PHIGATE_BASELINE_JAR:-}" ] && TARGETS="$TARGETS baseline"

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
start_pgbouncer
start_phigate
[ -n "${PHIGATE_BASELINE_JAR:-}" ] && start_phigate "" baseline

log "pgbench -i -s $SCALE (direct)"
PGPASSWORD="$DB_PASSWORD" "$PGBENCH" -i -s "$SCALE" -q -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" "$BENCH_DB" \
  >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; die "pgbench -i failed"; }
# -n below skips pgbench's per-run VACUUM (it would run through each target); one VACUUM here instead.
PGPASSWORD="$DB_PASSWORD" "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" -d "$BENCH_DB" -qc 'vacuum analyze'

# One pgbench run; appends one line to $raw. Latency comes from pgbench's per-transaction log (--log): the
# third field of each line is that transaction's latency in µs. Mean and p99 are over every transaction of the
# run (p99 by nearest rank), so they do not depend on how pgbench samples progress.
run_one() { # round target mode clients
  local round=$1 target=$2 mode=$3 clients=$4
  local protocol=${mode#*-} script=()
  case "$mode" in select-*) script=(-S) ;; tpcb-*) script=() ;; esac
  local jobs=$THREADS; [ "$clients" -lt "$jobs" ] && jobs=$clients
  local prefix="$WORK/log/r$round-$target-$mode-$clients"
  mkdir -p "$WORK/log"
  local out
  if ! out="$(PGPASSWORD="$(target_password "$target")" "$PGBENCH" -n "${script[@]}" -M "$protocol" \
      -c "$clients" -j "$jobs" -T "$DURATION" --log --log-prefix="$prefix" \
      -h 127.0.0.1 -p "$(target_port "$target")" -U "$BENCH_USER" "$BENCH_DB" 2>&1)"; then
    echo "$out" >&2
    die "pgbench failed: $target $mode $clients clients"
  fi
  local tps failed
  tps="$(echo "$out" | awk '/^tps = / { print $3; exit }')"
  failed="$(echo "$out" | awk '/number of failed transactions/ { print $5; exit }')"
  read -r n mean p99 <<<"$(python3 "$BENCH_DIR/latency.py" "$prefix".*)"
  rm -f "$prefix".*
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$mode" "$clients" "$tps" "$mean" "$p99" "$n" \
    "${failed:-0}" >>"$raw"
  log "round $round  $(printf '%-16s %2s clients  %-9s' "$mode" "$clients" "$target") tps $(printf '%9.0f' "$tps")  mean $(printf '%.3f' "$mean") ms  p99 $(printf '%.3f' "$p99") ms"
}

log "$ROUNDS rounds of ${DURATION}s runs: ${MODES}"
for round in $(seq "$ROUNDS"); do
  for pair in $MODES; do
    for target in $TARGETS; do
      run_one "$round" "$target" "${pair%%:*}" "${pair##*:}"
    done
  done
done

audit_rows="$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from audit_event').fetchone()[0])" "$WORK/phigate/audit.db" 2>/dev/null || echo '?')"

machine="$(machine_description)"
python3 "$BENCH_DIR/summarize.py" run \
  --raw "$raw" --json "$BENCH_DIR/results/run-$stamp.json" --svg "$BENCH_DIR/results/run-$stamp.svg" \
  --meta "$(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); m.update(dict(rounds=int(sys.argv[2]), duration_s=int(sys.argv[3]), scale=int(sys.argv[4]), threads=int(sys.argv[5]), fdatasync_ops_per_s=sys.argv[6], fdatasync_usec=sys.argv[7], phigate_commit=sys.argv[8], phigate_audit_rows=sys.argv[9], date=sys.argv[10], baseline_jar=sys.argv[11] or None)); print(json.dumps(m))' \
    "$machine" "$ROUNDS" "$DURATION" "$SCALE" "$THREADS" "${fsync_ops:-?}" "${fsync_usec:-?}" \
    "$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" "$audit_rows" "$stamp" "${PHIGATE_BASELINE_JAR:-}")"
