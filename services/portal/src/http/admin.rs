//! Admins' pages, behind the organiser login: accounts (create one, change its role, disable it), teams (create,
//! rename) and their members (add an account with a role in the team, change the role, remove it), and the audit
//! trail. Registration owns all of it (`/v1/accounts`, `/v1/teams`, `/v1/audit`, admins only) and decides on every
//! call; the pages refuse anyone whose token does not say admin before asking, so an organiser sees the refusal
//! page instead of half a page.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cloverleaf_auth::{Claims, Role};
use cloverleaf_problem::{FieldError, Problem};
use cloverleaf_service_kit::config::ServiceName;
use minijinja::{Value, context};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::organiser::{staff, token_payload};
use super::{AppState, Form, Ids, Visitor};
use crate::Error;
use crate::backend::Call;
use crate::domain::calendar::encode;
use crate::domain::forms::{Choice, Field, FieldErrors, Posted};
use crate::domain::model::Page;
use crate::domain::time;
use crate::i18n::{Catalog, Locale};

/// The admin pages' routes, merged into the portal's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/organiser/admin", get(index))
        .route(
            "/organiser/admin/accounts",
            get(accounts).post(create_account),
        )
        .route("/organiser/admin/accounts/{id}", post(update_account))
        .route("/organiser/admin/teams", get(teams).post(create_team))
        .route("/organiser/admin/teams/{id}", get(team).post(update_team))
        .route("/organiser/admin/teams/{id}/members", post(set_member))
        .route(
            "/organiser/admin/teams/{id}/members/{account}/remove",
            post(remove_member),
        )
        .route("/organiser/admin/audit", get(audit))
}

/// The account roles registration knows, and a team member's roles, as it names them.
const ACCOUNT_ROLES: [&str; 2] = ["organiser", "admin"];
const TEAM_ROLES: [&str; 3] = ["organiser", "viewer", "check_in"];
/// What the audit trail records, as registration names it.
const AUDIT_ACTIONS: [&str; 6] = [
    "approved",
    "rejected",
    "checked_in",
    "exported",
    "erased",
    "permissions_changed",
];
/// Most lists registration gives in one page.
const ALL: u32 = 500;

// ---- what registration answers ----

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub last_login_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Member {
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    #[serde(default)]
    pub name_zh: Option<String>,
    /// Only where one team is read.
    #[serde(default)]
    pub members: Option<Vec<Member>>,
}

impl Team {
    /// The name in the visitor's language (Chinese where there is one).
    fn name_in(&self, locale: Locale) -> String {
        match (locale, &self.name_zh) {
            (Locale::ZhCn, Some(zh)) if !zh.is_empty() => zh.clone(),
            _ => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    #[serde(default)]
    pub event_id: Option<Uuid>,
    #[serde(default)]
    pub registration_id: Option<Uuid>,
    #[serde(default)]
    pub detail: serde_json::Value,
}

// ---- who may ----

/// Whether the login's token says admin: for the "Admin" link in the navigation (registration decides on every
/// call; this only leaves out what it would refuse).
pub fn is_admin(token: &str) -> bool {
    token_payload::<Claims>(token).is_some_and(|claims| claims.role == Role::Admin)
}

/// The login, if it is an admin's; anyone else gets the refusal page.
fn admin_login(visitor: &Visitor) -> Result<&str, Error> {
    let token = visitor.organiser()?;
    if is_admin(token) {
        Ok(token)
    } else {
        Err(Error::Forbidden)
    }
}

// ---- shared bits ----

fn select(name: &str, label: String, values: &[(&str, String)], chosen: &str) -> Field {
    Field::new(name, "select", label, true).options(
        values
            .iter()
            .map(|(value, label)| Choice {
                value: (*value).to_owned(),
                label: label.clone(),
                checked: *value == chosen,
            })
            .collect(),
    )
}

fn first(values: &HashMap<String, Vec<String>>, name: &str) -> String {
    values
        .get(name)
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default()
}

fn labelled_roles(
    catalog: &Catalog,
    locale: Locale,
    section: &str,
    roles: &[&'static str],
) -> Vec<(&'static str, String)> {
    roles
        .iter()
        .map(|r| {
            (
                *r,
                catalog
                    .text(locale, &format!("admin.{section}.{r}"))
                    .to_owned(),
            )
        })
        .collect()
}

/// The problem's messages in the visitor's language where the catalogs know their codes (`admin.field_error.*`
/// for the codes only these pages meet, then the shared `field_error.*`), so that [`FieldErrors::from_problem`]
/// shows them translated.
fn translated(problem: Option<&Problem>, catalog: &Catalog, locale: Locale) -> Option<Problem> {
    problem.map(|p| {
        let mut p = p.clone();
        for error in &mut p.errors {
            let own = format!("admin.field_error.{}", error.code);
            if catalog.has(locale, &own) {
                error.message = catalog.text(locale, &own).to_owned();
            }
        }
        p
    })
}

/// A problem's messages without the field names (a row's own form, where the field is plain).
fn messages(problem: Option<&Problem>, catalog: &Catalog, locale: Locale) -> Vec<String> {
    let Some(problem) = translated(problem, catalog, locale) else {
        return Vec::new();
    };
    let mut out: Vec<String> = problem
        .errors
        .iter()
        .map(|e| {
            let shared = format!("field_error.{}", e.code);
            if catalog.has(locale, &shared) {
                catalog.text(locale, &shared).to_owned()
            } else {
                e.message.clone()
            }
        })
        .collect();
    if out.is_empty() {
        out.push(
            problem
                .detail
                .clone()
                .unwrap_or_else(|| catalog.text(locale, "admin.failed").to_owned()),
        );
    }
    out
}

/// An answer the page shows again with its errors: the form's refusals (422, 409) and a missing account or member
/// (404, when it was removed meanwhile). Anything else is the error page.
fn shown_again(error: &Error) -> bool {
    matches!(error, Error::Backend { status, .. } if matches!(*status, 404 | 409 | 422))
}

fn status_of(error: &Error) -> StatusCode {
    if error.is_status(409) {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

async fn all_accounts(state: &AppState, token: &str) -> Result<Vec<Account>, Error> {
    let page: Page<Account> = state
        .backends
        .json(
            Call::get(
                ServiceName::Registration,
                format!("/v1/accounts?limit={ALL}"),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(staff)?;
    Ok(page.items)
}

/// Every team, each with its members (one call per team: an admin's page over a programme's few partners).
async fn teams_with_members(state: &AppState, token: &str) -> Result<Vec<Team>, Error> {
    let list: Page<Team> = state
        .backends
        .json(
            Call::get(ServiceName::Registration, format!("/v1/teams?limit={ALL}"))
                .bearer(Some(token)),
        )
        .await
        .map_err(staff)?;
    let read = futures::future::join_all(list.items.iter().map(|team| {
        state.backends.json::<Team>(
            Call::get(ServiceName::Registration, format!("/v1/teams/{}", team.id))
                .bearer(Some(token)),
        )
    }))
    .await;
    read.into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(staff)
}

/// `GET /organiser/admin`: the accounts page is the admin pages' first.
async fn index(visitor: Visitor) -> Result<Response, Error> {
    admin_login(&visitor)?;
    Ok(Redirect::to("/organiser/admin/accounts").into_response())
}

// ---- accounts ----

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub cursor: Option<String>,
    pub done: Option<String>,
}

#[derive(Debug, Default)]
struct AccountsPage<'a> {
    cursor: Option<String>,
    done: Option<String>,
    /// The create form as posted, and what registration said about it.
    posted: Option<&'a Posted>,
    problem: Option<&'a Problem>,
    /// One row's change refused: the account and the messages.
    row: Option<(Uuid, Vec<String>)>,
    status: Option<StatusCode>,
}

fn account_fields(
    catalog: &Catalog,
    locale: Locale,
    values: &HashMap<String, Vec<String>>,
    errors: &FieldErrors,
) -> Vec<Field> {
    let t = |key: &str| catalog.text(locale, key).to_owned();
    let roles = labelled_roles(catalog, locale, "account_role", &ACCOUNT_ROLES);
    let chosen = Some(first(values, "role"))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "organiser".to_owned());
    vec![
        Field::new("email", "email", t("admin.email"), true)
            .autocomplete("off")
            .with(values, errors),
        Field::new("name", "text", t("admin.name"), true).with(values, errors),
        select("role", t("admin.account_role_label"), &roles, &chosen)
            .hint(t("admin.account_role_hint"))
            .with(values, errors),
        Field::new("password", "password", t("admin.password"), true)
            .hint(t("admin.password_hint"))
            .autocomplete("new-password")
            .with(values, errors),
    ]
}

/// `GET /organiser/admin/accounts?cursor=`: every account with its teams, and the form to create one.
async fn accounts(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<ListQuery>,
) -> Result<Response, Error> {
    let done = query
        .done
        .filter(|d| matches!(d.as_str(), "account_created" | "account_updated"));
    accounts_page(
        &state,
        &visitor,
        AccountsPage {
            cursor: query.cursor,
            done,
            ..AccountsPage::default()
        },
    )
    .await
}

async fn accounts_page(
    state: &AppState,
    visitor: &Visitor,
    page: AccountsPage<'_>,
) -> Result<Response, Error> {
    let token = admin_login(visitor)?;
    let (catalog, locale) = (&state.catalog, visitor.locale);
    let mut path = "/v1/accounts?limit=100".to_owned();
    if let Some(cursor) = page.cursor.as_deref().filter(|c| !c.is_empty()) {
        path.push_str(&format!("&cursor={}", encode(cursor)));
    }
    let list: Page<Account> = match state
        .backends
        .json(Call::get(ServiceName::Registration, path).bearer(Some(token)))
        .await
    {
        Ok(list) => list,
        // A cursor this list never gave out: its first page.
        Err(error) if error.is_status(422) => state
            .backends
            .json(
                Call::get(ServiceName::Registration, "/v1/accounts?limit=100").bearer(Some(token)),
            )
            .await
            .map_err(staff)?,
        Err(error) => return Err(staff(error)),
    };
    let teams = teams_with_members(state, token).await?;
    let mut memberships: HashMap<Uuid, Vec<Value>> = HashMap::new();
    for team in &teams {
        for member in team.members.iter().flatten() {
            memberships
                .entry(member.account_id)
                .or_default()
                .push(context! {
                    id => team.id,
                    name => team.name_in(locale),
                    role => member.role,
                });
        }
    }
    let own = token_payload::<Claims>(token).map(|c| c.sub);
    let roles = labelled_roles(catalog, locale, "account_role", &ACCOUNT_ROLES);
    let rows: Vec<Value> = list
        .items
        .iter()
        .map(|account| {
            let row_errors = page
                .row
                .as_ref()
                .filter(|(id, _)| *id == account.id)
                .map(|(_, messages)| messages.clone());
            context! {
                account => account,
                teams => memberships.get(&account.id).cloned().unwrap_or_default(),
                last_login => account.last_login_at.map(|t| time::moment(t, Tz::UTC)),
                roles => roles.iter().map(|(value, label)| context! { value => value, label => label, chosen => *value == account.role }).collect::<Vec<_>>(),
                yours => own.as_deref() == Some(account.email.as_str()),
                errors => row_errors,
            }
        })
        .collect();
    let mut values = page.posted.map(Posted::values).unwrap_or_default();
    // A password is never shown again.
    values.remove("password");
    let empty = FieldErrors::default();
    let placed: Vec<String> = account_fields(catalog, locale, &values, &empty)
        .into_iter()
        .map(|f| f.name)
        .collect();
    let problem = translated(page.problem, catalog, locale);
    let errors = FieldErrors::from_problem(problem.as_ref(), &placed, catalog, locale);
    let fields = account_fields(catalog, locale, &values, &errors);
    state.render_status(
        visitor,
        page.status.unwrap_or(StatusCode::OK),
        "organiser/admin/accounts.html",
        context! {
            section => "accounts",
            rows => rows,
            next => list.next_cursor.map(|c| encode(&c)),
            paged => page.cursor.is_some(),
            fields => fields,
            general_errors => errors.general,
            error_count => errors.by_field.len() + errors.general.len(),
            done => page.done,
        },
    )
}

/// `POST /organiser/admin/accounts`: creates an account (registration checks the address, the name, the role and
/// the password's length).
async fn create_account(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = admin_login(&visitor)?;
    // The password as typed: spaces are part of it.
    let password = posted
        .0
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let body = json!({
        "email": posted.get("email"),
        "name": posted.get("name"),
        "role": posted.get("role"),
        "password": password,
    });
    let sent = state
        .backends
        .done(Call::post(ServiceName::Registration, "/v1/accounts", &body).bearer(Some(token)))
        .await;
    match sent {
        Ok(()) => {
            Ok(Redirect::to("/organiser/admin/accounts?done=account_created").into_response())
        }
        Err(error) if shown_again(&error) => {
            accounts_page(
                &state,
                &visitor,
                AccountsPage {
                    posted: Some(&posted),
                    problem: error.problem(),
                    status: Some(status_of(&error)),
                    ..AccountsPage::default()
                },
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}

/// `POST /organiser/admin/accounts/{id}`: an account's role and whether it is disabled (an admin cannot demote or
/// disable themselves: registration refuses, and the row says why).
async fn update_account(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = admin_login(&visitor)?;
    let body = json!({ "role": posted.get("role"), "disabled": posted.checked("disabled") });
    let sent = state
        .backends
        .done(
            Call::new(
                Method::PATCH,
                ServiceName::Registration,
                format!("/v1/accounts/{id}"),
            )
            .bearer(Some(token))
            .body(&body),
        )
        .await;
    match sent {
        Ok(()) => Ok(Redirect::to(&format!(
            "/organiser/admin/accounts?done=account_updated#account-{id}"
        ))
        .into_response()),
        Err(error) if shown_again(&error) => {
            let said = messages(error.problem(), &state.catalog, visitor.locale);
            accounts_page(
                &state,
                &visitor,
                AccountsPage {
                    row: Some((id, said)),
                    status: Some(status_of(&error)),
                    ..AccountsPage::default()
                },
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}

// ---- teams ----

fn team_fields(
    catalog: &Catalog,
    locale: Locale,
    values: &HashMap<String, Vec<String>>,
    errors: &FieldErrors,
) -> Vec<Field> {
    let t = |key: &str| catalog.text(locale, key).to_owned();
    vec![
        Field::new("name", "text", t("admin.team_name"), true)
            .hint(t("admin.team_name_hint"))
            .with(values, errors),
        Field::new("name_zh", "text", t("admin.team_name_zh"), false).with(values, errors),
    ]
}

fn field_names(fields: &[Field]) -> Vec<String> {
    fields.iter().map(|f| f.name.clone()).collect()
}

/// `GET /organiser/admin/teams`: every team with its members counted, and the form to create one.
async fn teams(State(state): State<AppState>, visitor: Visitor) -> Result<Response, Error> {
    teams_page(&state, &visitor, None, None, StatusCode::OK).await
}

async fn teams_page(
    state: &AppState,
    visitor: &Visitor,
    posted: Option<&Posted>,
    problem: Option<&Problem>,
    status: StatusCode,
) -> Result<Response, Error> {
    let token = admin_login(visitor)?;
    let (catalog, locale) = (&state.catalog, visitor.locale);
    let teams = teams_with_members(state, token).await?;
    let rows: Vec<Value> = teams
        .iter()
        .map(|team| {
            let members = team.members.as_deref().unwrap_or_default();
            let counts: Vec<Value> = TEAM_ROLES
                .iter()
                .map(|r| context! { role => r, count => members.iter().filter(|m| m.role == *r).count() })
                .collect();
            context! { team => team, members => members.len(), counts => counts }
        })
        .collect();
    let values = posted.map(Posted::values).unwrap_or_default();
    let empty = FieldErrors::default();
    let placed = field_names(&team_fields(catalog, locale, &values, &empty));
    let problem = translated(problem, catalog, locale);
    let errors = FieldErrors::from_problem(problem.as_ref(), &placed, catalog, locale);
    let fields = team_fields(catalog, locale, &values, &errors);
    state.render_status(
        visitor,
        status,
        "organiser/admin/teams.html",
        context! {
            section => "teams",
            rows => rows,
            roles => TEAM_ROLES,
            fields => fields,
            general_errors => errors.general,
            error_count => errors.by_field.len() + errors.general.len(),
        },
    )
}

/// The team's names as registration takes them; a blank Chinese name is left out (new) or removed (`null`).
fn team_body(posted: &Posted, had_chinese: bool) -> serde_json::Value {
    let mut body = json!({ "name": posted.get("name") });
    match posted.opt("name_zh") {
        Some(zh) => body["name_zh"] = json!(zh),
        None if had_chinese => body["name_zh"] = serde_json::Value::Null,
        None => {}
    }
    body
}

/// `POST /organiser/admin/teams`: creates a team and opens its page.
async fn create_team(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = admin_login(&visitor)?;
    let body = team_body(&posted, false);
    match state
        .backends
        .json::<Team>(Call::post(ServiceName::Registration, "/v1/teams", &body).bearer(Some(token)))
        .await
    {
        Ok(team) => Ok(Redirect::to(&format!(
            "/organiser/admin/teams/{}?done=team_created",
            team.id
        ))
        .into_response()),
        Err(error) if shown_again(&error) => {
            teams_page(
                &state,
                &visitor,
                Some(&posted),
                error.problem(),
                status_of(&error),
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}

#[derive(Debug, Default)]
struct TeamPage<'a> {
    done: Option<String>,
    /// The rename form as posted, and what registration said.
    rename_posted: Option<&'a Posted>,
    rename_problem: Option<&'a Problem>,
    /// The add-a-member form as posted, and what registration said.
    add_posted: Option<&'a Posted>,
    add_problem: Option<&'a Problem>,
    /// One member's change refused: the account and the messages.
    row: Option<(Uuid, Vec<String>)>,
    status: Option<StatusCode>,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// `GET /organiser/admin/teams/{id}`: the team's members and their roles, adding, changing and removing them, and
/// its names.
async fn team(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, Error> {
    let done = query.done.filter(|d| {
        matches!(
            d.as_str(),
            "team_created" | "team_renamed" | "member_added" | "member_changed" | "member_removed"
        )
    });
    team_page(
        &state,
        &visitor,
        id,
        TeamPage {
            done,
            ..TeamPage::default()
        },
    )
    .await
}

async fn fetch_team(state: &AppState, token: &str, id: Uuid) -> Result<Team, Error> {
    state
        .backends
        .json(Call::get(ServiceName::Registration, format!("/v1/teams/{id}")).bearer(Some(token)))
        .await
        .map_err(|e| super::public::not_found_as_page(staff(e)))
}

fn member_fields(
    catalog: &Catalog,
    locale: Locale,
    candidates: &[&Account],
    values: &HashMap<String, Vec<String>>,
    errors: &FieldErrors,
) -> Vec<Field> {
    let t = |key: &str| catalog.text(locale, key).to_owned();
    let chosen_account = first(values, "account_id");
    let accounts: Vec<(String, String)> = candidates
        .iter()
        .map(|a| (a.id.to_string(), format!("{} <{}>", a.name, a.email)))
        .collect();
    // Nobody chosen at first: an admin picks the account, never gets the first one by mistake.
    let accounts: Vec<(&str, String)> = std::iter::once(("", t("form.choose")))
        .chain(
            accounts
                .iter()
                .map(|(id, label)| (id.as_str(), label.clone())),
        )
        .collect();
    let roles = labelled_roles(catalog, locale, "team_role", &TEAM_ROLES);
    let chosen_role = Some(first(values, "role"))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "organiser".to_owned());
    vec![
        select(
            "account_id",
            t("admin.member_account"),
            &accounts,
            &chosen_account,
        )
        .with(values, errors),
        select("role", t("admin.member_role"), &roles, &chosen_role)
            .hint(t("admin.member_role_hint"))
            .with(values, errors),
    ]
}

async fn team_page(
    state: &AppState,
    visitor: &Visitor,
    id: Uuid,
    page: TeamPage<'_>,
) -> Result<Response, Error> {
    let token = admin_login(visitor)?;
    let (catalog, locale) = (&state.catalog, visitor.locale);
    let team = fetch_team(state, token, id).await?;
    let accounts = all_accounts(state, token).await?;
    let members = team.members.clone().unwrap_or_default();
    let candidates: Vec<&Account> = accounts
        .iter()
        .filter(|a| !members.iter().any(|m| m.account_id == a.id))
        .collect();
    let empty = FieldErrors::default();

    let rename_values = page.rename_posted.map_or_else(
        || {
            HashMap::from([
                ("name".to_owned(), vec![team.name.clone()]),
                (
                    "name_zh".to_owned(),
                    team.name_zh.clone().into_iter().collect(),
                ),
            ])
        },
        Posted::values,
    );
    let placed = field_names(&team_fields(catalog, locale, &rename_values, &empty));
    let problem = translated(page.rename_problem, catalog, locale);
    let rename_errors = FieldErrors::from_problem(problem.as_ref(), &placed, catalog, locale);
    let rename_fields = team_fields(catalog, locale, &rename_values, &rename_errors);

    let add_values = page.add_posted.map(Posted::values).unwrap_or_default();
    let placed = field_names(&member_fields(
        catalog,
        locale,
        &candidates,
        &add_values,
        &empty,
    ));
    let problem = translated(page.add_problem, catalog, locale);
    let add_errors = FieldErrors::from_problem(problem.as_ref(), &placed, catalog, locale);
    let add_fields = member_fields(catalog, locale, &candidates, &add_values, &add_errors);

    let roles = labelled_roles(catalog, locale, "team_role", &TEAM_ROLES);
    let rows: Vec<Value> = members
        .iter()
        .map(|m| {
            context! {
                member => m,
                roles => roles.iter().map(|(value, label)| context! { value => value, label => label, chosen => *value == m.role }).collect::<Vec<_>>(),
                errors => page.row.as_ref().filter(|(account, _)| *account == m.account_id).map(|(_, said)| said.clone()),
            }
        })
        .collect();
    state.render_status(
        visitor,
        page.status.unwrap_or(StatusCode::OK),
        "organiser/admin/team.html",
        context! {
            section => "teams",
            team => team,
            title => team.name_in(locale),
            rows => rows,
            rename_fields => rename_fields,
            rename_errors => rename_errors.general,
            rename_error_count => rename_errors.by_field.len() + rename_errors.general.len(),
            add_fields => add_fields,
            add_errors => add_errors.general,
            add_error_count => add_errors.by_field.len() + add_errors.general.len(),
            can_add => !candidates.is_empty(),
            done => page.done,
        },
    )
}

/// `POST /organiser/admin/teams/{id}`: renames the team (a blank Chinese name removes it).
async fn update_team(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = admin_login(&visitor)?;
    let stored = fetch_team(&state, token, id).await?;
    let body = team_body(&posted, stored.name_zh.is_some());
    let sent = state
        .backends
        .done(
            Call::new(
                Method::PATCH,
                ServiceName::Registration,
                format!("/v1/teams/{id}"),
            )
            .bearer(Some(token))
            .body(&body),
        )
        .await;
    match sent {
        Ok(()) => Ok(
            Redirect::to(&format!("/organiser/admin/teams/{id}?done=team_renamed")).into_response(),
        ),
        Err(error) if shown_again(&error) => {
            team_page(
                &state,
                &visitor,
                id,
                TeamPage {
                    rename_posted: Some(&posted),
                    rename_problem: error.problem(),
                    status: Some(status_of(&error)),
                    ..TeamPage::default()
                },
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}

/// `POST /organiser/admin/teams/{id}/members`: adds the account with the role, or (from a member's row, `change`)
/// changes its role.
async fn set_member(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = admin_login(&visitor)?;
    let change = posted.checked("change");
    let Ok(account) = Uuid::parse_str(posted.get("account_id")) else {
        let problem = Problem::invalid(vec![FieldError::new(
            "account_id",
            "required",
            "choose an account",
        )]);
        return team_page(
            &state,
            &visitor,
            id,
            TeamPage {
                add_posted: Some(&posted),
                add_problem: Some(&problem),
                status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                ..TeamPage::default()
            },
        )
        .await;
    };
    let body = json!({ "role": posted.get("role") });
    let sent = state
        .backends
        .done(
            Call::new(
                Method::PUT,
                ServiceName::Registration,
                format!("/v1/teams/{id}/members/{account}"),
            )
            .bearer(Some(token))
            .body(&body),
        )
        .await;
    match sent {
        Ok(()) => Ok(Redirect::to(&format!(
            "/organiser/admin/teams/{id}?done={}#members",
            if change {
                "member_changed"
            } else {
                "member_added"
            }
        ))
        .into_response()),
        // The team itself gone: its 404 page.
        Err(error) if error.is_status(404) && fetch_team(&state, token, id).await.is_err() => {
            Err(Error::NotFound)
        }
        Err(error) if shown_again(&error) => {
            let mut page = TeamPage {
                status: Some(status_of(&error)),
                ..TeamPage::default()
            };
            if change {
                page.row = Some((
                    account,
                    messages(error.problem(), &state.catalog, visitor.locale),
                ));
            } else {
                page.add_posted = Some(&posted);
                page.add_problem = error.problem();
            }
            team_page(&state, &visitor, id, page).await
        }
        Err(error) => Err(staff(error)),
    }
}

/// `POST /organiser/admin/teams/{id}/members/{account}/remove`: ends the membership.
async fn remove_member(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids((id, account)): Ids<(Uuid, Uuid)>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = admin_login(&visitor)?;
    let sent = state
        .backends
        .done(
            Call::new(
                Method::DELETE,
                ServiceName::Registration,
                format!("/v1/teams/{id}/members/{account}"),
            )
            .bearer(Some(token)),
        )
        .await;
    match sent {
        // Removed, or no longer a member (removed meanwhile): the page as it now is.
        Ok(()) => Ok(Redirect::to(&format!(
            "/organiser/admin/teams/{id}?done=member_removed#members"
        ))
        .into_response()),
        Err(error) if error.is_status(404) => {
            fetch_team(&state, token, id).await?;
            Ok(Redirect::to(&format!("/organiser/admin/teams/{id}#members")).into_response())
        }
        Err(error) => Err(staff(error)),
    }
}

// ---- audit trail ----

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub event_id: Option<String>,
    pub cursor: Option<String>,
}

/// A role's label, or "—" for none (an added member had none before, a removed one has none after).
fn role_label(catalog: &Catalog, locale: Locale, role: Option<&str>) -> String {
    match role {
        Some(r) => {
            let key = format!("admin.team_role.{r}");
            if catalog.has(locale, &key) {
                catalog.text(locale, &key).to_owned()
            } else {
                r.to_owned()
            }
        }
        None => catalog.text(locale, "admin.audit_none").to_owned(),
    }
}

/// What an entry did, in words: a membership's team, account and roles; a registration's status before and after;
/// what an export took out.
fn audit_what(
    catalog: &Catalog,
    locale: Locale,
    entry: &AuditEntry,
    teams: &HashMap<Uuid, String>,
    accounts: &HashMap<Uuid, String>,
) -> String {
    let detail = &entry.detail;
    let text = |key: &str| detail.get(key).and_then(serde_json::Value::as_str);
    let id_named = |key: &str, names: &HashMap<Uuid, String>| {
        text(key).map(|raw| {
            Uuid::parse_str(raw)
                .ok()
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| raw.to_owned())
        })
    };
    match entry.action.as_str() {
        "permissions_changed" => catalog.format(
            locale,
            "admin.audit_membership",
            &[
                ("team", id_named("team_id", teams).unwrap_or_default()),
                (
                    "account",
                    id_named("account_id", accounts).unwrap_or_default(),
                ),
                ("before", role_label(catalog, locale, text("old_role"))),
                ("after", role_label(catalog, locale, text("new_role"))),
            ],
        ),
        "exported" => text("what")
            .map(|what| {
                let key = format!("admin.export.{what}");
                if catalog.has(locale, &key) {
                    catalog.text(locale, &key).to_owned()
                } else {
                    what.to_owned()
                }
            })
            .unwrap_or_default(),
        _ => match (text("status_before"), text("status_after")) {
            (Some(before), Some(after)) => catalog.format(
                locale,
                "admin.audit_status",
                &[
                    (
                        "before",
                        catalog
                            .text(locale, &format!("reg_status.{before}"))
                            .to_owned(),
                    ),
                    (
                        "after",
                        catalog
                            .text(locale, &format!("reg_status.{after}"))
                            .to_owned(),
                    ),
                ],
            ),
            _ => String::new(),
        },
    }
}

/// `GET /organiser/admin/audit?action=&actor=&event_id=&cursor=`: the audit trail, newest first, 50 a page.
async fn audit(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<AuditQuery>,
) -> Result<Response, Error> {
    let token = admin_login(&visitor)?;
    let (catalog, locale) = (&state.catalog, visitor.locale);
    let action = query
        .action
        .clone()
        .filter(|a| !a.trim().is_empty())
        .map(|a| a.trim().to_owned());
    let actor = query
        .actor
        .clone()
        .filter(|a| !a.trim().is_empty())
        .map(|a| a.trim().to_owned());
    let event_id = query
        .event_id
        .clone()
        .filter(|e| !e.trim().is_empty())
        .map(|e| e.trim().to_owned());
    let mut filters = String::new();
    for (name, value) in [
        ("action", &action),
        ("actor", &actor),
        ("event_id", &event_id),
    ] {
        if let Some(value) = value {
            filters.push_str(&format!("&{name}={}", encode(value)));
        }
    }
    let mut path = format!("/v1/audit?limit=50{filters}");
    if let Some(cursor) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
        path.push_str(&format!("&cursor={}", encode(cursor)));
    }
    let nothing = || Page {
        items: Vec::new(),
        next_cursor: None,
    };
    // An event is named by its id: anything else is refused at the field before registration is asked.
    let (entries, problem) = if event_id
        .as_deref()
        .is_some_and(|e| Uuid::parse_str(e).is_err())
    {
        let problem = Problem::invalid(vec![FieldError::new(
            "event_id",
            "invalid_event",
            "is not an event's id",
        )]);
        (nothing(), Some(problem))
    } else {
        match state
            .backends
            .json::<Page<AuditEntry>>(
                Call::get(ServiceName::Registration, path).bearer(Some(token)),
            )
            .await
        {
            Ok(page) => (page, None),
            Err(error) if error.is_status(422) => (nothing(), error.problem().cloned()),
            Err(error) => return Err(staff(error)),
        }
    };
    let teams: HashMap<Uuid, String> = {
        let list: Page<Team> = state
            .backends
            .json(
                Call::get(ServiceName::Registration, format!("/v1/teams?limit={ALL}"))
                    .bearer(Some(token)),
            )
            .await
            .map_err(staff)?;
        list.items
            .iter()
            .map(|t| (t.id, t.name_in(locale)))
            .collect()
    };
    let accounts: HashMap<Uuid, String> = all_accounts(&state, token)
        .await?
        .into_iter()
        .map(|a| (a.id, format!("{} <{}>", a.name, a.email)))
        .collect();
    // The events the entries are about, by title (one call each; an event scheduling cannot give shows its id).
    let mut event_ids: Vec<Uuid> = entries.items.iter().filter_map(|e| e.event_id).collect();
    event_ids.sort_unstable();
    event_ids.dedup();
    let titles = futures::future::join_all(event_ids.iter().map(|id| {
        state.backends.json::<crate::domain::model::Event>(
            Call::get(ServiceName::Scheduling, format!("/v1/events/{id}")).bearer(Some(token)),
        )
    }))
    .await;
    let titles: HashMap<Uuid, String> = event_ids
        .iter()
        .zip(titles)
        .filter_map(|(id, event)| {
            event.ok().map(|e| {
                use crate::domain::view::EventView;
                (*id, e.localized(locale).title)
            })
        })
        .collect();
    let rows: Vec<Value> = entries
        .items
        .iter()
        .map(|entry| {
            context! {
                at => time::moment(entry.at, Tz::UTC),
                at_utc => entry.at.to_rfc3339(),
                actor => entry.actor,
                action => entry.action,
                action_label => {
                    let key = format!("admin.action.{}", entry.action);
                    if catalog.has(locale, &key) { catalog.text(locale, &key).to_owned() } else { entry.action.clone() }
                },
                event_id => entry.event_id,
                event_title => entry.event_id.map(|id| titles.get(&id).cloned().unwrap_or_else(|| id.to_string())),
                registration_id => entry.registration_id,
                registration_short => entry.registration_id.map(|id| id.simple().to_string()[..8].to_owned()),
                what => audit_what(catalog, locale, entry, &teams, &accounts),
            }
        })
        .collect();
    let values = HashMap::from([
        ("action".to_owned(), action.clone().into_iter().collect()),
        ("actor".to_owned(), actor.clone().into_iter().collect()),
        (
            "event_id".to_owned(),
            event_id.clone().into_iter().collect(),
        ),
    ]);
    let filter_fields = |errors: &FieldErrors| {
        let t = |key: &str| catalog.text(locale, key).to_owned();
        let mut actions = vec![("", t("admin.audit_any"))];
        actions.extend(
            AUDIT_ACTIONS
                .iter()
                .map(|a| (*a, t(&format!("admin.action.{a}")))),
        );
        let mut action_field = select(
            "action",
            t("admin.audit_action"),
            &actions,
            &first(&values, "action"),
        )
        .with(&values, errors);
        action_field.required = false;
        vec![
            action_field,
            Field::new("actor", "text", t("admin.audit_actor"), false)
                .hint(t("admin.audit_actor_hint"))
                .with(&values, errors),
            Field::new("event_id", "text", t("admin.audit_event"), false)
                .hint(t("admin.audit_event_hint"))
                .with(&values, errors),
        ]
    };
    let placed = field_names(&filter_fields(&FieldErrors::default()));
    let problem = translated(problem.as_ref(), catalog, locale);
    let errors = FieldErrors::from_problem(problem.as_ref(), &placed, catalog, locale);
    let fields = filter_fields(&errors);
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    state.render_status(
        &visitor,
        status,
        "organiser/admin/audit.html",
        context! {
            section => "audit",
            rows => rows,
            fields => fields,
            general_errors => errors.general,
            error_count => errors.by_field.len() + errors.general.len(),
            next => entries.next_cursor.map(|c| format!("/organiser/admin/audit?cursor={}{filters}", encode(&c))),
            filtered => !filters.is_empty(),
            paged => query.cursor.is_some(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::load().expect("catalogs")
    }

    #[test]
    fn membership_changes_read_as_team_account_and_roles_in_both_languages() {
        let catalog = catalog();
        let team = Uuid::new_v4();
        let account = Uuid::new_v4();
        let entry = AuditEntry {
            at: Utc::now(),
            actor: "admin@permed.example.org".to_owned(),
            action: "permissions_changed".to_owned(),
            event_id: None,
            registration_id: None,
            detail: json!({ "team_id": team, "account_id": account, "old_role": "viewer", "new_role": "organiser" }),
        };
        let teams = HashMap::from([(team, "Charité".to_owned())]);
        let accounts = HashMap::from([(account, "Li Wei <li@example.org>".to_owned())]);
        let en = audit_what(&catalog, Locale::En, &entry, &teams, &accounts);
        assert!(en.contains("Charité") && en.contains("Li Wei"), "{en}");
        assert!(en.contains("Viewer") && en.contains("Organiser"), "{en}");
        let zh = audit_what(&catalog, Locale::ZhCn, &entry, &teams, &accounts);
        assert!(zh.contains("查看者") && zh.contains("组织者"), "{zh}");
        let removed = AuditEntry {
            detail: json!({ "team_id": team, "account_id": account, "old_role": "viewer", "new_role": null }),
            ..entry
        };
        let en = audit_what(&catalog, Locale::En, &removed, &teams, &accounts);
        assert!(en.contains('—'), "{en}");
    }

    #[test]
    fn only_an_admins_token_shows_the_admin_pages() {
        let token = |claims: serde_json::Value| {
            let payload = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                claims.to_string(),
            );
            format!("e30.{payload}.sig")
        };
        let claims = |role: &str| {
            json!({ "sub": "a@example.org", "role": role, "iss": "x", "aud": "y", "exp": 0, "iat": 0, "nbf": 0,
                    "jti": "j" })
        };
        assert!(is_admin(&token(claims("admin"))));
        assert!(!is_admin(&token(claims("organiser"))));
        assert!(!is_admin("not a token"));
    }
}
