//! Loading, checking and rendering the letter templates: the built-ins, an operator's overrides, and what is
//! checked at start-up (syntax, unknown variables, the change-line macros).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use cloverleaf_locale::{Locale, text};
use minijinja::{
    AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior, Value,
};

use super::changes::{self, ChangeSet, Wording};
use super::tidy::{one_line, paragraphs, tidy};
use super::vars::{EVENT_FIELDS, LAYOUT_VARIABLES, LETTER_VARIABLES, LayoutVars, Vars};
use super::{Letter, LetterContext, LetterKind};

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
    #[error("template {name} ({origin}) lacks the macro `{macro}`")]
    MissingMacro {
        name: String,
        origin: String,
        r#macro: String,
    },
    #[error("template {name} failed to render: {detail}")]
    Render { name: String, detail: String },
}

/// The built-in templates by name, `<locale>/<file>`.
macro_rules! built_in {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/", $name)))),*]
    };
}

pub(super) const BUILT_IN: &[(&str, &str)] = built_in![
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

/// The wording of change lines, `<locale>/changes.txt`: macros, not a letter (kept apart from [`BUILT_IN`], which
/// holds exactly the letters and layouts).
const WORDING: &[(&str, &str)] = built_in!["en/changes.txt", "zh-CN/changes.txt"];

pub(super) const LOCALES: [Locale; 2] = Locale::ALL;
const TEXT_LAYOUT: &str = "layout.txt";
const HTML_LAYOUT: &str = "layout.html";
const CHANGES: &str = "changes.txt";

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
        // The Chinese change lines drop spaces next to Chinese punctuation (`{% filter zh_tidy %}`).
        env.add_filter("zh_tidy", |text: String| text::zh_tidy(&text));
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
            let name = template_name(locale, CHANGES);
            let origin = origin(override_dir, &name);
            let template = env
                .get_template(&name)
                .map_err(|err| lookup_error(&name, &origin, &err))?;
            check_wording(&name, &origin, &template)?;
        }
        Ok(Self { env })
    }

    /// The letter for `ctx`, in the recipient's locale.
    pub fn render(&self, ctx: &LetterContext<'_>) -> Result<Letter, TemplateError> {
        let locale = ctx.recipient.locale;
        let mut vars = Vars::new(ctx);
        if let Some(changes) = ctx.changes {
            vars.changes =
                self.describe_changes(changes, ctx.event.timezone, ctx.event.end_timezone, locale)?;
        }

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

    /// Human lines describing a change set in a locale, worded by `<locale>/changes.txt`, e.g. "Start: Saturday
    /// 15 May 2027, 09:30 UTC+2 → 10:30 UTC+2", "Agenda: “Keynote” added, Saturday 15 May 2027, 10:00–11:00", "Agenda: “Lunch” removed (…)",
    /// "Title: Old → New", "Online link changed", "Location: A → B". Times (starts_at, ends_at, check_in,
    /// check_out: RFC 3339 strings or null) are shown in `tz`; unknown fields get "<field> changed"
    /// ("<field>已更改"); a null value reads "(none)" ("（无）").
    ///
    /// An item's times are shown in its own zones (labelled with offset and name, never in the event's zone
    /// unlabelled); the event's start in `tz` and its end in `end_tz`.
    pub fn describe_changes(
        &self,
        changes: &ChangeSet,
        tz: Tz,
        end_tz: Tz,
        locale: Locale,
    ) -> Result<Vec<String>, TemplateError> {
        let name = template_name(locale, CHANGES);
        let template = self.template(&name)?;
        let captured = template
            .render_captured(())
            .map_err(|err| render_error(&name, &err))?;
        let wording = Wording::new(captured.state()).map_err(|err| render_error(&name, &err))?;
        changes::describe(changes, tz, end_tz, locale, &wording)
            .map_err(|err| render_error(&name, &err))
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

pub(super) fn template_name(locale: Locale, file: &str) -> String {
    format!("{}/{file}", locale.code())
}

/// A template's source: the override file if there is one, else the built-in.
pub(super) fn load(dir: Option<&Path>, name: &str) -> Result<Option<String>, Error> {
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
        .chain(WORDING)
        .find(|(built_in, _)| *built_in == name)
        .map(|(_, source)| (*source).to_owned()))
}

/// Whether a template name stays inside the template directory: relative, no `.`/`..` or empty segments.
pub(super) fn is_relative_name(name: &str) -> bool {
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

/// Fails when the wording of change lines lacks a macro the service calls, or cannot be evaluated, so a broken
/// override of `changes.txt` is caught at start-up.
fn check_wording(
    name: &str,
    origin: &str,
    template: &minijinja::Template<'_, '_>,
) -> Result<(), TemplateError> {
    let captured = template
        .render_captured(())
        .map_err(|err| lookup_error(name, origin, &err))?;
    match changes::MACROS
        .iter()
        .find(|wanted| captured.state().lookup(wanted).is_none())
    {
        None => Ok(()),
        Some(missing) => Err(TemplateError::MissingMacro {
            name: name.to_owned(),
            origin: origin.to_owned(),
            r#macro: (*missing).to_owned(),
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
