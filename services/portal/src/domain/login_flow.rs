//! The rules of "log in with the institution's account" (OpenID Connect authorization code flow with PKCE), without
//! I/O: the PKCE pair (RFC 7636, S256), `state` and `nonce`, and the short-lived cookie that keeps them between the
//! redirect to the institution and its redirect back — sealed with an HMAC under `portal.login_key`, so a visitor can
//! read but never change or forge it, and it is good for [`ATTEMPT_TTL_SECS`] only.
//!
//! Why no `openidconnect` crate: its releases pin an `oauth2`/`reqwest` pair other than the workspace's reqwest
//! 0.12 (two HTTP stacks in one binary), and the flow needs only discovery, one redirect and one token call. The ID
//! token's signature, issuer, audience and expiry are checked by registration (`POST /v1/auth/oidc`, with
//! jsonwebtoken against the issuer's JWKS); its `nonce` is checked here, against the sealed attempt.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// How long the visitor has at the institution's login page before the attempt runs out (seconds).
pub const ATTEMPT_TTL_SECS: i64 = 600;

/// A random value of 32 bytes, base64url (43 characters): PKCE verifiers, states, nonces, keys.
pub fn random_value() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// One login under way: what the browser's return must match, and what the token call needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAttempt {
    /// Which configured issuer (its place among those offering a login).
    pub issuer: usize,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// Where to go after the login (a local path).
    pub next: String,
    /// Unix seconds after which the attempt is refused.
    pub expires_at: i64,
}

impl LoginAttempt {
    /// A fresh attempt with issuer `issuer`, starting at `now` (Unix seconds).
    pub fn start(issuer: usize, next: String, now: i64) -> Self {
        Self {
            issuer,
            state: random_value(),
            nonce: random_value(),
            verifier: random_value(),
            next,
            expires_at: now + ATTEMPT_TTL_SECS,
        }
    }

    pub fn challenge(&self) -> String {
        pkce_challenge(&self.verifier)
    }
}

/// Why a return from the institution is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("no login is under way in this browser (or its cookie was changed)")]
    NoAttempt,
    #[error("the login took too long")]
    Expired,
    #[error("the state does not match this browser's login")]
    WrongState,
    #[error("the ID token's nonce does not match this browser's login")]
    WrongNonce,
    #[error("the ID token cannot be read")]
    UnreadableIdToken,
}

/// Seals and opens [`LoginAttempt`]s under one key.
#[derive(Clone)]
pub struct AttemptSeal {
    key: [u8; 32],
}

impl std::fmt::Debug for AttemptSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AttemptSeal(..)")
    }
}

impl AttemptSeal {
    /// The seal under a configured secret (any length), derived with SHA-256 under a fixed context so the same
    /// secret used elsewhere never gives the same key.
    pub fn new(secret: &[u8]) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"cloverleaf portal login attempt v1\0");
        hash.update(secret);
        Self {
            key: hash.finalize().into(),
        }
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
    }

    /// `base64url(json).base64url(hmac)`: only cookie-safe characters.
    pub fn seal(&self, attempt: &LoginAttempt) -> String {
        let json = serde_json::to_vec(attempt).unwrap_or_default();
        let body = URL_SAFE_NO_PAD.encode(json);
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{body}.{tag}")
    }

    /// The attempt in a cookie, if it is ours, unchanged and not expired at `now`.
    pub fn open(&self, sealed: &str, now: i64) -> Result<LoginAttempt, FlowError> {
        let (body, tag) = sealed.split_once('.').ok_or(FlowError::NoAttempt)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| FlowError::NoAttempt)?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&tag).map_err(|_| FlowError::NoAttempt)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| FlowError::NoAttempt)?;
        let attempt: LoginAttempt =
            serde_json::from_slice(&json).map_err(|_| FlowError::NoAttempt)?;
        if now > attempt.expires_at {
            return Err(FlowError::Expired);
        }
        Ok(attempt)
    }
}

/// Same bytes, in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl LoginAttempt {
    /// The `state` the institution sent back is this attempt's.
    pub fn check_state(&self, returned: &str) -> Result<(), FlowError> {
        if same(&self.state, returned) {
            Ok(())
        } else {
            Err(FlowError::WrongState)
        }
    }

    /// The ID token carries this attempt's nonce. Read without checking the signature: registration checks that
    /// next, and refuses the token unless it is the issuer's own.
    pub fn check_nonce(&self, id_token: &str) -> Result<(), FlowError> {
        #[derive(Deserialize)]
        struct Nonce {
            nonce: Option<String>,
        }
        let payload = id_token
            .split('.')
            .nth(1)
            .ok_or(FlowError::UnreadableIdToken)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| FlowError::UnreadableIdToken)?;
        let claims: Nonce =
            serde_json::from_slice(&bytes).map_err(|_| FlowError::UnreadableIdToken)?;
        match claims.nonce {
            Some(nonce) if same(&nonce, &self.nonce) => Ok(()),
            _ => Err(FlowError::WrongNonce),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_with(claims: serde_json::Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_sealed_attempt_opens_only_unchanged_with_its_key_and_in_time() {
        let seal = AttemptSeal::new(b"secret");
        let attempt = LoginAttempt::start(1, "/organiser".to_owned(), 1_000);
        let sealed = seal.seal(&attempt);
        assert!(
            sealed
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
        assert_eq!(seal.open(&sealed, 1_000), Ok(attempt.clone()));
        assert_eq!(seal.open(&sealed, 1_000 + 601), Err(FlowError::Expired));
        assert_eq!(
            AttemptSeal::new(b"other").open(&sealed, 1_000),
            Err(FlowError::NoAttempt)
        );
        // Another attempt's body under this one's tag.
        let other = seal.seal(&LoginAttempt::start(0, "/".to_owned(), 1_000));
        let forged = format!(
            "{}.{}",
            other.split('.').next().unwrap_or_default(),
            sealed.split('.').nth(1).unwrap_or_default()
        );
        assert_eq!(seal.open(&forged, 1_000), Err(FlowError::NoAttempt));
        assert_eq!(seal.open("garbage", 1_000), Err(FlowError::NoAttempt));
    }

    #[test]
    fn state_and_nonce_must_match() {
        let attempt = LoginAttempt::start(0, "/organiser".to_owned(), 0);
        assert_eq!(attempt.check_state(&attempt.state.clone()), Ok(()));
        assert_eq!(attempt.check_state("x"), Err(FlowError::WrongState));
        let good = token_with(serde_json::json!({ "nonce": attempt.nonce }));
        assert_eq!(attempt.check_nonce(&good), Ok(()));
        let bad = token_with(serde_json::json!({ "nonce": "other" }));
        assert_eq!(attempt.check_nonce(&bad), Err(FlowError::WrongNonce));
        let none = token_with(serde_json::json!({ "sub": "x" }));
        assert_eq!(attempt.check_nonce(&none), Err(FlowError::WrongNonce));
        assert_eq!(
            attempt.check_nonce("not a token"),
            Err(FlowError::UnreadableIdToken)
        );
    }

    #[test]
    fn fresh_values_differ() {
        let a = LoginAttempt::start(0, "/".to_owned(), 0);
        assert_ne!(a.state, a.nonce);
        assert_ne!(a.nonce, a.verifier);
        assert_eq!(a.verifier.len(), 43, "RFC 7636 asks for 43–128 characters");
    }
}
