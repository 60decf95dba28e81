#!/usr/bin/env bash
# scripts/bootstrap.sh: installs what is missing through apt (Debian 12) and builds the
# extractors into build/. Safe to run again: installs nothing that is there, rebuilds
# only what changed. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  gcc make cmake pkg-config
  libjpeg62-turbo-dev libpng-dev zlib1g-dev liblcms2-dev libwebp-dev libgif-dev webp giflib-tools
  libvips-tools icc-profiles-free colord-data libgs10-common
  libheif-dev libheif-examples heif-thumbnailer libavif-bin
  libfreetype-dev libharfbuzz-dev libraqm0 liblua5.4-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  ffmpeg
  lua5.4 fontconfig
  python3 python3-pil python3-pytest python3-hypothesis mypy python3-tqdm python3-distributed
  dpkg-dev debhelper fakeroot
  strace
  clang libclang-rt-14-dev clang-format
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: need root (or sudo) to apt-get install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # One installer at a time: two checkouts bootstrapping at once would fight over dpkg's lock.
  exec 9>/tmp/sandbox-extractor-apt.lock
  flock 9
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
  exec 9>&-
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "bootstrap: extractors built in build/bin"
