//! `cloverleaf accounts create` as an operator runs it: the real binary, the password on standard input, a data
//! directory (or a PostgreSQL database when CLOVERLEAF_TEST_DATABASE_URL is set); then the registration service on
//! that database logs the new account in.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use cloverleaf_registration::domain::accounts::verify_password;
use cloverleaf_registration::store::accounts::account_by_email;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::db;
use cloverleaf_service_kit::testing::TestDatabase;
use secrecy::{ExposeSecret, SecretString};

const PASSWORD: &str = "correct horse battery staple";

/// The registration database the command writes to: PostgreSQL when the suite runs there, else SQLite in `dir`.
async fn database(dir: &Path) -> (Option<TestDatabase>, SecretString) {
    if cloverleaf_service_kit::testing::on_postgres() {
        let database = TestDatabase::create(dir, ServiceName::Registration).await;
        let url = database.url().clone();
        (Some(database), url)
    } else {
        let path = dir.join("registration.db");
        (
            None,
            SecretString::from(format!("sqlite://{}?mode=rwc", path.display())),
        )
    }
}

fn create(dir: &Path, url: &SecretString, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloverleaf"));
    command
        .args(["accounts", "create", "--data-dir"])
        .arg(dir)
        .args(args)
        .env("CLOVERLEAF_PROFILE", "test")
        .env(
            "CLOVERLEAF_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env(
            "CLOVERLEAF__REGISTRATION__DATABASE_URL",
            url.expose_secret(),
        )
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("cloverleaf accounts create starts");
    // The command may refuse bad arguments before it reads stdin and exit: then the pipe is closed, which is fine.
    if let Err(error) = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
    {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().expect("finishes")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn creates_an_account_that_logs_in() {
    let dir = tempfile::tempdir().expect("dir");
    let (database, url) = database(dir.path()).await;
    let args = [
        "--email",
        "Li.Wei@Example.org",
        "--name",
        "Li Wei",
        "--role",
        "organiser",
    ];
    let output = create(dir.path(), &url, &args, &format!("{PASSWORD}\r\n"));
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(
        said.starts_with("created organiser li.wei@example.org (id "),
        "{said}"
    );
    assert!(output.stdout.is_empty());

    // Stored through the service's own store, with an argon2id hash of exactly the first line.
    let conn = db::connect(&url, 1).await.expect("connect");
    let account = account_by_email(&conn, "li.wei@example.org")
        .await
        .expect("query")
        .expect("the account exists");
    assert!(said.contains(&account.id.to_string()), "{said}");
    assert_eq!(account.name, "Li Wei");
    assert_eq!(account.role, "organiser");
    assert!(!account.disabled);
    assert!(account.password_hash.starts_with("$argon2id$v=19$"));
    assert!(verify_password(&account.password_hash, PASSWORD));
    assert!(!verify_password(
        &account.password_hash,
        &format!("{PASSWORD}\r")
    ));
    let _ = conn.close().await;

    // The same address again (in another case) is refused with exit code 1.
    let again = create(
        dir.path(),
        &url,
        &[
            "--email",
            "li.wei@EXAMPLE.org",
            "--name",
            "Other",
            "--role",
            "admin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );

    // The registration service on that database logs the account in.
    let mut settings = cloverleaf_service_kit::testing::settings(dir.path());
    settings.registration.database_url = url.clone();
    let service = cloverleaf_registration::build(settings)
        .await
        .expect("registration builds");
    let running = service.bind("127.0.0.1:0").await.expect("bind");
    let response = reqwest::Client::new()
        .post(format!("{}/v1/auth/token", running.url()))
        .json(&serde_json::json!({ "email": "li.wei@example.org", "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200);
    let token: serde_json::Value = response.json().await.expect("json");
    assert_eq!(token["token_type"], "Bearer");
    running.stop().await.expect("stops");
    drop(database);
}

#[tokio::test]
async fn refuses_missing_short_or_long_passwords_and_bad_input_with_exit_code_1() {
    let dir = tempfile::tempdir().expect("dir");
    let (database, url) = database(dir.path()).await;
    let ok = [
        "--email",
        "anna@example.org",
        "--name",
        "Anna",
        "--role",
        "admin",
    ];
    let cases: [(&[&str], String, &str); 5] = [
        (&ok, String::new(), "no password"),
        (&ok, "\n".to_owned(), "no password"),
        (&ok, "too short\n".to_owned(), "at least 12 characters"),
        (
            &ok,
            format!("{}\n", "x".repeat(1025)),
            "at most 1024 characters",
        ),
        (
            &[
                "--email",
                "not-an-address",
                "--name",
                "Anna",
                "--role",
                "admin",
            ],
            format!("{PASSWORD}\n"),
            "--email",
        ),
    ];
    for (args, stdin, message) in cases {
        let output = create(dir.path(), &url, args, &stdin);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
    }
    // Nothing was written: bad input is refused before the database is opened.
    if database.is_none() {
        assert!(!dir.path().join("registration.db").exists());
    } else {
        let conn = db::connect(&url, 1).await.expect("connect");
        db::migrate::<cloverleaf_registration::store::migrations::Migrator>(&conn)
            .await
            .expect("migrate");
        assert!(
            account_by_email(&conn, "anna@example.org")
                .await
                .expect("query")
                .is_none()
        );
        let _ = conn.close().await;
    }

    // A role other than organiser or admin is a usage error.
    let output = create(
        dir.path(),
        &url,
        &["--email", "a@example.org", "--name", "A", "--role", "root"],
        &format!("{PASSWORD}\n"),
    );
    assert!(!output.status.success());
    assert!(stderr(&output).contains("organiser"), "{}", stderr(&output));
}
