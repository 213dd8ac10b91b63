//! What `sync-cli diff` would cost if it checked nothing: the floor (the two files read as the
//! CLI does, parsed one per thread) and then `sync_core::diff` of the two, with no validation
//! and no output but the four counts. The CLI must validate both files first; this is the bound
//! below which no validating diff built on this parser can go.
//!
//! `cargo run --release -p sync-benches --example parse_diff -- PREVIOUS CURRENT`

use std::process::ExitCode;

mod pair;

fn main() -> ExitCode {
    pair::run("parse_diff", |previous, current| {
        let parse = |bytes| sync_core::parse(bytes).map_err(|e| e.to_string());
        let (p, c) = pair::both(parse, previous, current)?;
        let diff = sync_core::diff(&p.contracts, &c.contracts);
        Ok(format!(
            "same {}, added {}, updated {}, removed {}",
            diff.same.len(),
            diff.added.len(),
            diff.updated.len(),
            diff.removed.len()
        ))
    })
}
