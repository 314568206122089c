//! The registration form editor: the form as the page holds it while the organiser works on it (a [`Draft`], every
//! value as typed), the buttons that move, remove and add questions ([`Op`]) — each re-shows the page with the
//! change, nothing typed lost — and the form as registration takes it when the organiser saves. Registration checks
//! the form; the editor only turns the page's fields into its shape and its errors back onto the page's fields.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cloverleaf_problem::FieldError;
use serde::Serialize;
use serde_json::{Value, json};

use super::forms::Posted;
use super::model::Form;
use super::time;

/// The question types registration accepts, in the order the editor offers them.
pub const KINDS: [&str; 8] = [
    "text",
    "long_text",
    "single_choice",
    "multiple_choice",
    "yes_no",
    "country",
    "email",
    "date",
];

/// Registration takes at most this many questions; the page stops offering "Add a question" there.
pub const MAX_QUESTIONS: usize = 50;

/// Whether questions of `kind` have options to choose from.
pub fn has_choices(kind: &str) -> bool {
    matches!(kind, "single_choice" | "multiple_choice")
}

/// One question as typed: options one per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftQuestion {
    /// The answer's key; blank for a question not saved yet (one is made from its label on saving). Kept as it is
    /// for a saved question, so moving or relabelling it keeps the answers already given to it.
    pub id: String,
    pub label: String,
    pub label_zh: String,
    pub help: String,
    pub help_zh: String,
    pub kind: String,
    pub options: String,
    pub options_zh: String,
    pub required: bool,
    pub show_at_check_in: bool,
}

impl Default for DraftQuestion {
    fn default() -> Self {
        Self {
            id: String::new(),
            label: String::new(),
            label_zh: String::new(),
            help: String::new(),
            help_zh: String::new(),
            kind: "text".to_owned(),
            options: String::new(),
            options_zh: String::new(),
            required: false,
            show_at_check_in: false,
        }
    }
}

/// The whole form as typed; times are wall-clock times in the event's zone (`2027-06-15T10:00`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// Blank: no limit.
    pub capacity: String,
    pub waitlist: bool,
    /// `automatic` or `manual`.
    pub approval: String,
    pub opens_at: String,
    pub closes_at: String,
    pub questions: Vec<DraftQuestion>,
}

/// What a button of the editor asks for; every button but Save only changes the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Save,
    Up(usize),
    Down(usize),
    Remove(usize),
    Add,
}

impl Op {
    /// The `op` value a button posted (`save`, `add`, `up:2`, `down:0`, `remove:1`); blank (Enter in a field, with
    /// no button) saves. Anything else is no operation the page offers.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        match value {
            "" | "save" => return Some(Self::Save),
            "add" => return Some(Self::Add),
            _ => {}
        }
        let (name, index) = value.split_once(':')?;
        let index: usize = index.parse().ok()?;
        match name {
            "up" => Some(Self::Up(index)),
            "down" => Some(Self::Down(index)),
            "remove" => Some(Self::Remove(index)),
            _ => None,
        }
    }
}

/// Lines of a text area, trimmed, blank ones left out.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `Some(text)` unless blank.
fn text_or_null(text: &str) -> Value {
    match text.trim() {
        "" => Value::Null,
        text => json!(text),
    }
}

/// The name of question `index`'s field `field` on the page (`q.2.label`).
pub fn question_field(index: usize, field: &str) -> String {
    format!("q.{index}.{field}")
}

impl Draft {
    /// The stored form (none yet: an empty one, automatic, no limit), its times in `zone`.
    pub fn from_form(form: Option<&Form>, zone: Tz) -> Self {
        let Some(form) = form else {
            return Self {
                approval: "automatic".to_owned(),
                ..Self::default()
            };
        };
        let window =
            |at: Option<DateTime<Utc>>| at.map(|t| time::wall_clock(t, zone)).unwrap_or_default();
        Self {
            capacity: form.capacity.map(|c| c.to_string()).unwrap_or_default(),
            waitlist: form.waitlist,
            approval: if form.approval == "manual" {
                "manual".to_owned()
            } else {
                "automatic".to_owned()
            },
            opens_at: window(form.opens_at),
            closes_at: window(form.closes_at),
            questions: form
                .questions
                .iter()
                .map(|q| DraftQuestion {
                    id: q.id.clone(),
                    label: q.label.clone(),
                    label_zh: q.label_zh.clone().unwrap_or_default(),
                    help: q.help.clone().unwrap_or_default(),
                    help_zh: q.help_zh.clone().unwrap_or_default(),
                    kind: q.kind.clone(),
                    options: q.options.join("\n"),
                    options_zh: q.options_zh.join("\n"),
                    required: q.required,
                    show_at_check_in: q
                        .other
                        .get("show_at_check_in")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
                .collect(),
        }
    }

    /// The editor's fields as posted: questions `q.0.…`, `q.1.…` in order, as many as the page had.
    pub fn from_posted(posted: &Posted) -> Self {
        let mut questions = Vec::new();
        // Each question posts its (hidden) key, blank or not; the page never has more than registration allows, and a
        // tampered post stops there too.
        for i in 0..=MAX_QUESTIONS {
            let name = |field: &str| question_field(i, field);
            if !posted.has(&name("id")) {
                break;
            }
            questions.push(DraftQuestion {
                id: posted.get(&name("id")).to_owned(),
                label: posted.get(&name("label")).to_owned(),
                label_zh: posted.get(&name("label_zh")).to_owned(),
                help: posted.get(&name("help")).to_owned(),
                help_zh: posted.get(&name("help_zh")).to_owned(),
                kind: match posted.get(&name("kind")) {
                    "" => "text".to_owned(),
                    kind => kind.to_owned(),
                },
                options: lines(posted.get(&name("options"))).join("\n"),
                options_zh: lines(posted.get(&name("options_zh"))).join("\n"),
                required: posted.checked(&name("required")),
                show_at_check_in: posted.checked(&name("show_at_check_in")),
            });
        }
        Self {
            capacity: posted.get("capacity").to_owned(),
            waitlist: posted.checked("waitlist"),
            approval: posted.get("approval").to_owned(),
            opens_at: posted.get("opens_at").to_owned(),
            closes_at: posted.get("closes_at").to_owned(),
            questions,
        }
    }

    /// Applies a button other than Save; an index the page does not have changes nothing.
    pub fn apply(&mut self, op: Op) {
        let n = self.questions.len();
        match op {
            Op::Save => {}
            Op::Up(i) if i > 0 && i < n => self.questions.swap(i - 1, i),
            Op::Down(i) if i + 1 < n => self.questions.swap(i, i + 1),
            Op::Remove(i) if i < n => {
                self.questions.remove(i);
            }
            Op::Add if n < MAX_QUESTIONS => self.questions.push(DraftQuestion::default()),
            Op::Up(_) | Op::Down(_) | Op::Remove(_) | Op::Add => {}
        }
    }

    /// The form as `PUT /v1/forms/{event_id}` takes it, times read in `zone`. A closing time at the event's start
    /// (`event_start`, what the page shows when none was set) is left out, so it keeps following the event. Errors
    /// name the page's fields: a seat count that is no number, a time that is no time.
    pub fn body(&self, zone: Tz, event_start: DateTime<Utc>) -> Result<Value, Vec<FieldError>> {
        let mut errors = Vec::new();
        let capacity = match self.capacity.trim() {
            "" => Value::Null,
            text => match text.parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => {
                    errors.push(FieldError::new(
                        "capacity",
                        "invalid_number",
                        "must be a whole number, or blank for no limit",
                    ));
                    Value::Null
                }
            },
        };
        let mut at = |field: &str, text: &str| match text.trim() {
            "" => None,
            text => {
                let parsed = time::from_wall_clock(text, zone);
                if parsed.is_none() {
                    errors.push(FieldError::new(
                        field,
                        "invalid_datetime",
                        "not a date and time",
                    ));
                }
                parsed
            }
        };
        let opens_at = at("opens_at", &self.opens_at);
        let closes_at = at("closes_at", &self.closes_at).filter(|c| *c != event_start);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut body = json!({
            "capacity": capacity,
            "waitlist": self.waitlist,
            "approval": if self.approval.is_empty() { "automatic" } else { self.approval.as_str() },
            "opens_at": opens_at,
            "questions": self.questions_body(),
        });
        if let Some(closes_at) = closes_at {
            body["closes_at"] = json!(closes_at);
        }
        Ok(body)
    }

    /// The questions as registration takes them: a new one gets a key made from its English label, unique in the
    /// form; options only for choice questions (a question switched from a choice to text drops them).
    fn questions_body(&self) -> Vec<Value> {
        let mut taken: Vec<String> = self
            .questions
            .iter()
            .filter(|q| !q.id.is_empty())
            .map(|q| q.id.clone())
            .collect();
        self.questions
            .iter()
            .map(|q| {
                let id = if q.id.is_empty() {
                    let id = new_key(&q.label, &taken);
                    taken.push(id.clone());
                    id
                } else {
                    q.id.clone()
                };
                let mut question = json!({
                    "id": id,
                    "label": q.label.trim(),
                    "label_zh": text_or_null(&q.label_zh),
                    "help": text_or_null(&q.help),
                    "help_zh": text_or_null(&q.help_zh),
                    "type": q.kind,
                    "required": q.required,
                    "show_at_check_in": q.show_at_check_in,
                });
                if has_choices(&q.kind) {
                    question["options"] = json!(lines(&q.options));
                    question["options_zh"] = json!(lines(&q.options_zh));
                }
                question
            })
            .collect()
    }
}

/// A key for a new question: its English label in lower-case letters, digits and `_` (at most 40), `question` when
/// that leaves nothing (a label in Chinese only), `_2`, `_3`… after it when taken.
fn new_key(label: &str, taken: &[String]) -> String {
    let mut key = String::new();
    for c in label.trim().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
        if key.len() >= 40 {
            break;
        }
    }
    let key = match key.trim_end_matches('_') {
        "" => "question".to_owned(),
        key => key.to_owned(),
    };
    if !taken.contains(&key) {
        return key;
    }
    (2..)
        .map(|n| format!("{key}_{n}"))
        .find(|k| !taken.contains(k))
        .unwrap_or(key)
}

/// Where the editor shows an error registration gave about `field`, and the catalog key (under `form_editor.error.`)
/// of its message when the editor has its own: `questions[2].label` → `q.2.label`; the key of a question, which the
/// editor makes, is shown at its label; an error about the whole list goes above the form (`None`).
pub fn editor_field(field: &str, code: &str) -> (Option<String>, Option<String>) {
    let own = |name: &str| Some(name.to_owned());
    if let Some(rest) = field.strip_prefix("questions[")
        && let Some((index, name)) = rest.split_once("].")
        && let Ok(index) = index.parse::<usize>()
    {
        let name = if name == "id" { "label" } else { name };
        let message = match (name, code) {
            (_, "invalid") => own(&format!("invalid_{name}")),
            (_, "required" | "not_allowed" | "length_mismatch" | "duplicate" | "invalid_id") => {
                own(code)
            }
            _ => None,
        };
        return (Some(question_field(index, name)), message);
    }
    let message = match code {
        "out_of_range" | "closes_before_opening" | "too_many" | "invalid_number" => own(code),
        "invalid_choice" if field == "approval" => own("approval"),
        _ => None,
    };
    match field {
        "capacity" | "approval" | "opens_at" | "closes_at" | "waitlist" => {
            (Some(field.to_owned()), message)
        }
        _ => (None, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn draft() -> Draft {
        Draft::from_posted(&posted(&[
            ("csrf", "x"),
            ("editor", "1"),
            ("capacity", " 2 "),
            ("waitlist", "yes"),
            ("approval", "manual"),
            ("opens_at", "2027-06-01T09:30"),
            ("closes_at", ""),
            ("q.0.id", "dietary"),
            ("q.0.label", "Dietary needs"),
            ("q.0.label_zh", "饮食需求"),
            ("q.0.kind", "single_choice"),
            ("q.0.options", "none\r\n\r\n vegan \r\n"),
            ("q.0.options_zh", "无\r\n纯素"),
            ("q.0.required", "yes"),
            ("q.1.id", ""),
            ("q.1.label", "Access needs?"),
            ("q.1.kind", "text"),
            ("q.1.options", "left over"),
            ("q.1.show_at_check_in", "yes"),
            ("q.2.id", ""),
            ("q.2.label", "签证"),
            ("q.2.kind", "yes_no"),
            ("q.4.id", "never-read"),
        ]))
    }

    #[test]
    fn the_posted_editor_reads_as_a_draft_in_order() {
        let d = draft();
        assert_eq!(d.capacity, "2");
        assert!(d.waitlist);
        assert_eq!(d.approval, "manual");
        let labels: Vec<&str> = d.questions.iter().map(|q| q.label.as_str()).collect();
        assert_eq!(
            labels,
            ["Dietary needs", "Access needs?", "签证"],
            "stops at a gap"
        );
        assert_eq!(d.questions[0].options, "none\nvegan");
        assert!(d.questions[0].required && !d.questions[0].show_at_check_in);
        assert!(d.questions[1].show_at_check_in && !d.questions[1].required);
    }

    #[test]
    fn buttons_move_remove_and_add_questions_and_ignore_indexes_the_page_has_not() {
        assert_eq!(Op::parse("up:2"), Some(Op::Up(2)));
        assert_eq!(Op::parse("down:0"), Some(Op::Down(0)));
        assert_eq!(Op::parse("remove:1"), Some(Op::Remove(1)));
        assert_eq!(Op::parse("add"), Some(Op::Add));
        assert_eq!(Op::parse(""), Some(Op::Save));
        assert_eq!(Op::parse("up:x"), None);
        assert_eq!(Op::parse("sideways:1"), None);

        let order =
            |d: &Draft| -> Vec<String> { d.questions.iter().map(|q| q.label.clone()).collect() };
        let mut d = draft();
        d.apply(Op::Up(2));
        assert_eq!(order(&d), ["Dietary needs", "签证", "Access needs?"]);
        d.apply(Op::Up(0));
        d.apply(Op::Down(2));
        d.apply(Op::Remove(7));
        assert_eq!(
            order(&d),
            ["Dietary needs", "签证", "Access needs?"],
            "no change"
        );
        d.apply(Op::Down(0));
        assert_eq!(order(&d), ["签证", "Dietary needs", "Access needs?"]);
        d.apply(Op::Remove(1));
        assert_eq!(order(&d), ["签证", "Access needs?"]);
        d.apply(Op::Add);
        assert_eq!(d.questions.len(), 3);
        assert_eq!(d.questions[2], DraftQuestion::default());
        assert_eq!(d.questions[2].kind, "text");
        d.questions = vec![DraftQuestion::default(); MAX_QUESTIONS];
        d.apply(Op::Add);
        assert_eq!(
            d.questions.len(),
            MAX_QUESTIONS,
            "no more than registration takes"
        );
    }

    #[test]
    fn saving_sends_registrations_shape_with_times_in_the_events_zone() {
        let zone: Tz = "Europe/Berlin".parse().expect("zone");
        let start = Utc
            .with_ymd_and_hms(2027, 9, 1, 7, 0, 0)
            .single()
            .expect("start");
        let body = draft().body(zone, start).expect("valid");
        assert_eq!(body["capacity"], 2);
        assert_eq!(body["approval"], "manual");
        assert_eq!(body["opens_at"], "2027-06-01T07:30:00Z");
        assert!(body.get("closes_at").is_none(), "blank: the event's start");
        let q = &body["questions"];
        assert_eq!(q[0]["id"], "dietary", "a saved question keeps its key");
        assert_eq!(q[0]["options"], json!(["none", "vegan"]));
        assert_eq!(q[0]["options_zh"], json!(["无", "纯素"]));
        assert_eq!(q[0]["label_zh"], "饮食需求");
        assert_eq!(q[1]["id"], "access_needs");
        assert!(
            q[1].get("options").is_none(),
            "a text question has no options"
        );
        assert_eq!(q[1]["label_zh"], Value::Null);
        assert_eq!(q[1]["show_at_check_in"], true);
        assert_eq!(q[2]["id"], "question", "a Chinese label makes no key");
        assert_eq!(q[2]["type"], "yes_no");

        // No limit is null; the event's start as closing time is left out; a set one is sent.
        let mut d = draft();
        d.capacity = String::new();
        d.closes_at = "2027-09-01T09:00".to_owned();
        let body = d.body(zone, start).expect("valid");
        assert_eq!(body["capacity"], Value::Null);
        assert!(body.get("closes_at").is_none());
        d.closes_at = "2027-08-20T18:00".to_owned();
        assert_eq!(
            d.body(zone, start).expect("valid")["closes_at"],
            "2027-08-20T16:00:00Z"
        );

        d.capacity = "two".to_owned();
        d.opens_at = "soon".to_owned();
        let errors = d.body(zone, start).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["capacity", "opens_at"]);
    }

    #[test]
    fn new_keys_are_unique() {
        let taken = vec!["dietary".to_owned(), "dietary_2".to_owned()];
        assert_eq!(new_key("Dietary", &taken), "dietary_3");
        assert_eq!(
            new_key("  What's your T-shirt size? ", &[]),
            "what_s_your_t_shirt_size"
        );
        assert_eq!(new_key("", &["question".to_owned()]), "question_2");
        assert!(new_key(&"long ".repeat(40), &[]).len() <= 41);
    }

    #[test]
    fn registrations_errors_land_on_the_editors_fields() {
        assert_eq!(
            editor_field("questions[2].label", "invalid"),
            (
                Some("q.2.label".to_owned()),
                Some("invalid_label".to_owned())
            )
        );
        assert_eq!(
            editor_field("questions[0].id", "duplicate"),
            (Some("q.0.label".to_owned()), Some("duplicate".to_owned()))
        );
        assert_eq!(
            editor_field("questions[1].options_zh", "length_mismatch"),
            (
                Some("q.1.options_zh".to_owned()),
                Some("length_mismatch".to_owned())
            )
        );
        assert_eq!(
            editor_field("closes_at", "closes_before_opening"),
            (
                Some("closes_at".to_owned()),
                Some("closes_before_opening".to_owned())
            )
        );
        assert_eq!(
            editor_field("questions", "too_many"),
            (None, Some("too_many".to_owned()))
        );
        assert_eq!(
            editor_field("opens_at", "invalid_datetime"),
            (Some("opens_at".to_owned()), None)
        );
    }
}
