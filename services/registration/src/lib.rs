//! The registration service: owns accounts, signing keys, registration forms, registrations, waiting lists and check-ins.
//!
//! [`build`] makes the whole service from settings — database, migrations, routes, background work — so the binary,
//! `cloverleaf serve` and the tests all start the same thing. Layout: `http/` (routes), `domain/` (rules),
//! `store/` (database).

use std::sync::Arc;

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Service, ServiceBase, Settings, auth};

pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod scheduling;
pub mod store;

pub use error::Error;

pub const NAME: ServiceName = ServiceName::Registration;

pub async fn build(settings: Settings) -> Result<Service, Error> {
    let base = ServiceBase::open::<store::migrations::Migrator>(settings, NAME).await?;
    // This service signs people's tokens, so it checks them against its own keys and publishes their public halves.
    let signing_keys = auth::signing_keys(&base.settings)?;
    let verifier = Arc::new(auth::verifier(&base.settings, NAME, Some(&signing_keys))?);
    let issuer = Arc::new(auth::people_issuer(&base.settings, &signing_keys));
    // Short manage tokens are keyed by the signing keys: the current one makes them, retiring ones still open them.
    let secrets = signing_keys
        .all()
        .map(|key| key.to_pem())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| auth::AuthSetupError::Key {
            setting: "auth.signing_key_file",
            source,
        })?;
    let manage_keys = Arc::new(domain::manage_token::ManageKeys::derive(
        secrets.iter().map(|pem| pem.as_bytes()),
    ));
    let check_in_keys = Arc::new(domain::manage_token::CheckInKeys::derive(
        secrets.iter().map(|pem| pem.as_bytes()),
    ));
    let outbox = base.start_outbox_relay()?;
    let events = scheduling::EventDirectory::new(&base.settings)?;
    let state = http::AppState {
        db: base.db.clone(),
        verifier,
        id_tokens: Arc::new(auth::id_token_verifiers(&base.settings)?),
        signing_keys: Arc::new(signing_keys),
        issuer,
        manage_keys,
        check_in_keys,
        settings: Arc::new(base.settings.clone()),
        desk: store::desk::RegistrationDesk::open(base.db.clone(), outbox.subscribers().to_vec()),
        outbox,
        events,
        limits: Arc::new(http::limits::Limits::new(
            &config::RateLimitSettings::from_settings(&base.settings)
                .map_err(cloverleaf_service_kit::StartupError::from)?,
        )),
        trusted_proxies: base.settings.http.trusted_proxies(),
    };
    let (api, openapi) = http::router(state).split_for_parts();
    Ok(base.into_service(api, openapi))
}
