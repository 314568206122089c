//! Background work of the notifications service, spawned by [`crate::build`] on the service's task tracker and
//! stopped by its shutdown token.
//!
//! - [`inbox`]: handles the received domain events (through [`crate::notify`]), in order per programme event.
//! - [`delivery`]: sends queued messages (SMTP or files), with leases, retries and backoff.
//! - [`reminders`]: sends due reminders.

pub mod delivery;
pub mod inbox;
pub mod reminders;
