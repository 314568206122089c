//! The `cloverleaf` command: `serve` runs the whole system in one process (the three services and the edge router),
//! `migrate` applies every service's migrations, `edge` runs the edge router alone in front of services deployed
//! separately, `seed --demo` loads a demo programme through the HTTP API.

pub mod accounts;
pub mod cli;
pub mod demo;
pub mod edge;
pub mod system;
