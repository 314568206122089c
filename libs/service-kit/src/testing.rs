//! Test support: every test gets its own data directory, its own database — a fresh SQLite file, or, when
//! `CLOVERLEAF_TEST_DATABASE_URL` names a PostgreSQL server, a fresh PostgreSQL database created for the test and
//! dropped after it — and its service on a free port.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cloverleaf_auth::{Role, TokenIssuer, TokenRequest};
use sea_orm::{ConnectionTrait, Database, Statement};
use secrecy::{ExposeSecret, SecretString};
use tempfile::TempDir;

use crate::config::{ServiceName, Settings};
use crate::server::{RunningService, Service};

/// The variable that switches the test suites to PostgreSQL: an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_ENV: &str = "CLOVERLEAF_TEST_DATABASE_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    url: SecretString,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh database: PostgreSQL when [`POSTGRES_ENV`] is set, else a SQLite file in `dir`.
    pub async fn create(dir: &std::path::Path, name: ServiceName) -> Self {
        match std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty()) {
            Some(admin) => {
                let database = format!(
                    "cl_test_{}_{}",
                    name.as_str(),
                    uuid::Uuid::new_v4().simple()
                );
                let connection = Database::connect(&admin)
                    .await
                    .expect("connect to the PostgreSQL test server");
                connection
                    .execute_raw(Statement::from_string(
                        connection.get_database_backend(),
                        format!("CREATE DATABASE \"{database}\""),
                    ))
                    .await
                    .expect("create the test database");
                let _ = connection.close().await;
                let url = replace_database(&admin, &database);
                Self {
                    url: SecretString::from(url),
                    postgres: Some((admin, database)),
                }
            }
            None => {
                let path = dir.join(format!("{}.db", name.as_str()));
                Self {
                    url: SecretString::from(format!("sqlite://{}?mode=rwc", path.display())),
                    postgres: None,
                }
            }
        }
    }

    pub fn url(&self) -> &SecretString {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, database)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async; a thread of its own with its own runtime drops the database.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let connection = Database::connect(&admin).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                connection
                    .execute_raw(Statement::from_string(
                        connection.get_database_backend(),
                        sql,
                    ))
                    .await
                    .ok()?;
                connection.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: a PostgreSQL test database was not dropped");
        }
    }
}

fn replace_database(admin: &str, database: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = path_start.map_or(base, |i| &base[..i]);
    match query {
        Some(query) => format!("{host}/{database}?{query}"),
        None => format!("{host}/{database}"),
    }
}

/// Settings for one test: the `test` profile, a temporary data directory, every service on port 0.
pub fn settings(dir: &std::path::Path) -> Settings {
    let config_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let mut overrides = vec![
        ("data_dir", dir.display().to_string()),
        ("edge.listen", "127.0.0.1:0".to_owned()),
        ("portal.listen", "127.0.0.1:0".to_owned()),
    ];
    for name in ServiceName::ALL {
        overrides.push((listen_key(name), "127.0.0.1:0".to_owned()));
    }
    Settings::load_from(&config_dir, "test", &overrides).expect("test settings")
}

fn listen_key(name: ServiceName) -> &'static str {
    match name {
        ServiceName::Registration => "registration.listen",
        ServiceName::Scheduling => "scheduling.listen",
        ServiceName::Notifications => "notifications.listen",
    }
}

/// One service under test, serving on a free port with its own database.
pub struct TestApp {
    pub settings: Settings,
    pub url: String,
    pub http: reqwest::Client,
    pub running: Option<RunningService>,
    pub database: TestDatabase,
    _dir: TempDir,
}

impl TestApp {
    /// Builds service `name` with `build` from fresh test settings and serves it.
    pub async fn spawn<F, Fut, E>(name: ServiceName, build: F) -> Self
    where
        F: FnOnce(Settings) -> Fut,
        Fut: Future<Output = Result<Service, E>>,
        E: std::fmt::Debug,
    {
        Self::spawn_with(name, |_| {}, build).await
    }

    /// Like [`TestApp::spawn`], letting `adjust` change the settings first.
    pub async fn spawn_with<F, Fut, E>(
        name: ServiceName,
        adjust: impl FnOnce(&mut Settings),
        build: F,
    ) -> Self
    where
        F: FnOnce(Settings) -> Fut,
        Fut: Future<Output = Result<Service, E>>,
        E: std::fmt::Debug,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Self::spawn_on(name, listener, adjust, build).await
    }

    /// Like [`TestApp::spawn_with`], serving on a listener bound beforehand: its address can go into other services'
    /// settings before this one is built (services that call each other both ways).
    pub async fn spawn_on<F, Fut, E>(
        name: ServiceName,
        listener: tokio::net::TcpListener,
        adjust: impl FnOnce(&mut Settings),
        build: F,
    ) -> Self
    where
        F: FnOnce(Settings) -> Fut,
        Fut: Future<Output = Result<Service, E>>,
        E: std::fmt::Debug,
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = settings(dir.path());
        let database = TestDatabase::create(dir.path(), name).await;
        settings.service_mut(name).database_url = database.url().clone();
        adjust(&mut settings);
        let service = build(settings.clone()).await.expect("service builds");
        let running = service.serve(listener);
        let url = running.url();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            settings,
            url,
            http,
            running: Some(running),
            database,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// The issuer of people's tokens these settings trust.
    pub fn people_issuer(&self) -> TokenIssuer {
        let keys = crate::auth::signing_keys(&self.settings).expect("signing keys");
        crate::auth::people_issuer(&self.settings, &keys)
    }

    /// A fresh organiser access token good at every service.
    pub fn organiser_token(&self) -> String {
        self.token_for(Role::Organiser)
    }

    pub fn token_for(&self, role: Role) -> String {
        let request = TokenRequest {
            subject: format!("{}@example.org", role.as_str()),
            role,
            scope: None,
            teams: Vec::new(),
            audience: cloverleaf_auth::audience::ALL
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
            ttl: Duration::from_secs(600),
        };
        self.people_issuer().issue(request).expect("token").token
    }

    /// A service token from `caller` to this app's service.
    pub fn service_token(&self, caller: ServiceName, to: ServiceName) -> String {
        crate::auth::service_tokens(&self.settings, caller)
            .expect("service tokens")
            .token_for(to.audience())
            .expect("token")
    }

    /// Stops the service gracefully; panics if it does not stop within the grace period.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("stops cleanly");
        }
    }
}

/// Runs `check-invite` (the calendar checker in the shared tools beside the repository, or
/// `$CLOVERLEAF_CHECK_INVITE`) on `files`, with `--series` when asked, and panics with its report unless every file
/// passes. libical's RFC 5546 checks must have run: without them the checker is too lenient to prove anything, so a
/// missing libical fails the test and says how to install it (`.ci/calendar-tools.sh`).
pub fn check_invite(files: &[std::path::PathBuf], series: bool) -> String {
    let checker = std::env::var_os("CLOVERLEAF_CHECK_INVITE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/tools/check-invite")
        });
    // The checker's own interpreter (its #! line): a python3 earlier on PATH (pyenv, a venv) lacks Debian's libical
    // bindings.
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut command = std::process::Command::new(python);
    command.arg(&checker);
    if series {
        command.arg("--series");
    }
    let output = command
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", checker.display()));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !report.contains("is not installed"),
        "libical is missing, so check-invite skipped its RFC 5546 checks; run .ci/calendar-tools.sh\n{report}"
    );
    assert!(output.status.success(), "check-invite failed:\n{report}");
    report
}

/// True when the suites run against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(POSTGRES_ENV).is_ok_and(|u| !u.is_empty())
}

/// Reads a database URL without exposing it in a panic message.
pub fn url_kind(url: &SecretString) -> &'static str {
    if url.expose_secret().starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}

/// What every service must answer the same way: health, readiness, metrics, OpenAPI, docs without a CDN, request
/// ids echoed, unknown paths as problem+json.
pub async fn assert_platform_endpoints(app: &TestApp, service: ServiceName) {
    let get = |path: &str| {
        app.http
            .get(app.url(path))
            .header("x-request-id", "platform-check")
            .send()
    };

    let health = get("/healthz").await.expect("healthz");
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.headers()["x-request-id"],
        "platform-check",
        "the caller's request id is echoed"
    );

    let ready = get("/readyz").await.expect("readyz");
    assert_eq!(
        ready.status(),
        200,
        "ready: database reachable and migrated"
    );

    let openapi: serde_json::Value = get("/openapi.json")
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    assert!(
        openapi["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1"),
        "OpenAPI 3.1"
    );
    assert!(
        openapi["info"]["title"]
            .as_str()
            .expect("title")
            .contains(service.as_str())
    );

    // The same document at its public path (the one the edge's /docs/ loads it from).
    let public: serde_json::Value = get(crate::docs::public_path(service))
        .await
        .expect("public openapi")
        .json()
        .await
        .expect("json");
    assert_eq!(
        public,
        openapi,
        "the same document at {}",
        crate::docs::public_path(service)
    );

    // A NUL character from outside never reaches a handler (PostgreSQL cannot store it): 422 naming the parameter.
    let nul = get("/readyz?probe=a%00b").await.expect("nul");
    assert_eq!(nul.status(), 422);
    let problem: serde_json::Value = nul.json().await.expect("problem");
    assert_eq!(problem["errors"][0]["field"], "probe", "{problem}");
    let nul = get("/v1/a%00b").await.expect("nul path");
    assert_eq!(nul.status(), 404);

    let docs = get("/docs/").await.expect("docs");
    assert_eq!(docs.status(), 200);
    let page = docs.text().await.expect("page");
    assert!(page.contains("swagger-ui"), "the docs page is Swagger UI");
    let config = get("/docs/swagger-initializer.js")
        .await
        .expect("initializer")
        .text()
        .await
        .expect("text");
    assert!(
        config.contains(r#""validatorUrl": "none""#),
        "no validator badge from the internet: {config}"
    );
    // Relative to the page, so it loads wherever a proxy mounts the service (`/services/<name>/docs/`).
    assert!(config.contains(r#""url": "../openapi.json""#), "{config}");
    for text in [&page, &config] {
        assert!(
            !text.contains("https://"),
            "docs must load nothing from the internet: {text}"
        );
    }
    let bundle = get("/docs/swagger-ui-bundle.js").await.expect("bundle");
    assert_eq!(
        bundle.status(),
        200,
        "the Swagger UI assets are served locally"
    );

    let missing = get("/v1/surely-not-a-route").await.expect("404");
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );

    // The requests above are counted, labelled with the service and the route template.
    let metrics = get("/metrics")
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let line = format!("service=\"{}\"", service.as_str());
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("cloverleaf_http_requests_total")
                && l.contains(&line)
                && l.contains("route=\"/healthz\"")),
        "{metrics}"
    );
}

/// The tests every service has, written once: `platform_tests!(ServiceName::Scheduling, cloverleaf_scheduling::build);`
/// expands to a test of the platform endpoints on the database the suite runs on, and a test that the service's
/// migrations created the outbox.
#[macro_export]
macro_rules! platform_tests {
    ($name:expr, $build:path) => {
        #[tokio::test]
        async fn serves_health_readiness_metrics_and_docs() {
            use $crate::testing::{TestApp, assert_platform_endpoints, on_postgres, url_kind};
            let mut app = TestApp::spawn($name, $build).await;
            assert_eq!(
                url_kind(app.database.url()) == "postgres",
                on_postgres(),
                "runs on the database asked for"
            );
            assert_platform_endpoints(&app, $name).await;
            app.stop().await;
        }

        #[tokio::test]
        async fn its_migrations_create_the_outbox() {
            use ::sea_orm::{EntityTrait, PaginatorTrait};
            use $crate::outbox;
            let app = $crate::testing::TestApp::spawn($name, $build).await;
            let db = $crate::db::connect(app.database.url(), 1)
                .await
                .expect("connect");
            assert_eq!(
                outbox::event::Entity::find()
                    .count(&db)
                    .await
                    .expect("outbox table exists"),
                0
            );
            assert_eq!(
                outbox::delivery::Entity::find()
                    .count(&db)
                    .await
                    .expect("deliveries table exists"),
                0
            );
        }
    };
}

/// A real SMTP server for tests: Python's aiosmtpd (install it with `.ci/smtp-tools.sh`) running
/// `libs/service-kit/testing/smtp_server.py` on its own port, storing each accepted message byte for byte as
/// `000001.eml`, `000002.eml`… in its own directory; killed when dropped.
pub struct Smtp {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Smtp {
    /// Starts the server and waits until it listens.
    pub fn start(options: &[&str]) -> Self {
        let mut smtp = Self::spawn(options);
        let stdout = smtp.child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read from the SMTP server");
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP server did not start (is aiosmtpd installed? run .ci/smtp-tools.sh)"
        );
        smtp
    }

    /// Reserves a port and starts the server on it only after `seconds`: SMTP is down until then.
    pub fn start_late(seconds: f64) -> Self {
        Self::spawn(&["--delay", &seconds.to_string()])
    }

    fn spawn(options: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("address")
            .port();
        let dir = tempfile::tempdir().expect("mailbox dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testing/smtp_server.py");
        let child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string()])
            .arg("--dir")
            .arg(dir.path())
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run python3 testing/smtp_server.py (the service kit's)");
        Self { child, port, dir }
    }

    /// The messages received, in arrival order.
    pub fn received(&self) -> Vec<PathBuf> {
        eml_files(self.dir.path())
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "eml")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

pub fn message_id(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .starts_with("message-id:")
                .then(|| line["message-id:".len()..].trim().to_owned())
        })
        .expect("a Message-ID header")
}

/// Points the mail settings at an SMTP server on localhost, without TLS.
pub fn use_smtp(settings: &mut Settings, port: u16) {
    settings
        .set("mail.transport", "smtp")
        .set("mail.smtp_host", "127.0.0.1")
        .set("mail.smtp_port", i64::from(port))
        .set("mail.smtp_security", "none");
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_replaced_in_admin_urls() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://h:5432", "t3"),
            "postgres://h:5432/t3"
        );
    }
}
