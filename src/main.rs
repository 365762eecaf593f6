//! The `triggerd` binary: see `triggerd --help`.

fn main() -> std::process::ExitCode {
    triggerd::cli::main()
}
