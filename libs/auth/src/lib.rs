//! Authentication for Cloverleaf: Ed25519 (EdDSA) JSON Web Tokens, and RS256 ones from external OpenID Connect
//! issuers only (institutions' ID tokens and access tokens).
//!
//! - [`keys`]: Ed25519 key pairs with a `kid`, loaded from PEM (file or environment) or generated; the JWKS document.
//! - [`TokenIssuer`]: issues access, manage and service tokens.
//! - [`Verifier`]: checks signature (EdDSA only — the algorithm is never read from the token), `exp`, `nbf`, `iss`,
//!   `aud`, with keys from configuration or a cached JWKS URL ([`RemoteJwks`]).
//! - [`extract`]: axum extractors that put the access rule in the handler's signature.
//! - [`ServiceTokens`]: mints and caches the tokens one service presents to another.

pub mod claims;
pub mod error;
pub mod extract;
pub mod issuer;
pub mod jwks;
pub mod keys;
pub mod service_tokens;
pub mod teams;
pub mod verifier;

pub use claims::{Claims, Role};
pub use error::{AuthError, KeyError};
pub use extract::{
    Admin, Authenticated, ManageToken, Organiser, RegistrationAccess, ServiceCaller, Staff, Viewer,
};
pub use issuer::{IssuedToken, TokenIssuer, TokenRequest};
pub use jwks::RemoteJwks;
pub use keys::{SigningKey, VerifyingKey, jwk_keys, jwks_document};
pub use service_tokens::ServiceTokens;
pub use teams::{Action, Denied, EventTeams, TeamGrant, TeamRole, access};
pub use verifier::{KeySource, RoleMapping, TrustedIssuer, Verifier};

/// The audience (`aud`) of each service: a token is accepted only by the services named in its audience.
pub mod audience {
    pub const REGISTRATION: &str = "cloverleaf-registration";
    pub const SCHEDULING: &str = "cloverleaf-scheduling";
    pub const NOTIFICATIONS: &str = "cloverleaf-notifications";
    /// What an organiser's access token is good for: every service.
    pub const ALL: [&str; 3] = [REGISTRATION, SCHEDULING, NOTIFICATIONS];
}

/// Largest clock skew tolerated between services, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 60;
