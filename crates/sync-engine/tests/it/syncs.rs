//! Each use case over a real embedded store, through the engine only.

use std::sync::Arc;

use serde_json::json;
use sync_core::gen::{generate, Options};
use sync_engine::{
    ChangeKind, ChangesInput, Engine, EngineError, PreviewOutcome, SyncInput, SyncOptions,
    SyncOutcome,
};
use sync_store::{hash_token, Listing, SqliteStore, TenantId};

fn engine() -> (tempfile::TempDir, Engine, TenantId) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Arc::new(SqliteStore::open(dir.path()).unwrap()));
    let tenant = engine
        .store()
        .tenant_with_token("school", &hash_token("t"), false)
        .unwrap();
    (dir, engine, tenant.id)
}

fn school(contracts: usize) -> (Vec<u8>, Vec<u8>) {
    let school = generate(&Options {
        contracts,
        seed: 5,
        change_rate: 0.1,
    });
    let json = |c| serde_json::to_vec(c).unwrap();
    (json(&school.previous), json(&school.current))
}

fn applied(outcome: SyncOutcome) -> sync_engine::Applied {
    match outcome {
        SyncOutcome::Applied(applied) => applied,
        other => panic!("not applied: {other:?}"),
    }
}

const ALLOW: SyncOptions = SyncOptions {
    allow_mass_removal: true,
    user_agent: None,
};

#[test]
fn a_sync_writes_the_diff_and_answers_what_changed() {
    let (_dir, engine, tenant) = engine();
    let (previous, current) = school(200);
    let first = applied(
        engine
            .sync(tenant, SyncInput::Full(&previous), ALLOW)
            .unwrap(),
    );
    assert_eq!((first.summary.added, first.contracts.len()), (200, 200));
    let second = applied(
        engine
            .sync(tenant, SyncInput::Full(&current), ALLOW)
            .unwrap(),
    );
    let s = second.summary;
    assert_eq!(s.added + s.updated + s.removed, second.changes.len());
    assert!(s.updated > 0 && s.added > 0 && s.removed > 0, "{s:?}");
    let updated = second
        .changes
        .iter()
        .find(|c| c.change == ChangeKind::Updated)
        .unwrap();
    assert!(!updated.fields.is_empty());
    assert_eq!(second.changes.last().unwrap().change, ChangeKind::Removed);
    let page = engine
        .store()
        .page(tenant, Listing::Transmitted, 0, 10)
        .unwrap();
    assert_eq!(page.total, s.same + s.added + s.updated);
    // The same export again changes nothing.
    let again = applied(
        engine
            .sync(tenant, SyncInput::Full(&current), ALLOW)
            .unwrap(),
    );
    assert_eq!(again.summary.same, page.total);
    assert!(again.changes.is_empty());
}

#[test]
fn a_refused_or_guarded_sync_changes_nothing() {
    let (_dir, engine, tenant) = engine();
    let (previous, _) = school(100);
    applied(
        engine
            .sync(tenant, SyncInput::Full(&previous), ALLOW)
            .unwrap(),
    );
    let bad = br#"[{"codeContrat": "X", "dateDebut": "31/02/2025"}]"#;
    match engine.sync(tenant, SyncInput::Full(bad), ALLOW).unwrap() {
        SyncOutcome::Refused(refusal) => assert!(refusal.errors() > 1, "{refusal:?}"),
        other => panic!("{other:?}"),
    }
    let few = serde_json::to_vec(
        &serde_json::from_slice::<Vec<serde_json::Value>>(&previous).unwrap()[..10],
    )
    .unwrap();
    match engine
        .sync(tenant, SyncInput::Full(&few), SyncOptions::default())
        .unwrap()
    {
        SyncOutcome::Guarded(held) => {
            assert_eq!((held.guard.active, held.guard.removed), (100, 90))
        }
        other => panic!("{other:?}"),
    }
    let page = engine
        .store()
        .page(tenant, Listing::Transmitted, 0, 1)
        .unwrap();
    assert_eq!(page.total, 100);
    let err = engine
        .sync(tenant, SyncInput::Full(b"[1, 2,]"), ALLOW)
        .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::InvalidJson {
                what: "the contracts",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_delta_is_merged_into_the_active_set_and_a_preview_writes_nothing() {
    let (_dir, engine, tenant) = engine();
    let (previous, _) = school(50);
    applied(
        engine
            .sync(tenant, SyncInput::Full(&previous), ALLOW)
            .unwrap(),
    );
    let first: Vec<serde_json::Value> = serde_json::from_slice(&previous).unwrap();
    let code = first[0]["codeContrat"].as_str().unwrap().to_owned();
    let removed = ChangesInput {
        removed: vec![code.clone()],
        ..ChangesInput::default()
    };
    let preview = engine
        .preview(tenant, SyncInput::Changes(removed.clone()), |diff, _| {
            diff.summary()
        })
        .unwrap();
    assert!(matches!(preview, PreviewOutcome::Compared(s) if s.removed == 1 && s.same == 49));
    assert_eq!(
        engine
            .store()
            .page(tenant, Listing::Transmitted, 0, 1)
            .unwrap()
            .total,
        50
    );
    let delta = applied(
        engine
            .sync(tenant, SyncInput::Changes(removed), ALLOW)
            .unwrap(),
    );
    assert_eq!(
        (delta.summary.removed, delta.changes[0].code.as_str()),
        (1, code.as_str())
    );
    let unknown = ChangesInput {
        removed: vec!["NOPE".into()],
        ..ChangesInput::default()
    };
    match engine
        .sync(tenant, SyncInput::Changes(unknown), ALLOW)
        .unwrap()
    {
        SyncOutcome::Refused(refusal) => {
            assert_eq!(refusal.delta_problems[0].code, "unknown_contract")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_other_use_cases_refuse_what_the_rules_refuse() {
    let (_dir, engine, tenant) = engine();
    let (previous, _) = school(20);
    applied(
        engine
            .sync(tenant, SyncInput::Full(&previous), ALLOW)
            .unwrap(),
    );
    let stored = engine
        .store()
        .tenant_by_token_hash(&hash_token("t"))
        .unwrap()
        .unwrap();
    assert!(matches!(
        engine.delete_all(&stored, None),
        Err(EngineError::NotSandbox(_))
    ));
    let blank = [serde_json::from_value(json!({"codeFormation": " ", "codeAnnee": "Y"})).unwrap()];
    assert!(
        matches!(engine.set_session_models(tenant, &blank), Err(EngineError::InvalidSessionModels(p)) if !p.is_empty())
    );
    assert!(matches!(
        engine.replace_absences(tenant, " ", &[]),
        Err(EngineError::MissingEmail)
    ));
    assert!(matches!(
        engine.replace_absences(tenant, "nobody@x.fr", &[]),
        Err(EngineError::UnknownApprentice(_))
    ));
    let apprentice = serde_json::from_slice::<Vec<serde_json::Value>>(&previous).unwrap()[0]
        ["emailApprenant"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = [json!({"dateDebut": "31/02/2025-08:00", "type": "sick"})];
    assert!(
        matches!(engine.replace_absences(tenant, &apprentice, &bad), Err(EngineError::InvalidAbsences(p)) if p.len() == 4)
    );
    let good = [
        json!({"dateDebut": "01/09/2025-08:00", "dateFin": "01/09/2025-12:00", "type": "absence", "isJustifie": true}),
    ];
    assert_eq!(
        engine.replace_absences(tenant, &apprentice, &good).unwrap(),
        1
    );
    assert!(matches!(
        engine.check_calendar_group(tenant, "NO-GROUP"),
        Err(EngineError::UnknownGroup(_))
    ));
    assert!(matches!(
        engine.register_calendar(tenant, "G", "<html>"),
        Err(EngineError::InvalidCalendar(_))
    ));
}
