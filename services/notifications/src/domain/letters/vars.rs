//! What the templates see: the letter's variables, the event with its times written out, and for the layouts the
//! rendered subject and body. The lists of known names let start-up reject a template that uses any other.

use cloverleaf_locale::{text, time};
use serde::Serialize;

use super::{CalendarNote, EventFacts, LetterContext};

/// The variables every template sees (the fields of [`Vars`]).
pub(super) const LETTER_VARIABLES: &[&str] = &[
    "kind",
    "locale",
    "name",
    "email",
    "event",
    "manage_url",
    "check_in",
    "waitlist_position",
    "changes",
    "reminder_in",
    "calendar",
];
/// The variables only the layouts see (the fields of [`LayoutVars`]).
pub(super) const LAYOUT_VARIABLES: &[&str] = &["subject", "body", "paragraphs"];
/// The fields of `event` (those of [`EventFacts`] and [`EventVars`]).
pub(super) const EVENT_FIELDS: &[&str] = &[
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "location",
    "online_url",
    "page_url",
    "feed_url",
    "organiser_name",
    "organiser_email",
    "cancel_reason",
    "timezone",
    "when",
    "when_local",
];
/// The variables the kind templates see.
#[derive(Serialize)]
pub(super) struct Vars<'a> {
    kind: &'static str,
    locale: &'static str,
    name: &'a str,
    email: &'a str,
    event: EventVars<'a>,
    manage_url: Option<&'a str>,
    check_in: bool,
    waitlist_position: Option<i64>,
    /// The change lines, filled in by the renderer (they need the wording templates).
    pub(super) changes: Vec<String>,
    reminder_in: Option<String>,
    calendar: Option<&'static str>,
}

/// `event`: the facts plus the times written out.
#[derive(Serialize)]
struct EventVars<'a> {
    #[serde(flatten)]
    facts: &'a EventFacts,
    timezone: &'static str,
    /// The span in the event's zone.
    when: String,
    /// The span in the participant's zone, when that is at a different offset.
    when_local: Option<String>,
}

/// The variables the layouts see: the letter's, the rendered subject and the body (whole and in paragraphs).
#[derive(Serialize)]
pub(super) struct LayoutVars<'a> {
    #[serde(flatten)]
    pub(super) letter: &'a Vars<'a>,
    pub(super) subject: &'a str,
    pub(super) body: &'a str,
    pub(super) paragraphs: &'a [String],
}

impl<'a> Vars<'a> {
    pub(super) fn new(ctx: &'a LetterContext<'a>) -> Self {
        let event = ctx.event;
        let locale = ctx.recipient.locale;
        let when = time::labelled_span(
            event.starts_at,
            event.timezone,
            event.ends_at,
            event.end_timezone,
            locale,
        );
        let when_local = ctx
            .recipient
            .timezone
            .filter(|own| {
                !time::same_offset(event.starts_at, event.timezone, *own)
                    || !time::same_offset(event.ends_at, event.end_timezone, *own)
            })
            .map(|own| time::labelled_span(event.starts_at, own, event.ends_at, own, locale));
        Vars {
            kind: ctx.kind.as_str(),
            locale: locale.code(),
            name: &ctx.recipient.name,
            email: &ctx.recipient.email,
            event: EventVars {
                facts: event,
                timezone: event.timezone.name(),
                when,
                when_local,
            },
            manage_url: ctx.manage_url.as_deref(),
            check_in: ctx.check_in,
            waitlist_position: ctx.waitlist_position,
            changes: Vec::new(),
            reminder_in: ctx
                .reminder_minutes
                .and_then(|minutes| text::duration(minutes, locale)),
            calendar: ctx.calendar.map(CalendarNote::as_str),
        }
    }
}
