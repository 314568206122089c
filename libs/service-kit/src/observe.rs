//! The middleware every request passes first: it takes the caller's `x-request-id` (or makes one), runs the request
//! inside a span that carries it with the service name — so every log line of the request shows both — logs one line
//! when the answer is ready, counts it in the metrics, and echoes the id in the response.
//!
//! The id is also kept in a task-local, so calls this request makes to other services carry it on (see [`crate::client`]).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::metrics::Metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being handled by the current task, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// Runs `future` as part of the request `id` (for background work done on a request's behalf).
pub async fn with_request_id<F: std::future::Future>(id: String, future: F) -> F::Output {
    CURRENT_REQUEST_ID.scope(id, future).await
}

/// A request id from a header, if it is sane: printable ASCII, at most 128 characters. Anything else is replaced,
/// so a caller cannot smuggle log-breaking text into every line.
pub fn accept_request_id(value: Option<&HeaderValue>) -> Option<String> {
    let text = value?.to_str().ok()?;
    let ok = !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| text.to_owned())
}

pub fn new_request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[derive(Clone, Debug)]
pub struct ObserveState {
    pub service: &'static str,
    pub metrics: Metrics,
}

pub async fn middleware(
    State(state): State<ObserveState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = accept_request_id(request.headers().get(&REQUEST_ID)).unwrap_or_else(new_request_id);
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // The route template, not the path, keeps the metrics' label set small.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());

    let span = tracing::info_span!("request", service = state.service, request_id = %id, method = %method, path = %path);
    let mut response = CURRENT_REQUEST_ID
        .scope(id.clone(), next.run(request).instrument(span.clone()))
        .await;

    let status = response.status();
    let elapsed = started.elapsed();
    let route = route.as_deref().unwrap_or("unmatched");
    state
        .metrics
        .http_requests
        .with_label_values(&[method.as_str(), route, status.as_str()])
        .inc();
    state
        .metrics
        .http_duration
        .with_label_values(&[method.as_str(), route])
        .observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        let millis = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0;
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), elapsed_ms = millis, "answered");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms = millis, "answered");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}
