//! The calls the scenarios make besides the measured load: an organiser's login, events, forms, agenda items, and
//! the counts that check the results (`GET /v1/registrations?event_id=&limit=1` and `GET /v1/messages?…`, whose
//! answers carry `counts` per status).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use cloverleaf_service_kit::config::ServiceName;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::system::System;

/// The organiser the bench creates in every system.
pub const ORGANISER_EMAIL: &str = "bench.organiser@example.org";

/// Access tokens live 15 minutes; a fresh one is fetched after this.
const TOKEN_REFRESH: Duration = Duration::from_secs(10 * 60);

/// An organiser's view of one running system.
#[derive(Debug)]
pub struct Api {
    pub http: reqwest::Client,
    pub registration: String,
    pub scheduling: String,
    pub notifications: String,
    password: String,
    token: Mutex<(String, Instant)>,
}

/// A client for `clients` concurrent callers: keep-alive, a pool as large as the callers, no Nagle delay.
pub fn http_client(clients: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(clients.max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?)
}

impl Api {
    /// Creates the organiser account with the `cloverleaf` command and logs in on registration.
    pub async fn organiser(system: &System, http: reqwest::Client) -> anyhow::Result<Self> {
        let password = format!("bench-{}", uuid::Uuid::new_v4().simple());
        system.create_organiser(ORGANISER_EMAIL, &password).await?;
        let api = Self {
            http,
            registration: system.url(ServiceName::Registration),
            scheduling: system.url(ServiceName::Scheduling),
            notifications: system.url(ServiceName::Notifications),
            password,
            token: Mutex::new((String::new(), Instant::now())),
        };
        api.log_in().await?;
        Ok(api)
    }

    async fn log_in(&self) -> anyhow::Result<String> {
        let answer = self
            .call(
                Method::POST,
                &format!("{}/v1/auth/token", self.registration),
                Some(json!({ "email": ORGANISER_EMAIL, "password": self.password })),
                None,
            )
            .await?;
        let token = answer["access_token"]
            .as_str()
            .context("no access_token in the login answer")?
            .to_owned();
        *self.token.lock().await = (token.clone(), Instant::now());
        Ok(token)
    }

    /// A valid organiser token (logging in again when the last one is old).
    pub async fn token(&self) -> anyhow::Result<String> {
        let current = self.token.lock().await.clone();
        if current.0.is_empty() || current.1.elapsed() > TOKEN_REFRESH {
            return self.log_in().await;
        }
        Ok(current.0)
    }

    /// A call that must succeed: its JSON answer (`null` when empty).
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.request(method.clone(), url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{method} {url}: {status} {text}");
        }
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).with_context(|| format!("{method} {url}: not JSON"))
    }

    /// An organiser's call to scheduling or registration (`path` under the service's URL).
    pub async fn organise(
        &self,
        method: Method,
        base: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let token = self.token().await?;
        self.call(method, &format!("{base}{path}"), body, Some(&token))
            .await
    }

    /// Creates a draft event; its id.
    pub async fn create_event(&self, event: &EventSpec) -> anyhow::Result<String> {
        let created = self
            .organise(
                Method::POST,
                &self.scheduling,
                "/v1/events",
                Some(event.body()),
            )
            .await?;
        Ok(created["id"]
            .as_str()
            .context("no id in the created event")?
            .to_owned())
    }

    pub async fn put_form(
        &self,
        event_id: &str,
        capacity: Option<u64>,
        waitlist: bool,
    ) -> anyhow::Result<()> {
        self.organise(
            Method::PUT,
            &self.registration,
            &format!("/v1/forms/{event_id}"),
            Some(json!({ "capacity": capacity, "waitlist": waitlist, "approval": "automatic" })),
        )
        .await
        .map(drop)
    }

    pub async fn publish(&self, event_id: &str) -> anyhow::Result<()> {
        self.organise(
            Method::POST,
            &self.scheduling,
            &format!("/v1/events/{event_id}/publish"),
            None,
        )
        .await
        .map(drop)
    }

    /// Registrations of an event per status.
    pub async fn registration_counts(
        &self,
        event_id: &str,
    ) -> anyhow::Result<BTreeMap<String, i64>> {
        let answer = self
            .organise(
                Method::GET,
                &self.registration,
                &format!("/v1/registrations?event_id={event_id}&limit=1"),
                None,
            )
            .await?;
        parse_counts(&answer)
    }

    /// Messages about an event per status (queued, sent, failed).
    pub async fn message_counts(&self, event_id: &str) -> anyhow::Result<BTreeMap<String, i64>> {
        let answer = self
            .organise(
                Method::GET,
                &self.notifications,
                &format!("/v1/messages?event_id={event_id}&limit=1"),
                None,
            )
            .await?;
        parse_counts(&answer)
    }
}

/// The `counts` object of a list answer (`{"items": […], "counts": {"confirmed": 1200, …}}`).
pub fn parse_counts(answer: &Value) -> anyhow::Result<BTreeMap<String, i64>> {
    let counts = answer
        .get("counts")
        .and_then(Value::as_object)
        .context("the answer has no counts object")?;
    counts
        .iter()
        .map(|(status, n)| {
            n.as_i64()
                .map(|n| (status.clone(), n))
                .with_context(|| format!("counts.{status} is not a number: {n}"))
        })
        .collect()
}

/// An event to create (webinars get a join link, workshops a venue, so both can be published).
#[derive(Debug, Clone)]
pub struct EventSpec {
    pub kind: &'static str,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl EventSpec {
    pub fn body(&self) -> Value {
        let mut body = json!({
            "kind": self.kind,
            "title": self.title,
            "timezone": "Europe/Berlin",
            "starts_at": self.starts_at.to_rfc3339(),
            "ends_at": self.ends_at.to_rfc3339(),
            "summary": "A Cloverleaf benchmark event.",
            "organiser": { "name": "Bench Organiser", "email": ORGANISER_EMAIL },
        });
        match self.kind {
            "webinar" => body["online_url"] = json!("https://meet.example.org/bench"),
            _ => {
                body["venue"] = json!({ "name": "Palazzo Bench", "address": "Via di Città 1",
                                         "city": "Siena", "country": "IT" })
            }
        }
        body
    }
}

/// The next whole hour `days` from now: events far enough ahead that no reminder falls due during a run.
pub fn start_in_days(days: i64) -> DateTime<Utc> {
    let at = Utc::now() + chrono::Duration::days(days);
    let secs = at.timestamp();
    DateTime::from_timestamp(secs - secs.rem_euclid(3600) + 3600, 0).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_read_from_a_list_answer() {
        let answer = json!({ "items": [{}], "next_cursor": "x", "counts": { "confirmed": 1200, "waitlisted": 800 } });
        let counts = parse_counts(&answer).expect("counts");
        assert_eq!(counts["confirmed"], 1200);
        assert_eq!(counts["waitlisted"], 800);
        assert!(parse_counts(&json!({ "items": [] })).is_err());
        assert!(parse_counts(&json!({ "counts": { "sent": "many" } })).is_err());
    }

    #[test]
    fn events_start_on_the_hour_and_can_be_published() {
        let start = start_in_days(30);
        assert_eq!(start.timestamp() % 3600, 0);
        let webinar = EventSpec {
            kind: "webinar",
            title: "W".into(),
            starts_at: start,
            ends_at: start + chrono::Duration::hours(2),
        };
        assert!(webinar.body()["online_url"].is_string());
        let workshop = EventSpec {
            kind: "workshop",
            ..webinar
        };
        assert_eq!(workshop.body()["venue"]["city"], "Siena");
    }
}
