//! `sync-cli gen`: generated files are valid, reproducible, and diff as announced.

use crate::sync_cli;

/// Runs `gen` into `dir` and returns the counts it announced (same, added, updated, removed).
fn gen(dir: &std::path::Path, contracts: &str, seed: &str, rate: &str) -> [usize; 4] {
    let run = sync_cli(&[
        "gen",
        "--contracts",
        contracts,
        "--seed",
        seed,
        "--change-rate",
        rate,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("expected diff: "))
        .unwrap_or_else(|| panic!("no counts in {}", run.stdout));
    counts(line)
}

/// `same 9, added 2, updated 2, removed 1` as numbers.
fn counts(line: &str) -> [usize; 4] {
    let numbers: Vec<usize> = line
        .split(", ")
        .zip(["same ", "added ", "updated ", "removed "])
        .map(|(part, name)| part.strip_prefix(name).unwrap().parse().unwrap())
        .collect();
    numbers.try_into().unwrap()
}

#[test]
fn gen_then_diff_finds_the_announced_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new/school");
    let expected = gen(&out, "3000", "11", "0.3");
    assert_eq!(expected.iter().sum::<usize>() - expected[1], 3000);
    assert!(
        expected[1] > 0 && expected[2] > 0 && expected[3] > 0,
        "{expected:?}"
    );

    let (previous, current) = (out.join("previous.json"), out.join("current.json"));
    let (previous, current) = (previous.to_str().unwrap(), current.to_str().unwrap());
    for file in [previous, current] {
        let run = sync_cli(&["validate", file]);
        assert_eq!(run.code, 0, "{run:?}");
    }

    let run = sync_cli(&["diff", previous, current]);
    assert_eq!(run.code, 0);
    assert_eq!(counts(run.stdout.lines().next().unwrap()), expected);

    let run = sync_cli(&["diff", previous, current, "--format", "json"]);
    assert_eq!(run.code, 0);
    let json = run.json();
    let len = |key: &str| json[key].as_array().unwrap().len();
    assert_eq!(
        [len("same"), len("added"), len("updated"), len("removed")],
        expected
    );
    assert_eq!(json["changes"].as_object().unwrap().len(), expected[2]);
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let read = |name: &str| {
        ["previous.json", "current.json"]
            .map(|f| std::fs::read(dir.path().join(name).join(f)).unwrap())
    };
    gen(&dir.path().join("a"), "500", "7", "0.1");
    gen(&dir.path().join("b"), "500", "7", "0.1");
    gen(&dir.path().join("c"), "500", "8", "0.1");
    let (a, b, c) = (read("a"), read("b"), read("c"));
    assert!(!a[0].is_empty() && !a[1].is_empty());
    assert_eq!(a, b);
    assert_ne!(a[0], c[0]);
}

#[test]
fn an_empty_school_is_two_empty_arrays() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(gen(dir.path(), "0", "1", "0.1"), [0, 0, 0, 0]);
    let previous = std::fs::read_to_string(dir.path().join("previous.json")).unwrap();
    assert_eq!(previous, "[]\n");
}

#[test]
fn an_output_that_cannot_be_created_exits_with_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let run = sync_cli(&[
        "gen",
        "--contracts",
        "5",
        "--out",
        file.join("sub").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.starts_with("error: cannot create directory"),
        "{}",
        run.stderr
    );
}

/// `diff` validates the current file knowing the previous one: its report is still the one
/// `validate` gives, for problems between changed and unchanged contracts too.
#[test]
fn diff_reports_the_current_files_problems_as_validate_does() {
    let dir = tempfile::tempdir().unwrap();
    gen(dir.path(), "2000", "5", "0.1");
    let (previous, current) = (
        dir.path().join("previous.json"),
        dir.path().join("current.json"),
    );
    // The file holds one contract a line: the others are left as they are, byte for byte
    // (unchanged since the previous file, for most of them).
    let text = std::fs::read_to_string(&current).unwrap();
    let mut contracts: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| l.trim_end_matches(',').to_owned())
        .collect();
    // The first contract's school tutor gets another email (its other contracts, unchanged,
    // now conflict with it), and an unchanged contract is sent a second time further on.
    let mut first: serde_json::Value = serde_json::from_str(&contracts[0]).unwrap();
    first["emailPersonnel"] = "autre.adresse@ecole.example.org".into();
    contracts[0] = first.to_string();
    let again = contracts[500].clone();
    contracts.insert(1500, again);
    std::fs::write(&current, format!("[\n{}\n]\n", contracts.join(",\n"))).unwrap();
    let (previous, current) = (previous.to_str().unwrap(), current.to_str().unwrap());

    let diff = sync_cli(&["diff", previous, current, "--format", "json"]);
    assert_eq!(diff.code, 1, "{diff:?}");
    let validate = sync_cli(&["validate", current, "--format", "json"]);
    assert_eq!(validate.code, 1, "{validate:?}");
    let (diff, validate) = (diff.json(), validate.json());
    assert_eq!(diff["previous"]["valid"], true);
    assert_eq!(diff["current"]["errors"], validate["errors"]);
    assert_eq!(diff["current"]["warnings"], validate["warnings"]);
    let codes: Vec<&str> = validate["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"user_conflict"), "{codes:?}");
    assert!(codes.contains(&"duplicate_contract"), "{codes:?}");
}
