#!/usr/bin/env bash
# Builds and runs phigate's JMH microbenchmarks with short settings (about 3 minutes on 2 cores).
# Arguments go to JMH, replacing the defaults below:
#   bench/jmh/run.sh                                  # everything, short
#   bench/jmh/run.sh CodecBenchmark -f 2 -wi 5 -i 10  # one class, longer
# Results: bench/results/jmh-DATE.json (JMH's own JSON) and the table JMH prints.
#
# MaskOperatorBenchmark and DetectorBenchmark measure the masking operators and the content detector (values/s).
set -euo pipefail
jmh_dir="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd -P "$jmh_dir/../.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"

# The benchmarks compile against the main project's jar; build it if missing (or with PHIGATE_REBUILD=1).
if [ ! -f "$repo_root/target/phigate.jar" ] || [ "${PHIGATE_REBUILD:-0}" = 1 ]; then
  (cd "$repo_root" && ./mvnw -q -DskipTests package)
fi
# -o when the JMH artifacts are already in the local repository; the first run needs Maven Central.
offline=()
[ -d "$HOME/.m2/repository/org/openjdk/jmh/jmh-core/1.37" ] && offline=(-o)
"$repo_root/mvnw" "${offline[@]}" -q -f "$jmh_dir/pom.xml" compile dependency:build-classpath \
  -Dmdep.outputFile="$jmh_dir/target/classpath.txt" -Dmdep.includeScope=runtime

mkdir -p "$repo_root/bench/results"
out="$repo_root/bench/results/jmh-$(date -u +%Y%m%dT%H%M%SZ).json"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(-f 1 -wi 2 -w 2s -i 3 -r 3s)
cp="$jmh_dir/target/classes:$(cat "$jmh_dir/target/classpath.txt"):$repo_root/target/phigate.jar"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" org.openjdk.jmh.Main \
  -jvmArgsAppend --enable-native-access=ALL-UNNAMED -rf json -rff "$out" "${args[@]}"
echo "JMH JSON: $out"
