# Sourced by the fetch scripts: npm_fetch PKG INTEGRITY DIR downloads PKG (NAME@VERSION)
# from the npm registry into DIR with `npm pack`, checks the tarball against INTEGRITY
# (the registry's "sha512-..." form), and prints the tarball's path; a mismatch or a
# missing npm or node stops the calling script with the reason.
npm_fetch() {
  local pkg=$1 integrity=$2 dir=$3 tgz actual
  command -v npm >/dev/null || { echo "$(basename "$0"): npm not found; install Node.js 20+ with npm" >&2; exit 1; }
  command -v node >/dev/null || { echo "$(basename "$0"): node not found; install Node.js 20+" >&2; exit 1; }
  (cd "$dir" && npm pack --silent --loglevel=error "$pkg" >/dev/null)
  tgz=$(ls "$dir"/*.tgz)
  actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  if [ "$actual" != "$integrity" ]; then
    echo "$(basename "$0"): integrity mismatch for $pkg" >&2
    echo "  expected $integrity" >&2
    echo "  got      $actual" >&2
    exit 1
  fi
  echo "$tgz"
}
