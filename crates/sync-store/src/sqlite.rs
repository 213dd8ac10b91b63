//! The SQLite backend: one file in the data directory, WAL journal, one writer connection and
//! a small pool of readers so that listings do not wait for a sync.
//!
//! A sync commits to the WAL and returns; a background thread copies the WAL into the database
//! (checkpoint) afterwards, so the request does not pay for writing its rows twice. Each
//! tenant's active set is kept in memory, tagged with the tenant's `contracts_version` (bumped
//! in the same transaction as every contract write): a set whose version is not the stored one
//! (a write by another process) is read again, so the memory copy is only a cache. The cache is
//! bounded by an estimate of the sets' size in memory ([`SqliteStore::with_cache_bytes`],
//! 512 MiB by default): the sets used least recently are dropped first and read back from the
//! database when next needed; a set of about the whole bound or more is never kept.
//!
//! Several processes may open one data directory: a write that depends on what was read
//! carries the version it was computed from (`contracts_version`, or `cycle_version` for the
//! cycle data), checked in its IMMEDIATE transaction, so a write made stale by another
//! process is refused ([`StoreError::Stale`]) and nothing of it is written.
//!
//! The schema is the numbered migrations of `migrations/sqlite/`, embedded at build time and
//! applied by refinery when the store opens (history in `refinery_schema_history`). A failed
//! statement keeps its `rusqlite::Error` as the [`StoreError`]'s source; a full disk, a
//! read-only, unopenable or busy database is [`StoreError::Unavailable`].

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};
use sync_core::normalize_email;
use sync_core::rules::{Absence, CalendarEvent, SessionModel};
use sync_core::{Field, KnownAccount, Role};
use sync_cycle::{CycleData, CycleScope};

use crate::active::{self, lock, ActiveSetCache, ContractRow, DEFAULT_CACHE_BYTES};
use crate::{
    encode_change_chunks, ActiveSet, CacheStats, ChangePage, EncodedChunk, Listing, Page, Result,
    Run, RunOutcome, RunPage, RunWrite, Store, StoreError, SyncWrite, Tenant, TenantId,
};

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "campus-sync.sqlite3";

mod cycle;
mod runs;

refinery::embed_migrations!("migrations/sqlite");

/// The first migration: the schema the store created before numbered migrations.
const INITIAL_SCHEMA: &str = include_str!("../migrations/sqlite/V1__initial.sql");

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Active sets kept in memory, bounded by their estimated size.
    active: ActiveSetCache,
    /// Wakes the checkpoint thread after a commit.
    checkpoint: Mutex<mpsc::Sender<()>>,
}

/// A full disk, a read-only or unreachable file, or a lock held past the busy timeout:
/// [`StoreError::Unavailable`]; any other failure: [`StoreError::Database`].
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        if is_unavailable(&err) {
            StoreError::Unavailable {
                source: Box::new(err),
            }
        } else {
            StoreError::Database {
                source: Box::new(err),
            }
        }
    }
}

fn is_unavailable(err: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    matches!(
        err.sqlite_error_code(),
        Some(
            ErrorCode::DiskFull
                | ErrorCode::ReadOnly
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
        )
    )
}

/// A failed migration, [`StoreError::Unavailable`] when its cause is.
fn migration_error(err: refinery::Error) -> StoreError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        if e.downcast_ref::<rusqlite::Error>()
            .is_some_and(is_unavailable)
        {
            return StoreError::Unavailable {
                source: Box::new(err),
            };
        }
        cause = e.source();
    }
    StoreError::Migration {
        source: Box::new(err),
    }
}

/// The writer's page cache, in KiB: up to 256 MB, taken only as used, so that a
/// 100k-contract sync (about 120 MB of rows) commits without spilling pages mid-transaction.
/// Brought back to a reader's size after each write: between syncs the store holds its bounded
/// active-set cache, not the pages of the last sync.
const WRITER_CACHE_KIB: i64 = 262_144;
/// The page cache of a reader or of the checkpointer, in KiB: they read a tenant's rows once
/// (the active-set cache keeps the result); the operating system caches the file itself.
const READER_CACHE_KIB: i64 = 16_384;

fn connect(path: &Path, cache_kib: i64) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // 16 KiB pages for a new database (a row is about 1 KB): a 100k-contract sync commits
    // fewer, fuller pages. A no-op on an existing database.
    conn.pragma_update(None, "page_size", 16384)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Commits never copy the WAL into the database: the checkpoint thread does it.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", 64 << 20)?;
    Ok(conn)
}

/// How long the writer must be idle before the WAL is copied into the database.
const CHECKPOINT_DELAY: std::time::Duration = std::time::Duration::from_millis(1000);

/// Brings the schema to this build's version: the numbered migrations of
/// `migrations/sqlite/` not yet applied, each in its transaction.
fn migrate(conn: &mut Connection) -> Result<()> {
    adopt_unversioned(conn)?;
    migrations::runner().run(conn).map_err(migration_error)?;
    cycle::move_documents(conn)?;
    Ok(())
}

/// A database written before numbered migrations (tables, no migration history) is brought
/// to the shape of `V1__initial.sql` and recorded as being at version 1, so that the
/// migrations after it apply. Its oldest shapes lacked `contracts_version` and had the
/// integrated listing's columns and indexes; any table it lacks is created.
fn adopt_unversioned(conn: &mut Connection) -> Result<()> {
    let table_exists = |conn: &Connection, name: &str| -> Result<bool> {
        Ok(conn
            .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1")?
            .exists([name])?)
    };
    if table_exists(conn, "refinery_schema_history")? || !table_exists(conn, "tenants")? {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let has_column = |table: &str, column: &str| -> Result<bool> {
        Ok(tx
            .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")?
            .exists([table, column])?)
    };
    if !has_column("tenants", "contracts_version")? {
        tx.execute_batch(
            "ALTER TABLE tenants ADD COLUMN contracts_version INTEGER NOT NULL DEFAULT 0",
        )?;
    }
    for index in [
        "contracts_active",
        "contracts_integrated",
        "contracts_group",
        "contracts_apprentice",
    ] {
        tx.execute_batch(&format!("DROP INDEX IF EXISTS {index}"))?;
    }
    for column in ["integrated", "formation", "year", "site", "period"] {
        if has_column("contracts", column)? {
            tx.execute_batch(&format!("ALTER TABLE contracts DROP COLUMN {column}"))?;
        }
    }
    tx.execute_batch(
        &INITIAL_SCHEMA
            .replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ")
            .replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS "),
    )?;
    tx.commit()?;
    migrations::runner()
        .set_target(refinery::Target::FakeVersion(1))
        .run(conn)
        .map_err(migration_error)?;
    Ok(())
}

/// Copies the WAL into the database each time a write is signalled, until the store is
/// dropped. A passive checkpoint waits for no reader or writer.
fn spawn_checkpointer(path: &Path) -> Result<mpsc::Sender<()>> {
    let conn = connect(path, READER_CACHE_KIB)?;
    let (sender, receiver) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while receiver.recv().is_ok() {
                // Waits for writes to pause (at most ten delays), so that the copy does not
                // compete with the answer of the sync that just committed.
                let deadline = std::time::Instant::now() + CHECKPOINT_DELAY * 10;
                while receiver.recv_timeout(CHECKPOINT_DELAY).is_ok()
                    && std::time::Instant::now() < deadline
                {}
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    eprintln!("sqlite checkpoint failed: {e}");
                }
            }
        })
        .map_err(|e| StoreError::Database {
            source: Box::new(e),
        })?;
    Ok(sender)
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir`, with an active-set cache of
    /// [`DEFAULT_CACHE_BYTES`].
    pub fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let mut writer = connect(&path, WRITER_CACHE_KIB)?;
        migrate(&mut writer)?;
        let checkpoint = spawn_checkpointer(&path)?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            active: ActiveSetCache::new(DEFAULT_CACHE_BYTES),
            checkpoint: Mutex::new(checkpoint),
        })
    }

    /// The store with an active-set cache of at most `bytes` (estimated size of the sets
    /// kept); the sets over it are dropped, least recently used first. `0` keeps none.
    pub fn with_cache_bytes(mut self, bytes: u64) -> Self {
        self.active.set_capacity(bytes);
        self
    }

    /// The estimated size of the active sets in the cache, in bytes.
    pub fn cached_bytes(&self) -> u64 {
        self.active.weight()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a reader connection from the pool.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = lock(&self.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path, READER_CACHE_KIB)?,
        };
        let result = f(&conn);
        let mut readers = lock(&self.readers);
        if readers.len() < 8 {
            readers.push(conn);
        }
        result
    }

    /// Runs `f` in a write transaction, committed when it returns `Ok`.
    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.writer);
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx);
        let value = value.and_then(|value| Ok(tx.commit().map(|()| value)?));
        // Between writes the writer keeps a reader's share of pages (the hot index pages),
        // not the pages of the last large sync.
        let _ = conn.pragma_update(None, "cache_size", -READER_CACHE_KIB);
        let value = value?;
        drop(conn);
        let _ = lock(&self.checkpoint).send(());
        Ok(value)
    }

    /// Upserts `rows` (in key order), archives `archive`, writes `archived_rows` back archived
    /// and records `run`, in one transaction; returns the tenant's new `contracts_version`.
    fn write_rows(
        &self,
        tenant: TenantId,
        rows: &[ContractRow<'_, '_>],
        archive: &[&str],
        archived_rows: &[ContractRow<'_, '_>],
        based_on: Option<i64>,
        run: Option<(&RunWrite<'_>, Vec<EncodedChunk>)>,
    ) -> Result<i64> {
        self.write(|tx| {
            check_version(tx, tenant, "contracts_version", based_on)?;
            let run = match run {
                Some((run, encoded)) => {
                    runs::insert_changes(tx, tenant, run, Some(encoded))?;
                    Some(run)
                }
                None => None,
            };
            for (rows, archived) in [(rows, false), (archived_rows, true)] {
                if rows.is_empty() {
                    continue;
                }
                let mut upsert = tx.prepare_cached(
                    "INSERT INTO contracts (tenant_id, code, data, archived, group_code,
                         apprentice_code, apprentice_email, tutor_code, tutor_email, master_code,
                         master_email)
                     VALUES (?1, ?2, ?3, ?11, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (tenant_id, code) DO UPDATE SET data = excluded.data,
                         archived = excluded.archived, group_code = excluded.group_code,
                         apprentice_code = excluded.apprentice_code,
                         apprentice_email = excluded.apprentice_email,
                         tutor_code = excluded.tutor_code, tutor_email = excluded.tutor_email,
                         master_code = excluded.master_code, master_email = excluded.master_email",
                )?;
                for row in rows {
                    let contract = row.contract;
                    let [apprentice_email, tutor_email, master_email] = &row.emails;
                    upsert.execute(params![
                        tenant,
                        contract.key(),
                        row.json,
                        contract.trimmed(Field::CodeGroupe),
                        contract.trimmed(Field::CodeApprenant),
                        apprentice_email,
                        contract.trimmed(Field::CodePersonnel),
                        tutor_email,
                        contract.trimmed(Field::CodeMaitreApprentissage),
                        master_email,
                        archived,
                    ])?;
                }
            }
            let mut archived = tx.prepare_cached(
                "UPDATE contracts SET archived = 1 WHERE tenant_id = ?1 AND code = ?2",
            )?;
            for code in archive {
                archived.execute(params![tenant, code])?;
            }
            let version = bump_version(tx, tenant)?;
            if let Some(run) = run {
                runs::finish_run(tx, tenant, run, Some(version))?;
            }
            Ok(version)
        })
    }
}

fn contracts_version(conn: &Connection, tenant: TenantId) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT contracts_version FROM tenants WHERE id = ?1")?
        .query_row([tenant], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Refuses with [`StoreError::Stale`] unless the tenant's `column` (a version) is `based_on`,
/// read in the caller's transaction.
fn check_version(
    conn: &Connection,
    tenant: TenantId,
    column: &'static str,
    based_on: Option<i64>,
) -> Result<()> {
    let Some(based_on) = based_on else {
        return Ok(());
    };
    let stored = version(conn, tenant, column)?;
    if stored != based_on {
        let what = if column == "cycle_version" {
            "cycle data"
        } else {
            "contracts"
        };
        return Err(StoreError::Stale {
            what,
            based_on,
            stored,
        });
    }
    Ok(())
}

/// The tenant's version in `column` (`contracts_version` or `cycle_version`).
fn version(conn: &Connection, tenant: TenantId, column: &'static str) -> Result<i64> {
    Ok(conn
        .prepare_cached(&format!("SELECT {column} FROM tenants WHERE id = ?1"))?
        .query_row([tenant], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Bumps the tenant's `contracts_version` in the transaction; returns the new one.
fn bump_version(tx: &rusqlite::Transaction<'_>, tenant: TenantId) -> Result<i64> {
    Ok(tx
        .prepare_cached(
            "UPDATE tenants SET contracts_version = contracts_version + 1 WHERE id = ?1
             RETURNING contracts_version",
        )?
        .query_row([tenant], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Bumps the tenant's `cycle_version` in the transaction.
fn bump_cycle_version(tx: &rusqlite::Transaction<'_>, tenant: TenantId) -> Result<()> {
    tx.prepare_cached("UPDATE tenants SET cycle_version = cycle_version + 1 WHERE id = ?1")?
        .execute([tenant])?;
    Ok(())
}

fn load_models(conn: &Connection, tenant: TenantId) -> Result<Vec<SessionModel>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT session_models FROM tenants WHERE id = ?1",
            [tenant],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match json {
        Some(json) => serde_json::from_str(&json)?,
        None => Vec::new(),
    })
}

impl Store for SqliteStore {
    fn create_tenant(&self, name: &str, sandbox: bool) -> Result<Tenant> {
        self.write(|tx| {
            let id: Option<TenantId> = tx
                .query_row(
                    "INSERT INTO tenants (name, sandbox) VALUES (?1, ?2)
                     ON CONFLICT (name) DO NOTHING RETURNING id",
                    params![name, sandbox],
                    |r| r.get(0),
                )
                .optional()?;
            match id {
                Some(id) => Ok(Tenant {
                    id,
                    name: name.to_owned(),
                    sandbox,
                }),
                None => Err(StoreError::TenantExists {
                    name: name.to_owned(),
                }),
            }
        })
    }

    fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT id, name, sandbox FROM tenants WHERE name = ?1",
                    [name],
                    |r| {
                        Ok(Tenant {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            sandbox: r.get(2)?,
                        })
                    },
                )
                .optional()?)
        })
    }

    fn add_token(&self, tenant: TenantId, token_hash: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO tokens (hash, tenant_id) VALUES (?1, ?2)
                 ON CONFLICT (hash) DO UPDATE SET tenant_id = excluded.tenant_id",
                params![token_hash, tenant],
            )?;
            Ok(())
        })
    }

    fn tenant_by_token_hash(&self, token_hash: &str) -> Result<Option<Tenant>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT t.id, t.name, t.sandbox FROM tokens k JOIN tenants t ON t.id = k.tenant_id
                     WHERE k.hash = ?1",
                    [token_hash],
                    |r| {
                        Ok(Tenant {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            sandbox: r.get(2)?,
                        })
                    },
                )
                .optional()?)
        })
    }

    fn active_set(&self, tenant: TenantId) -> Result<Arc<ActiveSet>> {
        let version = self.read(|conn| contracts_version(conn, tenant))?;
        self.active.get_or_read(tenant, version, || {
            self.read(|conn| {
                // The version and the rows of one snapshot.
                let tx = conn.unchecked_transaction()?;
                let version = contracts_version(&tx, tenant)?;
                let mut stmt = tx.prepare_cached(
                "SELECT data FROM contracts WHERE tenant_id = ?1 AND archived = 0 ORDER BY code",
            )?;
                let mut rows = stmt.query([tenant])?;
                let mut objects = Vec::new();
                while let Some(row) = rows.next()? {
                    objects.push(row.get::<_, String>(0)?);
                }
                drop(rows);
                drop(stmt);
                tx.commit()?;
                let set = ActiveSet::from_objects(objects.iter().map(String::as_str))?;
                Ok((version, Arc::new(set)))
            })
        })
    }

    fn cache_stats(&self) -> CacheStats {
        self.active.stats()
    }

    fn archived_accounts(&self, tenant: TenantId) -> Result<Vec<KnownAccount>> {
        self.read(|conn| {
            let mut out = Vec::new();
            for (role, code, email) in [
                (Role::Apprentice, "apprentice_code", "apprentice_email"),
                (Role::SchoolTutor, "tutor_code", "tutor_email"),
                (Role::CompanyTutor, "master_code", "master_email"),
            ] {
                let sql = format!(
                    "SELECT DISTINCT {code}, {email} FROM contracts
                     WHERE tenant_id = ?1 AND archived = 1 AND {code} <> ''"
                );
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map([tenant], |r| {
                    Ok(KnownAccount {
                        code: r.get(0)?,
                        role,
                        email: r.get(1)?,
                    })
                })?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
    }

    fn contracts_version(&self, tenant: TenantId) -> Result<i64> {
        self.read(|conn| contracts_version(conn, tenant))
    }

    fn apply_sync(&self, tenant: TenantId, write: &SyncWrite<'_, '_>) -> Result<()> {
        if write.is_empty() {
            // No contract to write: the answer holds if the set it was computed from is
            // current; the run, if any, is recorded on that condition.
            return match &write.run {
                None => self
                    .read(|conn| check_version(conn, tenant, "contracts_version", write.based_on)),
                Some(run) => self.write(|tx| {
                    check_version(tx, tenant, "contracts_version", write.based_on)?;
                    runs::insert_changes(tx, tenant, run, None)?;
                    runs::finish_run(tx, tenant, run, None)
                }),
            };
        }
        // Serialized and normalized on every core, before taking the writer; the run's change
        // records are encoded meanwhile.
        let (rows, encoded) = rayon::join(
            || active::contract_rows(&write.upsert, &write.upsert_json),
            || match &write.run {
                Some(RunWrite::New { changes, .. }) => encode_change_chunks(changes),
                _ => Vec::new(),
            },
        );
        let rows = rows?;
        let archived_rows = active::contract_rows(&write.restore_archived, &[])?;
        self.active
            .write_and_derive(tenant, &rows, &write.archive, || {
                self.write_rows(
                    tenant,
                    &rows,
                    &write.archive,
                    &archived_rows,
                    write.based_on,
                    write.run.as_ref().map(|run| (run, encoded)),
                )
            })
    }

    fn page(
        &self,
        tenant: TenantId,
        listing: Listing,
        offset: usize,
        limit: usize,
    ) -> Result<Page> {
        let set = self.active_set(tenant)?;
        active::page_of(&set, listing, || self.session_models(tenant), offset, limit)
    }

    fn delete_all(&self, tenant: TenantId, run: Option<&RunWrite<'_>>) -> Result<()> {
        let result = self.write(|tx| {
            if let Some(run) = run {
                runs::insert_changes(tx, tenant, run, None)?;
            }
            for table in ["contracts", "events", "absences"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE tenant_id = ?1"),
                    [tenant],
                )?;
            }
            bump_version(tx, tenant)?;
            // A delete cannot be reverted (its contracts are gone): it leaves no
            // `version_after`, and moves the version past every earlier run.
            if let Some(run) = run {
                runs::finish_run(tx, tenant, run, None)?;
            }
            Ok(())
        });
        self.active.forget(tenant);
        result
    }

    fn session_models(&self, tenant: TenantId) -> Result<Vec<SessionModel>> {
        self.read(|conn| load_models(conn, tenant))
    }

    fn set_session_models(&self, tenant: TenantId, models: &[SessionModel]) -> Result<()> {
        let json = serde_json::to_string(models)?;
        self.write(|tx| {
            tx.execute(
                "UPDATE tenants SET session_models = ?2 WHERE id = ?1",
                params![tenant, json],
            )?;
            Ok(())
        })
    }

    fn group_is_active(&self, tenant: TenantId, group: &str) -> Result<bool> {
        Ok(active::has_group(&*self.active_set(tenant)?, group))
    }

    fn replace_events(
        &self,
        tenant: TenantId,
        group: &str,
        events: &[CalendarEvent],
        based_on: Option<i64>,
    ) -> Result<()> {
        let group = group.trim();
        self.write(|tx| {
            check_version(tx, tenant, "contracts_version", based_on)?;
            tx.execute(
                "DELETE FROM events WHERE tenant_id = ?1 AND group_code = ?2",
                params![tenant, group],
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (tenant_id, group_code, position, start, data)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (position, event) in events.iter().enumerate() {
                let data = serde_json::to_string(event)?;
                insert.execute(params![tenant, group, position as i64, event.start, data])?;
            }
            Ok(())
        })
    }

    fn events(&self, tenant: TenantId, group: &str) -> Result<Vec<CalendarEvent>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT data FROM events WHERE tenant_id = ?1 AND group_code = ?2
                 ORDER BY start, position",
            )?;
            let rows = stmt.query_map(params![tenant, group.trim()], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(serde_json::from_str(&row?)?);
            }
            Ok(out)
        })
    }

    fn apprentice_is_active(&self, tenant: TenantId, email: &str) -> Result<bool> {
        Ok(active::has_apprentice(&*self.active_set(tenant)?, email))
    }

    fn replace_absences(
        &self,
        tenant: TenantId,
        email: &str,
        absences: &[Absence],
        based_on: Option<i64>,
    ) -> Result<()> {
        let email = normalize_email(email);
        self.write(|tx| {
            check_version(tx, tenant, "contracts_version", based_on)?;
            tx.execute(
                "DELETE FROM absences WHERE tenant_id = ?1 AND email = ?2",
                params![tenant, email.as_ref()],
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO absences (tenant_id, email, position, data) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (position, absence) in absences.iter().enumerate() {
                let data = serde_json::to_string(absence)?;
                insert.execute(params![tenant, email.as_ref(), position as i64, data])?;
            }
            Ok(())
        })
    }

    fn absences(&self, tenant: TenantId, email: &str) -> Result<Vec<Absence>> {
        let email = normalize_email(email);
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT data FROM absences WHERE tenant_id = ?1 AND email = ?2 ORDER BY position",
            )?;
            let rows =
                stmt.query_map(params![tenant, email.as_ref()], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(serde_json::from_str(&row?)?);
            }
            Ok(out)
        })
    }

    fn cycle_version(&self, tenant: TenantId) -> Result<i64> {
        self.read(|conn| version(conn, tenant, "cycle_version"))
    }

    fn cycle_data(&self, tenant: TenantId) -> Result<CycleData> {
        self.read(|conn| cycle::load_all(conn, tenant))
    }

    fn set_cycle_data(&self, tenant: TenantId, data: &CycleData) -> Result<()> {
        self.write(|tx| {
            cycle::replace_all(tx, tenant, data)?;
            bump_cycle_version(tx, tenant)
        })
    }

    fn cycle_slice(&self, tenant: TenantId, scope: &CycleScope) -> Result<CycleData> {
        self.read(|conn| cycle::load_slice(conn, tenant, scope))
    }

    fn save_cycle_changes(
        &self,
        tenant: TenantId,
        before: &CycleData,
        after: &CycleData,
        based_on: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| {
            check_version(tx, tenant, "cycle_version", based_on)?;
            cycle::save_changes(tx, tenant, before, after)?;
            bump_cycle_version(tx, tenant)
        })
    }

    fn ping(&self) -> Result<()> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
    }

    fn record_run(&self, tenant: TenantId, run: &RunWrite<'_>) -> Result<()> {
        self.write(|tx| {
            runs::insert_changes(tx, tenant, run, None)?;
            runs::finish_run(tx, tenant, run, None)
        })
    }

    fn runs(&self, tenant: TenantId, offset: usize, limit: usize) -> Result<RunPage> {
        self.read(|conn| runs::runs(conn, tenant, offset, limit))
    }

    fn run(&self, tenant: TenantId, run_id: &str) -> Result<Option<Run>> {
        self.read(|conn| runs::run(conn, tenant, run_id))
    }

    fn run_problems(&self, tenant: TenantId, run_id: &str) -> Result<Option<String>> {
        self.read(|conn| runs::problems(conn, tenant, run_id))
    }

    fn run_payload(&self, tenant: TenantId, run_id: &str) -> Result<Option<Vec<u8>>> {
        self.read(|conn| runs::payload(conn, tenant, run_id))
    }

    fn run_changes(
        &self,
        tenant: TenantId,
        run_id: &str,
        filter: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<ChangePage> {
        self.read(|conn| runs::changes(conn, tenant, run_id, filter, offset, limit))
    }

    fn settle_run(
        &self,
        tenant: TenantId,
        run_id: &str,
        outcome: RunOutcome,
        decided_at: i64,
    ) -> Result<bool> {
        self.write(|tx| runs::settle(tx, tenant, run_id, outcome, decided_at))
    }

    fn expire_runs(
        &self,
        tenant: Option<TenantId>,
        received_before: i64,
        decided_at: i64,
    ) -> Result<usize> {
        self.write(|tx| runs::expire(tx, tenant, received_before, decided_at))
    }

    fn prune_runs(&self, received_before: i64) -> Result<usize> {
        self.write(|tx| runs::prune(tx, received_before))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::active::estimated_bytes;
    use sync_core::Contract;

    fn contract(code: &str, group: &str, formation: &str, email: &str) -> Contract<'static> {
        Contract::from_pairs([
            (Field::CodeContrat, code.to_owned()),
            (Field::CodeGroupe, group.to_owned()),
            (Field::CodeFormation, formation.to_owned()),
            (Field::CodeAnnee, "Y".to_owned()),
            (Field::CodeApprenant, format!("A-{code}")),
            (Field::EmailApprenant, email.to_owned()),
        ])
    }

    fn keys(page: &Page) -> String {
        page.contracts
            .iter()
            .map(|json| {
                let v: serde_json::Value = serde_json::from_str(json).unwrap();
                v["codeContrat"].as_str().unwrap().to_owned()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_database_with_the_listing_columns_opens_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        {
            // The contracts table as stores before this version made it, with a row.
            let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            conn.execute_batch(
                "CREATE TABLE tenants (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                     sandbox INTEGER NOT NULL DEFAULT 0,
                     session_models TEXT NOT NULL DEFAULT '[]');
                 CREATE TABLE contracts (id INTEGER PRIMARY KEY,
                     tenant_id INTEGER NOT NULL REFERENCES tenants(id), code TEXT NOT NULL,
                     data TEXT NOT NULL, archived INTEGER NOT NULL DEFAULT 0,
                     integrated INTEGER NOT NULL DEFAULT 0, group_code TEXT NOT NULL,
                     formation TEXT NOT NULL, year TEXT NOT NULL, site TEXT NOT NULL,
                     period TEXT NOT NULL, apprentice_code TEXT NOT NULL,
                     apprentice_email TEXT NOT NULL, tutor_code TEXT NOT NULL,
                     tutor_email TEXT NOT NULL, master_code TEXT NOT NULL,
                     master_email TEXT NOT NULL, UNIQUE (tenant_id, code));
                 CREATE INDEX contracts_integrated
                     ON contracts (tenant_id, archived, integrated, code);
                 INSERT INTO tenants (id, name, session_models)
                     VALUES (1, 'a', '[{\"codeFormation\": \"F1\", \"codeAnnee\": \"Y\"}]');
                 INSERT INTO contracts VALUES (1, 1, 'C1',
                     '{\"codeContrat\":\"C1\",\"codeFormation\":\"F1\",\"codeAnnee\":\"Y\"}',
                     0, 1, '', 'F1', 'Y', '', '', '', '', '', '', '', '');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let integrated = store.page(1, Listing::Integrated, 0, 10).unwrap();
        assert_eq!((keys(&integrated), integrated.total), ("C1".into(), 1));
        let added = contract("C2", "G1", "F2", "x2@e.fr");
        let write = SyncWrite {
            upsert: vec![&added],
            ..Default::default()
        };
        store.apply_sync(1, &write).unwrap();
        assert_eq!(active_keys(&store, 1), "C1 C2");
    }

    fn active_keys(store: &SqliteStore, tenant: TenantId) -> String {
        let set = store.active_set(tenant).unwrap();
        let keys: Vec<_> = set.contracts().iter().map(|c| c.key()).collect();
        keys.join(" ")
    }

    #[test]
    fn cache_stats_count_reads_from_memory_and_from_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let other = SqliteStore::open(dir.path()).unwrap();
        let a = store.create_tenant("a", true).unwrap();
        let check = |hits, misses| {
            assert_eq!(store.cache_stats(), CacheStats { hits, misses });
        };
        check(0, 0);
        store.active_set(a.id).unwrap();
        check(0, 1);
        store.active_set(a.id).unwrap();
        check(1, 1);
        // A write keeps the set it leaves in memory.
        let added = contract("C1", "G1", "F1", "x1@e.fr");
        let write = SyncWrite {
            upsert: vec![&added],
            ..Default::default()
        };
        store.apply_sync(a.id, &write).unwrap();
        store.active_set(a.id).unwrap();
        check(2, 1);
        // A write by another process is read from the database.
        other.delete_all(a.id, None).unwrap();
        store.active_set(a.id).unwrap();
        check(2, 2);
    }

    /// `n` contracts of `tenant`'s own codes (`{tenant}-C{i}`).
    fn contracts_of(tenant: &str, n: usize) -> Vec<Contract<'static>> {
        (0..n)
            .map(|i| contract(&format!("{tenant}-C{i:02}"), "G1", "F1", "x@e.fr"))
            .collect()
    }

    fn sync_all(store: &SqliteStore, tenant: TenantId, contracts: &[Contract<'static>]) {
        let write = SyncWrite {
            upsert: contracts.iter().collect(),
            ..Default::default()
        };
        store.apply_sync(tenant, &write).unwrap();
    }

    /// The estimated size of a set of `n` contracts of a tenant named like `"t0"`.
    fn set_bytes(n: usize) -> u64 {
        estimated_bytes(&ActiveSet::from_contracts(contracts_of("t0", n)))
    }

    #[test]
    fn the_cache_stays_within_its_bound_and_reads_evicted_sets_back() {
        let dir = tempfile::tempdir().unwrap();
        // Room for three sets of 20 contracts, not four.
        let bound = set_bytes(20) * 7 / 2;
        let store = SqliteStore::open(dir.path())
            .unwrap()
            .with_cache_bytes(bound);
        let mut tenants = Vec::new();
        for t in 0..10 {
            let name = format!("t{t}");
            let tenant = store.create_tenant(&name, false).unwrap();
            store.active_set(tenant.id).unwrap();
            sync_all(&store, tenant.id, &contracts_of(&name, 20));
            assert!(
                store.cached_bytes() <= bound,
                "{} > {bound}",
                store.cached_bytes()
            );
            tenants.push((name, tenant.id));
        }
        assert!(store.cached_bytes() >= set_bytes(20) * 2);
        // The first tenants' sets were dropped: read back from the database (a miss each),
        // with the same contracts, and listed as before.
        let misses = store.cache_stats().misses;
        for (name, tenant) in &tenants {
            let expected = contracts_of(name, 20);
            let set = store.active_set(*tenant).unwrap();
            assert_eq!(set.len(), 20);
            for (got, want) in set.contracts().iter().zip(&expected) {
                assert_eq!(
                    serde_json::to_string(got).unwrap(),
                    serde_json::to_string(want).unwrap()
                );
            }
            let page = store.page(*tenant, Listing::Transmitted, 5, 2).unwrap();
            let want = format!("{name}-C05 {name}-C06");
            assert_eq!((keys(&page), page.total), (want, 20));
            assert!(store.cached_bytes() <= bound);
        }
        assert!(store.cache_stats().misses >= misses + 7);
        // The sets read last are kept: read again from memory.
        let hits = store.cache_stats().hits;
        store.active_set(tenants[9].1).unwrap();
        assert_eq!(store.cache_stats().hits, hits + 1);
    }

    #[test]
    fn a_set_larger_than_the_cache_is_read_from_the_database_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path())
            .unwrap()
            .with_cache_bytes(set_bytes(20) / 2);
        let a = store.create_tenant("t0", false).unwrap();
        sync_all(&store, a.id, &contracts_of("t0", 20));
        assert_eq!(store.cached_bytes(), 0);
        for misses in 1..=2 {
            assert_eq!(store.active_set(a.id).unwrap().len(), 20);
            assert_eq!(store.cache_stats(), CacheStats { hits: 0, misses });
            assert_eq!(store.cached_bytes(), 0);
        }
        // A cache of nothing works the same.
        let store = SqliteStore::open(dir.path()).unwrap().with_cache_bytes(0);
        assert_eq!(active_keys(&store, a.id).split(' ').count(), 20);
        assert_eq!(store.cached_bytes(), 0);
    }

    #[test]
    fn another_process_write_is_seen_with_and_without_eviction() {
        let dir = tempfile::tempdir().unwrap();
        // Room for one set of two contracts.
        let store = SqliteStore::open(dir.path())
            .unwrap()
            .with_cache_bytes(set_bytes(2) * 3 / 2);
        let other = SqliteStore::open(dir.path()).unwrap();
        let a = store.create_tenant("a", false).unwrap();
        let b = store.create_tenant("b", false).unwrap();
        let is_cached = |tenant: TenantId| store.active.holds(tenant);
        let [c1, c2, c3] = ["C1", "C2", "C3"].map(|code| contract(code, "G1", "F1", "x@e.fr"));
        sync_all(&store, a.id, std::slice::from_ref(&c1));
        assert_eq!(active_keys(&store, a.id), "C1");
        assert!(is_cached(a.id));
        // Kept in memory, but at an older version than the one `other` writes.
        sync_all(&other, a.id, std::slice::from_ref(&c2));
        assert!(is_cached(a.id));
        assert_eq!(active_keys(&store, a.id), "C1 C2");
        // Dropped for `b`'s set (kept after a write only if the set before it was), then
        // written by `other`.
        store.active_set(b.id).unwrap();
        sync_all(&store, b.id, &contracts_of("b", 2));
        assert!(is_cached(b.id));
        assert!(!is_cached(a.id));
        let write = SyncWrite {
            upsert: vec![&c3],
            archive: vec!["C1"],
            ..Default::default()
        };
        other.apply_sync(a.id, &write).unwrap();
        assert_eq!(active_keys(&store, a.id), "C2 C3");
        let page = store.page(a.id, Listing::Transmitted, 0, 10).unwrap();
        assert_eq!((keys(&page), page.total), ("C2 C3".into(), 2));
        // And the cache still follows the database after its own writes.
        sync_all(&store, a.id, std::slice::from_ref(&c1));
        assert_eq!(active_keys(&other, a.id), "C1 C2 C3");
        assert_eq!(active_keys(&store, a.id), "C1 C2 C3");
    }

    #[test]
    fn a_new_database_is_at_the_last_migration_and_opens_again() {
        let dir = tempfile::tempdir().unwrap();
        let versions = |path: &Path| -> Vec<i64> {
            let conn = Connection::open(path).unwrap();
            let mut stmt = conn
                .prepare("SELECT version FROM refinery_schema_history ORDER BY version")
                .unwrap();
            let rows = stmt.query_map([], |r| r.get(0)).unwrap();
            rows.collect::<rusqlite::Result<_>>().unwrap()
        };
        let last = migrations::runner()
            .get_migrations()
            .iter()
            .map(|m| i64::from(m.version()))
            .max()
            .unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let all: Vec<i64> = (1..=last).collect();
        assert_eq!(versions(store.path()), all);
        store.create_tenant("a", false).unwrap();
        drop(store);
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(versions(store.path()), all);
        assert!(store.tenant_by_name("a").unwrap().is_some());
    }

    #[test]
    fn a_full_disk_is_unavailable_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let a = store.create_tenant("a", false).unwrap();
        let first = contract("C0", "G1", "F1", "x0@e.fr");
        let write = SyncWrite {
            upsert: vec![&first],
            ..Default::default()
        };
        store.apply_sync(a.id, &write).unwrap();
        // The database may not grow past its size now: SQLITE_FULL.
        let pages: i64 = {
            let conn = lock(&store.writer);
            conn.query_row("PRAGMA page_count", [], |r| r.get(0))
                .unwrap()
        };
        let set_max = |max: i64| {
            let conn = lock(&store.writer);
            conn.query_row(&format!("PRAGMA max_page_count = {max}"), [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap();
        };
        set_max(pages);
        let many: Vec<_> = (1..2000)
            .map(|i| contract(&format!("C{i:04}"), "G1", "F1", &format!("x{i}@e.fr")))
            .collect();
        let write = SyncWrite {
            upsert: many.iter().collect(),
            ..Default::default()
        };
        let err = store.apply_sync(a.id, &write).unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
        let cause = std::error::Error::source(&err).expect("the cause is kept");
        assert_eq!(
            cause
                .downcast_ref::<rusqlite::Error>()
                .and_then(rusqlite::Error::sqlite_error_code),
            Some(rusqlite::ErrorCode::DiskFull),
            "{cause}"
        );
        assert!(err.to_string().contains("full"), "{err}");
        assert_eq!(active_keys(&store, a.id), "C0");
        assert_eq!(
            active_keys(&SqliteStore::open(dir.path()).unwrap(), a.id),
            "C0"
        );
        // Space again: the same sync is applied.
        set_max(1 << 30);
        store.apply_sync(a.id, &write).unwrap();
        assert_eq!(store.active_set(a.id).unwrap().len(), 2000);
    }

    #[test]
    fn an_unreadable_database_is_unavailable_or_a_database_error_with_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the database file should be: SQLite cannot open it.
        std::fs::create_dir(dir.path().join(DATABASE_FILE)).unwrap();
        let err = SqliteStore::open(dir.path()).unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
        assert!(std::error::Error::source(&err).is_some(), "{err:?}");
        // Not a database at all: a database error, not a retry.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DATABASE_FILE), vec![b'x'; 4096]).unwrap();
        let err = SqliteStore::open(dir.path()).unwrap_err();
        assert!(!err.is_unavailable(), "{err:?}");
        assert!(std::error::Error::source(&err).is_some(), "{err:?}");
    }

    /// The bytes of every row a run left in the database (its row and its change records).
    fn history_bytes(store: &SqliteStore, run_id: &str) -> (i64, i64) {
        let conn = Connection::open(store.path()).unwrap();
        let run: i64 = conn
            .query_row(
                "SELECT length(run_id) + length(kind) + 8 + length(outcome) + 8 * 8
                     + coalesce(length(user_agent), 0) + 8 + 8 + coalesce(length(reverts), 0)
                     + 8 + coalesce(length(problems), 0) + coalesce(length(payload), 0)
                 FROM runs WHERE run_id = ?1",
                [run_id],
                |r| r.get(0),
            )
            .unwrap();
        let changes: i64 = conn
            .query_row(
                "SELECT count(*) FROM run_changes WHERE run_id = ?1",
                [run_id],
                |r| r.get(0),
            )
            .unwrap();
        (run, changes)
    }

    #[test]
    fn a_resent_unchanged_payload_stores_under_a_kilobyte_of_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let a = store.create_tenant("a", false).unwrap();
        let set = contracts_of("a", 1000);
        sync_all(&store, a.id, &set);
        let version = store.contracts_version(a.id).unwrap();
        // What the engine records for a sync that changes nothing: the run alone.
        let run = crate::Run {
            id: crate::new_run_id().unwrap(),
            kind: crate::RunKind::Full,
            received_at: 1_765_000_000_000,
            outcome: crate::RunOutcome::Applied,
            summary: sync_core::Summary {
                same: 1000,
                ..Default::default()
            },
            errors: 0,
            warnings: 3,
            user_agent: Some("campus-sync-cli/0.1.0 (push; a school's export job)".into()),
            based_on: version,
            version_after: None,
            reverts: None,
            decided_at: None,
        };
        let write = SyncWrite {
            based_on: Some(version),
            run: Some(RunWrite::New {
                run: &run,
                changes: &[],
                problems: None,
                payload: None,
            }),
            ..Default::default()
        };
        store.apply_sync(a.id, &write).unwrap();
        let (bytes, changes) = history_bytes(&store, &run.id);
        assert_eq!(changes, 0, "no change record");
        assert!(bytes < 1024, "{bytes} bytes");
        assert_eq!(store.contracts_version(a.id).unwrap(), version);
    }
}
