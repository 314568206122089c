//! The batch writer: new registrations, several per transaction (group commit) with a fixed number of statements
//! for the whole batch — the hot path of registering. [`register_batch`] decides each request under the forms'
//! locks with the seat rules ([`Seats`]) and writes them all; [`register`] writes one alone (the desk's fallback);
//! [`replay`] answers a retry sent with the same `Idempotency-Key`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::announce::{event_type_of, payload};
use super::entities::{form, idempotency, registration};
use super::queries::waitlist_position;
use crate::Error;
use crate::domain::refusal::Refusal;
use crate::domain::registration::{MANAGE_LINK_REQUESTED, Participant, Status};
use crate::domain::seats::{self, Place, Seats};
use cloverleaf_service_kit::{db, outbox};

/// The answer to registering.
#[derive(Debug)]
pub enum Registered {
    New {
        registration: registration::Model,
        position: Option<i64>,
    },
    /// The address already holds a registration for this event; its owner is sent a fresh manage link.
    AlreadyRegistered,
    /// A retry of a request already answered (same `Idempotency-Key` and body).
    Replayed {
        registration: registration::Model,
        position: Option<i64>,
        status_code: i32,
    },
}

/// The `Idempotency-Key` of a request and a hash of its body.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// The stored answer to a request sent before with this `Idempotency-Key`, if any; a different body is refused.
pub async fn replay<C: ConnectionTrait>(
    txn: &C,
    key: &IdempotencyKey,
) -> Result<Option<Registered>, Error> {
    let Some(stored) = idempotency::Entity::find_by_id(key.key.clone())
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    if stored.request_hash != key.request_hash {
        return Err(Refusal::IdempotencyKeyReused.into());
    }
    let registration = registration::Entity::find_by_id(stored.registration_id)
        .one(txn)
        .await?
        .ok_or_else(|| {
            Error::Corrupt(format!(
                "idempotency key {} lost its registration",
                stored.key
            ))
        })?;
    let position = waitlist_position(txn, &registration).await?;
    Ok(Some(Registered::Replayed {
        registration,
        position,
        status_code: stored.status_code,
    }))
}

/// The row of a new registration, not yet written.
fn new_registration(
    event_id: Uuid,
    participant: Participant,
    email_key: String,
    place: Place,
    now: DateTime<Utc>,
) -> Result<registration::Model, Error> {
    let answers = serde_json::to_string(&participant.answers)
        .map_err(|e| Error::Corrupt(format!("answers: {e}")))?;
    Ok(registration::Model {
        id: Uuid::now_v7(),
        event_id,
        email: Some(participant.email.as_str().to_owned()),
        email_key: Some(email_key),
        name: Some(participant.name),
        affiliation: participant.affiliation,
        country: participant.country,
        answers: Some(answers),
        locale: participant.locale,
        timezone: participant.timezone,
        status: place.status,
        waitlist_seq: place.waitlist_seq,
        consent_at: now,
        created_at: now,
        updated_at: now,
        confirmed_at: (place.status == Status::Confirmed).then_some(now),
        cancelled_at: None,
        checked_in_at: None,
        erased_at: None,
    })
}

/// Registers one participant alone, in a transaction of its own: a batch of one, so the rules live in one place
/// ([`register_batch`]). The desk's fallback when a batch's transaction fails.
pub async fn register(
    db: &DatabaseConnection,
    request: NewRegistration,
    subscribers: &[String],
) -> Result<Registered, Error> {
    register_batch(db, std::slice::from_ref(&request), subscribers)
        .await?
        .pop()
        .ok_or_else(|| Error::Corrupt("a batch of one gave no answer".into()))?
}

/// One request to register, as [`register_batch`] takes them.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub event_id: Uuid,
    pub event_starts_at: DateTime<Utc>,
    pub participant: Participant,
    pub idempotency_key: Option<IdempotencyKey>,
    /// The `x-request-id` of the request, carried into the outbox event.
    pub request_id: Option<String>,
}

/// An answer decided in a batch, before the batch is written.
enum Decided {
    New(registration::Model),
    /// The address already holds this registration of the event (perhaps made earlier in this batch): its owner is
    /// sent a fresh manage link, the caller learns nothing more.
    AlreadyRegistered(registration::Model),
    /// The same key as an earlier request in this batch, answered like a retry of it.
    SameAsEarlier(usize),
    Answered(Result<Registered, Error>),
}

/// Registers many participants, possibly for several events, in **one** transaction (group commit): the same
/// decisions, in the given order, as calling [`register`] for each, but with a fixed number of statements for the
/// whole batch — one read of the forms (locked, in event-id order so that concurrent batches cannot deadlock), of the
/// idempotency keys and of the addresses already registered, one INSERT for all the registrations, one UPDATE per
/// form, one INSERT for the outbox events and their deliveries, one for the idempotency keys — instead of about ten
/// per registration. Each request gets its own answer; a refusal (full, closed, already registered…) writes nothing
/// for that request and does not affect the others.
///
/// An `Err` means the batch's transaction failed and nothing of it was written: the caller should try each request
/// alone with [`register`], so that one bad request cannot fail its neighbours.
pub async fn register_batch(
    db: &DatabaseConnection,
    requests: &[NewRegistration],
    subscribers: &[String],
) -> Result<Vec<Result<Registered, Error>>, Error> {
    let txn = db::begin_write(db).await?;
    let now = Utc::now();

    let mut event_ids: Vec<Uuid> = requests.iter().map(|r| r.event_id).collect();
    event_ids.sort();
    event_ids.dedup();
    // Each form's seat rules and counters, taken in memory request by request and written back once per form.
    let mut forms: HashMap<Uuid, Seats> = form::Entity::find()
        .filter(form::Column::EventId.is_in(event_ids.clone()))
        .order_by_asc(form::Column::EventId)
        .lock_exclusive()
        .all(&txn)
        .await?
        .into_iter()
        .map(|form| (form.event_id, form.seats()))
        .collect();

    // Read under the form locks: a request with the same key for the same event that committed while this batch
    // waited for them is answered as a retry, not found again as a duplicate address.
    let keys: Vec<String> = requests
        .iter()
        .filter_map(|r| r.idempotency_key.as_ref().map(|k| k.key.clone()))
        .collect();
    let stored_keys: HashMap<String, idempotency::Model> = if keys.is_empty() {
        HashMap::new()
    } else {
        idempotency::Entity::find()
            .filter(idempotency::Column::Key.is_in(keys))
            .all(&txn)
            .await?
            .into_iter()
            .map(|k| (k.key.clone(), k))
            .collect()
    };

    // Active registrations of these events by these addresses (a superset: the pairs are matched below).
    let email_keys: Vec<String> = requests.iter().map(|r| r.participant.email.key()).collect();
    let mut holders: HashMap<(Uuid, String), registration::Model> = registration::Entity::find()
        .filter(registration::Column::EventId.is_in(event_ids))
        .filter(registration::Column::EmailKey.is_in(email_keys))
        .filter(registration::Column::Status.is_in([
            Status::Confirmed,
            Status::Waitlisted,
            Status::PendingApproval,
        ]))
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|r| Some(((r.event_id, r.email_key.clone()?), r)))
        .collect();

    let mut decided: Vec<Decided> = Vec::with_capacity(requests.len());
    let mut keys_in_batch: HashMap<&str, usize> = HashMap::new();
    let mut touched: Vec<Uuid> = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        if let Some(key) = &request.idempotency_key {
            if let Some(stored) = stored_keys.get(&key.key) {
                // Committed before this batch: answered as a retry (or refused, with another body).
                let answer = if stored.request_hash == key.request_hash {
                    replay(&txn, key).await.and_then(|r| {
                        r.ok_or_else(|| Error::Corrupt(format!("idempotency key {}", key.key)))
                    })
                } else {
                    Err(Refusal::IdempotencyKeyReused.into())
                };
                decided.push(Decided::Answered(answer));
                continue;
            }
            if let Some(&earlier) = keys_in_batch.get(key.key.as_str()) {
                let same_body = requests[earlier]
                    .idempotency_key
                    .as_ref()
                    .is_some_and(|k| k.request_hash == key.request_hash);
                decided.push(if same_body {
                    Decided::SameAsEarlier(earlier)
                } else {
                    Decided::Answered(Err(Refusal::IdempotencyKeyReused.into()))
                });
                continue;
            }
            keys_in_batch.insert(key.key.as_str(), index);
        }
        let Some(seats) = forms.get_mut(&request.event_id) else {
            decided.push(Decided::Answered(Err(Refusal::FormNotFound.into())));
            continue;
        };
        // Decided under the form's lock, as the cancellation is: a registration either came first (and was ended
        // with the others) or comes after and is refused — never left confirmed.
        if let Err(refused) = seats.admit(request.event_starts_at, now) {
            decided.push(Decided::Answered(Err(refused.into())));
            continue;
        }
        let email_key = request.participant.email.key();
        if let Some(holder) = holders.get(&(request.event_id, email_key.clone())) {
            decided.push(Decided::AlreadyRegistered(holder.clone()));
            continue;
        }
        let place = match seats.place_new() {
            Ok(place) => place,
            Err(refused) => {
                decided.push(Decided::Answered(Err(refused.into())));
                continue;
            }
        };
        let registration = new_registration(
            request.event_id,
            request.participant.clone(),
            email_key.clone(),
            place,
            now,
        )?;
        if !touched.contains(&request.event_id) {
            touched.push(request.event_id);
        }
        holders.insert((request.event_id, email_key), registration.clone());
        decided.push(Decided::New(registration));
    }

    // Waiting-list places: everyone already waiting is ahead of this batch's newcomers, who follow in order.
    let mut waiting: HashMap<Uuid, u64> = HashMap::new();
    for decision in &decided {
        if let Decided::New(r) = decision
            && r.waitlist_seq.is_some()
            && !waiting.contains_key(&r.event_id)
        {
            let already = registration::Entity::find()
                .filter(registration::Column::EventId.eq(r.event_id))
                .filter(registration::Column::Status.eq(Status::Waitlisted))
                .count(&txn)
                .await?;
            waiting.insert(r.event_id, already);
        }
    }
    let mut positions: Vec<Option<i64>> = Vec::with_capacity(decided.len());
    for decision in &decided {
        positions.push(match decision {
            Decided::New(r) if r.waitlist_seq.is_some() => {
                let ahead = waiting.entry(r.event_id).or_insert(0);
                let position = seats::waitlist_position(*ahead);
                *ahead += 1;
                Some(position)
            }
            _ => None,
        });
    }

    let new_rows: Vec<registration::ActiveModel> = decided
        .iter()
        .filter_map(|d| match d {
            Decided::New(r) => Some(registration::ActiveModel::from(r.clone())),
            _ => None,
        })
        .collect();
    // Nineteen columns a row: chunks stay below SQLite's limit on bound parameters.
    for chunk in new_rows.chunks(500) {
        registration::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(&txn)
            .await?;
    }
    for event_id in &touched {
        if let Some(seats) = forms.get(event_id) {
            form::Entity::update_many()
                .col_expr(form::Column::ConfirmedCount, seats.confirmed().into())
                .col_expr(
                    form::Column::NextWaitlistSeq,
                    seats.next_waitlist_seq().into(),
                )
                .filter(form::Column::EventId.eq(*event_id))
                .exec(&txn)
                .await?;
        }
    }

    // In request order: a manage link for a registration made earlier in this batch follows its confirmation.
    let mut events = Vec::new();
    let mut fresh_keys = Vec::new();
    for ((decision, position), request) in decided.iter().zip(&positions).zip(requests) {
        if let Decided::AlreadyRegistered(holder) = decision {
            events.push(outbox::NewEvent {
                event_type: MANAGE_LINK_REQUESTED.type_name(),
                aggregate_id: holder.id,
                payload: payload(holder, None),
                request_id: request.request_id.clone(),
            });
        }
        if let Decided::New(r) = decision {
            events.push(outbox::NewEvent {
                event_type: event_type_of(r.status)?.type_name(),
                aggregate_id: r.id,
                payload: payload(r, *position),
                request_id: request.request_id.clone(),
            });
            if let Some(key) = &request.idempotency_key {
                fresh_keys.push(idempotency::ActiveModel {
                    key: Set(key.key.clone()),
                    request_hash: Set(key.request_hash.clone()),
                    registration_id: Set(r.id),
                    status_code: Set(201),
                    created_at: Set(now),
                });
            }
        }
    }
    outbox::enqueue_many(&txn, &events, subscribers).await?;
    for chunk in fresh_keys.chunks(500) {
        idempotency::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;

    let mut answers: Vec<Result<Registered, Error>> = Vec::with_capacity(decided.len());
    for (decision, position) in decided.into_iter().zip(positions) {
        let answer = match decision {
            Decided::New(registration) => Ok(Registered::New {
                registration,
                position,
            }),
            Decided::SameAsEarlier(earlier) => match answers.get(earlier) {
                Some(Ok(Registered::New {
                    registration,
                    position,
                })) => Ok(Registered::Replayed {
                    registration: registration.clone(),
                    position: *position,
                    status_code: 201,
                }),
                // The first was refused and wrote nothing: so is its retry.
                Some(Err(Error::Refused(refusal))) => Err(refusal.clone().into()),
                _ => Err(Error::Corrupt("an earlier answer in the batch".into())),
            },
            Decided::AlreadyRegistered(_) => Ok(Registered::AlreadyRegistered),
            Decided::Answered(answer) => answer,
        };
        answers.push(answer);
    }
    Ok(answers)
}
