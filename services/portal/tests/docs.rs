//! The public API docs page for a deployment whose Ingress sends every other path to the portal (issue 15.7): the
//! Swagger UI, compiled in, listing the three services' documents at the public paths the Ingress routes to them.

#[tokio::test]
async fn the_portal_serves_the_public_api_docs_page() {
    let dir = tempfile::tempdir().expect("dir");
    let settings = cloverleaf_service_kit::testing::settings(dir.path());
    let portal = cloverleaf_portal::build(&settings).expect("builds");
    let running = portal.bind("127.0.0.1:0").await.expect("bind");
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/docs/", running.url()))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("text").contains("swagger-ui"));
    let initializer = http
        .get(format!("{}/docs/swagger-initializer.js", running.url()))
        .send()
        .await
        .expect("initializer")
        .text()
        .await
        .expect("text");
    for service in ["registration", "scheduling", "notifications"] {
        assert!(
            initializer.contains(&format!(r#""url": "/openapi/{service}.json""#)),
            "{initializer}"
        );
    }
    assert!(!initializer.contains("https://"), "{initializer}");
}
