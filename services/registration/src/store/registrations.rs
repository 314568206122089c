//! Forms and registrations: where seats are counted.
//!
//! **Seats are never oversold.** Every change that can take or free a seat runs in one write transaction that first
//! locks the event's form row (PostgreSQL `SELECT … FOR UPDATE`; SQLite `BEGIN IMMEDIATE`, one writer at a time), then
//! reads the confirmed count, decides, writes the registration, the form's counters and the outbox rows, and
//! commits. Cancelling frees the seat and promotes the first of the waiting list in that same transaction.
//! Waiting-list order is the arrival order (`waitlist_seq`, handed out from the form under the lock); positions are
//! computed from it, so they stay distinct and gap-free whoever leaves.
//!
//! New registrations arrive through [`super::desk`], which writes several per transaction with [`register_batch`];
//! [`register`] writes one alone (the desk's fallback when a batch fails).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::Error;
use crate::domain::forms::{Approval, FormSettings, Question};
use crate::domain::registration::{
    MANAGE_LINK_REQUESTED, PROMOTED, Participant, Placement, RegistrationChange, Status,
    free_seats, place_approved, place_new,
};
use cloverleaf_contracts::DomainEvent;
use cloverleaf_contracts::events::{RegistrationChanged, RegistrationErased};
use cloverleaf_service_kit::{Problem, db, outbox};

pub mod form {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "forms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        /// `None`: no limit.
        pub capacity: Option<i32>,
        pub waitlist: bool,
        pub approval: String,
        pub opens_at: Option<DateTimeUtc>,
        /// `None`: the event's start.
        pub closes_at: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text")]
        pub questions: String,
        /// Confirmed registrations, kept under the form's lock.
        pub confirmed_count: i32,
        /// The next waiting-list ticket (arrival order).
        pub next_waitlist_seq: i64,
        /// When scheduling's `event.cancelled` ended the event's registrations; from then on nobody registers.
        pub event_cancelled_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod registration {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "registrations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_id: Uuid,
        /// As typed; `None` once erased.
        pub email: Option<String>,
        /// Lower-case: "the same email" for one event. `None` once erased.
        pub email_key: Option<String>,
        pub name: Option<String>,
        pub affiliation: Option<String>,
        pub country: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub answers: Option<String>,
        pub locale: String,
        pub timezone: Option<String>,
        pub status: String,
        /// Arrival order on the waiting list while waitlisted.
        pub waitlist_seq: Option<i64>,
        pub consent_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub confirmed_at: Option<DateTimeUtc>,
        pub cancelled_at: Option<DateTimeUtc>,
        pub checked_in_at: Option<DateTimeUtc>,
        pub erased_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod idempotency {
    use sea_orm::entity::prelude::*;

    /// The first answer to a request sent with an `Idempotency-Key`, so a retry gets it again.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// A hash of the request body: the same key with another body is refused.
        pub request_hash: String,
        pub registration_id: Uuid,
        pub status_code: i32,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub fn form_settings(model: &form::Model) -> Result<FormSettings, Error> {
    let questions: Vec<Question> = serde_json::from_str(&model.questions)
        .map_err(|e| Error::Corrupt(format!("questions of form {}: {e}", model.event_id)))?;
    Ok(FormSettings {
        capacity: model.capacity,
        waitlist: model.waitlist,
        approval: Approval::parse(&model.approval)
            .ok_or_else(|| Error::Corrupt(format!("approval of form {}", model.event_id)))?,
        opens_at: model.opens_at,
        closes_at: model.closes_at,
        questions,
    })
}

pub fn status_of(model: &registration::Model) -> Result<Status, Error> {
    Status::parse(&model.status)
        .ok_or_else(|| Error::Corrupt(format!("status of registration {}", model.id)))
}

/// The form, locked until the transaction ends: every seat decision for this event queues here.
async fn lock_form<C: ConnectionTrait>(txn: &C, event_id: Uuid) -> Result<form::Model, Error> {
    form::Entity::find_by_id(event_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| Problem::not_found("The registration form of this event").into())
}

pub async fn find_form(
    db: &DatabaseConnection,
    event_id: Uuid,
) -> Result<Option<form::Model>, Error> {
    Ok(form::Entity::find_by_id(event_id).one(db).await?)
}

/// What happened to whom in one transaction: the caller announces nothing itself — the outbox rows are written
/// here — but gets the changed registrations back.
#[derive(Debug, Default)]
pub struct Outcome {
    pub promoted: Vec<registration::Model>,
}

/// The payload of every `registration.*` event: enough for notifications to write to the person without asking
/// back, and the registration id to ask more.
fn payload(r: &registration::Model, position: Option<i64>) -> RegistrationChanged {
    RegistrationChanged {
        registration_id: r.id,
        event_id: r.event_id,
        status: r.status.clone(),
        email: r.email.clone(),
        name: r.name.clone(),
        locale: r.locale.clone(),
        timezone: r.timezone.clone(),
        waitlist_position: position,
    }
}

async fn announce<C: ConnectionTrait>(
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
fn event_type_of(status: Status) -> Result<RegistrationChange, Error> {
    status
        .event_type()
        .ok_or_else(|| Error::Corrupt(format!("{} is not announced", status.as_str())))
}

/// 409 `event-cancelled`: the event was cancelled, so its registrations neither change nor begin.
pub fn event_cancelled() -> Error {
    Problem::conflict(
        "event-cancelled",
        "this event has been cancelled; its registrations have ended",
    )
    .into()
}

/// Creates or replaces an event's form. Raising the capacity promotes as many of the waiting list as now fit, in the
/// same transaction; lowering it below the confirmed count removes nobody.
pub async fn put_form(
    db: &DatabaseConnection,
    event_id: Uuid,
    settings: FormSettings,
    subscribers: &[String],
) -> Result<(form::Model, Outcome), Error> {
    let txn = db::begin_write(db).await?;
    let now = Utc::now();
    let questions = serde_json::to_string(&settings.questions)
        .map_err(|e| Error::Corrupt(format!("questions: {e}")))?;
    let existing = form::Entity::find_by_id(event_id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let saved = match existing {
        None => {
            form::ActiveModel {
                event_id: Set(event_id),
                capacity: Set(settings.capacity),
                waitlist: Set(settings.waitlist),
                approval: Set(settings.approval.as_str().to_owned()),
                opens_at: Set(settings.opens_at),
                closes_at: Set(settings.closes_at),
                questions: Set(questions),
                confirmed_count: Set(0),
                next_waitlist_seq: Set(1),
                event_cancelled_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
        Some(current) => {
            let mut model: form::ActiveModel = current.into();
            model.capacity = Set(settings.capacity);
            model.waitlist = Set(settings.waitlist);
            model.approval = Set(settings.approval.as_str().to_owned());
            model.opens_at = Set(settings.opens_at);
            model.closes_at = Set(settings.closes_at);
            model.questions = Set(questions);
            model.updated_at = Set(now);
            model.update(&txn).await?
        }
    };
    let (saved, promoted) = promote_waiting(&txn, saved, now, subscribers).await?;
    txn.commit().await?;
    Ok((saved, Outcome { promoted }))
}

/// Moves the first of the waiting list up while seats are free, announcing each; returns the updated form.
async fn promote_waiting(
    txn: &DatabaseTransaction,
    form: form::Model,
    now: DateTime<Utc>,
    subscribers: &[String],
) -> Result<(form::Model, Vec<registration::Model>), Error> {
    let free = free_seats(form.capacity, form.confirmed_count);
    if free == Some(0) || form.event_cancelled_at.is_some() {
        return Ok((form, Vec::new()));
    }
    // No limit: everyone waiting moves up (no LIMIT at all, rather than a huge one).
    let waiting = registration::Entity::find()
        .filter(registration::Column::EventId.eq(form.event_id))
        .filter(registration::Column::Status.eq(Status::Waitlisted.as_str()))
        .order_by_asc(registration::Column::WaitlistSeq)
        .limit(free)
        .all(txn)
        .await?;
    if waiting.is_empty() {
        return Ok((form, Vec::new()));
    }
    let mut promoted = Vec::with_capacity(waiting.len());
    for r in waiting {
        let mut model: registration::ActiveModel = r.into();
        model.status = Set(Status::Confirmed.as_str().to_owned());
        model.waitlist_seq = Set(None);
        model.confirmed_at = Set(Some(now));
        model.updated_at = Set(now);
        let r = model.update(txn).await?;
        announce(txn, PROMOTED, &r, None, subscribers).await?;
        promoted.push(r);
    }
    let confirmed = form.confirmed_count + i32::try_from(promoted.len()).unwrap_or(i32::MAX);
    let mut model: form::ActiveModel = form.into();
    model.confirmed_count = Set(confirmed);
    model.updated_at = Set(now);
    Ok((model.update(txn).await?, promoted))
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
        .filter(registration::Column::Status.eq(Status::Waitlisted.as_str()))
        .filter(registration::Column::WaitlistSeq.lt(seq))
        .count(db)
        .await?;
    Ok(Some(i64::try_from(ahead).unwrap_or(i64::MAX) + 1))
}

/// Every waiting registration's position (1, 2, 3… in arrival order), for lists.
pub async fn waitlist_positions(
    db: &DatabaseConnection,
    event_id: Uuid,
) -> Result<std::collections::HashMap<Uuid, i64>, Error> {
    let waiting: Vec<(Uuid, Option<i64>)> = registration::Entity::find()
        .select_only()
        .column(registration::Column::Id)
        .column(registration::Column::WaitlistSeq)
        .filter(registration::Column::EventId.eq(event_id))
        .filter(registration::Column::Status.eq(Status::Waitlisted.as_str()))
        .order_by_asc(registration::Column::WaitlistSeq)
        .into_tuple()
        .all(db)
        .await?;
    Ok(waiting
        .into_iter()
        .zip(1..)
        .map(|((id, _), position)| (id, position))
        .collect())
}

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
        return Err(key_reused());
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

/// Refuses a registration before the form opens or once it has closed (by default at the event's start).
fn check_open(
    settings: &FormSettings,
    event_starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if let Some(opens_at) = settings.opens_at
        && now < opens_at
    {
        return Err(Problem::conflict(
            "not-open-yet",
            format!("registration opens at {}", opens_at.to_rfc3339()),
        )
        .into());
    }
    let closes_at = settings.closes_at.unwrap_or(event_starts_at);
    if now >= closes_at {
        return Err(Problem::conflict("closed", "registration for this event is closed").into());
    }
    Ok(())
}

/// Where a new registration goes given the form's counters: its status and, on the waiting list, its ticket.
fn placement(
    settings: &FormSettings,
    confirmed: i32,
    next_waitlist_seq: i64,
) -> Result<(Status, Option<i64>), Error> {
    Ok(match place_new(settings, confirmed) {
        Placement::Full => {
            return Err(
                Problem::conflict("full", "this event is full and has no waiting list").into(),
            );
        }
        Placement::Confirmed => (Status::Confirmed, None),
        Placement::Waitlisted => (Status::Waitlisted, Some(next_waitlist_seq)),
        Placement::PendingApproval => (Status::PendingApproval, None),
    })
}

/// The row of a new registration, not yet written.
fn new_registration(
    event_id: Uuid,
    participant: Participant,
    email_key: String,
    status: Status,
    waitlist_seq: Option<i64>,
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
        status: status.as_str().to_owned(),
        waitlist_seq,
        consent_at: now,
        created_at: now,
        updated_at: now,
        confirmed_at: (status == Status::Confirmed).then_some(now),
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
    let mut forms: HashMap<Uuid, (form::Model, FormSettings)> = HashMap::new();
    for form in form::Entity::find()
        .filter(form::Column::EventId.is_in(event_ids.clone()))
        .order_by_asc(form::Column::EventId)
        .lock_exclusive()
        .all(&txn)
        .await?
    {
        let settings = form_settings(&form)?;
        forms.insert(form.event_id, (form, settings));
    }

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
            Status::Confirmed.as_str(),
            Status::Waitlisted.as_str(),
            Status::PendingApproval.as_str(),
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
                    Err(key_reused())
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
                    Decided::Answered(Err(key_reused()))
                });
                continue;
            }
            keys_in_batch.insert(key.key.as_str(), index);
        }
        let Some((form, settings)) = forms.get_mut(&request.event_id) else {
            decided.push(Decided::Answered(Err(Problem::not_found(
                "The registration form of this event",
            )
            .into())));
            continue;
        };
        // Decided under the form's lock, as the cancellation is: a registration either came first (and was ended
        // with the others) or comes after and is refused — never left confirmed.
        if form.event_cancelled_at.is_some() {
            decided.push(Decided::Answered(Err(event_cancelled())));
            continue;
        }
        if let Err(refused) = check_open(settings, request.event_starts_at, now) {
            decided.push(Decided::Answered(Err(refused)));
            continue;
        }
        let email_key = request.participant.email.key();
        if let Some(holder) = holders.get(&(request.event_id, email_key.clone())) {
            decided.push(Decided::AlreadyRegistered(holder.clone()));
            continue;
        }
        let (status, seq) = match placement(settings, form.confirmed_count, form.next_waitlist_seq)
        {
            Ok(placed) => placed,
            Err(refused) => {
                decided.push(Decided::Answered(Err(refused)));
                continue;
            }
        };
        let registration = new_registration(
            request.event_id,
            request.participant.clone(),
            email_key.clone(),
            status,
            seq,
            now,
        )?;
        form.confirmed_count += i32::from(status == Status::Confirmed);
        form.next_waitlist_seq += i64::from(seq.is_some());
        if !touched.contains(&request.event_id) {
            touched.push(request.event_id);
        }
        holders.insert((request.event_id, email_key), registration.clone());
        decided.push(Decided::New(registration));
    }

    // Waiting-list places: everyone already waiting is ahead of this batch's newcomers, who follow in order.
    let mut waiting: HashMap<Uuid, i64> = HashMap::new();
    for decision in &decided {
        if let Decided::New(r) = decision
            && r.waitlist_seq.is_some()
            && !waiting.contains_key(&r.event_id)
        {
            let already = registration::Entity::find()
                .filter(registration::Column::EventId.eq(r.event_id))
                .filter(registration::Column::Status.eq(Status::Waitlisted.as_str()))
                .count(&txn)
                .await?;
            waiting.insert(r.event_id, i64::try_from(already).unwrap_or(i64::MAX));
        }
    }
    let mut positions: Vec<Option<i64>> = Vec::with_capacity(decided.len());
    for decision in &decided {
        positions.push(match decision {
            Decided::New(r) if r.waitlist_seq.is_some() => {
                let ahead = waiting.entry(r.event_id).or_insert(0);
                *ahead += 1;
                Some(*ahead)
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
        if let Some((form, _)) = forms.get(event_id) {
            form::Entity::update_many()
                .col_expr(form::Column::ConfirmedCount, form.confirmed_count.into())
                .col_expr(form::Column::NextWaitlistSeq, form.next_waitlist_seq.into())
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
                event_type: event_type_of(status_of(r)?)?.type_name(),
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
                Some(Err(Error::Problem(problem))) => Err(problem.clone().into()),
                _ => Err(Error::Corrupt("an earlier answer in the batch".into())),
            },
            Decided::AlreadyRegistered(_) => Ok(Registered::AlreadyRegistered),
            Decided::Answered(answer) => answer,
        };
        answers.push(answer);
    }
    Ok(answers)
}

fn key_reused() -> Error {
    Problem::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
        "Idempotency-Key reused",
    )
    .with_detail("this Idempotency-Key was used for a different request")
    .into()
}

async fn lock_registration(
    txn: &DatabaseTransaction,
    id: Uuid,
) -> Result<(form::Model, registration::Model), Error> {
    // The registration tells which form to lock; read it again under the lock, since it may have changed meanwhile.
    let event_id = registration::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| Error::from(Problem::not_found("This registration")))?
        .event_id;
    let form = lock_form(txn, event_id).await?;
    let registration = registration::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| Error::from(Problem::not_found("This registration")))?;
    Ok((form, registration))
}

/// Leaves the event: a confirmed seat is freed and the first of the waiting list promoted, in this transaction.
/// Cancelling twice changes nothing.
pub async fn cancel(
    db: &DatabaseConnection,
    id: Uuid,
    subscribers: &[String],
) -> Result<(registration::Model, Outcome), Error> {
    end(db, id, Status::Cancelled, subscribers).await
}

/// Organisers turn an applicant (or anyone not yet attending) away; a confirmed seat is freed as by cancelling.
pub async fn reject(
    db: &DatabaseConnection,
    id: Uuid,
    subscribers: &[String],
) -> Result<(registration::Model, Outcome), Error> {
    end(db, id, Status::Rejected, subscribers).await
}

async fn end(
    db: &DatabaseConnection,
    id: Uuid,
    to: Status,
    subscribers: &[String],
) -> Result<(registration::Model, Outcome), Error> {
    let txn = db::begin_write(db).await?;
    let (form, current) = lock_registration(&txn, id).await?;
    let status = status_of(&current)?;
    if status == Status::EventCancelled {
        return Err(event_cancelled());
    }
    if !status.is_active() {
        if status == to {
            return Ok((current, Outcome::default()));
        }
        return Err(Problem::conflict(
            "not-active",
            format!("this registration is already {}", status.as_str()),
        )
        .into());
    }
    let now = Utc::now();
    let mut model: registration::ActiveModel = current.into();
    model.status = Set(to.as_str().to_owned());
    model.waitlist_seq = Set(None);
    model.cancelled_at = Set(Some(now));
    model.updated_at = Set(now);
    let ended = model.update(&txn).await?;
    announce(&txn, event_type_of(to)?, &ended, None, subscribers).await?;
    let mut form = form;
    if status == Status::Confirmed {
        let confirmed = form.confirmed_count - 1;
        let mut model: form::ActiveModel = form.into();
        model.confirmed_count = Set(confirmed);
        form = model.update(&txn).await?;
    }
    let (_, promoted) = promote_waiting(&txn, form, now, subscribers).await?;
    txn.commit().await?;
    Ok((ended, Outcome { promoted }))
}

/// Organisers accept an applicant: a seat if one is free, else the waiting list (409 when full without one).
pub async fn approve(
    db: &DatabaseConnection,
    id: Uuid,
    subscribers: &[String],
) -> Result<(registration::Model, Option<i64>), Error> {
    let txn = db::begin_write(db).await?;
    let (form, current) = lock_registration(&txn, id).await?;
    let status = status_of(&current)?;
    if status == Status::EventCancelled {
        return Err(event_cancelled());
    }
    if status != Status::PendingApproval {
        if matches!(status, Status::Confirmed | Status::Waitlisted) {
            let position = waitlist_position(&txn, &current).await?;
            return Ok((current, position));
        }
        return Err(Problem::conflict(
            "not-pending",
            format!(
                "only a pending application can be approved; this one is {}",
                status.as_str()
            ),
        )
        .into());
    }
    let settings = form_settings(&form)?;
    let now = Utc::now();
    let (to, seq) = match place_approved(&settings, form.confirmed_count) {
        Placement::Confirmed | Placement::PendingApproval => (Status::Confirmed, None),
        Placement::Waitlisted => (Status::Waitlisted, Some(form.next_waitlist_seq)),
        Placement::Full => {
            return Err(Problem::conflict(
                "full",
                "no seat is free and the form has no waiting list",
            )
            .into());
        }
    };
    let mut model: registration::ActiveModel = current.into();
    model.status = Set(to.as_str().to_owned());
    model.waitlist_seq = Set(seq);
    model.updated_at = Set(now);
    if to == Status::Confirmed {
        model.confirmed_at = Set(Some(now));
    }
    let approved = model.update(&txn).await?;
    let confirmed = form.confirmed_count + i32::from(to == Status::Confirmed);
    let next_seq = form.next_waitlist_seq + i64::from(seq.is_some());
    let mut form_model: form::ActiveModel = form.into();
    form_model.confirmed_count = Set(confirmed);
    form_model.next_waitlist_seq = Set(next_seq);
    form_model.update(&txn).await?;
    let position = waitlist_position(&txn, &approved).await?;
    announce(&txn, event_type_of(to)?, &approved, position, subscribers).await?;
    txn.commit().await?;
    Ok((approved, position))
}

/// Records arrival once; checking in again keeps the first time.
pub async fn check_in(db: &DatabaseConnection, id: Uuid) -> Result<registration::Model, Error> {
    let txn = db::begin_write(db).await?;
    let current = registration::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::from(Problem::not_found("This registration")))?;
    if status_of(&current)? == Status::EventCancelled {
        return Err(event_cancelled());
    }
    if status_of(&current)? != Status::Confirmed {
        return Err(Problem::conflict(
            "not-confirmed",
            "only a confirmed registration can check in",
        )
        .into());
    }
    if current.checked_in_at.is_some() {
        return Ok(current);
    }
    let now = Utc::now();
    let mut model: registration::ActiveModel = current.into();
    model.checked_in_at = Set(Some(now));
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<registration::Model, Error> {
    registration::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| r.erased_at.is_none())
        .ok_or_else(|| Problem::not_found("This registration").into())
}

/// Changes a participant's name and answers (never the email, which the manage link was sent to).
pub async fn update_details(
    db: &DatabaseConnection,
    id: Uuid,
    name: Option<String>,
    answers: Option<Map<String, Value>>,
) -> Result<registration::Model, Error> {
    let txn = db::begin_write(db).await?;
    let current = registration::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|r| r.erased_at.is_none())
        .ok_or_else(|| Error::from(Problem::not_found("This registration")))?;
    if status_of(&current)? == Status::EventCancelled {
        return Err(event_cancelled());
    }
    let mut model: registration::ActiveModel = current.into();
    if let Some(name) = name {
        model.name = Set(Some(name));
    }
    if let Some(answers) = answers {
        model.answers = Set(Some(
            serde_json::to_string(&answers).map_err(|e| Error::Corrupt(format!("answers: {e}")))?,
        ));
    }
    model.updated_at = Set(Utc::now());
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Removes everything that identifies the participant and keeps the rest (status, times), so counts stay right. An
/// active registration is cancelled first, freeing its seat for the waiting list.
pub async fn erase(
    db: &DatabaseConnection,
    id: Uuid,
    subscribers: &[String],
) -> Result<Outcome, Error> {
    let current = find(db, id).await?;
    let outcome = if status_of(&current)?.is_active() {
        cancel(db, id, subscribers).await?.1
    } else {
        Outcome::default()
    };
    let txn = db::begin_write(db).await?;
    let current = registration::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::from(Problem::not_found("This registration")))?;
    if current.erased_at.is_some() {
        return Err(Problem::not_found("This registration").into());
    }
    let now = Utc::now();
    let mut model: registration::ActiveModel = current.into();
    model.email = Set(None);
    model.email_key = Set(None);
    model.name = Set(None);
    model.affiliation = Set(None);
    model.country = Set(None);
    model.answers = Set(None);
    model.timezone = Set(None);
    model.erased_at = Set(Some(now));
    model.updated_at = Set(now);
    let erased = model.update(&txn).await?;
    scrub_outbox(&txn, erased.id).await?;
    // Only ids: every service that holds a copy of the person's data drops it.
    let event = DomainEvent::RegistrationErased(RegistrationErased {
        registration_id: erased.id,
        event_id: erased.event_id,
    });
    outbox::enqueue(&txn, event.type_name(), erased.id, &event, subscribers).await?;
    txn.commit().await?;
    Ok(outcome)
}

/// The personal fields of a `registration.*` payload, blanked on erasure.
const PERSONAL: [&str; 3] = ["email", "name", "timezone"];

/// Blanks the person's data in the stored payloads of this registration's domain events (delivered or not): the
/// outbox keeps what happened, not to whom.
async fn scrub_outbox<C: ConnectionTrait>(txn: &C, registration_id: Uuid) -> Result<(), Error> {
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

/// Ends every confirmed, waitlisted and pending registration of a cancelled event (status `event_cancelled`) and
/// marks its form so nobody registers any more — one transaction, under the form's lock, so a registration being
/// written at the same moment is either ended here or refused after. Announces nothing (notifications writes to
/// everyone on scheduling's `event.cancelled`). Returns how many ended; an event without a form has none.
pub async fn end_for_cancelled_event(
    txn: &DatabaseTransaction,
    event_id: Uuid,
) -> Result<u64, Error> {
    let Some(form) = form::Entity::find_by_id(event_id)
        .lock_exclusive()
        .one(txn)
        .await?
    else {
        return Ok(0);
    };
    let now = Utc::now();
    let ended = registration::Entity::update_many()
        .col_expr(
            registration::Column::Status,
            Status::EventCancelled.as_str().into(),
        )
        .col_expr(
            registration::Column::WaitlistSeq,
            Option::<i64>::None.into(),
        )
        .col_expr(registration::Column::CancelledAt, Some(now).into())
        .col_expr(registration::Column::UpdatedAt, now.into())
        .filter(registration::Column::EventId.eq(event_id))
        .filter(registration::Column::Status.is_in([
            Status::Confirmed.as_str(),
            Status::Waitlisted.as_str(),
            Status::PendingApproval.as_str(),
        ]))
        .exec(txn)
        .await?
        .rows_affected;
    let cancelled_at = form.event_cancelled_at.unwrap_or(now);
    let mut model: form::ActiveModel = form.into();
    model.confirmed_count = Set(0);
    model.event_cancelled_at = Set(Some(cancelled_at));
    model.updated_at = Set(now);
    model.update(txn).await?;
    Ok(ended)
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
        query = query.filter(registration::Column::Status.eq(status.as_str()));
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

/// How many registrations of an event are in each status.
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

// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use sea_orm_migration::prelude::*;

    pub struct CreateRegistrations;

    /// `forms.event_cancelled_at`: set when scheduling's `event.cancelled` ends the event's registrations.
    pub struct FormsEventCancelled;

    impl MigrationName for FormsEventCancelled {
        fn name(&self) -> &str {
            "m20261201_000021_forms_event_cancelled"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for FormsEventCancelled {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .alter_table(
                    Table::alter()
                        .table(Forms::Table)
                        .add_column(instant(Forms::EventCancelledAt, true))
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .alter_table(
                    Table::alter()
                        .table(Forms::Table)
                        .drop_column(Forms::EventCancelledAt)
                        .to_owned(),
                )
                .await
        }
    }

    impl MigrationName for CreateRegistrations {
        fn name(&self) -> &str {
            "m20261121_000020_create_registrations"
        }
    }

    #[derive(DeriveIden)]
    enum Forms {
        Table,
        EventId,
        Capacity,
        Waitlist,
        Approval,
        OpensAt,
        ClosesAt,
        Questions,
        ConfirmedCount,
        NextWaitlistSeq,
        EventCancelledAt,
        CreatedAt,
        UpdatedAt,
    }

    #[derive(DeriveIden)]
    enum Registrations {
        Table,
        Id,
        EventId,
        Email,
        EmailKey,
        Name,
        Affiliation,
        Country,
        Answers,
        Locale,
        Timezone,
        Status,
        WaitlistSeq,
        ConsentAt,
        CreatedAt,
        UpdatedAt,
        ConfirmedAt,
        CancelledAt,
        CheckedInAt,
        ErasedAt,
    }

    #[derive(DeriveIden)]
    enum IdempotencyKeys {
        Table,
        Key,
        RequestHash,
        RegistrationId,
        StatusCode,
        CreatedAt,
    }

    fn instant(name: impl IntoIden, null: bool) -> ColumnDef {
        let mut column = ColumnDef::new(name);
        column.timestamp_with_time_zone();
        if null {
            column.null();
        } else {
            column.not_null();
        }
        column.to_owned()
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateRegistrations {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Forms::Table)
                        .col(
                            ColumnDef::new(Forms::EventId)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(Forms::Capacity).integer().null())
                        .col(ColumnDef::new(Forms::Waitlist).boolean().not_null())
                        .col(ColumnDef::new(Forms::Approval).string_len(16).not_null())
                        .col(instant(Forms::OpensAt, true))
                        .col(instant(Forms::ClosesAt, true))
                        .col(ColumnDef::new(Forms::Questions).text().not_null())
                        .col(
                            ColumnDef::new(Forms::ConfirmedCount)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .col(
                            ColumnDef::new(Forms::NextWaitlistSeq)
                                .big_integer()
                                .not_null()
                                .default(1),
                        )
                        .col(instant(Forms::CreatedAt, false))
                        .col(instant(Forms::UpdatedAt, false))
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(Registrations::Table)
                        .col(
                            ColumnDef::new(Registrations::Id)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(Registrations::EventId).uuid().not_null())
                        .col(ColumnDef::new(Registrations::Email).string_len(254).null())
                        .col(
                            ColumnDef::new(Registrations::EmailKey)
                                .string_len(254)
                                .null(),
                        )
                        .col(ColumnDef::new(Registrations::Name).string_len(200).null())
                        .col(
                            ColumnDef::new(Registrations::Affiliation)
                                .string_len(300)
                                .null(),
                        )
                        .col(ColumnDef::new(Registrations::Country).string_len(2).null())
                        .col(ColumnDef::new(Registrations::Answers).text().null())
                        .col(
                            ColumnDef::new(Registrations::Locale)
                                .string_len(16)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Registrations::Timezone)
                                .string_len(64)
                                .null(),
                        )
                        .col(
                            ColumnDef::new(Registrations::Status)
                                .string_len(24)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Registrations::WaitlistSeq)
                                .big_integer()
                                .null(),
                        )
                        .col(instant(Registrations::ConsentAt, false))
                        .col(instant(Registrations::CreatedAt, false))
                        .col(instant(Registrations::UpdatedAt, false))
                        .col(instant(Registrations::ConfirmedAt, true))
                        .col(instant(Registrations::CancelledAt, true))
                        .col(instant(Registrations::CheckedInAt, true))
                        .col(instant(Registrations::ErasedAt, true))
                        .foreign_key(
                            ForeignKey::create()
                                .from(Registrations::Table, Registrations::EventId)
                                .to(Forms::Table, Forms::EventId),
                        )
                        .to_owned(),
                )
                .await?;
            // "The same email for one event", and the waiting list in order.
            manager
                .create_index(
                    Index::create()
                        .name("registrations_by_email")
                        .table(Registrations::Table)
                        .col(Registrations::EventId)
                        .col(Registrations::EmailKey)
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("registrations_by_status")
                        .table(Registrations::Table)
                        .col(Registrations::EventId)
                        .col(Registrations::Status)
                        .col(Registrations::WaitlistSeq)
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(IdempotencyKeys::Table)
                        .col(
                            ColumnDef::new(IdempotencyKeys::Key)
                                .string_len(255)
                                .not_null()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(IdempotencyKeys::RequestHash)
                                .string_len(64)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(IdempotencyKeys::RegistrationId)
                                .uuid()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(IdempotencyKeys::StatusCode)
                                .integer()
                                .not_null(),
                        )
                        .col(instant(IdempotencyKeys::CreatedAt, false))
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for table in [
                IdempotencyKeys::Table.into_iden(),
                Registrations::Table.into_iden(),
                Forms::Table.into_iden(),
            ] {
                manager
                    .drop_table(Table::drop().table(table).if_exists().to_owned())
                    .await?;
            }
            Ok(())
        }
    }
}
