//! Small pieces of wording every reader sees the same way: durations in words, and Chinese punctuation spacing.

use crate::Locale;

/// How long, in words: under an hour in minutes, whole days (beyond one) in days, else in hours (and minutes):
/// "15 minutes", "24 hours", "2 days", "1 hour 30 minutes"; "15分钟", "24小时", "2天", "1小时30分钟". `None` for
/// no time at all (zero or negative).
pub fn duration(minutes: i64, locale: Locale) -> Option<String> {
    const DAY: i64 = 24 * 60;
    if minutes <= 0 {
        return None;
    }
    let (days, hours, rest) = if minutes > DAY && minutes % DAY == 0 {
        (minutes / DAY, 0, 0)
    } else if minutes >= 60 {
        (0, minutes / 60, minutes % 60)
    } else {
        (0, 0, minutes)
    };
    let parts = [
        (days, "day", "天"),
        (hours, "hour", "小时"),
        (rest, "minute", "分钟"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, en, zh)| match locale {
        Locale::En if n == 1 => format!("1 {en}"),
        Locale::En => format!("{n} {en}s"),
        Locale::ZhCn => format!("{n}{zh}"),
    })
    .collect::<Vec<_>>();
    Some(match locale {
        Locale::En => parts.join(" "),
        Locale::ZhCn => parts.concat(),
    })
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
mod tests {
    use super::*;

    #[test]
    fn durations_in_both_languages() {
        let cases = [
            (15, "15 minutes", "15分钟"),
            (1, "1 minute", "1分钟"),
            (60, "1 hour", "1小时"),
            (90, "1 hour 30 minutes", "1小时30分钟"),
            (1440, "24 hours", "24小时"),
            (2880, "2 days", "2天"),
            (10_080, "7 days", "7天"),
            (1500, "25 hours", "25小时"),
        ];
        for (minutes, en, zh) in cases {
            assert_eq!(duration(minutes, Locale::En).as_deref(), Some(en));
            assert_eq!(duration(minutes, Locale::ZhCn).as_deref(), Some(zh));
        }
        assert_eq!(duration(0, Locale::En), None);
        assert_eq!(duration(-5, Locale::ZhCn), None);
    }

    #[test]
    fn no_space_next_to_chinese_punctuation() {
        assert_eq!(zh_tidy("（无） → 10:00"), "（无）→ 10:00");
        assert_eq!(
            zh_tidy("日程： 新增 “午餐” ，09:00"),
            "日程：新增“午餐”，09:00"
        );
        assert_eq!(zh_tidy("09:00 – 10:00 UTC+8"), "09:00 – 10:00 UTC+8");
    }
}
