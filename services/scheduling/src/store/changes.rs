//! Changes to a published event that both events and agenda items make: the event locked for the transaction, the
//! change history and the `event.updated` it announces. Here, below `events` and `items`, so neither imports the other.

use chrono::{DateTime, Utc};
use sea_orm::ActiveEnum;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::entities::{event, event_change};
use super::{Actor, Subscribers};
use crate::Error;
use crate::domain::event::{ChangeAction, FieldChange};
use crate::domain::fields::slug;
use cloverleaf_contracts::DomainEvent;
use cloverleaf_contracts::events::EventUpdated;
use cloverleaf_service_kit::{Problem, outbox};

/// The event, locked for the rest of the transaction so that changes to it queue up.
pub(crate) async fn lock<C: ConnectionTrait>(db: &C, key: &str) -> Result<event::Model, Error> {
    let query = match key.parse::<Uuid>() {
        Ok(id) => event::Entity::find_by_id(id),
        Err(_) if slug(key).is_err() => return Err(Problem::not_found("This event").into()),
        Err(_) => event::Entity::find().filter(event::Column::Slug.eq(key)),
    };
    query
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found("This event").into())
}

/// One change after publishing: written to the history and announced as `event.updated`, in the caller's
/// transaction.
pub(crate) struct ChangeRecord<'a> {
    pub event_id: Uuid,
    pub item_id: Option<Uuid>,
    pub action: ChangeAction,
    pub changes: Vec<FieldChange>,
    pub calendar_visible: bool,
    pub sequence: i32,
    pub actor: &'a Actor,
    pub at: DateTime<Utc>,
}

pub(crate) async fn record_change<C: ConnectionTrait>(
    txn: &C,
    record: ChangeRecord<'_>,
    subscribers: &Subscribers,
) -> Result<Uuid, Error> {
    let change_id = write_history(txn, &record).await?;
    let event = DomainEvent::EventUpdated(EventUpdated {
        event_id: record.event_id,
        sequence: record.sequence,
        action: record.action.to_value(),
        changed_fields: record.changes.iter().map(|c| c.field.clone()).collect(),
        item_ids: record.item_id.into_iter().collect(),
        calendar_visible: record.calendar_visible,
        changes: record.changes,
        change_id,
    });
    outbox::enqueue(txn, event.type_name(), record.event_id, &event, subscribers).await?;
    Ok(change_id)
}

pub(crate) async fn write_history<C: ConnectionTrait>(
    txn: &C,
    record: &ChangeRecord<'_>,
) -> Result<Uuid, Error> {
    let id = Uuid::now_v7();
    let changes = serde_json::to_string(&record.changes)
        .map_err(|e| Error::Corrupt(format!("change record: {e}")))?;
    event_change::ActiveModel {
        id: Set(id),
        event_id: Set(record.event_id),
        item_id: Set(record.item_id),
        action: Set(record.action),
        changes: Set(changes),
        calendar_visible: Set(record.calendar_visible),
        sequence: Set(record.sequence),
        changed_by: Set(record.actor.subject.clone()),
        changed_at: Set(record.at),
    }
    .insert(txn)
    .await?;
    Ok(id)
}
