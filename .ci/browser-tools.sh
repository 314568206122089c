#!/usr/bin/env bash
# Makes sure headless Chromium and its WebDriver are there for the portal's browser tests (tests/tests/browser.rs):
# Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver), and a font with Chinese
# characters (`fonts-wqy-zenhei`) so the screenshots of the Chinese pages are readable. Idempotent: apt runs only when
# one of them is missing. Fails — never skips — if they still cannot be run afterwards; the tests fail the same way
# when they are missing, since CI installs them here.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

chromium=${CLOVERLEAF_CHROMIUM:-/usr/bin/chromium}
chromedriver=${CLOVERLEAF_CHROMEDRIVER:-/usr/bin/chromedriver}

have_browser() { [ -x "$chromium" ] && [ -x "$chromedriver" ]; }
have_cjk_font() { command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh family 2>/dev/null | head -1)" ]; }

if have_browser && have_cjk_font; then
  echo "chromium present: $("$chromium" --version 2>/dev/null || echo "$chromium"); $("$chromedriver" --version 2>/dev/null | head -1)"
  exit 0
fi

echo "installing chromium, chromium-driver and fonts-wqy-zenhei from Debian's packages"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-zenhei >/dev/null

if ! have_browser; then
  echo "chromium ($chromium) or chromedriver ($chromedriver) still missing after installing" >&2
  exit 1
fi
echo "chromium installed: $("$chromium" --version 2>/dev/null || echo "$chromium"); $("$chromedriver" --version 2>/dev/null | head -1)"
