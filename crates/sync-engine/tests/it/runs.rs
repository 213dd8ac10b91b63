//! The run use cases through the engine only, on a clock the test sets: records of a sync, a
//! held sync's expiry at its time (read, decided or by the upkeep), approval, the change
//! listing's filter, retention.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sync_core::gen::{generate, Options};
use sync_engine::{
    ChangeKind, Engine, EngineError, EngineOptions, ManualClock, RunKind, RunOutcome, SyncInput,
    SyncOptions, SyncOutcome,
};
use sync_store::{hash_token, SqliteStore, TenantId};

fn engine(clock: &Arc<ManualClock>) -> (tempfile::TempDir, Engine, TenantId) {
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        hold_for: Duration::from_secs(2),
        keep_runs_for: Duration::from_secs(60),
        clock: clock.clone(),
    };
    let engine = Engine::with_options(Arc::new(SqliteStore::open(dir.path()).unwrap()), options);
    let tenant = engine
        .store()
        .tenant_with_token("school", &hash_token("t"), false)
        .unwrap();
    (dir, engine, tenant.id)
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_765_000_000),
    ))
}

fn options(agent: &str) -> SyncOptions {
    SyncOptions {
        allow_mass_removal: false,
        user_agent: Some(agent.to_owned()),
    }
}

fn held_id(outcome: SyncOutcome) -> String {
    match outcome {
        SyncOutcome::Guarded(held) => held.run_id,
        other => panic!("not held: {other:?}"),
    }
}

#[test]
fn a_hold_expires_at_its_time_and_an_approval_before_it_applies() {
    let clock = clock();
    let (_dir, engine, tenant) = engine(&clock);
    let school = generate(&Options {
        contracts: 40,
        seed: 3,
        change_rate: 0.0,
    });
    let all = serde_json::to_vec(&school.previous).unwrap();
    let few = serde_json::to_vec(&school.previous[..10]).unwrap();
    let first = match engine
        .sync(tenant, SyncInput::Full(&all), options("host/1"))
        .unwrap()
    {
        SyncOutcome::Applied(applied) => applied.run_id,
        other => panic!("{other:?}"),
    };
    let run = engine.run(tenant, &first).unwrap();
    assert_eq!(
        (
            run.kind,
            run.outcome,
            run.summary.added,
            run.user_agent.as_deref()
        ),
        (RunKind::Full, RunOutcome::Applied, 40, Some("host/1"))
    );
    assert_eq!(run.received_at, 1_765_000_000_000);

    // Held at t; read at t + 1.999 s it is held, at t + 2 s it has expired.
    let expiring = held_id(
        engine
            .sync(tenant, SyncInput::Full(&few), options("host/1"))
            .unwrap(),
    );
    clock.advance(Duration::from_millis(1999));
    assert_eq!(
        engine.run(tenant, &expiring).unwrap().outcome,
        RunOutcome::Held
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(
        engine.run(tenant, &expiring).unwrap().outcome,
        RunOutcome::Expired
    );
    assert!(matches!(
        engine.approve(tenant, &expiring),
        Err(EngineError::NotHeld {
            outcome: RunOutcome::Expired,
            ..
        })
    ));

    // Another, approved within its time: applied as it was computed.
    let approved = held_id(
        engine
            .sync(tenant, SyncInput::Full(&few), options("host/2"))
            .unwrap(),
    );
    clock.advance(Duration::from_millis(1500));
    match engine.approve(tenant, &approved).unwrap() {
        SyncOutcome::Applied(applied) => {
            assert_eq!(applied.run_id, approved);
            assert_eq!(applied.summary.removed, 30);
        }
        other => panic!("{other:?}"),
    }
    let run = engine.run(tenant, &approved).unwrap();
    assert_eq!(
        (run.outcome, run.user_agent.as_deref()),
        (RunOutcome::Approved, Some("host/2"))
    );
    assert_eq!(engine.store().active_set(tenant).unwrap().len(), 10);

    // The change listing, filtered on an apprentice's last name, case-insensitively.
    let removed = &school.previous[10];
    let name = removed
        .trimmed(sync_core::Field::NomApprenant)
        .to_uppercase();
    let page = engine
        .run_changes(tenant, &approved, Some(&name), 0, 100)
        .unwrap();
    assert!(
        page.total >= 1 && page.changes.iter().any(|c| c.code == removed.key()),
        "{page:?}"
    );
    assert!(page.changes.iter().all(|c| c.change == ChangeKind::Removed));
    assert!(matches!(
        engine.run_changes(tenant, "nope", None, 0, 10),
        Err(EngineError::RunNotFound(_))
    ));

    // A hold nobody reads expires in the upkeep; runs past retention are pruned.
    let unread = held_id(
        engine
            .sync(
                tenant,
                SyncInput::Full(&school_of(&school, 0)),
                options("host/3"),
            )
            .unwrap(),
    );
    clock.advance(Duration::from_secs(3));
    let done = engine.upkeep().unwrap();
    assert_eq!((done.expired, done.pruned), (1, 0));
    assert_eq!(
        engine
            .store()
            .run(tenant, &unread)
            .unwrap()
            .unwrap()
            .outcome,
        RunOutcome::Expired
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(engine.upkeep().unwrap().pruned, 4);
    assert_eq!(engine.runs(tenant, 0, 10).unwrap().total, 0);
    assert_eq!(
        engine.store().active_set(tenant).unwrap().len(),
        10,
        "contracts stay"
    );
}

/// The first `n` contracts of the school's export, as JSON (`[]` for none: a guarded sync
/// whatever the size, since it would leave nothing).
fn school_of(school: &sync_core::gen::Generated, n: usize) -> Vec<u8> {
    serde_json::to_vec(&school.previous[..n]).unwrap()
}
