//! `cloverleaf serve` as a newcomer runs it: the real binary, all five ports up (the portal's too), readiness through the edge and
//! directly, the caller's x-request-id in the log line of the service that handled the request, and SIGTERM stopping
//! everything within seconds with exit code 0. On PostgreSQL when CLOVERLEAF_TEST_DATABASE_URL is set.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::TestDatabase;
use secrecy_free::expose;

mod secrecy_free {
    /// Database URLs are secrets in the services; here they only go into a child's environment.
    pub fn expose(url: &secrecy::SecretString) -> String {
        secrecy::ExposeSecret::expose_secret(url).to_owned()
    }
}

struct Serve {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    fn wait_for(&self, what: &str, found: impl Fn(&[String]) -> Option<String>) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(value) = found(&self.lines.lock().expect("lines")) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; output:\n{}",
                self.lines.lock().expect("lines").join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url_of(&self, name: &str) -> String {
        self.wait_for(name, |lines| {
            lines.iter().find_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some(name))
                    .then(|| words.next().map(str::to_owned))
                    .flatten()
            })
        })
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

async fn start(dir: &std::path::Path, databases: &[(ServiceName, TestDatabase)]) -> Serve {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloverleaf"));
    command
        .args(["serve", "--data-dir"])
        .arg(dir)
        .env_remove("RUST_LOG")
        .env("CLOVERLEAF_PROFILE", "test")
        .env(
            "CLOVERLEAF_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env("CLOVERLEAF__TELEMETRY__FORMAT", "json")
        .env("CLOVERLEAF__TELEMETRY__FILTER", "info")
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
            expose(database.url()),
        );
    }
    let mut child = command.spawn().expect("cloverleaf serve starts");
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
    Serve { child, lines }
}

#[tokio::test]
async fn serve_runs_everything_logs_request_ids_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let mut databases = Vec::new();
    if cloverleaf_service_kit::testing::on_postgres() {
        for name in ServiceName::ALL {
            databases.push((name, TestDatabase::create(dir.path(), name).await));
        }
    }
    let mut serve = start(dir.path(), &databases).await;
    let edge = serve.url_of("edge");
    let http = reqwest::Client::new();

    for name in ServiceName::ALL {
        let direct = serve.url_of(name.as_str());
        let status = http
            .get(format!("{direct}/readyz"))
            .send()
            .await
            .expect("direct readyz")
            .status();
        assert_eq!(status, 200, "{name} ready directly");
        let status = http
            .get(format!("{edge}/services/{name}/readyz"))
            .send()
            .await
            .expect("edge readyz")
            .status();
        assert_eq!(status, 200, "{name} ready through the edge");
    }
    assert_eq!(
        http.get(format!("{edge}/readyz"))
            .send()
            .await
            .expect("edge")
            .status(),
        200
    );

    // The portal's pages at every other path, and the portal on its own port.
    let page = http
        .get(format!("{edge}/"))
        .send()
        .await
        .expect("the events page");
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("/static/portal.css")
    );
    let portal = serve.url_of("portal");
    assert_eq!(
        http.get(format!("{portal}/healthz"))
            .send()
            .await
            .expect("portal healthz")
            .status(),
        200
    );

    // The caller's request id reaches the log line of the service that handled the request.
    let response = http
        .get(format!("{edge}/v1/events"))
        .header("x-request-id", "abc")
        .send()
        .await
        .expect("events");
    assert_eq!(response.headers()["x-request-id"], "abc");
    serve.wait_for("scheduling's log line with request_id abc", |lines| {
        lines
            .iter()
            .find(|l| {
                serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| {
                    v["span"]["request_id"] == "abc"
                        && v["span"]["service"] == "scheduling"
                        && v["message"] == "answered"
                })
            })
            .cloned()
    });

    // Without one, the edge makes one, and the service logs the same.
    let response = http
        .get(format!("{edge}/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(response.status(), 200);
    let made = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    serve.wait_for("registration's log line with the edge's id", |lines| {
        lines
            .iter()
            .find(|l| l.contains(&made) && l.contains("\"service\":\"registration\""))
            .cloned()
    });

    let pid = serve.child.id().to_string();
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let status = loop {
        if let Some(status) = serve.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "a clean stop exits 0");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        sent.elapsed()
    );
    // The databases and keys are where --data-dir said.
    assert!(dir.path().join("keys/signing.pem").exists());
    if databases.is_empty() {
        assert!(dir.path().join("registration.db").exists());
    }
}

#[test]
fn migrate_applies_every_services_migrations() {
    let dir = tempfile::tempdir().expect("dir");
    let status = Command::new(env!("CARGO_BIN_EXE_cloverleaf"))
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .env("CLOVERLEAF_PROFILE", "test")
        .env(
            "CLOVERLEAF_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env_remove("RUST_LOG")
        .status()
        .expect("migrate runs");
    assert!(status.success());
    for name in ServiceName::ALL {
        assert!(
            dir.path().join(format!("{}.db", name.as_str())).exists(),
            "{name} database created"
        );
    }
}
