//! Settings, read in layers: the defaults compiled in from `config/default.toml`, then `config/<profile>.toml`, then
//! environment variables `CLOVERLEAF__SECTION__KEY` (so `CLOVERLEAF__REGISTRATION__DATABASE_URL=postgres://…`).
//! Database URLs and key PEMs are secrets: they print as `[REDACTED]`, so settings can be logged whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../../../config/default.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {field}: {message}")]
    Invalid { field: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// The profile these settings were read for (development, test, production…).
    #[serde(default)]
    pub profile: String,
    pub data_dir: PathBuf,
    /// The address people reach Cloverleaf at (the edge, or the portal in front of it): links in emails start here.
    pub public_url: String,
    pub telemetry: TelemetrySettings,
    pub http: HttpSettings,
    pub auth: AuthSettings,
    pub edge: EdgeSettings,
    pub registration: ServiceSettings,
    pub scheduling: ServiceSettings,
    pub notifications: ServiceSettings,
    /// The portal (server-rendered pages, `cloverleaf-portal`): only `listen` and `url` apply — it has no database and
    /// sends no domain events.
    pub portal: ServiceSettings,
    pub outbox: OutboxSettings,
    /// Every layer as read, for the sections only one service knows (its `mail`, `rate_limit`…), which that service
    /// reads with [`Settings::section`].
    #[serde(skip)]
    layers: Layers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
    pub shutdown_grace_secs: u64,
    /// The proxies (addresses or networks) whose `X-Forwarded-For` the services and the portal believe: the edge's
    /// and the portal's addresses. Anyone else's is ignored (see [`crate::forwarded`]).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

impl HttpSettings {
    /// [`HttpSettings::trusted_proxies`], parsed (checked when the settings were loaded).
    pub fn trusted_proxies(&self) -> crate::forwarded::TrustedProxies {
        crate::forwarded::TrustedProxies::parse(&self.trusted_proxies).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub issuer: String,
    pub service_issuer: String,
    #[serde(default)]
    pub jwks_url: String,
    #[serde(default)]
    pub signing_key_file: String,
    #[serde(default)]
    pub signing_key_pem: Option<SecretString>,
    #[serde(default)]
    pub previous_signing_key_files: Vec<String>,
    #[serde(default)]
    pub service_key_file: String,
    #[serde(default)]
    pub service_key_pem: Option<SecretString>,
    pub generate_missing_keys: bool,
    pub access_token_ttl_secs: u64,
    pub service_token_ttl_secs: u64,
    pub leeway_secs: u64,
    #[serde(default)]
    pub external_issuers: Vec<ExternalIssuerSettings>,
}

/// An OpenID Connect issuer (e.g. an institution's Keycloak) whose tokens (EdDSA or RS256) are accepted for people,
/// and — when it has a `client_id` — whose login the portal offers ("Log in with <name>").
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalIssuerSettings {
    pub issuer: String,
    pub jwks_url: String,
    /// The institution's name on the portal's login button ("Charité"); empty: the issuer's host.
    #[serde(default)]
    pub name: String,
    /// The portal's client at this issuer (authorization code flow); empty: no login button, bearer tokens only.
    /// ID tokens must name it as their audience.
    #[serde(default)]
    pub client_id: String,
    /// The client's secret, given here (from the environment:
    /// `CLOVERLEAF__AUTH__EXTERNAL_ISSUERS__0__CLIENT_SECRET`) or …
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// … read from the environment variable of this name (so a secret store can mount it under its own name).
    #[serde(default)]
    pub client_secret_env: String,
    pub role_claim: String,
    /// Claim value → `organiser` or `admin`.
    pub roles: BTreeMap<String, String>,
    /// Claim value → a membership of one team (`{ team = "<team id>", role = "organiser" | "viewer" | "check_in" }`):
    /// the institution's groups become Cloverleaf teams. A value mapped here and not in `roles` still admits its
    /// holder, as an organiser account whose rights are its teams'.
    #[serde(default)]
    pub teams: BTreeMap<String, ExternalTeamSettings>,
}

impl ExternalIssuerSettings {
    /// Whether the portal offers a login with this issuer.
    pub fn offers_login(&self) -> bool {
        !self.client_id.trim().is_empty()
    }

    /// The name shown on the login button.
    pub fn display_name(&self) -> String {
        if !self.name.trim().is_empty() {
            return self.name.trim().to_owned();
        }
        url::Url::parse(&self.issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| self.issuer.clone())
    }

    /// The client secret: `client_secret`, else the variable `client_secret_env` names; `None` for a public client.
    pub fn client_secret(&self) -> Option<SecretString> {
        if let Some(secret) = self
            .client_secret
            .as_ref()
            .filter(|s| !s.expose_secret().is_empty())
        {
            return Some(secret.clone());
        }
        let name = self.client_secret_env.trim();
        if name.is_empty() {
            return None;
        }
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(SecretString::from)
    }
}

/// One team membership an external issuer's claim value grants.
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalTeamSettings {
    pub team: uuid::Uuid,
    pub role: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EdgeSettings {
    pub listen: String,
    /// Several instances of a service behind the edge (empty: the service's `url`): requests go round-robin, and one
    /// that cannot connect to an instance is sent to the next. From the environment as a comma-separated list.
    #[serde(default)]
    pub registration_instances: Vec<String>,
    #[serde(default)]
    pub scheduling_instances: Vec<String>,
    #[serde(default)]
    pub notifications_instances: Vec<String>,
    /// Instances of the portal, which the edge sends every path that is not `/v1/…`, `/.well-known/…` or
    /// `/services/…` (empty: `portal.url`).
    #[serde(default)]
    pub portal_instances: Vec<String>,
    /// Proxies in front of the edge (a load balancer) whose `X-Forwarded-For` the edge believes; empty: the edge is
    /// the first hop and each caller is its own address.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The operator credential for the edge's `/metrics` and `/services/<name>/…` (sent as
    /// `Authorization: Bearer <token>`). Empty: the edge does not serve them at all (404); operators reach each
    /// service directly. A secret.
    #[serde(default = "empty_secret")]
    pub operator_token: SecretString,
}

impl EdgeSettings {
    /// [`EdgeSettings::trusted_proxies`], parsed (checked when the settings were loaded).
    pub fn trusted_proxies(&self) -> crate::forwarded::TrustedProxies {
        crate::forwarded::TrustedProxies::parse(&self.trusted_proxies).unwrap_or_default()
    }

    /// The instances configured for a service (may be empty).
    pub fn instances(&self, name: ServiceName) -> &[String] {
        match name {
            ServiceName::Registration => &self.registration_instances,
            ServiceName::Scheduling => &self.scheduling_instances,
            ServiceName::Notifications => &self.notifications_instances,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSettings {
    pub listen: String,
    /// The base URL other services call this one at; empty → `http://<listen>`.
    #[serde(default)]
    pub url: String,
    /// Empty → SQLite at `<data_dir>/<service>.db`.
    #[serde(default = "empty_secret")]
    pub database_url: SecretString,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Apply pending migrations at start-up. Production runs them once, as a separate step (`cloverleaf migrate`),
    /// and replicas stay unready until they are applied.
    #[serde(default = "yes")]
    pub migrate_on_start: bool,
    /// The services whose `/v1/inbox` receives this service's domain events (service names). This is the list a
    /// service passes to [`crate::outbox::enqueue`]; [`Settings::subscribers`] gives it as [`ServiceName`]s.
    #[serde(default)]
    pub subscribers: Vec<String>,
}

/// How the outbox relay delivers domain events to subscribers (see [`crate::outbox::relay`]).
#[derive(Debug, Clone, Deserialize)]
pub struct OutboxSettings {
    /// How often the relay looks for due deliveries when nobody wakes it.
    pub poll_interval_ms: u64,
    /// Deliveries claimed per round.
    pub batch_size: u32,
    /// The pause after the first failed attempt; doubled after each further failure…
    pub initial_backoff_ms: u64,
    /// …up to this (then ±20% jitter). The relay never gives up.
    pub max_backoff_secs: u64,
    /// How long a claimed delivery belongs to the replica that claimed it; a crashed replica's claims are retried
    /// after this. Must exceed `request_timeout_secs`.
    pub lease_secs: u64,
    /// Longest wait for a subscriber's answer to one POST.
    pub request_timeout_secs: u64,
    /// How many aggregates' deliveries (to one subscriber each) are posted at once; one aggregate's events to one
    /// subscriber are still posted one after another, in order.
    pub concurrency: usize,
}

impl OutboxSettings {
    /// The pauses between a delivery's tries.
    pub fn retry_policy(&self) -> crate::retry::RetryPolicy {
        crate::retry::RetryPolicy::from_settings(self.initial_backoff_ms, self.max_backoff_secs)
    }
}

/// The layers settings were read from (defaults, profile file, environment, overrides), kept so that a service can
/// read its own sections from the same sources, plus keys set later (tests) with [`Settings::set`].
#[derive(Clone, Default)]
struct Layers {
    read: Option<Config>,
    set: Vec<(String, config::Value)>,
}

/// Layers hold secrets in the clear (a service's SMTP password…): printed settings show none of them.
impl std::fmt::Debug for Layers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[layers]")
    }
}

impl Settings {
    /// A section only one service knows (`mail`, `rate_limit`…), read from the same layers as the rest: the defaults
    /// in `config/default.toml`, the profile file, `CLOVERLEAF__<SECTION>__<KEY>`, overrides and [`Settings::set`].
    /// The service defines the type (and checks its values).
    pub fn section<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        let mut builder = Config::builder();
        if let Some(read) = &self.layers.read {
            builder = builder.add_source(read.clone());
        }
        for (key, value) in &self.layers.set {
            builder = builder.set_override(key, value.clone())?;
        }
        Ok(builder.build()?.get(name)?)
    }

    /// [`Settings::section`], or the type's default when the section is missing altogether.
    pub fn section_or_default<T: serde::de::DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> Result<T, ConfigError> {
        match self.section(name) {
            Err(ConfigError::Load(config::ConfigError::NotFound(_))) => Ok(T::default()),
            other => other,
        }
    }

    /// Sets one key of a service's own section (`"mail.smtp_port"`), as an override on top of every layer: how tests
    /// change what [`Settings::section`] reads. (The common part is changed through its fields.)
    pub fn set(&mut self, key: &str, value: impl Into<config::Value>) -> &mut Self {
        self.layers.set.push((key.to_owned(), value.into()));
        self
    }
}

fn yes() -> bool {
    true
}

fn default_max_connections() -> u32 {
    10
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

/// The three services, by the name used in configuration sections, URLs and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceName {
    Registration,
    Scheduling,
    Notifications,
}

impl ServiceName {
    pub const ALL: [ServiceName; 3] = [Self::Registration, Self::Scheduling, Self::Notifications];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Scheduling => "scheduling",
            Self::Notifications => "notifications",
        }
    }

    /// The `aud` of tokens meant for this service.
    pub fn audience(self) -> &'static str {
        match self {
            Self::Registration => cloverleaf_auth::audience::REGISTRATION,
            Self::Scheduling => cloverleaf_auth::audience::SCHEDULING,
            Self::Notifications => cloverleaf_auth::audience::NOTIFICATIONS,
        }
    }
}

impl std::str::FromStr for ServiceName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|name| name.as_str() == s)
            .ok_or_else(|| {
                format!("{s:?} is not a service (registration, scheduling, notifications)")
            })
    }
}

/// A server's name ([`crate::RunningService::name`]) compares with the service it may be.
impl PartialEq<ServiceName> for &str {
    fn eq(&self, other: &ServiceName) -> bool {
        *self == other.as_str()
    }
}

impl std::fmt::Display for ServiceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Settings {
    /// Reads the settings for the profile named by `CLOVERLEAF_PROFILE` (default `development`) from the directory
    /// named by `CLOVERLEAF_CONFIG_DIR` (default `./config`; a missing directory or file is skipped).
    pub fn load() -> Result<Self, ConfigError> {
        let profile =
            std::env::var("CLOVERLEAF_PROFILE").unwrap_or_else(|_| "development".to_owned());
        let dir = std::env::var("CLOVERLEAF_CONFIG_DIR").unwrap_or_else(|_| "config".to_owned());
        Self::load_from(Path::new(&dir), &profile, &[])
    }

    /// Reads the layers from `dir` for `profile`, then `overrides` (key, value) on top of the environment — how the
    /// command line and tests set single keys.
    pub fn load_from(
        dir: &Path,
        profile: &str,
        overrides: &[(&str, String)],
    ) -> Result<Self, ConfigError> {
        Self::load_with_environment(dir, profile, overrides, None)
    }

    /// [`Settings::load_from`] with `environment` in place of the process environment when given (for tests: the
    /// process environment cannot be changed safely while other tests run).
    fn load_with_environment(
        dir: &Path,
        profile: &str,
        overrides: &[(&str, String)],
        environment: Option<config::Map<String, String>>,
    ) -> Result<Self, ConfigError> {
        let mut environment = Environment::with_prefix("CLOVERLEAF")
            .prefix_separator("__")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("auth.previous_signing_key_files")
            .with_list_parse_key("edge.registration_instances")
            .with_list_parse_key("edge.scheduling_instances")
            .with_list_parse_key("edge.notifications_instances")
            .with_list_parse_key("edge.portal_instances")
            .with_list_parse_key("edge.trusted_proxies")
            .with_list_parse_key("http.trusted_proxies")
            .try_parsing(true)
            .source(environment);
        for name in ServiceName::ALL {
            environment = environment.with_list_parse_key(&format!("{name}.subscribers"));
        }
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .add_source(File::from(dir.join(format!("{profile}.toml"))).required(false))
            .add_source(environment)
            .set_override("profile", profile)?;
        for (key, value) in overrides {
            builder = builder.set_override(*key, value.as_str())?;
        }
        let read = builder.build()?;
        let mut settings: Settings = read.clone().try_deserialize()?;
        settings.layers.read = Some(read);
        settings.normalise();
        settings.validate()?;
        Ok(settings)
    }

    /// `CLOVERLEAF__NOTIFICATIONS__SUBSCRIBERS=` (empty) reads as one empty name: lists drop blank entries.
    fn normalise(&mut self) {
        for name in ServiceName::ALL {
            let subscribers = &mut self.service_mut(name).subscribers;
            for subscriber in subscribers.iter_mut() {
                *subscriber = subscriber.trim().to_owned();
            }
            subscribers.retain(|s| !s.is_empty());
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: &str| ConfigError::Invalid {
            field: field.into(),
            message: message.into(),
        };
        for name in ServiceName::ALL {
            let service = self.service(name);
            if service.listen.parse::<std::net::SocketAddr>().is_err() {
                return Err(invalid(
                    &format!("{name}.listen"),
                    "must be an address like 127.0.0.1:8081",
                ));
            }
            if service.max_connections == 0 {
                return Err(invalid(
                    &format!("{name}.max_connections"),
                    "must be at least 1",
                ));
            }
            let field = format!("{name}.subscribers");
            for (index, subscriber) in service.subscribers.iter().enumerate() {
                let subscriber = subscriber
                    .parse::<ServiceName>()
                    .map_err(|message| invalid(&field, &message))?;
                if subscriber == name {
                    return Err(invalid(&field, "a service does not subscribe to itself"));
                }
                if service.subscribers[..index].contains(&service.subscribers[index]) {
                    return Err(invalid(&field, &format!("{subscriber} is listed twice")));
                }
            }
        }
        for (field, list) in [
            ("http.trusted_proxies", &self.http.trusted_proxies),
            ("edge.trusted_proxies", &self.edge.trusted_proxies),
        ] {
            crate::forwarded::TrustedProxies::parse(list)
                .map_err(|message| invalid(field, &message))?;
        }
        let outbox = &self.outbox;
        if outbox.poll_interval_ms == 0 {
            return Err(invalid("outbox.poll_interval_ms", "must be at least 1"));
        }
        if outbox.batch_size == 0 {
            return Err(invalid("outbox.batch_size", "must be at least 1"));
        }
        if outbox.concurrency == 0 {
            return Err(invalid("outbox.concurrency", "must be at least 1"));
        }
        if outbox.initial_backoff_ms == 0 {
            return Err(invalid("outbox.initial_backoff_ms", "must be at least 1"));
        }
        if outbox.max_backoff_secs.saturating_mul(1000) < outbox.initial_backoff_ms {
            return Err(invalid(
                "outbox.max_backoff_secs",
                "must be at least outbox.initial_backoff_ms",
            ));
        }
        if outbox.request_timeout_secs == 0 {
            return Err(invalid("outbox.request_timeout_secs", "must be at least 1"));
        }
        if outbox.lease_secs <= outbox.request_timeout_secs {
            return Err(invalid(
                "outbox.lease_secs",
                "must be longer than outbox.request_timeout_secs, or a slow answer could outlive the claim",
            ));
        }
        if self.portal.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "portal.listen",
                "must be an address like 127.0.0.1:8084",
            ));
        }
        if self.edge.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "edge.listen",
                "must be an address like 127.0.0.1:8080",
            ));
        }
        if self.auth.leeway_secs > cloverleaf_auth::MAX_LEEWAY_SECS {
            return Err(invalid("auth.leeway_secs", "must be at most 60"));
        }
        Ok(())
    }

    pub fn service(&self, name: ServiceName) -> &ServiceSettings {
        match name {
            ServiceName::Registration => &self.registration,
            ServiceName::Scheduling => &self.scheduling,
            ServiceName::Notifications => &self.notifications,
        }
    }

    pub fn service_mut(&mut self, name: ServiceName) -> &mut ServiceSettings {
        match name {
            ServiceName::Registration => &mut self.registration,
            ServiceName::Scheduling => &mut self.scheduling,
            ServiceName::Notifications => &mut self.notifications,
        }
    }

    /// The services that receive `name`'s domain events (validated names, so none is lost here).
    pub fn subscribers(&self, name: ServiceName) -> Vec<ServiceName> {
        self.service(name)
            .subscribers
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// The database URL of a service, with the SQLite default under the data directory filled in.
    pub fn database_url(&self, name: ServiceName) -> SecretString {
        let configured = self.service(name).database_url.expose_secret();
        if configured.is_empty() {
            let path = self.data_dir.join(format!("{}.db", name.as_str()));
            SecretString::from(format!("sqlite://{}?mode=rwc", path.display()))
        } else {
            SecretString::from(configured.to_owned())
        }
    }

    /// The base URL at which other services reach `name`.
    pub fn service_url(&self, name: ServiceName) -> String {
        let service = self.service(name);
        if service.url.is_empty() {
            format!("http://{}", service.listen)
        } else {
            service.url.trim_end_matches('/').to_owned()
        }
    }

    /// The base URL at which the edge reaches the portal.
    pub fn portal_url(&self) -> String {
        if self.portal.url.is_empty() {
            format!("http://{}", self.portal.listen)
        } else {
            self.portal.url.trim_end_matches('/').to_owned()
        }
    }

    /// A key file setting, or its default under `<data_dir>/keys/`.
    pub fn key_path(&self, configured: &str, default_name: &str) -> PathBuf {
        if configured.is_empty() {
            self.data_dir.join("keys").join(default_name)
        } else {
            PathBuf::from(configured)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_then_profile_then_environment_then_overrides() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("staging.toml"),
            "[registration]\nmax_connections = 3\nlisten = \"127.0.0.1:9001\"\n",
        )
        .expect("write");
        let settings = Settings::load_from(
            dir.path(),
            "staging",
            &[("registration.listen", "127.0.0.1:9002".into())],
        )
        .expect("load");
        assert_eq!(settings.profile, "staging");
        assert_eq!(
            settings.registration.max_connections, 3,
            "profile file overrides defaults"
        );
        assert_eq!(
            settings.registration.listen, "127.0.0.1:9002",
            "overrides win over the profile"
        );
        assert_eq!(
            settings.scheduling.listen, "127.0.0.1:8082",
            "defaults fill the rest"
        );
        assert_eq!(
            settings.service_url(ServiceName::Registration),
            "http://127.0.0.1:9002"
        );
        let url = settings.database_url(ServiceName::Scheduling);
        assert!(
            url.expose_secret()
                .starts_with("sqlite://data/scheduling.db")
        );
    }

    #[test]
    fn secrets_are_redacted_when_settings_are_printed() {
        let dir = tempfile::tempdir().expect("dir");
        let settings = Settings::load_from(
            dir.path(),
            "test",
            &[(
                "registration.database_url",
                "postgres://app:hunter2@db/registration".into(),
            )],
        )
        .expect("load");
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert_eq!(
            settings
                .database_url(ServiceName::Registration)
                .expose_secret(),
            "postgres://app:hunter2@db/registration"
        );
    }

    #[test]
    fn subscribers_have_defaults_and_can_be_set_from_the_environment() {
        let dir = tempfile::tempdir().expect("dir");
        let settings = Settings::load_from(dir.path(), "test", &[]).expect("load");
        assert_eq!(
            settings.subscribers(ServiceName::Registration),
            vec![ServiceName::Notifications]
        );
        assert_eq!(
            settings.subscribers(ServiceName::Scheduling),
            vec![ServiceName::Notifications, ServiceName::Registration]
        );
        assert!(settings.subscribers(ServiceName::Notifications).is_empty());

        // A list from one variable (comma-separated), and an empty variable meaning "none".
        let environment = [
            (
                "CLOVERLEAF__SCHEDULING__SUBSCRIBERS",
                "notifications, registration",
            ),
            ("CLOVERLEAF__REGISTRATION__SUBSCRIBERS", ""),
            ("CLOVERLEAF__NOTIFICATIONS__SUBSCRIBERS", "scheduling"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let settings = Settings::load_with_environment(dir.path(), "test", &[], Some(environment))
            .expect("load");
        assert_eq!(
            settings.subscribers(ServiceName::Scheduling),
            vec![ServiceName::Notifications, ServiceName::Registration]
        );
        assert!(settings.subscribers(ServiceName::Registration).is_empty());
        assert_eq!(settings.notifications.subscribers, vec!["scheduling"]);
    }

    #[test]
    fn a_subscriber_must_be_another_known_service() {
        let dir = tempfile::tempdir().expect("dir");
        for value in ["notification", "notifications,notifications", "scheduling"] {
            let environment = std::iter::once((
                "CLOVERLEAF__SCHEDULING__SUBSCRIBERS".to_owned(),
                value.to_owned(),
            ))
            .collect();
            let error = Settings::load_with_environment(dir.path(), "test", &[], Some(environment))
                .expect_err(value);
            assert!(
                error.to_string().contains("scheduling.subscribers"),
                "{value}: {error}"
            );
        }
    }

    #[test]
    fn outbox_settings_are_checked() {
        let dir = tempfile::tempdir().expect("dir");
        // (No profile file in `dir`: the compiled-in defaults.)
        let settings = Settings::load_from(dir.path(), "test", &[]).expect("load");
        assert_eq!(settings.outbox.poll_interval_ms, 500, "the default");
        assert_eq!(settings.outbox.batch_size, 100);
        assert_eq!(settings.outbox.concurrency, 8);
        for (key, value) in [
            ("outbox.batch_size", "0"),
            ("outbox.concurrency", "0"),
            ("outbox.poll_interval_ms", "0"),
            ("outbox.lease_secs", "1"),
        ] {
            let error =
                Settings::load_from(dir.path(), "test", &[(key, value.into())]).expect_err(key);
            assert!(error.to_string().contains(key), "{error}");
        }
    }

    #[test]
    fn a_bad_value_names_its_field() {
        let dir = tempfile::tempdir().expect("dir");
        let error = Settings::load_from(
            dir.path(),
            "test",
            &[("scheduling.listen", "not-an-address".into())],
        )
        .expect_err("invalid");
        assert!(error.to_string().contains("scheduling.listen"), "{error}");
        let error = Settings::load_from(dir.path(), "test", &[("auth.leeway_secs", "600".into())])
            .expect_err("invalid");
        assert!(error.to_string().contains("auth.leeway_secs"), "{error}");
    }
}
