//! Writes a sample feed with two zones to stdout: `cargo run -p cloverleaf-calendar --example sample_feed`.

use std::io::Write as _;

use chrono::{TimeZone as _, Utc};
use cloverleaf_calendar::{Calendar, CalendarEvent, EventStatus, Method, Person};

fn main() -> std::io::Result<()> {
    let at = |y, mo, d, h, mi| {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap_or_default()
    };
    let organiser = Person::new("Dr. Anna Müller", "anna.mueller@example.org");
    let event = |uid: &str, start, end, tz, summary: &str, location: &str| CalendarEvent {
        end_timezone: None,
        uid: uid.to_owned(),
        sequence: 0,
        dtstamp: at(2026, 2, 1, 12, 0),
        starts_at: start,
        ends_at: end,
        timezone: tz,
        summary: summary.to_owned(),
        description: Some(
            "Bus leaves at 08:30 sharp; bring your passport, please.\nLunch included.".to_owned(),
        ),
        location: Some(location.to_owned()),
        url: Some("https://events.example.org/e/sino-german-tour".to_owned()),
        organizer: Some(organiser.clone()),
        attendees: Vec::new(),
        status: Some(EventStatus::Confirmed),
        created: None,
        last_modified: None,
        categories: vec!["visit".to_owned()],
    };
    let calendar = Calendar {
        method: Method::Publish,
        name: Some("Sino-German delegation tour 2026".to_owned()),
        events: vec![
            event(
                "item-1@cloverleaf.example.org",
                at(2026, 3, 30, 7, 0),
                at(2026, 3, 30, 9, 0),
                chrono_tz::Europe::Berlin,
                "Visit: Charité, Berlin",
                "Charitéplatz 1, 10117 Berlin",
            ),
            event(
                "item-2@cloverleaf.example.org",
                at(2026, 4, 2, 1, 30),
                at(2026, 4, 2, 3, 30),
                chrono_tz::Asia::Shanghai,
                "中德个性化医学合作研讨会",
                "上海交通大学医学院，重庆南路227号",
            ),
        ],
    };
    std::io::stdout().write_all(calendar.to_ics().as_bytes())
}
