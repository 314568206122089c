//! The shared plumbing, exercised through real services on real sockets and real databases (SQLite, or PostgreSQL
//! when CLOVERLEAF_TEST_DATABASE_URL is set).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use cloverleaf_auth::{ServiceCaller, Verifier};
use cloverleaf_service_kit::client::ServiceClient;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::outbox;
use cloverleaf_service_kit::testing::{TestApp, TestDatabase};
use cloverleaf_service_kit::{Service, ServiceBase, Settings, StartupError, auth};
use sea_orm::{EntityTrait, PaginatorTrait, TransactionTrait};
use sea_orm_migration::prelude::*;

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(outbox::migration::CreateOutbox),
            Box::new(outbox::migration::OutboxPositionSequence),
            Box::new(outbox::migration::OutboxDeliveryOrder),
        ]
    }
}

/// A service that only has the platform routes and `extra`.
async fn bare(
    settings: Settings,
    name: ServiceName,
    extra: Router,
) -> Result<Service, StartupError> {
    let base = ServiceBase::open::<Migrator>(settings, name).await?;
    let openapi = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title(format!("Cloverleaf {}", name.as_str()))
                .version("0")
                .build(),
        )
        .build();
    Ok(base.into_service(extra, openapi))
}

#[tokio::test]
async fn platform_endpoints_answer() {
    let app = TestApp::spawn(ServiceName::Scheduling, |s| {
        bare(s, ServiceName::Scheduling, Router::new())
    })
    .await;
    cloverleaf_service_kit::testing::assert_platform_endpoints(&app, ServiceName::Scheduling).await;
}

#[tokio::test]
async fn readiness_fails_until_migrations_are_applied() {
    let mut app = TestApp::spawn_with(
        ServiceName::Notifications,
        |s| s.notifications.migrate_on_start = false,
        |s| bare(s, ServiceName::Notifications, Router::new()),
    )
    .await;
    let ready = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        ready.status(),
        503,
        "a replica must not take traffic before the migration step ran"
    );
    assert!(ready.headers().contains_key("retry-after"));
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz")
            .status(),
        200,
        "but it is alive"
    );

    let db = cloverleaf_service_kit::db::connect(app.database.url(), 1)
        .await
        .expect("connect");
    cloverleaf_service_kit::db::migrate::<Migrator>(&db)
        .await
        .expect("migrate");
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn an_outbox_row_commits_and_rolls_back_with_its_transaction() {
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::create(dir.path(), ServiceName::Scheduling).await;
    let db = cloverleaf_service_kit::db::connect(database.url(), 2)
        .await
        .expect("connect");
    cloverleaf_service_kit::db::migrate::<Migrator>(&db)
        .await
        .expect("migrate");
    let subscribers = vec!["notifications".to_owned(), "registration".to_owned()];
    let aggregate = uuid::Uuid::now_v7();

    let txn = db.begin().await.expect("begin");
    outbox::enqueue(
        &txn,
        "event.published",
        aggregate,
        &serde_json::json!({"title": "Webinar"}),
        &subscribers,
    )
    .await
    .expect("enqueue");
    txn.rollback().await.expect("rollback");
    assert_eq!(
        outbox::event::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        0,
        "a rolled-back change leaves no event"
    );
    assert_eq!(
        outbox::delivery::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        0
    );

    let txn = db.begin().await.expect("begin");
    let first = outbox::enqueue(
        &txn,
        "event.published",
        aggregate,
        &serde_json::json!({}),
        &subscribers,
    )
    .await
    .expect("enqueue");
    let second = outbox::enqueue(
        &txn,
        "event.updated",
        aggregate,
        &serde_json::json!({}),
        &subscribers,
    )
    .await
    .expect("enqueue");
    txn.commit().await.expect("commit");
    let events = outbox::event::Entity::find()
        .all(&db)
        .await
        .expect("events");
    assert_eq!(events.len(), 2);
    let position = |id| events.iter().find(|e| e.id == id).expect("event").position;
    assert!(
        position(first) < position(second),
        "events keep the order they were written in"
    );
    assert_eq!(
        outbox::delivery::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        4,
        "one delivery per subscriber"
    );
    assert!(migration_is_idempotent(&db).await);
}

/// Registrations for different events (different aggregates) write outbox rows at the same moment. On PostgreSQL
/// one must not wait for the other's commit: with positions handed out under a global lock (as before), the second
/// transaction below blocked until the first ended, and the 1 s timeout fails. On SQLite there is one writer at a
/// time by design, so there the test checks only what holds on both: unique positions, rising within an aggregate.
#[tokio::test]
async fn writers_of_different_aggregates_do_not_wait_for_each_other() {
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::create(dir.path(), ServiceName::Registration).await;
    let db = cloverleaf_service_kit::db::connect(database.url(), 4)
        .await
        .expect("connect");
    cloverleaf_service_kit::db::migrate::<Migrator>(&db)
        .await
        .expect("migrate");
    let subscribers = vec!["notifications".to_owned()];
    let (first, second) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;

    if postgres {
        let open = cloverleaf_service_kit::db::begin_write(&db)
            .await
            .expect("begin");
        outbox::enqueue(
            &open,
            "registration.confirmed",
            first,
            &serde_json::json!({}),
            &subscribers,
        )
        .await
        .expect("enqueue");
        let other = tokio::time::timeout(Duration::from_secs(1), async {
            let txn = cloverleaf_service_kit::db::begin_write(&db).await?;
            outbox::enqueue(
                &txn,
                "registration.confirmed",
                second,
                &serde_json::json!({}),
                &subscribers,
            )
            .await?;
            txn.commit().await
        })
        .await;
        assert!(
            matches!(other, Ok(Ok(()))),
            "a writer of another aggregate committed while the first was still open: {other:?}"
        );
        outbox::enqueue(
            &open,
            "registration.cancelled",
            first,
            &serde_json::json!({}),
            &subscribers,
        )
        .await
        .expect("enqueue");
        open.commit().await.expect("commit");
    } else {
        for (aggregate, kind) in [
            (first, "registration.confirmed"),
            (second, "registration.confirmed"),
            (first, "registration.cancelled"),
        ] {
            let txn = cloverleaf_service_kit::db::begin_write(&db)
                .await
                .expect("begin");
            outbox::enqueue(&txn, kind, aggregate, &serde_json::json!({}), &subscribers)
                .await
                .expect("enqueue");
            txn.commit().await.expect("commit");
        }
    }

    let events = outbox::event::Entity::find()
        .all(&db)
        .await
        .expect("events");
    assert_eq!(events.len(), 3);
    let mut positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    positions.sort_unstable();
    positions.dedup();
    assert_eq!(positions.len(), 3, "positions are unique");
    let of = |kind: &str| {
        events
            .iter()
            .find(|e| e.aggregate_id == first && e.event_type == kind)
            .expect("event")
            .position
    };
    assert!(
        of("registration.confirmed") < of("registration.cancelled"),
        "an aggregate's events keep the order they were written in"
    );
    assert_eq!(
        outbox::delivery::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        3
    );
}

async fn migration_is_idempotent(db: &sea_orm::DatabaseConnection) -> bool {
    cloverleaf_service_kit::db::migrate::<Migrator>(db)
        .await
        .is_ok()
        && cloverleaf_service_kit::db::pending_migrations::<Migrator>(db)
            .await
            .ok()
            == Some(0)
}

#[derive(Clone, axum::extract::FromRef)]
struct CalleeState {
    verifier: Arc<Verifier>,
}

#[derive(Clone)]
struct CallerState {
    client: ServiceClient,
}

#[tokio::test]
async fn calls_between_services_carry_the_request_id_and_a_service_token() {
    // The callee: answers with the request id it saw, for service callers only.
    let callee = TestApp::spawn(
        ServiceName::Notifications,
        |settings: Settings| async move {
            let verifier = Arc::new(auth::verifier(&settings, ServiceName::Notifications, None)?);
            let api = Router::new()
                .route(
                    "/v1/echo",
                    get(
                        |ServiceCaller(claims): ServiceCaller, headers: HeaderMap| async move {
                            let id = headers
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("none")
                                .to_owned();
                            axum::Json(
                                serde_json::json!({ "request_id": id, "caller": claims.sub }),
                            )
                        },
                    ),
                )
                .with_state(CalleeState { verifier });
            bare(settings, ServiceName::Notifications, api).await
        },
    )
    .await;

    // The caller: forwards to the callee through the shared client. Same data dir → same service key.
    let callee_url = callee.url.clone();
    let data_dir = callee.settings.data_dir.clone();
    let caller = TestApp::spawn_with(
        ServiceName::Scheduling,
        move |s| s.data_dir = data_dir,
        |settings: Settings| async move {
            let tokens = Arc::new(auth::service_tokens(&settings, ServiceName::Scheduling)?);
            let client = ServiceClient::new(ServiceName::Notifications, callee_url, tokens);
            let api = Router::new()
                .route(
                    "/v1/relay",
                    get(|State(state): State<CallerState>| async move {
                        let seen: serde_json::Value = state
                            .client
                            .get_json("/v1/echo")
                            .await
                            .expect("callee answers");
                        axum::Json(seen)
                    }),
                )
                .with_state(CallerState { client });
            bare(settings, ServiceName::Scheduling, api).await
        },
    )
    .await;

    let seen: serde_json::Value = caller
        .http
        .get(caller.url("/v1/relay"))
        .header("x-request-id", "abc")
        .send()
        .await
        .expect("relay")
        .json()
        .await
        .expect("json");
    assert_eq!(
        seen["request_id"], "abc",
        "the id follows the request into the next service"
    );
    assert_eq!(seen["caller"], "scheduling");

    // Without a token the callee refuses, as problem+json with a challenge.
    let direct = callee
        .http
        .get(callee.url("/v1/echo"))
        .send()
        .await
        .expect("direct");
    assert_eq!(direct.status(), 401);
    assert!(
        direct.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn a_request_id_that_could_break_logs_is_replaced() {
    let app = TestApp::spawn(ServiceName::Scheduling, |s| {
        bare(s, ServiceName::Scheduling, Router::new())
    })
    .await;
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "a b\tc")
        .send()
        .await
        .expect("healthz");
    let id = response.headers()["x-request-id"].to_str().expect("ascii");
    assert_ne!(id, "a b\tc");
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "a fresh id is made instead: {id}"
    );
}

#[tokio::test]
async fn stopping_finishes_in_flight_requests_first() {
    let api = Router::new().route(
        "/v1/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            "done"
        }),
    );
    let mut app = TestApp::spawn(ServiceName::Scheduling, move |s| {
        bare(s, ServiceName::Scheduling, api)
    })
    .await;
    let request = tokio::spawn({
        let (http, url) = (app.http.clone(), app.url("/v1/slow"));
        async move {
            http.get(url)
                .send()
                .await
                .expect("slow")
                .text()
                .await
                .expect("text")
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    app.stop().await;
    assert_eq!(
        request.await.expect("join"),
        "done",
        "the request in flight when shutdown began was answered"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        app.http.get(app.url("/healthz")).send().await.is_err(),
        "no new connections after stop"
    );
}

#[tokio::test]
async fn bad_json_is_a_problem_naming_the_field() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Venue {
        city: String,
    }
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        venue: Venue,
    }
    let api = Router::new().route(
        "/v1/things",
        axum::routing::post(
            |cloverleaf_service_kit::extract::Json(_): cloverleaf_service_kit::extract::Json<
                Body,
            >| async { "ok" },
        ),
    );
    let app = TestApp::spawn(ServiceName::Scheduling, move |s| {
        bare(s, ServiceName::Scheduling, api)
    })
    .await;
    let post = |body: &'static str, content_type: &'static str| {
        app.http
            .post(app.url("/v1/things"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let wrong_type = post(r#"{"title":"x","venue":{"city":3}}"#, "application/json")
        .await
        .expect("post");
    assert_eq!(wrong_type.status(), 422);
    let problem: serde_json::Value = wrong_type.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "venue.city");

    let missing = post(r#"{"venue":{"city":"Siena"}}"#, "application/json")
        .await
        .expect("post");
    assert_eq!(missing.status(), 422);
    assert_eq!(
        missing.json::<serde_json::Value>().await.expect("json")["errors"][0]["field"],
        "title"
    );

    assert_eq!(
        post("{not json", "application/json")
            .await
            .expect("post")
            .status(),
        400
    );
    assert_eq!(post("{}", "text/plain").await.expect("post").status(), 415);
    assert_eq!(
        post("{}", "application/json")
            .await
            .expect("post")
            .headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn stopping_waits_for_background_tasks_to_finish_their_work() {
    let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = finished.clone();
    let mut app = TestApp::spawn(
        ServiceName::Notifications,
        move |settings: Settings| async move {
            let base = ServiceBase::open::<Migrator>(settings, ServiceName::Notifications).await?;
            // A worker like the delivery loop: runs until shutdown, then finishes the item in hand before returning.
            let stop = base.shutdown.clone();
            base.tasks.spawn(async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_millis(10)) => {}
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            let openapi = utoipa::openapi::OpenApiBuilder::new().build();
            Ok::<_, StartupError>(base.into_service(Router::new(), openapi))
        },
    )
    .await;
    app.stop().await;
    assert!(
        finished.load(std::sync::atomic::Ordering::SeqCst),
        "stop() returned before the background task had finished"
    );
}

#[tokio::test]
async fn replicas_migrating_at_once_apply_each_migration_once() {
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::create(dir.path(), ServiceName::Registration).await;
    // Four replicas start together on an empty database. Without the lock, two would both see the outbox migration
    // pending, and the second CREATE TABLE or the second row in seaql_migrations would fail its start-up.
    let replicas = (0..4).map(|_| {
        let url = database.url().clone();
        tokio::spawn(async move {
            let db = cloverleaf_service_kit::db::connect(&url, 2)
                .await
                .expect("connect");
            cloverleaf_service_kit::db::migrate::<Migrator>(&db).await
        })
    });
    for result in futures::future::join_all(replicas).await {
        result
            .expect("join")
            .expect("every replica's migration step succeeds");
    }
    let db = cloverleaf_service_kit::db::connect(database.url(), 1)
        .await
        .expect("connect");
    assert_eq!(
        cloverleaf_service_kit::db::pending_migrations::<Migrator>(&db)
            .await
            .expect("pending"),
        0
    );
    let applied = Migrator::get_applied_migrations(&db)
        .await
        .expect("applied");
    assert_eq!(
        applied.len(),
        Migrator::migrations().len(),
        "each migration is recorded once"
    );
}

/// A stand-in service that answers 503 to its first `failures` requests, then 200, counting what it received.
async fn flaky_service(failures: usize) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let app = Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            if counter.fetch_add(1, Ordering::SeqCst) < failures {
                cloverleaf_service_kit::Problem::unavailable("warming up", 1).into_response()
            } else {
                axum::Json(serde_json::json!({ "ok": true })).into_response()
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (url, seen)
}

fn test_tokens() -> Arc<cloverleaf_auth::ServiceTokens> {
    let issuer = cloverleaf_auth::TokenIssuer::new(
        "cloverleaf-services",
        cloverleaf_auth::SigningKey::generate(),
    );
    Arc::new(cloverleaf_auth::ServiceTokens::new(issuer, "registration"))
}

#[tokio::test]
async fn idempotent_calls_are_retried_through_passing_failures_and_others_are_not() {
    use std::sync::atomic::Ordering;
    let (url, seen) = flaky_service(2).await;
    let client = ServiceClient::new(ServiceName::Scheduling, url, test_tokens())
        .with_retries(3, Duration::from_millis(10));
    let answer: serde_json::Value = client
        .get_json("/v1/events/1")
        .await
        .expect("third try succeeds");
    assert_eq!(answer["ok"], true);
    assert_eq!(seen.load(Ordering::SeqCst), 3, "two 503s, then the answer");

    // A POST that is not known to be idempotent is sent once: retrying it could register someone twice.
    let (url, seen) = flaky_service(1).await;
    let client = ServiceClient::new(ServiceName::Scheduling, url, test_tokens())
        .with_retries(3, Duration::from_millis(10));
    let error = client
        .post_json::<_, serde_json::Value>("/v1/x", &serde_json::json!({}))
        .await
        .expect_err("503");
    assert!(error.is_unavailable(), "{error}");
    assert_eq!(seen.load(Ordering::SeqCst), 1);

    // Gives up after the configured attempts, and says the service is unavailable (callers answer 503).
    let (url, seen) = flaky_service(usize::MAX).await;
    let client = ServiceClient::new(ServiceName::Scheduling, url, test_tokens())
        .with_retries(3, Duration::from_millis(10));
    let error = client
        .get_json::<serde_json::Value>("/v1/events")
        .await
        .expect_err("always 503");
    assert!(error.is_unavailable());
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_unreachable_service_is_unavailable_and_a_404_is_not_found() {
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let client = ServiceClient::new(ServiceName::Scheduling, dead, test_tokens())
        .with_retries(2, Duration::from_millis(10));
    let error = client
        .get_json::<serde_json::Value>("/v1/events/1")
        .await
        .expect_err("nobody listens");
    assert!(
        matches!(
            error,
            cloverleaf_service_kit::client::ClientError::Unreachable { .. }
        ),
        "{error:?}"
    );
    assert!(error.is_unavailable());

    let app = TestApp::spawn(ServiceName::Scheduling, |s| {
        bare(s, ServiceName::Scheduling, Router::new())
    })
    .await;
    let client = ServiceClient::new(ServiceName::Scheduling, app.url.clone(), test_tokens());
    let error = client
        .get_json::<serde_json::Value>("/v1/events/nope")
        .await
        .expect_err("404");
    assert!(error.is_not_found() && !error.is_unavailable(), "{error:?}");
}

/// The outbox before `OutboxDeliveryOrder`.
struct MigratorBeforeDeliveryOrder;

#[async_trait::async_trait]
impl MigratorTrait for MigratorBeforeDeliveryOrder {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(outbox::migration::CreateOutbox),
            Box::new(outbox::migration::OutboxPositionSequence),
        ]
    }
}

/// Deliveries written before `OutboxDeliveryOrder` get their event's aggregate and position when it runs. What would
/// break without the backfill: the relay's claim reads order and hold-backs from those columns only, so an old
/// undelivered row with NULLs would sort last and never hold back its aggregate's later events (out of order).
#[tokio::test]
async fn the_delivery_order_migration_fills_in_deliveries_written_before_it() {
    use sea_orm::{ConnectionTrait, Statement};
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::create(dir.path(), ServiceName::Registration).await;
    let db = cloverleaf_service_kit::db::connect(database.url(), 2)
        .await
        .expect("db");
    cloverleaf_service_kit::db::migrate::<MigratorBeforeDeliveryOrder>(&db)
        .await
        .expect("the old outbox");
    let backend = db.get_database_backend();
    let aggregate = uuid::Uuid::now_v7();
    let mut events = Vec::new();
    for position in 1..=3_i64 {
        let id = uuid::Uuid::now_v7();
        events.push((id, position));
        // The old shape: no aggregate or position on the delivery.
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO outbox_events (id, position, event_type, aggregate_id, payload, request_id, occurred_at) \
             VALUES ($1, $2, 'registration.confirmed', $3, '{}', NULL, $4)",
            [
                id.into(),
                position.into(),
                aggregate.into(),
                chrono::Utc::now().into(),
            ],
        ))
        .await
        .expect("event");
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO outbox_deliveries (event_id, subscriber, attempts, next_attempt_at) \
             VALUES ($1, 'notifications', 0, $2)",
            [id.into(), chrono::Utc::now().into()],
        ))
        .await
        .expect("delivery");
    }
    cloverleaf_service_kit::db::migrate::<Migrator>(&db)
        .await
        .expect("the delivery order");
    let rows = outbox::delivery::Entity::find()
        .all(&db)
        .await
        .expect("deliveries");
    assert_eq!(rows.len(), 3);
    for (id, position) in events {
        let row = rows.iter().find(|r| r.event_id == id).expect("row");
        assert_eq!(row.aggregate_id, Some(aggregate), "{id}");
        assert_eq!(row.position, Some(position), "{id}");
    }
}
