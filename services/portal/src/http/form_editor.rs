//! The registration form editor, `/organiser/events/{id}/form`: seats, waiting list, approval, the window (wall-clock
//! times in the event's zone) and the questions in both languages — their types, options, order, required and
//! shown at the door. Works without JavaScript: Move up, Move down, Remove and "Add a question" send the whole page
//! and it comes back with the change (nothing typed lost); only Save sends the form to registration, whose errors
//! come back beside the fields they are about.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use cloverleaf_problem::Problem;
use cloverleaf_service_kit::config::ServiceName;
use minijinja::{Value, context};
use reqwest::Method;
use serde::Deserialize;
use uuid::Uuid;

use super::organiser::{self, fetch_event, staff};
use super::{AppState, Form, Ids, Visitor};
use crate::Error;
use crate::backend::Call;
use crate::domain::form_editor::{
    self, Draft, KINDS, MAX_QUESTIONS, Op, has_choices, question_field,
};
use crate::domain::forms::{Choice, Field, FieldErrors};
use crate::domain::model::{Event, Form as RegistrationForm};
use crate::domain::view::EventView;
use crate::i18n::{Catalog, Locale};

#[derive(Debug, Deserialize)]
pub struct EditorQuery {
    pub done: Option<String>,
}

/// `GET /organiser/events/{id}/form`: the editor, filled with the stored form (none yet: an empty one).
pub async fn editor(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Query(query): Query<EditorQuery>,
) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let event = fetch_event(&state, token, id).await?;
    let form = fetch_form(&state, token, id).await?;
    let draft = Draft::from_form(form.as_ref(), event.zone());
    let page = Page {
        saved: query.done.as_deref() == Some("saved"),
        registered: form.as_ref().map_or(0, |f| f.confirmed),
        ..Page::default()
    };
    render(&state, &visitor, &event, &draft, page)
}

/// `POST /organiser/events/{id}/form`: a button of the editor (Save sends the form to registration; the others show
/// the page again with their change). A post from the event page's settings box (no `editor` field) is that box's.
pub async fn post(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    if !posted.has("editor") {
        return organiser::update_form(State(state), visitor, Ids(id), Form(posted)).await;
    }
    visitor.check_csrf(&posted)?;
    let token = visitor.organiser()?;
    let event = fetch_event(&state, token, id).await?;
    let mut draft = Draft::from_posted(&posted);
    let op = Op::parse(posted.get("op")).ok_or(Error::NotFound)?;
    if op != Op::Save {
        draft.apply(op);
        return render(&state, &visitor, &event, &draft, Page::default());
    }
    let body = match draft.body(event.zone(), event.starts_at.with_timezone(&Utc)) {
        Ok(body) => body,
        Err(errors) => {
            let problem = Problem::invalid(errors);
            let page = Page {
                problem: Some(&problem),
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..Page::default()
            };
            return render(&state, &visitor, &event, &draft, page);
        }
    };
    let sent = state
        .backends
        .done(
            Call::new(
                Method::PUT,
                ServiceName::Registration,
                format!("/v1/forms/{id}"),
            )
            .bearer(Some(token))
            .body(&body),
        )
        .await;
    match sent {
        Ok(()) => {
            Ok(Redirect::to(&format!("/organiser/events/{id}/form?done=saved")).into_response())
        }
        // Refused (invalid, the event cancelled or gone): the page again, as typed, with why.
        Err(error @ Error::Backend { .. }) if !error.is_status(401) && !error.is_status(403) => {
            let status = if error.is_status(422) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                error.status()
            };
            let page = Page {
                problem: error.problem(),
                status,
                ..Page::default()
            };
            render(&state, &visitor, &event, &draft, page)
        }
        Err(error) => Err(staff(error)),
    }
}

async fn fetch_form(
    state: &AppState,
    token: &str,
    id: Uuid,
) -> Result<Option<RegistrationForm>, Error> {
    match state
        .backends
        .json(Call::get(ServiceName::Registration, format!("/v1/forms/{id}")).bearer(Some(token)))
        .await
    {
        Ok(form) => Ok(Some(form)),
        Err(error) if error.is_status(404) => Ok(None),
        Err(error) => Err(staff(error)),
    }
}

struct Page<'a> {
    problem: Option<&'a Problem>,
    status: StatusCode,
    saved: bool,
    /// People registered already (their answers stay as given when questions change).
    registered: i64,
}

impl Default for Page<'_> {
    fn default() -> Self {
        Self {
            problem: None,
            status: StatusCode::OK,
            saved: false,
            registered: 0,
        }
    }
}

/// Registration's problem with its fields named as the editor names them and, where the editor has its own, the
/// message in the organiser's language.
fn on_editor_fields(problem: &Problem, catalog: &Catalog, locale: Locale) -> Problem {
    let mut problem = problem.clone();
    for error in &mut problem.errors {
        let (field, message) = form_editor::editor_field(&error.field, &error.code);
        if let Some(key) = message.map(|m| format!("form_editor.error.{m}"))
            && catalog.has(locale, &key)
        {
            error.message = catalog.text(locale, &key).to_owned();
            // So that the general `field_error.<code>` text does not replace the editor's own.
            error.code = "form_editor".to_owned();
        }
        if let Some(field) = field {
            error.field = field;
        } else if error.field == "questions" {
            error.field = catalog.text(locale, "form_editor.questions").to_owned();
        }
    }
    problem
}

fn choices(values: &[(&str, String)], chosen: &str) -> Vec<Choice> {
    values
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: label.clone(),
            checked: *value == chosen,
        })
        .collect()
}

fn render(
    state: &AppState,
    visitor: &Visitor,
    event: &Event,
    draft: &Draft,
    page: Page<'_>,
) -> Result<Response, Error> {
    let (catalog, locale) = (&state.catalog, visitor.locale);
    let t = |key: &str| {
        catalog
            .text(locale, &format!("form_editor.{key}"))
            .to_owned()
    };
    let problem = page.problem.map(|p| on_editor_fields(p, catalog, locale));

    let mut placed = vec![
        "capacity".to_owned(),
        "approval".to_owned(),
        "opens_at".to_owned(),
        "closes_at".to_owned(),
        "waitlist".to_owned(),
    ];
    for i in 0..draft.questions.len() {
        for name in [
            "label",
            "label_zh",
            "help",
            "help_zh",
            "kind",
            "options",
            "options_zh",
        ] {
            placed.push(question_field(i, name));
        }
    }
    let errors = FieldErrors::from_problem(problem.as_ref(), &placed, catalog, locale);
    let error = |name: &str| errors.by_field.get(name).cloned();
    let with_error = |mut f: Field| {
        f.error = error(&f.name);
        f
    };

    let approvals = [
        (
            "automatic",
            catalog.text(locale, "edit.approval_automatic").to_owned(),
        ),
        (
            "manual",
            catalog.text(locale, "edit.approval_manual").to_owned(),
        ),
    ];
    let zone_hint = |key: &str| catalog.format(locale, key, &[("zone", event.timezone.clone())]);
    let settings = vec![
        with_error(
            Field::new("capacity", "text", t("capacity"), false)
                .hint(t("capacity_hint"))
                .value(Some(&draft.capacity)),
        ),
        with_error(
            Field::new("approval", "select", t("approval"), false)
                .options(choices(&approvals, &draft.approval)),
        ),
        with_error(
            Field::new("opens_at", "datetime", t("opens_at"), false)
                .hint(zone_hint("edit.opens_at_hint"))
                .value(Some(&draft.opens_at)),
        ),
        with_error(
            Field::new("closes_at", "datetime", t("closes_at"), false)
                .hint(zone_hint("edit.closes_at_hint"))
                .value(Some(&draft.closes_at)),
        ),
    ];
    let kinds: Vec<(&str, String)> = KINDS
        .iter()
        .map(|k| {
            (
                *k,
                catalog
                    .text(locale, &format!("question_type.{k}"))
                    .to_owned(),
            )
        })
        .collect();
    let mut all_fields = settings.clone();
    let questions: Vec<Value> = draft
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let name = |field: &str| question_field(i, field);
            let text = |field: &str, kind: &str, label: String, value: &str| {
                with_error(Field::new(&name(field), kind, label, false).value(Some(value)))
            };
            let fields = vec![
                with_error(
                    Field::new(&name("label"), "text", t("label"), true).value(Some(&q.label)),
                ),
                text("label_zh", "text", t("label_zh"), &q.label_zh),
                text("help", "text", t("help"), &q.help),
                text("help_zh", "text", t("help_zh"), &q.help_zh),
                with_error(
                    Field::new(&name("kind"), "select", t("kind"), false)
                        .options(choices(&kinds, &q.kind)),
                ),
            ];
            let options = vec![
                with_error(
                    Field::new(&name("options"), "long_text", t("options"), false)
                        .hint(t("options_hint"))
                        .value(Some(&q.options)),
                ),
                with_error(
                    Field::new(&name("options_zh"), "long_text", t("options_zh"), false)
                        .hint(t("options_zh_hint"))
                        .value(Some(&q.options_zh)),
                ),
            ];
            all_fields.extend(fields.iter().cloned());
            all_fields.extend(options.iter().cloned());
            let options_open = has_choices(&q.kind) || options.iter().any(|f| f.error.is_some());
            context! {
                index => i,
                number => i + 1,
                id => q.id,
                title => if q.label.trim().is_empty() { None } else { Some(q.label.trim()) },
                fields => fields,
                options => options,
                options_open => options_open,
                required => q.required,
                show_at_check_in => q.show_at_check_in,
                first => i == 0,
                last => i + 1 == draft.questions.len(),
            }
        })
        .collect();
    let shown = event.localized(locale);
    state.render_status(
        visitor,
        page.status,
        "organiser/form.html",
        context! {
            event => event,
            title => shown.title,
            settings => settings,
            waitlist => draft.waitlist,
            questions => questions,
            may_add => draft.questions.len() < MAX_QUESTIONS,
            general_errors => errors.general,
            error_count => errors.by_field.len() + errors.general.len(),
            all_fields => all_fields,
            saved => page.saved,
            registered => page.registered,
        },
    )
}
