"""Python `icalendar` (PyPI) reads a calendar's local times through the calendar's own VTIMEZONE blocks (never its
bundled zone data: `to_tz(lookup_tzid=False)`). Prints one line per VEVENT: UID, then DTSTART and DTEND as Unix
times, and first a line `version X` with the package's version.
"""
import sys

import icalendar

print("version", icalendar.__version__)
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
zones = {str(vtz["TZID"]): vtz.to_tz(lookup_tzid=False) for vtz in cal.walk("VTIMEZONE")}
for ev in cal.walk("VEVENT"):
    out = [str(ev["UID"])]
    for name in ("DTSTART", "DTEND"):
        prop = ev[name]
        tzid = prop.params.get("TZID")
        if tzid:
            zone = zones[tzid]
            naive = prop.dt.replace(tzinfo=None)
            aware = zone.localize(naive) if hasattr(zone, "localize") else naive.replace(tzinfo=zone)
        else:
            aware = prop.dt
        out.append(str(int(aware.timestamp())))
    print(" ".join(out))
