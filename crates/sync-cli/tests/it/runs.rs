//! `sync-cli runs` against a real `sync-cli serve` on 127.0.0.1: each subcommand in text and
//! JSON, the exit codes; and the server's own upkeep with short times: a held run expires
//! with `--hold-for 2s` though nobody reads it, runs go after `--keep-runs-for 3s` and
//! contracts stay.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use sync_store::{RunOutcome, SqliteStore, Store};

use crate::served::Served;
use crate::{sync_cli, Run};

const TOKEN: &str = "runs-t0ken";

/// `sync-cli gen` of `n` contracts into `dir`: `previous.json`, and `few.json` with its first
/// `few` contracts (a sync that the guard holds).
fn exports(dir: &Path, n: usize, few: usize) -> (String, String) {
    let out = dir.to_str().unwrap();
    let generated = sync_cli(&["gen", "--contracts", &n.to_string(), "--out", out]);
    assert_eq!(generated.code, 0, "{generated:?}");
    let previous = dir.join("previous.json");
    let all: Vec<Value> = serde_json::from_slice(&std::fs::read(&previous).unwrap()).unwrap();
    let few_path = dir.join("few.json");
    std::fs::write(&few_path, serde_json::to_vec(&all[..few]).unwrap()).unwrap();
    (
        previous.to_str().unwrap().to_owned(),
        few_path.to_str().unwrap().to_owned(),
    )
}

fn push(url: &str, file: &str) -> Run {
    sync_cli(&[
        "push",
        file,
        "--url",
        url,
        "--token",
        TOKEN,
        "--retries",
        "0",
    ])
}

fn runs(url: &str, args: &[&str]) -> Run {
    let mut all = vec!["runs"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--url", url, "--token", TOKEN, "--retries", "0"]);
    let run = sync_cli(&all);
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "{run:?}"
    );
    run
}

/// The newest run's id, from `runs list --format json`.
fn newest(url: &str) -> String {
    let listed = runs(url, &["list", "--format", "json"]);
    assert_eq!(listed.code, 0, "{listed:?}");
    listed.json()["runs"][0]["runId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn serve(data: &Path, extra: &[&str]) -> (Served, String) {
    let token = format!("school={TOKEN}");
    let mut args = vec!["--token", token.as_str()];
    args.extend_from_slice(extra);
    let served = Served::start(data, &args, &[]);
    let url = format!("http://{}", served.text_addr());
    (served, url)
}

#[test]
fn runs_subcommands_list_show_approve_reject_and_revert() {
    let dir = tempfile::tempdir().unwrap();
    let (all, few) = exports(dir.path(), 30, 10);
    let (_served, url) = serve(&dir.path().join("data"), &[]);

    let pushed = push(&url, &all);
    assert_eq!(pushed.code, 0, "{pushed:?}");
    let first = newest(&url);
    // Guarded: held, exit 1 with the server's message naming the run.
    let held = push(&url, &few);
    assert_eq!(held.code, 1, "{held:?}");
    let id = newest(&url);
    assert!(
        held.stderr.contains("mass_removal") && held.stderr.contains(&id),
        "{}",
        held.stderr
    );

    let listed = runs(&url, &["list"]);
    assert_eq!(listed.code, 0, "{listed:?}");
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(
        lines[0], "2 runs (page 1, newest first)",
        "{}",
        listed.stdout
    );
    assert!(
        lines[1].starts_with(&id) && lines[1].contains("held") && lines[1].contains("removed 20"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(&first) && lines[2].contains("applied"),
        "{}",
        lines[2]
    );

    let shown = runs(&url, &["show", &id, "--limit", "3"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(
        shown
            .stdout
            .starts_with(&format!("run {id}\n  kind full, received ")),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("outcome held") && shown.stdout.contains("sent by sync-cli/"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("20 changes (page 1)\n  removed "),
        "{}",
        shown.stdout
    );
    assert_eq!(
        shown.stdout.matches("\n  removed ").count(),
        3,
        "{}",
        shown.stdout
    );
    let json = runs(&url, &["show", &id, "--format", "json"]).json();
    assert_eq!(json["changesTotal"], 20);
    assert_eq!(json["run"]["outcome"], "held");

    let approved = runs(&url, &["approve", &id]);
    assert_eq!(approved.code, 0, "{approved:?}");
    assert_eq!(
        approved.stdout,
        format!(
            "approved run {id}; the server holds 10\nsame 10, added 0, updated 0, removed 20\n"
        )
    );
    let again = runs(&url, &["approve", &id]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(
        again.stderr.contains("409") && again.stderr.contains("not_held"),
        "{}",
        again.stderr
    );
    let rejected = runs(&url, &["reject", &id]);
    assert_eq!(rejected.code, 1);
    assert!(rejected.stderr.contains("not_held"), "{}", rejected.stderr);

    // The approved run is the latest change: revert it, with --allow-mass-removal (it brings
    // back 20 of 10, no removal: accepted either way); the first is no longer the latest.
    let old = runs(&url, &["revert", &first]);
    assert_eq!(old.code, 1, "{old:?}");
    assert!(old.stderr.contains("not_latest"), "{}", old.stderr);
    let reverted = runs(&url, &["revert", &id, "--allow-mass-removal"]);
    assert_eq!(reverted.code, 0, "{reverted:?}");
    let revert = newest(&url);
    assert_eq!(reverted.stdout, format!("reverted run {id} as run {revert}; the server holds 30\nsame 10, added 20, updated 0, removed 0\n"));
    let json = runs(&url, &["list", "--format", "json"]).json();
    let outcomes: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "reverted", "applied"]);
    assert_eq!(json["runs"][0]["kind"], "revert");

    // A held run rejected.
    assert_eq!(push(&url, &few).code, 1);
    let held = newest(&url);
    let rejected = runs(&url, &["reject", &held, "--format", "json"]);
    assert_eq!(rejected.code, 0, "{rejected:?}");
    assert_eq!(rejected.json()["run"]["outcome"], "rejected");

    // Unknown runs, usage errors.
    let unknown = runs(&url, &["show", "no-such-run"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("404") && unknown.stderr.contains("not_found"),
        "{}",
        unknown.stderr
    );
    let no_url = sync_cli(&["runs", "list", "--token", TOKEN]);
    assert_eq!(no_url.code, 2, "{no_url:?}");
    assert!(no_url.stderr.contains("--url"), "{}", no_url.stderr);
}

/// Waits until `check` holds, at most `within`.
fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_held_run_expires_with_hold_for_and_runs_go_with_keep_runs_for() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (all, few) = exports(dir.path(), 30, 5);
    let (served, url) = serve(&data, &["--hold-for", "2s"]);
    assert_eq!(push(&url, &all).code, 0);
    assert_eq!(push(&url, &few).code, 1);
    let held = newest(&url);
    // Nobody reads it: the server's upkeep expires it. Read from the database directly
    // (a read through the server would expire it on the way).
    let store = SqliteStore::open(&data).unwrap();
    let tenant = store.tenant_by_name("school").unwrap().unwrap();
    let outcome = || store.run(tenant.id, &held).unwrap().unwrap().outcome;
    assert_eq!(outcome(), RunOutcome::Held);
    assert!(
        eventually(Duration::from_secs(15), || outcome() == RunOutcome::Expired),
        "{:?}",
        outcome()
    );
    let late = runs(&url, &["approve", &held]);
    assert_eq!(late.code, 1);
    assert!(
        late.stderr.contains("not_held") && late.stderr.contains("expired"),
        "{}",
        late.stderr
    );
    drop(served);

    // Restarted: the runs are kept.
    let (served, url) = serve(&data, &[]);
    assert_eq!(
        runs(&url, &["list", "--format", "json"]).json()["total"],
        2,
        "runs survive the restart"
    );
    drop(served);

    // Restarted with a short retention: the runs go, a new one too once 3 s old; the
    // contracts stay.
    let (_served, url) = serve(&data, &["--keep-runs-for", "3s"]);
    assert_eq!(push(&url, &all).code, 0);
    let fresh = newest(&url);
    let runs_total = || store.runs(tenant.id, 0, 10).unwrap().total;
    assert!(
        eventually(Duration::from_secs(20), || runs_total() == 0),
        "{}",
        runs_total()
    );
    assert_eq!(store.run(tenant.id, &fresh).unwrap(), None);
    assert_eq!(
        store
            .page(tenant.id, sync_store::Listing::Transmitted, 0, 1)
            .unwrap()
            .total,
        30
    );
    assert_eq!(runs(&url, &["list", "--format", "json"]).json()["total"], 0);
}
