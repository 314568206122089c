//! `cloverleaf-bench`: see `bench/README.md`, or `cloverleaf-bench --help`.

use std::process::ExitCode;

use clap::Parser;
use cloverleaf_bench::options::{self, Options};

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    let json = options.json.clone();
    // On Ctrl-C or SIGTERM the run is dropped: the services' processes are killed, the PostgreSQL databases dropped
    // and the data directories deleted; the JSON keeps the scenarios finished so far.
    let outcome = tokio::select! {
        outcome = options::run(options) => outcome,
        signal = interrupted() => {
            eprintln!("cloverleaf-bench: {signal}: stopped; the scenarios finished so far are in {}", json.display());
            return ExitCode::from(130);
        }
    };
    let (report, all_ran) = match outcome {
        Ok(done) => done,
        Err(error) => {
            eprintln!("cloverleaf-bench: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    print_report(&report);
    if let Err(error) = options::write_json(&report, &json) {
        eprintln!("cloverleaf-bench: {error:#}");
        return ExitCode::FAILURE;
    }
    eprintln!("JSON report: {}", json.display());
    if all_ran {
        ExitCode::SUCCESS
    } else {
        eprintln!("cloverleaf-bench: some scenarios failed (see the notes)");
        ExitCode::FAILURE
    }
}

/// Waits for Ctrl-C or SIGTERM; which one came.
async fn interrupted() -> &'static str {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return "interrupted";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = term.recv() => "terminated",
    }
}

#[allow(clippy::print_stdout)] // the table is the command's output
fn print_report(report: &cloverleaf_bench::report::Report) {
    println!("Machine: {}", report.machine.describe());
    println!("Mode: {}", report.mode);
    println!();
    print!("{}", report.table());
    let (met, missed) = report.tally();
    println!();
    println!("Targets: {met} met, {missed} missed.");
    if !report.notes.is_empty() {
        println!();
        println!("Notes:");
        for note in &report.notes {
            println!("  - {note}");
        }
    }
}
