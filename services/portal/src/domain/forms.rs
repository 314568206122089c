//! Forms: what a browser posted, the registration form built from the event's questions, and the problem+json
//! `errors` of an answer turned into messages beside the fields they name.

use std::collections::HashMap;

use cloverleaf_problem::Problem;
use serde::Serialize;
use serde_json::{Map, Value};

use super::countries::Countries;
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

    /// Whether the form had a field `name` at all (blank or not).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
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
                errors.general.push(crate::i18n::label_and_message(
                    locale,
                    &error.field,
                    &message,
                ));
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

    pub fn value(mut self, value: Option<&str>) -> Self {
        self.value = value.unwrap_or_default().to_owned();
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

/// The countries to choose from, in the reader's language and order, `chosen` (a code, any case) ticked.
pub fn country_choices(countries: &Countries, locale: Locale, chosen: &str) -> Vec<Choice> {
    countries
        .list(locale)
        .iter()
        .map(|c| Choice {
            value: c.code.clone(),
            label: c.name.clone(),
            checked: c.code.eq_ignore_ascii_case(chosen.trim()),
        })
        .collect()
}

/// The fields of the questions in the reader's language, with the values posted (or stored) and the errors found.
/// Every type is drawn with what it needs to show its current answer: a country question its countries, a choice
/// its options (the value stays the English option, the label is the reader's).
pub fn question_fields(
    questions: &[Question],
    values: &HashMap<String, Vec<String>>,
    errors: &FieldErrors,
    locale: Locale,
    countries: &Countries,
) -> Vec<Field> {
    questions
        .iter()
        .map(|q| {
            let name = format!("answers.{}", q.id);
            let given = values.get(&name).cloned().unwrap_or_default();
            let first = given.first().cloned().unwrap_or_default();
            let options = match q.kind.as_str() {
                "country" => country_choices(countries, locale, &first),
                _ => q
                    .options
                    .iter()
                    .enumerate()
                    .map(|(i, o)| Choice {
                        value: o.clone(),
                        label: q.option_in(i, locale).unwrap_or_else(|| o.clone()),
                        checked: given.contains(o),
                    })
                    .collect(),
            };
            Field {
                id: html_id(&name),
                label: q.label_in(locale),
                kind: q.kind.clone(),
                required: q.required,
                options,
                value: first,
                error: errors.by_field.get(&name).cloned(),
                hint: q.help_in(locale),
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

    /// Every question type, drawn with its stored answer, sends that answer back unchanged.
    #[test]
    fn every_question_type_shows_its_answer_and_saves_it_unchanged() {
        let questions: Vec<Question> = serde_json::from_value(serde_json::json!([
            {"id": "bio", "label": "Bio", "type": "text"},
            {"id": "motivation", "label": "Why", "type": "long_text"},
            {"id": "topic", "label": "Topic", "label_zh": "主题", "type": "single_choice",
             "options": ["Genomics", "AI"], "options_zh": ["基因组学", "人工智能"]},
            {"id": "tracks", "label": "Tracks", "type": "multiple_choice", "options": ["X", "Y", "Z"]},
            {"id": "visa", "label": "Visa letter?", "type": "yes_no"},
            {"id": "diet", "label": "Vegetarian?", "type": "yes_no"},
            {"id": "passport", "label": "Passport country", "type": "country"},
            {"id": "assistant", "label": "Assistant", "type": "email"},
            {"id": "arrival", "label": "Arrival", "type": "date"},
        ]))
        .expect("questions");
        let stored = serde_json::json!({
            "bio": "Oncologist", "motivation": "Two\nlines", "topic": "AI", "tracks": ["X", "Z"],
            "visa": true, "diet": false, "passport": "TW", "assistant": "li@example.cn", "arrival": "2027-09-01",
        });
        let countries = Countries::load().expect("countries");
        let values = answer_values(stored.as_object().expect("answers"));
        let fields = question_fields(
            &questions,
            &values,
            &FieldErrors::default(),
            Locale::ZhCn,
            &countries,
        );
        let field = |id: &str| {
            fields
                .iter()
                .find(|f| f.name == format!("answers.{id}"))
                .expect(id)
        };
        assert_eq!(field("bio").value, "Oncologist");
        assert_eq!(field("topic").label, "主题");
        let topic: Vec<(&str, &str, bool)> = field("topic")
            .options
            .iter()
            .map(|c| (c.value.as_str(), c.label.as_str(), c.checked))
            .collect();
        assert_eq!(
            topic,
            vec![("Genomics", "基因组学", false), ("AI", "人工智能", true)]
        );
        let ticked: Vec<&str> = field("tracks")
            .options
            .iter()
            .filter(|c| c.checked)
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(ticked, vec!["X", "Z"]);
        assert_eq!(field("visa").value, "yes");
        assert_eq!(field("diet").value, "no");
        let passport = field("passport");
        assert!(
            passport.options.len() > 240,
            "a country question lists the countries"
        );
        let chosen: Vec<&Choice> = passport.options.iter().filter(|c| c.checked).collect();
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].value, "TW");
        assert_eq!(field("arrival").value, "2027-09-01");

        // What the page sends back is what was stored.
        let mut posted = Vec::new();
        for f in &fields {
            match f.kind.as_str() {
                "single_choice" | "multiple_choice" | "country" => posted.extend(
                    f.options
                        .iter()
                        .filter(|c| c.checked)
                        .map(|c| (f.name.clone(), c.value.clone())),
                ),
                _ => posted.push((f.name.clone(), f.value.clone())),
            }
        }
        let sent = answers(&questions, &Posted(posted));
        assert_eq!(Value::Object(sent), stored);
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
        assert_eq!(errors.general, vec!["timezone：请输入有效的时区"]);

        let countries = Countries::load().expect("countries");
        let fields = question_fields(
            &questions(),
            &HashMap::new(),
            &errors,
            Locale::ZhCn,
            &countries,
        );
        assert_eq!(fields[0].id, "f-answers-topic");
        assert_eq!(fields[0].error.as_deref(), Some("此项必填"));
        assert_eq!(fields[1].error, None);
    }
}
