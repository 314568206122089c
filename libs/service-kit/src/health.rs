//! `/healthz`: the process answers. `/readyz`: it can do its work — the database answers and every migration is
//! applied — so a load balancer sends traffic only to replicas that can serve it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use serde_json::json;

use crate::Problem;

type Check = dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync;

/// What `/readyz` checks.
#[derive(Clone)]
pub struct Readiness {
    check: Arc<Check>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness").finish_non_exhaustive()
    }
}

impl Readiness {
    /// Ready when `db` answers and has no pending migrations of `M`.
    pub fn database<M: MigratorTrait>(db: DatabaseConnection) -> Self {
        Self {
            check: Arc::new(move || {
                let db = db.clone();
                Box::pin(async move {
                    crate::db::ping(&db)
                        .await
                        .map_err(|e| format!("database unreachable: {e}"))?;
                    match crate::db::pending_migrations::<M>(&db).await {
                        Ok(0) => Ok(()),
                        Ok(n) => Err(format!("{n} migrations pending")),
                        Err(e) => Err(format!("migrations unknown: {e}")),
                    }
                })
            }),
        }
    }

    /// Ready when every check is.
    pub fn all(checks: Vec<Readiness>) -> Self {
        Self {
            check: Arc::new(move || {
                let checks = checks.clone();
                Box::pin(async move {
                    for check in checks {
                        (check.check)().await?;
                    }
                    Ok(())
                })
            }),
        }
    }

    pub fn custom<F, Fut>(check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            check: Arc::new(move || Box::pin(check())),
        }
    }

    pub async fn check(&self) -> Result<(), String> {
        (self.check)().await
    }
}

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(readiness): State<Readiness>) -> Response {
    match readiness.check().await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            Problem::unavailable(reason, 1).into_response()
        }
    }
}
