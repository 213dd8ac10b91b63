//! What the parse-only examples share: the two files read as `sync-cli diff` reads them (large
//! files are mapped, not copied), each parsed on its own thread by `parse`, and the counts
//! printed.

use std::process::ExitCode;

/// Runs `parse` (bytes to a number of contracts) on the two files named on the command line.
pub fn run(name: &str, parse: impl Fn(&[u8]) -> Result<usize, String> + Sync) -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let [previous, current] = paths.as_slice() else {
        eprintln!("usage: {name} PREVIOUS CURRENT");
        return ExitCode::from(2);
    };
    let count = |path: &str| -> Result<usize, String> {
        let bytes = sync_cli::read_export(path.as_ref()).map_err(|e| format!("{e:#}"))?;
        parse(&bytes).map_err(|e| format!("{path}: {e}"))
    };
    match rayon::join(|| count(previous), || count(current)) {
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
