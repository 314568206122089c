//! Agenda items: sessions, talks and breaks of a workshop; visits, transfers and hotels of a tour. Each has its own
//! zone (default: the event's), so one tour holds items in Europe/Berlin and Asia/Shanghai, and each lies inside
//! its event's span.

use sea_orm::ActiveEnum;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::event::nullable;
use super::fields::{self, EmailAddress, Fields, Invalid};
use super::time::{Span, TimeZone, parse_instant};
use cloverleaf_service_kit::Problem;

// The kinds are the contract's: one definition for the wire's values, the OpenAPI schema and the `agenda_items.kind`
// column (a sea-orm active enum storing the same strings).
pub use cloverleaf_contracts::scheduling::ItemKind;

/// An item kind as a request names it.
pub fn parse_item_kind(value: &str) -> Result<ItemKind, Invalid> {
    ItemKind::try_from_value(&value.to_owned()).map_err(|_| {
        Invalid::new(
            "invalid_choice",
            "must be session, talk, panel, break, meal, visit, transfer, hotel or other",
        )
    })
}

// The details of a visit, transfer and hotel stay are shown to the other services as they are, so they are defined
// in the contracts: whom to call at a host institution, a visit to one, travel between two cities, a night's stay
// (its check-in and check-out are the item's `starts_at` and `ends_at`).
pub use cloverleaf_contracts::{Contact, Hotel, Transfer, Visit};

/// An agenda item as requested (and what a patch is merged onto).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemInput {
    #[schema(required = true, value_type = String, example = "talk")]
    pub kind: Option<String>,
    #[schema(required = true)]
    pub title: Option<String>,
    /// The title in Simplified Chinese (optional; the English one is the fallback).
    pub title_zh: Option<String>,
    /// RFC 3339 with an offset, or a wall-clock time in the item's zone.
    #[schema(required = true)]
    pub starts_at: Option<String>,
    /// RFC 3339 with an offset, or a wall-clock time in the item's end zone.
    #[schema(required = true)]
    pub ends_at: Option<String>,
    /// IANA name; the event's when absent.
    pub timezone: Option<String>,
    /// IANA zone of the item's end (a flight arrives in another zone than it departs in); `timezone` when absent.
    pub end_timezone: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub location: Option<String>,
    /// A room of a venue (`/v1/venues`); double bookings are reported as conflicts.
    pub room_id: Option<Uuid>,
    /// A person (`/v1/people`) hosting the item.
    pub host: Option<Uuid>,
    /// People (`/v1/people`) speaking; `null` is none.
    #[serde(default, deserialize_with = "null_is_empty")]
    pub speakers: Vec<Uuid>,
    pub visit: Option<Visit>,
    pub transfer: Option<Transfer>,
    pub hotel: Option<Hotel>,
}

/// A partial update of an item: absent fields stay, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    pub kind: Option<String>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub title_zh: Option<Option<String>>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub end_timezone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description_zh: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub location: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub room_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub host: Option<Option<Uuid>>,
    pub speakers: Option<Vec<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Visit>)]
    pub visit: Option<Option<Visit>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Transfer>)]
    pub transfer: Option<Option<Transfer>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Hotel>)]
    pub hotel: Option<Option<Hotel>>,
}

impl ItemPatch {
    pub fn apply(self, current: &ItemDetails) -> ItemInput {
        let mut input = ItemInput::from(current);
        macro_rules! keep_or_set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { input.$field = Some(v); } )* };
        }
        macro_rules! nullable_set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { input.$field = v; } )* };
        }
        keep_or_set!(kind, title, starts_at, ends_at);
        nullable_set!(
            title_zh,
            timezone,
            end_timezone,
            description,
            description_zh,
            location,
            room_id,
            host,
            visit,
            transfer,
            hotel
        );
        if let Some(speakers) = self.speakers {
            input.speakers = speakers;
        }
        input
    }
}

/// An item's kind-specific part, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Details {
    Visit(Visit),
    Transfer(Transfer),
    Hotel(Hotel),
}

/// An agenda item's settable fields, all valid.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDetails {
    pub kind: ItemKind,
    pub title: String,
    pub title_zh: Option<String>,
    pub span: Span,
    /// Its own zone; `None` follows the event's.
    pub timezone: Option<TimeZone>,
    /// The zone of its end; `None` is its start's zone.
    pub end_timezone: Option<TimeZone>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub location: Option<String>,
    pub room_id: Option<Uuid>,
    pub host: Option<Uuid>,
    pub speakers: Vec<Uuid>,
    pub details: Option<Details>,
}

/// The item fields an attendee's calendar shows: changing one after publishing raises the event's sequence.
pub const CALENDAR_FIELDS: [&str; 11] = [
    "kind",
    "title",
    "title_zh",
    "timezone",
    "end_timezone",
    "starts_at",
    "ends_at",
    "location",
    "room_id",
    "visit",
    "transfer",
];

/// What an item is checked against: its event's zone and span.
pub struct EventFrame {
    pub timezone: TimeZone,
    pub span: Span,
}

impl ItemInput {
    /// Checks every field against the rules and the event; a 422 names each invalid one. People and rooms are
    /// checked to exist by the store.
    pub fn validate(&self, event: &EventFrame) -> Result<ItemDetails, Problem> {
        let mut f = Fields::new();
        let kind = f.check(
            "kind",
            required(&self.kind).and_then(|k| parse_item_kind(&k)),
        );
        let title = f.check(
            "title",
            required(&self.title).and_then(|t| fields::line(&t, fields::TITLE_MAX)),
        );
        let title_zh = f
            .check(
                "title_zh",
                fields::optional_line(self.title_zh.as_deref(), fields::TITLE_MAX),
            )
            .flatten();
        let own_zone = optional_zone(&mut f, "timezone", self.timezone.as_deref());
        let end_zone = optional_zone(&mut f, "end_timezone", self.end_timezone.as_deref());
        let span = match (own_zone, end_zone) {
            (Some(zone), Some(end_zone)) => {
                let zone = zone.unwrap_or(event.timezone);
                let end_zone = end_zone.unwrap_or(zone);
                let starts_at = f.check(
                    "starts_at",
                    required(&self.starts_at).and_then(|s| parse_instant(&s, zone)),
                );
                let ends_at = f.check(
                    "ends_at",
                    required(&self.ends_at).and_then(|s| parse_instant(&s, end_zone)),
                );
                match (starts_at, ends_at) {
                    (Some(s), Some(e)) => f.check("ends_at", Span::new(s, e)),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(span) = span {
            if span.starts_at < event.span.starts_at || span.starts_at >= event.span.ends_at {
                f.push(
                    "starts_at",
                    "outside_event",
                    "must lie inside the event's start and end",
                );
            } else if span.ends_at > event.span.ends_at {
                f.push(
                    "ends_at",
                    "outside_event",
                    "must lie inside the event's start and end",
                );
            }
        }
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
        let location = f
            .check(
                "location",
                fields::optional_line(self.location.as_deref(), fields::SHORT_TEXT_MAX),
            )
            .flatten();
        let mut speakers = Vec::new();
        for (i, id) in self.speakers.iter().enumerate() {
            if speakers.contains(id) {
                f.push(format!("speakers[{i}]"), "duplicate", "is listed twice");
            } else {
                speakers.push(*id);
            }
        }
        let details = kind.and_then(|kind| self.details(kind, &mut f));
        f.finish()?;
        match (kind, title, span, own_zone, end_zone) {
            (Some(kind), Some(title), Some(span), Some(timezone), Some(end_timezone)) => {
                Ok(ItemDetails {
                    kind,
                    title,
                    title_zh,
                    span,
                    timezone,
                    end_timezone,
                    description,
                    description_zh,
                    location,
                    room_id: self.room_id,
                    host: self.host,
                    speakers,
                    details,
                })
            }
            _ => Err(Problem::invalid(Vec::new())),
        }
    }

    /// A visit's institution and address and a transfer's from and to may wait until the hosts are confirmed (such
    /// an item is reported incomplete by [`ItemDetails::missing`]); details belong to their own kind only.
    fn details(&self, kind: ItemKind, f: &mut Fields) -> Option<Details> {
        let line = |f: &mut Fields, field: &str, value: &Option<String>| match value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(v) => f.check(field, fields::line(v, fields::SHORT_TEXT_MAX)),
        };
        for (present, name, owner) in [
            (self.visit.is_some(), "visit", ItemKind::Visit),
            (self.transfer.is_some(), "transfer", ItemKind::Transfer),
            (self.hotel.is_some(), "hotel", ItemKind::Hotel),
        ] {
            if present && kind != owner {
                f.push(
                    name,
                    "wrong_kind",
                    format!("only a {name} item has {name} details"),
                );
            }
        }
        match kind {
            ItemKind::Visit => {
                let visit = self.visit.clone().unwrap_or_default();
                let contact = visit.contact.map(|c| Contact {
                    name: line(f, "visit.contact.name", &c.name),
                    email: c
                        .email
                        .as_deref()
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .and_then(|e| {
                            f.check("visit.contact.email", EmailAddress::parse(e))
                                .map(EmailAddress::into_string)
                        }),
                    phone: line(f, "visit.contact.phone", &c.phone),
                });
                Some(Details::Visit(Visit {
                    institution: line(f, "visit.institution", &visit.institution),
                    address: line(f, "visit.address", &visit.address),
                    city: line(f, "visit.city", &visit.city),
                    contact,
                }))
            }
            ItemKind::Transfer => {
                let transfer = self.transfer.clone().unwrap_or_default();
                Some(Details::Transfer(Transfer {
                    from: line(f, "transfer.from", &transfer.from),
                    to: line(f, "transfer.to", &transfer.to),
                    carrier: line(f, "transfer.carrier", &transfer.carrier),
                    number: line(f, "transfer.number", &transfer.number),
                }))
            }
            ItemKind::Hotel => {
                let hotel = self.hotel.clone().unwrap_or_default();
                Some(Details::Hotel(Hotel {
                    name: line(f, "hotel.name", &hotel.name),
                    address: line(f, "hotel.address", &hotel.address),
                    city: line(f, "hotel.city", &hotel.city),
                }))
            }
            _ => None,
        }
    }
}

/// An optional IANA zone: `Some(None)` when absent, `None` when invalid (the error is recorded).
fn optional_zone(f: &mut Fields, field: &str, value: Option<&str>) -> Option<Option<TimeZone>> {
    match value.map(str::trim).filter(|z| !z.is_empty()) {
        None => Some(None),
        Some(zone) => f.check(field, TimeZone::parse(zone)).map(Some),
    }
}

/// A list that may be sent as `null`, meaning none.
fn null_is_empty<'de, T, D>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<Vec<T>>::deserialize(deserializer).map(Option::unwrap_or_default)
}

fn required(value: &Option<String>) -> Result<String, Invalid> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(Invalid::new("required", "is required")),
    }
}

impl From<&ItemDetails> for ItemInput {
    fn from(d: &ItemDetails) -> Self {
        let (visit, transfer, hotel) = match d.details.clone() {
            Some(Details::Visit(v)) => (Some(v), None, None),
            Some(Details::Transfer(t)) => (None, Some(t), None),
            Some(Details::Hotel(h)) => (None, None, Some(h)),
            None => (None, None, None),
        };
        Self {
            kind: Some(d.kind.to_value()),
            title: Some(d.title.clone()),
            title_zh: d.title_zh.clone(),
            starts_at: Some(d.span.starts_at.to_rfc3339()),
            ends_at: Some(d.span.ends_at.to_rfc3339()),
            timezone: d.timezone.map(|z| z.name().to_owned()),
            end_timezone: d.end_timezone.map(|z| z.name().to_owned()),
            description: d.description.clone(),
            description_zh: d.description_zh.clone(),
            location: d.location.clone(),
            room_id: d.room_id,
            host: d.host,
            speakers: d.speakers.clone(),
            visit,
            transfer,
            hotel,
        }
    }
}

impl ItemDetails {
    /// The zone the item is shown in.
    pub fn zone(&self, event_zone: TimeZone) -> TimeZone {
        self.timezone.unwrap_or(event_zone)
    }

    /// The zone the item's end is shown in: its end zone, else its start's.
    pub fn end_zone(&self, event_zone: TimeZone) -> TimeZone {
        self.end_timezone.unwrap_or_else(|| self.zone(event_zone))
    }

    /// The details a visit or transfer still lacks (`institution`, `address`, `from`, `to`): it can be planned
    /// before its host is confirmed, and is listed as incomplete until then.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let mut lacks = |name: &'static str, value: &Option<String>| {
            if value.is_none() {
                missing.push(name);
            }
        };
        match (&self.kind, &self.details) {
            (ItemKind::Visit, details) => {
                let visit = match details {
                    Some(Details::Visit(v)) => v.clone(),
                    _ => Visit::default(),
                };
                lacks("institution", &visit.institution);
                lacks("address", &visit.address);
            }
            (ItemKind::Transfer, details) => {
                let transfer = match details {
                    Some(Details::Transfer(t)) => t.clone(),
                    _ => Transfer::default(),
                };
                lacks("from", &transfer.from);
                lacks("to", &transfer.to);
            }
            _ => {}
        }
        missing
    }

    pub fn visit(&self) -> Option<&Visit> {
        match &self.details {
            Some(Details::Visit(v)) => Some(v),
            _ => None,
        }
    }

    pub fn transfer(&self) -> Option<&Transfer> {
        match &self.details {
            Some(Details::Transfer(t)) => Some(t),
            _ => None,
        }
    }

    pub fn hotel(&self) -> Option<&Hotel> {
        match &self.details {
            Some(Details::Hotel(h)) => Some(h),
            _ => None,
        }
    }

    /// One line for a calendar's LOCATION: the given location, else what the kind tells (institution and address,
    /// the route, the hotel).
    pub fn calendar_location(&self) -> Option<String> {
        if let Some(location) = &self.location {
            return Some(location.clone());
        }
        let joined = |parts: &[Option<&str>]| {
            let text = parts
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            (!text.is_empty()).then_some(text)
        };
        match &self.details {
            Some(Details::Visit(v)) => joined(&[
                v.institution.as_deref(),
                v.address.as_deref(),
                v.city.as_deref(),
            ]),
            Some(Details::Transfer(t)) => match (&t.from, &t.to) {
                (Some(from), Some(to)) => Some(format!("{from} → {to}")),
                _ => None,
            },
            Some(Details::Hotel(h)) => {
                joined(&[h.name.as_deref(), h.address.as_deref(), h.city.as_deref()])
            }
            None => None,
        }
    }

    /// The fields as JSON values by their API names, for change records.
    pub fn field_values(&self, event_zone: TimeZone) -> Vec<(&'static str, Value)> {
        let zone = self.zone(event_zone);
        let end_zone = self.end_zone(event_zone);
        vec![
            ("kind", json!(self.kind.to_value())),
            ("title", json!(self.title)),
            ("title_zh", json!(self.title_zh)),
            ("timezone", json!(self.timezone.map(TimeZone::name))),
            ("end_timezone", json!(self.end_timezone.map(TimeZone::name))),
            (
                "starts_at",
                json!(zone.local(self.span.starts_at).to_rfc3339()),
            ),
            (
                "ends_at",
                json!(end_zone.local(self.span.ends_at).to_rfc3339()),
            ),
            ("description", json!(self.description)),
            ("description_zh", json!(self.description_zh)),
            ("location", json!(self.location)),
            ("room_id", json!(self.room_id)),
            ("host", json!(self.host)),
            ("speakers", json!(self.speakers)),
            ("visit", json!(self.visit())),
            ("transfer", json!(self.transfer())),
            ("hotel", json!(self.hotel())),
        ]
    }

    /// The people this item occupies: its host and speakers.
    pub fn people(&self) -> Vec<Uuid> {
        self.host
            .iter()
            .chain(self.speakers.iter())
            .copied()
            .fold(Vec::new(), |mut all, id| {
                if !all.contains(&id) {
                    all.push(id);
                }
                all
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tour() -> EventFrame {
        EventFrame {
            timezone: TimeZone::parse("Europe/Berlin").expect("zone"),
            span: Span::new(
                "2026-05-10T00:00:00+02:00".parse().expect("start"),
                "2026-05-20T00:00:00+08:00".parse().expect("end"),
            )
            .expect("span"),
        }
    }

    #[test]
    fn an_item_in_its_own_zone() {
        let item = ItemInput {
            kind: Some("visit".into()),
            title: Some("Visit to the Jiangsu Province Hospital".into()),
            starts_at: Some("2026-05-15T09:30".into()),
            ends_at: Some("2026-05-15T12:00".into()),
            timezone: Some("Asia/Shanghai".into()),
            visit: Some(Visit {
                institution: Some("Jiangsu Province Hospital".into()),
                address: Some("300 Guangzhou Rd".into()),
                city: Some("Nanjing".into()),
                contact: None,
            }),
            ..ItemInput::default()
        }
        .validate(&tour())
        .expect("valid");
        assert_eq!(
            item.span.starts_at.to_rfc3339(),
            "2026-05-15T01:30:00+00:00"
        );
        assert_eq!(
            item.calendar_location().expect("location"),
            "Jiangsu Province Hospital, 300 Guangzhou Rd, Nanjing"
        );
    }

    #[test]
    fn items_outside_the_event_and_missing_details_are_named() {
        let problem = ItemInput {
            kind: Some("transfer".into()),
            title: Some("Flight".into()),
            starts_at: Some("2026-05-09T09:30".into()),
            ends_at: Some("2026-05-09T12:00".into()),
            transfer: Some(Transfer {
                from: Some("Berlin".into()),
                ..Transfer::default()
            }),
            visit: Some(Visit::default()),
            ..ItemInput::default()
        }
        .validate(&tour())
        .expect_err("invalid");
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["starts_at", "visit"]);
    }
}
