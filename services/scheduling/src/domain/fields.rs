//! Validated request values of scheduling (URLs, slugs, limits); the checks every service shares come from
//! `cloverleaf_service_kit::validate` and are re-exported here.

pub use cloverleaf_service_kit::validate::{
    EmailAddress, Fields, Invalid, line, optional_line, optional_text,
};

pub const TITLE_MAX: usize = 200;
pub const NAME_MAX: usize = 200;
pub const SHORT_TEXT_MAX: usize = 500;
pub const LONG_TEXT_MAX: usize = 20_000;
pub const URL_MAX: usize = 2_000;

/// An absolute `http` or `https` URL (join links, web pages).
pub fn web_url(value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    if value.len() > URL_MAX {
        return Err(Invalid::new(
            "too_long",
            format!("must be at most {URL_MAX} characters"),
        ));
    }
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(url.to_string())
        }
        _ => Err(Invalid::new(
            "invalid_url",
            "must be an absolute http or https URL",
        )),
    }
}

/// An event's slug: lower-case ASCII letters, digits and single hyphens, 1–80 characters.
pub fn slug(value: &str) -> Result<String, Invalid> {
    let ok = !value.is_empty()
        && value.len() <= 80
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Invalid::new(
            "invalid_slug",
            "must be 1–80 lower-case letters, digits and single hyphens",
        ))
    }
}

/// A slug made from a title: ASCII letters and digits kept (accents dropped), everything else a hyphen. Titles with
/// no Latin letters (Chinese ones) give an empty slug; the caller then uses a fallback.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        let c = fold_accent(c);
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ß' => 's',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_slugs() {
        assert_eq!(
            EmailAddress::parse(" Li.Wei@Example.ORG ")
                .expect("ok")
                .as_str(),
            "Li.Wei@example.org"
        );
        for bad in ["no-at", "a@b", "a b@c.org", "@c.org", "a@.org"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        assert!(web_url("https://meet.example.org/abc").is_ok());
        assert!(web_url("javascript:alert(1)").is_err());
        assert!(web_url("/relative").is_err());
        assert_eq!(
            slugify("Workshop in Siena: Données & Ärzte 2026"),
            "workshop-in-siena-donnees-arzte-2026"
        );
        assert_eq!(slugify("个性化医学"), "");
        assert!(slug("good-slug-1").is_ok());
        for bad in ["Bad", "a--b", "-a", "a b", ""] {
            assert!(slug(bad).is_err(), "{bad}");
        }
    }
}
