//! The edge router against a stand-in upstream that echoes what it received: methods, bodies, query strings and
//! headers arrive intact, hop-by-hop headers do not, and an unreachable service is a 502 problem, not a hang.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::any;
use cloverleaf::edge::{Access, Upstreams, router, router_with};
use cloverleaf_service_kit::forwarded::TrustedProxies;
use cloverleaf_service_kit::metrics::Metrics;

async fn echo_upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let served_by = url.clone();
    let app = Router::new().fallback(any(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let served_by = served_by.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                axum::Json(serde_json::json!({
                    "method": method.as_str(),
                    "uri": uri.to_string(),
                    "body": String::from_utf8_lossy(&body),
                    "request_id": header("x-request-id"),
                    "authorization": header("authorization"),
                    "forwarded_for": header("x-forwarded-for"),
                    "connection": header("connection"),
                    "served_by": served_by,
                }))
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    url
}

async fn edge(upstreams: Upstreams) -> String {
    serve_edge(router(
        upstreams,
        Duration::from_secs(5),
        1 << 20,
        Metrics::new("edge").expect("metrics"),
    ))
    .await
}

async fn serve_edge(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve")
    });
    url
}

fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    format!("http://{}", listener.local_addr().expect("addr"))
}

/// Catches a caller choosing the address the services count it under (issue 16.6): the edge passed the caller's own
/// X-Forwarded-For on ahead of the caller's address. It names only the caller — unless the caller is a proxy listed
/// in `edge.trusted_proxies`, whose chain (ending with its client) goes on as it came.
#[tokio::test]
async fn the_edge_passes_on_only_the_callers_address_unless_the_caller_is_a_trusted_proxy() {
    let registration = echo_upstream().await;
    let forwarded = |edge: String| async move {
        let seen: serde_json::Value = reqwest::Client::new()
            .post(format!("{edge}/v1/registrations"))
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        seen["forwarded_for"].as_str().expect("header").to_owned()
    };
    let untrusting = edge(Upstreams::new(registration.clone(), dead_url(), dead_url())).await;
    assert_eq!(forwarded(untrusting).await, "127.0.0.1");
    let behind_a_proxy = serve_edge(router_with(
        Upstreams::new(registration, dead_url(), dead_url()),
        Duration::from_secs(5),
        1 << 20,
        Metrics::new("edge").expect("metrics"),
        Access {
            trusted_proxies: TrustedProxies::parse(&["127.0.0.1".to_owned()]).expect("proxies"),
            operator_token: None,
        },
    ))
    .await;
    assert_eq!(forwarded(behind_a_proxy).await, "198.51.100.1, 203.0.113.9");
}

#[tokio::test]
async fn requests_are_forwarded_whole_to_the_owner() {
    let (registration, scheduling) = (echo_upstream().await, echo_upstream().await);
    let edge = edge(Upstreams::new(registration, scheduling, dead_url())).await;
    let http = reqwest::Client::new();

    let seen: serde_json::Value = http
        .post(format!("{edge}/v1/registrations?event_id=42"))
        .header("authorization", "Bearer t0ken")
        .header("x-request-id", "abc")
        .header("content-type", "application/json")
        .body(r#"{"name":"张伟"}"#)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["uri"], "/v1/registrations?event_id=42");
    assert_eq!(seen["body"], r#"{"name":"张伟"}"#);
    assert_eq!(seen["authorization"], "Bearer t0ken");
    assert_eq!(seen["request_id"], "abc");
    assert_eq!(seen["forwarded_for"], "127.0.0.1");
    assert_eq!(
        seen["connection"], "",
        "hop-by-hop headers stay at the edge"
    );

    let seen: serde_json::Value = http
        .patch(format!("{edge}/v1/events/123/items/9"))
        .send()
        .await
        .expect("patch")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (seen["method"].as_str(), seen["uri"].as_str()),
        (Some("PATCH"), Some("/v1/events/123/items/9"))
    );
    assert!(
        !seen["request_id"].as_str().expect("id").is_empty(),
        "the edge made a request id"
    );

    let seen: serde_json::Value = http
        .get(format!("{edge}/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert_eq!(seen["uri"], "/.well-known/jwks.json");
}

#[tokio::test]
async fn an_unreachable_service_is_a_502_problem_and_the_edge_is_not_ready() {
    let edge = edge(Upstreams::new(dead_url(), dead_url(), dead_url())).await;
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{edge}/v1/messages"))
        .send()
        .await
        .expect("messages");
    assert_eq!(response.status(), 502);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.expect("json");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("notifications")
    );

    let ready = http
        .get(format!("{edge}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);
    assert_eq!(
        http.get(format!("{edge}/healthz"))
            .send()
            .await
            .expect("healthz")
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{edge}/v1/unknown"))
            .send()
            .await
            .expect("unknown")
            .status(),
        404
    );
    assert_eq!(
        http.get(format!("{edge}/services/nobody/readyz"))
            .send()
            .await
            .expect("nobody")
            .status(),
        404
    );
}

/// Two instances of a service: requests alternate between them, and while one is down every request — a POST with
/// its body too — goes to the other (a refused connection means the instance saw nothing of it).
#[tokio::test]
async fn requests_alternate_between_instances_and_skip_one_that_is_down() {
    let (first, second) = (echo_upstream().await, echo_upstream().await);
    let mut settings =
        cloverleaf_service_kit::testing::settings(tempfile::tempdir().expect("dir").path());
    settings.edge.registration_instances = vec![first.clone(), second.clone()];
    settings.edge.scheduling_instances = vec![dead_url(), echo_upstream().await];
    let edge = edge(Upstreams::from_settings(&settings)).await;
    let http = reqwest::Client::new();
    let mut hosts = std::collections::HashSet::new();
    for _ in 0..4 {
        let seen: serde_json::Value = http
            .get(format!("{edge}/v1/registrations?x=1"))
            .send()
            .await
            .expect("edge")
            .json()
            .await
            .expect("json");
        hosts.insert(seen["served_by"].as_str().expect("served_by").to_owned());
    }
    assert_eq!(hosts.len(), 2, "both instances served: {hosts:?}");
    for n in 0..4 {
        let response = http
            .post(format!("{edge}/v1/events"))
            .body(format!("body {n}"))
            .send()
            .await
            .expect("edge");
        assert_eq!(response.status(), 200, "the live instance took it");
        let seen: serde_json::Value = response.json().await.expect("json");
        assert_eq!(seen["body"], format!("body {n}"));
    }
}

/// Every path that is not an API's goes to the portal whole (method, query, body, cookies); unknown `/v1`
/// collections stay 404 problems, and `/services/portal/…` reaches the portal's own root.
#[tokio::test]
async fn every_other_path_goes_to_the_portal() {
    let (registration, portal) = (echo_upstream().await, echo_upstream().await);
    let edge = edge(
        Upstreams::new(registration.clone(), dead_url(), dead_url())
            .with_portal(vec![portal.clone()]),
    )
    .await;
    let http = reqwest::Client::new();

    for path in [
        "/",
        "/events/sino-eu-permed?tz=Asia%2FShanghai",
        "/organiser/events/new",
        "/static/portal.css",
    ] {
        let seen: serde_json::Value = http
            .get(format!("{edge}{path}"))
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("json");
        assert_eq!(seen["uri"], path);
        assert_eq!(seen["served_by"], portal.as_str(), "{path}");
        assert_eq!(
            seen["forwarded_for"], "127.0.0.1",
            "the portal learns the visitor's address"
        );
    }
    let seen: serde_json::Value = http
        .post(format!("{edge}/events/x/register"))
        .header("cookie", "cl_csrf=abc")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a%40example.org&csrf=abc")
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (seen["method"].as_str(), seen["body"].as_str()),
        (Some("POST"), Some("email=a%40example.org&csrf=abc"))
    );

    let unknown = http
        .get(format!("{edge}/v1/unknown"))
        .send()
        .await
        .expect("unknown");
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.headers()["content-type"],
        "application/problem+json"
    );
    let seen: serde_json::Value = http
        .get(format!("{edge}/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert_eq!(seen["served_by"], registration.as_str());
    let seen: serde_json::Value = http
        .get(format!("{edge}/services/portal/healthz"))
        .send()
        .await
        .expect("portal's own")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (seen["uri"].as_str(), seen["served_by"].as_str()),
        (Some("/healthz"), Some(portal.as_str()))
    );

    // Without a portal, a page path is a 404 problem as before.
    let bare = crate::edge(Upstreams::new(dead_url(), dead_url(), dead_url())).await;
    let answer = http
        .get(format!("{bare}/events/x"))
        .send()
        .await
        .expect("bare");
    assert_eq!(answer.status(), 404);
}
