#!/usr/bin/env bash
# scripts/build-deb.sh: builds the Debian package sandbox-extractor_*.deb into dist/ with
# `dpkg-buildpackage -b -us -uc`, from a copy of this checkout's files (tracked and new,
# not ignored) so that build/ and the build's leftovers stay out of it. Needs dpkg-dev,
# debhelper, fakeroot and the -dev packages of debian/control (scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d /tmp/sx-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/src"
(cd "$work/src" && dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$work/build.log" 2>&1) || {
  tail -40 "$work/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed (log above)" >&2
  exit 1
}
mkdir -p dist
cp "$work"/sandbox-extractor_*.deb dist/
ls -1 "$repo"/dist/sandbox-extractor_*.deb
