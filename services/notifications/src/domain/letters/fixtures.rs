//! Inputs the letters' tests share — the unit tests in `tests/` and the snapshot suite `tests/letters.rs` (which
//! turns on feature `test-support`): a moment in UTC, a recipient in each language, and a context for any kind.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use cloverleaf_locale::Locale;

use super::{CalendarNote, ChangeSet, EventFacts, LetterContext, LetterKind, Recipient};

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// Ada Lovelace in English, 张伟 in Chinese.
pub fn recipient(locale: Locale, timezone: Option<Tz>) -> Recipient {
    let (name, email) = match locale {
        Locale::En => ("Ada Lovelace", "ada@example.org"),
        Locale::ZhCn => ("张伟", "zhang.wei@example.cn"),
    };
    Recipient {
        name: name.to_owned(),
        email: email.to_owned(),
        locale,
        timezone,
    }
}

/// The calendar note each kind carries when it is sent with an invite or a cancellation.
pub fn calendar(kind: LetterKind) -> Option<CalendarNote> {
    match kind {
        LetterKind::Confirmed | LetterKind::Promoted => Some(CalendarNote::Invite),
        LetterKind::EventUpdated => Some(CalendarNote::Update),
        LetterKind::Cancelled | LetterKind::Rejected | LetterKind::EventCancelled => {
            Some(CalendarNote::Cancel)
        }
        _ => None,
    }
}

/// A letter of `kind` with everything it may show: a manage link, the check-in QR code of a confirmation, place 3 on a waiting list, the change set of an
/// update, a reminder `reminder_minutes` before the start, and the calendar note.
pub fn context<'a>(
    kind: LetterKind,
    event: &'a EventFacts,
    recipient: &'a Recipient,
    changes: &'a ChangeSet,
    manage_url: &str,
    reminder_minutes: i64,
) -> LetterContext<'a> {
    LetterContext {
        kind,
        event,
        recipient,
        manage_url: Some(manage_url.to_owned()),
        check_in: matches!(kind, LetterKind::Confirmed | LetterKind::Promoted)
            && event.kind != "webinar",
        waitlist_position: matches!(
            kind,
            LetterKind::Waitlisted | LetterKind::EventCancelledWaitlist
        )
        .then_some(3),
        changes: (kind == LetterKind::EventUpdated).then_some(changes),
        reminder_minutes: (kind == LetterKind::Reminder).then_some(reminder_minutes),
        calendar: calendar(kind),
    }
}
