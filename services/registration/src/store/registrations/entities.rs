//! The tables of forms and registrations as sea-orm entities: `forms` (one per event, with the seat counters kept
//! under its lock), `registrations`, `idempotency_keys`. Status and approval are the domain's enums, stored as the
//! same strings as ever ([`Status`](crate::domain::registration::Status),
//! [`Approval`](crate::domain::forms::Approval) are sea-orm active enums), so no value is parsed by hand.

use crate::Error;
use crate::domain::forms::{FormSettings, Question};
use crate::domain::seats::Seats;

pub mod form {
    use sea_orm::entity::prelude::*;

    use crate::domain::forms::Approval;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "forms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        /// `None`: no limit.
        pub capacity: Option<i32>,
        pub waitlist: bool,
        pub approval: Approval,
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

    use crate::domain::registration::Status;

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
        pub status: Status,
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

/// The stored form as the domain's settings (its questions are stored as JSON).
pub fn form_settings(model: &form::Model) -> Result<FormSettings, Error> {
    let questions: Vec<Question> = serde_json::from_str(&model.questions)
        .map_err(|e| Error::Corrupt(format!("questions of form {}: {e}", model.event_id)))?;
    Ok(FormSettings {
        capacity: model.capacity,
        waitlist: model.waitlist,
        approval: model.approval,
        opens_at: model.opens_at,
        closes_at: model.closes_at,
        questions,
    })
}

impl form::Model {
    /// The seat rules of this form with its stored counters (the questions are not read: seats do not need them).
    pub fn seats(&self) -> Seats {
        Seats::from_parts(
            self.capacity,
            self.waitlist,
            self.approval,
            (self.opens_at, self.closes_at),
            self.confirmed_count,
            self.next_waitlist_seq,
            self.event_cancelled_at.is_some(),
        )
    }
}
