//! `/v1/registrations`: participants register (public), see, change, cancel, download and erase their registration
//! with the manage token; organisers approve, reject, check in and list (JSON or CSV).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use cloverleaf_auth::{Action, Role, ServiceCaller, Staff, Viewer};
use cloverleaf_service_kit::extract::{self, Json, Path, Query};
use cloverleaf_service_kit::forwarded::ClientAddress;
use cloverleaf_service_kit::pagination::PageQuery;
use cloverleaf_service_kit::{FieldError, Problem};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::access::{Access, Holder, ListViewer};
use super::event_access;
use crate::Error;
use crate::domain::audit::AuditAction;
use crate::domain::forms::check_answers;
use crate::domain::language;
use crate::domain::registration::{RegistrationInput, Status};
use crate::domain::seats;
use crate::store::audit::{self, NewAuditEntry};
use crate::store::registrations::{
    self, IdempotencyKey, NewRegistration, Registered, form_settings, registration,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register, list_registrations))
        .routes(routes!(my_registration))
        .routes(routes!(
            get_registration,
            update_registration,
            erase_registration
        ))
        .routes(routes!(cancel_registration))
        .routes(routes!(approve_registration))
        .routes(routes!(reject_registration))
        .routes(routes!(check_in))
        .routes(routes!(export_registration))
        .routes(routes!(manage_link))
}

/// A registration as the API shows it: the contract type other services read (notifications, the portal).
pub use cloverleaf_contracts::Registration as RegistrationView;

fn view(r: &registration::Model, position: Option<i64>) -> Result<RegistrationView, Error> {
    let answers = match &r.answers {
        None => Map::new(),
        Some(json) => serde_json::from_str(json)
            .map_err(|_| Error::Corrupt(format!("answers of registration {}", r.id)))?,
    };
    Ok(RegistrationView {
        id: r.id,
        event_id: r.event_id,
        status: r.status.as_str().to_owned(),
        waitlist_position: position,
        email: r.email.clone(),
        name: r.name.clone(),
        affiliation: r.affiliation.clone(),
        country: r.country.clone(),
        answers,
        locale: r.locale.clone(),
        timezone: r.timezone.clone(),
        created_at: r.created_at,
        confirmed_at: r.confirmed_at,
        cancelled_at: r.cancelled_at,
        checked_in_at: r.checked_in_at,
        manage_token: None,
        check_in_code: None,
    })
}

/// The registration's short manage token ([`crate::domain::manage_token`]); manage JWTs are no longer issued but
/// keep working.
fn manage_token(state: &AppState, id: Uuid) -> Result<String, Error> {
    state
        .manage_keys
        .issue(id)
        .ok_or_else(|| Error::Corrupt("no key to make manage tokens".into()))
}

/// The registration's check-in code, which its QR code carries (opens the door, nothing else).
pub(super) fn check_in_code(state: &AppState, id: Uuid) -> Result<String, Error> {
    state
        .check_in_keys
        .issue(id)
        .ok_or_else(|| Error::Corrupt("no key to make check-in codes".into()))
}

/// Register for a published event. Confirmed while seats remain, then waitlisted (or 409 `full`), or
/// `pending_approval` when organisers select applicants. The same email twice for one event → 409 that tells
/// nothing more, while a fresh manage link is emailed to that address. An `Idempotency-Key` makes a retried request
/// get the first answer.
#[utoipa::path(post, path = "/v1/registrations", tag = "registrations", request_body = RegistrationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry return the first answer")),
    responses((status = 201, body = RegistrationView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem), (status = 503, body = Problem)))]
pub async fn register(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientAddress(client): ClientAddress,
    extract::IdempotencyKey(idempotency_key): extract::IdempotencyKey,
    Json(input): Json<RegistrationInput>,
) -> Result<Response, Error> {
    // An organiser entering registrations (the demo loader, an office typing in a paper list) is no flood from
    // outside: the limits are for the public.
    if !viewer.is_staff()
        && let Err(refused) =
            state
                .limits
                .registration(client, input.email.as_deref(), input.event_id)
    {
        return Ok(refused.into_response());
    }
    let idempotency_key = match idempotency_key {
        None => None,
        Some(key) => {
            let body =
                serde_json::to_vec(&input).map_err(|e| Error::Corrupt(format!("request: {e}")))?;
            Some(IdempotencyKey {
                key,
                request_hash: hex(&Sha256::digest(&body)),
            })
        }
    };
    // Nothing is written before scheduling has said the event is published (or when it cannot say: 503).
    let event = state.events.published(input.event_id).await?;
    let form = registrations::find_form(&state.db, input.event_id)
        .await?
        .ok_or_else(|| Problem::not_found("The registration form of this event"))?;
    let participant = input.validate(&form_settings(&form)?)?;
    let outcome = state
        .desk
        .register(NewRegistration {
            event_id: input.event_id,
            event_starts_at: event.starts_at_utc(),
            participant,
            idempotency_key,
            request_id: None,
        })
        .await?;
    state.outbox.wake();
    let (registration, position, status) = match outcome {
        Registered::AlreadyRegistered => {
            return Err(Problem::conflict(
                "already-registered",
                "this address cannot register again for this event; a link to manage its registration has been sent to it",
            )
            .into());
        }
        Registered::New {
            registration,
            position,
        } => (registration, position, StatusCode::CREATED),
        Registered::Replayed {
            registration,
            position,
            status_code,
        } => (
            registration,
            position,
            StatusCode::from_u16(u16::try_from(status_code).unwrap_or(201))
                .unwrap_or(StatusCode::CREATED),
        ),
    };
    let mut body = view(&registration, position)?;
    body.manage_token = Some(manage_token(&state, registration.id)?);
    body.check_in_code = Some(check_in_code(&state, registration.id)?);
    let location = format!("/v1/registrations/{}", registration.id);
    Ok((status, [(header::LOCATION, location)], Json(body)).into_response())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub event_id: Uuid,
    /// confirmed, waitlisted, pending_approval, cancelled, rejected or event_cancelled.
    pub status: Option<String>,
    /// How many items at most (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    #[serde(
        default,
        deserialize_with = "cloverleaf_service_kit::pagination::limit_param"
    )]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    /// The CSV's language (`en` or `zh-CN`); default: `Accept-Language`, else English.
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistrationList {
    pub items: Vec<RegistrationView>,
    pub next_cursor: Option<String>,
    /// How many registrations of the event are in each status (whatever the filter).
    pub counts: HashMap<String, i64>,
}

/// Registrations of an event (organisers and services), oldest first, with counts per status. `Accept: text/csv`
/// gives all of them as CSV with one column per question, for spreadsheet programs.
#[utoipa::path(get, path = "/v1/registrations", tag = "registrations", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "the registrations: JSON, or CSV for `Accept: text/csv`",
            content((RegistrationList = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, description = "another team's event", body = Problem), (status = 422, body = Problem), (status = 503, description = "scheduling cannot say whose event it is", body = Problem)))]
pub async fn list_registrations(
    State(state): State<AppState>,
    ListViewer(viewer): ListViewer,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, Error> {
    match &viewer {
        Viewer::Public => return Err(Problem::unauthorized("a bearer token is needed").into()),
        signed if !signed.is_staff() => return Err(Problem::forbidden("organisers only").into()),
        _ => {}
    }
    let status = query
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                Problem::invalid(vec![FieldError::new(
                    "status",
                    "invalid_choice",
                    "must be confirmed, waitlisted, pending_approval, cancelled, rejected or event_cancelled",
                )])
            })
        })
        .transpose()?;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if let Some(claims) = viewer.claims() {
        let action = if wants_csv {
            Action::Export
        } else {
            Action::Read
        };
        event_access::check(&state, claims, query.event_id, action).await?;
        if wants_csv && claims.role != Role::Service {
            record_export(&state, claims, query.event_id, None).await?;
        }
    }
    if wants_csv {
        let lang = language::pick(
            query.lang.as_deref(),
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        return csv_export(&state, query.event_id, status, lang).await;
    }
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let rows =
        registrations::list(&state.db, query.event_id, status, page.cursor()?, limit).await?;
    let positions = registrations::waitlist_positions(&state.db, query.event_id).await?;
    let page = cloverleaf_service_kit::pagination::Page::from_rows(rows, limit, |r| r.id, |r| r);
    // Notifications writes to attendees, and every email carries the manage link: services get each one's token.
    let for_service = viewer.claims().is_some_and(|c| c.role == Role::Service);
    let mut items = Vec::with_capacity(page.items.len());
    for r in &page.items {
        let mut item = view(r, positions.get(&r.id).copied())?;
        if for_service {
            item.manage_token = Some(manage_token(&state, r.id)?);
            item.check_in_code = Some(check_in_code(&state, r.id)?);
        }
        items.push(item);
    }
    let counts = registrations::counts(&state.db, query.event_id)
        .await?
        .into_iter()
        .collect();
    Ok(Json(RegistrationList {
        items,
        next_cursor: page.next_cursor,
        counts,
    })
    .into_response())
}

/// Staff's download of personal data (an event's CSV, one registration's data) goes in the audit trail before the
/// data goes out.
async fn record_export(
    state: &AppState,
    claims: &cloverleaf_auth::Claims,
    event_id: Uuid,
    registration_id: Option<Uuid>,
) -> Result<(), Error> {
    audit::record(
        &cloverleaf_service_kit::db::writer(&state.db),
        NewAuditEntry {
            actor: claims.sub.clone(),
            action: AuditAction::Exported,
            event_id: Some(event_id),
            registration_id,
            detail: serde_json::json!({
                "what": if registration_id.is_some() { "registration_data" } else { "registrations_csv" },
            }),
        },
    )
    .await?;
    Ok(())
}

/// A cell as spreadsheet programs should read it: text starting with `= + - @` would be run as a formula, so it
/// gets a leading apostrophe.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn answer_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Array(items) => items.iter().map(answer_text).collect::<Vec<_>>().join("; "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The fixed columns of the CSV: English and Chinese headers.
const CSV_COLUMNS: [(&str, &str); 12] = [
    ("registration_id", "报名编号"),
    ("status", "状态"),
    ("waitlist_position", "候补名次"),
    ("name", "姓名"),
    ("email", "电子邮箱"),
    ("affiliation", "单位"),
    ("country", "国家/地区"),
    ("locale", "语言"),
    ("timezone", "时区"),
    ("registered_at", "报名时间"),
    ("confirmed_at", "确认时间"),
    ("checked_in_at", "签到时间"),
];

/// A time as spreadsheets read it: RFC 3339 to the second, with its offset (`2027-05-12T08:30:00+00:00`).
fn csv_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// All registrations of an event as CSV: UTF-8 with a byte-order mark, so Excel reads Chinese and accented names
/// right, CRLF line ends, one column per question (by its label).
async fn csv_export(
    state: &AppState,
    event_id: Uuid,
    status: Option<Status>,
    lang: &str,
) -> Result<Response, Error> {
    let form = registrations::find_form(&state.db, event_id)
        .await?
        .ok_or_else(|| Problem::not_found("The registration form of this event"))?;
    let questions = form_settings(&form)?.questions;
    let positions = registrations::waitlist_positions(&state.db, event_id).await?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut header_row: Vec<String> = CSV_COLUMNS
        .iter()
        .map(|(en, zh)| if lang == "zh-CN" { *zh } else { *en }.to_owned())
        .collect();
    header_row.extend(questions.iter().map(|q| cell(q.label_in(lang))));
    let csv_error = |e: csv::Error| Error::Corrupt(format!("csv: {e}"));
    writer.write_record(&header_row).map_err(csv_error)?;
    let mut after = None;
    loop {
        let mut rows = registrations::list(&state.db, event_id, status, after, 1000).await?;
        let more = rows.len() > 1000;
        rows.truncate(1000);
        for r in &rows {
            let answers: Map<String, Value> = r
                .answers
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| Error::Corrupt(format!("answers of registration {}", r.id)))?
                .unwrap_or_default();
            let time = |t: Option<DateTime<Utc>>| t.map(csv_time).unwrap_or_default();
            let text = |t: &Option<String>| cell(t.as_deref().unwrap_or_default());
            let mut record = vec![
                r.id.to_string(),
                r.status.as_str().to_owned(),
                positions
                    .get(&r.id)
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                text(&r.name),
                text(&r.email),
                text(&r.affiliation),
                text(&r.country),
                r.locale.clone(),
                text(&r.timezone),
                csv_time(r.created_at),
                time(r.confirmed_at),
                time(r.checked_in_at),
            ];
            record.extend(
                questions
                    .iter()
                    .map(|q| cell(&answers.get(&q.id).map(answer_text).unwrap_or_default())),
            );
            writer.write_record(&record).map_err(csv_error)?;
        }
        after = rows.last().map(|r| r.id);
        if !more {
            break;
        }
    }
    let data = writer
        .into_inner()
        .map_err(|e| Error::Corrupt(format!("csv: {e}")))?;
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(data);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"registrations-{event_id}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// One registration: for its participant (manage token) or an organiser.
#[utoipa::path(get, path = "/v1/registrations/{id}", tag = "registrations", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = RegistrationView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_registration(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<RegistrationView>, Error> {
    let r = registrations::find(&state.db, access.registration_id()).await?;
    access.check_event(&state, r.event_id, Action::Read).await?;
    let position = registrations::waitlist_position(&state.db, &r).await?;
    let mut body = view(&r, position)?;
    if !access.is_organiser() {
        body.check_in_code = Some(check_in_code(&state, r.id)?);
    }
    Ok(Json(body))
}

/// The registration a participant's manage token opens (Bearer or `?token=`): the same body as
/// `GET /v1/registrations/{id}`, for a manage link that carries only the token (`/manage/{token}`).
#[utoipa::path(get, path = "/v1/registrations/mine", tag = "registrations", security(("bearer" = [])),
    params(("token" = Option<String>, Query, description = "the manage token, when not sent as a bearer token")),
    responses((status = 200, body = RegistrationView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn my_registration(
    State(state): State<AppState>,
    holder: Holder,
) -> Result<Json<RegistrationView>, Error> {
    let r = registrations::find(&state.db, holder.registration_id).await?;
    let position = registrations::waitlist_position(&state.db, &r).await?;
    let mut body = view(&r, position)?;
    body.check_in_code = Some(check_in_code(&state, r.id)?);
    Ok(Json(body))
}

/// A registration's manage token, for another service to put in a link (notifications: every email carries one).
pub use cloverleaf_contracts::ManageLink;

/// A fresh manage token for a registration (services only); 404 once it is erased.
#[utoipa::path(get, path = "/v1/registrations/{id}/manage-token", tag = "registrations", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = ManageLink), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn manage_link(
    State(state): State<AppState>,
    _service: ServiceCaller,
    Path(id): Path<Uuid>,
) -> Result<Json<ManageLink>, Error> {
    let r = registrations::find(&state.db, id).await?;
    Ok(Json(ManageLink {
        registration_id: r.id,
        manage_token: manage_token(&state, r.id)?,
        check_in_code: Some(check_in_code(&state, r.id)?),
    }))
}

/// What a participant (or an organiser) may change: the name and the answers — never the email.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationPatch {
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Map<String, Value>>,
}

#[utoipa::path(patch, path = "/v1/registrations/{id}", tag = "registrations", params(("id" = Uuid, Path)),
    request_body = RegistrationPatch, security(("bearer" = [])),
    responses((status = 200, body = RegistrationView), (status = 403, description = "a role that may not (viewers change nothing, check-in staff only check in)", body = Problem), (status = 404, description = "no such registration, or another team's", body = Problem), (status = 422, body = Problem)))]
pub async fn update_registration(
    State(state): State<AppState>,
    access: Access,
    Json(patch): Json<RegistrationPatch>,
) -> Result<Json<RegistrationView>, Error> {
    let current = registrations::find(&state.db, access.registration_id()).await?;
    access
        .check_event(&state, current.event_id, Action::Change)
        .await?;
    seats::may_change(current.status)?;
    let form = registrations::find_form(&state.db, current.event_id)
        .await?
        .ok_or_else(|| Problem::not_found("The registration form of this event"))?;
    let mut errors = Vec::new();
    let name = match patch.name.as_deref().map(str::trim) {
        None => None,
        Some(n) if n.is_empty() || n.chars().count() > 200 || n.chars().any(char::is_control) => {
            errors.push(FieldError::new(
                "name",
                "invalid",
                "must be one line of 1–200 characters",
            ));
            None
        }
        Some(n) => Some(n.to_owned()),
    };
    let answers = match &patch.answers {
        None => None,
        Some(answers) => match check_answers(&form_settings(&form)?.questions, answers) {
            Ok(clean) => Some(clean),
            Err(mut answer_errors) => {
                errors.append(&mut answer_errors);
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors).into());
    }
    let updated = registrations::update_details(&state.db, current.id, name, answers).await?;
    let position = registrations::waitlist_position(&state.db, &updated).await?;
    Ok(Json(view(&updated, position)?))
}

/// Cancel (participant or organiser): the seat goes to the first of the waiting list at once.
#[utoipa::path(post, path = "/v1/registrations/{id}/cancel", tag = "registrations", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = RegistrationView), (status = 403, description = "a role that may not (viewers change nothing, check-in staff only check in)", body = Problem), (status = 404, description = "no such registration, or another team's", body = Problem), (status = 409, body = Problem)))]
pub async fn cancel_registration(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<RegistrationView>, Error> {
    let current = registrations::find(&state.db, access.registration_id()).await?;
    access
        .check_event(&state, current.event_id, Action::Change)
        .await?;
    let (cancelled, _) = registrations::cancel(
        &state.db,
        access.registration_id(),
        state.outbox.subscribers(),
    )
    .await?;
    state.outbox.wake();
    Ok(Json(view(&cancelled, None)?))
}

#[utoipa::path(post, path = "/v1/registrations/{id}/approve", tag = "registrations", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = RegistrationView), (status = 403, description = "a role that may not (viewers change nothing, check-in staff only check in)", body = Problem), (status = 404, description = "no such registration, or another team's", body = Problem), (status = 409, body = Problem)))]
pub async fn approve_registration(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Path(id): Path<Uuid>,
) -> Result<Json<RegistrationView>, Error> {
    let current = registrations::find(&state.db, id).await?;
    event_access::check(&state, &claims, current.event_id, Action::Change).await?;
    let (approved, position) =
        registrations::approve(&state.db, id, &claims.sub, state.outbox.subscribers()).await?;
    state.outbox.wake();
    Ok(Json(view(&approved, position)?))
}

#[utoipa::path(post, path = "/v1/registrations/{id}/reject", tag = "registrations", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = RegistrationView), (status = 403, description = "a role that may not (viewers change nothing, check-in staff only check in)", body = Problem), (status = 404, description = "no such registration, or another team's", body = Problem), (status = 409, body = Problem)))]
pub async fn reject_registration(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Path(id): Path<Uuid>,
) -> Result<Json<RegistrationView>, Error> {
    let current = registrations::find(&state.db, id).await?;
    event_access::check(&state, &claims, current.event_id, Action::Change).await?;
    let (rejected, _) =
        registrations::reject(&state.db, id, &claims.sub, state.outbox.subscribers()).await?;
    state.outbox.wake();
    Ok(Json(view(&rejected, None)?))
}

/// Record arrival; checking in twice keeps the first time.
#[utoipa::path(post, path = "/v1/registrations/{id}/check-in", tag = "registrations", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = RegistrationView), (status = 403, description = "a role that may not (viewers change nothing, check-in staff only check in)", body = Problem), (status = 404, description = "no such registration, or another team's", body = Problem), (status = 409, body = Problem)))]
pub async fn check_in(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Path(id): Path<Uuid>,
) -> Result<Json<RegistrationView>, Error> {
    let current = registrations::find(&state.db, id).await?;
    event_access::check(&state, &claims, current.event_id, Action::CheckIn).await?;
    let (checked, _) = registrations::check_in(&state.db, id, &claims.sub, Utc::now()).await?;
    Ok(Json(view(&checked, None)?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LabelledAnswer {
    pub question: String,
    #[schema(value_type = Object)]
    pub answer: Value,
}

/// Everything stored about a participant for this registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistrationData {
    pub registration: RegistrationView,
    pub consent_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The answers with the questions they answer.
    pub answers: Vec<LabelledAnswer>,
}

/// Download everything stored about this registration (JSON).
#[utoipa::path(get, path = "/v1/registrations/{id}/data", tag = "registrations", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = RegistrationData), (status = 403, description = "a role that may not (viewers change nothing, check-in staff only check in)", body = Problem), (status = 404, description = "no such registration, or another team's", body = Problem)))]
pub async fn export_registration(
    State(state): State<AppState>,
    access: Access,
) -> Result<Response, Error> {
    let r = registrations::find(&state.db, access.registration_id()).await?;
    access
        .check_event(&state, r.event_id, Action::Export)
        .await?;
    if let Some(claims) = access.staff() {
        record_export(&state, claims, r.event_id, Some(r.id)).await?;
    }
    let position = registrations::waitlist_position(&state.db, &r).await?;
    let registration = view(&r, position)?;
    let questions = match registrations::find_form(&state.db, r.event_id).await? {
        Some(form) => form_settings(&form)?.questions,
        None => Vec::new(),
    };
    let answers = registration
        .answers
        .iter()
        .map(|(id, answer)| LabelledAnswer {
            question: questions
                .iter()
                .find(|q| &q.id == id)
                .map_or_else(|| id.clone(), |q| q.label.clone()),
            answer: answer.clone(),
        })
        .collect();
    let data = RegistrationData {
        registration,
        consent_at: r.consent_at,
        updated_at: r.updated_at,
        answers,
    };
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"registration-{}.json\"", r.id),
        )],
        Json(data),
    )
        .into_response())
}

/// Erase the participant's personal data (participant or organiser). The registration is cancelled first if it
/// holds a place; its status and times stay, so counts stay right. The manage token stops working.
#[utoipa::path(delete, path = "/v1/registrations/{id}", tag = "registrations", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 204), (status = 403, description = "a role that may not (viewers change nothing, check-in staff only check in)", body = Problem), (status = 404, description = "no such registration, or another team's", body = Problem)))]
pub async fn erase_registration(
    State(state): State<AppState>,
    access: Access,
) -> Result<StatusCode, Error> {
    let current = registrations::find(&state.db, access.registration_id()).await?;
    access
        .check_event(&state, current.event_id, Action::Change)
        .await?;
    registrations::erase(
        &state.db,
        access.registration_id(),
        access
            .staff()
            .map_or("participant", |claims| claims.sub.as_str()),
        state.outbox.subscribers(),
    )
    .await?;
    state.outbox.wake();
    Ok(StatusCode::NO_CONTENT)
}
