#!/usr/bin/env bash
# Makes sure Python's aiosmtpd is importable by the python3 on PATH: the notifications delivery tests run a real SMTP
# server with it (libs/service-kit/testing/smtp_server.py). Idempotent; fails — never skips — if it still cannot
# be imported afterwards.
set -euo pipefail

python=python3

have_aiosmtpd() { "$python" -c 'import aiosmtpd' >/dev/null 2>&1; }

if have_aiosmtpd; then
  echo "aiosmtpd present ($("$python" -c 'import aiosmtpd; print(aiosmtpd.__version__)'))"
  exit 0
fi

echo "installing aiosmtpd from PyPI into $(command -v "$python")"
# A Debian system python refuses pip installs into its own site-packages (PEP 668); a user install is then the
# least intrusive way.
"$python" -m pip install --quiet aiosmtpd \
  || "$python" -m pip install --quiet --user aiosmtpd \
  || "$python" -m pip install --quiet --user --break-system-packages aiosmtpd

if ! have_aiosmtpd; then
  echo "aiosmtpd still cannot be imported by $python" >&2
  exit 1
fi
echo "aiosmtpd installed ($("$python" -c 'import aiosmtpd; print(aiosmtpd.__version__)'))"
