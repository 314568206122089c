//! `POST /v1/auth/oidc` through HTTP: an institution's ID token (RS256, signed with the test key in
//! `tests/support/oidc-test-rsa.pem`, whose JWKS a small local server publishes as the institution's would) becomes a
//! Cloverleaf access token with the role and teams its `groups` map to — or 401 (wrong audience, expired, bad
//! signature, another issuer's token), 403 `no_role`, 422 (an issuer logins are not offered for, missing fields), 503
//! (the institution's keys cannot be fetched). The browser test `tests/tests/oidc.rs` does the same through a real
//! OpenID provider.

use std::collections::BTreeMap;

use base64::Engine;
use cloverleaf_registration::build;
use cloverleaf_service_kit::config::{ExternalIssuerSettings, ExternalTeamSettings, ServiceName};
use cloverleaf_service_kit::testing::TestApp;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const KEY_PEM: &str = include_str!("support/oidc-test-rsa.pem");
const JWKS: &str = include_str!("support/oidc-test-jwks.json");
const KID: &str = "test-institution-1";
const CLIENT_ID: &str = "cloverleaf-portal";
const ISSUER: &str = "https://login.charite.example/realms/staff";

/// Serves the institution's JWKS on loopback; its URL.
async fn jwks_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/certs", listener.local_addr().expect("address"));
    let router = axum::Router::new().route(
        "/certs",
        axum::routing::get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                JWKS,
            )
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

struct Institution {
    app: TestApp,
    team: Uuid,
}

async fn start_with_jwks(jwks_url: String) -> Institution {
    let team = Uuid::now_v7();
    let app = TestApp::spawn_with(
        ServiceName::Registration,
        |settings| {
            settings.auth.external_issuers.push(ExternalIssuerSettings {
                issuer: ISSUER.to_owned(),
                jwks_url,
                name: "Charité".to_owned(),
                client_id: CLIENT_ID.to_owned(),
                client_secret: None,
                client_secret_env: String::new(),
                role_claim: "groups".to_owned(),
                roles: BTreeMap::from([("charite-it".to_owned(), "admin".to_owned())]),
                teams: BTreeMap::from([(
                    "charite-events".to_owned(),
                    ExternalTeamSettings {
                        team,
                        role: "organiser".to_owned(),
                    },
                )]),
            });
        },
        build,
    )
    .await;
    Institution { app, team }
}

async fn start() -> Institution {
    start_with_jwks(jwks_server().await).await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An ID token as the institution signs it, with `claims` over the defaults.
fn id_token(claims: Value) -> String {
    let mut all = json!({
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "f3c9-ana",
        "iat": now(),
        "exp": now() + 300,
        "nonce": "n-0S6_WzA2Mj",
        "email": "Ana.Events@charite.example",
        "email_verified": true,
        "groups": ["charite-events", "charite-staff"],
    });
    if let (Some(all), Some(over)) = (all.as_object_mut(), claims.as_object()) {
        for (k, v) in over {
            all.insert(k.clone(), v.clone());
        }
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    let key = EncodingKey::from_rsa_pem(KEY_PEM.as_bytes()).expect("the test RSA key");
    jsonwebtoken::encode(&header, &all, &key).expect("sign")
}

impl Institution {
    async fn exchange(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .app
            .http
            .post(self.app.url("/v1/auth/oidc"))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("claims")
}

#[tokio::test]
async fn a_good_id_token_becomes_an_access_token_with_the_mapped_team() {
    let institution = start().await;
    let (status, answer) = institution
        .exchange(json!({ "issuer": ISSUER, "id_token": id_token(json!({})) }))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    let token = answer["access_token"].as_str().expect("access token");
    let claims = payload(token);
    assert_eq!(claims["role"], "organiser", "{claims}");
    assert_eq!(
        claims["teams"],
        json!([{ "team": institution.team, "role": "organiser" }]),
        "{claims}"
    );
    assert_eq!(claims["sub"], "ana.events@charite.example");
    assert_eq!(
        claims["iss"], institution.app.settings.auth.issuer,
        "a Cloverleaf token, not the institution's"
    );
    // A group mapped to a role: admin.
    let (status, answer) = institution
        .exchange(
            json!({ "issuer": ISSUER, "id_token": id_token(json!({ "groups": ["charite-it"] })) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let claims = payload(answer["access_token"].as_str().expect("token"));
    assert_eq!(claims["role"], "admin");
    // No email: the institution's subject names the person.
    let (status, answer) = institution
        .exchange(json!({ "issuer": ISSUER, "id_token": id_token(json!({ "email": null })) }))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        payload(answer["access_token"].as_str().expect("token"))["sub"],
        "f3c9-ana"
    );
}

#[tokio::test]
async fn bad_tokens_are_401_and_no_mapped_group_is_403_no_role() {
    let institution = start().await;
    let refused = [
        ("wrong audience", id_token(json!({ "aud": "someone-else" }))),
        (
            "expired",
            id_token(json!({ "exp": now() - 3600, "iat": now() - 7200 })),
        ),
        (
            "another issuer's",
            id_token(json!({ "iss": "https://evil.example" })),
        ),
    ];
    for (what, token) in refused {
        let (status, answer) = institution
            .exchange(json!({ "issuer": ISSUER, "id_token": token }))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {answer}");
    }
    // A changed payload under the institution's signature.
    let good = id_token(json!({}));
    let parts: Vec<&str> = good.split('.').collect();
    let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({ "iss": ISSUER, "aud": CLIENT_ID, "sub": "x", "exp": now() + 300, "groups": ["charite-it"] }).to_string());
    let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    let (status, _) = institution
        .exchange(json!({ "issuer": ISSUER, "id_token": forged }))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "bad signature");
    let (status, _) = institution
        .exchange(json!({ "issuer": ISSUER, "id_token": "not.a.token" }))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "not a token");

    let (status, answer) = institution
        .exchange(json!({ "issuer": ISSUER, "id_token": id_token(json!({ "groups": ["charite-staff"] })) }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(
        answer["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("no_role")),
        "{answer}"
    );
}

#[tokio::test]
async fn an_issuer_without_a_login_or_a_missing_field_is_422_naming_it() {
    let institution = start().await;
    let (status, answer) = institution
        .exchange(json!({ "issuer": "https://unknown.example", "id_token": id_token(json!({})) }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "issuer", "{answer}");
    let (status, answer) = institution.exchange(json!({ "issuer": ISSUER })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "id_token", "{answer}");
    let (status, answer) = institution.exchange(json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let fields: Vec<&str> = answer["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["issuer", "id_token"]);
}

#[tokio::test]
async fn an_unreachable_institution_is_503() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/certs", listener.local_addr().expect("address"));
    drop(listener);
    let institution = start_with_jwks(url).await;
    let (status, answer) = institution
        .exchange(json!({ "issuer": ISSUER, "id_token": id_token(json!({})) }))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
}
