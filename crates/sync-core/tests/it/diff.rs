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
    let changes = d.changes(&d.updated[0]);
    let changes: Vec<(Field, Option<&str>, Option<&str>)> =
        changes.iter().map(|c| (c.field, c.old, c.new)).collect();
    assert_eq!(
        changes,
        [
            (Field::DateFin, Some("30/06/2026"), None),
            (Field::NomEntreprise, Some("Auchan"), Some("Carrefour")),
        ]
    );
    let json = serde_json::to_value(d.changes(&d.updated[0])).unwrap();
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
