#!/usr/bin/env bash
# Makes sure libical's Python bindings are there for ../shared/tools/check-invite (its RFC 5546 checks) and the
# calendar tests: installs Debian's python3-gi and gir1.2-ical-3.0 when they cannot be imported. Idempotent; fails —
# never skips — if they still cannot be imported afterwards.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# check-invite runs under /usr/bin/python3 (its #! line); a python3 earlier on PATH (pyenv, venv) does not see
# Debian's python3-gi, so ask the system interpreter when there is one.
python=/usr/bin/python3
[ -x "$python" ] || python=python3

have_libical() { "$python" -c 'import gi; gi.require_version("ICalGLib", "3.0")' >/dev/null 2>&1; }

if have_libical; then
  echo "libical bindings present ($python)"
  exit 0
fi

echo "installing python3-gi and gir1.2-ical-3.0 from Debian's packages"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-gi gir1.2-ical-3.0 >/dev/null

if ! have_libical; then
  echo "libical's Python bindings still cannot be imported by $python" >&2
  exit 1
fi
echo "libical bindings installed ($python)"
