//! Scenario 3, the feeds: one workshop with `items` agenda items (added through `POST /v1/events/{id}/items`, all
//! inside the event, no rooms or people, so no conflicts), then `ics_requests` sequential GETs of its
//! `calendar.ics`; and `feed_events` published events, then sequential GETs of `/v1/events.ics` — as many as
//! `feed_requests`, fewer when each is slow (`feed_budget`).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::json;

use super::{Bench, with_system};
use crate::api::{self, Api, EventSpec};
use crate::load;
use crate::report::{Row, Target};
use crate::system::Backend;

const SCENARIO: &str = "feeds";

/// The target: a 500-item `.ics` in under 5 ms (taken as the median of sequential GETs).
pub const ICS_TARGET: Target = Target::Below(5.0);

/// Concurrent organiser calls while setting up (items, events).
const SETUP_CLIENTS: usize = 8;

/// Minutes per agenda item.
const SLOT_MINUTES: i64 = 10;

fn vevents(ics: &[u8]) -> usize {
    String::from_utf8_lossy(ics).matches("BEGIN:VEVENT").count()
}

pub async fn run(bench: &mut Bench, backend: Backend) -> anyhow::Result<()> {
    with_system(bench, backend, async |bench, system, _sink| {
        let db = Some(backend.as_str());
        let sizes = bench.sizes.clone();
        let http = api::http_client(SETUP_CLIENTS)?;
        let api = Arc::new(Api::organiser(system, http.clone()).await?);

        // One workshop with its agenda.
        let starts = api::start_in_days(40);
        let span = chrono::Duration::minutes(SLOT_MINUTES * i64::try_from(sizes.items)?);
        let event = api
            .create_event(&EventSpec {
                kind: "workshop",
                title: "Bench workshop with a long agenda".to_owned(),
                starts_at: starts,
                ends_at: starts + span + chrono::Duration::hours(1),
            })
            .await?;
        bench.say(format!(
            "{SCENARIO}/{backend}: {} agenda items ({SETUP_CLIENTS} clients)",
            sizes.items
        ));
        let items = {
            let api = api.clone();
            let event = event.clone();
            let token = api.token().await?;
            load::drive(SETUP_CLIENTS, sizes.items, move |k| {
                let begins = starts + chrono::Duration::minutes(SLOT_MINUTES * k as i64);
                let kind = ["talk", "session", "panel", "break", "meal"][k % 5];
                let body = json!({
                    "kind": kind,
                    "title": format!("Item {k}: precision oncology, data sharing and patient voices"),
                    "starts_at": begins.to_rfc3339(),
                    "ends_at": (begins + chrono::Duration::minutes(SLOT_MINUTES)).to_rfc3339(),
                    "description": "Short talks followed by a moderated discussion with the audience; slides are \
                                    shared afterwards.",
                    "location": format!("Sala {}", k % 6 + 1),
                });
                let request = api
                    .http
                    .post(format!("{}/v1/events/{event}/items", api.scheduling))
                    .bearer_auth(&token)
                    .json(&body);
                async move { load::send(request).await.map(drop) }
            })
            .await
        };
        bench.keep_run(SCENARIO, Some(backend), "agenda items added", SETUP_CLIENTS, &items);
        if items.errors > 0 {
            bail!("adding agenda items failed: {}", items.error_kinds());
        }
        bench.push(
            Row::new(SCENARIO, db, "agenda item added p50", items.p50_ms, "ms").note(format!(
                "{} items from {SETUP_CLIENTS} clients at {:.0}/s",
                sizes.items, items.throughput_per_sec
            )),
        );
        api.publish(&event).await?;

        // The event's feed.
        let ics_url = format!("{}/v1/events/{event}/calendar.ics", api.scheduling);
        let first = load::send(api.http.get(&ics_url))
            .await
            .map_err(|e| anyhow::anyhow!("GET {ics_url}: {e}"))?;
        let entries = vevents(&first);
        let etag = {
            let response = api.http.get(&ics_url).send().await?;
            response
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .context("no ETag on the feed")?
        };
        bench.say(format!(
            "{SCENARIO}/{backend}: {} sequential GETs of a {}-item calendar.ics",
            sizes.ics_requests, sizes.items
        ));
        let ics = {
            let http = api.http.clone();
            let url = ics_url.clone();
            load::drive(1, sizes.ics_requests, move |_| {
                let request = http.get(&url);
                async move { load::send(request).await.map(drop) }
            })
            .await
        };
        bench.keep_run(SCENARIO, Some(backend), "event calendar.ics", 1, &ics);
        bench.push(
            Row::new(
                SCENARIO,
                db,
                format!("{}-item calendar.ics p50", sizes.items),
                ics.p50_ms,
                "ms",
            )
            .target(ICS_TARGET)
            .note(format!(
                "{} sequential GETs, {:.0} KiB, {entries} VEVENTs; errors: {}",
                sizes.ics_requests,
                first.len() as f64 / 1024.0,
                ics.error_kinds()
            )),
        );
        bench.push(Row::new(
            SCENARIO,
            db,
            format!("{}-item calendar.ics p95", sizes.items),
            ics.p95_ms,
            "ms",
        ));
        bench.push(Row::new(
            SCENARIO,
            db,
            format!("{}-item calendar.ics p99", sizes.items),
            ics.p99_ms,
            "ms",
        ));
        bench.push(
            Row::new(
                SCENARIO,
                db,
                "calendar.ics entries",
                entries as f64,
                "VEVENTs",
            )
            .target(Target::Equal(sizes.items as f64)),
        );
        let conditional = {
            let http = api.http.clone();
            let url = ics_url.clone();
            load::drive(1, sizes.ics_requests / 5, move |_| {
                let request = http.get(&url).header(reqwest::header::IF_NONE_MATCH, &etag);
                async move {
                    let response = request
                        .send()
                        .await
                        .map_err(|e| load::transport_error_kind(&e))?;
                    match response.status().as_u16() {
                        304 => Ok(()),
                        other => Err(format!("http {other} (not 304)")),
                    }
                }
            })
            .await
        };
        bench.keep_run(SCENARIO, Some(backend), "event calendar.ics, If-None-Match", 1, &conditional);
        bench.push(Row::new(
            SCENARIO,
            db,
            "calendar.ics with If-None-Match (304) p50",
            conditional.p50_ms,
            "ms",
        ));

        // The feed of all published events.
        bench.say(format!(
            "{SCENARIO}/{backend}: {} published events ({SETUP_CLIENTS} clients)",
            sizes.feed_events
        ));
        let created = {
            let api = api.clone();
            let base = api::start_in_days(60);
            load::drive(SETUP_CLIENTS, sizes.feed_events, move |k| {
                let api = api.clone();
                async move {
                    let begins = base + chrono::Duration::hours(k as i64 * 3);
                    let spec = EventSpec {
                        kind: if k % 2 == 0 { "webinar" } else { "workshop" },
                        title: format!("Bench event {k}: Sino-EU PerMed exchange"),
                        starts_at: begins,
                        ends_at: begins + chrono::Duration::hours(2),
                    };
                    let id = api.create_event(&spec).await.map_err(|e| format!("{e:#}"))?;
                    api.organise(
                        Method::POST,
                        &api.scheduling,
                        &format!("/v1/events/{id}/publish"),
                        None,
                    )
                    .await
                    .map(drop)
                    .map_err(|e| format!("{e:#}"))
                }
            })
            .await
        };
        bench.keep_run(SCENARIO, Some(backend), "events created and published", SETUP_CLIENTS, &created);
        if created.errors > 0 {
            bail!("creating events failed: {}", created.error_kinds());
        }
        let feed_url = format!("{}/v1/events.ics", api.scheduling);
        let probe_started = Instant::now();
        let feed = load::send(api.http.get(&feed_url))
            .await
            .map_err(|e| anyhow::anyhow!("GET {feed_url}: {e}"))?;
        let probe = probe_started.elapsed();
        let feed_entries = vevents(&feed);
        let budget = sizes.feed_budget.as_secs_f64();
        let requests = ((budget / probe.as_secs_f64().max(1e-6)) as usize)
            .clamp(10, sizes.feed_requests.max(10));
        bench.say(format!(
            "{SCENARIO}/{backend}: {requests} sequential GETs of events.ics ({feed_entries} entries)"
        ));
        let all = {
            let http = api.http.clone();
            load::drive(1, requests, move |_| {
                let request = http.get(&feed_url);
                async move { load::send(request).await.map(drop) }
            })
            .await
        };
        bench.keep_run(SCENARIO, Some(backend), "events.ics", 1, &all);
        bench.push(
            Row::new(SCENARIO, db, "events.ics p50", all.p50_ms, "ms").note(format!(
                "{requests} sequential GETs (of at most {}; {:.0} s budget, the first took {:.0} ms) of the feed of \
                 {feed_entries} published events, {:.0} KiB; events were created and published at {:.0}/s; \
                 errors: {}",
                sizes.feed_requests,
                budget,
                probe.as_secs_f64() * 1000.0,
                feed.len() as f64 / 1024.0,
                created.throughput_per_sec,
                all.error_kinds()
            )),
        );
        bench.push(Row::new(SCENARIO, db, "events.ics p95", all.p95_ms, "ms"));
        bench.push(Row::new(SCENARIO, db, "events.ics p99", all.p99_ms, "ms"));
        bench.push(
            Row::new(SCENARIO, db, "events.ics entries", feed_entries as f64, "VEVENTs")
                // Every published event: the ones just made and the workshop.
                .target(Target::AtLeast((sizes.feed_events + 1) as f64)),
        );
        bench.peak_memory_rows(SCENARIO, system);
        Ok(())
    })
    .await
}
