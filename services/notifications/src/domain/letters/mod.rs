//! The emails sent to participants, in English and Simplified Chinese, rendered from minijinja templates.
//!
//! Each kind of letter has one template per locale, `templates/<locale>/<kind>.txt`, with two blocks: `subject`
//! and `body` (the kind's own sentences, paragraphs separated by a blank line). The layouts
//! `templates/<locale>/layout.txt` and `layout.html` wrap that body into the whole email: greeting, change
//! lines, calendar note, event details, manage link and footer. The HTML layout is autoescaped (its name ends
//! in `.html`); the text templates are not escaped. The wording of the change lines ("Start: … → …") is in
//! `templates/<locale>/changes.txt`, one macro per kind of line; [`changes`] chooses the line and its values.
//!
//! The templates are built in; an operator can replace any of them with a file of the same relative path
//! (e.g. `zh-CN/confirmed.txt`) in an override directory. All templates are loaded and checked when
//! [`Templates::new`] runs, so a broken override stops the service at start-up instead of at the first email.
//!
//! Template conventions: undefined variables are errors, and so is printing `none` (test optional values with
//! `is not none`); `trim_blocks` and `lstrip_blocks` are on, so a line holding only a block tag disappears, and
//! the newline right after any block tag is dropped (end a sentence after `{% endif %}`, not with it, when a
//! blank line follows). The rendered output is tidied: trailing spaces go, blank-line runs collapse to one.
//!
//! Where things are: this file holds the types a caller fills in ([`LetterContext`] and its parts) and gets back
//! ([`Letter`]); `templates.rs` loads, checks and renders the templates; `vars.rs` is what the templates see;
//! `changes.rs` turns an `event.updated` change set into lines; `tidy.rs` cleans the rendered text. Times are
//! written by `cloverleaf_locale::time`, the same formatter the portal uses.

pub mod changes;
mod templates;
mod tidy;
mod vars;

#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cloverleaf_locale::Locale;
use serde::Serialize;

pub use changes::{ChangeSet, FieldChange};
pub use templates::{TemplateError, Templates};

/// The kinds of letter, each with its own template per locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterKind {
    Confirmed,
    Waitlisted,
    PendingApproval,
    Promoted,
    Rejected,
    Cancelled,
    ManageLink,
    EventUpdated,
    EventCancelled,
    EventCancelledWaitlist,
    Reminder,
}

impl LetterKind {
    pub const ALL: [LetterKind; 11] = [
        LetterKind::Confirmed,
        LetterKind::Waitlisted,
        LetterKind::PendingApproval,
        LetterKind::Promoted,
        LetterKind::Rejected,
        LetterKind::Cancelled,
        LetterKind::ManageLink,
        LetterKind::EventUpdated,
        LetterKind::EventCancelled,
        LetterKind::EventCancelledWaitlist,
        LetterKind::Reminder,
    ];

    /// The kind's name, which is also its template's file name without `.txt`.
    pub fn as_str(self) -> &'static str {
        match self {
            LetterKind::Confirmed => "confirmed",
            LetterKind::Waitlisted => "waitlisted",
            LetterKind::PendingApproval => "pending_approval",
            LetterKind::Promoted => "promoted",
            LetterKind::Rejected => "rejected",
            LetterKind::Cancelled => "cancelled",
            LetterKind::ManageLink => "manage_link",
            LetterKind::EventUpdated => "event_updated",
            LetterKind::EventCancelled => "event_cancelled",
            LetterKind::EventCancelledWaitlist => "event_cancelled_waitlist",
            LetterKind::Reminder => "reminder",
        }
    }
}

/// What the email says about the event (already resolved by the caller).
#[derive(Debug, Clone, Serialize)]
pub struct EventFacts {
    pub title: String,
    /// "webinar" | "workshop" | "tour"
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(skip)]
    pub timezone: Tz,
    /// The zone of its end (a tour that ends in another city's); usually `timezone`.
    #[serde(skip)]
    pub end_timezone: Tz,
    /// The venue as one line, "name, address, city, country", or None.
    pub location: Option<String>,
    pub online_url: Option<String>,
    /// The event's public page.
    pub page_url: Option<String>,
    /// Subscribable .ics feed of the full agenda.
    pub feed_url: Option<String>,
    pub organiser_name: String,
    pub organiser_email: String,
    pub cancel_reason: Option<String>,
}

/// Who the email goes to.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub name: String,
    pub email: String,
    pub locale: Locale,
    /// The participant's own zone, if known; their local time is shown when it differs from the event's.
    pub timezone: Option<Tz>,
}

/// Everything one letter needs.
#[derive(Debug, Clone)]
pub struct LetterContext<'a> {
    pub kind: LetterKind,
    pub event: &'a EventFacts,
    pub recipient: &'a Recipient,
    pub manage_url: Option<String>,
    /// The email shows the participant's check-in QR code (an inline image the HTML names `cid:check-in-code@cloverleaf`).
    pub check_in: bool,
    pub waitlist_position: Option<i64>,
    pub changes: Option<&'a ChangeSet>,
    /// For reminders: how long before the start this reminder is (minutes), e.g. 1440 → "in 24 hours",
    /// 15 → "in 15 minutes", 2880 → "in 2 days".
    pub reminder_minutes: Option<i64>,
    /// The email carries a calendar invite (REQUEST) or cancellation (CANCEL), and the text says so.
    pub calendar: Option<CalendarNote>,
}

/// What calendar attachment the email carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarNote {
    Invite,
    Update,
    Cancel,
}

impl CalendarNote {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CalendarNote::Invite => "invite",
            CalendarNote::Update => "update",
            CalendarNote::Cancel => "cancel",
        }
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}
