//! The diff of two exports: buckets, changed fields with old and new values, canonical
//! comparison, order.

use serde_json::{json, Value};
use sync_core::{diff, parse, Field};

use crate::contract;

fn bytes(items: &[Value]) -> Vec<u8> {
    serde_json::to_vec(items).unwrap()
}

#[test]
fn buckets_changes_and_order() {
    let previous = bytes(&[
        contract(1, json!({})),
        contract(2, json!({})),
        contract(3, json!({})),
        contract(4, json!({})),
    ]);
    let current = bytes(&[
        contract(5, json!({})),
        contract(4, json!({"nomEntreprise": "Carrefour", "dateFin": null})),
        contract(2, json!({})),
        contract(1, json!({})),
    ]);
    let (previous, current) = (parse(&previous).unwrap(), parse(&current).unwrap());
    let d = diff(&previous.contracts, &current.contracts);
    let keys = |it: Vec<&sync_core::Contract<'_>>| -> Vec<String> {
        it.into_iter().map(|c| c.key().to_owned()).collect()
    };
    assert_eq!(keys(d.same_contracts().collect()), ["1234-2", "1234-1"]);
    assert_eq!(keys(d.added_contracts().collect()), ["1234-5"]);
    assert_eq!(keys(d.updated_contracts().collect()), ["1234-4"]);
    assert_eq!(keys(d.removed_contracts().collect()), ["1234-3"]);
    let summary = d.summary();
    assert_eq!(
        (
            summary.same,
            summary.added,
            summary.updated,
            summary.removed
        ),
        (2, 1, 1, 1)
    );
    let update = d.updates().next().unwrap();
    let changes: Vec<(Field, Option<&str>, Option<&str>)> =
        update.changes().map(|c| (c.field, c.old, c.new)).collect();
    assert_eq!(
        changes,
        [
            (Field::DateFin, Some("30/06/2026"), None),
            (Field::NomEntreprise, Some("Auchan"), Some("Carrefour")),
        ]
    );
    let json = serde_json::to_value(update.changes().collect::<Vec<_>>()).unwrap();
    assert_eq!(
        json[1],
        json!({"field": "nomEntreprise", "old": "Auchan", "new": "Carrefour"})
    );
}

#[test]
fn comparison_is_canonical() {
    let previous = bytes(&[contract(
        1,
        json!({"nomEntreprise": "Auchan", "emailPersonnel": "personnel@email.com", "missionTitle": ""}),
    )]);
    let current = bytes(&[contract(
        1,
        json!({"nomEntreprise": "  Auchan ", "emailPersonnel": "Personnel@Email.COM", "missionTitle": null}),
    )]);
    let (previous, current) = (parse(&previous).unwrap(), parse(&current).unwrap());
    let d = diff(&previous.contracts, &current.contracts);
    assert!(d.is_unchanged(), "{:?}", d.updated);
    // A changed name is a change, whatever the case of an email.
    let changed = bytes(&[contract(1, json!({"nomEntreprise": "auchan"}))]);
    let changed = parse(&changed).unwrap();
    let d = diff(&previous.contracts, &changed.contracts);
    assert_eq!(d.summary().updated, 1);
}

#[test]
fn the_key_alias_and_the_wrapper_do_not_make_a_change() {
    let previous = bytes(&[contract(1, json!({}))]);
    let mut aliased = contract(1, json!({}));
    let key = aliased["codeContrat"].take();
    aliased.as_object_mut().unwrap().remove("codeContrat");
    aliased["ccodeContrat"] = key;
    let current = serde_json::to_vec(&json!({"contrats": [aliased]})).unwrap();
    let (previous, current) = (parse(&previous).unwrap(), parse(&current).unwrap());
    assert!(diff(&previous.contracts, &current.contracts).is_unchanged());
    let written = serde_json::to_string(&current.contracts[0]).unwrap();
    assert!(
        written.starts_with("{\"codeContrat\":\"1234-1\""),
        "{written}"
    );
}

/// The example contract with `old` changes in the previous export and `new` changes in the
/// current one: the changed fields, with old and new values as sent, must be `expected`
/// (nothing: the contract is `same`).
fn check_change(old: Value, new: Value, expected: &[(&str, Option<&str>, Option<&str>)]) {
    let previous = bytes(&[contract(1, old)]);
    let current = bytes(&[contract(1, new)]);
    let (previous, current) = (parse(&previous).unwrap(), parse(&current).unwrap());
    let d = diff(&previous.contracts, &current.contracts);
    assert!(d.added.is_empty() && d.removed.is_empty());
    let got: Vec<(&str, Option<&str>, Option<&str>)> = d
        .updates()
        .flat_map(|u| u.changes().collect::<Vec<_>>())
        .map(|c| (c.field.name(), c.old, c.new))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(d.same.len(), usize::from(expected.is_empty()));
    assert_eq!(
        d.is_unchanged(),
        previous.contracts[0].canonical_eq(&current.contracts[0])
    );
}

#[test]
fn canonical_equality_field_by_field() {
    // Strings are trimmed.
    check_change(json!({}), json!({"nomEntreprise": " Auchan\t"}), &[]);
    check_change(json!({"dateFin": "30/06/2026 "}), json!({}), &[]);
    // Emails are compared case-insensitively, ASCII or not; other fields are not.
    check_change(
        json!({}),
        json!({"emailPersonnel": "PERSONNEL@Email.com"}),
        &[],
    );
    check_change(
        json!({"emailApprenant": "élève@école.fr"}),
        json!({"emailApprenant": "ÉLÈVE@ÉCOLE.FR"}),
        &[],
    );
    check_change(
        json!({}),
        json!({"nomEntreprise": "AUCHAN"}),
        &[("nomEntreprise", Some("Auchan"), Some("AUCHAN"))],
    );
    // Absent, null, empty and blank optional fields are equal.
    check_change(json!({"missionTitle": ""}), json!({}), &[]);
    check_change(json!({"rncp": "  "}), json!({"rncp": null}), &[]);
    // A field the document does not list plays no part.
    check_change(json!({"couleur": "bleu"}), json!({"couleur": "rouge"}), &[]);
    // A value that appears, disappears or changes: values as sent, fields in wire order.
    check_change(
        json!({"missionDetails": "Vente"}),
        json!({"rncp": "RNCP1", "missionDetails": null, "nomSite": " Brest "}),
        &[
            ("nomSite", Some("Rennes"), Some(" Brest ")),
            ("missionDetails", Some("Vente"), None),
            ("rncp", None, Some("RNCP1")),
        ],
    );
}

#[test]
fn output_order_follows_the_payloads_whatever_the_threads() {
    // Current: 9 (added), 7 (updated), 3 (same), 8 (added), 5 (same), 1 (updated).
    // Previous: 1..=7 in order; 2, 4 and 6 removed.
    let previous: Vec<Value> = (1..=7).map(|n| contract(n, json!({}))).collect();
    let current = vec![
        contract(9, json!({})),
        contract(7, json!({"nomGroupe": "autre"})),
        contract(3, json!({})),
        contract(8, json!({})),
        contract(5, json!({})),
        contract(1, json!({"dateDebut": null})),
    ];
    let (previous, current) = (bytes(&previous), bytes(&current));
    let (previous, current) = (parse(&previous).unwrap(), parse(&current).unwrap());
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let d = pool.install(|| diff(&previous.contracts, &current.contracts));
        let keys = |it: Vec<&sync_core::Contract<'_>>| -> Vec<String> {
            it.into_iter().map(|c| c.key().to_owned()).collect()
        };
        assert_eq!(keys(d.same_contracts().collect()), ["1234-3", "1234-5"]);
        assert_eq!(keys(d.added_contracts().collect()), ["1234-9", "1234-8"]);
        assert_eq!(keys(d.updated_contracts().collect()), ["1234-7", "1234-1"]);
        assert_eq!(
            keys(d.removed_contracts().collect()),
            ["1234-2", "1234-4", "1234-6"]
        );
        assert_eq!(d.same, [2, 4]);
        assert_eq!(d.added, [0, 3]);
        assert_eq!(
            d.updated
                .iter()
                .map(|u| (u.previous, u.current))
                .collect::<Vec<_>>(),
            [(6, 1), (0, 5)]
        );
        assert_eq!(d.removed, [1, 3, 5]);
        let sequential = sync_core::diff_sequential(&previous.contracts, &current.contracts);
        assert_eq!(sequential.same, d.same);
        assert_eq!(sequential.updated, d.updated);
        // Applying it gives the current set, in its order.
        let applied: Vec<String> = d.apply().iter().map(|c| c.key().to_owned()).collect();
        let expected: Vec<String> = current
            .contracts
            .iter()
            .map(|c| c.key().to_owned())
            .collect();
        assert_eq!(applied, expected);
    }
}

/// All the trimmed values at once are those read field by field: parsed or built, absent,
/// blank or padded with ASCII and other white space.
#[test]
fn trimmed_values_are_the_values_trimmed_one_by_one() {
    let input = r#"[{"codeContrat": " C1 ", "nomSite": "\u00a0Lyon\u2003", "codeSite": "   ",
        "emailApprenant": "a@b.fr", "nomGroupe": null}]"#;
    let parsed = parse(input.as_bytes()).expect("parses");
    let built = sync_core::Contract::from_pairs([(Field::NomEntreprise, "\tACME\n")]);
    for contract in [&parsed.contracts[0], &built] {
        let one_by_one = Field::ALL.map(|f| contract.trimmed(f));
        assert_eq!(contract.trimmed_values(), one_by_one);
    }
    let values = parsed.contracts[0].trimmed_values();
    assert_eq!(values[Field::CodeContrat.index()], "C1");
    assert_eq!(values[Field::NomSite.index()], "Lyon");
    assert_eq!(values[Field::CodeSite.index()], "");
    assert_eq!(values[Field::NomGroupe.index()], "");
    assert_eq!(built.trimmed_values()[Field::NomEntreprise.index()], "ACME");
}

/// A contract whose text passes 64 KiB (a very long mission description) keeps every value,
/// before and after the long one, and compares as any other.
#[test]
fn a_contract_over_64_kib_keeps_its_values() {
    let long = "x".repeat(70_000);
    let item = |site: &str| json!({"codeContrat": "C1", "missionDetails": long, "nomSite": site, "rncp": "R1"});
    let previous = bytes(&[item("Lyon")]);
    let current = bytes(&[item("Nantes")]);
    let (previous, current) = (parse(&previous).unwrap(), parse(&current).unwrap());
    let contract = &previous.contracts[0];
    assert_eq!(contract.get(Field::MissionDetails), Some(long.as_str()));
    assert_eq!(contract.get(Field::NomSite), Some("Lyon"));
    assert_eq!(contract.get(Field::Rncp), Some("R1"));
    assert_eq!(contract.get(Field::NomGroupe), None);
    let built = sync_core::Contract::from_pairs(contract.fields());
    assert_eq!(&built, contract);
    let changes = diff(&previous.contracts, &current.contracts);
    assert_eq!(changes.updated.len(), 1);
    let fields = changes.updated[0].fields;
    assert!(fields.len() == 1 && fields.contains(Field::NomSite));
    assert!(diff(&previous.contracts, &previous.contracts).is_unchanged());
}

/// The compact contract stays small: a million of them fit beside their input (DESIGN 7).
#[test]
fn a_contract_takes_176_bytes() {
    assert_eq!(std::mem::size_of::<sync_core::Contract<'static>>(), 176);
}
