#!/usr/bin/env bash
# scripts/check_format.sh: every C file of the project as clang-format (.clang-format at the
# root) would write it. Prints the files that differ and exits 1; with --fix, rewrites them.
# Generated sample data (extractors/*/warm_*.c, written by the fixture generators) is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' | grep -v -E '^extractors/[a-z]+/warm_[a-z]+\.c$')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  printf 'check_format: not as clang-format writes it (bash scripts/check_format.sh --fix):\n' >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} C files as clang-format writes them"
