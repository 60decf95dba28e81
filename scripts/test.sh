#!/usr/bin/env bash
# scripts/test.sh: the one test command. Sets up (apt + build) then runs every test:
# the C tests under CTest, then the Python tests under pytest (Debian's python3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

echo "== C tests (ctest)"
ctest --test-dir build --output-on-failure

echo "== Python tests (pytest)"
PYTHONPATH="$PWD/pyclient${PYTHONPATH:+:$PYTHONPATH}" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/extractors pyclient/tests
