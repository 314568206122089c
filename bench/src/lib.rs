//! Cloverleaf's benchmark harness (`cloverleaf-bench`): starts the three services as separate release processes,
//! drives them over HTTP from many concurrent clients, and reports throughput, p50/p95/p99 latency, errors and each
//! service's memory for four scenarios — registration bursts (against a ceiling measured in the same run), invite
//! fan-out, feeds, start-up — as a table and as JSON. See `bench/README.md`.
//!
//! - [`load`]: the load generator (concurrent tasks, HDR histograms, errors by kind);
//! - [`system`]: the services as processes (environment, ports, readiness, memory, stopping);
//! - [`smtp`]: a counting SMTP test sink; [`ceiling`]: the bare-insert server; [`pg`]: PostgreSQL databases per run;
//! - [`api`]: the organiser's calls and the counts; [`mem`]: `/proc/<pid>/status`; [`cpu`]: where the CPU went;
//! - [`scenarios`]: the four scenarios; [`report`]: rows, table, JSON; [`options`]: the command line.

pub mod api;
pub mod ceiling;
pub mod cpu;
pub mod load;
pub mod mem;
pub mod options;
pub mod pg;
pub mod report;
pub mod scenarios;
pub mod smtp;
pub mod system;
