//! The behaviour every backend owes the engine, tested once over [`Store`]: each backend's
//! tests call each function with a [`NewDatabase`] (`conformance_tests!` makes one test each), which makes a new empty
//! database and returns an [`Open`] that opens stores on it (SQLite: `tests/it/conformance.rs`,
//! one temporary directory per database). A function panics, naming what differs, when the
//! backend behaves otherwise.

#[cfg(feature = "postgres")]
pub mod postgres;

use sync_core::rules::{Absence, AbsenceKind, CalendarEvent, SessionModel};
use sync_core::{Contract, Field, Summary};
use sync_cycle::CycleData;

use crate::{
    hash_token, ChangeKind, ChangePage, ChangeRecord, Listing, Page, Run, RunKind, RunOutcome,
    RunPage, RunWrite, Store, StoreError, SyncWrite, TenantId,
};

/// Opens a store on one database; each call is another store (another process, or the same
/// one restarted) on that same database.
pub type Open = Box<dyn Fn() -> Box<dyn Store>>;

/// Makes a new, empty database and returns how to open stores on it.
pub type NewDatabase<'a> = &'a dyn Fn() -> Open;

/// One `#[test]` per behaviour of the suite, each calling `$check(behaviour)`, where `$check`
/// is a backend's `fn(NewDatabase)` runner: a backend's tests write
/// `sync_store::conformance_tests!(check);` and run every behaviour, a behaviour added to the
/// suite included.
#[macro_export]
macro_rules! conformance_tests {
    ($check:path) => {
        $crate::conformance_tests!(@each $check;
            tenants_and_tokens,
            syncs_and_archives,
            listings_and_paging,
            session_models,
            events,
            absences,
            cycle_data,
            cycle_slices,
            writes_of_another_store_are_seen,
            stale_writes_are_refused,
            a_restart_keeps_everything,
            delete_all,
            runs_are_recorded_and_listed,
            held_runs_are_decided,
            reverts_are_recorded,
            runs_are_pruned,
            review_keys_open_their_run_until_they_expire,
            change_records_are_paged_across_chunks,
        );
    };
    (@each $check:path; $($behaviour:ident,)*) => {
        $(
            #[test]
            fn $behaviour() {
                $check($crate::conformance::$behaviour);
            }
        )*
    };
}

/// A contract with the fields the suite looks at.
pub fn contract(code: &str, group: &str, formation: &str, email: &str) -> Contract<'static> {
    Contract::from_pairs([
        (Field::CodeContrat, code.to_owned()),
        (Field::CodeGroupe, group.to_owned()),
        (Field::CodeFormation, formation.to_owned()),
        (Field::CodeAnnee, "Y".to_owned()),
        (Field::CodeApprenant, format!("A-{code}")),
        (Field::EmailApprenant, email.to_owned()),
    ])
}

/// The `codeContrat` of each contract of a page, space separated.
pub fn keys(page: &Page) -> String {
    page.contracts
        .iter()
        .map(|json| {
            let v: serde_json::Value = serde_json::from_str(json).expect("a JSON object");
            v["codeContrat"].as_str().expect("a codeContrat").to_owned()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The keys of the tenant's active set, space separated.
pub fn active_keys(store: &dyn Store, tenant: TenantId) -> String {
    let set = store.active_set(tenant).expect("active set");
    let keys: Vec<_> = set.contracts().iter().map(|c| c.key()).collect();
    keys.join(" ")
}

fn upsert(store: &dyn Store, tenant: TenantId, contracts: &[&Contract<'_>]) {
    let mut upsert = contracts.to_vec();
    upsert.sort_by(|a, b| a.key().cmp(b.key()));
    let write = SyncWrite {
        upsert,
        ..Default::default()
    };
    store.apply_sync(tenant, &write).expect("apply_sync");
}

fn archive(store: &dyn Store, tenant: TenantId, codes: &[&str]) {
    let write = SyncWrite {
        archive: codes.to_vec(),
        ..Default::default()
    };
    store.apply_sync(tenant, &write).expect("apply_sync");
}

fn model(formation: &str) -> SessionModel {
    SessionModel {
        formation: formation.into(),
        year: "Y".into(),
        site: None,
        period: None,
    }
}

fn event(uid: &str, start: &str) -> CalendarEvent {
    CalendarEvent {
        uid: Some(uid.into()),
        summary: Some(format!("Cours {uid}")),
        start: start.into(),
        end: "2025-12-31T10:00:00Z".into(),
        location: None,
        description: None,
    }
}

fn absence(start: &str, kind: AbsenceKind) -> Absence {
    Absence {
        start: start.into(),
        end: "01/09/2025-12:00".into(),
        kind,
        justified: false,
        reason: None,
    }
}

/// Tenants: created once with their flag, found by name and by token; creating a name again
/// is [`StoreError::TenantExists`] and changes nothing; a token binds to one tenant.
pub fn tenants_and_tokens(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    store
        .ping()
        .expect("a new database answers a trivial query");
    let a = store.create_tenant("a", true).expect("create a");
    assert_eq!((a.name.as_str(), a.sandbox), ("a", true));
    let b = store.create_tenant("b", false).expect("create b");
    assert_ne!(a.id, b.id);
    assert_eq!(store.tenant_by_name("a").unwrap(), Some(a.clone()));
    assert_eq!(store.tenant_by_name("c").unwrap(), None);
    assert_eq!(store.tenant_by_token_hash(&hash_token("ta")).unwrap(), None);

    // A name taken: an error naming it, the stored tenant as it was.
    match store.create_tenant("a", false) {
        Err(StoreError::TenantExists { name }) => assert_eq!(name, "a"),
        other => panic!("create_tenant of an existing name: {other:?}"),
    }
    assert_eq!(store.tenant_by_name("a").unwrap(), Some(a.clone()));

    store.add_token(a.id, &hash_token("ta")).unwrap();
    store.add_token(a.id, &hash_token("ta2")).unwrap();
    store.add_token(b.id, &hash_token("tb")).unwrap();
    for (token, tenant) in [("ta", &a), ("ta2", &a), ("tb", &b)] {
        let found = store.tenant_by_token_hash(&hash_token(token)).unwrap();
        assert_eq!(found.as_ref(), Some(tenant), "token {token}");
    }
    // A token bound again moves to the other tenant.
    store.add_token(b.id, &hash_token("ta2")).unwrap();
    assert_eq!(
        store.tenant_by_token_hash(&hash_token("ta2")).unwrap(),
        Some(b.clone())
    );

    // `tenant_with_token`: an existing tenant keeps its flag, a new one takes the given one.
    let kept = store
        .tenant_with_token("a", &hash_token("ta3"), false)
        .unwrap();
    assert_eq!(kept, a);
    assert_eq!(store.tenant_by_name("a").unwrap(), Some(a.clone()));
    assert_eq!(
        store.tenant_by_token_hash(&hash_token("ta3")).unwrap(),
        Some(a.clone())
    );
    let new = store
        .tenant_with_token("n", &hash_token("tn"), true)
        .unwrap();
    assert_eq!((new.name.as_str(), new.sandbox), ("n", true));
    assert_eq!(
        store.tenant_by_token_hash(&hash_token("tn")).unwrap(),
        Some(new)
    );
}

/// Syncs: upserted contracts are active, archived ones leave the set but keep their
/// accounts, an archived contract sent again comes back; one tenant never sees another's.
pub fn syncs_and_archives(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", true).unwrap();
    let set = [
        contract("C2", "G1", "F1", "x2@e.fr"),
        contract("C1", "G1", "F2", "X1@E.fr"),
        contract("C3", "G2", "F1", "x3@e.fr"),
    ];
    assert_eq!(active_keys(store, a.id), "");
    upsert(store, a.id, &[&set[0], &set[1], &set[2]]);
    assert_eq!(active_keys(store, a.id), "C1 C2 C3");
    assert_eq!(active_keys(store, b.id), "");
    assert!(store.archived_accounts(a.id).unwrap().is_empty());

    archive(store, a.id, &["C2"]);
    assert_eq!(active_keys(store, a.id), "C1 C3");
    assert_eq!(store.active_set(a.id).unwrap().len(), 2);
    // Archived contracts still count as known accounts.
    let accounts = store.archived_accounts(a.id).unwrap();
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(
        (accounts[0].code.as_str(), accounts[0].email.as_str()),
        ("A-C2", "x2@e.fr")
    );
    assert!(store.archived_accounts(b.id).unwrap().is_empty());
    assert!(store.apprentice_is_active(a.id, " x1@e.FR ").unwrap());
    assert!(!store.apprentice_is_active(a.id, "x2@e.fr").unwrap());
    assert!(!store.apprentice_is_active(b.id, "x1@e.fr").unwrap());
    assert!(store.group_is_active(a.id, " G2 ").unwrap());
    assert!(!store.group_is_active(b.id, "G2").unwrap());

    // The archived contract comes back, in a new version.
    let back = contract("C2", "G3", "F1", "x2@e.fr");
    upsert(store, a.id, &[&back]);
    assert_eq!(active_keys(store, a.id), "C1 C2 C3");
    assert_eq!(store.active_set(a.id).unwrap().get("C2"), Some(&back));
    assert!(store.archived_accounts(a.id).unwrap().is_empty());
    assert!(store.group_is_active(a.id, "G3").unwrap());

    // Upsert and archive in one write.
    let changed = contract("C3", "G9", "F9", "X3@E.fr");
    let write = SyncWrite {
        upsert: vec![&changed],
        archive: vec!["C1"],
        ..Default::default()
    };
    store.apply_sync(a.id, &write).unwrap();
    assert_eq!(active_keys(store, a.id), "C2 C3");
    assert!(store.group_is_active(a.id, "G9").unwrap());
    assert!(!store.group_is_active(a.id, "G2").unwrap());
    assert!(store.apprentice_is_active(a.id, "x3@e.fr").unwrap());
    assert!(!store.apprentice_is_active(a.id, "x1@e.fr").unwrap());
    // The same write again changes nothing.
    store.apply_sync(a.id, &write).unwrap();
    assert_eq!(active_keys(store, a.id), "C2 C3");
    assert!(store
        .apply_sync(a.id, &SyncWrite::default())
        .is_ok_and(|()| active_keys(store, a.id) == "C2 C3"));
}

/// Listings: ordered by `codeContrat`, `total` counts the whole listing, offsets past the
/// end are empty; the integrated listing follows the session models, whichever store of
/// the database set them; the wire JSON is the contract's.
pub fn listings_and_paging(new_database: NewDatabase<'_>) {
    let open = new_database();
    let store = open();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    let set = [
        contract("C2", "G1", "F1", "x2@e.fr"),
        contract("C1", "G1", "F2", "x1@e.fr"),
        contract("C3", "G2", "F1", "x3@e.fr"),
    ];
    upsert(store, a.id, &[&set[0], &set[1], &set[2]]);
    let all = store.page(a.id, Listing::Transmitted, 0, 10).unwrap();
    assert_eq!((all.total, keys(&all).as_str()), (3, "C1 C2 C3"));
    let second = store.page(a.id, Listing::Transmitted, 1, 1).unwrap();
    assert_eq!((second.total, keys(&second).as_str()), (3, "C2"));
    let none = store.page(b.id, Listing::Transmitted, 0, 10).unwrap();
    assert_eq!((none.total, keys(&none).as_str()), (0, ""));
    // No session model: nothing integrated.
    let integrated = store.page(a.id, Listing::Integrated, 0, 10).unwrap();
    assert_eq!((integrated.total, keys(&integrated).as_str()), (0, ""));

    let f1 = model("F1");
    store
        .set_session_models(a.id, std::slice::from_ref(&f1))
        .unwrap();
    let integrated = store.page(a.id, Listing::Integrated, 0, 10).unwrap();
    assert_eq!((integrated.total, keys(&integrated).as_str()), (2, "C2 C3"));
    assert_eq!(
        store.page(b.id, Listing::Integrated, 0, 10).unwrap().total,
        0
    );

    // Offsets and totals of both listings, from this store and from another one on the
    // same database (its active set read back from what is stored).
    let reopened = open();
    let reopened = reopened.as_ref();
    for s in [store, reopened] {
        let integrated = s.page(a.id, Listing::Integrated, 1, 1).unwrap();
        assert_eq!((keys(&integrated), integrated.total), ("C3".into(), 2));
        let transmitted = s.page(a.id, Listing::Transmitted, 2, 5).unwrap();
        assert_eq!((keys(&transmitted), transmitted.total), ("C3".into(), 3));
        let beyond = s.page(a.id, Listing::Transmitted, 3, 5).unwrap();
        assert_eq!((keys(&beyond), beyond.total), (String::new(), 3));
        let first = s.page(a.id, Listing::Transmitted, 0, 1).unwrap();
        assert_eq!(first.contracts, [serde_json::to_string(&set[1]).unwrap()]);
    }
    // Other models, other integrated contracts, whichever store set them.
    reopened.set_session_models(a.id, &[model("F2")]).unwrap();
    for s in [store, reopened] {
        let integrated = s.page(a.id, Listing::Integrated, 0, 10).unwrap();
        assert_eq!((keys(&integrated), integrated.total), ("C1".into(), 1));
    }
    // An archived contract leaves both listings.
    store.set_session_models(a.id, &[f1]).unwrap();
    archive(store, a.id, &["C3"]);
    for s in [store, reopened] {
        let integrated = s.page(a.id, Listing::Integrated, 0, 10).unwrap();
        assert_eq!((keys(&integrated), integrated.total), ("C2".into(), 1));
        let transmitted = s.page(a.id, Listing::Transmitted, 0, 10).unwrap();
        assert_eq!((keys(&transmitted), transmitted.total), ("C1 C2".into(), 2));
    }
}

/// Session models: none at first, replaced as a whole, per tenant.
pub fn session_models(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    assert_eq!(store.session_models(a.id).unwrap(), []);
    let models = [
        model("F1"),
        SessionModel {
            site: Some("S1".into()),
            period: Some("P1".into()),
            ..model("F2")
        },
    ];
    store.set_session_models(a.id, &models).unwrap();
    assert_eq!(store.session_models(a.id).unwrap(), models);
    assert_eq!(store.session_models(b.id).unwrap(), []);
    store.set_session_models(a.id, &models[1..]).unwrap();
    assert_eq!(store.session_models(a.id).unwrap(), models[1..]);
    store.set_session_models(a.id, &[]).unwrap();
    assert_eq!(store.session_models(a.id).unwrap(), []);
}

/// Calendar events: a group's list replaced as a whole, read back by start, per tenant.
pub fn events(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    assert_eq!(store.events(a.id, "G1").unwrap(), []);
    let late = event("e2", "2025-09-02T08:00:00Z");
    let early = event("e1", "2025-09-01T08:00:00Z");
    store
        .replace_events(a.id, "G1", &[late.clone(), early.clone()], None)
        .unwrap();
    assert_eq!(
        store.events(a.id, "G1").unwrap(),
        [early.clone(), late.clone()]
    );
    assert_eq!(store.events(a.id, "G2").unwrap(), []);
    assert_eq!(store.events(b.id, "G1").unwrap(), []);
    store
        .replace_events(a.id, "G1", std::slice::from_ref(&late), None)
        .unwrap();
    assert_eq!(store.events(a.id, "G1").unwrap(), [late]);
    store.replace_events(a.id, "G1", &[], None).unwrap();
    assert_eq!(store.events(a.id, "G1").unwrap(), []);
}

/// Absences: a student's list replaced as a whole, read back in the order sent, per tenant.
pub fn absences(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    let email = "x1@e.fr";
    assert_eq!(store.absences(a.id, email).unwrap(), []);
    let list = [
        absence("02/09/2025-08:00", AbsenceKind::Retard),
        Absence {
            justified: true,
            reason: Some("Maladie".into()),
            ..absence("01/09/2025-08:00", AbsenceKind::Absence)
        },
    ];
    store.replace_absences(a.id, email, &list, None).unwrap();
    assert_eq!(store.absences(a.id, email).unwrap(), list);
    assert_eq!(store.absences(b.id, email).unwrap(), []);
    assert_eq!(store.absences(a.id, "x2@e.fr").unwrap(), []);
    store
        .replace_absences(a.id, email, &list[1..], None)
        .unwrap();
    assert_eq!(store.absences(a.id, email).unwrap(), list[1..]);
}

/// Cycle data: empty until saved, read back as saved, replaced as a whole, per tenant.
pub fn cycle_data(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    assert_eq!(store.cycle_data(a.id).unwrap(), CycleData::default());
    let data: CycleData = serde_json::from_value(serde_json::json!({
        "cycles": {"c1": {"cycleId": "c1", "adminName": "Cycle"}},
        "periods": {"p1": {"cyclePeriodId": "p1", "cycleId": "c1", "duration": 2}},
        "members": {"u1": {"userId": "U1", "customFields": {"member_status": "1"}}},
        "credits": {"u1": {"p1": [{"kind": "completed", "credits": 2.5}]}},
        "statuses": {"u1": [{"entryId": "1", "userId": "U1", "status": "Membre",
            "isActiveMember": true, "startDate": "2025-09-01T00:00:00", "endDate": null}]},
        "next_entry": 2
    }))
    .expect("cycle data");
    store.set_cycle_data(a.id, &data).unwrap();
    assert_eq!(store.cycle_data(a.id).unwrap(), data);
    assert_eq!(store.cycle_data(b.id).unwrap(), CycleData::default());
    let emptied = CycleData {
        next_entry: 2,
        ..CycleData::default()
    };
    store.set_cycle_data(a.id, &emptied).unwrap();
    assert_eq!(store.cycle_data(a.id).unwrap(), emptied);
}

/// Cycle slices: what `cycle_slice` loads is what [`CycleData::slice`] takes from the whole
/// data, for every kind of scope; a rule run on a slice and saved with `save_cycle_changes`
/// leaves the whole data as the rule run on the whole data does, other tenants untouched.
pub fn cycle_slices(new_database: NewDatabase<'_>) {
    use serde_json::json;
    use sync_cycle::{CycleScope, MemberScope, ScopedRequest};

    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    let mut data = CycleData::default();
    data.import(&json!({
        "cycles": [{"cycleId": "c%3d1", "adminName": "Cycle"}, {"cycleId": "c2"}],
        "periods": [
            {"cyclePeriodId": "p1", "cycleId": "c=1", "startDate": "2020-01-01T00:00:00Z",
             "requirements": [{"type": 2, "targetValue": 5}, {"type": 1, "targetValue": 40.5}]},
            {"cyclePeriodId": "p2", "cycleId": "c%3d1", "requirements": []},
            {"cyclePeriodId": "p3", "cycleId": "c2"}],
        "members": [
            {"userId": "u%2f1", "customFields": {"matricule": " 7 ", "site": "Lyon"}},
            {"userId": "u2", "customFields": {"matricule": "8"}},
            {"userId": "u3", "customFields": {"matricule": "8"}},
            {"userId": "u4"}],
        "credits": [
            {"memberId": "u/1", "cyclePeriodId": "p1", "kind": "completed", "credits": 12},
            {"memberId": "u/1", "cyclePeriodId": "p1", "kind": "provider", "credits": 0.1},
            {"memberId": "u/1", "cyclePeriodId": "p2", "kind": "exempted", "credits": 3}]
    }))
    .expect("a valid import");
    let statuses = json!({"userId": "u/1", "statuses": [
        {"status": "Membre", "startDate": "2021-01-01T00:00:00", "endDate": "2021-06-01T00:00:00"},
        {"status": "Suspendu", "startDate": "2020-01-01T00:00:00"}]});
    data.update_member_statuses(&statuses.into()).unwrap();
    store.set_cycle_data(a.id, &data).unwrap();
    store.set_cycle_data(b.id, &data).unwrap();
    assert_eq!(store.cycle_data(a.id).unwrap(), data);

    let field = |name: &str, value: Option<&str>| CycleScope {
        member: Some(MemberScope::CustomField {
            api_name: name.into(),
            value: value.map(str::to_owned),
        }),
        ..CycleScope::default()
    };
    let scopes = [
        CycleScope::default(),
        CycleScope::all_cycles(),
        CycleScope {
            cycles: vec!["c=1".into(), "inconnu".into()],
            periods_of_cycles: vec!["c=1".into()],
            ..CycleScope::default()
        },
        CycleScope {
            periods: vec!["p1".into(), "p3".into()],
            member: Some(MemberScope::UserId("u/1".into())),
            ..CycleScope::default()
        },
        CycleScope {
            member: Some(MemberScope::UserId("inconnu".into())),
            ..CycleScope::default()
        },
        field("matricule", Some("7")),
        field("matricule", Some("8")),
        field("matricule", Some("9")),
        field("matricule", None),
        field("inconnu", Some("7")),
    ];
    for scope in &scopes {
        assert_eq!(
            store.cycle_slice(a.id, scope).unwrap(),
            data.slice(scope),
            "{scope:?}"
        );
    }

    // Writes through slices: the whole data ends as the same writes on the whole data.
    let mut whole = data.clone();
    let change = sync_cycle::ChangeCurrentMemberStatusRequest::from(json!({
        "customFieldAPIName": "site", "customFieldValue": "Lyon",
        "status": {"status": "Membre", "startDate": "2022-01-01T00:00:00"}}));
    let emptied =
        sync_cycle::UpdateMemberStatusesRequest::from(json!({"userId": "u%2F1", "statuses": []}));
    let timeline =
        sync_cycle::UpdateMemberStatusesRequest::from(json!({"userId": "u2", "statuses": [
        {"status": "Membre", "startDate": "2020-01-01T00:00:00"}]}));
    for step in 0..3 {
        let scope = match step {
            0 => change.scope(),
            1 => timeline.scope(),
            _ => emptied.scope(),
        };
        let before = store.cycle_slice(a.id, &scope).unwrap();
        let mut after = before.clone();
        let rule = |d: &mut CycleData| match step {
            0 => d.change_current_member_status(&change),
            1 => d.update_member_statuses(&timeline),
            _ => d.update_member_statuses(&emptied),
        };
        rule(&mut after).unwrap();
        rule(&mut whole).unwrap();
        store
            .save_cycle_changes(a.id, &before, &after, None)
            .unwrap();
        let mut stored = store.cycle_data(a.id).unwrap();
        // An emptied timeline is stored as no rows.
        whole.statuses.retain(|_, list| !list.is_empty());
        stored.statuses.retain(|_, list| !list.is_empty());
        assert_eq!(stored, whole, "step {step}");
    }
    assert_eq!(store.cycle_data(b.id).unwrap(), data, "another tenant");

    // Credits of a period outside the slice are kept; a period deleted is deleted.
    let scope = CycleScope {
        periods: vec!["p1".into(), "p3".into()],
        member: Some(MemberScope::UserId("u/1".into())),
        ..CycleScope::default()
    };
    let before = store.cycle_slice(a.id, &scope).unwrap();
    let mut after = before.clone();
    after.credits.clear();
    after.periods.remove("p3");
    store
        .save_cycle_changes(a.id, &before, &after, None)
        .unwrap();
    let stored = store.cycle_data(a.id).unwrap();
    assert_eq!(stored.credits["u/1"].keys().collect::<Vec<_>>(), ["p2"]);
    assert!(!stored.periods.contains_key("p3") && stored.periods.contains_key("p2"));
}

/// A store sees every write another store (another process) made on the same database at its
/// next call, whatever it keeps in memory; the set a store derives after its own write is the
/// one read back from the database.
pub fn writes_of_another_store_are_seen(new_database: NewDatabase<'_>) {
    let open = new_database();
    let store = open();
    let other = open();
    let (store, other) = (store.as_ref(), other.as_ref());
    let a = store.create_tenant("a", true).unwrap();
    let set = [
        contract("C2", "G1", "F1", "x2@e.fr"),
        contract("C1", "G1", "F2", "x1@e.fr"),
        contract("C3", "G2", "F1", "x3@e.fr"),
    ];
    assert_eq!(active_keys(store, a.id), "");
    upsert(store, a.id, &[&set[0], &set[1], &set[2]]);
    assert_eq!(active_keys(store, a.id), "C1 C2 C3");
    assert_eq!(active_keys(other, a.id), "C1 C2 C3");
    archive(other, a.id, &["C2"]);
    assert_eq!(active_keys(store, a.id), "C1 C3");
    assert!(store.group_is_active(a.id, " G2 ").unwrap());

    let changed = contract("C3", "G3", "F9", "X3@E.fr");
    let back = contract("C2", "G1", "F1", "x2@e.fr");
    let write = SyncWrite {
        upsert: vec![&back, &changed],
        archive: vec!["C1"],
        ..Default::default()
    };
    store.apply_sync(a.id, &write).unwrap();
    let derived = store.active_set(a.id).unwrap();
    let fresh = open();
    assert_eq!(
        derived.contracts(),
        fresh.active_set(a.id).unwrap().contracts()
    );
    assert_eq!(active_keys(other, a.id), "C2 C3");
    assert!(store.group_is_active(a.id, "G3").unwrap());
    assert!(!store.group_is_active(a.id, "G2").unwrap());
    assert!(store.apprentice_is_active(a.id, "x3@e.fr").unwrap());
    assert!(!store.apprentice_is_active(a.id, "x1@e.fr").unwrap());

    other.set_session_models(a.id, &[model("F1")]).unwrap();
    let integrated = store.page(a.id, Listing::Integrated, 0, 10).unwrap();
    assert_eq!(keys(&integrated), "C2");
    other.delete_all(a.id, None).unwrap();
    assert_eq!(active_keys(store, a.id), "");
}

/// A write based on a version that is no longer the stored one (another store, another
/// process, wrote meanwhile) is refused with [`StoreError::Stale`] and changes nothing: a
/// sync (empty or not), events, absences and a cycle save; based on the current version, it
/// is applied and bumps the version.
pub fn stale_writes_are_refused(new_database: NewDatabase<'_>) {
    let open = new_database();
    let (store, other) = (open(), open());
    let (store, other) = (store.as_ref(), other.as_ref());
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    let (c1, c2) = (
        contract("C1", "G1", "F1", "x1@e.fr"),
        contract("C2", "G2", "F1", "x2@e.fr"),
    );
    let old = store.contracts_version(a.id).unwrap();
    let b_version = store.contracts_version(b.id).unwrap();
    upsert(other, a.id, &[&c1]);
    let now = store.contracts_version(a.id).unwrap();
    assert_ne!(now, old, "a sync bumps the contracts version");
    assert_eq!(
        store.contracts_version(b.id).unwrap(),
        b_version,
        "other tenant"
    );
    let stale = |r: crate::Result<()>, what: &str| {
        assert!(matches!(r, Err(StoreError::Stale { .. })), "{what}: {r:?}");
    };
    let write = SyncWrite {
        upsert: vec![&c2],
        archive: vec!["C1"],
        based_on: Some(old),
        ..Default::default()
    };
    stale(store.apply_sync(a.id, &write), "stale sync");
    let empty = SyncWrite {
        based_on: Some(old),
        ..Default::default()
    };
    stale(store.apply_sync(a.id, &empty), "stale empty sync");
    assert_eq!(active_keys(store, a.id), "C1");
    assert_eq!(
        store.contracts_version(a.id).unwrap(),
        now,
        "nothing written"
    );
    let events = [event("e1", "2025-09-01T08:00:00Z")];
    stale(
        store.replace_events(a.id, "G1", &events, Some(old)),
        "stale events",
    );
    assert_eq!(store.events(a.id, "G1").unwrap(), []);
    let absences = [absence("01/09/2025-08:00", AbsenceKind::Absence)];
    stale(
        store.replace_absences(a.id, "x1@e.fr", &absences, Some(old)),
        "stale absences",
    );
    assert_eq!(store.absences(a.id, "x1@e.fr").unwrap(), []);
    // Based on the stored version: applied.
    store
        .replace_events(a.id, "G1", &events, Some(now))
        .unwrap();
    store
        .replace_absences(a.id, "x1@e.fr", &absences, Some(now))
        .unwrap();
    store
        .apply_sync(
            a.id,
            &SyncWrite {
                based_on: Some(now),
                ..Default::default()
            },
        )
        .unwrap();
    let write = SyncWrite {
        based_on: Some(now),
        ..write
    };
    store.apply_sync(a.id, &write).unwrap();
    assert_eq!(active_keys(store, a.id), "C2");
    assert_eq!(active_keys(other, a.id), "C2");
    assert_ne!(store.contracts_version(a.id).unwrap(), now);

    // Cycle data: a save based on an old cycle version is refused.
    let old = store.cycle_version(a.id).unwrap();
    let b_version = store.cycle_version(b.id).unwrap();
    let first = CycleData {
        next_entry: 3,
        ..CycleData::default()
    };
    other
        .save_cycle_changes(a.id, &CycleData::default(), &first, Some(old))
        .unwrap();
    let now = store.cycle_version(a.id).unwrap();
    assert_ne!(now, old, "a cycle save bumps the cycle version");
    assert_eq!(
        store.cycle_version(b.id).unwrap(),
        b_version,
        "other tenant"
    );
    let second = CycleData {
        next_entry: 9,
        ..CycleData::default()
    };
    stale(
        store.save_cycle_changes(a.id, &CycleData::default(), &second, Some(old)),
        "stale cycle save",
    );
    assert_eq!(store.cycle_data(a.id).unwrap(), first, "nothing written");
    assert_eq!(store.cycle_version(a.id).unwrap(), now);
    store
        .save_cycle_changes(a.id, &first, &second, Some(now))
        .unwrap();
    assert_eq!(other.cycle_data(a.id).unwrap(), second);
    store.set_cycle_data(a.id, &first).unwrap();
    assert_ne!(
        store.cycle_version(a.id).unwrap(),
        now + 1,
        "an import bumps it too"
    );
}

/// A store opened again on a database finds every tenant, token, contract, archive, model,
/// event, absence and cycle object it held.
pub fn a_restart_keeps_everything(new_database: NewDatabase<'_>) {
    let open = new_database();
    let set = [
        contract("C1", "G1", "F1", "x1@e.fr"),
        contract("C2", "G1", "F2", "x2@e.fr"),
    ];
    let events = [event("e1", "2025-09-01T08:00:00Z")];
    let absences = [absence("01/09/2025-08:00", AbsenceKind::Absence)];
    let data = CycleData {
        next_entry: 7,
        ..CycleData::default()
    };
    let (a, b) = {
        let store = open();
        let a = store
            .tenant_with_token("a", &hash_token("ta"), false)
            .unwrap();
        let b = store
            .tenant_with_token("b", &hash_token("tb"), true)
            .unwrap();
        upsert(store.as_ref(), a.id, &[&set[0], &set[1]]);
        archive(store.as_ref(), a.id, &["C2"]);
        store.set_session_models(a.id, &[model("F1")]).unwrap();
        store.replace_events(a.id, "G1", &events, None).unwrap();
        store
            .replace_absences(a.id, "x1@e.fr", &absences, None)
            .unwrap();
        store.set_cycle_data(a.id, &data).unwrap();
        (a, b)
    };
    let store = open();
    let store = store.as_ref();
    assert_eq!(
        store.tenant_by_token_hash(&hash_token("ta")).unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.tenant_by_token_hash(&hash_token("tb")).unwrap(),
        Some(b)
    );
    assert_eq!(store.tenant_by_token_hash(&hash_token("tc")).unwrap(), None);
    assert_eq!(active_keys(store, a.id), "C1");
    assert_eq!(store.active_set(a.id).unwrap().get("C1"), Some(&set[0]));
    assert_eq!(store.archived_accounts(a.id).unwrap().len(), 1);
    assert_eq!(store.session_models(a.id).unwrap(), [model("F1")]);
    assert_eq!(
        keys(&store.page(a.id, Listing::Integrated, 0, 10).unwrap()),
        "C1"
    );
    assert_eq!(store.events(a.id, "G1").unwrap(), events);
    assert_eq!(store.absences(a.id, "x1@e.fr").unwrap(), absences);
    assert_eq!(store.cycle_data(a.id).unwrap(), data);
}

/// `delete_all`: the tenant's contracts (archived too), calendars and absences go, its models,
/// tokens and the other tenants' data stay.
pub fn delete_all(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store
        .tenant_with_token("a", &hash_token("ta"), true)
        .unwrap();
    let b = store.create_tenant("b", false).unwrap();
    let set = [
        contract("C1", "G1", "F1", "x1@e.fr"),
        contract("C2", "G1", "F1", "x2@e.fr"),
    ];
    for tenant in [a.id, b.id] {
        upsert(store, tenant, &[&set[0], &set[1]]);
        archive(store, tenant, &["C2"]);
        store.set_session_models(tenant, &[model("F1")]).unwrap();
        store
            .replace_events(tenant, "G1", &[event("e1", "2025-09-01T08:00:00Z")], None)
            .unwrap();
        store
            .replace_absences(
                tenant,
                "x1@e.fr",
                &[absence("01/09/2025-08:00", AbsenceKind::Absence)],
                None,
            )
            .unwrap();
    }
    store.delete_all(a.id, None).unwrap();
    assert_eq!(active_keys(store, a.id), "");
    assert_eq!(
        store.page(a.id, Listing::Transmitted, 0, 10).unwrap().total,
        0
    );
    assert!(store.archived_accounts(a.id).unwrap().is_empty());
    assert_eq!(store.events(a.id, "G1").unwrap(), []);
    assert_eq!(store.absences(a.id, "x1@e.fr").unwrap(), []);
    assert!(!store.group_is_active(a.id, "G1").unwrap());
    assert_eq!(
        store.tenant_by_token_hash(&hash_token("ta")).unwrap(),
        Some(a)
    );
    // The other tenant keeps everything.
    assert_eq!(active_keys(store, b.id), "C1");
    assert_eq!(store.archived_accounts(b.id).unwrap().len(), 1);
    assert_eq!(store.events(b.id, "G1").unwrap().len(), 1);
    assert_eq!(store.absences(b.id, "x1@e.fr").unwrap().len(), 1);
    assert_eq!(store.session_models(b.id).unwrap(), [model("F1")]);
}

/// A run of `kind` and `outcome` received at `at`, based on `based_on`, the counts given.
pub fn run(id: &str, kind: RunKind, outcome: RunOutcome, at: i64, based_on: i64) -> Run {
    Run {
        id: id.to_owned(),
        kind,
        received_at: at,
        outcome,
        summary: Summary::default(),
        errors: 0,
        warnings: 0,
        user_agent: Some("suite/1".to_owned()),
        based_on,
        version_after: None,
        reverts: None,
        decided_at: None,
    }
}

/// A change record of a contract, its apprentice named `first last`.
pub fn change_record(
    code: &str,
    change: ChangeKind,
    first: &str,
    last: &str,
    previous: Option<&str>,
) -> ChangeRecord<'static> {
    ChangeRecord {
        code: code.to_owned().into(),
        change,
        fields: if change == ChangeKind::Updated {
            r#"[{"field":"codeGroupe","old":"G1","new":"G2"}]"#.into()
        } else {
            "[]".into()
        },
        previous: previous.map(|p| p.to_owned().into()),
        last_name: last.to_owned().into(),
        first_name: first.to_owned().into(),
        group_code: "G1".into(),
        group_name: "Groupe 1".into(),
        site_code: "S1".into(),
        site_name: "Site 1".into(),
    }
}

fn new_run<'r>(run: &'r Run, changes: &'r [ChangeRecord<'r>]) -> RunWrite<'r> {
    RunWrite::New {
        run,
        changes,
        problems: None,
        payload: None,
    }
}

fn run_ids(page: &RunPage) -> String {
    let ids: Vec<_> = page.runs.iter().map(|r| r.id.as_str()).collect();
    ids.join(" ")
}

fn change_codes(page: &ChangePage) -> String {
    let codes: Vec<_> = page.changes.iter().map(|c| c.code.as_ref()).collect();
    codes.join(" ")
}

/// Runs: recorded with the sync they describe (in its transaction: a stale sync records
/// nothing) or alone; listed newest first and paged, one tenant never sees another's; a
/// run that changed contracts carries the version its write left, one that changed nothing
/// none; change records paged in order and filtered case-insensitively on code and names;
/// a refused run keeps its problems; everything survives a restart.
pub fn runs_are_recorded_and_listed(new_database: NewDatabase<'_>) {
    let open = new_database();
    let (a, b) = {
        let store = open();
        let store = store.as_ref();
        let a = store.create_tenant("a", false).unwrap();
        let b = store.create_tenant("b", false).unwrap();
        let set = [
            contract("C1", "G1", "F1", "x1@e.fr"),
            contract("C2", "G1", "F1", "x2@e.fr"),
            contract("C3", "G1", "F1", "x3@e.fr"),
        ];
        let mut first = run("r1", RunKind::Full, RunOutcome::Applied, 1_000, 0);
        first.summary.added = 3;
        let changes = [
            change_record("C1", ChangeKind::Added, "Éloïse", "Dupont", None),
            change_record("C2", ChangeKind::Added, "Jean", "MARTIN", None),
            change_record("C3", ChangeKind::Added, "Anne", "Durand", None),
        ];
        store
            .apply_sync(
                a.id,
                &SyncWrite {
                    upsert: vec![&set[0], &set[1], &set[2]],
                    based_on: Some(0),
                    run: Some(new_run(&first, &changes)),
                    ..Default::default()
                },
            )
            .expect("a sync with its run");
        let version = store.contracts_version(a.id).unwrap();
        // A stale sync writes neither its contracts nor its run.
        let stale = run("stale", RunKind::Full, RunOutcome::Applied, 1_500, 0);
        let err = store
            .apply_sync(
                a.id,
                &SyncWrite {
                    archive: vec!["C1"],
                    based_on: Some(version - 1),
                    run: Some(new_run(&stale, &[])),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert!(matches!(err, StoreError::Stale { .. }), "{err}");
        assert_eq!(active_keys(store, a.id), "C1 C2 C3");
        assert_eq!(store.run(a.id, "stale").unwrap(), None);
        // An unchanged resend: an empty write, its run recorded, no version after.
        let same = run("r2", RunKind::Full, RunOutcome::Applied, 2_000, version);
        store
            .apply_sync(
                a.id,
                &SyncWrite {
                    based_on: Some(version),
                    run: Some(new_run(&same, &[])),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(store.contracts_version(a.id).unwrap(), version);
        // A refused run, alone, with its problems.
        let mut refused = run("r3", RunKind::Changes, RunOutcome::Refused, 3_000, version);
        refused.errors = 2;
        refused.user_agent = None;
        let problems = r#"[{"code":"missing_field"},{"code":"invalid_email"}]"#;
        store
            .record_run(
                a.id,
                &RunWrite::New {
                    run: &refused,
                    changes: &[],
                    problems: Some(problems),
                    payload: None,
                },
            )
            .unwrap();
        // Another tenant's run.
        store
            .record_run(
                b.id,
                &new_run(&run("rb", RunKind::Full, RunOutcome::Refused, 500, 0), &[]),
            )
            .unwrap();
        (a, b)
    };
    // Everything below is read by a store opened again (a restart).
    let store = open();
    let store = store.as_ref();
    let page = store.runs(a.id, 0, 10).unwrap();
    assert_eq!((page.total, run_ids(&page).as_str()), (3, "r3 r2 r1"));
    let page = store.runs(a.id, 1, 1).unwrap();
    assert_eq!((page.total, run_ids(&page).as_str()), (3, "r2"));
    assert_eq!(store.runs(a.id, 5, 10).unwrap().runs, []);
    assert_eq!(run_ids(&store.runs(b.id, 0, 10).unwrap()), "rb");
    assert_eq!(store.run(b.id, "r1").unwrap(), None, "another tenant's run");
    assert_eq!(store.run(a.id, "rb").unwrap(), None, "another tenant's run");
    assert_eq!(store.run(a.id, "nope").unwrap(), None);

    let version = store.contracts_version(a.id).unwrap();
    let first = store.run(a.id, "r1").unwrap().expect("r1");
    assert_eq!(
        (
            first.kind,
            first.outcome,
            first.received_at,
            first.summary.added
        ),
        (RunKind::Full, RunOutcome::Applied, 1_000, 3)
    );
    assert_eq!(first.user_agent.as_deref(), Some("suite/1"));
    assert_eq!(
        first.version_after,
        Some(version),
        "the version its write left"
    );
    assert_eq!(store.run(a.id, "r2").unwrap().unwrap().version_after, None);
    let refused = store.run(a.id, "r3").unwrap().unwrap();
    assert_eq!(
        (
            refused.outcome,
            refused.errors,
            refused.user_agent,
            refused.version_after
        ),
        (RunOutcome::Refused, 2, None, None)
    );
    assert_eq!(
        store.run_problems(a.id, "r3").unwrap().as_deref(),
        Some(r#"[{"code":"missing_field"},{"code":"invalid_email"}]"#)
    );
    assert_eq!(store.run_problems(a.id, "r1").unwrap(), None);
    assert_eq!(store.run_problems(b.id, "r3").unwrap(), None);

    // Change records: in order, paged, filtered on code and names, case-insensitively.
    let all = store.run_changes(a.id, "r1", None, 0, 10).unwrap();
    assert_eq!((all.total, change_codes(&all).as_str()), (3, "C1 C2 C3"));
    assert_eq!(
        all.changes[0],
        change_record("C1", ChangeKind::Added, "Éloïse", "Dupont", None)
    );
    let page = store.run_changes(a.id, "r1", None, 1, 1).unwrap();
    assert_eq!((page.total, change_codes(&page).as_str()), (3, "C2"));
    for (filter, expected) in [
        ("ÉLOÏ", "C1"),
        ("martin", "C2"),
        ("c3", "C3"),
        ("DU", "C1 C3"),
        ("", "C1 C2 C3"),
        ("zz", ""),
        ("G1", ""),
    ] {
        let page = store.run_changes(a.id, "r1", Some(filter), 0, 10).unwrap();
        assert_eq!(change_codes(&page), expected, "filter {filter:?}");
        assert_eq!(page.total, page.changes.len(), "filter {filter:?}");
    }
    let page = store.run_changes(a.id, "r1", Some("du"), 1, 10).unwrap();
    assert_eq!((page.total, change_codes(&page).as_str()), (2, "C3"));
    assert_eq!(store.run_changes(a.id, "r2", None, 0, 10).unwrap().total, 0);
    assert_eq!(store.run_changes(b.id, "r1", None, 0, 10).unwrap().total, 0);
}

/// Held runs: the payload is kept until the run is decided; rejecting or expiring a held
/// run drops it and happens once; an approval is written with the sync it approves, only
/// if the run is still held (else stale, nothing written); expiry picks held runs received
/// before a time, of one tenant or all.
pub fn held_runs_are_decided(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    let set = [
        contract("C1", "G1", "F1", "x1@e.fr"),
        contract("C2", "G1", "F1", "x2@e.fr"),
    ];
    upsert(store, a.id, &[&set[0], &set[1]]);
    let version = store.contracts_version(a.id).unwrap();
    let held = |tenant: TenantId, id: &str, at: i64, removed: &str| {
        let mut held = run(id, RunKind::Full, RunOutcome::Held, at, version);
        held.summary.removed = 1;
        let changes = [change_record(
            removed,
            ChangeKind::Removed,
            "A",
            "B",
            Some("{}"),
        )];
        store
            .record_run(
                tenant,
                &RunWrite::New {
                    run: &held,
                    changes: &changes,
                    problems: None,
                    payload: Some(format!("payload of {id}").as_bytes()),
                },
            )
            .unwrap();
    };
    held(a.id, "h1", 1_000, "C1");
    held(a.id, "h2", 2_000, "C2");
    held(a.id, "h3", 3_000, "C2");
    held(b.id, "hb", 1_000, "C1");
    assert_eq!(
        store.run_payload(a.id, "h1").unwrap().as_deref(),
        Some(&b"payload of h1"[..])
    );
    assert_eq!(store.run_payload(b.id, "h1").unwrap(), None);
    assert_eq!(
        store.run_changes(a.id, "h1", None, 0, 10).unwrap().changes[0]
            .previous
            .as_deref(),
        Some("{}"),
        "a held run keeps its would-be changes"
    );

    // Reject: once.
    assert!(store
        .settle_run(a.id, "h1", RunOutcome::Rejected, 5_000)
        .unwrap());
    let h1 = store.run(a.id, "h1").unwrap().unwrap();
    assert_eq!(
        (h1.outcome, h1.decided_at),
        (RunOutcome::Rejected, Some(5_000))
    );
    assert_eq!(store.run_payload(a.id, "h1").unwrap(), None);
    assert!(!store
        .settle_run(a.id, "h1", RunOutcome::Expired, 6_000)
        .unwrap());
    assert!(!store
        .settle_run(b.id, "h2", RunOutcome::Rejected, 6_000)
        .unwrap());
    assert_eq!(
        store.run(a.id, "h1").unwrap().unwrap().outcome,
        RunOutcome::Rejected
    );

    // Approve h2: written with its sync.
    let approve = |id: &'static str, based_on: i64| {
        store.apply_sync(
            a.id,
            &SyncWrite {
                archive: vec!["C2"],
                based_on: Some(based_on),
                run: Some(RunWrite::Approve {
                    run_id: id,
                    decided_at: 7_000,
                }),
                ..Default::default()
            },
        )
    };
    approve("h2", version).expect("approve h2");
    assert_eq!(active_keys(store, a.id), "C1");
    let h2 = store.run(a.id, "h2").unwrap().unwrap();
    let after = store.contracts_version(a.id).unwrap();
    assert_eq!(
        (h2.outcome, h2.decided_at, h2.version_after),
        (RunOutcome::Approved, Some(7_000), Some(after))
    );
    assert_eq!(store.run_payload(a.id, "h2").unwrap(), None);
    assert_eq!(store.run_changes(a.id, "h2", None, 0, 10).unwrap().total, 1);
    // Approving a run no longer held writes nothing.
    let err = approve("h1", after).unwrap_err();
    assert!(matches!(err, StoreError::Stale { .. }), "{err}");
    assert_eq!(store.contracts_version(a.id).unwrap(), after);
    assert_eq!(
        store.run(a.id, "h1").unwrap().unwrap().outcome,
        RunOutcome::Rejected
    );

    // Expiry: held runs received before the time, of the tenant named.
    assert_eq!(store.expire_runs(Some(a.id), 3_000, 8_000).unwrap(), 0);
    assert_eq!(store.expire_runs(Some(a.id), 3_001, 8_000).unwrap(), 1);
    let h3 = store.run(a.id, "h3").unwrap().unwrap();
    assert_eq!(
        (h3.outcome, h3.decided_at),
        (RunOutcome::Expired, Some(8_000))
    );
    assert_eq!(store.run_payload(a.id, "h3").unwrap(), None);
    assert_eq!(
        store.run(b.id, "hb").unwrap().unwrap().outcome,
        RunOutcome::Held
    );
    assert_eq!(store.expire_runs(None, 10_000, 9_000).unwrap(), 1);
    assert_eq!(
        store.run(b.id, "hb").unwrap().unwrap().outcome,
        RunOutcome::Expired
    );
    assert_eq!(store.expire_runs(None, 10_000, 9_000).unwrap(), 0);
}

/// Reverts: an added contract that came back from the archive keeps its archived row as its
/// change record's `previous`; a revert marks the run it undoes `reverted` in its write, and
/// writes archived rows back as they were; reverting a run that is not applied or approved
/// writes nothing.
pub fn reverts_are_recorded(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let old = contract("C1", "G1", "F1", "old@e.fr");
    upsert(store, a.id, &[&old]);
    archive(store, a.id, &["C1"]);
    let old_json = serde_json::to_string(&old).unwrap();

    // C1 comes back, in a new version; C2 is new.
    let back = contract("C1", "G2", "F1", "new@e.fr");
    let fresh = contract("C2", "G2", "F1", "c2@e.fr");
    let based_on = store.contracts_version(a.id).unwrap();
    let mut sync = run("r1", RunKind::Full, RunOutcome::Applied, 1_000, based_on);
    sync.summary.added = 2;
    let changes = [
        change_record("C1", ChangeKind::Added, "A", "B", None),
        change_record("C2", ChangeKind::Added, "C", "D", None),
    ];
    store
        .apply_sync(
            a.id,
            &SyncWrite {
                upsert: vec![&back, &fresh],
                based_on: Some(based_on),
                run: Some(new_run(&sync, &changes)),
                ..Default::default()
            },
        )
        .unwrap();
    let recorded = store.run_changes(a.id, "r1", None, 0, 10).unwrap();
    assert_eq!(
        recorded.changes[0].previous.as_deref(),
        Some(old_json.as_str()),
        "an added contract's archived row"
    );
    assert_eq!(
        recorded.changes[1].previous, None,
        "a new contract has none"
    );
    assert!(store.archived_accounts(a.id).unwrap().is_empty());

    // The revert: both archived, C1 back to its archived row.
    let version = store.contracts_version(a.id).unwrap();
    let mut revert = run("r2", RunKind::Revert, RunOutcome::Applied, 2_000, version);
    revert.reverts = Some("r1".to_owned());
    revert.summary.removed = 2;
    let undo = [
        change_record("C1", ChangeKind::Removed, "A", "B", Some("{}")),
        change_record("C2", ChangeKind::Removed, "C", "D", Some("{}")),
    ];
    let write = SyncWrite {
        archive: vec!["C1", "C2"],
        restore_archived: vec![&old],
        based_on: Some(version),
        run: Some(new_run(&revert, &undo)),
        ..Default::default()
    };
    store.apply_sync(a.id, &write).unwrap();
    assert_eq!(active_keys(store, a.id), "");
    let r1 = store.run(a.id, "r1").unwrap().unwrap();
    assert_eq!(
        (r1.outcome, r1.decided_at),
        (RunOutcome::Reverted, Some(2_000))
    );
    let r2 = store.run(a.id, "r2").unwrap().unwrap();
    assert_eq!(r2.reverts.as_deref(), Some("r1"));
    assert_eq!(
        r2.version_after,
        Some(store.contracts_version(a.id).unwrap())
    );
    let mut emails: Vec<_> = store
        .archived_accounts(a.id)
        .unwrap()
        .into_iter()
        .map(|k| k.email)
        .collect();
    emails.sort();
    assert_eq!(emails, ["c2@e.fr", "old@e.fr"], "C1's archived row is back");

    // Reverting r1 again (now reverted) writes nothing.
    let version = store.contracts_version(a.id).unwrap();
    let mut again = run("r3", RunKind::Revert, RunOutcome::Applied, 3_000, version);
    again.reverts = Some("r1".to_owned());
    let err = store
        .apply_sync(
            a.id,
            &SyncWrite {
                upsert: vec![&fresh],
                based_on: Some(version),
                run: Some(new_run(&again, &[])),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale { .. }), "{err}");
    assert_eq!(active_keys(store, a.id), "");
    assert_eq!(store.run(a.id, "r3").unwrap(), None);
}

/// Retention: runs received before a time go with their change records, in every tenant;
/// later runs and every contract, active or archived, stay. A sandbox delete keeps the
/// tenant's runs and records its own.
pub fn runs_are_pruned(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", true).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    let set = [
        contract("C1", "G1", "F1", "x1@e.fr"),
        contract("C2", "G1", "F1", "x2@e.fr"),
    ];
    for (tenant, id, at) in [
        (a.id, "old", 1_000),
        (a.id, "new", 5_000),
        (b.id, "bold", 1_000),
    ] {
        let run = run(id, RunKind::Full, RunOutcome::Applied, at, 0);
        let changes = [
            change_record("C1", ChangeKind::Added, "A", "B", None),
            change_record("C2", ChangeKind::Added, "C", "D", None),
        ];
        store
            .apply_sync(
                tenant,
                &SyncWrite {
                    upsert: vec![&set[0], &set[1]],
                    run: Some(new_run(&run, &changes)),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    archive(store, a.id, &["C2"]);
    assert_eq!(store.prune_runs(5_000).unwrap(), 2);
    assert_eq!(run_ids(&store.runs(a.id, 0, 10).unwrap()), "new");
    assert_eq!(store.runs(b.id, 0, 10).unwrap().total, 0);
    assert_eq!(
        store.run_changes(a.id, "old", None, 0, 10).unwrap().total,
        0
    );
    assert_eq!(
        store.run_changes(b.id, "bold", None, 0, 10).unwrap().total,
        0
    );
    assert_eq!(
        store.run_changes(a.id, "new", None, 0, 10).unwrap().total,
        2
    );
    assert_eq!(active_keys(store, a.id), "C1");
    assert_eq!(store.archived_accounts(a.id).unwrap().len(), 1);
    assert_eq!(active_keys(store, b.id), "C1 C2");
    assert_eq!(store.prune_runs(5_000).unwrap(), 0);

    let delete = run("del", RunKind::Delete, RunOutcome::Applied, 6_000, 0);
    store
        .delete_all(a.id, Some(&new_run(&delete, &[])))
        .unwrap();
    assert_eq!(active_keys(store, a.id), "");
    assert_eq!(run_ids(&store.runs(a.id, 0, 10).unwrap()), "del new");
    assert_eq!(store.run(a.id, "del").unwrap().unwrap().version_after, None);
}

/// A review key's hash opens its tenant's run until it expires, survives a restart, and is
/// deleted once expired; an unknown hash opens nothing.
pub fn review_keys_open_their_run_until_they_expire(new_database: NewDatabase<'_>) {
    let open = new_database();
    let store = open();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    let b = store.create_tenant("b", false).unwrap();
    let (k1, k2, k3) = (
        hash_token("key-1"),
        hash_token("key-2"),
        hash_token("key-3"),
    );
    store.add_review_key(a.id, "r1", &k1, 10_000).unwrap();
    // A second key of the same run, and a key of another tenant's run of the same id.
    store.add_review_key(a.id, "r1", &k2, 20_000).unwrap();
    store.add_review_key(b.id, "r1", &k3, 10_000).unwrap();
    let opens = |store: &dyn Store, hash: &str, now: i64| {
        store
            .review_key(hash, now)
            .unwrap()
            .map(|k| (k.tenant, k.run_id, k.expires_at))
    };
    assert_eq!(opens(store, &k1, 9_999), Some((a.id, "r1".into(), 10_000)));
    assert_eq!(opens(store, &k2, 9_999), Some((a.id, "r1".into(), 20_000)));
    assert_eq!(opens(store, &k3, 0), Some((b.id, "r1".into(), 10_000)));
    assert_eq!(opens(store, &k1, 10_000), None, "expired at expires_at");
    assert_eq!(opens(store, &hash_token("key-4"), 0), None);
    assert_eq!(opens(store, "", 0), None);

    let reopened = open();
    assert_eq!(
        opens(reopened.as_ref(), &k1, 0),
        Some((a.id, "r1".into(), 10_000))
    );
    assert_eq!(store.prune_review_keys(10_000).unwrap(), 2);
    assert_eq!(opens(store, &k1, 0), None, "deleted");
    assert_eq!(opens(store, &k3, 0), None, "deleted");
    assert_eq!(opens(store, &k2, 19_999), Some((a.id, "r1".into(), 20_000)));
    assert_eq!(store.prune_review_keys(10_000).unwrap(), 0);
}

/// Change records are stored in chunks ([`crate::CHANGE_CHUNK`]): pages that cross chunk
/// boundaries, the last page, pages past the end and filtered pages list exactly the records
/// in order, whether recorded with a sync or alone.
pub fn change_records_are_paged_across_chunks(new_database: NewDatabase<'_>) {
    let store = new_database()();
    let store = store.as_ref();
    let a = store.create_tenant("a", false).unwrap();
    const N: usize = 1203;
    let codes: Vec<String> = (0..N).map(|i| format!("C{i:05}")).collect();
    let contracts: Vec<Contract<'static>> = codes
        .iter()
        .map(|code| contract(code, "G1", "F1", &format!("{code}@e.fr")))
        .collect();
    // Every seventh apprentice is named Xavier.
    let records: Vec<ChangeRecord<'static>> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let first = if i % 7 == 0 { "Xavier" } else { "Anne" };
            change_record(code, ChangeKind::Added, first, &format!("Nom{i}"), None)
        })
        .collect();
    let mut first = run("r1", RunKind::Full, RunOutcome::Applied, 1_000, 0);
    first.summary.added = N;
    store
        .apply_sync(
            a.id,
            &SyncWrite {
                upsert: contracts.iter().collect(),
                run: Some(new_run(&first, &records)),
                ..Default::default()
            },
        )
        .unwrap();
    let held = run("r2", RunKind::Full, RunOutcome::Held, 2_000, 1);
    store.record_run(a.id, &new_run(&held, &records)).unwrap();
    for id in ["r1", "r2"] {
        for (offset, limit) in [
            (0, 10),
            (495, 10),
            (499, 2),
            (500, 500),
            (0, 1000),
            (999, 3),
            (1200, 10),
            (1203, 10),
            (5000, 10),
            (0, N + 10),
        ] {
            let page = store.run_changes(a.id, id, None, offset, limit).unwrap();
            let expected: Vec<&str> = codes
                .iter()
                .skip(offset)
                .take(limit)
                .map(String::as_str)
                .collect();
            assert_eq!(page.total, N, "{id} {offset} {limit}");
            assert_eq!(
                change_codes(&page),
                expected.join(" "),
                "{id} {offset} {limit}"
            );
        }
        let xavier: Vec<&str> = codes.iter().step_by(7).map(String::as_str).collect();
        let page = store.run_changes(a.id, id, Some("XAV"), 100, 50).unwrap();
        assert_eq!(page.total, xavier.len(), "{id}");
        assert_eq!(change_codes(&page), xavier[100..150].join(" "), "{id}");
        let page = store.run_changes(a.id, id, Some("nom1200"), 0, 10).unwrap();
        assert_eq!(
            (page.total, change_codes(&page).as_str()),
            (1, "C01200"),
            "{id}"
        );
        assert_eq!(page.changes[0], records[1200], "{id}");
    }
    assert_eq!(store.prune_runs(10_000).unwrap(), 2);
    assert_eq!(store.run_changes(a.id, "r1", None, 0, 10).unwrap().total, 0);
}
