//! What each domain event causes: who is written to, with which letter and which calendar invite. This is where a
//! confirmation, an updated invite or a cancellation is made.
//!
//! | event | causes |
//! |---|---|
//! | `event.published` | the event's reminders are scheduled |
//! | `event.updated` | reminders follow the start; every confirmed attendee whose invite changed gets a REQUEST (same UID, new SEQUENCE) with what changed |
//! | `event.cancelled` | reminders dropped; CANCEL with STATUS:CANCELLED to every invited attendee; a plain email to the waiting list and pending applicants |
//! | `registration.confirmed`, `.promoted` | confirmation (or promotion) email with the invite (REQUEST) |
//! | `registration.waitlisted` | email with the waiting-list position |
//! | `registration.pending_approval` | email: the application is with the organisers |
//! | `registration.rejected`, `.cancelled` | email, carrying a CANCEL for that attendee if an invite was ever sent |
//! | `registration.manage_link_requested` | email with a fresh manage link |
//!
//! Everything is gathered first (the event and agenda from scheduling, attendees and manage tokens from
//! registration); then one transaction marks the inbox event processed, queues the messages and records the invites
//! in the ledger ([`Notifier::commit`]). Every email carries the manage link, in the participant's language, with
//! times in the event's zone and in their own.

use std::path::Path;
use std::sync::Arc;

use crate::config::{NotificationsSettings, ReminderSettings};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cloverleaf_calendar::email::{EmailContent, InlineImage, invite_message, plain_message};
use cloverleaf_calendar::{Calendar, Method, Person};
use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::clock::SharedClock;
use cloverleaf_service_kit::worker::WorkerHandle;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::Value;
use uuid::Uuid;

use crate::Error;
use crate::directory::{AgendaItem, Attendee, Directory, Event, Unavailable};
use crate::domain::invites::{self, Intent, LedgerEntry, Links};
use crate::domain::letters::{
    CalendarNote, ChangeSet, EventFacts, Letter, LetterContext, LetterKind, Recipient, Templates,
};
use crate::store::inbox::Claimed;
use crate::store::{inbox, invites as ledger, messages, reminders};
use cloverleaf_locale::Locale;

/// Why an event could not be handled now: it is tried again later.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error(transparent)]
    Error(#[from] Error),
    /// Scheduling answered with an older version of the event than the change being handled announces (a read
    /// from before the change): handling waits until it answers with that version, so the letter never shows
    /// the event or agenda from before the change.
    #[error("{0}")]
    Stale(String),
}

impl From<sea_orm::DbErr> for Failure {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Error(error.into())
    }
}

// The payloads of the domain events handled here are defined in the contracts: every `registration.*` event's but
// `erased`; `registration.erased` (contract 3): no personal data, only whose; `event.*`.
use cloverleaf_contracts::DomainEvent;
use cloverleaf_contracts::events::{
    EventCancelled, EventPublished, EventUpdated, RegistrationChange,
    RegistrationChanged as RegistrationPayload, RegistrationErased as ErasedPayload,
};

/// One email to queue, and the ledger row it writes when it carries an invite.
struct Outgoing {
    message: messages::NewMessage,
    invite: Option<InviteRecord>,
}

struct InviteRecord {
    email: String,
    uid: String,
    registration_id: Option<Uuid>,
    planned: invites::Planned,
    content_hash: String,
    fingerprint: String,
}

/// What handling one event will write.
#[derive(Default)]
struct Work {
    outgoing: Vec<Outgoing>,
    /// `(event id, start, offsets)`: schedule or move its reminders.
    reminders: Option<(Uuid, DateTime<Utc>, Vec<i64>)>,
    /// Drop the event's pending reminders.
    drop_reminders: Option<Uuid>,
    note: String,
}

impl Work {
    fn note(note: impl Into<String>) -> Self {
        Self {
            note: note.into(),
            ..Self::default()
        }
    }
}

/// Everything handling needs; shared by the inbox worker and the reminder job.
#[derive(Clone)]
pub struct Notifier {
    pub db: DatabaseConnection,
    pub directory: Directory,
    pub templates: Arc<Templates>,
    pub clock: SharedClock,
    /// The delivery worker (`jobs::delivery`), woken after committing messages; its kit handle, so that this
    /// module, which the jobs call, does not import them.
    pub delivery: WorkerHandle,
    from: Person,
    message_id_domain: String,
    public_url: String,
    reminders: ReminderSettings,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("directory", &self.directory)
            .finish()
    }
}

/// A participant as written to.
struct Addressee {
    registration_id: Option<Uuid>,
    name: String,
    email: String,
    locale: Locale,
    timezone: Option<Tz>,
    manage_token: Option<String>,
    /// The code their QR code carries at the door (confirmations of in-person events show it).
    check_in_code: Option<String>,
}

impl Addressee {
    fn from_attendee(a: &Attendee) -> Option<Self> {
        Some(Self {
            registration_id: Some(a.id),
            name: a.name.clone().unwrap_or_default(),
            email: a.email.clone()?,
            locale: Locale::parse(&a.locale),
            timezone: a.timezone.as_deref().and_then(|z| z.parse().ok()),
            manage_token: a.manage_token.clone(),
            check_in_code: a.check_in_code.clone(),
        })
    }

    fn person(&self) -> Person {
        Person::new(&self.name, &self.email)
    }
}

/// What some letters say besides the event: a waiting-list position, what changed, a reminder's offset.
#[derive(Debug, Clone, Copy, Default)]
struct Extras<'a> {
    waitlist_position: Option<i64>,
    changes: Option<&'a ChangeSet>,
    reminder_minutes: Option<i64>,
}

impl Notifier {
    pub fn new(
        db: DatabaseConnection,
        settings: &Settings,
        directory: Directory,
        clock: SharedClock,
        delivery: WorkerHandle,
    ) -> Result<Self, Error> {
        let own = NotificationsSettings::from_settings(settings)?;
        let override_dir = own.mail.templates_dir.trim();
        let templates = Templates::new((!override_dir.is_empty()).then(|| Path::new(override_dir)))
            .map_err(|e| Error::Templates(e.to_string()))?;
        Ok(Self {
            db,
            directory,
            templates: Arc::new(templates),
            clock,
            delivery,
            from: Person::new(&own.mail.from_name, &own.mail.from_email),
            message_id_domain: own.mail.message_id_domain.clone(),
            public_url: settings.public_url.trim_end_matches('/').to_owned(),
            reminders: own.reminders,
        })
    }

    /// The same notifier with a directory of its own ([`Directory::scoped`]): what it reads is kept only while it
    /// lives — one run through a claim, or one reminder.
    pub fn scoped(&self) -> Self {
        let mut scoped = self.clone();
        scoped.directory = self.directory.scoped();
        scoped
    }

    /// Handles one claimed inbox event: gathers, then commits everything it causes with the processed mark.
    /// `Ok(false)`: the claim was lost to another worker and nothing was written.
    pub async fn handle(&self, claimed: &Claimed) -> Result<bool, Failure> {
        let payload: Value = match serde_json::from_str(&claimed.payload) {
            Ok(payload) => payload,
            Err(error) => {
                return self
                    .commit(
                        claimed,
                        Work::note(format!("ignored: unreadable payload: {error}")),
                    )
                    .await;
            }
        };
        let event = match DomainEvent::from_wire(&claimed.event_type, None, payload) {
            Ok(event) => event,
            // "ignored: no handling for …" for a type nobody here knows, else why the payload is unreadable.
            Err(error) => {
                return self
                    .commit(claimed, Work::note(format!("ignored: {error}")))
                    .await;
            }
        };
        if let DomainEvent::EventPublished(_)
        | DomainEvent::EventUpdated(_)
        | DomainEvent::EventCancelled(_) = &event
        {
            // What was read of the event before this change is stale from here on.
            self.directory.forget(event.event_id());
        }
        let work = match &event {
            DomainEvent::EventPublished(p) => self.event_published(p).await?,
            DomainEvent::EventUpdated(p) => self.event_updated(p).await?,
            DomainEvent::EventCancelled(p) => self.event_cancelled(p).await?,
            DomainEvent::RegistrationErased(p) => return self.erase(claimed, p).await,
            DomainEvent::RegistrationConfirmed(p) => {
                self.registration(RegistrationChange::Confirmed, p).await?
            }
            DomainEvent::RegistrationWaitlisted(p) => {
                self.registration(RegistrationChange::Waitlisted, p).await?
            }
            DomainEvent::RegistrationPendingApproval(p) => {
                self.registration(RegistrationChange::PendingApproval, p)
                    .await?
            }
            DomainEvent::RegistrationCancelled(p) => {
                self.registration(RegistrationChange::Cancelled, p).await?
            }
            DomainEvent::RegistrationRejected(p) => {
                self.registration(RegistrationChange::Rejected, p).await?
            }
            DomainEvent::RegistrationPromoted(p) => {
                self.registration(RegistrationChange::Promoted, p).await?
            }
            DomainEvent::RegistrationManageLinkRequested(p) => {
                self.registration(RegistrationChange::ManageLinkRequested, p)
                    .await?
            }
        };
        self.commit(claimed, work).await
    }

    /// One transaction: the processed mark first (it fails when the claim is lost), then messages, ledger rows and
    /// reminders. The delivery worker is woken after the commit.
    async fn commit(&self, claimed: &Claimed, work: Work) -> Result<bool, Failure> {
        let txn = cloverleaf_service_kit::db::begin_write(&self.db).await?;
        let outcome = if work.outgoing.is_empty() {
            work.note.clone()
        } else {
            format!(
                "{} message(s) queued{}",
                work.outgoing.len(),
                if work.note.is_empty() {
                    String::new()
                } else {
                    format!("; {}", work.note)
                }
            )
        };
        if !inbox::finish(&txn, claimed, &outcome).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        let queued = !work.outgoing.is_empty();
        let (messages, invites): (Vec<_>, Vec<_>) = work
            .outgoing
            .into_iter()
            .map(|outgoing| (outgoing.message, outgoing.invite))
            .unzip();
        let written = messages::enqueue_all(&txn, messages).await?;
        let sent: Vec<ledger::Sent<'_>> = written
            .iter()
            .zip(&invites)
            .filter_map(|(message, invite)| {
                let (invite, event_id) = (invite.as_ref()?, message.event_id?);
                Some(ledger::Sent {
                    event_id,
                    email: &invite.email,
                    uid: &invite.uid,
                    registration_id: invite.registration_id,
                    sequence: invite.planned.sequence,
                    offset: invite.planned.offset,
                    method: invite.planned.method,
                    content_hash: &invite.content_hash,
                    fingerprint: &invite.fingerprint,
                    message_id: message.id,
                    at: message.queued_at,
                })
            })
            .collect();
        ledger::record_all(&txn, sent).await?;
        if let Some((event_id, starts_at, offsets)) = work.reminders {
            reminders::schedule(&txn, event_id, starts_at, &offsets, self.clock.now()).await?;
        }
        if let Some(event_id) = work.drop_reminders {
            reminders::drop_pending(&txn, event_id, "the event was cancelled").await?;
        }
        txn.commit().await?;
        if queued {
            self.delivery.wake();
        }
        Ok(true)
    }

    /// `registration.erased` (contract 3): in one transaction with the processed mark, the person's address, name
    /// and the texts sent to them leave the delivery log, the invite ledger and the stored payloads of that
    /// registration's events; the rows stay, so counts are unchanged. Reminders hold nothing of anyone (they are
    /// per event; their letters are in the delivery log).
    async fn erase(&self, claimed: &Claimed, p: &ErasedPayload) -> Result<bool, Failure> {
        let txn = cloverleaf_service_kit::db::begin_write(&self.db).await?;
        if !inbox::finish(&txn, claimed, "personal data erased").await? {
            txn.rollback().await?;
            return Ok(false);
        }
        let messages = messages::erase_registration(&txn, p.registration_id).await?;
        let invites = ledger::erase_registration(&txn, p.event_id, p.registration_id).await?;
        let payloads = inbox::erase_registration(&txn, p.registration_id).await?;
        txn.commit().await?;
        tracing::info!(registration_id = %p.registration_id, event_id = %p.event_id, messages, invites, payloads,
            "a registration's personal data was erased");
        Ok(true)
    }

    async fn event_published(&self, p: &EventPublished) -> Result<Work, Failure> {
        let Some(event) = self.directory.event(p.event_id).await? else {
            return Ok(Work::note("ignored: scheduling no longer knows the event"));
        };
        Ok(self.reminders_of(&event, Work::note("reminders scheduled")))
    }

    /// Reminders follow a published event's start.
    fn reminders_of(&self, event: &Event, mut work: Work) -> Work {
        if event.status == "published" {
            work.reminders = Some((
                event.id,
                event.starts_at_utc(),
                // The event's own reminders win over its kind's.
                match &event.reminder_minutes {
                    Some(minutes) => minutes.iter().map(|&m| i64::from(m)).collect(),
                    None => self.reminders.minutes_for(&event.kind).to_vec(),
                },
            ));
        }
        work
    }

    /// The event as scheduling has it now, which must be at least the version the change announced.
    /// (`announced`: the change's sequence; a sender that left it out gave 0, older than none.)
    async fn event_after(&self, event_id: Uuid, announced: i32) -> Result<Option<Event>, Failure> {
        let event = self.directory.event(event_id).await?;
        if let Some(event) = &event
            && event.sequence < announced
        {
            self.directory.forget(event_id);
            return Err(Failure::Stale(format!(
                "scheduling answered event {} at sequence {}, older than the change's {announced}",
                event.id, event.sequence
            )));
        }
        Ok(event)
    }

    async fn event_updated(&self, p: &EventUpdated) -> Result<Work, Failure> {
        let Some(event) = self.event_after(p.event_id, p.sequence).await? else {
            return Ok(Work::note("ignored: scheduling no longer knows the event"));
        };
        if event.is_cancelled() {
            return Ok(Work::note(
                "nothing to send: the event has been cancelled since",
            ));
        }
        let agenda = self.directory.agenda(event.id).await?;
        let confirmed = self.directory.attendees(event.id, "confirmed").await?;
        let sent = ledger::of_event(&self.db, event.id).await?;
        let item = p
            .item_ids
            .first()
            .and_then(|id| agenda.iter().find(|item| item.id == *id));
        let item_title = item.map(|item| item.title.clone());
        let item_title_zh = item.and_then(|item| item.title_zh.clone());
        let item_title = item_title.or_else(|| {
            p.changes
                .iter()
                .find(|c| c.field == "title")
                .and_then(|c| c.before.as_str().or(c.after.as_str()).map(str::to_owned))
                .filter(|_| p.action.starts_with("item_"))
        });
        let changes = ChangeSet {
            action: p.action.clone(),
            changes: p.changes.clone(),
            item_title,
            item_title_zh,
            item_timezone: item.and_then(|item| item.timezone.parse().ok()),
            item_end_timezone: item.and_then(|item| item.end_zone().parse().ok()),
        };
        let mut work = Work::default();
        for attendee in &confirmed {
            let Some(to) = Addressee::from_attendee(attendee) else {
                continue;
            };
            // Only calendars that hold the invite are updated; someone whose confirmation is still on its way
            // gets the current version with it.
            let Some(last) = sent.get(&to.email.to_lowercase()) else {
                continue;
            };
            let last = LedgerEntry::from(last);
            if last.method != Method::Request {
                continue;
            }
            if let Some(outgoing) = self.invite_letter(
                LetterKind::EventUpdated,
                &event,
                &agenda,
                &to,
                Some(&last),
                Intent::Request { registered: false },
                Some(&changes),
            )? {
                work.outgoing.push(outgoing);
            }
        }
        work.note = format!("{} attendee(s) checked", confirmed.len());
        Ok(self.reminders_of(&event, work))
    }

    async fn event_cancelled(&self, p: &EventCancelled) -> Result<Work, Failure> {
        let Some(event) = self.event_after(p.event_id, p.sequence).await? else {
            return Ok(Work::note("ignored: scheduling no longer knows the event"));
        };
        let agenda = self.directory.agenda(event.id).await?;
        let sent = ledger::of_event(&self.db, event.id).await?;
        let mut work = Work {
            drop_reminders: Some(event.id),
            ..Work::default()
        };
        // Registration ends the event's registrations (`event_cancelled`, contract 2), perhaps before this is
        // handled: those are asked for too. Whoever holds an invite gets the CANCEL; the others a plain letter.
        for attendee in self
            .directory
            .attendees_in(event.id, &["confirmed", "event_cancelled"])
            .await?
        {
            let Some(to) = Addressee::from_attendee(&attendee) else {
                continue;
            };
            let last = sent.get(&to.email.to_lowercase()).map(LedgerEntry::from);
            let invited = last.as_ref().is_some_and(|l| l.method == Method::Request);
            if attendee.status == "event_cancelled" && !invited {
                work.outgoing.push(self.plain_letter(
                    LetterKind::EventCancelledWaitlist,
                    &event,
                    &to,
                    Extras {
                        waitlist_position: attendee.waitlist_position,
                        ..Extras::default()
                    },
                )?);
                continue;
            }
            if let Some(outgoing) = self.invite_letter(
                LetterKind::EventCancelled,
                &event,
                &agenda,
                &to,
                last.as_ref(),
                Intent::CancelEvent,
                None,
            )? {
                work.outgoing.push(outgoing);
            }
        }
        for attendee in self
            .directory
            .attendees_in(event.id, &["waitlisted", "pending_approval"])
            .await?
        {
            if let Some(to) = Addressee::from_attendee(&attendee) {
                work.outgoing.push(self.plain_letter(
                    LetterKind::EventCancelledWaitlist,
                    &event,
                    &to,
                    Extras {
                        waitlist_position: attendee.waitlist_position,
                        ..Extras::default()
                    },
                )?);
            }
        }
        Ok(work)
    }

    async fn registration(
        &self,
        kind: RegistrationChange,
        p: &RegistrationPayload,
    ) -> Result<Work, Failure> {
        let Some(email) = p.email.clone() else {
            return Ok(Work::note(
                "ignored: the registration has no address (erased)",
            ));
        };
        let Some(event) = self.directory.event(p.event_id).await? else {
            return Ok(Work::note("ignored: scheduling no longer knows the event"));
        };
        let link = self.directory.manage_link(p.registration_id).await?;
        let (manage_token, check_in_code) = match link {
            Some(link) => (Some(link.manage_token), link.check_in_code),
            None => (None, None),
        };
        let to = Addressee {
            registration_id: Some(p.registration_id),
            name: p.name.clone().unwrap_or_default(),
            email,
            locale: Locale::parse(&p.locale),
            timezone: p.timezone.as_deref().and_then(|z| z.parse().ok()),
            manage_token,
            check_in_code,
        };
        let last = ledger::find(&self.db, event.id, &to.email)
            .await?
            .as_ref()
            .map(LedgerEntry::from);
        let mut work = Work::default();
        let letter = match kind {
            RegistrationChange::Confirmed | RegistrationChange::Promoted
                if event.is_cancelled() =>
            {
                Some(self.plain_letter(
                    LetterKind::EventCancelled,
                    &event,
                    &to,
                    Extras::default(),
                )?)
            }
            RegistrationChange::Confirmed | RegistrationChange::Promoted => {
                let letter_kind = if kind == RegistrationChange::Promoted {
                    LetterKind::Promoted
                } else {
                    LetterKind::Confirmed
                };
                if to.manage_token.is_none() {
                    return Ok(Work::note("ignored: the registration was erased"));
                }
                let agenda = self.directory.agenda(event.id).await?;
                match self.invite_letter(
                    letter_kind,
                    &event,
                    &agenda,
                    &to,
                    last.as_ref(),
                    Intent::Request { registered: true },
                    None,
                )? {
                    Some(outgoing) => Some(outgoing),
                    // Their calendar already has this very invite: the letter alone.
                    None => Some(self.plain_letter(letter_kind, &event, &to, Extras::default())?),
                }
            }
            RegistrationChange::Waitlisted | RegistrationChange::PendingApproval
                if event.is_cancelled() =>
            {
                Some(self.plain_letter(
                    LetterKind::EventCancelledWaitlist,
                    &event,
                    &to,
                    Extras::default(),
                )?)
            }
            RegistrationChange::Waitlisted => Some(self.plain_letter(
                LetterKind::Waitlisted,
                &event,
                &to,
                Extras {
                    waitlist_position: p.waitlist_position,
                    ..Extras::default()
                },
            )?),
            RegistrationChange::PendingApproval => Some(self.plain_letter(
                LetterKind::PendingApproval,
                &event,
                &to,
                Extras::default(),
            )?),
            RegistrationChange::Rejected | RegistrationChange::Cancelled => {
                let letter_kind = if kind == RegistrationChange::Rejected {
                    LetterKind::Rejected
                } else {
                    LetterKind::Cancelled
                };
                let agenda = if last.as_ref().is_some_and(|l| l.method == Method::Request) {
                    self.directory.agenda(event.id).await?
                } else {
                    Vec::new()
                };
                match self.invite_letter(
                    letter_kind,
                    &event,
                    &agenda,
                    &to,
                    last.as_ref(),
                    Intent::Withdraw,
                    None,
                )? {
                    Some(outgoing) => Some(outgoing),
                    None => Some(self.plain_letter(letter_kind, &event, &to, Extras::default())?),
                }
            }
            RegistrationChange::ManageLinkRequested => {
                if to.manage_token.is_none() {
                    return Ok(Work::note("ignored: the registration was erased"));
                }
                Some(self.plain_letter(LetterKind::ManageLink, &event, &to, Extras::default())?)
            }
        };
        work.outgoing.extend(letter);
        Ok(work)
    }

    /// What the letters say about the event, in the reader's language.
    fn facts(&self, event: &Event, locale: Locale) -> Result<EventFacts, Error> {
        let zone = |name: &str| -> Result<Tz, Error> {
            name.parse().map_err(|_| {
                Error::Corrupt(format!("event {} has an unknown zone {name:?}", event.id))
            })
        };
        let timezone = zone(&event.timezone)?;
        let end_timezone = zone(event.end_zone()).unwrap_or(timezone);
        let location = event
            .venue
            .as_ref()
            .map(|venue| invites::venue_line(venue, locale));
        let links = self.links(event);
        Ok(EventFacts {
            title: locale
                .pick(&event.title, event.title_zh.as_deref())
                .to_owned(),
            end_timezone,
            kind: event.kind.clone(),
            starts_at: event.starts_at.with_timezone(&Utc),
            ends_at: event.ends_at.with_timezone(&Utc),
            timezone,
            location,
            online_url: event.online_url.clone(),
            page_url: links.page,
            feed_url: links.feed,
            organiser_name: event.organiser.name.clone(),
            organiser_email: event.organiser.email.clone(),
            cancel_reason: event.cancel_reason.clone(),
        })
    }

    fn links(&self, event: &Event) -> Links {
        Links {
            page: Some(format!("{}/events/{}", self.public_url, event.slug)),
            feed: Some(format!("{}{}", self.public_url, event.links.calendar)),
        }
    }

    /// `{public_url}/manage/{token}` (the short manage token, which the portal serves as the manage page; links sent
    /// before it, `/manage/{id}?token=<JWT>`, keep working).
    fn manage_url(&self, to: &Addressee) -> Option<String> {
        let token = to.manage_token.as_deref().filter(|t| !t.is_empty())?;
        to.registration_id?;
        let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        Some(format!("{}/manage/{token}", self.public_url))
    }

    /// The check-in code a letter shows as a QR code: in confirmations (and promotions off the waiting list) of
    /// events people come to in person — a webinar has no door.
    fn check_in_code<'a>(
        &self,
        kind: LetterKind,
        event: &Event,
        to: &'a Addressee,
    ) -> Option<&'a str> {
        let confirms = matches!(kind, LetterKind::Confirmed | LetterKind::Promoted);
        (confirms && event.kind != "webinar" && !event.is_cancelled())
            .then_some(to.check_in_code.as_deref())
            .flatten()
            .filter(|code| !code.is_empty())
    }

    /// What the email says, with the QR code of the check-in code when the letter shows it.
    fn content(
        &self,
        letter: &Letter,
        kind: LetterKind,
        event: &Event,
        to: &Addressee,
    ) -> Result<EmailContent, Error> {
        let mut content = EmailContent {
            subject: letter.subject.clone(),
            text: letter.text.clone(),
            html: letter.html.clone(),
            inline_images: Vec::new(),
        };
        if let Some(code) = self.check_in_code(kind, event, to) {
            let png = cloverleaf_qr::png(code, 8)
                .map_err(|e| Error::Corrupt(format!("check-in QR code: {e}")))?;
            content.inline_images.push(InlineImage {
                content_id: CHECK_IN_IMAGE_ID.to_owned(),
                file_name: "check-in.png".to_owned(),
                png,
            });
        }
        Ok(content)
    }

    fn render(
        &self,
        kind: LetterKind,
        event: &Event,
        to: &Addressee,
        extras: Extras<'_>,
        calendar: Option<CalendarNote>,
    ) -> Result<Letter, Error> {
        let facts = self.facts(event, to.locale)?;
        let recipient = Recipient {
            name: to.name.clone(),
            email: to.email.clone(),
            locale: to.locale,
            timezone: to.timezone,
        };
        self.templates
            .render(&LetterContext {
                kind,
                event: &facts,
                recipient: &recipient,
                manage_url: self.manage_url(to),
                check_in: self.check_in_code(kind, event, to).is_some(),
                waitlist_position: extras.waitlist_position,
                changes: extras.changes,
                reminder_minutes: extras.reminder_minutes,
                calendar,
            })
            .map_err(|e| Error::Templates(e.to_string()))
    }

    /// A letter without an invite.
    fn plain_letter(
        &self,
        kind: LetterKind,
        event: &Event,
        to: &Addressee,
        extras: Extras<'_>,
    ) -> Result<Outgoing, Error> {
        let letter = self.render(kind, event, to, extras, None)?;
        let message = plain_message(
            &self.from,
            &to.person(),
            &self.content(&letter, kind, event, to)?,
            &self.message_id_domain,
        )
        .map_err(|e| Error::Corrupt(format!("cannot build an email to {}: {e}", to.email)))?;
        Ok(Outgoing {
            message: self.new_message(kind, &message, event, to, &letter)?,
            invite: None,
        })
    }

    /// A letter with the invite the ledger allows (`None` when there is nothing to send to the calendar).
    #[allow(clippy::too_many_arguments)]
    fn invite_letter(
        &self,
        kind: LetterKind,
        event: &Event,
        agenda: &[AgendaItem],
        to: &Addressee,
        last: Option<&LedgerEntry>,
        intent: Intent,
        changes: Option<&ChangeSet>,
    ) -> Result<Option<Outgoing>, Error> {
        let attendee = to.person();
        let links = self.links(event);
        let now = Utc::now();
        let draft = invites::vevent(
            event,
            agenda,
            &links,
            &attendee,
            to.locale,
            event.sequence,
            None,
            now,
        )
        .map_err(Error::Corrupt)?;
        let whole_event = intent == Intent::CancelEvent;
        // Hash what the calendar would hold after this message: the status is part of it.
        let shaped = |method| invites::calendar(method, draft.clone(), whole_event);
        let method = match intent {
            Intent::Request { .. } => Method::Request,
            Intent::Withdraw | Intent::CancelEvent => Method::Cancel,
        };
        let probe = shaped(method);
        let vevent = probe
            .events
            .first()
            .ok_or_else(|| Error::Corrupt("an invite without its event".to_owned()))?;
        let content_hash = invites::content_hash(vevent);
        let fingerprint = invites::fingerprint(vevent);
        let Some(planned) =
            invites::plan(last, intent, event.sequence, &content_hash, &fingerprint)
        else {
            return Ok(None);
        };
        let mut calendar: Calendar = probe;
        for e in &mut calendar.events {
            e.sequence = u32::try_from(planned.sequence.max(0)).unwrap_or(0);
        }
        let note = match (planned.method, last) {
            (Method::Cancel, _) => CalendarNote::Cancel,
            (_, Some(l)) if l.method == Method::Request => CalendarNote::Update,
            _ => CalendarNote::Invite,
        };
        let extras = Extras {
            changes,
            ..Extras::default()
        };
        let letter = self.render(kind, event, to, extras, Some(note))?;
        let message = invite_message(
            &self.from,
            &attendee,
            &self.content(&letter, kind, event, to)?,
            &calendar,
            false,
            &self.message_id_domain,
        )
        .map_err(|e| Error::Corrupt(format!("cannot build an invite to {}: {e}", to.email)))?;
        Ok(Some(Outgoing {
            message: self.new_message(kind, &message, event, to, &letter)?,
            invite: Some(InviteRecord {
                email: to.email.to_lowercase(),
                uid: event.calendar_uid.clone(),
                registration_id: to.registration_id,
                planned,
                content_hash,
                fingerprint,
            }),
        }))
    }

    fn new_message(
        &self,
        kind: LetterKind,
        message: &lettre::Message,
        event: &Event,
        to: &Addressee,
        letter: &Letter,
    ) -> Result<messages::NewMessage, Error> {
        let mut new =
            messages::NewMessage::from_lettre(kind.as_str(), message, &to.name, &letter.subject)?
                .for_event(event.id);
        if let Some(id) = to.registration_id {
            new = new.for_registration(id);
        }
        Ok(new)
    }

    /// A due reminder: emails to every confirmed attendee, committed with the reminder's `sent` mark. `Ok(false)`:
    /// the claim was lost.
    pub async fn send_reminder(&self, claimed: &reminders::Claimed) -> Result<bool, Failure> {
        // Reminders are rare and must see the event as it is now: nothing read before is used, nor kept after.
        let scoped = self.scoped();
        let event = scoped.directory.event(claimed.event_id).await?;
        let now = self.clock.now();
        let drop_note = match &event {
            None => Some("scheduling no longer knows the event"),
            Some(e) if e.status != "published" => Some("the event is not published"),
            Some(e) if e.starts_at_utc() <= now => {
                Some("the event had started when the reminder was due")
            }
            Some(e)
                if e.starts_at_utc()
                    - chrono::Duration::minutes(i64::from(claimed.minutes_before))
                    > now =>
            {
                Some("the event was moved; a new reminder time applies")
            }
            _ => None,
        };
        let (event, outgoing) = match (event, drop_note) {
            (Some(event), None) => {
                let mut outgoing = Vec::new();
                for attendee in scoped.directory.attendees(event.id, "confirmed").await? {
                    if let Some(to) = Addressee::from_attendee(&attendee) {
                        outgoing.push(self.plain_letter(
                            LetterKind::Reminder,
                            &event,
                            &to,
                            Extras {
                                reminder_minutes: Some(i64::from(claimed.minutes_before)),
                                ..Extras::default()
                            },
                        )?);
                    }
                }
                (Some(event), outgoing)
            }
            _ => (None, Vec::new()),
        };
        let txn = self.db.begin().await?;
        let finished = match (&event, drop_note) {
            (Some(_), None) => {
                let count = i32::try_from(outgoing.len()).unwrap_or(i32::MAX);
                reminders::finish(&txn, claimed, reminders::Status::Sent, Some(count), None).await?
            }
            (_, note) => {
                reminders::finish(&txn, claimed, reminders::Status::Dropped, None, note).await?
            }
        };
        if !finished {
            txn.rollback().await?;
            return Ok(false);
        }
        let queued = !outgoing.is_empty();
        messages::enqueue_all(&txn, outgoing.into_iter().map(|o| o.message).collect()).await?;
        txn.commit().await?;
        if queued {
            self.delivery.wake();
        }
        Ok(true)
    }
}

/// The Content-ID the HTML's `<img src="cid:…">` names (the layouts write the same).
const CHECK_IN_IMAGE_ID: &str = "check-in-code@cloverleaf";
