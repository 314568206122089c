//! Tokens one service presents to another, minted on demand and reused until shortly before they expire.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AuthError;
use crate::issuer::{TokenIssuer, TokenRequest};

pub struct ServiceTokens {
    issuer: TokenIssuer,
    caller: String,
    ttl: Duration,
    cache: Mutex<HashMap<String, (String, Instant)>>,
}

impl std::fmt::Debug for ServiceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceTokens")
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl ServiceTokens {
    /// `caller` names the calling service (the token's `sub`).
    pub fn new(issuer: TokenIssuer, caller: impl Into<String>) -> Self {
        Self {
            issuer,
            caller: caller.into(),
            ttl: Duration::from_secs(300),
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// A token for the service whose audience is `audience`; a cached one while more than a fifth of its life (and at
    /// least the verifiers' leeway) remains, so a token never expires on the wire.
    pub fn token_for(&self, audience: &str) -> Result<String, AuthError> {
        let margin = (self.ttl / 5)
            .max(Duration::from_secs(1))
            .min(Duration::from_secs(60));
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| AuthError::Issue("token cache poisoned".into()))?;
        if let Some((token, expires)) = cache.get(audience)
            && Instant::now() + margin < *expires
        {
            return Ok(token.clone());
        }
        let issued = self
            .issuer
            .issue(TokenRequest::service(&self.caller, audience, self.ttl))?;
        cache.insert(
            audience.to_owned(),
            (issued.token.clone(), Instant::now() + issued.expires_in),
        );
        Ok(issued.token)
    }
}
