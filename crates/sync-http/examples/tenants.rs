//! Many tenants on one server: T tenants (default 2000) of N contracts each (default 2000),
//! each synced once then listed once, with the active-set cache bounded to `--cache-mb` M
//! (default 256). Prints the time of the syncs and listings, and the cache's reads; run it
//! under `/usr/bin/time -v` for the peak memory (the client runs in the same process).
//!
//! `cargo build --release -p sync-http --example tenants`
//! `/usr/bin/time -v target/release/examples/tenants [T] [N] [M]`

use std::time::Instant;

use reqwest::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let tenants = args.next().transpose()?.unwrap_or(2000);
    let contracts = args.next().transpose()?.unwrap_or(2000);
    let cache_mb = args.next().transpose()?.unwrap_or(256);
    // One school's export, sent by every tenant: the server keeps a set per tenant.
    let generated = sync_core::gen::generate(&sync_core::gen::Options {
        contracts,
        seed: 11,
        change_rate: 0.0,
    });
    let export = axum::body::Bytes::from(serde_json::to_vec(&generated.previous)?);
    drop(generated);
    let dir = tempfile::tempdir()?;
    let server = sync_http::start(sync_http::ServeConfig {
        addr: "127.0.0.1:0".parse()?,
        store: sync_store::StoreLocation::Directory(dir.path().to_path_buf()),
        tokens: (0..tenants)
            .map(|t| (format!("school-{t}"), format!("token-{t}")))
            .collect(),
        cache_mb,
        ..Default::default()
    })
    .await?;
    let base = format!("http://{}", server.addr());
    let client = Client::new();
    println!(
        "{tenants} tenants x {contracts} contracts ({:.1} MB of JSON each), --cache-mb {cache_mb}",
        export.len() as f64 / 1e6
    );

    let started = Instant::now();
    let mut slowest = 0f64;
    for t in 0..tenants {
        let one = Instant::now();
        let response = client
            .post(format!("{base}/api/sync/v2/contrats"))
            .bearer_auth(format!("token-{t}"))
            .header("Content-Type", "application/json")
            .body(export.clone())
            .send()
            .await?;
        let status = response.status();
        let _ = response.bytes().await?;
        assert!(status.is_success(), "sync of tenant {t}: {status}");
        slowest = slowest.max(one.elapsed().as_secs_f64());
    }
    let synced = started.elapsed().as_secs_f64();
    println!(
        "syncs: {synced:.1} s in all, {:.1} ms each on average, slowest {:.1} ms",
        synced * 1000.0 / tenants as f64,
        slowest * 1000.0
    );

    let started = Instant::now();
    let mut slowest = 0f64;
    for t in 0..tenants {
        let one = Instant::now();
        let response = client
            .get(format!(
                "{base}/api/sync/v1/contrats-get-all?limit=1000&page=1"
            ))
            .bearer_auth(format!("token-{t}"))
            .send()
            .await?;
        let status = response.status();
        let _ = response.bytes().await?;
        assert!(status.is_success(), "listing of tenant {t}: {status}");
        slowest = slowest.max(one.elapsed().as_secs_f64());
    }
    let listed = started.elapsed().as_secs_f64();
    println!(
        "pages of 1000: {:.1} ms each on average, slowest {:.1} ms",
        listed * 1000.0 / tenants as f64,
        slowest * 1000.0
    );
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for line in metrics.lines().filter(|l| l.contains("active_set_cache")) {
        if !line.starts_with('#') {
            println!("{line}");
        }
    }
    server.stop().await?;
    Ok(())
}
