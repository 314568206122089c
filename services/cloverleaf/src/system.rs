//! The whole system in one process, as `cloverleaf serve` runs it: the three services, each with its own HTTP
//! server, database and port, talking to each other over HTTP exactly as in production, the portal (the web pages,
//! on its own port, calling the services over HTTP too), plus the edge router in front of them all.

use std::net::SocketAddr;
use std::time::Duration;

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{RunningService, Service, Settings};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::edge;

#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error("cannot listen on {addr} for {what}: {source}")]
    Bind {
        what: &'static str,
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}: {1}")]
    Build(ServiceName, String),
    #[error("portal: {0}")]
    Portal(String),
    #[error("{0}")]
    Stop(String),
    #[error(transparent)]
    Edge(#[from] edge::EdgeSetupError),
}

pub struct RunningSystem {
    pub settings: Settings,
    pub edge_addr: SocketAddr,
    pub services: Vec<RunningService>,
    pub portal: Option<cloverleaf_portal::RunningPortal>,
    edge_shutdown: CancellationToken,
    edge: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn bind(what: &'static str, addr: &str) -> Result<TcpListener, SystemError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| SystemError::Bind {
            what,
            addr: addr.to_owned(),
            source,
        })
}

async fn build(name: ServiceName, settings: Settings) -> Result<Service, SystemError> {
    let built = match name {
        ServiceName::Registration => cloverleaf_registration::build(settings)
            .await
            .map_err(|e| e.to_string()),
        ServiceName::Scheduling => cloverleaf_scheduling::build(settings)
            .await
            .map_err(|e| e.to_string()),
        ServiceName::Notifications => cloverleaf_notifications::build(settings)
            .await
            .map_err(|e| e.to_string()),
    };
    built.map_err(|e| SystemError::Build(name, e))
}

/// Binds every port first (so port 0 works and each service knows where the others are), then builds and serves.
pub async fn start(mut settings: Settings) -> Result<RunningSystem, SystemError> {
    let mut listeners = Vec::new();
    for name in ServiceName::ALL {
        let listener = bind(name.as_str(), &settings.service(name).listen).await?;
        let addr = listener.local_addr().map_err(|source| SystemError::Bind {
            what: name.as_str(),
            addr: String::new(),
            source,
        })?;
        let service = settings.service_mut(name);
        service.listen = addr.to_string();
        // In one process the services reach each other on loopback, whatever URL production would use.
        let reachable = if addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], addr.port()))
        } else {
            addr
        };
        service.url = format!("http://{reachable}");
        listeners.push((name, listener));
    }
    if settings.auth.jwks_url.is_empty() {
        // The other services learn people's signing keys the production way: from registration's JWKS.
        settings.auth.jwks_url = format!(
            "{}/.well-known/jwks.json",
            settings.service_url(ServiceName::Registration)
        );
    }
    let portal_listener = bind("portal", &settings.portal.listen).await?;
    let portal_addr = portal_listener
        .local_addr()
        .map_err(|source| SystemError::Bind {
            what: "portal",
            addr: String::new(),
            source,
        })?;
    settings.portal.listen = portal_addr.to_string();
    settings.portal.url = format!(
        "http://{}",
        if portal_addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], portal_addr.port()))
        } else {
            portal_addr
        }
    );
    let edge_listener = bind("edge", &settings.edge.listen).await?;

    let mut services = Vec::new();
    for (name, listener) in listeners {
        match build(name, settings.clone()).await {
            Ok(service) => services.push(service.serve(listener)),
            Err(error) => {
                for running in services {
                    let _ = running.stop().await;
                }
                return Err(error);
            }
        }
    }

    let portal = match cloverleaf_portal::build(&settings) {
        Ok(portal) => portal.serve(portal_listener),
        Err(error) => {
            for running in services {
                let _ = running.stop().await;
            }
            return Err(SystemError::Portal(error.to_string()));
        }
    };

    let router = edge::router_from_settings(&settings)?;
    let edge_addr = edge_listener
        .local_addr()
        .map_err(|source| SystemError::Bind {
            what: "edge",
            addr: String::new(),
            source,
        })?;
    settings.edge.listen = edge_addr.to_string();
    let edge_shutdown = CancellationToken::new();
    let stop = edge_shutdown.clone();
    let edge = tokio::spawn(async move {
        axum::serve(
            edge_listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
    });
    Ok(RunningSystem {
        settings,
        edge_addr,
        services,
        portal: Some(portal),
        edge_shutdown,
        edge,
    })
}

impl RunningSystem {
    pub fn edge_url(&self) -> String {
        format!("http://{}", self.edge_addr)
    }

    pub fn service_url(&self, name: ServiceName) -> String {
        self.settings.service_url(name)
    }

    /// Where the portal listens (the edge serves its pages at every other path).
    pub fn portal_url(&self) -> String {
        self.settings.portal_url()
    }

    /// Stops the edge first (no new requests come in), then the portal and the services, each finishing what it has
    /// in flight.
    pub async fn stop(self) -> Result<(), SystemError> {
        self.edge_shutdown.cancel();
        let grace = Duration::from_secs(self.settings.http.shutdown_grace_secs);
        let edge = tokio::time::timeout(grace, self.edge).await;
        let portal = match self.portal {
            Some(portal) => portal.stop().await.map_err(|e| e.to_string()),
            None => Ok(()),
        };
        let stops =
            futures::future::join_all(self.services.into_iter().map(RunningService::stop)).await;
        let mut problems: Vec<String> = stops
            .into_iter()
            .filter_map(Result::err)
            .map(|e| e.to_string())
            .collect();
        if let Err(problem) = portal {
            problems.push(problem);
        }
        if !matches!(edge, Ok(Ok(Ok(())))) {
            problems.push("edge did not stop cleanly".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SystemError::Stop(problems.join("; ")))
        }
    }
}

/// Applies every service's migrations to its configured database.
pub async fn migrate(settings: &Settings) -> Result<(), SystemError> {
    use cloverleaf_service_kit::db;
    for name in ServiceName::ALL {
        let fail = |e: String| SystemError::Build(name, e);
        let conn = db::connect(&settings.database_url(name), 1)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let applied = match name {
            ServiceName::Registration => {
                db::migrate::<cloverleaf_registration::store::migrations::Migrator>(&conn).await
            }
            ServiceName::Scheduling => {
                db::migrate::<cloverleaf_scheduling::store::migrations::Migrator>(&conn).await
            }
            ServiceName::Notifications => {
                db::migrate::<cloverleaf_notifications::store::migrations::Migrator>(&conn).await
            }
        };
        applied.map_err(|e| fail(e.to_string()))?;
        tracing::info!(service = name.as_str(), "migrations applied");
    }
    Ok(())
}
