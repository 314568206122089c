//! JWKS from a URL (cached, refetched for an unknown kid, rate-limited), and service tokens (minted, cached, renewed).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::routing::get;
use cloverleaf_auth::verifier::RoleMapping;
use cloverleaf_auth::{
    AuthError, KeySource, RemoteJwks, Role, ServiceTokens, SigningKey, TeamGrant, TeamRole,
    TokenIssuer, TokenRequest, TrustedIssuer, Verifier, audience, jwks_document,
};
use tokio::sync::RwLock;

struct JwksServer {
    url: String,
    fetches: Arc<AtomicUsize>,
    keys: Arc<RwLock<Vec<SigningKey>>>,
}

async fn jwks_server(initial: Vec<SigningKey>) -> JwksServer {
    let fetches = Arc::new(AtomicUsize::new(0));
    let keys = Arc::new(RwLock::new(initial));
    let app = Router::new().route(
        "/.well-known/jwks.json",
        get({
            let (fetches, keys) = (fetches.clone(), keys.clone());
            move || async move {
                fetches.fetch_add(1, Ordering::SeqCst);
                Json(jwks_document(keys.read().await.iter()))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    JwksServer { url, fetches, keys }
}

fn organiser() -> TokenRequest {
    TokenRequest {
        subject: "o@example.org".into(),
        role: Role::Organiser,
        scope: None,
        teams: Vec::new(),
        audience: vec![audience::SCHEDULING.into()],
        ttl: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn remote_keys_are_cached_and_refetched_on_rotation_but_rate_limited() {
    let old = SigningKey::generate();
    let server = jwks_server(vec![old.clone()]).await;
    let jwks = Arc::new(RemoteJwks::new(&server.url).with_min_refetch(Duration::from_millis(1000)));
    let verifier = Verifier::new(
        audience::SCHEDULING,
        vec![TrustedIssuer::new(
            "cloverleaf",
            KeySource::Remote(jwks),
            vec![Role::Organiser],
        )],
    );
    let old_issuer = TokenIssuer::new("cloverleaf", old.clone());
    for _ in 0..5 {
        verifier
            .verify(&old_issuer.issue(organiser()).expect("issue").token)
            .await
            .expect("valid");
    }
    assert_eq!(
        server.fetches.load(Ordering::SeqCst),
        1,
        "keys are cached after the first fetch"
    );

    // A flood of tokens with a kid nobody publishes costs at most one fetch per interval.
    let stranger = TokenIssuer::new("cloverleaf", SigningKey::generate());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..20 {
        let token = stranger.issue(organiser()).expect("issue").token;
        assert!(matches!(
            verifier.verify(&token).await,
            Err(AuthError::UnknownKey)
        ));
    }
    assert_eq!(
        server.fetches.load(Ordering::SeqCst),
        2,
        "unknown kids must not trigger a fetch each"
    );

    // Rotation: the issuer publishes a new key; the first token under it triggers a refetch once the interval passed.
    let new = SigningKey::generate();
    server.keys.write().await.insert(0, new.clone());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let new_issuer = TokenIssuer::new("cloverleaf", new);
    verifier
        .verify(&new_issuer.issue(organiser()).expect("issue").token)
        .await
        .expect("new key accepted");
    verifier
        .verify(&old_issuer.issue(organiser()).expect("issue").token)
        .await
        .expect("old key still published");
    assert_eq!(server.fetches.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn service_tokens_are_checked_without_asking_the_jwks_url() {
    let people = SigningKey::generate();
    let server = jwks_server(vec![people]).await;
    let services = TokenIssuer::new("cloverleaf-services", SigningKey::generate());
    // People's keys come from a URL, listed first; service keys are configured. A service token's kid is never in
    // the JWKS, so looking there first would cost a fetch per refetch interval — and fail while registration is down.
    let verifier = Verifier::new(
        audience::NOTIFICATIONS,
        vec![
            TrustedIssuer::new(
                "cloverleaf",
                KeySource::Remote(Arc::new(RemoteJwks::new(&server.url))),
                vec![Role::Organiser],
            ),
            TrustedIssuer::new(
                "cloverleaf-services",
                KeySource::from_keys([services.key()]),
                vec![Role::Service],
            ),
        ],
    );
    for _ in 0..10 {
        let token = services
            .issue(TokenRequest::service(
                "scheduling",
                audience::NOTIFICATIONS,
                Duration::from_secs(60),
            ))
            .expect("issue")
            .token;
        verifier.verify(&token).await.expect("valid service token");
    }
    assert_eq!(server.fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_unreachable_jwks_url_is_unavailable_not_unauthorised() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().expect("addr")
    );
    drop(listener); // nothing listens there now
    let verifier = Verifier::new(
        audience::SCHEDULING,
        vec![TrustedIssuer::new(
            "cloverleaf",
            KeySource::Remote(Arc::new(RemoteJwks::new(url))),
            vec![Role::Organiser],
        )],
    );
    let token = TokenIssuer::new("cloverleaf", SigningKey::generate())
        .issue(organiser())
        .expect("issue")
        .token;
    let error = verifier
        .verify(&token)
        .await
        .expect_err("cannot be checked");
    assert!(matches!(error, AuthError::KeysUnavailable(_)), "{error:?}");
    assert_eq!(error.to_problem().status, 503);
}

#[tokio::test]
async fn service_tokens_are_cached_then_renewed_before_expiry() {
    let issuer = TokenIssuer::new("cloverleaf-services", SigningKey::generate());
    let verifier = Verifier::new(
        audience::NOTIFICATIONS,
        vec![TrustedIssuer::new(
            "cloverleaf-services",
            KeySource::from_keys([issuer.key()]),
            vec![Role::Service],
        )],
    );
    let tokens = ServiceTokens::new(issuer.clone(), "scheduling").with_ttl(Duration::from_secs(2));
    let first = tokens.token_for(audience::NOTIFICATIONS).expect("token");
    assert_eq!(
        first,
        tokens.token_for(audience::NOTIFICATIONS).expect("token"),
        "reused while fresh"
    );
    let claims = verifier.verify(&first).await.expect("valid");
    assert_eq!(
        (claims.role, claims.sub.as_str()),
        (Role::Service, "scheduling")
    );
    assert_ne!(
        first,
        tokens.token_for(audience::SCHEDULING).expect("token"),
        "one token per audience"
    );

    // ttl 2 s, renewal margin 1 s: after 1.2 s the cached token is replaced, before it could expire in flight.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let renewed = tokens.token_for(audience::NOTIFICATIONS).expect("token");
    assert_ne!(first, renewed);
    verifier
        .verify(&renewed)
        .await
        .expect("renewed token valid");
}

#[tokio::test]
async fn an_external_issuer_maps_a_claim_to_roles_and_teams() {
    let keycloak = SigningKey::generate();
    let charite = uuid::Uuid::now_v7();
    let fudan = uuid::Uuid::now_v7();
    let verifier = Verifier::new(
        audience::SCHEDULING,
        vec![TrustedIssuer {
            issuer: "https://keycloak.example/realms/permed".into(),
            keys: KeySource::from_keys([&keycloak]),
            roles: RoleMapping::External {
                claim: "groups".into(),
                map: vec![
                    ("permed-office".into(), Role::Organiser),
                    ("it".into(), Role::Admin),
                ],
                teams: vec![
                    (
                        "charite-biobank".into(),
                        TeamGrant {
                            team: charite,
                            role: TeamRole::Organiser,
                        },
                    ),
                    (
                        "charite-door".into(),
                        TeamGrant {
                            team: charite,
                            role: TeamRole::CheckIn,
                        },
                    ),
                    (
                        "fudan-readers".into(),
                        TeamGrant {
                            team: fudan,
                            role: TeamRole::Viewer,
                        },
                    ),
                ],
            },
        }],
    );
    let sign = |groups: serde_json::Value| {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "sub": "f:1234", "iss": "https://keycloak.example/realms/permed", "aud": audience::SCHEDULING,
            "exp": now + 60, "iat": now, "groups": groups,
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(keycloak.kid().to_owned());
        let key =
            jsonwebtoken::EncodingKey::from_ed_pem(keycloak.to_pem().expect("pem").as_bytes())
                .expect("key");
        jsonwebtoken::encode(&header, &claims, &key).expect("sign")
    };
    let claims = verifier
        .verify(&sign(serde_json::json!(["staff", "permed-office"])))
        .await
        .expect("mapped");
    assert_eq!(claims.role, Role::Organiser);
    let claims = verifier
        .verify(&sign(serde_json::json!(["permed-office", "it"])))
        .await
        .expect("mapped");
    assert_eq!(claims.role, Role::Admin, "the highest mapped role wins");
    assert!(matches!(
        verifier.verify(&sign(serde_json::json!(["staff"]))).await,
        Err(AuthError::Forbidden(_))
    ));
    // Groups that are teams: memberships in the token, and an organiser account whose rights are its teams'.
    let claims = verifier
        .verify(&sign(serde_json::json!([
            "staff",
            "charite-door",
            "fudan-readers"
        ])))
        .await
        .expect("mapped to teams");
    assert_eq!(claims.role, Role::Organiser);
    let mut teams = claims.teams.clone();
    teams.sort_by_key(|g| g.team);
    assert_eq!(
        teams,
        [
            TeamGrant {
                team: charite,
                role: TeamRole::CheckIn
            },
            TeamGrant {
                team: fudan,
                role: TeamRole::Viewer
            },
        ]
    );
    assert!(
        !claims.may_organise(),
        "a check-in and a viewer membership create no events"
    );
    let claims = verifier
        .verify(&sign(serde_json::json!([
            "permed-office",
            "charite-biobank"
        ])))
        .await
        .expect("mapped");
    assert_eq!(
        claims.teams,
        [TeamGrant {
            team: charite,
            role: TeamRole::Organiser
        }]
    );
}

/// An institution's RSA key (the registration tests' test key) and its JWKS.
const RSA_PEM: &str =
    include_str!("../../../services/registration/tests/support/oidc-test-rsa.pem");
const RSA_JWKS: &str =
    include_str!("../../../services/registration/tests/support/oidc-test-jwks.json");

async fn static_jwks(document: &'static str) -> String {
    let app = Router::new().route(
        "/certs",
        get(move || async move { ([("content-type", "application/json")], document) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/certs", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    url
}

fn rs256(claims: serde_json::Value, kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).expect("RSA key");
    jsonwebtoken::encode(&header, &claims, &key).expect("sign")
}

#[tokio::test]
async fn rsa_keys_count_for_external_issuers_only() {
    let url = static_jwks(RSA_JWKS).await;
    let now = chrono_now();
    let claims = |iss: &str, role: Option<&str>| {
        serde_json::json!({ "iss": iss, "aud": audience::SCHEDULING, "sub": "ana", "exp": now + 60,
                            "nbf": now - 1, "iat": now, "groups": ["office"], "role": role, "jti": "j" })
    };
    let external = Verifier::new(
        audience::SCHEDULING,
        vec![TrustedIssuer {
            issuer: "https://login.example".into(),
            keys: KeySource::Remote(Arc::new(RemoteJwks::new(&url))),
            roles: RoleMapping::External {
                claim: "groups".into(),
                map: vec![("office".into(), Role::Organiser)],
                teams: Vec::new(),
            },
        }],
    );
    let token = rs256(claims("https://login.example", None), "test-institution-1");
    let accepted = external
        .verify(&token)
        .await
        .expect("an institution's RS256 token");
    assert_eq!(accepted.role, Role::Organiser);

    // Our own issuer never takes an RSA key, even one its JWKS URL served.
    let own = Verifier::new(
        audience::SCHEDULING,
        vec![TrustedIssuer::new(
            "cloverleaf",
            KeySource::Remote(Arc::new(RemoteJwks::new(&url))),
            vec![Role::Organiser],
        )],
    );
    let token = rs256(
        claims("cloverleaf", Some("organiser")),
        "test-institution-1",
    );
    assert!(matches!(
        own.verify(&token).await,
        Err(AuthError::InvalidToken(_))
    ));

    // An RS256 header naming an Ed25519 key is refused (the key decides the algorithm).
    let ed = SigningKey::generate();
    let mixed = Verifier::new(
        audience::SCHEDULING,
        vec![TrustedIssuer {
            issuer: "https://login.example".into(),
            keys: KeySource::from_keys([&ed]),
            roles: RoleMapping::External {
                claim: "groups".into(),
                map: vec![("office".into(), Role::Organiser)],
                teams: Vec::new(),
            },
        }],
    );
    let token = rs256(claims("https://login.example", None), ed.kid());
    assert!(matches!(
        mixed.verify(&token).await,
        Err(AuthError::InvalidToken(_))
    ));
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
