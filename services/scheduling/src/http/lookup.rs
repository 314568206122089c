//! Look-ups that several resources' handlers share: an event as the caller may see it, and the people and rooms a
//! view names. They live here, below `events` and `items`, so that neither of those modules imports the other.

use cloverleaf_auth::Viewer;
use cloverleaf_service_kit::Problem;
use uuid::Uuid;

use super::AppState;
use super::views::{References, RoomView};
use crate::Error;
use crate::store::entities::event;
use crate::store::{events, people};

/// An event the caller may see: the public sees events once they are published, staff see drafts too.
pub(crate) async fn visible_event(
    state: &AppState,
    key: &str,
    viewer: &Viewer,
) -> Result<event::Model, Error> {
    match events::find(&state.db, key).await? {
        Some(event) if viewer.is_staff() || event.published_at.is_some() => Ok(event),
        _ => Err(Problem::not_found("This event").into()),
    }
}

/// People and rooms by id, for views that name them.
pub(crate) async fn load_references(
    state: &AppState,
    mut people_ids: Vec<Uuid>,
    mut room_ids: Vec<Uuid>,
) -> Result<References, Error> {
    people_ids.sort();
    people_ids.dedup();
    room_ids.sort();
    room_ids.dedup();
    Ok(References {
        people: people::people_by_id(&state.db, &people_ids)
            .await?
            .iter()
            .map(|p| (p.id, p.into()))
            .collect(),
        rooms: people::rooms_by_id(&state.db, &room_ids)
            .await?
            .iter()
            .map(|r| (r.id, RoomView::from(r)))
            .collect(),
    })
}
