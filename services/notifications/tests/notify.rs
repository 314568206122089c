//! What participants receive, end to end inside the services: real scheduling and registration send their domain
//! events to notifications' inbox, notifications asks them for the event and the attendees and sends through a real
//! SMTP server; every invite is checked with `../shared/tools/check-invite` (with `--series` over a mailbox). On
//! SQLite, or on PostgreSQL when CLOVERLEAF_TEST_DATABASE_URL is set.

mod support;

use std::time::Duration;

use chrono::{Duration as Span, TimeZone as _, Utc};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::outbox::InboxEvent;
use cloverleaf_service_kit::testing::check_invite;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{System, calendar_of, property, text_of};
use uuid::Uuid;

fn open_form(capacity: u32) -> Value {
    json!({ "capacity": capacity, "waitlist": true, "approval": "automatic" })
}

/// Register → agenda change → time change → cancel: one attendee's whole mailbox is a valid series, each invite
/// in their language with both zones, the same UID throughout and a SEQUENCE that only rises. If the ledger let an
/// update keep its SEQUENCE, or sent a REQUEST after the CANCEL, `check-invite --series` would fail.
#[tokio::test]
async fn one_attendees_mailbox_is_a_valid_series_through_changes_and_cancellation() {
    let system = System::start().await;
    let starts = Utc
        .with_ymd_and_hms(2027, 3, 10, 8, 0, 0)
        .single()
        .expect("date");
    let event = system
        .published_event(
            "webinar",
            "Data sharing in personalised medicine",
            "Europe/Berlin",
            starts,
            open_form(50),
        )
        .await;
    let registered = system
        .register(
            &event,
            "zhang.wei@example.cn",
            "张伟",
            json!({ "locale": "zh-CN", "timezone": "Asia/Shanghai" }),
        )
        .await;
    assert_eq!(registered["status"], "confirmed");
    let first = system.wait_for("zhang.wei@example.cn", 1).await;

    // An agenda change: the invite's description changes.
    system
        .schedule(Method::POST, &format!("/v1/events/{event}/items"), json!({
            "kind": "talk", "title": "Keynote: federated cohorts",
            "starts_at": (starts + Span::minutes(10)).to_rfc3339(), "ends_at": (starts + Span::minutes(50)).to_rfc3339(),
        }))
        .await;
    system.wait_for("zhang.wei@example.cn", 2).await;

    // A time change: an hour later.
    system
        .schedule(Method::PATCH, &format!("/v1/events/{event}"), json!({
            "starts_at": (starts + Span::hours(1)).to_rfc3339(), "ends_at": (starts + Span::hours(3)).to_rfc3339(),
        }))
        .await;
    system.wait_for("zhang.wei@example.cn", 3).await;

    system
        .schedule(
            Method::POST,
            &format!("/v1/events/{event}/cancel"),
            json!({ "reason": "Speaker unavailable" }),
        )
        .await;
    let mailbox = system.wait_for("zhang.wei@example.cn", 4).await;
    assert_eq!(mailbox[0], first[0]);

    let report = check_invite(&mailbox, true);
    assert!(report.contains("4 passed, 0 failed"), "{report}");
    let calendars: Vec<String> = mailbox
        .iter()
        .map(|m| calendar_of(m).expect("an invite in every email"))
        .collect();
    let methods: Vec<String> = calendars
        .iter()
        .map(|c| property(c, "METHOD").expect("METHOD"))
        .collect();
    assert_eq!(methods, ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]);
    let uids: Vec<String> = calendars
        .iter()
        .map(|c| property(c, "UID").expect("UID"))
        .collect();
    assert!(
        uids.iter().all(|u| *u == format!("{event}@cloverleaf")),
        "{uids:?}"
    );
    let sequences: Vec<u32> = calendars
        .iter()
        .map(|c| {
            property(c, "SEQUENCE")
                .expect("SEQUENCE")
                .parse()
                .expect("number")
        })
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] <= w[1]), "{sequences:?}");
    assert!(
        sequences[2] > sequences[1],
        "the time change raised the SEQUENCE: {sequences:?}"
    );
    assert_eq!(
        property(&calendars[3], "STATUS").as_deref(),
        Some("CANCELLED")
    );
    assert!(
        calendars[2].contains("DTSTART;TZID=Europe/Berlin:20270310T100000"),
        "{}",
        calendars[2]
    );
    assert!(calendars[0].contains("BEGIN:VTIMEZONE"));

    // In Chinese, with the event's zone and hers (09:00 Berlin is 16:00 in Shanghai), and her manage link.
    let confirmation = text_of(&mailbox[0]);
    assert!(confirmation.contains("张伟"), "{confirmation}");
    assert!(
        confirmation.contains("Europe/Berlin") && confirmation.contains("Asia/Shanghai"),
        "{confirmation}"
    );
    assert!(confirmation.contains("16:00"), "{confirmation}");
    // The manage link is the short `{public_url}/manage/{token}`, never the long `/manage/{id}?token=` one.
    assert!(
        confirmation.contains("https://events.example.org/manage/"),
        "{confirmation}"
    );
    assert!(!confirmation.contains("?token="), "{confirmation}");
    assert!(
        !confirmation.contains("CST") && confirmation.contains("UTC+1（Europe/Berlin）"),
        "{confirmation}"
    );
    let moved = text_of(&mailbox[2]);
    assert!(
        moved.contains("10:00"),
        "the new time is in the update: {moved}"
    );
    let cancelled = text_of(&mailbox[3]);
    assert!(cancelled.contains("Speaker unavailable"), "{cancelled}");

    keep_for_review("series", &mailbox);
}

/// The waiting list: the second person is told their position; when the first cancels with their manage token,
/// the first gets a CANCEL naming only them (no STATUS) and the second is promoted with an invite.
#[tokio::test]
async fn a_cancellation_withdraws_one_invite_and_promotes_the_waiting_list() {
    let system = System::start().await;
    let starts = Utc::now() + Span::days(20);
    let event = system
        .published_event(
            "workshop",
            "Stakeholder workshop Siena",
            "Europe/Rome",
            starts,
            open_form(1),
        )
        .await;
    let first = system
        .register(&event, "anna@example.eu", "Anna Rossi", json!({}))
        .await;
    assert_eq!(first["status"], "confirmed");
    let second = system
        .register(
            &event,
            "li.na@example.cn",
            "李娜",
            json!({ "locale": "zh-CN" }),
        )
        .await;
    assert_eq!(second["status"], "waitlisted");
    let waiting = system.wait_for("li.na@example.cn", 1).await;
    assert!(
        calendar_of(&waiting[0]).is_none(),
        "no invite while waiting"
    );
    let text = text_of(&waiting[0]);
    assert!(text.contains('1'), "the position: {text}");
    assert!(
        text.contains("https://events.example.org/manage/"),
        "{text}"
    );
    system.wait_for("anna@example.eu", 1).await;

    let token = first["manage_token"].as_str().expect("token");
    let id = first["id"].as_str().expect("id");
    let (status, answer) = system
        .call(
            &system.registration,
            Method::POST,
            &format!("/v1/registrations/{id}/cancel"),
            None,
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let anna = system.wait_for("anna@example.eu", 2).await;
    let cancel = calendar_of(&anna[1]).expect("a CANCEL for Anna");
    assert_eq!(property(&cancel, "METHOD").as_deref(), Some("CANCEL"));
    assert_eq!(
        property(&cancel, "STATUS"),
        None,
        "removing one attendee carries no STATUS"
    );
    assert!(check_invite(&anna, true).contains("2 passed, 0 failed"));

    let li = system.wait_for("li.na@example.cn", 2).await;
    let invite = calendar_of(&li[1]).expect("an invite for the promoted");
    assert_eq!(property(&invite, "METHOD").as_deref(), Some("REQUEST"));
    assert!(check_invite(&li[1..], true).contains("1 passed, 0 failed"));
    keep_for_review("withdraw", &[anna[1].clone(), li[1].clone()]);
}

/// Manual approval: applicants hear that their application is in; the rejected get an email without an invite,
/// the approved an invite.
#[tokio::test]
async fn rejected_applicants_get_an_email_and_no_invite() {
    let system = System::start().await;
    let starts = Utc::now() + Span::days(40);
    let event = system
        .published_event(
            "workshop",
            "Biobanks workshop",
            "Europe/Rome",
            starts,
            json!({ "capacity": 10, "waitlist": false, "approval": "manual" }),
        )
        .await;
    let approved = system
        .register(&event, "approved@example.eu", "Jan Novak", json!({}))
        .await;
    let rejected = system
        .register(&event, "rejected@example.eu", "Eva Berg", json!({}))
        .await;
    assert_eq!(approved["status"], "pending_approval");
    system.wait_for("approved@example.eu", 1).await;
    system.wait_for("rejected@example.eu", 1).await;
    let organiser = system.registration.organiser_token();
    for (who, action) in [(&approved, "approve"), (&rejected, "reject")] {
        let id = who["id"].as_str().expect("id");
        let (status, answer) = system
            .call(
                &system.registration,
                Method::POST,
                &format!("/v1/registrations/{id}/{action}"),
                None,
                Some(&organiser),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
    }
    let yes = system.wait_for("approved@example.eu", 2).await;
    assert_eq!(
        property(&calendar_of(&yes[1]).expect("invite"), "METHOD").as_deref(),
        Some("REQUEST")
    );
    let no = system.wait_for("rejected@example.eu", 2).await;
    assert!(
        no.iter().all(|m| calendar_of(m).is_none()),
        "no invite and no CANCEL for someone never invited"
    );
}

/// The inbox takes service tokens only and stores each event once: the same event twice sends one email.
#[tokio::test]
async fn the_inbox_takes_service_tokens_and_ignores_repeats() {
    let system = System::start().await;
    let starts = Utc::now() + Span::days(10);
    let event = system
        .published_event(
            "webinar",
            "Repeat webinar",
            "Europe/Brussels",
            starts,
            open_form(5),
        )
        .await;
    let registration = system
        .register(&event, "repeat@example.org", "Repeat Person", json!({}))
        .await;
    system.wait_for("repeat@example.org", 1).await;
    system.settle().await;

    let inbox_event = InboxEvent {
        id: Uuid::now_v7(),
        event_type: "registration.confirmed".to_owned(),
        aggregate_id: registration["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid"),
        source: "registration".to_owned(),
        occurred_at: Utc::now(),
        payload: json!({
            "registration_id": registration["id"], "event_id": event, "status": "confirmed",
            "email": "repeat@example.org", "name": "Repeat Person", "locale": "en", "timezone": null,
            "waitlist_position": null,
        }),
    };
    let body = serde_json::to_value(&inbox_event).expect("json");
    let app = &system.notifications;
    let (status, _) = system
        .call(app, Method::POST, "/v1/inbox", Some(body.clone()), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let organiser = app.organiser_token();
    let (status, _) = system
        .call(
            app,
            Method::POST,
            "/v1/inbox",
            Some(body.clone()),
            Some(&organiser),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let service = app.service_token(ServiceName::Registration, ServiceName::Notifications);
    let (status, answer) = system
        .call(
            app,
            Method::POST,
            "/v1/inbox",
            Some(body.clone()),
            Some(&service),
        )
        .await;
    assert_eq!(
        (status, answer["duplicate"].clone()),
        (StatusCode::ACCEPTED, json!(false)),
        "{answer}"
    );
    let (status, answer) = system
        .call(app, Method::POST, "/v1/inbox", Some(body), Some(&service))
        .await;
    assert_eq!(
        (status, answer["duplicate"].clone()),
        (StatusCode::ACCEPTED, json!(true)),
        "{answer}"
    );
    let mut bad = serde_json::to_value(&inbox_event).expect("json");
    bad["payload"] = json!("not an object");
    bad["id"] = json!(Uuid::now_v7());
    let (status, answer) = system
        .call(app, Method::POST, "/v1/inbox", Some(bad), Some(&service))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["errors"][0]["field"], "payload", "{answer}");
    system.settle().await;

    // The confirmation arrived again as a new event (a second, different id): the letter is sent, but the invite
    // is not — the calendar already holds exactly this one.
    let mailbox = system.wait_for("repeat@example.org", 2).await;
    assert!(calendar_of(&mailbox[0]).is_some());
    assert!(calendar_of(&mailbox[1]).is_none(), "the same invite twice");

    // The delivery log shows the organiser both, with the letters' kinds.
    let (status, log) = system
        .call(
            app,
            Method::GET,
            &format!("/v1/messages?event_id={event}"),
            None,
            Some(&organiser),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<&str> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["confirmed", "confirmed"], "{log}");
}

/// Reminders at their offsets by a clock the test moves: 24 h and 15 min before a webinar, each once to every
/// confirmed attendee; moving the webinar moves the reminder not sent yet; cancelling drops what is left.
#[tokio::test]
async fn reminders_go_out_at_their_offsets_once_and_follow_the_event() {
    let system = System::start().await;
    let now = cloverleaf_service_kit::clock::Clock::now(system.clock.as_ref());
    let starts = now + Span::days(3);
    let event = system
        .published_event(
            "webinar",
            "Reminder webinar",
            "Asia/Shanghai",
            starts,
            open_form(10),
        )
        .await;
    for who in ["r1@example.org", "r2@example.org"] {
        system.register(&event, who, "Reminded", json!({})).await;
        system.wait_for(who, 1).await;
    }
    system.settle().await;
    let organiser = system.notifications.organiser_token();
    let schedule = |body: Value| {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|r| {
                (
                    r["minutes_before"].as_i64().unwrap_or(0),
                    r["status"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let (_, reminders) = system
        .call(
            &system.notifications,
            Method::GET,
            &format!("/v1/reminders?event_id={event}"),
            None,
            Some(&organiser),
        )
        .await;
    assert_eq!(
        schedule(reminders),
        [(1440, "scheduled".to_owned()), (15, "scheduled".to_owned())]
    );

    // A day before: the 24-hour reminder, once each.
    system
        .clock
        .set(starts - Span::hours(24) + Span::seconds(1));
    for who in ["r1@example.org", "r2@example.org"] {
        let mailbox = system.wait_for(who, 2).await;
        assert!(calendar_of(&mailbox[1]).is_none());
        assert!(text_of(&mailbox[1]).contains("Reminder webinar"));
    }
    // The webinar moves a day later: the 15-minute reminder moves with it; the sent one is not sent again.
    system
        .schedule(Method::PATCH, &format!("/v1/events/{event}"), json!({
            "starts_at": (starts + Span::days(1)).to_rfc3339(), "ends_at": (starts + Span::days(1) + Span::hours(2)).to_rfc3339(),
        }))
        .await;
    system.wait_for("r1@example.org", 3).await; // the updated invite
    system.settle().await;
    system.clock.set(starts + Span::minutes(30));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        system.mailbox("r1@example.org").len(),
        3,
        "nothing at the old time"
    );
    system
        .clock
        .set(starts + Span::days(1) - Span::minutes(15) + Span::seconds(1));
    let mailbox = system.wait_for("r1@example.org", 4).await;
    assert!(
        text_of(&mailbox[3]).contains("15"),
        "{}",
        text_of(&mailbox[3])
    );
    system.wait_for("r2@example.org", 4).await;
    let (_, reminders) = system
        .call(
            &system.notifications,
            Method::GET,
            &format!("/v1/reminders?event_id={event}"),
            None,
            Some(&organiser),
        )
        .await;
    assert_eq!(
        schedule(reminders.clone()),
        [(1440, "sent".to_owned()), (15, "sent".to_owned())],
        "{reminders}"
    );
    assert!(
        reminders["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|r| r["recipients"] == 2)
    );

    // Another event cancelled before its reminders: they are dropped, and none goes out.
    let other = system
        .published_event(
            "workshop",
            "Cancelled workshop",
            "Europe/Rome",
            starts + Span::days(5),
            open_form(10),
        )
        .await;
    system
        .register(&other, "r3@example.org", "Reminded too", json!({}))
        .await;
    system.wait_for("r3@example.org", 1).await;
    system
        .schedule(
            Method::POST,
            &format!("/v1/events/{other}/cancel"),
            json!({}),
        )
        .await;
    system.wait_for("r3@example.org", 2).await;
    system.settle().await;
    system.clock.set(starts + Span::days(5) - Span::minutes(60));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(system.mailbox("r3@example.org").len(), 2);
    let (_, reminders) = system
        .call(
            &system.notifications,
            Method::GET,
            &format!("/v1/reminders?event_id={other}"),
            None,
            Some(&organiser),
        )
        .await;
    assert_eq!(schedule(reminders), [(2880, "dropped".to_owned())]);
}

/// An event's own reminders win over its kind's: a workshop set to 3 h and 10 min before gets those two, not the
/// kind's two days; changing them to 1 h drops the planned ones no longer listed (kept in the schedule, with why),
/// and the 1-hour one goes out once; `null` brings the kind's back. If notifications read the kind's settings only,
/// the first schedule would say 2880.
#[tokio::test]
async fn an_events_own_reminders_replace_its_kinds() {
    let system = System::start().await;
    let now = cloverleaf_service_kit::clock::Clock::now(system.clock.as_ref());
    let starts = now + Span::days(4);
    let event = system
        .published_event(
            "workshop",
            "Own reminders",
            "Europe/Rome",
            starts,
            open_form(10),
        )
        .await;
    system
        .register(&event, "own@example.org", "Reminded", json!({}))
        .await;
    system.wait_for("own@example.org", 1).await;
    let organiser = system.notifications.organiser_token();
    let schedule = || async {
        system.settle().await;
        let (_, body) = system
            .call(
                &system.notifications,
                Method::GET,
                &format!("/v1/reminders?event_id={event}"),
                None,
                Some(&organiser),
            )
            .await;
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|r| {
                (
                    r["minutes_before"].as_i64().unwrap_or(0),
                    r["status"].as_str().unwrap_or("").to_owned(),
                    r["note"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    // The schedule once it shows `expected`: an event's change reaches notifications through scheduling's outbox a
    // moment after the PATCH has answered. What it shows at the deadline otherwise.
    let until = |expected: Vec<(i64, String, String)>| async move {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let now = schedule().await;
            if now == expected || std::time::Instant::now() > deadline {
                return (now, expected);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    assert_eq!(
        schedule().await,
        [(2880, "scheduled".into(), String::new())]
    );

    system
        .schedule(
            Method::PATCH,
            &format!("/v1/events/{event}"),
            json!({ "reminder_minutes": [10, 180] }),
        )
        .await;
    let gone = "no longer among the event's reminders".to_owned();
    let (now, expected) = until(vec![
        (2880, "dropped".into(), gone.clone()),
        (180, "scheduled".into(), String::new()),
        (10, "scheduled".into(), String::new()),
    ])
    .await;
    assert_eq!(now, expected);
    system
        .schedule(
            Method::PATCH,
            &format!("/v1/events/{event}"),
            json!({ "reminder_minutes": [60] }),
        )
        .await;
    let (now, expected) = until(vec![
        (2880, "dropped".into(), gone.clone()),
        (180, "dropped".into(), gone.clone()),
        (60, "scheduled".into(), String::new()),
        (10, "dropped".into(), gone.clone()),
    ])
    .await;
    assert_eq!(now, expected);
    // Nothing about reminders reaches the attendee's calendar: no update was sent for these changes.
    assert_eq!(system.mailbox("own@example.org").len(), 1);
    system
        .clock
        .set(starts - Span::minutes(60) + Span::seconds(1));
    let mailbox = system.wait_for("own@example.org", 2).await;
    assert!(text_of(&mailbox[1]).contains("Own reminders"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(system.mailbox("own@example.org").len(), 2, "sent once");

    // Back to the kind's: its two days had passed by now (the clock is an hour before the start).
    system
        .schedule(
            Method::PATCH,
            &format!("/v1/events/{event}"),
            json!({ "reminder_minutes": null }),
        )
        .await;
    let rows = schedule().await;
    assert!(
        rows.iter()
            .any(|(m, status, _)| *m == 2880 && status == "dropped"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(m, status, _)| *m == 60 && status == "sent"),
        "{rows:?}"
    );
}

/// Two notifications replicas on one database work through the same inbox and mail queue: a burst of
/// registrations, then the event cancelled — everyone gets each email exactly once. If claims were not exclusive
/// (lease, SKIP LOCKED / BEGIN IMMEDIATE) or the processed mark did not commit with the messages, someone would get
/// a confirmation or a CANCEL twice.
#[tokio::test]
async fn two_replicas_send_every_email_exactly_once() {
    let system = System::start().await;
    let _replica = system.replica().await;
    let starts = Utc::now() + Span::days(15);
    let event = system
        .published_event(
            "webinar",
            "Replicated webinar",
            "Europe/Paris",
            starts,
            open_form(12),
        )
        .await;
    let people: Vec<String> = (0..20).map(|i| format!("p{i:02}@example.org")).collect();
    let registrations = people
        .iter()
        .map(|email| system.register(&event, email, "Participant", json!({})));
    let answers = futures::future::join_all(registrations).await;
    let confirmed = answers
        .iter()
        .filter(|a| a["status"] == "confirmed")
        .count();
    assert_eq!(confirmed, 12);
    for email in &people {
        system.wait_for(email, 1).await;
    }
    system
        .schedule(
            Method::POST,
            &format!("/v1/events/{event}/cancel"),
            json!({}),
        )
        .await;
    for email in &people {
        let mailbox = system.wait_for(email, 2).await;
        let invited = calendar_of(&mailbox[0]).is_some();
        assert_eq!(
            calendar_of(&mailbox[1]).is_some(),
            invited,
            "a CANCEL exactly for those invited"
        );
    }
    system.settle().await;
    assert_eq!(system.smtp.received().len(), 40);
}

/// When scheduling cannot be asked, a received event waits (with backoff and the reason recorded) and nothing is
/// sent; nothing is lost either: it stays unprocessed until scheduling answers.
#[tokio::test]
async fn an_event_waits_while_scheduling_is_unreachable() {
    let mut system = System::start().await;
    let starts = Utc::now() + Span::days(10);
    let event = system
        .published_event(
            "webinar",
            "Unreachable",
            "Europe/Brussels",
            starts,
            open_form(5),
        )
        .await;
    system.settle().await;
    system.scheduling.stop().await;
    system.register_fails_or_waits(&event).await;
}

impl System {
    /// With scheduling stopped, registration answers 503; an event posted straight to the inbox stays
    /// unprocessed with its error recorded.
    async fn register_fails_or_waits(&self, event: &str) {
        let (status, _) = self
            .call(
                &self.registration,
                Method::POST,
                "/v1/registrations",
                Some(json!({
                "event_id": event, "email": "late@example.org", "name": "Late", "consent": true })),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let service = self
            .notifications
            .service_token(ServiceName::Scheduling, ServiceName::Notifications);
        let body = json!({
            "id": Uuid::now_v7(), "type": "event.updated", "aggregate_id": event, "source": "scheduling",
            "occurred_at": Utc::now(), "payload": { "event_id": event, "sequence": 1, "action": "updated",
            "changed_fields": ["title"], "item_ids": [], "calendar_visible": true, "changes": [] },
        });
        let (status, _) = self
            .call(
                &self.notifications,
                Method::POST,
                "/v1/inbox",
                Some(body),
                Some(&service),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let db = cloverleaf_service_kit::db::connect(self.notifications.database.url(), 1)
            .await
            .expect("db");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            use sea_orm::EntityTrait;
            let rows = cloverleaf_notifications::store::inbox::inbox_event::Entity::find()
                .all(&db)
                .await
                .expect("rows");
            // The posted event waits; so may the event's `event.published`, if it arrived after scheduling
            // stopped (events of one programme event are handled in order, so the later one waits behind it).
            // Whichever is first in line is retried with its error recorded; nothing is processed meanwhile.
            let waiting: Vec<_> = rows.iter().filter(|r| r.processed_at.is_none()).collect();
            assert!(
                rows.iter()
                    .all(|r| r.processed_at.is_none() || r.event_type == "event.published")
            );
            if waiting.iter().any(|r| r.event_type == "event.updated")
                && let Some(first) = waiting.iter().find(|r| r.attempts >= 2)
            {
                assert!(
                    first
                        .last_error
                        .as_deref()
                        .is_some_and(|e| e.contains("scheduling")),
                    "{:?}",
                    first.last_error
                );
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the event was not retried: {rows:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Copies a test's emails to `$CLOVERLEAF_KEEP_MAIL/<name>/` when set, for people to read.
fn keep_for_review(name: &str, files: &[std::path::PathBuf]) {
    if let Ok(dir) = std::env::var("CLOVERLEAF_KEEP_MAIL") {
        let dir = std::path::Path::new(&dir).join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (i, file) in files.iter().enumerate() {
            std::fs::copy(file, dir.join(format!("{:02}.eml", i + 1))).expect("copy");
        }
    }
}
