//! The one access rule (`cloverleaf_auth::teams`) on notifications' own data: an event's messages (its delivery log)
//! and reminders belong to the event, and the event's team is what scheduling says (the contract's `Event.team_id`
//! and `shared_with`), remembered for a few seconds so that a page of the delivery log asks scheduling once.
//! Another team's messages and reminders must not be known to exist: 404; a role that may not: 403.

use std::time::Duration;

use cloverleaf_auth::{Action, Claims, Denied, EventTeams, access};
use cloverleaf_service_kit::Problem;
use moka::future::Cache;
use uuid::Uuid;

use crate::Error;
use crate::directory::Directory;

/// An event's owning team and co-organisers; `None`: scheduling does not know the event.
type Teams = Option<(Option<Uuid>, Vec<Uuid>)>;

/// How long what scheduling said of an event's teams is believed. Only admins move events between teams.
const FRESH_FOR: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct EventTeamsLookup {
    directory: Directory,
    known: Cache<Uuid, Teams>,
}

impl std::fmt::Debug for EventTeamsLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventTeamsLookup").finish_non_exhaustive()
    }
}

impl EventTeamsLookup {
    pub fn new(directory: Directory) -> Self {
        Self {
            directory,
            known: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(FRESH_FOR)
                .build(),
        }
    }

    async fn teams(&self, event_id: Uuid) -> Result<Teams, Error> {
        self.known
            .try_get_with(event_id, async {
                // Each question gets a directory of its own: nothing kept beyond this cache's short life.
                let event = self.directory.scoped().event(event_id).await.map_err(|e| {
                    tracing::warn!(error = %e.0, %event_id, "cannot ask scheduling about an event");
                    Problem::unavailable("scheduling cannot be asked who this event belongs to", 5)
                })?;
                Ok::<_, Problem>(event.map(|e| (e.team_id, e.shared_with)))
            })
            .await
            .map_err(|problem| Error::Problem((*problem).clone()))
    }

    async fn decide(
        &self,
        claims: &Claims,
        event_id: Uuid,
        action: Action,
    ) -> Result<Result<(), Denied>, Error> {
        let (owner, shared) = self
            .teams(event_id)
            .await?
            .ok_or_else(|| Problem::not_found("This event"))?;
        Ok(access(claims, EventTeams::new(owner, &shared), action))
    }

    /// May `claims` do `action` to the data of event `event_id`?
    pub async fn check(
        &self,
        claims: &Claims,
        event_id: Uuid,
        action: Action,
    ) -> Result<(), Error> {
        if claims.sees_all_teams() {
            return Ok(());
        }
        let mut decision = self.decide(claims, event_id, action).await?;
        if decision.is_err() {
            // The remembered teams may predate a share or a move (seconds old): a refusal is decided on fresh ones.
            self.known.invalidate(&event_id).await;
            decision = self.decide(claims, event_id, action).await?;
        }
        decision.map_err(|denied| denied.problem().into())
    }
}
