//! VTIMEZONE blocks: exact text for known transitions, and agreement with the zone data hour by hour.

mod support;

use chrono::{
    DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, Offset as _, TimeZone as _, Utc,
    Weekday,
};
use chrono_tz::{OffsetComponents as _, OffsetName as _, Tz};
use cloverleaf_calendar::vtimezone;
use support::{assert_wire_format, at};

/// One STANDARD or DAYLIGHT as read back from the text.
#[derive(Debug)]
struct Observance {
    daylight: bool,
    onset_local: NaiveDateTime,
    onset_utc: i64,
    from: i32,
    to: i32,
    name: Option<String>,
}

fn parse_offset(s: &str) -> i32 {
    let sign = match &s[..1] {
        "+" => 1,
        "-" => -1,
        other => panic!("offset sign {other:?} in {s:?}"),
    };
    let digits = &s[1..];
    assert!(digits.len() == 4 || digits.len() == 6, "offset {s:?}");
    let part = |r: std::ops::Range<usize>| digits[r].parse::<i32>().expect("offset digits");
    let seconds = if digits.len() == 6 { part(4..6) } else { 0 };
    sign * (part(0..2) * 3600 + part(2..4) * 60 + seconds)
}

/// Reads a VTIMEZONE block back: its TZID and observances (checked to be complete and in onset order).
fn parse(block: &str) -> (String, Vec<Observance>) {
    assert_wire_format(block);
    let lines = support::unfold(block);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VTIMEZONE"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VTIMEZONE"));
    let mut tzid = None;
    let mut observances = Vec::new();
    // An observance being read: (DAYLIGHT?, DTSTART, TZOFFSETFROM, TZOFFSETTO, TZNAME).
    type Partial = (
        bool,
        Option<NaiveDateTime>,
        Option<i32>,
        Option<i32>,
        Option<String>,
    );
    let mut current: Option<Partial> = None;
    for line in &lines[1..lines.len() - 1] {
        let (name, value) = line.split_once(':').expect("name:value");
        match (name, current.as_mut()) {
            ("TZID", None) => tzid = Some(value.to_owned()),
            ("BEGIN", None) => current = Some((value == "DAYLIGHT", None, None, None, None)),
            ("DTSTART", Some(c)) => {
                c.1 = Some(
                    NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
                        .expect("local DTSTART, no Z"),
                )
            }
            ("TZOFFSETFROM", Some(c)) => c.2 = Some(parse_offset(value)),
            ("TZOFFSETTO", Some(c)) => c.3 = Some(parse_offset(value)),
            ("TZNAME", Some(c)) => c.4 = Some(value.to_owned()),
            ("END", Some(c)) => {
                assert_eq!(value, if c.0 { "DAYLIGHT" } else { "STANDARD" });
                let onset_local = c.1.expect("DTSTART");
                let from = c.2.expect("TZOFFSETFROM");
                observances.push(Observance {
                    daylight: c.0,
                    onset_local,
                    onset_utc: onset_local.and_utc().timestamp() - i64::from(from),
                    from,
                    to: c.3.expect("TZOFFSETTO"),
                    name: c.4.take(),
                });
                current = None;
            }
            other => panic!("unexpected line {line:?} ({other:?})"),
        }
    }
    assert!(!observances.is_empty(), "at least one observance");
    for pair in observances.windows(2) {
        assert!(
            pair[0].onset_utc < pair[1].onset_utc,
            "onsets in order: {pair:?}"
        );
        assert_eq!(
            pair[0].to, pair[1].from,
            "each TZOFFSETFROM is the offset before: {pair:?}"
        );
    }
    (tzid.expect("TZID"), observances)
}

/// The observance a reader of the block applies at `t`: the last one whose onset is not after it.
fn in_effect(observances: &[Observance], t: i64) -> &Observance {
    observances
        .iter()
        .rev()
        .find(|o| o.onset_utc <= t)
        .unwrap_or_else(|| panic!("no observance covers {:?}", DateTime::from_timestamp(t, 0)))
}

/// The block for `tz` over [from, to] agrees with chrono-tz at every hour and around every transition: offset,
/// STANDARD/DAYLIGHT, TZNAME.
fn assert_agrees_with_zone_data(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Observance> {
    let block = vtimezone(tz, from, to);
    let (tzid, observances) = parse(&block);
    assert_eq!(tzid, tz.name());
    let mut instants: Vec<i64> = (from.timestamp()..=to.timestamp()).step_by(3600).collect();
    instants.push(to.timestamp());
    for o in &observances[1..] {
        instants.extend([o.onset_utc - 1, o.onset_utc, o.onset_utc + 1]);
    }
    for t in instants
        .into_iter()
        .filter(|t| (from.timestamp()..=to.timestamp()).contains(t))
    {
        let when = DateTime::from_timestamp(t, 0).expect("in range");
        let offset = tz.offset_from_utc_datetime(&when.naive_utc());
        let o = in_effect(&observances, t);
        assert_eq!(
            o.to,
            offset.fix().local_minus_utc(),
            "{} offset at {when}",
            tz.name()
        );
        assert_eq!(
            o.daylight,
            offset.dst_offset() > Duration::zero(),
            "{} DST at {when}",
            tz.name()
        );
        assert_eq!(
            o.name.as_deref(),
            offset.abbreviation(),
            "{} TZNAME at {when}",
            tz.name()
        );
    }
    observances
}

fn crlf(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

#[test]
fn berlin_spring_2026_has_the_switch_to_summer_time() {
    let block = vtimezone(
        chrono_tz::Europe::Berlin,
        at(2026, 3, 1, 0, 0),
        at(2026, 4, 30, 0, 0),
    );
    assert!(block.contains(
        "BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    ));
    assert_eq!(
        block,
        crlf(&[
            "BEGIN:VTIMEZONE",
            "TZID:Europe/Berlin",
            "BEGIN:STANDARD",
            "DTSTART:20251026T030000",
            "TZOFFSETFROM:+0200",
            "TZOFFSETTO:+0100",
            "TZNAME:CET",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:20260329T020000",
            "TZOFFSETFROM:+0100",
            "TZOFFSETTO:+0200",
            "TZNAME:CEST",
            "END:DAYLIGHT",
            "END:VTIMEZONE",
        ])
    );
    assert_agrees_with_zone_data(
        chrono_tz::Europe::Berlin,
        at(2026, 3, 1, 0, 0),
        at(2026, 4, 30, 0, 0),
    );
}

#[test]
fn shanghai_is_one_standard_observance() {
    let block = vtimezone(
        chrono_tz::Asia::Shanghai,
        at(2026, 1, 1, 0, 0),
        at(2027, 12, 31, 0, 0),
    );
    let (_, observances) = parse(&block);
    assert_eq!(observances.len(), 1, "{block}");
    assert_eq!(block.matches("BEGIN:STANDARD").count(), 1);
    assert!(!block.contains("DAYLIGHT"));
    assert!(block.contains("TZOFFSETTO:+0800\r\n"));
    assert!(block.contains("TZID:Asia/Shanghai\r\n"));
    assert!(block.contains("TZNAME:CST\r\n"));
    assert!(
        observances[0].onset_local
            <= NaiveDate::from_ymd_opt(2026, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("date")
    );
    assert_agrees_with_zone_data(
        chrono_tz::Asia::Shanghai,
        at(2026, 1, 1, 0, 0),
        at(2027, 12, 31, 0, 0),
    );
}

#[test]
fn new_york_2026() {
    let block = vtimezone(
        chrono_tz::America::New_York,
        at(2026, 1, 10, 0, 0),
        at(2026, 12, 10, 0, 0),
    );
    assert!(block.contains(
        "BEGIN:DAYLIGHT\r\nDTSTART:20260308T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n"
    ));
    assert!(block.contains(
        "BEGIN:STANDARD\r\nDTSTART:20261101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n"
    ));
    let observances = assert_agrees_with_zone_data(
        chrono_tz::America::New_York,
        at(2026, 1, 10, 0, 0),
        at(2026, 12, 10, 0, 0),
    );
    assert_eq!(observances.len(), 3, "EST since November 2025, EDT, EST");
    assert_eq!(
        observances[0].onset_local.to_string(),
        "2025-11-02 02:00:00"
    );
}

#[test]
fn sydney_2026_southern_hemisphere() {
    let block = vtimezone(
        chrono_tz::Australia::Sydney,
        at(2026, 1, 10, 0, 0),
        at(2026, 12, 10, 0, 0),
    );
    assert_eq!(
        block,
        crlf(&[
            "BEGIN:VTIMEZONE",
            "TZID:Australia/Sydney",
            "BEGIN:DAYLIGHT",
            "DTSTART:20251005T020000",
            "TZOFFSETFROM:+1000",
            "TZOFFSETTO:+1100",
            "TZNAME:AEDT",
            "END:DAYLIGHT",
            "BEGIN:STANDARD",
            "DTSTART:20260405T030000",
            "TZOFFSETFROM:+1100",
            "TZOFFSETTO:+1000",
            "TZNAME:AEST",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:20261004T020000",
            "TZOFFSETFROM:+1000",
            "TZOFFSETTO:+1100",
            "TZNAME:AEDT",
            "END:DAYLIGHT",
            "END:VTIMEZONE",
        ])
    );
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut day = NaiveDate::from_ymd_opt(year, month + 1, 1).expect("date") - Duration::days(1);
    while day.weekday() != Weekday::Sun {
        day -= Duration::days(1);
    }
    day
}

#[test]
fn berlin_over_five_years_lists_every_switch() {
    let observances = assert_agrees_with_zone_data(
        chrono_tz::Europe::Berlin,
        at(2024, 1, 1, 0, 0),
        at(2028, 12, 31, 23, 0),
    );
    assert_eq!(
        observances.len(),
        11,
        "CET since October 2023, then two switches a year"
    );
    let mut expected = vec![last_sunday(2023, 10).and_hms_opt(3, 0, 0).expect("time")];
    for year in 2024..=2028 {
        expected.push(last_sunday(year, 3).and_hms_opt(2, 0, 0).expect("time"));
        expected.push(last_sunday(year, 10).and_hms_opt(3, 0, 0).expect("time"));
    }
    let onsets: Vec<NaiveDateTime> = observances.iter().map(|o| o.onset_local).collect();
    assert_eq!(onsets, expected);
    for (i, o) in observances.iter().enumerate() {
        assert_eq!(o.daylight, i % 2 == 1);
    }
}

#[test]
fn many_zones_agree_with_the_zone_data_over_twenty_years() {
    use chrono_tz::{Africa, America, Asia, Australia, Europe, Pacific};
    let zones = [
        Europe::Berlin,
        Europe::London,
        Europe::Dublin,
        Europe::Moscow,
        Europe::Lisbon,
        America::New_York,
        America::Sao_Paulo,
        America::Santiago,
        America::St_Johns,
        America::Adak,
        Australia::Sydney,
        Australia::Lord_Howe,
        Asia::Kathmandu,
        Asia::Kolkata,
        Asia::Tehran,
        Asia::Shanghai,
        Africa::Casablanca,
        Pacific::Chatham,
        Pacific::Apia,
        Pacific::Kiritimati,
    ];
    for tz in zones {
        assert_agrees_with_zone_data(tz, at(2010, 1, 1, 0, 0), at(2030, 12, 31, 0, 0));
    }
}

#[test]
fn short_ranges_around_transitions() {
    // Ranges that start or end exactly at a transition, or lie inside one day.
    let berlin = chrono_tz::Europe::Berlin;
    let switch = at(2026, 3, 29, 1, 0);
    for (from, to) in [
        (switch, switch),
        (switch, switch + Duration::hours(1)),
        (switch - Duration::seconds(1), switch),
        (switch - Duration::hours(3), switch + Duration::hours(3)),
        (at(2026, 10, 25, 0, 30), at(2026, 10, 25, 1, 30)),
    ] {
        assert_agrees_with_zone_data(berlin, from, to);
    }
    let (_, at_switch) = parse(&vtimezone(berlin, switch, switch));
    assert_eq!(at_switch.len(), 1);
    assert_eq!(at_switch[0].onset_local.to_string(), "2026-03-29 02:00:00");
}

#[test]
fn offsets_with_seconds_are_written_with_seconds() {
    // Berlin kept local mean time (+00:53:28) until 1893-04-01.
    let block = vtimezone(
        chrono_tz::Europe::Berlin,
        at(1893, 3, 1, 0, 0),
        at(1893, 6, 1, 0, 0),
    );
    assert!(
        block.contains("DTSTART:18930401T000000\r\nTZOFFSETFROM:+005328\r\nTZOFFSETTO:+0100\r\n"),
        "{block}"
    );
    assert_agrees_with_zone_data(
        chrono_tz::Europe::Berlin,
        at(1893, 3, 1, 0, 0),
        at(1893, 6, 1, 0, 0),
    );
}

#[test]
fn arguments_in_either_order_give_the_same_block() {
    let tz = chrono_tz::Europe::London;
    let (a, b) = (at(2026, 3, 1, 0, 0), at(2026, 11, 1, 0, 0));
    assert_eq!(vtimezone(tz, a, b), vtimezone(tz, b, a));
    assert_eq!(vtimezone(tz, a, b), vtimezone(tz, a, b));
}
