//! A registration form: seats, waiting list, approval, the window it is open in, and its questions — and checking a
//! participant's answers against it.

use chrono::{DateTime, NaiveDate, Utc};
use cloverleaf_service_kit::FieldError;

use super::refusal::InvalidFields;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How applicants get in. Stored as its name (the `forms.approval` column, a string of at most 16 characters).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(
    rs_type = "String",
    db_type = "String(sea_orm::sea_query::StringLen::N(16))"
)]
pub enum Approval {
    #[sea_orm(string_value = "automatic")]
    Automatic,
    #[sea_orm(string_value = "manual")]
    Manual,
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automatic => "automatic",
            Self::Manual => "manual",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "automatic" => Some(Self::Automatic),
            "manual" => Some(Self::Manual),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    Text,
    LongText,
    SingleChoice,
    MultipleChoice,
    YesNo,
    Country,
    Email,
    Date,
}

/// A question in English (the main text and the fallback) and, optionally, in Chinese (`*_zh`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Question {
    /// Stable key of the answer, e.g. `dietary`.
    pub id: String,
    pub label: String,
    /// The label in Chinese; `null`: the English one.
    #[serde(default)]
    pub label_zh: Option<String>,
    /// A line of help under the label.
    #[serde(default)]
    pub help: Option<String>,
    #[serde(default)]
    pub help_zh: Option<String>,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    #[serde(default)]
    pub required: bool,
    /// The choices of a single or multiple choice question. An answer is always one of these English values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The same choices in Chinese, in the same order (shown instead; the answer stays the English value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options_zh: Vec<String>,
    /// The answer is shown to the check-in staff at the door (access needs, say); other answers are not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub show_at_check_in: bool,
}

impl Question {
    /// The label in `locale` (`zh-CN` or `en`), English when there is no Chinese one.
    pub fn label_in(&self, locale: &str) -> &str {
        match &self.label_zh {
            Some(zh) if locale == "zh-CN" => zh,
            _ => &self.label,
        }
    }
}

/// Limits of a question's texts, in characters; all one line.
pub const LABEL_MAX: usize = 300;
pub const HELP_MAX: usize = 500;
pub const OPTION_MAX: usize = 300;

/// A one-line text of at most `max` characters, trimmed; `None` for blank.
fn optional_line(
    value: &Option<String>,
    max: usize,
    field: String,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max || value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "invalid",
            format!("must be one line of at most {max} characters"),
        ));
        return None;
    }
    Some(value.to_owned())
}

/// Each choice non-empty, one line, at most [`OPTION_MAX`] characters; the list trimmed.
fn check_options(options: &[String], field: String, errors: &mut Vec<FieldError>) -> Vec<String> {
    let bad = options.iter().any(|o| {
        let o = o.trim();
        o.is_empty() || o.chars().count() > OPTION_MAX || o.chars().any(char::is_control)
    });
    if bad {
        errors.push(FieldError::new(
            field,
            "invalid",
            format!("each choice must be one line of 1–{OPTION_MAX} characters"),
        ));
    }
    options.iter().map(|o| o.trim().to_owned()).collect()
}

/// A form's settings as organisers send them.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormInput {
    /// Seats; `null` for no limit.
    pub capacity: Option<i64>,
    #[serde(default)]
    pub waitlist: bool,
    #[schema(value_type = String, example = "automatic")]
    pub approval: Option<String>,
    pub opens_at: Option<DateTime<Utc>>,
    /// Defaults to the event's start.
    pub closes_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub questions: Vec<Question>,
}

/// A form's settings, valid.
#[derive(Debug, Clone, PartialEq)]
pub struct FormSettings {
    pub capacity: Option<i32>,
    pub waitlist: bool,
    pub approval: Approval,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub questions: Vec<Question>,
}

pub const MAX_QUESTIONS: usize = 50;
pub const MAX_CAPACITY: i64 = 1_000_000;

impl FormInput {
    pub fn validate(self) -> Result<FormSettings, InvalidFields> {
        let mut errors = Vec::new();
        let capacity = match self.capacity {
            None => None,
            Some(n) if (0..=MAX_CAPACITY).contains(&n) => i32::try_from(n).ok(),
            Some(_) => {
                errors.push(FieldError::new(
                    "capacity",
                    "out_of_range",
                    format!("must be between 0 and {MAX_CAPACITY}, or null for no limit"),
                ));
                None
            }
        };
        let approval = match self.approval.as_deref() {
            None => Approval::Automatic,
            Some(value) => Approval::parse(value).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "approval",
                    "invalid_choice",
                    "must be automatic or manual",
                ));
                Approval::Automatic
            }),
        };
        if let (Some(opens), Some(closes)) = (self.opens_at, self.closes_at)
            && closes <= opens
        {
            errors.push(FieldError::new(
                "closes_at",
                "closes_before_opening",
                "must be after opens_at",
            ));
        }
        if self.questions.len() > MAX_QUESTIONS {
            errors.push(FieldError::new(
                "questions",
                "too_many",
                format!("at most {MAX_QUESTIONS} questions"),
            ));
        }
        let mut ids: Vec<&str> = Vec::new();
        let mut questions = Vec::with_capacity(self.questions.len());
        for (i, q) in self.questions.iter().enumerate() {
            let field = |name: &str| format!("questions[{i}].{name}");
            let id_ok = !q.id.is_empty()
                && q.id.len() <= 64
                && q.id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !id_ok {
                errors.push(FieldError::new(
                    field("id"),
                    "invalid_id",
                    "must be 1–64 letters, digits, _ or -",
                ));
            } else if ids.contains(&q.id.as_str()) {
                errors.push(FieldError::new(field("id"), "duplicate", "is used twice"));
            }
            ids.push(&q.id);
            let label = q.label.trim();
            if label.is_empty()
                || label.chars().count() > LABEL_MAX
                || label.chars().any(char::is_control)
            {
                errors.push(FieldError::new(
                    field("label"),
                    "invalid",
                    format!("must be one line of 1–{LABEL_MAX} characters"),
                ));
            }
            let label_zh = optional_line(&q.label_zh, LABEL_MAX, field("label_zh"), &mut errors);
            let help = optional_line(&q.help, HELP_MAX, field("help"), &mut errors);
            let help_zh = optional_line(&q.help_zh, HELP_MAX, field("help_zh"), &mut errors);
            let choices = matches!(
                q.kind,
                QuestionType::SingleChoice | QuestionType::MultipleChoice
            );
            if choices && q.options.is_empty() {
                errors.push(FieldError::new(
                    field("options"),
                    "required",
                    "a choice question needs non-empty options",
                ));
            }
            if !choices && !q.options.is_empty() {
                errors.push(FieldError::new(
                    field("options"),
                    "not_allowed",
                    "only choice questions have options",
                ));
            }
            let options = check_options(&q.options, field("options"), &mut errors);
            let options_zh = check_options(&q.options_zh, field("options_zh"), &mut errors);
            if !options_zh.is_empty() && options_zh.len() != options.len() {
                errors.push(FieldError::new(
                    field("options_zh"),
                    "length_mismatch",
                    format!(
                        "must have as many choices as options ({}), in the same order",
                        options.len()
                    ),
                ));
            }
            questions.push(Question {
                id: q.id.clone(),
                label: label.to_owned(),
                label_zh,
                help,
                help_zh,
                kind: q.kind,
                required: q.required,
                options,
                options_zh,
                show_at_check_in: q.show_at_check_in,
            });
        }
        if !errors.is_empty() {
            return Err(InvalidFields { errors });
        }
        Ok(FormSettings {
            capacity,
            waitlist: self.waitlist,
            approval,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            questions,
        })
    }
}

/// Checks `answers` (question id → value) against the form's questions: every required question answered, every
/// answer of the right type, no unknown questions. Returns the answers as they will be stored (trimmed, countries
/// upper-case). Errors name `answers.<id>`.
pub fn check_answers(
    questions: &[Question],
    answers: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut clean = Map::new();
    for id in answers.keys() {
        if !questions.iter().any(|q| &q.id == id) {
            errors.push(FieldError::new(
                format!("answers.{id}"),
                "unknown_question",
                "the form has no such question",
            ));
        }
    }
    for q in questions {
        let field = format!("answers.{}", q.id);
        let value = answers.get(&q.id).filter(|v| !is_blank(v));
        let Some(value) = value else {
            if q.required {
                errors.push(FieldError::new(field, "required", "is required"));
            }
            continue;
        };
        match answer(q, value) {
            Ok(v) => {
                clean.insert(q.id.clone(), v);
            }
            Err((code, message)) => errors.push(FieldError::new(field, code, message)),
        }
    }
    if errors.is_empty() {
        Ok(clean)
    } else {
        Err(errors)
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn text(value: &Value, max: usize, lines: bool) -> Result<String, (&'static str, String)> {
    let s = value
        .as_str()
        .ok_or(("invalid_type", "must be text".to_owned()))?
        .trim();
    if s.chars().count() > max {
        return Err(("too_long", format!("must be at most {max} characters")));
    }
    if s.chars()
        .any(|c| c.is_control() && !(lines && (c == '\n' || c == '\r' || c == '\t')))
    {
        return Err((
            "control_character",
            "must not contain control characters".into(),
        ));
    }
    Ok(s.to_owned())
}

fn answer(q: &Question, value: &Value) -> Result<Value, (&'static str, String)> {
    match q.kind {
        QuestionType::Text => text(value, 500, false).map(Value::String),
        QuestionType::LongText => text(value, 5000, true).map(Value::String),
        QuestionType::SingleChoice => {
            let s = text(value, 500, false)?;
            if q.options.contains(&s) {
                Ok(Value::String(s))
            } else {
                Err((
                    "invalid_choice",
                    format!("must be one of: {}", q.options.join(", ")),
                ))
            }
        }
        QuestionType::MultipleChoice => {
            let items = value
                .as_array()
                .ok_or(("invalid_type", "must be a list of choices".to_owned()))?;
            let mut chosen = Vec::new();
            for item in items {
                let s = text(item, 500, false)?;
                if !q.options.contains(&s) {
                    return Err(("invalid_choice", format!("{s:?} is not one of the choices")));
                }
                if !chosen.contains(&s) {
                    chosen.push(s);
                }
            }
            Ok(Value::Array(
                chosen.into_iter().map(Value::String).collect(),
            ))
        }
        QuestionType::YesNo => value
            .as_bool()
            .map(Value::Bool)
            .ok_or(("invalid_type", "must be true or false".to_owned())),
        QuestionType::Country => {
            let s = text(value, 3, false)?.to_uppercase();
            isocountry::CountryCode::for_alpha2(&s)
                .map(|_| Value::String(s))
                .map_err(|_| {
                    (
                        "invalid_country",
                        "must be an ISO 3166-1 alpha-2 code such as CN or DE".to_owned(),
                    )
                })
        }
        QuestionType::Email => {
            let s = text(value, 254, false)?;
            cloverleaf_service_kit::validate::EmailAddress::parse(&s)
                .map(|e| Value::String(e.into_string()))
                .map_err(|invalid| (invalid.code, invalid.message))
        }
        QuestionType::Date => {
            let s = text(value, 10, false)?;
            NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map(|_| Value::String(s))
                .map_err(|_| ("invalid_date", "must be a date like 2027-05-12".to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn questions() -> Vec<Question> {
        serde_json::from_value(json!([
            { "id": "dietary", "label": "Dietary needs", "type": "single_choice", "required": true,
              "options": ["none", "vegetarian", "vegan", "halal"] },
            { "id": "topics", "label": "Topics", "type": "multiple_choice", "options": ["genomics", "ethics"] },
            { "id": "visa", "label": "Visa letter?", "type": "yes_no" },
            { "id": "passport", "label": "Passport country", "type": "country" },
            { "id": "arrival", "label": "Arrival", "type": "date" },
            { "id": "assistant", "label": "Assistant's email", "type": "email" },
            { "id": "notes", "label": "Notes", "type": "long_text" }
        ]))
        .expect("questions")
    }

    #[test]
    fn answers_are_checked_against_the_questions() {
        let answers = json!({ "dietary": "vegan", "topics": ["ethics", "ethics"], "visa": true, "passport": "cn",
            "arrival": "2027-05-09", "assistant": "a@b.org", "notes": "line 1\nline 2" });
        let clean = check_answers(&questions(), answers.as_object().expect("map")).expect("valid");
        assert_eq!(clean["passport"], "CN");
        assert_eq!(clean["topics"], json!(["ethics"]));
        let bad = json!({ "dietary": "pizza", "topics": "ethics", "visa": "yes", "passport": "XX",
            "arrival": "09/05/2027", "assistant": "nope", "extra": 1 });
        let errors =
            check_answers(&questions(), bad.as_object().expect("map")).expect_err("invalid");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "answers.extra",
                "answers.dietary",
                "answers.topics",
                "answers.visa",
                "answers.passport",
                "answers.arrival",
                "answers.assistant"
            ]
        );
        let missing = check_answers(&questions(), &Map::new()).expect_err("required");
        assert_eq!(missing[0].field, "answers.dietary");
        assert_eq!(missing[0].code, "required");
    }

    #[test]
    fn form_settings_are_checked() {
        let input: FormInput = serde_json::from_value(json!({
            "capacity": -1, "approval": "sometimes",
            "opens_at": "2027-01-02T00:00:00Z", "closes_at": "2027-01-01T00:00:00Z",
            "questions": [{ "id": "a b", "label": "", "type": "single_choice" },
                          { "id": "x", "label": "X", "type": "text", "options": ["1"] }]
        }))
        .expect("input");
        let problem = input.validate().expect_err("invalid");
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "capacity",
                "approval",
                "closes_at",
                "questions[0].id",
                "questions[0].label",
                "questions[0].options",
                "questions[1].options"
            ]
        );
    }
}
