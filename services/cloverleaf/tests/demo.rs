//! `cloverleaf seed --demo` as a newcomer runs it: the real binary loads the Sino-EU PerMed demo through the HTTP API
//! and prints a fresh organiser login; a second run adds nothing; `serve --demo` then serves the same three events,
//! and the printed login works. On PostgreSQL when CLOVERLEAF_TEST_DATABASE_URL is set.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::TestDatabase;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const WEBINAR: &str = "sino-eu-permed-science-technology-webinar";
const WORKSHOP: &str = "sino-eu-permed-stakeholder-workshop-siena";
const TOUR: &str = "clover-leaf-tour-berlin-guangzhou-nanjing";

/// The binary with the test profile, every port 0, and the test's databases (PostgreSQL ones when the suite runs
/// there; else SQLite files in `dir`).
fn cloverleaf(dir: &Path, databases: &[(ServiceName, TestDatabase)], args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloverleaf"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("RUST_LOG")
        .env("CLOVERLEAF_PROFILE", "test")
        .env(
            "CLOVERLEAF_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env("CLOVERLEAF__EDGE__LISTEN", "127.0.0.1:0")
        .env("CLOVERLEAF__REGISTRATION__LISTEN", "127.0.0.1:0")
        .env("CLOVERLEAF__SCHEDULING__LISTEN", "127.0.0.1:0")
        .env("CLOVERLEAF__NOTIFICATIONS__LISTEN", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, database) in databases {
        command.env(
            format!("CLOVERLEAF__{}__DATABASE_URL", name.as_str().to_uppercase()),
            database.url().expose_secret(),
        );
    }
    command
}

fn seed(dir: &Path, databases: &[(ServiceName, TestDatabase)]) -> (Output, String) {
    let output = cloverleaf(dir, databases, &["seed", "--demo"])
        .output()
        .expect("cloverleaf seed runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "seed failed ({:?}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    (output, stdout)
}

/// The value after `label` on the line that has it.
fn value_after(text: &str, label: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.trim()
            .strip_prefix(label)
            .map(|rest| rest.trim().to_owned())
    })
}

/// `cloverleaf serve --demo` in the background, its output collected line by line.
struct Serve {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    fn start(dir: &Path, databases: &[(ServiceName, TestDatabase)]) -> Self {
        let mut child = cloverleaf(dir, databases, &["serve", "--demo"])
            .spawn()
            .expect("cloverleaf serve starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child.stderr.take().map(|s| Box::new(s) as _),
        ]
        .into_iter()
        .flatten()
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().expect("lines").push(line);
                }
            });
        }
        Self { child, lines }
    }

    fn edge_url(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let found = self.lines.lock().expect("lines").iter().find_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some("edge"))
                    .then(|| words.next().map(str::to_owned))
                    .flatten()
            });
            if let Some(url) = found {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "serve --demo printed no edge URL; output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn output(&self) -> String {
        self.lines.lock().expect("lines").join("\n")
    }

    /// SIGTERM, then the exit code.
    fn stop(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill")
                .success()
        );
        let sent = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "still running 10 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

async fn get(http: &reqwest::Client, url: String, token: Option<&str>) -> Value {
    let mut request = http.get(&url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let body = response.text().await.expect("body");
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).expect("json")
}

fn count(list: &Value, status: &str) -> i64 {
    list["counts"][status].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn seed_demo_loads_the_programme_once_with_a_fresh_organiser_login() {
    let dir = tempfile::tempdir().expect("dir");
    let mut databases = Vec::new();
    if cloverleaf_service_kit::testing::on_postgres() {
        for name in ServiceName::ALL {
            databases.push((name, TestDatabase::create(dir.path(), name).await));
        }
    }

    // First run: the programme is loaded and a login printed.
    let (_, first) = seed(dir.path(), &databases);
    assert!(first.contains("demo loaded"), "{first}");
    let email = value_after(&first, "email:").expect("an email line");
    assert_eq!(email, "demo.organiser@example.org");
    let password = value_after(&first, "password:").expect("a password line");
    assert_eq!(password.chars().count(), 16, "{first}");
    assert!(
        password.chars().all(|c| c.is_ascii_alphanumeric()),
        "{password}"
    );
    for slug in [WEBINAR, WORKSHOP, TOUR] {
        assert!(first.contains(&format!("/v1/events/{slug}")), "{first}");
    }
    // It waited for notifications to queue every applicant's email before stopping.
    assert!(!first.contains("not written yet"), "{first}");

    // Second run: nothing added, the same organiser named, no password to show.
    let (_, second) = seed(dir.path(), &databases);
    assert!(second.contains("already loaded"), "{second}");
    assert!(second.contains(&email), "{second}");
    assert!(second.contains("cloverleaf accounts create"), "{second}");
    assert!(!second.contains("password:"), "{second}");
    assert!(!second.contains(&password), "{second}");

    // `seed` without --demo has nothing to do.
    let bare = Command::new(env!("CARGO_BIN_EXE_cloverleaf"))
        .args(["seed", "--data-dir"])
        .arg(dir.path())
        .env("CLOVERLEAF_PROFILE", "test")
        .env(
            "CLOVERLEAF_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .output()
        .expect("runs");
    assert_eq!(bare.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("--demo"));

    // serve --demo finds the demo there, says so, and serves it.
    let mut serve = Serve::start(dir.path(), &databases);
    let edge = serve.edge_url();
    assert!(
        serve.output().contains("already loaded"),
        "{}",
        serve.output()
    );
    let http = reqwest::Client::new();

    // The printed login works.
    let response = http
        .post(format!("{edge}/v1/auth/token"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200);
    let token: Value = response.json().await.expect("json");
    let token = token["access_token"].as_str().expect("token").to_owned();

    // Exactly three events, for the public and for organisers (who see drafts too): nothing was duplicated.
    for viewer in [None, Some(token.as_str())] {
        let events = get(&http, format!("{edge}/v1/events"), viewer).await;
        let mut slugs: Vec<&str> = events["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["slug"].as_str().expect("slug"))
            .collect();
        slugs.sort_unstable();
        assert_eq!(slugs, [TOUR, WEBINAR, WORKSHOP], "{events}");
    }
    let event = |slug: &'static str| get(&http, format!("{edge}/v1/events/{slug}"), None);
    let webinar = event(WEBINAR).await;
    let workshop = event(WORKSHOP).await;
    let tour = event(TOUR).await;
    for (e, kind) in [
        (&webinar, "webinar"),
        (&workshop, "workshop"),
        (&tour, "tour"),
    ] {
        assert_eq!(e["kind"], kind);
        assert_eq!(e["status"], "published");
        assert_eq!(e["organiser"]["email"], email.as_str());
    }
    assert_eq!(webinar["timezone"], "Europe/Brussels");
    assert!(webinar["online_url"].is_string());
    assert_eq!(workshop["timezone"], "Europe/Rome");
    assert_eq!(workshop["venue"]["city"], "Siena");

    // The agendas: three items in the webinar, and a tour in Europe/Berlin and Asia/Shanghai with visits, transfers
    // and hotels.
    let items = get(&http, format!("{edge}/v1/events/{WEBINAR}/items"), None).await;
    assert_eq!(items["items"].as_array().expect("items").len(), 3);
    let items = get(&http, format!("{edge}/v1/events/{TOUR}/items"), None).await;
    let items = items["items"].as_array().expect("items");
    for zone in ["Europe/Berlin", "Asia/Shanghai"] {
        assert!(
            items.iter().any(|i| i["timezone"] == zone),
            "no item in {zone}"
        );
    }
    for kind in ["visit", "transfer", "hotel"] {
        assert!(items.iter().any(|i| i["kind"] == kind), "no {kind}");
    }
    let visits: Vec<&Value> = items.iter().filter(|i| i["kind"] == "visit").collect();
    assert_eq!(visits.len(), 4);
    for city in ["Guangzhou", "Nanjing"] {
        assert_eq!(
            visits.iter().filter(|v| v["visit"]["city"] == city).count(),
            2
        );
    }

    // No conflicts anywhere.
    for slug in [WEBINAR, WORKSHOP, TOUR] {
        let conflicts = get(
            &http,
            format!("{edge}/v1/events/{slug}/conflicts"),
            Some(&token),
        )
        .await;
        assert_eq!(conflicts["items"], json!([]), "{slug}: {conflicts}");
    }

    // The forms and the registrations, once each.
    let id = |e: &Value| e["id"].as_str().expect("id").to_owned();
    let form = get(&http, format!("{edge}/v1/forms/{}", id(&webinar)), None).await;
    assert_eq!(form["capacity"], 250);
    assert_eq!(form["confirmed"], 5, "{form}");
    assert_eq!(form["seats_left"], 245, "{form}");
    let registrations = |e: &Value| {
        get(
            &http,
            format!("{edge}/v1/registrations?event_id={}", id(e)),
            Some(&token),
        )
    };
    let list = registrations(&webinar).await;
    assert_eq!(list["items"].as_array().expect("items").len(), 5);
    assert_eq!(count(&list, "confirmed"), 5, "{list}");
    for locale in ["en", "zh-CN"] {
        assert!(
            list["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|r| r["locale"] == locale),
            "no registration in {locale}"
        );
    }
    let list = registrations(&workshop).await;
    assert_eq!(list["items"].as_array().expect("items").len(), 4, "{list}");
    assert_eq!(count(&list, "confirmed"), 2, "{list}");
    assert_eq!(count(&list, "pending_approval"), 2, "{list}");
    let list = registrations(&tour).await;
    assert_eq!(list["items"].as_array().expect("items").len(), 3, "{list}");
    assert_eq!(count(&list, "pending_approval"), 3, "{list}");
    let form = get(&http, format!("{edge}/v1/forms/{}", id(&tour)), None).await;
    assert_eq!(form["capacity"], 20);
    assert_eq!(form["approval"], "manual");

    // Who was told what: every applicant got the letter of their status, once.
    let messages = get(
        &http,
        format!("{edge}/v1/messages?event_id={}", id(&workshop)),
        Some(&token),
    )
    .await;
    let letters: Vec<(&str, &str)> = messages["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            (
                m["to"].as_str().expect("to"),
                m["kind"].as_str().expect("kind"),
            )
        })
        .collect();
    for letter in [
        ("chen.xiaoming@example.org", "confirmed"),
        ("giulia.romano@example.org", "confirmed"),
        ("wang.fang@example.org", "pending_approval"),
        ("lars.nielsen@example.org", "pending_approval"),
    ] {
        assert_eq!(
            letters.iter().filter(|l| **l == letter).count(),
            1,
            "{letter:?} in {letters:?}"
        );
    }

    assert_eq!(serve.stop(), Some(0), "{}", serve.output());
    drop(databases);
}
