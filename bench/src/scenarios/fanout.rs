//! Scenario 2, the invite fan-out: one webinar with `fanout` confirmed attendees is moved an hour later by an
//! organiser's `PATCH` on scheduling; measured is the time from sending that request until the SMTP sink has
//! accepted `fanout` more messages — the updated invites.
//!
//! The attendees are registered by the load generator in batches (`fanout_batch`), and each batch's confirmations
//! are awaited at the sink before the next: notifications works through its inbox one domain event per programme
//! event at a time, and on PostgreSQL its claim query slows down with the square of the events waiting for the same
//! programme event (see the README), so 10,000 registrations at once would take hours to confirm there. Batches keep
//! that backlog small; the fan-out itself is one domain event and is not affected.

use std::time::{Duration, Instant};

use anyhow::bail;
use reqwest::Method;
use serde_json::json;

use super::{Bench, registration_body, with_system};
use crate::api::{self, Api, EventSpec};
use crate::cpu;
use crate::load;
use crate::report::{Row, Target};
use crate::system::Backend;

const SCENARIO: &str = "fanout";

/// The target: every updated invite delivered within 20 s.
pub const DELIVERY_TARGET: Target = Target::AtMost(20.0);

pub async fn run(bench: &mut Bench, backend: Backend) -> anyhow::Result<()> {
    with_system(bench, backend, async |bench, system, sink| {
        let db = Some(backend.as_str());
        let n = bench.sizes.fanout;
        let clients = bench.clients;
        let timeout = bench.mail_timeout;
        let http = api::http_client(clients)?;
        let api = Api::organiser(system, http.clone()).await?;
        let starts = api::start_in_days(30);
        let ends = starts + chrono::Duration::hours(2);
        let event = api
            .create_event(&EventSpec {
                kind: "webinar",
                title: "Bench webinar: the one that moves".to_owned(),
                starts_at: starts,
                ends_at: ends,
            })
            .await?;
        api.put_form(&event, Some(u64::try_from(n)?), false).await?;
        api.publish(&event).await?;

        let batch = bench.sizes.fanout_batch.max(1);
        bench.say(format!(
            "{SCENARIO}/{backend}: {n} attendees, registered {batch} at a time from {clients} clients, each batch's \
             confirmations awaited"
        ));
        let setup_started = Instant::now();
        let url = format!("{}/v1/registrations", api.registration);
        let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let mut registering = Duration::ZERO;
        for first in (0..n).step_by(batch) {
            let size = batch.min(n - first);
            let summary = {
                let event = event.clone();
                let http = http.clone();
                let url = url.clone();
                let run = run.clone();
                load::drive(clients, size, move |j| {
                    let request = http
                        .post(&url)
                        .json(&registration_body(&event, first + j, &run));
                    async move { load::send(request).await.map(drop) }
                })
                .await
            };
            registering += Duration::from_secs_f64(summary.elapsed_secs);
            if summary.ok != u64::try_from(size)? {
                bail!(
                    "only {} of {size} registrations succeeded: {}",
                    summary.ok,
                    summary.error_kinds()
                );
            }
            let confirmed = u64::try_from(first + size)?;
            if let Err(count) = sink
                .wait_until(confirmed, setup_started, timeout, |_, _| {})
                .await
            {
                bail!(
                    "only {count} of {confirmed} confirmations reached the SMTP sink within {timeout:?} \
                     (notifications' inbox backlog: see the registration scenario)"
                );
            }
        }
        let setup = setup_started.elapsed();
        bench.push(
            Row::new(
                SCENARIO,
                db,
                format!("setup: {n} attendees registered and confirmed"),
                setup.as_secs_f64(),
                "s",
            )
            .note(format!(
                "in batches of {batch} from {clients} clients ({:.1} s of it registering), each batch's \
                 confirmations awaited at the SMTP sink before the next — {:.0} confirmations/s overall",
                registering.as_secs_f64(),
                n as f64 / setup.as_secs_f64()
            )),
        );
        // Let the last confirmations' bookkeeping settle, so the move starts from a quiet system.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let base = sink.accepted();
        let expected = u64::try_from(n)?;

        bench.say(format!("{SCENARIO}/{backend}: moving the webinar an hour later"));
        let later = chrono::Duration::hours(1);
        let patch = json!({
            "starts_at": (starts + later).to_rfc3339(),
            "ends_at": (ends + later).to_rfc3339(),
        });
        let token = api.token().await?;
        let pids = system.pids();
        let cpu_before = cpu::Snapshot::take(&pids);
        let moved_at = Instant::now();
        api.call(
            Method::PATCH,
            &format!("{}/v1/events/{event}", api.scheduling),
            Some(patch),
            Some(&token),
        )
        .await?;
        let answered = moved_at.elapsed();
        let mut first: Option<Duration> = None;
        let delivered = match sink
            .wait_until(base + expected, moved_at, timeout, |count, elapsed| {
                if first.is_none() && count > base {
                    first = Some(elapsed);
                }
            })
            .await
        {
            Ok(took) => took,
            Err(count) => bail!(
                "only {} of {n} updated invites reached the SMTP sink within {timeout:?}",
                count - base
            ),
        };
        let cpu = cpu::usage(&cpu_before, &cpu::Snapshot::take(&pids));
        // Anything beyond n would be a second copy.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let extra = sink.accepted() - base - expected;
        let counts = api.message_counts(&event).await?;
        bench.push(
            Row::new(
                SCENARIO,
                db,
                format!("{n} updated invites delivered"),
                delivered.as_secs_f64(),
                "s",
            )
            .target(DELIVERY_TARGET)
            .note(format!(
                "from the PATCH (answered in {:.0} ms) until the SMTP sink accepted the {n}th; messages of the event \
                 by status: {counts:?}; {extra} more than expected",
                answered.as_secs_f64() * 1000.0
            )),
        );
        if let Some(first) = first {
            bench.push(Row::new(
                SCENARIO,
                db,
                "first updated invite delivered",
                first.as_secs_f64(),
                "s",
            ));
            let sending = delivered.saturating_sub(first).as_secs_f64();
            if sending > 0.0 {
                bench.push(Row::new(
                    SCENARIO,
                    db,
                    "updated invites/s (first to last)",
                    n as f64 / sending,
                    "/s",
                ));
            }
        }
        bench.push(Row::new(
            SCENARIO,
            db,
            "updated invites/s (overall)",
            n as f64 / delivered.as_secs_f64(),
            "/s",
        ));
        bench.cpu_rows(SCENARIO, backend, "during the fan-out", &cpu);
        bench.peak_memory_rows(SCENARIO, system);
        Ok(())
    })
    .await
}
