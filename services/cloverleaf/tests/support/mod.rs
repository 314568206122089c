//! What the whole-system suites share: a system started on port 0 with fresh databases, an organiser account in
//! it, and requests through its edge. Each suite includes it with `mod support;`.

#![allow(dead_code, clippy::unwrap_used)]

use cloverleaf::system::{self, RunningSystem};
use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::{TestDatabase, settings};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const ORGANISER: &str = "office@permed.example.org";
pub const PASSWORD: &str = "a long organiser passphrase";

pub struct System {
    pub settings: Settings,
    running: Option<RunningSystem>,
    pub http: reqwest::Client,
    _databases: Vec<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl System {
    pub async fn start(adjust: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let mut settings = settings(dir.path());
        let mut databases = Vec::new();
        for name in ServiceName::ALL {
            let database = TestDatabase::create(dir.path(), name).await;
            settings.service_mut(name).database_url = database.url().clone();
            databases.push(database);
        }
        for name in ServiceName::ALL {
            settings.service_mut(name).listen = "127.0.0.1:0".to_owned();
        }
        settings.edge.listen = "127.0.0.1:0".to_owned();
        adjust(&mut settings);
        let account_settings = settings.clone();
        let running = system::start(settings).await.expect("system starts");
        create_organiser(&account_settings).await;
        Self {
            settings: account_settings,
            running: Some(running),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            _databases: databases,
            _dir: dir,
        }
    }

    pub fn edge(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.running.as_ref().expect("running").edge_url()
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        self.get_with(path, None).await
    }

    pub async fn get_with(
        &self,
        path: &str,
        bearer: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let mut request = self.http.get(self.edge(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("get");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.expect("text"))
    }

    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.edge(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("text");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A document as the edge serves it (the services' forwarded, the edge's its own).
    pub async fn document(&self, name: &str) -> Value {
        let (status, document) = self
            .json(
                reqwest::Method::GET,
                &format!("/openapi/{name}.json"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "/openapi/{name}.json: {document}");
        document
    }

    pub async fn organiser_token(&self) -> String {
        self.login(ORGANISER).await
    }

    /// An access token for an account whose password is [`PASSWORD`].
    pub async fn login(&self, email: &str) -> String {
        let (status, body) = self
            .json(
                reqwest::Method::POST,
                "/v1/auth/token",
                None,
                Some(json!({ "email": email, "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("stops");
        }
    }
}

/// An organiser account, as `cloverleaf accounts create` makes it.
async fn create_organiser(settings: &Settings) {
    create_account(
        settings,
        ORGANISER,
        cloverleaf_registration::domain::accounts::AccountRole::Organiser,
    )
    .await;
}

/// An account with [`PASSWORD`], as `cloverleaf accounts create` makes it (the first admin has no other way in).
pub async fn create_account(
    settings: &Settings,
    email: &str,
    role: cloverleaf_registration::domain::accounts::AccountRole,
) {
    use cloverleaf_registration::domain::accounts::{AccountEmail, Password};
    use cloverleaf_registration::store::accounts::{NewAccount, create_account};
    let db =
        cloverleaf_service_kit::db::connect(&settings.database_url(ServiceName::Registration), 1)
            .await
            .expect("registration db");
    create_account(
        &db,
        NewAccount {
            email: AccountEmail::parse(email).expect("email"),
            name: "PerMed Office".to_owned(),
            role,
            password: Password::parse(PASSWORD).expect("password"),
        },
    )
    .await
    .expect("account");
    let _ = db.close().await;
}
