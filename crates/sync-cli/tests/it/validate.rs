//! `sync-cli validate`: exit codes, both formats, every problem at once.

use serde_json::{json, Value};

use crate::{data, sync_cli};

/// Runs `validate` on a data file and checks the exit code and the last line of the text.
fn check_text(file: &str, code: i32, last_line: &str) {
    let run = sync_cli(&["validate", &data(file)]);
    assert_eq!(run.code, code, "{file}: {run:?}");
    let last = run.stdout.lines().last().unwrap_or_default();
    assert_eq!(last, format!("{}: {last_line}", data(file)), "{file}");
}

#[test]
fn exit_codes_and_summaries() {
    check_text("valid.json", 0, "valid, 3 contracts, 0 errors, 0 warnings");
    // The same file with a UTF-8 byte order mark, as Windows tools write it.
    check_text(
        "with_bom.json",
        0,
        "valid, 3 contracts, 0 errors, 0 warnings",
    );
    check_text(
        "wrapped.json",
        0,
        "valid, 3 contracts, 0 errors, 0 warnings",
    );
    check_text(
        "warnings.json",
        0,
        "valid, 2 contracts, 0 errors, 1 warning",
    );
    check_text(
        "problems.json",
        1,
        "invalid, 12 contracts, 13 errors, 2 warnings",
    );
    check_text(
        "not_json.json",
        1,
        "invalid, 0 contracts, 1 error, 0 warnings",
    );
    check_text(
        "not_utf8.json",
        1,
        "invalid, 0 contracts, 1 error, 0 warnings",
    );
    check_text(
        "not_an_array.json",
        1,
        "invalid, 0 contracts, 1 error, 0 warnings",
    );
}

#[test]
fn a_valid_file_in_json() {
    let run = sync_cli(&["validate", &data("valid.json"), "--format", "json"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.json(),
        json!({"valid": true, "contracts": 3, "errors": [], "warnings": []})
    );
}

#[test]
fn warnings_do_not_refuse_the_file() {
    let run = sync_cli(&["validate", &data("warnings.json"), "--format", "json"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.json(),
        json!({"valid": true, "contracts": 2, "errors": [], "warnings": [{
            "index": 0,
            "codeContrat": "CT-0001",
            "field": "commentaire",
            "code": "unknown_field",
            "message": "field not listed by the contract document; ignored",
        }]})
    );
}

#[test]
fn every_kind_of_problem_is_reported_at_once_in_json() {
    let run = sync_cli(&["validate", &data("problems.json"), "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4);
    for key in ["valid", "contracts", "errors", "warnings"] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert_eq!(report["valid"], false);
    assert_eq!(report["contracts"], 12);

    // (index, codeContrat, field, code) of each problem, in payload order.
    let located = |list: &Value| -> Vec<(u64, String, String, String)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let object = p.as_object().unwrap();
                let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
                keys.sort_unstable();
                assert_eq!(keys, ["code", "codeContrat", "field", "index", "message"]);
                assert!(!p["message"].as_str().unwrap().is_empty());
                (
                    p["index"].as_u64().unwrap(),
                    p["codeContrat"].as_str().unwrap().to_owned(),
                    p["field"].as_str().unwrap().to_owned(),
                    p["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let errors = located(&report["errors"]);
    let warnings = located(&report["warnings"]);
    let expected_errors = [
        (1, "CT-0001", "nomEntreprise", "missing_field"),
        (1, "CT-0001", "dateDebut", "invalid_date"),
        (1, "CT-0001", "emailApprenant", "invalid_email"),
        (2, "CT-0002", "codeApprenant", "invalid_type"),
        (2, "CT-0002", "dateDebut", "date_order"),
        (3, "CT-0000", "codeContrat", "duplicate_contract"),
        (4, "CT-0004", "ccodeContrat", "key_conflict"),
        (5, "CT-0005", "codeApprenant", "code_role_conflict"),
        (6, "CT-0006", "emailApprenant", "email_conflict"),
        (7, "CT-0007", "emailApprenant", "user_conflict"),
        (9, "CT-0009", "nomSite", "reference_conflict"),
        (10, "CT-0010", "codeGroupe", "group_conflict"),
        (11, "CT-0011", "nomMarque", "brand_incomplete"),
    ];
    let expected_warnings = [
        (1, "CT-0001", "commentaire", "unknown_field"),
        (
            8,
            "CT-0008",
            "prenomMaitreApprentissage",
            "user_name_mismatch",
        ),
    ];
    for (list, expected) in [
        (&errors, &expected_errors[..]),
        (&warnings, &expected_warnings[..]),
    ] {
        let mut got: Vec<_> = list
            .iter()
            .map(|(i, c, f, k)| (*i, c.as_str(), f.as_str(), k.as_str()))
            .collect();
        assert!(
            got.windows(2).all(|w| w[0].0 <= w[1].0),
            "payload order: {got:?}"
        );
        let mut expected = expected.to_vec();
        got.sort_unstable();
        expected.sort_unstable();
        assert_eq!(got, expected);
    }
}

#[test]
fn problems_in_text_name_the_contract_and_the_field() {
    let run = sync_cli(&["validate", &data("problems.json")]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 15 + 1, "{}", run.stdout);
    for expected in [
        "#1 CT-0001 emailApprenant: invalid_email: ",
        "#6 CT-0006 emailApprenant: email_conflict: ",
        "#5 CT-0005 codeApprenant: code_role_conflict: ",
        "#8 CT-0008 prenomMaitreApprentissage: user_name_mismatch: ",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(expected)),
            "{expected} in {}",
            run.stdout
        );
    }
}

#[test]
fn bad_json_names_the_file_line_and_column() {
    for (file, position) in [
        ("not_json.json", "line 3, column 5: key must be a string"),
        (
            "not_utf8.json",
            "line 1, column 45: byte 0xE9 is not UTF-8; the file must be UTF-8",
        ),
    ] {
        let run = sync_cli(&["validate", &data(file), "--format", "json"]);
        assert_eq!(run.code, 1, "{run:?}");
        let report = run.json();
        assert_eq!(report["valid"], false);
        assert_eq!(report["contracts"], 0);
        let problem = &report["errors"][0];
        assert_eq!(problem["code"], "invalid_json");
        assert_eq!(problem["index"], Value::Null);
        assert_eq!(problem["codeContrat"], Value::Null);
        assert_eq!(problem["field"], Value::Null);
        let message = problem["message"].as_str().unwrap();
        assert!(message.starts_with(&data(file)), "{message}");
        assert!(message.contains(position), "{message}");
    }
}

#[test]
fn an_unreadable_file_or_a_usage_error_exits_with_2() {
    let missing = data("no_such_file.json");
    let run = sync_cli(&["validate", &missing]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot read {missing}: ")),
        "{}",
        run.stderr
    );

    let run = sync_cli(&["validate", &data("")]);
    assert_eq!(run.code, 2, "a directory: {run:?}");

    for args in [
        &["validate"][..],
        &["validate", "a.json", "--format", "yaml"],
        &["frobnicate"],
        &[],
    ] {
        let run = sync_cli(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr.contains("Usage: sync-cli") || run.stderr.contains("try '--help'"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn help_shows_an_example_for_every_command() {
    let run = sync_cli(&["--help"]);
    assert_eq!(run.code, 0);
    for command in ["validate", "diff", "gen", "push"] {
        assert!(
            run.stdout.contains(&format!("sync-cli {command} ")),
            "{command}: {}",
            run.stdout
        );
        let run = sync_cli(&[command, "--help"]);
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains("Example"), "{command}: {}", run.stdout);
    }
}
