//! The wire, kept in view: a snapshot of every payload's and read model's JSON (`tests/snapshots`; a change shows
//! in review and fails CI until accepted), the bytes the producers wrote with `json!` before this crate, and old
//! payloads as they lie in outboxes today, which must still be read.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use cloverleaf_contracts::events::{
    EventCancelled, EventPublished, EventUpdated, FieldChange, RegistrationChange,
    RegistrationChanged, RegistrationErased, types,
};
use cloverleaf_contracts::{
    AgendaItem, Contact, DomainEvent, Event, EventKind, EventLinks, EventStatus, FromWireError,
    Hotel, HotelStay, ItemKind, ManageLink, Organiser, Page, Person, Registration,
    RegistrationStatus, Room, Transfer, Venue, Visit,
};
use serde_json::{Value, json};
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + n)
}

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).expect("a time")
}

fn utc(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0)
        .single()
        .expect("a time")
}

fn registration_changed() -> RegistrationChanged {
    RegistrationChanged {
        email: Some("ada@example.org".into()),
        event_id: id(1),
        locale: "zh-CN".into(),
        name: Some("Ada Lovelace".into()),
        registration_id: id(2),
        status: "waitlisted".into(),
        timezone: Some("Asia/Shanghai".into()),
        waitlist_position: Some(3),
    }
}

fn every_event() -> Vec<DomainEvent> {
    let mut all = vec![
        DomainEvent::EventPublished(EventPublished {
            end_timezone: "Asia/Shanghai".into(),
            ends_at: utc(2027, 3, 20, 10),
            event_id: id(1),
            kind: "tour".into(),
            sequence: 0,
            starts_at: utc(2027, 3, 10, 8),
            timezone: "Europe/Berlin".into(),
            title: "PerMed study tour".into(),
            title_zh: Some("精准医学考察".into()),
        }),
        DomainEvent::EventUpdated(EventUpdated {
            event_id: id(1),
            sequence: 2,
            action: "item_updated".into(),
            changed_fields: vec!["starts_at".into()],
            item_ids: vec![id(3)],
            calendar_visible: true,
            changes: vec![FieldChange {
                field: "starts_at".into(),
                before: json!("2027-03-10T09:00:00+01:00"),
                after: json!("2027-03-10T10:00:00+01:00"),
            }],
            change_id: id(4),
        }),
        DomainEvent::EventCancelled(EventCancelled {
            event_id: id(1),
            reason: Some("Speaker unavailable".into()),
            sequence: 3,
        }),
        DomainEvent::RegistrationErased(RegistrationErased {
            event_id: id(1),
            registration_id: id(2),
        }),
    ];
    for change in [
        RegistrationChange::Confirmed,
        RegistrationChange::Waitlisted,
        RegistrationChange::PendingApproval,
        RegistrationChange::Cancelled,
        RegistrationChange::Rejected,
        RegistrationChange::Promoted,
        RegistrationChange::ManageLinkRequested,
    ] {
        all.push(change.event(registration_changed()));
    }
    all
}

#[test]
fn every_type_has_one_variant_and_comes_back_from_the_wire() {
    let all = every_event();
    let mut names: Vec<&str> = all.iter().map(DomainEvent::type_name).collect();
    names.sort_unstable();
    let mut expected = types::ALL.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for event in all {
        assert_eq!(event.version(), 1);
        let back = DomainEvent::from_wire(event.type_name(), None, event.payload_json())
            .expect("read back");
        assert_eq!(back, event);
        assert!(
            event.type_name().starts_with(types::REGISTRATION_PREFIX)
                == event.type_name().starts_with("registration.")
        );
    }
}

#[test]
fn unknown_types_and_versions_are_told_apart() {
    assert!(matches!(
        DomainEvent::from_wire("registration.teleported", None, json!({})),
        Err(FromWireError::UnknownType(t)) if t == "registration.teleported"
    ));
    assert!(matches!(
        DomainEvent::from_wire(
            types::EVENT_CANCELLED,
            Some(2),
            json!({ "event_id": id(1) })
        ),
        Err(FromWireError::UnknownVersion { version: 2, .. })
    ));
    assert!(matches!(
        DomainEvent::from_wire(types::EVENT_CANCELLED, None, json!({ "sequence": 1 })),
        Err(FromWireError::Payload(_))
    ));
}

#[test]
fn payload_snapshots() {
    for event in every_event() {
        insta::assert_json_snapshot!(format!("payload-{}", event.type_name()), event);
    }
}

/// The bytes the producers wrote before this crate: `json!` (whose map orders keys alphabetically) in scheduling's
/// `publish` and `cancel`, registration's `payload()` and erasure; `UpdatedPayload` was a struct in this order.
#[test]
fn payload_bytes_are_those_the_producers_wrote_before() {
    for event in every_event() {
        let before = match &event {
            DomainEvent::EventPublished(p) => json!({
                "event_id": p.event_id, "sequence": p.sequence, "kind": p.kind, "title": p.title,
                "title_zh": p.title_zh, "starts_at": p.starts_at, "ends_at": p.ends_at, "timezone": p.timezone,
                "end_timezone": p.end_timezone,
            })
            .to_string(),
            DomainEvent::EventCancelled(p) => {
                json!({ "event_id": p.event_id, "sequence": p.sequence, "reason": p.reason }).to_string()
            }
            DomainEvent::RegistrationErased(p) => {
                json!({ "registration_id": p.registration_id, "event_id": p.event_id }).to_string()
            }
            DomainEvent::EventUpdated(p) => format!(
                r#"{{"event_id":"{}","sequence":{},"action":"{}","changed_fields":{},"item_ids":{},"calendar_visible":{},"changes":{},"change_id":"{}"}}"#,
                p.event_id,
                p.sequence,
                p.action,
                json!(p.changed_fields),
                json!(p.item_ids),
                p.calendar_visible,
                serde_json::to_string(&p.changes).expect("json"),
                p.change_id
            ),
            other => {
                let (_, p) = other.registration_change().expect("a registration change");
                json!({
                    "registration_id": p.registration_id, "event_id": p.event_id, "status": p.status,
                    "email": p.email, "name": p.name, "locale": p.locale, "timezone": p.timezone,
                    "waitlist_position": p.waitlist_position,
                })
                .to_string()
            }
        };
        assert_eq!(
            serde_json::to_string(&event).expect("json"),
            before,
            "{}",
            event.type_name()
        );
    }
}

/// Payloads as they lie in outboxes and inboxes today, written by every version of the producers so far.
#[test]
fn old_payloads_still_read() {
    let stored: &[(&str, &str)] = &[
        // event.published before the Chinese texts and the end zone.
        (
            "event.published",
            r#"{"ends_at":"2027-03-10T10:00:00Z","event_id":"0193a1b2-0000-7000-8000-000000000001","kind":"webinar","sequence":0,"starts_at":"2027-03-10T09:00:00Z","timezone":"Europe/Berlin","title":"PerMed"}"#,
        ),
        // …with `title_zh` but no `end_timezone`.
        (
            "event.published",
            r#"{"ends_at":"2027-03-10T10:00:00Z","event_id":"0193a1b2-0000-7000-8000-000000000001","kind":"webinar","sequence":0,"starts_at":"2027-03-10T09:00:00Z","timezone":"Europe/Berlin","title":"PerMed","title_zh":null}"#,
        ),
        // …today's.
        (
            "event.published",
            r#"{"end_timezone":"Asia/Shanghai","ends_at":"2027-03-20T10:00:00Z","event_id":"0193a1b2-0000-7000-8000-000000000001","kind":"tour","sequence":0,"starts_at":"2027-03-10T08:00:00Z","timezone":"Europe/Berlin","title":"Tour","title_zh":"考察"}"#,
        ),
        // event.updated before `change_id` and `changes`.
        (
            "event.updated",
            r#"{"event_id":"0193a1b2-0000-7000-8000-000000000001","sequence":1,"action":"updated","changed_fields":["title"],"item_ids":[],"calendar_visible":true}"#,
        ),
        // …today's.
        (
            "event.updated",
            r#"{"event_id":"0193a1b2-0000-7000-8000-000000000001","sequence":2,"action":"item_updated","changed_fields":["starts_at"],"item_ids":["0193a1b2-0000-7000-8000-000000000003"],"calendar_visible":true,"changes":[{"field":"starts_at","before":"2027-03-10T09:00:00+01:00","after":"2027-03-10T10:00:00+01:00"}],"change_id":"0193a1b2-0000-7000-8000-000000000004"}"#,
        ),
        (
            "event.cancelled",
            r#"{"event_id":"0193a1b2-0000-7000-8000-000000000001","reason":null,"sequence":2}"#,
        ),
        // registration.* before `locale`.
        (
            "registration.confirmed",
            r#"{"email":"ada@example.org","event_id":"0193a1b2-0000-7000-8000-000000000001","name":"Ada","registration_id":"0193a1b2-0000-7000-8000-000000000002","status":"confirmed","timezone":null,"waitlist_position":null}"#,
        ),
        // …today's, and one scrubbed by an erasure (personal fields null).
        (
            "registration.waitlisted",
            r#"{"email":"ada@example.org","event_id":"0193a1b2-0000-7000-8000-000000000001","locale":"zh-CN","name":"Ada","registration_id":"0193a1b2-0000-7000-8000-000000000002","status":"waitlisted","timezone":"Asia/Shanghai","waitlist_position":2}"#,
        ),
        (
            "registration.promoted",
            r#"{"email":null,"event_id":"0193a1b2-0000-7000-8000-000000000001","locale":"en","name":null,"registration_id":"0193a1b2-0000-7000-8000-000000000002","status":"confirmed","timezone":null,"waitlist_position":null}"#,
        ),
        (
            "registration.manage_link_requested",
            r#"{"email":"ada@example.org","event_id":"0193a1b2-0000-7000-8000-000000000001","locale":"en","name":"Ada","registration_id":"0193a1b2-0000-7000-8000-000000000002","status":"confirmed","timezone":null,"waitlist_position":null}"#,
        ),
        // …as notifications' inbox keeps one after an erasure (only what is not personal).
        (
            "registration.confirmed",
            r#"{"erased":true,"event_id":"0193a1b2-0000-7000-8000-000000000001","locale":"en","registration_id":"0193a1b2-0000-7000-8000-000000000002","status":"confirmed","waitlist_position":null}"#,
        ),
        (
            "registration.erased",
            r#"{"event_id":"0193a1b2-0000-7000-8000-000000000001","registration_id":"0193a1b2-0000-7000-8000-000000000002"}"#,
        ),
    ];
    for (event_type, payload) in stored {
        let value: Value = serde_json::from_str(payload).expect("json");
        let event = DomainEvent::from_wire(event_type, None, value)
            .unwrap_or_else(|e| panic!("{event_type} {payload}: {e}"));
        assert_eq!(event.type_name(), *event_type);
    }
    let Ok(DomainEvent::RegistrationConfirmed(before_locale)) = DomainEvent::from_wire(
        "registration.confirmed",
        None,
        serde_json::from_str(stored[6].1).expect("json"),
    ) else {
        panic!("a confirmation");
    };
    assert_eq!(before_locale.locale, "en");
    let Ok(DomainEvent::EventPublished(before_zone)) = DomainEvent::from_wire(
        "event.published",
        None,
        serde_json::from_str(stored[0].1).expect("json"),
    ) else {
        panic!("a publication");
    };
    assert_eq!(before_zone.end_timezone, "");
    assert_eq!(before_zone.title_zh, None);
}

fn event() -> Event {
    Event {
        id: id(1),
        slug: "permed-tour".into(),
        kind: "tour".into(),
        title: "PerMed study tour".into(),
        title_zh: Some("精准医学考察".into()),
        summary: Some("EU–China cooperation".into()),
        summary_zh: None,
        description: None,
        description_zh: None,
        timezone: "Europe/Berlin".into(),
        end_timezone: "Asia/Shanghai".into(),
        own_end_timezone: false,
        starts_at: at("2027-03-10T09:00:00+01:00"),
        ends_at: at("2027-03-20T18:00:00+08:00"),
        online_url: None,
        venue: Some(Venue {
            id: Some(id(5)),
            name: "Charité Campus Mitte".into(),
            address: Some("Charitéplatz 1".into()),
            city: Some("Berlin".into()),
            country: Some("DE".into()),
        }),
        organiser: Organiser {
            name: "PerMed Office".into(),
            email: "office@permed.example.org".into(),
        },
        status: "published".into(),
        sequence: 2,
        calendar_uid: format!("{}@cloverleaf", id(1)),
        created_at: utc(2026, 11, 1, 9),
        updated_at: utc(2026, 11, 2, 9),
        published_at: Some(utc(2026, 11, 2, 9)),
        cancelled_at: None,
        cancel_reason: None,
        links: EventLinks {
            calendar: format!("/v1/events/{}/calendar.ics", id(1)),
            items: format!("/v1/events/{}/items", id(1)),
        },
        team_id: Some(id(7)),
        shared_with: vec![id(8)],
        reminder_minutes: Some(vec![2880, 60]),
    }
}

fn items() -> Vec<AgendaItem> {
    let person = Person {
        id: id(6),
        name: "Li Na".into(),
        affiliation: Some("Nanjing University".into()),
        email: None,
    };
    let base = AgendaItem {
        id: id(7),
        event_id: id(1),
        kind: "talk".into(),
        title: "Keynote".into(),
        title_zh: Some("主题演讲".into()),
        starts_at: at("2027-03-10T09:10:00+01:00"),
        ends_at: at("2027-03-10T09:50:00+01:00"),
        timezone: "Europe/Berlin".into(),
        own_timezone: false,
        end_timezone: "Europe/Berlin".into(),
        own_end_timezone: false,
        description: None,
        description_zh: None,
        location: None,
        room: Some(Room {
            id: id(8),
            venue_id: id(5),
            name: "Hörsaal 1".into(),
            capacity: Some(120),
        }),
        host: Some(person.clone()),
        speakers: vec![person],
        visit: None,
        transfer: None,
        hotel: None,
        sequence: 0,
        calendar_uid: format!("{}@cloverleaf", id(7)),
        created_at: utc(2026, 11, 1, 9),
        updated_at: utc(2026, 11, 1, 9),
    };
    vec![
        base.clone(),
        AgendaItem {
            id: id(9),
            kind: "visit".into(),
            room: None,
            host: None,
            speakers: Vec::new(),
            visit: Some(Visit {
                institution: Some("BGI".into()),
                address: None,
                city: Some("Shenzhen".into()),
                contact: Some(Contact {
                    name: Some("Wang".into()),
                    email: None,
                    phone: Some("+86 755 0000".into()),
                }),
            }),
            ..base.clone()
        },
        AgendaItem {
            id: id(10),
            kind: "transfer".into(),
            end_timezone: "Asia/Shanghai".into(),
            own_end_timezone: true,
            ends_at: at("2027-03-11T07:00:00+08:00"),
            room: None,
            host: None,
            speakers: Vec::new(),
            transfer: Some(Transfer {
                from: Some("Berlin".into()),
                to: Some("Nanjing".into()),
                carrier: Some("Lufthansa".into()),
                number: Some("LH 780".into()),
            }),
            ..base.clone()
        },
        AgendaItem {
            id: id(11),
            kind: "hotel".into(),
            room: None,
            host: None,
            speakers: Vec::new(),
            hotel: Some(HotelStay {
                hotel: Hotel {
                    name: Some("Jinling".into()),
                    address: None,
                    city: Some("Nanjing".into()),
                },
                check_in: at("2027-03-11T15:00:00+08:00"),
                check_out: at("2027-03-12T11:00:00+08:00"),
            }),
            ..base
        },
    ]
}

fn registration() -> Registration {
    Registration {
        id: id(2),
        event_id: id(1),
        status: "confirmed".into(),
        waitlist_position: None,
        email: Some("ada@example.org".into()),
        name: Some("Ada Lovelace".into()),
        affiliation: None,
        country: Some("GB".into()),
        answers: serde_json::Map::new(),
        locale: "en".into(),
        timezone: None,
        created_at: utc(2026, 11, 3, 9),
        confirmed_at: Some(utc(2026, 11, 3, 9)),
        cancelled_at: None,
        checked_in_at: None,
        manage_token: Some("k3y".into()),
        check_in_code: Some("d00r".into()),
    }
}

#[test]
fn read_model_snapshots() {
    insta::assert_json_snapshot!("read-event", event());
    insta::assert_json_snapshot!(
        "read-agenda-page",
        Page {
            items: items(),
            next_cursor: Some("eyJrIjoxfQ".into()),
        }
    );
    insta::assert_json_snapshot!(
        "read-registration-page",
        Page {
            items: vec![registration()],
            next_cursor: None,
        }
    );
    insta::assert_json_snapshot!(
        "read-manage-link",
        ManageLink {
            registration_id: id(2),
            manage_token: "k3y".into(),
            check_in_code: Some("d00r".into()),
        }
    );
}

#[test]
fn read_models_round_trip() {
    let event = event();
    let back: Event =
        serde_json::from_value(serde_json::to_value(&event).expect("json")).expect("event");
    assert_eq!(back, event);
    for item in items() {
        let back: AgendaItem =
            serde_json::from_value(serde_json::to_value(&item).expect("json")).expect("item");
        assert_eq!(back, item);
    }
    let back: Registration =
        serde_json::from_value(serde_json::to_value(registration()).expect("json"))
            .expect("registration");
    assert_eq!(back, registration());
}

/// Answers as an older scheduling and registration (and the services' test fakes) give them still read: what
/// came later has its default.
#[test]
fn older_answers_still_read() {
    let event: Event = serde_json::from_value(json!({
        "id": id(1), "slug": "permed", "kind": "webinar", "title": "PerMed", "summary": null,
        "timezone": "Europe/Berlin", "starts_at": "2027-03-10T09:00:00+01:00", "ends_at": "2027-03-10T10:00:00+01:00",
        "online_url": "https://meet.example.org/permed", "venue": null,
        "organiser": { "name": "PerMed Office", "email": "office@permed.example.org" },
        "status": "published", "sequence": 1, "calendar_uid": "x@cloverleaf", "cancel_reason": null,
        "links": { "calendar": "/v1/events/x/calendar.ics" },
    }))
    .expect("an event without end_timezone, title_zh and the rest");
    assert_eq!(event.end_zone(), "Europe/Berlin");
    assert!(event.is_published());
    assert_eq!(event.links.items, "");
    let item: AgendaItem = serde_json::from_value(json!({
        "id": id(7), "kind": "talk", "title": "Keynote", "starts_at": "2027-03-10T09:10:00+01:00",
        "ends_at": "2027-03-10T09:50:00+01:00", "timezone": "Europe/Berlin", "location": null,
    }))
    .expect("an item without end_timezone");
    assert_eq!(item.end_zone(), "Europe/Berlin");
    let attendee: Registration = serde_json::from_value(json!({
        "id": id(2), "status": "confirmed", "email": "ada@example.org", "name": "Ada",
        "timezone": null, "waitlist_position": null,
    }))
    .expect("an attendee");
    assert_eq!(attendee.locale, "en");
    let page: Page<Registration> =
        serde_json::from_value(json!({ "items": [] })).expect("a last page");
    assert_eq!(page.next_cursor, None);
}

/// The names readers compare the string fields with are the names the enums have on the wire.
#[test]
fn kind_and_status_names_are_their_wire_names() {
    fn wire<T: serde::Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .expect("json")
            .as_str()
            .expect("a string")
            .to_owned()
    }
    for kind in EventKind::ALL {
        assert_eq!(kind.as_str(), wire(kind));
    }
    for status in EventStatus::ALL {
        assert_eq!(status.as_str(), wire(status));
    }
    for kind in ItemKind::ALL {
        assert_eq!(kind.as_str(), wire(kind));
    }
    for status in RegistrationStatus::ALL {
        assert_eq!(status.as_str(), wire(status));
    }
}
