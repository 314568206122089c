//! A registration service under test beside a real scheduling service (its own database too), sharing the service
//! key so registration's service tokens are accepted; helpers to publish events and register.

#![allow(dead_code)]

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub struct System {
    pub scheduling: TestApp,
    pub registration: TestApp,
    pub organiser: String,
}

impl System {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut cloverleaf_service_kit::Settings)) -> Self {
        // Scheduling sends registration its domain events (event.cancelled): registration's address is fixed first.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let registration_url = format!("http://{}", listener.local_addr().expect("address"));
        let scheduling = TestApp::spawn_with(
            ServiceName::Scheduling,
            |settings| settings.registration.url = registration_url,
            cloverleaf_scheduling::build,
        )
        .await;
        let service_key = scheduling
            .settings
            .key_path(&scheduling.settings.auth.service_key_file, "service.pem");
        let scheduling_url = scheduling.url.clone();
        let registration = TestApp::spawn_on(
            ServiceName::Registration,
            listener,
            |settings| {
                settings.scheduling.url = scheduling_url;
                settings.auth.service_key_file = service_key.display().to_string();
                adjust(settings);
            },
            cloverleaf_registration::build,
        )
        .await;
        let organiser = registration.organiser_token();
        Self {
            scheduling,
            registration,
            organiser,
        }
    }

    /// A published webinar in scheduling, starting in a month.
    pub async fn published_event(&self, title: &str) -> String {
        let token = self.scheduling.organiser_token();
        let starts = chrono::Utc::now() + chrono::Duration::days(30);
        let event: Value = self
            .scheduling
            .http
            .post(self.scheduling.url("/v1/events"))
            .bearer_auth(&token)
            .json(&json!({
                "kind": "webinar", "title": title, "timezone": "Europe/Brussels",
                "starts_at": starts.to_rfc3339(), "ends_at": (starts + chrono::Duration::hours(2)).to_rfc3339(),
                "online_url": "https://meet.example.org/w",
                "organiser": { "name": "PerMed Office", "email": "office@permed.example.org" },
            }))
            .send()
            .await
            .expect("create event")
            .json()
            .await
            .expect("event");
        let id = event["id"].as_str().expect("id").to_owned();
        let published = self
            .scheduling
            .http
            .post(self.scheduling.url(&format!("/v1/events/{id}/publish")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("publish");
        assert_eq!(published.status(), 200);
        id
    }

    pub async fn put_form(&self, event_id: &str, form: Value) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::PUT,
            &format!("/v1/forms/{event_id}"),
            Some(form),
            Some(&self.organiser.clone()),
        )
        .await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .registration
            .http
            .request(method, self.registration.url(path));
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

    pub async fn register(&self, event_id: &str, email: &str, name: &str) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            "/v1/registrations",
            Some(json!({ "event_id": event_id, "email": email, "name": name, "consent": true })),
            None,
        )
        .await
    }

    pub async fn organiser_get(&self, path: &str) -> Value {
        let (status, body) = self
            .send(
                reqwest::Method::GET,
                path,
                None,
                Some(&self.organiser.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    pub async fn organiser_post(&self, path: &str) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            path,
            None,
            Some(&self.organiser.clone()),
        )
        .await
    }

    /// The domain events in registration's outbox: (type, aggregate id), in order.
    pub async fn outbox(&self) -> Vec<(String, String)> {
        use sea_orm::{EntityTrait, QueryOrder};
        let db = cloverleaf_service_kit::db::connect(self.registration.database.url(), 1)
            .await
            .expect("db");
        cloverleaf_service_kit::outbox::event::Entity::find()
            .order_by_asc(cloverleaf_service_kit::outbox::event::Column::Position)
            .all(&db)
            .await
            .expect("outbox")
            .into_iter()
            .map(|e| (e.event_type, e.aggregate_id.to_string()))
            .collect()
    }
}
