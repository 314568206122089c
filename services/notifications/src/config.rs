//! The notifications service's own settings: `[mail]`, `[inbox]` and `[reminders]`, read from the same layers as the
//! common settings (`config/*.toml`, `CLOVERLEAF__MAIL__…`), see [`Settings::section`].

use std::path::PathBuf;

use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::config::ConfigError;
use cloverleaf_service_kit::retry::RetryPolicy;
use secrecy::SecretString;
use serde::Deserialize;

/// Everything only notifications reads.
#[derive(Debug, Clone)]
pub struct NotificationsSettings {
    pub mail: MailSettings,
    pub inbox: InboxSettings,
    pub reminders: ReminderSettings,
}

impl NotificationsSettings {
    /// Reads and checks the service's sections.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let mail: MailSettings = settings.section("mail")?;
        mail.validate()?;
        Ok(Self {
            mail,
            inbox: settings.section("inbox")?,
            reminders: settings.section("reminders")?,
        })
    }
}

/// Where the file transport writes `.eml` files.
pub fn mail_dir(settings: &Settings) -> PathBuf {
    settings.data_dir.join("mail")
}

/// Where the notifications service sends email: an SMTP relay, or `.eml` files under `<data_dir>/mail` (development).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    File,
    Smtp,
}

/// How the connection to the SMTP relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on localhost or inside the cluster, or tests).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587); refuses relays that do not offer it.
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

/// The notifications service's email delivery (see its `jobs::delivery`).
#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    pub transport: MailTransport,
    #[serde(default)]
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: SmtpSecurity,
    /// Empty: no authentication.
    #[serde(default)]
    pub smtp_username: String,
    #[serde(default = "empty_secret")]
    pub smtp_password: SecretString,
    pub from_name: String,
    /// The From address, and the envelope sender (where bounces go).
    pub from_email: String,
    /// The right-hand side of every Message-ID.
    pub message_id_domain: String,
    /// Tries per message, the first included; a message still failing after them is marked failed.
    pub max_attempts: u32,
    /// The pause after the first failed try, doubled after each further one…
    pub initial_backoff_ms: u64,
    /// …up to this (then ±20% jitter).
    pub max_backoff_secs: u64,
    /// How long a claimed message belongs to the worker that claimed it; a crashed worker's messages are tried
    /// again after this. Must exceed `send_timeout_secs`.
    pub lease_secs: u64,
    /// Messages claimed per round.
    pub batch_size: u32,
    /// How often the worker looks for due messages when nobody wakes it.
    pub poll_interval_ms: u64,
    /// SMTP connections kept open to the relay, and messages sent at once.
    pub pool_max_connections: u32,
    /// Longest wait for the relay during one message.
    pub send_timeout_secs: u64,
    /// A folder whose files replace the built-in email templates of the same name (e.g. `zh-CN/confirmed.txt`);
    /// empty: the built-in ones.
    #[serde(default)]
    pub templates_dir: String,
}

impl MailSettings {
    /// The pauses between a message's tries (at most `max_attempts`, counted in the message's row).
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::from_settings(self.initial_backoff_ms, self.max_backoff_secs)
    }
}

/// How notifications works through the domain events it received (see its `jobs::inbox`).
#[derive(Debug, Clone, Deserialize)]
pub struct InboxSettings {
    /// How often the worker looks for unprocessed events when nobody wakes it.
    pub poll_interval_ms: u64,
    /// Events claimed per round; each programme event's are handled in order, different events side by side.
    pub batch_size: u32,
    /// How many programme events' inbox queues are worked on at once.
    pub concurrency: usize,
    /// How long a claimed event belongs to the worker that claimed it.
    pub lease_secs: u64,
    /// The pause after the first failed try (another service unreachable), doubled up to `max_backoff_secs`.
    pub initial_backoff_ms: u64,
    pub max_backoff_secs: u64,
}

impl InboxSettings {
    /// The pauses between an inbox event's tries (it is never given up).
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::from_settings(self.initial_backoff_ms, self.max_backoff_secs)
    }
}

/// When reminders go out: minutes before the start, per kind of event.
#[derive(Debug, Clone, Deserialize)]
pub struct ReminderSettings {
    pub webinar_minutes: Vec<i64>,
    pub workshop_minutes: Vec<i64>,
    pub tour_minutes: Vec<i64>,
    /// How often the reminder job looks for due reminders.
    pub poll_interval_ms: u64,
    /// How long a claimed reminder belongs to the job that claimed it (a reminder found late — the service was
    /// down at its time — is still sent while the event has not started; after that it is dropped).
    pub lease_secs: u64,
}

impl ReminderSettings {
    /// The offsets for a kind of event (`webinar`, `workshop`, `tour`).
    pub fn minutes_for(&self, kind: &str) -> &[i64] {
        match kind {
            "webinar" => &self.webinar_minutes,
            "workshop" => &self.workshop_minutes,
            "tour" => &self.tour_minutes,
            _ => &[],
        }
    }
}

impl MailSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: &str| ConfigError::Invalid {
            field: format!("mail.{field}"),
            message: message.into(),
        };
        let mail = self;
        if mail.transport == MailTransport::Smtp {
            if mail.smtp_host.trim().is_empty() {
                return Err(invalid(
                    "smtp_host",
                    "must name the SMTP relay when transport is smtp",
                ));
            }
            if mail.smtp_port == 0 {
                return Err(invalid("smtp_port", "must be a port number (1-65535)"));
            }
        }
        let email = mail.from_email.trim();
        let valid_email = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && (domain.contains('.') || domain == "localhost")
        }) && !email.contains(char::is_whitespace);
        if !valid_email {
            return Err(invalid(
                "from_email",
                "must be an address like no-reply@example.org",
            ));
        }
        if mail.from_name.chars().any(char::is_control) {
            return Err(invalid("from_name", "must be one line"));
        }
        let domain = mail.message_id_domain.trim();
        if domain.is_empty()
            || !domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(invalid(
                "message_id_domain",
                "must be a host name like mail.example.org",
            ));
        }
        for (field, value) in [
            ("max_attempts", u64::from(mail.max_attempts)),
            ("batch_size", u64::from(mail.batch_size)),
            ("poll_interval_ms", mail.poll_interval_ms),
            ("initial_backoff_ms", mail.initial_backoff_ms),
            ("pool_max_connections", u64::from(mail.pool_max_connections)),
            ("send_timeout_secs", mail.send_timeout_secs),
        ] {
            if value == 0 {
                return Err(invalid(field, "must be at least 1"));
            }
        }
        if mail.max_backoff_secs.saturating_mul(1000) < mail.initial_backoff_ms {
            return Err(invalid(
                "max_backoff_secs",
                "must be at least mail.initial_backoff_ms",
            ));
        }
        if mail.lease_secs <= mail.send_timeout_secs {
            return Err(invalid(
                "lease_secs",
                "must be longer than mail.send_timeout_secs, or a slow relay could outlive the claim",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn mail_settings_are_checked_and_the_password_redacted() {
        let dir = tempfile::tempdir().expect("dir");
        let settings = Settings::load_from(
            dir.path(),
            "test",
            &[
                ("mail.transport", "smtp".into()),
                ("mail.smtp_host", "smtp.example.org".into()),
                ("mail.smtp_password", "hunter2".into()),
            ],
        )
        .expect("load");
        let settings = NotificationsSettings::from_settings(&settings).expect("valid");
        assert_eq!(settings.mail.transport, MailTransport::Smtp);
        assert_eq!(settings.mail.smtp_password.expose_secret(), "hunter2");
        assert!(!format!("{settings:?}").contains("hunter2"));
        for (key, value) in [
            ("mail.smtp_host", ""),
            ("mail.from_email", "not an address"),
            ("mail.message_id_domain", "bad domain"),
            ("mail.max_attempts", "0"),
            ("mail.batch_size", "0"),
            ("mail.lease_secs", "1"),
        ] {
            let settings = Settings::load_from(
                dir.path(),
                "test",
                &[
                    ("mail.transport", "smtp".into()),
                    ("mail.smtp_host", "smtp.example.org".into()),
                    (key, value.into()),
                ],
            )
            .expect("load");
            let error = NotificationsSettings::from_settings(&settings).expect_err(key);
            assert!(error.to_string().contains(key), "{key}: {error}");
        }
    }
}
