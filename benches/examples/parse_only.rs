//! The floor of `sync-cli diff`: read the two files as the CLI does (large files are mapped,
//! not copied) and parse them, one per thread, and nothing else.
//!
//! `cargo run --release -p sync-benches --example parse_only -- PREVIOUS CURRENT`

use std::process::ExitCode;

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let [previous, current] = paths.as_slice() else {
        eprintln!("usage: parse_only PREVIOUS CURRENT");
        return ExitCode::from(2);
    };
    let count = |path: &str| -> Result<usize, String> {
        let bytes = sync_cli::read_export(path.as_ref()).map_err(|e| format!("{e:#}"))?;
        let payload = sync_core::parse(&bytes).map_err(|e| format!("{path}: {e}"))?;
        Ok(payload.contracts.len())
    };
    let (a, b) = rayon::join(|| count(previous), || count(current));
    match (a, b) {
        (Ok(a), Ok(b)) => {
            println!("parsed {a} and {b} contracts");
            ExitCode::SUCCESS
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
