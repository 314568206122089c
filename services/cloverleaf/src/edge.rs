//! The edge router: one port in front of the three services and the portal. It forwards `/v1/<collection>/…` to the
//! service that owns the collection (docs/architecture.md), `/.well-known/jwks.json` to registration and every other path to
//! the portal (the web pages), gives every request an `x-request-id` (keeping a sane one the caller sent) that the
//! services log and pass on, and streams bodies both ways. An unknown `/v1` collection stays a 404 problem; without
//! a portal configured, so does any other path.
//!
//! The public API docs: `/docs/` (Swagger UI compiled in) lists the three services' OpenAPI documents, each at
//! `/openapi/<service>.json` (forwarded to the service's `/openapi.json`).
//!
//! For operators only: the edge's `/metrics` and `/services/<name>/…` (a service's own root — its `/metrics`,
//! `/openapi.json`, `/docs/`; `portal` too) need `Authorization: Bearer <edge.operator_token>`, and are not served at
//! all while no token is configured. `/services/<name>/healthz` and `/readyz` stay open.
//!
//! The `X-Forwarded-For` sent on names the caller last: the caller's own address, or — from a proxy listed in
//! `edge.trusted_proxies` — the chain that proxy sent. A caller's own header is otherwise dropped, so it cannot choose
//! the address the services count their limits under.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::forwarded::{ForwardedFor, TrustedProxies};
use cloverleaf_service_kit::metrics::Metrics;
use cloverleaf_service_kit::observe::{self, ObserveState};
use cloverleaf_service_kit::{Problem, Settings};
use futures::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};

/// What the edge forwards to: one of the three services, or the portal (the web pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    Service(ServiceName),
    Portal,
}

impl Upstream {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Service(name) => name.as_str(),
            Self::Portal => "portal",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Service(ServiceName::Registration) => 0,
            Self::Service(ServiceName::Scheduling) => 1,
            Self::Service(ServiceName::Notifications) => 2,
            Self::Portal => 3,
        }
    }
}

impl From<ServiceName> for Upstream {
    fn from(name: ServiceName) -> Self {
        Self::Service(name)
    }
}

/// Where each service (and the portal) is reached: one or more instances, taken in turn.
#[derive(Debug, Clone)]
pub struct Upstreams {
    instances: [Vec<String>; 4],
    turn: Arc<[AtomicUsize; 4]>,
}

impl Upstreams {
    /// One instance per service, and no portal (paths outside `/v1` are 404 problems).
    pub fn new(registration: String, scheduling: String, notifications: String) -> Self {
        Self::with_instances([
            vec![registration],
            vec![scheduling],
            vec![notifications],
            Vec::new(),
        ])
    }

    /// The portal's instances (every path that is not an API's).
    pub fn with_portal(mut self, portal: Vec<String>) -> Self {
        self.instances[Upstream::Portal.index()] = clean(portal);
        self
    }

    fn with_instances(instances: [Vec<String>; 4]) -> Self {
        Self {
            instances: instances.map(clean),
            turn: Arc::new([
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            ]),
        }
    }

    /// Every instance of `upstream`, starting with the one whose turn it is.
    fn candidates(&self, upstream: Upstream) -> Vec<&str> {
        let all = &self.instances[upstream.index()];
        if all.is_empty() {
            return Vec::new();
        }
        let start = self.turn[upstream.index()].fetch_add(1, Ordering::Relaxed) % all.len();
        all.iter()
            .cycle()
            .skip(start)
            .take(all.len())
            .map(String::as_str)
            .collect()
    }

    fn all(&self, upstream: Upstream) -> &[String] {
        &self.instances[upstream.index()]
    }
}

fn clean(urls: Vec<String>) -> Vec<String> {
    urls.into_iter()
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty())
        .collect()
}

/// The service that owns a top-level collection under `/v1`.
pub fn owner_of(collection: &str) -> Option<ServiceName> {
    // `events.ics` is the feed of all events: still scheduling's.
    let collection = collection.split('.').next().unwrap_or(collection);
    match collection {
        "events" | "people" | "venues" => Some(ServiceName::Scheduling),
        "auth" | "accounts" | "teams" | "audit" | "check-ins" | "forms" | "registrations" => {
            Some(ServiceName::Registration)
        }
        "inbox" | "messages" | "reminders" => Some(ServiceName::Notifications),
        _ => None,
    }
}

fn upstream_named(name: &str) -> Option<Upstream> {
    if name == "portal" {
        return Some(Upstream::Portal);
    }
    ServiceName::ALL
        .into_iter()
        .find(|s| s.as_str() == name)
        .map(Upstream::Service)
}

impl Upstreams {
    /// The services at the URLs the settings give them: `edge.<service>_instances` when set, else `<service>.url`;
    /// the portal likewise (`edge.portal_instances`, else `portal.url`).
    pub fn from_settings(settings: &Settings) -> Self {
        let [registration, scheduling, notifications] = ServiceName::ALL.map(|name| {
            let listed = settings.edge.instances(name);
            if listed.is_empty() {
                vec![settings.service_url(name)]
            } else {
                listed.to_vec()
            }
        });
        let portal = if settings.edge.portal_instances.is_empty() {
            vec![settings.portal_url()]
        } else {
            settings.edge.portal_instances.clone()
        };
        Self::with_instances([registration, scheduling, notifications, portal])
    }
}

/// The edge's metrics registry could not be made.
#[derive(Debug, thiserror::Error)]
#[error("edge metrics: {0}")]
pub struct EdgeSetupError(String);

/// The edge router in front of the services named in `settings`, with its own metrics.
pub fn router_from_settings(settings: &Settings) -> Result<Router, EdgeSetupError> {
    let metrics = Metrics::new("edge").map_err(|e| EdgeSetupError(e.to_string()))?;
    let timeout = Duration::from_secs(settings.http.request_timeout_secs);
    Ok(router_with(
        Upstreams::from_settings(settings),
        timeout,
        settings.http.body_limit_bytes,
        metrics,
        Access::from_settings(settings),
    ))
}

/// Who the edge believes and lets in: the proxies in front of it, and the operator credential.
#[derive(Clone, Default)]
pub struct Access {
    /// Proxies whose `X-Forwarded-For` the edge passes on (`edge.trusted_proxies`).
    pub trusted_proxies: TrustedProxies,
    /// `edge.operator_token`; `None`: the operator paths are not served.
    pub operator_token: Option<SecretString>,
}

impl Access {
    pub fn from_settings(settings: &Settings) -> Self {
        let token = settings.edge.operator_token.expose_secret().trim();
        Self {
            trusted_proxies: settings.edge.trusted_proxies(),
            operator_token: (!token.is_empty()).then(|| SecretString::from(token.to_owned())),
        }
    }

    /// `None` when the request may reach an operator path; else the answer: 404 while no token is configured, 401
    /// without the right one.
    fn refuse_operator(&self, headers: &HeaderMap) -> Option<Response> {
        let Some(expected) = &self.operator_token else {
            return Some(Problem::not_found("This path").into_response());
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match given {
            Some(given) if same_secret(given, expected.expose_secret()) => None,
            _ => Some(
                Problem::unauthorized("this path is for operators: send the operator token")
                    .with_header(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer realm=\"operator\""),
                    )
                    .into_response(),
            ),
        }
    }
}

/// Compares without stopping at the first difference, so the time taken does not tell how much of a guess is right.
fn same_secret(given: &str, expected: &str) -> bool {
    let (given, expected) = (given.as_bytes(), expected.as_bytes());
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0_u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[derive(Clone)]
struct Edge {
    upstreams: Upstreams,
    client: reqwest::Client,
    /// Request bodies are read whole (so one can be sent to the next instance); larger ones get 413.
    body_limit: usize,
    access: Access,
    metrics: Metrics,
}

impl FromRef<Edge> for TrustedProxies {
    fn from_ref(edge: &Edge) -> Self {
        edge.access.trusted_proxies.clone()
    }
}

/// [`router_with`] trusting no proxy in front and serving no operator paths.
pub fn router(
    upstreams: Upstreams,
    request_timeout: Duration,
    body_limit: usize,
    metrics: Metrics,
) -> Router {
    router_with(
        upstreams,
        request_timeout,
        body_limit,
        metrics,
        Access::default(),
    )
}

pub fn router_with(
    upstreams: Upstreams,
    request_timeout: Duration,
    body_limit: usize,
    metrics: Metrics,
    access: Access,
) -> Router {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(request_timeout)
        .connect_timeout(Duration::from_secs(2))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new());
    let edge = Edge {
        upstreams,
        client,
        body_limit,
        access,
        metrics: metrics.clone(),
    };
    Router::new()
        .route("/healthz", get(cloverleaf_service_kit::health::healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(operator_metrics))
        .route("/v1/{collection}", any(forward_collection))
        .route("/v1/{collection}/{*rest}", any(forward_collection))
        .route("/.well-known/jwks.json", any(forward_jwks))
        .route("/openapi/{document}", get(forward_openapi))
        .route("/services/{service}/{*rest}", any(forward_service))
        .fallback(forward_portal)
        .with_state(edge)
        .merge(cloverleaf_service_kit::docs::public_router())
        .layer(axum::middleware::from_fn_with_state(
            ObserveState {
                service: "edge",
                metrics,
            },
            observe::middleware,
        ))
}

async fn forward_collection(
    State(edge): State<Edge>,
    Path(params): Path<Vec<(String, String)>>,
    ForwardedFor(chain): ForwardedFor,
    request: Request,
) -> Response {
    let collection = params.first().map(|(_, v)| v.as_str()).unwrap_or_default();
    match owner_of(collection) {
        Some(service) => {
            let path = path_and_query(request.uri());
            forward(&edge, service.into(), &path, chain, request).await
        }
        None => Problem::not_found("This collection")
            .with_detail(format!("no service owns /v1/{collection}"))
            .into_response(),
    }
}

/// The edge's own metrics, for operators.
async fn operator_metrics(State(edge): State<Edge>, headers: HeaderMap) -> Response {
    if let Some(refused) = edge.access.refuse_operator(&headers) {
        return refused;
    }
    cloverleaf_service_kit::metrics::handler(State(edge.metrics)).await
}

/// `/openapi/<service>.json`: a service's OpenAPI document, for the edge's `/docs/`.
async fn forward_openapi(
    State(edge): State<Edge>,
    Path(document): Path<String>,
    ForwardedFor(chain): ForwardedFor,
    request: Request,
) -> Response {
    let service = document
        .strip_suffix(".json")
        .and_then(|name| name.parse::<ServiceName>().ok());
    match service {
        Some(service) => forward(&edge, service.into(), "/openapi.json", chain, request).await,
        None => Problem::not_found("This API document")
            .with_detail("the documents are /openapi/registration.json, /openapi/scheduling.json and /openapi/notifications.json")
            .into_response(),
    }
}

async fn forward_jwks(
    State(edge): State<Edge>,
    ForwardedFor(chain): ForwardedFor,
    request: Request,
) -> Response {
    let path = path_and_query(request.uri());
    forward(
        &edge,
        ServiceName::Registration.into(),
        &path,
        chain,
        request,
    )
    .await
}

/// Every path that is not an API's: the portal's pages (a 404 problem when no portal is configured).
async fn forward_portal(
    State(edge): State<Edge>,
    ForwardedFor(chain): ForwardedFor,
    request: Request,
) -> Response {
    if edge.upstreams.all(Upstream::Portal).is_empty() {
        return Problem::not_found("This path").into_response();
    }
    let path = path_and_query(request.uri());
    forward(&edge, Upstream::Portal, &path, chain, request).await
}

async fn forward_service(
    State(edge): State<Edge>,
    Path((service, rest)): Path<(String, String)>,
    ForwardedFor(chain): ForwardedFor,
    request: Request,
) -> Response {
    // Liveness and readiness stay open (they tell nothing but "up"); everything else there is for operators.
    if !matches!(rest.as_str(), "healthz" | "readyz")
        && let Some(refused) = edge.access.refuse_operator(request.headers())
    {
        return refused;
    }
    let Some(service) = upstream_named(&service) else {
        return Problem::not_found("This service").into_response();
    };
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    forward(&edge, service, &format!("/{rest}{query}"), chain, request).await
}

fn path_and_query(uri: &Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned())
}

/// Headers that describe one connection, not the message; never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !HOP_BY_HOP.contains(name) && name != header::HOST && name != header::UPGRADE {
            to.append(name.clone(), value.clone());
        }
    }
}

async fn forward(
    edge: &Edge,
    service: Upstream,
    path: &str,
    forwarded_for: Option<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, edge.body_limit).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The request body is too large",
        )
        .with_detail(format!("at most {} bytes", edge.body_limit))
        .into_response();
    };
    let mut headers = HeaderMap::new();
    copy_headers(&parts.headers, &mut headers);
    headers.remove("x-forwarded-for");
    if let Some(chain) = forwarded_for
        && let Ok(value) = HeaderValue::from_str(&chain)
    {
        headers.insert("x-forwarded-for", value);
    }
    if let Some(host) = parts.headers.get(header::HOST) {
        headers.insert("x-forwarded-host", host.clone());
    }
    // An instance that refuses the connection has seen nothing of the request: the next one may take it, whatever
    // the method. Any other failure is answered as it is (the request may have been acted on).
    let mut upstream = None;
    for base in edge.upstreams.candidates(service) {
        let sent = edge
            .client
            .request(parts.method.clone(), format!("{base}{path}"))
            .headers(headers.clone())
            .body(body.clone())
            .send()
            .await;
        let refused = matches!(&sent, Err(error) if error.is_connect());
        upstream = Some(sent);
        if !refused {
            break;
        }
        tracing::warn!(
            service = service.as_str(),
            instance = base,
            "instance refused the connection; trying the next"
        );
    }
    let Some(upstream) = upstream else {
        return Problem::internal().into_response();
    };
    match upstream {
        Ok(answer) => {
            let mut response = Response::builder().status(answer.status());
            if let Some(out) = response.headers_mut() {
                copy_headers(answer.headers(), out);
            }
            let stream = answer.bytes_stream().map_err(std::io::Error::other);
            response
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| Problem::internal().into_response())
        }
        Err(error) if error.is_timeout() => {
            tracing::warn!(service = service.as_str(), %error, "upstream timed out");
            Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream-timeout",
                "The service took too long",
            )
            .with_detail(format!("{} did not answer in time", service.as_str()))
            .into_response()
        }
        Err(error) => {
            tracing::warn!(service = service.as_str(), %error, "upstream unreachable");
            Problem::new(
                StatusCode::BAD_GATEWAY,
                "upstream-unreachable",
                "The service is unreachable",
            )
            .with_detail(format!("{} could not be reached", service.as_str()))
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("2"))
            .into_response()
        }
    }
}

/// Ready when every service is.
async fn readyz(State(edge): State<Edge>) -> Response {
    let mut not_ready = Vec::new();
    // Ready when every service has at least one ready instance. (Not the portal: the API works without it, and
    // `cloverleaf edge` in front of services alone is ready without one.)
    for service in ServiceName::ALL {
        let mut ready = false;
        for base in edge.upstreams.all(service.into()) {
            let mut request = edge
                .client
                .get(format!("{base}/readyz"))
                .timeout(Duration::from_secs(2));
            if let Some(id) = observe::current_request_id() {
                request = request.header(observe::REQUEST_ID, id);
            }
            if request.send().await.is_ok_and(|r| r.status().is_success()) {
                ready = true;
                break;
            }
        }
        if !ready {
            not_ready.push(service.as_str());
        }
    }
    if not_ready.is_empty() {
        axum::Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        Problem::unavailable(format!("not ready: {}", not_ready.join(", ")), 1).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_route_to_their_owners() {
        assert_eq!(owner_of("events"), Some(ServiceName::Scheduling));
        assert_eq!(owner_of("events.ics"), Some(ServiceName::Scheduling));
        assert_eq!(owner_of("people"), Some(ServiceName::Scheduling));
        assert_eq!(owner_of("venues"), Some(ServiceName::Scheduling));
        assert_eq!(owner_of("auth"), Some(ServiceName::Registration));
        assert_eq!(owner_of("accounts"), Some(ServiceName::Registration));
        assert_eq!(owner_of("teams"), Some(ServiceName::Registration));
        assert_eq!(owner_of("audit"), Some(ServiceName::Registration));
        assert_eq!(owner_of("check-ins"), Some(ServiceName::Registration));
        assert_eq!(owner_of("forms"), Some(ServiceName::Registration));
        assert_eq!(owner_of("registrations"), Some(ServiceName::Registration));
        assert_eq!(owner_of("inbox"), Some(ServiceName::Notifications));
        assert_eq!(owner_of("messages"), Some(ServiceName::Notifications));
        assert_eq!(owner_of("reminders"), Some(ServiceName::Notifications));
        assert_eq!(owner_of("secrets"), None);
    }

    #[test]
    fn operator_paths_need_the_configured_token() {
        let mut headers = HeaderMap::new();
        let closed = Access::default();
        assert_eq!(
            closed.refuse_operator(&headers).map(|r| r.status()),
            Some(StatusCode::NOT_FOUND)
        );
        let open = Access {
            operator_token: Some(SecretString::from("s3cret-token".to_owned())),
            ..Access::default()
        };
        assert_eq!(
            open.refuse_operator(&headers).map(|r| r.status()),
            Some(StatusCode::UNAUTHORIZED)
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret-tokem"),
        );
        assert!(open.refuse_operator(&headers).is_some());
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret-token"),
        );
        assert!(open.refuse_operator(&headers).is_none());
    }
}
