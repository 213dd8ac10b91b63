//! sync-core's integration tests: one binary, one module per subject.

mod diff;
mod props;
mod validation;

use serde_json::{json, Value};

/// The example contract of document 000 (its example made valid JSON).
pub fn document_example() -> Value {
    let text = include_str!("../data/document-example.json");
    serde_json::from_str::<Vec<Value>>(text).expect("valid example")[0].clone()
}

/// The document's example, with its codes and emails made unique by `n`, with `changes`
/// applied (`null` removes a field).
pub fn contract(n: usize, changes: Value) -> Value {
    let mut c = document_example();
    let obj = c.as_object_mut().unwrap();
    for (field, suffix) in [
        ("codeContrat", ""),
        ("codeApprenant", ""),
        ("codeMaitreApprentissage", ""),
    ] {
        let v = obj[field].as_str().unwrap().to_owned();
        obj[field] = json!(format!("{v}-{n}{suffix}"));
    }
    obj["emailApprenant"] = json!(format!("apprenant{n}@email.com"));
    obj["emailMaitreApprentissage"] = json!(format!("maitre{n}@email.com"));
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            obj.remove(k);
        } else {
            obj.insert(k.clone(), v.clone());
        }
    }
    c
}
