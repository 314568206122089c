//! The load generator: `clients` concurrent tasks take request numbers `0..total` from a shared counter, time each
//! request, and record its latency in an HDR histogram (microseconds, 3 significant digits) of their own; the
//! histograms are merged at the end into a [`Summary`]: throughput, p50/p95/p99, errors by kind.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// What one request came to: `Ok` (a 2xx answer), or `Err` with the kind of failure (`http 409 full`,
/// `transport: timeout`…), by which errors are counted.
pub type Outcome = Result<(), String>;

/// Longest latency the histograms hold (longer ones are recorded as this): two minutes.
const MAX_MICROS: u64 = 120_000_000;

/// Latencies and outcomes of a set of requests.
#[derive(Debug, Clone)]
pub struct Recorder {
    histogram: Histogram<u64>,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            // 1 µs … 2 min at 3 significant digits; these bounds are always valid.
            histogram: Histogram::new_with_bounds(1, MAX_MICROS, 3)
                .expect("constant histogram bounds are valid"),
            ok: 0,
            errors: BTreeMap::new(),
        }
    }

    /// Records one request: its latency (successful or not) and its outcome.
    pub fn record(&mut self, latency: Duration, outcome: Outcome) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(1, MAX_MICROS);
        self.histogram.saturating_record(micros);
        match outcome {
            Ok(()) => self.ok += 1,
            Err(kind) => *self.errors.entry(kind).or_default() += 1,
        }
    }

    pub fn merge(&mut self, other: &Recorder) {
        // Both histograms have the same bounds, so adding cannot fail; saturate rather than lose the rest if it did.
        if self.histogram.add(&other.histogram).is_err() {
            for value in other.histogram.iter_recorded() {
                self.histogram
                    .saturating_record_n(value.value_iterated_to(), value.count_at_value());
            }
        }
        self.ok += other.ok;
        for (kind, n) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += n;
        }
    }

    /// The summary of what was recorded over `elapsed` (the wall-clock time of the whole run).
    pub fn summary(&self, elapsed: Duration) -> Summary {
        let ms = |micros: u64| micros as f64 / 1000.0;
        let quantile = |q: f64| ms(self.histogram.value_at_quantile(q));
        let requests = self.histogram.len();
        let errors: u64 = self.errors.values().sum();
        let secs = elapsed.as_secs_f64();
        Summary {
            requests,
            ok: self.ok,
            errors,
            errors_by_kind: self.errors.clone(),
            elapsed_secs: secs,
            throughput_per_sec: if secs > 0.0 {
                self.ok as f64 / secs
            } else {
                0.0
            },
            p50_ms: quantile(0.50),
            p95_ms: quantile(0.95),
            p99_ms: quantile(0.99),
            max_ms: ms(self.histogram.max()),
            mean_ms: self.histogram.mean() / 1000.0,
        }
    }
}

/// Throughput and latency of a run. Latencies in milliseconds; throughput counts successful requests only.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub elapsed_secs: f64,
    pub throughput_per_sec: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Summary {
    /// `http 409 full: 3, transport: timeout: 1`, or `none`.
    pub fn error_kinds(&self) -> String {
        if self.errors_by_kind.is_empty() {
            return "none".to_owned();
        }
        self.errors_by_kind
            .iter()
            .map(|(kind, n)| format!("{kind}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs `total` requests from `clients` concurrent tasks; `request(i)` makes request number `i` (each number once).
pub async fn drive<F, Fut>(clients: usize, total: usize, request: F) -> Summary
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients.max(1) {
        let request = request.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut recorder = Recorder::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let sent = Instant::now();
                let outcome = request(i).await;
                recorder.record(sent.elapsed(), outcome);
            }
            recorder
        }));
    }
    let mut all = Recorder::new();
    for task in tasks {
        match task.await {
            Ok(recorder) => all.merge(&recorder),
            Err(error) => all.record(Duration::ZERO, Err(format!("client task failed: {error}"))),
        }
    }
    all.summary(started.elapsed())
}

/// The kind of a failed request, for counting: `http <status> <problem type>` for an answer that is not 2xx (the
/// last path segment of a problem+json `type`, when there is one), `transport: <what>` when no answer came.
pub fn http_error_kind(status: u16, body: &[u8]) -> String {
    let problem = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("type")
                .and_then(|t| t.as_str())
                .map(|t| t.rsplit('/').next().unwrap_or(t).to_owned())
        })
        .filter(|t| !t.is_empty() && t != "about:blank");
    match problem {
        Some(kind) => format!("http {status} {kind}"),
        None => format!("http {status}"),
    }
}

/// The kind of a request that got no answer.
pub fn transport_error_kind(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else if error.is_request() {
        "request"
    } else {
        "other"
    };
    format!("transport: {what}")
}

/// Sends a request and classifies its answer: `Ok(body)` for a 2xx, else the error kind.
pub async fn send(request: reqwest::RequestBuilder) -> Result<Vec<u8>, String> {
    let response = request.send().await.map_err(|e| transport_error_kind(&e))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| transport_error_kind(&e))?;
    if status.is_success() {
        Ok(body.to_vec())
    } else {
        Err(http_error_kind(status.as_u16(), &body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_has_the_quantiles_and_counts_errors_by_kind() {
        let mut recorder = Recorder::new();
        for ms in 1..=100u64 {
            recorder.record(Duration::from_millis(ms), Ok(()));
        }
        recorder.record(Duration::from_millis(5), Err("http 409 full".into()));
        recorder.record(Duration::from_millis(5), Err("http 409 full".into()));
        recorder.record(Duration::from_secs(1), Err("transport: timeout".into()));
        let summary = recorder.summary(Duration::from_secs(2));
        assert_eq!(summary.requests, 103);
        assert_eq!(summary.ok, 100);
        assert_eq!(summary.errors, 3);
        assert_eq!(summary.errors_by_kind["http 409 full"], 2);
        assert!((summary.throughput_per_sec - 50.0).abs() < 1e-9);
        assert!((summary.p50_ms - 50.0).abs() < 1.0, "{}", summary.p50_ms);
        assert!((summary.p99_ms - 100.0).abs() < 1.0, "{}", summary.p99_ms);
        assert!((summary.max_ms - 1000.0).abs() < 1.0, "{}", summary.max_ms);
        assert_eq!(
            summary.error_kinds(),
            "http 409 full: 2, transport: timeout: 1"
        );
    }

    #[test]
    fn merged_recorders_add_up() {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        a.record(Duration::from_millis(1), Ok(()));
        b.record(Duration::from_millis(3), Ok(()));
        b.record(Duration::from_millis(3), Err("http 500".into()));
        a.merge(&b);
        let summary = a.summary(Duration::from_secs(1));
        assert_eq!((summary.requests, summary.ok, summary.errors), (3, 2, 1));
        assert!((summary.max_ms - 3.0).abs() < 0.01);
    }

    #[test]
    fn error_kinds_name_the_problem_type() {
        assert_eq!(
            http_error_kind(
                409,
                br#"{"type":"https://cloverleaf.example/problems/full","status":409}"#
            ),
            "http 409 full"
        );
        assert_eq!(http_error_kind(502, b"bad gateway"), "http 502");
        assert_eq!(
            http_error_kind(404, br#"{"type":"about:blank"}"#),
            "http 404"
        );
    }

    #[tokio::test]
    async fn drive_runs_each_request_once() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let summary = drive(8, 100, move |i| {
            let log = log.clone();
            async move {
                log.lock().map_err(|e| e.to_string())?.push(i);
                if i % 10 == 0 {
                    Err("every tenth".to_owned())
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert_eq!(
            (summary.requests, summary.ok, summary.errors),
            (100, 90, 10)
        );
        let mut seen = seen.lock().expect("lock").clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }
}
