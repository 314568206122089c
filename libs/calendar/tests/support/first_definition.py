"""A calendar client's mailbox, as libical (Evolution) keeps it: reads iTIP messages (.ics files) in the order
given and resolves every DTSTART/DTEND with the FIRST VTIMEZONE it has seen for that TZID, as clients that store a
zone once do. Prints one line per event of every message: file, UID, SEQUENCE, then DTSTART and DTEND as Unix times.

Run under the interpreter check-invite uses (Debian's python3 with python3-gi and gir1.2-ical-3.0).
"""
import sys

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib as I

kept = {}  # TZID -> the first libical timezone seen with it
for path in sys.argv[1:]:
    cal = I.Component.new_from_string(open(path, encoding="utf-8").read())
    if cal is None:
        sys.exit(f"libical cannot parse {path}")
    vtz = cal.get_first_component(I.ComponentKind.VTIMEZONE_COMPONENT)
    while vtz is not None:
        tzid = vtz.get_first_property(I.PropertyKind.TZID_PROPERTY).get_tzid()
        if tzid not in kept:
            zone = I.Timezone.new()
            zone.set_component(vtz.clone())
            kept[tzid] = zone
        vtz = cal.get_next_component(I.ComponentKind.VTIMEZONE_COMPONENT)
    ev = cal.get_first_component(I.ComponentKind.VEVENT_COMPONENT)
    while ev is not None:
        out = [path.rsplit("/", 1)[-1], ev.get_uid(), str(ev.get_sequence())]
        for kind in (I.PropertyKind.DTSTART_PROPERTY, I.PropertyKind.DTEND_PROPERTY):
            prop = ev.get_first_property(kind)
            param = prop.get_first_parameter(I.ParameterKind.TZID_PARAMETER)
            value = prop.get_dtstart() if kind == I.PropertyKind.DTSTART_PROPERTY else prop.get_dtend()
            if param is None:
                out.append(str(value.as_timet()))
            else:
                zone = kept[param.get_tzid()]
                out.append(str(value.as_timet_with_zone(zone)))
        print(" ".join(out))
        ev = cal.get_next_component(I.ComponentKind.VEVENT_COMPONENT)
