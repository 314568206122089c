//! Email delivery against a real SMTP server (Python's aiosmtpd, run by the service kit's `testing/smtp_server.py`; install it with
//! `.ci/smtp-tools.sh`), on SQLite, or on PostgreSQL when CLOVERLEAF_TEST_DATABASE_URL is set.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::TimeZone as _;
use cloverleaf_calendar::email::{EmailContent, invite_message, plain_message};
use cloverleaf_calendar::{Calendar, CalendarEvent, EventStatus, Method, Person};
use cloverleaf_notifications::config::{MailTransport, NotificationsSettings, mail_dir};
use cloverleaf_notifications::jobs::delivery::DeliveryWorker;
use cloverleaf_notifications::store::messages::{self, NewMessage, Status, message};
use cloverleaf_service_kit::config::{ServiceName, Settings};
use cloverleaf_service_kit::testing::{
    Smtp, TestApp, check_invite, eml_files, message_id, use_smtp,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const DOMAIN: &str = "mail.cloverleaf.test";

async fn app_on(port: u16, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    TestApp::spawn_with(
        ServiceName::Notifications,
        |settings| {
            use_smtp(settings, port);
            adjust(settings);
        },
        cloverleaf_notifications::build,
    )
    .await
}

async fn connect(app: &TestApp) -> DatabaseConnection {
    cloverleaf_service_kit::db::connect(app.database.url(), 5)
        .await
        .expect("connect")
}

fn no_reply() -> Person {
    Person::new("Cloverleaf · Sino-EU PerMed", "no-reply@events.example.org")
}

fn content(subject: &str) -> EmailContent {
    EmailContent {
        subject: subject.to_owned(),
        text: format!("您好,\n\n{subject}\nGrüße aus Berlin — à bientôt.\n"),
        html: format!("<p>您好,</p><p>{subject}</p>"),
        inline_images: Vec::new(),
    }
}

fn plain(n: usize, to: &str, event_id: Uuid) -> NewMessage {
    let recipient = Person::new(format!("Participant {n} 张伟"), to);
    let content = content(&format!("Registration {n} confirmed — 报名确认"));
    let built = plain_message(&no_reply(), &recipient, &content, DOMAIN).expect("message");
    NewMessage::from_lettre("confirmation", &built, &recipient.name, &content.subject)
        .expect("new message")
        .for_event(event_id)
}

fn invite(to: &str, event_id: Uuid) -> NewMessage {
    let attendee = Person::new("张伟", to);
    let starts_at = chrono::Utc
        .with_ymd_and_hms(2026, 5, 12, 7, 0, 0)
        .single()
        .expect("date");
    let event = CalendarEvent {
        end_timezone: None,
        uid: format!("{event_id}@cloverleaf.test"),
        sequence: 0,
        dtstamp: chrono::Utc::now(),
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(2),
        timezone: chrono_tz::Europe::Berlin,
        summary: "Sino-EU PerMed Symposium — 中欧个性化医学研讨会".to_owned(),
        description: Some("Programme: keynote; panel, Q&A.".to_owned()),
        location: Some("Charitéplatz 1, 10117 Berlin".to_owned()),
        url: Some("https://events.example.org/e/7".to_owned()),
        organizer: Some(Person::new("PerMed Office", "office@permed.example.org")),
        attendees: vec![attendee.clone()],
        status: Some(EventStatus::Confirmed),
        created: None,
        last_modified: None,
        categories: Vec::new(),
    };
    let calendar = Calendar {
        method: Method::Request,
        name: None,
        events: vec![event],
    };
    let content = content("Invitation: Sino-EU PerMed Symposium");
    let built =
        invite_message(&no_reply(), &attendee, &content, &calendar, false, DOMAIN).expect("invite");
    NewMessage::from_lettre("invite", &built, &attendee.name, &content.subject)
        .expect("new message")
        .for_event(event_id)
}

async fn queue(db: &DatabaseConnection, batch: Vec<NewMessage>) -> Vec<message::Model> {
    let txn = cloverleaf_service_kit::db::begin_write(db)
        .await
        .expect("begin");
    let ids = messages::enqueue_all(&txn, batch).await.expect("enqueue");
    txn.commit().await.expect("commit");
    let mut queued = Vec::new();
    for q in ids {
        queued.push(
            message::Entity::find_by_id(q.id)
                .one(db)
                .await
                .expect("read")
                .expect("the queued message"),
        );
    }
    queued
}

async fn all_messages(db: &DatabaseConnection) -> Vec<message::Model> {
    message::Entity::find().all(db).await.expect("messages")
}

/// Waits until every message is sent or failed; panics with their states after `seconds`.
async fn wait_until_done(db: &DatabaseConnection, seconds: u64) -> Vec<message::Model> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let all = all_messages(db).await;
        if all
            .iter()
            .all(|m| m.status == Status::Sent || m.status == Status::Failed)
        {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "not done after {seconds} s: {:?}",
            all.iter()
                .map(|m| (&m.to_email, &m.status, m.attempts, &m.last_error))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every received file is one of the queued messages byte for byte, and none arrived twice.
fn assert_received_once(files: &[PathBuf], sent: &[message::Model]) {
    let by_id: HashMap<String, &message::Model> = sent
        .iter()
        .map(|m| (message_id(m.raw.as_bytes()), m))
        .collect();
    let mut seen = HashSet::new();
    for file in files {
        let bytes = std::fs::read(file).expect("read");
        let id = message_id(&bytes);
        assert!(seen.insert(id.clone()), "{id} arrived twice");
        let queued = by_id.get(&id).expect("a message that was queued");
        let raw = queued.raw.as_bytes();
        if bytes != raw {
            let at = bytes.iter().zip(raw).take_while(|(a, b)| a == b).count();
            let around = |b: &[u8]| {
                String::from_utf8_lossy(&b[at.saturating_sub(40)..(at + 40).min(b.len())])
                    .into_owned()
            };
            panic!(
                "{} differs from what was queued at byte {at} (received {} bytes, queued {}): {:?} vs {:?}",
                file.display(),
                bytes.len(),
                raw.len(),
                around(&bytes),
                around(raw)
            );
        }
    }
}

// Catches: a transport that re-renders or re-encodes messages (so what arrives differs from what was rendered and
// logged), an invite broken on the way, statuses not recorded, and a missing metric.
#[tokio::test]
async fn queued_messages_arrive_byte_identical_and_the_invite_passes_check_invite() {
    let smtp = Smtp::start(&[]);
    let app = app_on(smtp.port, |_| {}).await;
    let db = connect(&app).await;
    let event = Uuid::now_v7();
    let mut batch: Vec<NewMessage> = (0..19)
        .map(|n| plain(n, &format!("person{n}@example.org"), event))
        .collect();
    batch.push(invite("zhang.wei@example.cn", event));
    queue(&db, batch).await;

    let done = wait_until_done(&db, 20).await;
    assert!(
        done.iter()
            .all(|m| m.status == Status::Sent && m.attempts == 1 && m.sent_at.is_some())
    );
    let files = smtp.received();
    assert_eq!(files.len(), 20);
    assert_received_once(&files, &done);

    let invite_raw = &done
        .iter()
        .find(|m| m.kind == "invite")
        .expect("invite")
        .raw;
    let invite_file = files
        .iter()
        .find(|f| std::fs::read(f).expect("read") == invite_raw.as_bytes())
        .expect("the invite arrived");
    check_invite(std::slice::from_ref(invite_file), false);

    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("cloverleaf_mail_sent_total") && l.ends_with(" 20")),
        "{metrics}"
    );
    assert!(
        metrics.contains("cloverleaf_mail_delivery_seconds_count"),
        "{metrics}"
    );
    assert!(metrics.contains("cloverleaf_mail_queued"), "{metrics}");
}

// Catches: connection-refused treated as permanent (messages failed while the relay restarts), retries without
// backoff exhausting the attempts in moments, and a message sent twice once the relay is back.
#[tokio::test]
async fn smtp_down_for_a_while_then_up_delivers_everything_once() {
    let smtp = Smtp::start_late(3.0);
    let app = app_on(smtp.port, |s| {
        s.set("mail.max_attempts", 30);
    })
    .await;
    let db = connect(&app).await;
    let event = Uuid::now_v7();
    queue(
        &db,
        (0..10)
            .map(|n| plain(n, &format!("p{n}@example.org"), event))
            .collect(),
    )
    .await;

    let done = wait_until_done(&db, 30).await;
    assert!(done.iter().all(|m| m.status == Status::Sent), "{done:?}");
    assert!(
        done.iter().all(|m| m.attempts > 1),
        "the relay was down at first, so every message needed more than one try"
    );
    assert!(done.iter().all(|m| {
        m.last_error
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains("connect") || e.contains("refused"))
    }));
    let files = smtp.received();
    assert_eq!(files.len(), 10, "each message once");
    assert_received_once(&files, &done);
}

// Catches: 4xx treated as final, 5xx retried forever (or failing the rest of the batch), and a reason not recorded.
#[tokio::test]
async fn a_451_is_retried_and_a_550_fails_that_recipient_only() {
    let smtp = Smtp::start(&["--fail-data", "3", "--reject", "^bounce@"]);
    let app = app_on(smtp.port, |_| {}).await;
    let db = connect(&app).await;
    let event = Uuid::now_v7();
    let mut batch: Vec<NewMessage> = (0..5)
        .map(|n| plain(n, &format!("p{n}@example.org"), event))
        .collect();
    batch.push(plain(9, "bounce@example.org", event));
    queue(&db, batch).await;

    let done = wait_until_done(&db, 20).await;
    let bounce = done
        .iter()
        .find(|m| m.to_email == "bounce@example.org")
        .expect("bounce");
    assert_eq!(bounce.status, Status::Failed);
    assert_eq!(bounce.attempts, 1, "a permanent refusal is not retried");
    assert!(
        bounce
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("550")),
        "{:?}",
        bounce.last_error
    );
    let others: Vec<_> = done
        .iter()
        .filter(|m| m.to_email != "bounce@example.org")
        .collect();
    assert!(
        others.iter().all(|m| m.status == Status::Sent),
        "{others:?}"
    );
    assert!(
        others.iter().filter(|m| m.attempts > 1).count() >= 1,
        "the 451s were retried"
    );
    let files = smtp.received();
    assert_eq!(files.len(), 5);
    let sent: Vec<message::Model> = others.into_iter().cloned().collect();
    assert_received_once(&files, &sent);
}

// Catches: a transient failure retried forever instead of giving up after max_attempts.
#[tokio::test]
async fn a_message_failing_max_attempts_times_is_marked_failed() {
    let smtp = Smtp::start(&["--fail-data", "1000"]);
    let app = app_on(smtp.port, |s| {
        s.set("mail.max_attempts", 3);
    })
    .await;
    let db = connect(&app).await;
    queue(&db, vec![plain(1, "p1@example.org", Uuid::now_v7())]).await;

    let done = wait_until_done(&db, 20).await;
    assert_eq!(done[0].status, Status::Failed);
    assert_eq!(done[0].attempts, 3);
    assert!(
        done[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("451")),
        "{:?}",
        done[0].last_error
    );
    assert!(smtp.received().is_empty());
}

// Catches: messages claimed by a worker that died staying `sending` forever (lost), or being taken by another
// worker before the lease ran out, or sent twice once it did.
#[tokio::test]
async fn messages_of_a_worker_killed_mid_batch_are_sent_once_after_the_lease() {
    let smtp = Smtp::start(&[]);
    let mut app = app_on(smtp.port, |s| {
        s.set("mail.lease_secs", 3);
    })
    .await;
    app.stop().await;
    let db = connect(&app).await;
    let event = Uuid::now_v7();
    queue(
        &db,
        (0..5)
            .map(|n| plain(n, &format!("p{n}@example.org"), event))
            .collect(),
    )
    .await;
    // A worker claims the batch and dies before sending anything.
    let doomed =
        DeliveryWorker::new(db.clone(), &app.settings, CancellationToken::new()).expect("worker");
    assert_eq!(doomed.claim().await.expect("claim").len(), 5);
    drop(doomed);

    // The service restarts on the same database.
    let running = cloverleaf_notifications::build(app.settings.clone())
        .await
        .expect("build")
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        all_messages(&db)
            .await
            .iter()
            .all(|m| m.status == Status::Sending),
        "leased messages are left alone until the lease runs out"
    );
    assert!(smtp.received().is_empty());

    let done = wait_until_done(&db, 20).await;
    assert!(
        done.iter()
            .all(|m| m.status == Status::Sent && m.attempts == 2),
        "{done:?}"
    );
    let files = smtp.received();
    assert_eq!(files.len(), 5);
    assert_received_once(&files, &done);
    running.stop().await.expect("stops");
}

// Catches: two replicas claiming the same rows (no SKIP LOCKED / no write lock) and sending messages twice.
#[tokio::test]
async fn two_workers_on_one_database_never_send_a_message_twice() {
    let smtp = Smtp::start(&[]);
    let app = app_on(smtp.port, |s| {
        s.set("mail.batch_size", 10);
    })
    .await;
    let second = cloverleaf_notifications::build(app.settings.clone())
        .await
        .expect("build")
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let db = connect(&app).await;
    let event = Uuid::now_v7();
    queue(
        &db,
        (0..200)
            .map(|n| plain(n, &format!("p{n}@example.org"), event))
            .collect(),
    )
    .await;

    let done = wait_until_done(&db, 60).await;
    assert!(
        done.iter()
            .all(|m| m.status == Status::Sent && m.attempts == 1),
        "claimed once each"
    );
    let files = smtp.received();
    assert_eq!(files.len(), 200);
    assert_received_once(&files, &done);
    second.stop().await.expect("stops");
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

// Catches: the log leaking to participants or the public, filters or counts ignoring event/recipient, broken
// paging, and a rendered text that is still quoted-printable or base64.
#[tokio::test]
async fn the_delivery_log_filters_counts_and_shows_the_text_to_organisers_only() {
    let app = TestApp::spawn(ServiceName::Notifications, cloverleaf_notifications::build).await;
    let db = connect(&app).await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let queued = queue(
        &db,
        vec![
            plain(1, "alice@example.org", a),
            plain(2, "Alice@Example.org", a),
            plain(3, "bob@example.org", a),
            plain(4, "carol@example.org", b),
        ],
    )
    .await;
    wait_until_done(&db, 20).await;
    let mut bob: message::ActiveModel = queued[2].clone().into();
    bob.status = Set(Status::Failed);
    bob.last_error = Set(Some("550 5.1.1 mailbox unavailable".to_owned()));
    bob.update(&db).await.expect("update");

    // The whole log (no event named) is admins'; an organiser reads one event's, as the permission matrix shows.
    let organiser = app.token_for(cloverleaf_auth::Role::Admin);
    let json = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 200);
        r.json::<serde_json::Value>().await.expect("json")
    };
    let all = json(
        get(
            &app,
            &format!("/v1/messages?event_id={a}"),
            Some(&organiser),
        )
        .await,
    )
    .await;
    assert_eq!(all["items"].as_array().expect("items").len(), 3);
    assert_eq!(all["counts"]["sent"], 2);
    assert_eq!(all["counts"]["failed"], 1);
    assert_eq!(all["counts"]["queued"], 0);
    let item = &all["items"][0];
    for field in [
        "id",
        "to",
        "kind",
        "status",
        "attempts",
        "subject",
        "event_id",
        "queued_at",
        "sent_at",
    ] {
        assert!(item.get(field).is_some(), "{field} in {item}");
    }

    let failed = json(
        get(
            &app,
            &format!("/v1/messages?event_id={a}&status=failed"),
            Some(&organiser),
        )
        .await,
    )
    .await;
    assert_eq!(failed["items"].as_array().expect("items").len(), 1);
    assert_eq!(failed["items"][0]["to"], "bob@example.org");
    assert_eq!(
        failed["items"][0]["last_error"],
        "550 5.1.1 mailbox unavailable"
    );
    assert_eq!(
        failed["counts"]["sent"], 2,
        "counts ignore the status filter"
    );

    let alice = json(get(&app, "/v1/messages?to=ALICE@example.org", Some(&organiser)).await).await;
    assert_eq!(alice["items"].as_array().expect("items").len(), 2);

    let first = json(get(&app, "/v1/messages?limit=3", Some(&organiser)).await).await;
    assert_eq!(first["items"].as_array().expect("items").len(), 3);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let rest = json(
        get(
            &app,
            &format!("/v1/messages?limit=3&cursor={cursor}"),
            Some(&organiser),
        )
        .await,
    )
    .await;
    assert_eq!(rest["items"].as_array().expect("items").len(), 1);
    assert!(rest["next_cursor"].is_null());
    assert_eq!(rest["items"][0]["to"], "carol@example.org");

    let one = json(
        get(
            &app,
            &format!("/v1/messages/{}", queued[0].id),
            Some(&organiser),
        )
        .await,
    )
    .await;
    assert_eq!(one["subject"], "Registration 1 confirmed — 报名确认");
    let text = one["text"].as_str().expect("text");
    assert!(
        text.contains("您好") && text.contains("Grüße aus Berlin — à bientôt."),
        "{text}"
    );

    assert_eq!(
        get(&app, "/v1/messages?status=bogus", Some(&organiser))
            .await
            .status(),
        422
    );
    assert_eq!(
        get(
            &app,
            &format!("/v1/messages/{}", Uuid::now_v7()),
            Some(&organiser)
        )
        .await
        .status(),
        404
    );
    assert_eq!(get(&app, "/v1/messages", None).await.status(), 401);
    let participant = app.token_for(cloverleaf_auth::Role::Participant);
    assert_eq!(
        get(&app, "/v1/messages", Some(&participant)).await.status(),
        403
    );
    assert_eq!(
        get(
            &app,
            &format!("/v1/messages/{}", queued[0].id),
            Some(&participant)
        )
        .await
        .status(),
        403
    );
}

// Catches: the development transport changing the bytes, writing elsewhere than <data_dir>/mail, or leaving
// half-written files under the final name.
#[tokio::test]
async fn the_file_transport_writes_byte_exact_eml_files_under_data_dir_mail() {
    let app = TestApp::spawn(ServiceName::Notifications, cloverleaf_notifications::build).await;
    assert_eq!(
        NotificationsSettings::from_settings(&app.settings)
            .expect("settings")
            .mail
            .transport,
        MailTransport::File
    );
    let db = connect(&app).await;
    let event = Uuid::now_v7();
    let queued = queue(
        &db,
        vec![
            plain(1, "a@example.org", event),
            invite("zhang.wei@example.cn", event),
        ],
    )
    .await;
    let done = wait_until_done(&db, 20).await;
    assert!(done.iter().all(|m| m.status == Status::Sent));
    let files = eml_files(&mail_dir(&app.settings));
    assert_eq!(files.len(), 2);
    for m in &queued {
        let file = files
            .iter()
            .find(|f| f.to_string_lossy().ends_with(&format!("-{}.eml", m.id)))
            .expect("a file named <queued time>-<id>.eml");
        assert_eq!(std::fs::read(file).expect("read"), m.raw.as_bytes());
    }
}
