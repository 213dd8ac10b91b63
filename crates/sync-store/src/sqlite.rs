//! The SQLite backend: one file in the data directory, WAL journal, one writer connection and
//! a small pool of readers so that listings do not wait for a sync.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use sync_core::contract::normalize_email;
use sync_core::cycle::CycleData;
use sync_core::sync::{is_integrated, Absence, SessionModel};
use sync_core::{Contract, Field, KnownAccount, Role};

use crate::{
    ActiveSet, CalendarEvent, Listing, Page, Result, Store, StoreError, SyncWrite, Tenant, TenantId,
};

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "campus-sync.sqlite3";

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    sandbox INTEGER NOT NULL DEFAULT 0,
    session_models TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id)
);
CREATE TABLE IF NOT EXISTS contracts (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    data TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    integrated INTEGER NOT NULL DEFAULT 0,
    group_code TEXT NOT NULL,
    formation TEXT NOT NULL,
    year TEXT NOT NULL,
    site TEXT NOT NULL,
    period TEXT NOT NULL,
    apprentice_code TEXT NOT NULL,
    apprentice_email TEXT NOT NULL,
    tutor_code TEXT NOT NULL,
    tutor_email TEXT NOT NULL,
    master_code TEXT NOT NULL,
    master_email TEXT NOT NULL,
    UNIQUE (tenant_id, code)
);
CREATE INDEX IF NOT EXISTS contracts_active ON contracts (tenant_id, archived, code);
CREATE INDEX IF NOT EXISTS contracts_integrated ON contracts (tenant_id, archived, integrated, code);
CREATE INDEX IF NOT EXISTS contracts_group ON contracts (tenant_id, group_code);
CREATE INDEX IF NOT EXISTS contracts_apprentice ON contracts (tenant_id, apprentice_email);
CREATE TABLE IF NOT EXISTS events (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    group_code TEXT NOT NULL,
    position INTEGER NOT NULL,
    start TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, group_code, position)
);
CREATE TABLE IF NOT EXISTS absences (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    email TEXT NOT NULL,
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, email, position)
);
CREATE TABLE IF NOT EXISTS cycle_data (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id),
    data TEXT NOT NULL
);
PRAGMA user_version = 2;
"#;

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Database(err.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Corrupt(err.to_string())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::DataDir {
            path: data_dir.display().to_string(),
            message: e.to_string(),
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let writer = connect(&path)?;
        writer.execute_batch(SCHEMA)?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
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
            None => connect(&self.path)?,
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
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
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

fn email(contract: &Contract<'_>, field: Field) -> String {
    normalize_email(contract.trimmed(field)).into_owned()
}

impl Store for SqliteStore {
    fn upsert_tenant(&self, name: &str, token_hash: &str, sandbox: bool) -> Result<Tenant> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO tenants (name, sandbox) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET sandbox = excluded.sandbox",
                params![name, sandbox],
            )?;
            let id: TenantId =
                tx.query_row("SELECT id FROM tenants WHERE name = ?1", [name], |r| {
                    r.get(0)
                })?;
            tx.execute(
                "INSERT INTO tokens (hash, tenant_id) VALUES (?1, ?2)
                 ON CONFLICT (hash) DO UPDATE SET tenant_id = excluded.tenant_id",
                params![token_hash, id],
            )?;
            Ok(Tenant {
                id,
                name: name.to_owned(),
                sandbox,
            })
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

    fn active_set(&self, tenant: TenantId) -> Result<ActiveSet> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT data FROM contracts WHERE tenant_id = ?1 AND archived = 0 ORDER BY id",
            )?;
            let mut rows = stmt.query([tenant])?;
            let mut set = ActiveSet::builder();
            while let Some(row) = rows.next()? {
                let object = row.get_ref(0)?;
                set.push(
                    object
                        .as_str()
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                );
            }
            Ok(set.finish())
        })
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

    fn apply_sync(&self, tenant: TenantId, write: &SyncWrite<'_, '_>) -> Result<()> {
        if write.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let models = load_models(tx, tenant)?;
            let mut upsert = tx.prepare_cached(
                "INSERT INTO contracts (tenant_id, code, data, archived, integrated, group_code,
                     formation, year, site, period, apprentice_code, apprentice_email,
                     tutor_code, tutor_email, master_code, master_email)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (tenant_id, code) DO UPDATE SET data = excluded.data, archived = 0,
                     integrated = excluded.integrated, group_code = excluded.group_code,
                     formation = excluded.formation, year = excluded.year, site = excluded.site,
                     period = excluded.period, apprentice_code = excluded.apprentice_code,
                     apprentice_email = excluded.apprentice_email, tutor_code = excluded.tutor_code,
                     tutor_email = excluded.tutor_email, master_code = excluded.master_code,
                     master_email = excluded.master_email",
            )?;
            for contract in &write.upsert {
                let data = serde_json::to_string(contract)?;
                upsert.execute(params![
                    tenant,
                    contract.key(),
                    data,
                    is_integrated(&models, contract),
                    contract.trimmed(Field::CodeGroupe),
                    contract.trimmed(Field::CodeFormation),
                    contract.trimmed(Field::CodeAnnee),
                    contract.trimmed(Field::CodeSite),
                    contract.trimmed(Field::CodePeriode),
                    contract.trimmed(Field::CodeApprenant),
                    email(contract, Field::EmailApprenant),
                    contract.trimmed(Field::CodePersonnel),
                    email(contract, Field::EmailPersonnel),
                    contract.trimmed(Field::CodeMaitreApprentissage),
                    email(contract, Field::EmailMaitreApprentissage),
                ])?;
            }
            let mut archive = tx.prepare_cached(
                "UPDATE contracts SET archived = 1 WHERE tenant_id = ?1 AND code = ?2",
            )?;
            for code in &write.archive {
                archive.execute(params![tenant, code])?;
            }
            Ok(())
        })
    }

    fn page(
        &self,
        tenant: TenantId,
        listing: Listing,
        offset: usize,
        limit: usize,
    ) -> Result<Page> {
        let filter = match listing {
            Listing::Transmitted => "tenant_id = ?1 AND archived = 0",
            Listing::Integrated => "tenant_id = ?1 AND archived = 0 AND integrated = 1",
        };
        self.read(|conn| {
            let count_sql = format!("SELECT count(*) FROM contracts WHERE {filter}");
            let total: i64 = conn
                .prepare_cached(&count_sql)?
                .query_row([tenant], |r| r.get(0))?;
            // Skip `offset` entries on the covering index, then read one page of rows.
            let page_sql = format!(
                "SELECT data FROM contracts WHERE {filter} AND code >= (
                     SELECT code FROM contracts WHERE {filter} ORDER BY code LIMIT 1 OFFSET ?3)
                 ORDER BY code LIMIT ?2"
            );
            let mut stmt = conn.prepare_cached(&page_sql)?;
            let to_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![tenant, to_i64(limit), to_i64(offset)], |r| {
                r.get::<_, String>(0)
            })?;
            let contracts = rows.collect::<Result<Vec<_>, _>>()?;
            Ok(Page {
                total: usize::try_from(total).unwrap_or(0),
                contracts,
            })
        })
    }

    fn delete_all(&self, tenant: TenantId) -> Result<()> {
        self.write(|tx| {
            for table in ["contracts", "events", "absences"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE tenant_id = ?1"),
                    [tenant],
                )?;
            }
            Ok(())
        })
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
            let mut select = tx.prepare_cached(
                "SELECT code, formation, year, site, period, integrated FROM contracts
                 WHERE tenant_id = ?1",
            )?;
            let rows = select.query_map([tenant], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    [
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ],
                    r.get::<_, bool>(5)?,
                ))
            })?;
            let mut flips = Vec::new();
            for row in rows {
                let (code, [formation, year, site, period], was) = row?;
                let contract = Contract::from_pairs([
                    (Field::CodeFormation, formation),
                    (Field::CodeAnnee, year),
                    (Field::CodeSite, site),
                    (Field::CodePeriode, period),
                ]);
                let now = is_integrated(models, &contract);
                if now != was {
                    flips.push((code, now));
                }
            }
            let mut update = tx.prepare_cached(
                "UPDATE contracts SET integrated = ?3 WHERE tenant_id = ?1 AND code = ?2",
            )?;
            for (code, now) in flips {
                update.execute(params![tenant, code, now])?;
            }
            Ok(())
        })
    }

    fn group_is_active(&self, tenant: TenantId, group: &str) -> Result<bool> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT 1 FROM contracts WHERE tenant_id = ?1 AND group_code = ?2 AND archived = 0
                     LIMIT 1",
                )?
                .exists(params![tenant, group.trim()])?)
        })
    }

    fn replace_events(
        &self,
        tenant: TenantId,
        group: &str,
        events: &[CalendarEvent],
    ) -> Result<()> {
        let group = group.trim();
        self.write(|tx| {
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
        let email = normalize_email(email);
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT 1 FROM contracts WHERE tenant_id = ?1 AND apprentice_email = ?2
                     AND archived = 0 LIMIT 1",
                )?
                .exists(params![tenant, email.as_ref()])?)
        })
    }

    fn replace_absences(&self, tenant: TenantId, email: &str, absences: &[Absence]) -> Result<()> {
        let email = normalize_email(email);
        self.write(|tx| {
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

    fn cycle_data(&self, tenant: TenantId) -> Result<CycleData> {
        let json: Option<String> = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT data FROM cycle_data WHERE tenant_id = ?1",
                    [tenant],
                    |r| r.get(0),
                )
                .optional()?)
        })?;
        match json {
            Some(json) => Ok(serde_json::from_str(&json)?),
            None => Ok(CycleData::default()),
        }
    }

    fn set_cycle_data(&self, tenant: TenantId, data: &CycleData) -> Result<()> {
        let json = serde_json::to_string(data)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO cycle_data (tenant_id, data) VALUES (?1, ?2)
                 ON CONFLICT (tenant_id) DO UPDATE SET data = excluded.data",
                params![tenant, json],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash_token;

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
    fn sync_archive_unarchive_page_and_isolation() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let a = store.upsert_tenant("a", &hash_token("ta"), false).unwrap();
        let b = store.upsert_tenant("b", &hash_token("tb"), true).unwrap();
        let set = [
            contract("C2", "G1", "F1", "x2@e.fr"),
            contract("C1", "G1", "F2", "X1@E.fr"),
            contract("C3", "G2", "F1", "x3@e.fr"),
        ];
        let write = SyncWrite {
            upsert: set.iter().collect(),
            archive: vec![],
        };
        store.apply_sync(a.id, &write).unwrap();
        let all = store.page(a.id, Listing::Transmitted, 0, 10).unwrap();
        assert_eq!((all.total, keys(&all).as_str()), (3, "C1 C2 C3"));
        let second = store.page(a.id, Listing::Transmitted, 1, 1).unwrap();
        assert_eq!((second.total, keys(&second).as_str()), (3, "C2"));
        assert_eq!(
            store.page(b.id, Listing::Transmitted, 0, 10).unwrap().total,
            0
        );

        store
            .apply_sync(
                a.id,
                &SyncWrite {
                    upsert: vec![],
                    archive: vec!["C2"],
                },
            )
            .unwrap();
        assert_eq!(
            keys(&store.page(a.id, Listing::Transmitted, 0, 10).unwrap()),
            "C1 C3"
        );
        assert_eq!(store.active_set(a.id).unwrap().parse().contracts.len(), 2);
        // Archived contracts still count as known accounts.
        assert_eq!(store.archived_accounts(a.id).unwrap().len(), 1);
        assert!(store.apprentice_is_active(a.id, " x1@e.FR ").unwrap());
        assert!(!store.apprentice_is_active(a.id, "x2@e.fr").unwrap());
        assert!(!store.apprentice_is_active(b.id, "x1@e.fr").unwrap());

        store
            .apply_sync(
                a.id,
                &SyncWrite {
                    upsert: vec![&set[0]],
                    archive: vec![],
                },
            )
            .unwrap();
        assert_eq!(
            keys(&store.page(a.id, Listing::Transmitted, 0, 10).unwrap()),
            "C1 C2 C3"
        );

        let model = SessionModel {
            formation: "F1".into(),
            year: "Y".into(),
            site: None,
            period: None,
        };
        store
            .set_session_models(a.id, std::slice::from_ref(&model))
            .unwrap();
        assert_eq!(
            keys(&store.page(a.id, Listing::Integrated, 0, 10).unwrap()),
            "C2 C3"
        );
        assert_eq!(store.session_models(a.id).unwrap(), [model]);

        assert!(store.group_is_active(a.id, "G2").unwrap());
        assert!(!store.group_is_active(b.id, "G2").unwrap());
        store.delete_all(a.id).unwrap();
        assert_eq!(
            store.page(a.id, Listing::Transmitted, 0, 10).unwrap().total,
            0
        );
    }

    #[test]
    fn reopen_keeps_data_and_tokens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            let t = store.upsert_tenant("a", &hash_token("ta"), false).unwrap();
            let event = CalendarEvent {
                uid: Some("u".into()),
                summary: None,
                start: "2025-09-01T08:00:00Z".into(),
                end: "2025-09-01T10:00:00Z".into(),
                location: None,
                description: None,
            };
            store.replace_events(t.id, "G", &[event]).unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let t = store
            .tenant_by_token_hash(&hash_token("ta"))
            .unwrap()
            .unwrap();
        assert_eq!(t.name, "a");
        assert_eq!(store.events(t.id, "G").unwrap().len(), 1);
        assert_eq!(store.tenant_by_token_hash(&hash_token("tb")).unwrap(), None);
    }
}
