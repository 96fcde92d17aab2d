//! The `runguard` command. The command line lives here, not in the library, so that embedders
//! do not depend on clap.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
