//! Languages: English and Simplified Chinese. The visitor's choice (the `cl_lang` cookie, set by the language switch)
//! wins, then the browser's `Accept-Language`, then English. Every text a page shows comes from the message catalogs
//! in `locales/<code>.toml` (compiled in), looked up by key — templates call `t("key")`. The [`Locale`] type and its
//! negotiation are `cloverleaf_locale`'s, shared with the emails.

use std::collections::HashMap;

use crate::Error;

/// The locale type every service shares (the emails use the same one), with the negotiation above.
pub use cloverleaf_locale::Locale;

/// A field's name and what is wrong with it, as one line of an error summary: `Full name: This is required`, in
/// Chinese `姓名：此项必填`. A label's own closing full stop or colon goes (`…this event.: …` read wrong); after a
/// question mark the message just follows.
pub fn label_and_message(locale: Locale, label: &str, message: &str) -> String {
    let label = label
        .trim()
        .trim_end_matches(['.', '。', ':', '：'])
        .trim_end();
    // After a full-width question mark nothing is needed; after an ASCII one (an English label), a space.
    if label.ends_with('？') {
        return format!("{label}{message}");
    }
    match (locale, label.ends_with('?')) {
        (_, true) => format!("{label} {message}"),
        (Locale::En, false) => format!("{label}: {message}"),
        (Locale::ZhCn, false) => format!("{label}：{message}"),
    }
}

/// The message catalogs, one per language, keys flattened (`[event] title = …` is `event.title`).
#[derive(Debug)]
pub struct Catalog {
    texts: HashMap<Locale, HashMap<String, String>>,
}

const SOURCES: [(Locale, &str, &str); 2] = [
    (
        Locale::En,
        "locales/en.toml",
        include_str!("../locales/en.toml"),
    ),
    (
        Locale::ZhCn,
        "locales/zh-CN.toml",
        include_str!("../locales/zh-CN.toml"),
    ),
];

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (key, value) in table {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&key, inner, out),
            toml::Value::String(text) => {
                out.insert(key, text.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

impl Catalog {
    /// The compiled-in catalogs.
    pub fn load() -> Result<Self, Error> {
        let mut texts = HashMap::new();
        for (locale, file, source) in SOURCES {
            let table: toml::Table = toml::from_str(source).map_err(|e| Error::Catalog {
                file: file.to_owned(),
                reason: e.to_string(),
            })?;
            let mut flat = HashMap::new();
            flatten("", &table, &mut flat);
            texts.insert(locale, flat);
        }
        Ok(Self { texts })
    }

    /// The text of `key` in `locale`, else in English, else the key itself (so a missing text shows, not breaks).
    pub fn text<'a>(&'a self, locale: Locale, key: &'a str) -> &'a str {
        self.texts
            .get(&locale)
            .and_then(|t| t.get(key))
            .or_else(|| self.texts.get(&Locale::En).and_then(|t| t.get(key)))
            .map_or(key, String::as_str)
    }

    /// Whether `key` exists in `locale`'s catalog.
    pub fn has(&self, locale: Locale, key: &str) -> bool {
        self.texts.get(&locale).is_some_and(|t| t.contains_key(key))
    }

    /// The text with each `{name}` replaced by its argument.
    pub fn format(&self, locale: Locale, key: &str, args: &[(&str, String)]) -> String {
        let mut text = self.text(locale, key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// Keys one catalog has and another lacks: `(locale missing it, key)`.
    pub fn missing(&self) -> Vec<(Locale, String)> {
        let mut missing = Vec::new();
        for a in Locale::ALL {
            for b in Locale::ALL {
                if a == b {
                    continue;
                }
                if let (Some(ta), Some(tb)) = (self.texts.get(&a), self.texts.get(&b)) {
                    for key in ta.keys() {
                        if !tb.contains_key(key) {
                            missing.push((b, key.clone()));
                        }
                    }
                }
            }
        }
        missing.sort_by(|x, y| x.1.cmp(&y.1));
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines_keep_one_mark_between_label_and_message() {
        assert_eq!(
            label_and_message(Locale::En, "I agree to this event.", "This is required"),
            "I agree to this event: This is required"
        );
        assert_eq!(
            label_and_message(Locale::ZhCn, "我同意。", "此项必填"),
            "我同意：此项必填"
        );
        assert_eq!(
            label_and_message(Locale::En, "Which topic?", "Choose one"),
            "Which topic? Choose one"
        );
        assert_eq!(label_and_message(Locale::ZhCn, "城市", "x"), "城市：x");
        assert_eq!(
            label_and_message(Locale::ZhCn, "Which topic?", "此项必填"),
            "Which topic? 此项必填"
        );
    }

    #[test]
    fn both_catalogs_have_every_key() {
        let catalog = Catalog::load().expect("catalogs parse");
        assert_eq!(catalog.missing(), Vec::new());
        assert_eq!(catalog.text(Locale::ZhCn, "nav.events"), "活动");
        assert_eq!(catalog.text(Locale::En, "no.such.key"), "no.such.key");
        assert_eq!(
            catalog.format(Locale::En, "register.seats_left", &[("n", "3".to_owned())]),
            "3 seats left"
        );
    }
}
