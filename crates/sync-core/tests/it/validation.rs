//! One test per validation code of DESIGN 3.2, through the public API (parse, validate).

use serde_json::{json, Value};
use sync_core::{parse, validate, validate_with, Code, KnownAccount, Problem, Role, Severity};

use crate::{contract, document_example};

/// One problem as a line: `#index codeContrat field: code (severity)`, `-` for what is
/// unknown. The severity is written out by the tests, not derived from the code, so that a
/// wrong severity fails them.
fn line(p: &Problem) -> String {
    let severity = match p.severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "#{} {} {}: {} ({severity})",
        p.index.map_or("-".to_owned(), |i| i.to_string()),
        p.contract_code.as_deref().unwrap_or("-"),
        p.field.as_ref().map_or("-", |f| f.name()),
        p.code.as_str(),
    )
}

/// Parses and validates `bytes`; the problems (or the parse error, as `invalid_json`) must be
/// exactly `expected`, in this order.
fn check_bytes(bytes: &[u8], expected: &[&str]) {
    let got: Vec<String> = match parse(bytes) {
        Ok(payload) => validate(&payload).problems.iter().map(line).collect(),
        Err(e) => vec![line(&e.to_problem())],
    };
    assert_eq!(got, expected, "{}", String::from_utf8_lossy(bytes));
}

fn check(items: Vec<Value>, expected: &[&str]) {
    check_bytes(&serde_json::to_vec(&items).unwrap(), expected);
}

/// `contract(n, changes)` with `ccodeContrat` instead of `codeContrat` (the table's spelling).
fn with_alias(n: usize, changes: Value) -> Value {
    let mut c = contract(n, changes);
    let key = c.as_object_mut().unwrap().remove("codeContrat").unwrap();
    c["ccodeContrat"] = key;
    c
}

#[test]
fn the_documents_example_is_valid_in_both_payload_forms() {
    let text = include_bytes!("../data/document-example.json");
    check_bytes(text, &[]);
    let wrapped = json!({"contrats": [document_example()]});
    check_bytes(&serde_json::to_vec(&wrapped).unwrap(), &[]);
    let payload = parse(text).unwrap();
    assert_eq!(payload.contracts.len(), 1);
    assert_eq!(payload.contracts[0].key(), "1234");
    // Every field of the example is kept, as sent.
    let example = document_example();
    let kept: Vec<(String, String)> = payload.contracts[0]
        .fields()
        .map(|(f, v)| (f.name().to_owned(), v.to_owned()))
        .collect();
    assert_eq!(kept.len(), example.as_object().unwrap().len());
    for (name, value) in &kept {
        assert_eq!(example[name].as_str(), Some(value.as_str()), "{name}");
    }
    check(vec![contract(1, json!({})), contract(2, json!({}))], &[]);
}

#[test]
fn the_key_in_both_spellings() {
    // The example writes `codeContrat`; the table spells it `ccodeContrat`: both are the key.
    for item in [contract(1, json!({})), with_alias(1, json!({}))] {
        let bytes = serde_json::to_vec(&vec![item]).unwrap();
        let payload = parse(&bytes).unwrap();
        assert_eq!(payload.contracts[0].key(), "1234-1");
        assert!(validate(&payload).problems.is_empty());
        // Always written back as `codeContrat`.
        let written = serde_json::to_value(&payload.contracts[0]).unwrap();
        assert_eq!(written["codeContrat"], "1234-1");
        assert!(written.get("ccodeContrat").is_none());
    }
}

/// A UTF-8 byte order mark is skipped (positions count from after it); a file in another
/// encoding is an `invalid_json` error that names the encoding problem and where it is.
#[test]
fn encodings() {
    let example = serde_json::to_vec_pretty(&json!([document_example()])).unwrap();
    let with_bom = [&b"\xef\xbb\xbf"[..], &example].concat();
    assert_eq!(sync_core::without_bom(&with_bom), &example[..]);
    assert_eq!(sync_core::without_bom(&example), &example[..]);
    let (plain, bom) = (parse(&example).unwrap(), parse(&with_bom).unwrap());
    assert_eq!(bom.contracts, plain.contracts);
    assert!(validate(&bom).problems.is_empty());
    let err = parse(b"\xef\xbb\xbf[{\"codeContrat\": }]").unwrap_err();
    assert_eq!((err.line, err.column), (1, 18), "{err}");

    let text = String::from_utf8(example.clone()).unwrap();
    let utf16 = |big_endian: bool, bom: bool| -> Vec<u8> {
        let units = bom.then_some(0xfeff).into_iter().chain(text.encode_utf16());
        units
            .flat_map(|u| {
                if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    };
    for (bytes, says) in [
        (utf16(false, true), "the file is UTF-16"),
        (utf16(true, true), "the file is UTF-16"),
        (utf16(false, false), "looks like UTF-16 or UTF-32"),
        (utf16(true, false), "looks like UTF-16 or UTF-32"),
    ] {
        let err = parse(&bytes).unwrap_err();
        assert_eq!((err.line, err.column), (1, 1), "{err}");
        assert!(err.message.contains(says), "{err}");
        assert!(err.message.contains("must be UTF-8"), "{err}");
    }

    // Latin-1: `é` as one byte, on the third line, in a value and outside any string.
    for (bytes, column) in [
        (
            &b"[\n  {\"codeContrat\": \"C1\",\n   \"nomEntreprise\": \"Caf\xe9\"}]"[..],
            25,
        ),
        (
            b"[\n  {\"codeContrat\": \"C1\",\n \xe9 \"nomEntreprise\": \"Cafe\"}]",
            2,
        ),
    ] {
        let err = parse(bytes).unwrap_err();
        assert_eq!((err.line, err.column), (3, column), "{err}");
        assert!(err.message.starts_with("byte 0xE9 is not UTF-8"), "{err}");
        assert!(err.message.contains("Latin-1"), "{err}");
    }
    // Valid UTF-8 that is not JSON keeps the JSON error.
    let err = parse("[{\"codeContrat\": é}]".as_bytes()).unwrap_err();
    assert!(!err.message.contains("UTF-8"), "{err}");
}

#[test]
fn invalid_json() {
    let whole = ["#- - -: invalid_json (error)"];
    for bytes in [
        &b"[{\"codeContrat\": }]"[..],
        b"",
        b"[1, 2]",
        b"[{\"codeContrat\": \"C1\"}, \"C2\"]",
        b"{\"autre\": []}",
        b"{\"contrats\": {}}",
        b"null",
        b"[{\"codeContrat\": \"\xff\"}]",
        // The document's own example, as written (unquoted keys), is not JSON.
        b"[\n  {\n    codeContrat: \"1234\"\n  }\n]",
    ] {
        check_bytes(bytes, &whole);
    }
    let err = parse(b"[\n  {\n    codeContrat: \"1234\"\n  }\n]").unwrap_err();
    assert_eq!((err.line, err.column), (3, 5), "{err}");
    assert!(err.to_string().contains("line 3, column 5"), "{err}");
    let problem = err.to_problem();
    assert!(
        problem.message.contains("line 3, column 5"),
        "{}",
        problem.message
    );
}

#[test]
fn missing_field() {
    for absent in [json!(null), json!(""), json!("   ")] {
        let mut item = contract(1, json!({}));
        item["nomEntreprise"] = absent;
        check(
            vec![item],
            &["#0 1234-1 nomEntreprise: missing_field (error)"],
        );
    }
    check(
        vec![contract(1, json!({"codeGroupe": null}))],
        &["#0 1234-1 codeGroupe: missing_field (error)"],
    );
    // Without a key, the problem has no codeContrat.
    check(
        vec![contract(1, json!({"codeContrat": " "}))],
        &["#0 - codeContrat: missing_field (error)"],
    );
    // Optional fields may be absent or blank.
    check(
        vec![contract(
            1,
            json!({"dateDebut": null, "dateFin": "", "missionTitle": " ", "rncp": null}),
        )],
        &[],
    );
}

#[test]
fn invalid_type() {
    check(
        vec![contract(
            1,
            json!({"nomEntreprise": 12, "missionTitle": ["a"], "dateFin": true, "codeSite": {}}),
        )],
        // (serde_json writes keys sorted: the problems follow the payload's key order)
        &[
            "#0 1234-1 codeSite: invalid_type (error)",
            "#0 1234-1 dateFin: invalid_type (error)",
            "#0 1234-1 missionTitle: invalid_type (error)",
            "#0 1234-1 nomEntreprise: invalid_type (error)",
        ],
    );
    check(
        vec![contract(1, json!({"ccodeContrat": 7}))],
        &["#0 1234-1 ccodeContrat: invalid_type (error)"],
    );
}

#[test]
fn invalid_date() {
    for date in [
        "31/02/2026",
        "29/02/2027",
        "1/9/2025",
        "2025-09-01",
        "00/01/2026",
        "01/13/2026",
        "01/09/0000",
        "01/09/25",
        "aa/bb/cccc",
        "01-09-2025",
    ] {
        check(
            vec![contract(1, json!({"dateFin": date}))],
            &["#0 1234-1 dateFin: invalid_date (error)"],
        );
    }
    for date in ["29/02/2028", " 30/06/2026 "] {
        check(vec![contract(1, json!({"dateFin": date}))], &[]);
    }
}

#[test]
fn date_order() {
    check(
        vec![contract(
            1,
            json!({"dateDebut": "01/07/2026", "dateFin": "30/06/2026"}),
        )],
        &["#0 1234-1 dateDebut: date_order (error)"],
    );
    // Compared as dates, not as text.
    check(
        vec![contract(
            1,
            json!({"dateDebut": "02/01/2026", "dateFin": "01/02/2026"}),
        )],
        &[],
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
    for email in [
        "pas-un-email",
        "a@b",
        "a b@c.fr",
        "@c.fr",
        "a@@c.fr",
        "a@c..fr",
        "a@c.fr.",
        ".a@c.fr",
    ] {
        check(
            vec![contract(1, json!({"emailApprenant": email}))],
            &["#0 1234-1 emailApprenant: invalid_email (error)"],
        );
    }
    for email in ["prénom.nom+tag@école.fr", " a.b@c-d.fr "] {
        check(vec![contract(1, json!({"emailApprenant": email}))], &[]);
    }
}

#[test]
fn duplicate_contract() {
    check(
        vec![
            contract(1, json!({"codeContrat": "C1"})),
            contract(2, json!({})),
            contract(3, json!({"codeContrat": " C1 "})),
            contract(4, json!({"codeContrat": "C1"})),
        ],
        &[
            "#2 C1 codeContrat: duplicate_contract (error)",
            "#3 C1 codeContrat: duplicate_contract (error)",
        ],
    );
    // One spelling here, the other there: still one key.
    check(
        vec![
            contract(1, json!({})),
            with_alias(
                1,
                json!({"codeApprenant": "A2", "emailApprenant": "a2@email.com", "codeMaitreApprentissage": "M2", "emailMaitreApprentissage": "m2@email.com"}),
            ),
        ],
        &["#1 1234-1 codeContrat: duplicate_contract (error)"],
    );
}

#[test]
fn key_conflict() {
    check(
        vec![contract(1, json!({"ccodeContrat": "autre"}))],
        &["#0 1234-1 ccodeContrat: key_conflict (error)"],
    );
    // The same value (up to spaces) in both spellings is no conflict.
    check(vec![contract(1, json!({"ccodeContrat": " 1234-1 "}))], &[]);
    // A blank spelling gives way to the other one: no conflict, no missing key.
    check(vec![contract(1, json!({"ccodeContrat": "  "}))], &[]);
    check(
        vec![contract(
            1,
            json!({"codeContrat": "", "ccodeContrat": "1234-1"}),
        )],
        &[],
    );
    let bytes = serde_json::to_vec(&vec![contract(
        1,
        json!({"codeContrat": " ", "ccodeContrat": "K"}),
    )])
    .unwrap();
    assert_eq!(parse(&bytes).unwrap().contracts[0].key(), "K");
}

#[test]
fn code_role_conflict() {
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"codeMaitreApprentissage": "Apprenant1-1"})),
            contract(
                3,
                json!({"codePersonnel": "Apprenant1-1", "emailPersonnel": "apprenant1@email.com"}),
            ),
            contract(
                4,
                json!({"codePersonnel": "Apprenant1-1", "emailPersonnel": "apprenant1@email.com"}),
            ),
        ],
        &[
            "#1 1234-2 codeMaitreApprentissage: code_role_conflict (error)",
            "#2 1234-3 codePersonnel: code_role_conflict (error)",
        ],
    );
    // Both roles in one contract.
    check(
        vec![contract(
            1,
            json!({"codeMaitreApprentissage": "Apprenant1-1"}),
        )],
        &["#0 1234-1 codeMaitreApprentissage: code_role_conflict (error)"],
    );
    // A tutor of many apprentices, always in the same role, is normal.
    check(
        (1..6)
            .map(|n| contract(n, json!({"codeMaitreApprentissage": "Tuteur", "emailMaitreApprentissage": "tuteur@email.com"})))
            .collect(),
        &[],
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
            contract(3, json!({"emailApprenant": "maitre1@EMAIL.com "})),
        ],
        &[
            "#1 1234-2 emailMaitreApprentissage: email_conflict (error)",
            "#2 1234-3 emailApprenant: email_conflict (error)",
        ],
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
        &["#1 1234-2 emailPersonnel: user_conflict (error)"],
    );
    // The same email with other case and spaces is the same email.
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"emailPersonnel": " Personnel@EMAIL.com "})),
        ],
        &[],
    );
    // A first contract without the email (missing) does not hide the conflict of the next two.
    check(
        vec![
            contract(1, json!({"emailPersonnel": ""})),
            contract(2, json!({})),
            contract(3, json!({"emailPersonnel": "autre@email.com"})),
        ],
        &[
            "#0 1234-1 emailPersonnel: missing_field (error)",
            "#2 1234-3 emailPersonnel: user_conflict (error)",
        ],
    );
}

#[test]
fn reference_conflict() {
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"nomFormation": "BTS Management Commercial"})),
            contract(
                3,
                json!({"nomPeriode": "2025-2026", "codeMarque": "M", "nomMarque": "Marque"}),
            ),
            contract(4, json!({"codeMarque": "M", "nomMarque": "Autre marque"})),
        ],
        &[
            "#1 1234-2 nomFormation: reference_conflict (error)",
            "#2 1234-3 nomPeriode: reference_conflict (error)",
            "#3 1234-4 nomMarque: reference_conflict (error)",
        ],
    );
    // Names are compared trimmed.
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"nomSite": " Rennes "})),
        ],
        &[],
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
    for placement in [
        json!({"codeSite": "Site2", "nomSite": "Brest"}),
        json!({"codePeriode": "P2", "nomPeriode": "2026/2027"}),
        json!({"codeFormation": "F2", "nomFormation": "BTS NDRC"}),
        json!({"codeAnnee": "A2", "nomAnnee": "2e année"}),
    ] {
        check(
            vec![contract(1, json!({})), contract(2, placement)],
            &["#1 1234-2 codeGroupe: group_conflict (error)"],
        );
    }
    // A contract missing part of its placement is a missing field, not a second placement.
    check(
        vec![
            contract(1, json!({})),
            contract(2, json!({"codeSite": null})),
        ],
        &["#1 1234-2 codeSite: missing_field (error)"],
    );
}

#[test]
fn brand_incomplete() {
    check(
        vec![
            contract(1, json!({"codeMarque": "M1"})),
            contract(2, json!({"nomMarque": "Marque"})),
            contract(3, json!({"codeMarque": "M1", "nomMarque": "Marque"})),
            contract(4, json!({"codeMarque": " ", "nomMarque": ""})),
        ],
        &[
            "#0 1234-1 nomMarque: brand_incomplete (error)",
            "#1 1234-2 codeMarque: brand_incomplete (error)",
        ],
    );
    // A part that is there but not a string is an invalid_type, not also an incomplete brand.
    check(
        vec![contract(1, json!({"codeMarque": 3, "nomMarque": "Marque"}))],
        &["#0 1234-1 codeMarque: invalid_type (error)"],
    );
}

#[test]
fn user_name_mismatch_is_a_warning() {
    let items = vec![
        contract(1, json!({})),
        contract(2, json!({"prenomPersonnel": "Autre prénom"})),
        contract(3, json!({"nomPersonnel": "Autre nom"})),
    ];
    check(
        items.clone(),
        &[
            "#1 1234-2 prenomPersonnel: user_name_mismatch (warning)",
            "#2 1234-3 nomPersonnel: user_name_mismatch (warning)",
        ],
    );
    let report = validate(&parse(&serde_json::to_vec(&items).unwrap()).unwrap());
    assert!(report.is_valid());
    assert_eq!(report.errors().count(), 0);
    assert_eq!(report.warnings().count(), 2);
    // A first contract without the name (missing) does not hide the mismatch of the next two.
    check(
        vec![
            contract(1, json!({"prenomPersonnel": " "})),
            contract(2, json!({})),
            contract(3, json!({"prenomPersonnel": "Autre prénom"})),
        ],
        &[
            "#0 1234-1 prenomPersonnel: missing_field (error)",
            "#2 1234-3 prenomPersonnel: user_name_mismatch (warning)",
        ],
    );
}

#[test]
fn unknown_field_is_a_warning_and_is_not_kept() {
    let items = vec![contract(1, json!({"couleur": "bleu", "codecontrat": "x"}))];
    check(
        items.clone(),
        &[
            "#0 1234-1 codecontrat: unknown_field (warning)",
            "#0 1234-1 couleur: unknown_field (warning)",
        ],
    );
    let bytes = serde_json::to_vec(&items).unwrap();
    let payload = parse(&bytes).unwrap();
    assert!(validate(&payload).is_valid());
    let written = serde_json::to_string(&payload.contracts[0]).unwrap();
    assert!(!written.contains("couleur"), "{written}");
    // Of any type.
    check(
        vec![contract(1, json!({"couleur": [1, {"a": null}]}))],
        &["#0 1234-1 couleur: unknown_field (warning)"],
    );
    // A top-level key beside "contrats".
    let wrapped = json!({"contrats": [contract(1, json!({}))], "total": 1});
    check_bytes(
        &serde_json::to_vec(&wrapped).unwrap(),
        &["#- - total: unknown_field (warning)"],
    );
}

#[test]
fn every_problem_at_once_in_payload_order() {
    let mut items = vec![
        contract(0, json!({"dateFin": "32/01/2026"})),
        contract(1, json!({"emailApprenant": "x", "couleur": 1})),
        contract(2, json!({"codeContrat": "1234-0", "codeMarque": "M"})),
        contract(
            3,
            json!({"codeApprenant": "Personnel1", "nomSite": "Brest"}),
        ),
        contract(
            4,
            json!({"nomEntreprise": 4, "ccodeContrat": "autre", "emailPersonnel": "p@email.com", "prenomPersonnel": "P"}),
        ),
        contract(
            5,
            json!({"dateDebut": "02/09/2026", "dateFin": "01/09/2026", "codeSite": "S9", "nomSite": "Lyon"}),
        ),
    ];
    items[0]["nomEntreprise"] = Value::Null;
    let expected = [
        "#0 1234-0 dateFin: invalid_date (error)",
        "#0 1234-0 nomEntreprise: missing_field (error)",
        "#1 1234-1 couleur: unknown_field (warning)",
        "#1 1234-1 emailApprenant: invalid_email (error)",
        "#2 1234-0 nomMarque: brand_incomplete (error)",
        "#2 1234-0 codeContrat: duplicate_contract (error)",
        "#3 1234-3 codeApprenant: code_role_conflict (error)",
        "#3 1234-3 nomSite: reference_conflict (error)",
        "#4 1234-4 nomEntreprise: invalid_type (error)",
        "#4 1234-4 ccodeContrat: key_conflict (error)",
        "#4 1234-4 emailPersonnel: user_conflict (error)",
        "#4 1234-4 prenomPersonnel: user_name_mismatch (warning)",
        "#5 1234-5 dateDebut: date_order (error)",
        "#5 1234-5 codeGroupe: group_conflict (error)",
    ];
    check(items.clone(), &expected);
    // The same on any number of threads.
    let bytes = serde_json::to_vec(&items).unwrap();
    let payload = parse(&bytes).unwrap();
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let got: Vec<String> = pool
            .install(|| validate(&payload))
            .problems
            .iter()
            .map(line)
            .collect();
        assert_eq!(got, expected, "{threads} threads");
    }
}

#[test]
fn every_code_has_a_severity_and_a_name() {
    let warnings = ["user_name_mismatch", "unknown_field"];
    let names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "invalid_json",
            "missing_field",
            "invalid_type",
            "invalid_date",
            "date_order",
            "invalid_email",
            "duplicate_contract",
            "key_conflict",
            "code_role_conflict",
            "email_conflict",
            "user_conflict",
            "reference_conflict",
            "group_conflict",
            "brand_incomplete",
            "user_name_mismatch",
            "unknown_field",
        ]
    );
    for code in Code::ALL {
        let expected = if warnings.contains(&code.as_str()) {
            Severity::Warning
        } else {
            Severity::Error
        };
        assert_eq!(code.severity(), expected, "{}", code.as_str());
        assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
    }
}

#[test]
fn a_problem_serializes_with_its_wire_names() {
    let bytes = serde_json::to_vec(&vec![contract(1, json!({"dateFin": "x"}))]).unwrap();
    let report = validate(&parse(&bytes).unwrap());
    let value = serde_json::to_value(&report.problems[0]).unwrap();
    assert_eq!(value["index"], 0);
    assert_eq!(value["codeContrat"], "1234-1");
    assert_eq!(value["field"], "dateFin");
    assert_eq!(value["code"], "invalid_date");
    assert!(value["message"].as_str().unwrap().contains("\"x\""));
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
            email: " Personnel@email.com".into(),
        },
        // Stored in the same role with the same email: no problem.
        KnownAccount {
            code: "MaitreApprentissage1-1".into(),
            role: Role::CompanyTutor,
            email: "maitre1@email.com".into(),
        },
    ];
    let report = validate_with(&payload, &known);
    let got: Vec<String> = report.problems.iter().map(line).collect();
    assert_eq!(
        got,
        [
            "#0 1234-1 codeApprenant: code_role_conflict (error)",
            "#0 1234-1 emailPersonnel: email_conflict (error)",
        ]
    );
    assert!(
        report.problems[0].message.contains("maitreApprentissage"),
        "{}",
        report.problems[0].message
    );
    assert!(
        report.problems[1].message.contains("Ancien"),
        "{}",
        report.problems[1].message
    );
    assert!(validate_with(&payload, &[]).is_valid());
    assert_eq!(validate_with(&payload, &known[2..]), validate(&payload));
}

/// Validating an export since the one before, over several of the chunks validation works
/// in: conflicts between changed contracts and unchanged ones (reported on unchanged ones),
/// an unchanged contract sent twice in another chunk, are all reported as validating it
/// alone reports them.
#[test]
fn validating_since_the_export_before_finds_conflicts_with_unchanged_contracts() {
    use std::borrow::Cow;
    use sync_core::gen::{generate, Options};
    use sync_core::{Baseline, Field, Payload};

    let generated = generate(&Options {
        contracts: 3 * 8192 + 500,
        seed: 11,
        change_rate: 0.1,
    });
    let mut current = generated.current;
    let set =
        |c: &mut sync_core::Contract<'static>, f: Field, v: String| c.set(f, Some(Cow::Owned(v)));
    // The first contract takes the school tutor code of one far down the file, keeping its
    // own tutor's names and email: the later contracts of that tutor (unchanged) conflict.
    let far = current.len() - 10;
    let tutor = current[far].get(Field::CodePersonnel).unwrap().to_owned();
    set(&mut current[0], Field::CodePersonnel, tutor.clone());
    // An added contract at the end carries the email of an unchanged apprentice.
    let mut stranger = current[5].clone();
    set(&mut stranger, Field::CodeContrat, "NOUVEAU".to_owned());
    set(
        &mut stranger,
        Field::CodeApprenant,
        "APP-NOUVEAU".to_owned(),
    );
    let email = current[9000].get(Field::EmailApprenant).unwrap().to_owned();
    set(&mut stranger, Field::EmailApprenant, email);
    current.push(stranger);
    // An unchanged contract sent a second time, in another chunk.
    let again = current[100].clone();
    current.insert(2 * 8192 + 7, again);

    let previous = Payload::from_contracts(generated.previous);
    let current = Payload::from_contracts(current);
    let base = Baseline::new(&previous);
    assert!(base.report().problems.is_empty(), "{:?}", base.report());
    let comparison = base.compare(&current);
    let since = &comparison.diff;
    assert!(since.same.len() > current.contracts.len() * 8 / 10);

    let report = comparison.report.clone();
    assert_eq!(report, validate(&current));
    let codes: Vec<(Code, usize)> = report
        .problems
        .iter()
        .map(|p| (p.code, p.index.unwrap()))
        .collect();
    assert!(
        codes.iter().any(|&(code, index)| code == Code::UserConflict
            && index > 0
            && since.same.contains(&index)),
        "an unchanged contract of the tutor conflicts with the first: {codes:?}"
    );
    assert!(codes.contains(&(Code::EmailConflict, current.contracts.len() - 1)));
    assert!(codes.contains(&(Code::DuplicateContract, 2 * 8192 + 7)));
}
