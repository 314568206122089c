use clap::Parser;

fn main() -> std::process::ExitCode {
    cloverleaf::cli::run(cloverleaf::cli::Cli::parse())
}
