//! The audit trail (admins): `GET /v1/audit?event_id=&actor=&action=&cursor=&limit=`, newest first. Entries are
//! written by the changes they record (`crate::store::audit::record`); nothing here changes them.

use axum::extract::State;
use chrono::{DateTime, Utc};
use cloverleaf_auth::Admin;
use cloverleaf_service_kit::Problem;
use cloverleaf_service_kit::extract::{Json, Query};
use cloverleaf_service_kit::pagination::{Page, PageQuery};
use cloverleaf_service_kit::validate::Fields;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::Error;
use crate::domain::audit::AuditAction;
use crate::store::audit::{self as store, AuditFilter, audit_entry};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// One entry of the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The subject of the token that acted (an account's address, or a service's name).
    pub actor: String,
    pub action: AuditAction,
    pub event_id: Option<Uuid>,
    pub registration_id: Option<Uuid>,
    /// Ids and values of the change (for `permissions_changed`: `team_id`, `account_id`, `old_role`, `new_role`);
    /// never a participant's name or address.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl AuditEntryView {
    fn new(model: audit_entry::Model) -> Result<Self, Error> {
        Ok(Self {
            detail: store::detail_of(&model)?,
            id: model.id,
            at: model.at,
            actor: model.actor,
            action: model.action,
            event_id: model.event_id,
            registration_id: model.registration_id,
        })
    }
}

/// The audit trail's filters and paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries about this event.
    pub event_id: Option<Uuid>,
    /// Only entries of this actor (a token's subject, as listed).
    pub actor: Option<String>,
    /// Only this action: `approved`, `rejected`, `checked_in`, `exported`, `erased` or `permissions_changed`.
    pub action: Option<String>,
    /// How many items at most (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    #[serde(
        default,
        deserialize_with = "cloverleaf_service_kit::pagination::limit_param"
    )]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The audit trail, newest first, optionally of one event, one actor or one action (admins).
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = inline(Page<AuditEntryView>)), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_audit(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Page<AuditEntryView>>, Error> {
    let mut f = Fields::default();
    let action = query
        .action
        .as_deref()
        .and_then(|a| f.check("action", AuditAction::parse(a)));
    let actor = query
        .actor
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    f.finish()?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let before: Option<Uuid> = page.cursor()?;
    let filter = AuditFilter {
        event_id: query.event_id,
        actor,
        action,
    };
    let rows = store::list(&state.db, filter, before, limit).await?;
    let page = Page::from_rows(rows, limit, |e| e.id, AuditEntryView::new);
    Ok(Json(Page {
        items: page.items.into_iter().collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    }))
}
