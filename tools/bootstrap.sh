#!/usr/bin/env bash
# Runs a command with a Node >= 22.12 first on PATH and node_modules installed.
# Wrangler and workerd need Node >= 22.12; machines that still ship an older Node
# (e.g. Node 20) get node@24 from the npm registry into .cache/node24, once.
#   usage: bash tools/bootstrap.sh <command> [args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

node_is_recent() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)'
}

if ! node_is_recent; then
  local_bin="$root/.cache/node24/node_modules/.bin"
  if [ ! -x "$local_bin/node" ]; then
    echo "bootstrap: Node $(node --version 2>/dev/null || echo 'not found') is older than 22.12; installing node@24 into .cache/node24" >&2
    npm install --prefix "$root/.cache/node24" --no-audit --no-fund --loglevel=error node@24 >&2
  fi
  export PATH="$local_bin:$PATH"
fi

# npm ci, exactly the lock file. Registry mirrors that carry only this platform's builds of
# packages with per-platform optional dependencies (esbuild, workerd, biome) make npm ci
# refuse the lock ("Missing: @biomejs/cli-darwin-x64@ from lock file"): then fall back to
# npm install, which still takes the lock file's versions.
# npm ci's complaint goes to a log file, not the terminal: the fallback says so in one line.
install_deps() {
  mkdir -p "$root/.cache"
  local log="$root/.cache/npm-ci.log"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 && return 0
  echo "bootstrap: npm ci refused the lock file (details: .cache/npm-ci.log); installing with npm install" >&2
  (cd "$root" && npm install --no-audit --no-fund --no-save --loglevel=error) >&2
}

if [ "${1:-}" = "--install" ]; then
  shift
  install_deps
elif [ ! -f "$root/node_modules/.package-lock.json" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  echo "bootstrap: installing dependencies" >&2
  install_deps
fi

# Offline-friendly wrangler/miniflare: no cf.json download, no telemetry.
export CLOUDFLARE_CF_FETCH_ENABLED="${CLOUDFLARE_CF_FETCH_ENABLED:-false}"
export WRANGLER_SEND_METRICS="${WRANGLER_SEND_METRICS:-false}"
exec "$@"
