//! The PostgreSQL backend: one database shared by any number of server instances, a small
//! pool of blocking connections per store (the `postgres` client, no TLS).
//!
//! Each tenant's active set is kept in memory as in SQLite (the shared cache of `active.rs`),
//! tagged with the tenant's `contracts_version` and used only at the stored version, read
//! before each use: a sync through another instance is seen at the next call. Everything
//! else (tenants, tokens, session models, calendars, absences, cycle data) is read from the
//! database at each call.
//!
//! **Every write transaction of a tenant's data starts by locking the tenant's row**
//! (`SELECT ... FOR NO KEY UPDATE`, which also reads its versions): two writes of one tenant
//! never interleave, whichever instance makes them, the `based_on` check is made under that
//! lock, and as every transaction takes the tenant's row before any other, two of them never
//! wait for each other in a cycle. A sync's contracts are written with one binary `COPY` into
//! a temporary table and one `INSERT ... ON CONFLICT` from it, never a statement a contract.
//!
//! The schema is the numbered migrations of `migrations/postgres/`, applied by refinery when
//! a store connects, under a session advisory lock so that instances starting together do
//! not race. Connection failures, pool timeouts and a server shutting down are
//! [`StoreError::Unavailable`]; other failures [`StoreError::Database`], with their cause.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, IsolationLevel, NoTls, Row, Statement, Transaction};
use sync_core::normalize_email;
use sync_core::rules::{Absence, CalendarEvent, SessionModel};
use sync_core::{Field, KnownAccount, Role};
use sync_cycle::{CycleData, CycleScope};

use crate::active::{self, lock, ActiveSetCache, ContractRow, DEFAULT_CACHE_BYTES};
use crate::{
    encode_change_chunks, ActiveSet, CacheStats, ChangePage, EncodedChunk, Listing, Page, Result,
    ReviewKey, Run, RunOutcome, RunPage, RunWrite, Store, StoreError, SyncWrite, Tenant, TenantId,
};
use copy::BinaryRows;

mod copy;
mod cycle;
mod review;
mod runs;

refinery::embed_migrations!("migrations/postgres");

/// How a [`PostgresStore`] connects and what it keeps.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections kept open at most; each call holds one for its statement or transaction.
    pub pool_size: usize,
    /// The bound of the active-set cache, in bytes (estimated size of the sets kept).
    pub cache_bytes: u64,
    /// How long opening one connection may take (unless the URL sets `connect_timeout`).
    pub connect_timeout: Duration,
    /// How long a call waits for a free connection before [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
}

impl Default for PostgresOptions {
    /// 8 connections, a cache of [`DEFAULT_CACHE_BYTES`], 5 s to connect, 30 s to wait for a
    /// connection.
    fn default() -> Self {
        PostgresOptions {
            pool_size: 8,
            cache_bytes: DEFAULT_CACHE_BYTES,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The PostgreSQL store.
#[derive(Debug)]
pub struct PostgresStore {
    pool: Pool,
    active: ActiveSetCache,
}

/// A `postgres` error shown with its cause (the server's message, the I/O error), which the
/// client's own message ("db error") leaves out; its `source()` is that cause.
#[derive(Debug)]
struct PgError(postgres::Error);

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        if let Some(cause) = std::error::Error::source(&self.0) {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

/// A failure to connect, naming the database (its URL without the password).
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {url}: {source}")]
struct ConnectError {
    url: String,
    #[source]
    source: PgError,
}

/// No connection of the pool freed in time.
#[derive(Debug, thiserror::Error)]
#[error("no free database connection after {waited:?} (a pool of {size})")]
struct PoolTimeout {
    waited: Duration,
    size: usize,
}

/// A closed connection, a failure to reach the server, a server shutting down, out of
/// connections, disk or memory, a serialization failure or a deadlock:
/// [`StoreError::Unavailable`]; any other failure: [`StoreError::Database`].
impl From<postgres::Error> for StoreError {
    fn from(err: postgres::Error) -> Self {
        if is_unavailable(&err) {
            StoreError::Unavailable {
                source: Box::new(PgError(err)),
            }
        } else {
            StoreError::Database {
                source: Box::new(PgError(err)),
            }
        }
    }
}

fn is_unavailable(err: &postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    if let Some(code) = err.code() {
        let code = code.code();
        // 08: connection exception; 53: insufficient resources; 57P: shutdown, cannot
        // connect now; 57014: cancelled (statement timeout); 40001, 40P01: serialization
        // failure, deadlock; 25006: read-only transaction (a standby); 55P03: lock not
        // available.
        return ["08", "53", "57P"]
            .iter()
            .any(|class| code.starts_with(class))
            || ["57014", "40001", "40P01", "25006", "55P03"].contains(&code);
    }
    // No answer from the server: refused, reset, timed out.
    let mut cause = std::error::Error::source(err);
    while let Some(e) = cause {
        if e.is::<std::io::Error>() {
            return true;
        }
        cause = e.source();
    }
    err.to_string() == "timeout waiting for server"
}

/// A failed migration, [`StoreError::Unavailable`] when its cause is.
fn migration_error(err: refinery::Error) -> StoreError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        if e.downcast_ref::<postgres::Error>()
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

pub(crate) use crate::location::redact_password as redact_url;

/// A connection with the statements prepared on it.
struct Session {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("statements", &self.statements.len())
            .finish()
    }
}

/// A small pool of connections: at most `size` open, the idle ones kept for the next call, a
/// closed one dropped (the next call opens another).
///
/// **No code holding a connection runs rayon** (parsing, sorting, the derived set run before
/// or after): callers of the store may be rayon workers (the engine writes inside
/// `rayon::join`), and a worker waiting here for a connection must not be the one a
/// connection's holder waits for.
#[derive(Debug)]
struct Pool {
    config: Config,
    /// The URL without its password.
    url: String,
    size: usize,
    acquire_timeout: Duration,
    state: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct PoolState {
    idle: Vec<Session>,
    /// Connections open, idle or in use.
    open: usize,
}

/// A connection taken from the pool, given back when dropped.
struct Pooled<'p> {
    pool: &'p Pool,
    session: Option<Session>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session
            .as_ref()
            .expect("a pooled session until dropped")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        self.session
            .as_mut()
            .expect("a pooled session until dropped")
    }
}

impl Pooled<'_> {
    /// Gives back the connection if `result` says it still works; else closes it (the next
    /// call opens another): a connection that failed as unavailable may be half closed.
    fn give_back<T>(mut self, result: Result<T>) -> Result<T> {
        if result.as_ref().is_err_and(StoreError::is_unavailable) {
            self.release(true);
        }
        result
    }

    fn release(&mut self, broken: bool) {
        let Some(session) = self.session.take() else {
            return;
        };
        let mut state = lock(&self.pool.state);
        if broken || session.client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(session);
        }
        drop(state);
        self.pool.freed.notify_one();
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        self.release(false);
    }
}

/// The idle connections are closed on a thread of their own: closing a `postgres::Client`
/// blocks on the client's runtime, which panics on an async runtime's worker thread, where a
/// server drops its last handle on the store when it stops.
impl Drop for Pool {
    fn drop(&mut self) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let idle = std::mem::take(&mut state.idle);
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

impl Pool {
    /// A connection: an idle one, a new one while fewer than `size` are open, else the first
    /// one freed within `acquire_timeout`.
    fn get(&self) -> Result<Pooled<'_>> {
        let deadline = Instant::now() + self.acquire_timeout;
        let mut state = lock(&self.state);
        loop {
            if let Some(session) = state.idle.pop() {
                if session.client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    session: Some(session),
                });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(session) => Ok(Pooled {
                        pool: self,
                        session: Some(session),
                    }),
                    Err(e) => {
                        lock(&self.state).open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Unavailable {
                    source: Box::new(PoolTimeout {
                        waited: self.acquire_timeout,
                        size: self.size,
                    }),
                });
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    fn connect(&self) -> Result<Session> {
        let client = self.config.connect(NoTls).map_err(|err| {
            let unavailable = is_unavailable(&err);
            let source = Box::new(ConnectError {
                url: self.url.clone(),
                source: PgError(err),
            });
            if unavailable {
                StoreError::Unavailable { source }
            } else {
                StoreError::Database { source }
            }
        })?;
        let mut session = Session {
            client,
            statements: HashMap::new(),
        };
        // A transaction left open by an instance that stopped without closing its
        // connection (frozen, cut off) ends after a minute, and with it the tenant lock it
        // holds; the store's transactions never wait on anything but the database.
        //
        // Every statement reads one tenant's rows through an index, but the planner's
        // guess of a tenant's share of `contracts` grows with the table: past a few million
        // rows it planned each active-set read as a parallel scan with JIT compilation,
        // ~300 ms of CPU instead of a few ms (1,000-tenant throughput fell from 70 to 21
        // syncs/s as the database grew). Neither pays off for one tenant's rows.
        session.client.batch_execute(
            "SET idle_in_transaction_session_timeout = '60s';
             SET jit = off;
             SET max_parallel_workers_per_gather = 0",
        )?;
        Ok(session)
    }
}

/// What statements run on: a connection or a transaction of it, with the connection's
/// prepared statements (each SQL text is prepared once per connection).
struct Db<'a, C> {
    conn: &'a mut C,
    statements: &'a mut HashMap<&'static str, Statement>,
}

/// A statement's parameters.
type Params<'a> = [&'a (dyn ToSql + Sync)];

impl<C: GenericClient> Db<'_, C> {
    fn prepared(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.conn.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn query(&mut self, sql: &'static str, params: &Params<'_>) -> Result<Vec<Row>> {
        let statement = self.prepared(sql)?;
        Ok(self.conn.query(&statement, params)?)
    }

    fn query_opt(&mut self, sql: &'static str, params: &Params<'_>) -> Result<Option<Row>> {
        let statement = self.prepared(sql)?;
        Ok(self.conn.query_opt(&statement, params)?)
    }

    fn execute(&mut self, sql: &'static str, params: &Params<'_>) -> Result<u64> {
        let statement = self.prepared(sql)?;
        Ok(self.conn.execute(&statement, params)?)
    }
}

/// The key of the session advisory lock held while migrating ("campus-sync" in ASCII, cut).
const MIGRATION_LOCK: i64 = 0x6361_6d70_7573_2d73;

/// Brings the schema to this build's version: the numbered migrations of
/// `migrations/postgres/` not yet applied, one instance at a time.
fn migrate(client: &mut Client) -> Result<()> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let migrated = migrations::runner().run(client).map_err(migration_error);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    migrated?;
    unlocked?;
    Ok(())
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, or
    /// the key-value form), brings its schema to this build's version and returns the store.
    /// Fails at once, naming the URL without its password: [`StoreError::InvalidUrl`] for a
    /// URL that does not parse, [`StoreError::Unavailable`] for a server that cannot be
    /// reached, [`StoreError::Database`] for one that refuses (authentication, no such
    /// database), [`StoreError::Migration`] for a schema it cannot migrate.
    pub fn connect(url: &str, options: PostgresOptions) -> Result<Self> {
        let shown = redact_url(url);
        let mut config: Config = url.parse().map_err(|e| StoreError::InvalidUrl {
            url: shown.clone(),
            source: Box::new(PgError(e)),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("campus-sync");
        }
        let pool = Pool {
            config,
            url: shown,
            size: options.pool_size.max(1),
            acquire_timeout: options.acquire_timeout,
            state: Mutex::new(PoolState::default()),
            freed: Condvar::new(),
        };
        {
            let mut session = pool.get()?;
            migrate(&mut session.client)?;
        }
        Ok(PostgresStore {
            pool,
            active: ActiveSetCache::new(options.cache_bytes),
        })
    }

    /// The database's URL without its password.
    pub fn url(&self) -> &str {
        &self.pool.url
    }

    /// The estimated size of the active sets in the cache, in bytes.
    pub fn cached_bytes(&self) -> u64 {
        self.active.weight()
    }

    /// Runs `f` on a pooled connection, outside a transaction.
    fn read<T>(&self, f: impl FnOnce(&mut Db<'_, Client>) -> Result<T>) -> Result<T> {
        let mut pooled = self.pool.get()?;
        let Session { client, statements } = &mut *pooled;
        let result = f(&mut Db {
            conn: client,
            statements,
        });
        pooled.give_back(result)
    }

    /// Runs `f` in a read-only transaction of one snapshot (its reads agree with each other).
    fn read_snapshot<T>(
        &self,
        f: impl FnOnce(&mut Db<'_, Transaction<'_>>) -> Result<T>,
    ) -> Result<T> {
        let mut pooled = self.pool.get()?;
        let Session { client, statements } = &mut *pooled;
        let result = (|| {
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let value = f(&mut Db {
                conn: &mut tx,
                statements,
            })?;
            tx.commit()?;
            Ok(value)
        })();
        pooled.give_back(result)
    }

    /// Runs `f` in a write transaction, committed when it returns `Ok` (rolled back else).
    fn write<T>(&self, f: impl FnOnce(&mut Db<'_, Transaction<'_>>) -> Result<T>) -> Result<T> {
        let mut pooled = self.pool.get()?;
        let Session { client, statements } = &mut *pooled;
        let result = (|| {
            let mut tx = client.transaction()?;
            let value = f(&mut Db {
                conn: &mut tx,
                statements,
            })?;
            tx.commit()?;
            Ok(value)
        })();
        pooled.give_back(result)
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
        self.write(|db| {
            let versions = lock_tenant(db, tenant)?;
            check_version(versions.contracts, "contracts", based_on)?;
            let run = match run {
                Some((run, encoded)) => {
                    runs::insert_changes(db, tenant, run, Some(encoded))?;
                    Some(run)
                }
                None => None,
            };
            if !rows.is_empty() || !archived_rows.is_empty() {
                copy_contracts(db, tenant, rows, archived_rows)?;
            }
            if !archive.is_empty() {
                db.execute(
                    "UPDATE contracts SET archived = TRUE WHERE tenant_id = $1 AND code = ANY($2)",
                    &[&tenant, &archive],
                )?;
            }
            let version = bump_contracts_version(db, tenant)?;
            if let Some(run) = run {
                runs::finish_run(db, tenant, run, Some(version))?;
            }
            Ok(version)
        })
    }
}

/// The contract rows (`rows` active, `archived_rows` archived) written by binary `COPY`: for
/// a tenant without any contract row (a first load), straight into `contracts`; else into a
/// temporary table dropped at commit, then inserted or updated in `contracts` by one
/// statement. Called with the tenant's row locked: no other write adds its rows meanwhile.
fn copy_contracts(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    rows: &[ContractRow<'_, '_>],
    archived_rows: &[ContractRow<'_, '_>],
) -> Result<()> {
    let first_load = !db
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM contracts WHERE tenant_id = $1)",
            &[&tenant],
        )?
        .map_or(Ok(false), |row| row.try_get::<_, bool>(0))?;
    let mut sink = if first_load {
        db.conn.copy_in(
            "COPY contracts (tenant_id, code, data, archived, group_code, apprentice_code,
                 apprentice_email, tutor_code, tutor_email, master_code, master_email)
             FROM STDIN (FORMAT binary)",
        )?
    } else {
        db.conn.batch_execute(
            "CREATE TEMPORARY TABLE contracts_stage (tenant_id BIGINT, code TEXT, data TEXT,
                 archived BOOLEAN, group_code TEXT, apprentice_code TEXT, apprentice_email TEXT,
                 tutor_code TEXT, tutor_email TEXT, master_code TEXT, master_email TEXT)
             ON COMMIT DROP",
        )?;
        db.conn
            .copy_in("COPY contracts_stage FROM STDIN (FORMAT binary)")?
    };
    let mut copy = BinaryRows::new(&mut sink);
    for (rows, archived) in [(rows, false), (archived_rows, true)] {
        for row in rows {
            let contract = row.contract;
            let [apprentice_email, tutor_email, master_email] = &row.emails;
            copy.row(11)?;
            copy.int8(tenant);
            copy.text(contract.key())?;
            copy.text(&row.json)?;
            copy.boolean(archived);
            copy.text(contract.trimmed(Field::CodeGroupe))?;
            copy.text(contract.trimmed(Field::CodeApprenant))?;
            copy.text(apprentice_email)?;
            copy.text(contract.trimmed(Field::CodePersonnel))?;
            copy.text(tutor_email)?;
            copy.text(contract.trimmed(Field::CodeMaitreApprentissage))?;
            copy.text(master_email)?;
        }
    }
    copy.end()?;
    sink.finish()?;
    if first_load {
        return Ok(());
    }
    db.conn.execute(
        "INSERT INTO contracts (tenant_id, code, data, archived, group_code, apprentice_code,
             apprentice_email, tutor_code, tutor_email, master_code, master_email)
         SELECT tenant_id, code, data, archived, group_code, apprentice_code, apprentice_email,
             tutor_code, tutor_email, master_code, master_email
         FROM contracts_stage
         ON CONFLICT (tenant_id, code) DO UPDATE SET data = excluded.data,
             archived = excluded.archived,
             group_code = excluded.group_code, apprentice_code = excluded.apprentice_code,
             apprentice_email = excluded.apprentice_email, tutor_code = excluded.tutor_code,
             tutor_email = excluded.tutor_email, master_code = excluded.master_code,
             master_email = excluded.master_email",
        &[],
    )?;
    Ok(())
}

/// A tenant's versions, read under its row lock.
struct Versions {
    contracts: i64,
    cycle: i64,
}

/// Locks the tenant's row until the transaction ends (another write of the tenant, from any
/// instance, waits here) and reads its versions; zeros for a tenant that does not exist.
fn lock_tenant(db: &mut Db<'_, Transaction<'_>>, tenant: TenantId) -> Result<Versions> {
    let row = db.query_opt(
        "SELECT contracts_version, cycle_version FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
        &[&tenant],
    )?;
    Ok(match row {
        Some(row) => Versions {
            contracts: row.try_get(0)?,
            cycle: row.try_get(1)?,
        },
        None => Versions {
            contracts: 0,
            cycle: 0,
        },
    })
}

/// Refuses with [`StoreError::Stale`] unless `stored` is `based_on`.
fn check_version(stored: i64, what: &'static str, based_on: Option<i64>) -> Result<()> {
    match based_on {
        Some(based_on) if based_on != stored => Err(StoreError::Stale {
            what,
            based_on,
            stored,
        }),
        _ => Ok(()),
    }
}

/// Bumps the tenant's `contracts_version` in the transaction; returns the new one.
fn bump_contracts_version(db: &mut Db<'_, Transaction<'_>>, tenant: TenantId) -> Result<i64> {
    let row = db.query_opt(
        "UPDATE tenants SET contracts_version = contracts_version + 1 WHERE id = $1
         RETURNING contracts_version",
        &[&tenant],
    )?;
    Ok(match row {
        Some(row) => row.try_get(0)?,
        None => 0,
    })
}

/// Bumps the tenant's `cycle_version` in the transaction.
fn bump_cycle_version(db: &mut Db<'_, Transaction<'_>>, tenant: TenantId) -> Result<()> {
    db.execute(
        "UPDATE tenants SET cycle_version = cycle_version + 1 WHERE id = $1",
        &[&tenant],
    )?;
    Ok(())
}

fn contracts_version<C: GenericClient>(db: &mut Db<'_, C>, tenant: TenantId) -> Result<i64> {
    let row = db.query_opt(
        "SELECT contracts_version FROM tenants WHERE id = $1",
        &[&tenant],
    )?;
    Ok(match row {
        Some(row) => row.try_get(0)?,
        None => 0,
    })
}

fn tenant_of(row: &Row) -> Result<Tenant> {
    Ok(Tenant {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        sandbox: row.try_get(2)?,
    })
}

/// The JSON column of each row, parsed.
fn parse_all<T>(rows: &[Row], parse: impl Fn(&str) -> serde_json::Result<T>) -> Result<Vec<T>> {
    rows.iter()
        .map(|row| Ok(parse(row.try_get::<_, &str>(0)?)?))
        .collect()
}

/// `0, 1, 2, ...`: the positions of `n` items.
fn positions(n: usize) -> Vec<i64> {
    (0..n as i64).collect()
}

impl Store for PostgresStore {
    fn create_tenant(&self, name: &str, sandbox: bool) -> Result<Tenant> {
        let row = self.read(|db| {
            db.query_opt(
                "INSERT INTO tenants (name, sandbox) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&name, &sandbox],
            )
        })?;
        match row {
            Some(row) => Ok(Tenant {
                id: row.try_get(0)?,
                name: name.to_owned(),
                sandbox,
            }),
            None => Err(StoreError::TenantExists {
                name: name.to_owned(),
            }),
        }
    }

    fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>> {
        let row = self.read(|db| {
            db.query_opt(
                "SELECT id, name, sandbox FROM tenants WHERE name = $1",
                &[&name],
            )
        })?;
        row.as_ref().map(tenant_of).transpose()
    }

    fn add_token(&self, tenant: TenantId, token_hash: &str) -> Result<()> {
        self.read(|db| {
            db.execute(
                "INSERT INTO tokens (hash, tenant_id) VALUES ($1, $2)
                 ON CONFLICT (hash) DO UPDATE SET tenant_id = excluded.tenant_id",
                &[&token_hash, &tenant],
            )
        })?;
        Ok(())
    }

    // The one lookup by token rather than by tenant, as in SQLite: the tenant directory.
    fn tenant_by_token_hash(&self, token_hash: &str) -> Result<Option<Tenant>> {
        let row = self.read(|db| {
            db.query_opt(
                "SELECT t.id, t.name, t.sandbox FROM tokens k JOIN tenants t ON t.id = k.tenant_id
                 WHERE k.hash = $1",
                &[&token_hash],
            )
        })?;
        row.as_ref().map(tenant_of).transpose()
    }

    fn contracts_version(&self, tenant: TenantId) -> Result<i64> {
        self.read(|db| contracts_version(db, tenant))
    }

    fn active_set(&self, tenant: TenantId) -> Result<Arc<ActiveSet>> {
        let version = self.contracts_version(tenant)?;
        self.active.get_or_read(tenant, version, || {
            // The version and the rows of one snapshot; parsed (on every core) once the
            // connection is given back.
            let (version, rows) = self.read_snapshot(|db| {
                let version = contracts_version(db, tenant)?;
                let rows = db.query(
                    "SELECT data FROM contracts WHERE tenant_id = $1 AND NOT archived",
                    &[&tenant],
                )?;
                Ok((version, rows))
            })?;
            let objects = rows
                .iter()
                .map(|row| row.try_get::<_, &str>(0))
                .collect::<Result<Vec<_>, _>>()?;
            let set = ActiveSet::from_objects(objects)?;
            Ok((version, Arc::new(set)))
        })
    }

    fn cache_stats(&self) -> CacheStats {
        self.active.stats()
    }

    fn archived_accounts(&self, tenant: TenantId) -> Result<Vec<KnownAccount>> {
        self.read_snapshot(|db| {
            let mut out = Vec::new();
            for (role, sql) in [
                (
                    Role::Apprentice,
                    "SELECT DISTINCT apprentice_code, apprentice_email FROM contracts
                     WHERE tenant_id = $1 AND archived AND apprentice_code <> ''",
                ),
                (
                    Role::SchoolTutor,
                    "SELECT DISTINCT tutor_code, tutor_email FROM contracts
                     WHERE tenant_id = $1 AND archived AND tutor_code <> ''",
                ),
                (
                    Role::CompanyTutor,
                    "SELECT DISTINCT master_code, master_email FROM contracts
                     WHERE tenant_id = $1 AND archived AND master_code <> ''",
                ),
            ] {
                for row in db.query(sql, &[&tenant])? {
                    out.push(KnownAccount {
                        code: row.try_get(0)?,
                        role,
                        email: row.try_get(1)?,
                    });
                }
            }
            Ok(out)
        })
    }

    fn apply_sync(&self, tenant: TenantId, write: &SyncWrite<'_, '_>) -> Result<()> {
        if write.is_empty() {
            // No contract to write: the answer holds if the set it was computed from is
            // current; the run, if any, is recorded on that condition.
            return match &write.run {
                None => {
                    let stored = self.contracts_version(tenant)?;
                    check_version(stored, "contracts", write.based_on)
                }
                Some(run) => self.write(|db| {
                    let versions = lock_tenant(db, tenant)?;
                    check_version(versions.contracts, "contracts", write.based_on)?;
                    runs::insert_changes(db, tenant, run, None)?;
                    runs::finish_run(db, tenant, run, None)
                }),
            };
        }
        // Serialized and normalized on every core, before taking a connection; the run's
        // change records are encoded meanwhile.
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
        let result = self.write(|db| {
            lock_tenant(db, tenant)?;
            if let Some(run) = run {
                runs::insert_changes(db, tenant, run, None)?;
            }
            db.execute("DELETE FROM contracts WHERE tenant_id = $1", &[&tenant])?;
            db.execute("DELETE FROM events WHERE tenant_id = $1", &[&tenant])?;
            db.execute("DELETE FROM absences WHERE tenant_id = $1", &[&tenant])?;
            bump_contracts_version(db, tenant)?;
            // A delete cannot be reverted (its contracts are gone): it leaves no
            // `version_after`, and moves the version past every earlier run.
            if let Some(run) = run {
                runs::finish_run(db, tenant, run, None)?;
            }
            Ok(())
        });
        self.active.forget(tenant);
        result
    }

    fn session_models(&self, tenant: TenantId) -> Result<Vec<SessionModel>> {
        let row = self.read(|db| {
            db.query_opt(
                "SELECT session_models FROM tenants WHERE id = $1",
                &[&tenant],
            )
        })?;
        Ok(match row {
            Some(row) => serde_json::from_str(row.try_get::<_, &str>(0)?)?,
            None => Vec::new(),
        })
    }

    fn set_session_models(&self, tenant: TenantId, models: &[SessionModel]) -> Result<()> {
        let json = serde_json::to_string(models)?;
        self.read(|db| {
            db.execute(
                "UPDATE tenants SET session_models = $2 WHERE id = $1",
                &[&tenant, &json],
            )
        })?;
        Ok(())
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
        let starts: Vec<&str> = events.iter().map(|e| e.start.as_str()).collect();
        let data = events
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        self.write(|db| {
            let versions = lock_tenant(db, tenant)?;
            check_version(versions.contracts, "contracts", based_on)?;
            db.execute(
                "DELETE FROM events WHERE tenant_id = $1 AND group_code = $2",
                &[&tenant, &group],
            )?;
            db.execute(
                "INSERT INTO events (tenant_id, group_code, position, start, data)
                 SELECT $1, $2, position, start, data
                 FROM unnest($3::BIGINT[], $4::TEXT[], $5::TEXT[]) AS e (position, start, data)",
                &[&tenant, &group, &positions(events.len()), &starts, &data],
            )?;
            Ok(())
        })
    }

    fn events(&self, tenant: TenantId, group: &str) -> Result<Vec<CalendarEvent>> {
        let rows = self.read(|db| {
            db.query(
                "SELECT data FROM events WHERE tenant_id = $1 AND group_code = $2
                 ORDER BY start, position",
                &[&tenant, &group.trim()],
            )
        })?;
        parse_all(&rows, |json| serde_json::from_str(json))
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
        let email = email.as_ref();
        let data = absences
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        self.write(|db| {
            let versions = lock_tenant(db, tenant)?;
            check_version(versions.contracts, "contracts", based_on)?;
            db.execute(
                "DELETE FROM absences WHERE tenant_id = $1 AND email = $2",
                &[&tenant, &email],
            )?;
            db.execute(
                "INSERT INTO absences (tenant_id, email, position, data)
                 SELECT $1, $2, position, data
                 FROM unnest($3::BIGINT[], $4::TEXT[]) AS a (position, data)",
                &[&tenant, &email, &positions(absences.len()), &data],
            )?;
            Ok(())
        })
    }

    fn absences(&self, tenant: TenantId, email: &str) -> Result<Vec<Absence>> {
        let email = normalize_email(email);
        let rows = self.read(|db| {
            db.query(
                "SELECT data FROM absences WHERE tenant_id = $1 AND email = $2 ORDER BY position",
                &[&tenant, &email.as_ref()],
            )
        })?;
        parse_all(&rows, |json| serde_json::from_str(json))
    }

    fn cycle_version(&self, tenant: TenantId) -> Result<i64> {
        let row = self.read(|db| {
            db.query_opt(
                "SELECT cycle_version FROM tenants WHERE id = $1",
                &[&tenant],
            )
        })?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => 0,
        })
    }

    fn cycle_data(&self, tenant: TenantId) -> Result<CycleData> {
        self.read_snapshot(|db| cycle::load_all(db, tenant))
    }

    fn set_cycle_data(&self, tenant: TenantId, data: &CycleData) -> Result<()> {
        self.write(|db| {
            lock_tenant(db, tenant)?;
            cycle::replace_all(db, tenant, data)?;
            bump_cycle_version(db, tenant)
        })
    }

    fn cycle_slice(&self, tenant: TenantId, scope: &CycleScope) -> Result<CycleData> {
        self.read_snapshot(|db| cycle::load_slice(db, tenant, scope))
    }

    fn save_cycle_changes(
        &self,
        tenant: TenantId,
        before: &CycleData,
        after: &CycleData,
        based_on: Option<i64>,
    ) -> Result<()> {
        self.write(|db| {
            let versions = lock_tenant(db, tenant)?;
            check_version(versions.cycle, "cycle data", based_on)?;
            cycle::save_changes(db, tenant, before, after)?;
            bump_cycle_version(db, tenant)
        })
    }

    fn ping(&self) -> Result<()> {
        self.read(|db| db.execute("SELECT 1", &[]).map(drop))
    }

    fn record_run(&self, tenant: TenantId, run: &RunWrite<'_>) -> Result<()> {
        self.write(|db| {
            // The tenant's next `seq`, one writer at a time.
            lock_tenant(db, tenant)?;
            runs::insert_changes(db, tenant, run, None)?;
            runs::finish_run(db, tenant, run, None)
        })
    }

    fn runs(&self, tenant: TenantId, offset: usize, limit: usize) -> Result<RunPage> {
        self.read_snapshot(|db| runs::runs(db, tenant, offset, limit))
    }

    fn run(&self, tenant: TenantId, run_id: &str) -> Result<Option<Run>> {
        self.read(|db| runs::run(db, tenant, run_id))
    }

    fn run_problems(&self, tenant: TenantId, run_id: &str) -> Result<Option<String>> {
        self.read(|db| runs::problems(db, tenant, run_id))
    }

    fn run_payload(&self, tenant: TenantId, run_id: &str) -> Result<Option<Vec<u8>>> {
        self.read(|db| runs::payload(db, tenant, run_id))
    }

    fn run_changes(
        &self,
        tenant: TenantId,
        run_id: &str,
        filter: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<ChangePage> {
        let filtered = filter.is_some_and(|f| !f.is_empty());
        let (total, chunks) = self
            .read_snapshot(|db| runs::change_chunks(db, tenant, run_id, filtered, offset, limit))?;
        runs::page(total, &chunks, filter, offset, limit)
    }

    fn settle_run(
        &self,
        tenant: TenantId,
        run_id: &str,
        outcome: RunOutcome,
        decided_at: i64,
    ) -> Result<bool> {
        self.read(|db| runs::settle(db, tenant, run_id, outcome, decided_at))
    }

    fn expire_runs(
        &self,
        tenant: Option<TenantId>,
        received_before: i64,
        decided_at: i64,
    ) -> Result<usize> {
        self.write(|db| runs::expire(db, tenant, received_before, decided_at))
    }

    fn prune_runs(&self, received_before: i64) -> Result<usize> {
        self.write(|db| runs::prune(db, received_before))
    }

    fn add_review_key(
        &self,
        tenant: TenantId,
        run_id: &str,
        key_hash: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.write(|db| review::add(db, tenant, run_id, key_hash, expires_at))
    }

    fn review_key(&self, key_hash: &str, now: i64) -> Result<Option<ReviewKey>> {
        self.read(|db| review::find(db, key_hash, now))
    }

    fn prune_review_keys(&self, now: i64) -> Result<usize> {
        self.write(|db| review::prune(db, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        let check = |url: &str, shown: &str| assert_eq!(redact_url(url), shown, "{url}");
        check(
            "postgres://campus:secret@127.0.0.1:5432/campus",
            "postgres://campus@127.0.0.1:5432/campus",
        );
        check(
            "postgresql://campus:s%40cret@db/campus?password=x&connect_timeout=2",
            "postgresql://campus@db/campus?connect_timeout=2",
        );
        check("postgres://db/campus", "postgres://db/campus");
        check(
            "host=db user=campus password=secret dbname=campus",
            "host=db user=campus dbname=campus",
        );
    }

    #[test]
    fn a_bad_url_is_refused_naming_it_without_its_password() {
        let err = PostgresStore::connect(
            "postgres://campus:secret@127.0.0.1:notaport/campus",
            PostgresOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::InvalidUrl { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("postgres://campus@127.0.0.1:notaport/campus"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn an_unreachable_server_is_unavailable_at_once() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://campus:secret@127.0.0.1:{port}/campus");
        let err = PostgresStore::connect(&url, PostgresOptions::default()).unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("postgres://campus@127.0.0.1:{port}/campus")),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
