//! Measures the store alone, through the `Store` trait, on SQLite and on PostgreSQL: what a
//! sync of N generated contracts (default 100 000) asks of it on a fresh tenant, the same
//! payload again, 10% changed, and pages of 1000; and what another instance pays to read the
//! set after a write. Each step's median over the runs (default 3), the range in brackets.
//!
//! ```sh
//! SYNC_TEST_DATABASE_URL=postgres://campus:campus@127.0.0.1:5432/campus_test \
//!     cargo run --release -p sync-store --example store_load -- [N] [RUNS]
//! ```
//!
//! Without `SYNC_TEST_DATABASE_URL`, SQLite only. PostgreSQL runs in a schema of its own,
//! dropped at the end.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sync_core::rules::SessionModel;
use sync_core::{Contract, Field};
use sync_store::conformance::postgres::{new_schema, TestSchema};
use sync_store::{Listing, PostgresOptions, PostgresStore, SqliteStore, Store, SyncWrite};

type Timings = BTreeMap<&'static str, Vec<Duration>>;

fn time<T>(timings: &mut Timings, step: &'static str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let value = f();
    timings.entry(step).or_default().push(started.elapsed());
    value
}

/// The store calls of one sync as the engine makes them (version, set, accounts, write).
fn sync(
    store: &dyn Store,
    tenant: i64,
    upsert: &[&Contract<'static>],
    upsert_json: &[&str],
    archive: &[&str],
) {
    let based_on = store.contracts_version(tenant).unwrap();
    let set = store.active_set(tenant).unwrap();
    let _known = store.archived_accounts(tenant).unwrap();
    let write = SyncWrite {
        upsert: upsert.to_vec(),
        upsert_json: upsert_json.to_vec(),
        archive: archive.to_vec(),
        based_on: Some(based_on),
        ..SyncWrite::default()
    };
    store.apply_sync(tenant, &write).unwrap();
    drop(set);
}

fn run(
    label: &str,
    open: &dyn Fn() -> Box<dyn Store>,
    generated: &sync_core::gen::Generated,
    round: usize,
    timings: &mut Timings,
) {
    let store = open();
    let other = open();
    let tenant = store
        .create_tenant(&format!("{label}-{round}"), false)
        .unwrap()
        .id;
    let previous: Vec<&Contract<'static>> = generated.previous.iter().collect();
    let previous_json: Vec<String> = generated
        .previous
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    let previous_json: Vec<&str> = previous_json.iter().map(String::as_str).collect();
    time(timings, "1 sync N added, fresh tenant", || {
        sync(store.as_ref(), tenant, &previous, &previous_json, &[])
    });
    time(timings, "2 same payload again (nothing written)", || {
        sync(store.as_ref(), tenant, &[], &[], &[])
    });
    time(timings, "3 another instance reads the set (cold)", || {
        other.active_set(tenant).unwrap()
    });
    let diff = sync_core::diff(&generated.previous, &generated.current);
    let upsert: Vec<&Contract<'static>> = diff
        .added
        .iter()
        .copied()
        .chain(diff.updated.iter().map(|u| u.current))
        .map(|i| &generated.current[i])
        .collect();
    let json: Vec<String> = upsert
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    let json: Vec<&str> = json.iter().map(String::as_str).collect();
    let archive: Vec<&str> = diff.removed_contracts().map(Contract::key).collect();
    time(timings, "4 sync 10% changed", || {
        sync(store.as_ref(), tenant, &upsert, &json, &archive)
    });
    let model = SessionModel {
        formation: generated.current[0]
            .trimmed(Field::CodeFormation)
            .to_owned(),
        year: generated.current[0].trimmed(Field::CodeAnnee).to_owned(),
        site: None,
        period: None,
    };
    store.set_session_models(tenant, &[model]).unwrap();
    let middle = generated.current.len() / 2;
    time(
        timings,
        "5 page of 1000, another instance after the write (reads the set)",
        || {
            other
                .page(tenant, Listing::Transmitted, middle, 1000)
                .unwrap()
        },
    );
    time(timings, "6 page of 1000 (warm)", || {
        store
            .page(tenant, Listing::Transmitted, middle, 1000)
            .unwrap()
    });
    time(timings, "7 integrated page of 1000 (warm)", || {
        store.page(tenant, Listing::Integrated, 0, 1000).unwrap()
    });
}

fn report(label: &str, timings: &Timings) {
    println!("{label}");
    for (step, runs) in timings {
        let mut runs = runs.clone();
        runs.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "  {step}: {:.1} ms ({:.1}-{:.1})",
            ms(runs[runs.len() / 2]),
            ms(runs[0]),
            ms(runs[runs.len() - 1])
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(100_000, |s| s.parse().expect("N"));
    let runs: usize = args.next().map_or(3, |s| s.parse().expect("RUNS"));
    let generated = sync_core::gen::generate(&sync_core::gen::Options {
        contracts: n,
        seed: 7,
        change_rate: 0.1,
    });
    println!("{n} contracts, {runs} runs each");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let mut timings = Timings::new();
    let open = || Box::new(SqliteStore::open(&path).unwrap()) as Box<dyn Store>;
    for round in 0..runs {
        run("sqlite", &open, &generated, round, &mut timings);
    }
    report("SQLite", &timings);

    let Some(schema) = new_schema() else {
        return;
    };
    let schema: TestSchema = schema;
    let mut timings = Timings::new();
    let open = || {
        Box::new(PostgresStore::connect(schema.url(), PostgresOptions::default()).unwrap())
            as Box<dyn Store>
    };
    for round in 0..runs {
        run("postgres", &open, &generated, round, &mut timings);
    }
    report("PostgreSQL 15 (same machine)", &timings);
}
