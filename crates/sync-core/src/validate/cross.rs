//! The checks across contracts (DESIGN 3.2): duplicate keys, user codes and their roles,
//! emails and names, reference names, group placement.
//!
//! Each check is a join on one kind of entity (a key, a user code, an email, a reference code,
//! a group). It runs partitioned: the contracts are read once, in parallel chunks, into small
//! events (a [`Gathered`] per chunk, filled in the same pass as the checks on one contract);
//! each chunk then puts its events in the order of buckets chosen by the hash of their entity,
//! small enough to stay in the cache, while they are still in the cache itself; the buckets
//! are checked in parallel, each reading its part of every chunk in order, in payload order.
//! A bucket holds every event of its entities, so it finds exactly what one pass over the
//! whole payload would, and the problems are put back in payload order at the end, whatever
//! the number of threads.

use std::borrow::Cow;
use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use foldhash::fast::FixedState;
use foldhash::{HashSet, HashSetExt};
use rayon::prelude::*;

use crate::contract::{normalize_email, Contract};
use crate::field::{Field, Role, FIELD_COUNT, GROUP_PLACEMENT, REFERENCES};
use crate::problem::{Code, Problem};

const HASHER: FixedState = FixedState::with_seed(0x7573_6572_735f_6b65);

/// A key with its hash computed once, when the event was made: the maps of a bucket do not
/// hash it again.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Pre<K> {
    hash: u64,
    key: K,
}

impl<K> Hash for Pre<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The top bits chose the bucket, so they are the same for every key of a map: rotate
        // them away from the bits the map's probing looks at first.
        state.write_u64(self.hash.rotate_left(32));
    }
}

/// Hands a [`Pre`] hash through.
#[derive(Clone, Copy, Default)]
struct PassThrough;

#[derive(Default)]
struct PassThroughHasher(u64);

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type PreMap<K, V> = StdHashMap<Pre<K>, V, PassThrough>;

fn pre_map<K, V>(capacity: usize) -> PreMap<K, V> {
    StdHashMap::with_capacity_and_hasher(capacity, PassThrough)
}

/// A problem and where it goes among the problems of its contract.
struct Found {
    index: usize,
    /// Order within the contract: key, then each role (code, first name, last name, email),
    /// then references, then group, as one sequential pass would report them.
    seq: u16,
    problem: Problem,
}

/// Every cross-contract problem, in payload order, from the events of every chunk of
/// contracts in payload order. With `keep`, also where each user, email, reference and group
/// first shows up (see [`FirstOccurrences`]), as the checks find it.
pub(crate) fn cross_problems(
    contracts: &[Contract<'_>],
    chunks: &[Events<'_>],
    keep: bool,
) -> (Vec<Problem>, Option<FirstOccurrences>) {
    let mut found: Vec<Found> = check_keys(contracts, chunks);
    let (users, users_first) = check_users(contracts, chunks, keep);
    let (emails, emails_first) = check_emails(contracts, chunks, keep);
    let (references, references_first) = check_references(contracts, chunks, keep);
    let (groups, groups_first) = check_groups(contracts, chunks, keep);
    found.extend([users, emails, references, groups].into_iter().flatten());
    found.par_sort_by_key(|f| (f.index, f.seq));
    let firsts = keep.then(|| FirstOccurrences {
        bits: chunks
            .first()
            .map_or(0, |c| c.users.buckets().trailing_zeros()),
        users: users_first,
        emails: emails_first,
        references: references_first,
        groups: groups_first,
    });
    (found.into_iter().map(|f| f.problem).collect(), firsts)
}

/// Checks the buckets of one kind of event in parallel, each bucket with its events from every
/// chunk, in payload order.
///
/// Each chunk has already put its events in bucket order ([`Bucketed`]), so a bucket's events
/// lie in one run of memory per chunk, read in order: the checks do not wait on the cache.
///
/// Each bucket's check also returns what it keeps of its bucket (`T`), in bucket order.
fn partitioned<'g, S, E, V, C, T>(chunks: &'g [S], events: V, check: C) -> (Vec<Found>, Vec<T>)
where
    S: Sync,
    E: Sync + 'g,
    V: Fn(&'g S) -> &'g Bucketed<E> + Sync,
    C: Fn(Vec<&'g E>) -> (Vec<Found>, T) + Sync,
    T: Send,
{
    let buckets = chunks.first().map_or(0, |c| events(c).buckets());
    let checked: Vec<(Vec<Found>, T)> = (0..buckets)
        .into_par_iter()
        .map(|b| {
            let size = chunks.iter().map(|c| events(c).bucket(b).len()).sum();
            let mut bucket = Vec::with_capacity(size);
            for chunk in chunks {
                bucket.extend(events(chunk).bucket(b));
            }
            check(bucket)
        })
        .collect();
    let mut found = Vec::new();
    let mut kept = Vec::with_capacity(checked.len());
    for (f, k) in checked {
        found.extend(f);
        kept.push(k);
    }
    (found, kept)
}

/// Events of one kind from one chunk, in the order of their buckets (the top `bits` of their
/// hash), each bucket in payload order.
pub(crate) struct Bucketed<E> {
    events: Vec<E>,
    /// Where each bucket starts in `events`, and the end.
    starts: Vec<usize>,
}

impl<E: Clone> Bucketed<E> {
    /// `events` in bucket order (a stable counting sort), in a vector of their own.
    fn new(events: &[E], bits: u32, hash: impl Fn(&E) -> u64) -> Self {
        let bucket = |event: &E| {
            if bits == 0 {
                0
            } else {
                (hash(event) >> (64 - bits)) as usize
            }
        };
        let buckets = 1usize << bits;
        let mut starts = vec![0usize; buckets + 1];
        for event in events {
            starts[bucket(event) + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        if bits == 0 {
            let events = events.to_vec();
            return Bucketed { events, starts };
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; events.len()];
        for (i, event) in (0u32..).zip(events) {
            let b = bucket(event);
            order[next[b]] = i;
            next[b] += 1;
        }
        let events = order.iter().map(|&i| events[i as usize].clone()).collect();
        Bucketed { events, starts }
    }
}

impl<E> Bucketed<E> {
    fn buckets(&self) -> usize {
        self.starts.len() - 1
    }

    fn bucket(&self, b: usize) -> &[E] {
        &self.events[self.starts[b]..self.starts[b + 1]]
    }
}

/// How many bits of an event's hash choose its bucket, for a payload of `contracts`: buckets of
/// a few thousand events, small enough for the cache.
pub(crate) fn bucket_bits(contracts: usize) -> u32 {
    (contracts / 4096)
        .next_power_of_two()
        .trailing_zeros()
        .min(10)
}

/// Contracts per chunk when events are made: each chunk drops the events it has already seen.
pub(crate) const CHUNK: usize = 8192;

/// The events of one chunk of contracts, and what the chunk has seen.
///
/// An event whose content an earlier contract of the chunk already gave is skipped: it cannot
/// find anything the earlier one did not (conflicts are reported once per distinct value, at
/// its first occurrence), so the checks find exactly the same problems.
#[derive(Default)]
pub(crate) struct Gathered<'c> {
    /// Hash of the key, the key, the contract.
    keys: Vec<(u64, &'c str, usize)>,
    users: Vec<UserEvent<'c>>,
    emails: Vec<EmailEvent<'c>>,
    /// Hash of the slot and code, the contract, the slot in [`REFERENCES`].
    references: Vec<(u64, usize, usize)>,
    /// Hash of the group, the contract.
    groups: Vec<(u64, usize)>,
    seen_users: [Seen<'c, 4>; 3],
    seen_references: [Seen<'c, 2>; REFERENCES.len()],
    seen_groups: Seen<'c, 5>,
}

/// The events of one chunk, each kind in bucket order: what [`cross_problems`] reads.
pub(crate) struct Events<'c> {
    keys: Bucketed<(u64, &'c str, usize)>,
    users: Bucketed<UserEvent<'c>>,
    emails: Bucketed<EmailEvent<'c>>,
    references: Bucketed<(u64, usize, usize)>,
    groups: Bucketed<(u64, usize)>,
}

impl Events<'_> {
    /// Puts the hashes of the chunk's users, emails, references and groups in `touched`.
    pub(crate) fn mark(&self, touched: &Touched) {
        let hashes = (self.users.events.iter().map(|e| e.code_hash))
            .chain(self.emails.events.iter().map(|e| e.email_hash))
            .chain(self.references.events.iter().map(|e| e.0))
            .chain(self.groups.events.iter().map(|e| e.0));
        for hash in hashes {
            touched.insert(hash);
        }
    }
}

impl<'c> Gathered<'c> {
    /// The chunk's events, each kind put in bucket order (by the top `bits` of their hash)
    /// while it is still in the cache. References and groups are few once repeats are
    /// dropped, but each of their checks reads its contract back: they are spread over the
    /// buckets too, so that both threads share them.
    ///
    /// The chunk's vectors and sets are then emptied, their memory kept for the next chunk:
    /// only the events in bucket order take new memory.
    pub(crate) fn take_events(&mut self, bits: u32) -> Events<'c> {
        let events = Events {
            keys: Bucketed::new(&self.keys, bits, |e| e.0),
            users: Bucketed::new(&self.users, bits, |e| e.code_hash),
            emails: Bucketed::new(&self.emails, bits, |e| e.email_hash),
            references: Bucketed::new(&self.references, bits, |e| e.0),
            groups: Bucketed::new(&self.groups, bits, |e| e.0),
        };
        self.clear();
        events
    }

    /// Adds the events of contract `index`, whose trimmed values are `values` (in
    /// [`Field::ALL`] order). `repeated` has the bit of each field (by [`Field::index`]) known
    /// to have the same value as in the contract added just before: a user, reference or
    /// placement made only of such fields has been seen, so its set is not even looked at.
    ///
    /// With `only`, the contract's users, emails, references and group make events only when
    /// their hashes are in it (its key always does): see [`Touched`].
    pub(crate) fn add(
        &mut self,
        index: usize,
        contract: &Contract<'_>,
        values: &[&'c str; FIELD_COUNT],
        repeated: u32,
        only: Option<&Touched>,
    ) {
        let wanted = |hash: u64| only.is_none_or(|touched| touched.contains(hash));
        let value = |field: Field| values[field.index()];
        let all_repeated = |fields: &[Field]| fields.iter().all(|f| repeated >> f.index() & 1 == 1);
        let key = value(Field::CodeContrat);
        if !key.is_empty() {
            self.keys.push((contract.key_hash(), key, index));
        }
        for role in Role::ALL {
            let [code, first, last, email] = role.fields().map(value);
            // Apprentices are one per contract; tutors come back on many contracts.
            if code.is_empty()
                || (role != Role::Apprentice
                    && (all_repeated(&role.fields())
                        || !self.seen_users[role_slot(role)].first([code, first, last, email])))
            {
                continue;
            }
            let normalized = normalize_email(email);
            if !normalized.is_empty() {
                let email_hash = HASHER.hash_one(&*normalized);
                if wanted(email_hash) {
                    self.emails.push(EmailEvent {
                        email_hash,
                        index,
                        role,
                        code,
                        email: normalized.clone(),
                    });
                }
            }
            let code_hash = HASHER.hash_one(code);
            if wanted(code_hash) {
                self.users.push(UserEvent {
                    code_hash,
                    index,
                    role,
                    code,
                    email: normalized,
                    first,
                    last,
                });
            }
        }
        for (slot, (code_field, name_field)) in REFERENCES.into_iter().enumerate() {
            let (code, name) = (value(code_field), value(name_field));
            if !code.is_empty()
                && !all_repeated(&[code_field, name_field])
                && !name.is_empty()
                && self.seen_references[slot].first([code, name])
            {
                let hash = HASHER.hash_one((slot, code));
                if wanted(hash) {
                    self.references.push((hash, index, slot));
                }
            }
        }
        let group = value(Field::CodeGroupe);
        let [site, period, formation, year] = GROUP_PLACEMENT.map(value);
        let placed = [group, site, period, formation, year];
        let placement_repeated =
            all_repeated(&[Field::CodeGroupe]) && all_repeated(&GROUP_PLACEMENT);
        // A contract missing part of its placement (already a `missing_field`) places its
        // group nowhere: it is not a second placement.
        if placed.iter().all(|p| !p.is_empty())
            && !placement_repeated
            && self.seen_groups.first(placed)
        {
            let hash = HASHER.hash_one(group);
            if wanted(hash) {
                self.groups.push((hash, index));
            }
        }
    }

    /// Forgets the events and what was seen, keeping the memory.
    fn clear(&mut self) {
        self.keys.clear();
        self.users.clear();
        self.emails.clear();
        self.references.clear();
        self.groups.clear();
        self.seen_users.iter_mut().for_each(Seen::clear);
        self.seen_references.iter_mut().for_each(Seen::clear);
        self.seen_groups.clear();
    }
}

/// The users (by code), emails, references and groups that some contracts carry, as a set of
/// their event hashes that can answer yes for a hash it was not given, never no for one it
/// was: one bit per hash in a table of about 16 bits per value put in, filled from several
/// threads.
///
/// It lets a validation leave out the events of values it knows to be consistent (see
/// [`validate_since`](crate::validate::validate_since)): a value it takes as touched by
/// mistake only has its events checked like any other's.
pub(crate) struct Touched {
    words: Vec<AtomicU64>,
    /// Mask of the bit number in `words`, as a whole.
    mask: u64,
}

impl Touched {
    /// An empty set, sized for about `values` values.
    pub(crate) fn with_capacity(values: usize) -> Self {
        let bits = (values.saturating_mul(16)).next_power_of_two().max(1 << 12);
        Touched {
            words: (0..bits / 64).map(|_| AtomicU64::new(0)).collect(),
            mask: bits as u64 - 1,
        }
    }

    fn insert(&self, hash: u64) {
        let bit = hash & self.mask;
        self.words[(bit / 64) as usize].fetch_or(1 << (bit % 64), Ordering::Relaxed);
    }

    #[inline]
    fn contains(&self, hash: u64) -> bool {
        let bit = hash & self.mask;
        self.words[(bit / 64) as usize].load(Ordering::Relaxed) & (1 << (bit % 64)) != 0
    }
}

/// Where each user, email, reference and group of a payload first shows up, as the checks
/// across contracts found it: one small table a bucket, for each kind.
///
/// It lets [`validate_since`](crate::validate::validate_since) check the few users, emails,
/// references and groups of the contracts changed since this payload against it, instead of
/// against every contract of the next one: in a payload without conflicts, every contract
/// that carries a value agrees with where it first shows up.
pub(crate) struct FirstOccurrences {
    /// How many top bits of a hash choose its bucket.
    bits: u32,
    /// `extra`: the role's place in [`Role::ALL`], and [`ELSEWHERE`].
    users: Vec<Table>,
    /// The contract of the email's first owner; `extra`: its role's place.
    emails: Vec<Table>,
    /// `extra`: the slot in [`REFERENCES`].
    references: Vec<Table>,
    /// The contract that first places the group.
    groups: Vec<Table>,
}

/// A value where it first shows up: part of its hash, the contract, and one byte more.
#[derive(Clone, Copy)]
struct First {
    tag: u32,
    index: u32,
    extra: u8,
}

/// A user whose email or names are first given by another contract than the one where the
/// user first shows up (the fields are required, so not in an export without problems):
/// taken as disagreeing with anything.
const ELSEWHERE: u8 = 0x80;

/// An empty place in a [`Table`].
const EMPTY_FIRST: First = First {
    tag: 0,
    index: u32::MAX,
    extra: 0,
};

/// The part of a hash a [`First`] keeps: bits that neither the bucket nor the place in the
/// table is chosen by.
fn tag(hash: u64) -> u32 {
    (hash >> 20) as u32
}

/// A bucket's values, in an open-addressing table: at the low bits of the hash, or in the
/// places after it. A look-up reads one place, mostly; the value's text is then compared in
/// its contract.
type Table = Vec<First>;

/// With `keep`, a bucket's table of the values `items` (`first` of each: its hash, its
/// contract, one byte more); empty otherwise.
fn kept<I>(keep: bool, items: I, first: impl Fn(I::Item) -> (u64, usize, u8)) -> Table
where
    I: ExactSizeIterator,
{
    if !keep {
        return Vec::new();
    }
    let mut table = vec![EMPTY_FIRST; (items.len() * 3 / 2 + 1).next_power_of_two()];
    let mask = table.len() - 1;
    for (hash, index, extra) in items.map(first) {
        let mut at = hash as usize & mask;
        while table[at].index != u32::MAX {
            at = (at + 1) & mask;
        }
        table[at] = First {
            tag: tag(hash),
            // The caller keeps tables only for payloads of fewer than `u32::MAX` contracts.
            index: index as u32,
            extra,
        };
    }
    table
}

/// The values that may be the one of `hash`, in the tables that [`kept`] made for the
/// buckets of the top `bits` of hashes: their contract and their byte.
fn candidates(tables: &[Table], bits: u32, hash: u64) -> impl Iterator<Item = (usize, u8)> + '_ {
    let bucket = if bits == 0 {
        0
    } else {
        (hash >> (64 - bits)) as usize
    };
    let table = tables.get(bucket).map_or(&[][..], Vec::as_slice);
    let mask = table.len().wrapping_sub(1);
    let start = hash as usize & mask;
    (0..table.len())
        .map(move |probe| table[(start + probe) & mask])
        .take_while(|first| first.index != u32::MAX)
        .filter(move |first| first.tag == tag(hash))
        .map(|first| (first.index as usize, first.extra))
}

impl FirstOccurrences {
    /// Whether the users, emails, references and groups of `chunks` (events of `contracts`)
    /// agree with where they first show up in `previous`, the payload these were taken from,
    /// wherever it carries them: the same role, email, names; the same owner of an email;
    /// the same reference name; the same group placement. Values it does not carry agree.
    pub(crate) fn agree(
        &self,
        previous: &[Contract<'_>],
        contracts: &[Contract<'_>],
        chunks: &[Events<'_>],
    ) -> bool {
        chunks.par_iter().all(|chunk| {
            chunk
                .users
                .events
                .iter()
                .all(|e| self.user_agrees(previous, e))
                && chunk
                    .emails
                    .events
                    .iter()
                    .all(|e| self.email_agrees(previous, e))
                && chunk.references.events.iter().all(|&(hash, index, slot)| {
                    self.reference_agrees(previous, &contracts[index], hash, slot)
                })
                && (chunk.groups.events.iter())
                    .all(|&(hash, index)| self.group_agrees(previous, &contracts[index], hash))
        })
    }

    fn user_agrees(&self, previous: &[Contract<'_>], event: &UserEvent<'_>) -> bool {
        for (index, extra) in candidates(&self.users, self.bits, event.code_hash) {
            let role = Role::ALL[usize::from(extra & 3)];
            let [code, first, last, email] = role.fields();
            let user = &previous[index];
            if user.trimmed(code) != event.code {
                continue;
            }
            // The same when either side has no value.
            let agrees = |field: Field, value: &str| {
                let known = user.trimmed(field);
                value.is_empty() || known.is_empty() || known == value
            };
            let known_email = user.trimmed(email);
            let email_agrees = event.email.is_empty()
                || known_email.is_empty()
                || normalize_email(known_email) == event.email;
            return extra & ELSEWHERE == 0
                && role == event.role
                && email_agrees
                && agrees(first, event.first)
                && agrees(last, event.last);
        }
        true
    }

    fn email_agrees(&self, previous: &[Contract<'_>], event: &EmailEvent<'_>) -> bool {
        for (index, extra) in candidates(&self.emails, self.bits, event.email_hash) {
            let [code, _, _, email] = Role::ALL[usize::from(extra)].fields();
            let owner = &previous[index];
            if normalize_email(owner.trimmed(email)) == event.email {
                return owner.trimmed(code) == event.code;
            }
        }
        true
    }

    fn reference_agrees(
        &self,
        previous: &[Contract<'_>],
        contract: &Contract<'_>,
        hash: u64,
        slot: usize,
    ) -> bool {
        let (code, name) = REFERENCES[slot];
        for (index, first_slot) in candidates(&self.references, self.bits, hash) {
            let first = &previous[index];
            if usize::from(first_slot) == slot && first.trimmed(code) == contract.trimmed(code) {
                return first.trimmed(name) == contract.trimmed(name);
            }
        }
        true
    }

    fn group_agrees(&self, previous: &[Contract<'_>], contract: &Contract<'_>, hash: u64) -> bool {
        for (index, _) in candidates(&self.groups, self.bits, hash) {
            let first = &previous[index];
            if first.trimmed(Field::CodeGroupe) == contract.trimmed(Field::CodeGroupe) {
                return GROUP_PLACEMENT
                    .iter()
                    .all(|&f| first.trimmed(f) == contract.trimmed(f));
            }
        }
        true
    }
}

/// What a chunk has seen of one kind of value (a few strings): the last one, compared first
/// (contracts of one group usually follow each other), then a set.
struct Seen<'c, const N: usize> {
    last: Option<[&'c str; N]>,
    set: HashSet<Keyed<'c, N>>,
}

impl<const N: usize> Default for Seen<'_, N> {
    fn default() -> Self {
        Seen {
            last: None,
            set: HashSet::new(),
        }
    }
}

impl<'c, const N: usize> Seen<'c, N> {
    /// Forgets every value, keeping the set's memory.
    fn clear(&mut self) {
        self.last = None;
        self.set.clear();
    }

    /// Whether `value` is seen here for the first time.
    #[inline]
    fn first(&mut self, value: [&'c str; N]) -> bool {
        if self.last == Some(value) {
            return false;
        }
        self.last = Some(value);
        self.set.insert(Keyed(value))
    }
}

/// A few strings, the first of which (a code) mostly tells them apart: only it is hashed.
#[derive(PartialEq, Eq)]
struct Keyed<'c, const N: usize>([&'c str; N]);

impl<const N: usize> Hash for Keyed<'_, N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.first().hash(state);
    }
}

/// `#3 (C0003)`: a contract, for messages.
fn describe(contracts: &[Contract<'_>], index: usize) -> String {
    match contracts[index].key() {
        "" => format!("#{index}"),
        key => format!("#{index} ({key})"),
    }
}

fn found(
    contracts: &[Contract<'_>],
    index: usize,
    seq: u16,
    field: Field,
    code: Code,
    message: String,
) -> Found {
    Found {
        index,
        seq,
        problem: Problem::about(index, &contracts[index], field, code, message),
    }
}

fn check_keys(contracts: &[Contract<'_>], chunks: &[Events<'_>]) -> Vec<Found> {
    let (found, _) = partitioned(
        chunks,
        |c| &c.keys,
        |bucket| {
            let mut first: PreMap<&str, usize> = pre_map(bucket.len());
            let mut out = Vec::new();
            for &(hash, key, index) in bucket {
                match first.get(&Pre { hash, key }) {
                    Some(&other) => {
                        let message = format!(
                            "codeContrat {key} is already used by contract {}",
                            describe(contracts, other)
                        );
                        out.push(found(
                            contracts,
                            index,
                            0,
                            Field::CodeContrat,
                            Code::DuplicateContract,
                            message,
                        ));
                    }
                    None => {
                        first.insert(Pre { hash, key }, index);
                    }
                }
            }
            (out, ())
        },
    );
    found
}

/// One user as one contract names it, in one role.
#[derive(Clone)]
struct UserEvent<'c> {
    /// Hash of `code`.
    code_hash: u64,
    index: usize,
    role: Role,
    code: &'c str,
    /// Trimmed and lowercased (as sent: see [`UserEvent::raw_email`]).
    email: Cow<'c, str>,
    first: &'c str,
    last: &'c str,
}

/// A user's email as one contract gives it, in one role (users without an email have none).
#[derive(Clone)]
struct EmailEvent<'c> {
    /// Hash of `email`.
    email_hash: u64,
    index: usize,
    role: Role,
    code: &'c str,
    /// Trimmed and lowercased.
    email: Cow<'c, str>,
}

/// The email as sent, trimmed, for messages: read back from contract `index`, so that the
/// events of a million users do not carry it.
fn raw_email<'a>(contracts: &'a [Contract<'_>], index: usize, role: Role) -> &'a str {
    contracts[index].trimmed(role.fields()[3])
}

/// A role's place in [`Role::ALL`].
fn role_slot(role: Role) -> usize {
    Role::ALL.iter().position(|&r| r == role).unwrap_or(0)
}

/// Base of a role's `seq`: code conflicts at +1, names at +2 and +3, email at +4.
fn role_seq(role: Role) -> u16 {
    1 + 10 * role_slot(role) as u16
}

/// What is known of one user code: the role it first came in, and the first non-empty value
/// of each of its attributes (email, first name, last name) with the contract that gave it.
/// A value is compared with the first non-empty one, not with the first occurrence's: a
/// contract that leaves the email blank (already a `missing_field`) must not hide a conflict
/// between the contracts that follow.
struct UserState<'e, 'c> {
    role: Role,
    index: usize,
    email: Option<&'e UserEvent<'c>>,
    first: Option<(&'c str, usize)>,
    last: Option<(&'c str, usize)>,
}

impl<'e, 'c> UserState<'e, 'c> {
    fn new(event: &'e UserEvent<'c>) -> Self {
        let nonempty = |v: &'c str| (!v.is_empty()).then_some((v, event.index));
        UserState {
            role: event.role,
            index: event.index,
            email: (!event.email.is_empty()).then_some(event),
            first: nonempty(event.first),
            last: nonempty(event.last),
        }
    }
}

fn check_users(
    contracts: &[Contract<'_>],
    chunks: &[Events<'_>],
    keep: bool,
) -> (Vec<Found>, Vec<Table>) {
    partitioned(
        chunks,
        |c| &c.users,
        |bucket| {
            let mut known: PreMap<&str, UserState<'_, '_>> = pre_map(bucket.len());
            let mut reported: HashSet<(Code, &str, Cow<'_, str>)> = HashSet::new();
            let mut out = Vec::new();
            for event in bucket {
                let key = Pre {
                    hash: event.code_hash,
                    key: event.code,
                };
                let Some(user) = known.get_mut(&key) else {
                    known.insert(key, UserState::new(event));
                    continue;
                };
                let (code, role, seq) = (event.code, event.role, role_seq(event.role));
                let [code_field, first_field, last_field, email_field] = role.fields();
                if user.role != role {
                    if reported.insert((Code::CodeRoleConflict, code, Cow::Borrowed(role.name()))) {
                        let message = format!(
                            "user code {code} is used here as {role} but as {} in contract {}",
                            user.role,
                            describe(contracts, user.index)
                        );
                        out.push(found(
                            contracts,
                            event.index,
                            seq,
                            code_field,
                            Code::CodeRoleConflict,
                            message,
                        ));
                    }
                    continue;
                }
                if !event.email.is_empty() {
                    match user.email {
                        None => user.email = Some(event),
                        Some(known) if known.email != event.email => {
                            if reported.insert((Code::UserConflict, code, event.email.clone())) {
                                let message = format!(
                                    "user code {code} has email {} here but {} in contract {}",
                                    raw_email(contracts, event.index, event.role),
                                    raw_email(contracts, known.index, known.role),
                                    describe(contracts, known.index)
                                );
                                out.push(found(
                                    contracts,
                                    event.index,
                                    seq,
                                    email_field,
                                    Code::UserConflict,
                                    message,
                                ));
                            }
                        }
                        Some(_) => {}
                    }
                }
                for (offset, field, value, known) in [
                    (1, first_field, event.first, &mut user.first),
                    (2, last_field, event.last, &mut user.last),
                ] {
                    if value.is_empty() {
                        continue;
                    }
                    match *known {
                        None => *known = Some((value, event.index)),
                        Some((name, other)) if name != value => {
                            if reported.insert((Code::UserNameMismatch, code, Cow::Borrowed(value)))
                            {
                                let message = format!(
                                    "user code {code} is named \"{value}\" here but \"{name}\" in contract {}",
                                    describe(contracts, other)
                                );
                                out.push(found(
                                    contracts,
                                    event.index,
                                    seq + offset,
                                    field,
                                    Code::UserNameMismatch,
                                    message,
                                ));
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
            let firsts = kept(keep, known.iter(), |(key, user)| {
                let elsewhere = [
                    user.email.map(|e| e.index),
                    user.first.map(|f| f.1),
                    user.last.map(|l| l.1),
                ]
                .iter()
                .any(|&at| at.is_some_and(|at| at != user.index));
                let extra = role_slot(user.role) as u8 | if elsewhere { ELSEWHERE } else { 0 };
                (key.hash, user.index, extra)
            });
            (out, firsts)
        },
    )
}

fn check_emails(
    contracts: &[Contract<'_>],
    chunks: &[Events<'_>],
    keep: bool,
) -> (Vec<Found>, Vec<Table>) {
    partitioned(
        chunks,
        |c| &c.emails,
        |bucket| {
            let mut owners: PreMap<&str, (&str, usize, Role)> = pre_map(bucket.len());
            let mut reported: HashSet<(&str, &str)> = HashSet::new();
            let mut out = Vec::new();
            for event in bucket {
                let code = event.code;
                let key = Pre {
                    hash: event.email_hash,
                    key: &*event.email,
                };
                match owners.get(&key) {
                    None => {
                        owners.insert(key, (code, event.index, event.role));
                    }
                    Some(&(owner, other, _)) if owner != code => {
                        if reported.insert((code, &*event.email)) {
                            let message = format!(
                                "email {} is carried by user code {code} here but by {owner} in contract {}",
                                raw_email(contracts, event.index, event.role),
                                describe(contracts, other)
                            );
                            let email_field = event.role.fields()[3];
                            out.push(found(
                                contracts,
                                event.index,
                                role_seq(event.role) + 3,
                                email_field,
                                Code::EmailConflict,
                                message,
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
            let firsts = kept(keep, owners.iter(), |(key, &(_, index, role))| {
                (key.hash, index, role_slot(role) as u8)
            });
            (out, firsts)
        },
    )
}

fn check_references(
    contracts: &[Contract<'_>],
    chunks: &[Events<'_>],
    keep: bool,
) -> (Vec<Found>, Vec<Table>) {
    partitioned(
        chunks,
        |c| &c.references,
        |bucket| {
            let mut names: PreMap<(usize, &str), (&str, usize)> = pre_map(bucket.len());
            let mut reported: HashSet<(usize, &str, &str)> = HashSet::new();
            let mut out = Vec::new();
            for &(hash, index, slot) in bucket {
                let (code_field, name_field) = REFERENCES[slot];
                let contract = &contracts[index];
                let (code, name) = (contract.trimmed(code_field), contract.trimmed(name_field));
                let key = Pre {
                    hash,
                    key: (slot, code),
                };
                match names.get(&key) {
                    None => {
                        names.insert(key, (name, index));
                    }
                    Some(&(known, other)) if known != name => {
                        if reported.insert((slot, code, name)) {
                            let message = format!(
                                "{code_field} {code} is named \"{name}\" here but \"{known}\" in contract {}",
                                describe(contracts, other)
                            );
                            out.push(found(
                                contracts,
                                index,
                                40 + slot as u16,
                                name_field,
                                Code::ReferenceConflict,
                                message,
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
            let firsts = kept(keep, names.iter(), |(key, &(_, index))| {
                (key.hash, index, key.key.0 as u8)
            });
            (out, firsts)
        },
    )
}

fn check_groups(
    contracts: &[Contract<'_>],
    chunks: &[Events<'_>],
    keep: bool,
) -> (Vec<Found>, Vec<Table>) {
    partitioned(
        chunks,
        |c| &c.groups,
        |bucket| {
            let mut placed: PreMap<&str, ([&str; 4], usize)> = pre_map(bucket.len());
            let mut reported: HashSet<(&str, [&str; 4])> = HashSet::new();
            let mut out = Vec::new();
            for &(hash, index) in bucket {
                let contract = &contracts[index];
                let group = contract.trimmed(Field::CodeGroupe);
                let placement = GROUP_PLACEMENT.map(|f| contract.trimmed(f));
                let key = Pre { hash, key: group };
                match placed.get(&key) {
                    None => {
                        placed.insert(key, (placement, index));
                    }
                    Some(&(known, other)) if known != placement => {
                        if reported.insert((group, placement)) {
                            let describe_placement = |p: [&str; 4]| {
                                format!(
                                    "site {}, period {}, formation {}, year {}",
                                    p[0], p[1], p[2], p[3]
                                )
                            };
                            let message = format!(
                                "group {group} is placed in {} here but in {} in contract {}",
                                describe_placement(placement),
                                describe_placement(known),
                                describe(contracts, other)
                            );
                            out.push(found(
                                contracts,
                                index,
                                50,
                                Field::CodeGroupe,
                                Code::GroupConflict,
                                message,
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
            let firsts = kept(keep, placed.iter(), |(key, &(_, index))| {
                (key.hash, index, 0)
            });
            (out, firsts)
        },
    )
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use crate::field::Field;
    use crate::gen::{generate, Options};
    use crate::problem::Code;
    use crate::{validate, Payload};

    /// Conflicts placed across the chunks that events are made in: each distinct conflict is
    /// reported once, at its first occurrence, and the result does not depend on the number
    /// of threads.
    #[test]
    fn conflicts_across_chunks_are_found_once_whatever_the_threads() {
        let mut contracts = generate(&Options {
            contracts: 3 * super::CHUNK,
            seed: 5,
            change_rate: 0.0,
        })
        .previous;
        let set = |c: &mut crate::Contract<'static>, f: Field, v: &str| {
            c.set(f, Some(Cow::Owned(v.to_owned())))
        };
        // The tutor of contract 10 shows up again after the first chunk with another email,
        // twice, then again with the first email.
        let tutor = contracts[10].get(Field::CodePersonnel).unwrap().to_owned();
        let first_email = contracts[10].get(Field::EmailPersonnel).unwrap().to_owned();
        for i in [super::CHUNK + 5, super::CHUNK + 6, 2 * super::CHUNK + 1] {
            set(&mut contracts[i], Field::CodePersonnel, &tutor);
            set(
                &mut contracts[i],
                Field::EmailPersonnel,
                "autre@ecole.example.org",
            );
        }
        set(
            &mut contracts[2 * super::CHUNK + 9],
            Field::CodePersonnel,
            &tutor,
        );
        set(
            &mut contracts[2 * super::CHUNK + 9],
            Field::EmailPersonnel,
            &first_email,
        );
        // A site renamed in the last chunk.
        let site = contracts[0].get(Field::CodeSite).unwrap().to_owned();
        let last = contracts.len() - 1;
        set(&mut contracts[last], Field::CodeSite, &site);
        set(&mut contracts[last], Field::NomSite, "Ailleurs");
        let payload = Payload::from_contracts(contracts);

        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| validate(&payload))
        };
        let report = run(1);
        for threads in [2, 3, 8] {
            assert_eq!(run(threads), report, "{threads} threads");
        }
        let user_conflicts: Vec<usize> = report
            .problems
            .iter()
            .filter(|p| p.code == Code::UserConflict)
            .filter_map(|p| p.index)
            .collect();
        assert_eq!(user_conflicts, [super::CHUNK + 5]);
        let email_conflicts = report
            .problems
            .iter()
            .filter(|p| p.code == Code::EmailConflict)
            .count();
        assert_eq!(email_conflicts, 0, "the other email has no other owner");
        let renamed: Vec<_> = report
            .problems
            .iter()
            .filter(|p| p.code == Code::ReferenceConflict)
            .map(|p| (p.index, p.field.as_ref().map(|f| f.name())))
            .collect();
        assert!(
            renamed.contains(&(Some(last), Some("nomSite"))),
            "{renamed:?}"
        );
    }
}
