//! The letters' unit tests: fixtures here; rendering, template loading and overrides, and change lines in the
//! submodules. Snapshots of every letter are in `services/notifications/tests/letters.rs`.

#![allow(clippy::unwrap_used)]

use super::templates::*;
use super::tidy::*;
use super::vars::*;
use super::*;
use cloverleaf_locale::text::duration;
use serde_json::json;
use std::collections::BTreeSet;

mod changes;
mod overrides;
mod rendering;

use super::fixtures::{recipient, utc};

/// A webinar on Saturday 15 May 2027, 09:00–10:30 in Berlin (07:00–08:30 UTC).
fn webinar() -> EventFacts {
    EventFacts {
        title: "Data sharing in personalised medicine".to_owned(),
        kind: "webinar".to_owned(),
        starts_at: utc(2027, 5, 15, 7, 0),
        ends_at: utc(2027, 5, 15, 8, 30),
        timezone: chrono_tz::Europe::Berlin,
        end_timezone: chrono_tz::Europe::Berlin,
        location: None,
        online_url: Some("https://meet.example.org/j/42".to_owned()),
        page_url: Some("https://events.example.org/e/data-sharing".to_owned()),
        feed_url: Some("https://events.example.org/e/data-sharing/agenda.ics".to_owned()),
        organiser_name: "Cloverleaf Research Network".to_owned(),
        organiser_email: "events@cloverleaf.example.org".to_owned(),
        cancel_reason: None,
    }
}

/// A three-day workshop in Heidelberg, 12–14 May 2027.
fn workshop() -> EventFacts {
    EventFacts {
        title: "Biobank governance workshop".to_owned(),
        kind: "workshop".to_owned(),
        starts_at: utc(2027, 5, 12, 7, 0),
        ends_at: utc(2027, 5, 14, 15, 0),
        timezone: chrono_tz::Europe::Berlin,
        end_timezone: chrono_tz::Europe::Berlin,
        location: Some(
            "DKFZ Communication Centre, Im Neuenheimer Feld 280, Heidelberg, Germany".to_owned(),
        ),
        online_url: None,
        page_url: Some("https://events.example.org/e/biobank".to_owned()),
        feed_url: None,
        organiser_name: "Cloverleaf Research Network".to_owned(),
        organiser_email: "events@cloverleaf.example.org".to_owned(),
        cancel_reason: Some("The venue is closed for urgent repairs.".to_owned()),
    }
}

fn start_change() -> ChangeSet {
    ChangeSet {
        action: "updated".to_owned(),
        changes: vec![
            FieldChange {
                field: "starts_at".to_owned(),
                before: json!("2027-05-15T09:30:00+02:00"),
                after: json!("2027-05-15T10:30:00+02:00"),
            },
            FieldChange {
                field: "online_url".to_owned(),
                before: json!("https://meet.example.org/j/41"),
                after: json!("https://meet.example.org/j/42"),
            },
        ],
        item_title: None,
        ..ChangeSet::default()
    }
}

fn context<'a>(
    kind: LetterKind,
    event: &'a EventFacts,
    recipient: &'a Recipient,
    changes: &'a ChangeSet,
) -> LetterContext<'a> {
    super::fixtures::context(
        kind,
        event,
        recipient,
        changes,
        "https://events.example.org/r/tok3n",
        1440,
    )
}

fn templates() -> Templates {
    Templates::new(None).unwrap()
}

/// The change lines of `changes` with the built-in wording.
fn describe(changes: &ChangeSet, tz: Tz, end_tz: Tz, locale: Locale) -> Vec<String> {
    templates()
        .describe_changes(changes, tz, end_tz, locale)
        .unwrap()
}
