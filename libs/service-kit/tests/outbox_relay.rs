//! The outbox relay, end to end: events written in a service's transactions reach a real HTTP subscriber (a stand-in
//! for the notifications inbox on a real socket, checking the service token with the kit's verifier) — once, in
//! order per aggregate, through outages, with two replicas and after a crash. On SQLite, or on PostgreSQL when
//! CLOVERLEAF_TEST_DATABASE_URL is set.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cloverleaf_auth::{Role, Verifier};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::outbox::relay::RelayWorker;
use cloverleaf_service_kit::outbox::{self, InboxEvent, OutboxRelay};
use cloverleaf_service_kit::testing::{self, TestDatabase};
use cloverleaf_service_kit::{ServiceBase, Settings, auth, db, observe};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Statement};
use sea_orm_migration::prelude::*;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

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

/// One POST the inbox received.
#[derive(Debug, Clone)]
struct Post {
    event: InboxEvent,
    status: StatusCode,
    /// The `sub` of a valid service token for the notifications audience; None if the token was missing or bad.
    caller: Option<String>,
    request_id: Option<String>,
    idempotency_key: Option<String>,
    /// When the inbox answered it.
    answered_at: Instant,
}

impl Post {
    fn accepted(&self) -> bool {
        self.status.is_success()
    }
}

/// The stand-in for the notifications inbox.
#[derive(Clone)]
struct Inbox(Arc<InboxState>);

struct InboxState {
    verifier: Verifier,
    posts: Mutex<Vec<Post>>,
    /// Answer 503 to this many posts before accepting.
    unavailable: AtomicUsize,
    /// Refuse (422) every event of these aggregates.
    refused: Mutex<HashSet<Uuid>>,
    /// Time taken per post, to make two relays overlap.
    delay: Duration,
    /// Extra time taken per post of these aggregates.
    slow: Mutex<HashMap<Uuid, Duration>>,
    /// Add 0–7 ms per post, varying with the event id, so concurrent posts finish in a shuffled order.
    jitter: AtomicBool,
    /// Posts being handled now, and the most there were at once.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Inbox {
    fn new(settings: &Settings, delay: Duration) -> Self {
        let verifier =
            auth::verifier(settings, ServiceName::Notifications, None).expect("verifier");
        Self(Arc::new(InboxState {
            verifier,
            posts: Mutex::new(Vec::new()),
            unavailable: AtomicUsize::new(0),
            refused: Mutex::new(HashSet::new()),
            delay,
            slow: Mutex::new(HashMap::new()),
            jitter: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }))
    }

    fn posts(&self) -> Vec<Post> {
        self.0.posts.lock().expect("posts").clone()
    }

    fn refuse(&self, aggregate: Uuid, refused: bool) {
        let mut set = self.0.refused.lock().expect("refused");
        if refused {
            set.insert(aggregate);
        } else {
            set.remove(&aggregate);
        }
    }
}

async fn receive(
    State(inbox): State<Inbox>,
    headers: HeaderMap,
    axum::Json(event): axum::Json<InboxEvent>,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let now_in_flight = inbox.0.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inbox
        .0
        .max_in_flight
        .fetch_max(now_in_flight, Ordering::SeqCst);
    let token = header("authorization").and_then(|h| h.strip_prefix("Bearer ").map(str::to_owned));
    let caller = match token {
        Some(token) => inbox
            .0
            .verifier
            .verify(&token)
            .await
            .ok()
            .filter(|claims| claims.role == Role::Service)
            .map(|claims| claims.sub),
        None => None,
    };
    let mut delay = inbox.0.delay;
    if let Some(slow) = inbox.0.slow.lock().expect("slow").get(&event.aggregate_id) {
        delay += *slow;
    }
    if inbox.0.jitter.load(Ordering::SeqCst) {
        delay += Duration::from_millis(u64::from(event.id.as_bytes()[15] % 8));
    }
    tokio::time::sleep(delay).await;
    let status = if caller.is_none() {
        StatusCode::UNAUTHORIZED
    } else if inbox
        .0
        .refused
        .lock()
        .expect("refused")
        .contains(&event.aggregate_id)
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if inbox
        .0
        .unavailable
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::ACCEPTED
    };
    // Recorded before answering, so the record's order is the order in which answers could be seen.
    inbox.0.posts.lock().expect("posts").push(Post {
        event,
        status,
        caller,
        request_id: header("x-request-id"),
        idempotency_key: header("idempotency-key"),
        answered_at: Instant::now(),
    });
    inbox.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    status
}

/// A test's world: its own data dir and database, settings with notifications' URL pointing at a port reserved
/// for the inbox (which only listens once [`World::start_inbox`] is called).
struct World {
    settings: Settings,
    inbox: Inbox,
    inbox_addr: SocketAddr,
    inbox_stop: CancellationToken,
    _database: TestDatabase,
    _dir: TempDir,
}

impl World {
    async fn new(adjust: impl FnOnce(&mut Settings), inbox_delay: Duration) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let mut settings = testing::settings(dir.path());
        let database = TestDatabase::create(dir.path(), ServiceName::Scheduling).await;
        settings.scheduling.database_url = database.url().clone();
        // A free port, released again: nothing listens there until the inbox starts.
        let inbox_addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port");
        settings.notifications.url = format!("http://{inbox_addr}");
        // One subscriber, the test's inbox: the counts below are per delivery (scheduling's default list also names
        // registration, which does not run here).
        settings.scheduling.subscribers = vec!["notifications".to_owned()];
        adjust(&mut settings);
        let inbox = Inbox::new(&settings, inbox_delay);
        Self {
            settings,
            inbox,
            inbox_addr,
            inbox_stop: CancellationToken::new(),
            _database: database,
            _dir: dir,
        }
    }

    async fn start_inbox(&self) {
        let listener = tokio::net::TcpListener::bind(self.inbox_addr)
            .await
            .expect("bind the inbox port");
        let app = Router::new()
            .route("/v1/inbox", post(receive))
            .with_state(self.inbox.clone());
        let stop = self.inbox_stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        });
    }

    /// The scheduling service's base (a replica): database migrated, nothing served.
    async fn open_service(&self) -> ServiceBase {
        ServiceBase::open::<Migrator>(self.settings.clone(), ServiceName::Scheduling)
            .await
            .expect("service opens")
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.inbox_stop.cancel();
    }
}

async fn stop(base: &ServiceBase) {
    base.shutdown.cancel();
    base.tasks.close();
    tokio::time::timeout(Duration::from_secs(5), base.tasks.wait())
        .await
        .expect("the relay stops when the service shuts down");
}

/// Writes one event in its own transaction, as a handler would (with a request id), and wakes the relay.
async fn write_event(
    base: &ServiceBase,
    relay: &OutboxRelay,
    aggregate: Uuid,
    event_type: &str,
    n: usize,
) -> Uuid {
    let request_id = format!("req-{n}-{}", aggregate.simple());
    let id = observe::with_request_id(request_id, async {
        let txn = db::begin_write(&base.db).await.expect("begin");
        let id = outbox::enqueue(
            &txn,
            event_type,
            aggregate,
            &serde_json::json!({ "n": n }),
            relay.subscribers(),
        )
        .await
        .expect("enqueue");
        txn.commit().await.expect("commit");
        id
    })
    .await;
    relay.wake();
    id
}

async fn deliveries(db: &sea_orm::DatabaseConnection) -> Vec<outbox::delivery::Model> {
    outbox::delivery::Entity::find()
        .all(db)
        .await
        .expect("deliveries")
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn all_delivered(db: &sea_orm::DatabaseConnection) -> bool {
    deliveries(db)
        .await
        .iter()
        .all(|d| d.delivered_at.is_some())
}

/// Every post of an aggregate's events is of the next event not yet acknowledged: nothing overtakes an
/// unacknowledged event, nothing is posted again once acknowledged, and in the end all were acknowledged.
fn assert_in_order_and_once(posts: &[Post], written: &HashMap<Uuid, Vec<Uuid>>) {
    let mut acknowledged: HashMap<Uuid, usize> = HashMap::new();
    for post in posts {
        let sequence = written
            .get(&post.event.aggregate_id)
            .expect("an aggregate this test wrote");
        let done = acknowledged.entry(post.event.aggregate_id).or_default();
        assert!(
            *done < sequence.len(),
            "{} was posted again after its aggregate's events were all acknowledged",
            post.event.id
        );
        assert_eq!(
            post.event.id, sequence[*done],
            "aggregate {}: posted event {} while event #{} ({}) was not acknowledged yet, or posted an acknowledged \
             one again",
            post.event.aggregate_id, post.event.id, *done, sequence[*done]
        );
        if post.accepted() {
            *done += 1;
        }
    }
    for (aggregate, sequence) in written {
        assert_eq!(
            acknowledged.get(aggregate).copied().unwrap_or(0),
            sequence.len(),
            "every event of {aggregate} acknowledged"
        );
    }
    let accepted: Vec<Uuid> = posts
        .iter()
        .filter(|p| p.accepted())
        .map(|p| p.event.id)
        .collect();
    let unique: HashSet<Uuid> = accepted.iter().copied().collect();
    assert_eq!(accepted.len(), unique.len(), "each event acknowledged once");
    for post in posts {
        assert_eq!(
            post.caller.as_deref(),
            Some("scheduling"),
            "every post carries a service token from scheduling for notifications"
        );
        assert_eq!(
            post.idempotency_key.as_deref(),
            Some(post.event.id.to_string().as_str())
        );
    }
}

/// Fails if `enqueue` wrote outside the caller's transaction (a rolled-back change would still announce itself, and
/// the relay would deliver it), if the relay did not find committed rows, or if the envelope lost a field, the
/// request id or the token.
#[tokio::test]
async fn a_rolled_back_event_is_never_delivered_and_a_committed_one_is() {
    let world = World::new(|_| {}, Duration::ZERO).await;
    world.start_inbox().await;
    let base = world.open_service().await;
    let relay = base.start_outbox_relay().expect("relay");
    assert!(relay.is_running());
    assert_eq!(relay.subscribers(), ["notifications"]);
    let aggregate = Uuid::now_v7();

    let txn = db::begin_write(&base.db).await.expect("begin");
    outbox::enqueue(
        &txn,
        "event.published",
        aggregate,
        &serde_json::json!({"title": "never happened"}),
        relay.subscribers(),
    )
    .await
    .expect("enqueue");
    txn.rollback().await.expect("rollback");
    relay.wake();
    assert_eq!(
        outbox::event::Entity::find()
            .count(&base.db)
            .await
            .expect("count"),
        0,
        "a rolled-back change leaves no event"
    );
    assert!(deliveries(&base.db).await.is_empty(), "and no delivery");

    let id = observe::with_request_id("req-committed".to_owned(), async {
        let txn = db::begin_write(&base.db).await.expect("begin");
        let id = outbox::enqueue(
            &txn,
            "event.published",
            aggregate,
            &serde_json::json!({"title": "Webinar"}),
            relay.subscribers(),
        )
        .await
        .expect("enqueue");
        txn.commit().await.expect("commit");
        id
    })
    .await;
    let stored = outbox::event::Entity::find_by_id(id)
        .one(&base.db)
        .await
        .expect("find")
        .expect("a committed change leaves its event");
    assert_eq!(deliveries(&base.db).await.len(), 1, "and one delivery");
    relay.wake();

    eventually("the committed event to be delivered", || {
        all_delivered(&base.db)
    })
    .await;
    let posts = world.inbox.posts();
    assert_eq!(
        posts.len(),
        1,
        "only the committed event is posted: {posts:?}"
    );
    let post = &posts[0];
    assert_eq!(
        post.event,
        InboxEvent {
            id,
            event_type: "event.published".into(),
            aggregate_id: aggregate,
            source: "scheduling".into(),
            occurred_at: stored.occurred_at,
            payload: serde_json::json!({"title": "Webinar"}),
        }
    );
    assert_eq!(post.caller.as_deref(), Some("scheduling"));
    assert_eq!(post.request_id.as_deref(), Some("req-committed"));
    assert_eq!(post.idempotency_key, Some(id.to_string()));
    let delivery = &deliveries(&base.db).await[0];
    assert_eq!(delivery.attempts, 1);
    assert!(delivery.last_error.is_none());

    eventually("the metrics to show the delivery", || async {
        let text = base.metrics.render().expect("metrics");
        text.lines().any(|l| {
            l.starts_with("cloverleaf_outbox_delivery_attempts_total")
                && l.contains(r#"result="delivered""#)
                && l.contains(r#"subscriber="notifications""#)
                && l.ends_with(" 1")
        }) && text
            .lines()
            .any(|l| l.starts_with("cloverleaf_outbox_undelivered") && l.ends_with(" 0"))
    })
    .await;
    stop(&base).await;
}

/// Fails if the relay gives up on a subscriber that is down (connection refused) or answering 503, posts an
/// aggregate's later events before the earlier ones were acknowledged, posts an acknowledged event again, or does
/// not record attempts and errors.
#[tokio::test]
async fn a_subscriber_that_was_down_receives_every_event_in_order_once_back() {
    let world = World::new(|_| {}, Duration::ZERO).await;
    let base = world.open_service().await;
    let relay = base.start_outbox_relay().expect("relay");
    let aggregates: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let mut written: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for n in 0..5 {
        for aggregate in &aggregates {
            let id = write_event(&base, &relay, *aggregate, "event.updated", n).await;
            written.entry(*aggregate).or_default().push(id);
        }
    }

    // Nothing listens yet: attempts are made, fail, and are recorded.
    eventually(
        "failed attempts against a subscriber that is down",
        || async {
            deliveries(&base.db).await.iter().any(|d| {
                d.attempts >= 2
                    && d.last_error
                        .as_deref()
                        .is_some_and(|e| e.starts_with("cannot connect"))
            })
        },
    )
    .await;
    assert!(
        deliveries(&base.db)
            .await
            .iter()
            .all(|d| d.delivered_at.is_none())
    );

    // Back, but overloaded for a while.
    world.inbox.0.unavailable.store(4, Ordering::SeqCst);
    world.start_inbox().await;
    eventually("every event to be delivered", || all_delivered(&base.db)).await;

    let posts = world.inbox.posts();
    assert_in_order_and_once(&posts, &written);
    assert_eq!(
        posts
            .iter()
            .filter(|p| p.status == StatusCode::SERVICE_UNAVAILABLE)
            .count(),
        4,
        "the 503s were answered and retried"
    );
    assert_eq!(posts.iter().filter(|p| p.accepted()).count(), 15);
    let rows = deliveries(&base.db).await;
    for row in &rows {
        let posted = posts.iter().filter(|p| p.event.id == row.event_id).count();
        assert!(
            usize::try_from(row.attempts).expect("attempts") >= posted,
            "attempts count every post: {row:?}"
        );
    }
    // Every failure counted: at least two refused connections and the four 503s on top of the 15 successes (a
    // failure that says the subscriber is down puts off the round's other deliveries to it without counting them).
    let total: i32 = rows.iter().map(|r| r.attempts).sum();
    assert!(total >= 15 + 4 + 2, "attempts recorded: {rows:?}");
    // (The refused connections were seen in last_error above; the 503s came after them.)
    let errors: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.last_error.as_deref())
        .collect();
    assert!(
        errors.iter().any(|e| e.starts_with("HTTP 503")),
        "{errors:?}"
    );
    stop(&base).await;
}

/// Fails if two replicas can claim the same delivery (no row lock or lease: duplicate posts), or if one replica can
/// post an aggregate's later event while the other still holds an earlier one (out of order).
#[tokio::test]
async fn two_relays_on_one_database_deliver_each_event_exactly_once() {
    // Small batches, and rounds only when woken (or after a second), so that both replicas start claiming at the
    // same moment in each burst.
    let world = World::new(
        |s| {
            s.outbox.batch_size = 4;
            s.outbox.poll_interval_ms = 1000;
        },
        Duration::from_millis(5),
    )
    .await;
    world.start_inbox().await;
    let first = world.open_service().await;
    let second = world.open_service().await;
    let relays = [
        first.start_outbox_relay().expect("relay 1"),
        second.start_outbox_relay().expect("relay 2"),
    ];
    let aggregates: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    let mut written: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for burst in 0..3 {
        // A burst: 4 events for each of 6 aggregates, interleaved, committed at once.
        let txn = db::begin_write(&first.db).await.expect("begin");
        for n in 0..4 {
            for aggregate in &aggregates {
                let id = outbox::enqueue(
                    &txn,
                    "registration.confirmed",
                    *aggregate,
                    &serde_json::json!({ "burst": burst, "n": n }),
                    relays[0].subscribers(),
                )
                .await
                .expect("enqueue");
                written.entry(*aggregate).or_default().push(id);
            }
        }
        txn.commit().await.expect("commit");
        for relay in &relays {
            relay.wake();
        }
        eventually("the burst to be delivered", || all_delivered(&first.db)).await;
    }

    let posts = world.inbox.posts();
    assert_in_order_and_once(&posts, &written);
    assert_eq!(
        posts.len(),
        72,
        "the subscriber always accepts, so each event is posted exactly once"
    );
    assert!(deliveries(&first.db).await.iter().all(|d| d.attempts == 1));
    stop(&first).await;
    stop(&second).await;
}

/// Fails if a claim is not leased (another replica would post the delivery at once, while its claimer may still be
/// posting it) or if a lease never expires (a replica that crashed after claiming would lose the event for good).
#[tokio::test]
async fn a_claim_left_by_a_crashed_replica_is_retried_after_its_lease() {
    let world = World::new(
        |s| {
            s.outbox.lease_secs = 2;
            s.outbox.request_timeout_secs = 1;
        },
        Duration::ZERO,
    )
    .await;
    world.start_inbox().await;
    let base = world.open_service().await;
    let subscribers = base.settings.scheduling.subscribers.clone();
    let txn = db::begin_write(&base.db).await.expect("begin");
    let id = outbox::enqueue(
        &txn,
        "event.cancelled",
        Uuid::now_v7(),
        &serde_json::json!({}),
        &subscribers,
    )
    .await
    .expect("enqueue");
    txn.commit().await.expect("commit");

    // A replica claims the delivery and dies before posting it.
    let crashed = RelayWorker::new(
        base.db.clone(),
        &base.settings,
        ServiceName::Scheduling,
        CancellationToken::new(),
    )
    .expect("worker");
    let claimed_at = Instant::now();
    let claimed = crashed.claim().await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].event_id, id);
    drop(crashed);

    let relay = base.start_outbox_relay().expect("relay");
    relay.wake();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        world.inbox.posts().is_empty(),
        "the lease keeps other replicas away while it lasts"
    );
    eventually("the delivery to be retried after the lease", || {
        all_delivered(&base.db)
    })
    .await;
    assert!(
        claimed_at.elapsed() >= Duration::from_millis(1900),
        "not before the lease ran out"
    );
    let posts = world.inbox.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].event.id, id);
    stop(&base).await;
}

/// Fails if one failing event blocks every aggregate (a global queue), if an aggregate's later events are posted past
/// its failing first one, or if the relay gives up on an event the subscriber rejects for a while.
#[tokio::test]
async fn an_aggregate_that_keeps_failing_holds_back_only_itself() {
    let world = World::new(|_| {}, Duration::ZERO).await;
    world.start_inbox().await;
    let base = world.open_service().await;
    let relay = base.start_outbox_relay().expect("relay");
    let (stuck, fine) = (Uuid::now_v7(), Uuid::now_v7());
    world.inbox.refuse(stuck, true);
    let mut written: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (n, aggregate) in [stuck, fine, stuck, fine, fine].into_iter().enumerate() {
        let id = write_event(&base, &relay, aggregate, "event.updated", n).await;
        written.entry(aggregate).or_default().push(id);
    }
    let stuck_first = written[&stuck][0];
    let stuck_second = written[&stuck][1];

    eventually(
        "the healthy aggregate to be delivered while the other fails",
        || async {
            let rows = deliveries(&base.db).await;
            let fine_done = rows
                .iter()
                .filter(|d| written[&fine].contains(&d.event_id))
                .all(|d| d.delivered_at.is_some());
            let stuck_retried = rows
                .iter()
                .any(|d| d.event_id == stuck_first && d.attempts >= 3);
            fine_done && stuck_retried
        },
    )
    .await;
    let rows = deliveries(&base.db).await;
    let head = rows
        .iter()
        .find(|d| d.event_id == stuck_first)
        .expect("row");
    assert!(head.delivered_at.is_none());
    assert!(
        head.last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("HTTP 422")),
        "{head:?}"
    );
    assert!(
        !world
            .inbox
            .posts()
            .iter()
            .any(|p| p.event.id == stuck_second),
        "the later event waits for the one that fails"
    );

    world.inbox.refuse(stuck, false);
    relay.wake();
    eventually("the held-back aggregate to follow once accepted", || {
        all_delivered(&base.db)
    })
    .await;
    assert_in_order_and_once(&world.inbox.posts(), &written);
    stop(&base).await;
}

/// Fails if concurrent transactions that write events collide on `position` (on PostgreSQL both would read the same
/// maximum and one would fail on the unique index, failing its whole business transaction).
#[tokio::test]
async fn concurrent_transactions_all_write_their_events() {
    let world = World::new(|_| {}, Duration::ZERO).await;
    let base = world.open_service().await;
    let subscribers = base.settings.scheduling.subscribers.clone();
    let writers: Vec<_> = (0..12)
        .map(|n| {
            let (conn, subscribers) = (base.db.clone(), subscribers.clone());
            tokio::spawn(async move {
                // begin_write is a plain BEGIN on PostgreSQL (and BEGIN IMMEDIATE on SQLite).
                let txn = db::begin_write(&conn).await.expect("begin");
                let id = outbox::enqueue(
                    &txn,
                    "registration.confirmed",
                    Uuid::now_v7(),
                    &serde_json::json!({ "n": n }),
                    &subscribers,
                )
                .await;
                tokio::time::sleep(Duration::from_millis(10)).await;
                let id = id?;
                txn.commit().await?;
                Ok::<Uuid, sea_orm::DbErr>(id)
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("join").expect("every writer succeeds");
    }
    let events = outbox::event::Entity::find()
        .all(&base.db)
        .await
        .expect("events");
    assert_eq!(events.len(), 12);
    let positions: HashSet<i64> = events.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        (1..=12).collect(),
        "positions are unique and gapless"
    );
    stop(&base).await;
}

/// Fails if a service without subscribers starts a relay anyway (notifications writes no outbox rows).
#[tokio::test]
async fn a_service_without_subscribers_starts_no_relay() {
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = testing::settings(dir.path());
    let database = TestDatabase::create(dir.path(), ServiceName::Notifications).await;
    settings.notifications.database_url = database.url().clone();
    let base = ServiceBase::open::<Migrator>(settings, ServiceName::Notifications)
        .await
        .expect("open");
    let relay = base.start_outbox_relay().expect("relay");
    assert!(!relay.is_running());
    assert!(relay.subscribers().is_empty());
    relay.wake();
    stop(&base).await;
}

/// Writes, in one transaction, `per_aggregate` events for each of `aggregates`, interleaved (a1 a2 … a1 a2 …), for
/// `subscribers`; returns each aggregate's event ids in the order written.
async fn write_interleaved(
    base: &ServiceBase,
    subscribers: &[String],
    aggregates: &[Uuid],
    per_aggregate: usize,
) -> HashMap<Uuid, Vec<Uuid>> {
    let mut written: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let txn = db::begin_write(&base.db).await.expect("begin");
    for n in 0..per_aggregate {
        for aggregate in aggregates {
            let id = outbox::enqueue(
                &txn,
                "registration.confirmed",
                *aggregate,
                &serde_json::json!({ "n": n }),
                subscribers,
            )
            .await
            .expect("enqueue");
            written.entry(*aggregate).or_default().push(id);
        }
    }
    txn.commit().await.expect("commit");
    written
}

/// Fails if posting several aggregates at once lets one aggregate's events overtake each other (a delivery posted
/// before the previous one of its aggregate was acknowledged — say the batch were posted delivery by delivery
/// concurrently instead of one aggregate per task, or a group went on past a failure), if an event is posted again
/// after it was acknowledged, or if the relay posts more than `outbox.concurrency` at once. Random-looking delays
/// per post shuffle the order in which concurrent posts finish; a few 503s make groups stop and resume.
#[tokio::test]
async fn posting_many_aggregates_at_once_keeps_each_aggregates_order() {
    let world = World::new(|s| s.outbox.concurrency = 6, Duration::ZERO).await;
    world.inbox.0.jitter.store(true, Ordering::SeqCst);
    world.inbox.0.unavailable.store(3, Ordering::SeqCst);
    world.start_inbox().await;
    let base = world.open_service().await;
    let relay = base.start_outbox_relay().expect("relay");
    // 24 × 5 = 120 deliveries: more than one batch of 100, so aggregates also continue across rounds.
    let aggregates: Vec<Uuid> = (0..24).map(|_| Uuid::now_v7()).collect();
    let written = write_interleaved(&base, relay.subscribers(), &aggregates, 5).await;
    relay.wake();
    eventually("every event to be delivered", || all_delivered(&base.db)).await;

    let posts = world.inbox.posts();
    assert_in_order_and_once(&posts, &written);
    assert_eq!(posts.iter().filter(|p| p.accepted()).count(), 120);
    assert_eq!(
        posts
            .iter()
            .filter(|p| p.status == StatusCode::SERVICE_UNAVAILABLE)
            .count(),
        3
    );
    let most = world.inbox.0.max_in_flight.load(Ordering::SeqCst);
    assert!(
        (2..=6).contains(&most),
        "several aggregates are posted at once, never more than outbox.concurrency: {most}"
    );
    stop(&base).await;
}

/// Fails if one round does not record every answer it got (a batch recording that loses some, or writes the wrong
/// rows), or if one aggregate whose subscriber takes long to answer holds up the other aggregates of the round (the
/// batch posted one delivery after another): the slow aggregate's event is the first of the batch, and every other
/// one must have been answered before it was.
#[tokio::test]
async fn a_slow_aggregate_does_not_hold_up_the_others_and_the_round_records_every_answer() {
    let world = World::new(
        |s| {
            s.outbox.request_timeout_secs = 10;
            s.outbox.lease_secs = 30;
        },
        Duration::ZERO,
    )
    .await;
    world.start_inbox().await;
    let base = world.open_service().await;
    let subscribers = base.settings.scheduling.subscribers.clone();
    let slow = Uuid::now_v7();
    world
        .inbox
        .0
        .slow
        .lock()
        .expect("slow")
        .insert(slow, Duration::from_millis(1500));
    let mut written = write_interleaved(&base, &subscribers, &[slow], 1).await;
    let fast: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
    written.extend(write_interleaved(&base, &subscribers, &fast, 3).await);

    let worker = RelayWorker::new(
        base.db.clone(),
        &base.settings,
        ServiceName::Scheduling,
        CancellationToken::new(),
    )
    .expect("worker");
    let round = worker.run_once().await.expect("round");
    assert_eq!(
        (round.claimed, round.delivered, round.failed, round.deferred),
        (31, 31, 0, 0),
        "{round:?}"
    );
    let rows = deliveries(&base.db).await;
    assert_eq!(rows.len(), 31);
    for row in &rows {
        assert!(row.delivered_at.is_some(), "recorded as delivered: {row:?}");
        assert_eq!(row.attempts, 1, "{row:?}");
        assert!(row.last_error.is_none());
    }

    let posts = world.inbox.posts();
    assert_in_order_and_once(&posts, &written);
    let slow_answered = posts
        .iter()
        .find(|p| p.event.aggregate_id == slow)
        .expect("the slow aggregate's post")
        .answered_at;
    for post in posts.iter().filter(|p| p.event.aggregate_id != slow) {
        assert!(
            post.answered_at < slow_answered,
            "{} was answered after the slow aggregate's post, which was started first and takes 1.5 s",
            post.event.id
        );
    }
}

/// Fails if a subscriber that is down is still tried by every other aggregate's group of the round (the "subscriber
/// is down" rule not shared across concurrent groups: 20 failed posts instead of at most `outbox.concurrency`), or
/// if the deliveries put off are not put off until the failed one's next try, or are counted as attempts.
#[tokio::test]
async fn a_subscriber_found_down_is_not_tried_again_by_other_aggregates_in_the_round() {
    let world = World::new(
        |s| {
            s.outbox.concurrency = 4;
            s.outbox.initial_backoff_ms = 60_000;
            s.outbox.max_backoff_secs = 300;
        },
        Duration::ZERO,
    )
    .await;
    // The inbox is not started: every connection is refused.
    let base = world.open_service().await;
    let subscribers = base.settings.scheduling.subscribers.clone();
    let aggregates: Vec<Uuid> = (0..20).map(|_| Uuid::now_v7()).collect();
    write_interleaved(&base, &subscribers, &aggregates, 1).await;

    let worker = RelayWorker::new(
        base.db.clone(),
        &base.settings,
        ServiceName::Scheduling,
        CancellationToken::new(),
    )
    .expect("worker");
    let round = worker.run_once().await.expect("round");
    assert_eq!(round.claimed, 20);
    assert_eq!(round.delivered, 0);
    assert!(
        (1..=4).contains(&round.failed),
        "only posts already under way when the first refusal came back fail: {round:?}"
    );
    assert_eq!(round.deferred, 20 - round.failed, "{round:?}");
    let rows = deliveries(&base.db).await;
    let later = chrono::Utc::now() + chrono::Duration::seconds(30);
    for row in &rows {
        assert!(row.delivered_at.is_none());
        assert!(
            row.next_attempt_at > later,
            "tried again only after the backoff (about a minute): {row:?}"
        );
    }
    assert_eq!(
        rows.iter().filter(|r| r.attempts == 1).count(),
        round.failed,
        "only posts count as attempts"
    );
    assert_eq!(
        rows.iter().filter(|r| r.attempts == 0).count(),
        round.deferred
    );
}

/// SQLite only. Fails if the relay writes through the pool it was given (the service's read pool) instead of the
/// process's writer connection: each such write takes the file's write lock from another connection, so the
/// service's next write transaction waits in SQLite's busy handler and re-reads its pages. The relay gets a pool of
/// one connection here, whose `total_changes()` counts every row written through it; a round that claims, delivers,
/// fails and releases must leave it at 0.
#[tokio::test]
async fn on_sqlite_no_relay_write_goes_through_the_read_pool() {
    let world = World::new(|_| {}, Duration::ZERO).await;
    world.start_inbox().await;
    let base = world.open_service().await;
    if base.db.get_database_backend() != DbBackend::Sqlite {
        // On PostgreSQL there is no separate writer connection to check.
        return;
    }
    let subscribers = base.settings.scheduling.subscribers.clone();
    let refused = Uuid::now_v7();
    world.inbox.refuse(refused, true);
    let fine: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
    write_interleaved(&base, &subscribers, &fine, 2).await;
    write_interleaved(&base, &subscribers, &[refused], 2).await;

    let read = db::connect(&base.settings.database_url(ServiceName::Scheduling), 1)
        .await
        .expect("a read pool of one connection");
    let changes = |db: sea_orm::DatabaseConnection| async move {
        db.query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT total_changes() AS n",
        ))
        .await
        .expect("total_changes")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("n")
    };
    let worker = RelayWorker::new(
        read.clone(),
        &base.settings,
        ServiceName::Scheduling,
        CancellationToken::new(),
    )
    .expect("worker");
    let round = worker.run_once().await.expect("round");
    assert_eq!(
        (round.claimed, round.delivered, round.failed, round.deferred),
        (22, 20, 1, 1),
        "{round:?}"
    );
    assert_eq!(
        changes(read.clone()).await,
        0,
        "the relay wrote through the read pool"
    );
    let rows = deliveries(&base.db).await;
    assert_eq!(rows.iter().filter(|r| r.delivered_at.is_some()).count(), 20);
    assert!(rows.iter().any(|r| {
        r.attempts == 1
            && r.last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("HTTP 422"))
    }));
    // The probe sees writes made through that pool.
    read.execute_raw(Statement::from_string(
        DbBackend::Sqlite,
        "UPDATE outbox_deliveries SET attempts = attempts",
    ))
    .await
    .expect("update");
    assert_eq!(changes(read).await, 22);
}
