//! The behaviour suite of `sync_store::conformance`, on SQLite: each database in a temporary
//! directory kept until the test ends.

use std::path::PathBuf;
use std::sync::Mutex;

use sync_store::conformance::{self, Open};
use sync_store::{SqliteStore, Store};

/// Runs one behaviour of the suite on new SQLite databases.
fn check(behaviour: fn(conformance::NewDatabase<'_>)) {
    let dirs = Mutex::new(Vec::new());
    let new_database = || -> Open {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().to_owned();
        dirs.lock().unwrap().push(dir);
        Box::new(move || Box::new(SqliteStore::open(&path).unwrap()) as Box<dyn Store>)
    };
    behaviour(&new_database);
}

#[test]
fn tenants_and_tokens() {
    check(conformance::tenants_and_tokens);
}

#[test]
fn syncs_and_archives() {
    check(conformance::syncs_and_archives);
}

#[test]
fn listings_and_paging() {
    check(conformance::listings_and_paging);
}

#[test]
fn cycle_slices() {
    check(conformance::cycle_slices);
}

#[test]
fn session_models() {
    check(conformance::session_models);
}

#[test]
fn events() {
    check(conformance::events);
}

#[test]
fn absences() {
    check(conformance::absences);
}

#[test]
fn stale_writes_are_refused() {
    check(conformance::stale_writes_are_refused);
}

#[test]
fn cycle_data() {
    check(conformance::cycle_data);
}

#[test]
fn writes_of_another_store_are_seen() {
    check(conformance::writes_of_another_store_are_seen);
}

#[test]
fn a_restart_keeps_everything() {
    check(conformance::a_restart_keeps_everything);
}

#[test]
fn delete_all() {
    check(conformance::delete_all);
}

#[test]
fn runs_are_recorded_and_listed() {
    check(conformance::runs_are_recorded_and_listed);
}

#[test]
fn held_runs_are_decided() {
    check(conformance::held_runs_are_decided);
}

#[test]
fn reverts_are_recorded() {
    check(conformance::reverts_are_recorded);
}

#[test]
fn runs_are_pruned() {
    check(conformance::runs_are_pruned);
}

#[test]
fn change_records_are_paged_across_chunks() {
    check(conformance::change_records_are_paged_across_chunks);
}
