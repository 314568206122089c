//! `cloverleaf-bench`: see `bench/README.md`, or `cloverleaf-bench --help`.

use std::process::ExitCode;

use clap::Parser;
use cloverleaf_bench::options::{self, Options};

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    let json = options.json.clone();
    let (report, all_ran) = match options::run(options).await {
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
