//! The `runguard` command. The command line lives here, not in the library, so that embedders
//! do not depend on clap.

mod cli;

/// mimalloc rather than the system allocator: an analysis makes and frees millions of small
/// strings and lists on two threads, which glibc's malloc spent a third of the IAM-dense plan's
/// time on (README, "Performance"). The library leaves the choice to its embedders. THP stays
/// off (`no_thp`): huge pages backing its arenas raised a 100 MB plan's peak RSS by a quarter.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
