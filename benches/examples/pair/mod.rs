//! What the floor examples share: the two files read as `sync-cli diff` reads them (large files
//! are mapped, not copied), parsed one per thread, and one line printed.

use std::process::ExitCode;

/// Runs `job` on the bytes of the two files named on the command line (previous, current) and
/// prints the line it returns.
pub fn run(name: &str, job: impl FnOnce(&[u8], &[u8]) -> Result<String, String>) -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let [previous, current] = paths.as_slice() else {
        eprintln!("usage: {name} PREVIOUS CURRENT");
        return ExitCode::from(2);
    };
    let read = |path: &str| sync_cli::read_export(path.as_ref()).map_err(|e| format!("{e:#}"));
    match read(previous).and_then(|p| read(current).and_then(|c| job(&p, &c))) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// `parse` run on both files side by side, one per thread.
pub fn both<'a, T: Send>(
    parse: impl Fn(&'a [u8]) -> Result<T, String> + Sync,
    previous: &'a [u8],
    current: &'a [u8],
) -> Result<(T, T), String> {
    let (p, c) = rayon::join(|| parse(previous), || parse(current));
    Ok((
        p.map_err(|e| format!("previous file: {e}"))?,
        c.map_err(|e| format!("current file: {e}"))?,
    ))
}
