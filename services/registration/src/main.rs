//! The registration service on its own, as deployed in production. Everything but starting lives in the library.

fn main() -> std::process::ExitCode {
    cloverleaf_service_kit::server::main(
        cloverleaf_registration::NAME,
        cloverleaf_registration::build,
    )
}
