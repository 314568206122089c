//! "Log in with <institution>": the OpenID Connect authorization code flow with PKCE, for each external issuer with a
//! `client_id` (`[[auth.external_issuers]]`).
//!
//! - `GET /organiser/login/oidc/{n}?next=…`: reads the issuer's discovery document, starts a [`LoginAttempt`]
//!   (state, nonce, PKCE verifier) sealed into a short-lived cookie, and sends the browser to the issuer's
//!   authorization endpoint.
//! - `GET /organiser/login/oidc/callback`: the issuer's redirect back. Checks the sealed attempt and its state (and
//!   `iss`, RFC 9207, when sent), exchanges the code at the token endpoint (client_secret_basic, or _post when that
//!   is all the issuer takes, with the verifier), checks the ID token's nonce, and asks registration
//!   (`POST /v1/auth/oidc`) for a Cloverleaf access token — kept in the session cookie as a password login's is.
//!   A person whose claims map to no role gets `organiser/no_role.html`; a refusal at the institution
//!   (`error=access_denied`) or any other failure the login page with what happened, never a 500.
//!
//! The rules (PKCE, sealing) are in [`crate::domain::login_flow`]; why no `openidconnect` crate is said there.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::config::ServiceName;
use minijinja::context;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AppState, Ids, NextQuery, SESSION_COOKIE, Visitor, safe_next};
use crate::Error;
use crate::backend::Call;
use crate::domain::login_flow::{ATTEMPT_TTL_SECS, AttemptSeal, FlowError, LoginAttempt};
use crate::domain::model::AccessToken;

/// The cookie that carries the sealed attempt from the redirect out to the redirect back.
pub const LOGIN_COOKIE: &str = "cl_login";

/// Where the issuers send the browser back (under `public_url`); registered with each issuer as the redirect URI.
pub const CALLBACK_PATH: &str = "/organiser/login/oidc/callback";

/// The name the error page gives an institution that could not be reached.
const INSTITUTION: &str = "the institution's login";

/// One issuer people can log in with.
#[derive(Debug, Clone)]
pub struct LoginIssuer {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    client_secret: Option<SecretString>,
    /// The claim that carries groups (asked for as a scope too, when the issuer offers one of that name).
    role_claim: String,
}

/// The issuers offering a login, the seal of attempts, and the client that talks to the issuers.
#[derive(Debug, Clone)]
pub struct Logins {
    issuers: Vec<LoginIssuer>,
    seal: AttemptSeal,
    redirect_uri: String,
    http: reqwest::Client,
}

/// `portal.login_key`, read from the portal's own section.
#[derive(Debug, Default, Deserialize)]
struct LoginKeySetting {
    #[serde(default)]
    login_key: Option<SecretString>,
}

impl Logins {
    pub fn from_settings(settings: &Settings) -> Result<Self, Error> {
        let issuers: Vec<LoginIssuer> = settings
            .auth
            .external_issuers
            .iter()
            .filter(|external| external.offers_login())
            .map(|external| LoginIssuer {
                name: external.display_name(),
                issuer: external.issuer.trim_end_matches('/').to_owned(),
                client_id: external.client_id.trim().to_owned(),
                client_secret: external.client_secret(),
                role_claim: external.role_claim.clone(),
            })
            .collect();
        let configured = settings
            .section_or_default::<LoginKeySetting>("portal")
            .map_err(|e| Error::Setting(format!("portal.login_key: {e}")))?
            .login_key
            .filter(|key| !key.expose_secret().trim().is_empty());
        let seal = match configured {
            Some(key) => AttemptSeal::new(key.expose_secret().trim().as_bytes()),
            // Development and tests: a key of this process's own (a login under way does not survive a restart).
            None if settings.auth.generate_missing_keys || issuers.is_empty() => {
                AttemptSeal::new(crate::domain::login_flow::random_value().as_bytes())
            }
            None => {
                return Err(Error::Setting(
                    "portal.login_key must be set (CLOVERLEAF__PORTAL__LOGIN_KEY) when an external issuer has a \
                     client_id and keys are not generated"
                        .to_owned(),
                ));
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Ok(Self {
            issuers,
            seal,
            redirect_uri: format!(
                "{}{CALLBACK_PATH}",
                settings.public_url.trim_end_matches('/')
            ),
            http,
        })
    }

    /// The login page's buttons: each issuer's number and name.
    pub fn buttons(&self) -> Vec<minijinja::Value> {
        self.issuers
            .iter()
            .enumerate()
            .map(|(n, issuer)| context! { n => n, name => issuer.name })
            .collect()
    }

    fn unavailable(reason: impl std::fmt::Display) -> Error {
        Error::Unavailable {
            service: INSTITUTION,
            reason: reason.to_string(),
        }
    }

    /// The issuer's discovery document; its `issuer` must be the configured one (OpenID Connect Discovery §4.3).
    async fn discover(&self, issuer: &LoginIssuer) -> Result<Discovery, Error> {
        let url = format!("{}/.well-known/openid-configuration", issuer.issuer);
        let found: Discovery = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(Self::unavailable)?
            .json()
            .await
            .map_err(Self::unavailable)?;
        if found.issuer.trim_end_matches('/') != issuer.issuer {
            return Err(Self::unavailable(format!(
                "{url} names the issuer {:?}",
                found.issuer
            )));
        }
        Ok(found)
    }
}

/// What the login needs of an issuer's discovery document.
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

impl Discovery {
    /// `openid`, and of `email`, `profile` and the groups claim those the issuer offers as scopes (all three when it
    /// does not say).
    fn scopes(&self, role_claim: &str) -> String {
        let mut scopes = vec!["openid"];
        for wanted in ["email", "profile", role_claim] {
            let offered = self
                .scopes_supported
                .as_ref()
                .is_none_or(|all| all.iter().any(|s| s == wanted));
            if offered && !wanted.is_empty() && !scopes.contains(&wanted) {
                scopes.push(wanted);
            }
        }
        scopes.join(" ")
    }

    /// client_secret_basic unless the issuer names only client_secret_post (RFC 8414: basic is the default).
    fn posts_secret(&self) -> bool {
        self.token_endpoint_auth_methods_supported
            .as_ref()
            .is_some_and(|methods| {
                !methods.iter().any(|m| m == "client_secret_basic")
                    && methods.iter().any(|m| m == "client_secret_post")
            })
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `GET /organiser/login/oidc/{n}`
pub async fn start(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(n): Ids<usize>,
    Query(query): Query<NextQuery>,
) -> Result<Response, Error> {
    let logins = &state.logins;
    let issuer = logins.issuers.get(n).ok_or(Error::NotFound)?;
    let discovery = logins.discover(issuer).await?;
    let next = safe_next(query.next.as_deref(), "/organiser");
    let attempt = LoginAttempt::start(n, next, Utc::now().timestamp());
    let separator = if discovery.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!(
        "{}{separator}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}\
         &code_challenge={}&code_challenge_method=S256",
        discovery.authorization_endpoint,
        encode(&issuer.client_id),
        encode(&logins.redirect_uri),
        encode(&discovery.scopes(&issuer.role_claim)),
        attempt.state,
        attempt.nonce,
        attempt.challenge(),
    );
    let mut response = Redirect::to(&location).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        visitor.cookie(LOGIN_COOKIE, logins.seal.seal(&attempt), ATTEMPT_TTL_SECS),
    );
    Ok(response)
}

/// What the issuer sends back: a code and the state, or an error (RFC 6749 §4.1.2).
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

#[derive(Debug, Serialize)]
struct TokenForm<'a> {
    grant_type: &'static str,
    code: &'a str,
    redirect_uri: &'a str,
    code_verifier: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

/// Why the login did not happen, as the login page says it (a catalog key under `oidc.`).
enum Failed {
    /// The person declined (or cancelled) at the institution.
    Denied,
    /// The institution refused for another reason.
    Refused,
    /// The browser came back without a login under way, too late, or not matching it.
    Expired,
    /// The institution's answer was not acceptable (token call refused, nonce, signature…).
    Invalid,
}

impl Failed {
    fn key(&self) -> &'static str {
        match self {
            Self::Denied => "oidc.denied",
            Self::Refused => "oidc.refused",
            Self::Expired => "oidc.expired",
            Self::Invalid => "oidc.invalid",
        }
    }
}

impl From<FlowError> for Failed {
    fn from(error: FlowError) -> Self {
        match error {
            FlowError::NoAttempt | FlowError::Expired | FlowError::WrongState => Self::Expired,
            FlowError::WrongNonce | FlowError::UnreadableIdToken => Self::Invalid,
        }
    }
}

/// The answer to the callback: the login page saying what failed, or a page/redirect; the login cookie is always
/// cleared (an attempt is used once).
fn finish(visitor: &Visitor, response: Result<Response, Error>) -> Response {
    let mut response = match response {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        visitor.cookie(LOGIN_COOKIE, String::new(), 0),
    );
    response
}

fn failed_page(
    state: &AppState,
    visitor: &Visitor,
    name: &str,
    why: &Failed,
) -> Result<Response, Error> {
    state.render_status(
        visitor,
        StatusCode::BAD_REQUEST,
        "organiser/login.html",
        context! {
            next => "/organiser",
            email => "",
            institutions => state.logins.buttons(),
            error => state.catalog.text(visitor.locale, why.key()).replace("{name}", name),
        },
    )
}

/// `GET /organiser/login/oidc/callback`
pub async fn callback(
    State(state): State<AppState>,
    visitor: Visitor,
    jar: CookieJar,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let answer = callback_answer(&state, &visitor, &jar, query).await;
    finish(&visitor, answer)
}

async fn callback_answer(
    state: &AppState,
    visitor: &Visitor,
    jar: &CookieJar,
    query: CallbackQuery,
) -> Result<Response, Error> {
    let logins = &state.logins;
    let opened = jar
        .get(LOGIN_COOKIE)
        .ok_or(FlowError::NoAttempt)
        .and_then(|cookie| logins.seal.open(cookie.value(), Utc::now().timestamp()))
        .and_then(|attempt| {
            attempt.check_state(query.state.as_deref().unwrap_or_default())?;
            Ok(attempt)
        });
    let attempt = match opened {
        Ok(attempt) => attempt,
        Err(error) => {
            tracing::info!(%error, "OpenID Connect callback without a matching login");
            return failed_page(state, visitor, "", &Failed::from(error));
        }
    };
    let Some(issuer) = logins.issuers.get(attempt.issuer) else {
        return failed_page(state, visitor, "", &Failed::Expired);
    };
    let fail = |why: Failed| failed_page(state, visitor, &issuer.name, &why);
    if let Some(error) = query.error.as_deref() {
        tracing::info!(issuer = %issuer.issuer, error, "the institution did not log the person in");
        return fail(if error == "access_denied" {
            Failed::Denied
        } else {
            Failed::Refused
        });
    }
    // RFC 9207: an issuer that names itself in the answer must name the one this login went to.
    if query
        .iss
        .as_deref()
        .is_some_and(|iss| iss.trim_end_matches('/') != issuer.issuer)
    {
        return fail(Failed::Invalid);
    }
    let Some(code) = query.code.as_deref().filter(|c| !c.is_empty()) else {
        return fail(Failed::Invalid);
    };
    let discovery = logins.discover(issuer).await?;
    let secret = issuer.client_secret.as_ref().map(|s| s.expose_secret());
    let post_secret = secret.is_some() && discovery.posts_secret();
    let form = TokenForm {
        grant_type: "authorization_code",
        code,
        redirect_uri: &logins.redirect_uri,
        code_verifier: &attempt.verifier,
        client_id: (secret.is_none() || post_secret).then_some(issuer.client_id.as_str()),
        client_secret: if post_secret { secret } else { None },
    };
    let mut request = logins
        .http
        .post(&discovery.token_endpoint)
        .header(header::ACCEPT, "application/json")
        .form(&form);
    if let Some(secret) = secret.filter(|_| !post_secret) {
        // RFC 6749 §2.3.1: id and secret form-encoded, then Basic.
        request = request.basic_auth(encode(&issuer.client_id), Some(encode(secret)));
    }
    let answer = request.send().await.map_err(Logins::unavailable)?;
    if answer.status().is_server_error() {
        return Err(Logins::unavailable(format!(
            "the token endpoint answered {}",
            answer.status()
        )));
    }
    if !answer.status().is_success() {
        let status = answer.status();
        let body = answer.text().await.unwrap_or_default();
        tracing::warn!(issuer = %issuer.issuer, %status, body = %body.chars().take(300).collect::<String>(), "the token endpoint refused the code");
        return fail(Failed::Invalid);
    }
    let Some(id_token) = answer
        .json::<TokenAnswer>()
        .await
        .ok()
        .and_then(|t| t.id_token)
    else {
        return fail(Failed::Invalid);
    };
    if let Err(error) = attempt.check_nonce(&id_token) {
        tracing::warn!(issuer = %issuer.issuer, %error, "ID token refused");
        return fail(Failed::from(error));
    }
    let body = json!({ "issuer": issuer.issuer, "id_token": id_token });
    let token = match state
        .backends
        .json::<AccessToken>(
            Call::post(ServiceName::Registration, "/v1/auth/oidc", &body)
                .forwarded_for(visitor.forwarded_for.as_deref()),
        )
        .await
    {
        Ok(token) => token,
        Err(error)
            if error.is_status(403)
                && error
                    .problem()
                    .is_some_and(|p| p.type_uri.ends_with("no_role")) =>
        {
            return state.render_status(
                visitor,
                StatusCode::FORBIDDEN,
                "organiser/no_role.html",
                context! { institution => issuer.name, institutions => logins.buttons() },
            );
        }
        Err(error) if error.is_status(401) || error.is_status(422) => {
            tracing::warn!(issuer = %issuer.issuer, %error, "registration refused the ID token");
            return fail(Failed::Invalid);
        }
        Err(error) => return Err(error),
    };
    let mut response = Redirect::to(&attempt.next).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        visitor.cookie(
            SESSION_COOKIE,
            token.access_token,
            token.expires_in.unwrap_or(900).max(1),
        ),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloverleaf_service_kit::config::ExternalIssuerSettings;

    fn discovery(scopes: Option<&[&str]>, methods: Option<&[&str]>) -> Discovery {
        let list = |l: Option<&[&str]>| l.map(|l| l.iter().map(|s| (*s).to_owned()).collect());
        Discovery {
            issuer: "https://login.example".to_owned(),
            authorization_endpoint: "https://login.example/auth".to_owned(),
            token_endpoint: "https://login.example/token".to_owned(),
            scopes_supported: list(scopes),
            token_endpoint_auth_methods_supported: list(methods),
        }
    }

    #[test]
    fn only_offered_scopes_are_asked_for() {
        assert_eq!(
            discovery(None, None).scopes("groups"),
            "openid email profile groups"
        );
        assert_eq!(
            discovery(Some(&["openid", "email", "roles"]), None).scopes("groups"),
            "openid email"
        );
    }

    #[test]
    fn the_secret_goes_in_basic_unless_only_post_is_taken() {
        assert!(!discovery(None, None).posts_secret());
        assert!(
            !discovery(None, Some(&["client_secret_basic", "client_secret_post"])).posts_secret()
        );
        assert!(discovery(None, Some(&["client_secret_post"])).posts_secret());
    }

    fn with_issuer(generate: bool) -> Settings {
        let dir = tempfile::tempdir().expect("dir");
        let mut settings = cloverleaf_service_kit::testing::settings(dir.path());
        settings.auth.generate_missing_keys = generate;
        settings.auth.external_issuers.push(ExternalIssuerSettings {
            issuer: "https://login.charite.example/".to_owned(),
            jwks_url: "https://login.charite.example/certs".to_owned(),
            name: String::new(),
            client_id: "cloverleaf".to_owned(),
            client_secret: None,
            client_secret_env: String::new(),
            role_claim: "groups".to_owned(),
            roles: Default::default(),
            teams: Default::default(),
        });
        settings
    }

    #[test]
    fn production_needs_a_login_key_once_an_issuer_offers_a_login() {
        assert!(matches!(
            Logins::from_settings(&with_issuer(false)),
            Err(Error::Setting(_))
        ));
        let mut given = with_issuer(false);
        given.set("portal.login_key", "a long random secret for the seal");
        let logins = Logins::from_settings(&given).expect("with a key");
        assert_eq!(logins.issuers[0].name, "login.charite.example");
        assert_eq!(logins.issuers[0].issuer, "https://login.charite.example");
        assert!(Logins::from_settings(&with_issuer(true)).is_ok());
    }
}
