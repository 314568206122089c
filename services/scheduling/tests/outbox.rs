//! Domain events leave the scheduling service through its transactional outbox: a change and its outbox row commit
//! or roll back together, and a subscriber that was down receives every event, in order per event, once back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use cloverleaf_scheduling::build;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::outbox::{self, InboxEvent};
use cloverleaf_service_kit::testing::{TestApp, on_postgres};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Statement};
use serde_json::{Value, json};

fn webinar(title: &str) -> Value {
    json!({
        "kind": "webinar", "title": title, "timezone": "Europe/Brussels",
        "starts_at": "2027-02-10T09:00", "ends_at": "2027-02-10T10:30",
        "online_url": "https://meet.example.org/x",
        "organiser": { "name": "Office", "email": "office@permed.example.org" },
    })
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = app
        .http
        .request(method, app.url(path))
        .bearer_auth(app.organiser_token())
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn event_id(app: &TestApp, title: &str) -> String {
    let (status, event) = send(app, reqwest::Method::POST, "/v1/events", webinar(title)).await;
    assert_eq!(status, StatusCode::CREATED);
    event["id"].as_str().expect("id").to_owned()
}

/// If the outbox row cannot be written, the change must not happen either: otherwise attendees' calendars would
/// never hear of a change that the event shows. A trigger makes writing outbox rows fail.
#[tokio::test]
async fn a_change_and_its_outbox_row_commit_or_roll_back_together() {
    let app = TestApp::spawn(ServiceName::Scheduling, build).await;
    let db = cloverleaf_service_kit::db::connect(app.database.url(), 1)
        .await
        .expect("db");
    let id = event_id(&app, "Before").await;
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        &format!("/v1/events/{id}/publish"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        outbox::event::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        1
    );

    let backend = db.get_database_backend();
    let statements: &[&str] = if on_postgres() {
        &[
            "CREATE FUNCTION outbox_down() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER outbox_down BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION outbox_down()",
        ]
    } else {
        &[
            "CREATE TRIGGER outbox_down BEFORE INSERT ON outbox_events BEGIN SELECT RAISE(ABORT, 'outbox unavailable'); END",
        ]
    };
    for sql in statements {
        db.execute_raw(Statement::from_string(backend, *sql))
            .await
            .expect("trigger");
    }
    let (status, problem) = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/events/{id}"),
        json!({ "title": "After" }),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{problem}");
    assert!(
        !problem.to_string().contains("outbox unavailable"),
        "the cause stays in the log: {problem}"
    );
    let (_, event) = send(
        &app,
        reqwest::Method::GET,
        &format!("/v1/events/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(
        event["title"], "Before",
        "the change rolled back with its outbox row"
    );
    assert_eq!(event["sequence"], 0);
    let (_, history) = send(
        &app,
        reqwest::Method::GET,
        &format!("/v1/events/{id}/changes"),
        Value::Null,
    )
    .await;
    assert_eq!(
        history["items"].as_array().expect("items").len(),
        1,
        "no history entry either"
    );

    db.execute_raw(Statement::from_string(
        backend,
        "DROP TRIGGER outbox_down".to_owned()
            + if on_postgres() {
                " ON outbox_events"
            } else {
                ""
            },
    ))
    .await
    .expect("drop trigger");
    let (status, event) = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/events/{id}"),
        json!({ "title": "After" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(event["sequence"], 1);
    let types: Vec<String> = outbox::event::Entity::find()
        .all(&db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, ["event.published", "event.updated"]);
}

#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<InboxEvent>>>,
}

async fn inbox(
    State(inbox): State<Inbox>,
    headers: HeaderMap,
    axum::Json(event): axum::Json<InboxEvent>,
) -> StatusCode {
    if !headers
        .get("authorization")
        .is_some_and(|v| v.as_bytes().starts_with(b"Bearer "))
    {
        return StatusCode::UNAUTHORIZED;
    }
    inbox.received.lock().expect("lock").push(event);
    StatusCode::ACCEPTED
}

/// Notifications is down while organisers publish, change and cancel two events. Once it is back it must get every
/// event, each once and in the order written per event: a lost `event.cancelled` would leave the webinar in every
/// attendee's calendar; an `event.updated` after it would resurrect it.
#[tokio::test]
async fn a_subscriber_that_was_down_receives_every_event_in_order_once_back() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let app = TestApp::spawn_with(
        ServiceName::Scheduling,
        |settings| {
            settings.notifications.url = format!("http://127.0.0.1:{port}");
            // Only the subscriber this test runs (registration, subscribed by default, is not running here).
            settings.scheduling.subscribers = vec!["notifications".to_owned()];
        },
        build,
    )
    .await;
    let a = event_id(&app, "Webinar A").await;
    let b = event_id(&app, "Webinar B").await;
    for id in [&a, &b] {
        send(
            &app,
            reqwest::Method::POST,
            &format!("/v1/events/{id}/publish"),
            json!({}),
        )
        .await;
    }
    for n in 0..3 {
        for id in [&a, &b] {
            let (status, _) = send(
                &app,
                reqwest::Method::PATCH,
                &format!("/v1/events/{id}"),
                json!({ "title": format!("Title {n}") }),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
        }
    }
    send(
        &app,
        reqwest::Method::POST,
        &format!("/v1/events/{a}/cancel"),
        json!({ "reason": "moved" }),
    )
    .await;
    // Let the relay fail against the closed port a few times.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let db = cloverleaf_service_kit::db::connect(app.database.url(), 1)
        .await
        .expect("db");
    let attempts: i32 = outbox::delivery::Entity::find()
        .all(&db)
        .await
        .expect("deliveries")
        .iter()
        .map(|d| d.attempts)
        .sum();
    assert!(
        attempts > 0,
        "the relay tried while the subscriber was down"
    );

    let state = Inbox::default();
    let router = axum::Router::new()
        .route("/v1/inbox", axum::routing::post(inbox))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("rebind the subscriber's port");
    tokio::spawn(async move { axum::serve(listener, router).await });

    let expected = 2 + 6 + 1;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while state.received.lock().expect("lock").len() < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {expected} arrived",
            state.received.lock().expect("lock").len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = state.received.lock().expect("lock").clone();
    assert_eq!(received.len(), expected, "nothing arrived twice");
    let of = |id: &str| -> Vec<(String, i64)> {
        received
            .iter()
            .filter(|e| e.aggregate_id.to_string() == id)
            .map(|e| {
                (
                    e.event_type.clone(),
                    e.payload["sequence"].as_i64().expect("sequence"),
                )
            })
            .collect()
    };
    assert_eq!(
        of(&a),
        [
            ("event.published".into(), 0),
            ("event.updated".into(), 1),
            ("event.updated".into(), 2),
            ("event.updated".into(), 3),
            ("event.cancelled".into(), 4)
        ]
    );
    assert_eq!(
        of(&b),
        [
            ("event.published".into(), 0),
            ("event.updated".into(), 1),
            ("event.updated".into(), 2),
            ("event.updated".into(), 3)
        ]
    );
    assert!(received.iter().all(|e| e.source == "scheduling"));
    let undelivered = outbox::delivery::Entity::find()
        .all(&db)
        .await
        .expect("deliveries")
        .iter()
        .filter(|d| d.delivered_at.is_none())
        .count();
    assert_eq!(undelivered, 0);
}
