//! Scale-out without containers: two instances of each service as separate processes (`cloverleaf service <name>`)
//! on one database per service (PostgreSQL with CLOVERLEAF_TEST_DATABASE_URL, else one SQLite file each), behind the
//! edge router (`cloverleaf edge` with both instances of each), services calling each other through the edge, and a
//! real SMTP server. Under a burst of registrations one registration and one scheduling instance are killed
//! (SIGKILL) and one notifications instance is stopped (SIGTERM, as a scale-down does). Afterwards: no seat
//! oversold, no registration lost, every participant emailed exactly once, every domain event handled once.
//! What would break it: seats decided outside the form-row lock (oversold), an outbox row claimed by the killed
//! instance never re-claimed (emails missing), claims without SKIP LOCKED/leases or an inbox without dedup (emails
//! twice).

use std::collections::HashMap;
use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::{Smtp, TestDatabase};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port()
}

struct Processes(Vec<(String, Child)>);

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn expose(url: &secrecy::SecretString) -> String {
    secrecy::ExposeSecret::expose_secret(url).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_of_each_service_lose_nothing_and_send_nothing_twice() {
    let dir = tempfile::tempdir().expect("dir");
    let smtp = Smtp::start(&[]);
    let mut databases = Vec::new();
    for name in ServiceName::ALL {
        databases.push((name, TestDatabase::create(dir.path(), name).await));
    }
    let edge_port = free_port();
    let edge = format!("http://127.0.0.1:{edge_port}");
    let bin = env!("CARGO_BIN_EXE_cloverleaf");
    let config_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config");
    // The keys are made once, before any instance starts, so that both instances of a service use the same ones.
    let keys = Command::new(bin)
        .args(["keys", "generate", "--dir"])
        .arg(dir.path().join("keys"))
        .output()
        .expect("keys generate");
    assert!(
        keys.status.success(),
        "{}",
        String::from_utf8_lossy(&keys.stderr)
    );

    let common = |command: &mut Command| {
        command
            .env_remove("RUST_LOG")
            .env("CLOVERLEAF_PROFILE", "test")
            .env("CLOVERLEAF_CONFIG_DIR", config_dir)
            .env("CLOVERLEAF__DATA_DIR", dir.path())
            .env("CLOVERLEAF__PUBLIC_URL", "https://events.example.org")
            .env(
                "CLOVERLEAF__AUTH__JWKS_URL",
                format!("{edge}/.well-known/jwks.json"),
            )
            .env("CLOVERLEAF__MAIL__TRANSPORT", "smtp")
            .env("CLOVERLEAF__MAIL__SMTP_HOST", "127.0.0.1")
            .env("CLOVERLEAF__MAIL__SMTP_PORT", smtp.port.to_string())
            .env("CLOVERLEAF__MAIL__SMTP_SECURITY", "none")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, database) in &databases {
            let upper = name.as_str().to_uppercase();
            command
                .env(
                    format!("CLOVERLEAF__{upper}__DATABASE_URL"),
                    expose(database.url()),
                )
                // Services reach each other through the edge, which spreads calls over the instances.
                .env(format!("CLOVERLEAF__{upper}__URL"), &edge);
        }
    };
    // Migrations run once, as the deployment's migration step does; the instances then only check them.
    let mut migrate = Command::new(bin);
    migrate.arg("migrate");
    common(&mut migrate);
    assert!(migrate.status().expect("migrate").success());
    let mut processes = Processes(Vec::new());
    let mut instances: HashMap<ServiceName, Vec<String>> = HashMap::new();
    for name in ServiceName::ALL {
        for n in 0..2 {
            let port = free_port();
            let mut command = Command::new(bin);
            command.args(["service", name.as_str()]);
            common(&mut command);
            command.env(
                format!(
                    "CLOVERLEAF__{}__MIGRATE_ON_START",
                    name.as_str().to_uppercase()
                ),
                "false",
            );
            command.env(
                format!("CLOVERLEAF__{}__LISTEN", name.as_str().to_uppercase()),
                format!("127.0.0.1:{port}"),
            );
            let child = command.spawn().expect("a service instance");
            processes.0.push((format!("{}-{n}", name.as_str()), child));
            instances
                .entry(name)
                .or_default()
                .push(format!("http://127.0.0.1:{port}"));
        }
    }
    let mut command = Command::new(bin);
    command.arg("edge");
    common(&mut command);
    command.env("CLOVERLEAF__EDGE__LISTEN", format!("127.0.0.1:{edge_port}"));
    for name in ServiceName::ALL {
        command.env(
            format!(
                "CLOVERLEAF__EDGE__{}_INSTANCES",
                name.as_str().to_uppercase()
            ),
            instances[&name].join(","),
        );
    }
    processes
        .0
        .push(("edge".to_owned(), command.spawn().expect("the edge")));

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http
        .get(format!("{edge}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "the system did not become ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for urls in instances.values() {
        for url in urls {
            let ready = async {
                while !http
                    .get(format!("{url}/readyz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(60), ready)
                .await
                .expect("every instance ready");
        }
    }

    // An organiser, as `cloverleaf accounts create` makes one, logged in through the edge.
    let mut create = Command::new(bin);
    create.args([
        "accounts",
        "create",
        "--email",
        "office@permed.example.org",
        "--name",
        "Office",
        "--role",
        "organiser",
    ]);
    common(&mut create);
    create.stdin(Stdio::piped());
    let mut child = create.spawn().expect("accounts create");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a long organiser passphrase\n")
        .expect("password");
    assert!(child.wait().expect("wait").success());
    let login: Value = http
        .post(format!("{edge}/v1/auth/token"))
        .json(&json!({ "email": "office@permed.example.org", "password": "a long organiser passphrase" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    let token = login["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let organise = |method: reqwest::Method, path: String, body: Value| {
        let (http, token, edge) = (http.clone(), token.clone(), edge.clone());
        async move {
            let response = http
                .request(method, format!("{edge}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("organiser call");
            let status = response.status();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "{path}: {status} {answer}");
            answer
        }
    };
    let starts = chrono::Utc::now() + chrono::Duration::days(20);
    let event = organise(reqwest::Method::POST, "/v1/events".into(), json!({
        "kind": "webinar", "title": "Scale-out webinar", "timezone": "Europe/Berlin",
        "starts_at": starts.to_rfc3339(), "ends_at": (starts + chrono::Duration::hours(2)).to_rfc3339(),
        "online_url": "https://meet.example.org/scale",
        "organiser": { "name": "Office", "email": "office@permed.example.org" } }))
    .await;
    let event = event["id"].as_str().expect("id").to_owned();
    organise(
        reqwest::Method::PUT,
        format!("/v1/forms/{event}"),
        json!({ "capacity": 60, "waitlist": true, "approval": "automatic" }),
    )
    .await;
    organise(
        reqwest::Method::POST,
        format!("/v1/events/{event}/publish"),
        json!({}),
    )
    .await;

    // 200 registrations, 16 at a time, each retried with its Idempotency-Key until it is answered 201.
    let people: Vec<String> = (0..200).map(|i| format!("s{i:03}@example.org")).collect();
    let registering = futures::stream::iter(people.iter().enumerate().map(|(i, email)| {
        let (http, edge, event) = (http.clone(), edge.clone(), event.clone());
        async move {
            for _ in 0..300 {
                let sent = http
                    .post(format!("{edge}/v1/registrations"))
                    .header("idempotency-key", format!("scale-{i}"))
                    .json(&json!({ "event_id": event, "email": email, "name": "Scaled", "consent": true }))
                    .send()
                    .await;
                if let Ok(response) = sent
                    && response.status() == StatusCode::CREATED
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("{email} never registered");
        }
    }))
    .buffer_unordered(16)
    .collect::<Vec<()>>();
    let killing = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        for (name, child) in &mut processes.0 {
            match name.as_str() {
                "registration-0" | "scheduling-0" => {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                "notifications-0" => {
                    let _ = Command::new("kill")
                        .args(["-TERM", &child.id().to_string()])
                        .status();
                    let _ = child.wait();
                }
                _ => {}
            }
        }
    };
    tokio::join!(registering, killing);

    // No seat oversold, nobody lost.
    let list: Value = http
        .get(format!("{edge}/v1/registrations?event_id={event}&limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["counts"]["confirmed"], 60, "{list}");
    assert_eq!(list["counts"]["waitlisted"], 140, "{list}");

    // Everyone emailed exactly once (confirmation or waiting list), whatever instance handled what.
    let deadline = Instant::now() + Duration::from_secs(90);
    while smtp.received().len() < 200 {
        assert!(
            Instant::now() < deadline,
            "{} of 200 emails arrived",
            smtp.received().len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut per_person: HashMap<String, usize> = HashMap::new();
    for path in smtp.received() {
        let raw = std::fs::read_to_string(&path).expect("eml");
        let to = raw
            .lines()
            .find_map(|l| l.strip_prefix("To: "))
            .expect("To")
            .rsplit(['<', ' '])
            .next()
            .unwrap_or_default()
            .trim_end_matches('>')
            .to_lowercase();
        *per_person.entry(to).or_default() += 1;
    }
    assert_eq!(per_person.len(), 200);
    assert!(
        per_person.values().all(|&n| n == 1),
        "someone got two emails: {per_person:?}"
    );

    // Every domain event handled once in notifications' inbox (one row per event id, each processed).
    let notifications = &databases[2].1;
    let db = cloverleaf_service_kit::db::connect(notifications.url(), 1)
        .await
        .expect("db");
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n, SUM(CASE WHEN processed_at IS NULL THEN 1 ELSE 0 END) AS waiting \
             FROM inbox_events WHERE event_type LIKE 'registration.%'",
        ))
        .await
        .expect("count")
        .expect("a row");
    let n: i64 = row.try_get("", "n").expect("n");
    let waiting: i64 = row.try_get("", "waiting").expect("waiting");
    assert_eq!(
        (n, waiting),
        (200, 0),
        "one registration event per person, all handled"
    );
}
