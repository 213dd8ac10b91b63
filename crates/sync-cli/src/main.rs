//! The `sync-cli` binary: see the library for the commands.

fn main() -> std::process::ExitCode {
    sync_cli::main_with(std::env::args_os())
}
