//! Human-readable times in a time zone, in the participant's language.
//!
//! English: "Saturday 15 May 2027, 09:30–11:00 UTC+2 (Europe/Berlin)".
//! Simplified Chinese: "2027年5月15日（周六）09:30–11:00 UTC+2（Europe/Berlin）".
//!
//! A zone is always written as its UTC offset at that moment and its IANA name, never as an abbreviation ("CST" is
//! China or US Central): on 31 October 2027 `02:30 UTC+2` and `02:30 UTC+1` in Berlin are an hour apart, and read
//! so. Weekday and month names are written out here rather than taken from chrono's unstable locale support;
//! Chinese weekdays are always 周一…周日.

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

    /// The text in this language: the Chinese one when writing Chinese and it is given (not blank), else English.
    pub fn pick<'a>(self, english: &'a str, chinese: Option<&'a str>) -> &'a str {
        match (self, chinese.map(str::trim).filter(|zh| !zh.is_empty())) {
            (Locale::ZhCn, Some(zh)) => zh,
            _ => english,
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

/// The one way Chinese weekdays are written, everywhere.
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

/// A span in one zone. On one day: "Saturday 15 May 2027, 09:30–11:00 UTC+2 (Europe/Berlin)"; across days:
/// "Wednesday 12 May 2027, 09:00 – Sunday 16 May 2027, 17:00 UTC+8 (Asia/Shanghai)". In Chinese:
/// "2027年5月15日（周六）09:30–11:00 UTC+2（Europe/Berlin）" and
/// "2027年5月12日（周三）09:00 至 2027年5月16日（周日）17:00 UTC+8（Asia/Shanghai）".
///
/// When the offset differs between start and end (a daylight-saving switch in between), both are named:
/// "Sunday 31 October 2027, 02:30 UTC+2 – 02:30 UTC+1 (Europe/Berlin)".
pub fn span(starts: DateTime<Utc>, ends: DateTime<Utc>, tz: Tz, locale: Locale) -> String {
    span_between(starts, tz, ends, tz, locale)
}

/// A span whose ends may lie in different zones (a flight from Berlin to Guangzhou, a tour ending in Nanjing): each
/// end in its own zone, "Monday 10 May 2027, 20:00 UTC+2 (Europe/Berlin) – Tuesday 11 May 2027, 13:30 UTC+8
/// (Asia/Shanghai)"; "2027年5月10日（周一）20:00 UTC+2（Europe/Berlin）至 2027年5月11日（周二）13:30 UTC+8（Asia/Shanghai）".
/// With one zone it is [`span`].
pub fn span_between(
    starts: DateTime<Utc>,
    start_tz: Tz,
    ends: DateTime<Utc>,
    end_tz: Tz,
    locale: Locale,
) -> String {
    let (start, end) = (starts.with_timezone(&start_tz), ends.with_timezone(&end_tz));
    let same_day = start.date_naive() == end.date_naive();
    let (start_offset, end_offset) = (utc_offset(&start), utc_offset(&end));
    if start_tz != end_tz {
        let end_part = if same_day {
            clock(&end)
        } else {
            with_date(&end, locale)
        };
        return match locale {
            Locale::En => format!(
                "{} {start_offset} ({}) – {end_part} {end_offset} ({})",
                with_date(&start, locale),
                start_tz.name(),
                end_tz.name()
            ),
            Locale::ZhCn => format!(
                "{} {start_offset}（{}）至 {end_part} {end_offset}（{}）",
                with_date(&start, locale),
                start_tz.name(),
                end_tz.name()
            ),
        };
    }
    let name = start_tz.name();
    match (locale, start_offset == end_offset, same_day) {
        (Locale::En, true, true) => format!(
            "{}, {}–{} {end_offset} ({name})",
            date(&start, locale),
            clock(&start),
            clock(&end)
        ),
        (Locale::En, true, false) => format!(
            "{} – {} {end_offset} ({name})",
            with_date(&start, locale),
            with_date(&end, locale)
        ),
        (Locale::En, false, _) => format!(
            "{} {start_offset} – {} {end_offset} ({name})",
            with_date(&start, locale),
            if same_day {
                clock(&end)
            } else {
                with_date(&end, locale)
            }
        ),
        (Locale::ZhCn, true, true) => format!(
            "{}{}–{} {end_offset}（{name}）",
            date(&start, locale),
            clock(&start),
            clock(&end)
        ),
        (Locale::ZhCn, true, false) => format!(
            "{} 至 {} {end_offset}（{name}）",
            with_date(&start, locale),
            with_date(&end, locale)
        ),
        (Locale::ZhCn, false, _) => format!(
            "{} {start_offset} 至 {} {end_offset}（{name}）",
            with_date(&start, locale),
            if same_day {
                clock(&end)
            } else {
                with_date(&end, locale)
            }
        ),
    }
}

/// One point in time: "Saturday 15 May 2027, 09:30 UTC+2 (Europe/Berlin)" or
/// "2027年5月15日（周六）09:30 UTC+2（Europe/Berlin）".
pub fn instant(at: DateTime<Utc>, tz: Tz, locale: Locale) -> String {
    match locale {
        Locale::En => format!("{} ({})", stamp(at, tz, locale, true), tz.name()),
        Locale::ZhCn => format!("{}（{}）", stamp(at, tz, locale, true), tz.name()),
    }
}

/// A point in time with its offset, without the zone's name, with or without its date: English "Saturday 15 May
/// 2027, 09:30 UTC+2" or "09:30 UTC+2"; Chinese "2027年5月15日（周六）09:30 UTC+2" or "09:30 UTC+2".
pub(crate) fn stamp(at: DateTime<Utc>, tz: Tz, locale: Locale, dated: bool) -> String {
    let local = at.with_timezone(&tz);
    let time = if dated {
        with_date(&local, locale)
    } else {
        clock(&local)
    };
    format!("{time} {}", utc_offset(&local))
}

/// Whether two instants fall on the same calendar day in `tz`.
pub(crate) fn same_day(a: DateTime<Utc>, b: DateTime<Utc>, tz: Tz) -> bool {
    a.with_timezone(&tz).date_naive() == b.with_timezone(&tz).date_naive()
}

/// Whether two zones are at the same UTC offset at `at`.
pub(crate) fn same_offset(at: DateTime<Utc>, a: Tz, b: Tz) -> bool {
    offset_seconds(&at.with_timezone(&a)) == offset_seconds(&at.with_timezone(&b))
}

/// "Saturday 15 May 2027" or "2027年5月15日（周六）".
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

/// "Saturday 15 May 2027, 09:30" or "2027年5月15日（周六）09:30".
fn with_date(local: &DateTime<Tz>, locale: Locale) -> String {
    match locale {
        Locale::En => format!("{}, {}", date(local, locale), clock(local)),
        Locale::ZhCn => format!("{}{}", date(local, locale), clock(local)),
    }
}

/// "09:30".
fn clock(local: &DateTime<Tz>) -> String {
    local.format("%H:%M").to_string()
}

/// The zone's offset from UTC at that moment, which no reader can mistake: "UTC+2", "UTC+8", "UTC+5:45",
/// "UTC-3", and "UTC" itself.
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

fn offset_seconds(local: &DateTime<Tz>) -> i32 {
    local.offset().fix().local_minus_utc()
}

/// Chinese punctuation takes no space before or after it: "（无） → 10:00" becomes "（无）→ 10:00".
pub fn zh_tidy(text: &str) -> String {
    const PUNCTUATION: &[char] = &['：', '，', '（', '）', '；', '。', '、', '“', '”'];
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, c) in chars.iter().enumerate() {
        if *c == ' ' {
            let before = i.checked_sub(1).and_then(|j| chars.get(j));
            let after = chars.get(i + 1);
            if before.is_some_and(|b| PUNCTUATION.contains(b))
                || after.is_some_and(|a| PUNCTUATION.contains(a))
            {
                continue;
            }
        }
        out.push(*c);
    }
    out
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
        // 15 May 2027 is a Saturday; Berlin is on summer time (UTC+2).
        let (s, e) = (utc(2027, 5, 15, 7, 30), utc(2027, 5, 15, 9, 0));
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::En),
            "Saturday 15 May 2027, 09:30–11:00 UTC+2 (Europe/Berlin)"
        );
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::ZhCn),
            "2027年5月15日（周六）09:30–11:00 UTC+2（Europe/Berlin）"
        );
    }

    #[test]
    fn span_in_winter_time() {
        // 11 January 2027 is a Monday; Berlin is on standard time (UTC+1).
        let (s, e) = (utc(2027, 1, 11, 8, 0), utc(2027, 1, 11, 9, 30));
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::En),
            "Monday 11 January 2027, 09:00–10:30 UTC+1 (Europe/Berlin)"
        );
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::ZhCn),
            "2027年1月11日（周一）09:00–10:30 UTC+1（Europe/Berlin）"
        );
    }

    #[test]
    fn span_across_days() {
        // Wednesday 12 to Sunday 16 May 2027 in Shanghai (UTC+8, no summer time): never "CST".
        let (s, e) = (utc(2027, 5, 12, 1, 0), utc(2027, 5, 16, 9, 0));
        assert_eq!(
            span(s, e, chrono_tz::Asia::Shanghai, Locale::En),
            "Wednesday 12 May 2027, 09:00 – Sunday 16 May 2027, 17:00 UTC+8 (Asia/Shanghai)"
        );
        assert_eq!(
            span(s, e, chrono_tz::Asia::Shanghai, Locale::ZhCn),
            "2027年5月12日（周三）09:00 至 2027年5月16日（周日）17:00 UTC+8（Asia/Shanghai）"
        );
    }

    #[test]
    fn span_ending_at_midnight_counts_as_across_days() {
        let (s, e) = (utc(2027, 5, 15, 20, 0), utc(2027, 5, 15, 22, 0));
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::En),
            "Saturday 15 May 2027, 22:00 – Sunday 16 May 2027, 00:00 UTC+2 (Europe/Berlin)"
        );
    }

    #[test]
    fn span_across_the_spring_change_names_both_offsets() {
        // Berlin switches to summer time at 01:00 UTC on Sunday 28 March 2027: 01:30–03:30 local is 00:30–01:30 UTC.
        let (s, e) = (utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1, 30));
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::En),
            "Sunday 28 March 2027, 01:30 UTC+1 – 03:30 UTC+2 (Europe/Berlin)"
        );
        assert_eq!(
            span(s, e, chrono_tz::Europe::Berlin, Locale::ZhCn),
            "2027年3月28日（周日）01:30 UTC+1 至 03:30 UTC+2（Europe/Berlin）"
        );
    }

    #[test]
    fn the_repeated_hour_reads_differently_in_both_languages() {
        // Berlin's clocks go back at 01:00 UTC on Sunday 31 October 2027: 02:30 comes twice.
        let first = utc(2027, 10, 31, 0, 30);
        let second = utc(2027, 10, 31, 1, 30);
        let berlin = chrono_tz::Europe::Berlin;
        for locale in [Locale::En, Locale::ZhCn] {
            assert_ne!(
                instant(first, berlin, locale),
                instant(second, berlin, locale)
            );
        }
        assert_eq!(
            instant(first, berlin, Locale::En),
            "Sunday 31 October 2027, 02:30 UTC+2 (Europe/Berlin)"
        );
        assert_eq!(
            instant(second, berlin, Locale::ZhCn),
            "2027年10月31日（周日）02:30 UTC+1（Europe/Berlin）"
        );
        // 02:30–04:00 local, from the first 02:30: 00:30–03:00 UTC.
        assert_eq!(
            span(first, utc(2027, 10, 31, 3, 0), berlin, Locale::ZhCn),
            "2027年10月31日（周日）02:30 UTC+2 至 04:00 UTC+1（Europe/Berlin）"
        );
        assert_eq!(
            span(first, utc(2027, 10, 31, 3, 0), berlin, Locale::En),
            "Sunday 31 October 2027, 02:30 UTC+2 – 04:00 UTC+1 (Europe/Berlin)"
        );
    }

    #[test]
    fn each_end_in_its_own_zone() {
        // A flight leaves Berlin at 20:00 (UTC+2) and lands in Guangzhou at 13:30 the next day (UTC+8).
        let (s, e) = (utc(2027, 5, 10, 18, 0), utc(2027, 5, 11, 5, 30));
        let (berlin, shanghai) = (chrono_tz::Europe::Berlin, chrono_tz::Asia::Shanghai);
        assert_eq!(
            span_between(s, berlin, e, shanghai, Locale::En),
            "Monday 10 May 2027, 20:00 UTC+2 (Europe/Berlin) – Tuesday 11 May 2027, 13:30 UTC+8 (Asia/Shanghai)"
        );
        assert_eq!(
            span_between(s, berlin, e, shanghai, Locale::ZhCn),
            "2027年5月10日（周一）20:00 UTC+2（Europe/Berlin）至 2027年5月11日（周二）13:30 UTC+8（Asia/Shanghai）"
        );
        // Landing the same day: the end without its date.
        let landing = utc(2027, 5, 10, 19, 0);
        assert_eq!(
            span_between(
                utc(2027, 5, 10, 6, 0),
                berlin,
                landing,
                chrono_tz::Europe::London,
                Locale::En
            ),
            "Monday 10 May 2027, 08:00 UTC+2 (Europe/Berlin) – 20:00 UTC+1 (Europe/London)"
        );
    }

    #[test]
    fn offsets_are_written_with_minutes_only_when_needed() {
        let at = utc(2027, 5, 15, 5, 0);
        assert_eq!(
            instant(at, chrono_tz::Asia::Dubai, Locale::En),
            "Saturday 15 May 2027, 09:00 UTC+4 (Asia/Dubai)"
        );
        assert_eq!(
            instant(at, chrono_tz::Asia::Kathmandu, Locale::En),
            "Saturday 15 May 2027, 10:45 UTC+5:45 (Asia/Kathmandu)"
        );
        assert_eq!(
            instant(at, chrono_tz::America::Sao_Paulo, Locale::En),
            "Saturday 15 May 2027, 02:00 UTC-3 (America/Sao_Paulo)"
        );
        assert_eq!(
            span(
                at,
                utc(2027, 5, 15, 6, 0),
                chrono_tz::Asia::Dubai,
                Locale::En
            ),
            "Saturday 15 May 2027, 09:00–10:00 UTC+4 (Asia/Dubai)"
        );
    }

    #[test]
    fn instants() {
        let at = utc(2027, 5, 15, 1, 0);
        assert_eq!(
            instant(at, chrono_tz::Asia::Shanghai, Locale::En),
            "Saturday 15 May 2027, 09:00 UTC+8 (Asia/Shanghai)"
        );
        assert_eq!(
            instant(at, chrono_tz::Asia::Shanghai, Locale::ZhCn),
            "2027年5月15日（周六）09:00 UTC+8（Asia/Shanghai）"
        );
        assert_eq!(
            instant(at, chrono_tz::UTC, Locale::En),
            "Saturday 15 May 2027, 01:00 UTC (UTC)"
        );
        // US Central is never confused with China: both are offsets.
        assert_eq!(
            instant(at, chrono_tz::America::Chicago, Locale::En),
            "Friday 14 May 2027, 20:00 UTC-5 (America/Chicago)"
        );
    }

    #[test]
    fn chinese_texts_are_picked_when_given() {
        assert_eq!(Locale::ZhCn.pick("Keynote", Some("主旨报告")), "主旨报告");
        assert_eq!(Locale::ZhCn.pick("Keynote", Some("  ")), "Keynote");
        assert_eq!(Locale::ZhCn.pick("Keynote", None), "Keynote");
        assert_eq!(Locale::En.pick("Keynote", Some("主旨报告")), "Keynote");
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
