//! VTIMEZONE blocks built from the IANA data that chrono-tz compiles in: **one definition per zone**, the same bytes
//! in every message and feed whatever events it carries.
//!
//! Why one definition: calendar clients keep the first VTIMEZONE they see for a TZID and use it for every later
//! message (libical and so Evolution; Outlook reduces a zone to one yearly rule pair when it first meets it). A
//! definition cut down to the dates of one message is then wrong for the next message of the same event once it
//! moves across a transition. So the block depends on the zone alone: every transition from [`HISTORY_FROM_YEAR`]
//! on, with each run of transitions that follows one yearly rule written as one observance with an RRULE (an
//! UNTIL when the rule ended, none for the zone's current rules), and the rest as observances of their own.
//!
//! chrono-tz does not expose its transition table, so transitions are found by sampling the offset every six hours
//! and bisecting to the exact second wherever it changes. Building a zone's block takes a few milliseconds; it is
//! built once per zone and process and cached ([`vtimezone`]).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use chrono::{
    DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike as _,
    Utc, Weekday,
};
use chrono_tz::{OffsetComponents, OffsetName, Tz, TzOffset};

use crate::text::{escape_text, push_line};

/// Sampling step; no zone has two transitions this close together.
const STEP_SECONDS: i64 = 6 * 3600;
/// The definition starts on 1 January of this year (UTC) with the observance then in effect: earlier than any time
/// the system writes, and late enough to keep the block short.
pub const HISTORY_FROM_YEAR: i32 = 1970;
/// chrono-tz computes each zone's yearly rules up to this year and keeps the last offset after it: a yearly run of
/// transitions that reaches it is the zone's current rule and is written without UNTIL.
pub(crate) const RULES_LAST_YEAR: i32 = 2099;
/// Local time format of DTSTART inside an observance (no TZID, no `Z`).
const LOCAL_FORMAT: &str = "%Y%m%dT%H%M%S";
/// UTC format of an RRULE's UNTIL (RFC 5545 §3.6.5: always UTC inside STANDARD and DAYLIGHT).
const UTC_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The zone names that mean plain UTC: events in them are written as `…Z` times without any VTIMEZONE.
pub(crate) fn is_utc(tz: Tz) -> bool {
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

fn offset_at(tz: Tz, seconds: i64) -> TzOffset {
    let instant = DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
    tz.offset_from_utc_datetime(&instant.naive_utc())
}

fn total_seconds(offset: &TzOffset) -> i32 {
    offset.fix().local_minus_utc()
}

fn utc_seconds(year: i32) -> i64 {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .unwrap_or_default()
}

/// A UTC-OFFSET value (RFC 5545 §3.3.14): `+HHMM`, or `+HHMMSS` when there are seconds; zero is `+0000`.
pub(crate) fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

/// One change of offset (or of name) at `at` (UTC seconds).
struct Transition {
    at: i64,
    from: TzOffset,
    to: TzOffset,
}

impl Transition {
    /// The onset as local time in the offset before it, as DTSTART of an observance is written.
    fn onset(&self) -> NaiveDateTime {
        DateTime::from_timestamp(self.at + i64::from(total_seconds(&self.from)), 0)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
            .naive_utc()
    }

    /// DAYLIGHT for summer time: a positive save, or the way out of a negative one (Europe/Dublin's data calls its
    /// summer time, IST, standard and its winter time, GMT, a save of −1 h; clients and Outlook expect GMT as
    /// STANDARD and IST as DAYLIGHT).
    fn daylight(&self) -> bool {
        let (from, to) = (self.from.dst_offset(), self.to.dst_offset());
        to > Duration::zero() || (to == Duration::zero() && from < Duration::zero())
    }
}

/// Every transition in (start, end] starting from the offset `first` in effect at `start`.
fn transitions(tz: Tz, start: i64, end: i64, first: TzOffset) -> Vec<Transition> {
    let mut found = Vec::new();
    let (mut t, mut current) = (start, first);
    while t < end {
        let probe = t.saturating_add(STEP_SECONDS).min(end);
        if offset_at(tz, probe) == current {
            t = probe;
            continue;
        }
        // offset(lo) == current, offset(hi) != current: bisect to adjacent seconds.
        let (mut lo, mut hi) = (t, probe);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if offset_at(tz, mid) == current {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let next = offset_at(tz, hi);
        found.push(Transition {
            at: hi,
            from: current,
            to: next,
        });
        current = next;
        t = hi;
    }
    found
}

/// A yearly rule that picks one day of a fixed month (the month is part of the run's key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayRule {
    /// The last such weekday of the month (`BYDAY=-1SU`).
    Last(Weekday),
    /// The n-th such weekday, 1–4 (`BYDAY=2SU`).
    Nth(u32, Weekday),
    /// The same day of the month (`BYMONTHDAY=21`).
    MonthDay(u32),
    /// The first such weekday on or after a day (`Sun>=2` in the zone data: `BYDAY=SU;BYMONTHDAY=2,…,8`).
    OnOrAfter(u32, Weekday),
}

impl DayRule {
    /// Every rule that picks `date` in its year, the ones clients understand best (Outlook: n-th or last weekday)
    /// first.
    fn candidates(date: NaiveDate) -> Vec<DayRule> {
        let (day, weekday) = (date.day(), date.weekday());
        let days_in_month = date
            .with_day(1)
            .and_then(|first| first.checked_add_months(chrono::Months::new(1)))
            .map(|next| (next - Duration::days(1)).day())
            .unwrap_or(28);
        let mut rules = Vec::new();
        if day + 7 > days_in_month {
            rules.push(DayRule::Last(weekday));
        }
        if day <= 28 {
            rules.push(DayRule::Nth((day - 1) / 7 + 1, weekday));
        }
        rules.push(DayRule::MonthDay(day));
        // A week of days that this month has in every year (February: 1–28), not already an n-th weekday.
        let shortest = match date.month() {
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        for first in day.saturating_sub(6).max(1)..=day.min(shortest - 6) {
            if first % 7 != 1 {
                rules.push(DayRule::OnOrAfter(first, weekday));
            }
        }
        rules
    }

    fn rrule_part(&self) -> String {
        match *self {
            DayRule::Last(w) => format!("BYDAY=-1{}", weekday_code(w)),
            DayRule::Nth(n, w) => format!("BYDAY={n}{}", weekday_code(w)),
            DayRule::MonthDay(d) => format!("BYMONTHDAY={d}"),
            DayRule::OnOrAfter(first, w) => {
                let days: Vec<String> = (first..first + 7).map(|d| d.to_string()).collect();
                format!("BYDAY={};BYMONTHDAY={}", weekday_code(w), days.join(","))
            }
        }
    }
}

fn weekday_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// What the members of one RRULE observance share: everything written except the dates.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunKey {
    daylight: bool,
    from: i32,
    to: i32,
    name: Option<String>,
    month: u32,
    /// Seconds after local midnight of the onset.
    time: u32,
}

impl RunKey {
    fn of(t: &Transition) -> Self {
        let onset = t.onset();
        RunKey {
            daylight: t.daylight(),
            from: total_seconds(&t.from),
            to: total_seconds(&t.to),
            name: t.to.abbreviation().map(str::to_owned),
            month: onset.month(),
            time: onset.num_seconds_from_midnight(),
        }
    }
}

/// Transitions in consecutive years that share a key and at least one rule.
struct Run {
    key: RunKey,
    /// Onsets: (local in the offset before, UTC seconds).
    members: Vec<(NaiveDateTime, i64)>,
    /// The rules every member fits, best first.
    rules: Vec<DayRule>,
}

impl Run {
    fn last_year(&self) -> i32 {
        self.members
            .last()
            .map(|(local, _)| local.year())
            .unwrap_or_default()
    }
}

/// One STANDARD or DAYLIGHT sub-component as written.
struct Observance {
    daylight: bool,
    onset: NaiveDateTime,
    onset_utc: i64,
    from: i32,
    to: i32,
    name: Option<String>,
    rrule: Option<String>,
}

impl Observance {
    fn write(&self, out: &mut String) {
        let kind = if self.daylight {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        push_line(out, &format!("BEGIN:{kind}"));
        push_line(out, &format!("DTSTART:{}", self.onset.format(LOCAL_FORMAT)));
        if let Some(rrule) = &self.rrule {
            push_line(out, &format!("RRULE:{rrule}"));
        }
        push_line(out, &format!("TZOFFSETFROM:{}", format_offset(self.from)));
        push_line(out, &format!("TZOFFSETTO:{}", format_offset(self.to)));
        if let Some(name) = &self.name {
            push_line(out, &format!("TZNAME:{}", escape_text(name)));
        }
        push_line(out, &format!("END:{kind}"));
    }
}

impl From<Run> for Observance {
    fn from(run: Run) -> Self {
        let (onset, onset_utc) = run.members[0];
        let rrule = match (run.members.len(), run.rules.first()) {
            (2.., Some(rule)) => {
                let mut rrule = format!(
                    "FREQ=YEARLY;BYMONTH={};{}",
                    run.key.month,
                    rule.rrule_part()
                );
                if run.last_year() < RULES_LAST_YEAR {
                    let (_, last_utc) = run.members[run.members.len() - 1];
                    let until =
                        DateTime::from_timestamp(last_utc, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
                    rrule.push_str(&format!(";UNTIL={}", until.format(UTC_FORMAT)));
                }
                Some(rrule)
            }
            _ => None,
        };
        Observance {
            daylight: run.key.daylight,
            onset,
            onset_utc,
            from: run.key.from,
            to: run.key.to,
            name: run.key.name,
            rrule,
        }
    }
}

/// Groups transitions into yearly runs: a transition joins the run of the same key whose last member was the year
/// before, if at least one rule fits them all; otherwise it starts a run of its own. Every run's RRULE then yields
/// exactly its members (one a year, consecutive years), so the block says exactly what the zone data says.
fn runs(transitions: &[Transition]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for t in transitions {
        let key = RunKey::of(t);
        let onset = t.onset();
        let candidates = DayRule::candidates(onset.date());
        let open = runs
            .iter_mut()
            .rev()
            .find(|r| r.key == key && r.last_year() + 1 == onset.year());
        if let Some(run) = open {
            let common: Vec<DayRule> = run
                .rules
                .iter()
                .filter(|r| candidates.contains(r))
                .copied()
                .collect();
            if !common.is_empty() {
                run.rules = common;
                run.members.push((onset, t.at));
                continue;
            }
        }
        runs.push(Run {
            key,
            members: vec![(onset, t.at)],
            rules: candidates,
        });
    }
    runs
}

/// Builds the block for `tz` (see the module documentation).
fn build(tz: Tz) -> String {
    let (start, end) = (
        utc_seconds(HISTORY_FROM_YEAR),
        utc_seconds(RULES_LAST_YEAR + 1),
    );
    let first = offset_at(tz, start);
    let initial = Observance {
        daylight: first.dst_offset() > Duration::zero(),
        onset: DateTime::from_timestamp(start, 0)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
            .naive_utc(),
        onset_utc: start - i64::from(total_seconds(&first)),
        from: total_seconds(&first),
        to: total_seconds(&first),
        name: first.abbreviation().map(str::to_owned),
        rrule: None,
    };
    let mut observances = vec![initial];
    observances.extend(
        runs(&transitions(tz, start, end, first))
            .into_iter()
            .map(Observance::from),
    );
    observances.sort_by_key(|o| o.onset_utc);

    let mut out = String::new();
    push_line(&mut out, "BEGIN:VTIMEZONE");
    push_line(&mut out, &format!("TZID:{}", escape_text(tz.name())));
    for observance in &observances {
        observance.write(&mut out);
    }
    push_line(&mut out, "END:VTIMEZONE");
    out
}

/// The one VTIMEZONE block (CRLF line ends) for `tz`, the same bytes for every message and feed: TZID is the IANA
/// name; the first observance is the one in effect on 1 January [`HISTORY_FROM_YEAR`] (DTSTART that day at
/// 00:00), then every transition since, a yearly run of them as one observance with an RRULE — with UNTIL when the
/// rule ended, without for the zone's current rules — and the others one observance each. DTSTART values are local
/// times in the offset before the transition. A zone without transitions since then (Asia/Tokyo) is one STANDARD;
/// Asia/Shanghai is its 1986–1991 summer times and STANDARD since.
///
/// Built once per zone and process, then shared.
pub fn vtimezone(tz: Tz) -> Arc<str> {
    static CACHE: OnceLock<RwLock<HashMap<Tz, Arc<str>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(block) = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&tz)
    {
        return Arc::clone(block);
    }
    let block: Arc<str> = build(tz).into();
    Arc::clone(
        cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tz)
            .or_insert(block),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_formatted_with_sign_and_optional_seconds() {
        assert_eq!(format_offset(0), "+0000");
        assert_eq!(format_offset(3600), "+0100");
        assert_eq!(format_offset(-5 * 3600), "-0500");
        assert_eq!(format_offset(5 * 3600 + 45 * 60), "+0545");
        assert_eq!(format_offset(-(3 * 3600 + 30 * 60)), "-0330");
        assert_eq!(format_offset(53 * 60 + 28), "+005328");
    }

    #[test]
    fn utc_aliases_are_recognised() {
        assert!(is_utc(Tz::UTC));
        assert!(is_utc(Tz::Etc__UTC));
        assert!(is_utc(Tz::Etc__GMT));
        assert!(!is_utc(Tz::Europe__London));
        assert!(!is_utc(Tz::Africa__Abidjan));
    }

    /// The open-ended RRULEs rely on chrono-tz computing the rules through RULES_LAST_YEAR; a chrono-tz that stops
    /// earlier (or later) must fail here, not write an UNTIL into every zone's current rule.
    #[test]
    fn chrono_tz_computes_rules_through_rules_last_year() {
        for tz in [
            Tz::Europe__Berlin,
            Tz::America__New_York,
            Tz::Australia__Sydney,
        ] {
            let start = utc_seconds(RULES_LAST_YEAR);
            let found = transitions(
                tz,
                start,
                utc_seconds(RULES_LAST_YEAR + 1),
                offset_at(tz, start),
            );
            assert_eq!(
                found.len(),
                2,
                "{} switches twice in {RULES_LAST_YEAR}",
                tz.name()
            );
            let after = utc_seconds(RULES_LAST_YEAR + 1);
            let later = transitions(
                tz,
                after,
                utc_seconds(RULES_LAST_YEAR + 3),
                offset_at(tz, after),
            );
            assert!(
                later.is_empty(),
                "{} has no data after {RULES_LAST_YEAR}",
                tz.name()
            );
        }
    }

    #[test]
    fn day_rules_fit_the_dates_they_come_from() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        // 2026-03-29 is the last Sunday of March, and the fifth.
        let rules = DayRule::candidates(date(2026, 3, 29));
        assert_eq!(rules[0], DayRule::Last(Weekday::Sun));
        assert!(!rules.iter().any(|r| matches!(r, DayRule::Nth(..))));
        // 2026-03-08: second Sunday of March (US rule), not the last.
        let rules = DayRule::candidates(date(2026, 3, 8));
        assert_eq!(rules[0], DayRule::Nth(2, Weekday::Sun));
        assert!(rules.contains(&DayRule::OnOrAfter(2, Weekday::Sun)));
        assert!(
            !rules.contains(&DayRule::OnOrAfter(8, Weekday::Sun)),
            "that is Nth(2)"
        );
        // The zone data's "Oct Sun>=23" (the UK and Ireland before 1996) exists in October, not in February.
        assert!(
            DayRule::candidates(date(1989, 10, 29)).contains(&DayRule::OnOrAfter(23, Weekday::Sun))
        );
        assert!(
            !DayRule::candidates(date(2026, 2, 28)).contains(&DayRule::OnOrAfter(23, Weekday::Sat))
        );
        assert_eq!(
            DayRule::OnOrAfter(2, Weekday::Sun).rrule_part(),
            "BYDAY=SU;BYMONTHDAY=2,3,4,5,6,7,8"
        );
        assert_eq!(DayRule::Last(Weekday::Sun).rrule_part(), "BYDAY=-1SU");
    }
}
