//! What a participant sends to register, and where a registration goes: confirmed while seats remain, then the
//! waiting list (or "full"), or pending approval when organisers select applicants.

use cloverleaf_service_kit::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::forms::{Approval, FormSettings, check_answers};
use super::refusal::InvalidFields;

/// A registration's status: the contract's, which is also the `registrations.status` column's active enum.
pub use cloverleaf_contracts::RegistrationStatus as Status;

/// The domain events registration announces are defined in the contracts (`registration.*`).
pub use cloverleaf_contracts::events::RegistrationChange;

pub const PROMOTED: RegistrationChange = RegistrationChange::Promoted;
/// A registration's personal data was erased: `{registration_id, event_id}` only, so every service drops its copy.
pub const ERASED: &str = cloverleaf_contracts::events::types::REGISTRATION_ERASED;
/// Someone registered again with an address that already has a registration: its owner gets a fresh manage link.
pub const MANAGE_LINK_REQUESTED: RegistrationChange = RegistrationChange::ManageLinkRequested;

pub use cloverleaf_service_kit::validate::EmailAddress;

/// `POST /v1/registrations`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    pub event_id: Uuid,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
    pub affiliation: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// Must be true: the participant agrees that their data is stored for the event.
    #[serde(default)]
    #[schema(required = true)]
    pub consent: bool,
    /// `en` or `zh-CN`: the language of their emails.
    pub locale: Option<String>,
    /// Their IANA zone, for showing times in emails.
    pub timezone: Option<String>,
}

/// A participant's details, valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub email: EmailAddress,
    pub name: String,
    pub affiliation: Option<String>,
    pub country: Option<String>,
    pub answers: Map<String, Value>,
    pub locale: String,
    pub timezone: Option<String>,
}

fn one_line(value: &str, max: usize) -> Result<String, (&'static str, String)> {
    let value = value.trim();
    if value.is_empty() {
        return Err(("required", "is required".into()));
    }
    if value.chars().any(char::is_control) {
        return Err((
            "line_break",
            "must be one line without control characters".into(),
        ));
    }
    if value.chars().count() > max {
        return Err(("too_long", format!("must be at most {max} characters")));
    }
    Ok(value.to_owned())
}

pub fn locale(value: Option<&str>) -> Result<String, (&'static str, String)> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok("en".into()),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "en" | "en-gb" | "en-us" => Ok("en".into()),
            "zh" | "zh-cn" | "zh-hans" | "zh-hans-cn" => Ok("zh-CN".into()),
            _ => Err(("unsupported_locale", "must be en or zh-CN".into())),
        },
    }
}

impl RegistrationInput {
    /// Checks the participant's fields and answers against `form`; a 422 names each invalid field.
    pub fn validate(&self, form: &FormSettings) -> Result<Participant, InvalidFields> {
        let mut errors = Vec::new();
        let email = match EmailAddress::parse(self.email.as_deref().unwrap_or_default()) {
            Ok(email) => Some(email),
            Err(invalid) => {
                errors.push(FieldError::new("email", invalid.code, invalid.message));
                None
            }
        };
        let mut check = |field: &str, result: Result<String, (&'static str, String)>| match result {
            Ok(v) => Some(v),
            Err((code, message)) => {
                errors.push(FieldError::new(field, code, message));
                None
            }
        };
        let name = check(
            "name",
            one_line(self.name.as_deref().unwrap_or_default(), 200),
        );
        let affiliation = match self.affiliation.as_deref().filter(|a| !a.trim().is_empty()) {
            None => None,
            Some(a) => check("affiliation", one_line(a, 300)),
        };
        let country = match self.country.as_deref().filter(|c| !c.trim().is_empty()) {
            None => None,
            Some(c) => check(
                "country",
                isocountry::CountryCode::for_alpha2(&c.trim().to_uppercase())
                    .map(|code| code.alpha2().to_owned())
                    .map_err(|_| {
                        (
                            "invalid_country",
                            "must be an ISO 3166-1 alpha-2 code such as CN or DE".into(),
                        )
                    }),
            ),
        };
        let locale = check("locale", locale(self.locale.as_deref()));
        let timezone = match self.timezone.as_deref().filter(|z| !z.trim().is_empty()) {
            None => None,
            Some(z) => check(
                "timezone",
                z.trim()
                    .parse::<chrono_tz::Tz>()
                    .map(|tz| tz.name().to_owned())
                    .map_err(|_| {
                        (
                            "invalid_timezone",
                            "must be an IANA time zone name such as Asia/Shanghai".into(),
                        )
                    }),
            ),
        };
        if !self.consent {
            errors.push(FieldError::new(
                "consent",
                "required",
                "must be true: we store these details only with the participant's consent",
            ));
        }
        let answers = match check_answers(&form.questions, &self.answers) {
            Ok(answers) => Some(answers),
            Err(mut answer_errors) => {
                errors.append(&mut answer_errors);
                None
            }
        };
        if !errors.is_empty() {
            return Err(InvalidFields { errors });
        }
        match (email, name, locale, answers) {
            (Some(email), Some(name), Some(locale), Some(answers)) => Ok(Participant {
                email,
                name,
                affiliation,
                country,
                answers,
                locale,
                timezone,
            }),
            _ => Err(InvalidFields { errors: Vec::new() }),
        }
    }
}

/// Where a new (or newly approved) registration goes, given the form and how many are confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Confirmed,
    Waitlisted,
    PendingApproval,
    /// No seat and no waiting list.
    Full,
}

fn seat_or_queue(form: &FormSettings, confirmed: i32) -> Placement {
    match form.capacity {
        Some(capacity) if confirmed >= capacity => {
            if form.waitlist {
                Placement::Waitlisted
            } else {
                Placement::Full
            }
        }
        _ => Placement::Confirmed,
    }
}

/// A new registration: pending when organisers approve applicants, else a seat or the queue.
pub fn place_new(form: &FormSettings, confirmed: i32) -> Placement {
    if form.approval == Approval::Manual {
        Placement::PendingApproval
    } else {
        seat_or_queue(form, confirmed)
    }
}

/// An approved application: a seat, or the queue.
pub fn place_approved(form: &FormSettings, confirmed: i32) -> Placement {
    seat_or_queue(form, confirmed)
}

/// How many seats are free now; `None` without a limit (everyone waiting may move up). A number, never a stand-in
/// for "no limit": a `u64::MAX` once reached the database as a LIMIT and panicked converting it to a signed integer.
pub fn free_seats(capacity: Option<i32>, confirmed: i32) -> Option<u64> {
    capacity.map(|capacity| u64::try_from(capacity.saturating_sub(confirmed)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(capacity: Option<i32>, waitlist: bool, approval: Approval) -> FormSettings {
        FormSettings {
            capacity,
            waitlist,
            approval,
            opens_at: None,
            closes_at: None,
            questions: Vec::new(),
        }
    }

    #[test]
    fn placement_follows_seats_waiting_list_and_approval() {
        let auto = form(Some(2), true, Approval::Automatic);
        assert_eq!(place_new(&auto, 1), Placement::Confirmed);
        assert_eq!(place_new(&auto, 2), Placement::Waitlisted);
        assert_eq!(
            place_new(&form(Some(2), false, Approval::Automatic), 2),
            Placement::Full
        );
        assert_eq!(
            place_new(&form(None, false, Approval::Automatic), 10_000),
            Placement::Confirmed
        );
        let manual = form(Some(1), false, Approval::Manual);
        assert_eq!(place_new(&manual, 5), Placement::PendingApproval);
        assert_eq!(place_approved(&manual, 0), Placement::Confirmed);
        assert_eq!(place_approved(&manual, 1), Placement::Full);
        assert_eq!(
            free_seats(Some(5), 7),
            Some(0),
            "lowering capacity removes nobody"
        );
        assert_eq!(free_seats(Some(5), 2), Some(3));
        assert_eq!(free_seats(None, 2), None, "no limit");
    }

    #[test]
    fn participants_are_checked() {
        let input: RegistrationInput = serde_json::from_value(serde_json::json!({
            "event_id": Uuid::nil(), "email": "Wei.Zhang@Example.CN", "name": "张伟", "country": "cn",
            "consent": true, "locale": "zh", "timezone": "Asia/Shanghai"
        }))
        .expect("input");
        let p = input
            .validate(&form(None, false, Approval::Automatic))
            .expect("valid");
        assert_eq!(p.email.as_str(), "Wei.Zhang@example.cn");
        assert_eq!(p.email.key(), "wei.zhang@example.cn");
        assert_eq!(p.country.as_deref(), Some("CN"));
        assert_eq!(p.locale, "zh-CN");
        let bad: RegistrationInput = serde_json::from_value(serde_json::json!({
            "event_id": Uuid::nil(), "email": "x", "name": "a\nb", "country": "XX", "locale": "fr",
            "timezone": "Mars/Base"
        }))
        .expect("input");
        let problem = bad
            .validate(&form(None, false, Approval::Automatic))
            .expect_err("invalid");
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["email", "name", "country", "locale", "timezone", "consent"]
        );
    }
}
