//! The notifications service on its own, as deployed in production. Everything but starting lives in the library.

fn main() -> std::process::ExitCode {
    cloverleaf_service_kit::server::main(
        cloverleaf_notifications::NAME,
        cloverleaf_notifications::build,
    )
}
