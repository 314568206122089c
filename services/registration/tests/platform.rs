//! The registration service boots from configuration on its own database (SQLite, or PostgreSQL when
//! CLOVERLEAF_TEST_DATABASE_URL is set) and answers what every service answers.

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::TestApp;

cloverleaf_service_kit::platform_tests!(ServiceName::Registration, cloverleaf_registration::build);

#[tokio::test]
async fn publishes_the_keys_that_verify_its_tokens() {
    let app = TestApp::spawn(ServiceName::Registration, cloverleaf_registration::build).await;
    let response = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("max-age")
    );
    let set: cloverleaf_auth::keys::JwkSet = response.json().await.expect("jwks json");
    let keys = cloverleaf_auth::keys::ed25519_keys(&set);
    let issuer = app.people_issuer();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0].0,
        issuer.key().kid(),
        "the published key is the one tokens are signed with"
    );

    // A verifier that knows only the published JWKS accepts a token the service's issuer signed.
    let jwks = std::sync::Arc::new(cloverleaf_auth::RemoteJwks::new(
        app.url("/.well-known/jwks.json"),
    ));
    let verifier = cloverleaf_auth::Verifier::new(
        cloverleaf_auth::audience::SCHEDULING,
        vec![cloverleaf_auth::TrustedIssuer::new(
            app.settings.auth.issuer.clone(),
            cloverleaf_auth::KeySource::Remote(jwks),
            vec![cloverleaf_auth::Role::Organiser],
        )],
    );
    let claims = verifier
        .verify(&app.organiser_token())
        .await
        .expect("verified through the JWKS");
    assert_eq!(claims.role, cloverleaf_auth::Role::Organiser);
}
