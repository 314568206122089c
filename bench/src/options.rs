//! The command line, and running what it asks for.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};

use crate::pg;
use crate::report::{Machine, Report};
use crate::scenarios::{self, Bench, Sizes};
use crate::system::{Backend, Setup};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Startup,
    Registration,
    Fanout,
    Feeds,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Database {
    Sqlite,
    Postgres,
    Both,
}

/// Benchmarks of Cloverleaf: registration bursts (against a ceiling measured in the same run), invite fan-out,
/// feeds and start-up, with the three release service binaries as separate processes.
#[derive(Debug, Parser)]
#[command(name = "cloverleaf-bench", version)]
pub struct Options {
    /// Which scenario to run.
    #[arg(long, value_enum, default_value = "all")]
    pub scenario: Scenario,
    /// Which database the services use; default: both when PostgreSQL answers, else sqlite.
    #[arg(long, value_enum)]
    pub database: Option<Database>,
    /// A smoke run: a tenth of the load (2,000 registrations, 1,000 fan-out, 100 items, 100 events).
    #[arg(long)]
    pub quick: bool,
    /// Where the JSON report goes.
    #[arg(long, default_value = "target/bench/report.json")]
    pub json: PathBuf,
    /// The folder with the release binaries cloverleaf-registration, -scheduling, -notifications and cloverleaf;
    /// default: the folder of this binary.
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// The configuration folder given to the services (CLOVERLEAF_CONFIG_DIR); default: the repository's config/.
    #[arg(long)]
    pub config_dir: Option<PathBuf>,
    /// The configuration profile given to the services (CLOVERLEAF_PROFILE).
    #[arg(long, default_value = "development")]
    pub profile: String,
    /// A PostgreSQL admin URL; a database per service per run is created there and dropped afterwards.
    #[arg(long, env = "CLOVERLEAF_BENCH_POSTGRES_URL", default_value = pg::DEFAULT_ADMIN_URL)]
    pub postgres_url: String,
    /// Concurrent clients of the registration bursts and of the ceiling.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Registrations in scenario 1's burst (default 20,000; 2,000 with --quick).
    #[arg(long)]
    pub registrations: Option<usize>,
    /// Confirmed attendees of scenario 2's event (default 10,000; 1,000 with --quick).
    #[arg(long)]
    pub fanout: Option<usize>,
    /// Scenario 2's attendees are registered this many at a time, each batch's confirmations awaited.
    #[arg(long)]
    pub fanout_batch: Option<usize>,
    /// Agenda items of scenario 3's event (default 500; 100 with --quick).
    #[arg(long)]
    pub items: Option<usize>,
    /// Published events of scenario 3's feed (default 1,000; 100 with --quick).
    #[arg(long)]
    pub feed_events: Option<usize>,
    /// The longest wait for emails to reach the SMTP sink, in seconds.
    #[arg(long, default_value_t = 1800)]
    pub mail_timeout_secs: u64,
    /// Keep every system's data directory (SQLite files, keys, service logs) and print where.
    #[arg(long)]
    pub keep_data: bool,
}

impl Options {
    fn sizes(&self) -> Sizes {
        let mut sizes = if self.quick {
            Sizes::quick()
        } else {
            Sizes::full()
        };
        if let Some(n) = self.registrations {
            // Keep the proportions: 60% of each event's share get a seat, the rest wait.
            sizes.registrations = n;
            sizes.capacity = (n / sizes.events.max(1)) * 3 / 5;
        }
        if let Some(n) = self.fanout {
            sizes.fanout = n;
        }
        if let Some(n) = self.fanout_batch {
            sizes.fanout_batch = n;
        }
        if let Some(n) = self.items {
            sizes.items = n;
        }
        if let Some(n) = self.feed_events {
            sizes.feed_events = n;
        }
        sizes
    }

    fn setup(&self) -> anyhow::Result<Setup> {
        let bin_dir = match &self.bin_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_exe()
                .context("finding this binary")?
                .parent()
                .context("this binary's folder")?
                .to_path_buf(),
        };
        let config_dir = self.config_dir.clone().unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("config")
        });
        let config_dir = config_dir
            .canonicalize()
            .with_context(|| format!("the config folder {}", config_dir.display()))?;
        Ok(Setup {
            bin_dir,
            config_dir,
            profile: self.profile.clone(),
            postgres_admin: self.postgres_url.clone(),
            keep_data: self.keep_data,
        })
    }

    fn scenarios(&self) -> Vec<Scenario> {
        match self.scenario {
            Scenario::All => vec![
                Scenario::Startup,
                Scenario::Registration,
                Scenario::Fanout,
                Scenario::Feeds,
            ],
            one => vec![one],
        }
    }
}

fn say(message: &str) {
    eprintln!("{message}");
}

/// Which databases to run on, with a note when PostgreSQL was wanted by default but does not answer.
async fn backends(options: &Options, report: &mut Report) -> anyhow::Result<Vec<Backend>> {
    let postgres = pg::available(&options.postgres_url).await;
    if let Ok(version) = pg::server_version(&options.postgres_url).await {
        report.machine.postgres = Some(format!("PostgreSQL {version}"));
    }
    Ok(match options.database {
        Some(Database::Sqlite) => vec![Backend::Sqlite],
        Some(wanted @ (Database::Postgres | Database::Both)) => {
            if let Err(error) = postgres {
                bail!(
                    "PostgreSQL does not answer at {}: {error:#} (start it with \
                     `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or pass \
                     --postgres-url)",
                    pg::redact(&options.postgres_url)
                );
            }
            if wanted == Database::Both {
                vec![Backend::Sqlite, Backend::Postgres]
            } else {
                vec![Backend::Postgres]
            }
        }
        None => match postgres {
            Ok(()) => vec![Backend::Sqlite, Backend::Postgres],
            Err(error) => {
                let note = format!(
                    "PostgreSQL does not answer at {} ({error:#}): SQLite only",
                    pg::redact(&options.postgres_url)
                );
                say(&note);
                report.note(note);
                vec![Backend::Sqlite]
            }
        },
    })
}

/// Runs the scenarios asked for; the report, and whether every scenario ran to its end.
pub async fn run(options: Options) -> anyhow::Result<(Report, bool)> {
    let setup = options.setup()?;
    setup.check_binaries()?;
    let mode = if options.quick { "quick" } else { "full" };
    let mut report = Report::new(Machine::detect(), mode);
    let backends = backends(&options, &mut report).await?;
    let sizes = options.sizes();
    report.note(format!(
        "sizes: {}",
        serde_json::to_string(&sizes).unwrap_or_default()
    ));
    report.note(format!(
        "services: release binaries from {}, profile {}, config {}",
        setup.bin_dir.display(),
        setup.profile,
        setup.config_dir.display()
    ));
    let mut bench = Bench::new(
        setup,
        sizes,
        options.clients,
        Duration::from_secs(options.mail_timeout_secs),
        report,
    );
    bench.say(format!(
        "machine: {}; databases: {}",
        bench.report.machine.describe(),
        backends
            .iter()
            .map(|b| b.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut all_ran = true;
    for scenario in options.scenarios() {
        for &backend in &backends {
            let result = match scenario {
                Scenario::Startup => scenarios::startup::run(&mut bench, backend).await,
                Scenario::Registration => scenarios::registration::run(&mut bench, backend).await,
                Scenario::Fanout => scenarios::fanout::run(&mut bench, backend).await,
                Scenario::Feeds => scenarios::feeds::run(&mut bench, backend).await,
                Scenario::All => Ok(()),
            };
            if let Err(error) = result {
                all_ran = false;
                let name = format!("{scenario:?}").to_lowercase();
                bench.say(format!("{name}/{backend} FAILED: {error:#}"));
                bench
                    .report
                    .note(format!("{name}/{backend} failed: {error:#}"));
            }
            // What is done so far survives an interrupted run.
            if let Err(error) = write_json(&bench.report, &options.json) {
                bench.say(format!("cannot write the report: {error:#}"));
            }
        }
    }
    let mut report = bench.report;
    report.finished_at = Some(chrono::Utc::now().to_rfc3339());
    Ok((report, all_ran))
}

/// Writes the JSON report, making its folder.
pub fn write_json(report: &Report, path: &std::path::Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(report)?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}
