//! Look-ups that several resources' handlers share: an event as the caller may see it, and the people and rooms a
//! view names. They live here, below `events` and `items`, so that neither of those modules imports the other.

use cloverleaf_auth::{Action, Claims, Denied, EventTeams, Viewer, access};
use cloverleaf_service_kit::Problem;
use uuid::Uuid;

use super::AppState;
use super::views::{References, RoomView};
use crate::Error;
use crate::store::entities::event;
use crate::store::{events, people, shared_with};

/// An event the caller may see: everyone sees events once they are published; a draft only those who may read its
/// team's events (its team's organisers and viewers, admins, services) — to anyone else it does not exist.
pub(crate) async fn visible_event(
    state: &AppState,
    key: &str,
    viewer: &Viewer,
) -> Result<event::Model, Error> {
    match events::find(&state.db, key).await? {
        Some(event) if event.published_at.is_some() => Ok(event),
        Some(event)
            if viewer
                .claims()
                .is_some_and(|claims| allowed(claims, &event, Action::Read).is_ok()) =>
        {
            Ok(event)
        }
        _ => Err(Problem::not_found("This event").into()),
    }
}

/// May `claims` do `action` to `event` (the one access rule of `cloverleaf_auth::teams`, on the event's stored
/// teams)?
fn allowed(claims: &Claims, event: &event::Model, action: Action) -> Result<(), Error> {
    let shared = shared_with(event)?;
    access(claims, EventTeams::new(event.team_id, &shared), action).map_err(|denied| {
        match denied {
            // A published event is public: saying it is not there would be a lie; saying no is not a leak.
            Denied::Hidden if event.published_at.is_some() && action != Action::Read => {
                Problem::forbidden("this event belongs to another team").into()
            }
            denied => denied.problem().into(),
        }
    })
}

/// The event `key` if the caller may do `action` to it: 404 when it is not there or must not be known to exist
/// (another team's draft, another team's private data), 403 when the caller may know of it but not do this.
pub(crate) async fn event_for(
    state: &AppState,
    key: &str,
    claims: &Claims,
    action: Action,
) -> Result<event::Model, Error> {
    let event = events::find(&state.db, key)
        .await?
        .ok_or_else(|| Problem::not_found("This event"))?;
    allowed(claims, &event, action)?;
    Ok(event)
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
