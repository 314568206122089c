//! The emails sent to participants, in English and Simplified Chinese, rendered from minijinja templates.
//!
//! Each kind of letter has one template per locale, `templates/<locale>/<kind>.txt`, with two blocks: `subject`
//! and `body` (the kind's own sentences, paragraphs separated by a blank line). The layouts
//! `templates/<locale>/layout.txt` and `layout.html` wrap that body into the whole email: greeting, change
//! lines, calendar note, event details, manage link and footer. The HTML layout is autoescaped (its name ends
//! in `.html`); the text templates are not escaped.
//!
//! The templates are built in; an operator can replace any of them with a file of the same relative path
//! (e.g. `zh-CN/confirmed.txt`) in an override directory. All templates are loaded and checked when
//! [`Templates::new`] runs, so a broken override stops the service at start-up instead of at the first email.
//!
//! Template conventions: undefined variables are errors, and so is printing `none` (test optional values with
//! `is not none`); `trim_blocks` and `lstrip_blocks` are on, so a line holding only a block tag disappears, and
//! the newline right after any block tag is dropped (end a sentence after `{% endif %}`, not with it, when a
//! blank line follows). The rendered output is tidied: trailing spaces go, blank-line runs collapse to one.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::{
    AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior, Value,
};
use serde::{Deserialize, Serialize};

use crate::domain::when::{self, Locale};

/// The kinds of letter, each with its own template per locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterKind {
    Confirmed,
    Waitlisted,
    PendingApproval,
    Promoted,
    Rejected,
    Cancelled,
    ManageLink,
    EventUpdated,
    EventCancelled,
    EventCancelledWaitlist,
    Reminder,
}

impl LetterKind {
    pub const ALL: [LetterKind; 11] = [
        LetterKind::Confirmed,
        LetterKind::Waitlisted,
        LetterKind::PendingApproval,
        LetterKind::Promoted,
        LetterKind::Rejected,
        LetterKind::Cancelled,
        LetterKind::ManageLink,
        LetterKind::EventUpdated,
        LetterKind::EventCancelled,
        LetterKind::EventCancelledWaitlist,
        LetterKind::Reminder,
    ];

    /// The kind's name, which is also its template's file name without `.txt`.
    pub fn as_str(self) -> &'static str {
        match self {
            LetterKind::Confirmed => "confirmed",
            LetterKind::Waitlisted => "waitlisted",
            LetterKind::PendingApproval => "pending_approval",
            LetterKind::Promoted => "promoted",
            LetterKind::Rejected => "rejected",
            LetterKind::Cancelled => "cancelled",
            LetterKind::ManageLink => "manage_link",
            LetterKind::EventUpdated => "event_updated",
            LetterKind::EventCancelled => "event_cancelled",
            LetterKind::EventCancelledWaitlist => "event_cancelled_waitlist",
            LetterKind::Reminder => "reminder",
        }
    }
}

/// What the email says about the event (already resolved by the caller).
#[derive(Debug, Clone, Serialize)]
pub struct EventFacts {
    pub title: String,
    /// "webinar" | "workshop" | "tour"
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(skip)]
    pub timezone: Tz,
    /// The zone of its end (a tour that ends in another city's); usually `timezone`.
    #[serde(skip)]
    pub end_timezone: Tz,
    /// The venue as one line, "name, address, city, country", or None.
    pub location: Option<String>,
    pub online_url: Option<String>,
    /// The event's public page.
    pub page_url: Option<String>,
    /// Subscribable .ics feed of the full agenda.
    pub feed_url: Option<String>,
    pub organiser_name: String,
    pub organiser_email: String,
    pub cancel_reason: Option<String>,
}

/// Who the email goes to.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub name: String,
    pub email: String,
    pub locale: Locale,
    /// The participant's own zone, if known; their local time is shown when it differs from the event's.
    pub timezone: Option<Tz>,
}

/// One field change of an event or agenda item, as scheduling reports it in `event.updated`.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// What changed, from an `event.updated` payload.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// "updated" (the event itself), "item_added", "item_updated", "item_removed"
    pub action: String,
    pub changes: Vec<FieldChange>,
    /// The agenda item's title when action is item_*; None otherwise.
    pub item_title: Option<String>,
    /// Its Chinese title, if it has one.
    pub item_title_zh: Option<String>,
    /// The item's zones as it is now (item_updated): its times are shown in them.
    pub item_timezone: Option<Tz>,
    pub item_end_timezone: Option<Tz>,
}

/// Everything one letter needs.
#[derive(Debug, Clone)]
pub struct LetterContext<'a> {
    pub kind: LetterKind,
    pub event: &'a EventFacts,
    pub recipient: &'a Recipient,
    pub manage_url: Option<String>,
    pub waitlist_position: Option<i64>,
    pub changes: Option<&'a ChangeSet>,
    /// For reminders: how long before the start this reminder is (minutes), e.g. 1440 → "in 24 hours",
    /// 15 → "in 15 minutes", 2880 → "in 2 days".
    pub reminder_minutes: Option<i64>,
    /// The email carries a calendar invite (REQUEST) or cancellation (CANCEL), and the text says so.
    pub calendar: Option<CalendarNote>,
}

/// What calendar attachment the email carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarNote {
    Invite,
    Update,
    Cancel,
}

impl CalendarNote {
    fn as_str(self) -> &'static str {
        match self {
            CalendarNote::Invite => "invite",
            CalendarNote::Update => "update",
            CalendarNote::Cancel => "cancel",
        }
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A template that could not be loaded, compiled or rendered; each names the template ("zh-CN/confirmed.txt"),
/// and where it came from ("built-in" or the override file's path) when that matters.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template override directory {path}: {detail}")]
    OverrideDir { path: PathBuf, detail: String },
    #[error("template {name} not found")]
    Missing { name: String },
    #[error("template {name} ({origin}) has a syntax error: {detail}")]
    Syntax {
        name: String,
        origin: String,
        detail: String,
    },
    #[error("template {name} ({origin}) could not be loaded: {detail}")]
    Load {
        name: String,
        origin: String,
        detail: String,
    },
    #[error("template {name} ({origin}) uses unknown variable `{variable}`")]
    UnknownVariable {
        name: String,
        origin: String,
        variable: String,
    },
    #[error("template {name} failed to render: {detail}")]
    Render { name: String, detail: String },
}

/// The built-in templates by name, `<locale>/<file>`.
macro_rules! built_in {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

const BUILT_IN: &[(&str, &str)] = built_in![
    "en/layout.txt",
    "en/layout.html",
    "en/confirmed.txt",
    "en/waitlisted.txt",
    "en/pending_approval.txt",
    "en/promoted.txt",
    "en/rejected.txt",
    "en/cancelled.txt",
    "en/manage_link.txt",
    "en/event_updated.txt",
    "en/event_cancelled.txt",
    "en/event_cancelled_waitlist.txt",
    "en/reminder.txt",
    "zh-CN/layout.txt",
    "zh-CN/layout.html",
    "zh-CN/confirmed.txt",
    "zh-CN/waitlisted.txt",
    "zh-CN/pending_approval.txt",
    "zh-CN/promoted.txt",
    "zh-CN/rejected.txt",
    "zh-CN/cancelled.txt",
    "zh-CN/manage_link.txt",
    "zh-CN/event_updated.txt",
    "zh-CN/event_cancelled.txt",
    "zh-CN/event_cancelled_waitlist.txt",
    "zh-CN/reminder.txt",
];

const LOCALES: [Locale; 2] = [Locale::En, Locale::ZhCn];
const TEXT_LAYOUT: &str = "layout.txt";
const HTML_LAYOUT: &str = "layout.html";

/// The variables every template sees (the fields of [`Vars`]).
const LETTER_VARIABLES: &[&str] = &[
    "kind",
    "locale",
    "name",
    "email",
    "event",
    "manage_url",
    "waitlist_position",
    "changes",
    "reminder_in",
    "calendar",
];
/// The variables only the layouts see (the fields of [`LayoutVars`]).
const LAYOUT_VARIABLES: &[&str] = &["subject", "body", "paragraphs"];
/// The fields of `event` (those of [`EventFacts`] and [`EventVars`]).
const EVENT_FIELDS: &[&str] = &[
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "location",
    "online_url",
    "page_url",
    "feed_url",
    "organiser_name",
    "organiser_email",
    "cancel_reason",
    "timezone",
    "when",
    "when_local",
];
/// Functions minijinja provides as globals.
const GLOBALS: &[&str] = &["range", "dict", "namespace"];

/// The compiled letter templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates, each file replaceable by one of the same relative path (e.g.
    /// "zh-CN/confirmed.txt") under `override_dir`. Every template of every kind and locale is loaded and
    /// compiled here, so a syntax error in an override fails at start-up, naming the file; so does a variable
    /// no letter provides.
    pub fn new(override_dir: Option<&Path>) -> Result<Self, TemplateError> {
        if let Some(dir) = override_dir {
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(TemplateError::OverrideDir {
                        path: dir.to_path_buf(),
                        detail: "not a directory".to_owned(),
                    });
                }
                Err(err) => {
                    return Err(TemplateError::OverrideDir {
                        path: dir.to_path_buf(),
                        detail: err.to_string(),
                    });
                }
            }
        }

        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_formatter(format_value);
        let dir = override_dir.map(Path::to_path_buf);
        env.set_loader(move |name| load(dir.as_deref(), name));

        for locale in LOCALES {
            let kinds = LetterKind::ALL
                .iter()
                .map(|kind| (format!("{}.txt", kind.as_str()), false));
            let layouts = [TEXT_LAYOUT, HTML_LAYOUT]
                .into_iter()
                .map(|file| (file.to_owned(), true));
            for (file, is_layout) in kinds.chain(layouts) {
                let name = template_name(locale, &file);
                let origin = origin(override_dir, &name);
                let template = env
                    .get_template(&name)
                    .map_err(|err| lookup_error(&name, &origin, &err))?;
                check_variables(&name, &origin, &template, is_layout)?;
            }
        }
        Ok(Self { env })
    }

    /// The letter for `ctx`, in the recipient's locale.
    pub fn render(&self, ctx: &LetterContext<'_>) -> Result<Letter, TemplateError> {
        let locale = ctx.recipient.locale;
        let vars = Vars::new(ctx);

        let kind_name = template_name(locale, &format!("{}.txt", ctx.kind.as_str()));
        let (subject, body) = self.blocks(&kind_name, &vars)?;
        let subject = one_line(&subject);
        if subject.is_empty() {
            return Err(TemplateError::Render {
                name: kind_name,
                detail: "the subject block is empty".to_owned(),
            });
        }
        let paragraphs = paragraphs(&body);
        let body = paragraphs.join("\n\n");

        let layout = LayoutVars {
            letter: &vars,
            subject: &subject,
            body: &body,
            paragraphs: &paragraphs,
        };
        let text = self.render_whole(&template_name(locale, TEXT_LAYOUT), &layout)?;
        let html = self.render_whole(&template_name(locale, HTML_LAYOUT), &layout)?;
        Ok(Letter {
            subject,
            text: tidy(&text),
            html: tidy(&html),
        })
    }

    /// Human lines describing a change set in a locale, e.g. "Start: Saturday 15 May 2027, 09:30 CEST → 10:30
    /// CEST", "Agenda: “Keynote” added, Saturday 15 May 2027, 10:00–11:00", "Agenda: “Lunch” removed (…)",
    /// "Title: Old → New", "Online link changed", "Location: A → B". Times (starts_at, ends_at, check_in,
    /// check_out: RFC 3339 strings or null) are shown in `tz`; unknown fields get "<field> changed"
    /// ("<field>已更改"); a null value reads "(none)" ("（无）").
    ///
    /// An item's times are shown in its own zones (labelled with offset and name, never in the event's zone
    /// unlabelled); the event's start in `tz` and its end in `end_tz`.
    pub fn describe_changes(
        changes: &ChangeSet,
        tz: Tz,
        end_tz: Tz,
        locale: Locale,
    ) -> Vec<String> {
        match changes.action.as_str() {
            "item_added" => vec![item_added(changes, tz, locale)],
            "item_removed" => vec![item_removed(changes, tz, locale)],
            "item_updated" => {
                let title = item_title(changes, false, locale);
                let (start_zone, end_zone) = item_zones(changes, tz, false);
                changes
                    .changes
                    .iter()
                    .filter(|change| change.before != change.after)
                    .map(|change| {
                        let line = describe_field(change, start_zone, end_zone, locale);
                        match (locale, &title) {
                            (Locale::En, Some(title)) => {
                                format!("Agenda: “{title}” – {}", line.english())
                            }
                            (Locale::En, None) => format!("Agenda item – {}", line.english()),
                            (Locale::ZhCn, Some(title)) => {
                                line.chinese(&format!("日程“{title}”的"))
                            }
                            (Locale::ZhCn, None) => line.chinese("日程安排的"),
                        }
                    })
                    .collect()
            }
            _ => changes
                .changes
                .iter()
                .filter(|change| change.before != change.after)
                .map(|change| {
                    let line = describe_field(change, tz, end_tz, locale);
                    match locale {
                        Locale::En => line.english(),
                        Locale::ZhCn => line.chinese(""),
                    }
                })
                .collect(),
        }
    }

    /// The rendered `subject` and `body` blocks of a kind's template.
    fn blocks(&self, name: &str, vars: &Vars<'_>) -> Result<(String, String), TemplateError> {
        let template = self.template(name)?;
        let mut captured = template
            .render_captured(vars)
            .map_err(|err| render_error(name, &err))?;
        captured
            .with_state_mut(|state| -> Result<(String, String), Error> {
                Ok((state.render_block("subject")?, state.render_block("body")?))
            })
            .map_err(|err| render_error(name, &err))
    }

    fn render_whole(&self, name: &str, vars: &LayoutVars<'_>) -> Result<String, TemplateError> {
        self.template(name)?
            .render(vars)
            .map_err(|err| render_error(name, &err))
    }

    fn template(&self, name: &str) -> Result<minijinja::Template<'_, '_>, TemplateError> {
        self.env.get_template(name).map_err(|err| match err.kind() {
            ErrorKind::TemplateNotFound => TemplateError::Missing {
                name: name.to_owned(),
            },
            _ => TemplateError::Render {
                name: name.to_owned(),
                detail: describe_error(&err),
            },
        })
    }
}

/// The variables the kind templates see.
#[derive(Serialize)]
struct Vars<'a> {
    kind: &'static str,
    locale: &'static str,
    name: &'a str,
    email: &'a str,
    event: EventVars<'a>,
    manage_url: Option<&'a str>,
    waitlist_position: Option<i64>,
    changes: Vec<String>,
    reminder_in: Option<String>,
    calendar: Option<&'static str>,
}

/// `event`: the facts plus the times written out.
#[derive(Serialize)]
struct EventVars<'a> {
    #[serde(flatten)]
    facts: &'a EventFacts,
    timezone: &'static str,
    /// The span in the event's zone.
    when: String,
    /// The span in the participant's zone, when that is at a different offset.
    when_local: Option<String>,
}

/// The variables the layouts see: the letter's, the rendered subject and the body (whole and in paragraphs).
#[derive(Serialize)]
struct LayoutVars<'a> {
    #[serde(flatten)]
    letter: &'a Vars<'a>,
    subject: &'a str,
    body: &'a str,
    paragraphs: &'a [String],
}

impl<'a> Vars<'a> {
    fn new(ctx: &'a LetterContext<'a>) -> Self {
        let event = ctx.event;
        let locale = ctx.recipient.locale;
        let when = when::span_between(
            event.starts_at,
            event.timezone,
            event.ends_at,
            event.end_timezone,
            locale,
        );
        let when_local = ctx
            .recipient
            .timezone
            .filter(|own| {
                !when::same_offset(event.starts_at, event.timezone, *own)
                    || !when::same_offset(event.ends_at, event.end_timezone, *own)
            })
            .map(|own| when::span(event.starts_at, event.ends_at, own, locale));
        Vars {
            kind: ctx.kind.as_str(),
            locale: locale.as_str(),
            name: &ctx.recipient.name,
            email: &ctx.recipient.email,
            event: EventVars {
                facts: event,
                timezone: event.timezone.name(),
                when,
                when_local,
            },
            manage_url: ctx.manage_url.as_deref(),
            waitlist_position: ctx.waitlist_position,
            changes: ctx
                .changes
                .map(|changes| {
                    Templates::describe_changes(changes, event.timezone, event.end_timezone, locale)
                })
                .unwrap_or_default(),
            reminder_in: ctx
                .reminder_minutes
                .and_then(|minutes| duration(minutes, locale)),
            calendar: ctx.calendar.map(CalendarNote::as_str),
        }
    }
}

fn template_name(locale: Locale, file: &str) -> String {
    format!("{}/{file}", locale.as_str())
}

/// A template's source: the override file if there is one, else the built-in.
fn load(dir: Option<&Path>, name: &str) -> Result<Option<String>, Error> {
    if !is_relative_name(name) {
        return Ok(None);
    }
    if let Some(dir) = dir {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(source) => return Ok(Some(source)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("cannot read {}", path.display()),
                )
                .with_source(err));
            }
        }
    }
    Ok(BUILT_IN
        .iter()
        .find(|(built_in, _)| *built_in == name)
        .map(|(_, source)| (*source).to_owned()))
}

/// Whether a template name stays inside the template directory: relative, no `.`/`..` or empty segments.
fn is_relative_name(name: &str) -> bool {
    !name.contains('\\')
        && name
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

/// Where a template comes from, for error messages.
fn origin(dir: Option<&Path>, name: &str) -> String {
    match dir.map(|dir| dir.join(name)) {
        Some(path) if path.is_file() => path.display().to_string(),
        _ => "built-in".to_owned(),
    }
}

fn lookup_error(name: &str, origin: &str, err: &Error) -> TemplateError {
    match err.kind() {
        ErrorKind::TemplateNotFound => TemplateError::Missing {
            name: name.to_owned(),
        },
        ErrorKind::SyntaxError | ErrorKind::BadEscape => TemplateError::Syntax {
            name: name.to_owned(),
            origin: origin.to_owned(),
            detail: describe_error(err),
        },
        _ => TemplateError::Load {
            name: name.to_owned(),
            origin: origin.to_owned(),
            detail: describe_error(err),
        },
    }
}

fn render_error(name: &str, err: &Error) -> TemplateError {
    TemplateError::Render {
        name: name.to_owned(),
        detail: describe_error(err),
    }
}

/// A minijinja error with its causes.
fn describe_error(err: &Error) -> String {
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let _ = write!(detail, ": {cause}");
        source = cause.source();
    }
    detail
}

/// Fails when a template looks up a variable no letter provides, so a typo in an override is caught at
/// start-up (rendering would fail anyway, as undefined variables are errors).
fn check_variables(
    name: &str,
    origin: &str,
    template: &minijinja::Template<'_, '_>,
    is_layout: bool,
) -> Result<(), TemplateError> {
    let known_top = |top: &str| {
        LETTER_VARIABLES.contains(&top)
            || GLOBALS.contains(&top)
            || (is_layout && LAYOUT_VARIABLES.contains(&top))
    };
    let unknown = template
        .undeclared_variables(true)
        .into_iter()
        .filter(|variable| {
            let mut path = variable.split('.');
            let top = path.next().unwrap_or_default();
            let known = match (top, path.next()) {
                ("event", Some(field)) => EVENT_FIELDS.contains(&field),
                _ => known_top(top),
            };
            !known
        })
        .collect::<BTreeSet<_>>();
    match unknown.into_iter().next() {
        None => Ok(()),
        Some(variable) => Err(TemplateError::UnknownVariable {
            name: name.to_owned(),
            origin: origin.to_owned(),
            variable,
        }),
    }
}

/// Prints values: `none` is an error (a template must test optional values before printing them), and HTML
/// escaping leaves `/` alone so links stay readable.
fn format_value(out: &mut Output<'_>, state: &State<'_, '_>, value: &Value) -> Result<(), Error> {
    if value.is_none() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "a none value cannot be printed; test it with `is not none` first",
        ));
    }
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(text)) if !value.is_safe() => out
            .write_str(&escape_html(text))
            .map_err(|_| Error::from(ErrorKind::WriteFailure)),
        _ => minijinja::escape_formatter(out, state, value),
    }
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// All whitespace runs as single spaces, trimmed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The paragraphs of a rendered body: blocks of lines separated by blank lines, trailing spaces removed.
fn paragraphs(body: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in body.lines().map(str::trim_end) {
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
    }
    paragraphs
}

/// A rendered email with trailing spaces removed, at most one blank line in a row, and one final newline.
fn tidy(text: &str) -> String {
    let mut tidied = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.trim().lines().map(str::trim_end) {
        if line.is_empty() {
            blank = true;
            continue;
        }
        if blank {
            tidied.push('\n');
            blank = false;
        }
        tidied.push_str(line);
        tidied.push('\n');
    }
    tidied
}

/// How long before the start, in words: under an hour in minutes, whole days (beyond one) in days, else in
/// hours (and minutes): "15 minutes", "24 hours", "2 days", "1 hour 30 minutes"; "15分钟", "24小时", "2天".
fn duration(minutes: i64, locale: Locale) -> Option<String> {
    const DAY: i64 = 24 * 60;
    if minutes <= 0 {
        return None;
    }
    let (days, hours, rest) = if minutes > DAY && minutes % DAY == 0 {
        (minutes / DAY, 0, 0)
    } else if minutes >= 60 {
        (0, minutes / 60, minutes % 60)
    } else {
        (0, 0, minutes)
    };
    let parts = [
        (days, "day", "天"),
        (hours, "hour", "小时"),
        (rest, "minute", "分钟"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, en, zh)| match locale {
        Locale::En if n == 1 => format!("1 {en}"),
        Locale::En => format!("{n} {en}s"),
        Locale::ZhCn => format!("{n}{zh}"),
    })
    .collect::<Vec<_>>();
    Some(match locale {
        Locale::En => parts.join(" "),
        Locale::ZhCn => parts.concat(),
    })
}

/// One described field change, before it is put into words for a locale.
enum FieldLine {
    /// "Title: Old → New"
    Values {
        label: String,
        before: String,
        after: String,
    },
    /// "Online link changed"
    Changed { label: String },
    /// A whole line of its own in each language ("Agenda: all 3 items moved by 1 hour").
    Line { english: String, chinese: String },
}

impl FieldLine {
    fn english(&self) -> String {
        match self {
            FieldLine::Values {
                label,
                before,
                after,
            } => format!("{label}: {before} → {after}"),
            FieldLine::Changed { label } => format!("{label} changed"),
            FieldLine::Line { english, .. } => english.clone(),
        }
    }

    /// With `prefix` in front of the label, e.g. "日程“午餐”的".
    fn chinese(&self, prefix: &str) -> String {
        match self {
            FieldLine::Values {
                label,
                before,
                after,
            } => when::zh_tidy(&format!("{prefix}{label}：{before} → {after}")),
            FieldLine::Changed { label } => format!("{prefix}{label}已更改"),
            FieldLine::Line { chinese, .. } => chinese.clone(),
        }
    }
}

/// How a field's change is shown.
#[derive(Clone, Copy)]
enum Shown {
    /// Both values, as text.
    Values,
    /// Both values, as times in the event's zone.
    Times,
    /// Only that it changed (long texts, links, ids, nested details).
    Changed,
}

/// The fields scheduling reports for events and agenda items: how each is shown, and its label in English and
/// Chinese.
const FIELDS: &[(&str, Shown, &str, &str)] = &[
    ("title", Shown::Values, "Title", "标题"),
    ("title_zh", Shown::Values, "Chinese title", "中文标题"),
    ("agenda", Shown::Changed, "Agenda", "日程"),
    ("end_timezone", Shown::Values, "End time zone", "结束时区"),
    (
        "summary_zh",
        Shown::Changed,
        "Chinese summary",
        "活动摘要（中文）",
    ),
    (
        "description_zh",
        Shown::Changed,
        "Chinese description",
        "活动介绍（中文）",
    ),
    ("starts_at", Shown::Times, "Start", "开始时间"),
    ("ends_at", Shown::Times, "End", "结束时间"),
    ("check_in", Shown::Times, "Check-in", "入住时间"),
    ("check_out", Shown::Times, "Check-out", "退房时间"),
    ("timezone", Shown::Values, "Time zone", "时区"),
    ("venue", Shown::Values, "Location", "地点"),
    ("location", Shown::Values, "Location", "地点"),
    ("kind", Shown::Values, "Type", "类型"),
    ("organiser", Shown::Values, "Organiser", "主办方"),
    ("status", Shown::Values, "Status", "状态"),
    ("online_url", Shown::Changed, "Online link", "在线参会链接"),
    ("slug", Shown::Changed, "Event page address", "活动页面地址"),
    ("summary", Shown::Changed, "Summary", "活动摘要"),
    ("description", Shown::Changed, "Description", "活动介绍"),
    ("room_id", Shown::Changed, "Room", "会议室"),
    ("host", Shown::Changed, "Host", "主持人"),
    ("speakers", Shown::Changed, "Speakers", "演讲嘉宾"),
    ("visit", Shown::Changed, "Visit details", "参访安排"),
    ("transfer", Shown::Changed, "Transfer details", "交通安排"),
    ("hotel", Shown::Changed, "Hotel details", "住宿安排"),
];

/// Chinese names of event and agenda item kinds.
const ZH_KINDS: &[(&str, &str)] = &[
    ("webinar", "网络研讨会"),
    ("workshop", "研讨会"),
    ("tour", "考察活动"),
    ("session", "分组会议"),
    ("talk", "报告"),
    ("panel", "圆桌讨论"),
    ("break", "茶歇"),
    ("meal", "用餐"),
    ("visit", "参访"),
    ("transfer", "交通接驳"),
    ("hotel", "住宿"),
    ("other", "其他"),
];

/// `agenda` in an event's change (contract 5): its items moved with its start, `{moved_by_seconds, items}`.
fn agenda_moved(change: &FieldChange) -> Option<FieldLine> {
    let seconds = change.after.get("moved_by_seconds")?.as_i64()?;
    let items = change
        .after
        .get("items")
        .and_then(serde_json::Value::as_i64);
    let minutes = seconds.abs() / 60;
    let (en_by, zh_by) = (
        duration(minutes, Locale::En)?,
        duration(minutes, Locale::ZhCn)?,
    );
    let (en_which, zh_which) = match items {
        Some(1) => ("the item".to_owned(), "1项安排".to_owned()),
        Some(n) => (format!("all {n} items"), format!("全部{n}项安排")),
        None => ("every item".to_owned(), "全部安排".to_owned()),
    };
    let (english, chinese) = if seconds >= 0 {
        (
            format!("Agenda: {en_which} moved {en_by} later, with the start"),
            format!("日程：{zh_which}随开始时间推迟{zh_by}"),
        )
    } else {
        (
            format!("Agenda: {en_which} moved {en_by} earlier, with the start"),
            format!("日程：{zh_which}随开始时间提前{zh_by}"),
        )
    };
    Some(FieldLine::Line { english, chinese })
}

/// `tz`: the zone start times are shown in; `end_tz`: end times'.
fn describe_field(change: &FieldChange, tz: Tz, end_tz: Tz, locale: Locale) -> FieldLine {
    if change.field == "agenda"
        && let Some(line) = agenda_moved(change)
    {
        return line;
    }
    let Some(&(field, shown, en, zh)) = FIELDS.iter().find(|(name, ..)| *name == change.field)
    else {
        return FieldLine::Changed {
            label: change.field.clone(),
        };
    };
    let label = match locale {
        Locale::En => en.to_owned(),
        Locale::ZhCn => zh.to_owned(),
    };
    match shown {
        Shown::Changed => FieldLine::Changed { label },
        Shown::Values => FieldLine::Values {
            label,
            before: value_text(&change.before, field, locale),
            after: value_text(&change.after, field, locale),
        },
        Shown::Times => {
            let tz = if matches!(field, "ends_at" | "check_out") {
                end_tz
            } else {
                tz
            };
            let (before, after) = (time_value(&change.before), time_value(&change.after));
            let text =
                |value: &serde_json::Value, at: Option<DateTime<Utc>>, with_date: bool| match at {
                    Some(at) => when::stamp(at, tz, locale, with_date),
                    None => value_text(value, field, locale),
                };
            // The new time without its date when the day stays the same: "09:30 CEST → 10:30 CEST".
            let same_day =
                matches!((before, after), (Some(b), Some(a)) if when::same_day(b, a, tz));
            FieldLine::Values {
                label,
                before: text(&change.before, before, true),
                after: text(&change.after, after, !same_day),
            }
        }
    }
}

fn time_value(value: &serde_json::Value) -> Option<DateTime<Utc>> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc))
}

/// A field's value as text: strings as they are, venues and organisers as "name, address, city, country", lists
/// joined, null as "(none)".
fn value_text(value: &serde_json::Value, field: &str, locale: Locale) -> String {
    use serde_json::Value as Json;
    match value {
        Json::Null => match locale {
            Locale::En => "(none)".to_owned(),
            Locale::ZhCn => "（无）".to_owned(),
        },
        Json::String(text) if field == "kind" && locale == Locale::ZhCn => ZH_KINDS
            .iter()
            .find(|(kind, _)| kind == text)
            .map_or_else(|| text.clone(), |(_, name)| (*name).to_owned()),
        Json::String(text) => text.clone(),
        Json::Bool(_) | Json::Number(_) => value.to_string(),
        Json::Array(items) => items
            .iter()
            .map(|item| value_text(item, field, locale))
            .collect::<Vec<_>>()
            .join(match locale {
                Locale::En => ", ",
                Locale::ZhCn => "、",
            }),
        Json::Object(map) => {
            let parts = ["name", "institution", "address", "city", "country", "email"]
                .iter()
                .filter_map(|key| map.get(*key).and_then(Json::as_str))
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>();
            if parts.is_empty() {
                value.to_string()
            } else {
                parts.join(match locale {
                    Locale::En => ", ",
                    Locale::ZhCn => "，",
                })
            }
        }
    }
}

/// The agenda item's title in `locale`: the one given, else its title fields (after, or before when `removed`).
fn item_title(changes: &ChangeSet, removed: bool, locale: Locale) -> Option<String> {
    let field = |name: &str| {
        changes
            .changes
            .iter()
            .find(|change| change.field == name)
            .and_then(|change| {
                let value = if removed {
                    &change.before
                } else {
                    &change.after
                };
                value.as_str().map(str::to_owned)
            })
    };
    let english = changes.item_title.clone().or_else(|| field("title"))?;
    let chinese = changes.item_title_zh.clone().or_else(|| field("title_zh"));
    Some(locale.pick(&english, chinese.as_deref()).to_owned())
}

/// The zones an item's start and end are shown in: as it is now (given), else the zone its change names (after,
/// or before when `removed`), else the event's; the end's own zone, else the start's.
fn item_zones(changes: &ChangeSet, event_zone: Tz, removed: bool) -> (Tz, Tz) {
    let named = |name: &str| {
        changes
            .changes
            .iter()
            .find(|change| change.field == name)
            .and_then(|change| {
                if removed {
                    change.before.as_str()
                } else {
                    change.after.as_str().or(change.before.as_str())
                }
            })
            .and_then(|zone| zone.parse::<Tz>().ok())
    };
    let start = changes
        .item_timezone
        .or_else(|| named("timezone"))
        .unwrap_or(event_zone);
    let end = changes
        .item_end_timezone
        .or_else(|| named("end_timezone"))
        .unwrap_or(start);
    (start, end)
}

/// When an added or removed item takes place: its start and end (after, or before when `removed`), each in the
/// item's own zone and labelled with it.
fn item_time(changes: &ChangeSet, tz: Tz, locale: Locale, removed: bool) -> Option<String> {
    let field = |name: &str| {
        changes
            .changes
            .iter()
            .find(|change| change.field == name)
            .and_then(|change| {
                time_value(if removed {
                    &change.before
                } else {
                    &change.after
                })
            })
    };
    let (start_zone, end_zone) = item_zones(changes, tz, removed);
    match (field("starts_at"), field("ends_at")) {
        (Some(starts), Some(ends)) => Some(when::span_between(
            starts, start_zone, ends, end_zone, locale,
        )),
        (Some(starts), None) => Some(when::instant(starts, start_zone, locale)),
        _ => None,
    }
}

fn item_added(changes: &ChangeSet, tz: Tz, locale: Locale) -> String {
    let title = item_title(changes, false, locale);
    let time = item_time(changes, tz, locale, false);
    match locale {
        Locale::En => {
            let what = title.map_or_else(|| "an item".to_owned(), |title| format!("“{title}”"));
            match time {
                Some(time) => format!("Agenda: {what} added, {time}"),
                None => format!("Agenda: {what} added"),
            }
        }
        Locale::ZhCn => {
            let what = title.map_or_else(|| "一项安排".to_owned(), |title| format!("“{title}”"));
            when::zh_tidy(&match time {
                Some(time) => format!("日程：新增{what}，{time}"),
                None => format!("日程：新增{what}"),
            })
        }
    }
}

fn item_removed(changes: &ChangeSet, tz: Tz, locale: Locale) -> String {
    let title = item_title(changes, true, locale);
    let time = item_time(changes, tz, locale, true);
    match locale {
        Locale::En => {
            let what = title.map_or_else(|| "an item".to_owned(), |title| format!("“{title}”"));
            match time {
                Some(time) => format!("Agenda: {what} removed – it was on {time}"),
                None => format!("Agenda: {what} removed"),
            }
        }
        Locale::ZhCn => {
            let what = title.map_or_else(|| "一项安排".to_owned(), |title| format!("“{title}”"));
            when::zh_tidy(&match time {
                Some(time) => format!("日程：原定于{time}的{what}已取消"),
                None => format!("日程：{what}已取消"),
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    /// A webinar on Saturday 15 May 2027, 09:00–10:30 in Berlin (07:00–08:30 UTC).
    fn webinar() -> EventFacts {
        EventFacts {
            title: "Data sharing in personalised medicine".to_owned(),
            kind: "webinar".to_owned(),
            starts_at: utc(2027, 5, 15, 7, 0),
            ends_at: utc(2027, 5, 15, 8, 30),
            timezone: chrono_tz::Europe::Berlin,
            end_timezone: chrono_tz::Europe::Berlin,
            location: None,
            online_url: Some("https://meet.example.org/j/42".to_owned()),
            page_url: Some("https://events.example.org/e/data-sharing".to_owned()),
            feed_url: Some("https://events.example.org/e/data-sharing/agenda.ics".to_owned()),
            organiser_name: "Cloverleaf Research Network".to_owned(),
            organiser_email: "events@cloverleaf.example.org".to_owned(),
            cancel_reason: None,
        }
    }

    /// A three-day workshop in Heidelberg, 12–14 May 2027.
    fn workshop() -> EventFacts {
        EventFacts {
            title: "Biobank governance workshop".to_owned(),
            kind: "workshop".to_owned(),
            starts_at: utc(2027, 5, 12, 7, 0),
            ends_at: utc(2027, 5, 14, 15, 0),
            timezone: chrono_tz::Europe::Berlin,
            end_timezone: chrono_tz::Europe::Berlin,
            location: Some(
                "DKFZ Communication Centre, Im Neuenheimer Feld 280, Heidelberg, Germany"
                    .to_owned(),
            ),
            online_url: None,
            page_url: Some("https://events.example.org/e/biobank".to_owned()),
            feed_url: None,
            organiser_name: "Cloverleaf Research Network".to_owned(),
            organiser_email: "events@cloverleaf.example.org".to_owned(),
            cancel_reason: Some("The venue is closed for urgent repairs.".to_owned()),
        }
    }

    fn recipient(locale: Locale, timezone: Option<Tz>) -> Recipient {
        match locale {
            Locale::En => Recipient {
                name: "Ada Lovelace".to_owned(),
                email: "ada@example.org".to_owned(),
                locale,
                timezone,
            },
            Locale::ZhCn => Recipient {
                name: "张伟".to_owned(),
                email: "zhang.wei@example.cn".to_owned(),
                locale,
                timezone,
            },
        }
    }

    fn start_change() -> ChangeSet {
        ChangeSet {
            action: "updated".to_owned(),
            changes: vec![
                FieldChange {
                    field: "starts_at".to_owned(),
                    before: json!("2027-05-15T09:30:00+02:00"),
                    after: json!("2027-05-15T10:30:00+02:00"),
                },
                FieldChange {
                    field: "online_url".to_owned(),
                    before: json!("https://meet.example.org/j/41"),
                    after: json!("https://meet.example.org/j/42"),
                },
            ],
            item_title: None,
            ..ChangeSet::default()
        }
    }

    fn context<'a>(
        kind: LetterKind,
        event: &'a EventFacts,
        recipient: &'a Recipient,
        changes: &'a ChangeSet,
    ) -> LetterContext<'a> {
        LetterContext {
            kind,
            event,
            recipient,
            manage_url: Some("https://events.example.org/r/tok3n".to_owned()),
            waitlist_position: matches!(
                kind,
                LetterKind::Waitlisted | LetterKind::EventCancelledWaitlist
            )
            .then_some(3),
            changes: (kind == LetterKind::EventUpdated).then_some(changes),
            reminder_minutes: (kind == LetterKind::Reminder).then_some(1440),
            calendar: match kind {
                LetterKind::Confirmed | LetterKind::Promoted => Some(CalendarNote::Invite),
                LetterKind::EventUpdated => Some(CalendarNote::Update),
                LetterKind::Cancelled | LetterKind::Rejected | LetterKind::EventCancelled => {
                    Some(CalendarNote::Cancel)
                }
                _ => None,
            },
        }
    }

    fn templates() -> Templates {
        Templates::new(None).unwrap()
    }

    #[test]
    fn templates_are_shareable() {
        fn check<T: Send + Sync>() {}
        check::<Templates>();
    }

    #[test]
    fn every_built_in_is_listed_once_and_every_kind_has_one() {
        let names = BUILT_IN
            .iter()
            .map(|(name, _)| *name)
            .collect::<BTreeSet<_>>();
        assert_eq!(names.len(), BUILT_IN.len());
        assert_eq!(names.len(), LOCALES.len() * (LetterKind::ALL.len() + 2));
        for locale in LOCALES {
            for kind in LetterKind::ALL {
                assert!(
                    names.contains(
                        template_name(locale, &format!("{}.txt", kind.as_str())).as_str()
                    )
                );
            }
        }
    }

    #[test]
    fn every_kind_renders_in_both_locales() {
        let templates = templates();
        let changes = start_change();
        for event in [webinar(), workshop()] {
            for locale in LOCALES {
                let recipient = recipient(locale, Some(chrono_tz::Asia::Shanghai));
                for kind in LetterKind::ALL {
                    let ctx = context(kind, &event, &recipient, &changes);
                    let letter = templates
                        .render(&ctx)
                        .unwrap_or_else(|err| panic!("{kind:?} {locale:?}: {err}"));
                    let what = format!("{kind:?} {locale:?}\n{}\n{}", letter.text, letter.html);
                    assert!(!letter.subject.is_empty(), "{what}");
                    assert!(!letter.subject.contains('\n'), "{what}");
                    assert!(letter.subject.contains(&event.title), "{what}");
                    for part in [&letter.text, &letter.html] {
                        assert!(part.contains(&recipient.name), "{what}");
                        assert!(part.contains(&event.title), "{what}");
                        assert!(
                            part.contains("https://events.example.org/r/tok3n"),
                            "{what}"
                        );
                        assert!(part.contains(&event.organiser_email), "{what}");
                        assert!(!part.contains("none"), "{what}");
                    }
                    assert!(letter.html.starts_with("<!DOCTYPE html>"), "{what}");
                    assert!(
                        letter
                            .html
                            .contains(&format!("<html lang=\"{}\">", locale.as_str()))
                    );
                    assert!(
                        letter
                            .html
                            .contains("href=\"https://events.example.org/r/tok3n\""),
                        "{what}"
                    );
                    assert!(letter.text.ends_with('\n') && !letter.text.ends_with("\n\n"));
                    assert!(!letter.text.contains("\n\n\n"), "{what}");
                }
            }
        }
    }

    #[test]
    fn every_kind_renders_without_optional_values() {
        let templates = templates();
        let mut event = webinar();
        event.online_url = None;
        event.page_url = None;
        event.feed_url = None;
        for locale in LOCALES {
            let recipient = recipient(locale, None);
            for kind in LetterKind::ALL {
                let ctx = LetterContext {
                    kind,
                    event: &event,
                    recipient: &recipient,
                    manage_url: None,
                    waitlist_position: None,
                    changes: None,
                    reminder_minutes: None,
                    calendar: None,
                };
                let letter = templates
                    .render(&ctx)
                    .unwrap_or_else(|err| panic!("{kind:?} {locale:?}: {err}"));
                assert!(!letter.subject.is_empty());
                assert!(letter.text.contains(&event.title));
                assert!(
                    !letter.html.contains("<a href=\"https://"),
                    "{}",
                    letter.html
                );
            }
        }
    }

    #[test]
    fn english_confirmation_reads_as_a_whole() {
        let event = webinar();
        let recipient = recipient(Locale::En, None);
        let changes = ChangeSet::default();
        let letter = templates()
            .render(&context(
                LetterKind::Confirmed,
                &event,
                &recipient,
                &changes,
            ))
            .unwrap();
        assert_eq!(
            letter.subject,
            "Confirmed: Data sharing in personalised medicine"
        );
        assert_eq!(
            letter.text,
            "Dear Ada Lovelace,\n\
             \n\
             Your registration for Data sharing in personalised medicine is confirmed. We look forward to seeing you online.\n\
             \n\
             You will find the details below.\n\
             \n\
             A calendar invitation is attached, so you can add the event to your calendar.\n\
             \n\
             Event: Data sharing in personalised medicine\n\
             When: Saturday 15 May 2027, 09:00–10:30 UTC+2 (Europe/Berlin)\n\
             Online: https://meet.example.org/j/42\n\
             Event page: https://events.example.org/e/data-sharing\n\
             Subscribe to the agenda in your calendar app: https://events.example.org/e/data-sharing/agenda.ics\n\
             \n\
             Manage or cancel your registration: https://events.example.org/r/tok3n\n\
             \n\
             Kind regards,\n\
             Cloverleaf Research Network\n\
             \n\
             Questions? Contact the organisers at events@cloverleaf.example.org.\n\
             This email was sent to ada@example.org.\n"
        );
    }

    #[test]
    fn chinese_confirmation_reads_as_a_whole() {
        let event = webinar();
        let recipient = recipient(Locale::ZhCn, Some(chrono_tz::Asia::Shanghai));
        let changes = ChangeSet::default();
        let letter = templates()
            .render(&context(
                LetterKind::Confirmed,
                &event,
                &recipient,
                &changes,
            ))
            .unwrap();
        assert_eq!(
            letter.subject,
            "报名成功：Data sharing in personalised medicine"
        );
        assert_eq!(
            letter.text,
            "张伟，您好：\n\
             \n\
             您已成功报名“Data sharing in personalised medicine”，期待与您在线上相见。\n\
             \n\
             活动详情请见下文。\n\
             \n\
             邮件附有日历邀请，您可以将活动添加到自己的日历中。\n\
             \n\
             活动：Data sharing in personalised medicine\n\
             时间：2027年5月15日（周六）09:00–10:30 UTC+2（Europe/Berlin）\n\
             您所在时区的时间：2027年5月15日（周六）15:00–16:30 UTC+8（Asia/Shanghai）\n\
             在线参会链接：https://meet.example.org/j/42\n\
             活动页面：https://events.example.org/e/data-sharing\n\
             在日历应用中订阅活动日程：https://events.example.org/e/data-sharing/agenda.ics\n\
             \n\
             查看、修改或取消报名：https://events.example.org/r/tok3n\n\
             \n\
             祝好！\n\
             Cloverleaf Research Network\n\
             \n\
             如有疑问，请发送邮件至 events@cloverleaf.example.org 联系主办方。\n\
             本邮件发送至 zhang.wei@example.cn。\n"
        );
    }

    #[test]
    fn a_beijing_participant_sees_their_own_time() {
        // 09:00 in Berlin in winter (CET, UTC+1) is 16:00 in Beijing.
        let mut event = webinar();
        event.starts_at = utc(2027, 1, 14, 8, 0);
        event.ends_at = utc(2027, 1, 14, 9, 0);
        let templates = templates();
        let changes = ChangeSet::default();
        for (locale, local) in [
            (
                Locale::En,
                "In your time zone: Thursday 14 January 2027, 16:00–17:00 UTC+8 (Asia/Shanghai)",
            ),
            (
                Locale::ZhCn,
                "您所在时区的时间：2027年1月14日（周四）16:00–17:00 UTC+8（Asia/Shanghai）",
            ),
        ] {
            let recipient = recipient(locale, Some(chrono_tz::Asia::Shanghai));
            let letter = templates
                .render(&context(
                    LetterKind::Confirmed,
                    &event,
                    &recipient,
                    &changes,
                ))
                .unwrap();
            assert!(letter.text.contains(local), "{}", letter.text);
            assert!(letter.text.contains("09:00–10:00"), "{}", letter.text);
            assert!(letter.html.contains("16:00–17:00"), "{}", letter.html);
        }
    }

    #[test]
    fn local_time_is_left_out_when_the_offset_is_the_same() {
        let event = webinar();
        let templates = templates();
        let changes = ChangeSet::default();
        for own in [
            None,
            Some(chrono_tz::Europe::Paris),
            Some(chrono_tz::Europe::Berlin),
        ] {
            let recipient = recipient(Locale::En, own);
            let letter = templates
                .render(&context(
                    LetterKind::Confirmed,
                    &event,
                    &recipient,
                    &changes,
                ))
                .unwrap();
            assert!(
                !letter.text.contains("In your time zone"),
                "{}",
                letter.text
            );
            assert!(
                !letter.html.contains("In your time zone"),
                "{}",
                letter.html
            );
        }
        // London is an hour behind Berlin.
        let recipient = recipient(Locale::En, Some(chrono_tz::Europe::London));
        let letter = templates
            .render(&context(
                LetterKind::Confirmed,
                &event,
                &recipient,
                &changes,
            ))
            .unwrap();
        assert!(letter.text.contains(
            "In your time zone: Saturday 15 May 2027, 08:00–09:30 UTC+1 (Europe/London)"
        ));
    }

    #[test]
    fn a_workshop_across_days_shows_the_whole_span() {
        let event = workshop();
        let changes = ChangeSet::default();
        let templates = templates();
        let en = templates
            .render(&context(
                LetterKind::EventCancelled,
                &event,
                &recipient(Locale::En, None),
                &changes,
            ))
            .unwrap();
        assert!(en.text.contains(
            "When: Wednesday 12 May 2027, 09:00 – Friday 14 May 2027, 17:00 UTC+2 (Europe/Berlin)"
        ));
        assert!(
            en.text.contains(
                "The organisers gave this reason: The venue is closed for urgent repairs."
            )
        );
        assert!(en.text.contains("removes the event from your calendar"));
        assert!(en.text.contains(
            "Where: DKFZ Communication Centre, Im Neuenheimer Feld 280, Heidelberg, Germany"
        ));
        let zh = templates
            .render(&context(
                LetterKind::EventCancelled,
                &event,
                &recipient(Locale::ZhCn, None),
                &changes,
            ))
            .unwrap();
        assert!(zh.text.contains(
            "时间：2027年5月12日（周三）09:00 至 2027年5月14日（周五）17:00 UTC+2（Europe/Berlin）"
        ));
        assert!(
            zh.text
                .contains("取消原因：The venue is closed for urgent repairs.")
        );
        assert_eq!(zh.subject, "活动取消：Biobank governance workshop");
    }

    #[test]
    fn subjects_are_specific() {
        let templates = templates();
        let event = webinar();
        let changes = start_change();
        let subject = |kind: LetterKind, locale: Locale, minutes: Option<i64>| {
            let recipient = recipient(locale, None);
            let mut ctx = context(kind, &event, &recipient, &changes);
            ctx.reminder_minutes = minutes;
            templates.render(&ctx).unwrap().subject
        };
        let title = "Data sharing in personalised medicine";
        assert_eq!(
            subject(LetterKind::Waitlisted, Locale::En, None),
            format!("Waiting list (3): {title}")
        );
        assert_eq!(
            subject(LetterKind::Waitlisted, Locale::ZhCn, None),
            format!("候补名单第3位：{title}")
        );
        assert_eq!(
            subject(LetterKind::EventUpdated, Locale::En, None),
            format!("Updated: {title}")
        );
        assert_eq!(
            subject(LetterKind::EventUpdated, Locale::ZhCn, None),
            format!("活动变更：{title}")
        );
        assert_eq!(
            subject(LetterKind::EventCancelled, Locale::En, None),
            format!("Cancelled: {title}")
        );
        assert_eq!(
            subject(LetterKind::EventCancelled, Locale::ZhCn, None),
            format!("活动取消：{title}")
        );
        assert_eq!(
            subject(LetterKind::Reminder, Locale::En, Some(15)),
            format!("Reminder: {title} starts in 15 minutes")
        );
        assert_eq!(
            subject(LetterKind::Reminder, Locale::ZhCn, Some(15)),
            format!("提醒：“{title}”将于15分钟后开始")
        );
        assert_eq!(
            subject(LetterKind::Reminder, Locale::En, Some(1440)),
            format!("Reminder: {title} starts in 24 hours")
        );
        assert_eq!(
            subject(LetterKind::Reminder, Locale::ZhCn, Some(10080)),
            format!("提醒：“{title}”将于7天后开始")
        );
        assert_eq!(
            subject(LetterKind::Reminder, Locale::En, None),
            format!("Reminder: {title} starts soon")
        );
    }

    #[test]
    fn webinar_reminders_carry_the_join_link() {
        let templates = templates();
        let event = webinar();
        let changes = ChangeSet::default();
        let en_recipient = recipient(Locale::En, None);
        let mut ctx = context(LetterKind::Reminder, &event, &en_recipient, &changes);
        ctx.reminder_minutes = Some(2880);
        let en = templates.render(&ctx).unwrap();
        assert!(en.text.contains(
            "This is a reminder that Data sharing in personalised medicine starts in 2 days: Saturday 15 May 2027, 09:00–10:30 UTC+2 (Europe/Berlin).\n\nJoin online: https://meet.example.org/j/42\n"
        ), "{}", en.text);
        let zh_recipient = recipient(Locale::ZhCn, None);
        let zh = templates
            .render(&context(
                LetterKind::Reminder,
                &event,
                &zh_recipient,
                &changes,
            ))
            .unwrap();
        assert!(
            zh.text.contains(
                "将于24小时后开始，时间为2027年5月15日（周六）09:00–10:30 UTC+2（Europe/Berlin）。"
            ),
            "{}",
            zh.text
        );
        assert!(
            zh.text
                .contains("在线参会链接：https://meet.example.org/j/42")
        );
    }

    #[test]
    fn every_body_has_separate_paragraphs() {
        let templates = templates();
        let event = webinar();
        let changes = start_change();
        for locale in LOCALES {
            let recipient = recipient(locale, None);
            for kind in LetterKind::ALL {
                let letter = templates
                    .render(&context(kind, &event, &recipient, &changes))
                    .unwrap();
                let paragraphs = letter
                    .html
                    .matches("<p style=\"margin:0 0 16px;\">")
                    .count();
                // Greeting, at least one body paragraph, and the manage link.
                assert!(paragraphs >= 3, "{kind:?} {locale:?}: {}", letter.html);
                assert!(
                    !letter.html.contains("<br>") || letter.html.matches("<br>").count() == 2,
                    "{kind:?} {locale:?}: only the footer breaks lines: {}",
                    letter.html
                );
            }
        }
        let recipient = recipient(Locale::En, None);
        let letter = templates
            .render(&context(
                LetterKind::ManageLink,
                &event,
                &recipient,
                &changes,
            ))
            .unwrap();
        assert!(
            letter
                .text
                .contains("with the link below.\n\nIf this wasn't you"),
            "{}",
            letter.text
        );
    }

    #[test]
    fn durations() {
        let en = |m| duration(m, Locale::En).unwrap();
        let zh = |m| duration(m, Locale::ZhCn).unwrap();
        assert_eq!(en(1), "1 minute");
        assert_eq!(en(15), "15 minutes");
        assert_eq!(en(60), "1 hour");
        assert_eq!(en(90), "1 hour 30 minutes");
        assert_eq!(en(1440), "24 hours");
        assert_eq!(en(2160), "36 hours");
        assert_eq!(en(2880), "2 days");
        assert_eq!(en(10080), "7 days");
        assert_eq!(zh(15), "15分钟");
        assert_eq!(zh(90), "1小时30分钟");
        assert_eq!(zh(1440), "24小时");
        assert_eq!(zh(2880), "2天");
        assert_eq!(duration(0, Locale::En), None);
        assert_eq!(duration(-5, Locale::ZhCn), None);
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let mut event = webinar();
        event.title = "Tom & Jerry's <b>show</b>".to_owned();
        let mut recipient = recipient(Locale::En, None);
        recipient.name = "<script>alert(1)</script> & \"x\"".to_owned();
        let changes = ChangeSet::default();
        let templates = templates();
        for locale in LOCALES {
            recipient.locale = locale;
            let letter = templates
                .render(&context(
                    LetterKind::Confirmed,
                    &event,
                    &recipient,
                    &changes,
                ))
                .unwrap();
            assert!(letter.text.contains("<script>alert(1)</script> & \"x\""));
            assert!(letter.text.contains("Tom & Jerry's <b>show</b>"));
            assert!(letter.subject.contains("Tom & Jerry's <b>show</b>"));
            assert!(!letter.html.contains("<script>"), "{}", letter.html);
            assert!(!letter.html.contains("<b>show"), "{}", letter.html);
            assert!(
                letter
                    .html
                    .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"),
                "{}",
                letter.html
            );
            assert!(
                letter
                    .html
                    .contains("Tom &amp; Jerry&#39;s &lt;b&gt;show&lt;/b&gt;")
            );
        }
    }

    #[test]
    fn html_has_the_details_table_change_list_and_links() {
        let event = webinar();
        let recipient = recipient(Locale::En, None);
        let changes = start_change();
        let letter = templates()
            .render(&context(
                LetterKind::EventUpdated,
                &event,
                &recipient,
                &changes,
            ))
            .unwrap();
        let html = &letter.html;
        assert!(html.contains("<table"));
        assert!(html.contains("<th scope=\"row\""));
        assert!(html.contains(
            "<li style=\"margin:0 0 4px;\">Start: Saturday 15 May 2027, 09:30 UTC+2 → 10:30 UTC+2</li>"
        ), "{html}");
        assert!(html.contains("<li style=\"margin:0 0 4px;\">Online link changed</li>"));
        for url in [
            "https://meet.example.org/j/42",
            "https://events.example.org/e/data-sharing",
            "https://events.example.org/e/data-sharing/agenda.ics",
            "https://events.example.org/r/tok3n",
        ] {
            assert!(
                html.contains(&format!("<a href=\"{url}\"")),
                "{url}\n{html}"
            );
        }
        assert!(html.contains("href=\"mailto:events@cloverleaf.example.org\""));
        assert!(!html.contains("http://"), "no external resources: {html}");
        assert!(!html.contains("<img") && !html.contains("<link") && !html.contains("<script"));
        assert!(letter.text.contains(
            "Here is what is different:\n\n- Start: Saturday 15 May 2027, 09:30 UTC+2 → 10:30 UTC+2\n- Online link changed\n"
        ), "{}", letter.text);
        assert!(
            letter
                .text
                .contains("An updated calendar entry is attached")
        );
    }

    #[test]
    fn body_lines_within_a_paragraph_become_line_breaks() {
        assert_eq!(
            paragraphs("\n  \nOne\ntwo  \n\n\n\nThree\n"),
            vec!["One\ntwo".to_owned(), "Three".to_owned()]
        );
        assert_eq!(tidy("\n\nA  \n\n\n\nB\n\n"), "A\n\nB\n");
        assert_eq!(one_line("  Hello\n  world \t!"), "Hello world !");
    }

    #[test]
    fn an_override_replaces_one_built_in() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("zh-CN")).unwrap();
        std::fs::write(
            dir.path().join("zh-CN/confirmed.txt"),
            "{% block subject %}欢迎参加：{{ event.title }}{% endblock %}\n{% block body %}{{ name }}，我们为您保留了席位。{% endblock %}\n",
        )
        .unwrap();
        let templates = Templates::new(Some(dir.path())).unwrap();
        let event = webinar();
        let changes = ChangeSet::default();
        let zh = recipient(Locale::ZhCn, None);
        let letter = templates
            .render(&context(LetterKind::Confirmed, &event, &zh, &changes))
            .unwrap();
        assert_eq!(
            letter.subject,
            "欢迎参加：Data sharing in personalised medicine"
        );
        assert!(letter.text.contains("张伟，我们为您保留了席位。"));
        assert!(
            letter
                .html
                .contains("<p style=\"margin:0 0 16px;\">张伟，我们为您保留了席位。</p>")
        );
        // The layout and the other locale are still the built-ins.
        assert!(letter.text.starts_with("张伟，您好：\n"));
        let en = recipient(Locale::En, None);
        let letter = templates
            .render(&context(LetterKind::Confirmed, &event, &en, &changes))
            .unwrap();
        assert_eq!(
            letter.subject,
            "Confirmed: Data sharing in personalised medicine"
        );
    }

    #[test]
    fn a_syntax_error_in_an_override_fails_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("en")).unwrap();
        std::fs::write(
            dir.path().join("en/reminder.txt"),
            "{% block subject %}Reminder: {{ event.title }{% endblock %}\n",
        )
        .unwrap();
        let err = Templates::new(Some(dir.path())).unwrap_err();
        assert!(matches!(err, TemplateError::Syntax { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("en/reminder.txt"), "{message}");
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_variable_in_an_override_fails_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("zh-CN")).unwrap();
        std::fs::write(
            dir.path().join("zh-CN/waitlisted.txt"),
            "{% block subject %}候补：{{ event.titel }}{% endblock %}{% block body %}{{ name }}{% endblock %}",
        )
        .unwrap();
        let err = Templates::new(Some(dir.path())).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("zh-CN/waitlisted.txt"), "{message}");
        assert!(message.contains("event.titel"), "{message}");
    }

    #[test]
    fn a_missing_override_directory_fails_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = Templates::new(Some(&missing)).unwrap_err();
        assert!(matches!(err, TemplateError::OverrideDir { .. }), "{err:?}");
    }

    #[test]
    fn undefined_and_none_values_are_errors_when_rendering() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("en")).unwrap();
        // Both pass the start-up check (the variables exist) but fail when rendered: a string has no
        // attribute `initial` (undefined values are errors), and the webinar has no location (printing none is
        // an error).
        std::fs::write(
            dir.path().join("en/rejected.txt"),
            "{% block subject %}No{% endblock %}{% block body %}{{ event.title.initial }}{% endblock %}",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("en/cancelled.txt"),
            "{% block subject %}No{% endblock %}{% block body %}{{ event.location }}{% endblock %}",
        )
        .unwrap();
        let templates = Templates::new(Some(dir.path())).unwrap();
        let event = webinar();
        let changes = ChangeSet::default();
        let recipient = recipient(Locale::En, None);
        for (kind, name) in [
            (LetterKind::Rejected, "en/rejected.txt"),
            (LetterKind::Cancelled, "en/cancelled.txt"),
        ] {
            let err = templates
                .render(&context(kind, &event, &recipient, &changes))
                .unwrap_err();
            assert!(matches!(err, TemplateError::Render { .. }), "{err:?}");
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn names_outside_the_template_directory_are_not_loaded() {
        assert!(is_relative_name("zh-CN/confirmed.txt"));
        for name in [
            "../secret.txt",
            "/etc/passwd",
            "en/../../x",
            "en//x",
            "./en/x",
            "en\\x",
        ] {
            assert!(!is_relative_name(name), "{name}");
        }
        assert!(load(None, "../../Cargo.toml").unwrap().is_none());
        assert!(load(None, "en/confirmed.txt").unwrap().is_some());
    }

    #[test]
    fn known_variables_match_what_templates_receive() {
        let event = webinar();
        let recipient = recipient(Locale::En, Some(chrono_tz::Asia::Shanghai));
        let changes = ChangeSet::default();
        let ctx = context(LetterKind::Confirmed, &event, &recipient, &changes);
        let vars = Vars::new(&ctx);
        let json = serde_json::to_value(&vars).unwrap();
        let top = json
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>();
        let expected = LETTER_VARIABLES
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>();
        assert_eq!(top, expected);
        let fields = json["event"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>();
        let expected = EVENT_FIELDS
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>();
        assert_eq!(fields, expected);
        let paragraphs = vec!["x".to_owned()];
        let layout = LayoutVars {
            letter: &vars,
            subject: "s",
            body: "b",
            paragraphs: &paragraphs,
        };
        let json = serde_json::to_value(&layout).unwrap();
        let top = json
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>();
        let expected = LETTER_VARIABLES
            .iter()
            .chain(LAYOUT_VARIABLES)
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>();
        assert_eq!(top, expected);
    }

    #[test]
    fn describes_a_start_time_change() {
        let tz = chrono_tz::Europe::Berlin;
        let changes = start_change();
        assert_eq!(
            Templates::describe_changes(&changes, tz, tz, Locale::En),
            vec![
                "Start: Saturday 15 May 2027, 09:30 UTC+2 → 10:30 UTC+2",
                "Online link changed"
            ]
        );
        assert_eq!(
            Templates::describe_changes(&changes, tz, tz, Locale::ZhCn),
            vec![
                "开始时间：2027年5月15日（周六）09:30 UTC+2 → 10:30 UTC+2",
                "在线参会链接已更改"
            ]
        );
        // Moved to another day, given in UTC: shown in the event's zone with the new date.
        let moved = ChangeSet {
            action: "updated".to_owned(),
            changes: vec![FieldChange {
                field: "ends_at".to_owned(),
                before: json!("2027-05-15T11:00:00+02:00"),
                after: json!("2027-05-16T09:00:00Z"),
            }],
            item_title: None,
            ..ChangeSet::default()
        };
        assert_eq!(
            Templates::describe_changes(&moved, tz, tz, Locale::En),
            vec!["End: Saturday 15 May 2027, 11:00 UTC+2 → Sunday 16 May 2027, 11:00 UTC+2"]
        );
        assert_eq!(
            Templates::describe_changes(&moved, tz, tz, Locale::ZhCn),
            vec!["结束时间：2027年5月15日（周六）11:00 UTC+2 → 2027年5月16日（周日）11:00 UTC+2"]
        );
    }

    #[test]
    fn describes_an_item_added_and_removed() {
        let tz = chrono_tz::Europe::Berlin;
        let added = ChangeSet {
            action: "item_added".to_owned(),
            changes: vec![
                FieldChange {
                    field: "kind".to_owned(),
                    before: json!(null),
                    after: json!("talk"),
                },
                FieldChange {
                    field: "title".to_owned(),
                    before: json!(null),
                    after: json!("Keynote"),
                },
                FieldChange {
                    field: "starts_at".to_owned(),
                    before: json!(null),
                    after: json!("2027-05-15T10:00:00+02:00"),
                },
                FieldChange {
                    field: "ends_at".to_owned(),
                    before: json!(null),
                    after: json!("2027-05-15T11:00:00+02:00"),
                },
            ],
            item_title: Some("Keynote".to_owned()),
            ..ChangeSet::default()
        };
        assert_eq!(
            Templates::describe_changes(&added, tz, tz, Locale::En),
            vec![
                "Agenda: “Keynote” added, Saturday 15 May 2027, 10:00–11:00 UTC+2 (Europe/Berlin)"
            ]
        );
        assert_eq!(
            Templates::describe_changes(&added, tz, tz, Locale::ZhCn),
            vec!["日程：新增“Keynote”，2027年5月15日（周六）10:00–11:00 UTC+2（Europe/Berlin）"]
        );

        let removed = ChangeSet {
            action: "item_removed".to_owned(),
            changes: vec![
                FieldChange {
                    field: "title".to_owned(),
                    before: json!("Lunch"),
                    after: json!(null),
                },
                FieldChange {
                    field: "starts_at".to_owned(),
                    before: json!("2027-05-15T12:00:00+02:00"),
                    after: json!(null),
                },
                FieldChange {
                    field: "ends_at".to_owned(),
                    before: json!("2027-05-15T13:00:00+02:00"),
                    after: json!(null),
                },
            ],
            item_title: None,
            ..ChangeSet::default()
        };
        assert_eq!(
            Templates::describe_changes(&removed, tz, tz, Locale::En),
            vec![
                "Agenda: “Lunch” removed – it was on Saturday 15 May 2027, 12:00–13:00 UTC+2 (Europe/Berlin)"
            ]
        );
        assert_eq!(
            Templates::describe_changes(&removed, tz, tz, Locale::ZhCn),
            vec![
                "日程：原定于2027年5月15日（周六）12:00–13:00 UTC+2（Europe/Berlin）的“Lunch”已取消"
            ]
        );

        let bare = ChangeSet {
            action: "item_removed".to_owned(),
            changes: vec![],
            item_title: Some("Lunch".to_owned()),
            ..ChangeSet::default()
        };
        assert_eq!(
            Templates::describe_changes(&bare, tz, tz, Locale::En),
            vec!["Agenda: “Lunch” removed"]
        );
        assert_eq!(
            Templates::describe_changes(&bare, tz, tz, Locale::ZhCn),
            vec!["日程：“Lunch”已取消"]
        );
    }

    #[test]
    fn a_removed_item_is_shown_in_its_own_zone_labelled() {
        // A tour kept in Berlin's zone; the dinner in Shanghai was 19:00–21:00 there (13:00–15:00 in Berlin).
        let berlin = chrono_tz::Europe::Berlin;
        let removed = ChangeSet {
            action: "item_removed".to_owned(),
            changes: vec![
                FieldChange {
                    field: "title".to_owned(),
                    before: json!("Welcome dinner"),
                    after: json!(null),
                },
                FieldChange {
                    field: "title_zh".to_owned(),
                    before: json!("欢迎晚宴"),
                    after: json!(null),
                },
                FieldChange {
                    field: "timezone".to_owned(),
                    before: json!("Asia/Shanghai"),
                    after: json!(null),
                },
                FieldChange {
                    field: "starts_at".to_owned(),
                    before: json!("2027-05-12T19:00:00+08:00"),
                    after: json!(null),
                },
                FieldChange {
                    field: "ends_at".to_owned(),
                    before: json!("2027-05-12T21:00:00+08:00"),
                    after: json!(null),
                },
            ],
            ..ChangeSet::default()
        };
        assert_eq!(
            Templates::describe_changes(&removed, berlin, berlin, Locale::En),
            vec![
                "Agenda: “Welcome dinner” removed – it was on Wednesday 12 May 2027, 19:00–21:00 UTC+8 (Asia/Shanghai)"
            ]
        );
        assert_eq!(
            Templates::describe_changes(&removed, berlin, berlin, Locale::ZhCn),
            vec![
                "日程：原定于2027年5月12日（周三）19:00–21:00 UTC+8（Asia/Shanghai）的“欢迎晚宴”已取消"
            ]
        );
    }

    #[test]
    fn an_agenda_moved_with_its_event_says_so() {
        let berlin = chrono_tz::Europe::Berlin;
        let moved = ChangeSet {
            action: "updated".to_owned(),
            changes: vec![FieldChange {
                field: "agenda".to_owned(),
                before: json!(null),
                after: json!({ "moved_by_seconds": 3600, "items": 3 }),
            }],
            ..ChangeSet::default()
        };
        assert_eq!(
            Templates::describe_changes(&moved, berlin, berlin, Locale::En),
            vec!["Agenda: all 3 items moved 1 hour later, with the start"]
        );
        assert_eq!(
            Templates::describe_changes(&moved, berlin, berlin, Locale::ZhCn),
            vec!["日程：全部3项安排随开始时间推迟1小时"]
        );
    }

    #[test]
    fn describes_an_item_update() {
        let tz = chrono_tz::Europe::Berlin;
        let updated = ChangeSet {
            action: "item_updated".to_owned(),
            changes: vec![
                FieldChange {
                    field: "starts_at".to_owned(),
                    before: json!("2027-05-15T10:00:00+02:00"),
                    after: json!("2027-05-15T10:30:00+02:00"),
                },
                FieldChange {
                    field: "room_id".to_owned(),
                    before: json!("6c1f1ad2-0000-0000-0000-000000000001"),
                    after: json!("6c1f1ad2-0000-0000-0000-000000000002"),
                },
                FieldChange {
                    field: "kind".to_owned(),
                    before: json!("talk"),
                    after: json!("panel"),
                },
            ],
            item_title: Some("Keynote".to_owned()),
            ..ChangeSet::default()
        };
        assert_eq!(
            Templates::describe_changes(&updated, tz, tz, Locale::En),
            vec![
                "Agenda: “Keynote” – Start: Saturday 15 May 2027, 10:00 UTC+2 → 10:30 UTC+2",
                "Agenda: “Keynote” – Room changed",
                "Agenda: “Keynote” – Type: talk → panel",
            ]
        );
        assert_eq!(
            Templates::describe_changes(&updated, tz, tz, Locale::ZhCn),
            vec![
                "日程“Keynote”的开始时间：2027年5月15日（周六）10:00 UTC+2 → 10:30 UTC+2",
                "日程“Keynote”的会议室已更改",
                "日程“Keynote”的类型：报告 → 圆桌讨论",
            ]
        );
    }

    #[test]
    fn describes_title_location_unknown_and_empty_values() {
        let tz = chrono_tz::Europe::Berlin;
        let changes = ChangeSet {
            action: "updated".to_owned(),
            changes: vec![
                FieldChange {
                    field: "title".to_owned(),
                    before: json!("Old"),
                    after: json!("New"),
                },
                FieldChange {
                    field: "venue".to_owned(),
                    before: json!(null),
                    after: json!({"id": null, "name": "Hall B", "address": "Main St 1", "city": "Heidelberg", "country": "Germany"}),
                },
                FieldChange {
                    field: "location".to_owned(),
                    before: json!("A"),
                    after: json!("B"),
                },
                FieldChange {
                    field: "capacity".to_owned(),
                    before: json!(40),
                    after: json!(60),
                },
                FieldChange {
                    field: "summary".to_owned(),
                    before: json!("same"),
                    after: json!("same"),
                },
            ],
            item_title: None,
            ..ChangeSet::default()
        };
        assert_eq!(
            Templates::describe_changes(&changes, tz, tz, Locale::En),
            vec![
                "Title: Old → New",
                "Location: (none) → Hall B, Main St 1, Heidelberg, Germany",
                "Location: A → B",
                "capacity changed",
            ]
        );
        assert_eq!(
            Templates::describe_changes(&changes, tz, tz, Locale::ZhCn),
            vec![
                "标题：Old → New",
                "地点：（无）→ Hall B，Main St 1，Heidelberg，Germany",
                "地点：A → B",
                "capacity已更改",
            ]
        );
    }

    #[test]
    fn change_sets_deserialise_from_the_event_payload() {
        let change: FieldChange = serde_json::from_value(json!({
            "field": "title", "before": "Old", "after": "New"
        }))
        .unwrap();
        assert_eq!(change.field, "title");
        assert_eq!(change.after, json!("New"));
    }
}
