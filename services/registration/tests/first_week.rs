//! What a programme office met in its first week (issue 15), through HTTP as they met it, on SQLite and PostgreSQL:
//! "no limit" forms, numbers from input on their way to the database, registrations of a cancelled event, erasure
//! reaching the outbox, short manage links, the CSV's times and language, questions in two languages.

mod support;

use std::time::{Duration, Instant};

use cloverleaf_auth::TokenRequest;
use cloverleaf_service_kit::config::ServiceName;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::System;

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Cancels an event in scheduling, as the organiser does.
async fn cancel_event(system: &System, event: &str) {
    let response = system
        .scheduling
        .http
        .post(system.scheduling.url(&format!("/v1/events/{event}/cancel")))
        .bearer_auth(system.scheduling.organiser_token())
        .json(&json!({ "reason": "the speakers cannot travel" }))
        .send()
        .await
        .expect("cancel");
    assert_eq!(response.status(), StatusCode::OK);
}

/// Waits until registration has seen the cancellation (scheduling's relay delivered it to registration's inbox).
async fn wait_for_status(system: &System, id: &str, wanted: &str) -> Value {
    let started = Instant::now();
    loop {
        let body = system
            .organiser_get(&format!("/v1/registrations/{id}"))
            .await;
        if body["status"] == wanted {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still {} after 15 s",
            body["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Item 1: `"capacity": null` answered 500 (a LIMIT of u64::MAX panicked in sea-query-sqlx) and, on a first save,
/// left no form, so registering gave 404. Now: no limit, end to end; and raising to no limit promotes everyone.
#[tokio::test]
async fn no_limit_takes_every_registration() {
    let system = System::start().await;
    let event = system.published_event("Open webinar").await;
    let (status, form) = system
        .put_form(&event, json!({ "capacity": null, "waitlist": false }))
        .await;
    assert_eq!(status, StatusCode::OK, "first save: {form}");
    assert!(form["capacity"].is_null() && form["seats_left"].is_null());
    for n in 0..25 {
        let (status, body) = system
            .register(&event, &format!("p{n}@example.org"), &format!("P {n}"))
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::CREATED, Some("confirmed")),
            "{body}"
        );
    }
    let form: Value = system
        .registration
        .http
        .get(system.registration.url(&format!("/v1/forms/{event}")))
        .send()
        .await
        .expect("form")
        .json()
        .await
        .expect("json");
    assert_eq!(form["confirmed"], 25);
    assert!(form["seats_left"].is_null(), "{form}");
    assert_eq!(form["open"], true);

    // A full form with a waiting list, then "no limit": everyone waiting moves up.
    let other = system.published_event("Small webinar").await;
    system
        .put_form(&other, json!({ "capacity": 1, "waitlist": true }))
        .await;
    let mut waiting = Vec::new();
    for n in 0..4 {
        let (_, body) = system
            .register(&other, &format!("w{n}@example.org"), "W")
            .await;
        waiting.push(body);
    }
    assert_eq!(waiting[3]["status"], "waitlisted");
    let (status, form) = system
        .put_form(&other, json!({ "capacity": null, "waitlist": true }))
        .await;
    assert_eq!(status, StatusCode::OK, "{form}");
    assert_eq!(form["confirmed"], 4);
    let list = system
        .organiser_get(&format!("/v1/registrations?event_id={other}"))
        .await;
    assert_eq!(list["counts"], json!({ "confirmed": 4 }));
}

/// Item 1's family: every number from input on its way to the database is checked first (422 naming it), never
/// passed on to panic or fail in the driver.
#[tokio::test]
async fn numbers_from_input_are_checked_before_the_database() {
    let system = System::start().await;
    let event = system.published_event("Numbers").await;
    for capacity in [
        json!(-1),
        json!(1_000_001),
        json!(9_223_372_036_854_775_807_i64),
    ] {
        let (status, problem) = system
            .put_form(&event, json!({ "capacity": capacity }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{capacity}");
        assert_eq!(fields(&problem), ["capacity"], "{capacity}: {problem}");
    }
    for capacity in [
        json!(18_446_744_073_709_551_615_u64),
        json!(2.5),
        json!("10"),
    ] {
        let (status, problem) = system
            .put_form(&event, json!({ "capacity": capacity }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{capacity}");
        assert!(
            problem.to_string().contains("capacity"),
            "{capacity}: {problem}"
        );
    }
    let (status, _) = system
        .put_form(&event, json!({ "capacity": 0, "waitlist": true }))
        .await;
    assert_eq!(status, StatusCode::OK, "no seat, only the waiting list");
    let (_, body) = system.register(&event, "w@example.org", "W").await;
    assert_eq!(body["status"], "waitlisted");

    let admin = system.registration.token_for(cloverleaf_auth::Role::Admin);
    for list in [
        format!("/v1/registrations?event_id={event}&"),
        "/v1/accounts?".to_owned(),
    ] {
        for query in [
            "limit=0",
            "limit=501",
            "limit=-1",
            "limit=18446744073709551615",
            "limit=99999999999999999999",
            "limit=1.5",
            "cursor=not-a-cursor",
            "cursor=bnVsbA",
            "cursor=%00",
            // A cursor that decodes to a text holding a NUL byte (PostgreSQL refuses it in text).
            "cursor=Ilx1MDAwMCI",
        ] {
            let (status, problem) = system
                .send(Method::GET, &format!("{list}{query}"), None, Some(&admin))
                .await;
            let field = query.split('=').next().unwrap_or_default();
            assert_eq!(
                (status, fields(&problem)),
                (StatusCode::UNPROCESSABLE_ENTITY, vec![field.to_owned()]),
                "{list}{query}: {problem}"
            );
        }
    }
    let (status, page) = system
        .send(
            Method::GET,
            &format!("/v1/registrations?event_id={event}&limit=500"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
}

/// Contract 2 (item 3): scheduling's `event.cancelled` ends the event's registrations in registration, the counts
/// show it, nothing changes them any more, and nobody registers after it.
#[tokio::test]
async fn a_cancelled_event_ends_its_registrations() {
    let system = System::start().await;
    let event = system.published_event("Webinar to cancel").await;
    system
        .put_form(
            &event,
            json!({ "capacity": 2, "waitlist": true,
                    "questions": [{ "id": "topic", "label": "Topic", "type": "text" }] }),
        )
        .await;
    let mut people = Vec::new();
    for n in 0..4 {
        let (status, body) = system
            .register(&event, &format!("c{n}@example.org"), &format!("C {n}"))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        people.push(body);
    }
    // One leaves before the cancellation: that one stays "cancelled".
    let (status, _) = system
        .send(
            Method::POST,
            &format!(
                "/v1/registrations/{}/cancel",
                people[3]["id"].as_str().expect("id")
            ),
            None,
            people[3]["manage_token"].as_str(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = system.outbox().await.len();

    cancel_event(&system, &event).await;
    let first = people[0]["id"].as_str().expect("id");
    let ended = wait_for_status(&system, first, "event_cancelled").await;
    assert!(ended["cancelled_at"].is_string(), "{ended}");
    let list = system
        .organiser_get(&format!("/v1/registrations?event_id={event}"))
        .await;
    assert_eq!(
        list["counts"],
        json!({ "event_cancelled": 3, "cancelled": 1 }),
        "{list}"
    );
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|r| r["waitlist_position"].is_null())
    );
    let (status, only) = system
        .send(
            Method::GET,
            &format!("/v1/registrations?event_id={event}&status=event_cancelled"),
            None,
            Some(&system.organiser.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(only["items"].as_array().map(Vec::len), Some(3));
    let form = system.organiser_get(&format!("/v1/forms/{event}")).await;
    assert_eq!(
        (
            &form["confirmed"],
            &form["seats_left"],
            &form["open"],
            &form["event_cancelled"]
        ),
        (&json!(0), &json!(0), &json!(false), &json!(true)),
        "{form}"
    );
    assert_eq!(
        system.outbox().await.len(),
        before,
        "no registration.* event per ended registration"
    );

    // The participant sees it; changing or cancelling is refused with a reason; so are the organiser's actions.
    let token = people[0]["manage_token"].as_str().expect("token");
    let (status, mine) = system
        .send(Method::GET, "/v1/registrations/mine", None, Some(token))
        .await;
    assert_eq!(
        (status, &mine["status"]),
        (StatusCode::OK, &json!("event_cancelled"))
    );
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/v1/registrations/{first}"),
            Some(json!({ "name": "New Name" })),
        ),
        (
            Method::POST,
            format!("/v1/registrations/{first}/cancel"),
            None,
        ),
    ] {
        let (status, problem) = system.send(method, &path, body, Some(token)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {problem}");
        assert!(
            problem["type"]
                .as_str()
                .unwrap_or_default()
                .ends_with("event-cancelled"),
            "{problem}"
        );
    }
    for action in ["approve", "reject", "check-in"] {
        let (status, problem) = system
            .organiser_post(&format!("/v1/registrations/{first}/{action}"))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{action}: {problem}");
    }
    // Registering after the cancellation is refused; changing the form too.
    let (status, problem) = system.register(&event, "late@example.org", "Late").await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(problem.to_string().contains("event-cancelled"), "{problem}");
    let (status, _) = system
        .put_form(&event, json!({ "capacity": 10, "waitlist": true }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Erasure still works.
    let (status, _) = system
        .send(
            Method::DELETE,
            &format!("/v1/registrations/{first}"),
            None,
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// The inbox takes service tokens only, and a repeated event (the relay delivers at least once) changes nothing.
#[tokio::test]
async fn the_inbox_is_for_services_and_idempotent() {
    let system = System::start().await;
    let event = system.published_event("Inbox").await;
    system
        .put_form(&event, json!({ "capacity": 5, "waitlist": false }))
        .await;
    let (_, a) = system.register(&event, "a@example.org", "A").await;
    let envelope = |id: uuid::Uuid, kind: &str| {
        json!({ "id": id, "type": kind, "aggregate_id": event, "source": "scheduling",
                "occurred_at": chrono::Utc::now(), "payload": { "event_id": event, "reason": "x" } })
    };
    let cancelled = envelope(uuid::Uuid::now_v7(), "event.cancelled");
    let service = system
        .registration
        .service_token(ServiceName::Scheduling, ServiceName::Registration);
    let (status, _) = system
        .send(Method::POST, "/v1/inbox", Some(cancelled.clone()), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = system
        .send(
            Method::POST,
            "/v1/inbox",
            Some(cancelled.clone()),
            Some(&system.organiser.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = system
        .send(
            Method::POST,
            "/v1/inbox",
            Some(
                json!({ "id": uuid::Uuid::now_v7(), "type": "", "aggregate_id": event,
                "source": "scheduling", "occurred_at": chrono::Utc::now(), "payload": [] }),
            ),
            Some(&service),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["type", "payload"]);

    let (status, other) = system
        .send(
            Method::POST,
            "/v1/inbox",
            Some(envelope(uuid::Uuid::now_v7(), "event.updated")),
            Some(&service),
        )
        .await;
    assert_eq!(
        (status, &other["duplicate"]),
        (StatusCode::ACCEPTED, &json!(false))
    );
    let a_id = a["id"].as_str().expect("id");
    assert_eq!(
        system
            .organiser_get(&format!("/v1/registrations/{a_id}"))
            .await["status"],
        "confirmed",
        "other events change nothing"
    );
    let (status, first) = system
        .send(
            Method::POST,
            "/v1/inbox",
            Some(cancelled.clone()),
            Some(&service),
        )
        .await;
    assert_eq!(
        (status, &first["duplicate"]),
        (StatusCode::ACCEPTED, &json!(false))
    );
    let (status, again) = system
        .send(Method::POST, "/v1/inbox", Some(cancelled), Some(&service))
        .await;
    assert_eq!(
        (status, &again["duplicate"]),
        (StatusCode::ACCEPTED, &json!(true))
    );
    assert_eq!(
        system
            .organiser_get(&format!("/v1/registrations/{a_id}"))
            .await["status"],
        "event_cancelled"
    );
}

/// Registrations arriving while the event is cancelled: registration still has "published" in its 10 s cache, so
/// some are written after scheduling cancelled. None may stay confirmed: each was either written before the
/// cancellation reached registration (and ended with the others, under the form's lock) or refused after it.
#[tokio::test]
async fn registrations_racing_the_cancellation_never_stay_confirmed() {
    let system = System::start().await;
    let event = system.published_event("Racing").await;
    system
        .put_form(&event, json!({ "capacity": null, "waitlist": false }))
        .await;
    // Warm the cache: registration believes the event published for the next 10 s.
    let (status, _) = system.register(&event, "early@example.org", "Early").await;
    assert_eq!(status, StatusCode::CREATED);
    let racers = (0..60).map(|n| {
        let request = system
            .registration
            .http
            .post(system.registration.url("/v1/registrations"))
            .json(&json!({ "event_id": event, "email": format!("r{n}@example.org"), "name": "R", "consent": true }));
        async move {
            tokio::time::sleep(Duration::from_millis(n * 5)).await;
            let response = request.send().await.expect("register");
            (response.status(), response.json::<Value>().await.expect("json"))
        }
    });
    let (answers, ()) = tokio::join!(futures::future::join_all(racers), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel_event(&system, &event).await;
    });
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::CREATED || *status == StatusCode::CONFLICT,
            "{status}: {body}"
        );
    }
    let early = system
        .organiser_get(&format!("/v1/registrations?event_id={event}&limit=1"))
        .await;
    let first = early["items"][0]["id"].as_str().expect("id").to_owned();
    wait_for_status(&system, &first, "event_cancelled").await;
    let list = system
        .organiser_get(&format!("/v1/registrations?event_id={event}&limit=500"))
        .await;
    let written = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(
        list["counts"],
        json!({ "event_cancelled": written + 1 }),
        "{list}"
    );
    let (status, _) = system.register(&event, "after@example.org", "After").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "after the cancellation: refused"
    );
}

/// Contract 3: erasure announces `registration.erased` with ids only, and blanks the person in every stored
/// payload of that registration's events.
#[tokio::test]
async fn erasure_reaches_the_outbox() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let system = System::start().await;
    let event = system.published_event("Erasure").await;
    system
        .put_form(&event, json!({ "capacity": 1, "waitlist": true }))
        .await;
    let (_, kept) = system
        .register(&event, "kept@example.org", "Kept Person")
        .await;
    let (_, gone) = system
        .register(&event, "gone@example.org", "Gone Person")
        .await;
    // A second try with the same address: a manage-link event for the same registration.
    system
        .register(&event, "GONE@example.org", "Gone Person")
        .await;
    let id = gone["id"].as_str().expect("id");
    let (status, _) = system
        .send(
            Method::DELETE,
            &format!("/v1/registrations/{id}"),
            None,
            gone["manage_token"].as_str(),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let db = cloverleaf_service_kit::db::connect(system.registration.database.url(), 1)
        .await
        .expect("db");
    let events = cloverleaf_service_kit::outbox::event::Entity::find()
        .filter(
            cloverleaf_service_kit::outbox::event::Column::AggregateId
                .eq(uuid::Uuid::parse_str(id).expect("uuid")),
        )
        .order_by_asc(cloverleaf_service_kit::outbox::event::Column::Position)
        .all(&db)
        .await
        .expect("outbox");
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "registration.waitlisted",
            "registration.manage_link_requested",
            "registration.cancelled",
            "registration.erased"
        ]
    );
    let erased: Value = serde_json::from_str(&events[3].payload).expect("payload");
    assert_eq!(erased, json!({ "registration_id": id, "event_id": event }));
    for e in &events {
        assert!(
            !e.payload.contains("gone@") && !e.payload.contains("Gone Person"),
            "{}: {}",
            e.event_type,
            e.payload
        );
    }
    // Other registrations' events keep their data.
    let all = system.outbox().await;
    let kept_id = kept["id"].as_str().expect("id");
    assert!(all.iter().any(|(_, aggregate)| aggregate == kept_id));
    let kept_events = cloverleaf_service_kit::outbox::event::Entity::find()
        .filter(
            cloverleaf_service_kit::outbox::event::Column::AggregateId
                .eq(uuid::Uuid::parse_str(kept_id).expect("uuid")),
        )
        .all(&db)
        .await
        .expect("outbox");
    assert!(kept_events[0].payload.contains("kept@example.org"));
}

/// Contract 4 (item 11): the manage token is short (the link under 100 characters), opens its registration from the
/// header or `?token=`, and `/mine`; manage JWTs already sent keep working; wrong or erased tokens open nothing.
#[tokio::test]
async fn short_manage_links_and_old_ones_keep_working() {
    let system = System::start().await;
    let event = system.published_event("Links").await;
    system
        .put_form(&event, json!({ "capacity": 5, "waitlist": false }))
        .await;
    let (_, a) = system.register(&event, "a@example.org", "A").await;
    let (_, b) = system.register(&event, "b@example.org", "B").await;
    let a_id = a["id"].as_str().expect("id").to_owned();
    let b_id = b["id"].as_str().expect("id").to_owned();
    let short = a["manage_token"].as_str().expect("token").to_owned();
    let public_url = "https://events.sino-eu-permed.example";
    assert!(public_url.len() >= 35);
    let link = format!("{public_url}/manage/{short}");
    assert!(link.len() < 100, "{} characters: {link}", link.len());
    assert!(
        short
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );

    // A manage JWT as the links already sent carry.
    let jwt = system
        .registration
        .people_issuer()
        .issue(TokenRequest::manage(
            uuid::Uuid::parse_str(&a_id).expect("uuid"),
            Duration::from_secs(3600),
        ))
        .expect("jwt")
        .token;
    for token in [&short, &jwt] {
        let (status, body) = system
            .send(
                Method::GET,
                &format!("/v1/registrations/{a_id}"),
                None,
                Some(token),
            )
            .await;
        assert_eq!(
            (status, &body["email"]),
            (StatusCode::OK, &json!("a@example.org"))
        );
        let (status, body) = system
            .send(
                Method::GET,
                &format!("/v1/registrations/{a_id}?token={token}"),
                None,
                None,
            )
            .await;
        assert_eq!(
            (status, &body["id"]),
            (StatusCode::OK, &json!(a_id)),
            "?token="
        );
        let (status, mine) = system
            .send(Method::GET, "/v1/registrations/mine", None, Some(token))
            .await;
        assert_eq!(
            (status, &mine["id"]),
            (StatusCode::OK, &json!(a_id)),
            "{mine}"
        );
        let (status, mine) = system
            .send(
                Method::GET,
                &format!("/v1/registrations/mine?token={token}"),
                None,
                None,
            )
            .await;
        assert_eq!((status, &mine["id"]), (StatusCode::OK, &json!(a_id)));
        let (status, _) = system
            .send(
                Method::PATCH,
                &format!("/v1/registrations/{a_id}"),
                Some(json!({ "name": "A Changed" })),
                Some(token),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = system
            .send(
                Method::GET,
                &format!("/v1/registrations/{a_id}/data"),
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        // Never another registration, nor the organisers' list.
        let (status, _) = system
            .send(
                Method::GET,
                &format!("/v1/registrations/{b_id}"),
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = system
            .send(
                Method::GET,
                &format!("/v1/registrations?event_id={event}"),
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let same_body = |x: &Value, y: &Value| assert_eq!(x, y);
    let (_, by_id) = system
        .send(
            Method::GET,
            &format!("/v1/registrations/{a_id}"),
            None,
            Some(&short),
        )
        .await;
    let (_, mine) = system
        .send(Method::GET, "/v1/registrations/mine", None, Some(&short))
        .await;
    same_body(&by_id, &mine);

    // Forged, malformed, missing: 401.
    let mut forged = short.clone().into_bytes();
    forged[30] = if forged[30] == b'x' { b'y' } else { b'x' };
    let forged = String::from_utf8(forged).expect("ascii");
    for token in [forged.as_str(), "nonsense", "a.b.c"] {
        let (status, _) = system
            .send(
                Method::GET,
                &format!("/v1/registrations/{a_id}"),
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
        let (status, _) = system
            .send(Method::GET, "/v1/registrations/mine", None, Some(token))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
    }
    let (status, _) = system
        .send(Method::GET, "/v1/registrations/mine", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = system
        .send(
            Method::GET,
            "/v1/registrations/mine",
            None,
            Some(&system.organiser.clone()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an organiser has no registration"
    );

    // Services get the short token, the same one each time.
    let service = system
        .registration
        .service_token(ServiceName::Notifications, ServiceName::Registration);
    let (_, link) = system
        .send(
            Method::GET,
            &format!("/v1/registrations/{a_id}/manage-token"),
            None,
            Some(&service),
        )
        .await;
    assert_eq!(link["manage_token"], json!(short));
    let (_, listed) = system
        .send(
            Method::GET,
            &format!("/v1/registrations?event_id={event}"),
            None,
            Some(&service),
        )
        .await;
    assert_eq!(listed["items"][0]["manage_token"], json!(short));

    // Erased: both kinds stop working.
    let (status, _) = system
        .send(
            Method::DELETE,
            &format!("/v1/registrations/{a_id}"),
            None,
            Some(&short),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for token in [&short, &jwt] {
        let (status, _) = system
            .send(
                Method::GET,
                &format!("/v1/registrations/{a_id}"),
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = system
            .send(Method::GET, "/v1/registrations/mine", None, Some(token))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// Item 12 and contract 1: CSV times to the second with their offset; headers in the organiser's language, the
/// questions' Chinese labels among them.
#[tokio::test]
async fn the_csv_has_plain_times_and_the_organisers_language() {
    let system = System::start().await;
    let event = system.published_event("CSV").await;
    system
        .put_form(
            &event,
            json!({ "capacity": 5, "waitlist": false, "questions": [
                { "id": "dietary", "label": "Dietary needs", "label_zh": "饮食需求", "type": "single_choice",
                  "options": ["none", "vegan"], "options_zh": ["无", "纯素"] },
                { "id": "notes", "label": "Notes", "type": "text" } ] }),
        )
        .await;
    let (status, body) = system
        .send(
            Method::POST,
            "/v1/registrations",
            Some(
                json!({ "event_id": event, "email": "c@example.org", "name": "C", "consent": true,
                         "answers": { "dietary": "vegan" } }),
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let csv = |query: &'static str, language: Option<&'static str>| {
        let mut request = system
            .registration
            .http
            .get(
                system
                    .registration
                    .url(&format!("/v1/registrations?event_id={event}{query}")),
            )
            .bearer_auth(&system.organiser)
            .header("accept", "text/csv");
        if let Some(language) = language {
            request = request.header("accept-language", language);
        }
        async move {
            let text = request
                .send()
                .await
                .expect("csv")
                .text()
                .await
                .expect("text");
            let mut reader = csv::Reader::from_reader(std::io::Cursor::new(
                text.trim_start_matches('\u{feff}').as_bytes().to_vec(),
            ));
            let headers: Vec<String> = reader
                .headers()
                .expect("headers")
                .iter()
                .map(str::to_owned)
                .collect();
            let rows: Vec<Vec<String>> = reader
                .records()
                .map(|r| r.expect("row").iter().map(str::to_owned).collect())
                .collect();
            (headers, rows)
        }
    };
    let (headers, rows) = csv("", None).await;
    assert_eq!(headers[0], "registration_id");
    assert_eq!(&headers[12..], ["Dietary needs", "Notes"]);
    let at = |name: &str| headers.iter().position(|h| h == name).expect("column");
    for column in ["registered_at", "confirmed_at"] {
        let time = &rows[0][at(column)];
        assert_eq!(time.len(), 25, "{column}: {time}");
        assert!(
            time.ends_with("+00:00") && !time.contains('.'),
            "{column}: {time}"
        );
        chrono::DateTime::parse_from_rfc3339(time).expect("RFC 3339");
    }
    assert_eq!(rows[0][12], "vegan", "answers stay the English values");
    let (zh, _) = csv("&lang=zh-CN", None).await;
    assert_eq!(zh[0], "报名编号");
    assert_eq!(
        &zh[12..],
        ["饮食需求", "Notes"],
        "English where no Chinese label"
    );
    let (zh, _) = csv("", Some("zh-CN,zh;q=0.9,en;q=0.8")).await;
    assert_eq!(zh[3], "姓名");
    let (en, _) = csv("&lang=en", Some("zh-CN")).await;
    assert_eq!(en[3], "name", "the parameter wins");
}

/// Contract 1: questions carry Chinese labels, help texts and options, checked, returned; answers are the English
/// option values.
#[tokio::test]
async fn questions_in_two_languages() {
    let system = System::start().await;
    let event = system.published_event("Bilingual").await;
    let (status, form) = system
        .put_form(
            &event,
            json!({ "capacity": 5, "questions": [
                { "id": "dietary", "label": " Dietary needs ", "label_zh": " 饮食需求 ", "help": "For the lunch",
                  "help_zh": "用于午餐", "type": "single_choice", "required": true,
                  "options": ["none", "vegan"], "options_zh": ["无", "纯素"] },
                { "id": "city", "label": "City", "type": "text" } ] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{form}");
    let get: Value = system
        .registration
        .http
        .get(system.registration.url(&format!("/v1/forms/{event}")))
        .send()
        .await
        .expect("form")
        .json()
        .await
        .expect("json");
    let q = &get["questions"][0];
    assert_eq!(q["label"], "Dietary needs");
    assert_eq!(q["label_zh"], "饮食需求");
    assert_eq!(q["help"], "For the lunch");
    assert_eq!(q["help_zh"], "用于午餐");
    assert_eq!(q["options_zh"], json!(["无", "纯素"]));
    assert!(get["questions"][1]["label_zh"].is_null());

    let (status, problem) = system
        .put_form(
            &event,
            json!({ "questions": [
                { "id": "a", "label": "A", "label_zh": "两\n行", "help": "x".repeat(501), "help_zh": "好\u{7}好",
                  "type": "single_choice", "options": ["one", "two"], "options_zh": ["一"] },
                { "id": "b", "label": "B", "type": "text", "options_zh": ["一"] },
                { "id": "c", "label": "C", "type": "single_choice", "options": ["x", " "] } ] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&problem),
        [
            "questions[0].label_zh",
            "questions[0].help",
            "questions[0].help_zh",
            "questions[0].options_zh",
            "questions[1].options_zh",
            "questions[2].options"
        ],
        "{problem}"
    );

    let register = |dietary: &'static str| {
        system.send(
            Method::POST,
            "/v1/registrations",
            Some(
                json!({ "event_id": event, "email": format!("{}@example.org", dietary.len()),
                         "name": "Z", "consent": true, "answers": { "dietary": dietary } }),
            ),
            None,
        )
    };
    let (status, problem) = register("纯素").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["answers.dietary"]);
    let (status, body) = register("vegan").await;
    assert_eq!(
        (status, &body["answers"]["dietary"]),
        (StatusCode::CREATED, &json!("vegan"))
    );
}
