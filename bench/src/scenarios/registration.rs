//! Scenario 1, the registration burst: `clients` concurrent clients send `registrations` registrations over `events`
//! published webinars of `capacity` seats with a waiting list, straight to the registration service (not through the
//! edge), while notifications sends the confirmations in the background. Afterwards the counts per event show that
//! no event is overbooked and no accepted registration is lost. The ceiling runs first, with the machine to itself:
//! the same clients and count against a bare insert into a fresh database of the same kind.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Deserialize;

use super::{Bench, registration_body, with_system};
use crate::api::{self, Api, EventSpec};
use crate::ceiling::Ceiling;
use crate::cpu;
use crate::load::{self, Summary};
use crate::report::{Row, Target};
use crate::system::Backend;

const SCENARIO: &str = "registration";

/// The targets: registrations/s on SQLite and on PostgreSQL, and the p99.
pub fn throughput_target(backend: Backend) -> Target {
    match backend {
        Backend::Sqlite => Target::AtLeast(2_000.0),
        Backend::Postgres => Target::AtLeast(1_500.0),
    }
}
pub const P99_TARGET: Target = Target::Below(50.0);

/// Pool size of the services (config `<service>.max_connections`, default 10), used for the ceiling too.
const POOL: u32 = 10;

#[derive(Deserialize)]
struct Answer {
    status: String,
}

pub async fn run(bench: &mut Bench, backend: Backend) -> anyhow::Result<()> {
    let ceiling = ceiling(bench, backend).await?;
    with_system(bench, backend, async |bench, system, sink| {
        let db = Some(backend.as_str());
        let sizes = bench.sizes.clone();
        let clients = bench.clients;
        let http = api::http_client(clients)?;
        let api = Api::organiser(system, http.clone()).await?;
        bench.say(format!(
            "{SCENARIO}/{backend}: {} events of {} seats",
            sizes.events, sizes.capacity
        ));
        let starts = api::start_in_days(30);
        let mut events = Vec::with_capacity(sizes.events);
        for n in 0..sizes.events {
            let id = api
                .create_event(&EventSpec {
                    kind: "webinar",
                    title: format!("Bench webinar {n}"),
                    starts_at: starts + chrono::Duration::days(i64::try_from(n)?),
                    ends_at: starts
                        + chrono::Duration::days(i64::try_from(n)?)
                        + chrono::Duration::hours(2),
                })
                .await?;
            api.put_form(&id, Some(u64::try_from(sizes.capacity)?), true)
                .await?;
            api.publish(&id).await?;
            events.push(id);
        }
        let events = Arc::new(events);
        let accepted: Arc<Vec<AtomicU64>> =
            Arc::new((0..sizes.events).map(|_| AtomicU64::new(0)).collect());
        bench.say(format!(
            "{SCENARIO}/{backend}: {} registrations from {clients} clients",
            sizes.registrations
        ));
        let url = format!("{}/v1/registrations", api.registration);
        let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let pids = system.pids();
        let cpu_before = cpu::Snapshot::take(&pids);
        let burst_started = Instant::now();
        let summary = {
            let events = events.clone();
            let accepted = accepted.clone();
            load::drive(clients, sizes.registrations, move |i| {
                let n = i % events.len();
                let request = http
                    .post(&url)
                    .json(&registration_body(&events[n], i, &run));
                let accepted = accepted.clone();
                async move {
                    let body = load::send(request).await?;
                    let answer: Answer = serde_json::from_slice(&body)
                        .map_err(|_| "answer: not a registration".to_owned())?;
                    match answer.status.as_str() {
                        "confirmed" | "waitlisted" => {
                            accepted[n].fetch_add(1, Ordering::Relaxed);
                            Ok(())
                        }
                        other => Err(format!("answer: status {other}")),
                    }
                }
            })
            .await
        };
        let cpu = cpu::usage(&cpu_before, &cpu::Snapshot::take(&pids));
        let mails_during = sink.accepted();
        bench.keep_run(SCENARIO, Some(backend), "registrations", clients, &summary);
        let fraction = summary.throughput_per_sec / ceiling.throughput_per_sec;
        bench.push(
            Row::new(
                SCENARIO,
                db,
                "registrations/s",
                summary.throughput_per_sec,
                "/s",
            )
            .target(throughput_target(backend))
            .of_ceiling(fraction)
            .note(format!(
                "{} POST /v1/registrations straight to the registration service (not through the edge) from \
                 {clients} clients, {} events × {} seats + waiting list, in {:.1} s; notifications sent {mails_during} \
                 emails meanwhile",
                sizes.registrations, sizes.events, sizes.capacity, summary.elapsed_secs
            )),
        );
        bench.push(Row::new(SCENARIO, db, "registration p50", summary.p50_ms, "ms"));
        bench.push(Row::new(SCENARIO, db, "registration p95", summary.p95_ms, "ms"));
        bench.push(
            Row::new(SCENARIO, db, "registration p99", summary.p99_ms, "ms").target(P99_TARGET),
        );
        let mut errors = Row::new(
            SCENARIO,
            db,
            "registration errors",
            summary.errors as f64,
            "requests",
        );
        if summary.errors > 0 {
            errors = errors.note(summary.error_kinds());
        }
        bench.push(errors);

        // Afterwards: nobody overbooked, nobody lost.
        let mut overbooked = 0u32;
        let mut stored_total = 0i64;
        let mut accepted_total = 0i64;
        let mut details = Vec::new();
        for (n, id) in events.iter().enumerate() {
            let counts = api.registration_counts(id).await?;
            let confirmed = counts.get("confirmed").copied().unwrap_or(0);
            let waitlisted = counts.get("waitlisted").copied().unwrap_or(0);
            let accepted_here = i64::try_from(accepted[n].load(Ordering::Relaxed))?;
            let capacity = i64::try_from(sizes.capacity)?;
            if confirmed > capacity {
                overbooked += 1;
            }
            if confirmed < capacity.min(accepted_here) {
                details.push(format!(
                    "event {n}: {confirmed} confirmed, {} seats and {accepted_here} accepted (seats left unfilled)",
                    sizes.capacity
                ));
            }
            stored_total += confirmed + waitlisted;
            accepted_total += accepted_here;
        }
        let mut overbooked_row = Row::new(
            SCENARIO,
            db,
            "events overbooked (confirmed > seats)",
            f64::from(overbooked),
            "events",
        )
        .target(Target::Equal(0.0));
        if !details.is_empty() {
            overbooked_row = overbooked_row.note(details.join("; "));
        }
        bench.push(overbooked_row);
        let lost = (accepted_total - stored_total).max(0);
        let mut lost_row = Row::new(
            SCENARIO,
            db,
            "registrations lost (accepted − confirmed − waitlisted)",
            lost as f64,
            "registrations",
        )
        .target(Target::Equal(0.0))
        .note(format!(
            "{accepted_total} accepted (201), {stored_total} confirmed or waitlisted in the counts"
        ));
        if stored_total > accepted_total {
            lost_row = lost_row.note(format!(
                "{stored_total} stored but only {accepted_total} answered 201 (requests that failed on the client's \
                 side after committing)"
            ));
        }
        bench.push(lost_row);
        bench.cpu_rows(SCENARIO, backend, "during the burst", &cpu);

        // Every accepted registration gets one email (confirmation or waiting-list place): how long until the SMTP
        // sink has them all, watched for at most `drain` after the burst.
        let emails = u64::try_from(accepted_total)?;
        let budget = Duration::from_secs_f64(summary.elapsed_secs) + sizes.drain;
        bench.say(format!(
            "{SCENARIO}/{backend}: waiting up to {} s for the burst's {emails} emails",
            sizes.drain.as_secs()
        ));
        let at_drain_start = (sink.accepted(), Instant::now());
        match sink
            .wait_until(emails, burst_started, budget, |_, _| {})
            .await
        {
            Ok(took) => bench.push(
                Row::new(
                    SCENARIO,
                    db,
                    "the burst's emails delivered (from its start)",
                    took.as_secs_f64(),
                    "s",
                )
                .note(format!(
                    "{emails} confirmations and waiting-list emails at {:.0}/s",
                    emails as f64 / took.as_secs_f64()
                )),
            ),
            Err(count) => {
                let window = at_drain_start.1.elapsed().as_secs_f64();
                bench.push(
                    Row::new(
                        SCENARIO,
                        db,
                        format!(
                            "the burst's emails delivered by {} s after it",
                            sizes.drain.as_secs()
                        ),
                        count as f64,
                        "emails",
                    )
                    .note(format!(
                        "of {emails}; {:.1}/s over the last {window:.0} s; the rest still waiting in \
                         notifications (inbox backlog {})",
                        (count - at_drain_start.0) as f64 / window,
                        inbox_backlog(&api).await
                    )),
                );
            }
        }
        bench.peak_memory_rows(SCENARIO, system);
        Ok(())
    })
    .await
}

/// Notifications' `cloverleaf_inbox_unprocessed` gauge, as text (or why it could not be read).
async fn inbox_backlog(api: &Api) -> String {
    let metrics = match api
        .http
        .get(format!("{}/metrics", api.notifications))
        .send()
        .await
    {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(error) => return format!("unknown: {error}"),
    };
    metrics
        .lines()
        .find(|l| l.starts_with("cloverleaf_inbox_unprocessed"))
        .and_then(|l| l.rsplit(' ').next())
        .map_or_else(|| "unknown".to_owned(), str::to_owned)
}

/// The ceiling: the same clients and count against a bare insert, on a fresh database of the same kind.
async fn ceiling(bench: &mut Bench, backend: Backend) -> anyhow::Result<Summary> {
    let db = Some(backend.as_str());
    let clients = bench.clients;
    let total = bench.sizes.registrations;
    bench.say(format!(
        "{SCENARIO}/{backend}: ceiling — {total} bare inserts from {clients} clients"
    ));
    let ceiling = Ceiling::start(backend, &bench.setup.postgres_admin, POOL).await?;
    let http = api::http_client(clients)?;
    let url = format!("{}/v1/registrations", ceiling.url);
    let event = uuid::Uuid::now_v7().to_string();
    let pids = std::iter::once((
        "bench (ceiling server + load generator)".to_owned(),
        std::process::id(),
    ))
    .collect();
    let cpu_before = cpu::Snapshot::take(&pids);
    let summary = load::drive(clients, total, move |i| {
        let request = http
            .post(&url)
            .json(&registration_body(&event, i, "ceiling"));
        async move { load::send(request).await.map(drop) }
    })
    .await;
    let cpu = cpu::usage(&cpu_before, &cpu::Snapshot::take(&pids));
    let rows = ceiling
        .rows()
        .await
        .context("counting the ceiling's rows")?;
    ceiling.stop().await?;
    bench.keep_run(
        SCENARIO,
        Some(backend),
        "ceiling inserts",
        clients,
        &summary,
    );
    let mut row = Row::new(
        SCENARIO,
        db,
        "ceiling: bare inserts/s",
        summary.throughput_per_sec,
        "/s",
    )
    .note(format!(
        "axum handler inserting one registration-sized row per request (pool of {POOL}), {total} requests from \
         {clients} clients; {rows} rows stored"
    ));
    if summary.errors > 0 {
        row = row.note(format!("errors: {}", summary.error_kinds()));
    }
    bench.push(row);
    bench.push(Row::new(SCENARIO, db, "ceiling p50", summary.p50_ms, "ms"));
    bench.push(Row::new(SCENARIO, db, "ceiling p99", summary.p99_ms, "ms"));
    bench.cpu_rows(SCENARIO, backend, "during the ceiling run", &cpu);
    if summary.throughput_per_sec <= 0.0 {
        anyhow::bail!("the ceiling stored nothing: {}", summary.error_kinds());
    }
    Ok(summary)
}
