#!/usr/bin/env bash
# The packages as a user gets them. Packs every workspace package, serves the tarballs from a local
# registry for the @sparse-ift scope (every other dependency comes from the npm registry), then in
# folders outside the workspace:
#   1. runs each package README's `npm i …` lines as written, type-checks every README ```ts example
#      (strict) and runs it on small data that tools/consumer-check/fixtures.ts writes;
#   2. runs the root README's consumer quick start (`npm i @sparse-ift/cli`, `npx sift …`) as written.
# Also checks every tarball for the LICENSE and for the sources its source maps name, and that the
# repository's own npm config draws no npm warning. Needs the npm registry. KEEP=1 keeps the folders.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/tools/consumer-check"
work="$(mktemp -d "${TMPDIR:-/tmp}/sift-consumer-XXXXXX")"
registry_pid=""
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "consumer-check: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
started=$SECONDS
phase() { echo "consumer-check: [$((SECONDS - started)) s] $*"; }

phase "npm draws no warning from the repository's own config (.npmrc, package.json allowScripts)"
if (cd "$root" && npm install --no-audit --no-fund --dry-run 2>&1 >/dev/null; npm config get registry 2>&1 >/dev/null) | grep -i "warn"; then
  echo "consumer-check: npm warns about the repository's config (above)"; exit 1
fi

phase "build and pack every package"
(cd "$root" && npx tsc -b tsconfig.build.json)
mkdir -p "$work/tarballs"
(cd "$root" && npm pack --workspaces --pack-destination "$work/tarballs" --silent >/dev/null)
node "$here/check-tarballs.mjs" "$root" "$work/tarballs"

node "$here/registry.mjs" "$work/tarballs" "$work/port" &
registry_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "consumer-check: the local registry did not start"; exit 1; }
# The scope's registry as a user would configure it, in npm's global config (a copy of the machine's, if
# any); the user's own config and npm's cache stay as they are, though HOME changes below.
global="$(npm config get globalconfig)"
{ [ -f "$global" ] && cat "$global"; echo "@sparse-ift:registry=http://127.0.0.1:$(cat "$work/port")/"; } > "$work/npmrc"
export npm_config_globalconfig="$work/npmrc" npm_config_userconfig="$(npm config get userconfig)" npm_config_cache="$(npm config get cache)"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
# Data the examples read from the user's home (Fashion-MNIST's download cache, token caches): a fresh one.
export HOME="$work/home"
mkdir -p "$HOME"

phase "README install lines, as written"
project="$work/examples"
mkdir -p "$project"
cd "$project"
npm init -y >/dev/null
npm pkg set type=module
node "$here/extract.mjs" "$root" "$project" > examples.txt
cat examples.txt
# The native addon's build is refused here (it is compiled in the quick start below), so the backend
# example shows how an install-time failure is reported at first use.
SPARSE_IFT_SKIP_NATIVE=1 bash install.sh

phase "type-check the README examples"
npm i --no-save --silent typescript@~5.9 @types/node@^20
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "lib": ["ES2022"], "types": ["node"],
    "strict": true, "skipLibCheck": true, "rootDir": "examples", "outDir": "out"
  },
  "include": ["examples"]
}
JSON
npx tsc -p tsconfig.json

phase "run the README examples on the test's data"
(cd "$root" && npx tsx tools/consumer-check/fixtures.ts "$project")
cp -r "$project/home/." "$HOME/"
while read -r file source; do
  js="out/$(basename "$file" .ts).js"
  t0=$SECONDS
  echo "consumer-check: node $js   # $source"
  if ! WIKITEXT_DIR=wikitext timeout 600 node "$js" > "$js.log" 2>&1; then
    tail -n 40 "$js.log"; echo "consumer-check: FAILED: $source"; exit 1
  fi
  tail -n 3 "$js.log" | sed 's/^/    /'
  echo "consumer-check:   ok in $((SECONDS - t0)) s"
done < examples.txt

grep -F "native addon: not built when the package was installed: SPARSE_IFT_SKIP_NATIVE=1" out/backend-1.js.log \
  || { echo "consumer-check: the backend example did not report why the native addon is missing"; exit 1; }
# The model core's README example exported, evaluated by the installed CLI.
npx sift evaluate sparse-mlp-export --limit 500 | tee evaluate.log
grep -q "^accuracy: " evaluate.log

phase "the README's consumer quick start, as written, in a fresh folder"
mkdir -p "$work/quickstart"
cd "$work/quickstart"
bash "$project/quickstart.sh"

phase "done: every README example and the quick start ran outside the workspace"
