//! `/v1/events`: organisers create, change, publish and cancel events; everyone reads published ones.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use cloverleaf_auth::{Action, Claims, Organiser, Staff, Viewer};
use cloverleaf_service_kit::extract::{Json, Path, Query};
use cloverleaf_service_kit::pagination::{Page, PageQuery};
use cloverleaf_service_kit::{FieldError, Problem};
use serde::Deserialize;
use uuid::Uuid;

use super::lookup::{event_for, load_references, visible_event};
use super::views::{ChangeView, ConflictView, EventView, PublishedView, new_event_view};
use super::{AppState, actor};
use crate::Error;
use crate::domain::conflicts::{self, Scheduled};
use crate::domain::event::{
    EventInput, EventKind, EventPatch, EventStatus, parse_kind, parse_status,
};
use crate::store::entities::event;
use crate::store::{event_details, events, items};

/// The event as the API shows it, with its end zone derived from its agenda when not set.
pub(crate) async fn event_view(state: &AppState, model: &event::Model) -> Result<EventView, Error> {
    let mut zones = items::last_end_zones(&state.db, std::slice::from_ref(model)).await?;
    new_event_view(model, zones.remove(&model.id))
}

/// Create an event (a draft).
#[utoipa::path(post, path = "/v1/events", tag = "events", request_body = EventInput,
    security(("bearer" = [])),
    responses((status = 201, body = EventView), (status = 422, body = Problem), (status = 409, body = Problem)))]
pub async fn create_event(
    State(state): State<AppState>,
    Organiser(claims): Organiser,
    Json(input): Json<EventInput>,
) -> Result<impl IntoResponse, Error> {
    let team = claims
        .team_for_new_event(input.team_id)
        .map_err(|why| Problem::invalid(vec![FieldError::new("team_id", "not_your_team", why)]))?;
    let details = input.validate()?;
    let created = events::create(&state.db, details, team, &actor(&claims)).await?;
    let location = format!("/v1/events/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::LOCATION, location)],
        Json(new_event_view(&created, None)?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// webinar, workshop or tour.
    pub kind: Option<String>,
    /// draft, published, cancelled or completed.
    pub status: Option<String>,
    /// Events that end after this instant (RFC 3339).
    pub from: Option<String>,
    /// Events that start before this instant (RFC 3339).
    pub to: Option<String>,
    /// Events of this team (owned or co-organised).
    pub team_id: Option<Uuid>,
    /// `true`: only the events the caller works on — its teams' (owned or co-organised, whatever its role), the
    /// events of no team for an organiser in no team, every event for admins. The organisers' dashboard.
    #[serde(default)]
    pub mine: bool,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Whose events a caller's list may hold: none for the public, all for admins and services, those of no team for
/// an organiser in no team, else those of `teams(claims)`.
fn scope(viewer: &Viewer, teams: fn(&Claims) -> Vec<Uuid>) -> events::Scope {
    match viewer.claims() {
        None => events::Scope::None,
        Some(claims) if claims.sees_all_teams() => events::Scope::All,
        Some(claims) if !claims.is_organiser_or_admin() => events::Scope::None,
        Some(claims) if claims.teams.is_empty() => events::Scope::OfNoTeam,
        Some(claims) => events::Scope::OfTeams(teams(claims)),
    }
}

/// The events a caller works on (`?mine=true`): every team it is in, whatever its role (check-in staff find the
/// events they check people in at).
fn worked_on_by(viewer: &Viewer) -> events::Scope {
    scope(viewer, |claims| claims.member_teams().collect())
}

/// Whose drafts a list shows: those of the teams whose events the caller may read.
fn drafts_seen_by(viewer: &Viewer) -> events::Scope {
    scope(viewer, |claims| claims.readable_teams().collect())
}

fn instant(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, Problem> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    Problem::invalid(vec![FieldError::new(
                        field,
                        "invalid_datetime",
                        "must be an RFC 3339 time with an offset",
                    )])
                })
        })
        .transpose()
}

pub(crate) fn kind_filter(value: Option<&str>) -> Result<Option<EventKind>, Problem> {
    value
        .map(|k| {
            parse_kind(k)
                .map_err(|e| Problem::invalid(vec![FieldError::new("kind", e.code, e.message)]))
        })
        .transpose()
}

/// List events by start, filtered by kind, status and time range; the public sees published ones only.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventListQuery),
    responses((status = 200, body = inline(Page<EventView>)), (status = 422, body = Problem)))]
pub async fn list_events(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<EventListQuery>,
) -> Result<Json<Page<EventView>>, Error> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let status = query
        .status
        .as_deref()
        .map(|s| {
            parse_status(s)
                .map_err(|e| Problem::invalid(vec![FieldError::new("status", e.code, e.message)]))
        })
        .transpose()?;
    if status == Some(EventStatus::Draft) && drafts_seen_by(&viewer) == events::Scope::None {
        return Ok(Json(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    }
    let filter = events::ListFilter {
        kind: kind_filter(query.kind.as_deref())?,
        status,
        from: instant("from", query.from.as_deref())?,
        to: instant("to", query.to.as_deref())?,
        drafts: drafts_seen_by(&viewer),
        team: query.team_id,
        only: if query.mine {
            Some(worked_on_by(&viewer))
        } else {
            None
        },
    };
    let limit = page.limit()?;
    let rows = events::list(&state.db, &filter, page.cursor()?, limit).await?;
    let page = Page::from_rows(rows, limit, |e| (e.starts_at, e.id), |e| e);
    let zones = items::last_end_zones(&state.db, &page.items).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for event in &page.items {
        items.push(new_event_view(event, zones.get(&event.id).copied())?);
    }
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// One event, by id or slug.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "event id or slug")),
    responses((status = 200, body = EventView), (status = 404, body = Problem)))]
pub async fn get_event(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Json<EventView>, Error> {
    let event = visible_event(&state, &id, &viewer).await?;
    Ok(Json(event_view(&state, &event).await?))
}

/// Change an event. After publishing, each change is recorded, and `sequence` rises when calendars show it. With
/// `move_items: true` and a new `starts_at`, every agenda item moves by as much as the start, in the same change
/// (one sequence step, one `event.updated` whose changes include `{"field":"agenda",…}`).
#[utoipa::path(patch, path = "/v1/events/{id}", tag = "events", request_body = EventPatch,
    params(("id" = String, Path, description = "event id or slug")), security(("bearer" = [])),
    responses((status = 200, body = EventView), (status = 403, description = "a role that may not, or another team's published event", body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update_event(
    State(state): State<AppState>,
    Organiser(claims): Organiser,
    Path(id): Path<String>,
    Json(mut patch): Json<EventPatch>,
) -> Result<Json<EventView>, Error> {
    let event = event_for(&state, &id, &claims, Action::Change).await?;
    if patch.changes_teams() {
        change_teams(&state, &event, &claims, &mut patch).await?;
    }
    let updated = events::update(
        &state.db,
        &id,
        patch,
        &actor(&claims),
        state.outbox.subscribers(),
    )
    .await?;
    state.outbox.wake();
    Ok(Json(event_view(&state, &updated).await?))
}

/// Who an event belongs to changes: `team_id` by admins only, `shared_with` by admins and organisers of the owning
/// team (a co-organiser cannot share further or unshare the owner). Written before the rest of the patch, which no
/// longer carries them.
async fn change_teams(
    state: &AppState,
    event: &event::Model,
    claims: &cloverleaf_auth::Claims,
    patch: &mut EventPatch,
) -> Result<(), Error> {
    let team = patch.team_id.take();
    let shared = patch.shared_with.take();
    if team.is_some() && claims.role != cloverleaf_auth::Role::Admin {
        return Err(Problem::forbidden("only admins move an event to another team").into());
    }
    if shared.is_some()
        && cloverleaf_auth::access(
            claims,
            cloverleaf_auth::EventTeams::new(event.team_id, &[]),
            Action::Change,
        )
        .is_err()
    {
        return Err(Problem::forbidden(
            "only the owning team's organisers and admins choose who co-organises",
        )
        .into());
    }
    let owner = team.or(event.team_id);
    if let Some(shared) = &shared
        && (shared.len() > 20 || owner.is_some_and(|o| shared.contains(&o)))
    {
        return Err(Problem::invalid(vec![FieldError::new(
            "shared_with",
            "invalid",
            "at most 20 other teams, not the event's own",
        )])
        .into());
    }
    events::set_teams(&state.db, event.id, owner, shared).await
}

/// Publish an event: it becomes public and attendees' invites can go out. Allowed with conflicts; the answer
/// lists them.
#[utoipa::path(post, path = "/v1/events/{id}/publish", tag = "events",
    params(("id" = String, Path, description = "event id or slug")), security(("bearer" = [])),
    responses((status = 200, body = PublishedView), (status = 403, description = "a role that may not, or another team's published event", body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn publish_event(
    State(state): State<AppState>,
    Organiser(claims): Organiser,
    Path(id): Path<String>,
) -> Result<Json<PublishedView>, Error> {
    event_for(&state, &id, &claims, Action::Change).await?;
    let published =
        events::publish(&state.db, &id, &actor(&claims), state.outbox.subscribers()).await?;
    state.outbox.wake();
    let conflicts = event_conflicts(&state, &published).await?;
    Ok(Json(PublishedView {
        event: event_view(&state, &published).await?,
        conflicts,
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CancelRequest {
    /// Told to attendees.
    pub reason: Option<String>,
}

/// Cancel an event; attendees' calendars drop it.
#[utoipa::path(post, path = "/v1/events/{id}/cancel", tag = "events",
    params(("id" = String, Path, description = "event id or slug")), security(("bearer" = [])),
    request_body(content = Option<CancelRequest>),
    responses((status = 200, body = EventView), (status = 403, description = "a role that may not, or another team's published event", body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn cancel_event(
    State(state): State<AppState>,
    Organiser(claims): Organiser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<EventView>, Error> {
    event_for(&state, &id, &claims, Action::Change).await?;
    // The body is optional: an empty one cancels without a reason.
    let request: CancelRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CancelRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            Problem::invalid(vec![FieldError::new("reason", "invalid", e.to_string())])
        })?
    };
    let reason = request.reason;
    let reason = crate::domain::fields::optional_line(
        reason.as_deref(),
        crate::domain::fields::SHORT_TEXT_MAX,
    )
    .map_err(|e| Problem::invalid(vec![FieldError::new("reason", e.code, e.message)]))?;
    let cancelled = events::cancel(
        &state.db,
        &id,
        reason,
        &actor(&claims),
        state.outbox.subscribers(),
    )
    .await?;
    state.outbox.wake();
    Ok(Json(event_view(&state, &cancelled).await?))
}

/// The conflicts of an event, with the names of the people and rooms involved.
pub(crate) async fn event_conflicts(
    state: &AppState,
    event: &event::Model,
) -> Result<Vec<ConflictView>, Error> {
    let details = event_details(event)?;
    let (own, others) = items::for_conflicts(&state.db, event).await?;
    let found = conflicts::find(details.kind, details.span, &own, &others);
    let by_id: HashMap<Uuid, &Scheduled> =
        own.iter().chain(others.iter()).map(|s| (s.id, s)).collect();
    let refs = load_references(
        state,
        found.iter().filter_map(|c| c.person_id).collect(),
        found.iter().filter_map(|c| c.room_id).collect(),
    )
    .await?;
    Ok(found
        .into_iter()
        .map(|c| ConflictView::new(c, &by_id, &refs))
        .collect())
}

/// Rooms double-booked, people in two places, items outside the event, in tours visits before arrival and
/// transfers during visits; and beside them, items still lacking details (`kind: incomplete`, with `item_id` and
/// `missing`).
#[utoipa::path(get, path = "/v1/events/{id}/conflicts", tag = "events",
    params(("id" = String, Path, description = "event id or slug")), security(("bearer" = [])),
    responses((status = 200, body = inline(Page<ConflictView>)), (status = 403, description = "a role that may not, or another team's published event", body = Problem), (status = 404, body = Problem)))]
pub async fn conflicts(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Path(id): Path<String>,
) -> Result<Json<Page<ConflictView>>, Error> {
    let event = event_for(&state, &id, &claims, Action::Read).await?;
    Ok(Json(Page {
        items: event_conflicts(&state, &event).await?,
        next_cursor: None,
    }))
}

/// Every change after publishing: who, when, which fields, before and after, and the sequence after it.
#[utoipa::path(get, path = "/v1/events/{id}/changes", tag = "events", params(("id" = String, Path), PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = inline(Page<ChangeView>)), (status = 403, description = "a role that may not, or another team's published event", body = Problem), (status = 404, body = Problem)))]
pub async fn changes(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<ChangeView>>, Error> {
    let event = event_for(&state, &id, &claims, Action::Read).await?;
    let limit = page.limit()?;
    let rows = events::changes(&state.db, event.id, page.cursor()?, limit).await?;
    let page = Page::from_rows(rows, limit, |c| c.id, |c| c);
    let mut items = Vec::with_capacity(page.items.len());
    for change in page.items {
        items.push(ChangeView::new(change)?);
    }
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}
