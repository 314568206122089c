//! An agenda by day, and a tour's itinerary by day and city. Each item is shown in its own zone (a tour's stops are
//! each in their city's zone) unless the visitor asked to see every time in one zone of their own.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::model::AgendaItem;
use super::time;
use super::view::ItemView;
use crate::i18n::Locale;

#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub id: String,
    pub kind: String,
    pub title: String,
    /// `10:00–10:45 UTC+2`, each end with its offset in its own zone, with the day of the end when it ends on a later
    /// day.
    pub time: String,
    /// RFC 3339 in UTC, for `<time datetime>`.
    pub starts_utc: String,
    /// The zone the time is in, when it is not the page's zone (an item with a zone of its own), or both zones of an
    /// item that ends in another (`Europe/Berlin → Asia/Shanghai`).
    pub zone: Option<String>,
    pub location: Option<String>,
    pub speakers: Vec<String>,
    pub host: Option<String>,
    /// A visit's institution, a transfer's route and carrier, a hotel's name.
    pub details: Option<String>,
    pub description: Option<String>,
    pub city: Option<String>,
    /// Conflicts this item is part of (organiser pages).
    pub conflicts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayView {
    /// 1 for the first day.
    pub number: usize,
    pub date: String,
    /// Tours: the cities the delegation is in that day, in order.
    pub cities: Vec<String>,
    pub items: Vec<ItemRow>,
}

/// The zone each item is shown in: its own (the event's by default), or one zone for everything.
#[derive(Debug, Clone, Copy)]
pub enum Shown {
    OwnZones,
    All(Tz),
}

fn details(item: &AgendaItem) -> Option<String> {
    if let Some(visit) = &item.visit {
        return [visit.institution.as_deref(), visit.address.as_deref()]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .map(str::to_owned);
    }
    if let Some(transfer) = &item.transfer {
        let route = match (&transfer.from, &transfer.to) {
            (Some(from), Some(to)) => Some(format!("{from} → {to}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        };
        let service: Vec<&str> = [transfer.carrier.as_deref(), transfer.number.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        return match (route, service.is_empty()) {
            (Some(route), false) => Some(format!("{route} ({})", service.join(" "))),
            (Some(route), true) => Some(route),
            (None, false) => Some(service.join(" ")),
            (None, true) => None,
        };
    }
    if let Some(stay) = &item.hotel {
        return stay.hotel.name.clone();
    }
    None
}

/// The items by day (in the zone each is shown in), in order of start; with `tour`, each day lists its cities: the
/// delegation starts in the first transfer's origin, and is where its last visit, hotel or transfer took it.
pub fn days(
    items: &[AgendaItem],
    page_zone: Tz,
    shown: Shown,
    tour: bool,
    conflicts: &HashMap<String, Vec<String>>,
    locale: Locale,
) -> Vec<DayView> {
    let mut sorted: Vec<&AgendaItem> = items.iter().collect();
    sorted.sort_by_key(|i| {
        (
            i.starts_at.with_timezone(&Utc),
            i.ends_at.with_timezone(&Utc),
        )
    });
    let mut city: Option<String> = if tour {
        sorted
            .iter()
            .find_map(|i| i.transfer.as_ref().and_then(|t| t.from.clone()))
    } else {
        None
    };
    let mut days: Vec<(NaiveDate, DayView)> = Vec::new();
    for item in sorted {
        let (start_zone, end_zone) = match shown {
            Shown::All(zone) => (zone, zone),
            Shown::OwnZones => item.zones(page_zone),
        };
        let start = item.starts_at.with_timezone(&start_zone);
        let day = start.date_naive();
        let clock = time::item_span(
            item.starts_at.with_timezone(&Utc),
            item.ends_at.with_timezone(&Utc),
            start_zone,
            end_zone,
            locale,
        );
        let zone_note = if start_zone == end_zone {
            (start_zone != page_zone).then(|| start_zone.name().to_owned())
        } else {
            Some(format!("{} → {}", start_zone.name(), end_zone.name()))
        };
        let mut item = item.clone();
        item.localize(locale);
        let item = &item;
        let mut cities_here = Vec::new();
        let item_city = if tour {
            if let Some(visit_city) = item.visit.as_ref().and_then(|v| v.city.clone()) {
                city = Some(visit_city);
            } else if let Some(hotel_city) = item.hotel.as_ref().and_then(|h| h.hotel.city.clone())
            {
                city = Some(hotel_city);
            }
            let here = match &item.transfer {
                Some(transfer) => transfer.from.clone().or_else(|| city.clone()),
                None => city.clone(),
            };
            cities_here.extend(here.clone());
            if let Some(to) = item.transfer.as_ref().and_then(|t| t.to.clone()) {
                cities_here.push(to.clone());
                city = Some(to);
            }
            here
        } else {
            None
        };
        let row = ItemRow {
            id: item.id.to_string(),
            kind: item.kind.clone(),
            title: item.title.clone(),
            time: clock,
            starts_utc: item.starts_at.with_timezone(&Utc).to_rfc3339(),
            zone: zone_note,
            location: item
                .location
                .clone()
                .or_else(|| item.room.as_ref().map(|r| r.name.clone())),
            speakers: item.speakers.iter().map(|p| p.name.clone()).collect(),
            host: item.host.as_ref().map(|p| p.name.clone()),
            details: details(item),
            description: item.description.clone(),
            city: item_city,
            conflicts: conflicts
                .get(&item.id.to_string())
                .cloned()
                .unwrap_or_default(),
        };
        let position = match days.iter().position(|(d, _)| *d == day) {
            Some(position) => position,
            None => {
                days.push((
                    day,
                    DayView {
                        number: 0,
                        date: time::date(day, locale),
                        cities: Vec::new(),
                        items: Vec::new(),
                    },
                ));
                days.len() - 1
            }
        };
        let view = &mut days[position].1;
        for c in cities_here {
            if view.cities.last() != Some(&c) {
                view.cities.push(c);
            }
        }
        view.items.push(row);
    }
    days.sort_by_key(|(d, _)| *d);
    days.into_iter()
        .enumerate()
        .map(|(n, (_, mut view))| {
            view.number = n + 1;
            view
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: serde_json::Value) -> AgendaItem {
        serde_json::from_value(value).expect("item")
    }

    #[test]
    fn a_tour_reads_by_day_and_city_each_stop_in_its_own_zone() {
        let items = vec![
            item(
                json!({"id": "0190a0a0-0000-7000-8000-000000000001", "kind": "session", "title": "Briefing",
                "starts_at": "2027-06-01T09:00:00+02:00", "ends_at": "2027-06-01T10:00:00+02:00",
                "timezone": "Europe/Berlin"}),
            ),
            item(
                json!({"id": "0190a0a0-0000-7000-8000-000000000002", "kind": "transfer", "title": "Flight",
                "starts_at": "2027-06-01T13:00:00+02:00", "ends_at": "2027-06-02T06:00:00+08:00",
                "timezone": "Europe/Berlin", "end_timezone": "Asia/Shanghai", "transfer": {"from": "Berlin", "to": "Guangzhou", "carrier": "CZ", "number": "332"}}),
            ),
            item(
                json!({"id": "0190a0a0-0000-7000-8000-000000000003", "kind": "visit", "title": "Sun Yat-sen University",
                "starts_at": "2027-06-02T14:00:00+08:00", "ends_at": "2027-06-02T16:00:00+08:00",
                "timezone": "Asia/Shanghai", "own_timezone": true,
                "visit": {"institution": "Zhongshan School of Medicine", "city": "Guangzhou"}}),
            ),
        ];
        let berlin = time::zone("Europe/Berlin").expect("zone");
        let days = days(
            &items,
            berlin,
            Shown::OwnZones,
            true,
            &HashMap::new(),
            Locale::En,
        );
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].cities, vec!["Berlin", "Guangzhou"]);
        // The flight lands in Guangzhou's zone.
        assert_eq!(
            days[0].items[1].time,
            "13:00 UTC+2 – Wed 2 Jun 2027, 06:00 UTC+8"
        );
        assert_eq!(
            days[0].items[1].zone.as_deref(),
            Some("Europe/Berlin → Asia/Shanghai")
        );
        assert_eq!(days[0].items[0].time, "09:00–10:00 UTC+2");
        assert_eq!(
            days[0].items[1].details.as_deref(),
            Some("Berlin → Guangzhou (CZ 332)")
        );
        assert_eq!(days[1].number, 2);
        assert_eq!(days[1].cities, vec!["Guangzhou"]);
        assert_eq!(days[1].items[0].time, "14:00–16:00 UTC+8");
        assert_eq!(days[1].items[0].zone.as_deref(), Some("Asia/Shanghai"));

        // Everything in the visitor's zone: the visit is at 08:00–10:00 in Berlin, no zone note.
        let days = days_in(&items, berlin);
        assert_eq!(days[1].items[0].time, "08:00–10:00 UTC+2");
        assert_eq!(days[1].items[0].zone, None);
    }

    fn days_in(items: &[AgendaItem], zone: Tz) -> Vec<DayView> {
        days(
            items,
            zone,
            Shown::All(zone),
            true,
            &HashMap::new(),
            Locale::En,
        )
    }
}
