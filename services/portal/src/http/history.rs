//! An event's change history for its organisers: `GET /organiser/events/{id}/history`, from scheduling's
//! `GET /v1/events/{id}/changes` (every change after publishing: who, when, which fields, before and after), newest
//! first, times in the event's zone on the 24-hour clock, each field by its label and each value as a person reads
//! it (times in the zone, statuses and kinds named, a venue by its name and city).

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cloverleaf_contracts::events::FieldChange;
use cloverleaf_service_kit::config::ServiceName;
use minijinja::{Value, context};
use serde::Deserialize;
use serde_json::Value as Json;
use uuid::Uuid;

use super::organiser::{fetch_event, staff};
use super::{AppState, Ids, Visitor};
use crate::Error;
use crate::backend::Call;
use crate::domain::calendar::encode;
use crate::domain::model::{AgendaItem, Page};
use crate::domain::time;
use crate::domain::view::EventView;
use crate::i18n::{Catalog, Locale};

pub fn routes() -> Router<AppState> {
    Router::new().route("/organiser/events/{id}/history", get(page))
}

/// One change record as scheduling answers it.
#[derive(Debug, Clone, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub item_id: Option<Uuid>,
    pub action: String,
    #[serde(default)]
    pub changes: Vec<FieldChange>,
    #[serde(default)]
    pub calendar_visible: bool,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// Pages of changes read at most (500 each): far beyond any event's history, but bounded.
const MAX_PAGES: usize = 20;
/// Long texts (descriptions) are cut to this many characters in the table.
const SHOWN_CHARS: usize = 160;

/// The text in the visitor's language at `key`, or `fallback` when the catalogs have none.
fn text_or(catalog: &Catalog, locale: Locale, key: &str, fallback: &str) -> String {
    if catalog.has(locale, key) {
        catalog.text(locale, key).to_owned()
    } else {
        fallback.to_owned()
    }
}

/// How many seconds read: `2 h 30 min`, `-45 min`.
fn duration(catalog: &Catalog, locale: Locale, seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "+" };
    let minutes = seconds.unsigned_abs() / 60;
    let (days, hours, minutes) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(catalog.format(locale, "history.days", &[("n", days.to_string())]));
    }
    if hours > 0 {
        parts.push(catalog.format(locale, "history.hours", &[("n", hours.to_string())]));
    }
    if minutes > 0 || parts.is_empty() {
        parts.push(catalog.format(locale, "history.minutes", &[("n", minutes.to_string())]));
    }
    format!("{sign}{}", parts.join(" "))
}

/// A value of `field` as a person reads it.
fn shown(catalog: &Catalog, locale: Locale, zone: Tz, field: &str, value: &Json) -> String {
    let none = || catalog.text(locale, "history.none").to_owned();
    let cut = |text: &str| {
        if text.chars().count() > SHOWN_CHARS {
            let short: String = text.chars().take(SHOWN_CHARS).collect();
            format!("{short}…")
        } else {
            text.to_owned()
        }
    };
    let joined = |parts: Vec<String>| match locale {
        Locale::En => parts.join(", "),
        Locale::ZhCn => parts.join("，"),
    };
    match (field, value) {
        (_, Json::Null) => none(),
        (_, Json::String(s)) if s.is_empty() => none(),
        ("starts_at" | "ends_at", Json::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| time::moment(t.with_timezone(&Utc), zone))
            .unwrap_or_else(|_| s.clone()),
        ("status", Json::String(s)) => text_or(catalog, locale, &format!("status.{s}"), s),
        ("kind", Json::String(s)) => text_or(catalog, locale, &format!("item_kind.{s}"), s),
        ("organiser", Json::Object(o)) => {
            let name = o.get("name").and_then(Json::as_str).unwrap_or_default();
            match o.get("email").and_then(Json::as_str) {
                Some(email) if !email.is_empty() => format!("{name} <{email}>"),
                _ => name.to_owned(),
            }
        }
        ("agenda", Json::Object(o)) => {
            let by = o
                .get("moved_by_seconds")
                .and_then(Json::as_i64)
                .unwrap_or(0);
            let items = o.get("items").and_then(Json::as_u64).unwrap_or(0);
            catalog.format(
                locale,
                "history.agenda_moved",
                &[
                    ("n", items.to_string()),
                    ("by", duration(catalog, locale, by)),
                ],
            )
        }
        ("speakers", Json::Array(people)) => {
            catalog.format(locale, "history.people", &[("n", people.len().to_string())])
        }
        ("host" | "room_id", Json::String(_)) => catalog.text(locale, "history.chosen").to_owned(),
        (_, Json::String(s)) => cut(s),
        (_, Json::Bool(b)) => catalog
            .text(locale, if *b { "form.yes" } else { "form.no" })
            .to_owned(),
        (_, Json::Array(values)) if values.is_empty() => none(),
        (_, Json::Array(values)) => joined(
            values
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect(),
        ),
        // A venue, a visit, a transfer, a hotel stay: the texts it has (name, address, city…), without ids.
        (_, Json::Object(o)) => {
            // The names first, the places after (JSON objects come in the keys' order).
            const FIRST: [&str; 7] = [
                "name",
                "institution",
                "from",
                "to",
                "address",
                "city",
                "country",
            ];
            let rest = o.keys().filter(|k| !FIRST.contains(&k.as_str()));
            let parts: Vec<String> = FIRST
                .iter()
                .copied()
                .chain(rest.map(String::as_str))
                .filter(|k| !k.ends_with("id"))
                .filter_map(|k| o.get(k).and_then(Json::as_str))
                .filter(|s| !s.is_empty())
                .map(cut)
                .collect();
            if parts.is_empty() {
                none()
            } else {
                joined(parts)
            }
        }
        (_, other) => other.to_string(),
    }
}

/// One change as the page's row: when (in the event's zone), who, what was done to what, and each field before and
/// after.
fn row(
    catalog: &Catalog,
    locale: Locale,
    zone: Tz,
    change: &Change,
    items: &HashMap<Uuid, String>,
) -> Value {
    // An item by its title now, else the title the change itself names (an item since removed).
    let item = change.item_id.map(|id| {
        items.get(&id).cloned().unwrap_or_else(|| {
            change
                .changes
                .iter()
                .find(|c| c.field == "title")
                .and_then(|c| c.after.as_str().or_else(|| c.before.as_str()))
                .map_or_else(|| id.to_string(), str::to_owned)
        })
    });
    let fields: Vec<Value> = change
        .changes
        .iter()
        .map(|c| {
            context! {
                field => c.field,
                label => text_or(catalog, locale, &format!("history.field.{}", c.field), &c.field),
                before => shown(catalog, locale, zone, &c.field, &c.before),
                after => shown(catalog, locale, zone, &c.field, &c.after),
            }
        })
        .collect();
    context! {
        at => time::moment(change.changed_at, zone),
        at_utc => change.changed_at.to_rfc3339(),
        who => change.changed_by,
        action => change.action,
        action_label => text_or(catalog, locale, &format!("history.action.{}", change.action), &change.action),
        item => item,
        calendar_visible => change.calendar_visible,
        fields => fields,
    }
}

/// Every change of the event, oldest first (as scheduling lists them).
async fn changes(state: &AppState, token: &str, id: Uuid) -> Result<Vec<Change>, Error> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut path = format!("/v1/events/{id}/changes?limit=500");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", encode(c)));
        }
        let page: Page<Change> = state
            .backends
            .json(Call::get(ServiceName::Scheduling, path).bearer(Some(token)))
            .await
            .map_err(staff)?;
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(all)
}

/// `GET /organiser/events/{id}/history`
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let event = fetch_event(&state, token, id).await?;
    let (catalog, locale) = (&state.catalog, visitor.locale);
    let mut history = changes(&state, token, id).await?;
    history.reverse();
    let items: Page<AgendaItem> = state
        .backends
        .json(
            Call::get(
                ServiceName::Scheduling,
                format!("/v1/events/{id}/items?limit=500"),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(staff)?;
    let titles: HashMap<Uuid, String> = items
        .items
        .iter()
        .map(|i| {
            let title = match (locale, &i.title_zh) {
                (Locale::ZhCn, Some(zh)) if !zh.is_empty() => zh.clone(),
                _ => i.title.clone(),
            };
            (i.id, title)
        })
        .collect();
    let zone = event.zone();
    let rows: Vec<Value> = history
        .iter()
        .map(|c| row(catalog, locale, zone, c, &titles))
        .collect();
    state.render(
        &visitor,
        "organiser/history.html",
        context! {
            event => event.localized(locale),
            zone => event.timezone.clone(),
            rows => rows,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_in_the_events_zone_and_the_visitors_language() {
        let catalog = Catalog::load().expect("catalogs");
        let berlin = time::zone("Europe/Berlin").expect("zone");
        let at = json!("2027-06-15T10:00:00+02:00");
        assert_eq!(
            shown(&catalog, Locale::En, berlin, "starts_at", &at),
            "2027-06-15 10:00 UTC+2"
        );
        let shanghai = time::zone("Asia/Shanghai").expect("zone");
        assert_eq!(
            shown(&catalog, Locale::ZhCn, shanghai, "starts_at", &at),
            "2027-06-15 16:00 UTC+8"
        );
        assert_eq!(
            shown(
                &catalog,
                Locale::ZhCn,
                berlin,
                "status",
                &json!("published")
            ),
            catalog.text(Locale::ZhCn, "status.published")
        );
        assert_eq!(
            shown(&catalog, Locale::En, berlin, "title_zh", &Json::Null),
            "—"
        );
        let venue = json!({ "id": null, "name": "Charité", "city": "Berlin", "country": "DE" });
        assert_eq!(
            shown(&catalog, Locale::En, berlin, "venue", &venue),
            "Charité, Berlin, DE"
        );
        let moved = json!({ "moved_by_seconds": 5400, "items": 3 });
        let en = shown(&catalog, Locale::En, berlin, "agenda", &moved);
        assert!(en.contains('3') && en.contains("+1 h 30 min"), "{en}");
        let earlier = json!({ "moved_by_seconds": -86400, "items": 1 });
        let en = shown(&catalog, Locale::En, berlin, "agenda", &earlier);
        assert!(en.contains("-1 d"), "{en}");
    }

    #[test]
    fn a_row_names_the_field_and_an_items_title() {
        let catalog = Catalog::load().expect("catalogs");
        let item = Uuid::new_v4();
        let change = Change {
            item_id: Some(item),
            action: "item_removed".to_owned(),
            changes: vec![FieldChange {
                field: "title".to_owned(),
                before: json!("Welcome"),
                after: Json::Null,
            }],
            calendar_visible: true,
            changed_by: "office@permed.example.org".to_owned(),
            changed_at: Utc::now(),
        };
        let shown = row(&catalog, Locale::ZhCn, Tz::UTC, &change, &HashMap::new());
        assert_eq!(
            shown.get_attr("item").expect("item").as_str(),
            Some("Welcome")
        );
        let fields = shown.get_attr("fields").expect("fields");
        let first = fields.get_item_by_index(0).expect("a field");
        assert_eq!(
            first.get_attr("label").expect("label").as_str(),
            Some(catalog.text(Locale::ZhCn, "history.field.title"))
        );
    }
}
