//! The HTTP layer of the scheduling service: one module per resource, each with its handlers, request and response
//! types and OpenAPI description. Where is an event created? [`events::create_event`].

pub mod events;
pub mod feed_cache;
pub mod feeds;
pub mod ics;
pub mod items;
pub mod lookup;
pub mod people;
pub mod venues;
pub mod views;

use std::sync::Arc;

use axum::extract::FromRef;
use cloverleaf_auth::{Claims, Verifier};
use cloverleaf_service_kit::docs::BearerAuth;
use cloverleaf_service_kit::outbox::OutboxRelay;
use sea_orm::DatabaseConnection;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::store::Actor;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Arc<Verifier>,
    /// Delivers the domain events written with each change; woken after each commit so they go out at once.
    pub outbox: OutboxRelay,
    /// The `.ics` feeds' rendered bodies, each with the version it was rendered for (see [`feeds`]).
    pub feeds: Arc<feed_cache::FeedCache>,
}

/// The cursor of a list paged by (name, id). A name no stored row can have — with a control character (PostgreSQL
/// refuses a NUL in a text parameter with an error) or longer than a name — is refused like any cursor this service
/// never gave out, before it reaches the database.
pub(crate) fn name_cursor(
    page: &cloverleaf_service_kit::pagination::PageQuery,
) -> Result<Option<(String, uuid::Uuid)>, cloverleaf_service_kit::Problem> {
    let cursor: Option<(String, uuid::Uuid)> = page.cursor()?;
    match cursor {
        Some((name, _))
            if name.chars().any(char::is_control)
                || name.chars().count() > crate::domain::fields::NAME_MAX =>
        {
            Err(cloverleaf_service_kit::Problem::invalid(vec![
                cloverleaf_service_kit::FieldError::new(
                    "cursor",
                    "invalid",
                    "is not a cursor this list gave out",
                ),
            ]))
        }
        cursor => Ok(cursor),
    }
}

pub(crate) fn actor(claims: &Claims) -> Actor {
    Actor {
        subject: claims.sub.clone(),
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cloverleaf scheduling",
        description = "Owns events, agenda items, people, venues, tour itineraries, change history and .ics feeds. Errors are RFC 9457 problem+json."
    ),
    modifiers(&BearerAuth),
    components(schemas(cloverleaf_service_kit::Problem, cloverleaf_service_kit::FieldError))
)]
struct ApiDoc;

pub fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(events::create_event, events::list_events))
        .routes(routes!(events::get_event, events::update_event))
        .routes(routes!(events::publish_event))
        .routes(routes!(events::cancel_event))
        .routes(routes!(events::conflicts))
        .routes(routes!(events::changes))
        .routes(routes!(items::add_item, items::list_items))
        .routes(routes!(
            items::get_item,
            items::update_item,
            items::delete_item
        ))
        .routes(routes!(feeds::event_calendar))
        .routes(routes!(feeds::all_events_calendar))
        .routes(routes!(people::create_person, people::list_people))
        .routes(routes!(people::get_person, people::update_person))
        .routes(routes!(venues::create_venue, venues::list_venues))
        .routes(routes!(venues::get_venue))
        .routes(routes!(venues::add_room))
        .with_state(state)
}
