//! What changed, in lines: an `event.updated` change set (the event's own fields, or one agenda item added,
//! updated or removed) becomes one line per changed field, in the reader's language.
//!
//! This module decides *which* line and its values — which fields are shown with their values, as times or only
//! as changed; which zone a time is read in (an item's own, each end its own); when a time drops its date (the
//! day stays the same); how a venue or a list reads — and the macros of `templates/<locale>/changes.txt` word it
//! ("Start: {before} → {after}", "日程：新增“{title}”，{time}"). Times are written by `cloverleaf_locale::time`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cloverleaf_locale::{Locale, text, time};
use minijinja::{Error, State, Value};

/// One field change of an event or agenda item, as scheduling reports it in `event.updated` (the contract's type).
pub use cloverleaf_contracts::events::FieldChange;

/// What changed, from an `event.updated` payload.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// "updated" (the event itself), "item_added", "item_updated", "item_removed"
    pub action: String,
    pub changes: Vec<FieldChange>,
    /// The agenda item's title when action is item_*; None otherwise.
    pub item_title: Option<String>,
    /// Its Chinese title, if it has one.
    pub item_title_zh: Option<String>,
    /// The item's zones as it is now (item_updated): its times are shown in them.
    pub item_timezone: Option<Tz>,
    pub item_end_timezone: Option<Tz>,
}

/// The macros `changes.txt` must define (checked at start-up).
pub(super) const MACROS: &[&str] = &[
    "label",
    "kind_name",
    "none",
    "list_separator",
    "parts_separator",
    "values",
    "changed",
    "agenda_moved",
    "item_added",
    "item_removed",
];

/// The wording of one locale's change lines: its `changes.txt` evaluated, with the pieces every value needs
/// looked up once.
pub(super) struct Wording<'w, 's, 'env> {
    state: &'w State<'s, 'env>,
    none: String,
    list_separator: String,
    parts_separator: String,
}

impl<'w, 's, 'env> Wording<'w, 's, 'env> {
    pub(super) fn new(state: &'w State<'s, 'env>) -> Result<Self, Error> {
        Ok(Self {
            none: state.call_macro("none", &[])?,
            list_separator: state.call_macro("list_separator", &[])?,
            parts_separator: state.call_macro("parts_separator", &[])?,
            state,
        })
    }

    fn call(&self, name: &str, args: &[Value]) -> Result<String, Error> {
        self.state.call_macro(name, args)
    }
}

/// Where a field line stands: in the event's own change, or in an agenda item's (with the item's title, if known),
/// which the wording names in front of it ("Agenda: “Lunch” – …", "日程“午餐”的…").
#[derive(Clone, Copy)]
struct Scope<'a> {
    item: bool,
    title: Option<&'a str>,
}

/// Human lines describing a change set in a locale (see [`super::Templates::describe_changes`]): `tz` is the zone
/// the event's start times are shown in, `end_tz` its end's.
pub(super) fn describe(
    changes: &ChangeSet,
    tz: Tz,
    end_tz: Tz,
    locale: Locale,
    wording: &Wording<'_, '_, '_>,
) -> Result<Vec<String>, Error> {
    match changes.action.as_str() {
        "item_added" => Ok(vec![item_line(changes, tz, locale, wording, false)?]),
        "item_removed" => Ok(vec![item_line(changes, tz, locale, wording, true)?]),
        "item_updated" => {
            let title = item_title(changes, false, locale);
            let (start_zone, end_zone) = item_zones(changes, tz, false);
            let scope = Scope {
                item: true,
                title: title.as_deref(),
            };
            changes
                .changes
                .iter()
                .filter(|change| change.before != change.after)
                .map(|change| {
                    describe_field(change, start_zone, end_zone, locale, wording)?
                        .words(scope, wording)
                })
                .collect()
        }
        _ => {
            let scope = Scope {
                item: false,
                title: None,
            };
            changes
                .changes
                .iter()
                .filter(|change| change.before != change.after)
                .map(|change| {
                    describe_field(change, tz, end_tz, locale, wording)?.words(scope, wording)
                })
                .collect()
        }
    }
}

/// One described field change, before it is put into words.
enum FieldLine {
    /// "Title: Old → New"
    Values {
        label: String,
        before: String,
        after: String,
    },
    /// "Online link changed"
    Changed { label: String },
    /// "Agenda: all 3 items moved 1 hour later, with the start": `items` (if known) moved `by` later or earlier.
    AgendaMoved {
        items: Option<i64>,
        by: String,
        later: bool,
    },
}

impl FieldLine {
    fn words(self, scope: Scope<'_>, wording: &Wording<'_, '_, '_>) -> Result<String, Error> {
        let (item, title) = (Value::from(scope.item), Value::from(scope.title));
        match self {
            FieldLine::Values {
                label,
                before,
                after,
            } => wording.call(
                "values",
                &[item, title, label.into(), before.into(), after.into()],
            ),
            FieldLine::Changed { label } => wording.call("changed", &[item, title, label.into()]),
            FieldLine::AgendaMoved { items, by, later } => wording.call(
                "agenda_moved",
                &[item, title, items.into(), by.into(), later.into()],
            ),
        }
    }
}

/// How a field's change is shown.
#[derive(Clone, Copy)]
enum Shown {
    /// Both values, as text.
    Values,
    /// Both values, as times in the event's zone.
    Times,
    /// Only that it changed (long texts, links, ids, nested details).
    Changed,
}

/// The fields scheduling reports for events and agenda items, and how each is shown (their labels are the
/// wording's `label` macro).
const FIELDS: &[(&str, Shown)] = &[
    ("title", Shown::Values),
    ("title_zh", Shown::Values),
    ("agenda", Shown::Changed),
    ("end_timezone", Shown::Values),
    ("summary_zh", Shown::Changed),
    ("description_zh", Shown::Changed),
    ("starts_at", Shown::Times),
    ("ends_at", Shown::Times),
    ("check_in", Shown::Times),
    ("check_out", Shown::Times),
    ("timezone", Shown::Values),
    ("venue", Shown::Values),
    ("location", Shown::Values),
    ("kind", Shown::Values),
    ("organiser", Shown::Values),
    ("status", Shown::Values),
    ("online_url", Shown::Changed),
    ("slug", Shown::Changed),
    ("summary", Shown::Changed),
    ("description", Shown::Changed),
    ("room_id", Shown::Changed),
    ("host", Shown::Changed),
    ("speakers", Shown::Changed),
    ("visit", Shown::Changed),
    ("transfer", Shown::Changed),
    ("hotel", Shown::Changed),
];

/// `agenda` in an event's change (contract 5): its items moved with its start, `{moved_by_seconds, items}`.
fn agenda_moved(change: &FieldChange, locale: Locale) -> Option<FieldLine> {
    let seconds = change.after.get("moved_by_seconds")?.as_i64()?;
    let items = change
        .after
        .get("items")
        .and_then(serde_json::Value::as_i64);
    let by = text::duration(seconds.abs() / 60, locale)?;
    Some(FieldLine::AgendaMoved {
        items,
        by,
        later: seconds >= 0,
    })
}

/// `tz`: the zone start times are shown in; `end_tz`: end times'.
fn describe_field(
    change: &FieldChange,
    tz: Tz,
    end_tz: Tz,
    locale: Locale,
    wording: &Wording<'_, '_, '_>,
) -> Result<FieldLine, Error> {
    if change.field == "agenda"
        && let Some(line) = agenda_moved(change, locale)
    {
        return Ok(line);
    }
    let label = wording.call("label", &[Value::from(change.field.as_str())])?;
    let Some(&(field, shown)) = FIELDS.iter().find(|(name, _)| *name == change.field) else {
        return Ok(FieldLine::Changed { label });
    };
    Ok(match shown {
        Shown::Changed => FieldLine::Changed { label },
        Shown::Values => FieldLine::Values {
            label,
            before: value_text(&change.before, field, wording)?,
            after: value_text(&change.after, field, wording)?,
        },
        Shown::Times => {
            let tz = if matches!(field, "ends_at" | "check_out") {
                end_tz
            } else {
                tz
            };
            let (before, after) = (time_value(&change.before), time_value(&change.after));
            let text =
                |value: &serde_json::Value, at: Option<DateTime<Utc>>, with_date: bool| match at {
                    Some(at) => Ok(time::stamp(at, tz, locale, with_date)),
                    None => value_text(value, field, wording),
                };
            // The new time without its date when the day stays the same: "09:30 UTC+2 → 10:30 UTC+2".
            let same_day =
                matches!((before, after), (Some(b), Some(a)) if time::same_day(b, a, tz));
            FieldLine::Values {
                label,
                before: text(&change.before, before, true)?,
                after: text(&change.after, after, !same_day)?,
            }
        }
    })
}

fn time_value(value: &serde_json::Value) -> Option<DateTime<Utc>> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc))
}

/// A field's value as text: strings as they are (a kind by its name in the reader's language), venues and
/// organisers as "name, address, city, country", lists joined, null as "(none)".
fn value_text(
    value: &serde_json::Value,
    field: &str,
    wording: &Wording<'_, '_, '_>,
) -> Result<String, Error> {
    use serde_json::Value as Json;
    Ok(match value {
        Json::Null => wording.none.clone(),
        Json::String(text) if field == "kind" => {
            wording.call("kind_name", &[Value::from(text.as_str())])?
        }
        Json::String(text) => text.clone(),
        Json::Bool(_) | Json::Number(_) => value.to_string(),
        Json::Array(items) => items
            .iter()
            .map(|item| value_text(item, field, wording))
            .collect::<Result<Vec<_>, _>>()?
            .join(&wording.list_separator),
        Json::Object(map) => {
            let parts = ["name", "institution", "address", "city", "country", "email"]
                .iter()
                .filter_map(|key| map.get(*key).and_then(Json::as_str))
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>();
            if parts.is_empty() {
                value.to_string()
            } else {
                parts.join(&wording.parts_separator)
            }
        }
    })
}

/// The agenda item's title in `locale`: the one given, else its title fields (after, or before when `removed`).
fn item_title(changes: &ChangeSet, removed: bool, locale: Locale) -> Option<String> {
    let field = |name: &str| {
        changes
            .changes
            .iter()
            .find(|change| change.field == name)
            .and_then(|change| {
                let value = if removed {
                    &change.before
                } else {
                    &change.after
                };
                value.as_str().map(str::to_owned)
            })
    };
    let english = changes.item_title.clone().or_else(|| field("title"))?;
    let chinese = changes.item_title_zh.clone().or_else(|| field("title_zh"));
    Some(locale.pick(&english, chinese.as_deref()).to_owned())
}

/// The zones an item's start and end are shown in: as it is now (given), else the zone its change names (after,
/// or before when `removed`), else the event's; the end's own zone, else the start's.
fn item_zones(changes: &ChangeSet, event_zone: Tz, removed: bool) -> (Tz, Tz) {
    let named = |name: &str| {
        changes
            .changes
            .iter()
            .find(|change| change.field == name)
            .and_then(|change| {
                if removed {
                    change.before.as_str()
                } else {
                    change.after.as_str().or(change.before.as_str())
                }
            })
            .and_then(|zone| zone.parse::<Tz>().ok())
    };
    let start = changes
        .item_timezone
        .or_else(|| named("timezone"))
        .unwrap_or(event_zone);
    let end = changes
        .item_end_timezone
        .or_else(|| named("end_timezone"))
        .unwrap_or(start);
    (start, end)
}

/// When an added or removed item takes place: its start and end (after, or before when `removed`), each in the
/// item's own zone and labelled with it.
fn item_time(changes: &ChangeSet, tz: Tz, locale: Locale, removed: bool) -> Option<String> {
    let field = |name: &str| {
        changes
            .changes
            .iter()
            .find(|change| change.field == name)
            .and_then(|change| {
                time_value(if removed {
                    &change.before
                } else {
                    &change.after
                })
            })
    };
    let (start_zone, end_zone) = item_zones(changes, tz, removed);
    match (field("starts_at"), field("ends_at")) {
        (Some(starts), Some(ends)) => Some(time::labelled_span(
            starts, start_zone, ends, end_zone, locale,
        )),
        (Some(starts), None) => Some(time::labelled_instant(starts, start_zone, locale)),
        _ => None,
    }
}

/// The one line of an item added (or removed): its title and when it takes (took) place.
fn item_line(
    changes: &ChangeSet,
    tz: Tz,
    locale: Locale,
    wording: &Wording<'_, '_, '_>,
    removed: bool,
) -> Result<String, Error> {
    let title = item_title(changes, removed, locale);
    let time = item_time(changes, tz, locale, removed);
    let name = if removed {
        "item_removed"
    } else {
        "item_added"
    };
    wording.call(name, &[Value::from(title), Value::from(time)])
}
