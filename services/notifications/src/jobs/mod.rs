//! Background work of the notifications service, spawned by [`crate::build`] on the service's task tracker and
//! stopped by its shutdown token.
//!
//! - [`delivery`]: sends queued messages (SMTP or files), with leases, retries and backoff.

pub mod delivery;
