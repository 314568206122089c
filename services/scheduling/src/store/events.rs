//! Events: creating, reading, listing, changing, publishing and cancelling them, with their change history and
//! domain events.

use chrono::{DateTime, Utc};
use sea_orm::ActiveEnum;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::changes::{ChangeRecord, lock, record_change, write_history};
use super::entities::{event, event_change, venue};
use super::{Actor, Subscribers, event_details, is_unique_violation};
use crate::Error;
use crate::domain::event::{
    CALENDAR_FIELDS, ChangeAction, EventDetails, EventKind, EventPatch, EventStatus, FieldChange,
    calendar_visible, diff,
};
use crate::domain::fields::{slug, slugify};
use cloverleaf_service_kit::{FieldError, Problem, db, outbox};

use cloverleaf_contracts::DomainEvent;
/// The domain events this service publishes (`event.published`, `event.updated`, `event.cancelled`), defined in
/// the contracts; what `event.updated` says: what changed, so receivers know whether calendars must follow.
pub use cloverleaf_contracts::events::{
    EventCancelled, EventPublished, EventUpdated as UpdatedPayload,
};

/// A venue named by id must exist.
async fn check_venue<C: ConnectionTrait>(db: &C, details: &EventDetails) -> Result<(), Error> {
    if let Some(id) = details.venue.as_ref().and_then(|v| v.id)
        && venue::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(Problem::invalid(vec![FieldError::new(
            "venue.id",
            "unknown_venue",
            format!("no venue has the id {id}"),
        )])
        .into());
    }
    Ok(())
}

/// A new draft event of `team` (`None`: programme-wide).
pub async fn create(
    db: &DatabaseConnection,
    details: EventDetails,
    team: Option<Uuid>,
    actor: &Actor,
) -> Result<event::Model, Error> {
    let txn = db::begin_write(db).await?;
    check_venue(&txn, &details).await?;
    let slug = match &details.slug {
        Some(slug) => {
            if slug_taken(&txn, slug, None).await? {
                return Err(slug_conflict(slug));
            }
            slug.clone()
        }
        None => free_slug(&txn, &details.title).await?,
    };
    let now = Utc::now();
    let id = Uuid::now_v7();
    let mut model = event::ActiveModel {
        id: Set(id),
        slug: Set(slug.clone()),
        status: Set(EventStatus::Draft),
        sequence: Set(0),
        created_by: Set(actor.subject.clone()),
        created_at: Set(now),
        published_at: Set(None),
        cancelled_at: Set(None),
        cancel_reason: Set(None),
        team_id: Set(team),
        shared_with: Set("[]".to_owned()),
        ..Default::default()
    };
    set_details(&mut model, &details, now);
    let inserted = match model.insert(&txn).await {
        Ok(model) => model,
        // Two creates raced for the same slug; the unique index let one win.
        Err(error) if is_unique_violation(&error) => return Err(slug_conflict(&slug)),
        Err(error) => return Err(error.into()),
    };
    txn.commit().await?;
    Ok(inserted)
}

fn set_details(model: &mut event::ActiveModel, d: &EventDetails, now: DateTime<Utc>) {
    model.kind = Set(d.kind);
    model.title = Set(d.title.clone());
    model.title_zh = Set(d.title_zh.clone());
    model.summary = Set(d.summary.clone());
    model.summary_zh = Set(d.summary_zh.clone());
    model.description = Set(d.description.clone());
    model.description_zh = Set(d.description_zh.clone());
    model.timezone = Set(d.timezone.name().to_owned());
    model.end_timezone = Set(d.end_timezone.map(|z| z.name().to_owned()));
    model.starts_at = Set(d.span.starts_at);
    model.ends_at = Set(d.span.ends_at);
    model.online_url = Set(d.online_url.clone());
    model.venue_id = Set(d.venue.as_ref().and_then(|v| v.id));
    model.venue_name = Set(d.venue.as_ref().map(|v| v.name.clone()));
    model.venue_address = Set(d.venue.as_ref().and_then(|v| v.address.clone()));
    model.venue_city = Set(d.venue.as_ref().and_then(|v| v.city.clone()));
    model.venue_country = Set(d.venue.as_ref().and_then(|v| v.country.clone()));
    model.organiser_name = Set(d.organiser.name.clone());
    model.organiser_email = Set(d.organiser.email.clone());
    model.reminder_minutes = Set(d
        .reminder_minutes
        .as_ref()
        .map(|m| serde_json::Value::from(m.clone()).to_string()));
    model.updated_at = Set(now);
}

fn slug_conflict(slug: &str) -> Error {
    Problem::conflict(
        "slug-taken",
        format!("the slug {slug:?} is taken by another event"),
    )
    .with_errors(vec![FieldError::new(
        "slug",
        "taken",
        "another event has this slug",
    )])
    .into()
}

async fn slug_taken<C: ConnectionTrait>(
    db: &C,
    slug: &str,
    except: Option<Uuid>,
) -> Result<bool, Error> {
    let mut query = event::Entity::find().filter(event::Column::Slug.eq(slug));
    if let Some(id) = except {
        query = query.filter(event::Column::Id.ne(id));
    }
    Ok(query.one(db).await?.is_some())
}

/// A free slug made from the title: `title`, then `title-2`, `title-3`…; titles without Latin letters get
/// `event-<date>`.
async fn free_slug<C: ConnectionTrait>(db: &C, title: &str) -> Result<String, Error> {
    let mut base = slugify(title);
    if base.is_empty() {
        base = format!("event-{}", Utc::now().format("%Y%m%d"));
    }
    let taken: Vec<String> = event::Entity::find()
        .select_only()
        .column(event::Column::Slug)
        .filter(event::Column::Slug.starts_with(&base))
        .into_tuple()
        .all(db)
        .await?;
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    Ok(candidate)
}

/// An event by id, or by slug. A key that is neither (`a%00b`, 10 000 characters) names no event and is not
/// sent to the database (PostgreSQL refuses a NUL in a text parameter with an error).
pub async fn find<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<event::Model>, Error> {
    let query = match key.parse::<Uuid>() {
        Ok(id) => event::Entity::find_by_id(id),
        Err(_) if slug(key).is_err() => return Ok(None),
        Err(_) => event::Entity::find().filter(event::Column::Slug.eq(key)),
    };
    Ok(query.one(db).await?)
}

/// Which events a list shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub kind: Option<EventKind>,
    pub status: Option<EventStatus>,
    /// Events that end after this…
    pub from: Option<DateTime<Utc>>,
    /// …and start before this.
    pub to: Option<DateTime<Utc>>,
    /// Whose drafts are listed (the public sees events once published, never drafts).
    pub drafts: Scope,
    /// Only events of this team (owned or co-organised).
    pub team: Option<Uuid>,
    /// Only events of these teams (drafts or not).
    pub only: Option<Scope>,
}

/// Whose events a list includes: whose drafts (`drafts`), or whose events at all (`only`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    None,
    All,
    /// Events of no team (programme-wide organisers').
    OfNoTeam,
    /// Events owned by or shared with these teams.
    OfTeams(Vec<Uuid>),
}

/// Events owned by or shared with `team`. `shared_with` is a JSON array of ids; a quoted id matches only itself.
fn of_team(team: Uuid) -> Condition {
    Condition::any()
        .add(event::Column::TeamId.eq(team))
        .add(event::Column::SharedWith.contains(format!("\"{team}\"")))
}

/// Sets who the event belongs to (`shared_with: None` keeps the list).
pub async fn set_teams(
    db: &DatabaseConnection,
    id: Uuid,
    team: Option<Uuid>,
    shared_with: Option<Vec<Uuid>>,
) -> Result<(), Error> {
    let mut model = event::ActiveModel {
        id: Set(id),
        team_id: Set(team),
        ..Default::default()
    };
    if let Some(mut shared) = shared_with {
        shared.sort();
        shared.dedup();
        model.shared_with =
            Set(serde_json::to_string(&shared).map_err(|e| Error::Corrupt(e.to_string()))?);
    }
    model.update(db).await?;
    Ok(())
}

/// The key a list pages by: (start, id).
pub type ListCursor = (DateTime<Utc>, Uuid);

pub async fn list(
    db: &DatabaseConnection,
    filter: &ListFilter,
    after: Option<ListCursor>,
    limit: u64,
) -> Result<Vec<event::Model>, Error> {
    let now = Utc::now();
    let mut query = event::Entity::find();
    if let Some(kind) = filter.kind {
        query = query.filter(event::Column::Kind.eq(kind));
    }
    // Once published, an event stays visible (also when cancelled); a draft only to its teams.
    let published = event::Column::PublishedAt.is_not_null();
    query = match &filter.drafts {
        Scope::All => query,
        Scope::None => query.filter(published),
        Scope::OfNoTeam => query.filter(
            Condition::any()
                .add(published)
                .add(event::Column::TeamId.is_null()),
        ),
        Scope::OfTeams(teams) => query.filter(
            teams
                .iter()
                .fold(Condition::any().add(published), |any, team| {
                    any.add(of_team(*team))
                }),
        ),
    };
    if let Some(team) = filter.team {
        query = query.filter(of_team(team));
    }
    query = match &filter.only {
        None | Some(Scope::All) => query,
        // Nothing: an id no event has.
        Some(Scope::None) => query.filter(event::Column::Id.is_null()),
        Some(Scope::OfNoTeam) => query.filter(event::Column::TeamId.is_null()),
        Some(Scope::OfTeams(teams)) => query.filter(
            teams
                .iter()
                .fold(Condition::any(), |any, team| any.add(of_team(*team))),
        ),
    };
    query = match filter.status {
        None => query,
        Some(EventStatus::Completed) => query
            .filter(event::Column::Status.eq(EventStatus::Published))
            .filter(event::Column::EndsAt.lte(now)),
        Some(EventStatus::Published) => query
            .filter(event::Column::Status.eq(EventStatus::Published))
            .filter(event::Column::EndsAt.gt(now)),
        Some(status) => query.filter(event::Column::Status.eq(status)),
    };
    if let Some(from) = filter.from {
        query = query.filter(event::Column::EndsAt.gt(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(event::Column::StartsAt.lt(to));
    }
    if let Some((starts_at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(event::Column::StartsAt.gt(starts_at))
                .add(
                    Condition::all()
                        .add(event::Column::StartsAt.eq(starts_at))
                        .add(event::Column::Id.gt(id)),
                ),
        );
    }
    Ok(query
        .order_by_asc(event::Column::StartsAt)
        .order_by_asc(event::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// Applies `patch`; after publishing, records the change, raises `sequence` when calendars show it, and announces
/// `event.updated`. A patch that changes nothing changes nothing, not even `updated_at`.
pub async fn update(
    db: &DatabaseConnection,
    key: &str,
    patch: EventPatch,
    actor: &Actor,
    subscribers: &Subscribers,
) -> Result<event::Model, Error> {
    let txn = db::begin_write(db).await?;
    let current = lock(&txn, key).await?;
    let status = current.status;
    if status == EventStatus::Cancelled {
        return Err(Problem::conflict("event-cancelled", "a cancelled event cannot change").into());
    }
    let before = event_details(&current)?;
    let wanted_slug = patch.slug.clone();
    let move_items = patch.move_items;
    let after = patch.apply(&before).validate()?;
    if status == EventStatus::Published {
        after.check_publishable()?;
    }
    check_venue(&txn, &after).await?;
    if let Some(slug) = wanted_slug.filter(|s| Some(s) != before.slug.as_ref())
        && slug_taken(&txn, &slug, Some(current.id)).await?
    {
        return Err(slug_conflict(&slug));
    }
    let mut changes = diff(&before.field_values(), &after.field_values());
    if changes.is_empty() {
        return Ok(current);
    }
    let now = Utc::now();
    let published = status == EventStatus::Published;
    let moved_by = after.span.starts_at - before.span.starts_at;
    if move_items && !moved_by.is_zero() {
        let moved = super::items::move_all(&txn, current.id, moved_by, published, now).await?;
        if moved > 0 {
            changes.push(FieldChange {
                field: "agenda".into(),
                before: json!(null),
                after: json!({ "moved_by_seconds": moved_by.num_seconds(), "items": moved }),
            });
        }
    }
    let visible = calendar_visible(&changes, &CALENDAR_FIELDS);
    let sequence = current.sequence + i32::from(published && visible);
    let id = current.id;
    let mut model: event::ActiveModel = current.into();
    set_details(&mut model, &after, now);
    if let Some(slug) = &after.slug {
        model.slug = Set(slug.clone());
    }
    model.sequence = Set(sequence);
    let updated = match model.update(&txn).await {
        Ok(model) => model,
        Err(error) if is_unique_violation(&error) => {
            return Err(slug_conflict(after.slug.as_deref().unwrap_or_default()));
        }
        Err(error) => return Err(error.into()),
    };
    if published {
        record_change(
            &txn,
            ChangeRecord {
                event_id: id,
                item_id: None,
                action: ChangeAction::Updated,
                changes,
                calendar_visible: visible,
                sequence,
                actor,
                at: now,
            },
            subscribers,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Publishes a draft: checks it may be published, records it, announces `event.published`. Publishing again
/// changes nothing.
pub async fn publish(
    db: &DatabaseConnection,
    key: &str,
    actor: &Actor,
    subscribers: &Subscribers,
) -> Result<event::Model, Error> {
    let txn = db::begin_write(db).await?;
    let current = lock(&txn, key).await?;
    match current.status {
        EventStatus::Published | EventStatus::Completed => return Ok(current),
        EventStatus::Cancelled => {
            return Err(Problem::conflict(
                "event-cancelled",
                "a cancelled event cannot be published",
            )
            .into());
        }
        EventStatus::Draft => {}
    }
    event_details(&current)?.check_publishable()?;
    let now = Utc::now();
    let id = current.id;
    let sequence = current.sequence;
    let mut model: event::ActiveModel = current.into();
    model.status = Set(EventStatus::Published);
    model.published_at = Set(Some(now));
    model.updated_at = Set(now);
    let published = model.update(&txn).await?;
    let details = event_details(&published)?;
    let last_item_zone = super::items::last_end_zones(&txn, std::slice::from_ref(&published))
        .await?
        .remove(&id);
    let end_timezone = details.derived_end_zone(last_item_zone);
    let status_change = vec![FieldChange {
        field: "status".into(),
        before: json!("draft"),
        after: json!("published"),
    }];
    write_history(
        &txn,
        &ChangeRecord {
            event_id: id,
            item_id: None,
            action: ChangeAction::Published,
            changes: status_change,
            // The first invite carries this sequence; nothing in a calendar changes yet.
            calendar_visible: false,
            sequence,
            actor,
            at: now,
        },
    )
    .await?;
    let event = DomainEvent::EventPublished(EventPublished {
        event_id: id,
        sequence,
        kind: published.kind.to_value(),
        title: published.title.clone(),
        title_zh: published.title_zh.clone(),
        starts_at: published.starts_at,
        ends_at: published.ends_at,
        timezone: published.timezone.clone(),
        end_timezone: end_timezone.name().to_owned(),
    });
    outbox::enqueue(&txn, event.type_name(), id, &event, subscribers).await?;
    txn.commit().await?;
    Ok(published)
}

/// Cancels an event. A published one gets a higher sequence (its STATUS shows in calendars), a history entry and
/// `event.cancelled`; a draft is simply cancelled. Cancelling again changes nothing.
pub async fn cancel(
    db: &DatabaseConnection,
    key: &str,
    reason: Option<String>,
    actor: &Actor,
    subscribers: &Subscribers,
) -> Result<event::Model, Error> {
    let txn = db::begin_write(db).await?;
    let current = lock(&txn, key).await?;
    let status = current.status;
    if status == EventStatus::Cancelled {
        return Ok(current);
    }
    let was_published = status == EventStatus::Published;
    let now = Utc::now();
    let id = current.id;
    let sequence = current.sequence + i32::from(was_published);
    let mut model: event::ActiveModel = current.into();
    model.status = Set(EventStatus::Cancelled);
    model.cancelled_at = Set(Some(now));
    model.cancel_reason = Set(reason.clone());
    model.updated_at = Set(now);
    model.sequence = Set(sequence);
    let cancelled = model.update(&txn).await?;
    if was_published {
        write_history(
            &txn,
            &ChangeRecord {
                event_id: id,
                item_id: None,
                action: ChangeAction::Cancelled,
                changes: vec![FieldChange {
                    field: "status".into(),
                    before: json!("published"),
                    after: json!("cancelled"),
                }],
                calendar_visible: true,
                sequence,
                actor,
                at: now,
            },
        )
        .await?;
        let event = DomainEvent::EventCancelled(EventCancelled {
            event_id: id,
            sequence,
            reason,
        });
        outbox::enqueue(&txn, event.type_name(), id, &event, subscribers).await?;
    }
    txn.commit().await?;
    Ok(cancelled)
}

/// The change history of an event, oldest first, paged by change id.
pub async fn changes(
    db: &DatabaseConnection,
    event_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<event_change::Model>, Error> {
    let mut query = event_change::Entity::find().filter(event_change::Column::EventId.eq(event_id));
    if let Some(after) = after {
        query = query.filter(event_change::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(event_change::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// Every event in the all-events feed: those ever published, including completed and cancelled ones (a
/// cancelled entry tells subscribed calendars to drop it).
pub async fn for_feed(
    db: &DatabaseConnection,
    kind: Option<EventKind>,
) -> Result<Vec<event::Model>, Error> {
    let mut query = event::Entity::find().filter(event::Column::PublishedAt.is_not_null());
    if let Some(kind) = kind {
        query = query.filter(event::Column::Kind.eq(kind));
    }
    Ok(query
        .order_by_asc(event::Column::StartsAt)
        .order_by_asc(event::Column::Id)
        .all(db)
        .await?)
}
