fn main() -> std::process::ExitCode {
    runguard::cli::run()
}
