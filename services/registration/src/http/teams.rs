//! Teams and their members: a programme's partners, each with the accounts that organise, view or check people in
//! at its events. The roles go into the members' login tokens (`Claims.teams`), where every service's access rule
//! reads them.
//!
//! - `POST /v1/teams`, `PATCH /v1/teams/{id}` (admins): create and rename; names are unique (409 naming `name`).
//! - `GET /v1/teams` (admins: all; other organiser accounts: the teams their token names), `GET /v1/teams/{id}`
//!   (admins, or a member per the token; anyone else 404, so a team's existence does not leak) with its members.
//! - `PUT /v1/teams/{id}/members/{account_id}` `{ "role": … }` and `DELETE …` (admins): each change is a
//!   `permissions_changed` audit entry written in the change's transaction. A changed role reaches a member's
//!   token at their next login.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use cloverleaf_auth::{Admin, Claims, Role, Staff, TeamRole};
use cloverleaf_service_kit::extract::{Json, Path, Query};
use cloverleaf_service_kit::pagination::{Page, PageQuery};
use cloverleaf_service_kit::validate::Fields;
use cloverleaf_service_kit::{FieldError, Problem};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::Error;
use crate::domain::refusal::Refusal;
use crate::domain::teams::{self, TEAM_NAME_MAX_CHARS};
use crate::store::teams::{self as store, Member, NewTeam, TeamChange, team};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_teams, create_team))
        .routes(routes!(get_team, update_team))
        .routes(routes!(set_member, remove_member))
}

/// A member of a team.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberView {
    pub account_id: Uuid,
    /// The account's address (lower-case).
    pub email: String,
    pub name: String,
    /// `organiser`, `viewer` or `check_in`.
    #[schema(value_type = String, example = "viewer")]
    pub role: TeamRole,
}

impl From<Member> for MemberView {
    fn from(member: Member) -> Self {
        Self {
            account_id: member.account_id,
            email: member.email,
            name: member.name,
            role: member.role,
        }
    }
}

/// A team; `members` only where one team is shown.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamView {
    pub id: Uuid,
    pub name: String,
    pub name_zh: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<MemberView>>,
}

impl TeamView {
    fn new(model: team::Model, members: Option<Vec<Member>>) -> Self {
        Self {
            id: model.id,
            name: model.name,
            name_zh: model.name_zh,
            created_at: model.created_at,
            updated_at: model.updated_at,
            members: members.map(|m| m.into_iter().map(MemberView::from).collect()),
        }
    }
}

/// A new team.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TeamInput {
    /// 1–120 characters, one line; unique.
    #[schema(required = true, example = "PerMed Office")]
    pub name: Option<String>,
    /// The Chinese name, optional (1–120 characters).
    pub name_zh: Option<String>,
}

impl TeamInput {
    fn validate(self) -> Result<NewTeam, Problem> {
        let mut f = Fields::default();
        let name = f
            .required("name", self.name.as_deref())
            .and_then(|n| f.check("name", teams::team_name(n)));
        let name_zh = f.check("name_zh", teams::team_name_zh(self.name_zh.as_deref()));
        f.finish()?;
        match (name, name_zh) {
            (Some(name), Some(name_zh)) => Ok(NewTeam { name, name_zh }),
            _ => Err(Problem::internal()),
        }
    }
}

/// `null` given (Some(None)) versus absent (None).
fn given<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// What to change about a team; absent fields stay as they are, `name_zh: null` removes the Chinese name.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    pub name_zh: Option<Option<String>>,
}

impl TeamPatch {
    fn validate(self) -> Result<TeamChange, Problem> {
        let mut f = Fields::default();
        let name = self
            .name
            .as_deref()
            .and_then(|n| f.check("name", teams::team_name(n)));
        let name_zh = match self.name_zh {
            None => None,
            Some(value) => f.check("name_zh", teams::team_name_zh(value.as_deref())),
        };
        f.finish()?;
        Ok(TeamChange { name, name_zh })
    }
}

/// A member's role in a team.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct MemberInput {
    /// `organiser` (the team's events, all of it), `viewer` (reads and exports) or `check_in` (checks people in).
    #[schema(required = true, example = "viewer")]
    pub role: Option<String>,
}

impl MemberInput {
    fn validate(self) -> Result<TeamRole, Problem> {
        let mut f = Fields::default();
        let role = f
            .required("role", self.role.as_deref())
            .and_then(|r| f.check("role", teams::member_role(r)));
        f.finish()?;
        role.ok_or_else(Problem::internal)
    }
}

/// Whether the caller sees this team: admins all, anyone else only the teams its token names.
fn sees(claims: &Claims, team_id: Uuid) -> bool {
    claims.role == Role::Admin || claims.teams.iter().any(|g| g.team == team_id)
}

/// Teams by name: all of them for admins; for other organiser accounts the teams their token names.
#[utoipa::path(get, path = "/v1/teams", tag = "teams", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = inline(Page<TeamView>)), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_teams(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<TeamView>>, Error> {
    let limit = page.limit()?;
    let after: Option<String> = page.cursor()?;
    if after
        .as_deref()
        .is_some_and(|a| a.chars().count() > TEAM_NAME_MAX_CHARS || a.chars().any(char::is_control))
    {
        return Err(Problem::invalid(vec![FieldError::new(
            "cursor",
            "invalid",
            "is not a cursor this list gave out",
        )])
        .into());
    }
    let own: Vec<Uuid> = claims.teams.iter().map(|g| g.team).collect();
    let only = (claims.role != Role::Admin).then_some(own.as_slice());
    let rows = store::list_teams(&state.db, only, after, limit).await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |t| t.name.clone(),
        |t| TeamView::new(t, None),
    )))
}

/// Create a team (admins). Its name must be unique.
#[utoipa::path(post, path = "/v1/teams", tag = "teams", request_body = TeamInput, security(("bearer" = [])),
    responses((status = 201, body = TeamView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "another team has this name", body = Problem),
        (status = 422, body = Problem)))]
pub async fn create_team(
    State(state): State<AppState>,
    admin: Admin,
    Json(input): Json<TeamInput>,
) -> Result<impl IntoResponse, Error> {
    let created = store::create_team(&state.db, input.validate()?).await?;
    tracing::info!(team = %created.id, by = %admin.0.sub, "team created");
    Ok((
        StatusCode::CREATED,
        Json(TeamView::new(created, Some(Vec::new()))),
    ))
}

/// A team and its members: admins, or members of the team (as their token says). Anyone else 404.
#[utoipa::path(get, path = "/v1/teams/{id}", tag = "teams", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = TeamView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn get_team(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Path(id): Path<Uuid>,
) -> Result<Json<TeamView>, Error> {
    if !sees(&claims, id) {
        return Err(Refusal::TeamNotFound.into());
    }
    let found = store::team(&state.db, id).await?;
    let members = store::members(&state.db, id).await?;
    Ok(Json(TeamView::new(found, Some(members))))
}

/// Rename a team (admins); `name_zh: null` removes its Chinese name.
#[utoipa::path(patch, path = "/v1/teams/{id}", tag = "teams", params(("id" = Uuid, Path)),
    request_body = TeamPatch, security(("bearer" = [])),
    responses((status = 200, body = TeamView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "another team has this name", body = Problem),
        (status = 422, body = Problem)))]
pub async fn update_team(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<Uuid>,
    Json(input): Json<TeamPatch>,
) -> Result<Json<TeamView>, Error> {
    let change = input.validate()?;
    let updated = store::update_team(&state.db, id, change).await?;
    tracing::info!(team = %updated.id, by = %admin.0.sub, "team changed");
    let members = store::members(&state.db, id).await?;
    Ok(Json(TeamView::new(updated, Some(members))))
}

/// Make an account a member of the team with this role, or change its role (admins). Recorded in the audit trail
/// (`permissions_changed`) with the change; the member's token carries it from their next login.
#[utoipa::path(put, path = "/v1/teams/{id}/members/{account_id}", tag = "teams",
    params(("id" = Uuid, Path), ("account_id" = Uuid, Path)), request_body = MemberInput,
    security(("bearer" = [])),
    responses((status = 200, body = MemberView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "no such team or account", body = Problem), (status = 422, body = Problem)))]
pub async fn set_member(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, account_id)): Path<(Uuid, Uuid)>,
    Json(input): Json<MemberInput>,
) -> Result<Json<MemberView>, Error> {
    let role = input.validate()?;
    let member = store::set_member(&state.db, id, account_id, role, &admin.0.sub).await?;
    tracing::info!(team = %id, account = %account_id, role = role.as_str(), by = %admin.0.sub, "team member set");
    Ok(Json(member.into()))
}

/// End an account's membership of the team (admins). Recorded in the audit trail (`permissions_changed`).
#[utoipa::path(delete, path = "/v1/teams/{id}/members/{account_id}", tag = "teams",
    params(("id" = Uuid, Path), ("account_id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204, description = "removed"), (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, description = "no such team, or the account is not a member", body = Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, account_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, Error> {
    store::remove_member(&state.db, id, account_id, &admin.0.sub).await?;
    tracing::info!(team = %id, account = %account_id, by = %admin.0.sub, "team member removed");
    Ok(StatusCode::NO_CONTENT)
}
