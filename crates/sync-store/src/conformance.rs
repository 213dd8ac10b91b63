//! The behaviour every backend owes the engine, tested once over [`Store`]: each backend's
//! tests call each function (or [`run_all`]) with a [`NewDatabase`], which makes a new empty
//! database and returns an [`Open`] that opens stores on it (SQLite: `tests/it/conformance.rs`,
//! one temporary directory per database). A function panics, naming what differs, when the
//! backend behaves otherwise.

use sync_core::rules::{Absence, AbsenceKind, CalendarEvent, SessionModel};
use sync_core::{Contract, Field};
use sync_cycle::CycleData;

use crate::{hash_token, Listing, Page, Store, StoreError, SyncWrite, TenantId};

/// Opens a store on one database; each call is another store (another process, or the same
/// one restarted) on that same database.
pub type Open = Box<dyn Fn() -> Box<dyn Store>>;

/// Makes a new, empty database and returns how to open stores on it.
pub type NewDatabase<'a> = &'a dyn Fn() -> Open;

/// Every behaviour of the suite, in turn.
pub fn run_all(new_database: NewDatabase<'_>) {
    tenants_and_tokens(new_database);
    syncs_and_archives(new_database);
    listings_and_paging(new_database);
    session_models(new_database);
    events(new_database);
    absences(new_database);
    cycle_data(new_database);
    cycle_slices(new_database);
    writes_of_another_store_are_seen(new_database);
    stale_writes_are_refused(new_database);
    a_restart_keeps_everything(new_database);
    delete_all(new_database);
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
    other.delete_all(a.id).unwrap();
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
    store.delete_all(a.id).unwrap();
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
