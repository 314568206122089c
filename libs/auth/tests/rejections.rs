//! The auth battery: every way a token can be wrong is rejected, with the right status, and the right tokens pass.
//! If any of these failed, someone could act as an organiser without being one, or open another person's
//! registration.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cloverleaf_auth::{
    Admin, Authenticated, Claims, KeySource, ManageToken, Organiser, RegistrationAccess, Role,
    ServiceCaller, SigningKey, TokenIssuer, TokenRequest, TrustedIssuer, Verifier, audience,
};
use http_body_util::BodyExt;
use tower::ServiceExt;
use uuid::Uuid;

const USER_ISSUER: &str = "cloverleaf";
const SERVICE_ISSUER: &str = "cloverleaf-services";

struct Fixture {
    users: TokenIssuer,
    services: TokenIssuer,
    app: Router,
}

/// A notifications-like service that trusts the user issuer and the service issuer.
fn fixture() -> Fixture {
    let users = TokenIssuer::new(USER_ISSUER, SigningKey::generate());
    let services = TokenIssuer::new(SERVICE_ISSUER, SigningKey::generate());
    let verifier = Verifier::new(
        audience::NOTIFICATIONS,
        vec![
            TrustedIssuer::new(
                USER_ISSUER,
                KeySource::from_keys([users.key()]),
                vec![Role::Admin, Role::Organiser, Role::Participant],
            ),
            TrustedIssuer::new(
                SERVICE_ISSUER,
                KeySource::from_keys([services.key()]),
                vec![Role::Service],
            ),
        ],
    );
    let app = Router::new()
        .route(
            "/any",
            get(|Authenticated(c): Authenticated| async move { c.sub }),
        )
        .route(
            "/organiser",
            get(|Organiser(c): Organiser| async move { c.sub }),
        )
        .route("/admin", get(|Admin(c): Admin| async move { c.sub }))
        .route(
            "/inbox",
            get(|ServiceCaller(c): ServiceCaller| async move { c.sub }),
        )
        .route(
            "/registrations/{id}",
            get(|t: ManageToken| async move { t.registration_id.to_string() }),
        )
        .route(
            "/registrations/{id}/cancel",
            get(|a: RegistrationAccess| async move { a.registration_id().to_string() }),
        )
        .with_state(Arc::new(verifier));
    Fixture {
        users,
        services,
        app,
    }
}

fn organiser_request(ttl: u64) -> TokenRequest {
    TokenRequest {
        subject: "organiser@example.org".into(),
        role: Role::Organiser,
        scope: None,
        teams: Vec::new(),
        audience: audience::ALL.iter().map(|a| a.to_string()).collect(),
        ttl: Duration::from_secs(ttl),
    }
}

async fn call(
    app: &Router,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ascii").to_owned());
    if !status.is_success() {
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        challenge,
    )
}

async fn assert_unauthorized(app: &Router, path: &str, token: &str, why: &str) {
    let (status, body, challenge) = call(app, path, Some(token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
    assert!(
        challenge
            .expect("401 must carry WWW-Authenticate")
            .starts_with("Bearer"),
        "{why}"
    );
    let problem: serde_json::Value = serde_json::from_str(&body).expect("problem json");
    assert_eq!(problem["status"], 401, "{why}");
}

fn claims_now(issuer: &TokenIssuer) -> Claims {
    issuer.issue(organiser_request(600)).expect("issue").claims
}

#[tokio::test]
async fn valid_tokens_pass_each_extractor() {
    let f = fixture();
    let organiser = f.users.issue(organiser_request(600)).expect("issue").token;
    assert_eq!(
        call(&f.app, "/organiser", Some(&organiser)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&f.app, "/any", Some(&organiser)).await.0,
        StatusCode::OK
    );

    let mut admin = organiser_request(600);
    admin.role = Role::Admin;
    let admin = f.users.issue(admin).expect("issue").token;
    assert_eq!(call(&f.app, "/admin", Some(&admin)).await.0, StatusCode::OK);
    assert_eq!(
        call(&f.app, "/organiser", Some(&admin)).await.0,
        StatusCode::OK,
        "admins may do what organisers do"
    );

    let service = f
        .services
        .issue(TokenRequest::service(
            "scheduling",
            audience::NOTIFICATIONS,
            Duration::from_secs(60),
        ))
        .expect("issue");
    let (status, body, _) = call(&f.app, "/inbox", Some(&service.token)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "scheduling"));
}

#[tokio::test]
async fn missing_token_is_401_with_a_challenge() {
    let f = fixture();
    let (status, _, challenge) = call(&f.app, "/organiser", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.expect("challenge").starts_with("Bearer"));
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let f = fixture();
    let claims = claims_now(&f.users);
    let header = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
        f.users.key().kid()
    ));
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"));
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert_unauthorized(&f.app, "/organiser", &token, "alg none").await;
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_bytes_is_rejected() {
    let f = fixture();
    let claims = claims_now(&f.users);
    // The classic key-confusion attack: use the published public key as an HMAC secret.
    let jwk = serde_json::to_value(f.users.key().public_jwk()).expect("jwk");
    let public = URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().expect("x"))
        .expect("b64");
    for secret in [
        public.clone(),
        jwk["x"].as_str().expect("x").as_bytes().to_vec(),
    ] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(f.users.key().kid().to_owned());
        let token = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .expect("sign");
        assert_unauthorized(&f.app, "/organiser", &token, "HS256 with public key").await;
    }
}

#[tokio::test]
async fn expired_token_is_rejected() {
    let f = fixture();
    let mut claims = claims_now(&f.users);
    claims.exp = chrono::Utc::now().timestamp() - 120; // past the 30 s leeway
    claims.iat = claims.exp - 600;
    claims.nbf = claims.iat;
    let token = f.users.sign(&claims).expect("sign");
    assert_unauthorized(&f.app, "/organiser", &token, "expired").await;
}

#[tokio::test]
async fn token_not_yet_valid_is_rejected() {
    let f = fixture();
    let mut claims = claims_now(&f.users);
    claims.nbf = chrono::Utc::now().timestamp() + 300;
    claims.exp = claims.nbf + 600;
    let token = f.users.sign(&claims).expect("sign");
    assert_unauthorized(&f.app, "/organiser", &token, "nbf in the future").await;
}

#[tokio::test]
async fn wrong_issuer_is_rejected() {
    let f = fixture();
    let mut claims = claims_now(&f.users);
    claims.iss = "https://evil.example".into();
    let token = f.users.sign(&claims).expect("sign");
    assert_unauthorized(&f.app, "/organiser", &token, "wrong iss").await;

    // A user-issuer key cannot vouch for the service issuer either.
    let mut claims = claims_now(&f.users);
    claims.iss = SERVICE_ISSUER.into();
    claims.role = Role::Service;
    let token = f.users.sign(&claims).expect("sign");
    assert_unauthorized(&f.app, "/inbox", &token, "service iss with a user key").await;
}

#[tokio::test]
async fn the_user_issuer_cannot_grant_the_service_role() {
    let f = fixture();
    let mut request = organiser_request(600);
    request.role = Role::Service;
    let token = f.users.issue(request).expect("issue").token;
    assert_unauthorized(
        &f.app,
        "/inbox",
        &token,
        "service role from the user issuer",
    )
    .await;
}

#[tokio::test]
async fn a_token_for_scheduling_is_rejected_by_notifications() {
    let f = fixture();
    let token = f
        .services
        .issue(TokenRequest::service(
            "registration",
            audience::SCHEDULING,
            Duration::from_secs(60),
        ))
        .expect("issue");
    assert_unauthorized(&f.app, "/inbox", &token.token, "wrong aud").await;
}

#[tokio::test]
async fn unknown_kid_is_rejected() {
    let f = fixture();
    let stranger = TokenIssuer::new(USER_ISSUER, SigningKey::generate());
    let token = stranger.issue(organiser_request(600)).expect("issue").token;
    assert_unauthorized(&f.app, "/organiser", &token, "unknown kid").await;

    // Same claims, our kid in the header, the stranger's signature.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(f.users.key().kid().to_owned());
    let pem = stranger.key().to_pem().expect("pem");
    let key = jsonwebtoken::EncodingKey::from_ed_pem(pem.as_bytes()).expect("key");
    let forged = jsonwebtoken::encode(&header, &claims_now(&stranger), &key).expect("sign");
    assert_unauthorized(&f.app, "/organiser", &forged, "borrowed kid").await;
}

#[tokio::test]
async fn payload_changed_after_signing_is_rejected() {
    let f = fixture();
    let participant = f
        .users
        .issue(TokenRequest::manage(
            Uuid::now_v7(),
            Duration::from_secs(600),
        ))
        .expect("issue");
    let mut parts: Vec<String> = participant.token.split('.').map(str::to_owned).collect();
    let mut claims = participant.claims.clone();
    claims.role = Role::Admin;
    claims.aud = vec![audience::NOTIFICATIONS.into()];
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"));
    assert_unauthorized(&f.app, "/admin", &parts.join("."), "payload edited").await;
}

#[tokio::test]
async fn truncated_or_garbage_tokens_are_rejected() {
    let f = fixture();
    let token = f.users.issue(organiser_request(600)).expect("issue").token;
    let cases = [
        token[..token.len() - 10].to_owned(),
        token.split('.').take(2).collect::<Vec<_>>().join("."),
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        "....".to_owned(),
        "eyJhbGciOiJFZERTQSJ9.%%%.***".to_owned(),
    ];
    for bad in cases {
        assert_unauthorized(&f.app, "/organiser", &bad, &format!("garbage {bad:?}")).await;
    }
    // Not a bearer scheme at all.
    let response = f
        .app
        .clone()
        .oneshot(
            Request::get("/organiser")
                .header(header::AUTHORIZATION, "Basic Zm9vOmJhcg==")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_participant_token_on_an_organiser_route_is_forbidden() {
    let f = fixture();
    let mut manage = TokenRequest::manage(Uuid::now_v7(), Duration::from_secs(600));
    manage.audience = vec![audience::NOTIFICATIONS.into()];
    let token = f.users.issue(manage).expect("issue").token;
    let (status, body, _) = call(&f.app, "/organiser", Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        call(&f.app, "/admin", Some(&token)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&f.app, "/inbox", Some(&token)).await.0,
        StatusCode::FORBIDDEN
    );
    let organiser = f.users.issue(organiser_request(600)).expect("issue").token;
    assert_eq!(
        call(&f.app, "/admin", Some(&organiser)).await.0,
        StatusCode::FORBIDDEN,
        "organiser is not admin"
    );
}

#[tokio::test]
async fn the_manage_token_of_a_does_not_open_b() {
    let f = fixture();
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let mut manage = TokenRequest::manage(a, Duration::from_secs(600));
    manage.audience = vec![audience::NOTIFICATIONS.into()];
    let token = f.users.issue(manage).expect("issue").token;

    let (status, body, _) = call(&f.app, &format!("/registrations/{a}"), Some(&token)).await;
    assert_eq!((status, body), (StatusCode::OK, a.to_string()));
    assert_eq!(
        call(&f.app, &format!("/registrations/{b}"), Some(&token))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&f.app, &format!("/registrations/{b}/cancel"), Some(&token))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&f.app, "/registrations/not-a-uuid", Some(&token))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&f.app, &format!("/registrations/{a}/cancel"), Some(&token))
            .await
            .0,
        StatusCode::OK
    );

    // Organisers may act on any registration, but an organiser token is not a manage token.
    let organiser = f.users.issue(organiser_request(600)).expect("issue").token;
    assert_eq!(
        call(
            &f.app,
            &format!("/registrations/{b}/cancel"),
            Some(&organiser)
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&f.app, &format!("/registrations/{b}"), Some(&organiser))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn leeway_is_capped_at_sixty_seconds() {
    let f = fixture();
    let verifier = Verifier::new(
        audience::NOTIFICATIONS,
        vec![TrustedIssuer::new(
            USER_ISSUER,
            KeySource::from_keys([f.users.key()]),
            vec![Role::Organiser],
        )],
    )
    .with_leeway(3600);
    let mut claims = claims_now(&f.users);
    claims.exp = chrono::Utc::now().timestamp() - 90;
    let token = f.users.sign(&claims).expect("sign");
    assert!(
        verifier.verify(&token).await.is_err(),
        "a token 90 s past expiry must not pass whatever leeway is asked"
    );
}
