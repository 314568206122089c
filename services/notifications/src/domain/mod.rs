//! The rules of the notifications service, free of I/O: validated types that can only hold valid values, and the state
//! changes they allow. Handlers in `crate::http` parse requests into these; `crate::store` persists them.

pub mod invites;
pub mod letters;
pub mod mime;
