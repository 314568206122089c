//! Organiser and admin accounts, free of I/O: what a valid account is (a lower-case email address, a one-line name, a
//! role, a password of 12–1024 characters), password hashing with argon2id, what an admin may not do to their own
//! account, and the login slow-down — after [`SLOW_AFTER_FAILURES`] consecutive failures for an address (from
//! anywhere) each further attempt is answered later, [`FIRST_DELAY`] doubling per failure up to [`LONGEST_DELAY`].
//! It never refuses: a guesser cannot lock a real organiser out. Refusing (429) is left to the limits per client
//! address and per account and client address (`http::limits`), which a guesser elsewhere cannot drain.

use std::sync::LazyLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::TimeDelta;
use cloverleaf_auth::Role;
use cloverleaf_service_kit::validate::{self, EmailAddress};
use serde::{Deserialize, Serialize};

/// Consecutive failed logins for one address after which every further attempt is slowed down. Only a successful
/// login resets the count.
pub const SLOW_AFTER_FAILURES: i32 = 5;
/// How much later the first slowed-down attempt is answered; each further failure doubles it.
pub const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest a slowed-down attempt waits, however many failures came before.
pub const LONGEST_DELAY: Duration = Duration::from_secs(8);
/// Failures older than this are forgotten (so addresses tried once do not pile up).
pub const FORGET_FAILURES_AFTER: TimeDelta = TimeDelta::days(1);

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 1024;
pub const NAME_MAX_CHARS: usize = 200;
pub use cloverleaf_service_kit::validate::EMAIL_MAX_OCTETS;

pub use cloverleaf_service_kit::validate::Invalid;

/// What an account may do. Participants and services have no accounts.
/// Stored as its name (the `accounts.role` column, a string of at most 16 characters).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(
    rs_type = "String",
    db_type = "String(sea_orm::sea_query::StringLen::N(16))"
)]
pub enum AccountRole {
    #[sea_orm(string_value = "organiser")]
    Organiser,
    #[sea_orm(string_value = "admin")]
    Admin,
}

/// A role reads as its stored name: `role == "admin"`.
impl PartialEq<&str> for AccountRole {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl AccountRole {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        match value.trim() {
            "organiser" => Ok(Self::Organiser),
            "admin" => Ok(Self::Admin),
            _ => Err(Invalid::new("invalid_role", "must be organiser or admin")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organiser => "organiser",
            Self::Admin => "admin",
        }
    }

    /// The role its access tokens carry.
    pub fn token_role(self) -> Role {
        match self {
            Self::Organiser => Role::Organiser,
            Self::Admin => Role::Admin,
        }
    }
}

/// The key an address is looked up and throttled under: trimmed and lower-cased, not otherwise checked (a login
/// with a malformed address fails like any unknown one).
pub fn login_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// An account's email address: one `@`, a local part, a domain with a dot, no spaces, at most 254 octets, stored
/// lower-case so that `Li.Wei@Example.org` and `li.wei@example.org` are one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEmail(String);

impl AccountEmail {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        EmailAddress::parse(value).map(|email| Self(email.key()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A person's name on an account: trimmed, one line, 1–200 characters, no control characters.
pub fn account_name(value: &str) -> Result<String, Invalid> {
    validate::line(value, NAME_MAX_CHARS)
}

/// A new password, as given (spaces are part of it): 12–1024 characters. It never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(value: impl Into<String>) -> Result<Self, Invalid> {
        let value = value.into();
        let chars = value.chars().count();
        if chars == 0 {
            return Err(Invalid::new("required", "must not be empty"));
        }
        if chars < PASSWORD_MIN_CHARS {
            return Err(Invalid::new(
                "too_short",
                format!("must be at least {PASSWORD_MIN_CHARS} characters"),
            ));
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(Invalid::new(
                "too_long",
                format!("must be at most {PASSWORD_MAX_CHARS} characters"),
            ));
        }
        Ok(Self(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// The argon2id (v19, the crate's default cost) PHC string of `password`, with a fresh random salt. CPU-heavy: run
/// it on a blocking thread.
pub fn hash_password(password: &Password) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `hash` (with the parameters the hash names). A malformed hash matches
/// nothing. CPU-heavy: run it on a blocking thread.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of a random password made with the same parameters as real ones. A login for an unknown address is
/// checked against it, so it takes as long as a login with a wrong password and does not tell which addresses have
/// accounts.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut secret = [0_u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let random = Password(secret.iter().map(|b| format!("{b:02x}")).collect());
    hash_password(&random).unwrap_or_default()
});

/// [`verify_password`] against the account's hash, or against [`DUMMY_HASH`] (always false) when there is no account.
pub fn verify_login(hash: Option<&str>, password: &str) -> bool {
    match hash {
        Some(hash) => verify_password(hash, password),
        None => {
            let _ = verify_password(&DUMMY_HASH, password);
            false
        }
    }
}

/// The slow-down's state for one address: consecutive failures (attempts in flight count as failures until they
/// succeed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    pub failures: i32,
}

impl LoginFailures {
    /// Decides on one more attempt and gives the state to store before it is checked: how much later to answer it.
    /// The attempt is counted as a failure at once (a success resets the count afterwards), so parallel attempts
    /// cannot all slip past the threshold before any of them is counted. Never a refusal.
    pub fn attempt(self) -> (Duration, Self) {
        let delay = match u32::try_from(self.failures - SLOW_AFTER_FAILURES) {
            Ok(doublings) => FIRST_DELAY
                .checked_mul(2_u32.saturating_pow(doublings.min(16)))
                .unwrap_or(LONGEST_DELAY)
                .min(LONGEST_DELAY),
            Err(_) => Duration::ZERO,
        };
        (
            delay,
            Self {
                failures: self.failures.saturating_add(1),
            },
        )
    }
}

/// What an admin asks to change about an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    pub name: Option<String>,
    pub role: Option<AccountRole>,
    pub disabled: Option<bool>,
}

/// An admin may not lock themselves out: neither disable their own account nor take their own admin role away
/// (there would be nobody left to undo it). Gives the offending field and why.
pub fn own_account_change(
    current_role: AccountRole,
    change: &AccountChange,
) -> Result<(), (&'static str, &'static str)> {
    if change.disabled == Some(true) {
        return Err(("disabled", "you cannot disable your own account"));
    }
    if current_role == AccountRole::Admin && change.role == Some(AccountRole::Organiser) {
        return Err(("role", "you cannot take away your own admin role"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            AccountEmail::parse(" Li.Wei@Example.ORG ")
                .expect("ok")
                .as_str(),
            "li.wei@example.org"
        );
        for bad in [
            "",
            "no-at",
            "a@b",
            "a b@c.org",
            "@c.org",
            "a@.org",
            "a@b..org",
        ] {
            assert!(AccountEmail::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(login_key("  A@B.Org\n"), "a@b.org");
    }

    #[test]
    fn passwords_are_12_to_1024_characters_and_never_print() {
        assert_eq!(Password::parse("").expect_err("empty").code, "required");
        assert_eq!(
            Password::parse("short pass!").expect_err("11").code,
            "too_short"
        );
        assert!(Password::parse("twelve chars").is_ok());
        assert!(
            Password::parse("密码".repeat(6)).is_ok(),
            "counts characters"
        );
        assert!(Password::parse("x".repeat(1024)).is_ok());
        assert_eq!(
            Password::parse("x".repeat(1025)).expect_err("long").code,
            "too_long"
        );
        let password = Password::parse("correct horse battery").expect("ok");
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn hashes_are_argon2id_and_verify_only_the_right_password() {
        let password = Password::parse("correct horse battery").expect("ok");
        let hash = hash_password(&password).expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password("not a hash", "correct horse battery"));
        assert!(!verify_login(None, "correct horse battery"));
        assert!(verify_login(Some(&hash), "correct horse battery"));
        let again = hash_password(&password).expect("hash");
        assert_ne!(hash, again, "each hash has its own salt");
    }

    #[test]
    fn logins_slow_down_after_5_failures_doubling_up_to_8_seconds_and_are_never_refused() {
        let mut state = LoginFailures::default();
        let mut delays = Vec::new();
        for _ in 0..12 {
            let (delay, next) = state.attempt();
            delays.push(delay.as_secs());
            state = next;
        }
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 8, 8, 8]);
        assert_eq!(state.failures, 12);
        let (delay, _) = LoginFailures { failures: i32::MAX }.attempt();
        assert_eq!(delay, LONGEST_DELAY);
    }

    #[test]
    fn admins_cannot_disable_or_demote_themselves() {
        let demote = AccountChange {
            role: Some(AccountRole::Organiser),
            ..AccountChange::default()
        };
        let disable = AccountChange {
            disabled: Some(true),
            ..AccountChange::default()
        };
        let rename = AccountChange {
            name: Some("New name".into()),
            role: Some(AccountRole::Admin),
            disabled: Some(false),
        };
        assert_eq!(
            own_account_change(AccountRole::Admin, &demote)
                .expect_err("demote")
                .0,
            "role"
        );
        assert_eq!(
            own_account_change(AccountRole::Admin, &disable)
                .expect_err("disable")
                .0,
            "disabled"
        );
        assert!(own_account_change(AccountRole::Admin, &rename).is_ok());
        assert_eq!(
            AccountRole::parse("organiser").expect("ok"),
            AccountRole::Organiser
        );
        assert!(AccountRole::parse("participant").is_err());
    }
}
