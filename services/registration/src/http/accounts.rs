//! Organisers' and admins' logins and accounts.
//!
//! - `POST /v1/auth/token`: email and password in, a short-lived access token good at every service out, carrying
//!   the account's teams and its role in each (`Claims.teams`). A wrong
//!   password, an unknown address and a disabled account get the same 401, after the same argon2 work; repeated
//!   failures for an address are slowed down, never locked ([`crate::domain::accounts`]); attempts from one client
//!   address, and for one account from one client address, are limited (429, [`super::limits`]).
//! - `/v1/accounts` (admins only): list, create, read and change accounts. Password hashes never leave the service.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use cloverleaf_auth::{Admin, TokenRequest};
use cloverleaf_service_kit::extract::{Json, Path, Query};
use cloverleaf_service_kit::forwarded::ClientAddress;
use cloverleaf_service_kit::pagination::{Page, PageQuery};
use cloverleaf_service_kit::validate::Fields;
use cloverleaf_service_kit::{FieldError, Problem};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::Error;
use crate::domain::accounts::{
    self, AccountChange, AccountEmail, AccountRole, EMAIL_MAX_OCTETS, PASSWORD_MAX_CHARS, Password,
};
use crate::store::accounts::{self as store, NewAccount, account};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token))
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(get_account, update_account))
}

// ---------------------------------------------------------------------------------------------------------------
// Logging in

/// An organiser's or admin's credentials.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenInput {
    /// The account's email address (case does not matter).
    #[schema(example = "office@permed.example.org")]
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

/// An access token (RFC 6750 bearer token), good at every Cloverleaf service until it expires.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenView {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// The one answer to every failed login, whatever went wrong, so that it tells nobody which addresses have accounts.
fn login_failed() -> Error {
    Problem::unauthorized("the email address or the password is not right").into()
}

/// Log in with email and password; the token is good at every service for `expires_in` seconds.
///
/// After 5 consecutive failures for an address (from anywhere) each further attempt is answered later: 1 s, doubling
/// per failure up to 8 s; never refused for them, so nobody can lock a real organiser out. A success resets the
/// count. Attempts from one client address (any account), and for one account from one client address, are limited
/// (`rate_limit.logins_*`): beyond them 429 with `Retry-After`.
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth", request_body = TokenInput,
    responses(
        (status = 200, body = TokenView),
        (status = 401, description = "wrong email address or password, or the account is disabled", body = Problem),
        (status = 422, body = Problem),
        (status = 429, description = "too many login attempts from this client address; see Retry-After", body = Problem),
    ))]
pub async fn issue_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(input): Json<TokenInput>,
) -> Result<impl IntoResponse, Error> {
    state.limits.login_from(client)?;
    let email = accounts::login_key(&input.email);
    if email.len() > EMAIL_MAX_OCTETS || input.password.chars().count() > PASSWORD_MAX_CHARS {
        // No account has such an address or password: refused after the same work, and not counted (nothing
        // unbounded is stored).
        store::check_password(None, String::new()).await?;
        return Err(login_failed());
    }
    state.limits.login_for(client, &email)?;
    let now = Utc::now();
    let delay = store::begin_login_attempt(&state.db, &email, now).await?;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let found = store::account_by_email(&state.db, &email).await?;
    let right = store::check_password(
        found.as_ref().map(|a| a.password_hash.clone()),
        input.password,
    )
    .await?;
    let Some(found) = found.filter(|a| right && !a.disabled) else {
        // The attempt stays counted as a failure.
        store::forget_stale_failures(&state.db, now).await?;
        return Err(login_failed());
    };
    let role = store::role_of(&found)?;
    store::login_succeeded(&state.db, &email, found.id, now).await?;
    // The account's teams and its role in each, read at every login (a changed role counts from the next one).
    // Admins' memberships ride along too: harmless, since an admin sees every team's data anyway.
    let teams = crate::store::teams::grants_of(&state.db, found.id).await?;
    let issued = state
        .issuer
        .issue(TokenRequest {
            subject: found.email.clone(),
            role: role.token_role(),
            scope: None,
            teams,
            audience: cloverleaf_auth::audience::ALL
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
            ttl: Duration::from_secs(state.settings.auth.access_token_ttl_secs),
        })
        .map_err(|error| {
            tracing::error!(%error, "cannot sign an access token");
            Error::from(Problem::internal())
        })?;
    tracing::info!(account = %found.id, role = role.as_str(), "logged in");
    Ok((
        // RFC 6749 §5.1: token responses are never cached.
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(TokenView {
            access_token: issued.token,
            token_type: "Bearer".to_owned(),
            expires_in: issued.expires_in.as_secs(),
        }),
    ))
}

// ---------------------------------------------------------------------------------------------------------------
// Accounts (admins)

/// An account as admins see it; never its password.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: Uuid,
    /// Lower-case.
    pub email: String,
    pub name: String,
    pub role: AccountRole,
    /// A disabled account cannot log in.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl AccountView {
    fn new(model: account::Model) -> Result<Self, Error> {
        Ok(Self {
            role: store::role_of(&model)?,
            id: model.id,
            email: model.email,
            name: model.name,
            disabled: model.disabled,
            created_at: model.created_at,
            updated_at: model.updated_at,
            last_login_at: model.last_login_at,
        })
    }
}

/// A new account.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AccountInput {
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
    /// `organiser` or `admin`.
    #[schema(required = true, example = "organiser")]
    pub role: Option<String>,
    /// 12–1024 characters.
    #[schema(required = true, format = Password)]
    pub password: Option<String>,
}

impl AccountInput {
    fn validate(self) -> Result<NewAccount, Problem> {
        let mut f = Fields::default();
        let email = f
            .required("email", self.email.as_deref())
            .and_then(|e| f.check("email", AccountEmail::parse(e)));
        let name = f
            .required("name", self.name.as_deref())
            .and_then(|n| f.check("name", accounts::account_name(n)));
        let role = f
            .required("role", self.role.as_deref())
            .and_then(|r| f.check("role", AccountRole::parse(r)));
        let password = match self.password {
            Some(p) => f.check("password", Password::parse(p)),
            None => {
                f.required("password", None);
                None
            }
        };
        f.finish()?;
        match (email, name, role, password) {
            (Some(email), Some(name), Some(role), Some(password)) => Ok(NewAccount {
                email,
                name,
                role,
                password,
            }),
            _ => Err(Problem::internal()),
        }
    }
}

/// What to change about an account; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub name: Option<String>,
    /// `organiser` or `admin`.
    pub role: Option<String>,
    pub disabled: Option<bool>,
}

impl AccountPatch {
    fn validate(self) -> Result<AccountChange, Problem> {
        let mut f = Fields::default();
        let name = self
            .name
            .as_deref()
            .and_then(|n| f.check("name", accounts::account_name(n)));
        let role = self
            .role
            .as_deref()
            .and_then(|r| f.check("role", AccountRole::parse(r)));
        f.finish()?;
        Ok(AccountChange {
            name,
            role,
            disabled: self.disabled,
        })
    }
}

/// All accounts, by email address.
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = inline(Page<AccountView>)), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    _admin: Admin,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<AccountView>>, Error> {
    let limit = page.limit()?;
    // The cursor is an address this list gave out; anything else (a NUL byte, which PostgreSQL refuses in text and
    // answered 500) is not one.
    let after: Option<String> = page.cursor()?;
    if after
        .as_deref()
        .is_some_and(|a| a.chars().count() > 254 || a.chars().any(char::is_control))
    {
        return Err(Problem::invalid(vec![FieldError::new(
            "cursor",
            "invalid",
            "is not a cursor this list gave out",
        )])
        .into());
    }
    let rows = store::list_accounts(&state.db, after, limit).await?;
    let page = Page::from_rows(rows, limit, |a| a.email.clone(), AccountView::new);
    Ok(Json(Page {
        items: page.items.into_iter().collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    }))
}

/// Create an organiser's or admin's account (as `cloverleaf accounts create` does on the command line).
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = AccountInput,
    security(("bearer" = [])),
    responses((status = 201, body = AccountView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "the email address has an account", body = Problem),
        (status = 422, body = Problem)))]
pub async fn create_account(
    State(state): State<AppState>,
    _admin: Admin,
    Json(input): Json<AccountInput>,
) -> Result<impl IntoResponse, Error> {
    let created = store::create_account(&state.db, input.validate()?).await?;
    tracing::info!(account = %created.id, role = created.role.as_str(), "account created");
    Ok((StatusCode::CREATED, Json(AccountView::new(created)?)))
}

#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = AccountView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn get_account(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<Uuid>,
) -> Result<Json<AccountView>, Error> {
    Ok(Json(AccountView::new(
        store::account(&state.db, id).await?,
    )?))
}

/// Rename an account, change its role, or disable or enable it. An admin cannot disable or demote their own account
/// (409). A disabled account cannot log in; tokens it already holds run out within their lifetime.
#[utoipa::path(patch, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = Uuid, Path)),
    request_body = AccountPatch, security(("bearer" = [])),
    responses((status = 200, body = AccountView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "an admin's change to their own access", body = Problem),
        (status = 422, body = Problem)))]
pub async fn update_account(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<Uuid>,
    Json(input): Json<AccountPatch>,
) -> Result<Json<AccountView>, Error> {
    let change = input.validate()?;
    let updated = store::update_account(&state.db, id, change, &admin.0.sub).await?;
    tracing::info!(account = %updated.id, by = %admin.0.sub, "account changed");
    Ok(Json(AccountView::new(updated)?))
}
