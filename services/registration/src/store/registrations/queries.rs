//! Reads that change nothing: a form, a registration, waiting-list places, an event's registrations page by page
//! (for lists and the CSV export) and how many are in each status.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entities::{form, registration};
use crate::Error;
use crate::domain::refusal::Refusal;
use crate::domain::registration::Status;
use crate::domain::seats;

pub async fn find_form(
    db: &DatabaseConnection,
    event_id: Uuid,
) -> Result<Option<form::Model>, Error> {
    Ok(form::Entity::find_by_id(event_id).one(db).await?)
}

/// A registration that has not been erased.
pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<registration::Model, Error> {
    registration::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| r.erased_at.is_none())
        .ok_or_else(|| Refusal::RegistrationNotFound.into())
}

/// A participant's place on the waiting list: 1 + how many of the same event wait ahead of them.
pub async fn waitlist_position<C: ConnectionTrait>(
    db: &C,
    r: &registration::Model,
) -> Result<Option<i64>, Error> {
    let Some(seq) = r.waitlist_seq else {
        return Ok(None);
    };
    let ahead = registration::Entity::find()
        .filter(registration::Column::EventId.eq(r.event_id))
        .filter(registration::Column::Status.eq(Status::Waitlisted))
        .filter(registration::Column::WaitlistSeq.lt(seq))
        .count(db)
        .await?;
    Ok(Some(seats::waitlist_position(ahead)))
}

/// Every waiting registration's position (1, 2, 3… in arrival order), for lists.
pub async fn waitlist_positions(
    db: &DatabaseConnection,
    event_id: Uuid,
) -> Result<HashMap<Uuid, i64>, Error> {
    let waiting: Vec<(Uuid, Option<i64>)> = registration::Entity::find()
        .select_only()
        .column(registration::Column::Id)
        .column(registration::Column::WaitlistSeq)
        .filter(registration::Column::EventId.eq(event_id))
        .filter(registration::Column::Status.eq(Status::Waitlisted))
        .order_by_asc(registration::Column::WaitlistSeq)
        .into_tuple()
        .all(db)
        .await?;
    Ok(seats::waitlist_positions(waiting.into_iter().map(|(id, _)| id)).collect())
}

/// Registrations of an event, oldest first, optionally of one status; paged by id (UUIDv7: arrival order).
pub async fn list(
    db: &DatabaseConnection,
    event_id: Uuid,
    status: Option<Status>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<registration::Model>, Error> {
    let mut query = registration::Entity::find().filter(registration::Column::EventId.eq(event_id));
    if let Some(status) = status {
        query = query.filter(registration::Column::Status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(registration::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(registration::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// The door list: every registration of an event that is not erased, by name (a few hundred at most for an event
/// with a door; webinars have none).
pub async fn door_list(
    db: &DatabaseConnection,
    event_id: Uuid,
) -> Result<Vec<registration::Model>, Error> {
    Ok(registration::Entity::find()
        .filter(registration::Column::EventId.eq(event_id))
        .filter(registration::Column::ErasedAt.is_null())
        .order_by_asc(registration::Column::Name)
        .order_by_asc(registration::Column::Id)
        .all(db)
        .await?)
}

/// How many registrations of an event are in each status (the stored status names, as the list shows them).
pub async fn counts(db: &DatabaseConnection, event_id: Uuid) -> Result<Vec<(String, i64)>, Error> {
    Ok(registration::Entity::find()
        .select_only()
        .column(registration::Column::Status)
        .column_as(registration::Column::Id.count(), "n")
        .filter(registration::Column::EventId.eq(event_id))
        .group_by(registration::Column::Status)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?)
}
