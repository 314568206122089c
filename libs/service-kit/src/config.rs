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
    pub telemetry: TelemetrySettings,
    pub http: HttpSettings,
    pub auth: AuthSettings,
    pub edge: EdgeSettings,
    pub registration: ServiceSettings,
    pub scheduling: ServiceSettings,
    pub notifications: ServiceSettings,
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

/// An OpenID Connect issuer (e.g. an institution's Keycloak) whose EdDSA tokens are accepted for people.
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalIssuerSettings {
    pub issuer: String,
    pub jwks_url: String,
    pub role_claim: String,
    /// Claim value → `organiser` or `admin`.
    pub roles: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EdgeSettings {
    pub listen: String,
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
    pub max_connections: u32,
    /// Apply pending migrations at start-up. Production runs them once, as a separate step (`cloverleaf migrate`),
    /// and replicas stay unready until they are applied.
    #[serde(default = "yes")]
    pub migrate_on_start: bool,
}

fn yes() -> bool {
    true
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
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .add_source(File::from(dir.join(format!("{profile}.toml"))).required(false))
            .add_source(
                Environment::with_prefix("CLOVERLEAF")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("auth.previous_signing_key_files")
                    .try_parsing(true),
            )
            .set_override("profile", profile)?;
        for (key, value) in overrides {
            builder = builder.set_override(*key, value.as_str())?;
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
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
