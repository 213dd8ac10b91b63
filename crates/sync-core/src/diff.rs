//! The diff of two contract sets, keyed on `codeContrat` (DESIGN 3.3).
//!
//! The previous set is indexed once; the current set is classified in parallel; the result is
//! assembled in payload order, so it does not depend on the number of threads.

use foldhash::{HashMap, HashMapExt};
use rayon::prelude::*;
use serde::Serialize;

use crate::contract::Contract;
use crate::field::{Field, FIELD_COUNT};

/// A set of fields, one bit per field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FieldSet(u32);

const _: () = assert!(FIELD_COUNT <= 32, "FieldSet holds one bit per field");

impl FieldSet {
    /// Adds a field.
    pub fn insert(&mut self, field: Field) {
        self.0 |= 1 << field.index();
    }

    /// Whether the set holds the field.
    pub fn contains(self, field: Field) -> bool {
        self.0 & (1 << field.index()) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of fields in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The fields, in wire order.
    pub fn iter(self) -> impl Iterator<Item = Field> {
        Field::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

/// A contract present in both sets with different canonical values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Update {
    /// Index in the previous set.
    pub previous: usize,
    /// Index in the current set.
    pub current: usize,
    /// The fields whose canonical values differ.
    pub fields: FieldSet,
}

/// One updated contract of a [`Diff`], as [`Diff::updates`] yields it.
#[derive(Debug, Clone, Copy)]
pub struct UpdatedContract<'c, 'a> {
    /// The contract's `codeContrat`, trimmed.
    pub key: &'c str,
    /// The previous version.
    pub previous: &'c Contract<'a>,
    /// The current version.
    pub current: &'c Contract<'a>,
    /// The fields whose canonical values differ.
    pub fields: FieldSet,
}

impl<'c> UpdatedContract<'c, '_> {
    /// The changed fields, in wire order, with old and new values as sent.
    pub fn changes(&self) -> impl Iterator<Item = Change<'c>> + '_ {
        let (previous, current) = (self.previous, self.current);
        self.fields.iter().map(move |field| Change {
            field,
            old: previous.get(field),
            new: current.get(field),
        })
    }
}

/// One changed field of an updated contract, with the values as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Change<'c> {
    /// The field's wire name.
    #[serde(serialize_with = "serialize_field")]
    pub field: Field,
    /// The previous value (`None`: absent).
    pub old: Option<&'c str>,
    /// The new value (`None`: absent).
    pub new: Option<&'c str>,
}

fn serialize_field<S: serde::Serializer>(field: &Field, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(field.name())
}

/// The four counts of a diff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Contracts in both sets, canonically equal.
    pub same: usize,
    /// Contracts only in the current set.
    pub added: usize,
    /// Contracts in both sets with changes.
    pub updated: usize,
    /// Contracts only in the previous set.
    pub removed: usize,
}

/// The diff of a previous and a current set of contracts.
///
/// `same`, `added` and `updated` are in the current set's order, `removed` in the previous
/// set's order. Indices point into the two slices the diff was computed from.
#[derive(Debug, Clone)]
pub struct Diff<'c, 'a> {
    /// The previous set.
    pub previous: &'c [Contract<'a>],
    /// The current set.
    pub current: &'c [Contract<'a>],
    /// Indices in `current` of contracts unchanged since `previous`.
    pub same: Vec<usize>,
    /// Indices in `current` of contracts not in `previous`.
    pub added: Vec<usize>,
    /// Contracts in both sets that changed.
    pub updated: Vec<Update>,
    /// Indices in `previous` of contracts not in `current`.
    pub removed: Vec<usize>,
    /// The indices of `same` whose text is the previous contract's byte for byte, as far as
    /// their [fingerprints](Contract::fingerprint) tell: what
    /// validating since a [`Baseline`](crate::Baseline) does not check again.
    pub(crate) verbatim: Vec<usize>,
    /// Whether two contracts of `current` found the same previous contract: a key sent twice.
    pub(crate) key_twice: bool,
}

/// How one contract of the current set compares with the previous set.
#[derive(Clone, Copy)]
enum Class {
    Added,
    /// The previous contract, and whether the text is its text (the fingerprints are equal)
    /// rather than the same values written otherwise.
    Same(u32, bool),
    Updated(u32, FieldSet),
}

/// Diffs two sets in parallel (on the current rayon pool).
///
/// Keys are expected to be unique in each set, as validation guarantees (`duplicate_contract`).
/// With duplicates the result is still deterministic and nothing panics: the first contract of
/// the previous set with a key is the one compared.
///
/// A contract whose key is found is `same` when its [fingerprint](Contract::fingerprint)
/// equals the previous one's; otherwise its fields are compared one by one.
///
/// Either side is anything that holds contracts: a [`Payload`](crate::Payload), a `Vec` or a
/// slice.
///
/// ```
/// use sync_core::{Contract, Field};
/// let previous = vec![Contract::from_pairs([(Field::CodeContrat, "A"), (Field::NomSite, "Lyon")])];
/// let current = sync_core::parse(br#"[{"codeContrat": "A", "nomSite": "Lille"}, {"codeContrat": "B"}]"#)?;
/// let diff = sync_core::diff(&previous, &current);
/// assert_eq!((diff.summary().added, diff.summary().updated), (1, 1));
/// # Ok::<(), sync_core::ParseError>(())
/// ```
pub fn diff<'c, 'a: 'c>(
    previous: &'c (impl AsRef<[Contract<'a>]> + ?Sized),
    current: &'c (impl AsRef<[Contract<'a>]> + ?Sized),
) -> Diff<'c, 'a> {
    let (previous, current) = (previous.as_ref(), current.as_ref());
    let index = KeyIndex::build(previous, true);
    let classes: Vec<Class> = current
        .par_iter()
        .with_min_len(1024)
        .map(|contract| classify(&index, previous, contract))
        .collect();
    assemble(previous, current, &classes)
}

/// The same diff on the calling thread only; the parallel one returns exactly this (for the
/// property tests, the fuzz checkers and the one-thread benchmark).
#[cfg(any(test, feature = "fuzzing"))]
pub fn diff_sequential<'c, 'a>(
    previous: &'c [Contract<'a>],
    current: &'c [Contract<'a>],
) -> Diff<'c, 'a> {
    let index = KeyIndex::build(previous, false);
    let classes: Vec<Class> = current
        .iter()
        .map(|contract| classify(&index, previous, contract))
        .collect();
    assemble(previous, current, &classes)
}

/// The previous set's keys: open-addressing tables of slots, one per range of hashes, small
/// enough to stay in the cache while they are built side by side.
struct KeyIndex<'c, 'a> {
    previous: &'c [Contract<'a>],
    /// Number of top hash bits that choose the table.
    bits: u32,
    tables: Vec<Vec<Slot>>,
}

/// One previous contract in a table: its key hash, its fingerprint and its index. With the
/// fingerprint in the slot, an unchanged contract (most of them) is found the same without
/// reading the previous contract or its text: one random memory access instead of three.
#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    fingerprint: u64,
    index: u32,
}

/// What the index knows of a current contract.
enum Found {
    /// No previous contract has its key.
    None,
    /// The previous contract with its key, with the same fingerprint: the same text, hence
    /// the same key and values (see [`Contract::fingerprint`]).
    Same(u32),
    /// The previous contract with its key, to compare field by field.
    Key(u32),
}

/// An empty slot.
const EMPTY: u32 = u32::MAX;

impl<'c, 'a> KeyIndex<'c, 'a> {
    fn build(previous: &'c [Contract<'a>], parallel: bool) -> Self {
        let bits = (previous.len() / 2048)
            .next_power_of_two()
            .trailing_zeros()
            .min(12);
        // The slots are made in one pass in set order, so that building the tables does not
        // go back to the contracts (one random memory access each).
        let slot = |(i, contract): (usize, &Contract<'_>)| Slot {
            hash: contract.key_hash(),
            fingerprint: contract.fingerprint(),
            index: i as u32,
        };
        let slots: Vec<Slot> = if parallel {
            previous.par_iter().enumerate().map(slot).collect()
        } else {
            previous.iter().enumerate().map(slot).collect()
        };
        let mut buckets: Vec<Vec<Slot>> = vec![Vec::new(); 1 << bits];
        for slot in slots {
            buckets[table_of(slot.hash, bits)].push(slot);
        }
        let build = |bucket: Vec<Slot>| build_table(previous, &bucket);
        let tables = if parallel {
            buckets.into_par_iter().map(build).collect()
        } else {
            buckets.into_iter().map(build).collect()
        };
        KeyIndex {
            previous,
            bits,
            tables,
        }
    }

    /// The first previous contract with this key.
    #[inline]
    fn get(&self, contract: &Contract<'_>) -> Found {
        let hash = contract.key_hash();
        let fingerprint = contract.fingerprint();
        let table = &self.tables[table_of(hash, self.bits)];
        let mask = table.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let slot = table[at];
            if slot.index == EMPTY {
                return Found::None;
            }
            if slot.hash == hash {
                if slot.fingerprint == fingerprint {
                    return Found::Same(slot.index);
                }
                if self.previous[slot.index as usize].key() == contract.key() {
                    return Found::Key(slot.index);
                }
            }
            at = (at + 1) & mask;
        }
    }
}

#[inline]
fn table_of(hash: u64, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (hash >> (64 - bits)) as usize
    }
}

/// One table for the contracts of `bucket` (in set order, so the first of duplicates wins).
fn build_table(previous: &[Contract<'_>], bucket: &[Slot]) -> Vec<Slot> {
    let size = (bucket.len() * 2).next_power_of_two().max(2);
    let mask = size - 1;
    let empty = Slot {
        hash: 0,
        fingerprint: 0,
        index: EMPTY,
    };
    let mut table = vec![empty; size];
    'next: for &new in bucket {
        let mut at = new.hash as usize & mask;
        while table[at].index != EMPTY {
            let slot = table[at];
            if slot.hash == new.hash
                && previous[slot.index as usize].key() == previous[new.index as usize].key()
            {
                continue 'next;
            }
            at = (at + 1) & mask;
        }
        table[at] = new;
    }
    table
}

#[inline]
fn classify(index: &KeyIndex<'_, '_>, previous: &[Contract<'_>], contract: &Contract<'_>) -> Class {
    let p = match index.get(contract) {
        Found::None => return Class::Added,
        Found::Same(p) => return Class::Same(p, true),
        Found::Key(p) => p,
    };
    let old = &previous[p as usize];
    let mut fields = FieldSet::default();
    for field in contract.changed_fields(old) {
        fields.insert(field);
    }
    if fields.is_empty() {
        Class::Same(p, false)
    } else {
        Class::Updated(p, fields)
    }
}

fn assemble<'c, 'a>(
    previous: &'c [Contract<'a>],
    current: &'c [Contract<'a>],
    classes: &[Class],
) -> Diff<'c, 'a> {
    let mut matched = vec![false; previous.len()];
    let mut diff = Diff {
        previous,
        current,
        same: Vec::new(),
        added: Vec::new(),
        updated: Vec::new(),
        removed: Vec::new(),
        verbatim: Vec::new(),
        key_twice: false,
    };
    for (i, class) in classes.iter().enumerate() {
        match *class {
            Class::Added => diff.added.push(i),
            Class::Same(p, verbatim) => {
                diff.key_twice |= std::mem::replace(&mut matched[p as usize], true);
                diff.same.push(i);
                if verbatim {
                    diff.verbatim.push(i);
                }
            }
            Class::Updated(p, fields) => {
                diff.key_twice |= std::mem::replace(&mut matched[p as usize], true);
                diff.updated.push(Update {
                    previous: p as usize,
                    current: i,
                    fields,
                });
            }
        }
    }
    diff.removed = (0..previous.len()).filter(|&p| !matched[p]).collect();
    diff
}

impl<'c, 'a> Diff<'c, 'a> {
    /// The four counts.
    pub fn summary(&self) -> Summary {
        Summary {
            same: self.same.len(),
            added: self.added.len(),
            updated: self.updated.len(),
            removed: self.removed.len(),
        }
    }

    /// Whether the two sets are canonically equal.
    pub fn is_unchanged(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }

    /// The unchanged contracts (current versions), in current order.
    pub fn same_contracts(&self) -> impl Iterator<Item = &'c Contract<'a>> + '_ {
        self.same.iter().map(|&i| &self.current[i])
    }

    /// The added contracts, in current order.
    pub fn added_contracts(&self) -> impl Iterator<Item = &'c Contract<'a>> + '_ {
        self.added.iter().map(|&i| &self.current[i])
    }

    /// The new versions of updated contracts, in current order.
    pub fn updated_contracts(&self) -> impl Iterator<Item = &'c Contract<'a>> + '_ {
        self.updated.iter().map(|u| &self.current[u.current])
    }

    /// The removed contracts (previous versions), in previous order.
    pub fn removed_contracts(&self) -> impl Iterator<Item = &'c Contract<'a>> + '_ {
        self.removed.iter().map(|&i| &self.previous[i])
    }

    /// Each updated contract, in current order: its key, both versions and the changed
    /// fields.
    ///
    /// ```
    /// let previous = sync_core::parse(br#"[{"codeContrat": "A", "nomSite": "Lyon"}]"#)?;
    /// let current = sync_core::parse(br#"[{"codeContrat": "A", "nomSite": "Lille"}]"#)?;
    /// let diff = sync_core::diff(&previous, &current);
    /// let update = diff.updates().next().unwrap();
    /// assert_eq!(update.key, "A");
    /// let change = update.changes().next().unwrap();
    /// assert_eq!((change.field.name(), change.old, change.new), ("nomSite", Some("Lyon"), Some("Lille")));
    /// # Ok::<(), sync_core::ParseError>(())
    /// ```
    pub fn updates(&self) -> impl ExactSizeIterator<Item = UpdatedContract<'c, 'a>> + '_ {
        self.updated.iter().map(|u| {
            let current = &self.current[u.current];
            UpdatedContract {
                key: current.key(),
                previous: &self.previous[u.previous],
                current,
                fields: u.fields,
            }
        })
    }

    /// Applies the diff to the previous set, field by field, and returns the result in the
    /// current set's order: a `same` contract is its previous version, an updated one its
    /// previous version with the changed fields set to their new values, an added one is
    /// taken as it is; removed ones are left out. The result is canonically equal, position
    /// by position, to the current set (the property tests check it).
    pub fn apply(&self) -> Vec<Contract<'a>> {
        let mut previous_by_key: HashMap<&str, usize> = HashMap::with_capacity(self.previous.len());
        for (i, contract) in self.previous.iter().enumerate() {
            previous_by_key.entry(contract.key()).or_insert(i);
        }
        let mut source: Vec<Option<Source<'_>>> = vec![None; self.current.len()];
        for &i in &self.same {
            source[i] = Some(Source::Same);
        }
        for &i in &self.added {
            source[i] = Some(Source::Added);
        }
        for update in &self.updated {
            source[update.current] = Some(Source::Updated(update));
        }
        source
            .into_iter()
            .enumerate()
            .filter_map(|(i, source)| {
                let current = &self.current[i];
                match source? {
                    Source::Same => Some(
                        previous_by_key
                            .get(current.key())
                            .map_or(current, |&p| &self.previous[p])
                            .clone(),
                    ),
                    Source::Added => Some(current.clone()),
                    Source::Updated(update) => {
                        let mut contract = self.previous[update.previous].clone();
                        for field in update.fields.iter() {
                            let value = current.get(field);
                            contract.set(field, value.map(|v| v.to_owned().into()));
                        }
                        Some(contract)
                    }
                }
            })
            .collect()
    }
}

/// Where [`Diff::apply`] takes a contract of the current set from.
#[derive(Clone, Copy)]
enum Source<'u> {
    Same,
    Added,
    Updated(&'u Update),
}
