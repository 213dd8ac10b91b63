//! `sync-cli diff`: both formats, the output file, invalid and unreadable inputs.

use serde_json::{json, Value};

use crate::{data, sync_cli};

/// The contract of `file` with this code, as written in the file.
fn contract(file: &str, code: &str) -> Value {
    let text = std::fs::read_to_string(crate::data_path(file)).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|c| c["codeContrat"] == code)
        .cloned()
        .unwrap()
}

#[test]
fn json_holds_whole_contracts_and_the_changed_fields() {
    let run = sync_cli(&[
        "diff",
        &data("previous.json"),
        &data("current.json"),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "");
    let (p, c) = ("previous.json", "current.json");
    assert_eq!(
        run.json(),
        json!({
            // In the current file's order; `same` holds the current version.
            "same": [contract(c, "CT-0001"), contract(c, "CT-0004")],
            "added": [contract(c, "CT-0005"), contract(c, "CT-0006")],
            // The new version.
            "updated": [contract(c, "CT-0002")],
            // The previous version.
            "removed": [contract(p, "CT-0003")],
            "changes": {"CT-0002": [
                {"field": "dateFin", "old": "30/06/2027", "new": null},
                {"field": "nomEntreprise", "old": "Boulangerie du Parc", "new": "Boulangerie du Parc SARL"},
            ]},
        })
    );
}

#[test]
fn text_shows_counts_changes_and_codes() {
    let run = sync_cli(&["diff", &data("previous.json"), &data("current.json")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "same 2, added 2, updated 1, removed 1\n\
         \n\
         updated (1):\n  CT-0002\n    dateFin: \"30/06/2027\" -> (absent)\n    \
         nomEntreprise: \"Boulangerie du Parc\" -> \"Boulangerie du Parc SARL\"\n\
         \n\
         added (2):\n  CT-0005\n  CT-0006\n\
         \n\
         removed (1):\n  CT-0003\n"
    );
}

#[test]
fn a_file_compared_with_itself_is_all_same_and_exits_0() {
    let run = sync_cli(&["diff", &data("valid.json"), &data("wrapped.json")]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "same 3, added 0, updated 0, removed 0\n");
}

#[test]
fn the_output_option_writes_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("diff.json");
    let out_arg = out.to_str().unwrap();
    let run = sync_cli(&[
        "diff",
        &data("previous.json"),
        &data("current.json"),
        "--format",
        "json",
        "--output",
        out_arg,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["added"].as_array().unwrap().len(), 2);

    let run = sync_cli(&[
        "diff",
        &data("previous.json"),
        &data("current.json"),
        "--output",
        &data("no_such_dir/diff.txt"),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: cannot write "),
        "{}",
        run.stderr
    );
}

#[test]
fn warnings_are_shown_on_stderr_and_do_not_stop_the_diff() {
    let run = sync_cli(&["diff", &data("warnings.json"), &data("valid.json")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.lines().next(),
        Some("same 2, added 1, updated 0, removed 0")
    );
    assert!(run.stderr.contains("unknown_field"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&data("warnings.json")),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_files_are_reported_naming_the_file_and_nothing_is_compared() {
    let run = sync_cli(&[
        "diff",
        &data("valid.json"),
        &data("problems.json"),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let out = run.json();
    assert_eq!(out["previous"]["file"], data("valid.json"));
    assert_eq!(out["previous"]["valid"], true);
    assert_eq!(out["current"]["file"], data("problems.json"));
    assert_eq!(out["current"]["valid"], false);
    assert_eq!(out["current"]["contracts"], 12);
    assert_eq!(out["current"]["errors"].as_array().unwrap().len(), 13);
    assert_eq!(out["current"]["warnings"].as_array().unwrap().len(), 2);
    assert!(out.get("same").is_none());
    assert!(run.stderr.contains("nothing compared"), "{}", run.stderr);

    let run = sync_cli(&["diff", &data("not_json.json"), &data("valid.json")]);
    assert_eq!(run.code, 1, "{run:?}");
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{}: invalid_json: ", data("not_json.json"))),
        "{first}"
    );
    assert!(first.contains("line 3, column 5"), "{first}");
}

#[test]
fn an_unreadable_file_exits_with_2() {
    let missing = data("no_such_file.json");
    for args in [
        [&data("valid.json"), &missing],
        [&missing, &data("valid.json")],
    ] {
        let run = sync_cli(&["diff", args[0], args[1]]);
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr.contains(&format!("cannot read {missing}")),
            "{}",
            run.stderr
        );
    }
}
