//! Forms: what a browser posted, the registration form built from the event's questions, and the problem+json
//! `errors` of an answer turned into messages beside the fields they name.

use std::collections::HashMap;

use cloverleaf_problem::Problem;
use serde::Serialize;
use serde_json::{Map, Value};

use super::model::Question;
use crate::i18n::{Catalog, Locale};

/// The fields of a posted form, in order (a multiple-choice question sends its name once per ticked box).
#[derive(Debug, Clone, Default)]
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// `Some(value)` unless it is absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    /// Only the fields a page may show again (never the CSRF or manage tokens).
    pub fn values(&self) -> HashMap<String, Vec<String>> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in &self.0 {
            if k != "csrf" && k != "token" {
                map.entry(k.clone()).or_default().push(v.clone());
            }
        }
        map
    }
}

/// Messages by field name, and the ones no field on the page carries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldErrors {
    pub by_field: HashMap<String, String>,
    pub general: Vec<String>,
}

impl FieldErrors {
    /// The `errors` of a problem, each in the visitor's language when the catalog knows its code
    /// (`field_error.<code>`), else as the service wrote it. Fields not in `placed` go to `general`, named.
    pub fn from_problem(
        problem: Option<&Problem>,
        placed: &[String],
        catalog: &Catalog,
        locale: Locale,
    ) -> Self {
        let mut errors = Self::default();
        let Some(problem) = problem else {
            return errors;
        };
        for error in &problem.errors {
            let key = format!("field_error.{}", error.code);
            let message = if catalog.has(locale, &key) {
                catalog.text(locale, &key).to_owned()
            } else {
                error.message.clone()
            };
            if placed.iter().any(|p| p == &error.field) {
                errors
                    .by_field
                    .entry(error.field.clone())
                    .or_insert(message);
            } else {
                errors.general.push(format!("{}: {message}", error.field));
            }
        }
        if problem.errors.is_empty()
            && let Some(detail) = &problem.detail
        {
            errors.general.push(detail.clone());
        }
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub value: String,
    /// What the option shows (the value itself for questions).
    pub label: String,
    pub checked: bool,
}

/// One field of a form, as the `field` macro of `templates/macros.html` draws it: a label for it, its error (if
/// any) beside it with `aria-describedby`, its value kept.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// The form's field name, also the name problem+json uses (`answers.topic`).
    pub name: String,
    /// The HTML id (`f-answers-topic`); its error is `<id>-error`.
    pub id: String,
    pub label: String,
    /// text, long_text, single_choice, multiple_choice, yes_no, country, email, date.
    pub kind: String,
    pub required: bool,
    pub options: Vec<Choice>,
    pub value: String,
    pub error: Option<String>,
    /// A line under the label (`aria-describedby` too).
    pub hint: Option<String>,
    /// The `autocomplete` token of a personal field (`email`, `name`, `organization`, `country`).
    pub autocomplete: Option<String>,
}

impl Field {
    /// A field of the page's own (not a form question).
    pub fn new(name: &str, kind: &str, label: String, required: bool) -> Self {
        Self {
            name: name.to_owned(),
            id: html_id(name),
            label,
            kind: kind.to_owned(),
            required,
            options: Vec::new(),
            value: String::new(),
            error: None,
            hint: None,
            autocomplete: None,
        }
    }

    /// The value (first posted or stored) and the error of this field.
    pub fn with(mut self, values: &HashMap<String, Vec<String>>, errors: &FieldErrors) -> Self {
        if let Some(first) = values.get(&self.name).and_then(|v| v.first()) {
            self.value.clone_from(first);
        }
        self.error = errors.by_field.get(&self.name).cloned();
        self
    }

    pub fn hint(mut self, hint: String) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn autocomplete(mut self, token: &str) -> Self {
        self.autocomplete = Some(token.to_owned());
        self
    }

    pub fn options(mut self, options: Vec<Choice>) -> Self {
        self.options = options;
        self
    }
}

pub fn html_id(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("f-{id}")
}

/// The fields of the questions, with the values posted (or stored) and the errors found.
pub fn question_fields(
    questions: &[Question],
    values: &HashMap<String, Vec<String>>,
    errors: &FieldErrors,
) -> Vec<Field> {
    questions
        .iter()
        .map(|q| {
            let name = format!("answers.{}", q.id);
            let given = values.get(&name).cloned().unwrap_or_default();
            let first = given.first().cloned().unwrap_or_default();
            Field {
                id: html_id(&name),
                label: q.label.clone(),
                kind: q.kind.clone(),
                required: q.required,
                options: q
                    .options
                    .iter()
                    .map(|o| Choice {
                        value: o.clone(),
                        label: o.clone(),
                        checked: given.contains(o),
                    })
                    .collect(),
                value: first,
                error: errors.by_field.get(&name).cloned(),
                hint: None,
                autocomplete: None,
                name,
            }
        })
        .collect()
}

/// A stored answer as form values (the manage page shows the answers given).
pub fn answer_values(answers: &Map<String, Value>) -> HashMap<String, Vec<String>> {
    answers
        .iter()
        .map(|(id, value)| {
            let values = match value {
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect(),
                Value::Bool(true) => vec!["yes".to_owned()],
                Value::Bool(false) => vec!["no".to_owned()],
                Value::String(s) => vec![s.clone()],
                Value::Null => Vec::new(),
                other => vec![other.to_string()],
            };
            (format!("answers.{id}"), values)
        })
        .collect()
}

/// The answers to send, by question type: lists for multiple choice, booleans for yes/no, text otherwise; blank
/// answers are left out (so a required one is reported missing by the service).
pub fn answers(questions: &[Question], posted: &Posted) -> Map<String, Value> {
    let mut answers = Map::new();
    for q in questions {
        let name = format!("answers.{}", q.id);
        let value = match q.kind.as_str() {
            "multiple_choice" => {
                let chosen = posted.all(&name);
                if chosen.is_empty() {
                    continue;
                }
                Value::Array(
                    chosen
                        .into_iter()
                        .map(|c| Value::from(c.to_owned()))
                        .collect(),
                )
            }
            "yes_no" => match posted.get(&name) {
                "yes" => Value::Bool(true),
                "no" => Value::Bool(false),
                _ => continue,
            },
            _ => match posted.opt(&name) {
                Some(text) => Value::String(text),
                None => continue,
            },
        };
        answers.insert(q.id.clone(), value);
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloverleaf_problem::FieldError;

    fn questions() -> Vec<Question> {
        serde_json::from_value(serde_json::json!([
            {"id": "topic", "label": "Topic", "type": "single_choice", "required": true, "options": ["A", "B"]},
            {"id": "tracks", "label": "Tracks", "type": "multiple_choice", "options": ["X", "Y"]},
            {"id": "visa", "label": "Visa letter?", "type": "yes_no"},
        ]))
        .expect("questions")
    }

    #[test]
    fn posted_answers_take_their_question_types() {
        let posted = Posted(vec![
            ("answers.topic".into(), " B ".into()),
            ("answers.tracks".into(), "X".into()),
            ("answers.tracks".into(), "Y".into()),
            ("answers.visa".into(), "no".into()),
            ("csrf".into(), "secret".into()),
        ]);
        let answers = answers(&questions(), &posted);
        assert_eq!(
            Value::Object(answers),
            serde_json::json!({"topic": "B", "tracks": ["X", "Y"], "visa": false})
        );
        assert!(!posted.values().contains_key("csrf"));
        let blank = answers_of(&[("answers.topic", "")]);
        assert!(blank.is_empty(), "a blank answer is left out: {blank:?}");
    }

    fn answers_of(pairs: &[(&str, &str)]) -> Map<String, Value> {
        let posted = Posted(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        answers(&questions(), &posted)
    }

    #[test]
    fn problem_errors_go_beside_their_fields_in_the_visitors_language() {
        let catalog = Catalog::load().expect("catalog");
        let problem = Problem::invalid(vec![
            FieldError::new("email", "invalid_email", "must be an email address"),
            FieldError::new("answers.topic", "required", "is required"),
            FieldError::new(
                "timezone",
                "invalid_timezone",
                "must be an IANA time zone name",
            ),
        ]);
        let placed = vec!["email".to_owned(), "answers.topic".to_owned()];
        let errors = FieldErrors::from_problem(Some(&problem), &placed, &catalog, Locale::ZhCn);
        assert_eq!(
            errors.by_field["email"],
            catalog.text(Locale::ZhCn, "field_error.invalid_email")
        );
        assert_eq!(errors.by_field["answers.topic"], "此项必填");
        assert_eq!(errors.general, vec!["timezone: 请输入有效的时区"]);

        let fields = question_fields(&questions(), &HashMap::new(), &errors);
        assert_eq!(fields[0].id, "f-answers-topic");
        assert_eq!(fields[0].error.as_deref(), Some("此项必填"));
        assert_eq!(fields[1].error, None);
    }
}
