//! The active sets kept in memory, shared by the backends: the bounded cache of each tenant's
//! set tagged with the `contracts_version` it was read or written at, the set after a write
//! derived from the one before it, and what the server reads from a set (pages, lookups).
//!
//! **The cache is only a cache: a set is used only at the stored version**, which the backend
//! reads before each use, so a write by another store (another process, another server
//! instance) is seen at the next call.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use quick_cache::Weighter;
use rayon::prelude::*;
use sync_core::normalize_email;
use sync_core::rules::SessionModel;
use sync_core::{Contract, Field};

use crate::{ActiveSet, CacheStats, Listing, Page, Result, TenantId};

/// The default bound of the active-set cache, in bytes (512 MiB).
pub const DEFAULT_CACHE_BYTES: u64 = 512 << 20;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The cache of active sets: each tenant's set, weighted by its estimated size in bytes.
type ActiveSets = quick_cache::unsync::Cache<TenantId, CachedSet, CachedSetWeight>;

/// Each tenant's active set kept in memory, bounded by their estimated size, with the counts
/// of the reads it answered and did not. One shard behind a mutex: a set is replaced only by a
/// newer version in one step, and a set of nearly the whole bound fits (a sharded cache gives
/// each shard a part of it).
#[derive(Debug)]
pub(crate) struct ActiveSetCache {
    sets: Mutex<ActiveSets>,
    /// Reads answered from `sets`.
    hits: AtomicU64,
    /// Reads of the database.
    misses: AtomicU64,
}

/// A tenant's active set as cached.
#[derive(Debug)]
pub(crate) struct CachedSet {
    /// The tenant's `contracts_version` the set was read or written at.
    version: i64,
    set: Arc<ActiveSet>,
    /// [`estimated_bytes`] of `set`, computed once: the cache weighs entries often.
    bytes: u64,
}

impl CachedSet {
    pub(crate) fn new(version: i64, set: Arc<ActiveSet>) -> Self {
        let bytes = estimated_bytes(&set);
        CachedSet {
            version,
            set,
            bytes,
        }
    }
}

/// Weighs a cached set by its estimated size.
#[derive(Debug, Clone, Copy)]
struct CachedSetWeight;

impl Weighter<TenantId, CachedSet> for CachedSetWeight {
    fn weight(&self, _tenant: &TenantId, cached: &CachedSet) -> u64 {
        cached.bytes
    }
}

/// An estimate of the memory an active set holds: per contract, its text (the stored JSON
/// object: field names, values and punctuation), the contract itself and its place in the
/// integrated listing; plus the set. Never zero, so that every set can be evicted.
pub(crate) fn estimated_bytes(set: &ActiveSet) -> u64 {
    /// The contract in the set's vector, and its position among the integrated ones.
    const PER_CONTRACT: usize = std::mem::size_of::<Contract<'static>>() + 4;
    let contracts: usize = set
        .contracts()
        .par_iter()
        .map(|contract| {
            // `"name":"value",` for each present field, and the braces.
            let text: usize = contract
                .fields()
                .map(|(field, value)| field.name().len() + value.len() + 6)
                .sum();
            text + 2 + PER_CONTRACT
        })
        .sum();
    (std::mem::size_of::<ActiveSet>() + contracts) as u64
}

/// One contract row to write, computed before the transaction: the wire JSON and the
/// normalized emails of the account columns.
#[derive(Debug)]
pub(crate) struct ContractRow<'c, 'a> {
    pub(crate) contract: &'c Contract<'a>,
    pub(crate) json: Cow<'c, str>,
    /// The apprentice's, the school tutor's and the company tutor's emails, normalized.
    pub(crate) emails: [String; 3],
}

/// The rows of `contracts` (with their wire JSON when given, in the same order), serialized
/// and normalized on every core, sorted by key (the key indexes grow at their end); of a key
/// sent twice, the last one is kept, as writing them in turn would leave it.
pub(crate) fn contract_rows<'c, 'a>(
    contracts: &[&'c Contract<'a>],
    json: &[&'c str],
) -> Result<Vec<ContractRow<'c, 'a>>> {
    let mut rows: Vec<ContractRow<'c, 'a>> = contracts
        .par_iter()
        .enumerate()
        .map(|(i, &contract)| {
            let json = match json.get(i) {
                Some(&json) => Cow::Borrowed(json),
                None => Cow::Owned(serde_json::to_string(contract)?),
            };
            Ok(ContractRow {
                contract,
                json,
                emails: [
                    email(contract, Field::EmailApprenant),
                    email(contract, Field::EmailPersonnel),
                    email(contract, Field::EmailMaitreApprentissage),
                ],
            })
        })
        .collect::<Result<_>>()?;
    // Stable: of equal keys, the one sent last stays last.
    rows.par_sort_by(|a, b| a.contract.key().cmp(b.contract.key()));
    let mut kept: Vec<ContractRow<'c, 'a>> = Vec::with_capacity(rows.len());
    for row in rows {
        match kept.last_mut() {
            Some(last) if last.contract.key() == row.contract.key() => *last = row,
            _ => kept.push(row),
        }
    }
    Ok(kept)
}

fn email(contract: &Contract<'_>, field: Field) -> String {
    normalize_email(contract.trimmed(field)).into_owned()
}

impl ActiveSetCache {
    /// A cache of at most `bytes` of sets.
    pub(crate) fn new(bytes: u64) -> Self {
        ActiveSetCache {
            sets: Mutex::new(ActiveSets::with_weighter(1024, bytes, CachedSetWeight)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Bounds the cache to `bytes`; the sets over it are dropped, least recently used first.
    pub(crate) fn set_capacity(&mut self, bytes: u64) {
        self.sets
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .set_capacity(bytes);
    }

    /// The estimated size of the sets kept, in bytes.
    pub(crate) fn weight(&self) -> u64 {
        lock(&self.sets).weight()
    }

    /// The counts of reads answered from memory and from the database.
    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Whether a set of the tenant is kept (any version).
    #[cfg(test)]
    pub(crate) fn holds(&self, tenant: TenantId) -> bool {
        lock(&self.sets).peek(&tenant).is_some()
    }

    /// The tenant's set at `version` (the stored one, read just before): from memory if kept
    /// at that version, else `read` (which returns the version and the set of one snapshot),
    /// then kept.
    pub(crate) fn get_or_read(
        &self,
        tenant: TenantId,
        version: i64,
        read: impl FnOnce() -> Result<(i64, Arc<ActiveSet>)>,
    ) -> Result<Arc<ActiveSet>> {
        let kept = match lock(&self.sets).get(&tenant) {
            Some(cached) if cached.version == version => Some(cached.set.clone()),
            _ => None,
        };
        if let Some(set) = kept {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(set);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let (version, set) = read()?;
        self.remember(tenant, CachedSet::new(version, set.clone()));
        Ok(set)
    }

    /// Keeps `cached` as the tenant's active set, unless a newer one is kept (or it is
    /// larger than the whole cache).
    fn remember(&self, tenant: TenantId, cached: CachedSet) {
        let mut sets = lock(&self.sets);
        match sets.peek(&tenant) {
            Some(kept) if kept.version > cached.version => {}
            _ => sets.insert(tenant, cached),
        }
    }

    /// Forgets the tenant's set (after a write that does not derive the next one).
    pub(crate) fn forget(&self, tenant: TenantId) {
        lock(&self.sets).remove(&tenant);
    }

    /// Writes a sync's `rows` and archived codes with `write_rows` (one transaction returning
    /// the tenant's new `contracts_version`), and meanwhile derives the set after the write
    /// from the cached set before it: kept only if that cached set was the one just before
    /// the write (the version the write leaves, minus one).
    pub(crate) fn write_and_derive(
        &self,
        tenant: TenantId,
        rows: &[ContractRow<'_, '_>],
        archive: &[&str],
        write_rows: impl FnOnce() -> Result<i64> + Send,
    ) -> Result<()> {
        let before = lock(&self.sets)
            .get(&tenant)
            .map(|cached| (cached.version, cached.set.clone()));
        let (version, after) = rayon::join(write_rows, || {
            let (version, set) = before?;
            let upsert: Vec<&Contract<'_>> = rows.iter().map(|r| r.contract).collect();
            let after = next_set(&set, &upsert, archive)?;
            Some(CachedSet::new(version + 1, Arc::new(after)))
        });
        self.forget(tenant);
        let version = version?;
        if let Some(after) = after {
            if after.version == version {
                self.remember(tenant, after);
            }
        }
        Ok(())
    }
}

/// The active set after a write: `old` without the archived codes, with `upsert` (sorted by
/// key, no key twice) in place of or beside the old versions; `None` if `upsert` repeats a key.
fn next_set(old: &ActiveSet, upsert: &[&Contract<'_>], archive: &[&str]) -> Option<ActiveSet> {
    if upsert.windows(2).any(|w| w[0].key() == w[1].key()) {
        return None;
    }
    enum Pick {
        Old(usize),
        New(usize),
    }
    let archive: HashSet<&str> = archive.iter().copied().collect();
    let old = old.contracts();
    let mut picks = Vec::with_capacity(old.len() + upsert.len());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < upsert.len() {
        let order = match (old.get(i), upsert.get(j)) {
            (Some(o), Some(u)) => o.key().cmp(u.key()),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                if !archive.contains(old[i].key()) {
                    picks.push(Pick::Old(i));
                }
                i += 1;
            }
            std::cmp::Ordering::Equal => {
                picks.push(Pick::New(j));
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Greater => {
                picks.push(Pick::New(j));
                j += 1;
            }
        }
    }
    let contracts = picks
        .into_par_iter()
        .map(|pick| match pick {
            Pick::Old(i) => old[i].clone(),
            Pick::New(j) => upsert[j].clone().into_owned(),
        })
        .collect();
    Some(ActiveSet::from_contracts(contracts))
}

/// A page of a listing cut from the active set in memory (ordered by `codeContrat`), so that
/// no listing index costs every sync its upkeep; the integrated listing matches the set
/// against `models` (read only for it).
pub(crate) fn page_of(
    set: &ActiveSet,
    listing: Listing,
    models: impl FnOnce() -> Result<Vec<SessionModel>>,
    offset: usize,
    limit: usize,
) -> Result<Page> {
    let contracts = set.contracts();
    let serialize = |contract: &Contract<'_>| Ok(serde_json::to_string(contract)?);
    match listing {
        Listing::Transmitted => Ok(Page {
            total: contracts.len(),
            contracts: contracts
                .iter()
                .skip(offset)
                .take(limit)
                .map(serialize)
                .collect::<Result<_>>()?,
        }),
        Listing::Integrated => {
            let integrated = set.integrated(&models()?);
            Ok(Page {
                total: integrated.len(),
                contracts: integrated
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|&i| serialize(&contracts[i as usize]))
                    .collect::<Result<_>>()?,
            })
        }
    }
}

// The two lookups below scan the active set in memory rather than keep an index of their
// column: an index in random key order costs every sync more than a scan costs these rare
// calls.

/// Whether a contract of the set has this `codeGroupe` (trimmed).
pub(crate) fn has_group(set: &ActiveSet, group: &str) -> bool {
    let group = group.trim();
    set.contracts()
        .par_iter()
        .any(|c| c.trimmed(Field::CodeGroupe) == group)
}

/// Whether a contract of the set has this apprentice email (normalized).
pub(crate) fn has_apprentice(set: &ActiveSet, email: &str) -> bool {
    let email = normalize_email(email);
    set.contracts()
        .par_iter()
        .any(|c| normalize_email(c.trimmed(Field::EmailApprenant)) == email)
}
