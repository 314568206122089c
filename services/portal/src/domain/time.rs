//! Times as pages show them: in a zone (the event's, an item's own, or the visitor's), in the visitor's language.

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::i18n::Locale;

/// An IANA zone by name.
pub fn zone(name: &str) -> Option<Tz> {
    name.trim().parse::<Tz>().ok()
}

fn weekday_zh(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "周一",
        Weekday::Tue => "周二",
        Weekday::Wed => "周三",
        Weekday::Thu => "周四",
        Weekday::Fri => "周五",
        Weekday::Sat => "周六",
        Weekday::Sun => "周日",
    }
}

/// A day: `Tue 15 Jun 2027` or `2027年6月15日（周二）`.
pub fn date(day: NaiveDate, locale: Locale) -> String {
    match locale {
        Locale::En => day.format("%a %-d %b %Y").to_string(),
        Locale::ZhCn => format!(
            "{}年{}月{}日（{}）",
            day.year(),
            day.month(),
            day.day(),
            weekday_zh(day.weekday())
        ),
    }
}

/// `10:00`.
pub fn clock<Z: TimeZone>(at: &DateTime<Z>) -> String
where
    Z::Offset: std::fmt::Display,
{
    at.format("%H:%M").to_string()
}

/// The zone's offset from UTC at `at`, as nobody can mistake it (never an abbreviation such as `CST`): `UTC+8`,
/// `UTC+5:30`, `UTC-3`, `UTC` itself.
pub fn offset(zone: Tz, at: DateTime<Utc>) -> String {
    let seconds = at.with_timezone(&zone).offset().fix().local_minus_utc();
    if seconds == 0 {
        return "UTC".to_owned();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    let (h, m) = (minutes / 60, minutes % 60);
    if m == 0 {
        format!("UTC{sign}{h}")
    } else {
        format!("UTC{sign}{h}:{m:02}")
    }
}

/// The zone's name with its offset at `at`: `Europe/Brussels (UTC+2)`, in Chinese `Europe/Brussels（UTC+2）`.
pub fn zone_label(zone: Tz, at: DateTime<Utc>, locale: Locale) -> String {
    match locale {
        Locale::En => format!("{} ({})", zone.name(), offset(zone, at)),
        Locale::ZhCn => format!("{}（{}）", zone.name(), offset(zone, at)),
    }
}

/// A day and a time: `Tue 15 Jun 2027, 10:00`, in Chinese `2027年6月15日（周二）10:00`.
fn day_and_clock(at: &DateTime<Tz>, locale: Locale) -> String {
    match locale {
        Locale::En => format!("{}, {}", date(at.date_naive(), locale), clock(at)),
        Locale::ZhCn => format!("{}{}", date(at.date_naive(), locale), clock(at)),
    }
}

/// A time with its offset: `10:00 UTC+2`.
fn zoned_clock(at: &DateTime<Tz>) -> String {
    format!(
        "{} {}",
        clock(at),
        offset(at.timezone(), at.with_timezone(&Utc))
    )
}

/// A span, its start in `start_zone` and its end in `end_zone` (a tour that ends in another city, a flight), each
/// with its offset: `Tue 15 Jun 2027, 10:00–12:00 UTC+2`, or `Wed 1 Sep 2027, 09:00 UTC+2 – Sun 5 Sep 2027, 18:00 UTC+8`
/// when it ends on another day or in another offset.
pub fn span(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    start_zone: Tz,
    end_zone: Tz,
    locale: Locale,
) -> String {
    let (s, e) = (
        start.with_timezone(&start_zone),
        end.with_timezone(&end_zone),
    );
    let same_offset = offset(start_zone, start) == offset(end_zone, end);
    if s.date_naive() == e.date_naive() && same_offset {
        format!(
            "{}–{} {}",
            day_and_clock(&s, locale),
            clock(&e),
            offset(end_zone, end)
        )
    } else if s.date_naive() == e.date_naive() {
        format!(
            "{} {} – {}",
            day_and_clock(&s, locale),
            offset(start_zone, start),
            zoned_clock(&e)
        )
    } else {
        format!(
            "{} {} – {} {}",
            day_and_clock(&s, locale),
            offset(start_zone, start),
            day_and_clock(&e, locale),
            offset(end_zone, end)
        )
    }
}

/// An agenda item's times under its day's heading, each end in its own zone with its offset: `10:00–10:45 UTC+2`,
/// `13:00 UTC+2 – Thu 2 Sep 2027, 06:00 UTC+8` (the day shown when it ends on another one).
pub fn item_span(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    start_zone: Tz,
    end_zone: Tz,
    locale: Locale,
) -> String {
    let (s, e) = (
        start.with_timezone(&start_zone),
        end.with_timezone(&end_zone),
    );
    let same_offset = offset(start_zone, start) == offset(end_zone, end);
    if s.date_naive() == e.date_naive() && same_offset {
        format!("{}–{}", clock(&s), zoned_clock(&e))
    } else if s.date_naive() == e.date_naive() {
        format!("{} – {}", zoned_clock(&s), zoned_clock(&e))
    } else {
        format!(
            "{} – {} {}",
            zoned_clock(&s),
            day_and_clock(&e, locale),
            offset(end_zone, end)
        )
    }
}

/// An instant for a list (registrations, messages), labelled with its offset: `2027-06-15 10:00 UTC+2` in `zone`.
pub fn moment(at: DateTime<Utc>, zone: Tz) -> String {
    format!(
        "{} {}",
        at.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
        offset(zone, at)
    )
}

/// A wall-clock time for an `<input type="datetime-local">`: `2027-06-15T10:00` in `zone`.
pub fn wall_clock(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string()
}

/// A wall-clock time from an `<input type="datetime-local">` (`2027-06-15T10:00`, seconds optional) in `zone`, as
/// an instant; in a repeated hour the earlier one, in a skipped hour `None`.
pub fn from_wall_clock(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn spans_read_in_the_zone_and_language_with_offsets() {
        let (start, end) = (at(2027, 6, 15, 8, 0), at(2027, 6, 15, 10, 0));
        let brussels = zone("Europe/Brussels").expect("zone");
        let shanghai = zone("Asia/Shanghai").expect("zone");
        assert_eq!(
            span(start, end, brussels, brussels, Locale::En),
            "Tue 15 Jun 2027, 10:00–12:00 UTC+2"
        );
        assert_eq!(
            span(start, end, shanghai, shanghai, Locale::ZhCn),
            "2027年6月15日（周二）16:00–18:00 UTC+8"
        );
        assert_eq!(
            zone_label(shanghai, start, Locale::En),
            "Asia/Shanghai (UTC+8)"
        );
        assert_eq!(
            zone_label(shanghai, start, Locale::ZhCn),
            "Asia/Shanghai（UTC+8）"
        );
        let late = at(2027, 6, 15, 20, 0);
        assert_eq!(
            span(start, late, shanghai, shanghai, Locale::En),
            "Tue 15 Jun 2027, 16:00 UTC+8 – Wed 16 Jun 2027, 04:00 UTC+8"
        );
        // A tour from Berlin to Nanjing ends in Nanjing's zone.
        let berlin = zone("Europe/Berlin").expect("zone");
        assert_eq!(
            span(
                at(2027, 9, 1, 7, 0),
                at(2027, 9, 5, 10, 0),
                berlin,
                shanghai,
                Locale::En
            ),
            "Wed 1 Sep 2027, 09:00 UTC+2 – Sun 5 Sep 2027, 18:00 UTC+8"
        );
        // The repeated hour of 31 October 2027 reads differently before and after the change.
        assert_eq!(
            item_span(
                at(2027, 10, 31, 0, 30),
                at(2027, 10, 31, 2, 0),
                berlin,
                berlin,
                Locale::En
            ),
            "02:30 UTC+2 – 03:00 UTC+1"
        );
        assert_eq!(
            item_span(
                at(2027, 10, 31, 1, 30),
                at(2027, 10, 31, 2, 0),
                berlin,
                berlin,
                Locale::En
            ),
            "02:30–03:00 UTC+1"
        );
        assert_eq!(
            offset(zone("Asia/Kolkata").expect("zone"), start),
            "UTC+5:30"
        );
        assert_eq!(
            offset(zone("America/New_York").expect("zone"), start),
            "UTC-4"
        );
        assert_eq!(
            offset(zone("Europe/London").expect("zone"), at(2027, 1, 5, 0, 0)),
            "UTC"
        );
        assert_eq!(moment(start, brussels), "2027-06-15 10:00 UTC+2");
        assert_eq!(from_wall_clock("2027-06-15T10:00", brussels), Some(start));
        assert_eq!(from_wall_clock("2027-03-28T02:30", brussels), None);
    }
}
