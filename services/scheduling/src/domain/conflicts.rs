//! Arrangements that cannot all happen: the rules behind `GET /v1/events/{id}/conflicts`.
//!
//! 1. **Room double-booked**: two items in the same room at overlapping times, in this event or any other one
//!    that is not cancelled.
//! 2. **Person in two places at once**: a speaker or host of two overlapping items, across events too.
//! 3. **Item outside the event**: an item starting before the event starts or ending after it ends (possible
//!    when the event's times change after its agenda was made).
//! 4. **Tours, visit before arrival**: a visit in a city the delegation is not in yet — where it is comes from the
//!    last transfer that arrived before the visit starts (before the first transfer, the city it leaves from).
//! 5. **Tours, transfer during a visit**: a transfer that overlaps a visit.
//!
//! 6. **Incomplete**: a visit without its institution or address, a transfer without where from or to (planned
//!    before the host is confirmed). Listed beside the conflicts with what is `missing`.
//!
//! Conflicts are reported, never refused: organisers may publish with them, and the publish answer lists them.

use serde::Serialize;
use uuid::Uuid;

use super::agenda::ItemKind;
use super::event::EventKind;
use super::time::Span;

/// An item as the rules see it.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub id: Uuid,
    pub event_id: Uuid,
    pub kind: ItemKind,
    pub title: String,
    pub span: Span,
    pub room_id: Option<Uuid>,
    pub people: Vec<Uuid>,
    /// A visit's city.
    pub city: Option<String>,
    /// A transfer's (from, to).
    pub route: Option<(String, String)>,
    /// The details it still lacks ([`super::agenda::ItemDetails::missing`]).
    pub missing: Vec<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    RoomDoubleBooked,
    PersonDoubleBooked,
    OutsideEvent,
    VisitBeforeArrival,
    TransferDuringVisit,
    Incomplete,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub kind: ConflictKind,
    pub message: String,
    /// The items involved, this event's first.
    pub item_ids: Vec<Uuid>,
    pub person_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
    /// For `incomplete`: the details the item lacks (`institution`, `address`, `from`, `to`).
    pub missing: Vec<&'static str>,
}

/// Every conflict of an event's items `own`, checked among themselves and against `others` (items of other events
/// that are not cancelled; the caller may pre-filter them to the ones sharing a room or a person).
pub fn find(
    kind: EventKind,
    event: Span,
    own: &[Scheduled],
    others: &[Scheduled],
) -> Vec<Conflict> {
    let mut conflicts = Vec::new();
    for item in own {
        if !event.contains(&item.span) {
            conflicts.push(Conflict {
                kind: ConflictKind::OutsideEvent,
                message: format!("“{}” lies outside the event's start and end", item.title),
                item_ids: vec![item.id],
                person_id: None,
                room_id: None,
                missing: Vec::new(),
            });
        }
    }
    let pairs = own.iter().enumerate().flat_map(|(i, a)| {
        own[i + 1..]
            .iter()
            .chain(others.iter().filter(move |o| o.event_id != a.event_id))
            .map(move |b| (a, b))
    });
    for (a, b) in pairs {
        if !a.span.overlaps(&b.span) {
            continue;
        }
        let elsewhere = if a.event_id == b.event_id {
            ""
        } else {
            " (in another event)"
        };
        if let (Some(room), Some(other)) = (a.room_id, b.room_id)
            && room == other
        {
            conflicts.push(Conflict {
                kind: ConflictKind::RoomDoubleBooked,
                message: format!(
                    "the room of “{}” is also booked for “{}”{elsewhere} at the same time",
                    a.title, b.title
                ),
                item_ids: vec![a.id, b.id],
                person_id: None,
                room_id: Some(room),
                missing: Vec::new(),
            });
        }
        for person in a.people.iter().filter(|p| b.people.contains(p)) {
            conflicts.push(Conflict {
                kind: ConflictKind::PersonDoubleBooked,
                message: format!(
                    "someone in “{}” is also in “{}”{elsewhere} at the same time",
                    a.title, b.title
                ),
                item_ids: vec![a.id, b.id],
                person_id: Some(*person),
                room_id: None,
                missing: Vec::new(),
            });
        }
    }
    if kind == EventKind::Tour {
        tour_conflicts(own, &mut conflicts);
    }
    for item in own.iter().filter(|i| !i.missing.is_empty()) {
        conflicts.push(Conflict {
            kind: ConflictKind::Incomplete,
            message: format!("“{}” has no {} yet", item.title, item.missing.join(" or ")),
            item_ids: vec![item.id],
            person_id: None,
            room_id: None,
            missing: item.missing.clone(),
        });
    }
    conflicts
}

fn same_city(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

fn tour_conflicts(own: &[Scheduled], conflicts: &mut Vec<Conflict>) {
    let mut transfers: Vec<(&Scheduled, &str, &str)> = own
        .iter()
        .filter(|i| i.kind == ItemKind::Transfer)
        .filter_map(|i| {
            i.route
                .as_ref()
                .map(|(from, to)| (i, from.as_str(), to.as_str()))
        })
        .collect();
    transfers.sort_by_key(|(t, _, _)| (t.span.starts_at, t.span.ends_at));
    let visits = own.iter().filter(|i| i.kind == ItemKind::Visit);
    for visit in visits {
        for (transfer, _, _) in &transfers {
            if transfer.span.overlaps(&visit.span) {
                conflicts.push(Conflict {
                    kind: ConflictKind::TransferDuringVisit,
                    message: format!(
                        "the transfer “{}” overlaps the visit “{}”",
                        transfer.title, visit.title
                    ),
                    item_ids: vec![visit.id, transfer.id],
                    person_id: None,
                    room_id: None,
                    missing: Vec::new(),
                });
            }
        }
        let Some(city) = visit.city.as_deref() else {
            continue;
        };
        // Where the delegation is when the visit starts: the last arrival before it, else where it sets out from.
        let arrived = transfers
            .iter()
            .filter(|(t, _, _)| t.span.ends_at <= visit.span.starts_at)
            .max_by_key(|(t, _, _)| t.span.ends_at);
        let location = match (arrived, transfers.first()) {
            (Some((_, _, to)), _) => *to,
            (None, Some((_, from, _))) => *from,
            (None, None) => continue,
        };
        if same_city(location, city) {
            continue;
        }
        let next_arrival = transfers
            .iter()
            .filter(|(t, _, to)| same_city(to, city) && t.span.ends_at > visit.span.starts_at)
            .min_by_key(|(t, _, _)| t.span.ends_at);
        let (message, mut ids) = match next_arrival {
            Some((transfer, _, _)) => (
                format!(
                    "the visit “{}” in {city} starts before the transfer “{}” to {city} arrives",
                    visit.title, transfer.title
                ),
                vec![visit.id, transfer.id],
            ),
            None => (
                format!(
                    "the visit “{}” is in {city}, but the delegation is in {location} then and no transfer goes to {city}",
                    visit.title
                ),
                vec![visit.id],
            ),
        };
        if let Some((last, _, _)) = arrived
            && !ids.contains(&last.id)
        {
            ids.push(last.id);
        }
        conflicts.push(Conflict {
            kind: ConflictKind::VisitBeforeArrival,
            message,
            item_ids: ids,
            person_id: None,
            room_id: None,
            missing: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        format!("2026-05-{day:02}T{hour:02}:00:00Z")
            .parse()
            .expect("time")
    }

    fn item(kind: ItemKind, title: &str, from: (u32, u32), to: (u32, u32)) -> Scheduled {
        Scheduled {
            id: Uuid::now_v7(),
            event_id: Uuid::nil(),
            kind,
            title: title.into(),
            span: Span::new(at(from.0, from.1), at(to.0, to.1)).expect("span"),
            room_id: None,
            people: Vec::new(),
            city: None,
            route: None,
            missing: Vec::new(),
        }
    }

    fn tour_span() -> Span {
        Span::new(at(10, 0), at(20, 0)).expect("tour")
    }

    #[test]
    fn rooms_and_people_double_booked_within_and_across_events() {
        let room = Uuid::now_v7();
        let speaker = Uuid::now_v7();
        let mut a = item(ItemKind::Talk, "Genomics", (12, 9), (12, 10));
        a.room_id = Some(room);
        a.people = vec![speaker];
        let mut b = item(ItemKind::Talk, "Biobanks", (12, 9), (12, 11));
        b.room_id = Some(room);
        let mut c = item(ItemKind::Panel, "Elsewhere", (12, 9), (12, 12));
        c.event_id = Uuid::now_v7();
        c.people = vec![speaker];
        let mut d = item(ItemKind::Talk, "Later", (12, 10), (12, 11));
        d.people = vec![speaker];
        d.room_id = Some(room);
        let found = find(
            EventKind::Workshop,
            tour_span(),
            &[a.clone(), b.clone(), d.clone()],
            &[c.clone()],
        );
        let kinds: Vec<_> = found.iter().map(|c| (c.kind, c.item_ids.clone())).collect();
        assert!(kinds.contains(&(ConflictKind::RoomDoubleBooked, vec![a.id, b.id])));
        assert!(kinds.contains(&(ConflictKind::RoomDoubleBooked, vec![b.id, d.id])));
        assert!(kinds.contains(&(ConflictKind::PersonDoubleBooked, vec![a.id, c.id])));
        assert!(
            !kinds.iter().any(|(_, ids)| ids == &vec![a.id, d.id]),
            "back to back is no conflict"
        );
        assert!(kinds.contains(&(ConflictKind::PersonDoubleBooked, vec![d.id, c.id])));
        assert_eq!(found.len(), 4, "{found:#?}");
    }

    #[test]
    fn a_tour_visit_before_the_transfer_arrives_and_a_transfer_during_a_visit() {
        let mut flight = item(ItemKind::Transfer, "Flight to Guangzhou", (12, 10), (13, 6));
        flight.route = Some(("Berlin".into(), "Guangzhou".into()));
        let mut train = item(ItemKind::Transfer, "Train to Nanjing", (15, 8), (15, 14));
        train.route = Some(("Guangzhou".into(), "Nanjing".into()));
        let mut berlin = item(ItemKind::Visit, "Charité", (11, 9), (11, 12));
        berlin.city = Some("Berlin".into());
        let mut early = item(ItemKind::Visit, "Sun Yat-sen University", (13, 5), (13, 9));
        early.city = Some("guangzhou".into());
        let mut fine = item(
            ItemKind::Visit,
            "Guangdong Provincial Hospital",
            (14, 1),
            (14, 4),
        );
        fine.city = Some("Guangzhou".into());
        let mut clash = item(
            ItemKind::Visit,
            "Nanjing Medical University",
            (15, 12),
            (15, 16),
        );
        clash.city = Some("Nanjing".into());
        let mut nowhere = item(ItemKind::Visit, "Fudan", (16, 1), (16, 3));
        nowhere.city = Some("Shanghai".into());
        let found = find(
            EventKind::Tour,
            tour_span(),
            &[
                flight.clone(),
                train.clone(),
                berlin,
                early.clone(),
                fine,
                clash.clone(),
                nowhere.clone(),
            ],
            &[],
        );
        let kinds: Vec<_> = found.iter().map(|c| (c.kind, c.item_ids.clone())).collect();
        assert!(
            kinds.contains(&(ConflictKind::VisitBeforeArrival, vec![early.id, flight.id])),
            "{found:#?}"
        );
        assert!(kinds.contains(&(ConflictKind::TransferDuringVisit, vec![early.id, flight.id])));
        assert!(kinds.contains(&(
            ConflictKind::VisitBeforeArrival,
            vec![clash.id, train.id, flight.id]
        )));
        assert!(kinds.contains(&(ConflictKind::TransferDuringVisit, vec![clash.id, train.id])));
        assert!(kinds.contains(&(ConflictKind::VisitBeforeArrival, vec![nowhere.id, train.id])));
        assert_eq!(found.len(), 5, "{found:#?}");
    }

    #[test]
    fn items_outside_the_event() {
        let late = item(ItemKind::Session, "Late", (19, 22), (20, 2));
        let found = find(
            EventKind::Workshop,
            tour_span(),
            std::slice::from_ref(&late),
            &[],
        );
        assert_eq!(found[0].kind, ConflictKind::OutsideEvent);
        assert_eq!(found[0].item_ids, vec![late.id]);
    }
}
