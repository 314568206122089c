//! `/v1/venues`: places with rooms and their capacity; agenda items book rooms.

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
use super::views::{RoomView, StoredVenueView, stored_venue_view};
use crate::Error;
use crate::domain::fields::{self, Fields};
use crate::domain::time::TimeZone;
use crate::store::people::{self, RoomFields, VenueFields};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RoomInput {
    #[schema(required = true)]
    pub name: Option<String>,
    /// Seats; absent when unknown.
    pub capacity: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VenueInput {
    #[schema(required = true)]
    pub name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// IANA zone of the venue.
    pub timezone: Option<String>,
    #[serde(default)]
    pub rooms: Vec<RoomInput>,
}

fn room(f: &mut Fields, prefix: &str, input: &RoomInput) -> Option<RoomFields> {
    let name = f.check(
        format!("{prefix}name"),
        fields::line(input.name.as_deref().unwrap_or_default(), fields::NAME_MAX),
    );
    let capacity = match input.capacity {
        None => Some(None),
        Some(n) if (1..=100_000).contains(&n) => Some(i32::try_from(n).ok()),
        Some(_) => {
            f.push(
                format!("{prefix}capacity"),
                "out_of_range",
                "must be between 1 and 100000",
            );
            None
        }
    };
    Some(RoomFields {
        name: name?,
        capacity: capacity?,
    })
}

impl VenueInput {
    fn validate(&self) -> Result<VenueFields, Problem> {
        let mut f = Fields::new();
        let name = f.check(
            "name",
            fields::line(self.name.as_deref().unwrap_or_default(), fields::NAME_MAX),
        );
        let mut line = |field: &str, value: &Option<String>| {
            f.check(
                field,
                fields::optional_line(value.as_deref(), fields::SHORT_TEXT_MAX),
            )
            .flatten()
        };
        let address = line("address", &self.address);
        let city = line("city", &self.city);
        let country = line("country", &self.country);
        let timezone = match self.timezone.as_deref().filter(|z| !z.trim().is_empty()) {
            None => None,
            Some(zone) => f
                .check("timezone", TimeZone::parse(zone))
                .map(|z| z.name().to_owned()),
        };
        let rooms: Vec<_> = self
            .rooms
            .iter()
            .enumerate()
            .filter_map(|(i, r)| room(&mut f, &format!("rooms[{i}]."), r))
            .collect();
        f.finish()?;
        Ok(VenueFields {
            name: name.unwrap_or_default(),
            address,
            city,
            country,
            timezone,
            rooms,
        })
    }
}

#[utoipa::path(post, path = "/v1/venues", tag = "venues", request_body = VenueInput, security(("bearer" = [])),
    responses((status = 201, body = StoredVenueView), (status = 422, body = Problem)))]
pub async fn create_venue(
    State(state): State<AppState>,
    _organiser: Organiser,
    Json(input): Json<VenueInput>,
) -> Result<impl IntoResponse, Error> {
    let (venue, rooms) = people::create_venue(&state.db, input.validate()?).await?;
    Ok((StatusCode::CREATED, Json(stored_venue_view(&venue, &rooms))))
}

#[utoipa::path(get, path = "/v1/venues", tag = "venues", params(PageQuery),
    responses((status = 200, body = inline(Page<StoredVenueView>))))]
pub async fn list_venues(
    State(state): State<AppState>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<StoredVenueView>>, Error> {
    let limit = page.limit()?;
    let rows = people::list_venues(&state.db, super::name_cursor(&page)?, limit).await?;
    let ids: Vec<Uuid> = rows.iter().map(|v| v.id).collect();
    let rooms = people::rooms_of(&state.db, &ids).await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |v| (v.name.clone(), v.id),
        |v| stored_venue_view(&v, &rooms),
    )))
}

#[utoipa::path(get, path = "/v1/venues/{id}", tag = "venues", params(("id" = Uuid, Path)),
    responses((status = 200, body = StoredVenueView), (status = 404, body = Problem)))]
pub async fn get_venue(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<StoredVenueView>, Error> {
    let venue = people::venue(&state.db, id).await?;
    let rooms = people::rooms_of(&state.db, &[id]).await?;
    Ok(Json(stored_venue_view(&venue, &rooms)))
}

#[utoipa::path(post, path = "/v1/venues/{id}/rooms", tag = "venues", params(("id" = Uuid, Path)),
    request_body = RoomInput, security(("bearer" = [])),
    responses((status = 201, body = RoomView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_room(
    State(state): State<AppState>,
    _organiser: Organiser,
    Path(id): Path<Uuid>,
    Json(input): Json<RoomInput>,
) -> Result<impl IntoResponse, Error> {
    let mut f = Fields::new();
    let fields = room(&mut f, "", &input);
    f.finish()?;
    let fields = fields.ok_or_else(|| Problem::invalid(Vec::new()))?;
    let created = people::add_room(&state.db, id, fields).await?;
    Ok((StatusCode::CREATED, Json(RoomView::from(&created))))
}
