#!/usr/bin/env bash
# Fetches the pinned libchdb.so (the embedded ClickHouse engine) from the npm registry,
# verifies the tarball against the pinned integrity hash, and caches it outside git.
# A second run finds the verified cache and does nothing.
#
#   scripts/fetch-chdb.sh          # prints the cached library's path on its last line
#
# Pin: devstack/chdb.pin. Cache: ${XDG_CACHE_HOME:-~/.cache}/trackwatch/chdb/VERSION/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/npm-fetch.sh"
pin="$root/devstack/chdb.pin"
version=$(sed -n 's/^version=//p' "$pin")
integrity=$(sed -n 's/^integrity=//p' "$pin")
[ -n "$version" ] && [ -n "$integrity" ] || { echo "fetch-chdb: $pin lacks version= or integrity=" >&2; exit 1; }

cache="${XDG_CACHE_HOME:-$HOME/.cache}/trackwatch/chdb/$version"
lib="$cache/libchdb.so"
if [ -f "$lib" ] && [ "$(cat "$cache/.verified" 2>/dev/null)" = "$integrity" ]; then
  echo "fetch-chdb: libchdb $version already cached" >&2
  echo "$lib"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-chdb: downloading @chdb/lib-linux-x64-gnu@$version (about 180 MB)..." >&2
tgz=$(npm_fetch "@chdb/lib-linux-x64-gnu@$version" "$integrity" "$tmp")

tar -xzf "$tgz" -C "$tmp" package/libchdb.so
mkdir -p "$cache"
mv "$tmp/package/libchdb.so" "$lib.partial"
mv "$lib.partial" "$lib"
echo "$integrity" > "$cache/.verified"
echo "fetch-chdb: verified and cached libchdb $version" >&2
echo "$lib"
