//! Two servers on one data directory (two applications, each over its own store, as two
//! `serve` processes are), written to at the same time: no answered write is lost, and the
//! end state is one some serial order explains. A write may answer 409 `conflict` (then it
//! changed nothing); only outcomes are asserted, never timing.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::{contracts, start, Options, TestServer, TOKEN_A};

const SYNC: &str = "/api/sync/v2/contrats?allowMassRemoval=true";
const CHANGES: &str = "/api/sync/v2/contrats/changes";
const ALL: &str = "/api/sync/v1/contrats-get-all?limit=1000&page=1";

/// Posts `bodies[i]` to `path`, alternately through each server, all at once; answers each
/// status and body by `i`.
async fn post_all(
    servers: &Arc<[TestServer; 2]>,
    path: &'static str,
    bodies: Vec<Value>,
) -> Vec<(StatusCode, Value)> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let servers = servers.clone();
            tokio::spawn(async move { servers[i % 2].post(path, TOKEN_A, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

async fn listed(server: &TestServer) -> BTreeSet<String> {
    let (status, body) = server.get(ALL, TOKEN_A).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    crate::codes(&body).into_iter().collect()
}

fn code(contract: &Value) -> String {
    contract["codeContrat"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_directory_lose_and_mix_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let servers = Arc::new([
        start(dir.path(), Options::default()).await,
        start(dir.path(), Options::default()).await,
    ]);
    let all = contracts(24, 3);

    // Full syncs of distinct sets (every contract but one): the end set is one of them.
    let (status, body) = servers[0].post(SYNC, TOKEN_A, &json!(all)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sets: Vec<Value> = (0..6)
        .map(|i| {
            let mut set = all.clone();
            set.remove(i);
            json!(set)
        })
        .collect();
    let answers = post_all(&servers, SYNC, sets).await;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert!(
            *status == StatusCode::OK || *status == StatusCode::CONFLICT,
            "sync {i}: {status} {body}"
        );
        if *status == StatusCode::OK {
            let s = &body["summary"];
            // From the full set (nothing added) or from another posted set (one added back).
            let added = s["added"].as_u64().unwrap();
            assert!(added <= 1, "sync {i}: {s}");
            assert_eq!(s["removed"], 1, "sync {i}: {s}");
            assert_eq!(s["same"].as_u64().unwrap() + added, 23, "sync {i}: {s}");
        }
    }
    let end = listed(&servers[0]).await;
    assert_eq!(end, listed(&servers[1]).await);
    let missing: Vec<_> = all.iter().map(code).filter(|c| !end.contains(c)).collect();
    assert_eq!(missing.len(), 1, "one posted set exactly, not a mixture");
    let last = all.iter().position(|c| code(c) == missing[0]).unwrap();
    assert!(
        last < 6 && answers[last].0 == StatusCode::OK,
        "the end set was posted and answered"
    );

    // Deltas each adding a distinct contract: every answered one is kept, each from its own
    // base.
    let mut base = all.clone();
    let extra = base.split_off(16);
    let (status, body) = servers[1].post(SYNC, TOKEN_A, &json!(base)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deltas = extra
        .iter()
        .map(|c| json!({"changes": {"added": [c]}}))
        .collect();
    let answers = post_all(&servers, CHANGES, deltas).await;
    let mut expected: BTreeSet<String> = base.iter().map(code).collect();
    let mut bases = BTreeSet::new();
    for (i, (status, body)) in answers.iter().enumerate() {
        match *status {
            StatusCode::OK => {
                assert_eq!(body["summary"]["added"], 1, "delta {i}: {body}");
                let same = body["summary"]["same"].as_u64().unwrap();
                assert!(
                    bases.insert(same),
                    "two deltas answered from {same} contracts"
                );
                expected.insert(code(&extra[i]));
            }
            StatusCode::CONFLICT => assert_eq!(body["error"]["code"], "conflict"),
            other => panic!("delta {i}: {other} {body}"),
        }
    }
    assert_eq!(
        listed(&servers[0]).await,
        expected,
        "no answered delta lost"
    );
    assert_eq!(listed(&servers[1]).await, expected);

    // Cycle status changes of distinct members: every answered one is kept.
    let members = 10;
    let import = json!({"members": (0..members).map(|i| json!({"userId": format!("m{i}")})).collect::<Vec<_>>()});
    let (status, body) = servers[0]
        .post("/lmsapi/admin/import", TOKEN_A, &import)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let changes = (0..members)
        .map(|i| {
            json!({"userId": format!("m{i}"),
                   "status": {"status": "Membre", "startDate": "2022-01-01T00:00:00"}})
        })
        .collect();
    let answers = post_all(&servers, "/lmsapi/cycle/changecurrentmemberstatus", changes).await;
    let mut ids = BTreeSet::new();
    for (i, (status, body)) in answers.iter().enumerate() {
        let (_, statuses) = servers[(i + 1) % 2]
            .post(
                "/lmsapi/cycle/getmemberstatuses",
                TOKEN_A,
                &json!({"userId": format!("m{i}")}),
            )
            .await;
        let entries = statuses["statuses"].as_array().cloned().unwrap_or_default();
        match *status {
            StatusCode::OK => {
                assert_eq!(
                    entries.len(),
                    1,
                    "m{i}'s answered change is kept: {statuses}"
                );
                let id = entries[0]["entryId"].to_string();
                assert!(ids.insert(id.clone()), "entry id {id} twice");
            }
            StatusCode::CONFLICT => assert!(entries.is_empty(), "m{i}: {statuses}"),
            other => panic!("m{i}: {other} {body}"),
        }
    }
    assert!(!ids.is_empty(), "some change is answered");
}
