//! The pages: public ones ([`public`]: events, event pages, registering, the calendar file), the participant's manage
//! page reached from the emailed link ([`manage`]), the organisers' pages behind a login ([`organiser`]), and the
//! portal's own CSS and JavaScript ([`assets`]).
//!
//! Every request passes [`pages`] first: it works out the visitor's language (cookie, then `Accept-Language`), makes
//! sure they have a CSRF token (a random value in an HttpOnly, SameSite=Lax cookie that every POST form echoes in a
//! hidden field), reads the organiser's login (the access token in another HttpOnly, SameSite=Lax cookie), and turns
//! an [`Error`] a handler returned into a page in that language.

pub mod admin;
pub mod assets;
pub mod door;
pub mod form_editor;
pub mod history;
pub mod items;
pub mod manage;
pub mod oidc;
pub mod organiser;
pub mod public;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use base64::Engine;
use minijinja::{Value, context};
use rand::RngCore;
use serde::Deserialize;

use cloverleaf_service_kit::forwarded::{self, TrustedProxies};

use crate::Error;
use crate::backend::Backends;
use crate::domain::forms::Posted;
use crate::error::ErrorPage;
use crate::i18n::{Catalog, Locale};
use crate::render::Renderer;

pub const SESSION_COOKIE: &str = "cl_session";
pub const CSRF_COOKIE: &str = "cl_csrf";
pub const LANG_COOKIE: &str = "cl_lang";

#[derive(Clone, Debug)]
pub struct AppState {
    pub backends: Backends,
    pub pages: Arc<Renderer>,
    pub catalog: Arc<Catalog>,
    /// Country names in each language (CLDR).
    pub countries: Arc<crate::domain::countries::Countries>,
    /// Where people reach Cloverleaf (the edge): absolute links (calendar entries) start with it.
    pub public_url: String,
    /// The proxies (the edge) whose `X-Forwarded-For` is passed on (`http.trusted_proxies`).
    pub trusted_proxies: TrustedProxies,
    /// The institutions organisers can log in with (OpenID Connect), and the seal of logins under way.
    pub logins: Arc<oidc::Logins>,
}

/// Who is asking, as [`pages`] worked it out.
#[derive(Clone, Debug)]
pub struct Visitor {
    pub locale: Locale,
    /// The token every POST form must carry.
    pub csrf: String,
    /// An organiser's access token, from the session cookie.
    pub session: Option<String>,
    /// The path and query of this request (the language switch comes back here).
    pub here: String,
    pub method: Method,
    /// The client's address chain for the services (registration limits registrations per client).
    pub forwarded_for: Option<String>,
    /// Whether cookies get `Secure`: the visitor came over HTTPS.
    pub secure: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| Error::Template("the page middleware did not run".to_owned()))
    }
}

impl Visitor {
    /// The login, or [`Error::SignInNeeded`].
    pub fn organiser(&self) -> Result<&str, Error> {
        self.session.as_deref().ok_or(Error::SignInNeeded)
    }

    /// Checks the posted CSRF token against the cookie's, in constant time.
    pub fn check_csrf(&self, posted: &Posted) -> Result<(), Error> {
        let sent = posted.get("csrf").as_bytes();
        let expected = self.csrf.as_bytes();
        let same = sent.len() == expected.len()
            && sent
                .iter()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same { Ok(()) } else { Err(Error::Csrf) }
    }

    /// A cookie for this visitor: HttpOnly, SameSite=Lax, `Secure` over HTTPS. Values are tokens and language tags
    /// (base64url, JWT and BCP 47 characters only); anything else is dropped.
    pub fn cookie(&self, name: &'static str, value: String, max_age_secs: i64) -> HeaderValue {
        let value = if value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            value
        } else {
            String::new()
        };
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The parts of a page's path (ids), like axum's `Path`; an address whose id cannot be read is a page that does not
/// exist (the 404 page), not a parser's message.
pub struct Ids<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for Ids<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|_| Error::NotFound)
    }
}

/// A posted `application/x-www-form-urlencoded` form, every field kept (repeated names too).
pub struct Form(pub Posted);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        Ok(Self(Posted(pairs)))
    }
}

impl AppState {
    /// A page from `template` with what every page needs (language, CSRF token, login state, language switch).
    pub fn render(
        &self,
        visitor: &Visitor,
        template: &str,
        page: Value,
    ) -> Result<Response, Error> {
        self.render_status(visitor, StatusCode::OK, template, page)
    }

    pub fn render_status(
        &self,
        visitor: &Visitor,
        status: StatusCode,
        template: &str,
        page: Value,
    ) -> Result<Response, Error> {
        let switch: Vec<Value> = Locale::ALL
            .into_iter()
            .map(|l| {
                context! {
                    code => l.code(),
                    name => self.catalog.text(l, "language.name"),
                    current => l == visitor.locale,
                }
            })
            .collect();
        let context = context! {
            lang => visitor.locale.code(),
            csrf => visitor.csrf,
            here => visitor.here,
            signed_in => visitor.session.is_some(),
            is_admin => visitor.session.as_deref().is_some_and(admin::is_admin),
            languages => switch,
            ..page
        };
        let html = self.pages.render(visitor.locale, template, context)?;
        Ok((status, Html(html)).into_response())
    }

    fn error_page(&self, visitor: &Visitor, error: &Error) -> Response {
        if matches!(error, Error::SignInNeeded) {
            let next = if visitor.method == Method::GET {
                visitor.here.clone()
            } else {
                "/organiser".to_owned()
            };
            let location = format!(
                "/organiser/login?next={}",
                crate::domain::calendar::encode(&next)
            );
            let mut response = Redirect::to(&location).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                visitor.cookie(SESSION_COOKIE, String::new(), 0),
            );
            return response;
        }
        let kind = error.kind();
        let rendered = self.render_status(
            visitor,
            error.status(),
            "error.html",
            context! { kind => kind, status => error.status().as_u16() },
        );
        match rendered {
            Ok(mut response) => {
                if error.status() == StatusCode::SERVICE_UNAVAILABLE {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                }
                response
            }
            Err(failed) => {
                tracing::error!(error = %failed, "the error page failed");
                (
                    error.status(),
                    self.catalog
                        .text(visitor.locale, "error.internal.title")
                        .to_owned(),
                )
                    .into_response()
            }
        }
    }

    /// Whether the request came over HTTPS: said by a proxy, or the public URL is HTTPS and the request was for its
    /// host.
    fn secure(&self, headers: &HeaderMap) -> bool {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if header("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https")) {
            return true;
        }
        let Some(host) = header("x-forwarded-host").or_else(|| header("host")) else {
            return false;
        };
        self.public_url
            .strip_prefix("https://")
            .is_some_and(|rest| rest.trim_end_matches('/') == host)
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sane_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The middleware every page passes (see the module's text).
pub async fn pages(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let existing = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| sane_token(v));
    let accept_language = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    // The address chain to pass on: the edge's `X-Forwarded-For` (its last address is the visitor), else the peer
    // itself, so a caller cannot choose the address registration limits.
    let forwarded_for = state
        .trusted_proxies
        .chain_to_forward(forwarded::peer(request.extensions()), request.headers());
    let visitor = Visitor {
        locale: Locale::negotiate(jar.get(LANG_COOKIE).map(Cookie::value), accept_language),
        csrf: existing.clone().unwrap_or_else(new_token),
        session: jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty()),
        here: request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned()),
        method: request.method().clone(),
        forwarded_for,
        secure: state.secure(request.headers()),
    };
    request.extensions_mut().insert(visitor.clone());
    let mut response = next.run(request).await;
    if let Some(ErrorPage(error)) = response.extensions_mut().remove::<ErrorPage>() {
        response = state.error_page(&visitor, &error);
    }
    let headers = response.headers_mut();
    if existing.is_none() {
        headers.append(
            header::SET_COOKIE,
            visitor.cookie(CSRF_COOKIE, visitor.csrf.clone(), 60 * 60 * 24 * 30),
        );
    }
    // Only the portal's own files; no framing; no referrer (manage links carry their token in the query).
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// Where to go after a switch or a login: a path of this site only, else `default`. Browsers drop tabs and line
/// breaks from a URL and read a backslash as `/`, so `/<TAB>/evil.example` would lead to another site: refused are
/// anything that does not start with a single `/` (so `//host` and every `scheme:`), any control character and any
/// backslash. What passes is also a valid `Location` header value (a CR or LF there was a 500).
pub fn safe_next(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && HeaderValue::from_str(n).is_ok() =>
        {
            n.to_owned()
        }
        _ => default.to_owned(),
    }
}

/// `GET /lang/{code}?next=/path`: remembers the language for a year and goes back.
async fn language(
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<NextQuery>,
) -> Result<Response, Error> {
    let locale = Locale::from_language(&code).ok_or(Error::NotFound)?;
    let mut response = Redirect::to(&safe_next(query.next.as_deref(), "/")).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        visitor.cookie(LANG_COOKIE, locale.code().to_owned(), 60 * 60 * 24 * 365),
    );
    Ok(response)
}

async fn not_found() -> Error {
    Error::NotFound
}

/// Every page's route.
/// A service's answer passed on as a file to download (`filename`), read whole. `private`: personal data, never
/// kept by a cache on the way.
pub async fn attachment(
    answer: reqwest::Response,
    service: &'static str,
    content_type: &'static str,
    filename: &str,
    private: bool,
) -> Result<Response, Error> {
    let body = answer.bytes().await.map_err(|e| Error::Unavailable {
        service,
        reason: e.to_string(),
    })?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response();
    if private {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(public::events))
        .route("/events/{key}", get(public::event))
        .route("/events/{key}/calendar.ics", get(public::calendar))
        .route(
            "/events/{key}/register",
            get(public::register_form).post(public::register),
        )
        .route("/manage/{id}", get(manage::page))
        .route("/manage/{id}/confirmation", get(manage::confirmation))
        .route("/manage/{id}/answers", post(manage::update))
        .route("/manage/{id}/cancel", post(manage::cancel))
        .route("/manage/{id}/data", get(manage::data))
        .route("/manage/{id}/erase", post(manage::erase))
        .route("/manage/{id}/erased", get(manage::erased))
        .route("/m/{token}", get(manage::short_page))
        .route("/lang/{code}", get(language))
        .route("/static/{file}", get(assets::file))
        .route(
            "/organiser/login",
            get(organiser::login_form).post(organiser::login),
        )
        .route("/organiser/login/oidc/callback", get(oidc::callback))
        .route("/organiser/login/oidc/{n}", get(oidc::start))
        .route("/organiser/logout", post(organiser::logout))
        .route("/organiser", get(organiser::dashboard))
        .route("/organiser/events/new", get(organiser::new_event))
        .route("/organiser/events", post(organiser::create_event))
        .route(
            "/organiser/events/{id}",
            get(organiser::event).post(organiser::update_event),
        )
        .route(
            "/organiser/events/{id}/form",
            get(form_editor::editor).post(form_editor::post),
        )
        .route("/organiser/events/{id}/items", post(organiser::add_item))
        .route(
            "/organiser/events/{id}/items/{item}",
            get(items::page).post(items::save),
        )
        .route(
            "/organiser/events/{id}/items/{item}/delete",
            post(organiser::delete_item),
        )
        .route(
            "/organiser/events/{id}/reminders",
            post(organiser::update_reminders),
        )
        .route("/organiser/events/{id}/publish", post(organiser::publish))
        .route("/organiser/events/{id}/cancel", post(organiser::cancel))
        .route(
            "/organiser/events/{id}/registrations",
            get(organiser::registrations),
        )
        .route(
            "/organiser/events/{id}/registrations.csv",
            get(organiser::registrations_csv),
        )
        .route(
            "/organiser/events/{id}/registrations/{registration}/{action}",
            post(organiser::act),
        )
        .route("/organiser/events/{id}/messages", get(organiser::messages))
        .route(
            "/organiser/events/{id}/check-in",
            get(door::page).post(door::check_in),
        )
        .route("/organiser/events/{id}/check-in/list", get(door::list))
        .merge(admin::routes())
        .merge(history::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), pages))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/events/x?tz=UTC"), "/"), "/events/x?tz=UTC");
        assert_eq!(safe_next(Some("//evil.example"), "/"), "/");
        assert_eq!(safe_next(Some("https://evil.example"), "/"), "/");
        assert_eq!(safe_next(Some("/\\evil.example"), "/"), "/");
        assert_eq!(safe_next(Some("/\t/evil.example"), "/"), "/");
        assert_eq!(safe_next(Some("/\n/x"), "/"), "/");
        assert_eq!(safe_next(Some("/\r\n/x"), "/"), "/");
        assert_eq!(safe_next(Some("/\u{0}/x"), "/"), "/");
        assert_eq!(safe_next(Some("/\u{85}/x"), "/"), "/");
        assert_eq!(safe_next(Some("javascript:alert(1)"), "/"), "/");
        assert_eq!(safe_next(Some(" /x"), "/"), "/");
        assert_eq!(safe_next(Some("/events/x#agenda"), "/"), "/events/x#agenda");
        assert_eq!(safe_next(None, "/organiser"), "/organiser");
    }
}
