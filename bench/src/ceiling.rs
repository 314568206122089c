//! The ceiling: what this machine can do at all. An axum server (inside the bench process) with one route,
//! `POST /v1/registrations`, that takes the same JSON body as the registration service and inserts a row of a
//! registration's size — an id and the participant's text columns — into a table of a fresh database of the same kind,
//! opened with `cloverleaf_service_kit::db::connect` (so SQLite gets the services' very settings: WAL,
//! `synchronous=NORMAL`, foreign keys, busy timeout) and a pool of the services' size. Nothing else: no validation,
//! no seat lock, no transaction, no outbox row, no token. Driven by the same load generator with the same clients
//! and count as the registration burst, it gives the registrations/s the system's own figure is a fraction of.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, Schema};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::pg::PgDatabase;
use crate::system::Backend;

mod row {
    use sea_orm::entity::prelude::*;

    /// A registration's columns as the participant sends them.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ceiling_registrations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_id: Uuid,
        pub email: String,
        pub email_key: String,
        pub name: String,
        pub affiliation: Option<String>,
        pub country: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub answers: Option<String>,
        pub locale: String,
        pub timezone: Option<String>,
        pub status: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The request body (the registration service's, minus its checks).
#[derive(Debug, Deserialize)]
struct Input {
    event_id: Uuid,
    email: String,
    name: String,
    affiliation: Option<String>,
    country: Option<String>,
    #[serde(default)]
    answers: Map<String, Value>,
    locale: Option<String>,
    timezone: Option<String>,
}

async fn insert(
    State(db): State<DatabaseConnection>,
    Json(input): Json<Input>,
) -> Result<(StatusCode, Json<Value>), (StatusCode, String)> {
    let id = Uuid::now_v7();
    let answers = serde_json::to_string(&input.answers)
        .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let model = row::ActiveModel {
        id: Set(id),
        event_id: Set(input.event_id),
        email_key: Set(input.email.to_lowercase()),
        email: Set(input.email),
        name: Set(input.name),
        affiliation: Set(input.affiliation),
        country: Set(input.country),
        answers: Set(Some(answers)),
        locale: Set(input.locale.unwrap_or_else(|| "en".to_owned())),
        timezone: Set(input.timezone),
        status: Set("confirmed".to_owned()),
        created_at: Set(Utc::now()),
    };
    row::Entity::insert(model)
        .exec_without_returning(&db)
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "status": "confirmed" })),
    ))
}

/// The ceiling server, running.
pub struct Ceiling {
    pub url: String,
    db: DatabaseConnection,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    database: Option<PgDatabase>,
    _dir: Option<tempfile::TempDir>,
}

impl Ceiling {
    /// A fresh database of `backend` (pool of `max_connections`, as the services), its table, and the server on a
    /// free loopback port.
    pub async fn start(
        backend: Backend,
        postgres_admin: &str,
        max_connections: u32,
    ) -> anyhow::Result<Self> {
        let (url, database, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("cloverleaf-bench-ceiling-")
                    .tempdir()?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("ceiling.db").display()
                );
                (url, None, Some(dir))
            }
            Backend::Postgres => {
                let database = PgDatabase::create(postgres_admin, "ceiling").await?;
                (database.url().to_owned(), Some(database), None)
            }
        };
        let db = cloverleaf_service_kit::db::connect(&SecretString::from(url), max_connections)
            .await
            .context("opening the ceiling's database")?;
        let backend = db.get_database_backend();
        db.execute(&Schema::new(backend).create_table_from_entity(row::Entity))
            .await
            .context("creating the ceiling's table")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let router = Router::new()
            .route("/v1/registrations", post(insert))
            .with_state(db.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self {
            url: format!("http://{addr}"),
            db,
            stop: Some(stop),
            server,
            database,
            _dir: dir,
        })
    }

    /// Rows in the table (to check that every 201 was a row).
    pub async fn rows(&self) -> anyhow::Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(row::Entity::find().count(&self.db).await?)
    }

    /// Stops the server, closes the pool, drops the PostgreSQL database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await??;
        self.db.clone().close().await?;
        if let Some(database) = self.database.take() {
            database.drop_now().await?;
        }
        Ok(())
    }
}
