//! The notifications service: owns the inbox of domain events, the email outbox and its delivery worker, calendar invites and reminders.
//!
//! [`build`] makes the whole service from settings — database, migrations, routes, background work — so the binary,
//! `cloverleaf serve` and the tests all start the same thing. Layout: `http/` (routes), `domain/` (rules),
//! `store/` (database), `jobs/` (background work: inbox worker, delivery worker, reminder job), `notify.rs` (what each
//! received domain event causes: which letters and invites go to whom), `directory.rs` (what is asked of scheduling
//! and registration).

use std::sync::Arc;

use cloverleaf_service_kit::clock::{self, SharedClock};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Service, ServiceBase, Settings, auth};

pub mod config;
pub mod directory;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod notify;
pub mod store;

pub use error::Error;

pub const NAME: ServiceName = ServiceName::Notifications;

pub async fn build(settings: Settings) -> Result<Service, Error> {
    build_with_clock(settings, clock::system()).await
}

/// [`build`] with the clock the reminder rules read (tests move it to make reminders due).
pub async fn build_with_clock(settings: Settings, clock: SharedClock) -> Result<Service, Error> {
    let base = ServiceBase::open::<store::migrations::Migrator>(settings, NAME).await?;
    let verifier = Arc::new(auth::verifier(&base.settings, NAME, None)?);
    let delivery = jobs::delivery::start(&base)?;
    let directory = directory::Directory::new(&base.settings)?;
    let event_teams = http::event_access::EventTeamsLookup::new(directory.clone());
    let notifier = notify::Notifier::new(
        base.db.clone(),
        &base.settings,
        directory,
        clock,
        delivery.clone(),
    )?;
    let inbox = jobs::inbox::start(&base, notifier.clone())?;
    jobs::reminders::start(&base, notifier)?;
    let state = http::AppState {
        db: base.db.clone(),
        verifier,
        delivery,
        inbox,
        event_teams,
    };
    let (api, openapi) = http::router(state).split_for_parts();
    Ok(base.into_service(api, openapi))
}
