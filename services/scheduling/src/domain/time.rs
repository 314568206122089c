//! Instants, zones and spans. Instants are stored in UTC; every event and agenda item also carries its IANA zone,
//! in which people see it. Input may be RFC 3339 with an offset (an instant) or a wall-clock time without one,
//! read in the item's zone — how organisers think of a tour ("09:30 in Nanjing").

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;

use super::fields::Invalid;

/// An IANA time zone name that the zone database knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(Tz);

impl TimeZone {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Invalid::new("required", "must not be empty"));
        }
        value.parse::<Tz>().map(Self).map_err(|_| {
            Invalid::new(
                "invalid_timezone",
                format!("{value:?} is not an IANA time zone name such as Europe/Berlin"),
            )
        })
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// `instant` as the wall-clock time and offset of this zone.
    pub fn local(self, instant: DateTime<Utc>) -> DateTime<FixedOffset> {
        instant.with_timezone(&self.0).fixed_offset()
    }
}

/// Reads an instant: RFC 3339 with an offset, or a wall-clock time (`2026-05-12T09:30` or with seconds) in `zone`.
/// A wall-clock time the clocks skip (spring forward) is refused; one they pass twice (fall back) means the first.
pub fn parse_instant(value: &str, zone: TimeZone) -> Result<DateTime<Utc>, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Invalid::new("required", "must not be empty"));
    }
    // RFC 3339, and the same without seconds (`2027-05-16T20:00+08:00`), which people write too.
    if let Ok(instant) = DateTime::parse_from_rfc3339(value)
        .or_else(|_| DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M%:z"))
    {
        return Ok(instant.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M"))
        .map_err(|_| {
            Invalid::new(
                "invalid_datetime",
                "must be an RFC 3339 time like 2026-05-12T09:30:00+08:00, or 2026-05-12T09:30 in the item's zone",
            )
        })?;
    match zone.tz().from_local_datetime(&naive) {
        LocalResult::Single(local) => Ok(local.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(Invalid::new(
            "nonexistent_local_time",
            format!(
                "{value} does not exist in {} (the clocks skip it)",
                zone.name()
            ),
        )),
    }
}

/// A stretch of time: start strictly before end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Span {
    pub fn new(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Result<Self, Invalid> {
        if starts_at < ends_at {
            Ok(Self { starts_at, ends_at })
        } else {
            Err(Invalid::new("ends_before_start", "must be after starts_at"))
        }
    }

    /// Share some time (touching ends do not overlap: a talk may start when the last one ends).
    pub fn overlaps(&self, other: &Span) -> bool {
        self.starts_at < other.ends_at && other.starts_at < self.ends_at
    }

    pub fn contains(&self, other: &Span) -> bool {
        self.starts_at <= other.starts_at && other.ends_at <= self.ends_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name).expect("zone")
    }

    #[test]
    fn wall_clock_times_are_read_in_the_zone() {
        let berlin = zone("Europe/Berlin");
        // 29 March 2026: Berlin moves from +01:00 to +02:00 at 02:00 local.
        let before = parse_instant("2026-03-29T01:30", berlin).expect("before");
        assert_eq!(before.to_rfc3339(), "2026-03-29T00:30:00+00:00");
        let after = parse_instant("2026-03-29T09:00", berlin).expect("after");
        assert_eq!(after.to_rfc3339(), "2026-03-29T07:00:00+00:00");
        assert_eq!(
            parse_instant("2026-03-29T02:30", berlin)
                .expect_err("skipped")
                .code,
            "nonexistent_local_time"
        );
        // 25 October 2026: 02:30 happens twice; the first (+02:00) is meant.
        let twice = parse_instant("2026-10-25T02:30", berlin).expect("ambiguous");
        assert_eq!(twice.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        let shanghai = parse_instant("2026-05-12T09:30", zone("Asia/Shanghai")).expect("cn");
        assert_eq!(shanghai.to_rfc3339(), "2026-05-12T01:30:00+00:00");
        let explicit = parse_instant("2026-05-12T09:30:00+08:00", berlin).expect("offset wins");
        assert_eq!(explicit, shanghai);
        let no_seconds = parse_instant("2026-05-12T09:30+08:00", berlin).expect("without seconds");
        assert_eq!(no_seconds, shanghai);
    }

    #[test]
    fn zones_must_be_iana_names() {
        assert!(TimeZone::parse("Asia/Shanghai").is_ok());
        assert_eq!(
            TimeZone::parse("Mars/Olympus").expect_err("unknown").code,
            "invalid_timezone"
        );
        assert_eq!(
            TimeZone::parse("CET+1").expect_err("unknown").code,
            "invalid_timezone"
        );
    }

    #[test]
    fn spans() {
        let t = |h: u32| {
            Utc.with_ymd_and_hms(2026, 5, 12, h, 0, 0)
                .single()
                .expect("time")
        };
        assert!(Span::new(t(10), t(9)).is_err());
        assert!(Span::new(t(10), t(10)).is_err());
        let a = Span::new(t(9), t(11)).expect("a");
        let b = Span::new(t(11), t(12)).expect("b");
        let c = Span::new(t(10), t(12)).expect("c");
        assert!(!a.overlaps(&b), "touching is not overlapping");
        assert!(a.overlaps(&c) && c.overlaps(&a));
        assert!(Span::new(t(8), t(13)).expect("outer").contains(&a));
    }
}
