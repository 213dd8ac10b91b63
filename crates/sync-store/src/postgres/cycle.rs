//! The cycle data of document 004 in the tables of `V2__cycle_tables.sql` (PostgreSQL): the
//! whole of a tenant's data, the slice a request needs, and the rows that changed between two
//! values, written a table at a time (arrays of rows through `unnest`, not a statement a row).

use std::collections::{BTreeMap, BTreeSet};

use postgres::{GenericClient, Row, Transaction};
use serde_json::Value;
use sync_cycle::{normalize_id, Credit, CycleData, CycleScope, Member, MemberScope, StatusEntry};

use super::Db;
use crate::cycle_rows::{changed, corrupt, kind_from, kind_name, object};
use crate::{Result, TenantId};

/// Every table of the cycle data, each keyed by the tenant first.
const DELETE_ALL: [&str; 8] = [
    "DELETE FROM cycle_counters WHERE tenant_id = $1",
    "DELETE FROM cycle_cycles WHERE tenant_id = $1",
    "DELETE FROM cycle_periods WHERE tenant_id = $1",
    "DELETE FROM cycle_requirements WHERE tenant_id = $1",
    "DELETE FROM cycle_members WHERE tenant_id = $1",
    "DELETE FROM cycle_member_fields WHERE tenant_id = $1",
    "DELETE FROM cycle_credits WHERE tenant_id = $1",
    "DELETE FROM cycle_status_entries WHERE tenant_id = $1",
];

fn position(at: usize) -> Result<i64> {
    i64::try_from(at).map_err(|e| corrupt(e.to_string()))
}

/// The whole of a tenant's cycle data.
pub(super) fn load_all<C: GenericClient>(
    db: &mut Db<'_, C>,
    tenant: TenantId,
) -> Result<CycleData> {
    let mut data = CycleData {
        next_entry: next_entry(db, tenant)?,
        ..CycleData::default()
    };
    for row in db.query(
        "SELECT cycle_id, data FROM cycle_cycles WHERE tenant_id = $1",
        &[&tenant],
    )? {
        data.cycles
            .insert(row.try_get(0)?, object(row.try_get(1)?)?);
    }
    let periods = db.query(
        "SELECT period_id, has_requirements, data FROM cycle_periods WHERE tenant_id = $1",
        &[&tenant],
    )?;
    let requirements = db.query(
        "SELECT period_id, data FROM cycle_requirements WHERE tenant_id = $1
         ORDER BY period_id, position",
        &[&tenant],
    )?;
    let mut by_period: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for row in &requirements {
        by_period
            .entry(row.try_get(0)?)
            .or_default()
            .push(serde_json::from_str(row.try_get(1)?)?);
    }
    for row in &periods {
        let id: &str = row.try_get(0)?;
        let mut period = object(row.try_get(2)?)?;
        if row.try_get::<_, bool>(1)? {
            let list = by_period.remove(id).unwrap_or_default();
            period.insert("requirements".into(), Value::Array(list));
        }
        data.periods.insert(id.to_owned(), period);
    }
    for row in db.query(
        "SELECT member_id, user_id FROM cycle_members WHERE tenant_id = $1",
        &[&tenant],
    )? {
        let member = Member {
            user_id: row.try_get(1)?,
            custom_fields: BTreeMap::new(),
        };
        data.members.insert(row.try_get(0)?, member);
    }
    for row in db.query(
        "SELECT member_id, name, value FROM cycle_member_fields WHERE tenant_id = $1",
        &[&tenant],
    )? {
        let member: &str = row.try_get(0)?;
        let Some(member) = data.members.get_mut(member) else {
            return Err(corrupt(format!("a custom field of no member: {member}")));
        };
        member
            .custom_fields
            .insert(row.try_get(1)?, row.try_get(2)?);
    }
    for row in db.query(
        "SELECT member_id, period_id, kind, credits FROM cycle_credits WHERE tenant_id = $1
         ORDER BY member_id, period_id, position",
        &[&tenant],
    )? {
        let credit = Credit {
            kind: kind_from(row.try_get(2)?)?,
            credits: row.try_get(3)?,
        };
        data.credits
            .entry(row.try_get(0)?)
            .or_default()
            .entry(row.try_get(1)?)
            .or_default()
            .push(credit);
    }
    for row in db.query(
        "SELECT member_id, entry_id, user_id, status, is_active_member, start_date, end_date
         FROM cycle_status_entries WHERE tenant_id = $1 ORDER BY member_id, position",
        &[&tenant],
    )? {
        data.statuses
            .entry(row.try_get(0)?)
            .or_default()
            .push(status_entry(&row, 1)?);
    }
    Ok(data)
}

/// A status entry from the row's columns starting at `at`.
fn status_entry(row: &Row, at: usize) -> Result<StatusEntry> {
    Ok(StatusEntry {
        entry_id: row.try_get(at)?,
        user_id: row.try_get(at + 1)?,
        status: row.try_get(at + 2)?,
        is_active_member: row.try_get(at + 3)?,
        start_date: row.try_get(at + 4)?,
        end_date: row.try_get(at + 5)?,
    })
}

fn next_entry<C: GenericClient>(db: &mut Db<'_, C>, tenant: TenantId) -> Result<u64> {
    let row = db.query_opt(
        "SELECT next_entry FROM cycle_counters WHERE tenant_id = $1",
        &[&tenant],
    )?;
    let next: i64 = match row {
        Some(row) => row.try_get(0)?,
        None => 0,
    };
    u64::try_from(next).map_err(|e| corrupt(format!("next_entry: {e}")))
}

/// Adds period `id` (with its requirements) to `data` if it is stored.
fn load_period<C: GenericClient>(
    db: &mut Db<'_, C>,
    tenant: TenantId,
    id: &str,
    data: &mut CycleData,
) -> Result<()> {
    let Some(row) = db.query_opt(
        "SELECT has_requirements, data FROM cycle_periods WHERE tenant_id = $1 AND period_id = $2",
        &[&tenant, &id],
    )?
    else {
        return Ok(());
    };
    let mut period = object(row.try_get(1)?)?;
    if row.try_get::<_, bool>(0)? {
        let rows = db.query(
            "SELECT data FROM cycle_requirements WHERE tenant_id = $1 AND period_id = $2
             ORDER BY position",
            &[&tenant, &id],
        )?;
        let requirements = rows
            .iter()
            .map(|row| Ok(serde_json::from_str::<Value>(row.try_get(0)?)?))
            .collect::<Result<_>>()?;
        period.insert("requirements".into(), Value::Array(requirements));
    }
    data.periods.insert(id.to_owned(), period);
    Ok(())
}

/// Adds member `id` to `data` if it is stored: its custom fields, its timeline, and its
/// credits in `periods`.
fn load_member<C: GenericClient>(
    db: &mut Db<'_, C>,
    tenant: TenantId,
    id: &str,
    periods: &[String],
    data: &mut CycleData,
) -> Result<()> {
    let Some(row) = db.query_opt(
        "SELECT user_id FROM cycle_members WHERE tenant_id = $1 AND member_id = $2",
        &[&tenant, &id],
    )?
    else {
        return Ok(());
    };
    let user_id: String = row.try_get(0)?;
    let custom_fields = db
        .query(
            "SELECT name, value FROM cycle_member_fields WHERE tenant_id = $1 AND member_id = $2",
            &[&tenant, &id],
        )?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_>>()?;
    data.members.insert(
        id.to_owned(),
        Member {
            user_id,
            custom_fields,
        },
    );
    let entries = db
        .query(
            "SELECT entry_id, user_id, status, is_active_member, start_date, end_date
             FROM cycle_status_entries WHERE tenant_id = $1 AND member_id = $2 ORDER BY position",
            &[&tenant, &id],
        )?
        .iter()
        .map(|row| status_entry(row, 0))
        .collect::<Result<Vec<_>>>()?;
    if !entries.is_empty() {
        data.statuses.insert(id.to_owned(), entries);
    }
    if periods.is_empty() {
        return Ok(());
    }
    let rows = db.query(
        "SELECT period_id, kind, credits FROM cycle_credits
         WHERE tenant_id = $1 AND member_id = $2 AND period_id = ANY($3)
         ORDER BY period_id, position",
        &[&tenant, &id, &periods],
    )?;
    for row in rows {
        let credit = Credit {
            kind: kind_from(row.try_get(1)?)?,
            credits: row.try_get(2)?,
        };
        data.credits
            .entry(id.to_owned())
            .or_default()
            .entry(row.try_get(0)?)
            .or_default()
            .push(credit);
    }
    Ok(())
}

/// The part of a tenant's data that `scope` names (what [`CycleData::slice`] takes from the
/// whole data).
pub(super) fn load_slice<C: GenericClient>(
    db: &mut Db<'_, C>,
    tenant: TenantId,
    scope: &CycleScope,
) -> Result<CycleData> {
    let mut data = CycleData {
        next_entry: next_entry(db, tenant)?,
        ..CycleData::default()
    };
    let cycles = if scope.all_cycles {
        db.query(
            "SELECT cycle_id, data FROM cycle_cycles WHERE tenant_id = $1",
            &[&tenant],
        )?
    } else {
        db.query(
            "SELECT cycle_id, data FROM cycle_cycles WHERE tenant_id = $1 AND cycle_id = ANY($2)",
            &[&tenant, &scope.cycles],
        )?
    };
    for row in cycles {
        data.cycles
            .insert(row.try_get(0)?, object(row.try_get(1)?)?);
    }
    for id in &scope.periods {
        load_period(db, tenant, id, &mut data)?;
    }
    if !scope.periods_of_cycles.is_empty() {
        let ids: Vec<String> = db
            .query(
                "SELECT period_id FROM cycle_periods WHERE tenant_id = $1 AND cycle_id = ANY($2)",
                &[&tenant, &scope.periods_of_cycles],
            )?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        for id in ids {
            load_period(db, tenant, &id, &mut data)?;
        }
    }
    let members: Vec<String> = match &scope.member {
        None => Vec::new(),
        Some(MemberScope::UserId(id)) => vec![id.clone()],
        Some(MemberScope::CustomField { api_name, value }) => {
            let mut found: Vec<String> = match value {
                Some(value) => db
                    .query(
                        "SELECT member_id FROM cycle_member_fields
                         WHERE tenant_id = $1 AND name = $2 AND value_trimmed = $3",
                        &[&tenant, api_name, value],
                    )?
                    .iter()
                    .map(|row| row.try_get(0))
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            };
            if found.is_empty() {
                found = db
                    .query(
                        "SELECT member_id FROM cycle_member_fields
                         WHERE tenant_id = $1 AND name = $2 LIMIT 1",
                        &[&tenant, api_name],
                    )?
                    .iter()
                    .map(|row| row.try_get(0))
                    .collect::<Result<_, _>>()?;
            }
            found
        }
    };
    for id in members {
        load_member(db, tenant, &id, &scope.periods, &mut data)?;
    }
    Ok(data)
}

/// Writes the rows that differ between `before` (what was loaded, whole or a slice) and
/// `after` (the same data once a rule has run): what is in `after` and not equal in `before`
/// is written, what is in `before` and not in `after` is deleted, the rest is not touched.
pub(super) fn save_changes(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    before: &CycleData,
    after: &CycleData,
) -> Result<()> {
    if before.next_entry != after.next_entry {
        let next =
            i64::try_from(after.next_entry).map_err(|e| corrupt(format!("next_entry: {e}")))?;
        db.execute(
            "INSERT INTO cycle_counters (tenant_id, next_entry) VALUES ($1, $2)
             ON CONFLICT (tenant_id) DO UPDATE SET next_entry = excluded.next_entry",
            &[&tenant, &next],
        )?;
    }
    save_cycles(db, tenant, before, after)?;
    save_periods(db, tenant, before, after)?;
    save_members(db, tenant, before, after)?;
    save_credits(db, tenant, before, after)?;
    save_statuses(db, tenant, before, after)
}

fn save_cycles(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    before: &CycleData,
    after: &CycleData,
) -> Result<()> {
    let (mut touched, mut ids, mut data) = (Vec::new(), Vec::new(), Vec::new());
    for (id, cycle) in changed(&before.cycles, &after.cycles) {
        touched.push(id.as_str());
        if let Some(cycle) = cycle {
            ids.push(id.as_str());
            data.push(serde_json::to_string(cycle)?);
        }
    }
    if touched.is_empty() {
        return Ok(());
    }
    db.execute(
        "DELETE FROM cycle_cycles WHERE tenant_id = $1 AND cycle_id = ANY($2)",
        &[&tenant, &touched],
    )?;
    db.execute(
        "INSERT INTO cycle_cycles (tenant_id, cycle_id, data)
         SELECT $1, cycle_id, data FROM unnest($2::TEXT[], $3::TEXT[]) AS c (cycle_id, data)",
        &[&tenant, &ids, &data],
    )?;
    Ok(())
}

fn save_periods(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    before: &CycleData,
    after: &CycleData,
) -> Result<()> {
    let mut touched = Vec::new();
    let (mut ids, mut cycles, mut has_requirements, mut data) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut of_period, mut at, mut requirements) = (Vec::new(), Vec::new(), Vec::new());
    for (id, period) in changed(&before.periods, &after.periods) {
        touched.push(id.as_str());
        let Some(period) = period else {
            continue;
        };
        let listed = period.get("requirements").and_then(Value::as_array);
        ids.push(id.as_str());
        cycles.push(
            period
                .get("cycleId")
                .and_then(Value::as_str)
                .map(normalize_id),
        );
        has_requirements.push(listed.is_some());
        data.push(match listed {
            Some(_) => {
                let mut rest = period.clone();
                rest.remove("requirements");
                serde_json::to_string(&rest)?
            }
            None => serde_json::to_string(period)?,
        });
        for (i, requirement) in listed.into_iter().flatten().enumerate() {
            of_period.push(id.as_str());
            at.push(position(i)?);
            requirements.push(serde_json::to_string(requirement)?);
        }
    }
    if touched.is_empty() {
        return Ok(());
    }
    db.execute(
        "DELETE FROM cycle_periods WHERE tenant_id = $1 AND period_id = ANY($2)",
        &[&tenant, &touched],
    )?;
    db.execute(
        "DELETE FROM cycle_requirements WHERE tenant_id = $1 AND period_id = ANY($2)",
        &[&tenant, &touched],
    )?;
    db.execute(
        "INSERT INTO cycle_periods (tenant_id, period_id, cycle_id, has_requirements, data)
         SELECT $1, period_id, cycle_id, has_requirements, data
         FROM unnest($2::TEXT[], $3::TEXT[], $4::BOOLEAN[], $5::TEXT[])
             AS p (period_id, cycle_id, has_requirements, data)",
        &[&tenant, &ids, &cycles, &has_requirements, &data],
    )?;
    db.execute(
        "INSERT INTO cycle_requirements (tenant_id, period_id, position, data)
         SELECT $1, period_id, position, data
         FROM unnest($2::TEXT[], $3::BIGINT[], $4::TEXT[]) AS r (period_id, position, data)",
        &[&tenant, &of_period, &at, &requirements],
    )?;
    Ok(())
}

fn save_members(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    before: &CycleData,
    after: &CycleData,
) -> Result<()> {
    let (mut touched, mut ids, mut users) = (Vec::new(), Vec::new(), Vec::new());
    let (mut of_member, mut names, mut values, mut trimmed) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (id, member) in changed(&before.members, &after.members) {
        touched.push(id.as_str());
        let Some(member) = member else {
            continue;
        };
        ids.push(id.as_str());
        users.push(member.user_id.as_str());
        for (name, value) in &member.custom_fields {
            of_member.push(id.as_str());
            names.push(name.as_str());
            values.push(value.as_str());
            trimmed.push(value.trim());
        }
    }
    if touched.is_empty() {
        return Ok(());
    }
    db.execute(
        "DELETE FROM cycle_members WHERE tenant_id = $1 AND member_id = ANY($2)",
        &[&tenant, &touched],
    )?;
    db.execute(
        "DELETE FROM cycle_member_fields WHERE tenant_id = $1 AND member_id = ANY($2)",
        &[&tenant, &touched],
    )?;
    db.execute(
        "INSERT INTO cycle_members (tenant_id, member_id, user_id)
         SELECT $1, member_id, user_id FROM unnest($2::TEXT[], $3::TEXT[]) AS m (member_id, user_id)",
        &[&tenant, &ids, &users],
    )?;
    db.execute(
        "INSERT INTO cycle_member_fields (tenant_id, member_id, name, value, value_trimmed)
         SELECT $1, member_id, name, value, value_trimmed
         FROM unnest($2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[])
             AS f (member_id, name, value, value_trimmed)",
        &[&tenant, &of_member, &names, &values, &trimmed],
    )?;
    Ok(())
}

fn save_credits(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    before: &CycleData,
    after: &CycleData,
) -> Result<()> {
    let (mut touched_members, mut touched_periods) = (Vec::new(), Vec::new());
    let (mut members, mut periods, mut at, mut kinds, mut credits) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let empty = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let all = before.credits.keys().chain(after.credits.keys());
    for member in all.filter(|m| seen.insert(*m)) {
        let old = before.credits.get(member).unwrap_or(&empty);
        let new = after.credits.get(member).unwrap_or(&empty);
        for (period, list) in changed(old, new) {
            touched_members.push(member.as_str());
            touched_periods.push(period.as_str());
            for (i, credit) in list.into_iter().flatten().enumerate() {
                members.push(member.as_str());
                periods.push(period.as_str());
                at.push(position(i)?);
                kinds.push(kind_name(credit.kind));
                credits.push(credit.credits);
            }
        }
    }
    if touched_members.is_empty() {
        return Ok(());
    }
    db.execute(
        "DELETE FROM cycle_credits c USING unnest($2::TEXT[], $3::TEXT[]) AS t (member_id, period_id)
         WHERE c.tenant_id = $1 AND c.member_id = t.member_id AND c.period_id = t.period_id",
        &[&tenant, &touched_members, &touched_periods],
    )?;
    db.execute(
        "INSERT INTO cycle_credits (tenant_id, member_id, period_id, position, kind, credits)
         SELECT $1, member_id, period_id, position, kind, credits
         FROM unnest($2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], $6::DOUBLE PRECISION[])
             AS c (member_id, period_id, position, kind, credits)",
        &[&tenant, &members, &periods, &at, &kinds, &credits],
    )?;
    Ok(())
}

fn save_statuses(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    before: &CycleData,
    after: &CycleData,
) -> Result<()> {
    let mut touched = Vec::new();
    let (mut members, mut at, mut entries, mut users) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut statuses, mut active, mut starts, mut ends) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (member, list) in changed(&before.statuses, &after.statuses) {
        touched.push(member.as_str());
        for (i, e) in list.into_iter().flatten().enumerate() {
            members.push(member.as_str());
            at.push(position(i)?);
            entries.push(e.entry_id.as_str());
            users.push(e.user_id.as_str());
            statuses.push(e.status.as_str());
            active.push(e.is_active_member);
            starts.push(e.start_date.as_str());
            ends.push(e.end_date.as_deref());
        }
    }
    if touched.is_empty() {
        return Ok(());
    }
    db.execute(
        "DELETE FROM cycle_status_entries WHERE tenant_id = $1 AND member_id = ANY($2)",
        &[&tenant, &touched],
    )?;
    db.execute(
        "INSERT INTO cycle_status_entries (tenant_id, member_id, position, entry_id, user_id,
             status, is_active_member, start_date, end_date)
         SELECT $1, member_id, position, entry_id, user_id, status, is_active_member,
             start_date, end_date
         FROM unnest($2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[],
             $7::BOOLEAN[], $8::TEXT[], $9::TEXT[])
             AS s (member_id, position, entry_id, user_id, status, is_active_member,
                 start_date, end_date)",
        &[
            &tenant, &members, &at, &entries, &users, &statuses, &active, &starts, &ends,
        ],
    )?;
    Ok(())
}

/// Replaces the whole of a tenant's cycle data.
pub(super) fn replace_all(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    data: &CycleData,
) -> Result<()> {
    for sql in DELETE_ALL {
        db.execute(sql, &[&tenant])?;
    }
    save_changes(db, tenant, &CycleData::default(), data)
}
