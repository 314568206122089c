//! What happens to forms and registrations after registering, each change in one write transaction under the
//! form's lock: a form created or changed (raising the capacity promotes), a registration cancelled or rejected
//! (freeing its seat promotes the first of the waiting list), approved, checked in, its details changed, erased,
//! and every registration of a cancelled event ended. The seat rules are [`Seats`]'; this module reads the state,
//! asks them, writes what they decide and the outbox rows.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::announce::{announce, announce_erased, event_type_of, scrub_outbox};
use super::entities::{form, registration};
use super::queries::{find, waitlist_position};
use crate::Error;
use crate::domain::audit::AuditAction;
use crate::domain::forms::FormSettings;
use crate::domain::refusal::Refusal;
use crate::domain::registration::{PROMOTED, Status};
use crate::domain::seats::{self, Approving, Ending, Seats};
use crate::store::audit::{self, NewAuditEntry};
use cloverleaf_service_kit::db;

/// What happened to whom in one transaction: the caller announces nothing itself — the outbox rows are written
/// here — but gets the changed registrations back.
#[derive(Debug, Default)]
pub struct Outcome {
    pub promoted: Vec<registration::Model>,
}

/// The form, locked until the transaction ends: every seat decision for this event queues here.
async fn lock_form<C: ConnectionTrait>(txn: &C, event_id: Uuid) -> Result<form::Model, Error> {
    form::Entity::find_by_id(event_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| Refusal::FormNotFound.into())
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
                approval: Set(settings.approval),
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
            model.approval = Set(settings.approval);
            model.opens_at = Set(settings.opens_at);
            model.closes_at = Set(settings.closes_at);
            model.questions = Set(questions);
            model.updated_at = Set(now);
            model.update(&txn).await?
        }
    };
    let seats = saved.seats();
    let (saved, promoted) = promote_waiting(&txn, saved, seats, now, subscribers).await?;
    txn.commit().await?;
    Ok((saved, Outcome { promoted }))
}

/// Moves the first of the waiting list up while seats are free (as `seats` of the locked `form` allow), announcing
/// each; returns the updated form.
async fn promote_waiting(
    txn: &DatabaseTransaction,
    form: form::Model,
    mut seats: Seats,
    now: DateTime<Utc>,
    subscribers: &[String],
) -> Result<(form::Model, Vec<registration::Model>), Error> {
    let Some(free) = seats.promotable() else {
        return Ok((form, Vec::new()));
    };
    // No limit: everyone waiting moves up (no LIMIT at all, rather than a huge one).
    let waiting = registration::Entity::find()
        .filter(registration::Column::EventId.eq(form.event_id))
        .filter(registration::Column::Status.eq(Status::Waitlisted))
        .order_by_asc(registration::Column::WaitlistSeq)
        .limit(free)
        .all(txn)
        .await?;
    if waiting.is_empty() {
        return Ok((form, Vec::new()));
    }
    let moving_up = seats.promote(waiting);
    let mut promoted = Vec::with_capacity(moving_up.len());
    for r in moving_up {
        let mut model: registration::ActiveModel = r.into();
        model.status = Set(Status::Confirmed);
        model.waitlist_seq = Set(None);
        model.confirmed_at = Set(Some(now));
        model.updated_at = Set(now);
        let r = model.update(txn).await?;
        announce(txn, PROMOTED, &r, None, subscribers).await?;
        promoted.push(r);
    }
    let mut model: form::ActiveModel = form.into();
    model.confirmed_count = Set(seats.confirmed());
    model.updated_at = Set(now);
    Ok((model.update(txn).await?, promoted))
}

async fn lock_registration(
    txn: &DatabaseTransaction,
    id: Uuid,
) -> Result<(form::Model, registration::Model), Error> {
    // The registration tells which form to lock; read it again under the lock, since it may have changed meanwhile.
    let event_id = registration::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Refusal::RegistrationNotFound)?
        .event_id;
    let form = lock_form(txn, event_id).await?;
    let registration = registration::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Refusal::RegistrationNotFound)?;
    Ok((form, registration))
}

/// Leaves the event: a confirmed seat is freed and the first of the waiting list promoted, in this transaction.
/// Cancelling twice changes nothing.
pub async fn cancel(
    db: &DatabaseConnection,
    id: Uuid,
    subscribers: &[String],
) -> Result<(registration::Model, Outcome), Error> {
    end(db, id, Status::Cancelled, None, subscribers).await
}

/// Organisers turn an applicant (or anyone not yet attending) away; a confirmed seat is freed as by cancelling.
/// `actor` is recorded in the audit trail with the rejection, in the same transaction.
pub async fn reject(
    db: &DatabaseConnection,
    id: Uuid,
    actor: &str,
    subscribers: &[String],
) -> Result<(registration::Model, Outcome), Error> {
    end(db, id, Status::Rejected, Some(actor), subscribers).await
}

/// The audit entry of a change to one registration: ids and statuses only, never who the participant is.
fn entry(
    actor: &str,
    action: AuditAction,
    r: &registration::Model,
    before: Status,
) -> NewAuditEntry {
    NewAuditEntry {
        actor: actor.to_owned(),
        action,
        event_id: Some(r.event_id),
        registration_id: Some(r.id),
        detail: serde_json::json!({ "status_before": before.as_str(), "status_after": r.status.as_str() }),
    }
}

/// Ends a registration; with `audited_by`, the ending is recorded in the audit trail as a rejection.
async fn end(
    db: &DatabaseConnection,
    id: Uuid,
    to: Status,
    audited_by: Option<&str>,
    subscribers: &[String],
) -> Result<(registration::Model, Outcome), Error> {
    let txn = db::begin_write(db).await?;
    let (form, current) = lock_registration(&txn, id).await?;
    let mut seats = form.seats();
    let freed_seat = match seats.end(current.status, to)? {
        Ending::Unchanged => return Ok((current, Outcome::default())),
        Ending::Ends { freed_seat } => freed_seat,
    };
    let now = Utc::now();
    let before = current.status;
    let mut model: registration::ActiveModel = current.into();
    model.status = Set(to);
    model.waitlist_seq = Set(None);
    model.cancelled_at = Set(Some(now));
    model.updated_at = Set(now);
    let ended = model.update(&txn).await?;
    if let Some(actor) = audited_by {
        audit::record(&txn, entry(actor, AuditAction::Rejected, &ended, before)).await?;
    }
    announce(&txn, event_type_of(to)?, &ended, None, subscribers).await?;
    let mut form = form;
    if freed_seat {
        let mut model: form::ActiveModel = form.into();
        model.confirmed_count = Set(seats.confirmed());
        form = model.update(&txn).await?;
    }
    let (_, promoted) = promote_waiting(&txn, form, seats, now, subscribers).await?;
    txn.commit().await?;
    Ok((ended, Outcome { promoted }))
}

/// Organisers accept an applicant: a seat if one is free, else the waiting list (409 when full without one).
pub async fn approve(
    db: &DatabaseConnection,
    id: Uuid,
    actor: &str,
    subscribers: &[String],
) -> Result<(registration::Model, Option<i64>), Error> {
    let txn = db::begin_write(db).await?;
    let (form, current) = lock_registration(&txn, id).await?;
    let mut seats = form.seats();
    let place = match seats.approve(current.status)? {
        Approving::AlreadyIn => {
            let position = waitlist_position(&txn, &current).await?;
            return Ok((current, position));
        }
        Approving::Placed(place) => place,
    };
    let now = Utc::now();
    let to = place.status;
    let before = current.status;
    let mut model: registration::ActiveModel = current.into();
    model.status = Set(to);
    model.waitlist_seq = Set(place.waitlist_seq);
    model.updated_at = Set(now);
    if to == Status::Confirmed {
        model.confirmed_at = Set(Some(now));
    }
    let approved = model.update(&txn).await?;
    audit::record(&txn, entry(actor, AuditAction::Approved, &approved, before)).await?;
    let mut form_model: form::ActiveModel = form.into();
    form_model.confirmed_count = Set(seats.confirmed());
    form_model.next_waitlist_seq = Set(seats.next_waitlist_seq());
    form_model.update(&txn).await?;
    let position = waitlist_position(&txn, &approved).await?;
    announce(&txn, event_type_of(to)?, &approved, position, subscribers).await?;
    txn.commit().await?;
    Ok((approved, position))
}

/// Records arrival once, at `at`; checking in again keeps the first time (and records nothing more in the audit
/// trail). `true` with the registration when this call checked them in. The update is conditional on "not checked in
/// yet", so two scanners at two doors scanning the same code at once check in once and write one audit entry.
pub async fn check_in(
    db: &DatabaseConnection,
    id: Uuid,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(registration::Model, bool), Error> {
    let txn = db::begin_write(db).await?;
    let current = registration::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|r| r.erased_at.is_none())
        .ok_or(Refusal::RegistrationNotFound)?;
    seats::may_check_in(current.status)?;
    if current.checked_in_at.is_some() {
        return Ok((current, false));
    }
    let written = registration::Entity::update_many()
        .col_expr(registration::Column::CheckedInAt, Expr::value(Some(at)))
        .col_expr(registration::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(registration::Column::Id.eq(id))
        .filter(registration::Column::CheckedInAt.is_null())
        .exec(&txn)
        .await?;
    let updated = registration::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Refusal::RegistrationNotFound)?;
    if written.rows_affected == 0 {
        txn.rollback().await?;
        return Ok((updated, false));
    }
    let status = updated.status;
    audit::record(&txn, entry(actor, AuditAction::CheckedIn, &updated, status)).await?;
    txn.commit().await?;
    Ok((updated, true))
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
        .ok_or(Refusal::RegistrationNotFound)?;
    seats::may_change(current.status)?;
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
/// `actor` (an organiser's `sub`, or `participant` for their own) is recorded in the audit trail with the erasure,
/// in the same transaction; the entry names the registration by id only.
pub async fn erase(
    db: &DatabaseConnection,
    id: Uuid,
    actor: &str,
    subscribers: &[String],
) -> Result<Outcome, Error> {
    let current = find(db, id).await?;
    let outcome = if current.status.is_active() {
        cancel(db, id, subscribers).await?.1
    } else {
        Outcome::default()
    };
    let txn = db::begin_write(db).await?;
    let current = registration::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Refusal::RegistrationNotFound)?;
    if current.erased_at.is_some() {
        return Err(Refusal::RegistrationNotFound.into());
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
    let status = erased.status;
    audit::record(&txn, entry(actor, AuditAction::Erased, &erased, status)).await?;
    scrub_outbox(&txn, erased.id).await?;
    announce_erased(&txn, &erased, subscribers).await?;
    txn.commit().await?;
    Ok(outcome)
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
        .col_expr(registration::Column::Status, Status::EventCancelled.into())
        .col_expr(
            registration::Column::WaitlistSeq,
            Option::<i64>::None.into(),
        )
        .col_expr(registration::Column::CancelledAt, Some(now).into())
        .col_expr(registration::Column::UpdatedAt, now.into())
        .filter(registration::Column::EventId.eq(event_id))
        .filter(registration::Column::Status.is_in([
            Status::Confirmed,
            Status::Waitlisted,
            Status::PendingApproval,
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
