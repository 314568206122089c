//! The scheduling service: owns events, agenda items, people, venues, tour itineraries, change history and .ics feeds.
//!
//! [`build`] makes the whole service from settings — database, migrations, routes, background work — so the binary,
//! `cloverleaf serve` and the tests all start the same thing. Layout: `http/` (routes), `domain/` (rules),
//! `store/` (database).

use std::sync::Arc;

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Service, ServiceBase, Settings, auth};

pub mod domain;
pub mod error;
pub mod http;
pub mod store;

pub use error::Error;

pub const NAME: ServiceName = ServiceName::Scheduling;

pub async fn build(settings: Settings) -> Result<Service, Error> {
    let base = ServiceBase::open::<store::migrations::Migrator>(settings, NAME).await?;
    let verifier = Arc::new(auth::verifier(&base.settings, NAME, None)?);
    let outbox = base.start_outbox_relay()?;
    let state = http::AppState {
        db: base.db.clone(),
        verifier,
        outbox,
        feeds: Arc::new(http::feed_cache::FeedCache::new(
            http::feeds::FEED_CACHE_FEEDS,
            http::feeds::FEED_CACHE_BYTES,
        )),
    };
    let (api, openapi) = http::router(state).split_for_parts();
    Ok(base.into_service(api, openapi))
}
