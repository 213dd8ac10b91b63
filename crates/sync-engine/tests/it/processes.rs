//! Two processes on one data directory: two engines, each over its own `SqliteStore` opened
//! on the same directory, written to by threads at the same time. Every answered write is
//! kept, and the end state and every answer are explained by some serial order. Only the
//! outcome is asserted, never timing; a write may answer `Conflict` (then it changed nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Value};
use sync_core::gen::{generate, Options};
use sync_cycle::{ChangeCurrentMemberStatusRequest, CycleData, ScopedRequest};
use sync_engine::{
    ChangeKind, ChangesInput, Engine, EngineError, SyncInput, SyncOptions, SyncOutcome,
};
use sync_store::{hash_token, SqliteStore, TenantId};

const ALLOW: SyncOptions = SyncOptions {
    allow_mass_removal: true,
    user_agent: None,
};

/// Two engines (two processes) on one new data directory, and the tenant.
fn two_processes() -> (tempfile::TempDir, [Engine; 2], TenantId) {
    let dir = tempfile::tempdir().unwrap();
    let open = || Engine::new(Arc::new(SqliteStore::open(dir.path()).unwrap()));
    let engines = [open(), open()];
    let tenant = engines[0]
        .store()
        .tenant_with_token("school", &hash_token("t"), false)
        .unwrap();
    (dir, engines, tenant.id)
}

/// `n` valid contracts of one school, as JSON objects, and their codes.
fn contracts(n: usize) -> (Vec<Value>, Vec<String>) {
    let school = generate(&Options {
        contracts: n,
        seed: 11,
        change_rate: 0.0,
    });
    let Value::Array(list) = serde_json::to_value(&school.previous).unwrap() else {
        panic!("an array")
    };
    let codes = list
        .iter()
        .map(|c| c["codeContrat"].as_str().unwrap().to_owned())
        .collect();
    (list, codes)
}

fn active_codes(engine: &Engine, tenant: TenantId) -> BTreeSet<String> {
    let set = engine.store().active_set(tenant).unwrap();
    set.contracts().iter().map(|c| c.key().to_owned()).collect()
}

/// Posts `f(i)` for each `i` of `0..writes`, half through each engine, from two threads per
/// engine; answers each write's outcome by `i`.
fn concurrently<T: Send>(
    engines: &[Engine; 2],
    writes: usize,
    f: impl Fn(&Engine, usize) -> T + Sync,
) -> Vec<T> {
    let mut answers: Vec<(usize, T)> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (engine, f) = (&engines[t % 2], &f);
                s.spawn(move || {
                    (t..writes)
                        .step_by(4)
                        .map(|i| (i, f(engine, i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    answers.sort_by_key(|(i, _)| *i);
    answers.into_iter().map(|(_, answer)| answer).collect()
}

/// Full syncs of distinct sets (set `i`: every contract but contract `i`) through both
/// processes: each answered sync reports the set it replaced (the full set or another posted
/// one), the answered syncs form one chain from the full set, and the end state is the last
/// set of the chain, exactly.
#[test]
fn concurrent_full_syncs_end_in_a_serial_order() {
    let (_dir, engines, tenant) = two_processes();
    let (all, codes) = contracts(24);
    let full = serde_json::to_vec(&all).unwrap();
    engines[0]
        .sync(tenant, SyncInput::Full(&full), ALLOW)
        .unwrap();
    let syncs = 8;
    let sets: Vec<Vec<u8>> = (0..syncs)
        .map(|i| {
            let mut set = all.clone();
            set.remove(i);
            serde_json::to_vec(&set).unwrap()
        })
        .collect();
    let answers = concurrently(&engines, syncs, |engine, i| {
        engine.sync(tenant, SyncInput::Full(&sets[i]), ALLOW)
    });
    // The set each answered sync replaced: None for the full set, Some(j) for set j.
    let mut before_of: BTreeMap<usize, Option<usize>> = BTreeMap::new();
    for (i, answer) in answers.into_iter().enumerate() {
        let applied = match answer {
            Ok(SyncOutcome::Applied(applied)) => applied,
            Err(EngineError::Conflict) => continue,
            other => panic!("sync {i}: {other:?}"),
        };
        let removed: Vec<_> = applied
            .changes
            .iter()
            .filter(|c| c.change == ChangeKind::Removed)
            .map(|c| c.code.as_str())
            .collect();
        let added: Vec<_> = applied
            .changes
            .iter()
            .filter(|c| c.change == ChangeKind::Added)
            .map(|c| codes.iter().position(|code| code == &c.code).unwrap())
            .collect();
        assert_eq!(
            removed,
            [codes[i].as_str()],
            "sync {i} removed its contract"
        );
        assert!(
            applied
                .changes
                .iter()
                .all(|c| c.change != ChangeKind::Updated),
            "sync {i}"
        );
        let s = applied.summary;
        let before = match added[..] {
            [] => None,
            [j] => Some(j),
            _ => panic!("sync {i} added {added:?}"),
        };
        assert_eq!(
            (s.same, s.added, s.removed),
            (codes.len() - 1 - added.len(), added.len(), 1),
            "sync {i}"
        );
        before_of.insert(i, before);
    }
    assert!(!before_of.is_empty(), "some sync is answered");
    // One chain: from the full set, each set replaced by at most one sync, through all.
    let mut next: BTreeMap<Option<usize>, usize> = BTreeMap::new();
    for (&i, &before) in &before_of {
        assert!(
            next.insert(before, i).is_none(),
            "two syncs replaced the same state {before:?}: no serial order"
        );
    }
    let mut state = None;
    let mut chain = Vec::new();
    while let Some(&i) = next.get(&state) {
        chain.push(i);
        state = Some(i);
    }
    assert_eq!(
        chain.len(),
        before_of.len(),
        "one chain {chain:?} of {before_of:?}"
    );
    let last = state.unwrap();
    let expected: BTreeSet<String> = codes
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != last)
        .map(|(_, code)| code.clone())
        .collect();
    for engine in &engines {
        assert_eq!(
            active_codes(engine, tenant),
            expected,
            "the last set, exactly"
        );
    }
}

/// Deltas each adding a distinct contract, through both processes: every answered one is
/// kept, and each answered from another base (the sizes before them are distinct).
#[test]
fn concurrent_deltas_lose_nothing() {
    let (_dir, engines, tenant) = two_processes();
    let (all, codes) = contracts(24);
    let first = 16;
    let base = serde_json::to_vec(&all[..first]).unwrap();
    engines[0]
        .sync(tenant, SyncInput::Full(&base), ALLOW)
        .unwrap();
    let added: Vec<Vec<u8>> = all[first..]
        .iter()
        .map(|c| serde_json::to_vec(&[c]).unwrap())
        .collect();
    let answers = concurrently(&engines, added.len(), |engine, i| {
        let delta = ChangesInput {
            added: Some(&added[i]),
            ..ChangesInput::default()
        };
        engine.sync(tenant, SyncInput::Changes(delta), ALLOW)
    });
    let mut expected: BTreeSet<String> = codes[..first].iter().cloned().collect();
    let mut bases = BTreeSet::new();
    for (i, answer) in answers.into_iter().enumerate() {
        match answer {
            Ok(SyncOutcome::Applied(applied)) => {
                let s = applied.summary;
                assert_eq!((s.added, s.updated, s.removed), (1, 0, 0), "delta {i}");
                assert!(
                    bases.insert(s.same),
                    "two deltas answered from {} contracts",
                    s.same
                );
                expected.insert(codes[first + i].clone());
            }
            Err(EngineError::Conflict) => {}
            other => panic!("delta {i}: {other:?}"),
        }
    }
    let answered = bases.len();
    assert!(answered > 0, "some delta is answered");
    assert_eq!(
        bases.into_iter().collect::<Vec<_>>(),
        (first..first + answered).collect::<Vec<_>>(),
        "each delta from the state the one before it left"
    );
    for engine in &engines {
        assert_eq!(
            active_codes(engine, tenant),
            expected,
            "no answered delta lost"
        );
    }
}

/// Status changes of distinct members through both processes: every answered one is kept,
/// and every entry has its own id.
#[test]
fn concurrent_cycle_writes_lose_nothing() {
    let (_dir, engines, tenant) = two_processes();
    let members = 12;
    let import = json!({
        "members": (0..members).map(|i| json!({"userId": format!("m{i}")})).collect::<Vec<_>>()
    });
    engines[0]
        .write_cycle_data(tenant, |data| data.import(&import))
        .unwrap()
        .unwrap();
    let requests: Vec<ChangeCurrentMemberStatusRequest> = (0..members)
        .map(|i| {
            ChangeCurrentMemberStatusRequest::from(json!({
                "userId": format!("m{i}"),
                "status": {"status": "Membre", "startDate": "2022-01-01T00:00:00"}
            }))
        })
        .collect();
    let answers = concurrently(&engines, members, |engine, i| {
        let request = &requests[i];
        engine.write_cycle_slice(tenant, &request.scope(), |data| {
            data.change_current_member_status(request)
        })
    });
    let data: CycleData = engines[1].read_cycle_data(tenant, Clone::clone).unwrap();
    let mut ids = BTreeSet::new();
    let mut answered = 0;
    for (i, answer) in answers.into_iter().enumerate() {
        let member = format!("m{i}");
        match answer {
            Ok(Ok(_)) => {
                answered += 1;
                let entries = data.statuses.get(&member).map(Vec::as_slice).unwrap_or(&[]);
                assert_eq!(entries.len(), 1, "{member}'s answered change is kept");
            }
            Err(EngineError::Conflict) => {
                assert!(
                    !data.statuses.contains_key(&member),
                    "{member}: nothing written"
                );
            }
            other => panic!("{member}: {other:?}"),
        }
    }
    assert!(answered > 0, "some change is answered");
    for entry in data.statuses.values().flatten() {
        assert!(
            ids.insert(entry.entry_id.clone()),
            "entry id {} twice",
            entry.entry_id
        );
    }
    assert_eq!(ids.len(), answered);
}
