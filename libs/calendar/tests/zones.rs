//! One VTIMEZONE per zone across messages: a moved event stays right in a client that keeps the first definition of
//! a TZID it saw (libical, and so Evolution), every calendar carries the same bytes for a zone, and libical and
//! Python `icalendar` read every time from 2020 to 2040 right through them in the zones the programmes use.

#![cfg(feature = "email")]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, Offset as _, TimeZone as _, Utc};
use chrono_tz::{America, Asia, Europe, Tz};
use cloverleaf_calendar::email::{EmailContent, invite_message};
use cloverleaf_calendar::{Calendar, CalendarEvent, EventStatus, Method, Person, vtimezone};
use support::{assert_checker_passes, assert_wire_format, at, event};

/// The zones the programmes use: Europe/Dublin has a negative save in the zone data, Asia/Shanghai had summer
/// time 1986–1991 and none since, Asia/Tokyo none since 1951.
const ZONES: [Tz; 9] = [
    Europe::Berlin,
    Europe::Brussels,
    Europe::Copenhagen,
    Europe::Rome,
    Europe::Dublin,
    Asia::Shanghai,
    Asia::Tokyo,
    America::New_York,
    Tz::UTC,
];

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the file");
    path
}

fn zhang_wei() -> Person {
    Person::new("张伟", "zhang.wei@example.cn")
}

fn office() -> Person {
    Person::new("Sino-EU PerMed Office", "office@permed.example.org")
}

/// The science and technology webinar in Brussels, as one attendee's invite of the given version.
fn webinar(method: Method, sequence: u32, starts_at: DateTime<Utc>) -> Calendar {
    let mut e = event(
        "webinar-1@cloverleaf.test",
        starts_at,
        Europe::Brussels,
        "Sino-EU PerMed science and technology webinar",
    );
    e.sequence = sequence;
    e.dtstamp = at(2027, 9, 1, 12, 0) + Duration::days(i64::from(sequence));
    e.organizer = Some(office());
    e.attendees = vec![zhang_wei()];
    if method == Method::Cancel {
        e.status = Some(EventStatus::Cancelled);
    }
    Calendar {
        method,
        name: None,
        events: vec![e],
    }
}

/// The VTIMEZONE block of `tzid` in a calendar's text.
fn block<'a>(ics: &'a str, tzid: &str) -> &'a str {
    let head = format!("BEGIN:VTIMEZONE\r\nTZID:{tzid}\r\n");
    let start = ics
        .find(&head)
        .unwrap_or_else(|| panic!("no VTIMEZONE {tzid} in\n{ics}"));
    let end = start
        + ics[start..]
            .find("END:VTIMEZONE\r\n")
            .expect("END:VTIMEZONE");
    &ics[start..end + "END:VTIMEZONE\r\n".len()]
}

/// Runs a helper script from `tests/support` under `python` and returns its standard output.
fn run_python(python: &str, script: &str, args: &[&Path], install_hint: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(script);
    let output = Command::new(python)
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        output.status.success(),
        "{} under {python} failed ({install_hint}):\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Issue 15 item 9: the invite put the webinar at 10:00 summer time, the update moved it past the end of summer
/// time to 10:00 winter time (09:00Z). A client that keeps the first definition of Europe/Brussels it saw placed the
/// update at 08:00Z when each message carried a definition cut down to its own dates.
#[test]
fn a_moved_webinar_is_placed_right_by_a_client_that_keeps_the_first_definition() {
    let first = at(2027, 10, 21, 8, 0); // 10:00 CEST
    let moved = at(2027, 11, 4, 9, 0); // 10:00 CET, after the switch on 31 October
    let request = webinar(Method::Request, 0, first);
    let update = webinar(Method::Request, 1, moved);
    let cancel = webinar(Method::Cancel, 2, moved);
    for calendar in [&request, &update, &cancel] {
        assert_eq!(calendar.problems(), Vec::<String>::new());
    }
    assert!(
        update
            .to_ics()
            .contains("\r\nDTSTART;TZID=Europe/Brussels:20271104T100000\r\n")
    );

    let dir = tempdir();
    let files = [
        write(dir.path(), "1-request.ics", &request.to_ics()),
        write(dir.path(), "2-update.ics", &update.to_ics()),
        write(dir.path(), "3-cancel.ics", &cancel.to_ics()),
    ];
    let args: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let read = run_python(
        &support::checker_python(),
        "first_definition.py",
        &args,
        "run .ci/calendar-tools.sh to install python3-gi and gir1.2-ical-3.0",
    );
    let expected = [
        ("1-request.ics", 0, first),
        ("2-update.ics", 1, moved),
        ("3-cancel.ics", 2, moved),
    ]
    .map(|(file, sequence, start)| {
        format!(
            "{file} webinar-1@cloverleaf.test {sequence} {} {}",
            start.timestamp(),
            (start + Duration::hours(2)).timestamp()
        )
    });
    assert_eq!(
        read.lines().collect::<Vec<_>>(),
        expected,
        "libical keeping the first Europe/Brussels definition (09:00Z = {})",
        moved.timestamp()
    );

    // The same three as emails, one attendee's mailbox over time: check-invite --series requires one identical
    // VTIMEZONE per TZID across them.
    let mut emails = Vec::new();
    for (name, calendar, subject) in [
        ("1-request.eml", &request, "Invitation: webinar"),
        ("2-update.eml", &update, "Updated: the webinar moved"),
        ("3-cancel.eml", &cancel, "Cancelled: webinar"),
    ] {
        let content = EmailContent {
            subject: subject.to_owned(),
            text: format!("{subject}\n"),
            html: format!("<p>{subject}</p>"),
            inline_images: Vec::new(),
        };
        let message = invite_message(
            &office(),
            &zhang_wei(),
            &content,
            calendar,
            false,
            "mail.cloverleaf.test",
        )
        .expect("an invite");
        emails.push(write(
            dir.path(),
            name,
            &String::from_utf8_lossy(&message.formatted()),
        ));
    }
    let mut args: Vec<&Path> = vec![Path::new("--series")];
    args.extend(emails.iter().map(PathBuf::as_path));
    assert_checker_passes(&args);
}

/// Whatever the events and their dates, a zone's block is the same bytes: in invites years apart, in a feed with
/// many events and other zones, and from [`vtimezone`] itself.
#[test]
fn every_calendar_carries_the_same_definition_of_a_zone() {
    let dates = [
        at(2020, 1, 15, 9, 0),
        at(2026, 3, 29, 0, 30),
        at(2027, 7, 1, 12, 0),
        at(2027, 10, 31, 0, 30),
        at(2040, 12, 31, 20, 0),
    ];
    for tz in ZONES.into_iter().filter(|tz| *tz != Tz::UTC) {
        let definition = vtimezone(tz);
        assert_wire_format(&definition);
        assert!(definition.starts_with(&format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", tz.name())));
        for (n, starts_at) in dates.iter().enumerate() {
            let mut e = event(&format!("e{n}@cloverleaf.test"), *starts_at, tz, "x");
            e.attendees = vec![zhang_wei()];
            let invite = Calendar {
                method: Method::Request,
                name: None,
                events: vec![e],
            }
            .to_ics();
            assert_eq!(
                block(&invite, tz.name()),
                &*definition,
                "{} on {starts_at}",
                tz.name()
            );
        }
        let feed = Calendar {
            method: Method::Publish,
            name: None,
            events: ZONES
                .iter()
                .flat_map(|zone| {
                    dates
                        .iter()
                        .map(move |d| event(&format!("{}-{d}", zone.name()), *d, *zone, "x"))
                })
                .collect(),
        }
        .to_ics();
        assert_eq!(
            block(&feed, tz.name()),
            &*definition,
            "{} in a feed",
            tz.name()
        );
        assert_eq!(
            feed.matches("BEGIN:VTIMEZONE\r\n").count(),
            ZONES.len() - 1,
            "one block per zone, none for UTC"
        );
    }
}

/// Every transition of `tz` in [from, to), from the zone data, found hour by hour.
fn transitions(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    let mut found = Vec::new();
    let mut t = from;
    while t < to {
        let next = t + Duration::hours(1);
        if offset(next) != offset(t) {
            found.push(next);
        }
        t = next;
    }
    found
}

/// Probes for every zone: every 9 days and 7 hours from 2020 to 2040, and four around each transition of those
/// years (half an hour and an hour and a half either side; those inside a repeated hour are written in UTC).
fn probes() -> Vec<CalendarEvent> {
    let (from, to) = (at(2020, 1, 1, 0, 0), at(2041, 1, 1, 0, 0));
    let mut events = Vec::new();
    for tz in ZONES {
        let mut starts: Vec<DateTime<Utc>> = Vec::new();
        let mut t = from;
        while t < to {
            starts.push(t);
            t += Duration::hours(9 * 24 + 7);
        }
        for switch in transitions(tz, from, to) {
            for minutes in [-90, -30, 30, 90] {
                starts.push(switch + Duration::minutes(minutes));
            }
        }
        for (n, starts_at) in starts.into_iter().enumerate() {
            let mut e = event(&format!("{}-{n}", tz.name()), starts_at, tz, "probe");
            e.ends_at = starts_at + Duration::minutes(45);
            events.push(e);
        }
    }
    events
}

fn expected_lines(events: &[CalendarEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e.uid,
                e.starts_at.timestamp(),
                e.ends_at.timestamp()
            )
        })
        .collect()
}

/// Compares line by line, naming the first few events read wrong with their zone and time.
fn assert_read_back(reader: &str, read: &[&str], events: &[CalendarEvent]) {
    let expected = expected_lines(events);
    assert_eq!(read.len(), expected.len(), "{reader} read every event");
    let wrong: Vec<String> = read
        .iter()
        .zip(&expected)
        .zip(events)
        .filter(|((got, want), _)| got != want)
        .map(|((got, want), e)| {
            format!(
                "{} at {}: read {got:?}, meant {want:?}",
                e.timezone.name(),
                e.starts_at
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{reader} reads {} of {} times wrong, e.g.\n{}",
        wrong.len(),
        events.len(),
        wrong[..wrong.len().min(10)].join("\n")
    );
}

#[test]
fn libical_reads_every_zone_right_from_2020_to_2040() {
    let events = probes();
    let calendar = Calendar {
        method: Method::Publish,
        name: None,
        events,
    };
    let dir = tempdir();
    let path = write(dir.path(), "probes.ics", &calendar.to_ics());
    const SCRIPT: &str = r#"
import sys, gi
gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib as I
cal = I.Component.new_from_string(open(sys.argv[1], encoding="utf-8").read())
ev = cal.get_first_component(I.ComponentKind.VEVENT_COMPONENT)
while ev is not None:
    out = [ev.get_uid()]
    for t in (ev.get_dtstart(), ev.get_dtend()):
        z = t.get_timezone()
        out.append(str(t.as_timet_with_zone(z) if z else t.as_timet()))
    print(" ".join(out))
    ev = cal.get_next_component(I.ComponentKind.VEVENT_COMPONENT)
"#;
    let python = support::checker_python();
    let output = Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        output.status.success(),
        "libical via {python} failed (run .ci/calendar-tools.sh):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_read_back(
        "libical",
        &stdout.lines().collect::<Vec<_>>(),
        &calendar.events,
    );
}

/// The interpreter with Python `icalendar` (PyPI): `$CLOVERLEAF_PYTHON`, else `python3` on PATH, where
/// `.ci/calendar-tools.sh` installs it.
fn icalendar_python() -> String {
    std::env::var("CLOVERLEAF_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

#[test]
fn python_icalendar_reads_every_zone_right_from_2020_to_2040() {
    let calendar = Calendar {
        method: Method::Publish,
        name: None,
        events: probes(),
    };
    let dir = tempdir();
    let path = write(dir.path(), "probes.ics", &calendar.to_ics());
    let stdout = run_python(
        &icalendar_python(),
        "python_icalendar_times.py",
        &[&path],
        "run .ci/calendar-tools.sh to install icalendar from PyPI",
    );
    let mut lines = stdout.lines();
    let version = lines.next().unwrap_or_default();
    assert!(version.starts_with("version "), "{version}");
    assert_read_back(
        &format!("Python icalendar {version}"),
        &lines.collect::<Vec<_>>(),
        &calendar.events,
    );
}
