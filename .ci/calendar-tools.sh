#!/usr/bin/env bash
# Makes sure libical's Python bindings are there for ../shared/tools/check-invite (its RFC 5546 checks) and the
# calendar tests: installs Debian's python3-gi and gir1.2-ical-3.0 when they cannot be imported; and Python's
# `icalendar` (PyPI) for the python3 on PATH, the second independent reader the calendar tests check our VTIMEZONE
# blocks and RFC 6868 names with (libs/calendar/tests/zones.rs, itip.rs). Idempotent; fails — never skips — if
# either still cannot be imported afterwards.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# check-invite runs under /usr/bin/python3 (its #! line); a python3 earlier on PATH (pyenv, venv) does not see
# Debian's python3-gi, so ask the system interpreter when there is one.
python=/usr/bin/python3
[ -x "$python" ] || python=python3

have_libical() { "$python" -c 'import gi; gi.require_version("ICalGLib", "3.0")' >/dev/null 2>&1; }

if have_libical; then
  echo "libical bindings present ($python)"
else
  echo "installing python3-gi and gir1.2-ical-3.0 from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-gi gir1.2-ical-3.0 >/dev/null

  if ! have_libical; then
    echo "libical's Python bindings still cannot be imported by $python" >&2
    exit 1
  fi
  echo "libical bindings installed ($python)"
fi

# Python icalendar for the python3 on PATH (the tests run it as `python3`, or $CLOVERLEAF_PYTHON). Debian's
# python3-icalendar is 4.x, too old for Timezone.to_tz; PyPI has the current one.
ical_python=${CLOVERLEAF_PYTHON:-python3}
have_icalendar() { "$ical_python" -c 'import icalendar; icalendar.Timezone.to_tz' >/dev/null 2>&1; }
if have_icalendar; then
  echo "icalendar present ($("$ical_python" -c 'import icalendar; print(icalendar.__version__)'))"
  exit 0
fi
echo "installing icalendar from PyPI into $(command -v "$ical_python")"
# A Debian system python refuses pip installs into its own site-packages (PEP 668); a user install is then the
# least intrusive way.
"$ical_python" -m pip install --quiet icalendar \
  || "$ical_python" -m pip install --quiet --user icalendar \
  || "$ical_python" -m pip install --quiet --user --break-system-packages icalendar
if ! have_icalendar; then
  echo "icalendar still cannot be imported by $ical_python" >&2
  exit 1
fi
echo "icalendar installed ($("$ical_python" -c 'import icalendar; print(icalendar.__version__)'))"
