# Shared setup for bench/run.sh and bench/bulk.sh: a throwaway PostgreSQL 15 cluster, a pgbouncer in session
# mode and a phigate gateway, all on loopback, all in one temporary folder, all stopped by bench_cleanup.
# Sourced, not run. Needs: Debian's postgresql-15 server binaries, pgbouncer, pgbench, psql, python3, JDK 25.
#
# Why the machine's PostgreSQL and not the embedded one: pgbench -i needs a role that can create tables, pgbouncer
# needs a fixed port, and Debian's binaries are the same ones the issue's reference figures were measured with.
# initdb refuses to run as root, so as root the cluster and pgbouncer run as the system user phigate-bench
# (created if missing); as any other user they run as that user.

BENCH_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd -P "$BENCH_DIR/.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
# The versioned binaries, not Debian's /usr/bin pg_wrapper links, which pick a version by the clusters they find.
PGBENCH="$PG_BIN/pgbench"
PSQL="$PG_BIN/psql"
PG_PORT="${PG_PORT:-55432}"
PGBOUNCER_PORT="${PGBOUNCER_PORT:-55433}"
PHIGATE_PORT="${PHIGATE_PORT:-55434}"
# PHIGATE_BASELINE_JAR=path: also run that jar (an older build) as target "baseline", for before/after in one run.
PHIGATE_BASELINE_PORT="${PHIGATE_BASELINE_PORT:-55435}"
BENCH_USER=bench
BENCH_DB=bench
BENCH_OS_USER=phigate-bench

export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
# No TLS anywhere: all three targets are on loopback, and TLS would measure OpenSSL against JSSE, not the proxies.
export PGSSLMODE=disable

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

require_tools() {
  local missing=()
  for t in "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$PG_BIN/pg_test_fsync" "$PGBENCH" "$PSQL" pgbouncer python3; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [ -x "$JAVA_HOME/bin/java" ] || missing+=("JDK at $JAVA_HOME")
  if [ ${#missing[@]} -gt 0 ]; then
    die "missing: ${missing[*]} (Debian: apt-get install -y postgresql-15 postgresql-client-15 pgbouncer)"
  fi
}

# Runs a command as the unprivileged owner of the cluster.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$BENCH_OS_USER" -- "$@"
  else
    "$@"
  fi
}

bench_setup_workdir() {
  if [ "$(id -u)" = 0 ] && ! id "$BENCH_OS_USER" >/dev/null 2>&1; then
    log "creating system user $BENCH_OS_USER to own the throwaway cluster (initdb refuses root)"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_OS_USER"
  fi
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/phigate-bench.XXXXXX")"
  chmod 755 "$WORK"
  mkdir -p "$WORK/pg" "$WORK/pgbouncer" "$WORK/phigate"
  if [ "$(id -u)" = 0 ]; then
    chown "$BENCH_OS_USER" "$WORK/pg" "$WORK/pgbouncer"
  fi
  # A random password per run; it never leaves the temporary folder.
  DB_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
  log "work folder $WORK"
}

bench_cleanup() {
  local rc=$?
  set +e
  local pid
  for pid in "${PHIGATE_PID:-}" "${BASELINE_PID:-}"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null
    fi
  done
  if [ -n "${WORK:-}" ] && [ -f "$WORK/pgbouncer/pgbouncer.pid" ]; then
    kill "$(cat "$WORK/pgbouncer/pgbouncer.pid")" 2>/dev/null
  fi
  if [ -n "${WORK:-}" ] && [ -f "$WORK/pg/data/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1
  fi
  if [ -n "${WORK:-}" ] && [ "${KEEP_WORK:-0}" != 1 ]; then
    rm -rf "$WORK"
  elif [ -n "${WORK:-}" ]; then
    log "kept $WORK (KEEP_WORK=1)"
  fi
  exit $rc
}

start_postgres() {
  local data="$WORK/pg/data"
  printf '%s\n' "$DB_PASSWORD" > "$WORK/pg/pwfile"
  [ "$(id -u)" = 0 ] && chown "$BENCH_OS_USER" "$WORK/pg/pwfile"
  as_owner "$PG_BIN/initdb" -D "$data" -U "$BENCH_USER" --pwfile="$WORK/pg/pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$WORK/pg/initdb.log" 2>&1 \
    || { cat "$WORK/pg/initdb.log" >&2; die "initdb failed"; }
  rm -f "$WORK/pg/pwfile"
  # Debian's defaults except for what the benchmark needs: loopback only, enough connections for 8 clients times
  # three targets, and the unix socket kept inside the work folder. fsync and synchronous_commit stay on.
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$WORK/pg'
max_connections = 100
shared_buffers = 128MB
EOF
  as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$WORK/pg/server.log" -w start >/dev/null \
    || { cat "$WORK/pg/server.log" >&2; die "PostgreSQL did not start"; }
  as_owner "$PSQL" -h "$WORK/pg" -p "$PG_PORT" -U "$BENCH_USER" -d postgres -qAtc "create database $BENCH_DB" >/dev/null
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

start_pgbouncer() {
  local dir="$WORK/pgbouncer"
  printf '"%s" "%s"\n' "$BENCH_USER" "$DB_PASSWORD" > "$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
$BENCH_DB = host=127.0.0.1 port=$PG_PORT dbname=$BENCH_DB

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  chmod 600 "$dir/userlist.txt"
  [ "$(id -u)" = 0 ] && chown "$BENCH_OS_USER" "$dir/userlist.txt" "$dir/pgbouncer.ini"
  as_owner pgbouncer -d "$dir/pgbouncer.ini" || die "pgbouncer did not start (see $dir/pgbouncer.log)"
  wait_for_sql pgbouncer "$PGBOUNCER_PORT" "$DB_PASSWORD"
  log "$(pgbouncer --version | head -1) on 127.0.0.1:$PGBOUNCER_PORT (session pooling)"
}

# start_phigate [extra JVM options]: write-ahead audit only, which is all phigate does today.
# start_phigate "" baseline: the same, from $PHIGATE_BASELINE_JAR on $PHIGATE_BASELINE_PORT, in $WORK/baseline.
start_phigate() {
  local name="${2:-phigate}"
  local dir="$WORK/$name"
  local jar="$REPO_ROOT/target/phigate.jar" port="$PHIGATE_PORT"
  if [ "$name" = baseline ]; then
    jar="$PHIGATE_BASELINE_JAR" port="$PHIGATE_BASELINE_PORT"
    [ -f "$jar" ] || die "PHIGATE_BASELINE_JAR=$jar is not a file"
  fi
  mkdir -p "$dir"
  if [ ! -f "$jar" ] || [ "${PHIGATE_REBUILD:-0}" = 1 ]; then
    log "building $jar"
    (cd "$REPO_ROOT" && ./mvnw -o -q -DskipTests package) >&2 || die "build failed"
  fi
  "$REPO_ROOT/bin/phigate" keys generate --out "$dir/keys" >/dev/null
  cat >"$dir/phigate.yaml" <<EOF
# Generated by bench/lib.sh. Configuration "audit": write-ahead audit (group commit, fsync'd: into the audit journal
# from decision 0021 on, into SQLite itself before; the baseline jar does what its build does), with
# response recording only when PHIGATE_RECORD_RESPONSES=true (the "plus full response recording" configuration).
# TODO(issue 8): run both configurations in one harness run and report them side by side.
# With PHIGATE_POLICY=FILE, that policy file is copied in (the "plus masking" configuration).
listen:
  postgres: 127.0.0.1:$port
upstreams:
  $BENCH_DB:
    address: 127.0.0.1:$PG_PORT
    database: $BENCH_DB
    credentials:
      mode: static
      user: $BENCH_USER
      password_env: BENCH_DB_PASSWORD
    tls:
      mode: disable
identity:
  issuers:
    - issuer: https://bench.phigate.invalid
      audience: phigate
      jwks_file: keys/jwks.json
audit:
  store: sqlite:audit.db
  record_responses: ${PHIGATE_RECORD_RESPONSES:-false}
limits:
  max_sessions: 200
tls:
  mode: disable
EOF
  if [ -n "${PHIGATE_POLICY:-}" ]; then
    cp "$PHIGATE_POLICY" "$dir/policy.yaml"
    head -c 48 /dev/urandom | base64 >"$dir/masking.key"
    printf 'policy: policy.yaml\n' >>"$dir/phigate.yaml"
  fi
  local token pid
  token="$("$REPO_ROOT/bin/phigate" token mint --key "$dir/keys/signing-key.jwk" \
    --issuer https://bench.phigate.invalid --subject bench-agent --audience phigate --ttl 6h)"
  # bin/phigate runs the repository's jar; the baseline runs its own jar the same way.
  (cd "$dir" && BENCH_DB_PASSWORD="$DB_PASSWORD" exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
    ${1:-${PHIGATE_BENCH_JAVA_OPTS:-}} -jar "$jar" serve --config "$dir/phigate.yaml" >"$dir/phigate.log" 2>&1) &
  pid=$!
  if [ "$name" = baseline ]; then
    BASELINE_PID=$pid BASELINE_TOKEN="$token"
  else
    PHIGATE_PID=$pid PHIGATE_TOKEN="$token"
  fi
  wait_for_sql "$name" "$port" "$token"
  log "$name $(if [ "$name" = baseline ]; then echo "$jar"; else git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'; fi) on 127.0.0.1:$port (pid $pid, write-ahead audit, response recording ${PHIGATE_RECORD_RESPONSES:-false})"
}

wait_for_sql() { # name port password
  # Up to 60 s: a JVM starting with a profiler attached on a loaded 2-core machine can take half of that.
  for _ in $(seq 300); do
    if PGPASSWORD="$3" "$PSQL" -h 127.0.0.1 -p "$2" -U "$BENCH_USER" -d "$BENCH_DB" -qAtc 'select 1' >/dev/null 2>&1; then
      return 0
    fi
    local pid=""
    case "$1" in phigate) pid="$PHIGATE_PID" ;; baseline) pid="$BASELINE_PID" ;; esac
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      cat "$WORK/$1/phigate.log" >&2
      die "$1 exited"
    fi
    sleep 0.2
  done
  die "$1 did not accept connections on port $2"
}

# Port and password of a target: direct, pgbouncer or phigate.
target_port() {
  case "$1" in direct) echo "$PG_PORT" ;; pgbouncer) echo "$PGBOUNCER_PORT" ;; phigate) echo "$PHIGATE_PORT" ;;
    baseline) echo "$PHIGATE_BASELINE_PORT" ;; esac
}
target_password() {
  case "$1" in phigate) echo "$PHIGATE_TOKEN" ;; baseline) echo "$BASELINE_TOKEN" ;; *) echo "$DB_PASSWORD" ;; esac
}

# The disk's fdatasync cost, from pg_test_fsync's "one 8kB write" fdatasync line, in ops/s and µs per op.
measure_fsync() {
  local out
  out="$(cd "$WORK" && "$PG_BIN/pg_test_fsync" -s 1 -f "$WORK/fsync.test" 2>&1)" || true
  rm -f "$WORK/fsync.test"
  # First fdatasync line is the "one 8kB write" section.
  echo "$out" | awk '/fdatasync/ && /ops\/sec/ { for (i = 1; i <= NF; i++) if ($i == "ops/sec") { print $(i-1), $(i+1); exit } }'
}

machine_description() {
  python3 - "$@" <<'EOF'
import json, os, platform, subprocess
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""
cpu = sh("awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo").strip()
mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
print(json.dumps({
    "cpu": cpu, "cores": os.cpu_count(), "memory": mem, "kernel": platform.release(),
    "postgresql": sh("/usr/lib/postgresql/15/bin/postgres --version"),
    "pgbouncer": sh("pgbouncer --version | head -1"),
    "pgbench": sh("/usr/lib/postgresql/15/bin/pgbench --version"),
    "java": sh("\"$JAVA_HOME/bin/java\" -version 2>&1 | head -1"),
}))
EOF
}
