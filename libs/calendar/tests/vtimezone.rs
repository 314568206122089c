//! VTIMEZONE blocks: exact text for known zones, and agreement with the zone data from 1970 to 2099 once every
//! observance's RRULE is expanded (by a reader written here for the rule shapes the block uses).

mod support;

use std::sync::Arc;

use chrono::{
    DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, Offset as _, TimeZone as _,
    Weekday,
};
use chrono_tz::{OffsetComponents as _, OffsetName as _, Tz};
use cloverleaf_calendar::{HISTORY_FROM_YEAR, vtimezone};
use support::assert_wire_format;

/// The last year the expansion here looks at (chrono-tz keeps the last offset after 2099).
const LAST_YEAR: i32 = 2099;

/// An RRULE as the blocks write it: yearly in one month, on a day picked by BYDAY and/or BYMONTHDAY, maybe UNTIL.
#[derive(Debug, Clone)]
struct Rule {
    month: u32,
    /// (n, weekday): n = 0 for "any", -1 for the last, 1–4 for the n-th.
    by_day: Option<(i32, Weekday)>,
    by_month_day: Vec<u32>,
    until: Option<i64>,
}

impl Rule {
    fn parse(value: &str) -> Rule {
        let mut rule = Rule {
            month: 0,
            by_day: None,
            by_month_day: Vec::new(),
            until: None,
        };
        for part in value.split(';') {
            let (name, v) = part.split_once('=').expect("NAME=value");
            match name {
                "FREQ" => assert_eq!(v, "YEARLY"),
                "BYMONTH" => rule.month = v.parse().expect("month"),
                "BYDAY" => {
                    let (n, day) = v.split_at(v.len() - 2);
                    let weekday = match day {
                        "MO" => Weekday::Mon,
                        "TU" => Weekday::Tue,
                        "WE" => Weekday::Wed,
                        "TH" => Weekday::Thu,
                        "FR" => Weekday::Fri,
                        "SA" => Weekday::Sat,
                        "SU" => Weekday::Sun,
                        other => panic!("weekday {other}"),
                    };
                    let n = if n.is_empty() {
                        0
                    } else {
                        n.parse().expect("n")
                    };
                    assert!(n == 0 || n == -1 || (1..=4).contains(&n), "BYDAY={v}");
                    rule.by_day = Some((n, weekday));
                }
                "BYMONTHDAY" => {
                    rule.by_month_day = v.split(',').map(|d| d.parse().expect("day")).collect()
                }
                "UNTIL" => {
                    let until =
                        NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%SZ").expect("UNTIL in UTC");
                    rule.until = Some(until.and_utc().timestamp());
                }
                other => panic!("unexpected RRULE part {other} in {value}"),
            }
        }
        assert!((1..=12).contains(&rule.month), "BYMONTH in {value}");
        assert!(
            rule.by_day.is_some() || !rule.by_month_day.is_empty(),
            "BYDAY or BYMONTHDAY in {value}"
        );
        rule
    }

    /// The one day the rule picks in `year`.
    fn day_in(&self, year: i32) -> NaiveDate {
        let days: Vec<NaiveDate> = (1..=31)
            .filter_map(|d| NaiveDate::from_ymd_opt(year, self.month, d))
            .collect();
        let mut picked: Vec<NaiveDate> = days
            .iter()
            .copied()
            .filter(|d| self.by_month_day.is_empty() || self.by_month_day.contains(&d.day()))
            .filter(|d| self.by_day.is_none_or(|(_, w)| d.weekday() == w))
            .collect();
        match self.by_day {
            Some((-1, _)) => picked = picked.split_off(picked.len() - 1),
            Some((n, _)) if n > 0 => picked = vec![picked[n as usize - 1]],
            _ => {}
        }
        assert_eq!(
            picked.len(),
            1,
            "{self:?} picks one day in {year}: {picked:?}"
        );
        picked[0]
    }
}

/// One STANDARD or DAYLIGHT as read back from the text.
#[derive(Debug, Clone)]
struct Observance {
    daylight: bool,
    onset_local: NaiveDateTime,
    from: i32,
    to: i32,
    name: Option<String>,
    rule: Option<Rule>,
}

impl Observance {
    /// Every onset in UTC up to LAST_YEAR: DTSTART alone, or each yearly occurrence of the RRULE from DTSTART on.
    fn onsets(&self) -> Vec<i64> {
        let utc = |local: NaiveDateTime| local.and_utc().timestamp() - i64::from(self.from);
        let Some(rule) = &self.rule else {
            return vec![utc(self.onset_local)];
        };
        let mut onsets = Vec::new();
        for year in self.onset_local.year()..=LAST_YEAR + 1 {
            let onset = utc(rule.day_in(year).and_time(self.onset_local.time()));
            if rule.until.is_some_and(|until| onset > until) {
                break;
            }
            onsets.push(onset);
        }
        assert_eq!(
            onsets.first().copied(),
            Some(utc(self.onset_local)),
            "DTSTART is the rule's first occurrence: {self:?}"
        );
        if let Some(until) = rule.until {
            assert_eq!(
                onsets.last().copied(),
                Some(until),
                "UNTIL is the last occurrence: {self:?}"
            );
            assert!(onsets.len() >= 2, "a rule for one transition: {self:?}");
        }
        onsets
    }
}

/// A transition as a reader of the block sees it: at `at` (UTC), into the observance `index`.
struct Onset {
    at: i64,
    index: usize,
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

/// Reads a VTIMEZONE block back: its TZID and observances.
fn parse(block: &str) -> (String, Vec<Observance>) {
    assert_wire_format(block);
    let lines = support::unfold(block);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VTIMEZONE"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VTIMEZONE"));
    let mut tzid = None;
    let mut observances = Vec::new();
    let mut current: Option<(bool, Vec<(String, String)>)> = None;
    for line in &lines[1..lines.len() - 1] {
        let (name, value) = line.split_once(':').expect("name:value");
        match (name, current.as_mut()) {
            ("TZID", None) => tzid = Some(value.to_owned()),
            ("BEGIN", None) => current = Some((value == "DAYLIGHT", Vec::new())),
            ("END", Some((daylight, props))) => {
                assert_eq!(value, if *daylight { "DAYLIGHT" } else { "STANDARD" });
                let one = |key: &str| {
                    let found: Vec<&String> = props
                        .iter()
                        .filter(|(k, _)| k == key)
                        .map(|(_, v)| v)
                        .collect();
                    assert!(found.len() <= 1, "one {key} in {props:?}");
                    found.first().map(|v| v.as_str())
                };
                observances.push(Observance {
                    daylight: *daylight,
                    onset_local: NaiveDateTime::parse_from_str(
                        one("DTSTART").expect("DTSTART"),
                        "%Y%m%dT%H%M%S",
                    )
                    .expect("local DTSTART, no Z"),
                    from: parse_offset(one("TZOFFSETFROM").expect("TZOFFSETFROM")),
                    to: parse_offset(one("TZOFFSETTO").expect("TZOFFSETTO")),
                    name: one("TZNAME").map(str::to_owned),
                    rule: one("RRULE").map(Rule::parse),
                });
                current = None;
            }
            (_, Some((_, props))) => {
                assert!(
                    ["DTSTART", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME", "RRULE"].contains(&name),
                    "unexpected line {line:?}"
                );
                props.push((name.to_owned(), value.to_owned()));
            }
            _ => panic!("unexpected line {line:?}"),
        }
    }
    assert!(!observances.is_empty(), "at least one observance");
    (tzid.expect("TZID"), observances)
}

/// Every onset of every observance in time order, each observance's TZOFFSETFROM checked to be the offset before.
fn timeline(observances: &[Observance]) -> Vec<Onset> {
    let mut onsets: Vec<Onset> = observances
        .iter()
        .enumerate()
        .flat_map(|(index, o)| o.onsets().into_iter().map(move |at| Onset { at, index }))
        .collect();
    onsets.sort_by_key(|o| o.at);
    for pair in onsets.windows(2) {
        assert!(pair[0].at < pair[1].at, "two onsets at one instant");
        let (before, after) = (&observances[pair[0].index], &observances[pair[1].index]);
        assert_eq!(
            before.to, after.from,
            "TZOFFSETFROM is the offset before: {after:?} after {before:?}"
        );
    }
    onsets
}

/// The observance a reader applies at `t`: the one whose onset is the last not after `t`.
fn in_effect(onsets: &[Onset], t: i64) -> (usize, i64) {
    let n = onsets.partition_point(|o| o.at <= t);
    assert!(
        n > 0,
        "no observance covers {:?}",
        DateTime::from_timestamp(t, 0)
    );
    (onsets[n - 1].index, onsets[n - 1].at)
}

/// The block for `tz` agrees with chrono-tz every three hours from 1 January HISTORY_FROM_YEAR (local) to 2099 and a second either
/// side of every onset: offset, TZNAME, and DAYLIGHT for summer time (a positive save, or the summer after a
/// negative one: Europe/Dublin's IST).
fn assert_agrees_with_zone_data(tz: Tz) -> Vec<Observance> {
    let block = vtimezone(tz);
    let (tzid, observances) = parse(&block);
    assert_eq!(tzid, tz.name());
    let onsets = timeline(&observances);
    // The first observance starts at local midnight on 1 January HISTORY_FROM_YEAR.
    let first = onsets[0].at;
    assert_eq!(
        observances[onsets[0].index].onset_local,
        NaiveDate::from_ymd_opt(HISTORY_FROM_YEAR, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("date")
    );
    let last = NaiveDate::from_ymd_opt(LAST_YEAR + 1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("date")
        .and_utc()
        .timestamp();
    let mut instants: Vec<i64> = (first..last).step_by(3 * 3600).collect();
    for o in &onsets {
        instants.extend([o.at - 1, o.at, o.at + 1]);
    }
    let offset = |t: i64| {
        let when = DateTime::from_timestamp(t, 0).expect("in range");
        tz.offset_from_utc_datetime(&when.naive_utc())
    };
    for t in instants.into_iter().filter(|t| (first..last).contains(t)) {
        let when = DateTime::from_timestamp(t, 0).expect("in range");
        let data = offset(t);
        let (index, onset) = in_effect(&onsets, t);
        let o = &observances[index];
        assert_eq!(
            o.to,
            data.fix().local_minus_utc(),
            "{} offset at {when}",
            tz.name()
        );
        assert_eq!(
            o.name.as_deref(),
            data.abbreviation(),
            "{} TZNAME at {when}",
            tz.name()
        );
        let save = data.dst_offset();
        let summer = save > Duration::zero()
            || (save == Duration::zero() && offset(onset - 1).dst_offset() < Duration::zero());
        assert_eq!(o.daylight, summer, "{} DAYLIGHT at {when}", tz.name());
    }
    observances
}

fn crlf(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

#[test]
fn berlin_is_its_history_since_1970_and_the_eu_rules() {
    assert_eq!(
        &*vtimezone(chrono_tz::Europe::Berlin),
        crlf(&[
            "BEGIN:VTIMEZONE",
            "TZID:Europe/Berlin",
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            "TZOFFSETFROM:+0100",
            "TZOFFSETTO:+0100",
            "TZNAME:CET",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:19800406T020000",
            "TZOFFSETFROM:+0100",
            "TZOFFSETTO:+0200",
            "TZNAME:CEST",
            "END:DAYLIGHT",
            "BEGIN:STANDARD",
            "DTSTART:19800928T030000",
            "RRULE:FREQ=YEARLY;BYMONTH=9;BYDAY=-1SU;UNTIL=19950924T010000Z",
            "TZOFFSETFROM:+0200",
            "TZOFFSETTO:+0100",
            "TZNAME:CET",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:19810329T020000",
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "TZOFFSETFROM:+0100",
            "TZOFFSETTO:+0200",
            "TZNAME:CEST",
            "END:DAYLIGHT",
            "BEGIN:STANDARD",
            "DTSTART:19961027T030000",
            "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
            "TZOFFSETFROM:+0200",
            "TZOFFSETTO:+0100",
            "TZNAME:CET",
            "END:STANDARD",
            "END:VTIMEZONE",
        ])
    );
    assert_agrees_with_zone_data(chrono_tz::Europe::Berlin);
}

#[test]
fn shanghai_has_its_summer_times_of_1986_to_1991_and_standard_time_since() {
    assert_eq!(
        &*vtimezone(chrono_tz::Asia::Shanghai),
        crlf(&[
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
        ])
    );
    assert_agrees_with_zone_data(chrono_tz::Asia::Shanghai);
}

#[test]
fn tokyo_is_one_standard_observance() {
    assert_eq!(
        &*vtimezone(chrono_tz::Asia::Tokyo),
        crlf(&[
            "BEGIN:VTIMEZONE",
            "TZID:Asia/Tokyo",
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            "TZOFFSETFROM:+0900",
            "TZOFFSETTO:+0900",
            "TZNAME:JST",
            "END:STANDARD",
            "END:VTIMEZONE",
        ])
    );
}

/// The observances whose RRULE has no UNTIL, the zone's current rules, each as
/// `KIND month BYDAY BYMONTHDAY local-time from→to TZNAME`, sorted.
fn current_rules(observances: &[Observance]) -> Vec<String> {
    let mut rules: Vec<String> = observances
        .iter()
        .filter_map(|o| {
            let rule = o.rule.as_ref().filter(|r| r.until.is_none())?;
            let day = rule
                .by_day
                .map(|(n, w)| format!("{n}{w}"))
                .unwrap_or_default();
            Some(format!(
                "{} {} {day} {:?} {} {:+}→{:+} {}",
                if o.daylight { "DAYLIGHT" } else { "STANDARD" },
                rule.month,
                rule.by_month_day,
                o.onset_local.time(),
                o.from / 3600,
                o.to / 3600,
                o.name.as_deref().unwrap_or("-")
            ))
        })
        .collect();
    rules.sort();
    rules
}

#[test]
fn current_rules_are_open_ended_yearly_rules() {
    let cases: [(Tz, [&str; 2]); 4] = [
        (
            chrono_tz::America::New_York,
            [
                "DAYLIGHT 3 2Sun [] 02:00:00 -5→-4 EDT",
                "STANDARD 11 1Sun [] 02:00:00 -4→-5 EST",
            ],
        ),
        (
            // Negative save in the zone data; written the way clients expect: GMT standard, IST summer time.
            chrono_tz::Europe::Dublin,
            [
                "DAYLIGHT 3 -1Sun [] 01:00:00 +0→+1 IST",
                "STANDARD 10 -1Sun [] 02:00:00 +1→+0 GMT",
            ],
        ),
        (
            chrono_tz::Europe::Rome,
            [
                "DAYLIGHT 3 -1Sun [] 02:00:00 +1→+2 CEST",
                "STANDARD 10 -1Sun [] 03:00:00 +2→+1 CET",
            ],
        ),
        (
            chrono_tz::Australia::Sydney,
            [
                "DAYLIGHT 10 1Sun [] 02:00:00 +10→+11 AEDT",
                "STANDARD 4 1Sun [] 03:00:00 +11→+10 AEST",
            ],
        ),
    ];
    for (tz, expected) in cases {
        let observances = assert_agrees_with_zone_data(tz);
        assert_eq!(current_rules(&observances), expected, "{}", tz.name());
    }
    for tz in [chrono_tz::Asia::Shanghai, chrono_tz::Asia::Tokyo] {
        assert!(current_rules(&assert_agrees_with_zone_data(tz)).is_empty());
    }
}

#[test]
fn many_zones_agree_with_the_zone_data_from_1970_to_2099() {
    use chrono_tz::{Africa, America, Asia, Australia, Europe, Pacific};
    let zones = [
        Europe::Berlin,
        Europe::Brussels,
        Europe::Copenhagen,
        Europe::Rome,
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
        Asia::Jerusalem,
        Asia::Shanghai,
        Asia::Tokyo,
        Africa::Casablanca,
        Pacific::Chatham,
        Pacific::Apia,
        Pacific::Kiritimati,
        Tz::UTC,
    ];
    for tz in zones {
        assert_agrees_with_zone_data(tz);
    }
}

#[test]
fn the_definition_is_built_once_per_zone() {
    let tz = chrono_tz::Europe::Copenhagen;
    let (a, b) = (vtimezone(tz), vtimezone(tz));
    assert!(
        Arc::ptr_eq(&a, &b),
        "the second call returns the cached block"
    );
    let threads: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(move || vtimezone(chrono_tz::Europe::Brussels)))
        .collect();
    let blocks: Vec<Arc<str>> = threads
        .into_iter()
        .map(|t| t.join().expect("no panic"))
        .collect();
    assert!(blocks.iter().all(|b| *b == blocks[0]));
    assert!(blocks[0].contains("TZID:Europe/Brussels\r\n"));
}
