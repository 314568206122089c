//! Database connections and migrations. SQLite is the default (one file per service), PostgreSQL the production
//! database; both are reached through sea-orm with the same code.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretString};

use crate::retry::{RetryPolicy, Verdict};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("database directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
}

/// Opens a pool. SQLite gets WAL (readers never wait for the writer), foreign keys on, a busy timeout so concurrent
/// writers queue instead of failing, and `synchronous=NORMAL` (durable at each checkpoint, safe with WAL).
pub async fn connect(
    url: &SecretString,
    max_connections: u32,
) -> Result<DatabaseConnection, DbError> {
    let url = url.expose_secret();
    if let Some(path) = sqlite_path(url)
        && let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
        });
    // Several processes opening a new SQLite file at once can find it locked while one of them switches it to WAL;
    // that passes in moments, so try again briefly.
    let briefly = RetryPolicy::new(5, Duration::from_millis(50), Duration::from_millis(200));
    let connection = briefly
        .run(
            |_| Database::connect(options.clone()),
            |outcome| match outcome {
                Err(error) if error.to_string().contains("database is locked") => Verdict::Retry,
                _ => Verdict::Done,
            },
        )
        .await?;
    Ok(connection)
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// What a worker's claim query appends to pick rows no other replica holds: ` FOR UPDATE SKIP LOCKED` on
/// PostgreSQL; nothing on SQLite, where [`begin_write`] serialises the claims instead.
pub fn skip_locked(backend: sea_orm::DbBackend) -> &'static str {
    if backend == sea_orm::DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    }
}

/// Begins a transaction that writes: on SQLite `BEGIN IMMEDIATE`, which takes the writer lock at once, so two writers
/// never both read and then fail to upgrade; on PostgreSQL a plain `BEGIN`, where callers lock the rows they
/// serialise on.
///
/// On SQLite every write transaction of the process runs on **one writer connection** per database file, queued
/// fairly by its pool, instead of on whichever pooled connection is free. SQLite admits one writer at a time anyway,
/// and (measured with the registration burst) spreading writes over ten connections cost twice: a writer that finds
/// the file locked sleeps in SQLite's busy handler (1, 2, 5, 10… ms) instead of starting when the lock is free, and
/// each connection's page cache is thrown away whenever another one wrote, so every transaction re-read its pages.
/// Writers in other processes still meet the busy timeout.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    writer(db).begin_with_options(options).await
}

/// The connection to write through outside [`begin_write`] (an autocommit `UPDATE`, say): on SQLite the process's
/// writer connection for the file `db` reads — the one [`begin_write`] uses — elsewhere `db` itself.
///
/// On SQLite a write from any other connection of the process (the read pool) costs the writer connection twice,
/// as described at [`begin_write`]: it takes the file's write lock, so the writer's next `BEGIN IMMEDIATE` sleeps in
/// SQLite's busy handler, and it throws away the writer's page cache. So every write of the process goes through
/// this connection (or [`begin_write`]); reads stay on `db`, the pool, so they never queue behind writers. Several
/// statements that belong together are better written in one [`begin_write`] transaction: one lock, one commit.
pub fn writer(db: &DatabaseConnection) -> DatabaseConnection {
    match db.get_database_backend() {
        DbBackend::Sqlite => sqlite_writer(db),
        _ => db.clone(),
    }
}

/// The writer connection (a pool of one, opened when first used) of the SQLite file `db` reads.
fn sqlite_writer(db: &DatabaseConnection) -> DatabaseConnection {
    static WRITERS: LazyLock<Mutex<HashMap<PathBuf, DatabaseConnection>>> =
        LazyLock::new(Mutex::default);
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename().to_path_buf();
    if file.as_os_str() == ":memory:" || file.as_os_str().is_empty() {
        // A second pool would open a second, empty in-memory database.
        return db.clone();
    }
    let mut writers = WRITERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    writers
        .entry(file)
        .or_insert_with(|| {
            let pool = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .acquire_timeout(Duration::from_secs(30))
                // Closed when idle, so the many short-lived databases of a test run do not keep files open.
                .idle_timeout(Duration::from_secs(30))
                .connect_lazy_with((*options).clone());
            sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
        })
        .clone()
}

/// Applies every pending migration of `M`, all in one transaction that first takes a database-wide lock: replicas
/// (or `cloverleaf migrate` beside a starting service) that migrate at the same moment wait for each other instead of
/// applying the same migration twice, and a failing migration leaves nothing half-done.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Held until the transaction ends; the number only has to be the same for everyone who migrates.
        let lock = Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7236178206)",
        );
        txn.execute_raw(lock).await?;
    }
    M::up(&txn, None).await?;
    txn.commit().await
}

/// How many migrations of `M` are not applied yet.
pub async fn pending_migrations<M: MigratorTrait>(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(M::get_pending_migrations(db).await?.len())
}

/// `SELECT 1`: the database answers.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_string(backend, "SELECT 1"))
        .await
        .map(|_| ())
}

pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}

/// Column helpers the services' migrations share, so every instant column is declared the same way.
pub mod migration {
    use sea_orm_migration::prelude::{ColumnDef, IntoIden};

    /// A point in time, required: `timestamp with time zone` (PostgreSQL), text in SQLite.
    pub fn instant(name: impl IntoIden) -> ColumnDef {
        ColumnDef::new(name)
            .timestamp_with_time_zone()
            .not_null()
            .to_owned()
    }

    /// A point in time that may be missing (NULL).
    pub fn maybe_instant(name: impl IntoIden) -> ColumnDef {
        ColumnDef::new(name)
            .timestamp_with_time_zone()
            .null()
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(
            sqlite_path("sqlite://data/a.db?mode=rwc"),
            Some("data/a.db")
        );
        assert_eq!(sqlite_path("sqlite:/tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/db"), None);
    }
}
