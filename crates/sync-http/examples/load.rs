//! Measures the server on generated data: a POST of N contracts (default 100 000) to a fresh
//! tenant, the same POST again (all `same`), a POST with 10% changed, GET pages of 1000
//! contracts, and GET of the first load's run with its first and 50th page of 1000 changes; on
//! SQLite in a fresh data directory, or with `--database-url URL` (or `SYNC_DATABASE_URL`) on
//! that PostgreSQL database, a new tenant each run.
//!
//! `cargo run --release -p sync-http --example load -- [N] [--database-url URL]`

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use reqwest::Client;
use sync_store::StoreLocation;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut n = 100_000;
    let mut url = std::env::var("SYNC_DATABASE_URL").ok();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--database-url" => url = Some(args.next().ok_or("--database-url URL")?),
            other => n = other.parse()?,
        }
    }
    let generated = sync_core::gen::generate(&sync_core::gen::Options {
        contracts: n,
        seed: 7,
        change_rate: 0.1,
    });
    let first = serde_json::to_vec(&generated.previous)?;
    let second = serde_json::to_vec(&generated.current)?;
    let dir = tempfile::tempdir()?;
    let store = match url {
        Some(url) => StoreLocation::Postgres {
            url,
            pool_size: None,
        },
        None => StoreLocation::Directory(dir.path().to_path_buf()),
    };
    // A new tenant each run: a PostgreSQL database keeps the tenants of earlier runs.
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let token = format!("bench-token-{run}");
    println!(
        "{n} contracts, {:.1} MB of JSON, {} store at {store}",
        first.len() as f64 / 1e6,
        store.backend()
    );
    let server = sync_http::start(sync_http::ServeConfig {
        addr: "127.0.0.1:0".parse()?,
        store,
        tokens: vec![(format!("bench-{run}"), token.clone())],
        ..Default::default()
    })
    .await?;
    let base = format!("http://{}", server.addr());
    let client = Client::new();

    let post = |body: Vec<u8>, query: &'static str| {
        let request = client
            .post(format!("{base}/api/sync/v2/contrats{query}"))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body);
        async move {
            let started = Instant::now();
            let response = request.send().await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, started.elapsed(), bytes))
        }
    };
    let mut first_run = None;
    for (label, body, query) in [
        ("POST, fresh tenant (all added)", first.clone(), ""),
        ("POST, same payload again (all same)", first, ""),
        ("POST, 10% changed", second, "?allowMassRemoval=true"),
    ] {
        let (status, took, answer) = post(body, query).await?;
        println!(
            "{label}: {status} in {:.3} s ({:.1} MB answer)",
            took.as_secs_f64(),
            answer.len() as f64 / 1e6
        );
        // The answer ends with `"runId":"..."}`.
        if first_run.is_none() {
            let tail = String::from_utf8_lossy(&answer[answer.len().saturating_sub(100)..]);
            first_run = tail
                .rsplit_once("\"runId\":\"")
                .and_then(|(_, id)| id.split('"').next())
                .map(str::to_owned);
        }
    }
    let first_run = first_run.ok_or("no runId in the first answer")?;
    for page in [1, n / 2000] {
        let url = format!("{base}/api/sync/v1/runs/{first_run}?limit=1000&page={page}");
        let mut best = f64::MAX;
        let mut changes = 0;
        for _ in 0..10 {
            let started = Instant::now();
            let response = client.get(&url).bearer_auth(&token).send().await?;
            let body: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
            best = best.min(started.elapsed().as_secs_f64());
            changes = body["changes"].as_array().map_or(0, Vec::len);
        }
        println!(
            "GET the first load's run, page {page} of 1000 changes ({changes} listed): best of 10 {:.1} ms",
            best * 1000.0
        );
    }
    for page in [1, n / 2000] {
        let url = format!("{base}/api/sync/v1/contrats-get-all?limit=1000&page={page}");
        let mut best = f64::MAX;
        for _ in 0..10 {
            let started = Instant::now();
            let response = client.get(&url).bearer_auth(&token).send().await?;
            let _ = response.bytes().await?;
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "GET page {page} of 1000: best of 10 {:.1} ms",
            best * 1000.0
        );
    }
    // The integrated listing, under a session model that matches the first contract's
    // formation and year.
    let first_contract = &generated.current[0];
    let model = serde_json::json!([{
        "codeFormation": first_contract.trimmed(sync_core::Field::CodeFormation),
        "codeAnnee": first_contract.trimmed(sync_core::Field::CodeAnnee),
    }]);
    let put = client
        .put(format!("{base}/api/sync/v1/session-models"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&model)?)
        .send()
        .await?;
    assert!(
        put.status().is_success(),
        "session models: {}",
        put.status()
    );
    let url = format!("{base}/api/sync/v1/contrats?limit=1000&page=1");
    let mut best = f64::MAX;
    let mut total = serde_json::Value::Null;
    for _ in 0..10 {
        let started = Instant::now();
        let response = client.get(&url).bearer_auth(&token).send().await?;
        let body: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
        best = best.min(started.elapsed().as_secs_f64());
        total = body["total"].clone();
    }
    println!(
        "GET integrated page 1 of 1000 ({total} integrated): best of 10 {:.1} ms",
        best * 1000.0
    );
    server.stop().await?;
    Ok(())
}
