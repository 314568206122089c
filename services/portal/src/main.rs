//! The portal on its own, as deployed in production. Everything but starting lives in the library.

fn main() -> std::process::ExitCode {
    cloverleaf_portal::main()
}
