//! What the notifications tests share: a real SMTP server (the kit's `testing::Smtp`: Python's aiosmtpd; install it
//! with `.ci/smtp-tools.sh`), and the whole system — real scheduling and registration services beside
//! notifications, each with its own database, sharing the service key — with a clock the test moves.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cloverleaf_service_kit::clock::ManualClock;
use cloverleaf_service_kit::config::{ServiceName, Settings};
use cloverleaf_service_kit::testing::TestApp;
use cloverleaf_service_kit::testing::{Smtp, use_smtp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The three services and an SMTP server.
pub struct System {
    pub scheduling: TestApp,
    pub registration: TestApp,
    pub notifications: TestApp,
    pub smtp: Smtp,
    pub clock: Arc<ManualClock>,
}

impl System {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// `adjust` changes notifications' settings.
    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let smtp = Smtp::start(&[]);
        // Notifications is built last (it asks the others), but the others send it their events: its address is
        // fixed first.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let inbox_url = format!("http://{}", listener.local_addr().expect("address"));
        let scheduling = TestApp::spawn_with(
            ServiceName::Scheduling,
            |s| s.notifications.url = inbox_url.clone(),
            cloverleaf_scheduling::build,
        )
        .await;
        let service_key = scheduling
            .settings
            .key_path(&scheduling.settings.auth.service_key_file, "service.pem")
            .display()
            .to_string();
        let registration = TestApp::spawn_with(
            ServiceName::Registration,
            |s| {
                s.notifications.url = inbox_url.clone();
                s.scheduling.url = scheduling.url.clone();
                s.auth.service_key_file = service_key.clone();
            },
            cloverleaf_registration::build,
        )
        .await;
        let clock = ManualClock::new(Utc::now());
        let notifications_clock = clock.clone();
        let notifications = TestApp::spawn_on(
            ServiceName::Notifications,
            listener,
            |s| {
                s.scheduling.url = scheduling.url.clone();
                s.registration.url = registration.url.clone();
                s.auth.service_key_file = service_key.clone();
                s.public_url = "https://events.example.org".to_owned();
                use_smtp(s, smtp.port);
                adjust(s);
            },
            move |settings| {
                cloverleaf_notifications::build_with_clock(settings, notifications_clock)
            },
        )
        .await;
        Self {
            scheduling,
            registration,
            notifications,
            smtp,
            clock,
        }
    }

    /// A second notifications instance on the same database and SMTP server (a replica): it claims from the same
    /// inbox and mail queue.
    pub async fn replica(&self) -> TestApp {
        let first = &self.notifications.settings;
        let database_url = first.notifications.database_url.clone();
        let (scheduling, registration) =
            (first.scheduling.url.clone(), first.registration.url.clone());
        let service_key = first.auth.service_key_file.clone();
        let clock = self.clock.clone();
        TestApp::spawn_with(
            ServiceName::Notifications,
            |s| {
                s.notifications.database_url = database_url;
                s.scheduling.url = scheduling;
                s.registration.url = registration;
                s.auth.service_key_file = service_key;
                s.public_url = "https://events.example.org".to_owned();
                use_smtp(s, self.smtp.port);
            },
            move |settings| cloverleaf_notifications::build_with_clock(settings, clock),
        )
        .await
    }

    pub async fn call(
        &self,
        app: &TestApp,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = app.http.request(method, app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// An organiser's call to scheduling; panics unless it succeeds.
    pub async fn schedule(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let token = self.scheduling.organiser_token();
        let (status, answer) = self
            .call(&self.scheduling, method, path, Some(body), Some(&token))
            .await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    /// A published event of `kind` (webinar online, workshop and tour in a venue) starting at `starts` in
    /// `timezone`, two hours long, with a form of `capacity` seats and a waiting list.
    pub async fn published_event(
        &self,
        kind: &str,
        title: &str,
        timezone: &str,
        starts: DateTime<Utc>,
        form: Value,
    ) -> String {
        let mut body = json!({
            "kind": kind, "title": title, "timezone": timezone,
            "starts_at": starts.to_rfc3339(), "ends_at": (starts + chrono::Duration::hours(2)).to_rfc3339(),
            "summary": "Personalised medicine: EU–China cooperation",
            "organiser": { "name": "PerMed Office", "email": "office@permed.example.org" },
        });
        if kind == "webinar" {
            body["online_url"] = json!("https://meet.example.org/permed");
        } else {
            body["venue"] = json!({ "name": "Palazzo Chigi Saracini", "address": "Via di Città 89", "city": "Siena", "country": "IT" });
        }
        let event = self
            .schedule(reqwest::Method::POST, "/v1/events", body)
            .await;
        let id = event["id"].as_str().expect("id").to_owned();
        let organiser = self.registration.organiser_token();
        let (status, answer) = self
            .call(
                &self.registration,
                reqwest::Method::PUT,
                &format!("/v1/forms/{id}"),
                Some(form),
                Some(&organiser),
            )
            .await;
        assert!(status.is_success(), "form: {status} {answer}");
        self.schedule(
            reqwest::Method::POST,
            &format!("/v1/events/{id}/publish"),
            json!({}),
        )
        .await;
        id
    }

    /// Registers; returns the answer (id, status, manage_token…).
    pub async fn register(&self, event_id: &str, email: &str, name: &str, extra: Value) -> Value {
        let mut body =
            json!({ "event_id": event_id, "email": email, "name": name, "consent": true });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                body.insert(k.clone(), v.clone());
            }
        }
        let (status, answer) = self
            .call(
                &self.registration,
                reqwest::Method::POST,
                "/v1/registrations",
                Some(body),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "register: {answer}");
        answer
    }

    /// The messages the SMTP server has accepted for `to`, in arrival order.
    pub fn mailbox(&self, to: &str) -> Vec<PathBuf> {
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

    /// Waits until `to` has `n` messages (panics after 30 s with what arrived), then a moment more to catch extras.
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<PathBuf> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mailbox = self.mailbox(to);
            if mailbox.len() >= n {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let mailbox = self.mailbox(to);
                assert_eq!(
                    mailbox.len(),
                    n,
                    "{to} got more than {n} messages: {mailbox:?}"
                );
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

    /// Waits until nothing is left to do: the inbox processed and every message sent.
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
            assert!(
                Instant::now() < deadline,
                "still {pending} events or messages pending"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What one email says: its calendar part, if any (decoded).
pub fn calendar_of(path: &Path) -> Option<String> {
    let raw = std::fs::read_to_string(path).expect("read eml");
    cloverleaf_notifications::domain::mime::part(&raw, "text/calendar")
}

pub fn text_of(path: &Path) -> String {
    let raw = std::fs::read_to_string(path).expect("read eml");
    cloverleaf_notifications::domain::mime::plain_text(&raw).expect("a text part")
}

/// A property of the (unfolded) calendar text, e.g. `METHOD`, `SEQUENCE`, `STATUS`.
pub fn property(ics: &str, name: &str) -> Option<String> {
    let unfolded = ics.replace("\r\n ", "");
    unfolded.lines().find_map(|line| {
        let (head, value) = line.split_once(':')?;
        (head.split(';').next()? == name).then(|| value.trim().to_owned())
    })
}
