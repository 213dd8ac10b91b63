//! The floor of `sync-cli diff`: read the two files as the CLI does (large files are mapped,
//! not copied) and parse them, one per thread, and nothing else.
//!
//! `cargo run --release -p sync-benches --example parse_only -- PREVIOUS CURRENT`

use std::process::ExitCode;

mod pair;

fn main() -> ExitCode {
    pair::run("parse_only", |previous, current| {
        let parse = |bytes| {
            sync_core::parse(bytes)
                .map(|payload| payload.contracts.len())
                .map_err(|e| e.to_string())
        };
        let (p, c) = pair::both(parse, previous, current)?;
        Ok(format!("parsed {p} and {c} contracts"))
    })
}
