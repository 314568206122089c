//! [`Journey`]: the three services, each with its own database and loopback port, the portal (the web pages), the
//! edge router in front of them, a real SMTP server behind notifications, and a clock (notifications' reminders) that
//! the test moves. Every call
//! goes through the edge, as users' calls do; organisers log in with a real account. Any service can be stopped and
//! started again on its port with its database, mid-journey.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use cloverleaf_service_kit::clock::ManualClock;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::{Smtp, TestDatabase, settings, use_smtp};
use cloverleaf_service_kit::{RunningService, Service, Settings};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub struct Journey {
    pub settings: Settings,
    pub clock: Arc<ManualClock>,
    pub smtp: Smtp,
    pub http: reqwest::Client,
    /// An organiser's access token, from a real login.
    pub organiser: String,
    edge_url: String,
    edge_stop: CancellationToken,
    portal: tokio::sync::Mutex<Option<cloverleaf_portal::RunningPortal>>,
    running: tokio::sync::Mutex<HashMap<&'static str, RunningService>>,
    _databases: Vec<TestDatabase>,
    _dir: tempfile::TempDir,
}

async fn build(name: ServiceName, settings: Settings, clock: Arc<ManualClock>) -> Service {
    let built = match name {
        ServiceName::Registration => cloverleaf_registration::build(settings)
            .await
            .map_err(|e| e.to_string()),
        ServiceName::Scheduling => cloverleaf_scheduling::build(settings)
            .await
            .map_err(|e| e.to_string()),
        ServiceName::Notifications => cloverleaf_notifications::build_with_clock(settings, clock)
            .await
            .map_err(|e| e.to_string()),
    };
    built.unwrap_or_else(|e| panic!("{name} builds: {e}"))
}

impl Journey {
    pub async fn start() -> Self {
        Self::start_with(|_, _| {}).await
    }

    /// [`Journey::start`] with settings changed first by `configure`, which also learns the edge's URL (where the
    /// browser reaches everything, e.g. for an OpenID provider's redirect URI).
    pub async fn start_with(configure: impl FnOnce(&mut Settings, &str)) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let mut settings = settings(dir.path());
        let smtp = Smtp::start(&[]);
        use_smtp(&mut settings, smtp.port);
        settings.public_url = "https://events.example.org".to_owned();
        let mut databases = Vec::new();
        let mut listeners = Vec::new();
        for name in ServiceName::ALL {
            let database = TestDatabase::create(dir.path(), name).await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("address");
            let service = settings.service_mut(name);
            service.database_url = database.url().clone();
            service.listen = addr.to_string();
            service.url = format!("http://{addr}");
            databases.push(database);
            listeners.push((name, listener));
        }
        settings.auth.jwks_url = format!(
            "{}/.well-known/jwks.json",
            settings.service_url(ServiceName::Registration)
        );
        let portal_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind portal");
        let portal_addr = portal_listener.local_addr().expect("portal address");
        settings.portal.listen = portal_addr.to_string();
        settings.portal.url = format!("http://{portal_addr}");
        let edge_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind edge");
        let edge_url = format!(
            "http://{}",
            edge_listener.local_addr().expect("edge address")
        );
        configure(&mut settings, &edge_url);
        let clock = ManualClock::new(Utc::now());
        let mut running = HashMap::new();
        for (name, listener) in listeners {
            let service = build(name, settings.clone(), clock.clone()).await;
            running.insert(name.as_str(), service.serve(listener));
        }
        let portal = cloverleaf_portal::build(&settings)
            .expect("portal builds")
            .serve(portal_listener);
        let router = cloverleaf::edge::router_from_settings(&settings).expect("edge router");
        let edge_stop = CancellationToken::new();
        let stop = edge_stop.clone();
        tokio::spawn(async move {
            axum_serve(edge_listener, router, stop).await;
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        let mut journey = Self {
            settings,
            clock,
            smtp,
            http,
            organiser: String::new(),
            edge_url,
            edge_stop,
            portal: tokio::sync::Mutex::new(Some(portal)),
            running: tokio::sync::Mutex::new(running),
            _databases: databases,
            _dir: dir,
        };
        journey.organiser = journey.log_in_organiser().await;
        journey
    }

    /// Creates the organiser account every journey uses and logs in through the edge.
    async fn log_in_organiser(&self) -> String {
        use cloverleaf_registration::domain::accounts::AccountRole;
        self.account(
            Self::ORGANISER_EMAIL,
            "PerMed Office",
            AccountRole::Organiser,
        )
        .await
        .1
    }

    /// Creates an account with [`Journey::ORGANISER_PASSWORD`] (as `cloverleaf accounts create` does: the first admin
    /// has no other way in) and logs in through the edge: its id and its access token.
    pub async fn account(
        &self,
        email: &str,
        name: &str,
        role: cloverleaf_registration::domain::accounts::AccountRole,
    ) -> (String, String) {
        use cloverleaf_registration::domain::accounts::{AccountEmail, Password};
        use cloverleaf_registration::store::accounts::{NewAccount, create_account};
        let db = cloverleaf_service_kit::db::connect(
            &self.settings.database_url(ServiceName::Registration),
            1,
        )
        .await
        .expect("registration db");
        let account = create_account(
            &db,
            NewAccount {
                email: AccountEmail::parse(email).expect("email"),
                name: name.to_owned(),
                role,
                password: Password::parse(Self::ORGANISER_PASSWORD).expect("password"),
            },
        )
        .await
        .expect("account");
        let _ = db.close().await;
        let (status, token) = self
            .call(
                Method::POST,
                "/v1/auth/token",
                Some(json!({ "email": email, "password": Self::ORGANISER_PASSWORD })),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{token}");
        (
            account.id.to_string(),
            token["access_token"].as_str().expect("token").to_owned(),
        )
    }

    pub fn edge(&self, path: &str) -> String {
        format!("{}{path}", self.edge_url)
    }

    /// The organiser account every journey logs in with (its password is [`Journey::ORGANISER_PASSWORD`]).
    pub const ORGANISER_EMAIL: &'static str = "office@permed.example.org";
    pub const ORGANISER_PASSWORD: &'static str = "a long organiser passphrase";

    /// A call through the edge: the status and the JSON answer (or the text as a JSON string).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.edge(path));
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

    /// An organiser's call that must succeed.
    pub async fn organise(&self, method: Method, path: &str, body: Value) -> Value {
        let (status, answer) = self
            .call(method, path, Some(body), Some(&self.organiser))
            .await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    /// Stops one service (its port stays known; its database stays).
    pub async fn stop(&self, name: ServiceName) {
        let stopping = self.running.lock().await.remove(name.as_str());
        if let Some(running) = stopping {
            running.stop().await.expect("stops cleanly");
        }
    }

    /// Starts a stopped service again on its port, with its database.
    pub async fn restart(&self, name: ServiceName) {
        self.stop(name).await;
        let addr: SocketAddr = self.settings.service(name).listen.parse().expect("address");
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(listener) => break listener,
                Err(error) => {
                    assert!(
                        Instant::now() < deadline,
                        "cannot bind {addr} again: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let service = build(name, self.settings.clone(), self.clock.clone()).await;
        self.running
            .lock()
            .await
            .insert(name.as_str(), service.serve(listener));
    }

    /// Everything the SMTP server accepted, in arrival order.
    pub fn mail(&self) -> Vec<Mail> {
        self.smtp.received().iter().map(|p| Mail::read(p)).collect()
    }

    /// Waits until the SMTP server has accepted `n` messages in all (panics after `timeout` with what arrived),
    /// then a moment more to see that no more come.
    pub async fn wait_for_mail(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let count = self.smtp.received().len();
            if count >= n {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let mail = self.mail();
                assert_eq!(mail.len(), n, "more messages than expected");
                return mail;
            }
            assert!(Instant::now() < deadline, "{count} of {n} messages arrived");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn shutdown(self) {
        self.edge_stop.cancel();
        if let Some(portal) = self.portal.lock().await.take() {
            portal.stop().await.expect("the portal stops cleanly");
        }
        for name in ServiceName::ALL {
            self.stop(name).await;
        }
    }
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    stop: CancellationToken,
) {
    let _ = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stop.cancelled().await })
    .await;
}

/// One message as the SMTP server stored it, with what the journeys look at.
#[derive(Debug, Clone)]
pub struct Mail {
    pub path: PathBuf,
    /// The recipient's address, lower case.
    pub to: String,
    pub subject: String,
    /// The decoded text part.
    pub text: String,
    /// The decoded calendar part, if any.
    pub calendar: Option<String>,
}

impl Mail {
    pub fn read(path: &Path) -> Self {
        let raw = std::fs::read_to_string(path).expect("read eml");
        // A header with its folded continuation lines, its encoded words decoded.
        let header = |name: &str| {
            let mut lines = raw
                .lines()
                .take_while(|l| !l.is_empty())
                .skip_while(|l| !l.to_ascii_lowercase().starts_with(&format!("{name}:")));
            let Some(first) = lines.next() else {
                return String::new();
            };
            let mut value = first[name.len() + 1..].trim().to_owned();
            for more in lines.take_while(|l| l.starts_with([' ', '\t'])) {
                value.push(' ');
                value.push_str(more.trim());
            }
            decode_header(&value)
        };
        let to = header("to");
        let to = to
            .rsplit_once('<')
            .map_or(to.as_str(), |(_, rest)| rest.trim_end_matches('>'))
            .to_lowercase();
        Self {
            path: path.to_owned(),
            to,
            subject: header("subject"),
            text: cloverleaf_notifications::domain::mime::plain_text(&raw).unwrap_or_default(),
            calendar: cloverleaf_notifications::domain::mime::part(&raw, "text/calendar"),
        }
    }

    /// A property of the calendar part (`METHOD`, `SEQUENCE`, `STATUS`, `UID`…).
    pub fn property(&self, name: &str) -> Option<String> {
        let ics = self.calendar.as_ref()?.replace("\r\n ", "");
        ics.lines().find_map(|line| {
            let (head, value) = line.split_once(':')?;
            (head.split(';').next()? == name).then(|| value.trim().to_owned())
        })
    }

    pub fn method(&self) -> Option<String> {
        self.property("METHOD")
    }

    pub fn sequence(&self) -> Option<u32> {
        self.property("SEQUENCE").and_then(|s| s.parse().ok())
    }
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) in a header.
pub fn decode_header(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else {
            out.push_str(rest);
            break;
        };
        let between = &rest[..start];
        if !(last_was_word && between.trim().is_empty()) {
            out.push_str(between);
        }
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            out.push_str(&rest[start..]);
            break;
        };
        let (encoding, text) = (parts[1], &parts[2][..end]);
        let bytes = if encoding.eq_ignore_ascii_case("b") {
            base64(text)
        } else {
            quoted_printable(text)
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        last_was_word = true;
        let consumed = start + 2 + parts[0].len() + 1 + parts[1].len() + 1 + end + 2;
        rest = &rest[consumed..];
    }
    out
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for v in text.bytes().filter_map(value) {
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(((bits >> count) & 0xff) as u8);
        }
    }
    out
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

/// Runs `check-invite --series` over every message carrying a calendar part, in arrival order: its history is kept
/// per (UID, attendee), so this checks each attendee's mailbox as a series. Panics with the report unless all pass.
pub fn check_every_invite(mail: &[Mail]) -> usize {
    let files: Vec<PathBuf> = mail
        .iter()
        .filter(|m| m.calendar.is_some())
        .map(|m| m.path.clone())
        .collect();
    let report = cloverleaf_service_kit::testing::check_invite(&files, true);
    assert!(
        report.contains(&format!("{} passed, 0 failed", files.len())),
        "{report}"
    );
    files.len()
}
