use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Settings, shutdown, telemetry};

use crate::edge;
use crate::system;

#[derive(Debug, Parser)]
#[command(
    name = "cloverleaf",
    version,
    about = "Events, agendas and delegation tours for research-cooperation programmes"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the three services and the edge router in one process (SQLite under the data directory by default).
    Serve {
        /// Where SQLite files, generated keys and mail go.
        #[arg(long, env = "CLOVERLEAF_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Apply every service's database migrations, then exit.
    Migrate {
        #[arg(long, env = "CLOVERLEAF_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Run only the edge router, forwarding to the services at their configured URLs.
    Edge,
}

fn settings(data_dir: Option<&PathBuf>) -> Result<Settings, String> {
    let mut settings = Settings::load().map_err(|e| e.to_string())?;
    if let Some(dir) = data_dir {
        settings.data_dir.clone_from(dir);
    }
    Ok(settings)
}

pub fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { data_dir } => serve(settings(data_dir.as_ref())?).await,
            Command::Migrate { data_dir } => {
                let settings = settings(data_dir.as_ref())?;
                telemetry::init(&settings.telemetry);
                system::migrate(&settings).await.map_err(|e| e.to_string())
            }
            Command::Edge => edge_only(settings(None)?).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cloverleaf: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    telemetry::init(&settings.telemetry);
    let running = system::start(settings).await.map_err(|e| e.to_string())?;
    print_urls(&running);
    shutdown::signal().await;
    running.stop().await.map_err(|e| e.to_string())
}

#[allow(clippy::print_stdout)] // the list of URLs is the command's output
fn print_urls(running: &system::RunningSystem) {
    let edge = running.edge_url();
    println!(
        "Cloverleaf is running (data in {}):",
        running.settings.data_dir.display()
    );
    println!("  edge           {edge}");
    for name in ServiceName::ALL {
        let url = running.service_url(name);
        println!(
            "  {:<14} {url}   (docs {url}/docs/, ready {edge}/services/{name}/readyz)",
            name.as_str()
        );
    }
    println!("Stop with Ctrl-C.");
}

async fn edge_only(settings: Settings) -> Result<(), String> {
    telemetry::init(&settings.telemetry);
    let router = edge::router_from_settings(&settings).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(&settings.edge.listen)
        .await
        .map_err(|e| format!("{}: {e}", settings.edge.listen))?;
    tracing::info!(addr = %settings.edge.listen, "edge listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown::signal())
    .await
    .map_err(|e| e.to_string())
}
