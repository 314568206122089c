//! Shared by the integration tests: sample events, wire-format checks, and running `check-invite`.
#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use cloverleaf_calendar::{CalendarEvent, EventStatus, MAX_LINE_OCTETS, Person};

pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid UTC date in the test")
}

pub fn organiser() -> Person {
    Person::new("Dr. Anna Müller", "anna.mueller@example.org")
}

/// A plain confirmed event of two hours, organised by [`organiser`], without attendees.
pub fn event(uid: &str, starts_at: DateTime<Utc>, timezone: Tz, summary: &str) -> CalendarEvent {
    CalendarEvent {
        end_timezone: None,
        uid: uid.to_owned(),
        sequence: 0,
        dtstamp: at(2026, 2, 1, 12, 0),
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(2),
        timezone,
        summary: summary.to_owned(),
        description: None,
        location: None,
        url: None,
        organizer: Some(organiser()),
        attendees: Vec::new(),
        status: Some(EventStatus::Confirmed),
        created: None,
        last_modified: None,
        categories: Vec::new(),
    }
}

/// CRLF only, no physical line over 75 octets, continuation lines start with one space, no control characters
/// other than TAB inside lines, ends with CRLF.
pub fn assert_wire_format(ics: &str) {
    assert!(ics.ends_with("\r\n"), "ends with CRLF");
    let body = ics.strip_suffix("\r\n").expect("ends with CRLF");
    for (n, line) in body.split("\r\n").enumerate() {
        assert!(
            line.len() <= MAX_LINE_OCTETS,
            "physical line {} has {} octets: {line:?}",
            n + 1,
            line.len()
        );
        assert!(!line.is_empty(), "physical line {} is empty", n + 1);
        assert!(
            !line.chars().any(|c| c.is_control() && c != '\t'),
            "physical line {} holds a control character (bare CR or LF?): {line:?}",
            n + 1
        );
    }
}

/// The logical (unfolded) content lines.
pub fn unfold(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The checker: `$CLOVERLEAF_CHECK_INVITE`, or `check-invite` in the shared tools beside the repository.
pub fn checker() -> PathBuf {
    match std::env::var_os("CLOVERLEAF_CHECK_INVITE") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/tools/check-invite"
        )),
    }
}

/// The interpreter the checker runs under (its `#!` line), so the libical bindings are looked up in the same place.
pub fn checker_python() -> String {
    let script = std::fs::read_to_string(checker()).unwrap_or_default();
    script
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("#!"))
        .map(|l| l.trim().to_owned())
        .filter(|l| l.contains("python") && !l.contains(' '))
        .or_else(|| {
            Path::new("/usr/bin/python3")
                .is_file()
                .then(|| "/usr/bin/python3".to_owned())
        })
        .unwrap_or_else(|| "python3".to_owned())
}

/// Runs the checker on `args` and returns (success, stdout + stderr). Panics when it cannot run at all.
pub fn run_checker(args: &[&Path]) -> (bool, String) {
    let path = checker();
    assert!(
        path.is_file(),
        "check-invite not found at {} (set CLOVERLEAF_CHECK_INVITE to its path)",
        path.display()
    );
    let output = Command::new(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Runs the checker and fails unless every file passed with libical's checks included.
pub fn assert_checker_passes(args: &[&Path]) -> String {
    let (ok, text) = run_checker(args);
    assert_libical_ran(&text);
    assert!(ok, "check-invite reported failures:\n{text}");
    let files = args
        .iter()
        .filter(|a| !a.to_string_lossy().starts_with("--"))
        .count();
    assert!(
        text.lines()
            .any(|l| l == format!("{files} passed, 0 failed")),
        "check-invite did not pass all {files} files:\n{text}"
    );
    text
}

pub fn assert_libical_ran(checker_output: &str) {
    assert!(
        !checker_output.contains("is not installed"),
        "check-invite ran without libical, so its RFC 5546 checks were skipped; run .ci/calendar-tools.sh \
         (installs python3-gi and gir1.2-ical-3.0):\n{checker_output}"
    );
}
