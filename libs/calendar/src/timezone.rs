//! VTIMEZONE blocks built from the IANA data that chrono-tz compiles in.
//!
//! chrono-tz does not expose its transition table, so transitions are found by sampling the offset every six hours
//! and bisecting to the exact second wherever it changes. The block is an explicit list of observances (one
//! STANDARD or DAYLIGHT per transition, no RRULE), which RFC 5545 allows and which stays right when a zone changes
//! its rules: it holds the observance in effect at the first instant and every transition up to the last.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz, TzOffset};

use crate::text::{escape_text, push_line};

/// Sampling step; no zone has two transitions this close together.
const STEP_SECONDS: i64 = 6 * 3600;
/// How far back to look for the transition that began the observance in effect at the first instant.
const LOOKBACK_SECONDS: i64 = 5 * 366 * 24 * 3600;
/// Local time format of DTSTART inside an observance (no TZID, no `Z`).
const LOCAL_FORMAT: &str = "%Y%m%dT%H%M%S";

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

/// One STANDARD or DAYLIGHT sub-component.
struct Observance {
    /// Onset as local time in the offset before it (TZOFFSETFROM).
    onset: NaiveDateTime,
    from: TzOffset,
    to: TzOffset,
}

impl Observance {
    fn at(seconds: i64, from: TzOffset, to: TzOffset) -> Self {
        let local = seconds + i64::from(total_seconds(&from));
        let onset = DateTime::from_timestamp(local, 0)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
            .naive_utc();
        Observance { onset, from, to }
    }

    fn write(&self, out: &mut String) {
        // DST is a positive save; a negative one (Europe/Dublin's winter in the vanguard data) is standard time.
        let kind = if self.to.dst_offset() > Duration::zero() {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        push_line(out, &format!("BEGIN:{kind}"));
        push_line(out, &format!("DTSTART:{}", self.onset.format(LOCAL_FORMAT)));
        push_line(
            out,
            &format!("TZOFFSETFROM:{}", format_offset(total_seconds(&self.from))),
        );
        push_line(
            out,
            &format!("TZOFFSETTO:{}", format_offset(total_seconds(&self.to))),
        );
        if let Some(name) = self.to.abbreviation() {
            push_line(out, &format!("TZNAME:{}", escape_text(name)));
        }
        push_line(out, &format!("END:{kind}"));
    }
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

/// The transition into `current` (in effect at `start`) as (instant, offset before), if one lies within the lookback.
fn onset_of(tz: Tz, start: i64, current: TzOffset) -> Option<(i64, TzOffset)> {
    let limit = start.saturating_sub(LOOKBACK_SECONDS);
    let mut t = start;
    while t > limit {
        let probe = (t - STEP_SECONDS).max(limit);
        if offset_at(tz, probe) != current {
            // offset(lo) != current, offset(hi) == current: bisect to adjacent seconds.
            let (mut lo, mut hi) = (probe, t);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid) == current {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            return Some((hi, offset_at(tz, lo)));
        }
        t = probe;
    }
    None
}

/// Every transition in (start, end] as (instant, offset before, offset after).
fn transitions(tz: Tz, start: i64, end: i64, first: TzOffset) -> Vec<(i64, TzOffset, TzOffset)> {
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
        found.push((hi, current, next));
        current = next;
        t = hi;
    }
    found
}

/// One VTIMEZONE block (CRLF line ends) for `tz` that covers every instant from `from` to `to`: the observance in
/// effect at `from` (with the local onset of the transition that began it, or 1970-01-01 when it is older than the
/// five-year lookback) and every transition up to `to`. TZID is the IANA name; DTSTART values are local times in
/// the offset before the transition. Zones without transitions (Asia/Shanghai) give one STANDARD.
pub fn vtimezone(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let (from, to) = if from <= to { (from, to) } else { (to, from) };
    let (start, end) = (from.timestamp(), to.timestamp());
    let first = offset_at(tz, start);

    let mut observances = Vec::new();
    match onset_of(tz, start, first) {
        Some((at, before)) => observances.push(Observance::at(at, before, first)),
        None => {
            // Unchanged for years: a fixed early onset, earlier than `from` even for dates before 1970.
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or(NaiveDateTime::MIN);
            let limit = DateTime::from_timestamp(start.saturating_sub(LOOKBACK_SECONDS), 0)
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
                .date_naive()
                .and_time(NaiveTime::MIN);
            observances.push(Observance {
                onset: epoch.min(limit),
                from: first,
                to: first,
            });
        }
    }
    for (at, before, after) in transitions(tz, start, end, first) {
        observances.push(Observance::at(at, before, after));
    }

    let mut out = String::new();
    push_line(&mut out, "BEGIN:VTIMEZONE");
    push_line(&mut out, &format!("TZID:{}", escape_text(tz.name())));
    for observance in &observances {
        observance.write(&mut out);
    }
    push_line(&mut out, "END:VTIMEZONE");
    out
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
}
