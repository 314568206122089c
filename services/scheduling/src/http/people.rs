//! `/v1/people`: speakers and hosts. Organisers manage them; the public sees them through agendas.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use cloverleaf_auth::Organiser;
use cloverleaf_service_kit::Problem;
use cloverleaf_service_kit::extract::{Json, Path, Query};
use cloverleaf_service_kit::pagination::{Page, PageQuery};
use serde::Deserialize;
use uuid::Uuid;

use super::AppState;
use super::views::PersonView;
use crate::Error;
use crate::domain::fields::{self, EmailAddress, Fields};
use crate::store::people::{self, PersonFields};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PersonInput {
    #[schema(required = true)]
    pub name: Option<String>,
    pub affiliation: Option<String>,
    pub email: Option<String>,
}

impl PersonInput {
    fn validate(&self) -> Result<PersonFields, Problem> {
        let mut f = Fields::new();
        let name = f.check(
            "name",
            fields::line(self.name.as_deref().unwrap_or_default(), fields::NAME_MAX),
        );
        let affiliation = f
            .check(
                "affiliation",
                fields::optional_line(self.affiliation.as_deref(), fields::SHORT_TEXT_MAX),
            )
            .flatten();
        let email = match self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            None => None,
            Some(e) => f.check(
                "email",
                EmailAddress::parse(e).map(EmailAddress::into_string),
            ),
        };
        f.finish()?;
        Ok(PersonFields {
            name: name.unwrap_or_default(),
            affiliation,
            email,
        })
    }
}

#[utoipa::path(post, path = "/v1/people", tag = "people", request_body = PersonInput, security(("bearer" = [])),
    responses((status = 201, body = PersonView), (status = 422, body = Problem)))]
pub async fn create_person(
    State(state): State<AppState>,
    _organiser: Organiser,
    Json(input): Json<PersonInput>,
) -> Result<impl IntoResponse, Error> {
    let created = people::create_person(&state.db, input.validate()?).await?;
    Ok((StatusCode::CREATED, Json(PersonView::from(&created))))
}

#[utoipa::path(get, path = "/v1/people", tag = "people", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = inline(Page<PersonView>))))]
pub async fn list_people(
    State(state): State<AppState>,
    _organiser: Organiser,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<PersonView>>, Error> {
    let limit = page.limit()?;
    let rows = people::list_people(&state.db, super::name_cursor(&page)?, limit).await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |p| (p.name.clone(), p.id),
        |p| PersonView::from(&p),
    )))
}

#[utoipa::path(get, path = "/v1/people/{id}", tag = "people", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = PersonView), (status = 404, body = Problem)))]
pub async fn get_person(
    State(state): State<AppState>,
    _organiser: Organiser,
    Path(id): Path<Uuid>,
) -> Result<Json<PersonView>, Error> {
    Ok(Json(PersonView::from(
        &people::person(&state.db, id).await?,
    )))
}

/// Replace a person's name, affiliation and email.
#[utoipa::path(patch, path = "/v1/people/{id}", tag = "people", params(("id" = Uuid, Path)),
    request_body = PersonInput, security(("bearer" = [])),
    responses((status = 200, body = PersonView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_person(
    State(state): State<AppState>,
    _organiser: Organiser,
    Path(id): Path<Uuid>,
    Json(input): Json<PersonInput>,
) -> Result<Json<PersonView>, Error> {
    let current = people::person(&state.db, id).await?;
    let merged = PersonInput {
        name: input.name.or(Some(current.name)),
        affiliation: input.affiliation.or(current.affiliation),
        email: input.email.or(current.email),
    };
    let updated = people::update_person(&state.db, id, merged.validate()?).await?;
    Ok(Json(PersonView::from(&updated)))
}
