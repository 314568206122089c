//! A real OpenID provider for the login tests: `node tests/oidc-provider/provider.mjs` (panva/oidc-provider from npm,
//! installed by `.ci/oidc-tools.sh`) on a loopback port, with one static client and the test accounts
//! `ana.events` (groups `charite-events`, `charite-staff`) and `nils.nobody` (`charite-staff` only). Started by the
//! test, ready once its discovery document answers, killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "cloverleaf-portal";
pub const CLIENT_SECRET: &str = "cloverleaf-test-secret";

pub struct OidcProvider {
    child: Child,
    pub issuer: String,
}

/// A loopback port free just now (for an issuer URL that must go into settings before the provider starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl OidcProvider {
    /// The issuer URL a provider started on `port` has.
    pub fn issuer_on(port: u16) -> String {
        format!("http://127.0.0.1:{port}")
    }

    /// Starts the provider on `port`, its client allowed to return to `redirect_uri`.
    pub async fn start(port: u16, redirect_uri: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc-provider");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is not installed: run `bash .ci/oidc-tools.sh`"
        );
        let node = std::env::var("CLOVERLEAF_NODE").unwrap_or_else(|_| "node".to_owned());
        let child = Command::new(&node)
            .arg("provider.mjs")
            .args(["--port", &port.to_string(), "--redirect-uri", redirect_uri])
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {node} provider.mjs: {e}"));
        let provider = Self {
            child,
            issuer: Self::issuer_on(port),
        };
        let discovery = format!("{}/.well-known/openid-configuration", provider.issuer);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(answer) = http.get(&discovery).send().await
                && answer.status().is_success()
            {
                return provider;
            }
            assert!(
                Instant::now() < deadline,
                "the OpenID provider did not answer at {discovery}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.issuer)
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
