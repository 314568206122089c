//! What an event is (webinar, workshop, tour), the states it goes through, and which of its changes reach
//! attendees' calendars.
//!
//! Requests are checked in one place: a create request and a patch merged onto the current event both become an
//! [`EventInput`] that [`EventInput::validate`] turns into [`EventDetails`], so both obey the same rules.

use chrono::{DateTime, Utc};
use sea_orm::ActiveEnum;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::fields::{self, EmailAddress, Fields, Invalid};
use super::time::{Span, TimeZone, parse_instant};
use cloverleaf_service_kit::Problem;

// The kinds and statuses are the contract's: one definition for the wire's values, the OpenAPI schema and the
// `events` columns (sea-orm active enums storing the same strings). What scheduling adds to them is below.
pub use cloverleaf_contracts::scheduling::{EventKind, EventStatus};

/// An event kind as a request names it.
pub fn parse_kind(value: &str) -> Result<EventKind, Invalid> {
    EventKind::try_from_value(&value.to_owned())
        .map_err(|_| Invalid::new("invalid_choice", "must be webinar, workshop or tour"))
}

/// A status as a list filter names it (`completed` included).
pub fn parse_status(value: &str) -> Result<EventStatus, Invalid> {
    EventStatus::try_from_value(&value.to_owned()).map_err(|_| {
        Invalid::new(
            "invalid_choice",
            "must be draft, published, cancelled or completed",
        )
    })
}

/// What people see. Stored states are draft, published and cancelled; `completed` is a published event whose end
/// has passed, so it needs no job to flip it and is never out of date.
pub fn status_shown(
    stored: EventStatus,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> EventStatus {
    if stored == EventStatus::Published && ends_at <= now {
        EventStatus::Completed
    } else {
        stored
    }
}

/// What a change after publishing did: the `event_changes.action` column (an active enum over the strings it always
/// held), the change history's `action`, and `event.updated`'s (which carries it as a string).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, sea_orm::DeriveActiveEnum, sea_orm::EnumIter,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(sea_orm::sea_query::StringLen::None)"
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    #[sea_orm(string_value = "published")]
    Published,
    #[sea_orm(string_value = "updated")]
    Updated,
    #[sea_orm(string_value = "item_added")]
    ItemAdded,
    #[sea_orm(string_value = "item_updated")]
    ItemUpdated,
    #[sea_orm(string_value = "item_removed")]
    ItemRemoved,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

/// A venue as an event names it; `id` links it to a stored venue with rooms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VenueInput {
    pub id: Option<Uuid>,
    #[schema(required = true)]
    pub name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrganiserInput {
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
}

/// An event as requested, before checking: what `POST /v1/events` takes, and what a patch is merged onto.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventInput {
    #[schema(required = true, value_type = String, example = "webinar")]
    pub kind: Option<String>,
    #[schema(required = true)]
    pub title: Option<String>,
    /// The title in Simplified Chinese (optional; the English one is the fallback).
    pub title_zh: Option<String>,
    /// Made from the title when absent.
    pub slug: Option<String>,
    /// IANA name, e.g. `Europe/Berlin`.
    #[schema(required = true)]
    pub timezone: Option<String>,
    /// IANA zone of the event's end (a tour Berlin → Nanjing ends in Asia/Shanghai). When absent, views derive it:
    /// the zone of the agenda item that ends last, else `timezone`.
    pub end_timezone: Option<String>,
    /// RFC 3339 with an offset, or a wall-clock time in `timezone`.
    #[schema(required = true)]
    pub starts_at: Option<String>,
    /// RFC 3339 with an offset, or a wall-clock time in `end_timezone` (else `timezone`).
    #[schema(required = true)]
    pub ends_at: Option<String>,
    pub summary: Option<String>,
    pub summary_zh: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub online_url: Option<String>,
    pub venue: Option<VenueInput>,
    #[schema(required = true)]
    pub organiser: Option<OrganiserInput>,
    /// The team the event belongs to. Optional when the caller organises for one team only (it is that one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
    /// Minutes before the start at which confirmed attendees are reminded, overriding the kind's defaults (see
    /// `[reminders]` in notifications' settings); `[]` sends none, absent or `null` keeps the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_minutes: Option<Vec<i64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Venue {
    pub id: Option<Uuid>,
    pub name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

impl Venue {
    /// One line for a calendar's LOCATION.
    pub fn location(&self) -> String {
        [
            Some(self.name.as_str()),
            self.address.as_deref(),
            self.city.as_deref(),
            self.country.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organiser {
    pub name: String,
    pub email: String,
}

/// An event's settable fields, all valid.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDetails {
    pub kind: EventKind,
    pub title: String,
    pub title_zh: Option<String>,
    pub slug: Option<String>,
    pub timezone: TimeZone,
    /// Set explicitly; `None` lets views derive it (see [`EventInput::end_timezone`]).
    pub end_timezone: Option<TimeZone>,
    pub span: Span,
    pub summary: Option<String>,
    pub summary_zh: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub online_url: Option<String>,
    pub venue: Option<Venue>,
    pub organiser: Organiser,
    /// The event's own reminder offsets, longest first; `None` follows the kind's defaults.
    pub reminder_minutes: Option<Vec<i32>>,
}

/// At most this many reminders per event, none further ahead than [`REMINDER_MAX_MINUTES`] (60 days).
pub const REMINDERS_MAX: usize = 5;
pub const REMINDER_MAX_MINUTES: i64 = 60 * 24 * 60;

/// An event's own reminder offsets: whole minutes from 1 to 60 days, no repeats, longest first.
pub fn reminder_minutes(values: &[i64]) -> Result<Vec<i32>, Invalid> {
    if values.len() > REMINDERS_MAX {
        return Err(Invalid::new("too_many", "at most 5 reminders per event"));
    }
    let mut minutes = Vec::with_capacity(values.len());
    for &value in values {
        if !(1..=REMINDER_MAX_MINUTES).contains(&value) {
            return Err(Invalid::new(
                "out_of_range",
                "each reminder is 1 minute to 60 days (86400 minutes) before the start",
            ));
        }
        // In range, so it fits.
        minutes.push(value as i32);
    }
    minutes.sort_unstable_by(|a, b| b.cmp(a));
    if minutes.windows(2).any(|w| w[0] == w[1]) {
        return Err(Invalid::new(
            "duplicate",
            "the same reminder is given twice",
        ));
    }
    Ok(minutes)
}

/// The fields whose change an attendee's calendar shows; each change to one of them after publishing raises the
/// event's `sequence` by one, so calendars replace the entry instead of keeping the old one.
pub const CALENDAR_FIELDS: [&str; 9] = [
    "title",
    "title_zh",
    "timezone",
    "end_timezone",
    "starts_at",
    "ends_at",
    "online_url",
    "venue",
    "status",
];

impl EventInput {
    /// Checks every field; a 422 names each invalid one.
    pub fn validate(&self) -> Result<EventDetails, Problem> {
        let mut f = Fields::new();
        let kind = f.check("kind", required(&self.kind).and_then(|k| parse_kind(&k)));
        let title = f.check(
            "title",
            required(&self.title).and_then(|t| fields::line(&t, fields::TITLE_MAX)),
        );
        let slug = match self
            .slug
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => f.check("slug", fields::slug(s)),
        };
        let timezone = f.check(
            "timezone",
            required(&self.timezone).and_then(|z| TimeZone::parse(&z)),
        );
        let title_zh = f
            .check(
                "title_zh",
                fields::optional_line(self.title_zh.as_deref(), fields::TITLE_MAX),
            )
            .flatten();
        let end_timezone = match self
            .end_timezone
            .as_deref()
            .map(str::trim)
            .filter(|z| !z.is_empty())
        {
            None => Some(None),
            Some(zone) => f.check("end_timezone", TimeZone::parse(zone)).map(Some),
        };
        let (starts_at, ends_at) = match (timezone, end_timezone) {
            (Some(zone), Some(end_zone)) => (
                f.check(
                    "starts_at",
                    required(&self.starts_at).and_then(|s| parse_instant(&s, zone)),
                ),
                f.check(
                    "ends_at",
                    required(&self.ends_at)
                        .and_then(|s| parse_instant(&s, end_zone.unwrap_or(zone))),
                ),
            ),
            _ => (None, None),
        };
        let span = match (starts_at, ends_at) {
            (Some(s), Some(e)) => f.check("ends_at", Span::new(s, e)),
            _ => None,
        };
        let summary = f
            .check(
                "summary",
                fields::optional_line(self.summary.as_deref(), fields::SHORT_TEXT_MAX),
            )
            .flatten();
        let summary_zh = f
            .check(
                "summary_zh",
                fields::optional_line(self.summary_zh.as_deref(), fields::SHORT_TEXT_MAX),
            )
            .flatten();
        let description = f
            .check(
                "description",
                fields::optional_text(self.description.as_deref(), fields::LONG_TEXT_MAX),
            )
            .flatten();
        let description_zh = f
            .check(
                "description_zh",
                fields::optional_text(self.description_zh.as_deref(), fields::LONG_TEXT_MAX),
            )
            .flatten();
        let online_url = match self
            .online_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            None => None,
            Some(url) => f.check("online_url", fields::web_url(url)),
        };
        let reminder_minutes = match &self.reminder_minutes {
            None => Some(None),
            Some(values) => f
                .check("reminder_minutes", reminder_minutes(values))
                .map(Some),
        };
        let venue = match &self.venue {
            None => None,
            Some(v) => {
                let name = f.check(
                    "venue.name",
                    required(&v.name).and_then(|n| fields::line(&n, fields::NAME_MAX)),
                );
                let address = f
                    .check(
                        "venue.address",
                        fields::optional_line(v.address.as_deref(), fields::SHORT_TEXT_MAX),
                    )
                    .flatten();
                let city = f
                    .check(
                        "venue.city",
                        fields::optional_line(v.city.as_deref(), fields::NAME_MAX),
                    )
                    .flatten();
                let country = f
                    .check(
                        "venue.country",
                        fields::optional_line(v.country.as_deref(), fields::NAME_MAX),
                    )
                    .flatten();
                name.map(|name| Venue {
                    id: v.id,
                    name,
                    address,
                    city,
                    country,
                })
            }
        };
        let organiser = match &self.organiser {
            None => {
                f.push(
                    "organiser",
                    "required",
                    "the organiser's name and email are required (they are the invites' ORGANIZER)",
                );
                None
            }
            Some(o) => {
                let name = f.check(
                    "organiser.name",
                    required(&o.name).and_then(|n| fields::line(&n, fields::NAME_MAX)),
                );
                let email = f.check(
                    "organiser.email",
                    required(&o.email).and_then(|e| EmailAddress::parse(&e)),
                );
                name.zip(email).map(|(name, email)| Organiser {
                    name,
                    email: email.into_string(),
                })
            }
        };
        f.finish()?;
        match (
            kind,
            title,
            timezone,
            end_timezone,
            span,
            organiser,
            reminder_minutes,
        ) {
            (
                Some(kind),
                Some(title),
                Some(timezone),
                Some(end_timezone),
                Some(span),
                Some(organiser),
                Some(reminder_minutes),
            ) => Ok(EventDetails {
                kind,
                title,
                title_zh,
                slug,
                timezone,
                end_timezone,
                span,
                summary,
                summary_zh,
                description,
                description_zh,
                online_url,
                venue,
                organiser,
                reminder_minutes,
            }),
            // Every None above recorded an error, so finish() returned already.
            _ => Err(Problem::invalid(Vec::new())),
        }
    }
}

/// `english`, or the Chinese text when `chinese` is asked for and there is one.
pub fn pick<'a>(chinese: bool, english: &'a str, zh: Option<&'a str>) -> &'a str {
    match zh {
        Some(zh) if chinese => zh,
        _ => english,
    }
}

/// Whether a `lang` (a `?lang=` value or a locale) asks for Simplified Chinese.
pub fn wants_chinese(lang: Option<&str>) -> bool {
    lang.map(str::trim)
        .is_some_and(|l| l.eq_ignore_ascii_case("zh") || l.to_ascii_lowercase().starts_with("zh-"))
}

fn required(value: &Option<String>) -> Result<String, Invalid> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(Invalid::new("required", "is required")),
    }
}

/// `Option<Option<T>>` for PATCH: absent (leave it), `null` (clear it) or a value.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A partial update: absent fields stay, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventPatch {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub title_zh: Option<Option<String>>,
    pub slug: Option<String>,
    pub timezone: Option<String>,
    /// `null` goes back to the derived end zone.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub end_timezone: Option<Option<String>>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    /// With a new `starts_at`: move every agenda item by as much as the start moves, in the same change.
    #[serde(default)]
    pub move_items: bool,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub summary_zh: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description_zh: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub online_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<VenueInput>)]
    pub venue: Option<Option<VenueInput>>,
    pub organiser: Option<OrganiserInput>,
    /// Move the event to another team (admins only).
    pub team_id: Option<Uuid>,
    /// The teams that co-organise the event, replacing the list (its own team's organisers and admins).
    pub shared_with: Option<Vec<Uuid>>,
    /// The event's own reminders (minutes before the start); `null` goes back to the kind's defaults.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<i64>>)]
    pub reminder_minutes: Option<Option<Vec<i64>>>,
}

impl EventPatch {
    /// Does it change who the event belongs to?
    pub fn changes_teams(&self) -> bool {
        self.team_id.is_some() || self.shared_with.is_some()
    }

    /// The current event as input with this patch applied on top, to be validated as a whole.
    pub fn apply(self, current: &EventDetails) -> EventInput {
        let mut input = EventInput::from(current);
        let set = |field: &mut Option<String>, value: Option<String>| {
            if value.is_some() {
                *field = value;
            }
        };
        set(&mut input.title, self.title);
        set(&mut input.slug, self.slug);
        set(&mut input.timezone, self.timezone);
        set(&mut input.starts_at, self.starts_at);
        set(&mut input.ends_at, self.ends_at);
        for (field, value) in [
            (&mut input.title_zh, self.title_zh),
            (&mut input.end_timezone, self.end_timezone),
            (&mut input.summary, self.summary),
            (&mut input.summary_zh, self.summary_zh),
            (&mut input.description, self.description),
            (&mut input.description_zh, self.description_zh),
        ] {
            if let Some(value) = value {
                *field = value;
            }
        }
        if let Some(url) = self.online_url {
            input.online_url = url;
        }
        if let Some(venue) = self.venue {
            input.venue = venue;
        }
        if let Some(minutes) = self.reminder_minutes {
            input.reminder_minutes = minutes;
        }
        if let Some(organiser) = self.organiser {
            let current = input.organiser.take().unwrap_or(OrganiserInput {
                name: None,
                email: None,
            });
            input.organiser = Some(OrganiserInput {
                name: organiser.name.or(current.name),
                email: organiser.email.or(current.email),
            });
        }
        input
    }
}

impl From<&EventDetails> for EventInput {
    fn from(d: &EventDetails) -> Self {
        Self {
            kind: Some(d.kind.to_value()),
            title: Some(d.title.clone()),
            title_zh: d.title_zh.clone(),
            slug: d.slug.clone(),
            timezone: Some(d.timezone.name().to_owned()),
            end_timezone: d.end_timezone.map(|z| z.name().to_owned()),
            starts_at: Some(d.span.starts_at.to_rfc3339()),
            ends_at: Some(d.span.ends_at.to_rfc3339()),
            summary: d.summary.clone(),
            summary_zh: d.summary_zh.clone(),
            description: d.description.clone(),
            description_zh: d.description_zh.clone(),
            online_url: d.online_url.clone(),
            venue: d.venue.as_ref().map(|v| VenueInput {
                id: v.id,
                name: Some(v.name.clone()),
                address: v.address.clone(),
                city: v.city.clone(),
                country: v.country.clone(),
            }),
            organiser: Some(OrganiserInput {
                name: Some(d.organiser.name.clone()),
                email: Some(d.organiser.email.clone()),
            }),
            team_id: None,
            reminder_minutes: d
                .reminder_minutes
                .as_ref()
                .map(|m| m.iter().map(|&v| i64::from(v)).collect()),
        }
    }
}

impl EventDetails {
    /// The zone the end is read and shown in when nothing else decides it: the explicit one, else the start's.
    pub fn end_zone(&self) -> TimeZone {
        self.end_timezone.unwrap_or(self.timezone)
    }

    /// The zone of the event's end in every view: the explicit one; else `last_item_zone` (the end zone of the
    /// agenda item that ends last, when there is an agenda); else the start's zone.
    pub fn derived_end_zone(&self, last_item_zone: Option<TimeZone>) -> TimeZone {
        self.end_timezone
            .or(last_item_zone)
            .unwrap_or(self.timezone)
    }

    /// The title in `lang` (`zh-CN`/`zh` pick the Chinese one when there is one; English is the fallback).
    pub fn title_in(&self, chinese: bool) -> &str {
        pick(chinese, &self.title, self.title_zh.as_deref())
    }

    /// The fields as JSON values, by the names the API uses, for change records.
    pub fn field_values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("title", json!(self.title)),
            ("title_zh", json!(self.title_zh)),
            ("slug", json!(self.slug)),
            ("timezone", json!(self.timezone.name())),
            ("end_timezone", json!(self.end_timezone.map(TimeZone::name))),
            (
                "starts_at",
                json!(self.timezone.local(self.span.starts_at).to_rfc3339()),
            ),
            (
                "ends_at",
                json!(self.end_zone().local(self.span.ends_at).to_rfc3339()),
            ),
            ("summary", json!(self.summary)),
            ("summary_zh", json!(self.summary_zh)),
            ("description", json!(self.description)),
            ("description_zh", json!(self.description_zh)),
            ("online_url", json!(self.online_url)),
            ("venue", json!(self.venue)),
            ("organiser", json!(self.organiser)),
            ("reminder_minutes", json!(self.reminder_minutes)),
        ]
    }

    /// What a published event must have: a webinar its join link, a workshop its venue.
    pub fn check_publishable(&self) -> Result<(), Problem> {
        let mut f = Fields::new();
        match self.kind {
            EventKind::Webinar if self.online_url.is_none() => f.push(
                "online_url",
                "required_to_publish",
                "a webinar needs its online_url (the join link) to be published",
            ),
            EventKind::Workshop if self.venue.is_none() => f.push(
                "venue",
                "required_to_publish",
                "a workshop needs its venue to be published",
            ),
            _ => {}
        }
        f.finish()
    }

    /// One line for a calendar's LOCATION: the venue, else the join link.
    pub fn location(&self) -> Option<String> {
        self.venue
            .as_ref()
            .map(Venue::location)
            .or_else(|| self.online_url.clone())
    }
}

/// One field's change: its name and the values before and after (what `event.updated` carries, so defined in
/// the contracts).
pub use cloverleaf_contracts::events::FieldChange;

/// The fields that differ between two versions of the same field list.
pub fn diff(before: &[(&'static str, Value)], after: &[(&'static str, Value)]) -> Vec<FieldChange> {
    before
        .iter()
        .zip(after)
        .filter(|((_, b), (_, a))| a != b)
        .map(|((name, b), (_, a))| FieldChange {
            field: (*name).to_owned(),
            before: b.clone(),
            after: a.clone(),
        })
        .collect()
}

/// Whether any of `changes` is one an attendee's calendar shows.
pub fn calendar_visible(changes: &[FieldChange], visible: &[&str]) -> bool {
    changes.iter().any(|c| visible.contains(&c.field.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The history's JSON says what the column stores.
    #[test]
    fn change_actions_serialise_as_stored() {
        use sea_orm::Iterable;
        for action in ChangeAction::iter() {
            assert_eq!(json!(action), json!(action.to_value()));
        }
    }

    fn webinar() -> EventInput {
        EventInput {
            kind: Some("webinar".into()),
            title: Some("Data sharing in personalised medicine".into()),
            timezone: Some("Europe/Brussels".into()),
            starts_at: Some("2026-06-10T09:00".into()),
            ends_at: Some("2026-06-10T10:30".into()),
            organiser: Some(OrganiserInput {
                name: Some("PerMed Office".into()),
                email: Some("office@permed.example.org".into()),
            }),
            ..EventInput::default()
        }
    }

    #[test]
    fn a_valid_event_and_every_invalid_field_named() {
        let event = webinar().validate().expect("valid");
        assert_eq!(
            event.span.starts_at.to_rfc3339(),
            "2026-06-10T07:00:00+00:00"
        );
        let problem = EventInput {
            kind: Some("party".into()),
            title: Some("Two\nlines".into()),
            timezone: Some("Europe/Nowhere".into()),
            organiser: None,
            ..webinar()
        }
        .validate()
        .expect_err("invalid");
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "title", "timezone", "organiser"]);
        let problem = EventInput {
            ends_at: Some("2026-06-10T08:00".into()),
            ..webinar()
        }
        .validate()
        .expect_err("end before start");
        assert_eq!(problem.errors[0].field, "ends_at");
        assert_eq!(problem.errors[0].code, "ends_before_start");
    }

    #[test]
    fn publishing_needs_a_join_link_or_a_venue() {
        let event = webinar().validate().expect("valid");
        assert_eq!(
            event.check_publishable().expect_err("no url").errors[0].field,
            "online_url"
        );
        let workshop = EventInput {
            kind: Some("workshop".into()),
            ..webinar()
        }
        .validate()
        .expect("valid");
        assert_eq!(
            workshop.check_publishable().expect_err("no venue").errors[0].field,
            "venue"
        );
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_the_diff_shows_it() {
        let before = webinar().validate().expect("valid");
        let patch: EventPatch = serde_json::from_value(json!({
            "starts_at": "2026-06-10T10:00", "ends_at": "2026-06-10T11:30", "summary": "New"
        }))
        .expect("patch");
        let after = patch.apply(&before).validate().expect("valid");
        let changes = diff(&before.field_values(), &after.field_values());
        let names: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["starts_at", "ends_at", "summary"]);
        assert!(calendar_visible(&changes, &CALENDAR_FIELDS));
        let only_summary = diff(
            &after.field_values(),
            &EventPatch {
                summary: Some(None),
                ..EventPatch::default()
            }
            .apply(&after)
            .validate()
            .expect("valid")
            .field_values(),
        );
        assert!(!calendar_visible(&only_summary, &CALENDAR_FIELDS));
    }
}
