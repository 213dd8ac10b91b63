//! A data directory written by the store before numbered migrations (the committed fixture
//! `tests/data/before-migrations/`) opens with this build, is migrated, and holds everything
//! `tests/data/before-migrations.json` says it held: tenants, tokens, contracts, archives,
//! session models, events, absences and cycle data.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde_json::Value;
use sync_store::{hash_token, Listing, SqliteStore, Store, SyncWrite};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The fixture's database copied into a new temporary directory.
fn copy_of_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = fixture().join("before-migrations");
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

fn count(conn: &Connection, sql: &str, tenant: i64) -> usize {
    conn.query_row(sql, [tenant], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap())
        .unwrap()
}

#[test]
fn a_database_written_before_migrations_keeps_everything() {
    let expected: Vec<Value> =
        serde_json::from_slice(&std::fs::read(fixture().join("before-migrations.json")).unwrap())
            .unwrap();
    assert!(!expected.is_empty());
    let original = std::fs::read(fixture().join("before-migrations/campus-sync.sqlite3")).unwrap();
    let dir = copy_of_fixture();
    let store = SqliteStore::open(dir.path()).unwrap();
    let conn = Connection::open(store.path()).unwrap();

    let mut names: Vec<&str> = Vec::new();
    for entry in &expected {
        let token = entry["token"].as_str().unwrap();
        let name = entry["name"].as_str().unwrap();
        let case = format!("tenant {name}, token {token}");
        if !names.contains(&name) {
            names.push(name);
        }
        let tenant = store
            .tenant_by_token_hash(&hash_token(token))
            .unwrap()
            .unwrap_or_else(|| panic!("{case}: token not found"));
        assert_eq!(tenant.name, name, "{case}");
        assert_eq!(Value::from(tenant.sandbox), entry["sandbox"], "{case}");
        assert_eq!(
            store.tenant_by_name(name).unwrap().as_ref(),
            Some(&tenant),
            "{case}"
        );
        let id = tenant.id;

        // Both listings, whole, in order, as the wire JSON they were.
        for (listing, key) in [
            (Listing::Transmitted, "transmitted"),
            (Listing::Integrated, "integrated"),
        ] {
            let page = store.page(id, listing, 0, 10_000).unwrap();
            let want: Vec<&str> = entry[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(page.total, want.len(), "{case}: {key}");
            assert_eq!(page.contracts, want, "{case}: {key}");
        }
        assert_eq!(
            store.active_set(id).unwrap().len(),
            entry["transmitted"].as_array().unwrap().len(),
            "{case}"
        );

        // The archived rows, as stored, and their accounts.
        let mut stmt = conn
            .prepare(
                "SELECT code, data FROM contracts WHERE tenant_id = ?1 AND archived = 1
                 ORDER BY code",
            )
            .unwrap();
        let archived: Vec<Value> = stmt
            .query_map([id], |r| {
                Ok(Value::from(vec![
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                ]))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(Value::from(archived), entry["archived"], "{case}: archived");
        let mut accounts: Vec<String> = store
            .archived_accounts(id)
            .unwrap()
            .iter()
            .map(|a| format!("{}/{:?}/{}", a.code, a.role, a.email))
            .collect();
        accounts.sort();
        assert_eq!(
            serde_json::to_value(accounts).unwrap(),
            entry["archived_accounts"],
            "{case}: archived accounts"
        );

        assert_eq!(
            serde_json::to_value(store.session_models(id).unwrap()).unwrap(),
            entry["session_models"],
            "{case}: session models"
        );

        // Every group's events and every student's absences, and no other row.
        let groups = entry["events"].as_object().unwrap();
        let mut events = 0;
        for (group, want) in groups {
            let got = store.events(id, group).unwrap();
            events += got.len();
            assert_eq!(serde_json::to_value(got).unwrap(), *want, "{case}: {group}");
        }
        let rows = count(
            &conn,
            "SELECT count(*) FROM events WHERE tenant_id = ?1",
            id,
        );
        assert_eq!(rows, events, "{case}: event rows");
        let students = entry["absences"].as_object().unwrap();
        let mut absences = 0;
        for (email, want) in students {
            let got = store.absences(id, email).unwrap();
            absences += got.len();
            assert_eq!(serde_json::to_value(got).unwrap(), *want, "{case}: {email}");
        }
        let rows = count(
            &conn,
            "SELECT count(*) FROM absences WHERE tenant_id = ?1",
            id,
        );
        assert_eq!(rows, absences, "{case}: absence rows");

        // Cycles, periods, members, credits, status entries and the entry counter.
        assert_eq!(
            serde_json::to_value(store.cycle_data(id).unwrap()).unwrap(),
            entry["cycle_data"],
            "{case}: cycle data"
        );
        // ... now in rows: one per cycle, period, member, custom field, credit and entry.
        let cycle = &entry["cycle_data"];
        let objects = |key: &str| cycle[key].as_object().unwrap();
        let nested = |key: &str| -> usize {
            objects(key)
                .values()
                .map(|v| match v {
                    Value::Array(list) => list.len(),
                    Value::Object(periods) => periods
                        .values()
                        .map(|list| list.as_array().unwrap().len())
                        .sum(),
                    _ => unreachable!(),
                })
                .sum()
        };
        let fields: usize = objects("members")
            .values()
            .map(|m| m["customFields"].as_object().unwrap().len())
            .sum();
        for (table, want) in [
            ("cycle_cycles", objects("cycles").len()),
            ("cycle_periods", objects("periods").len()),
            ("cycle_members", objects("members").len()),
            ("cycle_member_fields", fields),
            ("cycle_credits", nested("credits")),
            ("cycle_status_entries", nested("statuses")),
        ] {
            let sql = format!("SELECT count(*) FROM {table} WHERE tenant_id = ?1");
            assert_eq!(count(&conn, &sql, id), want, "{case}: {table}");
        }
    }
    let documents: i64 = conn
        .query_row("SELECT count(*) FROM cycle_data", [], |r| r.get(0))
        .unwrap();
    assert_eq!(documents, 0, "the cycle documents are moved into rows");
    // No other tenant and no other token.
    let tenants: i64 = conn
        .query_row("SELECT count(*) FROM tenants", [], |r| r.get(0))
        .unwrap();
    assert_eq!(usize::try_from(tenants).unwrap(), names.len());
    let tokens: i64 = conn
        .query_row("SELECT count(*) FROM tokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(usize::try_from(tokens).unwrap(), expected.len());

    // Migrated: recorded at the first migration at least, and written to as any database.
    let version: i64 = conn
        .query_row(
            "SELECT max(version) FROM refinery_schema_history",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(version >= 1, "{version}");
    let school = store.tenant_by_name("school").unwrap().unwrap();
    let before = store.active_set(school.id).unwrap().len();
    let payload = sync_core::parse(br#"[{"codeContrat": "NEW-1", "codeGroupe": "G1"}]"#).unwrap();
    let write = SyncWrite {
        upsert: payload.contracts.iter().collect(),
        ..Default::default()
    };
    store.apply_sync(school.id, &write).unwrap();
    drop(store);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.active_set(school.id).unwrap().len(), before + 1);

    // The committed fixture itself is untouched.
    let after = std::fs::read(fixture().join("before-migrations/campus-sync.sqlite3")).unwrap();
    assert!(after == original, "the fixture was written to");
}

#[test]
fn the_fixture_opened_twice_is_migrated_once() {
    let dir = copy_of_fixture();
    drop(SqliteStore::open(dir.path()).unwrap());
    let store = SqliteStore::open(dir.path()).unwrap();
    let conn = Connection::open(store.path()).unwrap();
    let applied: i64 = conn
        .query_row(
            "SELECT count(*) FROM refinery_schema_history WHERE version = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(applied, 1);
    assert_eq!(
        store.tenant_by_name("school").unwrap().map(|t| t.sandbox),
        Some(false)
    );
    assert_eq!(
        store.tenant_by_name("sandbox").unwrap().map(|t| t.sandbox),
        Some(true)
    );
}

/// Each table's columns (name, type, not null, default, primary key) and each index (name,
/// table, unique, partial, columns), by name.
fn schema(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut out = Vec::new();
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for table in tables {
        let mut columns = conn
            .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)")
            .unwrap();
        let columns = columns
            .query_map([&table], |r| {
                Ok(format!(
                    "{table}.{} {} notnull={} default={:?} pk={}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?
                ))
            })
            .unwrap();
        out.extend(columns.map(Result::unwrap));
        let mut indexes = conn
            .prepare(
                "SELECT l.name, l.\"unique\", l.partial,
                     (SELECT group_concat(name) FROM pragma_index_info(l.name))
                 FROM pragma_index_list(?1) AS l ORDER BY l.name",
            )
            .unwrap();
        let indexes = indexes
            .query_map([&table], |r| {
                Ok(format!(
                    "{table} index {} unique={} partial={} ({:?})",
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?
                ))
            })
            .unwrap();
        out.extend(indexes.map(Result::unwrap));
    }
    out
}

#[test]
fn the_migrated_fixture_has_the_schema_of_a_new_database() {
    let old = copy_of_fixture();
    let migrated = SqliteStore::open(old.path()).unwrap();
    let new = tempfile::tempdir().unwrap();
    let created = SqliteStore::open(new.path()).unwrap();
    let (migrated, created) = (schema(migrated.path()), schema(created.path()));
    assert!(created
        .iter()
        .any(|line| line.starts_with("contracts.tenant_id")));
    assert!(created
        .iter()
        .any(|line| line.contains("index contracts_archived")));
    assert_eq!(migrated, created);
}
