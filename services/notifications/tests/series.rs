//! One attendee's mailbox through a move across the end of summer time (issue 15 items 9 and 10), end to end inside
//! the services: real scheduling and registration, notifications sending through a real SMTP server. Every invite
//! carries the same VTIMEZONE for the zone (`check-invite --series` requires it), so a client that keeps the first
//! definition of a TZID it saw (libical, and so Evolution) still places the moved webinar right; and a name with
//! double quotes keeps them in the invite's CN (RFC 6868). On SQLite, or on PostgreSQL when
//! CLOVERLEAF_TEST_DATABASE_URL is set.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration as Span, TimeZone as _, Utc};
use cloverleaf_service_kit::testing::check_invite;
use reqwest::Method;
use serde_json::json;
use support::{System, calendar_of, property};

/// The interpreter check-invite runs under, which has Debian's libical bindings.
fn libical_python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Invite at 10:00 summer time → moved two weeks on, past the end of summer time, to 10:00 winter time → an agenda
/// item added → cancelled. Each calendar part, read in order by libical keeping the first definition of
/// Europe/Brussels, gives the times meant; before the fix the update read 08:00Z instead of 09:00Z.
#[tokio::test]
async fn a_move_across_the_end_of_summer_time_reads_right_in_every_message() {
    let system = System::start().await;
    let starts = Utc
        .with_ymd_and_hms(2027, 10, 21, 8, 0, 0) // 10:00 CEST in Brussels
        .single()
        .expect("date");
    let moved = Utc
        .with_ymd_and_hms(2027, 11, 4, 9, 0, 0) // 10:00 CET, after the switch on 31 October
        .single()
        .expect("date");
    let event = system
        .published_event(
            "webinar",
            "Science and technology webinar",
            "Europe/Brussels",
            starts,
            json!({ "capacity": 50, "waitlist": true, "approval": "automatic" }),
        )
        .await;
    let to = "ann.oneil@example.org";
    let registered = system
        .register(
            &event,
            to,
            "Ann \"Nan\" O'Neil",
            json!({ "locale": "en", "timezone": "Europe/Dublin" }),
        )
        .await;
    assert_eq!(registered["status"], "confirmed");
    system.wait_for(to, 1).await;

    system
        .schedule(
            Method::PATCH,
            &format!("/v1/events/{event}"),
            json!({ "starts_at": moved.to_rfc3339(), "ends_at": (moved + Span::hours(2)).to_rfc3339() }),
        )
        .await;
    system.wait_for(to, 2).await;

    system
        .schedule(Method::POST, &format!("/v1/events/{event}/items"), json!({
            "kind": "talk", "title": "Keynote: federated cohorts",
            "starts_at": (moved + Span::minutes(10)).to_rfc3339(), "ends_at": (moved + Span::minutes(50)).to_rfc3339(),
        }))
        .await;
    system.wait_for(to, 3).await;

    system
        .schedule(
            Method::POST,
            &format!("/v1/events/{event}/cancel"),
            json!({ "reason": "Speaker unavailable" }),
        )
        .await;
    let mailbox = system.wait_for(to, 4).await;

    let report = check_invite(&mailbox, true);
    assert!(report.contains("4 passed, 0 failed"), "{report}");

    // The calendar parts with CRLF line ends as sent (the test's mail store and reader may hand back bare LFs).
    let calendars: Vec<String> = mailbox
        .iter()
        .map(|m| {
            calendar_of(m)
                .expect("an invite in every email")
                .replace("\r\n", "\n")
                .replace('\n', "\r\n")
        })
        .collect();
    let methods: Vec<String> = calendars
        .iter()
        .map(|c| property(c, "METHOD").expect("METHOD"))
        .collect();
    assert_eq!(methods, ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]);
    assert!(
        calendars[1].contains("DTSTART;TZID=Europe/Brussels:20271104T100000"),
        "{}",
        calendars[1]
    );
    // One definition of the zone, byte for byte, in every message: the zone's full one.
    let definition = cloverleaf_calendar::vtimezone(chrono_tz::Europe::Brussels);
    for calendar in &calendars {
        assert_eq!(calendar.matches("BEGIN:VTIMEZONE").count(), 1, "{calendar}");
        assert!(calendar.contains(&*definition), "{calendar}");
    }
    // RFC 6868: the double quotes of her name are ^' inside the quoted CN, not turned into single quotes.
    for calendar in &calendars {
        let unfolded = calendar.replace("\r\n ", "");
        assert!(
            unfolded.contains("ATTENDEE;CN=\"Ann ^'Nan^' O'Neil\";"),
            "{unfolded}"
        );
    }

    // A client that keeps the first definition of a TZID reads each message's times.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let files: Vec<PathBuf> = calendars
        .iter()
        .enumerate()
        .map(|(n, calendar)| {
            let path = dir.path().join(format!("{}.ics", n + 1));
            std::fs::write(&path, calendar).expect("write the calendar");
            path
        })
        .collect();
    let helper = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../libs/calendar/tests/support/first_definition.py");
    let output = Command::new(libical_python())
        .arg(&helper)
        .args(&files)
        .output()
        .expect("run libical");
    assert!(
        output.status.success(),
        "libical failed (run .ci/calendar-tools.sh):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = String::from_utf8_lossy(&output.stdout);
    let starts_read: Vec<i64> = read
        .lines()
        .map(|line| {
            line.split(' ')
                .nth(3)
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("a start time in {line:?}"))
        })
        .collect();
    assert_eq!(
        starts_read,
        [
            starts.timestamp(),
            moved.timestamp(),
            moved.timestamp(),
            moved.timestamp()
        ],
        "libical keeping the first Europe/Brussels definition:\n{read}"
    );
}
