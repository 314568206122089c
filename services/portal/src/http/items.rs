//! Editing one agenda item (`/organiser/events/{id}/items/{item}`): the add form's fields filled with what
//! scheduling has, the room, speakers and host picked from scheduling's venues and people. Saving sends the whole
//! item as a PATCH, so a field emptied here is cleared there.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cloverleaf_problem::Problem;
use cloverleaf_service_kit::config::ServiceName;
use minijinja::context;
use reqwest::Method;
use uuid::Uuid;

use super::organiser::{Pickers, fetch_event, item_body, item_fields, item_problem, names, staff};
use super::{AppState, Form, Ids, Visitor};
use crate::Error;
use crate::backend::Call;
use crate::domain::forms::{FieldErrors, Posted};
use crate::domain::model::AgendaItem;
use crate::domain::time;
use crate::domain::view::EventView;

/// The item as the add form names its fields; times are wall-clock times in the item's zones, as the form takes them.
fn item_values(item: &AgendaItem, event_zone: chrono_tz::Tz) -> HashMap<String, Vec<String>> {
    let start_zone = time::zone(&item.timezone).unwrap_or(event_zone);
    let end_zone = time::zone(item.end_zone()).unwrap_or(start_zone);
    let mut values: HashMap<String, Vec<String>> = HashMap::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            values.insert(name.to_owned(), vec![value]);
        }
    };
    put("item.kind", Some(item.kind.clone()));
    put("item.title", Some(item.title.clone()));
    put("item.title_zh", item.title_zh.clone());
    put(
        "item.starts_at",
        Some(time::wall_clock(item.starts_at.to_utc(), start_zone)),
    );
    put(
        "item.ends_at",
        Some(time::wall_clock(item.ends_at.to_utc(), end_zone)),
    );
    put(
        "item.timezone",
        item.own_timezone.then(|| item.timezone.clone()),
    );
    put("item.location", item.location.clone());
    put("item.description", item.description.clone());
    put("item.description_zh", item.description_zh.clone());
    put("item.room_id", item.room.as_ref().map(|r| r.id.to_string()));
    put("item.host", item.host.as_ref().map(|p| p.id.to_string()));
    if let Some(visit) = &item.visit {
        put("item.institution", visit.institution.clone());
        put("item.city", visit.city.clone());
    }
    if let Some(hotel) = &item.hotel {
        put("item.institution", hotel.hotel.name.clone());
        put("item.city", hotel.hotel.city.clone());
    }
    if let Some(transfer) = &item.transfer {
        put("item.transfer.from", transfer.from.clone());
        put("item.transfer.to", transfer.to.clone());
    }
    if !item.speakers.is_empty() {
        values.insert(
            "item.speakers".to_owned(),
            item.speakers.iter().map(|p| p.id.to_string()).collect(),
        );
    }
    values
}

async fn render(
    state: &AppState,
    visitor: &Visitor,
    (id, item_id): (Uuid, Uuid),
    posted: Option<&Posted>,
    problem: Option<&Problem>,
) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let event = fetch_event(state, token, id).await?;
    let item: AgendaItem = state
        .backends
        .json(
            Call::get(
                ServiceName::Scheduling,
                format!("/v1/events/{id}/items/{item_id}"),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(|e| super::public::not_found_as_page(staff(e)))?;
    let pickers = Pickers::fetch(state, token).await;
    let (catalog, locale) = (&state.catalog, visitor.locale);
    let values = posted.map_or_else(|| item_values(&item, event.zone()), Posted::values);
    let empty = FieldErrors::default();
    let placed = names(&item_fields(catalog, locale, &values, &empty, &pickers));
    let problem = item_problem(problem);
    let errors = FieldErrors::from_problem(problem.as_ref(), &placed, catalog, locale);
    let fields = item_fields(catalog, locale, &values, &errors, &pickers);
    let shown = event.localized(locale);
    state.render_status(
        visitor,
        if problem.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        "organiser/item.html",
        context! {
            event => event,
            title => shown.title,
            item => item,
            fields => fields,
            errors => errors.general,
            error_count => errors.by_field.len() + errors.general.len(),
        },
    )
}

/// `GET /organiser/events/{id}/items/{item}`
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(ids): Ids<(Uuid, Uuid)>,
) -> Result<Response, Error> {
    render(&state, &visitor, ids, None, None).await
}

/// `POST /organiser/events/{id}/items/{item}`: saves the item; back to the event's agenda, or the page again with
/// scheduling's objections at their fields.
pub async fn save(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids((id, item_id)): Ids<(Uuid, Uuid)>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = visitor.organiser()?;
    let sent = state
        .backends
        .done(
            Call::new(
                Method::PATCH,
                ServiceName::Scheduling,
                format!("/v1/events/{id}/items/{item_id}"),
            )
            .bearer(Some(token))
            .body(&item_body(&posted)),
        )
        .await;
    match sent {
        Ok(()) => Ok(Redirect::to(&format!(
            "/organiser/events/{id}?done=item_updated#item-{item_id}"
        ))
        .into_response()),
        Err(error) if error.is_status(422) || error.is_status(409) => {
            render(
                &state,
                &visitor,
                (id, item_id),
                Some(&posted),
                error.problem(),
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}
