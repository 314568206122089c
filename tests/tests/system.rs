//! The three services and the edge, started together as `cloverleaf serve` starts them.

use cloverleaf_e2e::TestSystem;
use cloverleaf_service_kit::config::ServiceName;

#[tokio::test]
async fn every_service_is_ready_directly_and_through_the_edge() {
    let mut system = TestSystem::start().await;
    let http = reqwest::Client::new();
    for name in ServiceName::ALL {
        let direct = format!("{}/readyz", system.running().service_url(name));
        assert_eq!(
            http.get(direct).send().await.expect("direct").status(),
            200,
            "{name}"
        );
        let via_edge = system.edge(&format!("/services/{name}/readyz"));
        assert_eq!(
            http.get(via_edge).send().await.expect("edge").status(),
            200,
            "{name} via edge"
        );
    }
    assert_eq!(
        http.get(system.edge("/readyz"))
            .send()
            .await
            .expect("edge readyz")
            .status(),
        200
    );
    system.stop().await;
}

#[tokio::test]
async fn the_edge_serves_registrations_jwks_and_the_others_trust_it() {
    let mut system = TestSystem::start().await;
    let http = reqwest::Client::new();
    let via_edge: serde_json::Value = http
        .get(system.edge("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let direct: serde_json::Value = http
        .get(format!(
            "{}/.well-known/jwks.json",
            system.running().service_url(ServiceName::Registration)
        ))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert_eq!(via_edge, direct);
    assert_eq!(via_edge["keys"].as_array().map(Vec::len), Some(1));
    // The other services are configured to fetch people's keys from registration, the production way.
    let jwks_url = &system.running().settings.auth.jwks_url;
    assert!(
        jwks_url.starts_with(&system.running().service_url(ServiceName::Registration)),
        "{jwks_url}"
    );
    system.stop().await;
}

#[tokio::test]
async fn a_stopped_service_makes_the_edge_unready_and_answers_502() {
    let mut system = TestSystem::start().await;
    let http = reqwest::Client::new();
    let running = system.system.as_mut().expect("running");
    let index = running
        .services
        .iter()
        .position(|s| s.name() == ServiceName::Notifications)
        .expect("notifications");
    running.services.remove(index).stop().await.expect("stops");

    assert_eq!(
        http.get(system.edge("/readyz"))
            .send()
            .await
            .expect("readyz")
            .status(),
        503
    );
    let response = http
        .get(system.edge("/v1/messages"))
        .send()
        .await
        .expect("messages");
    assert_eq!(response.status(), 502);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    system.stop().await;
}
