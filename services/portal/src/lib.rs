//! The portal: server-rendered pages for participants and organisers. It owns no data: every page calls
//! registration, scheduling and notifications over HTTP with the visitor's own credential. The edge serves it at
//! every path that is not `/v1/…`, `/.well-known/…` or `/services/…`.
//!
//! [`build`] makes the whole portal from settings — catalogs, templates, routes — so the binary, `cloverleaf serve`
//! and the tests start the same thing. Layout: `http/` (pages), `domain/` (rules: agendas, forms, times, calendar
//! links), [`backend`] (calls to the services), [`i18n`] (languages and the message catalogs in `locales/`),
//! [`render`] (the templates in `templates/`); CSS and JavaScript are in `static/`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::metrics::Metrics;
use cloverleaf_service_kit::observe::{self, ObserveState};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;

pub mod backend;
pub mod domain;
pub mod error;
pub mod http;
pub mod i18n;
pub mod render;

pub use error::Error;

/// The name in logs, metrics and `/services/portal/…` at the edge.
pub const NAME: &str = "portal";

/// The portal, ready to be bound to an address.
pub struct Portal {
    router: Router,
    shutdown: CancellationToken,
    grace: Duration,
}

/// Builds the portal: message catalogs and templates (checked now, not on a visitor's request), the clients of the
/// three services at their configured URLs, and every page behind the request-id/logging/metrics middleware.
pub fn build(settings: &Settings) -> Result<Portal, Error> {
    let catalog = Arc::new(i18n::Catalog::load()?);
    let countries = Arc::new(domain::countries::Countries::load()?);
    let pages = Arc::new(render::Renderer::new(catalog.clone())?);
    let state = http::AppState {
        backends: backend::Backends::from_settings(settings),
        pages,
        catalog,
        countries,
        public_url: settings.public_url.trim_end_matches('/').to_owned(),
        trusted_proxies: settings.http.trusted_proxies(),
    };
    let metrics = Metrics::new(NAME).map_err(|e| Error::Metrics(e.to_string()))?;
    let timeout = Duration::from_secs(settings.http.request_timeout_secs.max(1));
    let pages =
        http::router(state).layer(middleware::from_fn(move |request: Request, next: Next| {
            request_timeout(timeout, request, next)
        }));
    let router = Router::new()
        .route("/healthz", get(cloverleaf_service_kit::health::healthz))
        .route("/readyz", get(cloverleaf_service_kit::health::healthz))
        .merge(
            Router::new()
                .route("/metrics", get(cloverleaf_service_kit::metrics::handler))
                .with_state(metrics.clone()),
        )
        // The public API docs (the three services' documents at /openapi/<service>.json), for an Ingress that sends
        // every other path here; behind `cloverleaf edge` the edge serves this page itself.
        .merge(cloverleaf_service_kit::docs::public_router())
        .merge(pages)
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a page panicked");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
                .into_response()
        }))
        .layer(middleware::from_fn_with_state(
            ObserveState {
                service: NAME,
                metrics,
            },
            observe::middleware,
        ));
    Ok(Portal {
        router,
        shutdown: CancellationToken::new(),
        grace: Duration::from_secs(settings.http.shutdown_grace_secs),
    })
}

/// A page that takes too long is the 503 page (the page middleware renders it).
async fn request_timeout(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::Unavailable {
            service: NAME,
            reason: "the page took too long".to_owned(),
        }
        .into_response(),
    }
}

impl Portal {
    /// The whole router, for tests that call it without a socket.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Binds `addr` (port 0 picks a free port) and starts serving.
    pub async fn bind(self, addr: &str) -> std::io::Result<RunningPortal> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(self.serve(listener))
    }

    pub fn serve(self, listener: tokio::net::TcpListener) -> RunningPortal {
        let local_addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let stop = self.shutdown.clone();
        let server = tokio::spawn(async move {
            tracing::info!(service = NAME, %local_addr, "listening");
            axum::serve(
                listener,
                self.router
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
        });
        RunningPortal {
            local_addr,
            server,
            shutdown: self.shutdown,
            grace: self.grace,
        }
    }
}

/// The portal serving.
pub struct RunningPortal {
    local_addr: SocketAddr,
    server: JoinHandle<std::io::Result<()>>,
    shutdown: CancellationToken,
    grace: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum StopError {
    #[error("portal: requests still running after the grace period")]
    Timeout,
    #[error("portal: server failed: {0}")]
    Server(String),
}

impl RunningPortal {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Cancelling this token stops the portal.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting connections and lets in-flight requests finish, within the grace period.
    pub async fn stop(self) -> Result<(), StopError> {
        self.shutdown.cancel();
        self.stopped().await
    }

    /// Waits until the portal has stopped (after its token was cancelled elsewhere).
    pub async fn stopped(self) -> Result<(), StopError> {
        self.shutdown.cancelled().await;
        match tokio::time::timeout(self.grace, self.server).await {
            Err(_) => Err(StopError::Timeout),
            Ok(Ok(Ok(()))) => {
                tracing::info!(service = NAME, "stopped");
                Ok(())
            }
            Ok(Ok(Err(error))) => Err(StopError::Server(error.to_string())),
            Ok(Err(join)) => Err(StopError::Server(join.to_string())),
        }
    }
}

/// The whole `main` of the portal binary (and `cloverleaf service portal`): read settings, start logging, build,
/// serve on `portal.listen` until SIGTERM or Ctrl-C, stop gracefully. Exit code 0 after a clean stop.
pub fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = runtime.block_on(async move {
        let settings = Settings::load().map_err(|e| e.to_string())?;
        cloverleaf_service_kit::telemetry::init(&settings.telemetry);
        let listen = settings.portal.listen.clone();
        let portal = build(&settings).map_err(|e| e.to_string())?;
        let running = portal
            .bind(&listen)
            .await
            .map_err(|e| format!("{listen}: {e}"))?;
        let token = running.shutdown_token();
        tokio::select! {
            () = cloverleaf_service_kit::shutdown::signal() => token.cancel(),
            () = token.cancelled() => {}
        }
        running.stopped().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "stopped with an error");
            eprintln!("{NAME}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
