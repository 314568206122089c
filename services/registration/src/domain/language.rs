//! Which of the two languages (`en`, `zh-CN`) a reader wants: `?lang=`, else `Accept-Language`, else English.

/// `en` or `zh-CN`. An explicit `lang` wins when it names one of the two; else the most preferred of the two in an
/// `Accept-Language` header (RFC 9110 weights, `q=0` meaning "not this one"); else English.
pub fn pick(lang: Option<&str>, accept_language: Option<&str>) -> &'static str {
    if let Some(wanted) = lang.and_then(supported) {
        return wanted;
    }
    let mut best: Option<(f32, &'static str)> = None;
    for item in accept_language.unwrap_or_default().split(',') {
        let mut parts = item.split(';');
        let Some(tag) = parts.next().map(str::trim).and_then(supported) else {
            continue;
        };
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, tag));
        }
    }
    best.map_or("en", |(_, tag)| tag)
}

fn supported(tag: &str) -> Option<&'static str> {
    let tag = tag.trim().to_ascii_lowercase();
    let primary = tag.split(['-', '_']).next().unwrap_or_default();
    match primary {
        "zh" => Some("zh-CN"),
        "en" => Some("en"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::pick;

    #[test]
    fn the_parameter_wins_then_the_preferred_language() {
        assert_eq!(pick(Some("zh-CN"), Some("en")), "zh-CN");
        assert_eq!(pick(Some("fr"), Some("zh-CN,zh;q=0.9,en;q=0.8")), "zh-CN");
        assert_eq!(pick(None, Some("en-GB,en;q=0.9,zh-CN;q=0.5")), "en");
        assert_eq!(pick(None, Some("de, zh;q=0.7, en;q=0.3")), "zh-CN");
        assert_eq!(pick(None, Some("zh;q=0")), "en");
        assert_eq!(pick(None, None), "en");
    }
}
