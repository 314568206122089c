//! The one access rule (`cloverleaf_auth::teams`) on registration's own data: forms, registrations, their exports
//! and check-ins belong to an event, and the event's team is what scheduling says it is (the contract's
//! `Event.team_id` and `shared_with`, through the briefly cached [`crate::scheduling::EventDirectory`]) — never what
//! the caller's page says.
//!
//! Another team's registrations are private data whose existence must not leak: denied as 404, like a registration
//! that is not there. A member of the event's team whose role does not allow the action gets 403.

use cloverleaf_auth::{Action, Claims, EventTeams, access};
use cloverleaf_service_kit::Problem;
use uuid::Uuid;

use super::AppState;
use crate::Error;
use crate::scheduling::EventSummary;

/// May `claims` do `action` to the data of event `event_id`?
pub(crate) async fn check(
    state: &AppState,
    claims: &Claims,
    event_id: Uuid,
    action: Action,
) -> Result<(), Error> {
    if claims.sees_all_teams() {
        return Ok(());
    }
    let event = state
        .events
        .event(event_id)
        .await?
        .ok_or_else(|| Problem::not_found("This event"))?;
    match permit(claims, &event, action) {
        Ok(()) => Ok(()),
        // The remembered answer may predate a share or a move (seconds old): a refusal is decided on a fresh one.
        Err(_) => {
            let fresh = state
                .events
                .fetch(event_id)
                .await?
                .ok_or_else(|| Problem::not_found("This event"))?;
            permit(claims, &fresh, action)
        }
    }
}

/// The same rule on an event already fetched from scheduling.
pub(crate) fn permit(claims: &Claims, event: &EventSummary, action: Action) -> Result<(), Error> {
    access(
        claims,
        EventTeams::new(event.team_id, &event.shared_with),
        action,
    )
    .map_err(|denied| denied.problem().into())
}
