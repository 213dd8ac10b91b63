//! The behaviour suite of `sync_store::conformance` on PostgreSQL, and what differs there:
//! several stores (server instances) on one database, connection failures. Each database is
//! a schema of its own on the server of `SYNC_TEST_DATABASE_URL`, dropped at the end; without
//! that variable the tests are skipped (they fail under `CI=true`).

use std::sync::{Arc, Barrier, Mutex};

use sync_store::conformance::postgres::{new_schema, TestSchema};
use sync_store::conformance::{self, active_keys, contract, Open};
use sync_store::{CacheStats, PostgresOptions, PostgresStore, Store, StoreError, SyncWrite};

fn options() -> PostgresOptions {
    PostgresOptions {
        pool_size: 4,
        ..PostgresOptions::default()
    }
}

fn connect(schema: &TestSchema) -> PostgresStore {
    PostgresStore::connect(schema.url(), options()).expect("connect to the test schema")
}

/// Runs one behaviour of the suite on new schemas of the test database (skipped without one).
fn check(behaviour: fn(conformance::NewDatabase<'_>)) {
    let Some(first) = new_schema() else {
        return;
    };
    let spare = Mutex::new(Some(first));
    let schemas = Mutex::new(Vec::new());
    let new_database = || -> Open {
        let schema = spare
            .lock()
            .unwrap()
            .take()
            .or_else(new_schema)
            .expect("the test database answered a moment ago");
        let url = schema.url().to_owned();
        schemas.lock().unwrap().push(schema);
        Box::new(move || {
            Box::new(PostgresStore::connect(&url, options()).expect("connect")) as Box<dyn Store>
        })
    };
    behaviour(&new_database);
}

sync_store::conformance_tests!(check);

/// `n` contracts `{prefix}{i}` of group `group`.
fn contracts(prefix: &str, n: usize, group: &str) -> Vec<sync_core::Contract<'static>> {
    (0..n)
        .map(|i| {
            contract(
                &format!("{prefix}{i:05}"),
                group,
                "F1",
                &format!("{prefix}{i}@e.fr"),
            )
        })
        .collect()
}

fn sync(
    store: &dyn Store,
    tenant: i64,
    set: &[sync_core::Contract<'static>],
    based_on: Option<i64>,
) -> Result<(), StoreError> {
    let write = SyncWrite {
        upsert: set.iter().collect(),
        based_on,
        ..SyncWrite::default()
    };
    store.apply_sync(tenant, &write)
}

#[test]
fn a_write_through_one_instance_is_seen_by_the_other_at_its_next_call() {
    let Some(schema) = new_schema() else {
        return;
    };
    let (first, second) = (connect(&schema), connect(&schema));
    let tenant = first.create_tenant("a", false).unwrap();
    // A tenant created through one instance is found by the other.
    assert_eq!(second.tenant_by_name("a").unwrap(), Some(tenant.clone()));
    sync(&first, tenant.id, &contracts("C", 3, "G1"), None).unwrap();
    assert_eq!(active_keys(&second, tenant.id), "C00000 C00001 C00002");
    // Kept in memory: read from the cache.
    assert_eq!(active_keys(&second, tenant.id), "C00000 C00001 C00002");
    assert_eq!(second.cache_stats(), CacheStats { hits: 1, misses: 1 });
    // A write through the first: the second's next call reads the new set.
    let write = SyncWrite {
        archive: vec!["C00001"],
        ..SyncWrite::default()
    };
    first.apply_sync(tenant.id, &write).unwrap();
    assert_eq!(active_keys(&second, tenant.id), "C00000 C00002");
    assert_eq!(second.cache_stats(), CacheStats { hits: 1, misses: 2 });
    // The first derived its set from its own write: no read.
    assert_eq!(active_keys(&first, tenant.id), "C00000 C00002");
    assert_eq!(first.cache_stats().misses, 1);
    // A token, calendars, absences, models and cycle data written through one instance are
    // read by the other at once.
    first
        .add_token(tenant.id, &sync_store::hash_token("t"))
        .unwrap();
    assert_eq!(
        second
            .tenant_by_token_hash(&sync_store::hash_token("t"))
            .unwrap(),
        Some(tenant.clone())
    );
    for round in 0..2 {
        let event = sync_core::rules::CalendarEvent {
            uid: Some("e1".into()),
            summary: None,
            start: format!("2025-09-0{}T08:00:00Z", round + 1),
            end: "2025-12-31T10:00:00Z".into(),
            location: None,
            description: None,
        };
        first
            .replace_events(tenant.id, "G1", std::slice::from_ref(&event), None)
            .unwrap();
        assert_eq!(second.events(tenant.id, "G1").unwrap(), [event]);
        let absence = sync_core::rules::Absence {
            start: format!("0{}/09/2025-08:00", round + 1),
            end: "01/09/2025-12:00".into(),
            kind: sync_core::rules::AbsenceKind::Absence,
            justified: round == 1,
            reason: None,
        };
        first
            .replace_absences(
                tenant.id,
                "c00000@e.fr",
                std::slice::from_ref(&absence),
                None,
            )
            .unwrap();
        assert_eq!(
            second.absences(tenant.id, "C00000@e.fr").unwrap(),
            [absence]
        );
        let models = [sync_core::rules::SessionModel {
            formation: format!("F{round}"),
            year: "Y".into(),
            site: None,
            period: None,
        }];
        first.set_session_models(tenant.id, &models).unwrap();
        assert_eq!(second.session_models(tenant.id).unwrap(), models);
        let data = sync_cycle::CycleData {
            next_entry: round + 5,
            ..sync_cycle::CycleData::default()
        };
        first.set_cycle_data(tenant.id, &data).unwrap();
        assert_eq!(second.cycle_data(tenant.id).unwrap(), data);
    }
}

#[test]
fn concurrent_syncs_of_one_tenant_through_two_instances_never_interleave() {
    let Some(schema) = new_schema() else {
        return;
    };
    let stores = [Arc::new(connect(&schema)), Arc::new(connect(&schema))];
    let tenant = stores[0].create_tenant("a", false).unwrap().id;
    let sets = [contracts("A", 3000, "G1"), contracts("B", 3000, "G2")];
    let sets = Arc::new(sets);
    for round in 0..3 {
        let version = stores[0].contracts_version(tenant).unwrap();
        let start = Arc::new(Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let (store, sets, start) = (stores[i].clone(), sets.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    sync(store.as_ref(), tenant, &sets[i], Some(version))
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let winners: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let loser = 1 - winners[0];
        assert!(
            matches!(results[loser], Err(StoreError::Stale { .. })),
            "round {round}: {results:?}"
        );
        // The set is the winner's added to what was there, never a part of the loser's.
        let stored = stores[loser].active_set(tenant).unwrap();
        let has = |set: &[sync_core::Contract<'static>]| {
            set.iter()
                .filter(|c| stored.get(c.key()) == Some(c))
                .count()
        };
        assert_eq!(has(&sets[winners[0]]), 3000, "round {round}");
        assert_eq!(stores[0].contracts_version(tenant).unwrap(), version + 1);
        if round == 0 {
            assert_eq!(has(&sets[loser]), 0, "round {round}");
        }
        assert_eq!(
            stores[0].active_set(tenant).unwrap().contracts(),
            stored.contracts()
        );
    }
}

#[test]
fn a_wrong_password_is_a_database_error_naming_the_url_without_it() {
    let Some(schema) = new_schema() else {
        return;
    };
    let url = schema.url();
    let Some((scheme, rest)) = url.split_once("://") else {
        return;
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let wrong = format!("{scheme}://campus_nobody:wrong-secret@{host}");
    let err = PostgresStore::connect(&wrong, options()).unwrap_err();
    assert!(!err.is_unavailable(), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("campus_nobody@"), "{message}");
    assert!(!message.contains("wrong-secret"), "{message}");
}

#[test]
fn a_connection_closed_by_the_server_is_unavailable_then_replaced() {
    let Some(schema) = new_schema() else {
        return;
    };
    let name = format!("campus_kill_{}", schema.name());
    let url = format!("{}&application_name={name}", schema.url());
    let store = PostgresStore::connect(&url, options()).unwrap();
    let tenant = store.create_tenant("a", false).unwrap();
    sync(&store, tenant.id, &contracts("C", 2, "G1"), None).unwrap();
    // The server ends the store's (idle) connection.
    let mut admin = postgres::Client::connect(schema.url(), postgres::NoTls).unwrap();
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&name],
        )
        .unwrap();
    assert!(!killed.is_empty());
    // The call that finds it closed is unavailable (worth a retry), nothing else breaks.
    let mut failed = 0;
    for _ in 0..2 {
        match store.contracts_version(tenant.id) {
            Ok(_) => {}
            Err(e) => {
                assert!(e.is_unavailable(), "{e:?}");
                failed += 1;
            }
        }
    }
    assert!(failed <= 1);
    assert_eq!(store.contracts_version(tenant.id).unwrap(), 1);
    store.ping().unwrap();
}

/// The versions of a backend's migration files (`V{n}__name.sql`), in order.
fn migration_files(backend: &str) -> Vec<i32> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<i32> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_prefix('V')?.split_once("__")?.0.parse().ok()
        })
        .collect();
    versions.sort_unstable();
    versions
}

#[test]
fn a_new_schema_is_at_the_last_migration_and_connects_again() {
    // Both backends have the same migrations, in step.
    let files = migration_files("postgres");
    assert_eq!(files, migration_files("sqlite"));
    assert_eq!(files, (1..=files.len() as i32).collect::<Vec<_>>());
    let Some(schema) = new_schema() else {
        return;
    };
    let versions = || -> Vec<i32> {
        let mut client = postgres::Client::connect(schema.url(), postgres::NoTls).unwrap();
        client
            .query(
                "SELECT version FROM refinery_schema_history ORDER BY version",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    drop(connect(&schema));
    assert_eq!(versions(), files);
    let store = connect(&schema);
    assert_eq!(versions(), files);
    store.create_tenant("a", false).unwrap();
}

#[test]
fn unconditional_syncs_through_two_instances_are_both_applied_in_turn() {
    let Some(schema) = new_schema() else {
        return;
    };
    let stores = [Arc::new(connect(&schema)), Arc::new(connect(&schema))];
    let tenant = stores[0].create_tenant("a", false).unwrap().id;
    sync(stores[0].as_ref(), tenant, &contracts("Z", 10, "G0"), None).unwrap();
    let sets = Arc::new([contracts("A", 2000, "G1"), contracts("B", 2000, "G2")]);
    let start = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let (store, sets, start) = (stores[i].clone(), sets.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                sync(store.as_ref(), tenant, &sets[i], None)
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    // Two writes, one after the other: two versions, every contract of both.
    assert_eq!(stores[1].contracts_version(tenant).unwrap(), 3);
    for store in &stores {
        assert_eq!(store.active_set(tenant).unwrap().len(), 4010);
    }
}

#[test]
fn a_pool_of_one_connection_serves_many_threads_in_turn() {
    let Some(schema) = new_schema() else {
        return;
    };
    let options = PostgresOptions {
        pool_size: 1,
        ..PostgresOptions::default()
    };
    let store = Arc::new(PostgresStore::connect(schema.url(), options).unwrap());
    let tenant = store.create_tenant("a", false).unwrap().id;
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                let set = contracts(&format!("T{i}-"), 50, "G1");
                for _ in 0..5 {
                    sync(store.as_ref(), tenant, &set, None)?;
                    store.page(tenant, sync_store::Listing::Transmitted, 0, 10)?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert_eq!(store.contracts_version(tenant).unwrap(), 40);
    assert_eq!(store.active_set(tenant).unwrap().len(), 400);
}

#[test]
fn a_write_waits_for_the_tenant_lock_and_a_call_without_a_free_connection_is_unavailable() {
    let Some(schema) = new_schema() else {
        return;
    };
    let options = PostgresOptions {
        pool_size: 1,
        acquire_timeout: std::time::Duration::from_millis(50),
        ..PostgresOptions::default()
    };
    let name = format!("campus_wait_{}", schema.name());
    let url = format!("{}&application_name={name}", schema.url());
    let store = Arc::new(PostgresStore::connect(&url, options).unwrap());
    let tenant = store.create_tenant("a", false).unwrap().id;
    // Another instance's write holds the tenant's row.
    let mut other = postgres::Client::connect(schema.url(), postgres::NoTls).unwrap();
    let mut holding = other.transaction().unwrap();
    holding
        .execute(
            "SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
            &[&tenant],
        )
        .unwrap();
    // This store's sync takes its only connection and waits for the row.
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || sync(store.as_ref(), tenant, &contracts("C", 5, "G1"), None))
    };
    let mut admin = postgres::Client::connect(schema.url(), postgres::NoTls).unwrap();
    while admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE application_name = $1 AND wait_event_type = 'Lock'",
            &[&name],
        )
        .unwrap()
        .get::<_, i64>(0)
        == 0
    {
        std::thread::yield_now();
    }
    // No free connection: unavailable, worth a retry.
    let err = store.contracts_version(tenant).unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(
        err.to_string().contains("no free database connection"),
        "{err}"
    );
    // The other write ends: this one goes on, after it.
    holding.commit().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(store.contracts_version(tenant).unwrap(), 1);
    assert_eq!(store.active_set(tenant).unwrap().len(), 5);
}
