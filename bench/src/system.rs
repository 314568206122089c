//! The system under test: the three release service binaries as separate processes, each on a free loopback port,
//! configured only through environment variables (README: `CLOVERLEAF__SECTION__KEY`), sharing one temporary data
//! directory (so they share the generated keys), each with its own fresh database — a SQLite file in the data
//! directory or a PostgreSQL database made for this run — and notifications sending through the bench's SMTP sink.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cloverleaf_service_kit::config::ServiceName;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use crate::mem::{self, Memory};
use crate::pg::PgDatabase;

/// Which database the services use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the binaries and the configuration are, and what the services are told.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The folder with `cloverleaf-registration`, `cloverleaf-scheduling`, `cloverleaf-notifications`, `cloverleaf`.
    pub bin_dir: PathBuf,
    /// `CLOVERLEAF_CONFIG_DIR`.
    pub config_dir: PathBuf,
    /// `CLOVERLEAF_PROFILE`.
    pub profile: String,
    /// The PostgreSQL server's admin URL (used with [`Backend::Postgres`]).
    pub postgres_admin: String,
    /// Keep each system's data directory (databases, keys, logs) instead of deleting it.
    pub keep_data: bool,
}

impl Setup {
    pub fn binary(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Fails, naming what is missing, unless every binary the bench starts is there.
    pub fn check_binaries(&self) -> anyhow::Result<()> {
        let mut missing = Vec::new();
        for name in ServiceName::ALL
            .iter()
            .map(|s| binary_name(*s))
            .chain(std::iter::once("cloverleaf".to_owned()))
        {
            if !self.binary(&name).is_file() {
                missing.push(name);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        bail!(
            "{} not found in {} — build them first: cargo build --release -p cloverleaf-registration \
             -p cloverleaf-scheduling -p cloverleaf-notifications -p cloverleaf (or pass --bin-dir)",
            missing.join(", "),
            self.bin_dir.display()
        )
    }
}

pub fn binary_name(service: ServiceName) -> String {
    format!("cloverleaf-{}", service.as_str())
}

fn env_section(service: ServiceName) -> String {
    service.as_str().to_ascii_uppercase()
}

/// One service process.
#[derive(Debug)]
struct Process {
    child: Child,
    pid: u32,
    spawned_at: Instant,
}

/// The three services' configuration, and the processes once spawned.
#[derive(Debug)]
pub struct System {
    // Fields are dropped in this order: when a run is abandoned, the processes are killed first, then their
    // PostgreSQL databases dropped, then the data directory deleted.
    processes: BTreeMap<&'static str, Process>,
    databases: Vec<PgDatabase>,
    backend: Backend,
    setup: Setup,
    kept_dir: Option<PathBuf>,
    env: Vec<(String, String)>,
    ports: BTreeMap<&'static str, u16>,
    client: reqwest::Client,
    dir: Option<tempfile::TempDir>,
}

/// How long a service may take to become ready before the bench gives up on it.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

fn free_port() -> anyhow::Result<u16> {
    // Bound and released at once: the service binds it a moment later (a small race, fine on a bench machine).
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl System {
    /// Prepares a system — a data directory, a port and a fresh database per service, the environment — without
    /// starting anything. `smtp_port` is the sink notifications sends to.
    pub async fn prepare(setup: &Setup, backend: Backend, smtp_port: u16) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("cloverleaf-bench-")
            .tempdir()
            .context("creating a data directory")?;
        let mut env: Vec<(String, String)> = vec![
            ("CLOVERLEAF_PROFILE".into(), setup.profile.clone()),
            (
                "CLOVERLEAF_CONFIG_DIR".into(),
                setup.config_dir.display().to_string(),
            ),
            (
                "CLOVERLEAF__DATA_DIR".into(),
                dir.path().display().to_string(),
            ),
            ("CLOVERLEAF__TELEMETRY__FILTER".into(), "warn".into()),
            // The bench sends thousands of registrations from one address on purpose.
            (
                "CLOVERLEAF__RATE_LIMIT__REGISTRATIONS_PER_MINUTE".into(),
                "1000000000".into(),
            ),
            (
                "CLOVERLEAF__RATE_LIMIT__REGISTRATIONS_BURST".into(),
                "1000000000".into(),
            ),
            (
                "CLOVERLEAF__RATE_LIMIT__REGISTRATIONS_PER_MINUTE_PER_EVENT".into(),
                "1000000000".into(),
            ),
            (
                "CLOVERLEAF__RATE_LIMIT__REGISTRATIONS_BURST_PER_EVENT".into(),
                "1000000000".into(),
            ),
            (
                "CLOVERLEAF__RATE_LIMIT__REGISTRATIONS_PER_HOUR_PER_EMAIL".into(),
                "1000000000".into(),
            ),
            (
                "CLOVERLEAF__RATE_LIMIT__REGISTRATIONS_BURST_PER_EMAIL".into(),
                "1000000000".into(),
            ),
            (
                "CLOVERLEAF__RATE_LIMIT__LOGINS_PER_MINUTE".into(),
                "1000000000".into(),
            ),
            (
                "CLOVERLEAF__RATE_LIMIT__LOGINS_BURST".into(),
                "1000000000".into(),
            ),
            (
                "CLOVERLEAF__RATE_LIMIT__LOGINS_PER_HOUR_PER_ACCOUNT".into(),
                "1000000000".into(),
            ),
            (
                "CLOVERLEAF__RATE_LIMIT__LOGINS_BURST_PER_ACCOUNT".into(),
                "1000000000".into(),
            ),
            ("CLOVERLEAF__MAIL__TRANSPORT".into(), "smtp".into()),
            ("CLOVERLEAF__MAIL__SMTP_HOST".into(), "127.0.0.1".into()),
            ("CLOVERLEAF__MAIL__SMTP_PORT".into(), smtp_port.to_string()),
            ("CLOVERLEAF__MAIL__SMTP_SECURITY".into(), "none".into()),
        ];
        let mut ports = BTreeMap::new();
        let mut databases = Vec::new();
        for service in ServiceName::ALL {
            let port = free_port()?;
            let section = env_section(service);
            env.push((
                format!("CLOVERLEAF__{section}__LISTEN"),
                format!("127.0.0.1:{port}"),
            ));
            env.push((
                format!("CLOVERLEAF__{section}__URL"),
                format!("http://127.0.0.1:{port}"),
            ));
            // SQLite: the default, `<data_dir>/<service>.db`.
            if backend == Backend::Postgres {
                let database = PgDatabase::create(&setup.postgres_admin, service.as_str()).await?;
                env.push((
                    format!("CLOVERLEAF__{section}__DATABASE_URL"),
                    database.url().to_owned(),
                ));
                databases.push(database);
            }
            ports.insert(service.as_str(), port);
        }
        let registration = ports
            .get(ServiceName::Registration.as_str())
            .copied()
            .context("registration port")?;
        env.push((
            "CLOVERLEAF__AUTH__JWKS_URL".into(),
            format!("http://127.0.0.1:{registration}/.well-known/jwks.json"),
        ));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let (dir, kept_dir) = if setup.keep_data {
            (None, Some(dir.keep()))
        } else {
            (Some(dir), None)
        };
        Ok(Self {
            backend,
            setup: setup.clone(),
            dir,
            kept_dir,
            env,
            ports,
            processes: BTreeMap::new(),
            databases,
            client,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn data_dir(&self) -> &Path {
        match (&self.dir, &self.kept_dir) {
            (Some(dir), _) => dir.path(),
            (None, Some(kept)) => kept,
            (None, None) => Path::new("."),
        }
    }

    pub fn url(&self, service: ServiceName) -> String {
        let port = self
            .ports
            .get(service.as_str())
            .copied()
            .unwrap_or_default();
        format!("http://127.0.0.1:{port}")
    }

    fn log_path(&self, service: ServiceName) -> PathBuf {
        self.data_dir().join(format!("{}.log", service.as_str()))
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        // RUST_LOG would win over the configured filter.
        command.env_remove("RUST_LOG");
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command.kill_on_drop(true);
        command
    }

    /// Starts one service's process (output to `<data dir>/<service>.log`).
    pub fn spawn(&mut self, service: ServiceName) -> anyhow::Result<()> {
        let log = std::fs::File::create(self.log_path(service))?;
        let program = self.setup.binary(&binary_name(service));
        let mut command = self.command(&program);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        let spawned_at = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let pid = child.id().context("the process has no id")?;
        self.processes.insert(
            service.as_str(),
            Process {
                child,
                pid,
                spawned_at,
            },
        );
        Ok(())
    }

    /// Waits for a spawned service's first `200` on `/readyz`; the time from its spawn to that answer.
    pub async fn wait_ready(&mut self, service: ServiceName) -> anyhow::Result<Duration> {
        let ready = self.wait_all_ready(&[service]).await?;
        ready
            .get(service.as_str())
            .copied()
            .with_context(|| format!("{service} readiness"))
    }

    /// Waits until each of `services` (spawned) answers `200` on `/readyz`, asking them all every 2 ms at once so
    /// that one's wait does not delay noticing another's; the time from each one's spawn to its first `200`.
    pub async fn wait_all_ready(
        &mut self,
        services: &[ServiceName],
    ) -> anyhow::Result<BTreeMap<&'static str, Duration>> {
        let mut ready = BTreeMap::new();
        loop {
            let waiting: Vec<ServiceName> = services
                .iter()
                .copied()
                .filter(|s| !ready.contains_key(s.as_str()))
                .collect();
            if waiting.is_empty() {
                return Ok(ready);
            }
            let answers = futures::future::join_all(waiting.iter().map(|service| {
                let request = self.client.get(format!("{}/readyz", self.url(*service)));
                async move {
                    let ok = matches!(request.send().await, Ok(r) if r.status().is_success());
                    (*service, ok, Instant::now())
                }
            }))
            .await;
            for (service, ok, at) in answers {
                let process = self
                    .processes
                    .get_mut(service.as_str())
                    .with_context(|| format!("{service} was not started"))?;
                if ok {
                    ready.insert(service.as_str(), at.duration_since(process.spawned_at));
                    continue;
                }
                if let Some(status) = process.child.try_wait()? {
                    bail!(
                        "{service} exited ({status}) before it was ready:\n{}",
                        self.log_tail(service)
                    );
                }
                if process.spawned_at.elapsed() > READY_TIMEOUT {
                    bail!(
                        "{service} not ready after {READY_TIMEOUT:?}:\n{}",
                        self.log_tail(service)
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Spawns all three at once and waits until each is ready: the time each took from its own spawn, and the time
    /// from the first spawn until the last was ready.
    pub async fn start_all(
        &mut self,
    ) -> anyhow::Result<(BTreeMap<&'static str, Duration>, Duration)> {
        let first = Instant::now();
        for service in ServiceName::ALL {
            self.spawn(service)?;
        }
        let ready = self.wait_all_ready(&ServiceName::ALL).await?;
        let all = ServiceName::ALL
            .iter()
            .filter_map(|s| {
                let process = self.processes.get(s.as_str())?;
                Some(process.spawned_at.duration_since(first) + ready.get(s.as_str()).copied()?)
            })
            .max()
            .unwrap_or_default();
        Ok((ready, all))
    }

    pub fn memory(&self, service: ServiceName) -> anyhow::Result<Memory> {
        let process = self
            .processes
            .get(service.as_str())
            .with_context(|| format!("{service} is not running"))?;
        Ok(mem::of_process(process.pid)?)
    }

    /// The running services' process ids, by name, with this process as `bench`.
    pub fn pids(&self) -> BTreeMap<String, u32> {
        let mut pids: BTreeMap<String, u32> = self
            .processes
            .iter()
            .map(|(name, p)| ((*name).to_owned(), p.pid))
            .collect();
        pids.insert("bench (load generator)".to_owned(), std::process::id());
        pids
    }

    /// Every running service's memory.
    pub fn memories(&self) -> BTreeMap<&'static str, Memory> {
        ServiceName::ALL
            .into_iter()
            .filter_map(|s| self.memory(s).ok().map(|m| (s.as_str(), m)))
            .collect()
    }

    /// The last lines of a service's log.
    pub fn log_tail(&self, service: ServiceName) -> String {
        let text = std::fs::read_to_string(self.log_path(service)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Lines of the services' logs at WARN or ERROR level (the configured filter lets nothing else through), for the
    /// report: how many per service.
    pub fn log_warnings(&self) -> BTreeMap<&'static str, usize> {
        ServiceName::ALL
            .into_iter()
            .map(|s| {
                let text = std::fs::read_to_string(self.log_path(s)).unwrap_or_default();
                let n = text
                    .lines()
                    .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                    .count();
                (s.as_str(), n)
            })
            .collect()
    }

    /// Creates an organiser account with `cloverleaf accounts create` (the password on standard input), on the
    /// registration database the services use.
    pub async fn create_organiser(&self, email: &str, password: &str) -> anyhow::Result<()> {
        let program = self.setup.binary("cloverleaf");
        let mut command = self.command(&program);
        command
            .args([
                "accounts",
                "create",
                "--email",
                email,
                "--name",
                "Bench Organiser",
                "--role",
                "organiser",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(format!("{password}\n").as_bytes()).await?;
        }
        let output = child.wait_with_output().await?;
        if !output.status.success() {
            bail!(
                "cloverleaf accounts create failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }

    /// Stops every service (SIGTERM, then SIGKILL after 15 s), then drops the PostgreSQL databases and deletes the
    /// data directory (unless kept). Services that did not stop cleanly are named in the error.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        let processes = std::mem::take(&mut self.processes);
        for (name, process) in &processes {
            // Each service finishes its in-flight work on SIGTERM; `kill` is the portable way to send it.
            let sent = std::process::Command::new("kill")
                .args(["-TERM", &process.pid.to_string()])
                .status();
            if !matches!(sent, Ok(s) if s.success()) {
                problems.push(format!("{name}: SIGTERM could not be sent"));
            }
        }
        for (name, mut process) in processes {
            match tokio::time::timeout(Duration::from_secs(15), process.child.wait()).await {
                Ok(Ok(status)) if status.success() => {}
                Ok(Ok(status)) => problems.push(format!("{name} exited with {status}")),
                Ok(Err(error)) => problems.push(format!("{name}: {error}")),
                Err(_) => {
                    let _ = process.child.kill().await;
                    problems.push(format!("{name} did not stop within 15 s (killed)"));
                }
            }
        }
        for database in std::mem::take(&mut self.databases) {
            if let Err(error) = database.drop_now().await {
                problems.push(format!("{error:#}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("stopping: {}", problems.join("; "))
        }
    }
}
