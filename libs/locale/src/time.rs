//! Times as people read them, in a zone and a language: one set of rules for the emails and the pages.
//!
//! The pieces are shared: a date (`Saturday 15 May 2027` in letters, `Sat 15 May 2027` on pages;
//! `2027年5月15日（周六）` in Chinese in both, weekdays always 周一…周日), a clock (`09:30`), a UTC offset at that
//! moment (`UTC+2`, `UTC+5:45`, `UTC-3`, `UTC`) and a zone's IANA name. Two layouts put them together:
//!
//! - **labelled** ([`labelled_span`], [`labelled_instant`]): each time carries its zone's name, for an email
//!   read anywhere — `Saturday 15 May 2027, 09:30–11:00 UTC+2 (Europe/Berlin)`,
//!   `2027年5月15日（周六）09:30–11:00 UTC+2（Europe/Berlin）`;
//! - **compact** ([`span`], [`item_span`], [`moment`]): offsets only, for a page that names the zone once
//!   ([`zone_label`]) — `Tue 15 Jun 2027, 10:00–12:00 UTC+2`.
//!
//! Both name both offsets when they differ (a daylight-saving change between start and end, or an end in another
//! zone), so the repeated hour of 31 October 2027 in Berlin reads `02:30 UTC+2` and `02:30 UTC+1`; both keep an
//! end's date when it falls on another day (an overnight flight). Weekday and month names are written out here
//! rather than taken from chrono's unstable locale support.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::Locale;

/// How long a date's English names are: letters write them out, pages abbreviate (Chinese is the same in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `Saturday 15 May 2027`.
    Long,
    /// `Sat 15 May 2027`.
    Short,
}

impl Style {
    /// An English day or month name in this style: whole, or its first three letters (as chrono's `%a %b`).
    fn name(self, name: &'static str) -> &'static str {
        match self {
            Self::Long => name,
            Self::Short => name.get(..3).unwrap_or(name),
        }
    }
}

const EN_WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The one way Chinese weekdays are written, everywhere (never 星期六).
pub const ZH_WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// An IANA zone by name (surrounding spaces ignored).
pub fn zone(name: &str) -> Option<Tz> {
    name.trim().parse::<Tz>().ok()
}

/// A day: `Saturday 15 May 2027` (long) or `Sat 15 May 2027` (short); `2027年5月15日（周六）` in Chinese.
pub fn date_in(day: NaiveDate, locale: Locale, style: Style) -> String {
    let weekday = day.weekday().num_days_from_monday() as usize;
    match locale {
        Locale::En => format!(
            "{} {} {} {}",
            style.name(EN_WEEKDAYS[weekday]),
            day.day(),
            style.name(EN_MONTHS[day.month0() as usize]),
            day.year()
        ),
        Locale::ZhCn => format!(
            "{}年{}月{}日（{}）",
            day.year(),
            day.month(),
            day.day(),
            ZH_WEEKDAYS[weekday]
        ),
    }
}

/// A day as pages show it: `Tue 15 Jun 2027` or `2027年6月15日（周二）`.
pub fn date(day: NaiveDate, locale: Locale) -> String {
    date_in(day, locale, Style::Short)
}

/// `10:00`.
pub fn clock<Z: TimeZone>(at: &DateTime<Z>) -> String
where
    Z::Offset: std::fmt::Display,
{
    at.format("%H:%M").to_string()
}

/// A day and a time: `Saturday 15 May 2027, 09:30` / `Tue 15 Jun 2027, 10:00`, in Chinese
/// `2027年6月15日（周二）10:00`.
pub fn day_and_clock(at: &DateTime<Tz>, locale: Locale, style: Style) -> String {
    let day = date_in(at.date_naive(), locale, style);
    match locale {
        Locale::En => format!("{day}, {}", clock(at)),
        Locale::ZhCn => format!("{day}{}", clock(at)),
    }
}

/// The zone's offset from UTC at that moment, which no reader can mistake: `UTC+2`, `UTC+8`, `UTC+5:45`, `UTC-3`,
/// and `UTC` itself.
pub fn utc_offset(local: &DateTime<Tz>) -> String {
    let seconds = offset_seconds(local);
    if seconds == 0 {
        return "UTC".to_owned();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    match minutes % 60 {
        0 => format!("UTC{sign}{}", minutes / 60),
        rest => format!("UTC{sign}{}:{rest:02}", minutes / 60),
    }
}

/// [`utc_offset`] of `zone` at `at`.
pub fn offset(zone: Tz, at: DateTime<Utc>) -> String {
    utc_offset(&at.with_timezone(&zone))
}

fn offset_seconds(local: &DateTime<Tz>) -> i32 {
    local.offset().fix().local_minus_utc()
}

/// Whether two instants fall on the same calendar day in `tz`.
pub fn same_day(a: DateTime<Utc>, b: DateTime<Utc>, tz: Tz) -> bool {
    a.with_timezone(&tz).date_naive() == b.with_timezone(&tz).date_naive()
}

/// Whether two zones are at the same UTC offset at `at`.
pub fn same_offset(at: DateTime<Utc>, a: Tz, b: Tz) -> bool {
    offset_seconds(&at.with_timezone(&a)) == offset_seconds(&at.with_timezone(&b))
}

/// The zone's name with its offset at `at`: `Europe/Brussels (UTC+2)`, in Chinese `Europe/Brussels（UTC+2）`.
pub fn zone_label(zone: Tz, at: DateTime<Utc>, locale: Locale) -> String {
    match locale {
        Locale::En => format!("{} ({})", zone.name(), offset(zone, at)),
        Locale::ZhCn => format!("{}（{}）", zone.name(), offset(zone, at)),
    }
}

/// A point in time with its offset, without the zone's name, with or without its (long) date: English
/// `Saturday 15 May 2027, 09:30 UTC+2` or `09:30 UTC+2`; Chinese `2027年5月15日（周六）09:30 UTC+2` or `09:30 UTC+2`.
pub fn stamp(at: DateTime<Utc>, tz: Tz, locale: Locale, dated: bool) -> String {
    let local = at.with_timezone(&tz);
    let time = if dated {
        day_and_clock(&local, locale, Style::Long)
    } else {
        clock(&local)
    };
    format!("{time} {}", utc_offset(&local))
}

/// One point in time labelled with its zone: `Saturday 15 May 2027, 09:30 UTC+2 (Europe/Berlin)` or
/// `2027年5月15日（周六）09:30 UTC+2（Europe/Berlin）`.
pub fn labelled_instant(at: DateTime<Utc>, tz: Tz, locale: Locale) -> String {
    match locale {
        Locale::En => format!("{} ({})", stamp(at, tz, locale, true), tz.name()),
        Locale::ZhCn => format!("{}（{}）", stamp(at, tz, locale, true), tz.name()),
    }
}

/// A span labelled with its zones, as letters write it, each end in its own zone.
///
/// In one zone, on one day: `Saturday 15 May 2027, 09:30–11:00 UTC+2 (Europe/Berlin)`; across days:
/// `Wednesday 12 May 2027, 09:00 – Sunday 16 May 2027, 17:00 UTC+8 (Asia/Shanghai)`; in Chinese
/// `2027年5月15日（周六）09:30–11:00 UTC+2（Europe/Berlin）` and
/// `2027年5月12日（周三）09:00 至 2027年5月16日（周日）17:00 UTC+8（Asia/Shanghai）`. When the offset differs between
/// start and end (a daylight-saving switch in between), both are named:
/// `Sunday 31 October 2027, 02:30 UTC+2 – 04:00 UTC+1 (Europe/Berlin)`.
///
/// In two zones (a flight from Berlin to Guangzhou, a tour ending in Nanjing), each with its name:
/// `Monday 10 May 2027, 20:00 UTC+2 (Europe/Berlin) – Tuesday 11 May 2027, 13:30 UTC+8 (Asia/Shanghai)`;
/// `2027年5月10日（周一）20:00 UTC+2（Europe/Berlin）至 2027年5月11日（周二）13:30 UTC+8（Asia/Shanghai）`.
pub fn labelled_span(
    starts: DateTime<Utc>,
    start_tz: Tz,
    ends: DateTime<Utc>,
    end_tz: Tz,
    locale: Locale,
) -> String {
    let (start, end) = (starts.with_timezone(&start_tz), ends.with_timezone(&end_tz));
    let same_day = start.date_naive() == end.date_naive();
    let (start_offset, end_offset) = (utc_offset(&start), utc_offset(&end));
    let dated = |at: &DateTime<Tz>| day_and_clock(at, locale, Style::Long);
    let end_part = if same_day { clock(&end) } else { dated(&end) };
    if start_tz != end_tz {
        return match locale {
            Locale::En => format!(
                "{} {start_offset} ({}) – {end_part} {end_offset} ({})",
                dated(&start),
                start_tz.name(),
                end_tz.name()
            ),
            Locale::ZhCn => format!(
                "{} {start_offset}（{}）至 {end_part} {end_offset}（{}）",
                dated(&start),
                start_tz.name(),
                end_tz.name()
            ),
        };
    }
    let name = start_tz.name();
    let day = date_in(start.date_naive(), locale, Style::Long);
    match (locale, start_offset == end_offset, same_day) {
        (Locale::En, true, true) => format!(
            "{day}, {}–{} {end_offset} ({name})",
            clock(&start),
            clock(&end)
        ),
        (Locale::En, true, false) => {
            format!("{} – {} {end_offset} ({name})", dated(&start), dated(&end))
        }
        (Locale::En, false, _) => format!(
            "{} {start_offset} – {end_part} {end_offset} ({name})",
            dated(&start)
        ),
        (Locale::ZhCn, true, true) => format!(
            "{day}{}–{} {end_offset}（{name}）",
            clock(&start),
            clock(&end)
        ),
        (Locale::ZhCn, true, false) => format!(
            "{} 至 {} {end_offset}（{name}）",
            dated(&start),
            dated(&end)
        ),
        (Locale::ZhCn, false, _) => format!(
            "{} {start_offset} 至 {end_part} {end_offset}（{name}）",
            dated(&start)
        ),
    }
}

/// A time with its offset: `10:00 UTC+2`.
fn zoned_clock(at: &DateTime<Tz>) -> String {
    format!("{} {}", clock(at), utc_offset(at))
}

/// A span as pages show it, its start in `start_zone` and its end in `end_zone` (a tour that ends in another city,
/// a flight), each with its offset: `Tue 15 Jun 2027, 10:00–12:00 UTC+2`, or
/// `Wed 1 Sep 2027, 09:00 UTC+2 – Sun 5 Sep 2027, 18:00 UTC+8` when it ends on another day or in another offset.
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
    let dated = |at: &DateTime<Tz>| day_and_clock(at, locale, Style::Short);
    let same_offset = utc_offset(&s) == utc_offset(&e);
    if s.date_naive() == e.date_naive() && same_offset {
        format!("{}–{} {}", dated(&s), clock(&e), utc_offset(&e))
    } else if s.date_naive() == e.date_naive() {
        format!("{} {} – {}", dated(&s), utc_offset(&s), zoned_clock(&e))
    } else {
        format!(
            "{} {} – {} {}",
            dated(&s),
            utc_offset(&s),
            dated(&e),
            utc_offset(&e)
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
    let same_offset = utc_offset(&s) == utc_offset(&e);
    if s.date_naive() == e.date_naive() && same_offset {
        format!("{}–{}", clock(&s), zoned_clock(&e))
    } else if s.date_naive() == e.date_naive() {
        format!("{} – {}", zoned_clock(&s), zoned_clock(&e))
    } else {
        format!(
            "{} – {} {}",
            zoned_clock(&s),
            day_and_clock(&e, locale, Style::Short),
            utc_offset(&e)
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
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn span1(s: DateTime<Utc>, e: DateTime<Utc>, tz: Tz, locale: Locale) -> String {
        labelled_span(s, tz, e, tz, locale)
    }

    #[test]
    fn dates_in_both_styles_and_languages() {
        let day = NaiveDate::from_ymd_opt(2027, 9, 1).unwrap();
        assert_eq!(
            date_in(day, Locale::En, Style::Long),
            "Wednesday 1 September 2027"
        );
        assert_eq!(date_in(day, Locale::En, Style::Short), "Wed 1 Sep 2027");
        assert_eq!(
            date(day, Locale::En),
            day.format("%a %-d %b %Y").to_string()
        );
        for style in [Style::Long, Style::Short] {
            assert_eq!(date_in(day, Locale::ZhCn, style), "2027年9月1日（周三）");
        }
        // Every weekday and month, short as chrono writes them.
        for offset in 0..366 {
            let day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + chrono::Days::new(offset);
            assert_eq!(
                date(day, Locale::En),
                day.format("%a %-d %b %Y").to_string()
            );
            assert!(!date(day, Locale::ZhCn).contains("星期"));
        }
    }

    #[test]
    fn the_same_day_reads_the_same_in_letters_and_pages_in_chinese() {
        let (s, e) = (utc(2027, 6, 15, 8, 0), utc(2027, 6, 15, 10, 0));
        assert_eq!(
            span(s, e, Europe::Brussels, Europe::Brussels, Locale::ZhCn),
            "2027年6月15日（周二）10:00–12:00 UTC+2"
        );
        assert_eq!(
            span1(s, e, Europe::Brussels, Locale::ZhCn),
            "2027年6月15日（周二）10:00–12:00 UTC+2（Europe/Brussels）"
        );
    }

    #[test]
    fn labelled_span_on_one_day_in_summer_and_winter_time() {
        let (s, e) = (utc(2027, 5, 15, 7, 30), utc(2027, 5, 15, 9, 0));
        assert_eq!(
            span1(s, e, Europe::Berlin, Locale::En),
            "Saturday 15 May 2027, 09:30–11:00 UTC+2 (Europe/Berlin)"
        );
        assert_eq!(
            span1(s, e, Europe::Berlin, Locale::ZhCn),
            "2027年5月15日（周六）09:30–11:00 UTC+2（Europe/Berlin）"
        );
        let (s, e) = (utc(2027, 1, 11, 8, 0), utc(2027, 1, 11, 9, 30));
        assert_eq!(
            span1(s, e, Europe::Berlin, Locale::En),
            "Monday 11 January 2027, 09:00–10:30 UTC+1 (Europe/Berlin)"
        );
        assert_eq!(
            span1(s, e, Europe::Berlin, Locale::ZhCn),
            "2027年1月11日（周一）09:00–10:30 UTC+1（Europe/Berlin）"
        );
    }

    #[test]
    fn labelled_span_across_days_and_at_midnight() {
        let (s, e) = (utc(2027, 5, 12, 1, 0), utc(2027, 5, 16, 9, 0));
        assert_eq!(
            span1(s, e, Asia::Shanghai, Locale::En),
            "Wednesday 12 May 2027, 09:00 – Sunday 16 May 2027, 17:00 UTC+8 (Asia/Shanghai)"
        );
        assert_eq!(
            span1(s, e, Asia::Shanghai, Locale::ZhCn),
            "2027年5月12日（周三）09:00 至 2027年5月16日（周日）17:00 UTC+8（Asia/Shanghai）"
        );
        let (s, e) = (utc(2027, 5, 15, 20, 0), utc(2027, 5, 15, 22, 0));
        assert_eq!(
            span1(s, e, Europe::Berlin, Locale::En),
            "Saturday 15 May 2027, 22:00 – Sunday 16 May 2027, 00:00 UTC+2 (Europe/Berlin)"
        );
    }

    #[test]
    fn the_skipped_hour_names_both_offsets() {
        // Berlin springs forward at 01:00 UTC on Sunday 28 March 2027.
        let (s, e) = (utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1, 30));
        assert_eq!(
            span1(s, e, Europe::Berlin, Locale::En),
            "Sunday 28 March 2027, 01:30 UTC+1 – 03:30 UTC+2 (Europe/Berlin)"
        );
        assert_eq!(
            span1(s, e, Europe::Berlin, Locale::ZhCn),
            "2027年3月28日（周日）01:30 UTC+1 至 03:30 UTC+2（Europe/Berlin）"
        );
        // 02:30 that day never happens on a Berlin clock.
        assert_eq!(from_wall_clock("2027-03-28T02:30", Europe::Berlin), None);
        assert_eq!(
            from_wall_clock("2027-03-28T03:30:00", Europe::Berlin),
            Some(utc(2027, 3, 28, 1, 30))
        );
    }

    #[test]
    fn the_repeated_hour_reads_differently() {
        // Berlin falls back at 01:00 UTC on Sunday 31 October 2027: 02:30 comes twice.
        let (first, second) = (utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 1, 30));
        for locale in Locale::ALL {
            assert_ne!(
                labelled_instant(first, Europe::Berlin, locale),
                labelled_instant(second, Europe::Berlin, locale)
            );
        }
        assert_eq!(
            labelled_instant(first, Europe::Berlin, Locale::En),
            "Sunday 31 October 2027, 02:30 UTC+2 (Europe/Berlin)"
        );
        assert_eq!(
            labelled_instant(second, Europe::Berlin, Locale::ZhCn),
            "2027年10月31日（周日）02:30 UTC+1（Europe/Berlin）"
        );
        let end = utc(2027, 10, 31, 3, 0);
        assert_eq!(
            span1(first, end, Europe::Berlin, Locale::En),
            "Sunday 31 October 2027, 02:30 UTC+2 – 04:00 UTC+1 (Europe/Berlin)"
        );
        assert_eq!(
            span1(first, end, Europe::Berlin, Locale::ZhCn),
            "2027年10月31日（周日）02:30 UTC+2 至 04:00 UTC+1（Europe/Berlin）"
        );
        let berlin = Europe::Berlin;
        assert_eq!(
            item_span(first, utc(2027, 10, 31, 2, 0), berlin, berlin, Locale::En),
            "02:30 UTC+2 – 03:00 UTC+1"
        );
        assert_eq!(
            item_span(second, utc(2027, 10, 31, 2, 0), berlin, berlin, Locale::En),
            "02:30–03:00 UTC+1"
        );
        // Typed into a form, the repeated 02:30 is the earlier one.
        assert_eq!(from_wall_clock("2027-10-31T02:30", berlin), Some(first));
    }

    #[test]
    fn each_end_in_its_own_zone() {
        let (s, e) = (utc(2027, 5, 10, 18, 0), utc(2027, 5, 11, 5, 30));
        assert_eq!(
            labelled_span(s, Europe::Berlin, e, Asia::Shanghai, Locale::En),
            "Monday 10 May 2027, 20:00 UTC+2 (Europe/Berlin) – Tuesday 11 May 2027, 13:30 UTC+8 (Asia/Shanghai)"
        );
        assert_eq!(
            labelled_span(s, Europe::Berlin, e, Asia::Shanghai, Locale::ZhCn),
            "2027年5月10日（周一）20:00 UTC+2（Europe/Berlin）至 2027年5月11日（周二）13:30 UTC+8（Asia/Shanghai）"
        );
        assert_eq!(
            labelled_span(
                utc(2027, 5, 10, 6, 0),
                Europe::Berlin,
                utc(2027, 5, 10, 19, 0),
                Europe::London,
                Locale::En
            ),
            "Monday 10 May 2027, 08:00 UTC+2 (Europe/Berlin) – 20:00 UTC+1 (Europe/London)"
        );
        // Pages: a tour from Berlin to Nanjing, an overnight flight under its day's heading.
        assert_eq!(
            span(
                utc(2027, 9, 1, 7, 0),
                utc(2027, 9, 5, 10, 0),
                Europe::Berlin,
                Asia::Shanghai,
                Locale::En
            ),
            "Wed 1 Sep 2027, 09:00 UTC+2 – Sun 5 Sep 2027, 18:00 UTC+8"
        );
        assert_eq!(
            span(
                utc(2027, 9, 1, 7, 0),
                utc(2027, 9, 5, 10, 0),
                Europe::Berlin,
                Asia::Shanghai,
                Locale::ZhCn
            ),
            "2027年9月1日（周三）09:00 UTC+2 – 2027年9月5日（周日）18:00 UTC+8"
        );
        assert_eq!(
            item_span(
                utc(2027, 9, 1, 11, 0),
                utc(2027, 9, 1, 22, 0),
                Europe::Berlin,
                Asia::Shanghai,
                Locale::En
            ),
            "13:00 UTC+2 – Thu 2 Sep 2027, 06:00 UTC+8"
        );
        assert_eq!(
            item_span(
                utc(2027, 9, 1, 8, 0),
                utc(2027, 9, 1, 9, 0),
                Europe::Berlin,
                Europe::London,
                Locale::En
            ),
            "10:00 UTC+2 – 10:00 UTC+1"
        );
        let (s, e) = (utc(2027, 6, 15, 8, 0), utc(2027, 6, 15, 20, 0));
        assert_eq!(
            span(s, e, Asia::Shanghai, Asia::Shanghai, Locale::En),
            "Tue 15 Jun 2027, 16:00 UTC+8 – Wed 16 Jun 2027, 04:00 UTC+8"
        );
        assert_eq!(
            span(
                s,
                utc(2027, 6, 15, 9, 0),
                Europe::Berlin,
                Europe::London,
                Locale::En
            ),
            "Tue 15 Jun 2027, 10:00 UTC+2 – 10:00 UTC+1"
        );
    }

    #[test]
    fn offsets_and_zone_labels() {
        let at = utc(2027, 5, 15, 5, 0);
        assert_eq!(
            labelled_instant(at, Asia::Kathmandu, Locale::En),
            "Saturday 15 May 2027, 10:45 UTC+5:45 (Asia/Kathmandu)"
        );
        assert_eq!(
            labelled_instant(at, America::Sao_Paulo, Locale::En),
            "Saturday 15 May 2027, 02:00 UTC-3 (America/Sao_Paulo)"
        );
        assert_eq!(
            labelled_instant(utc(2027, 5, 15, 1, 0), chrono_tz::UTC, Locale::En),
            "Saturday 15 May 2027, 01:00 UTC (UTC)"
        );
        assert_eq!(
            labelled_instant(utc(2027, 5, 15, 1, 0), America::Chicago, Locale::En),
            "Friday 14 May 2027, 20:00 UTC-5 (America/Chicago)"
        );
        assert_eq!(offset(Asia::Kolkata, at), "UTC+5:30");
        assert_eq!(offset(Europe::London, utc(2027, 1, 5, 0, 0)), "UTC");
        assert_eq!(
            zone_label(Asia::Shanghai, at, Locale::En),
            "Asia/Shanghai (UTC+8)"
        );
        assert_eq!(
            zone_label(Asia::Shanghai, at, Locale::ZhCn),
            "Asia/Shanghai（UTC+8）"
        );
        assert_eq!(zone(" Asia/Shanghai "), Some(Asia::Shanghai));
        assert_eq!(zone("Mars/Olympus"), None);
    }

    #[test]
    fn stamps_lists_and_wall_clocks() {
        let at = utc(2027, 6, 15, 8, 0);
        assert_eq!(
            stamp(at, Europe::Berlin, Locale::En, true),
            "Tuesday 15 June 2027, 10:00 UTC+2"
        );
        assert_eq!(
            stamp(at, Europe::Berlin, Locale::ZhCn, false),
            "10:00 UTC+2"
        );
        assert_eq!(moment(at, Europe::Brussels), "2027-06-15 10:00 UTC+2");
        assert_eq!(wall_clock(at, Europe::Brussels), "2027-06-15T10:00");
        assert_eq!(
            from_wall_clock("2027-06-15T10:00", Europe::Brussels),
            Some(at)
        );
        assert_eq!(from_wall_clock("yesterday", Europe::Brussels), None);
    }

    #[test]
    fn days_and_offsets_compare_in_the_zone() {
        let summer = utc(2027, 7, 1, 12, 0);
        assert!(same_offset(summer, Europe::Berlin, Europe::Paris));
        assert!(!same_offset(summer, Europe::Berlin, Asia::Shanghai));
        assert!(same_offset(summer, Europe::London, Europe::Lisbon));
        assert!(same_day(
            utc(2027, 7, 1, 0, 0),
            utc(2027, 7, 1, 15, 59),
            Asia::Shanghai
        ));
        assert!(!same_day(
            utc(2027, 7, 1, 0, 0),
            utc(2027, 7, 1, 16, 0),
            Asia::Shanghai
        ));
    }
}
