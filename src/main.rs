//! The `runguard` command. The command line lives here, not in the library, so that embedders
//! do not depend on clap.

mod cli;

/// A plan of a thousand workloads makes millions of small strings and vectors, many freed soon
/// after: with glibc's allocator, allocating and freeing (and its consolidation of freed chunks)
/// was a quarter of the time on the IAM-dense bench plan; mimalloc takes about a third of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
