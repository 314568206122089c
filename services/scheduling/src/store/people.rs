//! People (speakers, hosts) and venues with their rooms.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::entities::{person, room, venue};
use crate::Error;
use cloverleaf_service_kit::Problem;

/// A person's fields, valid.
#[derive(Debug, Clone)]
pub struct PersonFields {
    pub name: String,
    pub affiliation: Option<String>,
    pub email: Option<String>,
}

pub async fn create_person(
    db: &DatabaseConnection,
    fields: PersonFields,
) -> Result<person::Model, Error> {
    let now = Utc::now();
    Ok(person::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(fields.name),
        affiliation: Set(fields.affiliation),
        email: Set(fields.email),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

pub async fn update_person(
    db: &DatabaseConnection,
    id: Uuid,
    fields: PersonFields,
) -> Result<person::Model, Error> {
    let current = person(db, id).await?;
    let mut model: person::ActiveModel = current.into();
    model.name = Set(fields.name);
    model.affiliation = Set(fields.affiliation);
    model.email = Set(fields.email);
    model.updated_at = Set(Utc::now());
    Ok(model.update(db).await?)
}

pub async fn person(db: &DatabaseConnection, id: Uuid) -> Result<person::Model, Error> {
    person::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found("This person").into())
}

/// People by name then id, paged by (name, id).
pub async fn list_people(
    db: &DatabaseConnection,
    after: Option<(String, Uuid)>,
    limit: u64,
) -> Result<Vec<person::Model>, Error> {
    let mut query = person::Entity::find();
    if let Some((name, id)) = after {
        query = query.filter(
            sea_orm::Condition::any()
                .add(person::Column::Name.gt(name.clone()))
                .add(
                    sea_orm::Condition::all()
                        .add(person::Column::Name.eq(name))
                        .add(person::Column::Id.gt(id)),
                ),
        );
    }
    Ok(query
        .order_by_asc(person::Column::Name)
        .order_by_asc(person::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

pub async fn people_by_id(
    db: &DatabaseConnection,
    ids: &[Uuid],
) -> Result<Vec<person::Model>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(person::Entity::find()
        .filter(person::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// A venue's fields and rooms, valid.
#[derive(Debug, Clone)]
pub struct VenueFields {
    pub name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
    pub rooms: Vec<RoomFields>,
}

#[derive(Debug, Clone)]
pub struct RoomFields {
    pub name: String,
    pub capacity: Option<i32>,
}

/// A venue with its rooms, written together.
pub async fn create_venue(
    db: &DatabaseConnection,
    fields: VenueFields,
) -> Result<(venue::Model, Vec<room::Model>), Error> {
    let txn = db.begin().await?;
    let id = Uuid::now_v7();
    let created = venue::ActiveModel {
        id: Set(id),
        name: Set(fields.name),
        address: Set(fields.address),
        city: Set(fields.city),
        country: Set(fields.country),
        timezone: Set(fields.timezone),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    let mut rooms = Vec::new();
    for room in fields.rooms {
        rooms.push(insert_room(&txn, id, room).await?);
    }
    txn.commit().await?;
    Ok((created, rooms))
}

async fn insert_room<C: sea_orm::ConnectionTrait>(
    db: &C,
    venue_id: Uuid,
    room: RoomFields,
) -> Result<room::Model, Error> {
    Ok(room::ActiveModel {
        id: Set(Uuid::now_v7()),
        venue_id: Set(venue_id),
        name: Set(room.name),
        capacity: Set(room.capacity),
    }
    .insert(db)
    .await?)
}

pub async fn add_room(
    db: &DatabaseConnection,
    venue_id: Uuid,
    room: RoomFields,
) -> Result<room::Model, Error> {
    venue(db, venue_id).await?;
    insert_room(db, venue_id, room).await
}

pub async fn venue(db: &DatabaseConnection, id: Uuid) -> Result<venue::Model, Error> {
    venue::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found("This venue").into())
}

pub async fn rooms_of(
    db: &DatabaseConnection,
    venue_ids: &[Uuid],
) -> Result<Vec<room::Model>, Error> {
    if venue_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(room::Entity::find()
        .filter(room::Column::VenueId.is_in(venue_ids.iter().copied()))
        .order_by_asc(room::Column::Name)
        .all(db)
        .await?)
}

pub async fn rooms_by_id(db: &DatabaseConnection, ids: &[Uuid]) -> Result<Vec<room::Model>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(room::Entity::find()
        .filter(room::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn list_venues(
    db: &DatabaseConnection,
    after: Option<(String, Uuid)>,
    limit: u64,
) -> Result<Vec<venue::Model>, Error> {
    let mut query = venue::Entity::find();
    if let Some((name, id)) = after {
        query = query.filter(
            sea_orm::Condition::any()
                .add(venue::Column::Name.gt(name.clone()))
                .add(
                    sea_orm::Condition::all()
                        .add(venue::Column::Name.eq(name))
                        .add(venue::Column::Id.gt(id)),
                ),
        );
    }
    Ok(query
        .order_by_asc(venue::Column::Name)
        .order_by_asc(venue::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}
