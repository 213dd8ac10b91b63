//! The cycle data of document 004 in the tables of `V2__cycle_tables.sql`: the whole of a
//! tenant's data, the slice a request needs, and the rows that changed between two values.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::{Map, Value};
use sync_cycle::{normalize_id, Credit, CycleData, CycleScope, Member, MemberScope, StatusEntry};

use crate::cycle_rows::{changed, corrupt, kind_from, kind_name, object};
use crate::{Result, TenantId};

/// Every table of the cycle data, each keyed by the tenant first.
const TABLES: [&str; 8] = [
    "cycle_counters",
    "cycle_cycles",
    "cycle_periods",
    "cycle_requirements",
    "cycle_members",
    "cycle_member_fields",
    "cycle_credits",
    "cycle_status_entries",
];

/// The whole of a tenant's cycle data.
pub(super) fn load_all(conn: &Connection, tenant: TenantId) -> Result<CycleData> {
    let mut data = CycleData {
        next_entry: next_entry(conn, tenant)?,
        ..CycleData::default()
    };
    let mut stmt =
        conn.prepare_cached("SELECT cycle_id, data FROM cycle_cycles WHERE tenant_id = ?1")?;
    let mut rows = stmt.query([tenant])?;
    while let Some(row) = rows.next()? {
        data.cycles
            .insert(row.get(0)?, object(&row.get::<_, String>(1)?)?);
    }
    let mut stmt =
        conn.prepare_cached("SELECT period_id FROM cycle_periods WHERE tenant_id = ?1")?;
    let ids: Vec<String> = stmt
        .query_map([tenant], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        load_period(conn, tenant, &id, &mut data)?;
    }
    let mut stmt =
        conn.prepare_cached("SELECT member_id, user_id FROM cycle_members WHERE tenant_id = ?1")?;
    let mut rows = stmt.query([tenant])?;
    while let Some(row) = rows.next()? {
        let member = Member {
            user_id: row.get(1)?,
            custom_fields: BTreeMap::new(),
        };
        data.members.insert(row.get(0)?, member);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT member_id, name, value FROM cycle_member_fields WHERE tenant_id = ?1",
    )?;
    let mut rows = stmt.query([tenant])?;
    while let Some(row) = rows.next()? {
        let member: String = row.get(0)?;
        let Some(member) = data.members.get_mut(&member) else {
            return Err(corrupt(format!("a custom field of no member: {member}")));
        };
        member.custom_fields.insert(row.get(1)?, row.get(2)?);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT member_id, period_id, kind, credits FROM cycle_credits WHERE tenant_id = ?1
         ORDER BY member_id, period_id, position",
    )?;
    let mut rows = stmt.query([tenant])?;
    while let Some(row) = rows.next()? {
        let credit = Credit {
            kind: kind_from(&row.get::<_, String>(2)?)?,
            credits: row.get(3)?,
        };
        data.credits
            .entry(row.get(0)?)
            .or_default()
            .entry(row.get(1)?)
            .or_default()
            .push(credit);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT member_id, entry_id, user_id, status, is_active_member, start_date, end_date
         FROM cycle_status_entries WHERE tenant_id = ?1 ORDER BY member_id, position",
    )?;
    let mut rows = stmt.query([tenant])?;
    while let Some(row) = rows.next()? {
        let member: String = row.get(0)?;
        data.statuses
            .entry(member)
            .or_default()
            .push(status_entry(row, 1)?);
    }
    Ok(data)
}

/// A status entry from the row's columns starting at `at`.
fn status_entry(row: &rusqlite::Row<'_>, at: usize) -> Result<StatusEntry> {
    Ok(StatusEntry {
        entry_id: row.get(at)?,
        user_id: row.get(at + 1)?,
        status: row.get(at + 2)?,
        is_active_member: row.get(at + 3)?,
        start_date: row.get(at + 4)?,
        end_date: row.get(at + 5)?,
    })
}

fn next_entry(conn: &Connection, tenant: TenantId) -> Result<u64> {
    let next: Option<i64> = conn
        .prepare_cached("SELECT next_entry FROM cycle_counters WHERE tenant_id = ?1")?
        .query_row([tenant], |r| r.get(0))
        .optional()?;
    u64::try_from(next.unwrap_or(0)).map_err(|e| corrupt(format!("next_entry: {e}")))
}

/// Adds period `id` (with its requirements) to `data` if it is stored.
fn load_period(conn: &Connection, tenant: TenantId, id: &str, data: &mut CycleData) -> Result<()> {
    let row: Option<(bool, String)> = conn
        .prepare_cached(
            "SELECT has_requirements, data FROM cycle_periods WHERE tenant_id = ?1 AND period_id = ?2",
        )?
        .query_row(params![tenant, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((has_requirements, json)) = row else {
        return Ok(());
    };
    let mut period = object(&json)?;
    if has_requirements {
        let mut stmt = conn.prepare_cached(
            "SELECT data FROM cycle_requirements WHERE tenant_id = ?1 AND period_id = ?2
             ORDER BY position",
        )?;
        let mut rows = stmt.query(params![tenant, id])?;
        let mut requirements = Vec::new();
        while let Some(row) = rows.next()? {
            requirements.push(serde_json::from_str::<Value>(&row.get::<_, String>(0)?)?);
        }
        period.insert("requirements".into(), Value::Array(requirements));
    }
    data.periods.insert(id.to_owned(), period);
    Ok(())
}

/// Adds member `id` to `data` if it is stored: its custom fields, its timeline, and its
/// credits in `periods`.
fn load_member(
    conn: &Connection,
    tenant: TenantId,
    id: &str,
    periods: &[String],
    data: &mut CycleData,
) -> Result<()> {
    let user_id: Option<String> = conn
        .prepare_cached(
            "SELECT user_id FROM cycle_members WHERE tenant_id = ?1 AND member_id = ?2",
        )?
        .query_row(params![tenant, id], |r| r.get(0))
        .optional()?;
    let Some(user_id) = user_id else {
        return Ok(());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT name, value FROM cycle_member_fields WHERE tenant_id = ?1 AND member_id = ?2",
    )?;
    let custom_fields = stmt
        .query_map(params![tenant, id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    data.members.insert(
        id.to_owned(),
        Member {
            user_id,
            custom_fields,
        },
    );
    let mut stmt = conn.prepare_cached(
        "SELECT entry_id, user_id, status, is_active_member, start_date, end_date
         FROM cycle_status_entries WHERE tenant_id = ?1 AND member_id = ?2 ORDER BY position",
    )?;
    let mut rows = stmt.query(params![tenant, id])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        entries.push(status_entry(row, 0)?);
    }
    if !entries.is_empty() {
        data.statuses.insert(id.to_owned(), entries);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT kind, credits FROM cycle_credits
         WHERE tenant_id = ?1 AND member_id = ?2 AND period_id = ?3 ORDER BY position",
    )?;
    for period in periods {
        let mut rows = stmt.query(params![tenant, id, period])?;
        let mut credits = Vec::new();
        while let Some(row) = rows.next()? {
            credits.push(Credit {
                kind: kind_from(&row.get::<_, String>(0)?)?,
                credits: row.get(1)?,
            });
        }
        if !credits.is_empty() {
            data.credits
                .entry(id.to_owned())
                .or_default()
                .insert(period.clone(), credits);
        }
    }
    Ok(())
}

/// The part of a tenant's data that `scope` names (what [`CycleData::slice`] takes from the
/// whole data).
pub(super) fn load_slice(
    conn: &Connection,
    tenant: TenantId,
    scope: &CycleScope,
) -> Result<CycleData> {
    let mut data = CycleData {
        next_entry: next_entry(conn, tenant)?,
        ..CycleData::default()
    };
    if scope.all_cycles {
        let mut stmt =
            conn.prepare_cached("SELECT cycle_id, data FROM cycle_cycles WHERE tenant_id = ?1")?;
        let mut rows = stmt.query([tenant])?;
        while let Some(row) = rows.next()? {
            data.cycles
                .insert(row.get(0)?, object(&row.get::<_, String>(1)?)?);
        }
    } else {
        let mut stmt = conn.prepare_cached(
            "SELECT data FROM cycle_cycles WHERE tenant_id = ?1 AND cycle_id = ?2",
        )?;
        for id in &scope.cycles {
            let json: Option<String> = stmt
                .query_row(params![tenant, id], |r| r.get(0))
                .optional()?;
            if let Some(json) = json {
                data.cycles.insert(id.clone(), object(&json)?);
            }
        }
    }
    for id in &scope.periods {
        load_period(conn, tenant, id, &mut data)?;
    }
    for cycle in &scope.periods_of_cycles {
        let ids: Vec<String> = conn
            .prepare_cached(
                "SELECT period_id FROM cycle_periods WHERE tenant_id = ?1 AND cycle_id = ?2",
            )?
            .query_map(params![tenant, cycle], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            load_period(conn, tenant, &id, &mut data)?;
        }
    }
    let members: Vec<String> = match &scope.member {
        None => Vec::new(),
        Some(MemberScope::UserId(id)) => vec![id.clone()],
        Some(MemberScope::CustomField { api_name, value }) => {
            let mut found: Vec<String> = match value {
                Some(value) => conn
                    .prepare_cached(
                        "SELECT member_id FROM cycle_member_fields
                         WHERE tenant_id = ?1 AND name = ?2 AND value_trimmed = ?3",
                    )?
                    .query_map(params![tenant, api_name, value], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?,
                None => Vec::new(),
            };
            if found.is_empty() {
                found = conn
                    .prepare_cached(
                        "SELECT member_id FROM cycle_member_fields
                         WHERE tenant_id = ?1 AND name = ?2 LIMIT 1",
                    )?
                    .query_map(params![tenant, api_name], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
            }
            found
        }
    };
    for id in members {
        load_member(conn, tenant, &id, &scope.periods, &mut data)?;
    }
    Ok(data)
}

/// Writes the rows that differ between `before` (what was loaded, whole or a slice) and
/// `after` (the same data once a rule has run): what is in `after` and not equal in `before`
/// is written, what is in `before` and not in `after` is deleted, the rest is not touched.
pub(super) fn save_changes(
    tx: &Transaction<'_>,
    tenant: TenantId,
    before: &CycleData,
    after: &CycleData,
) -> Result<()> {
    if before.next_entry != after.next_entry {
        let next =
            i64::try_from(after.next_entry).map_err(|e| corrupt(format!("next_entry: {e}")))?;
        tx.prepare_cached(
            "INSERT INTO cycle_counters (tenant_id, next_entry) VALUES (?1, ?2)
             ON CONFLICT (tenant_id) DO UPDATE SET next_entry = excluded.next_entry",
        )?
        .execute(params![tenant, next])?;
    }
    for (id, cycle) in changed(&before.cycles, &after.cycles) {
        let mut delete =
            tx.prepare_cached("DELETE FROM cycle_cycles WHERE tenant_id = ?1 AND cycle_id = ?2")?;
        delete.execute(params![tenant, id])?;
        if let Some(cycle) = cycle {
            tx.prepare_cached(
                "INSERT INTO cycle_cycles (tenant_id, cycle_id, data) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![tenant, id, serde_json::to_string(cycle)?])?;
        }
    }
    for (id, period) in changed(&before.periods, &after.periods) {
        tx.prepare_cached("DELETE FROM cycle_periods WHERE tenant_id = ?1 AND period_id = ?2")?
            .execute(params![tenant, id])?;
        tx.prepare_cached(
            "DELETE FROM cycle_requirements WHERE tenant_id = ?1 AND period_id = ?2",
        )?
        .execute(params![tenant, id])?;
        if let Some(period) = period {
            insert_period(tx, tenant, id, period)?;
        }
    }
    for (id, member) in changed(&before.members, &after.members) {
        tx.prepare_cached("DELETE FROM cycle_members WHERE tenant_id = ?1 AND member_id = ?2")?
            .execute(params![tenant, id])?;
        tx.prepare_cached(
            "DELETE FROM cycle_member_fields WHERE tenant_id = ?1 AND member_id = ?2",
        )?
        .execute(params![tenant, id])?;
        if let Some(member) = member {
            tx.prepare_cached(
                "INSERT INTO cycle_members (tenant_id, member_id, user_id) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![tenant, id, member.user_id])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO cycle_member_fields (tenant_id, member_id, name, value, value_trimmed)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (name, value) in &member.custom_fields {
                insert.execute(params![tenant, id, name, value, value.trim()])?;
            }
        }
    }
    let empty = BTreeMap::new();
    let members = before.credits.keys().chain(after.credits.keys());
    let mut seen = std::collections::BTreeSet::new();
    for member in members.filter(|m| seen.insert(*m)) {
        let old = before.credits.get(member).unwrap_or(&empty);
        let new = after.credits.get(member).unwrap_or(&empty);
        for (period, credits) in changed(old, new) {
            tx.prepare_cached(
                "DELETE FROM cycle_credits WHERE tenant_id = ?1 AND member_id = ?2 AND period_id = ?3",
            )?
            .execute(params![tenant, member, period])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO cycle_credits (tenant_id, member_id, period_id, position, kind, credits)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (at, credit) in credits.into_iter().flatten().enumerate() {
                let at = i64::try_from(at).map_err(|e| corrupt(e.to_string()))?;
                insert.execute(params![
                    tenant,
                    member,
                    period,
                    at,
                    kind_name(credit.kind),
                    credit.credits
                ])?;
            }
        }
    }
    for (member, entries) in changed(&before.statuses, &after.statuses) {
        tx.prepare_cached(
            "DELETE FROM cycle_status_entries WHERE tenant_id = ?1 AND member_id = ?2",
        )?
        .execute(params![tenant, member])?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO cycle_status_entries (tenant_id, member_id, position, entry_id, user_id,
                 status, is_active_member, start_date, end_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (at, e) in entries.into_iter().flatten().enumerate() {
            let at = i64::try_from(at).map_err(|e| corrupt(e.to_string()))?;
            insert.execute(params![
                tenant,
                member,
                at,
                e.entry_id,
                e.user_id,
                e.status,
                e.is_active_member,
                e.start_date,
                e.end_date
            ])?;
        }
    }
    Ok(())
}

fn insert_period(
    tx: &Transaction<'_>,
    tenant: TenantId,
    id: &str,
    period: &Map<String, Value>,
) -> Result<()> {
    let cycle = period
        .get("cycleId")
        .and_then(Value::as_str)
        .map(normalize_id);
    let requirements = period.get("requirements").and_then(Value::as_array);
    let json = match requirements {
        Some(_) => {
            let mut rest = period.clone();
            rest.remove("requirements");
            serde_json::to_string(&rest)?
        }
        None => serde_json::to_string(period)?,
    };
    tx.prepare_cached(
        "INSERT INTO cycle_periods (tenant_id, period_id, cycle_id, has_requirements, data)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![tenant, id, cycle, requirements.is_some(), json])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO cycle_requirements (tenant_id, period_id, position, data) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (at, requirement) in requirements.into_iter().flatten().enumerate() {
        let at = i64::try_from(at).map_err(|e| corrupt(e.to_string()))?;
        insert.execute(params![tenant, id, at, serde_json::to_string(requirement)?])?;
    }
    Ok(())
}

/// Replaces the whole of a tenant's cycle data.
pub(super) fn replace_all(tx: &Transaction<'_>, tenant: TenantId, data: &CycleData) -> Result<()> {
    for table in TABLES {
        tx.execute(
            &format!("DELETE FROM {table} WHERE tenant_id = ?1"),
            [tenant],
        )?;
    }
    save_changes(tx, tenant, &CycleData::default(), data)
}

/// Moves the cycle JSON documents written before the cycle tables (table `cycle_data`) into
/// the tables, in one transaction; nothing to do once they are moved.
pub(super) fn move_documents(conn: &mut Connection) -> Result<()> {
    let any: bool = conn
        .prepare("SELECT 1 FROM cycle_data LIMIT 1")?
        .exists([])?;
    if !any {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let documents: Vec<(TenantId, String)> = tx
        .prepare("SELECT tenant_id, data FROM cycle_data ORDER BY tenant_id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (tenant, json) in documents {
        let data: CycleData = serde_json::from_str(&json)?;
        replace_all(&tx, tenant, &data)?;
    }
    tx.execute("DELETE FROM cycle_data", [])?;
    tx.commit()?;
    Ok(())
}
