//! One locale type and one date/time formatter shared by the emails and the portal, so the same time reads the same
//! on the page and in the mail.
//!
//! - [`Locale`]: the two languages people read (English and Simplified Chinese), how a registration's stored tag
//!   and a visitor's browser languages map to them, and which of two texts (English, optional Chinese) to show.
//! - [`time`]: dates, weekdays (Chinese always 周一…周日), clocks, UTC offsets with zone names, spans (one day,
//!   across days, each end in its own zone, across a daylight-saving change), and wall-clock input in a repeated or
//!   skipped hour.
//! - [`text`]: durations in words and Chinese punctuation spacing.
//!
//! A zone is always written as its UTC offset at that moment (never an abbreviation: `CST` is China or US Central),
//! with its IANA name where the reader would not otherwise see it.

pub mod text;
pub mod time;

use serde::{Deserialize, Serialize};

/// The languages letters and pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::ZhCn];

    /// The BCP 47 tag: the `lang` of pages and emails, the portal's cookie, a registration's `locale`, and the
    /// folder an email's templates are filed under: "en" or "zh-CN".
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
        }
    }

    /// The locale of a stored tag (a registration's `locale`): "zh-CN", "zh" or "zh-Hans" (any case, `_` or `-`,
    /// optionally followed by "-CN" for "zh-Hans") is Simplified Chinese; anything else is English. Stricter than
    /// [`Locale::from_language`]: a registration says what its person chose, so "zh-TW" is not taken for it.
    pub fn parse(tag: &str) -> Locale {
        match tag.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "zh-cn" | "zh" | "zh-hans" | "zh-hans-cn" => Locale::ZhCn,
            _ => Locale::En,
        }
    }

    /// A language spoken here from a visitor's tag by its primary language (`en`, `en-GB`, `zh`, `zh-CN`,
    /// `zh-Hans`…); Traditional Chinese readers get Simplified rather than English. `None` for other languages.
    pub fn from_language(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase();
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        match primary {
            "en" => Some(Locale::En),
            "zh" => Some(Locale::ZhCn),
            _ => None,
        }
    }

    /// The cookie's choice, else the best of `Accept-Language` spoken here, else English.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Locale {
        cookie
            .and_then(Locale::from_language)
            .or_else(|| accept_language.and_then(from_accept_language))
            .unwrap_or(Locale::En)
    }

    /// The text in this language: the Chinese one when writing Chinese and it is given (not blank), else English.
    pub fn pick<'a>(self, english: &'a str, chinese: Option<&'a str>) -> &'a str {
        match (self, chinese.map(str::trim).filter(|zh| !zh.is_empty())) {
            (Locale::ZhCn, Some(zh)) => zh,
            _ => english,
        }
    }
}

/// The first language of an `Accept-Language` header (by quality, then order) spoken here.
fn from_accept_language(header: &str) -> Option<Locale> {
    let mut ranges: Vec<(f32, usize, &str)> = Vec::new();
    for (order, part) in header.split(',').enumerate() {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or_default().trim();
        let quality = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if !tag.is_empty() && quality > 0.0 {
            ranges.push((quality, order, tag));
        }
    }
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges
        .iter()
        .find_map(|(_, _, tag)| Locale::from_language(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_tags_parse_leniently_but_only_to_simplified_chinese() {
        for tag in [
            "zh-CN", "zh-cn", "ZH", "zh", "zh-Hans", "zh-hans", "zh_CN", " zh-CN ",
        ] {
            assert_eq!(Locale::parse(tag), Locale::ZhCn, "{tag}");
        }
        for tag in ["en", "en-GB", "de", "", "zh-TW", "fr-CN"] {
            assert_eq!(Locale::parse(tag), Locale::En, "{tag}");
        }
        assert_eq!(Locale::En.code(), "en");
        assert_eq!(Locale::ZhCn.code(), "zh-CN");
        for locale in Locale::ALL {
            assert_eq!(Locale::parse(locale.code()), locale);
            assert_eq!(Locale::from_language(locale.code()), Some(locale));
        }
    }

    #[test]
    fn visitor_languages_go_by_the_primary_language() {
        assert_eq!(Locale::from_language("en-GB"), Some(Locale::En));
        assert_eq!(Locale::from_language("zh-TW"), Some(Locale::ZhCn));
        assert_eq!(Locale::from_language("zh_Hant"), Some(Locale::ZhCn));
        assert_eq!(Locale::from_language("de"), None);
        assert_eq!(Locale::from_language(""), None);
    }

    #[test]
    fn the_cookie_wins_then_accept_language_then_english() {
        assert_eq!(Locale::negotiate(Some("zh-CN"), Some("en")), Locale::ZhCn);
        assert_eq!(Locale::negotiate(Some("en"), Some("zh-CN")), Locale::En);
        assert_eq!(
            Locale::negotiate(Some("klingon"), Some("zh-CN,zh;q=0.9")),
            Locale::ZhCn
        );
        assert_eq!(
            Locale::negotiate(None, Some("fr-FR, zh-Hans;q=0.8, en;q=0.5")),
            Locale::ZhCn
        );
        assert_eq!(
            Locale::negotiate(None, Some("fr, en;q=0.9, zh;q=0.8")),
            Locale::En
        );
        assert_eq!(Locale::negotiate(None, Some("zh;q=0, de")), Locale::En);
        assert_eq!(Locale::negotiate(None, Some("*")), Locale::En);
        assert_eq!(Locale::negotiate(None, None), Locale::En);
    }

    #[test]
    fn serialises_as_its_tag() {
        assert_eq!(
            serde_json::to_string(&Locale::ZhCn).ok().as_deref(),
            Some("\"zh-CN\"")
        );
        assert_eq!(
            serde_json::from_str::<Locale>("\"en\"").ok(),
            Some(Locale::En)
        );
    }

    #[test]
    fn chinese_texts_are_picked_when_given() {
        assert_eq!(Locale::ZhCn.pick("Keynote", Some("主旨报告")), "主旨报告");
        assert_eq!(Locale::ZhCn.pick("Keynote", Some("  ")), "Keynote");
        assert_eq!(Locale::ZhCn.pick("Keynote", None), "Keynote");
        assert_eq!(Locale::En.pick("Keynote", Some("主旨报告")), "Keynote");
    }
}
