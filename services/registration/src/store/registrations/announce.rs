//! What registration tells other services: the domain events written to the outbox in the transaction of each
//! change (the payload of every `registration.*` event, the erasure notice), and the scrubbing of personal data
//! from stored payloads when a registration is erased.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use super::entities::registration;
use crate::Error;
use crate::domain::registration::{RegistrationChange, Status};
use cloverleaf_contracts::DomainEvent;
use cloverleaf_contracts::events::{RegistrationChanged, RegistrationErased};
use cloverleaf_service_kit::outbox;

/// The payload of every `registration.*` event: enough for notifications to write to the person without asking
/// back, and the registration id to ask more.
pub(super) fn payload(r: &registration::Model, position: Option<i64>) -> RegistrationChanged {
    RegistrationChanged {
        registration_id: r.id,
        event_id: r.event_id,
        status: r.status.as_str().to_owned(),
        email: r.email.clone(),
        name: r.name.clone(),
        locale: r.locale.clone(),
        timezone: r.timezone.clone(),
        waitlist_position: position,
    }
}

pub(super) async fn announce<C: ConnectionTrait>(
    txn: &C,
    change: RegistrationChange,
    r: &registration::Model,
    position: Option<i64>,
    subscribers: &[String],
) -> Result<(), Error> {
    let event = change.event(payload(r, position));
    outbox::enqueue(txn, event.type_name(), r.id, &event, subscribers).await?;
    Ok(())
}

/// The domain event that announces reaching `status` (every status a change can reach has one).
pub(super) fn event_type_of(status: Status) -> Result<RegistrationChange, Error> {
    status
        .event_type()
        .ok_or_else(|| Error::Corrupt(format!("{} is not announced", status.as_str())))
}

/// Announces an erasure. Only ids: every service that holds a copy of the person's data drops it.
pub(super) async fn announce_erased<C: ConnectionTrait>(
    txn: &C,
    erased: &registration::Model,
    subscribers: &[String],
) -> Result<(), Error> {
    let event = DomainEvent::RegistrationErased(RegistrationErased {
        registration_id: erased.id,
        event_id: erased.event_id,
    });
    outbox::enqueue(txn, event.type_name(), erased.id, &event, subscribers).await?;
    Ok(())
}

/// The personal fields of a `registration.*` payload, blanked on erasure.
const PERSONAL: [&str; 3] = cloverleaf_contracts::events::PERSONAL_FIELDS;

/// Blanks the person's data in the stored payloads of this registration's domain events (delivered or not): the
/// outbox keeps what happened, not to whom.
pub(super) async fn scrub_outbox<C: ConnectionTrait>(
    txn: &C,
    registration_id: Uuid,
) -> Result<(), Error> {
    let events = outbox::event::Entity::find()
        .filter(outbox::event::Column::AggregateId.eq(registration_id))
        .all(txn)
        .await?;
    for event in events {
        let mut payload: Value = serde_json::from_str(&event.payload)
            .map_err(|e| Error::Corrupt(format!("outbox payload {}: {e}", event.id)))?;
        let Some(fields) = payload.as_object_mut() else {
            continue;
        };
        let mut changed = false;
        for key in PERSONAL {
            if let Some(value) = fields.get_mut(key)
                && !value.is_null()
            {
                *value = Value::Null;
                changed = true;
            }
        }
        if changed {
            outbox::event::Entity::update_many()
                .col_expr(outbox::event::Column::Payload, payload.to_string().into())
                .filter(outbox::event::Column::Id.eq(event.id))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}
