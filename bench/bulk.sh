#!/usr/bin/env bash
# A 1,000,000-row, ~190 MB result through direct PostgreSQL, pgbouncer and phigate in interleaved rounds:
# MB/s, ratios, and phigate's peak heap and RSS. Writes bench/results/bulk-DATE.json and .svg. See bench/README.md.
#
#   bench/bulk.sh                     # ROUNDS=3, phigate heap capped at 256 MiB
#   ROUNDS=1 PHIGATE_XMX=128m bench/bulk.sh
#   ROWS=5500000 QUERY_ORDER="copy select" ROUNDS=1 bench/bulk.sh   # the ~1 GiB result: 1,054,888,896 bytes
#                                     # (0.98 GiB) each; ROWS=5600000 is 1,074,088,896 bytes, just over 1 GiB
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-3}"
PHIGATE_XMX="${PHIGATE_XMX:-256m}"
ROWS="${ROWS:-1000000}"
TARGETS="direct pgbouncer phigate"
SELECT="select g, md5(g::text), repeat('x', 150) from generate_series(1, $ROWS) g"
SELECT_ROWS="select g, md5(g::text) as h, repeat('x', 150) as x from generate_series(1, $ROWS) g"
# Two shapes of the same rows: COPY streams CopyData frames; a plain SELECT streams DataRow frames, the ones
# masking will rewrite (psql holds that result in its own memory, which costs the client, not the proxy).
declare -A QUERIES=(
  [copy]="copy ($SELECT) to stdout"
  [select]="$SELECT"
)
# The same rows stored twice: bulk_plain has no PHI; in bulk_phi the policy below tags three columns, so phigate
# rewrites every row (a keyed token on the md5 text, partial on the long text, age90 on the integer). Direct and
# pgbouncer read both alike; the bar is phigate(masked) >= 0.7 x phigate(plain).
QUERIES[plain]="select g, h, x from bulk_plain"
QUERIES[masked]="select g, h, x from bulk_phi"
QUERY_ORDER="${QUERY_ORDER:-copy select plain masked}"
for q in $QUERY_ORDER; do
  [ -n "${QUERIES[$q]:-}" ] || { echo "QUERY_ORDER: unknown result '$q' (copy, select, plain, masked)" >&2; exit 1; }
done

require_tools
bench_setup_workdir
trap bench_cleanup EXIT INT TERM
cat >"$WORK/bulk-policy.yaml" <<POLICY
phi:
  $BENCH_DB:
    columns:
      public.bulk_phi.g: age
      public.bulk_phi.h: mrn
      public.bulk_phi.x: ssn
    # Content detection scans every untagged text value (a regex pass per detector); it is measured separately
    # (DETECTION=true), since it costs far more than the three operators.
    detection: { enabled: ${DETECTION:-false} }
masking:
  key_file: masking.key
  defaults:
    ssn: { operator: partial, keep: 4 }
POLICY

psql_to() { # target sql
  PGPASSWORD="$(target_password "$1")" "$PSQL" -X -q -At -h 127.0.0.1 -p "$(target_port "$1")" -U "$BENCH_USER" \
    -d "$BENCH_DB" -c "$2"
}

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$BENCH_DIR/results"
raw="$WORK/raw.tsv"

start_postgres
# The stored copies only when a result reads them: at ROWS=5500000 each is over a GB to write.
for t in bulk_plain bulk_phi; do
  case " $QUERY_ORDER " in
    *" plain "*|*" masked "*)
      psql_to direct "drop table if exists $t; create table $t as $SELECT_ROWS; analyze $t" >/dev/null ;;
  esac
done
start_pgbouncer
start_phigate phigate "$PHIGATE_PORT" "${PHIGATE_RECORD_RESPONSES:-false}" "$WORK/bulk-policy.yaml" \
  "-Xmx$PHIGATE_XMX -Xlog:gc:file=$WORK/phigate/gc.log"
PHIGATE_PID="${PHIGATE_PIDS[phigate]}"
startup_rss_kb="$(awk '/VmRSS/ {print $2}' "/proc/$PHIGATE_PID/status")"


declare -A BYTES
for q in $QUERY_ORDER; do
  BYTES[$q]="$(psql_to direct "${QUERIES[$q]}" | wc -c)"
  log "$q: ${BYTES[$q]} bytes of output per run (measured once, direct; also warms the server)"
done

for round in $(seq "$ROUNDS"); do
  for q in $QUERY_ORDER; do
    for target in $TARGETS; do
      start=$(date +%s%N)
      psql_to "$target" "${QUERIES[$q]}" >/dev/null || die "$q through $target failed"
      end=$(date +%s%N)
      seconds="$(python3 -c "print(($end - $start) / 1e9)")"
      printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$q" "${BYTES[$q]}" "$seconds" >>"$raw"
      log "round $round  $(printf '%-6s %-9s' "$q" "$target") $(python3 -c "print(f'{${BYTES[$q]} / 1e6 / $seconds:8.1f} MB/s  ({$seconds:.2f} s)')")"
    done
  done
done

hwm_kb="$(awk '/VmHWM/ {print $2}' "/proc/$PHIGATE_PID/status")"
"$JAVA_HOME/bin/jcmd" "$PHIGATE_PID" GC.heap_info >"$WORK/phigate/heap_info.txt" 2>&1 || true
# Peak heap used: the largest occupancy G1 logged before a collection ("Pause Young ... 130M->5M(256M)"), or the
# occupancy now if that is larger (the heap grows between collections; the last stretch has none after it).
peak_heap_mib="$(python3 - "$WORK/phigate/gc.log" "$WORK/phigate/heap_info.txt" <<'EOF'
import re, sys
units = {"K": 1 / 1024, "M": 1, "G": 1024}
peak = 0
for line in open(sys.argv[1]):
    m = re.search(r"(\d+)([KMG])->(\d+)([KMG])\((\d+)([KMG])\)", line)
    if m:
        peak = max(peak, int(m.group(1)) * units[m.group(2)])
m = re.search(r"used (\d+)K", open(sys.argv[2]).read())
if m:
    peak = max(peak, int(m.group(1)) / 1024)
print(round(peak))
EOF
)"
gc_count="$(grep -c 'Pause' "$WORK/phigate/gc.log" || true)"

machine="$(machine_description)"
python3 "$BENCH_DIR/summarize.py" bulk \
  --raw "$raw" --json "$BENCH_DIR/results/bulk-$stamp.json" --svg "$BENCH_DIR/results/bulk-$stamp.svg" \
  --meta "$(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); m.update(dict(rounds=int(sys.argv[2]), rows=int(sys.argv[3]), phigate_xmx=sys.argv[4], phigate_peak_heap_mib=int(sys.argv[5]), phigate_vmhwm_mib=round(int(sys.argv[6])/1024), phigate_startup_rss_mib=round(int(sys.argv[7])/1024), phigate_gc_pauses=int(sys.argv[8]), phigate_commit=sys.argv[9], date=sys.argv[10], phigate_targets=json.loads(sys.argv[11]), phigate_bytes_moved=int(sys.argv[12]))); print(json.dumps(m))' \
    "$machine" "$ROUNDS" "$ROWS" "$PHIGATE_XMX" "$peak_heap_mib" "$hwm_kb" "$startup_rss_kb" "${gc_count:-0}" \
    "$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" "$stamp" "$(phigate_targets_json)" \
    "$(awk -F'\t' '$2 == "phigate" { s += $4 } END { printf "%.0f", s }' "$raw")")"
echo "phigate GC.heap_info at the end:"
sed 's/^/  /' "$WORK/phigate/heap_info.txt"
