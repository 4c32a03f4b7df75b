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

command -v npm >/dev/null || { echo "fetch-chdb: npm not found; install Node.js 20+ with npm" >&2; exit 1; }
command -v node >/dev/null || { echo "fetch-chdb: node not found; install Node.js 20+" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-chdb: downloading @chdb/lib-linux-x64-gnu@$version (about 180 MB)..." >&2
(cd "$tmp" && npm pack --silent --loglevel=error "@chdb/lib-linux-x64-gnu@$version" >/dev/null)
tgz=$(ls "$tmp"/*.tgz)

actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
if [ "$actual" != "$integrity" ]; then
  echo "fetch-chdb: integrity mismatch for @chdb/lib-linux-x64-gnu@$version" >&2
  echo "  expected $integrity" >&2
  echo "  got      $actual" >&2
  exit 1
fi

tar -xzf "$tgz" -C "$tmp" package/libchdb.so
mkdir -p "$cache"
mv "$tmp/package/libchdb.so" "$lib.partial"
mv "$lib.partial" "$lib"
echo "$integrity" > "$cache/.verified"
echo "fetch-chdb: verified and cached libchdb $version" >&2
echo "$lib"
