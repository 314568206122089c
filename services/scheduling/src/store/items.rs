//! Agenda items: adding, changing and removing them (with history and `event.updated` once the event is
//! published), reading an event's agenda, and gathering what the conflict rules need.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::changes::{ChangeRecord, lock, record_change};
use super::entities::{agenda_item, event, item_speaker, person, room};
use super::{Actor, Subscribers, event_details, item_details};
use crate::Error;
use crate::domain::agenda::{self, EventFrame, ItemDetails, ItemInput, ItemPatch};
use crate::domain::conflicts::Scheduled;
use crate::domain::event::{ChangeAction, EventStatus, FieldChange, calendar_visible, diff};
use crate::domain::time::TimeZone;
use cloverleaf_service_kit::{FieldError, Problem, db};

/// An item with its speakers, as stored.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub model: agenda_item::Model,
    pub speakers: Vec<Uuid>,
}

impl StoredItem {
    pub fn details(&self) -> Result<ItemDetails, Error> {
        item_details(&self.model, self.speakers.clone())
    }
}

/// The event locked for an agenda change, refusing cancelled events.
async fn lock_for_agenda<C: ConnectionTrait>(
    txn: &C,
    key: &str,
) -> Result<(event::Model, EventFrame, bool), Error> {
    let event = lock(txn, key).await?;
    let status = event.status;
    if status == EventStatus::Cancelled {
        return Err(Problem::conflict(
            "event-cancelled",
            "a cancelled event's agenda cannot change",
        )
        .into());
    }
    let details = event_details(&event)?;
    let frame = EventFrame {
        timezone: details.timezone,
        span: details.span,
    };
    Ok((event, frame, status == EventStatus::Published))
}

/// People and rooms named by an item must exist: an unknown one is a 422 naming the field.
async fn check_references<C: ConnectionTrait>(txn: &C, item: &ItemDetails) -> Result<(), Error> {
    let mut errors = Vec::new();
    let mut wanted: Vec<(String, Uuid)> = item
        .speakers
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("speakers[{i}]"), *id))
        .collect();
    if let Some(host) = item.host {
        wanted.push(("host".into(), host));
    }
    if !wanted.is_empty() {
        let known: Vec<Uuid> = person::Entity::find()
            .filter(person::Column::Id.is_in(wanted.iter().map(|(_, id)| *id)))
            .all(txn)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        for (field, id) in wanted {
            if !known.contains(&id) {
                errors.push(FieldError::new(
                    field,
                    "unknown_person",
                    format!("no person has the id {id}"),
                ));
            }
        }
    }
    if let Some(room_id) = item.room_id
        && room::Entity::find_by_id(room_id).one(txn).await?.is_none()
    {
        errors.push(FieldError::new(
            "room_id",
            "unknown_room",
            format!("no room has the id {room_id}"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::invalid(errors).into())
    }
}

fn set_item(
    model: &mut agenda_item::ActiveModel,
    item: &ItemDetails,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    model.kind = Set(item.kind);
    model.title = Set(item.title.clone());
    model.title_zh = Set(item.title_zh.clone());
    model.starts_at = Set(item.span.starts_at);
    model.ends_at = Set(item.span.ends_at);
    model.timezone = Set(item.timezone.map(|z| z.name().to_owned()));
    model.end_timezone = Set(item.end_timezone.map(|z| z.name().to_owned()));
    model.description = Set(item.description.clone());
    model.description_zh = Set(item.description_zh.clone());
    model.location = Set(item.location.clone());
    model.room_id = Set(item.room_id);
    model.host_id = Set(item.host);
    model.details = Set(match &item.details {
        None => None,
        Some(details) => Some(
            serde_json::to_string(details)
                .map_err(|e| Error::Corrupt(format!("item details: {e}")))?,
        ),
    });
    model.updated_at = Set(now);
    Ok(())
}

async fn write_speakers<C: ConnectionTrait>(
    txn: &C,
    item_id: Uuid,
    speakers: &[Uuid],
) -> Result<(), Error> {
    item_speaker::Entity::delete_many()
        .filter(item_speaker::Column::ItemId.eq(item_id))
        .exec(txn)
        .await?;
    if speakers.is_empty() {
        return Ok(());
    }
    let rows = speakers
        .iter()
        .enumerate()
        .map(|(i, person_id)| item_speaker::ActiveModel {
            item_id: Set(item_id),
            person_id: Set(*person_id),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
        });
    item_speaker::Entity::insert_many(rows).exec(txn).await?;
    Ok(())
}

/// Raises the event's sequence (one calendar-visible change) and returns the new value.
async fn bump_event<C: ConnectionTrait>(
    txn: &C,
    event: event::Model,
    visible: bool,
    now: DateTime<Utc>,
) -> Result<i32, Error> {
    let sequence = event.sequence + i32::from(visible);
    let mut model: event::ActiveModel = event.into();
    model.sequence = Set(sequence);
    model.updated_at = Set(now);
    model.update(txn).await?;
    Ok(sequence)
}

pub async fn add(
    db: &DatabaseConnection,
    event_key: &str,
    input: ItemInput,
    actor: &Actor,
    subscribers: &Subscribers,
) -> Result<StoredItem, Error> {
    let txn = db::begin_write(db).await?;
    let (event, frame, published) = lock_for_agenda(&txn, event_key).await?;
    let item = input.validate(&frame)?;
    check_references(&txn, &item).await?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let mut model = agenda_item::ActiveModel {
        id: Set(id),
        event_id: Set(event.id),
        sequence: Set(0),
        created_at: Set(now),
        ..Default::default()
    };
    set_item(&mut model, &item, now)?;
    let inserted = model.insert(&txn).await?;
    write_speakers(&txn, id, &item.speakers).await?;
    let event_id = event.id;
    let sequence = bump_event(&txn, event, published, now).await?;
    if published {
        let changes = item
            .field_values(frame.timezone)
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(field, after)| FieldChange {
                field: field.to_owned(),
                before: json!(null),
                after,
            })
            .collect();
        record_change(
            &txn,
            ChangeRecord {
                event_id,
                item_id: Some(id),
                action: ChangeAction::ItemAdded,
                changes,
                calendar_visible: true,
                sequence,
                actor,
                at: now,
            },
            subscribers,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(StoredItem {
        model: inserted,
        speakers: item.speakers,
    })
}

async fn find_in_event<C: ConnectionTrait>(
    txn: &C,
    event_id: Uuid,
    item_id: Uuid,
) -> Result<StoredItem, Error> {
    let model = agenda_item::Entity::find_by_id(item_id)
        .filter(agenda_item::Column::EventId.eq(event_id))
        .one(txn)
        .await?
        .ok_or_else(|| Error::from(Problem::not_found("This agenda item")))?;
    let speakers = speakers_of(txn, &[item_id])
        .await?
        .remove(&item_id)
        .unwrap_or_default();
    Ok(StoredItem { model, speakers })
}

pub async fn update(
    db: &DatabaseConnection,
    event_key: &str,
    item_id: Uuid,
    patch: ItemPatch,
    actor: &Actor,
    subscribers: &Subscribers,
) -> Result<StoredItem, Error> {
    let txn = db::begin_write(db).await?;
    let (event, frame, published) = lock_for_agenda(&txn, event_key).await?;
    let current = find_in_event(&txn, event.id, item_id).await?;
    let before = current.details()?;
    let after = patch.apply(&before).validate(&frame)?;
    check_references(&txn, &after).await?;
    let changes = diff(
        &before.field_values(frame.timezone),
        &after.field_values(frame.timezone),
    );
    if changes.is_empty() {
        return Ok(current);
    }
    let now = Utc::now();
    let visible = published && calendar_visible(&changes, &agenda::CALENDAR_FIELDS);
    let item_sequence = current.model.sequence + i32::from(visible);
    let mut model: agenda_item::ActiveModel = current.model.into();
    set_item(&mut model, &after, now)?;
    model.sequence = Set(item_sequence);
    let updated = model.update(&txn).await?;
    write_speakers(&txn, item_id, &after.speakers).await?;
    let event_id = event.id;
    let sequence = bump_event(&txn, event, visible, now).await?;
    if published {
        record_change(
            &txn,
            ChangeRecord {
                event_id,
                item_id: Some(item_id),
                action: ChangeAction::ItemUpdated,
                changes,
                calendar_visible: visible,
                sequence,
                actor,
                at: now,
            },
            subscribers,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(StoredItem {
        model: updated,
        speakers: after.speakers,
    })
}

pub async fn remove(
    db: &DatabaseConnection,
    event_key: &str,
    item_id: Uuid,
    actor: &Actor,
    subscribers: &Subscribers,
) -> Result<(), Error> {
    let txn = db::begin_write(db).await?;
    let (event, frame, published) = lock_for_agenda(&txn, event_key).await?;
    let current = find_in_event(&txn, event.id, item_id).await?;
    let before = current.details()?;
    current.model.delete(&txn).await?;
    let now = Utc::now();
    let event_id = event.id;
    let sequence = bump_event(&txn, event, published, now).await?;
    if published {
        let changes = before
            .field_values(frame.timezone)
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(field, before)| FieldChange {
                field: field.to_owned(),
                before,
                after: json!(null),
            })
            .collect();
        record_change(
            &txn,
            ChangeRecord {
                event_id,
                item_id: Some(item_id),
                action: ChangeAction::ItemRemoved,
                changes,
                calendar_visible: true,
                sequence,
                actor,
                at: now,
            },
            subscribers,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The speakers of each item, in their order.
pub async fn speakers_of<C: ConnectionTrait>(
    db: &C,
    item_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, Error> {
    let mut by_item: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    // Chunks keep the IN list well below the databases' parameter limits.
    for chunk in item_ids.chunks(500) {
        let rows = item_speaker::Entity::find()
            .filter(item_speaker::Column::ItemId.is_in(chunk.iter().copied()))
            .order_by_asc(item_speaker::Column::Position)
            .all(db)
            .await?;
        for row in rows {
            by_item.entry(row.item_id).or_default().push(row.person_id);
        }
    }
    Ok(by_item)
}

/// An event's agenda in time order, with speakers: two queries, whatever its length.
pub async fn of_event<C: ConnectionTrait>(
    db: &C,
    event_id: Uuid,
) -> Result<Vec<StoredItem>, Error> {
    let models = agenda_item::Entity::find()
        .filter(agenda_item::Column::EventId.eq(event_id))
        .order_by_asc(agenda_item::Column::StartsAt)
        .order_by_asc(agenda_item::Column::Id)
        .all(db)
        .await?;
    with_speakers(db, models).await
}

async fn with_speakers<C: ConnectionTrait>(
    db: &C,
    models: Vec<agenda_item::Model>,
) -> Result<Vec<StoredItem>, Error> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut speakers = speakers_of(db, &ids).await?;
    Ok(models
        .into_iter()
        .map(|model| {
            let speakers = speakers.remove(&model.id).unwrap_or_default();
            StoredItem { model, speakers }
        })
        .collect())
}

pub async fn one(
    db: &DatabaseConnection,
    event_id: Uuid,
    item_id: Uuid,
) -> Result<StoredItem, Error> {
    find_in_event(db, event_id, item_id).await
}

/// Every item of an event's agenda for the conflict rules, and the items of other events that are not cancelled
/// and overlap the agenda's time range.
pub async fn for_conflicts(
    db: &DatabaseConnection,
    event: &event::Model,
) -> Result<(Vec<Scheduled>, Vec<Scheduled>), Error> {
    let own = of_event(db, event.id).await?;
    let Some(first) = own.iter().map(|i| i.model.starts_at).min() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let last = own.iter().map(|i| i.model.ends_at).max().unwrap_or(first);
    let cancelled: Vec<Uuid> = event::Entity::find()
        .filter(event::Column::Status.eq(EventStatus::Cancelled))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut query = agenda_item::Entity::find()
        .filter(agenda_item::Column::EventId.ne(event.id))
        .filter(agenda_item::Column::StartsAt.lt(last))
        .filter(agenda_item::Column::EndsAt.gt(first));
    if !cancelled.is_empty() {
        query = query.filter(agenda_item::Column::EventId.is_not_in(cancelled));
    }
    let others = with_speakers(db, query.all(db).await?).await?;
    let scheduled = |items: Vec<StoredItem>| -> Result<Vec<Scheduled>, Error> {
        items
            .into_iter()
            .map(|item| {
                let details = item.details()?;
                Ok(Scheduled {
                    id: item.model.id,
                    event_id: item.model.event_id,
                    kind: details.kind,
                    title: details.title.clone(),
                    span: details.span,
                    room_id: details.room_id,
                    people: details.people(),
                    city: details.visit().and_then(|v| v.city.clone()),
                    route: details
                        .transfer()
                        .and_then(|t| t.from.clone().zip(t.to.clone())),
                    missing: details.missing(),
                })
            })
            .collect()
    };
    Ok((scheduled(own)?, scheduled(others)?))
}

/// Moves every item of an event by `by` (its event moved and took its agenda along), in the caller's transaction
/// under the event's lock; after publishing each item's own sequence rises, as its feed entry moves. Returns how
/// many items moved.
pub(crate) async fn move_all<C: ConnectionTrait>(
    txn: &C,
    event_id: Uuid,
    by: chrono::TimeDelta,
    published: bool,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let models = agenda_item::Entity::find()
        .filter(agenda_item::Column::EventId.eq(event_id))
        .all(txn)
        .await?;
    let count = models.len();
    for model in models {
        let (Some(starts_at), Some(ends_at)) = (
            model.starts_at.checked_add_signed(by),
            model.ends_at.checked_add_signed(by),
        ) else {
            return Err(Problem::invalid(vec![FieldError::new(
                "starts_at",
                "out_of_range",
                "moves the agenda beyond the dates a calendar can hold",
            )])
            .into());
        };
        let sequence = model.sequence + i32::from(published);
        let mut active: agenda_item::ActiveModel = model.into();
        active.starts_at = Set(starts_at);
        active.ends_at = Set(ends_at);
        active.sequence = Set(sequence);
        active.updated_at = Set(now);
        active.update(txn).await?;
    }
    Ok(count)
}

/// An item's id, event, end, zone and end zone: what [`last_end_zones`] reads.
type EndRow = (Uuid, Uuid, DateTime<Utc>, Option<String>, Option<String>);

/// For each event, the zone in which its last-ending agenda item ends (the item's `end_timezone`, else its own
/// zone, else the event's): what an event's end is shown in when no end zone is set. Events without items are
/// absent. One query for all of them.
pub async fn last_end_zones<C: ConnectionTrait>(
    db: &C,
    events: &[event::Model],
) -> Result<HashMap<Uuid, TimeZone>, Error> {
    let mut zones = HashMap::new();
    for chunk in events.chunks(500) {
        let rows: Vec<EndRow> = agenda_item::Entity::find()
            .select_only()
            .column(agenda_item::Column::Id)
            .column(agenda_item::Column::EventId)
            .column(agenda_item::Column::EndsAt)
            .column(agenda_item::Column::Timezone)
            .column(agenda_item::Column::EndTimezone)
            .filter(agenda_item::Column::EventId.is_in(chunk.iter().map(|e| e.id)))
            .into_tuple()
            .all(db)
            .await?;
        let mut last: HashMap<Uuid, (DateTime<Utc>, Uuid, Option<String>)> = HashMap::new();
        for (id, event_id, ends_at, zone, end_zone) in rows {
            let later = last
                .get(&event_id)
                .is_none_or(|(at, other, _)| (ends_at, id) > (*at, *other));
            if later {
                last.insert(event_id, (ends_at, id, end_zone.or(zone)));
            }
        }
        for event in chunk {
            let Some((_, item_id, zone)) = last.remove(&event.id) else {
                continue;
            };
            let zone = match zone {
                Some(name) => TimeZone::parse(&name)
                    .map_err(|_| super::corrupt("item end timezone", item_id))?,
                None => TimeZone::parse(&event.timezone)
                    .map_err(|_| super::corrupt("timezone", event.id))?,
            };
            zones.insert(event.id, zone);
        }
    }
    Ok(zones)
}
