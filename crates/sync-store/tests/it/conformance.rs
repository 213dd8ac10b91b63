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

sync_store::conformance_tests!(check);
