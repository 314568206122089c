//! Human-readable times in a time zone, in the participant's language.
//!
//! English: "Saturday 15 May 2027, 09:30–11:00 CEST (Europe/Berlin)".
//! Simplified Chinese: "2027年5月15日（星期六）09:30–11:00（Europe/Berlin）".
//!
//! Weekday and month names are written out here rather than taken from chrono's unstable locale support.

use chrono::{DateTime, Datelike, Offset, Utc};
use chrono_tz::Tz;

/// The languages letters are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    ZhCn,
}

impl Locale {
    /// A locale from a language tag: "zh-CN", "zh" or "zh-Hans" (any case, `_` or `-`, optionally followed by
    /// "-CN" for "zh-Hans") is Simplified Chinese; anything else is English.
    pub fn parse(s: &str) -> Locale {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "zh-cn" | "zh" | "zh-hans" | "zh-hans-cn" => Locale::ZhCn,
            _ => Locale::En,
        }
    }

    /// The tag templates are filed under: "en" or "zh-CN".
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
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

const ZH_WEEKDAYS: [&str; 7] = [
    "星期一",
    "星期二",
    "星期三",
    "星期四",
    "星期五",
    "星期六",
    "星期日",
];

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

/// A span in one zone. On one day: "Saturday 15 May 2027, 09:30–11:00 CEST (Europe/Berlin)"; across days:
/// "Wednesday 12 May 2027, 09:00 – Sunday 16 May 2027, 17:00 CST (Asia/Shanghai)". In Chinese:
/// "2027年5月15日（星期六）09:30–11:00（Europe/Berlin）" and
/// "2027年5月12日（星期三）09:00 至 2027年5月16日（星期日）17:00（Asia/Shanghai）".
///
/// When the zone's abbreviation differs between start and end (a daylight-saving switch in between), English
/// names both.
pub fn span(starts: DateTime<Utc>, ends: DateTime<Utc>, tz: Tz, locale: Locale) -> String {
    let range = span_without_zone(starts, ends, tz, locale);
    match locale {
        Locale::En => {
            let (start, end) = (starts.with_timezone(&tz), ends.with_timezone(&tz));
            let (start_abbr, end_abbr) = (abbreviation(&start), abbreviation(&end));
            if start_abbr == end_abbr {
                format!("{range} {end_abbr} ({})", tz.name())
            } else {
                let first = stamp(starts, tz, locale, true);
                let second = stamp(ends, tz, locale, !same_day(starts, ends, tz));
                format!("{first} – {second} ({})", tz.name())
            }
        }
        Locale::ZhCn => format!("{range}（{}）", tz.name()),
    }
}

/// One point in time: "Saturday 15 May 2027, 09:30 CEST (Europe/Berlin)" or
/// "2027年5月15日（星期六）09:30（Europe/Berlin）".
pub fn instant(at: DateTime<Utc>, tz: Tz, locale: Locale) -> String {
    match locale {
        Locale::En => format!("{} ({})", stamp(at, tz, locale, true), tz.name()),
        Locale::ZhCn => format!("{}（{}）", stamp(at, tz, locale, true), tz.name()),
    }
}

/// A span without the zone: "Saturday 15 May 2027, 10:00–11:00" or "2027年5月15日（星期六）10:00–11:00"; across
/// days "…, 09:00 – Sunday 16 May 2027, 17:00" or "… 09:00 至 2027年5月16日（星期日）17:00".
pub(crate) fn span_without_zone(
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    tz: Tz,
    locale: Locale,
) -> String {
    let (start, end) = (starts.with_timezone(&tz), ends.with_timezone(&tz));
    let same_day = start.date_naive() == end.date_naive();
    match (locale, same_day) {
        (Locale::En, true) => format!(
            "{}, {}–{}",
            date(&start, locale),
            clock(&start),
            clock(&end)
        ),
        (Locale::En, false) => format!(
            "{}, {} – {}, {}",
            date(&start, locale),
            clock(&start),
            date(&end, locale),
            clock(&end)
        ),
        (Locale::ZhCn, true) => {
            format!("{}{}–{}", date(&start, locale), clock(&start), clock(&end))
        }
        (Locale::ZhCn, false) => format!(
            "{}{} 至 {}{}",
            date(&start, locale),
            clock(&start),
            date(&end, locale),
            clock(&end)
        ),
    }
}

/// A point in time without the zone's name, with or without its date: English "Saturday 15 May 2027, 09:30 CEST"
/// or "09:30 CEST"; Chinese "2027年5月15日（星期六）09:30" or "09:30".
pub(crate) fn stamp(at: DateTime<Utc>, tz: Tz, locale: Locale, with_date: bool) -> String {
    let local = at.with_timezone(&tz);
    match (locale, with_date) {
        (Locale::En, true) => format!(
            "{}, {} {}",
            date(&local, locale),
            clock(&local),
            abbreviation(&local)
        ),
        (Locale::En, false) => format!("{} {}", clock(&local), abbreviation(&local)),
        (Locale::ZhCn, true) => format!("{}{}", date(&local, locale), clock(&local)),
        (Locale::ZhCn, false) => clock(&local),
    }
}

/// Whether two instants fall on the same calendar day in `tz`.
pub(crate) fn same_day(a: DateTime<Utc>, b: DateTime<Utc>, tz: Tz) -> bool {
    a.with_timezone(&tz).date_naive() == b.with_timezone(&tz).date_naive()
}

/// Whether two zones are at the same UTC offset at `at`.
pub(crate) fn same_offset(at: DateTime<Utc>, a: Tz, b: Tz) -> bool {
    offset_seconds(&at.with_timezone(&a)) == offset_seconds(&at.with_timezone(&b))
}

/// "Saturday 15 May 2027" or "2027年5月15日（星期六）".
fn date(local: &DateTime<Tz>, locale: Locale) -> String {
    let weekday = local.weekday().num_days_from_monday() as usize;
    match locale {
        Locale::En => format!(
            "{} {} {} {}",
            EN_WEEKDAYS[weekday],
            local.day(),
            EN_MONTHS[local.month0() as usize],
            local.year()
        ),
        Locale::ZhCn => format!(
            "{}年{}月{}日（{}）",
            local.year(),
            local.month(),
            local.day(),
            ZH_WEEKDAYS[weekday]
        ),
    }
}

/// "09:30".
fn clock(local: &DateTime<Tz>) -> String {
    local.format("%H:%M").to_string()
}

/// The zone's abbreviation at that moment ("CEST", "CST"); where the zone database has only a numeric one
/// ("+04", "+0545"), the offset as "UTC+04:00".
fn abbreviation(local: &DateTime<Tz>) -> String {
    let abbr = local.format("%Z").to_string();
    if abbr.is_empty() || abbr.starts_with(['+', '-']) || abbr.chars().all(|c| c.is_ascii_digit()) {
        let seconds = offset_seconds(local);
        let sign = if seconds < 0 { '-' } else { '+' };
        let minutes = seconds.unsigned_abs() / 60;
        format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    } else {
        abbr
    }
}

fn offset_seconds(local: &DateTime<Tz>) -> i32 {
    local.offset().fix().local_minus_utc()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn locales_parse_leniently() {
        for tag in [
            "zh-CN", "zh-cn", "ZH", "zh", "zh-Hans", "zh-hans", "zh_CN", " zh-CN ",
        ] {
            assert_eq!(Locale::parse(tag), Locale::ZhCn, "{tag}");
        }
        for tag in ["en", "en-GB", "de", "", "zh-TW", "fr-CN"] {
            assert_eq!(Locale::parse(tag), Locale::En, "{tag}");
        }
        assert_eq!(Locale::En.as_str(), "en");
        assert_eq!(Locale::ZhCn.as_str(), "zh-CN");
        assert_eq!(Locale::parse(Locale::ZhCn.as_str()), Locale::ZhCn);
    }

    #[test]
    fn span_on_one_day_in_summer_time() {
        // 15 May 2027 is a Saturday; Berlin is on CEST (UTC+2).
        let (s, e) = (utc(2027, 5, 15, 7, 30), utc(2027, 5, 15, 9, 0));
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::En),
            "Saturday 15 May 2027, 09:30–11:00 CEST (Europe/Berlin)"
        );
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::ZhCn),
            "2027年5月15日（星期六）09:30–11:00（Europe/Berlin）"
        );
    }

    #[test]
    fn span_in_winter_time() {
        // 11 January 2027 is a Monday; Berlin is on CET (UTC+1).
        let (s, e) = (utc(2027, 1, 11, 8, 0), utc(2027, 1, 11, 9, 30));
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::En),
            "Monday 11 January 2027, 09:00–10:30 CET (Europe/Berlin)"
        );
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::ZhCn),
            "2027年1月11日（星期一）09:00–10:30（Europe/Berlin）"
        );
    }

    #[test]
    fn span_across_days() {
        // Wednesday 12 to Sunday 16 May 2027 in Shanghai (UTC+8, no summer time).
        let (s, e) = (utc(2027, 5, 12, 1, 0), utc(2027, 5, 16, 9, 0));
        assert_eq!(
            span(s, e, chrono_tz::Asia::Shanghai, Locale::En),
            "Wednesday 12 May 2027, 09:00 – Sunday 16 May 2027, 17:00 CST (Asia/Shanghai)"
        );
        assert_eq!(
            span(s, e, chrono_tz::Asia::Shanghai, Locale::ZhCn),
            "2027年5月12日（星期三）09:00 至 2027年5月16日（星期日）17:00（Asia/Shanghai）"
        );
    }

    #[test]
    fn span_ending_at_midnight_counts_as_across_days() {
        let (s, e) = (utc(2027, 5, 15, 20, 0), utc(2027, 5, 15, 22, 0));
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::En),
            "Saturday 15 May 2027, 22:00 – Sunday 16 May 2027, 00:00 CEST (Europe/Berlin)"
        );
    }

    #[test]
    fn span_across_a_daylight_saving_switch_names_both_abbreviations() {
        // Berlin switches to summer time at 01:00 UTC on Sunday 28 March 2027.
        let (s, e) = (utc(2027, 3, 28, 0, 0), utc(2027, 3, 28, 3, 0));
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::En),
            "Sunday 28 March 2027, 01:00 CET – 05:00 CEST (Europe/Berlin)"
        );
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::ZhCn),
            "2027年3月28日（星期日）01:00–05:00（Europe/Berlin）"
        );
    }

    #[test]
    fn numeric_abbreviations_become_utc_offsets() {
        let at = utc(2027, 5, 15, 5, 0);
        // The zone database abbreviates Dubai as "+04" and Kathmandu as "+0545".
        assert_eq!(
            instant(at, chrono_tz::Asia::Dubai, Locale::En),
            "Saturday 15 May 2027, 09:00 UTC+04:00 (Asia/Dubai)"
        );
        assert_eq!(
            instant(at, chrono_tz::Asia::Kathmandu, Locale::En),
            "Saturday 15 May 2027, 10:45 UTC+05:45 (Asia/Kathmandu)"
        );
        assert_eq!(
            instant(at, chrono_tz::America::Sao_Paulo, Locale::En),
            "Saturday 15 May 2027, 02:00 UTC-03:00 (America/Sao_Paulo)"
        );
        assert_eq!(
            span(
                at,
                utc(2027, 5, 15, 6, 0),
                chrono_tz::Asia::Dubai,
                Locale::En
            ),
            "Saturday 15 May 2027, 09:00–10:00 UTC+04:00 (Asia/Dubai)"
        );
    }

    #[test]
    fn instants() {
        let at = utc(2027, 5, 15, 1, 0);
        assert_eq!(
            instant(at, chrono_tz::Asia::Shanghai, Locale::En),
            "Saturday 15 May 2027, 09:00 CST (Asia/Shanghai)"
        );
        assert_eq!(
            instant(at, chrono_tz::Asia::Shanghai, Locale::ZhCn),
            "2027年5月15日（星期六）09:00（Asia/Shanghai）"
        );
        assert_eq!(
            instant(at, chrono_tz::UTC, Locale::En),
            "Saturday 15 May 2027, 01:00 UTC (UTC)"
        );
    }

    #[test]
    fn offsets_compare_at_the_given_moment() {
        let summer = utc(2027, 7, 1, 12, 0);
        assert!(same_offset(
            summer,
            chrono_tz::Europe::Berlin,
            chrono_tz::Europe::Paris
        ));
        assert!(!same_offset(
            summer,
            chrono_tz::Europe::Berlin,
            chrono_tz::Asia::Shanghai
        ));
        // London and Lisbon agree; London and Berlin do not.
        assert!(same_offset(
            summer,
            chrono_tz::Europe::London,
            chrono_tz::Europe::Lisbon
        ));
        assert!(!same_offset(
            summer,
            chrono_tz::Europe::London,
            chrono_tz::Europe::Berlin
        ));
    }
}
