//! End-to-end suite: the real services started together, over real HTTP, on SQLite or PostgreSQL
//! (CLOVERLEAF_TEST_DATABASE_URL). The journeys live in `tests/`; this library starts the system for them:
//! [`TestSystem`] exactly as `cloverleaf serve` runs it, and [`Journey`] — the same services one by one, so a test can
//! stop and restart each, with a real SMTP server and a clock the test moves; [`browser::Browser`] drives headless
//! Chromium through the portal's pages.

pub mod browser;
pub mod journey;
pub mod oidc;

pub use journey::Journey;

use cloverleaf::system::{self, RunningSystem};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::{TestDatabase, settings};

/// The whole system on free ports, each service with a fresh database of its own.
pub struct TestSystem {
    pub system: Option<RunningSystem>,
    pub databases: Vec<TestDatabase>,
    pub dir: tempfile::TempDir,
}

impl TestSystem {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let mut settings = settings(dir.path());
        let mut databases = Vec::new();
        for name in ServiceName::ALL {
            let database = TestDatabase::create(dir.path(), name).await;
            settings.service_mut(name).database_url = database.url().clone();
            databases.push(database);
        }
        let system = system::start(settings).await.expect("system starts");
        Self {
            system: Some(system),
            databases,
            dir,
        }
    }

    pub fn running(&self) -> &RunningSystem {
        self.system.as_ref().expect("running")
    }

    pub fn edge(&self, path: &str) -> String {
        format!("{}{path}", self.running().edge_url())
    }

    pub async fn stop(&mut self) {
        if let Some(system) = self.system.take() {
            system.stop().await.expect("stops cleanly");
        }
    }
}
