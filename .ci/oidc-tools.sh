#!/usr/bin/env bash
# The real OpenID provider the login tests start (tests/oidc-provider: panva/oidc-provider from the npm registry, an
# OpenID-certified implementation): Node.js and `npm ci` of its locked dependencies. Idempotent and quick once
# installed (the lock file's hash is kept beside node_modules); fails — never skips — if it still cannot run.
set -euo pipefail
cd "$(dirname "$0")/../tests/oidc-provider"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing Node.js and npm from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

stamp=node_modules/.cloverleaf-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d node_modules/oidc-provider ]; then
  echo "oidc-provider present ($(node -p 'require("./node_modules/oidc-provider/package.json").version'), node $(node --version))"
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
node -e 'import("oidc-provider").then(() => {})' \
  || { echo "oidc-provider cannot be loaded by $(command -v node)" >&2; exit 1; }
echo "oidc-provider installed ($(node -p 'require("./node_modules/oidc-provider/package.json").version'), node $(node --version))"
