#!/usr/bin/env bash
# The whole test suite: typecheck, lint, then every vitest project (edge in workerd, node).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== typecheck"; npx tsc -p tsconfig.json; npx tsc -p console/tsconfig.json
echo "== lint"; npx biome check .
echo "== console build"; npx vite build -c console/vite.config.ts --logLevel warn
echo "== vitest"; npx vitest run "$@"
