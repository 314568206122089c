//! A stand-in for scheduling and registration that answers what notifications asks them with what the test sets —
//! answers the real services give only once other work lands (Chinese texts, `end_timezone`, registrations ended by
//! a cancelled event, short manage tokens), or answers a real service cannot be made to give on cue (an older
//! version of an event). Notifications runs for real, with its database, a real SMTP server and its inbox; the
//! test posts domain events to the inbox with a service token, as the relays do.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use cloverleaf_service_kit::config::{ServiceName, Settings};
use cloverleaf_service_kit::testing::{Smtp, TestApp, use_smtp};
use serde_json::{Value, json};
use uuid::Uuid;

/// What the stand-in answers.
#[derive(Default)]
pub struct Answers {
    pub events: HashMap<Uuid, Value>,
    pub agendas: HashMap<Uuid, Vec<Value>>,
    /// Every registration, each with its `event_id` and `status`.
    pub registrations: Vec<Value>,
}

pub type Shared = Arc<Mutex<Answers>>;

async fn event(State(answers): State<Shared>, Path(id): Path<Uuid>) -> Response {
    let answers = answers.lock().expect("lock");
    match answers.events.get(&id) {
        Some(event) => axum::Json(event.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn items(State(answers): State<Shared>, Path(id): Path<Uuid>) -> Response {
    let answers = answers.lock().expect("lock");
    let items = answers.agendas.get(&id).cloned().unwrap_or_default();
    axum::Json(json!({ "items": items, "next_cursor": null })).into_response()
}

async fn registrations(
    State(answers): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let answers = answers.lock().expect("lock");
    let items: Vec<Value> = answers
        .registrations
        .iter()
        .filter(|r| {
            query
                .get("event_id")
                .is_none_or(|e| r["event_id"].as_str() == Some(e))
                && query
                    .get("status")
                    .is_none_or(|s| r["status"].as_str() == Some(s))
        })
        .cloned()
        .collect();
    axum::Json(json!({ "items": items, "next_cursor": null })).into_response()
}

async fn manage_token(State(answers): State<Shared>, Path(id): Path<Uuid>) -> Response {
    let answers = answers.lock().expect("lock");
    match answers
        .registrations
        .iter()
        .find(|r| r["id"].as_str() == Some(&id.to_string()))
        .and_then(|r| r["manage_token"].as_str())
    {
        Some(token) => axum::Json(json!({ "manage_token": token })).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Notifications with the stand-in as scheduling and registration, and an SMTP server.
pub struct Fixture {
    pub answers: Shared,
    pub notifications: TestApp,
    pub smtp: Smtp,
    pub fake_url: String,
}

impl Fixture {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let answers: Shared = Arc::default();
        let app = Router::new()
            .route("/v1/events/{id}", get(event))
            .route("/v1/events/{id}/items", get(items))
            .route("/v1/registrations", get(registrations))
            .route("/v1/registrations/{id}/manage-token", get(manage_token))
            .with_state(answers.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let fake_url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let smtp = Smtp::start(&[]);
        let port = smtp.port;
        let url = fake_url.clone();
        let notifications = TestApp::spawn_with(
            ServiceName::Notifications,
            |s| {
                s.scheduling.url = url.clone();
                s.registration.url = url.clone();
                s.public_url = "https://events.example.org".to_owned();
                use_smtp(s, port);
                adjust(s);
            },
            cloverleaf_notifications::build,
        )
        .await;
        Self {
            answers,
            notifications,
            smtp,
            fake_url,
        }
    }

    /// Another notifications instance on the same database, SMTP server and stand-in (a replica).
    pub async fn replica(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let first = &self.notifications.settings;
        let database_url = first.notifications.database_url.clone();
        let service_key = first
            .key_path(&first.auth.service_key_file, "service.pem")
            .display()
            .to_string();
        let url = self.fake_url.clone();
        let port = self.smtp.port;
        TestApp::spawn_with(
            ServiceName::Notifications,
            |s| {
                s.notifications.database_url = database_url;
                s.scheduling.url = url.clone();
                s.registration.url = url;
                s.auth.service_key_file = service_key;
                s.public_url = "https://events.example.org".to_owned();
                use_smtp(s, port);
                adjust(s);
            },
            cloverleaf_notifications::build,
        )
        .await
    }

    pub fn set_event(&self, event: Value) {
        let id: Uuid = event["id"].as_str().expect("id").parse().expect("uuid");
        self.answers.lock().expect("lock").events.insert(id, event);
    }

    pub fn set_agenda(&self, event_id: Uuid, items: Vec<Value>) {
        self.answers
            .lock()
            .expect("lock")
            .agendas
            .insert(event_id, items);
    }

    pub fn add_registration(&self, registration: Value) {
        self.answers
            .lock()
            .expect("lock")
            .registrations
            .push(registration);
    }

    pub fn set_status(&self, registration_id: &Value, status: &str) {
        let mut answers = self.answers.lock().expect("lock");
        for r in &mut answers.registrations {
            if r["id"] == *registration_id {
                r["status"] = json!(status);
            }
        }
    }

    /// Posts a domain event to `app`'s inbox as `source` does; panics unless it is accepted.
    pub async fn post(&self, app: &TestApp, source: ServiceName, event_type: &str, payload: Value) {
        let aggregate = payload
            .get("registration_id")
            .or_else(|| payload.get("event_id"))
            .cloned()
            .unwrap_or(json!(Uuid::now_v7()));
        let body = json!({
            "id": Uuid::now_v7(), "type": event_type, "aggregate_id": aggregate,
            "source": match source { ServiceName::Scheduling => "scheduling", _ => "registration" },
            "occurred_at": Utc::now(), "payload": payload,
        });
        let token = app.service_token(source, ServiceName::Notifications);
        let response = app
            .http
            .post(app.url("/v1/inbox"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }

    /// A registration's `registration.<kind>` event, as registration sends it.
    pub async fn registration_event(&self, app: &TestApp, kind: &str, registration: &Value) {
        let payload = json!({
            "registration_id": registration["id"], "event_id": registration["event_id"],
            "status": registration["status"], "email": registration["email"], "name": registration["name"],
            "locale": registration["locale"], "timezone": registration["timezone"],
            "waitlist_position": registration["waitlist_position"],
        });
        self.post(
            app,
            ServiceName::Registration,
            &format!("registration.{kind}"),
            payload,
        )
        .await;
    }

    pub fn mailbox(&self, to: &str) -> Vec<std::path::PathBuf> {
        self.smtp
            .received()
            .into_iter()
            .filter(|path| {
                let raw = std::fs::read_to_string(path).unwrap_or_default();
                raw.lines().any(|line| {
                    line.to_ascii_lowercase().starts_with("to:")
                        && line.to_ascii_lowercase().contains(&to.to_ascii_lowercase())
                })
            })
            .collect()
    }

    /// Waits until `to` has `n` messages (panics after 30 s), then a moment more to catch extras.
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<std::path::PathBuf> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mailbox = self.mailbox(to);
            if mailbox.len() >= n {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let mailbox = self.mailbox(to);
                assert_eq!(mailbox.len(), n, "{to} got more than {n}: {mailbox:?}");
                return mailbox;
            }
            assert!(
                Instant::now() < deadline,
                "{to} got {} of {n} messages",
                mailbox.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the inbox is worked through and every message sent.
    pub async fn settle(&self) {
        let db = cloverleaf_service_kit::db::connect(self.notifications.database.url(), 1)
            .await
            .expect("db");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pending = cloverleaf_notifications::store::inbox::unprocessed(&db)
                .await
                .expect("inbox")
                + cloverleaf_notifications::store::messages::pending(&db)
                    .await
                    .expect("messages");
            if pending == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "still {pending} pending");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An event as scheduling shows it: published, sequence `sequence`, in `timezone`.
pub fn event_json(
    id: Uuid,
    kind: &str,
    title: &str,
    timezone: &str,
    (starts_at, ends_at): (&str, &str),
    sequence: i32,
) -> Value {
    json!({
        "id": id, "slug": format!("event-{}", &id.simple().to_string()[24..]), "kind": kind, "title": title,
        "summary": "Personalised medicine: EU–China cooperation", "timezone": timezone,
        "starts_at": starts_at, "ends_at": ends_at,
        "online_url": if kind == "webinar" { json!("https://meet.example.org/permed") } else { json!(null) },
        "venue": if kind == "webinar" { json!(null) } else {
            json!({ "name": "Charité Campus Mitte", "address": "Charitéplatz 1", "city": "Berlin", "country": "DE" }) },
        "organiser": { "name": "PerMed Office", "email": "office@permed.example.org" },
        "status": "published", "sequence": sequence, "calendar_uid": format!("{id}@cloverleaf"),
        "cancel_reason": null, "links": { "calendar": format!("/v1/events/{id}/calendar.ics") },
    })
}

/// An agenda item as scheduling shows it.
pub fn item_json(
    id: Uuid,
    kind: &str,
    title: &str,
    timezone: &str,
    (starts_at, ends_at): (&str, &str),
) -> Value {
    json!({ "id": id, "kind": kind, "title": title, "timezone": timezone, "starts_at": starts_at,
        "ends_at": ends_at, "location": null })
}

/// A registration as registration lists it to a service, with a short manage token.
pub fn registration_json(
    event_id: Uuid,
    (email, name): (&str, &str),
    locale: &str,
    timezone: Option<&str>,
    status: &str,
) -> Value {
    let id = Uuid::now_v7();
    json!({ "id": id, "event_id": event_id, "status": status, "email": email, "name": name, "locale": locale,
        "timezone": timezone, "waitlist_position": null,
        "manage_token": format!("m{}", &id.simple().to_string()[16..]) })
}

/// Copies a test's emails to `$CLOVERLEAF_KEEP_MAIL/<name>/` when set, for people to read.
pub fn keep_for_review(name: &str, files: &[std::path::PathBuf]) {
    if let Ok(dir) = std::env::var("CLOVERLEAF_KEEP_MAIL") {
        let dir = std::path::Path::new(&dir).join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (i, file) in files.iter().enumerate() {
            std::fs::copy(file, dir.join(format!("{:02}.eml", i + 1))).expect("copy");
        }
    }
}
