//! One test per validation code of DESIGN 3.2, through the public API (parse, validate).

use serde_json::{json, Value};
use sync_core::{parse, validate, validate_with, Code, KnownAccount, Role, Severity};

use crate::{contract, document_example};

/// What a test expects of a problem: index, code, field.
type Expected<'a> = (Option<usize>, &'a str, Option<&'a str>);

/// Parses and validates `bytes`; the problems (or the parse error, as `invalid_json`) must be
/// exactly `expected`, in this order.
fn check_bytes(bytes: &[u8], expected: &[Expected<'_>]) {
    let got: Vec<(Option<usize>, String, Option<String>)> = match parse(bytes) {
        Ok(payload) => validate(&payload)
            .problems
            .iter()
            .map(|p| (p.index, p.code.as_str().to_owned(), p.field.clone()))
            .collect(),
        Err(e) => {
            let p = e.to_problem();
            vec![(p.index, p.code.as_str().to_owned(), p.field)]
        }
    };
    let expected: Vec<(Option<usize>, String, Option<String>)> = expected
        .iter()
        .map(|(i, c, f)| (*i, (*c).to_owned(), f.map(str::to_owned)))
        .collect();
    assert_eq!(got, expected, "{}", String::from_utf8_lossy(bytes));
}

fn check(items: Vec<Value>, expected: &[Expected<'_>]) {
    check_bytes(&serde_json::to_vec(&items).unwrap(), expected);
}

#[test]
fn the_documents_example_is_valid_in_both_payload_forms() {
    let text = include_bytes!("../data/document-example.json");
    check_bytes(text, &[]);
    let wrapped = json!({"contrats": [document_example()]});
    check_bytes(&serde_json::to_vec(&wrapped).unwrap(), &[]);
    let payload = parse(text).unwrap();
    assert_eq!(payload.contracts[0].key(), "1234");
    check(vec![contract(1, json!({})), contract(2, json!({}))], &[]);
}

#[test]
fn invalid_json() {
    check_bytes(b"[{\"codeContrat\": }]", &[(None, "invalid_json", None)]);
    check_bytes(b"", &[(None, "invalid_json", None)]);
    check_bytes(b"[1, 2]", &[(None, "invalid_json", None)]);
    check_bytes(b"{\"autre\": []}", &[(None, "invalid_json", None)]);
    check_bytes(
        b"[{\"codeContrat\": \"\xff\"}]",
        &[(None, "invalid_json", None)],
    );
    // The document's own example, as written (unquoted keys), is not JSON.
    check_bytes(
        b"[\n  {\n    codeContrat: \"1234\"\n  }\n]",
        &[(None, "invalid_json", None)],
    );
    let err = parse(b"[\n  {\n    codeContrat: \"1234\"\n  }\n]").unwrap_err();
    assert_eq!((err.line, err.column), (3, 5), "{err}");
    assert!(err.to_string().contains("line 3, column 5"), "{err}");
}

#[test]
fn missing_field() {
    for absent in [json!(null), json!(""), json!("   ")] {
        let items = vec![contract(1, json!({"nomEntreprise": absent}))];
        let mut items = items;
        if absent.is_null() {
            items[0]["nomEntreprise"] = Value::Null;
        }
        check(items, &[(Some(0), "missing_field", Some("nomEntreprise"))]);
    }
    // Optional fields may be absent.
    check(
        vec![contract(1, json!({"dateDebut": null, "dateFin": null}))],
        &[],
    );
}

#[test]
fn invalid_type() {
    check(
        vec![contract(
            1,
            json!({"nomEntreprise": 12, "missionTitle": ["a"]}),
        )],
        &[
            (Some(0), "invalid_type", Some("missionTitle")),
            (Some(0), "invalid_type", Some("nomEntreprise")),
        ],
    );
}

#[test]
fn invalid_date() {
    for date in [
        "31/02/2026",
        "1/9/2025",
        "2025-09-01",
        "00/01/2026",
        "aa/bb/cccc",
    ] {
        check(
            vec![contract(1, json!({"dateFin": date}))],
            &[(Some(0), "invalid_date", Some("dateFin"))],
        );
    }
    check(vec![contract(1, json!({"dateFin": "29/02/2028"}))], &[]);
}

#[test]
fn date_order() {
    check(
        vec![contract(
            1,
            json!({"dateDebut": "01/07/2026", "dateFin": "30/06/2026"}),
        )],
        &[(Some(0), "date_order", Some("dateDebut"))],
    );
    check(
        vec![contract(
            1,
            json!({"dateDebut": "30/06/2026", "dateFin": "30/06/2026"}),
        )],
        &[],
    );
}

#[test]
fn invalid_email() {
    for email in ["pas-un-email", "a@b", "a b@c.fr", "@c.fr", "a@@c.fr"] {
        check(
            vec![contract(1, json!({"emailApprenant": email}))],
            &[(Some(0), "invalid_email", Some("emailApprenant"))],
        );
    }
}

#[test]
fn duplicate_contract() {
    check(
        vec![
            contract(1, json!({"codeContrat": "C1"})),
            contract(2, json!({})),
            contract(3, json!({"codeContrat": " C1 "})),
        ],
        &[(Some(2), "duplicate_contract", Some("codeContrat"))],
    );
}

#[test]
fn key_conflict() {
    let mut alias_only = contract(1, json!({}));
    let key = alias_only["codeContrat"].take();
    alias_only.as_object_mut().unwrap().remove("codeContrat");
    alias_only["ccodeContrat"] = key;
    check(vec![alias_only.clone()], &[]);
    let bytes = serde_json::to_vec(&vec![alias_only]).unwrap();
    let payload = parse(&bytes).unwrap();
    assert_eq!(payload.contracts[0].key(), "1234-1");

    check(
        vec![contract(1, json!({"ccodeContrat": "autre"}))],
        &[(Some(0), "key_conflict", Some("ccodeContrat"))],
    );
    check(vec![contract(1, json!({"ccodeContrat": "1234-1"}))], &[]);
}

#[test]
fn code_role_conflict() {
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"codeMaitreApprentissage": "Apprenant1-1"})),
        ],
        &[(
            Some(1),
            "code_role_conflict",
            Some("codeMaitreApprentissage"),
        )],
    );
}

#[test]
fn email_conflict() {
    check(
        vec![
            contract(1, json!({})),
            contract(
                2,
                json!({"emailMaitreApprentissage": " APPRENANT1@email.com"}),
            ),
        ],
        &[(Some(1), "email_conflict", Some("emailMaitreApprentissage"))],
    );
}

#[test]
fn user_conflict() {
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"emailPersonnel": "autre@email.com"})),
            contract(3, json!({"emailPersonnel": "autre@email.com"})),
        ],
        &[(Some(1), "user_conflict", Some("emailPersonnel"))],
    );
    // The same email with other case and spaces is the same email.
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"emailPersonnel": " Personnel@EMAIL.com "})),
        ],
        &[],
    );
}

#[test]
fn reference_conflict() {
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"nomFormation": "BTS Management Commercial"})),
        ],
        &[(Some(1), "reference_conflict", Some("nomFormation"))],
    );
    // Two codes sharing one name is not refused (DESIGN 8).
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"codeGroupe": "G2", "codeFormation": "AUTRE"})),
        ],
        &[],
    );
}

#[test]
fn group_conflict() {
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"codeSite": "Site2", "nomSite": "Brest"})),
        ],
        &[(Some(1), "group_conflict", Some("codeGroupe"))],
    );
}

#[test]
fn brand_incomplete() {
    check(
        vec![
            contract(1, json!({"codeMarque": "M1"})),
            contract(2, json!({"nomMarque": "Marque"})),
            contract(3, json!({"codeMarque": "M1", "nomMarque": "Marque"})),
        ],
        &[
            (Some(0), "brand_incomplete", Some("nomMarque")),
            (Some(1), "brand_incomplete", Some("codeMarque")),
        ],
    );
}

#[test]
fn user_name_mismatch_is_a_warning() {
    let items = vec![
        contract(1, json!({})),
        contract(2, json!({"prenomPersonnel": "Autre prénom"})),
    ];
    check(
        items.clone(),
        &[(Some(1), "user_name_mismatch", Some("prenomPersonnel"))],
    );
    let report = validate(&parse(&serde_json::to_vec(&items).unwrap()).unwrap());
    assert!(report.is_valid());
    assert_eq!(report.problems[0].severity(), Severity::Warning);
}

#[test]
fn unknown_field_is_a_warning_and_is_not_kept() {
    let items = vec![contract(1, json!({"couleur": "bleu"}))];
    check(
        items.clone(),
        &[(Some(0), "unknown_field", Some("couleur"))],
    );
    let bytes = serde_json::to_vec(&items).unwrap();
    let payload = parse(&bytes).unwrap();
    assert!(validate(&payload).is_valid());
    let written = serde_json::to_string(&payload.contracts[0]).unwrap();
    assert!(!written.contains("couleur"), "{written}");
    // A top-level key beside "contrats".
    let wrapped = json!({"contrats": [contract(1, json!({}))], "total": 1});
    check_bytes(
        &serde_json::to_vec(&wrapped).unwrap(),
        &[(None, "unknown_field", Some("total"))],
    );
}

#[test]
fn every_problem_at_once_in_payload_order() {
    let items = vec![
        contract(0, json!({"nomEntreprise": null, "dateFin": "32/01/2026"})),
        contract(1, json!({"emailApprenant": "x", "couleur": 1})),
        contract(2, json!({"codeContrat": "1234-0", "codeMarque": "M"})),
        contract(
            3,
            json!({"codeApprenant": "Personnel1", "nomSite": "Brest"}),
        ),
    ];
    let mut items = items;
    items[0]["nomEntreprise"] = Value::Null;
    check(
        items,
        &[
            (Some(0), "invalid_date", Some("dateFin")),
            (Some(0), "missing_field", Some("nomEntreprise")),
            (Some(1), "unknown_field", Some("couleur")),
            (Some(1), "invalid_email", Some("emailApprenant")),
            (Some(2), "brand_incomplete", Some("nomMarque")),
            (Some(2), "duplicate_contract", Some("codeContrat")),
            (Some(3), "code_role_conflict", Some("codeApprenant")),
            (Some(3), "reference_conflict", Some("nomSite")),
        ],
    );
}

#[test]
fn every_code_has_a_severity_and_a_name() {
    for code in Code::ALL {
        let expected = if matches!(code, Code::UserNameMismatch | Code::UnknownField) {
            Severity::Warning
        } else {
            Severity::Error
        };
        assert_eq!(code.severity(), expected, "{}", code.as_str());
    }
    assert_eq!(Code::ALL.len(), 16);
}

#[test]
fn stored_accounts_are_checked_and_named() {
    let bytes = serde_json::to_vec(&vec![contract(1, json!({}))]).unwrap();
    let payload = parse(&bytes).unwrap();
    let known = [
        KnownAccount {
            code: "Apprenant1-1".into(),
            role: Role::CompanyTutor,
            email: "ancien@email.com".into(),
        },
        KnownAccount {
            code: "Ancien".into(),
            role: Role::SchoolTutor,
            email: "Personnel@email.com".into(),
        },
    ];
    let report = validate_with(&payload, &known);
    let got: Vec<(&str, Option<&str>)> = report
        .problems
        .iter()
        .map(|p| (p.code.as_str(), p.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("code_role_conflict", Some("codeApprenant")),
            ("email_conflict", Some("emailPersonnel")),
        ]
    );
    assert!(
        report.problems[1].message.contains("Ancien"),
        "{}",
        report.problems[1].message
    );
    assert!(validate_with(&payload, &[]).is_valid());
}
