//! The notifications service: owns the inbox of domain events, the email outbox and its delivery worker, calendar invites and reminders.
//!
//! [`build`] makes the whole service from settings — database, migrations, routes, background work — so the binary,
//! `cloverleaf serve` and the tests all start the same thing. Layout: `http/` (routes), `domain/` (rules),
//! `store/` (database), `jobs/` (background work: the delivery worker).

use std::sync::Arc;

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Service, ServiceBase, Settings, auth};

pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod store;

pub use error::Error;

pub const NAME: ServiceName = ServiceName::Notifications;

pub async fn build(settings: Settings) -> Result<Service, Error> {
    let base = ServiceBase::open::<store::migrations::Migrator>(settings, NAME).await?;
    let verifier = Arc::new(auth::verifier(&base.settings, NAME, None)?);
    let delivery = jobs::delivery::start(&base)?;
    let state = http::AppState {
        db: base.db.clone(),
        verifier,
        delivery,
    };
    let (api, openapi) = http::router(state).split_for_parts();
    Ok(base.into_service(api, openapi))
}
