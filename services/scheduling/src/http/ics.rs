//! Calendar text whose entries may end in another zone than they start in (a flight from Berlin lands in
//! Guangzhou; a tour from Berlin ends in Nanjing): each entry's DTEND is written in its end zone
//! ([`CalendarEvent::end_timezone`]), and the calendar carries a VTIMEZONE for every zone a DTSTART or DTEND names.

use cloverleaf_calendar::{Calendar, CalendarEvent, Method};

/// One entry and the zone its end belongs to.
#[derive(Debug, Clone)]
pub struct Entry {
    pub event: CalendarEvent,
    pub end_zone: chrono_tz::Tz,
}

/// The whole VCALENDAR (CRLF line ends), deterministic like [`Calendar::to_ics`].
pub fn render(method: Method, name: Option<String>, entries: Vec<Entry>) -> String {
    Calendar {
        method,
        name,
        events: entries
            .into_iter()
            .map(|e| CalendarEvent {
                end_timezone: (e.end_zone != e.event.timezone).then_some(e.end_zone),
                ..e.event
            })
            .collect(),
    }
    .to_ics()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn flight() -> Entry {
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("time");
        Entry {
            event: CalendarEvent {
                end_timezone: None,
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
