#!/usr/bin/env bash
# Coverage-guided fuzzing of every phigate fuzz target with Jazzer, one target per JVM (Jazzer fuzzes one
# @FuzzTest per run). The suite replays only the committed seeds plus a few seconds of unguided mutations; this
# is the long version. See docs/reliability.md.
#
#   bench/fuzz.sh                         # every target, 5 minutes each
#   DURATION=30m bench/fuzz.sh            # longer
#   bench/fuzz.sh ConfigLoaderFuzzTest    # one target
#
# A finding stops that target: Jazzer writes the input as crash-<sha1> into the target's inputs folder under
# src/test/resources, where the ordinary suite then replays it as a regression test until it is fixed. The
# corpus Jazzer grows lives in .cifuzz-corpus/ (not committed). Exit status: 0 if no target found anything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAZZER_FUZZ=1
export JAZZER_MAX_DURATION="${DURATION:-5m}"
# Instrument phigate's own classes for coverage (and its parsers' dependencies: SnakeYAML is not used, Nimbus is).
export JAZZER_INSTRUMENTATION_INCLUDES="io.phigate.**:com.nimbusds.**"
export JAZZER_CUSTOM_HOOK_INCLUDES="io.phigate.**"

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  mapfile -t targets < <(grep -rl '@FuzzTest' src/test/java | xargs -n1 basename | sed 's/\.java$//' | sort)
fi

to_seconds() { # 90s, 5m, 1h
  local v=$1
  case $v in *h) echo $(( ${v%h} * 3600 ));; *m) echo $(( ${v%m} * 60 ));; *s) echo "${v%s}";; *) echo "$v";; esac
}

./mvnw -o -B -q test-compile
failed=()
for t in "${targets[@]}"; do
  printf '[fuzz %s] %s for %s\n' "$(date +%H:%M:%S)" "$t" "$JAZZER_MAX_DURATION" >&2
  log="target/fuzz-$t.log"
  # JAZZER_MAX_DURATION ends the run; the timeout is a backstop (JVM start and instrumentation take a while).
  status=0
  timeout "$(( $(to_seconds "$JAZZER_MAX_DURATION") + 300 ))" \
    ./mvnw -o -B test -Dtest=none -Dfuzz.targets="$t#fuzz" >"$log" 2>&1 || status=$?
  if [[ $status -eq 0 || ( $status -eq 124 && -z $(grep -l 'crash-\|== Java Exception' "$log") ) ]]; then
    grep -E '^#[0-9]+ ' "$log" | tail -1 >&2 || true
  else
    failed+=("$t")
    grep -E 'crash-|==[0-9]+== ERROR|Caused by' "$log" | head -5 >&2 || true
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  printf '[fuzz] findings in: %s (logs in target/fuzz-*.log)\n' "${failed[*]}" >&2
  exit 1
fi
printf '[fuzz] no findings in %d targets\n' "${#targets[@]}" >&2
