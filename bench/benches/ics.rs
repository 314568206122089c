//! Criterion micro-benchmark: rendering an event's agenda feed (`Calendar::to_ics` of libs/calendar, what
//! scheduling's `calendar.ics` does after reading the database) for 100 and 500 agenda items, and the feed of
//! 1,000 events — the text work alone, without HTTP or a database, to set beside scenario 3's end-to-end figures.
//!
//! `CARGO_TARGET_DIR=/tmp/target-bench cargo bench -p cloverleaf-bench --bench ics`

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use cloverleaf_calendar::{Calendar, CalendarEvent, EventStatus, Method, Person};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 5, 17, 7, 0, 0)
        .single()
        .unwrap_or_default()
}

fn item(k: usize) -> CalendarEvent {
    let starts_at = start() + Duration::minutes(10 * k as i64);
    CalendarEvent {
        end_timezone: None,
        uid: format!("0196f0c4-{k:04}-7000-8000-000000000000@cloverleaf"),
        sequence: 1,
        dtstamp: start(),
        starts_at,
        ends_at: starts_at + Duration::minutes(10),
        timezone: if k.is_multiple_of(3) {
            chrono_tz::Asia::Shanghai
        } else {
            chrono_tz::Europe::Rome
        },
        summary: format!("Item {k}: precision oncology, data sharing and patient voices"),
        description: Some(
            "Short talks followed by a moderated discussion with the audience; slides are shared afterwards."
                .to_owned(),
        ),
        location: Some(format!("Sala {}", k % 6 + 1)),
        url: Some("https://events.example.org/e/bench-workshop".to_owned()),
        organizer: Some(Person::new("Bench Organiser", "bench.organiser@example.org")),
        attendees: Vec::new(),
        status: Some(EventStatus::Confirmed),
        created: Some(start()),
        last_modified: Some(start()),
        categories: vec!["talk".to_owned()],
    }
}

fn feed(items: usize) -> Calendar {
    Calendar {
        method: Method::Publish,
        name: Some("Bench workshop with a long agenda".to_owned()),
        events: (0..items).map(item).collect(),
    }
}

fn rendering(c: &mut Criterion) {
    let mut group = c.benchmark_group("calendar.ics");
    for items in [100, 500, 1_000] {
        let calendar = feed(items);
        group.bench_with_input(
            BenchmarkId::from_parameter(items),
            &calendar,
            |b, calendar| {
                b.iter(|| std::hint::black_box(calendar.to_ics()));
            },
        );
    }
    group.finish();
}

criterion_group!(benches, rendering);
criterion_main!(benches);
