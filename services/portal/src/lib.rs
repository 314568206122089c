//! The portal: server-rendered pages for participants and organisers. It owns no data: every page calls
//! registration, scheduling and notifications over HTTP with the visitor's own credential. The edge serves it at
//! every path that is not `/v1/…`, `/.well-known/…` or `/services/…`.
//!
//! [`build`] makes the whole portal from settings — catalogs, templates, routes — so the binary, `cloverleaf serve`
//! and the tests start the same thing. Layout: `http/` (pages), `domain/` (rules: agendas, forms, times, calendar
//! links), [`backend`] (calls to the services), [`i18n`] (languages and the message catalogs in `locales/`),
//! [`render`] (the templates in `templates/`); CSS and JavaScript are in `static/`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cloverleaf_service_kit::metrics::Metrics;
use cloverleaf_service_kit::observe::{self, ObserveState};
use cloverleaf_service_kit::{RunningService, Service, Settings};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
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

/// The portal, ready to be bound to an address: served, and stopped within `http.shutdown_grace_secs`, with the
/// same lifecycle as the services (the kit's [`Service`]).
pub type Portal = Service;

/// The portal serving.
pub type RunningPortal = RunningService;

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
        logins: Arc::new(http::oidc::Logins::from_settings(settings)?),
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
    Ok(Service::new(
        NAME,
        router,
        TaskTracker::new(),
        CancellationToken::new(),
        Duration::from_secs(settings.http.shutdown_grace_secs),
    ))
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

/// The whole `main` of the portal binary (and `cloverleaf service portal`): read settings, start logging, build,
/// serve on `portal.listen` until SIGTERM or Ctrl-C, stop gracefully. Exit code 0 after a clean stop.
pub fn main() -> std::process::ExitCode {
    cloverleaf_service_kit::server::main_on(
        NAME,
        |settings| settings.portal.listen.clone(),
        |settings| async move { build(&settings) },
    )
}
