//! Scenario 4, start-up: the time from spawning a service's process to its first `200` on `/readyz` (its database
//! opened and migrated — fresh databases, so migrations included), each service alone, then all three at once;
//! and each one's resident memory (VmRSS) after two idle seconds. Each is measured three times (fresh databases
//! each time) and the slowest counts.

use std::collections::BTreeMap;
use std::time::Duration;

use cloverleaf_service_kit::config::ServiceName;

use super::{Bench, SERVICES, kib_to_mb};
use crate::mem::Memory;
use crate::report::{Row, Target};
use crate::smtp::SmtpSink;
use crate::system::{Backend, System};

const SCENARIO: &str = "startup";

/// The targets: ready within a second of the start, under 30 MB resident when idle.
pub const READY_TARGET: Target = Target::Below(1000.0);
pub const IDLE_TARGET: Target = Target::Below(30.0);

/// How long the services idle before their memory is read.
const IDLE: Duration = Duration::from_secs(2);

/// Each measurement is taken this many times, on fresh databases each time; the slowest counts.
const ROUNDS: usize = 3;

fn times(rounds: &[Duration]) -> String {
    rounds
        .iter()
        .map(|d| format!("{:.0}", d.as_secs_f64() * 1000.0))
        .collect::<Vec<_>>()
        .join(", ")
}

fn slowest(rounds: &[Duration]) -> f64 {
    rounds
        .iter()
        .max()
        .copied()
        .unwrap_or_default()
        .as_secs_f64()
        * 1000.0
}

/// Spawns the services one after another, each once the one before is ready; the time each took.
async fn one_by_one(
    bench: &Bench,
    backend: Backend,
    smtp_port: u16,
) -> anyhow::Result<Vec<(ServiceName, Duration)>> {
    let mut system = System::prepare(&bench.setup, backend, smtp_port).await?;
    let measured = async {
        let mut alone = Vec::new();
        for service in SERVICES {
            system.spawn(service)?;
            alone.push((service, system.wait_ready(service).await?));
        }
        anyhow::Ok(alone)
    }
    .await;
    let stopped = system.stop().await;
    let alone = measured?;
    stopped?;
    Ok(alone)
}

/// What one start of all three at once gave.
struct Together {
    each: BTreeMap<&'static str, Duration>,
    all: Duration,
    memories: BTreeMap<&'static str, Memory>,
    warnings: BTreeMap<&'static str, usize>,
}

/// Spawns all three at once; with `idle`, waits that long and reads their memory.
async fn together(
    bench: &Bench,
    backend: Backend,
    smtp_port: u16,
    idle: Option<Duration>,
) -> anyhow::Result<Together> {
    let mut system = System::prepare(&bench.setup, backend, smtp_port).await?;
    let measured = async {
        let (each, all) = system.start_all().await?;
        let mut memories = BTreeMap::new();
        if let Some(idle) = idle {
            tokio::time::sleep(idle).await;
            memories = system.memories();
        }
        anyhow::Ok((each, all, memories))
    }
    .await;
    let warnings = system.log_warnings();
    let stopped = system.stop().await;
    let (each, all, memories) = measured?;
    stopped?;
    Ok(Together {
        each,
        all,
        memories,
        warnings,
    })
}

pub async fn run(bench: &mut Bench, backend: Backend) -> anyhow::Result<()> {
    let db = Some(backend.as_str());
    let sink = SmtpSink::start().await?;

    bench.say(format!(
        "{SCENARIO}/{backend}: each service alone, {ROUNDS} times"
    ));
    let mut alone: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for _ in 0..ROUNDS {
        for (service, took) in one_by_one(bench, backend, sink.port()).await? {
            alone.entry(service.as_str()).or_default().push(took);
        }
    }
    for service in SERVICES {
        if let Some(rounds) = alone.get(service.as_str()) {
            bench.push(
                Row::new(
                    SCENARIO,
                    db,
                    format!("{service} ready after start (alone, slowest of {ROUNDS})"),
                    slowest(rounds),
                    "ms",
                )
                .target(READY_TARGET)
                .note(format!("rounds: {} ms", times(rounds))),
            );
        }
    }

    bench.say(format!(
        "{SCENARIO}/{backend}: all three at once, {ROUNDS} times, then idle"
    ));
    let mut each: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    let mut all = Vec::new();
    let mut last = None;
    for round in 0..ROUNDS {
        let idle = (round + 1 == ROUNDS).then_some(IDLE);
        let started = together(bench, backend, sink.port(), idle).await?;
        for (service, took) in &started.each {
            each.entry(service).or_default().push(*took);
        }
        all.push(started.all);
        last = Some(started);
    }
    for service in SERVICES {
        if let Some(rounds) = each.get(service.as_str()) {
            bench.push(
                Row::new(
                    SCENARIO,
                    db,
                    format!(
                        "{service} ready after start (all three together, slowest of {ROUNDS})"
                    ),
                    slowest(rounds),
                    "ms",
                )
                .target(READY_TARGET)
                .note(format!("rounds: {} ms", times(rounds))),
            );
        }
    }
    bench.push(
        Row::new(
            SCENARIO,
            db,
            format!("all three ready (from the first spawn, slowest of {ROUNDS})"),
            slowest(&all),
            "ms",
        )
        .target(READY_TARGET)
        .note(format!("rounds: {} ms", times(&all))),
    );
    let Some(last) = last else {
        return Ok(());
    };
    for service in SERVICES {
        if let Some(memory) = last.memories.get(service.as_str()) {
            bench.push(
                Row::new(
                    SCENARIO,
                    db,
                    format!("{service} idle memory (VmRSS)"),
                    kib_to_mb(memory.rss_kib),
                    "MB",
                )
                .target(IDLE_TARGET)
                .note(format!(
                    "after {} s idle; peak so far (VmHWM) {:.1} MB",
                    IDLE.as_secs(),
                    kib_to_mb(memory.peak_kib)
                )),
            );
        }
    }
    let noisy: Vec<String> = last
        .warnings
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    if !noisy.is_empty() {
        bench.report.note(format!(
            "{SCENARIO}/{backend}: warning or error lines in the services' logs — {}",
            noisy.join(", ")
        ));
    }
    Ok(())
}
