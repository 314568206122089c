//! A JWKS fetched from a URL (Ed25519 and RSA keys, each with its algorithm): cached, refetched when a token names a `kid` the cache lacks, but never more often than
//! a minimum interval, so a flood of tokens with made-up `kid`s cannot turn into a flood of fetches.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use tokio::sync::{Mutex, RwLock};

use crate::error::AuthError;
use crate::keys::{VerifyingKey, jwk_keys};

pub struct RemoteJwks {
    url: String,
    client: reqwest::Client,
    /// Refetch no sooner than this after the previous fetch, even for an unknown `kid`.
    min_refetch: Duration,
    /// Refetch on the next lookup once the cache is this old, so retired keys drop out.
    max_age: Duration,
    cache: RwLock<Cache>,
    /// Single flight: one fetch at a time; others wait for it and then read the cache.
    fetching: Mutex<()>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, VerifyingKey>,
    fetched_at: Option<Instant>,
}

impl std::fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl RemoteJwks {
    pub fn new(url: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            url: url.into(),
            client,
            min_refetch: Duration::from_secs(5),
            max_age: Duration::from_secs(600),
            cache: RwLock::new(Cache::default()),
            fetching: Mutex::new(()),
        }
    }

    pub fn with_min_refetch(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The key named `kid`: from the cache, or after one (rate-limited) fetch. `Ok(None)` means the issuer does not
    /// have such a key.
    pub async fn key(&self, kid: &str) -> Result<Option<VerifyingKey>, AuthError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache
                .fetched_at
                .is_some_and(|at| at.elapsed() < self.max_age);
            if let Some(key) = cache.keys.get(kid).filter(|_| fresh) {
                return Ok(Some(key.clone()));
            }
        }
        let _flight = self.fetching.lock().await;
        {
            // Someone else may have fetched while we waited, or fetched too recently to try again.
            let cache = self.cache.read().await;
            if let Some(key) = cache.keys.get(kid)
                && cache
                    .fetched_at
                    .is_some_and(|at| at.elapsed() < self.max_age)
            {
                return Ok(Some(key.clone()));
            }
            if cache
                .fetched_at
                .is_some_and(|at| at.elapsed() < self.min_refetch)
            {
                return Ok(cache.keys.get(kid).cloned());
            }
        }
        match self.fetch().await {
            Ok(keys) => {
                let mut cache = self.cache.write().await;
                cache.keys = keys;
                cache.fetched_at = Some(Instant::now());
                Ok(cache.keys.get(kid).cloned())
            }
            Err(error) => {
                let mut cache = self.cache.write().await;
                // A failed fetch also counts against the interval: a down issuer is not hammered.
                cache.fetched_at = Some(Instant::now());
                match cache.keys.get(kid) {
                    // Stale but known: better than refusing everyone while the issuer is briefly down.
                    Some(key) => Ok(Some(key.clone())),
                    None => Err(error),
                }
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, VerifyingKey>, AuthError> {
        tracing::debug!(url = %self.url, "fetching JWKS");
        let unavailable =
            |e: reqwest::Error| AuthError::KeysUnavailable(format!("{}: {e}", self.url));
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        Ok(jwk_keys(&set).into_iter().collect())
    }
}
