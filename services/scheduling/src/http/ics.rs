//! Calendar text whose entries may end in another zone than they start in (a flight from Berlin lands in
//! Guangzhou; a tour from Berlin ends in Nanjing): DTEND is written with the end zone's TZID, and the calendar
//! carries a VTIMEZONE for every zone a DTSTART or a DTEND names.
//!
//! Only `cloverleaf_calendar`'s public API is used: the VCALENDAR envelope comes from [`Calendar::to_ics`], each
//! VTIMEZONE from [`vtimezone`] and each VEVENT from [`CalendarEvent::to_vevent`], whose DTEND line is replaced when
//! the end zone differs. A calendar whose entries all end in their start zone is exactly `Calendar::to_ics`.

use std::collections::BTreeMap;

use chrono::{DateTime, LocalResult, TimeZone as _, Utc};
use chrono_tz::Tz;
use cloverleaf_calendar::{Calendar, CalendarEvent, Method, vtimezone};

/// One entry and the zone its end belongs to.
#[derive(Debug, Clone)]
pub struct Entry {
    pub event: CalendarEvent,
    pub end_zone: Tz,
}

const END: &str = "END:VCALENDAR\r\n";

/// The whole VCALENDAR (CRLF line ends), deterministic like [`Calendar::to_ics`].
pub fn render(method: Method, name: Option<String>, entries: Vec<Entry>) -> String {
    if entries.iter().all(|e| e.end_zone == e.event.timezone) {
        return Calendar {
            method,
            name,
            events: entries.into_iter().map(|e| e.event).collect(),
        }
        .to_ics();
    }
    let envelope = Calendar {
        method,
        name,
        events: Vec::new(),
    }
    .to_ics();
    let mut out = envelope.strip_suffix(END).unwrap_or(&envelope).to_owned();
    for (tz, from, to) in zone_spans(&entries).into_values() {
        out.push_str(&vtimezone(tz, from, to));
    }
    for entry in &entries {
        let vevent = entry.event.to_vevent();
        if entry.end_zone == entry.event.timezone {
            out.push_str(&vevent);
        } else {
            out.push_str(&with_dtend(&vevent, entry.event.ends_at, entry.end_zone));
        }
    }
    out.push_str(END);
    out
}

/// Every zone a DTSTART or DTEND names (UTC ones need none), each covering the entries that use it.
fn zone_spans(entries: &[Entry]) -> BTreeMap<&'static str, (Tz, DateTime<Utc>, DateTime<Utc>)> {
    let mut spans: BTreeMap<&'static str, (Tz, DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for entry in entries {
        let first = entry.event.starts_at.min(entry.event.ends_at);
        let last = entry.event.starts_at.max(entry.event.ends_at);
        for tz in [entry.event.timezone, entry.end_zone] {
            if is_utc(tz) {
                continue;
            }
            spans
                .entry(tz.name())
                .and_modify(|(_, from, to)| {
                    *from = (*from).min(first);
                    *to = (*to).max(last);
                })
                .or_insert((tz, first, last));
        }
    }
    spans
}

/// The VEVENT with its DTEND written in `zone`.
fn with_dtend(vevent: &str, ends_at: DateTime<Utc>, zone: Tz) -> String {
    let line = dtend(ends_at, zone);
    vevent
        .split_inclusive("\r\n")
        .map(|l| {
            if l.starts_with("DTEND;") || l.starts_with("DTEND:") {
                format!("{line}\r\n")
            } else {
                l.to_owned()
            }
        })
        .collect()
}

/// `DTEND;TZID=<zone>:<local time>`; a UTC time (`…Z`) for UTC zones and for a local time the clocks pass twice or
/// skip, as the calendar library writes DTSTART (only a UTC time then means the same instant to every reader).
fn dtend(at: DateTime<Utc>, zone: Tz) -> String {
    let utc = || format!("DTEND:{}", at.format("%Y%m%dT%H%M%SZ"));
    if is_utc(zone) {
        return utc();
    }
    let local = at.with_timezone(&zone).naive_local();
    match zone.from_local_datetime(&local) {
        LocalResult::Single(_) => format!(
            "DTEND;TZID={}:{}",
            zone.name(),
            local.format("%Y%m%dT%H%M%S")
        ),
        LocalResult::Ambiguous(..) | LocalResult::None => utc(),
    }
}

fn is_utc(tz: Tz) -> bool {
    matches!(
        tz.name(),
        "UTC"
            | "Etc/UTC"
            | "Etc/UCT"
            | "UCT"
            | "Etc/Universal"
            | "Universal"
            | "Etc/Zulu"
            | "Zulu"
            | "GMT"
            | "Etc/GMT"
            | "Etc/GMT0"
            | "Etc/GMT+0"
            | "Etc/GMT-0"
            | "GMT0"
            | "GMT+0"
            | "GMT-0"
            | "Etc/Greenwich"
            | "Greenwich"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flight() -> Entry {
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("time");
        Entry {
            event: CalendarEvent {
                uid: "flight@cloverleaf".into(),
                sequence: 0,
                dtstamp: at("2027-05-01T00:00:00Z"),
                starts_at: at("2027-05-11T12:00:00Z"),
                ends_at: at("2027-05-12T06:40:00Z"),
                timezone: chrono_tz::Europe::Berlin,
                summary: "Flight BER → CAN".into(),
                description: None,
                location: None,
                url: None,
                organizer: None,
                attendees: Vec::new(),
                status: None,
                created: None,
                last_modified: None,
                categories: Vec::new(),
            },
            end_zone: chrono_tz::Asia::Shanghai,
        }
    }

    #[test]
    fn the_end_is_written_in_its_own_zone_with_its_vtimezone() {
        let ics = render(Method::Publish, None, vec![flight()]);
        assert!(
            ics.contains("DTSTART;TZID=Europe/Berlin:20270511T140000\r\n"),
            "{ics}"
        );
        assert!(
            ics.contains("DTEND;TZID=Asia/Shanghai:20270512T144000\r\n"),
            "{ics}"
        );
        assert!(ics.contains("TZID:Asia/Shanghai\r\n") && ics.contains("TZID:Europe/Berlin\r\n"));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
        assert_eq!(ics.matches("END:VCALENDAR").count(), 1);
        let mut same = flight();
        same.end_zone = chrono_tz::Europe::Berlin;
        assert_eq!(
            render(Method::Publish, None, vec![same.clone()]),
            Calendar {
                method: Method::Publish,
                name: None,
                events: vec![same.event]
            }
            .to_ics()
        );
    }
}
