//! Measures the cycle API on a tenant of N members (default 100 000), each with one credit in
//! one period and one status timeline: the import of the members over HTTP, then the median
//! and 90th percentile of 1000 requests of each route that reads or changes one member, then
//! the same import again.
//!
//! `cargo run --release -p sync-http --example cycle_load -- [N]`
//!
//! The timelines are written straight into the store (in one transaction) after the import:
//! the import format has no statuses, and 100 000 `updatememberstatuses` calls would measure
//! nothing more than the 1000 below do.

use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{json, Value};
use sync_cycle::{CycleData, UpdateMemberStatusesRequest};
use sync_store::Store;

const TOKEN: &str = "bench-token";

/// The body of the k-th request of a route.
type BodyOf<'a> = Box<dyn Fn(usize) -> Value + 'a>;

fn median_and_p90(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(times[times.len() / 2]), ms(times[times.len() * 9 / 10]))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let server = sync_http::start(sync_http::ServeConfig {
        addr: "127.0.0.1:0".parse()?,
        store: sync_store::StoreLocation::Directory(dir.path().to_path_buf()),
        tokens: vec![("bench".into(), TOKEN.into())],
        ..Default::default()
    })
    .await?;
    let base = format!("http://{}", server.addr());
    let client = Client::new();
    let user = |i: usize| format!("user%2f{i}%3d%3d");

    let members: Vec<Value> = (0..n)
        .map(|i| json!({"userId": user(i), "customFields": {"matricule": i.to_string()}}))
        .collect();
    let credits: Vec<Value> = (0..n)
        .map(|i| json!({"memberId": user(i), "cyclePeriodId": "p1", "kind": "completed", "credits": 12}))
        .collect();
    let import = serde_json::to_vec(&json!({
        "cycles": [{"cycleId": "c1", "adminName": "Cycle"}],
        "periods": [{"cyclePeriodId": "p1", "cycleId": "c1", "startDate": "2020-01-01T00:00:00Z",
                     "requirements": [{"type": 1, "targetValue": 40}]}],
        "members": members,
        "credits": credits,
    }))?;
    let started = Instant::now();
    let response = client
        .post(format!("{base}/lmsapi/admin/import"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .body(import.clone())
        .send()
        .await?;
    let status = response.status();
    let _ = response.bytes().await?;
    println!(
        "import of {n} members and {n} credits ({:.1} MB): {status} in {:.2} s",
        import.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    // One open status range for every member, written in one transaction.
    let store = sync_store::SqliteStore::open(dir.path())?;
    let tenant = store.tenant_by_name("bench")?.ok_or("no tenant")?.id;
    let before = store.cycle_data(tenant)?;
    let mut after: CycleData = before.clone();
    for i in 0..n {
        let request = UpdateMemberStatusesRequest::from(json!({"userId": user(i),
            "statuses": [{"status": "Membre", "startDate": "2020-01-01T00:00:00"}]}));
        after.update_member_statuses(&request)?;
    }
    store.save_cycle_changes(tenant, &before, &after, None)?;
    drop(store);

    let pick = |k: usize| (k * 7919) % n;
    let routes: [(&str, BodyOf); 5] = [
        (
            "getuserprogress",
            Box::new(|k| json!({"id": "p1", "memberId": user(pick(k))})),
        ),
        (
            "getmemberstatuses",
            Box::new(|k| json!({"userId": user(pick(k))})),
        ),
        (
            "getmemberstatuses",
            Box::new(|k| json!({"customFieldAPIName": "matricule", "customFieldValue": pick(k)})),
        ),
        (
            "updatememberstatus",
            Box::new(|k| {
                let i = pick(k);
                let entry = &after.statuses[&format!("user/{i}==")][0].entry_id;
                json!({"userId": user(i), "entryId": entry, "status": {"status": "Suspendu"}})
            }),
        ),
        (
            "changecurrentmemberstatus",
            Box::new(|k| {
                json!({"userId": user(pick(k)),
                       "status": {"status": "Ancien", "startDate": "2024-01-01T00:00:00"}})
            }),
        ),
    ];
    for (route, body) in &routes {
        let mut times = Vec::with_capacity(1000);
        for k in 0..1000 {
            let request = client
                .post(format!("{base}/lmsapi/cycle/{route}"))
                .bearer_auth(TOKEN)
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&body(k))?);
            let started = Instant::now();
            let response = request.send().await?;
            let status = response.status();
            let _ = response.bytes().await?;
            times.push(started.elapsed());
            if !status.is_success() {
                return Err(format!("{route}: {status}").into());
            }
        }
        let (median, p90) = median_and_p90(times);
        let by = if body(0).get("customFieldAPIName").is_some() {
            " (by custom field)"
        } else {
            ""
        };
        println!("{route}{by}: median {median:.2} ms, p90 {p90:.2} ms over 1000");
    }

    // The same import again: every object exists, nothing differs, nothing is written.
    let started = Instant::now();
    let response = client
        .post(format!("{base}/lmsapi/admin/import"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .body(import)
        .send()
        .await?;
    let status = response.status();
    let _ = response.bytes().await?;
    println!(
        "the same import again (timelines stored): {status} in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
