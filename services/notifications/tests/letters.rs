//! Snapshots of every letter kind in both languages, text and HTML, from fixed inputs: a tour that starts in Berlin
//! (a zone with summer time) and ends in Shanghai (another zone), read by someone in New York; a webinar across the
//! night Berlin's clocks go back (the repeated hour); and the change lines of an `event.updated` letter for each kind
//! of change (the event's own fields, an agenda moved with the start, items added, removed and updated).
//!
//! The snapshots live in `tests/snapshots/`; a change to any email shows in review. To accept intended changes run
//! `INSTA_UPDATE=always cargo test -p cloverleaf-notifications --test letters` and read the diff.

#![allow(clippy::unwrap_used)]

use cloverleaf_locale::Locale;
use cloverleaf_notifications::domain::letters::fixtures::{self, recipient, utc};
use cloverleaf_notifications::domain::letters::{
    ChangeSet, EventFacts, FieldChange, LetterContext, LetterKind, Recipient, Templates,
};
use serde_json::{Value, json};

const LOCALES: [Locale; 2] = [Locale::En, Locale::ZhCn];

/// A study tour from Berlin (UTC+2 in September) to Nanjing (Asia/Shanghai, UTC+8), 1–5 September 2027.
fn tour() -> EventFacts {
    EventFacts {
        title: "Biobanks of the Yangtze delta <study tour> & visits".to_owned(),
        kind: "tour".to_owned(),
        starts_at: utc(2027, 9, 1, 7, 0),
        ends_at: utc(2027, 9, 5, 10, 0),
        timezone: chrono_tz::Europe::Berlin,
        end_timezone: chrono_tz::Asia::Shanghai,
        location: Some(
            "Jiangsu Provincial Hospital, 300 Guangzhou Road, Nanjing, China".to_owned(),
        ),
        online_url: None,
        page_url: Some("https://events.example.org/e/yangtze-tour".to_owned()),
        feed_url: Some("https://events.example.org/e/yangtze-tour/agenda.ics".to_owned()),
        organiser_name: "Cloverleaf Research Network".to_owned(),
        organiser_email: "events@cloverleaf.example.org".to_owned(),
        cancel_reason: Some("Too few visas were granted in time.".to_owned()),
    }
}

/// A webinar in Berlin on Sunday 31 October 2027 from 02:30 (UTC+2, the first one) to 04:00 (UTC+1).
fn night_webinar() -> EventFacts {
    EventFacts {
        title: "Night shift: data stewardship".to_owned(),
        kind: "webinar".to_owned(),
        starts_at: utc(2027, 10, 31, 0, 30),
        ends_at: utc(2027, 10, 31, 3, 0),
        timezone: chrono_tz::Europe::Berlin,
        end_timezone: chrono_tz::Europe::Berlin,
        location: None,
        online_url: Some("https://meet.example.org/j/99".to_owned()),
        page_url: Some("https://events.example.org/e/night".to_owned()),
        feed_url: None,
        organiser_name: "Cloverleaf Research Network".to_owned(),
        organiser_email: "events@cloverleaf.example.org".to_owned(),
        cancel_reason: None,
    }
}

fn change(field: &str, before: Value, after: Value) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        before,
        after,
    }
}

/// The tour moved a day later and an hour earlier in the day, with its agenda, and much else changed.
fn event_change() -> ChangeSet {
    ChangeSet {
        action: "updated".to_owned(),
        changes: vec![
            change(
                "starts_at",
                json!("2027-09-01T09:00:00+02:00"),
                json!("2027-09-02T08:00:00+02:00"),
            ),
            change(
                "ends_at",
                json!("2027-09-05T18:00:00+08:00"),
                json!("2027-09-05T20:00:00+08:00"),
            ),
            change(
                "agenda",
                Value::Null,
                json!({"moved_by_seconds": 82_800, "items": 3}),
            ),
            change("title", json!("Yangtze tour"), json!("Yangtze delta tour")),
            change("kind", json!("workshop"), json!("tour")),
            change(
                "venue",
                json!({"name": "DKFZ", "address": "Im Neuenheimer Feld 280", "city": "Heidelberg", "country": "Germany"}),
                Value::Null,
            ),
            change(
                "online_url",
                json!("https://a.example"),
                json!("https://b.example"),
            ),
            change("speakers", json!(["A", "B"]), json!(["A", "C"])),
            change(
                "end_timezone",
                json!("Europe/Berlin"),
                json!("Asia/Shanghai"),
            ),
            change("capacity_note", json!(1), json!(2)),
            change("status", json!("published"), json!("published")),
        ],
        ..ChangeSet::default()
    }
}

fn agenda_earlier(items: Option<i64>) -> ChangeSet {
    let mut after = json!({"moved_by_seconds": -5_400});
    if let Some(n) = items {
        after["items"] = json!(n);
    }
    ChangeSet {
        action: "updated".to_owned(),
        changes: vec![change("agenda", Value::Null, after)],
        ..ChangeSet::default()
    }
}

/// An overnight flight added: leaves Frankfurt, lands in Guangzhou the next day.
fn item_added() -> ChangeSet {
    ChangeSet {
        action: "item_added".to_owned(),
        changes: vec![
            change("title", Value::Null, json!("Flight to Guangzhou")),
            change("title_zh", Value::Null, json!("飞往广州的航班")),
            change("kind", Value::Null, json!("transfer")),
            change("timezone", Value::Null, json!("Europe/Berlin")),
            change("end_timezone", Value::Null, json!("Asia/Shanghai")),
            change("starts_at", Value::Null, json!("2027-09-01T20:00:00+02:00")),
            change("ends_at", Value::Null, json!("2027-09-02T13:30:00+08:00")),
        ],
        ..ChangeSet::default()
    }
}

/// A dinner in Shanghai removed; no Chinese title.
fn item_removed() -> ChangeSet {
    ChangeSet {
        action: "item_removed".to_owned(),
        changes: vec![
            change("title", json!("Welcome dinner"), Value::Null),
            change("timezone", json!("Asia/Shanghai"), Value::Null),
            change("starts_at", json!("2027-09-03T19:00:00+08:00"), Value::Null),
            change("ends_at", json!("2027-09-03T21:00:00+08:00"), Value::Null),
        ],
        ..ChangeSet::default()
    }
}

/// An item with neither title nor times, added and removed.
fn bare_item(action: &str) -> ChangeSet {
    ChangeSet {
        action: action.to_owned(),
        changes: vec![change("room_id", Value::Null, json!("r1"))],
        ..ChangeSet::default()
    }
}

/// The hotel's check-in moved across Berlin's repeated hour, and other fields of the item.
fn item_updated(titled: bool) -> ChangeSet {
    ChangeSet {
        action: "item_updated".to_owned(),
        changes: vec![
            change(
                "check_in",
                json!("2027-10-31T02:30:00+02:00"),
                json!("2027-10-31T02:30:00+01:00"),
            ),
            change(
                "starts_at",
                json!("2027-10-30T18:00:00+02:00"),
                json!("2027-10-31T18:00:00+01:00"),
            ),
            change("location", json!("Hotel Adlon"), Value::Null),
            change("hotel", json!({"rooms": 3}), json!({"rooms": 4})),
            change(
                "agenda",
                Value::Null,
                json!({"moved_by_seconds": 3_600, "items": 1}),
            ),
            change("mystery", json!("a"), json!("b")),
        ],
        item_title: titled.then(|| "Hotel night".to_owned()),
        item_title_zh: titled.then(|| "酒店住宿".to_owned()),
        item_timezone: Some(chrono_tz::Europe::Berlin),
        item_end_timezone: None,
    }
}

fn context<'a>(
    kind: LetterKind,
    event: &'a EventFacts,
    recipient: &'a Recipient,
    changes: &'a ChangeSet,
) -> LetterContext<'a> {
    fixtures::context(
        kind,
        event,
        recipient,
        changes,
        "https://events.example.org/manage/tok3n",
        2880,
    )
}

fn letter_snapshot(subject: &str, body: &str) -> String {
    format!("Subject: {subject}\n\n{body}")
}

#[test]
fn every_kind_in_both_languages_text_and_html() {
    let templates = Templates::new(None).unwrap();
    let event = tour();
    let changes = event_change();
    for locale in LOCALES {
        let reader = recipient(locale, Some(chrono_tz::America::New_York));
        for kind in LetterKind::ALL {
            let letter = templates
                .render(&context(kind, &event, &reader, &changes))
                .unwrap();
            let name = format!("{}-{}", kind.as_str(), locale.code());
            insta::assert_snapshot!(
                format!("{name}-text"),
                letter_snapshot(&letter.subject, &letter.text)
            );
            insta::assert_snapshot!(
                format!("{name}-html"),
                letter_snapshot(&letter.subject, &letter.html)
            );
        }
    }
}

#[test]
fn letters_without_optional_values() {
    let templates = Templates::new(None).unwrap();
    let mut event = night_webinar();
    event.page_url = None;
    event.online_url = None;
    for locale in LOCALES {
        let reader = recipient(locale, None);
        for kind in [
            LetterKind::Reminder,
            LetterKind::Waitlisted,
            LetterKind::EventUpdated,
        ] {
            let ctx = LetterContext {
                kind,
                event: &event,
                recipient: &reader,
                manage_url: None,
                check_in: false,
                waitlist_position: None,
                changes: None,
                reminder_minutes: None,
                calendar: None,
            };
            let letter = templates.render(&ctx).unwrap();
            insta::assert_snapshot!(
                format!("bare-{}-{}-text", kind.as_str(), locale.code()),
                letter_snapshot(&letter.subject, &letter.text)
            );
        }
    }
}

#[test]
fn the_repeated_hour_in_a_reminder() {
    let templates = Templates::new(None).unwrap();
    let event = night_webinar();
    for locale in LOCALES {
        // Someone in Shanghai: their local time is shown too.
        let reader = recipient(locale, Some(chrono_tz::Asia::Shanghai));
        let none = ChangeSet::default();
        let mut ctx = context(LetterKind::Reminder, &event, &reader, &none);
        ctx.reminder_minutes = Some(15);
        let letter = templates.render(&ctx).unwrap();
        insta::assert_snapshot!(
            format!("night-reminder-{}-text", locale.code()),
            letter_snapshot(&letter.subject, &letter.text)
        );
        insta::assert_snapshot!(
            format!("night-reminder-{}-html", locale.code()),
            letter_snapshot(&letter.subject, &letter.html)
        );
    }
}

#[test]
fn change_lines_of_every_kind_of_change() {
    let templates = Templates::new(None).unwrap();
    let event = tour();
    let cases = [
        ("event", event_change()),
        ("agenda-earlier-one", agenda_earlier(Some(1))),
        ("agenda-earlier-unknown", agenda_earlier(None)),
        ("item-added", item_added()),
        ("item-removed", item_removed()),
        ("bare-item-added", bare_item("item_added")),
        ("bare-item-removed", bare_item("item_removed")),
        ("item-updated", item_updated(true)),
        ("untitled-item-updated", item_updated(false)),
    ];
    for locale in LOCALES {
        let reader = recipient(locale, None);
        for (name, changes) in &cases {
            let ctx = context(LetterKind::EventUpdated, &event, &reader, changes);
            let letter = templates.render(&ctx).unwrap();
            insta::assert_snapshot!(
                format!("changes-{name}-{}-text", locale.code()),
                letter.text
            );
            insta::assert_snapshot!(
                format!("changes-{name}-{}-html", locale.code()),
                letter.html
            );
        }
    }
}
