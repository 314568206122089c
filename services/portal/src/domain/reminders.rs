//! An event's own reminders as organisers type them: durations before the start such as `2d, 3h, 15m` (days, hours,
//! minutes; Chinese units 天, 小时 and 分钟 too), stored by scheduling as minutes.

/// Minutes before the start, in the order given; `Err` names the first piece that is no duration.
pub fn parse(text: &str) -> Result<Vec<i64>, String> {
    text.split([',', '，', ';', '、'])
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .map(|piece| minutes(piece).ok_or_else(|| piece.to_owned()))
        .collect()
}

/// One duration: one or more `<number><unit>` parts (`1d 12h`), a bare number being minutes.
fn minutes(piece: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = piece.trim();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: i64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace())
            .unwrap_or(rest.len());
        let per = match rest[..unit_end].to_lowercase().as_str() {
            "" | "m" | "min" | "mins" | "minute" | "minutes" | "分" | "分钟" => 1,
            "h" | "hr" | "hrs" | "hour" | "hours" | "小时" | "时" => 60,
            "d" | "day" | "days" | "天" | "日" => 24 * 60,
            "w" | "week" | "weeks" | "周" | "星期" => 7 * 24 * 60,
            _ => return None,
        };
        total = total.checked_add(number.checked_mul(per)?)?;
        rest = rest[unit_end..].trim_start();
    }
    Some(total)
}

/// Minutes as the field shows them back: the largest whole units (`2d`, `1d 12h`, `90m` → `1h 30m`).
pub fn format(minutes: &[i32]) -> String {
    minutes
        .iter()
        .map(|&m| {
            let (days, hours, mins) = (m / (24 * 60), m % (24 * 60) / 60, m % 60);
            [(days, "d"), (hours, "h"), (mins, "m")]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, unit)| format!("{n}{unit}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One reminder as a reader sees it in the schedule: `2d 3h` in English, `2天3小时` in Chinese.
pub fn label(minutes: i32, locale: crate::i18n::Locale) -> String {
    let units: [&str; 3] = match locale {
        crate::i18n::Locale::En => ["d", "h", "m"],
        crate::i18n::Locale::ZhCn => ["天", "小时", "分钟"],
    };
    let gap = match locale {
        crate::i18n::Locale::En => " ",
        crate::i18n::Locale::ZhCn => "",
    };
    let parts = [minutes / (24 * 60), minutes % (24 * 60) / 60, minutes % 60];
    parts
        .iter()
        .zip(units)
        .filter(|(n, _)| **n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(gap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_either_language_become_minutes() {
        assert_eq!(parse("2d, 3h, 15m"), Ok(vec![2880, 180, 15]));
        assert_eq!(parse("1d 12h"), Ok(vec![2160]));
        assert_eq!(parse("1 day, 2 hours, 30"), Ok(vec![1440, 120, 30]));
        assert_eq!(parse("1天，2小时、15分钟"), Ok(vec![1440, 120, 15]));
        assert_eq!(parse("1w"), Ok(vec![10080]));
        assert_eq!(parse(""), Ok(vec![]));
        assert_eq!(parse(" , "), Ok(vec![]));
    }

    #[test]
    fn what_is_no_duration_is_named() {
        assert_eq!(parse("2d, soon"), Err("soon".to_owned()));
        assert_eq!(parse("3 fortnights"), Err("3 fortnights".to_owned()));
        assert_eq!(parse("h"), Err("h".to_owned()));
        assert_eq!(
            parse("99999999999999999999d"),
            Err("99999999999999999999d".to_owned())
        );
    }

    #[test]
    fn minutes_read_back_in_the_largest_units() {
        assert_eq!(format(&[2880, 2160, 90, 15]), "2d, 1d 12h, 1h 30m, 15m");
        assert_eq!(format(&[]), "");
        assert_eq!(parse(&format(&[10080, 61])), Ok(vec![10080, 61]));
    }

    #[test]
    fn the_schedule_names_them_in_each_language() {
        use crate::i18n::Locale;
        assert_eq!(label(2160, Locale::En), "1d 12h");
        assert_eq!(label(2160, Locale::ZhCn), "1天12小时");
        assert_eq!(label(15, Locale::ZhCn), "15分钟");
        // What the schedule shows in Chinese can be typed back.
        assert_eq!(parse(&label(1530, Locale::ZhCn)), Ok(vec![1530]));
    }
}
