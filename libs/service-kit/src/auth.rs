//! The auth pieces a service needs, built from settings: its verifier, the service-token minter, and (for the
//! registration service, the issuer of people's tokens) the signing keys.

use std::sync::Arc;
use std::time::Duration;

use cloverleaf_auth::verifier::RoleMapping;
use cloverleaf_auth::{
    KeyError, KeySource, RemoteJwks, Role, ServiceTokens, SigningKey, TeamGrant, TeamRole,
    TokenIssuer, TrustedIssuer, Verifier,
};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{ExternalIssuerSettings, ServiceName, Settings};

#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("{setting}: {source}")]
    Key {
        setting: &'static str,
        source: KeyError,
    },
    #[error("{setting}: {message}")]
    Invalid { setting: String, message: String },
}

/// The keys that sign people's tokens: the current key, and retiring keys still published and accepted.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    pub current: SigningKey,
    pub previous: Vec<SigningKey>,
}

impl SigningKeys {
    pub fn all(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }
}

fn load_key(
    settings: &Settings,
    setting: &'static str,
    pem: Option<&SecretString>,
    file: &str,
    default_name: &str,
) -> Result<SigningKey, AuthSetupError> {
    let error = |source| AuthSetupError::Key { setting, source };
    if let Some(pem) = pem.filter(|p| !p.expose_secret().trim().is_empty()) {
        return SigningKey::from_pem(pem.expose_secret()).map_err(error);
    }
    let path = settings.key_path(file, default_name);
    if settings.auth.generate_missing_keys {
        SigningKey::load_or_generate(&path).map_err(error)
    } else {
        SigningKey::from_pem_file(&path).map_err(error)
    }
}

/// The people-token signing keys (`auth.signing_key_pem` / `auth.signing_key_file`, plus the previous ones).
pub fn signing_keys(settings: &Settings) -> Result<SigningKeys, AuthSetupError> {
    let auth = &settings.auth;
    let current = load_key(
        settings,
        "auth.signing_key_file",
        auth.signing_key_pem.as_ref(),
        &auth.signing_key_file,
        "signing.pem",
    )?;
    let previous = auth
        .previous_signing_key_files
        .iter()
        .map(|file| {
            SigningKey::from_pem_file(std::path::Path::new(file)).map_err(|source| {
                AuthSetupError::Key {
                    setting: "auth.previous_signing_key_files",
                    source,
                }
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(SigningKeys { current, previous })
}

/// The key all services sign service tokens with.
pub fn service_key(settings: &Settings) -> Result<SigningKey, AuthSetupError> {
    let auth = &settings.auth;
    load_key(
        settings,
        "auth.service_key_file",
        auth.service_key_pem.as_ref(),
        &auth.service_key_file,
        "service.pem",
    )
}

/// The issuer of people's tokens (the registration service uses it).
pub fn people_issuer(settings: &Settings, keys: &SigningKeys) -> TokenIssuer {
    TokenIssuer::new(settings.auth.issuer.clone(), keys.current.clone())
}

/// What service `name` presents when it calls another service.
pub fn service_tokens(
    settings: &Settings,
    name: ServiceName,
) -> Result<ServiceTokens, AuthSetupError> {
    let issuer = TokenIssuer::new(settings.auth.service_issuer.clone(), service_key(settings)?);
    Ok(ServiceTokens::new(issuer, name.as_str())
        .with_ttl(Duration::from_secs(settings.auth.service_token_ttl_secs)))
}

/// The verifier of service `name`. People's tokens are checked against `own_keys` when given (the registration
/// service, which signs them), else against the JWKS at `auth.jwks_url`, else against the configured signing key.
/// Service tokens are checked against the service key; only that issuer may grant the service role.
pub fn verifier(
    settings: &Settings,
    name: ServiceName,
    own_keys: Option<&SigningKeys>,
) -> Result<Verifier, AuthSetupError> {
    let auth = &settings.auth;
    let people_keys = match own_keys {
        Some(keys) => KeySource::from_keys(keys.all()),
        None if !auth.jwks_url.is_empty() => {
            KeySource::Remote(Arc::new(RemoteJwks::new(auth.jwks_url.clone())))
        }
        None => KeySource::from_keys(signing_keys(settings)?.all()),
    };
    let mut issuers = vec![
        TrustedIssuer::new(
            auth.issuer.clone(),
            people_keys,
            vec![Role::Admin, Role::Organiser, Role::Participant],
        ),
        TrustedIssuer::new(
            auth.service_issuer.clone(),
            KeySource::from_keys([&service_key(settings)?]),
            vec![Role::Service],
        ),
    ];
    for (index, external) in auth.external_issuers.iter().enumerate() {
        issuers.push(trusted_external(index, external)?);
    }
    Ok(Verifier::new(name.audience(), issuers).with_leeway(auth.leeway_secs))
}

/// An external issuer as a trusted issuer: its keys at its JWKS URL, its claim values mapped to roles and teams.
fn trusted_external(
    index: usize,
    external: &ExternalIssuerSettings,
) -> Result<TrustedIssuer, AuthSetupError> {
    let map = external
        .roles
        .iter()
        .map(|(value, role)| match role.as_str() {
            "organiser" => Ok((value.clone(), Role::Organiser)),
            "admin" => Ok((value.clone(), Role::Admin)),
            other => Err(AuthSetupError::Invalid {
                setting: format!("auth.external_issuers[{index}].roles.{value}"),
                message: format!(
                    "{other:?} is not a role an external issuer may grant (organiser, admin)"
                ),
            }),
        })
        .collect::<Result<_, _>>()?;
    let teams = external
        .teams
        .iter()
        .map(|(value, grant)| match TeamRole::parse(&grant.role) {
            Some(role) => Ok((
                value.clone(),
                TeamGrant {
                    team: grant.team,
                    role,
                },
            )),
            None => Err(AuthSetupError::Invalid {
                setting: format!("auth.external_issuers[{index}].teams.{value}.role"),
                message: format!(
                    "{:?} is not a team role (organiser, viewer, check_in)",
                    grant.role
                ),
            }),
        })
        .collect::<Result<_, _>>()?;
    Ok(TrustedIssuer {
        issuer: external.issuer.clone(),
        keys: KeySource::Remote(Arc::new(RemoteJwks::new(external.jwks_url.clone()))),
        roles: RoleMapping::External {
            claim: external.role_claim.clone(),
            map,
            teams,
        },
    })
}

/// The configured external issuer whose `issuer` is `issuer` (exactly, as ID tokens' `iss` must be).
pub fn external_issuer<'a>(
    settings: &'a Settings,
    issuer: &str,
) -> Option<&'a ExternalIssuerSettings> {
    settings
        .auth
        .external_issuers
        .iter()
        .find(|external| external.issuer == issuer)
}

/// One verifier per external issuer the portal logs people in with (a `client_id`): ID tokens are checked against
/// that issuer's keys only, with the client id as the audience, and its claims mapped as for its bearer tokens.
pub fn id_token_verifiers(settings: &Settings) -> Result<Vec<(String, Verifier)>, AuthSetupError> {
    settings
        .auth
        .external_issuers
        .iter()
        .enumerate()
        .filter(|(_, external)| external.offers_login())
        .map(|(index, external)| {
            let trusted = trusted_external(index, external)?;
            Ok((
                external.issuer.clone(),
                Verifier::new(external.client_id.trim(), vec![trusted])
                    .with_leeway(settings.auth.leeway_secs),
            ))
        })
        .collect()
}
