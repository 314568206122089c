//! The four scenarios of the issue. Each starts a system of its own (fresh databases, fresh data directory, its own
//! SMTP sink), measures, checks, and stops it; its rows go into the report.

pub mod fanout;
pub mod feeds;
pub mod registration;
pub mod startup;

use std::time::{Duration, Instant};

use cloverleaf_service_kit::config::ServiceName;
use serde_json::{Value, json};

use crate::cpu::Usage;
use crate::load::Summary;
use crate::report::{Report, Row, Run, Target};
use crate::smtp::SmtpSink;
use crate::system::{Backend, Setup, System};

/// How much each scenario does.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sizes {
    /// Scenario 1: registrations in the burst, spread over `events` events of `capacity` seats (with waiting lists).
    pub registrations: usize,
    pub events: usize,
    pub capacity: usize,
    /// Scenario 1: how long after the burst the bench watches its emails go out (seconds in the JSON).
    #[serde(serialize_with = "seconds")]
    pub drain: Duration,
    /// Scenario 2: confirmed attendees of the event that is moved.
    pub fanout: usize,
    /// Scenario 2: attendees are registered in batches of this size, each batch's confirmations awaited before the
    /// next, so that notifications' inbox backlog stays small while the attendees are set up.
    pub fanout_batch: usize,
    /// Scenario 3: agenda items of one event, GETs of its `.ics`; published events, and the most GETs of their feed.
    pub items: usize,
    pub ics_requests: usize,
    pub feed_events: usize,
    pub feed_requests: usize,
    /// The longest the feed of all events is fetched for (fewer requests when each is slow).
    #[serde(serialize_with = "seconds")]
    pub feed_budget: Duration,
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

impl Sizes {
    /// The figures.
    pub fn full() -> Self {
        Self {
            registrations: 20_000,
            events: 10,
            capacity: 1_200,
            drain: Duration::from_secs(60),
            fanout: 10_000,
            fanout_batch: 500,
            items: 500,
            ics_requests: 1_000,
            feed_events: 1_000,
            feed_requests: 1_000,
            feed_budget: Duration::from_secs(30),
        }
    }

    /// A smoke run: a tenth of the load.
    pub fn quick() -> Self {
        Self {
            registrations: 2_000,
            events: 10,
            capacity: 120,
            drain: Duration::from_secs(30),
            fanout: 1_000,
            fanout_batch: 500,
            items: 100,
            ics_requests: 200,
            feed_events: 100,
            feed_requests: 200,
            feed_budget: Duration::from_secs(10),
        }
    }
}

/// Everything a scenario needs, and the report it adds to.
#[derive(Debug)]
pub struct Bench {
    pub setup: Setup,
    pub sizes: Sizes,
    /// Concurrent clients of the registration bursts (and of the ceiling).
    pub clients: usize,
    /// The longest wait for emails to reach the SMTP sink.
    pub mail_timeout: Duration,
    pub report: Report,
    started: Instant,
}

impl Bench {
    pub fn new(
        setup: Setup,
        sizes: Sizes,
        clients: usize,
        mail_timeout: Duration,
        report: Report,
    ) -> Self {
        Self {
            setup,
            sizes,
            clients,
            mail_timeout,
            report,
            started: Instant::now(),
        }
    }

    /// A progress line on standard error, with the time since the bench started.
    pub fn say(&self, message: impl AsRef<str>) {
        eprintln!(
            "[{:>7.1}s] {}",
            self.started.elapsed().as_secs_f64(),
            message.as_ref()
        );
    }

    pub fn push(&mut self, row: Row) {
        self.report.push(row);
    }

    /// Keeps a load run's full summary for the JSON.
    pub fn keep_run(
        &mut self,
        scenario: &str,
        backend: Option<Backend>,
        name: &str,
        clients: usize,
        summary: &Summary,
    ) {
        self.report.runs.push(Run {
            scenario: scenario.to_owned(),
            database: backend.map(|b| b.as_str().to_owned()),
            name: name.to_owned(),
            clients,
            summary: summary.clone(),
        });
    }

    /// Rows for a load run: throughput, p50, p95, p99, errors. Targets for throughput and p99 when given.
    #[allow(clippy::too_many_arguments)]
    pub fn latency_rows(
        &mut self,
        scenario: &str,
        backend: Option<Backend>,
        what: &str,
        summary: &Summary,
        throughput_unit: &str,
        throughput_target: Option<Target>,
        p99_target: Option<Target>,
    ) {
        let db = backend.map(Backend::as_str);
        let mut throughput = Row::new(
            scenario,
            db,
            format!("{what} throughput"),
            summary.throughput_per_sec,
            throughput_unit,
        );
        if let Some(target) = throughput_target {
            throughput = throughput.target(target);
        }
        self.push(throughput);
        self.push(Row::new(
            scenario,
            db,
            format!("{what} p50"),
            summary.p50_ms,
            "ms",
        ));
        self.push(Row::new(
            scenario,
            db,
            format!("{what} p95"),
            summary.p95_ms,
            "ms",
        ));
        let mut p99 = Row::new(scenario, db, format!("{what} p99"), summary.p99_ms, "ms");
        if let Some(target) = p99_target {
            p99 = p99.target(target);
        }
        self.push(p99);
        let mut errors = Row::new(
            scenario,
            db,
            format!("{what} errors"),
            summary.errors as f64,
            "requests",
        );
        if summary.errors > 0 {
            errors = errors.note(summary.error_kinds());
        }
        self.push(errors);
    }

    /// Rows with the cores each process used during `phase` (and the rest of the machine: PostgreSQL, other jobs).
    pub fn cpu_rows(&mut self, scenario: &str, backend: Backend, phase: &str, usage: &Usage) {
        let db = Some(backend.as_str());
        for (name, cores) in &usage.cores {
            self.push(Row::new(
                scenario,
                db,
                format!("CPU {phase}: {name}"),
                *cores,
                "cores",
            ));
        }
        self.push(
            Row::new(
                scenario,
                db,
                format!("CPU {phase}: rest of the machine"),
                usage.rest_cores,
                "cores",
            )
            .note(format!(
                "PostgreSQL's backends and anything else running; the whole machine was {:.2} of {} cores busy \
                 over {:.1} s",
                usage.machine_cores, self.report.machine.cpus, usage.seconds
            )),
        );
    }

    /// Rows with each service's peak resident memory (VmHWM) so far.
    pub fn peak_memory_rows(&mut self, scenario: &str, system: &System) {
        let db = system.backend().as_str();
        for (service, memory) in system.memories() {
            self.push(Row::new(
                scenario,
                Some(db),
                format!("{service} peak memory (VmHWM)"),
                kib_to_mb(memory.peak_kib),
                "MB",
            ));
        }
        let warnings = system.log_warnings();
        let noisy: Vec<String> = warnings
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        if !noisy.is_empty() {
            self.report.note(format!(
                "{scenario}/{db}: warning or error lines in the services' logs — {}",
                noisy.join(", ")
            ));
        }
    }
}

/// KiB (as /proc reports) → MB (10⁶ bytes, as the targets).
pub fn kib_to_mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1_000_000.0
}

/// Starts an SMTP sink and a system with all three services, runs `body`, and always stops the system afterwards
/// (its error, if any, comes after the body's).
pub async fn with_system<T>(
    bench: &mut Bench,
    backend: Backend,
    body: impl AsyncFnOnce(&mut Bench, &mut System, SmtpSink) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let sink = SmtpSink::start().await?;
    let mut system = System::prepare(&bench.setup, backend, sink.port()).await?;
    let started = system.start_all().await;
    let result = match started {
        Ok(_) => body(bench, &mut system, sink).await,
        Err(error) => Err(error),
    };
    let stopped = system.stop().await;
    match (result, stopped) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(error)) => Err(error),
        (Err(error), Ok(())) => Err(error),
        (Err(error), Err(stop)) => Err(error.context(format!("also {stop:#}"))),
    }
}

/// The registration body the bursts and the ceiling send: participant `i` of run `run`.
pub fn registration_body(event_id: &str, i: usize, run: &str) -> Value {
    json!({
        "event_id": event_id,
        "email": format!("p{i}.{run}@bench.example.org"),
        "name": format!("Participant {i}"),
        "affiliation": "Bench Institute of Personalised Medicine",
        "country": "DE",
        "consent": true,
        "locale": "en",
        "timezone": "Asia/Shanghai",
    })
}

/// The services in a fixed order, for rows.
pub const SERVICES: [ServiceName; 3] = ServiceName::ALL;
