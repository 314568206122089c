//! The inbox's claim on its own: each programme event's (key's) queue is taken as a prefix, in arrival order, and a
//! key whose first event is held (leased or backing off) gives nothing until it is done. On SQLite, or on PostgreSQL
//! when CLOVERLEAF_TEST_DATABASE_URL is set.

use chrono::{DateTime, Duration, Utc};
use cloverleaf_notifications::store::inbox::{self, inbox_event};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::TestDatabase;
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;
use uuid::Uuid;

fn row(
    key: Uuid,
    received_at: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
) -> inbox_event::ActiveModel {
    inbox_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_type: Set("registration.confirmed".into()),
        aggregate_id: Set(Uuid::now_v7()),
        event_key: Set(key),
        source: Set("registration".into()),
        occurred_at: Set(received_at),
        payload: Set("{}".into()),
        received_at: Set(received_at),
        processed_at: Set(None),
        outcome: Set(None),
        attempts: Set(0),
        next_attempt_at: Set(next_attempt_at),
        last_error: Set(None),
    }
}

/// Key A: its first event backs off for an hour, two more wait behind it. Key B: four due events, two of them
/// received at the same microsecond. Key C: its second event backs off, so only its first is due. What would break:
/// claiming A's later events while its first waits (A's emails out of order), claiming past C's held event, or a
/// tie on the arrival time settled against the ids (B's tied events out of order or one of them held back).
#[tokio::test]
async fn each_key_gives_the_prefix_of_its_queue_before_the_first_held_event() {
    // The database alone, migrated: a running service's inbox worker would claim the rows first.
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::create(dir.path(), ServiceName::Notifications).await;
    let db = cloverleaf_service_kit::db::connect(database.url(), 2)
        .await
        .expect("db");
    cloverleaf_service_kit::db::migrate::<cloverleaf_notifications::store::migrations::Migrator>(
        &db,
    )
    .await
    .expect("migrate");
    let now = Utc::now();
    let t = |s: i64| now - Duration::seconds(100 - s);
    let later = now + Duration::hours(1);
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let rows = vec![
        row(a, t(1), later),
        row(b, t(2), t(2)),
        row(a, t(3), t(3)),
        row(c, t(4), t(4)),
        row(b, t(5), t(5)),
        row(b, t(5), t(5)),
        row(c, t(6), later),
        row(a, t(7), t(7)),
        row(c, t(8), t(8)),
        row(b, t(9), t(9)),
    ];
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|r| match &r.id {
            Set(id) => *id,
            _ => unreachable!(),
        })
        .collect();
    inbox_event::Entity::insert_many(rows)
        .exec_without_returning(&db)
        .await
        .expect("insert");

    let claimed = inbox::claim(&db, now, now + Duration::seconds(30), 100)
        .await
        .expect("claim");
    let got: Vec<Uuid> = claimed.iter().map(|c| c.id).collect();
    // In arrival order (ties by id): B's four, C's first; nothing of A.
    let expected = vec![ids[1], ids[3], ids[4], ids[5], ids[9]];
    assert_eq!(got, expected);

    // Now B and C's first are leased: a second claim finds nothing.
    let again = inbox::claim(&db, now, now + Duration::seconds(30), 100)
        .await
        .expect("claim");
    assert!(again.is_empty(), "{again:?}");
}
