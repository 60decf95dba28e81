#!/usr/bin/env bash
# fuzz/run.sh: builds the libFuzzer harnesses (clang, ASan+UBSan) in build-fuzz/ and runs
# each for a bounded time (as many at once as there are cores) over a corpus seeded from
# fixtures/. Fails on any crash, leak, timeout or sanitizer report; the reproducer lands
# in build-fuzz/artifacts/.
#   bash fuzz/run.sh [SECONDS_EACH] [HARNESS...]     (default: 60 s, every harness built)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true

command -v clang >/dev/null || { echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
CC=clang cmake -S . -B build-fuzz -DSX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null

harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  for f in build-fuzz/bin/fuzz_*; do harnesses+=("${f##*/fuzz_}"); done
fi

# Seeds: every fixture behind each of the three request prefixes (fuzz/fuzz_request.h).
seed_corpus() {
  local dir=$1
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return
  mkdir -p "$dir"
  local i=0
  while IFS= read -r -d '' f; do
    grep -qxF "$f" fuzz/seed_exclude.txt && continue
    for mode in 0 1 2; do
      { printf "\\x0$mode\\x3f\\x2f\\x0$mode"; head -c 65536 "$f"; } > "$dir/seed-$i-$mode"
    done
    i=$((i + 1))
  done < <(find fixtures -type f ! -name '*.md' ! -name '*.json' ! -name '*.py' ! -name '*.sh' -size -1024k -print0)
}

# One harness: its own log; exit status non-zero on any crash, leak, timeout or report.
fuzz_one() {
  local h=$1 corpus=build-fuzz/corpus/$1 dict=fuzz/dict/$1.dict log=build-fuzz/fuzz_$1.log
  local args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=1048576
              -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$h-")
  [ -f "$dict" ] && args+=(-dict="$dict")
  build-fuzz/bin/fuzz_"$h" "${args[@]}" "$corpus" fixtures/crashers >"$log" 2>&1
}

# Report of one finished harness, printed in order once it is done.
report() {
  local h=$1 rc=$2 log=build-fuzz/fuzz_$1.log
  echo "== fuzz_$h, ${seconds}s: $([ "$rc" -eq 0 ] && echo ok || echo FAILED)"
  grep -E "DONE +cov|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb" "$log" || true
  if [ "$rc" -ne 0 ]; then
    echo "fuzz_$h FAILED: see $log and build-fuzz/artifacts/" >&2
    tail -40 "$log" >&2
  fi
}

mkdir -p build-fuzz/artifacts
for h in "${harnesses[@]}"; do seed_corpus "build-fuzz/corpus/$h"; done

# As many harnesses at once as there are cores (libFuzzer runs one process each).
jobs_max=$(nproc)
status=0
pending=("${harnesses[@]}")
declare -A pid_of=()
while ((${#pending[@]} || ${#pid_of[@]})); do
  while ((${#pending[@]})) && ((${#pid_of[@]} < jobs_max)); do
    h=${pending[0]}
    pending=("${pending[@]:1}")
    echo "-- starting fuzz_$h ($(ls "build-fuzz/corpus/$h" | wc -l) corpus files)"
    fuzz_one "$h" &
    pid_of[$h]=$!
  done
  wait -n || true
  for h in "${!pid_of[@]}"; do
    if ! kill -0 "${pid_of[$h]}" 2>/dev/null; then
      rc=0
      wait "${pid_of[$h]}" || rc=$?
      unset "pid_of[$h]"
      report "$h" "$rc"
      [ "$rc" -eq 0 ] || status=1
    fi
  done
done
exit $status
