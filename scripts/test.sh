#!/usr/bin/env bash
# scripts/test.sh: the one test command. Sets up (apt + build) then runs every test:
# the C formatting check, the C tests under CTest, the same CTest (fixture replay through every fuzz harness)
# in an ASan/UBSan build, the Debian package (built, unpacked, doctor), then
# the Python tests under pytest (Debian's python3).
# With CI=true (as in .ci/run) it also fuzzes each harness for SX_FUZZ_SECONDS (60).
# Then fuzz/strict_replay.py replays fixtures/ and build-fuzz/corpus/ (when present) through
# the strict extractors and fails on any input that dies only in the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

echo "== C formatting (scripts/check_format.sh, clang-format with .clang-format)"
bash scripts/check_format.sh

echo "== C tests (ctest)"
ctest --test-dir build --output-on-failure

echo "== C tests and fixture replay under ASan/UBSan (ctest, build-asan)"
cmake -S . -B build-asan -DSX_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-asan -j"$(nproc)" >/dev/null
ctest --test-dir build-asan --output-on-failure

if [ "${CI:-}" = "true" ] || [ -n "${SX_FUZZ_SECONDS:-}" ]; then
  echo "== Fuzzing every harness for ${SX_FUZZ_SECONDS:-60}s"
  bash fuzz/run.sh "${SX_FUZZ_SECONDS:-60}"
fi

# The lazy-syscall detector: every fixture, and every input the fuzzers kept (under CI the
# corpus exists by now), through the real strict extractors (fuzz/README.md).
echo "== Strict replay: inputs that die only in the sandbox (fuzz/strict_replay.py)"
/usr/bin/python3 fuzz/strict_replay.py

echo "== Type check of the Python package (mypy, Debian's; settings in pyclient/pyproject.toml)"
(cd pyclient && mypy sandbox_extractor)

echo "== Debian package: build, unpack, doctor (scripts/test-deb.sh)"
bash scripts/test-deb.sh

echo "== Python tests (pytest)"
PYTHONPATH="$PWD/pyclient${PYTHONPATH:+:$PYTHONPATH}" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/extractors pyclient/tests
