#!/usr/bin/env bash
# Memory per idle session: PostgreSQL and one phigate (write-ahead audit only, default JVM options), N sessions
# opened through it (each authenticated with the minted token, each having run `select 1` once, then left open),
# and phigate's RSS (VmRSS, VmHWM) and heap before, with all N open, and after they close.
# Writes bench/results/idle-DATE.json. See bench/README.md.
#
#   bench/idle.sh                        # 2000 sessions
#   SESSIONS=300 bench/idle.sh           # a quick look
#   PHIGATE_XMX=256m bench/idle.sh       # with a heap cap (default: the JVM's own, a quarter of the machine's RAM)
#   PHIGATE_JAR=/tmp/other.jar bench/idle.sh   # another build
#   IDLE_DIAGNOSE=/tmp/d PHIGATE_BENCH_JAVA_OPTS=-XX:NativeMemoryTracking=summary bench/idle.sh
#                                        # where the memory went: NMT, class histogram, threads (idle_sessions.py)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SESSIONS="${SESSIONS:-2000}"
PARALLEL="${PARALLEL:-16}"
SETTLE="${SETTLE:-3}"
# Every phigate session holds one upstream session, so PostgreSQL needs a backend per session, and phigate a slot.
PG_MAX_CONNECTIONS=$((SESSIONS + 50))
PHIGATE_MAX_SESSIONS=$((SESSIONS + 50))
# All sessions come from 127.0.0.1; the default per-address rate (50/s after a burst of 100) would pace the opening.
PHIGATE_CONNECT_RATE=0

# One descriptor per session in the client, two in phigate (client and upstream socket). Raising the soft limit
# up to the hard one needs no privilege; beyond it, root.
need=$((SESSIONS * 2 + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$need" ] \
    || die "ulimit -n is $(ulimit -n), $need needed for $SESSIONS sessions (run as root or raise the hard limit)"
fi

require_tools
bench_setup_workdir
trap bench_cleanup EXIT INT TERM

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$BENCH_DIR/results"

start_postgres
start_phigate phigate "$PHIGATE_PORT" false "" "${PHIGATE_XMX:+-Xmx$PHIGATE_XMX}" "${PHIGATE_JAR:-}"
pid="${PHIGATE_PIDS[phigate]}"

log "opening $SESSIONS idle sessions through phigate ($PARALLEL at a time); ulimit -n $(ulimit -n)"
meta="$(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); m.update(dict(sessions=int(sys.argv[2]), phigate_xmx=sys.argv[3] or "JVM default", phigate_commit=sys.argv[4], date=sys.argv[5], phigate_targets=json.loads(sys.argv[6]), pg_max_connections=int(sys.argv[7]))); print(json.dumps(m))' \
  "$(machine_description)" "$SESSIONS" "${PHIGATE_XMX:-}" "$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
  "$stamp" "$(phigate_targets_json)" "$PG_MAX_CONNECTIONS")"
# The upstream sessions phigate holds, counted over a connection of our own (left out of the count).
# The password reaches that psql through the environment, not its command line.
backends_cmd="PGPASSWORD=\"\$IDLE_DB_PASSWORD\" '$PSQL' -X -qAt -h 127.0.0.1 -p $PG_PORT -U $BENCH_USER -d $BENCH_DB -c \"select count(*) from pg_stat_activity where backend_type = 'client backend' and datname = '$BENCH_DB' and pid <> pg_backend_pid()\""
PHIGATE_TOKEN="$(target_password phigate)" IDLE_DB_PASSWORD="$DB_PASSWORD" python3 "$BENCH_DIR/idle_sessions.py" --port "$PHIGATE_PORT" \
  --user "$BENCH_USER" --database "$BENCH_DB" --sessions "$SESSIONS" --pid "$pid" --jcmd "$JAVA_HOME/bin/jcmd" \
  --parallel "$PARALLEL" --settle "$SETTLE" --backends-cmd "$backends_cmd" --meta "$meta" \
  ${IDLE_DIAGNOSE:+--diagnose "$IDLE_DIAGNOSE"} \
  --out "$BENCH_DIR/results/idle-$stamp.json" \
  || { tail -20 "$WORK/phigate/phigate.log" >&2; die "idle sessions failed"; }
