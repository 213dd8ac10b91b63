//! A host application embedding the engine: an embedded store, a tenant, two exports synced,
//! what changed printed. `cargo run -p sync-engine --example host`
use std::io::Write;
use std::sync::Arc;

use sync_engine::{Engine, SyncInput, SyncOptions, SyncOutcome};
use sync_store::{hash_token, SqliteStore};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&mut std::io::stdout())
}

/// Syncs `examples/previous.json`, then `examples/current.json`, and writes what changed.
pub fn run(out: &mut impl Write) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let engine = Engine::new(Arc::new(SqliteStore::open(dir.path())?));
    let school = engine
        .store()
        .tenant_with_token("school", &hash_token("s3cret"), false)?;
    for name in ["previous.json", "current.json"] {
        let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
        let export = std::fs::read(path)?;
        match engine.sync(school.id, SyncInput::Full(&export), SyncOptions::default())? {
            SyncOutcome::Applied(applied) => {
                let s = applied.summary;
                let counts = (s.same, s.added, s.updated, s.removed);
                writeln!(out, "{name}: same, added, updated, removed = {counts:?}")?;
                for change in &applied.changes {
                    for f in &change.fields {
                        writeln!(
                            out,
                            "  {} {}: {:?} -> {:?}",
                            change.code, f.field, f.old, f.new
                        )?;
                    }
                }
            }
            SyncOutcome::Refused(refusal) => writeln!(out, "{name}: {} errors", refusal.errors())?,
            SyncOutcome::Guarded(guard) => writeln!(out, "{name}: {guard}")?,
        }
    }
    Ok(())
}
