//! Checking request values, the same way in every service: [`Fields`] gathers every invalid field of a request so
//! one 422 names them all; [`line`], [`optional_line`], [`optional_text`] and [`EmailAddress`] are the checks every
//! service needs. Services add their own domain checks returning [`Invalid`].

use crate::{FieldError, Problem};

/// Why one value was refused: a machine-readable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The invalid fields of one request, gathered while it is checked.
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value if valid; else records the error under `field` and gives `None`.
    pub fn check<T>(&mut self, field: impl Into<String>, result: Result<T, Invalid>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(invalid) => {
                self.errors
                    .push(FieldError::new(field, invalid.code, invalid.message));
                None
            }
        }
    }

    /// The value if given; else records `required` under `field`.
    pub fn required<'a>(&mut self, field: &str, value: Option<&'a str>) -> Option<&'a str> {
        if value.is_none() {
            self.push(field, "required", "must be given");
        }
        value
    }

    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.errors.push(FieldError::new(field, code, message));
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// 422 naming every invalid field, or Ok when there is none.
    pub fn finish(self) -> Result<(), Problem> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::invalid(self.errors))
        }
    }
}

/// A one-line text: trimmed, not empty, at most `max` characters, without line breaks or other control characters
/// (a line break in a name or title would break email headers and calendar lines). Markup is kept as the text it
/// is; nothing interprets it.
pub fn line(value: &str, max: usize) -> Result<String, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Invalid::new("required", "must not be empty"));
    }
    if value.chars().any(|c| c == '\n' || c == '\r') {
        return Err(Invalid::new("line_break", "must be one line"));
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid::new(
            "control_character",
            "must not contain control characters",
        ));
    }
    if value.chars().count() > max {
        return Err(Invalid::new(
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// An optional one-line text; empty means absent.
pub fn optional_line(value: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => line(v, max).map(Some),
    }
}

/// An optional text of several lines; line breaks kept as `\n`, other control characters (but tabs) refused.
pub fn optional_text(value: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let value = value.replace("\r\n", "\n").replace('\r', "\n");
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Invalid::new(
            "control_character",
            "must not contain control characters",
        ));
    }
    if value.chars().count() > max {
        return Err(Invalid::new(
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    Ok(Some(value))
}

/// An email address as people type them: one `@`, a local part of at most 64 octets, a domain with a dot (no empty
/// labels), no spaces or control characters, at most 254 octets. Kept as given apart from the domain, which is
/// lower-cased; [`EmailAddress::key`] is the lower-case form that makes "the same address" case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

pub const EMAIL_MAX_OCTETS: usize = 254;

impl EmailAddress {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        let bad = || {
            Invalid::new(
                "invalid_email",
                "must be an email address like name@example.org",
            )
        };
        if value.is_empty() {
            return Err(Invalid::new("required", "must not be empty"));
        }
        if value.len() > EMAIL_MAX_OCTETS
            || value.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The whole address lower-cased: how "the same address" is compared and looked up.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_texts_refuse_line_breaks_and_overlong_values() {
        assert_eq!(line("  Hello  ", 10).expect("ok"), "Hello");
        assert_eq!(line("a\nb", 10).expect_err("break").code, "line_break");
        assert_eq!(line("a\rb", 10).expect_err("break").code, "line_break");
        assert_eq!(line("", 10).expect_err("empty").code, "required");
        assert_eq!(line("abcdef", 5).expect_err("long").code, "too_long");
        assert_eq!(
            line("<b>bold</b>", 20).expect("markup is text"),
            "<b>bold</b>"
        );
        assert_eq!(line("中德合作", 4).expect("counts characters"), "中德合作");
        assert_eq!(
            optional_text(Some("a\r\nb"), 10).expect("ok").as_deref(),
            Some("a\nb")
        );
    }

    #[test]
    fn email_addresses() {
        let email = EmailAddress::parse(" Li.Wei@Example.ORG ").expect("ok");
        assert_eq!(email.as_str(), "Li.Wei@example.org");
        assert_eq!(email.key(), "li.wei@example.org");
        for bad in ["no-at", "a@b", "a b@c.org", "@c.org", "a@.org", "a@b..org"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fields_name_every_invalid_one() {
        let mut f = Fields::new();
        assert_eq!(f.check("a", line("ok", 5)), Some("ok".to_owned()));
        assert_eq!(f.check("b", line("", 5)), None);
        assert_eq!(f.required("c", None), None);
        let problem = f.finish().expect_err("invalid");
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["b", "c"]);
    }
}
