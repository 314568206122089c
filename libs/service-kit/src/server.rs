//! Putting a service together: its API routes plus the routes every service has (`/healthz`, `/readyz`,
//! `/metrics`, `/openapi.json`, `/docs`), behind the same layers (request id and logging, metrics, timeout, body
//! limit, panics turned into problem+json); then serving it until shutdown, finishing in-flight requests and waiting
//! for background tasks.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::OpenApi;

use crate::Problem;
use crate::config::{HttpSettings, ServiceName};
use crate::health::{self, Readiness};
use crate::metrics::{self, Metrics};
use crate::observe::{self, ObserveState};

/// What a service hands over to be served.
pub struct ServiceParts {
    pub name: ServiceName,
    /// The service's own routes, with their state applied.
    pub api: Router,
    pub openapi: OpenApi,
    pub readiness: Readiness,
    pub metrics: Metrics,
    pub http: HttpSettings,
    /// Background jobs the service spawned on this tracker; they must stop when `shutdown` is cancelled.
    pub tasks: TaskTracker,
    pub shutdown: CancellationToken,
}

/// A service ready to be bound to an address — one of the three, or anything else served the same way (the portal,
/// through [`Service::new`]).
pub struct Service {
    /// The name in logs and errors.
    name: &'static str,
    router: Router,
    tasks: TaskTracker,
    shutdown: CancellationToken,
    grace: Duration,
}

impl ServiceParts {
    pub fn into_service(self) -> Service {
        let timeout = Duration::from_secs(self.http.request_timeout_secs);
        let platform = Router::new()
            .route("/healthz", get(health::healthz))
            .merge(
                Router::new()
                    .route("/readyz", get(health::readyz))
                    .with_state(self.readiness),
            )
            .merge(
                Router::new()
                    .route("/metrics", get(metrics::handler))
                    .with_state(self.metrics.clone()),
            )
            .merge(crate::docs::router(self.name, self.openapi));
        let router = self
            .api
            .merge(platform)
            .fallback(|| async { Problem::not_found("This path") })
            .method_not_allowed_fallback(|| async {
                Problem::new(
                    axum::http::StatusCode::METHOD_NOT_ALLOWED,
                    "method-not-allowed",
                    "Method not allowed",
                )
            })
            .layer(middleware::from_fn(move |request: Request, next: Next| {
                request_timeout(timeout, request, next)
            }))
            .layer(DefaultBodyLimit::max(self.http.body_limit_bytes))
            .layer(middleware::from_fn(crate::extract::refuse_nul))
            .layer(CatchPanicLayer::custom(|_| {
                tracing::error!("a handler panicked");
                Problem::internal().into_response()
            }))
            .layer(middleware::from_fn_with_state(
                ObserveState {
                    service: self.name.as_str(),
                    metrics: self.metrics,
                },
                observe::middleware,
            ));
        Service {
            name: self.name.as_str(),
            router,
            tasks: self.tasks,
            shutdown: self.shutdown,
            grace: Duration::from_secs(self.http.shutdown_grace_secs),
        }
    }
}

async fn request_timeout(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::unavailable("the request took too long", 1).into_response(),
    }
}

impl Service {
    /// A router served with the same lifecycle as the services (bind, serve, stop within `grace`, then wait for the
    /// background tasks on `tasks`), for a server that builds its own router and layers: the portal.
    pub fn new(
        name: &'static str,
        router: Router,
        tasks: TaskTracker,
        shutdown: CancellationToken,
        grace: Duration,
    ) -> Self {
        Self {
            name,
            router,
            tasks,
            shutdown,
            grace,
        }
    }

    /// The name in logs and errors (a [`ServiceName`]'s, or the one given to [`Service::new`]).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The whole router, for tests that call it without a socket.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Binds `addr` (port 0 picks a free port) and starts serving.
    pub async fn bind(self, addr: &str) -> std::io::Result<RunningService> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(self.serve(listener))
    }

    pub fn serve(self, listener: tokio::net::TcpListener) -> RunningService {
        let local_addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let stop = self.shutdown.clone();
        let name = self.name;
        let server = tokio::spawn(async move {
            tracing::info!(service = name, %local_addr, "listening");
            axum::serve(
                listener,
                self.router
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
        });
        RunningService {
            name,
            local_addr,
            server,
            shutdown: self.shutdown,
            tasks: self.tasks,
            grace: self.grace,
        }
    }
}

/// A service that is serving.
pub struct RunningService {
    name: &'static str,
    local_addr: SocketAddr,
    server: JoinHandle<std::io::Result<()>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    grace: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum StopError {
    #[error("{0}: requests or background tasks still running after the grace period")]
    Timeout(&'static str),
    #[error("{0}: server failed: {1}")]
    Server(&'static str, String),
}

impl RunningService {
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Cancelling this token stops the service (and its background tasks).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish and background tasks stop, within the grace
    /// period.
    pub async fn stop(self) -> Result<(), StopError> {
        self.shutdown.cancel();
        self.stopped().await
    }

    /// Waits until the service has stopped (after its token was cancelled elsewhere).
    pub async fn stopped(self) -> Result<(), StopError> {
        let name = self.name;
        self.shutdown.cancelled().await;
        self.tasks.close();
        let everything = async {
            let served = self.server.await;
            self.tasks.wait().await;
            served
        };
        match tokio::time::timeout(self.grace, everything).await {
            Err(_) => Err(StopError::Timeout(name)),
            Ok(Ok(Ok(()))) => {
                tracing::info!(service = name, "stopped");
                Ok(())
            }
            Ok(Ok(Err(error))) => Err(StopError::Server(name, error.to_string())),
            Ok(Err(join)) => Err(StopError::Server(name, join.to_string())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
    #[error("migrations: {0}")]
    Migrations(#[from] sea_orm::DbErr),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("auth: {0}")]
    Auth(#[from] crate::auth::AuthSetupError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}: {1}")]
    Bind(String, std::io::Error),
}

/// What every service opens first: its database (migrated when `migrate_on_start`), its metrics registry, and the
/// readiness check over both; [`ServiceBase::into_service`] then adds the service's routes. A service that writes
/// domain events also calls [`ServiceBase::start_outbox_relay`] (defined in [`crate::outbox::relay`]).
pub struct ServiceBase {
    pub name: ServiceName,
    pub settings: crate::Settings,
    pub db: sea_orm::DatabaseConnection,
    pub metrics: Metrics,
    pub tasks: TaskTracker,
    pub shutdown: CancellationToken,
    readiness: Readiness,
}

impl ServiceBase {
    pub async fn open<M: sea_orm_migration::MigratorTrait>(
        settings: crate::Settings,
        name: ServiceName,
    ) -> Result<Self, StartupError> {
        let service = settings.service(name);
        let db = crate::db::connect(&settings.database_url(name), service.max_connections).await?;
        if service.migrate_on_start {
            crate::db::migrate::<M>(&db).await?;
        }
        tracing::info!(
            service = name.as_str(),
            database = crate::db::backend_name(&db),
            "database open"
        );
        Ok(Self {
            name,
            metrics: Metrics::new(name.as_str())?,
            readiness: Readiness::database::<M>(db.clone()),
            db,
            settings,
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        })
    }

    pub fn into_service(self, api: Router, openapi: OpenApi) -> Service {
        ServiceParts {
            name: self.name,
            api,
            openapi,
            readiness: self.readiness,
            metrics: self.metrics,
            http: self.settings.http.clone(),
            tasks: self.tasks,
            shutdown: self.shutdown,
        }
        .into_service()
    }
}

/// The whole `main` of a service binary: read settings, start logging, build, serve on the configured address until
/// SIGTERM or Ctrl-C, stop gracefully. Exit code 0 after a clean stop.
pub fn main<F, Fut, E>(name: ServiceName, build: F) -> std::process::ExitCode
where
    F: FnOnce(crate::Settings) -> Fut,
    Fut: std::future::Future<Output = Result<Service, E>>,
    E: std::fmt::Display,
{
    main_on(
        name.as_str(),
        |settings| settings.service(name).listen.clone(),
        build,
    )
}

/// [`main`] for a server that is not one of the three services (the portal): `listen` picks its address from the
/// settings.
pub fn main_on<L, F, Fut, E>(name: &'static str, listen: L, build: F) -> std::process::ExitCode
where
    L: FnOnce(&crate::Settings) -> String,
    F: FnOnce(crate::Settings) -> Fut,
    Fut: std::future::Future<Output = Result<Service, E>>,
    E: std::fmt::Display,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = runtime.block_on(async move {
        let settings = crate::Settings::load().map_err(|e| e.to_string())?;
        crate::telemetry::init(&settings.telemetry);
        let listen = listen(&settings);
        let service = build(settings).await.map_err(|e| e.to_string())?;
        let running = service
            .bind(&listen)
            .await
            .map_err(|e| format!("{listen}: {e}"))?;
        let token = running.shutdown_token();
        tokio::select! {
            () = crate::shutdown::signal() => token.cancel(),
            () = token.cancelled() => {}
        }
        running.stopped().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "stopped with an error");
            eprintln!("{name}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The answer to an error that is not the caller's fault (database, stored data, setup): the cause goes to the log,
/// never to the caller, who gets a bare 500 problem. Every service's error type answers its non-problem variants so.
pub fn internal_error(cause: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "request failed");
    Problem::internal().into_response()
}
