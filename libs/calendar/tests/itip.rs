//! Whole calendars: a feed and invites checked by `check-invite` (with libical), exact output, escaping, and
//! libical reading our local times back to the instants we meant.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Duration;
use chrono_tz::{Asia, Europe, Tz};
use cloverleaf_calendar::{Calendar, CalendarEvent, EventStatus, Method, Person};
use support::{
    assert_checker_passes, assert_wire_format, at, event, organiser, run_checker, unfold,
};

fn write(dir: &Path, name: &str, ics: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, ics).expect("write the .ics file");
    path
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// A tour feed over three zones plus an online item in UTC, with text that needs escaping and folding.
fn tour_feed() -> Calendar {
    let mut charite = event(
        "item-1@cloverleaf.test",
        at(2026, 3, 30, 7, 0),
        Europe::Berlin,
        "Visit: Charité, Berlin",
    );
    charite.description = Some("Bus leaves at 08:30 sharp; bring your passport.\r\nLunch included,\rdress code: business\n\\o/".to_owned());
    charite.location = Some("Charitéplatz 1, 10117 Berlin".to_owned());
    charite.url = Some("https://events.example.org/e/sino-german-tour#item-1".to_owned());
    charite.categories = vec!["visit".to_owned()];
    charite.created = Some(at(2026, 1, 15, 9, 0));
    charite.last_modified = Some(at(2026, 1, 20, 9, 0));

    let mut workshop = event(
        "item-2@cloverleaf.test",
        at(2026, 4, 2, 1, 30),
        Asia::Shanghai,
        &"中德个性化医学合作研讨会".repeat(4),
    );
    workshop.description =
        Some("议程：开幕致辞；主题报告，圆桌讨论。\n地点：上海交通大学医学院".repeat(3));
    workshop.location = Some("上海交通大学医学院，重庆南路227号".to_owned());
    workshop.categories = vec!["session".to_owned(), "workshop, with comma".to_owned()];

    let mut dinner = event(
        "item-3@cloverleaf.test",
        at(2026, 3, 28, 18, 30),
        Europe::London,
        "Dinner at the Royal Society; speeches",
    );
    dinner.status = Some(EventStatus::Tentative);
    dinner.location = Some("6–9 Carlton House Terrace, London".to_owned());

    let webinar = event(
        "item-4@cloverleaf.test",
        at(2026, 4, 10, 12, 0),
        Tz::UTC,
        "Follow-up webinar",
    );

    Calendar {
        method: Method::Publish,
        name: Some("Sino-German delegation tour 2026 — 中德代表团".to_owned()),
        events: vec![charite, workshop, dinner, webinar],
    }
}

fn invite(method: Method, sequence: u32, attendees: Vec<Person>) -> Calendar {
    let mut e = event(
        "evt-42@cloverleaf.test",
        at(2026, 4, 2, 1, 30),
        Asia::Shanghai,
        "中德个性化医学合作研讨会 — Workshop",
    );
    e.sequence = sequence;
    e.dtstamp = at(2026, 2, 1, 12, 0) + Duration::days(i64::from(sequence));
    e.organizer = Some(Person::new("李静 (Cloverleaf)", "li.jing@example.cn"));
    e.attendees = attendees;
    e.location = Some("上海交通大学医学院，重庆南路227号".to_owned());
    e.url = Some("https://events.example.org/e/42".to_owned());
    Calendar {
        method,
        name: None,
        events: vec![e],
    }
}

fn zhang_wei() -> Person {
    Person::new("张伟", "zhang.wei@example.cn")
}

#[test]
fn feed_with_three_zones_passes_check_invite() {
    let calendar = tour_feed();
    assert_eq!(calendar.problems(), Vec::<String>::new());
    let ics = calendar.to_ics();
    assert_wire_format(&ics);
    let lines = unfold(&ics);
    assert_eq!(
        lines[..6],
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Cloverleaf//Cloverleaf Events 1.0//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:Sino-German delegation tour 2026 — 中德代表团",
        ]
    );
    let tzids: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("TZID:"))
        .collect();
    assert_eq!(
        tzids,
        ["Asia/Shanghai", "Europe/Berlin", "Europe/London"],
        "one VTIMEZONE per zone, none for UTC"
    );
    for expected in [
        "DTSTART;TZID=Europe/Berlin:20260330T090000",
        "DTEND;TZID=Europe/Berlin:20260330T110000",
        "DTSTART;TZID=Asia/Shanghai:20260402T093000",
        "DTEND;TZID=Asia/Shanghai:20260402T113000",
        "DTSTART;TZID=Europe/London:20260328T183000",
        "DTSTART:20260410T120000Z",
        "DTEND:20260410T140000Z",
        "DESCRIPTION:Bus leaves at 08:30 sharp\\; bring your passport.\\nLunch included\\,\\ndress code: business\\n\\\\o/",
        "LOCATION:Charitéplatz 1\\, 10117 Berlin",
        "URL:https://events.example.org/e/sino-german-tour#item-1",
        "CATEGORIES:visit",
        "CATEGORIES:session,workshop\\, with comma",
        "CREATED:20260115T090000Z",
        "LAST-MODIFIED:20260120T090000Z",
        "STATUS:TENTATIVE",
        "SEQUENCE:0",
        "ORGANIZER;CN=\"Dr. Anna Müller\":mailto:anna.mueller@example.org",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "missing {expected:?} in\n{ics}"
        );
    }
    assert_eq!(
        lines.iter().filter(|l| *l == "SEQUENCE:0").count(),
        4,
        "SEQUENCE on every event"
    );
    assert!(!ics.contains("ICALENDAR-RS"));

    let dir = tempdir();
    let feed = write(dir.path(), "feed.ics", &ics);
    assert_checker_passes(&[&feed]);
}

#[test]
fn request_update_and_cancel_pass_check_invite_in_series() {
    let request = invite(Method::Request, 0, vec![zhang_wei()]);
    let mut update = invite(Method::Request, 1, vec![zhang_wei()]);
    update.events[0].starts_at += Duration::hours(1);
    update.events[0].ends_at += Duration::hours(1);
    let mut cancel = invite(Method::Cancel, 2, vec![zhang_wei()]);
    cancel.events[0].status = Some(EventStatus::Cancelled);
    for calendar in [&request, &update, &cancel] {
        assert_eq!(calendar.problems(), Vec::<String>::new());
    }

    let dir = tempdir();
    let files = [
        write(dir.path(), "1-request.ics", &request.to_ics()),
        write(dir.path(), "2-update.ics", &update.to_ics()),
        write(dir.path(), "3-cancel.ics", &cancel.to_ics()),
    ];
    let mut args: Vec<&Path> = vec![Path::new("--series")];
    args.extend(files.iter().map(PathBuf::as_path));
    assert_checker_passes(&args);

    let request_lines = unfold(&request.to_ics());
    for expected in [
        "METHOD:REQUEST",
        "ORGANIZER;CN=\"李静 (Cloverleaf)\":mailto:li.jing@example.cn",
        "ATTENDEE;CN=\"张伟\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:zhang.wei@example.cn",
        "DTSTART;TZID=Asia/Shanghai:20260402T093000",
        "SEQUENCE:0",
        "UID:evt-42@cloverleaf.test",
    ] {
        assert!(
            request_lines.iter().any(|l| l == expected),
            "missing {expected:?}"
        );
    }
    let cancel_lines = unfold(&cancel.to_ics());
    for expected in [
        "METHOD:CANCEL",
        "STATUS:CANCELLED",
        "SEQUENCE:2",
        "UID:evt-42@cloverleaf.test",
    ] {
        assert!(
            cancel_lines.iter().any(|l| l == expected),
            "missing {expected:?}"
        );
    }
}

#[test]
fn invites_with_several_chinese_attendees_and_a_single_attendee_cancel_pass() {
    let attendees = vec![
        zhang_wei(),
        Person::new("王芳，博士", "wang.fang@example.cn"),
        Person::new("Ann \"Nan\" O'Neil; MD", "ann@example.org"),
        Person::new("", "no.name@example.org"),
    ];
    let request = invite(Method::Request, 3, attendees);
    let removal = invite(
        Method::Cancel,
        4,
        vec![Person::new("王芳，博士", "wang.fang@example.cn")],
    );
    assert_eq!(removal.events[0].status, Some(EventStatus::Confirmed));
    let mut removal = removal;
    removal.events[0].status = None; // removing one attendee: no STATUS
    assert_eq!(request.problems(), Vec::<String>::new());
    assert_eq!(removal.problems(), Vec::<String>::new());

    let ics = request.to_ics();
    assert_wire_format(&ics);
    let lines = unfold(&ics);
    assert!(lines.contains(&"ATTENDEE;CN=\"王芳，博士\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:wang.fang@example.cn".to_owned()));
    assert!(lines.contains(&"ATTENDEE;CN=\"Ann ^'Nan^' O'Neil; MD\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:ann@example.org".to_owned()));
    assert!(lines.contains(&"ATTENDEE;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:no.name@example.org".to_owned()));

    let dir = tempdir();
    let a = write(dir.path(), "request.ics", &ics);
    let b = write(dir.path(), "remove-one.ics", &removal.to_ics());
    assert_checker_passes(&[&a, &b]);
}

/// Issue 15 item 10: a name with double quotes kept them only as single quotes. RFC 6868 encodes what a quoted
/// parameter value cannot hold (`^'` for `"`, `^n` for a line break, `^^` for `^`), and libical and Python
/// `icalendar` decode it back to the name as given.
#[test]
fn names_with_double_quotes_line_breaks_and_carets_survive_in_cn() {
    let names = [
        "Ann \"Nan\" O'Neil; MD",
        "张\"伟\"",
        "caret ^ and a literal ^n",
        "two\r\nlines",
    ];
    let mut calendar = invite(
        Method::Request,
        0,
        names
            .iter()
            .enumerate()
            .map(|(n, name)| Person::new(*name, format!("p{n}@example.org")))
            .collect(),
    );
    calendar.events[0].organizer = Some(Person::new("Dr. \"Anna\" Müller", "anna@example.org"));
    assert_eq!(calendar.problems(), Vec::<String>::new());
    let ics = calendar.to_ics();
    assert_wire_format(&ics);
    let lines = unfold(&ics);
    for expected in [
        "ORGANIZER;CN=\"Dr. ^'Anna^' Müller\":mailto:anna@example.org",
        "ATTENDEE;CN=\"Ann ^'Nan^' O'Neil; MD\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:p0@example.org",
        "ATTENDEE;CN=\"张^'伟^'\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:p1@example.org",
        "ATTENDEE;CN=\"caret ^^ and a literal ^^n\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:p2@example.org",
        "ATTENDEE;CN=\"two^nlines\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:p3@example.org",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "missing {expected:?} in\n{ics}"
        );
    }

    let dir = tempdir();
    let path = write(dir.path(), "names.ics", &ics);
    assert_checker_passes(&[&path]);

    // What each reader makes of the CN values, in order (ORGANIZER first), as JSON strings.
    let mut expected = vec!["\"Dr. \\\"Anna\\\" Müller\"".to_owned()];
    expected.extend(
        names
            .iter()
            .map(|n| format!("{:?}", n.replace("\r\n", "\n")).replace("\\'", "'")),
    );
    const LIBICAL: &str = r#"
import json, sys, gi
gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib as I
cal = I.Component.new_from_string(open(sys.argv[1], encoding="utf-8").read())
ev = cal.get_first_component(I.ComponentKind.VEVENT_COMPONENT)
for kind in (I.PropertyKind.ORGANIZER_PROPERTY, I.PropertyKind.ATTENDEE_PROPERTY):
    p = ev.get_first_property(kind)
    while p is not None:
        print(json.dumps(p.get_first_parameter(I.ParameterKind.CN_PARAMETER).get_cn(), ensure_ascii=False))
        p = ev.get_next_property(kind)
"#;
    const ICALENDAR: &str = r#"
import json, sys, icalendar
ev = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read()).walk("VEVENT")[0]
attendees = ev["ATTENDEE"] if isinstance(ev["ATTENDEE"], list) else [ev["ATTENDEE"]]
for p in [ev["ORGANIZER"]] + attendees:
    print(json.dumps(str(p.params["CN"]), ensure_ascii=False))
"#;
    let python_icalendar =
        std::env::var("CLOVERLEAF_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    for (reader, python, script) in [
        ("libical", support::checker_python(), LIBICAL),
        ("Python icalendar", python_icalendar, ICALENDAR),
    ] {
        let output = Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
        assert!(
            output.status.success(),
            "{reader} via {python} failed (run .ci/calendar-tools.sh):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(read, expected, "{reader} reads the names back");
    }
}

#[test]
fn the_harness_notices_when_check_invite_fails() {
    let dir = tempdir();
    // A feed event without ORGANIZER breaks libical's RFC 5546 table for PUBLISH.
    let mut feed = tour_feed();
    feed.events[0].organizer = None;
    assert!(feed.problems().iter().any(|p| p.contains("ORGANIZER")));
    let no_organizer = write(dir.path(), "no-organizer.ics", &feed.to_ics());
    // A bare LF where CRLF belongs.
    let bare_lf = write(
        dir.path(),
        "bare-lf.ics",
        &tour_feed().to_ics().replacen("\r\n", "\n", 3),
    );
    let (ok, text) = run_checker(&[&no_organizer, &bare_lf]);
    support::assert_libical_ran(&text);
    assert!(!ok, "check-invite should fail:\n{text}");
    assert!(
        text.contains("libical: Failed iTIP restrictions for ORGANIZER"),
        "{text}"
    );
    assert!(text.contains("bare LF"), "{text}");
    assert!(text.contains("0 passed, 2 failed"), "{text}");
}

#[test]
fn exact_text_of_a_request() {
    let mut calendar = invite(Method::Request, 1, vec![zhang_wei()]);
    calendar.events[0].location = None;
    calendar.events[0].summary = "Workshop, day 1".to_owned();
    let expected = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Cloverleaf//Cloverleaf Events 1.0//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Shanghai",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0800",
        "TZNAME:CST",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:19860504T020000",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0900",
        "TZNAME:CDT",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "DTSTART:19860914T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=9;BYDAY=SU;BYMONTHDAY=11,12,13,14,15,16,17;UNTIL=",
        " 19910914T170000Z",
        "TZOFFSETFROM:+0900",
        "TZOFFSETTO:+0800",
        "TZNAME:CST",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:19870412T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=SU;BYMONTHDAY=11,12,13,14,15,16,17;UNTIL=",
        " 19910413T180000Z",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0900",
        "TZNAME:CDT",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "DTEND;TZID=Asia/Shanghai:20260402T113000",
        "DTSTAMP:20260202T120000Z",
        "DTSTART;TZID=Asia/Shanghai:20260402T093000",
        "ORGANIZER;CN=\"李静 (Cloverleaf)\":mailto:li.jing@example.cn",
        "SEQUENCE:1",
        "STATUS:CONFIRMED",
        "SUMMARY:Workshop\\, day 1",
        "UID:evt-42@cloverleaf.test",
        "URL:https://events.example.org/e/42",
        "ATTENDEE;CN=\"张伟\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:m",
        " ailto:zhang.wei@example.cn",
        "END:VEVENT",
        "END:VCALENDAR",
    ];
    let expected: String = expected.iter().map(|l| format!("{l}\r\n")).collect();
    assert_eq!(calendar.to_ics(), expected);
}

#[test]
fn output_is_deterministic() {
    let calendar = tour_feed();
    let first = calendar.to_ics();
    assert_eq!(first, calendar.clone().to_ics());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        first,
        calendar.to_ics(),
        "nothing time-dependent or random slips in"
    );
    assert_eq!(first, calendar.to_string());
}

#[test]
fn line_breaks_and_injection_attempts_never_reach_the_wire() {
    let mut e = event(
        "uid-\r\nX-EVIL:1",
        at(2026, 5, 5, 8, 0),
        Europe::Berlin,
        "Line one\rline two\r\nline three\nfour",
    );
    e.description = Some("tab\there, bell\u{7} and NUL\u{0} dropped; CR at end\r".to_owned());
    e.location = Some("Room 1\r\nBEGIN:VALARM".to_owned());
    e.url = Some("https://example.org/a\r\nATTACH:http://evil".to_owned());
    e.organizer = Some(Person::new(
        "Eve\r\nATTENDEE:mailto:x@y",
        "eve@example.org\r\nX-EVIL:2",
    ));
    e.attendees = vec![Person::new("Bob \"the builder\"\n", "bob@example.org")];
    let calendar = Calendar {
        method: Method::Request,
        name: Some("name\r\nX-INJECTED:1".to_owned()),
        events: vec![e],
    };
    let ics = calendar.to_ics();
    assert_wire_format(&ics);
    let lines = unfold(&ics);
    for expected in [
        "X-WR-CALNAME:name\\nX-INJECTED:1",
        "UID:uid-\\nX-EVIL:1",
        "SUMMARY:Line one\\nline two\\nline three\\nfour",
        "DESCRIPTION:tab\there\\, bell and NUL dropped\\; CR at end\\n",
        "LOCATION:Room 1\\nBEGIN:VALARM",
        "URL:https://example.org/aATTACH:http://evil",
        "ORGANIZER;CN=\"Eve^nATTENDEE:mailto:x@y\":mailto:eve@example.orgX-EVIL:2",
        "ATTENDEE;CN=\"Bob ^'the builder^'\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:bob@example.org",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "missing {expected:?} in\n{ics}"
        );
    }
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("X-EVIL") || l.starts_with("X-INJECTED") || l == "BEGIN:VALARM")
    );
}

#[test]
fn long_chinese_and_accented_text_is_folded_on_character_boundaries() {
    let mut e = event(
        "fold@cloverleaf.test",
        at(2026, 6, 1, 6, 0),
        Asia::Shanghai,
        &"中德个性化医学合作研讨会".repeat(10),
    );
    e.description = Some(
        "Réunion préparatoire à l'Université de Genève — café, thé et pâtisseries. ".repeat(6),
    );
    e.location = Some("😀 Emoji Hall ".repeat(12));
    let ics = Calendar {
        method: Method::Publish,
        name: None,
        events: vec![e],
    }
    .to_ics();
    assert_wire_format(&ics);
    let physical: Vec<&str> = ics.split("\r\n").collect();
    assert!(
        physical.iter().filter(|l| l.starts_with(' ')).count() >= 10,
        "long lines were folded"
    );
    let summary = unfold(&ics)
        .into_iter()
        .find(|l| l.starts_with("SUMMARY:"))
        .expect("SUMMARY");
    assert_eq!(
        summary,
        format!("SUMMARY:{}", "中德个性化医学合作研讨会".repeat(10))
    );
}

#[test]
fn utc_events_use_z_times_and_no_vtimezone() {
    for tz in [Tz::UTC, Tz::Etc__UTC, Tz::Etc__GMT] {
        let ics = Calendar {
            method: Method::Publish,
            name: None,
            events: vec![event(
                "utc@cloverleaf.test",
                at(2026, 4, 10, 12, 0),
                tz,
                "Webinar",
            )],
        }
        .to_ics();
        assert!(!ics.contains("VTIMEZONE"), "{ics}");
        assert!(ics.contains("\r\nDTSTART:20260410T120000Z\r\n"));
        assert!(ics.contains("\r\nDTEND:20260410T140000Z\r\n"));
    }
}

#[test]
fn times_in_the_repeated_hour_are_written_in_utc() {
    // 2026-10-25 in Berlin: 02:00–03:00 local happens twice (CEST 00:00–01:00Z, then CET 01:00–02:00Z). RFC 5545
    // reads such a local time as the first run, libical as the second: only UTC is unambiguous.
    let mut e = event(
        "repeat@cloverleaf.test",
        at(2026, 10, 25, 0, 30),
        Europe::Berlin,
        "Night bus",
    );
    e.ends_at = at(2026, 10, 25, 1, 30);
    let mut after = event(
        "after@cloverleaf.test",
        at(2026, 10, 24, 23, 59),
        Europe::Berlin,
        "Around it",
    );
    after.ends_at = at(2026, 10, 25, 2, 0);
    let ics = Calendar {
        method: Method::Publish,
        name: None,
        events: vec![e, after],
    }
    .to_ics();
    let lines = unfold(&ics);
    for expected in [
        "DTSTART:20261025T003000Z",
        "DTEND:20261025T013000Z",
        "DTSTART;TZID=Europe/Berlin:20261025T015900",
        "DTEND;TZID=Europe/Berlin:20261025T030000",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "missing {expected:?} in\n{ics}"
        );
    }
}

#[test]
fn problems_name_what_itip_forbids() {
    let mut no_attendee = invite(Method::Request, 0, Vec::new());
    no_attendee.events[0].status = Some(EventStatus::Cancelled);
    let problems = no_attendee.problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("needs at least one ATTENDEE")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("not a REQUEST with STATUS:CANCELLED")),
        "{problems:?}"
    );

    let mut vague_cancel = invite(
        Method::Cancel,
        1,
        vec![zhang_wei(), Person::new("B", "b@example.org")],
    );
    vague_cancel.events[0].status = None;
    assert!(
        vague_cancel
            .problems()
            .iter()
            .any(|p| p.contains("exactly one ATTENDEE"))
    );

    let mut two_uids = invite(Method::Request, 0, vec![zhang_wei()]);
    let mut other = two_uids.events[0].clone();
    other.uid = "other@cloverleaf.test".to_owned();
    other.ends_at = other.starts_at;
    two_uids.events.push(other);
    let problems = two_uids.problems();
    assert!(
        problems.iter().any(|p| p.contains("one UID, found 2")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("ends_at is not after starts_at")),
        "{problems:?}"
    );
}

/// libical (the independent reader behind Evolution and many servers) converts every DTSTART/DTEND back to an
/// instant through our VTIMEZONE blocks; each must be the instant we meant, across zones, years and transitions.
#[test]
fn libical_reads_our_local_times_back_as_the_intended_instants() {
    let zones = [
        Europe::Berlin,
        Europe::London,
        Europe::Dublin,
        Asia::Shanghai,
        Asia::Kathmandu,
        chrono_tz::America::New_York,
        chrono_tz::America::Santiago,
        chrono_tz::Australia::Sydney,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Africa::Casablanca,
        chrono_tz::Pacific::Chatham,
        Tz::UTC,
    ];
    let mut events = Vec::new();
    for (z, tz) in zones.iter().enumerate() {
        // Every 9 days and 7 hours over three years, plus each hour around the 2026 European switches.
        let mut t = at(2025, 1, 1, 0, 0);
        let mut n = 0;
        while t < at(2028, 1, 1, 0, 0) {
            events.push(event(&format!("z{z}-{n}"), t, *tz, "probe"));
            t += Duration::hours(9 * 24 + 7);
            n += 1;
        }
        for hours in -3..=3 {
            for switch in [at(2026, 3, 29, 1, 0), at(2026, 10, 25, 1, 0)] {
                let mut e = event(
                    &format!("z{z}-{n}"),
                    switch + Duration::minutes(hours * 60 + 30),
                    *tz,
                    "probe",
                );
                e.ends_at = e.starts_at + Duration::minutes(30);
                events.push(e);
                n += 1;
            }
        }
    }
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
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "libical via {python} failed (run .ci/calendar-tools.sh to install python3-gi and gir1.2-ical-3.0):\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let read: Vec<&str> = stdout.lines().collect();
    assert_eq!(read.len(), calendar.events.len());
    for (line, e) in read.iter().zip(&calendar.events) {
        let expected = format!(
            "{} {} {}",
            e.uid,
            e.starts_at.timestamp(),
            e.ends_at.timestamp()
        );
        assert_eq!(
            *line,
            expected,
            "{} in {} starting {}",
            e.uid,
            e.timezone.name(),
            e.starts_at
        );
    }
}

#[test]
fn every_event_field_lands_in_the_vevent() {
    let e = CalendarEvent {
        end_timezone: None,
        uid: "all@cloverleaf.test".to_owned(),
        sequence: 7,
        dtstamp: at(2026, 2, 3, 4, 5),
        starts_at: at(2026, 7, 1, 8, 0),
        ends_at: at(2026, 7, 1, 9, 0),
        timezone: Europe::London,
        summary: "S".to_owned(),
        description: Some("D".to_owned()),
        location: Some("L".to_owned()),
        url: Some("https://example.org/u".to_owned()),
        organizer: Some(organiser()),
        attendees: vec![zhang_wei()],
        status: Some(EventStatus::Cancelled),
        created: Some(at(2026, 1, 1, 0, 0)),
        last_modified: Some(at(2026, 1, 2, 0, 0)),
        categories: vec!["visit".to_owned(), String::new()],
    };
    let vevent = e.to_vevent();
    let lines = unfold(&vevent);
    assert_eq!(
        lines,
        [
            "BEGIN:VEVENT",
            "CREATED:20260101T000000Z",
            "DESCRIPTION:D",
            "DTEND;TZID=Europe/London:20260701T100000",
            "DTSTAMP:20260203T040500Z",
            "DTSTART;TZID=Europe/London:20260701T090000",
            "LAST-MODIFIED:20260102T000000Z",
            "LOCATION:L",
            "ORGANIZER;CN=\"Dr. Anna Müller\":mailto:anna.mueller@example.org",
            "SEQUENCE:7",
            "STATUS:CANCELLED",
            "SUMMARY:S",
            "UID:all@cloverleaf.test",
            "URL:https://example.org/u",
            "ATTENDEE;CN=\"张伟\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:zhang.wei@example.cn",
            "CATEGORIES:visit",
            "END:VEVENT",
        ]
    );
}
