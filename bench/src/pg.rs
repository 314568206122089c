//! PostgreSQL for the benchmarks: whether the server answers, and a fresh database per service (and per ceiling) per
//! run, `bench_<label>_<random>`, dropped at the end (`WITH (FORCE)`, so connections left behind do not stop it).

use std::time::Duration;

use anyhow::Context;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};

/// Where the benchmarks look for PostgreSQL unless told otherwise (trust authentication on loopback).
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

async fn admin_connection(admin: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(admin.to_owned());
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", redact(admin)))
}

/// `Ok` when the server at `admin` answers `SELECT 1`.
pub async fn available(admin: &str) -> anyhow::Result<()> {
    let connection =
        tokio::time::timeout(Duration::from_secs(5), admin_connection(admin)).await??;
    connection
        .execute_raw(Statement::from_string(
            connection.get_database_backend(),
            "SELECT 1",
        ))
        .await?;
    let _ = connection.close().await;
    Ok(())
}

/// The server's version (`SHOW server_version`), for the report's machine line.
pub async fn server_version(admin: &str) -> anyhow::Result<String> {
    let connection =
        tokio::time::timeout(Duration::from_secs(5), admin_connection(admin)).await??;
    let row = connection
        .query_one_raw(Statement::from_string(
            connection.get_database_backend(),
            "SHOW server_version",
        ))
        .await?
        .context("no answer to SHOW server_version")?;
    let version: String = row.try_get_by_index(0)?;
    let _ = connection.close().await;
    Ok(version)
}

/// A database created for this run.
#[derive(Debug)]
pub struct PgDatabase {
    admin: String,
    name: String,
    url: String,
    dropped: bool,
}

impl PgDatabase {
    /// Creates `bench_<label>_<random>` on the server at `admin`.
    pub async fn create(admin: &str, label: &str) -> anyhow::Result<Self> {
        let name = format!(
            "bench_{label}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let connection = admin_connection(admin).await?;
        connection
            .execute_raw(Statement::from_string(
                connection.get_database_backend(),
                format!("CREATE DATABASE \"{name}\""),
            ))
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        let _ = connection.close().await;
        Ok(Self {
            url: database_url(admin, &name)?,
            admin: admin.to_owned(),
            name,
            dropped: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database (the admin URL with its path replaced).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database (forcing out whoever is still connected).
    pub async fn drop_now(mut self) -> anyhow::Result<()> {
        self.dropped = true;
        drop_database(&self.admin, &self.name).await
    }
}

impl Drop for PgDatabase {
    /// A database not dropped with [`PgDatabase::drop_now`] (a scenario failed) is dropped here, from a thread of its
    /// own with its own runtime, since `drop` cannot wait on the caller's.
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(drop_database(&admin, &name))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "warning: the PostgreSQL database {} was not dropped",
                self.name
            );
        }
    }
}

async fn drop_database(admin: &str, name: &str) -> anyhow::Result<()> {
    let connection = admin_connection(admin).await?;
    connection
        .execute_raw(Statement::from_string(
            connection.get_database_backend(),
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        ))
        .await
        .with_context(|| format!("DROP DATABASE {name}"))?;
    let _ = connection.close().await;
    Ok(())
}

/// `admin` with its database (path) replaced by `name`, keeping user, host, port and query.
pub fn database_url(admin: &str, name: &str) -> anyhow::Result<String> {
    let mut url =
        url::Url::parse(admin).with_context(|| format!("{} is not a URL", redact(admin)))?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// A URL for messages: the password replaced by `***`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(an invalid URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_replaced_and_passwords_are_hidden() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "bench_x").expect("url"),
            "postgres://postgres@127.0.0.1:5432/bench_x"
        );
        assert_eq!(
            database_url("postgres://u:p@db/postgres?sslmode=disable", "b").expect("url"),
            "postgres://u:p@db/b?sslmode=disable"
        );
        assert_eq!(redact("postgres://u:secret@db/x"), "postgres://u:***@db/x");
    }
}
