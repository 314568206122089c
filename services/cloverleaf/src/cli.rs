use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Settings, server, shutdown, telemetry};

use crate::accounts::store_account;
use crate::demo;
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
    /// Run the three services, the portal (web pages) and the edge router in one process (SQLite under the data
    /// directory by default).
    Serve {
        /// Where SQLite files, generated keys and mail go.
        #[arg(long, env = "CLOVERLEAF_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Load the Sino-EU PerMed demo programme first, unless it is there already (see `seed --demo`).
        #[arg(long)]
        demo: bool,
    },
    /// Load data into the system: with --demo, a Sino-EU PerMed demo programme (a webinar, a workshop in Siena and a
    /// delegation tour Berlin → Guangzhou → Nanjing, with registrations) through the HTTP API, as a new demo
    /// organiser whose login it prints. Starts the system on its configured ports, loads, stops. Running it again
    /// adds nothing.
    Seed {
        /// Load the demo programme (the only data there is to seed).
        #[arg(long)]
        demo: bool,
        #[arg(long, env = "CLOVERLEAF_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Apply every service's database migrations, then exit.
    Migrate {
        #[arg(long, env = "CLOVERLEAF_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Run only the edge router, forwarding to the services at their configured URLs (or to several instances of
    /// each: `edge.<service>_instances`; the pages at `portal.url` or `edge.portal_instances`).
    Edge,
    /// Run one service alone, as its own binary does (`cloverleaf-registration`…): for running several instances of
    /// a service as separate processes.
    Service {
        #[arg(value_enum)]
        name: ServiceArg,
    },
    /// Make the Ed25519 keys a production deployment reads: `signing.pem` (people's tokens) and `service.pem`
    /// (service tokens) in `--dir`, each only if it is missing (so running it again changes nothing). Prints each
    /// key's id (the JWKS `kid`).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage organisers' and admins' accounts.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate the missing keys into a directory (mounted later at /run/secrets/cloverleaf, or given as
    /// `auth.signing_key_file` / `auth.service_key_file`).
    Generate {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create an account, reading its password (12–1024 characters) from the first line of standard input:
    /// `printf '%s\n' "$PASSWORD" | cloverleaf accounts create --email E --name N --role organiser`.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: AccountRoleArg,
        /// Where the registration database is (SQLite by default), as for serve and migrate.
        #[arg(long, env = "CLOVERLEAF_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
}

/// The three services and the portal, by name.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ServiceArg {
    Registration,
    Scheduling,
    Notifications,
    Portal,
}

/// The roles an account can have.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AccountRoleArg {
    Organiser,
    Admin,
}

fn settings(data_dir: Option<&PathBuf>) -> Result<Settings, String> {
    let mut settings = Settings::load().map_err(|e| e.to_string())?;
    if let Some(dir) = data_dir {
        settings.data_dir.clone_from(dir);
    }
    Ok(settings)
}

pub fn run(cli: Cli) -> ExitCode {
    // One service alone: the same main as its own binary (settings, logging, serve until SIGTERM).
    if let Command::Service { name } = cli.command {
        return match name {
            ServiceArg::Registration => {
                server::main(ServiceName::Registration, cloverleaf_registration::build)
            }
            ServiceArg::Scheduling => {
                server::main(ServiceName::Scheduling, cloverleaf_scheduling::build)
            }
            ServiceArg::Notifications => {
                server::main(ServiceName::Notifications, cloverleaf_notifications::build)
            }
            ServiceArg::Portal => cloverleaf_portal::main(),
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { data_dir, demo } => serve(settings(data_dir.as_ref())?, demo).await,
            Command::Seed { demo, data_dir } => {
                if !demo {
                    return Err(
                        "nothing to seed: `cloverleaf seed --demo` loads the demo programme"
                            .to_owned(),
                    );
                }
                seed_demo(settings(data_dir.as_ref())?).await
            }
            Command::Migrate { data_dir } => {
                let settings = settings(data_dir.as_ref())?;
                telemetry::init(&settings.telemetry);
                system::migrate(&settings).await.map_err(|e| e.to_string())
            }
            Command::Edge => edge_only(settings(None)?).await,
            // Served above, on its own runtime.
            Command::Service { .. } => Ok(()),
            Command::Keys {
                command: KeysCommand::Generate { dir },
            } => generate_keys(&dir),
            Command::Accounts {
                command:
                    AccountsCommand::Create {
                        email,
                        name,
                        role,
                        data_dir,
                    },
            } => create_account(&email, &name, role, data_dir.as_ref()).await,
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

async fn serve(settings: Settings, demo: bool) -> Result<(), String> {
    telemetry::init(&settings.telemetry);
    let running = system::start(settings).await.map_err(|e| e.to_string())?;
    if demo {
        // The system keeps running: the applicants' emails go out as it works through them.
        match demo::load(
            &running.settings,
            &running.edge_url(),
            demo::Letters::DontWait,
        )
        .await
        {
            Ok(outcome) => print_report(&outcome.report(&running.edge_url())),
            Err(error) => {
                let _ = running.stop().await;
                return Err(error.to_string());
            }
        }
    }
    print_urls(&running);
    shutdown::signal().await;
    running.stop().await.map_err(|e| e.to_string())
}

/// `cloverleaf seed --demo`: starts the system on its configured ports, loads the demo through the edge, stops, and
/// prints what it did (the login it created), even when stopping then fails.
async fn seed_demo(mut settings: Settings) -> Result<(), String> {
    // Every request's log line would bury the login: only warnings (RUST_LOG still wins).
    settings.telemetry.filter = "warn".to_owned();
    telemetry::init(&settings.telemetry);
    let public_url = settings.public_url.clone();
    let running = system::start(settings).await.map_err(|error| match error {
        system::SystemError::Bind { .. } => format!(
            "{error} (is `cloverleaf serve` running? Stop it first, or load the demo with `cloverleaf serve --demo`)"
        ),
        other => other.to_string(),
    })?;
    // The system stops right after: first let notifications queue the applicants' emails, so that stopping leaves
    // nothing half-done (they are sent then, or when Cloverleaf runs next).
    let loaded = demo::load(
        &running.settings,
        &running.edge_url(),
        demo::Letters::WaitUntilQueued,
    )
    .await;
    let stopped = running.stop().await;
    let outcome = loaded.map_err(|e| e.to_string())?;
    print_report(&outcome.report(&public_url));
    stopped.map_err(|e| e.to_string())
}

/// `cloverleaf keys generate --dir D`.
#[allow(clippy::print_stdout)] // the key ids are the command's output
fn generate_keys(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for name in ["signing.pem", "service.pem"] {
        let path = dir.join(name);
        let existed = path.exists();
        let key = cloverleaf_auth::SigningKey::load_or_generate(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let state = if existed { "kept" } else { "generated" };
        println!("{state} {} (kid {})", path.display(), key.kid());
    }
    Ok(())
}

#[allow(clippy::print_stdout)] // the demo's report (with the login) is the command's output
fn print_report(report: &str) {
    print!("{report}");
}

#[allow(clippy::print_stdout)] // the list of URLs is the command's output
fn print_urls(running: &system::RunningSystem) {
    let edge = running.edge_url();
    println!(
        "Cloverleaf is running (data in {}):",
        running.settings.data_dir.display()
    );
    println!("  edge           {edge}");
    println!("  pages          {edge}/   (organisers: {edge}/organiser)");
    println!("  API docs       {edge}/docs/   (the three APIs, through the edge)");
    for name in ServiceName::ALL {
        let url = running.service_url(name);
        println!(
            "  {:<14} {url}   (docs {url}/docs/, ready {edge}/services/{name}/readyz)",
            name.as_str()
        );
    }
    println!("  portal         {}", running.portal_url());
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

/// `cloverleaf accounts create`: checks the input, reads the password from stdin, migrates the registration database
/// and creates the account through the same store function as `POST /v1/accounts`.
async fn create_account(
    email: &str,
    name: &str,
    role: AccountRoleArg,
    data_dir: Option<&PathBuf>,
) -> Result<(), String> {
    use cloverleaf_registration::domain::accounts::{self, AccountEmail, AccountRole, Password};
    use cloverleaf_registration::store::accounts::NewAccount;

    let role = match role {
        AccountRoleArg::Organiser => AccountRole::Organiser,
        AccountRoleArg::Admin => AccountRole::Admin,
    };
    let email = AccountEmail::parse(email).map_err(|e| format!("--email: {}", e.message))?;
    let name = accounts::account_name(name).map_err(|e| format!("--name: {}", e.message))?;
    let password = Password::parse(read_password(email.as_str())?)
        .map_err(|e| format!("the password (from standard input) {}", e.message))?;

    let settings = settings(data_dir)?;
    let created = store_account(
        &settings,
        NewAccount {
            email,
            name,
            role,
            password,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    eprintln!(
        "created {} {} (id {})",
        role.as_str(),
        created.email,
        created.id
    );
    Ok(())
}

/// The first line of standard input, without its line ending. On a terminal, asks for it first (it is echoed; pipe
/// it in to keep it off the screen).
fn read_password(email: &str) -> Result<String, String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password for {email} (12–1024 characters, shown as you type): ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    if password.is_empty() {
        return Err("no password: give it as the first line of standard input".to_owned());
    }
    Ok(password.to_owned())
}
