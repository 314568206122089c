//! `/v1/events/{id}/items`: the agenda of an event, or the itinerary of a tour.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use cloverleaf_auth::{Action, Organiser, Viewer};
use cloverleaf_service_kit::Problem;
use cloverleaf_service_kit::extract::{Json, Path};
use cloverleaf_service_kit::pagination::Page;
use uuid::Uuid;

use super::lookup::{event_for, load_references, visible_event};
use super::views::{ItemView, References, new_item_view};
use super::{AppState, actor};
use crate::Error;
use crate::domain::agenda::{ItemInput, ItemPatch};
use crate::store::entities::event;
use crate::store::events;
use crate::store::items::{self, StoredItem};

/// The people and rooms an agenda names, fetched in two queries.
pub(crate) async fn references(
    state: &AppState,
    agenda: &[StoredItem],
) -> Result<References, Error> {
    let mut people_ids = Vec::new();
    let mut room_ids = Vec::new();
    for item in agenda {
        people_ids.extend(item.model.host_id);
        people_ids.extend(item.speakers.iter().copied());
        room_ids.extend(item.model.room_id);
    }
    load_references(state, people_ids, room_ids).await
}

async fn view(
    state: &AppState,
    event: &event::Model,
    item: &StoredItem,
) -> Result<ItemView, Error> {
    let refs = references(state, std::slice::from_ref(item)).await?;
    new_item_view(event, item, &refs)
}

async fn event_for_change(state: &AppState, key: &str) -> Result<event::Model, Error> {
    events::find(&state.db, key)
        .await?
        .ok_or_else(|| Problem::not_found("This event").into())
}

/// Add an item to the agenda. Times are RFC 3339, or wall-clock times in the item's zone (its own, else the
/// event's); the item must lie inside the event.
#[utoipa::path(post, path = "/v1/events/{id}/items", tag = "agenda", request_body = ItemInput,
    params(("id" = String, Path, description = "event id or slug")), security(("bearer" = [])),
    responses((status = 201, body = ItemView), (status = 403, description = "a role that may not, or another team's published event", body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn add_item(
    State(state): State<AppState>,
    Organiser(claims): Organiser,
    Path(id): Path<String>,
    Json(input): Json<ItemInput>,
) -> Result<impl IntoResponse, Error> {
    event_for(&state, &id, &claims, Action::Change).await?;
    let added = items::add(
        &state.db,
        &id,
        input,
        &actor(&claims),
        state.outbox.subscribers(),
    )
    .await?;
    state.outbox.wake();
    let event = event_for_change(&state, &id).await?;
    let location = format!("/v1/events/{}/items/{}", event.id, added.model.id);
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::LOCATION, location)],
        Json(view(&state, &event, &added).await?),
    ))
}

/// The agenda in time order (the whole of it: agendas are short enough to come in one answer).
#[utoipa::path(get, path = "/v1/events/{id}/items", tag = "agenda",
    params(("id" = String, Path, description = "event id or slug")),
    responses((status = 200, body = inline(Page<ItemView>)), (status = 404, body = Problem)))]
pub async fn list_items(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Json<Page<ItemView>>, Error> {
    let event = visible_event(&state, &id, &viewer).await?;
    let agenda = items::of_event(&state.db, event.id).await?;
    let refs = references(&state, &agenda).await?;
    let mut views = Vec::with_capacity(agenda.len());
    for item in &agenda {
        views.push(new_item_view(&event, item, &refs)?);
    }
    Ok(Json(Page {
        items: views,
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/v1/events/{id}/items/{item_id}", tag = "agenda",
    params(("id" = String, Path, description = "event id or slug"), ("item_id" = Uuid, Path)),
    responses((status = 200, body = ItemView), (status = 404, body = Problem)))]
pub async fn get_item(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, item_id)): Path<(String, Uuid)>,
) -> Result<Json<ItemView>, Error> {
    let event = visible_event(&state, &id, &viewer).await?;
    let item = items::one(&state.db, event.id, item_id).await?;
    Ok(Json(view(&state, &event, &item).await?))
}

/// Change an item; after publishing, the change is recorded and the event's sequence rises when calendars show it.
#[utoipa::path(patch, path = "/v1/events/{id}/items/{item_id}", tag = "agenda", request_body = ItemPatch,
    params(("id" = String, Path, description = "event id or slug"), ("item_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = ItemView), (status = 403, description = "a role that may not, or another team's published event", body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update_item(
    State(state): State<AppState>,
    Organiser(claims): Organiser,
    Path((id, item_id)): Path<(String, Uuid)>,
    Json(patch): Json<ItemPatch>,
) -> Result<Json<ItemView>, Error> {
    event_for(&state, &id, &claims, Action::Change).await?;
    let updated = items::update(
        &state.db,
        &id,
        item_id,
        patch,
        &actor(&claims),
        state.outbox.subscribers(),
    )
    .await?;
    state.outbox.wake();
    let event = event_for_change(&state, &id).await?;
    Ok(Json(view(&state, &event, &updated).await?))
}

#[utoipa::path(delete, path = "/v1/events/{id}/items/{item_id}", tag = "agenda",
    params(("id" = String, Path, description = "event id or slug"), ("item_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 403, description = "a role that may not, or another team's published event", body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_item(
    State(state): State<AppState>,
    Organiser(claims): Organiser,
    Path((id, item_id)): Path<(String, Uuid)>,
) -> Result<StatusCode, Error> {
    event_for(&state, &id, &claims, Action::Change).await?;
    items::remove(
        &state.db,
        &id,
        item_id,
        &actor(&claims),
        state.outbox.subscribers(),
    )
    .await?;
    state.outbox.wake();
    Ok(StatusCode::NO_CONTENT)
}
