//! Times as pages show them: in a zone (the event's, an item's own, or the visitor's), in the visitor's language.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
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

/// The zone's name with its offset at `at`: `Europe/Brussels (UTC+02:00)`.
pub fn zone_label(zone: Tz, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&zone);
    format!("{} (UTC{})", zone.name(), local.format("%:z"))
}

/// A span in one zone: `Tue 15 Jun 2027, 10:00–12:00`, or with both days when it ends on another.
pub fn span(start: DateTime<Utc>, end: DateTime<Utc>, zone: Tz, locale: Locale) -> String {
    let (s, e) = (start.with_timezone(&zone), end.with_timezone(&zone));
    if s.date_naive() == e.date_naive() {
        format!(
            "{}, {}–{}",
            date(s.date_naive(), locale),
            clock(&s),
            clock(&e)
        )
    } else {
        format!(
            "{}, {} – {}, {}",
            date(s.date_naive(), locale),
            clock(&s),
            date(e.date_naive(), locale),
            clock(&e)
        )
    }
}

/// An instant for a list (registrations, messages): `2027-06-15 10:00` in `zone`.
pub fn moment(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

/// A wall-clock time for an `<input type="datetime-local">`: `2027-06-15T10:00` in `zone`.
pub fn wall_clock(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_the_zone_and_language() {
        let start = Utc
            .with_ymd_and_hms(2027, 6, 15, 8, 0, 0)
            .single()
            .expect("time");
        let end = Utc
            .with_ymd_and_hms(2027, 6, 15, 10, 0, 0)
            .single()
            .expect("time");
        let brussels = zone("Europe/Brussels").expect("zone");
        let shanghai = zone("Asia/Shanghai").expect("zone");
        assert_eq!(
            span(start, end, brussels, Locale::En),
            "Tue 15 Jun 2027, 10:00–12:00"
        );
        assert_eq!(
            span(start, end, shanghai, Locale::ZhCn),
            "2027年6月15日（周二）, 16:00–18:00"
        );
        assert_eq!(zone_label(shanghai, start), "Asia/Shanghai (UTC+08:00)");
        let late = Utc
            .with_ymd_and_hms(2027, 6, 15, 20, 0, 0)
            .single()
            .expect("time");
        assert_eq!(
            span(start, late, shanghai, Locale::En),
            "Tue 15 Jun 2027, 16:00 – Wed 16 Jun 2027, 04:00"
        );
    }
}
