#!/usr/bin/env bash
# scripts/test-deb.sh: builds the Debian package (scripts/build-deb.sh), checks that apt
# can resolve its dependencies here (apt-get install -s), unpacks it into a temporary
# root with dpkg -x (nothing is installed on this host), and runs the packaged
# `sandbox-extractor doctor` and a thumbnail with the packaged Python package and
# extractors only (not this checkout's).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
deb=$(bash scripts/build-deb.sh | tail -1)
echo "test-deb: built $deb"
apt-get install -s "$deb" >/dev/null
root=$(mktemp -d /tmp/sx-debroot.XXXXXX)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
for x in sx-image sx-heif sx-video sx-font sx-lua; do
  test -x "$root/usr/libexec/sandbox-extractor/$x" || { echo "test-deb: $x missing" >&2; exit 1; }
done
export PYTHONPATH="$root/usr/lib/python3/dist-packages"
export SANDBOX_EXTRACTOR_BIN_DIR="$root/usr/libexec/sandbox-extractor"
cd "$root"  # not the checkout: its pyclient/ must not be what is imported
/usr/bin/python3 -c "import sandbox_extractor, sys; f = sandbox_extractor.__file__; \
assert f.startswith('$root/usr/lib/python3/dist-packages/'), f"
/usr/bin/python3 "$root/usr/bin/sandbox-extractor" doctor
/usr/bin/python3 "$root/usr/bin/sandbox-extractor" thumbnail "$repo/fixtures/good" -o "$root/thumbs"
n=$(find "$root/thumbs" -name '*.png' | wc -l)
want=$(find "$repo/fixtures/good" -type f | wc -l)
[ "$n" -eq "$want" ] || { echo "test-deb: $n thumbnails for $want files" >&2; exit 1; }
echo "test-deb: the package's doctor passes and it thumbnails"
