#!/usr/bin/env bash
# scripts/demo.sh: the main job on the shipped fixtures. Sets up (apt + build), then
# thumbnails every good fixture into out/thumbnails/ and runs every hostile fixture
# through the same batch, printing the client's summary for each.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

sx() { PYTHONPATH="$PWD/pyclient" /usr/bin/python3 -m sandbox_extractor "$@"; }
rm -rf out/thumbnails out/rejected
mkdir -p out

echo "== Thumbnails of the good fixtures (fixtures/good -> out/thumbnails, 256 px box)"
sx thumbnail fixtures/good -o out/thumbnails --size 256

echo
echo "== The hostile fixtures (fixtures/bad): every one must be rejected with a reason"
status=0
sx thumbnail fixtures/bad -o out/rejected --size 256 || status=$?
if [ "$status" -ne 1 ]; then
  echo "demo: expected every hostile file to be rejected (exit 1), got exit $status" >&2
  exit 1
fi
# Files whose expected outcome is an error must have no thumbnail (fixtures/expectations.json;
# a few damaged-but-decodable files are "error_or_ok" and may have one).
/usr/bin/python3 - <<'PY'
import json, pathlib, sys
expect = json.loads(pathlib.Path("fixtures/expectations.json").read_text())
leaked = [k for k, v in expect.items() if k.startswith("bad/") and v["outcome"] == "error"
          and (pathlib.Path("out/rejected") / pathlib.Path(k).with_suffix(".png").name).exists()]
if leaked:
    sys.exit("demo: hostile files produced thumbnails: " + ", ".join(leaked))
PY
echo
echo "demo: $(find out/thumbnails -type f | wc -l) thumbnails in out/thumbnails; every file expected to fail was" \
  "rejected ($(find out/rejected -type f 2>/dev/null | wc -l) damaged-but-decodable file(s) thumbnailed in out/rejected)"
