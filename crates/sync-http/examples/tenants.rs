//! Many tenants on one server, in one of two ways.
//!
//! **Memory** (the default): T tenants (default 2000) of N contracts each (default 2000), each
//! synced once then listed once, with the active-set cache bounded to `--cache-mb` M (default
//! 256). Prints the time of the syncs and listings, and the cache's reads; run it under
//! `/usr/bin/time -v` for the peak memory (the client runs in the same process).
//!
//! **Throughput** (`--clients C`): T tenants of N contracts, each synced twice (a first load,
//! then an export with `--change` of it changed, default 0.05) by C concurrent clients taking
//! the next tenant in turn; the first sync of a tenant goes to one instance and its second to
//! the other, over `--instances K` servers (default 2 on PostgreSQL, 1 on SQLite). Prints the
//! syncs per second and the latencies' median and 99th percentile.
//!
//! The store is SQLite in a fresh data directory, or with `--database-url URL` (or
//! `SYNC_DATABASE_URL`) that PostgreSQL database, new tenants each run. The instances are
//! servers in this process, each with its own store, pool, cache and engine (nothing shared
//! but the database), as separate processes would be.
//!
//! `cargo build --release -p sync-http --example tenants`
//! `/usr/bin/time -v target/release/examples/tenants [T] [N] [M]`
//! `target/release/examples/tenants 1000 2000 256 --clients 8 [--database-url URL]`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use reqwest::Client;
use sync_store::StoreLocation;

/// What the command line asks for.
struct Options {
    tenants: usize,
    contracts: usize,
    cache_mb: usize,
    clients: Option<usize>,
    change: f64,
    instances: Option<usize>,
    url: Option<String>,
}

fn options() -> Result<Options, Box<dyn std::error::Error>> {
    let mut options = Options {
        tenants: 2000,
        contracts: 2000,
        cache_mb: 256,
        clients: None,
        change: 0.05,
        instances: None,
        url: std::env::var("SYNC_DATABASE_URL").ok(),
    };
    let mut positional = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--clients" => options.clients = Some(value()?.parse()?),
            "--change" => options.change = value()?.parse()?,
            "--instances" => options.instances = Some(value()?.parse()?),
            "--database-url" => options.url = Some(value()?),
            number => {
                let number = number.parse()?;
                match positional {
                    0 => options.tenants = number,
                    1 => options.contracts = number,
                    2 => options.cache_mb = number,
                    _ => return Err(format!("unexpected argument {number}").into()),
                }
                positional += 1;
            }
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    let dir = tempfile::tempdir()?;
    let store = match &options.url {
        Some(url) => StoreLocation::Postgres {
            url: url.clone(),
            pool_size: None,
        },
        None => StoreLocation::Directory(dir.path().to_path_buf()),
    };
    // New tenants each run: a PostgreSQL database keeps those of earlier runs.
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let tokens: Vec<(String, String)> = (0..options.tenants)
        .map(|t| (format!("school-{run}-{t}"), format!("token-{run}-{t}")))
        .collect();
    let instances = match (options.clients, options.instances, &store) {
        (_, Some(k), _) => k.max(1),
        (Some(_), None, StoreLocation::Postgres { .. }) => 2,
        _ => 1,
    };
    let mut servers = Vec::new();
    for i in 0..instances {
        servers.push(
            sync_http::start(sync_http::ServeConfig {
                addr: "127.0.0.1:0".parse()?,
                store: store.clone(),
                // The first instance registers the tokens; the others find them stored.
                tokens: if i == 0 { tokens.clone() } else { Vec::new() },
                cache_mb: options.cache_mb,
                ..Default::default()
            })
            .await?,
        );
    }
    let bases: Vec<String> = servers
        .iter()
        .map(|s| format!("http://{}", s.addr()))
        .collect();
    let tokens: Vec<String> = tokens.into_iter().map(|(_, token)| token).collect();
    println!(
        "{} tenants x {} contracts, {} store at {store}, {instances} instance(s), --cache-mb {}",
        options.tenants,
        options.contracts,
        store.backend(),
        options.cache_mb
    );
    match options.clients {
        None => memory(&options, &bases[0], &tokens).await?,
        Some(clients) => throughput(&options, clients, &bases, &tokens).await?,
    }
    for server in servers {
        server.stop().await?;
    }
    Ok(())
}

/// Posts `body` as a full sync; the time it took.
async fn sync(client: &Client, base: &str, token: &str, body: Bytes) -> Result<Duration, String> {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/sync/v2/contrats?allowMassRemoval=true"))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let _ = response.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("sync answered {status}"));
    }
    Ok(started.elapsed())
}

/// One school's export (seed 11) and the same with `change` of it changed.
fn exports(contracts: usize, change: f64) -> Result<(Bytes, Bytes), serde_json::Error> {
    let generated = sync_core::gen::generate(&sync_core::gen::Options {
        contracts,
        seed: 11,
        change_rate: change,
    });
    Ok((
        Bytes::from(serde_json::to_vec(&generated.previous)?),
        Bytes::from(serde_json::to_vec(&generated.current)?),
    ))
}

/// Each tenant synced once, then listed once, one at a time.
async fn memory(
    options: &Options,
    base: &str,
    tokens: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    let (export, _) = exports(options.contracts, 0.0)?;
    println!("{:.1} MB of JSON each", export.len() as f64 / 1e6);
    let client = Client::new();
    let started = Instant::now();
    let mut slowest = 0f64;
    for token in tokens {
        let took = sync(&client, base, token, export.clone()).await?;
        slowest = slowest.max(took.as_secs_f64());
    }
    let synced = started.elapsed().as_secs_f64();
    let count = tokens.len().max(1) as f64;
    println!(
        "syncs: {synced:.1} s in all, {:.1} ms each on average, slowest {:.1} ms",
        synced * 1000.0 / count,
        slowest * 1000.0
    );

    let started = Instant::now();
    let mut slowest = 0f64;
    for (t, token) in tokens.iter().enumerate() {
        let one = Instant::now();
        let response = client
            .get(format!(
                "{base}/api/sync/v1/contrats-get-all?limit=1000&page=1"
            ))
            .bearer_auth(token)
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
        listed * 1000.0 / count,
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
    Ok(())
}

/// Every tenant synced twice (first load, then the changed export) by `clients` concurrent
/// clients, the two syncs of a tenant through two different instances.
async fn throughput(
    options: &Options,
    clients: usize,
    bases: &[String],
    tokens: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    let (first, changed) = exports(options.contracts, options.change)?;
    println!(
        "{:.1} MB of JSON each, {:.0}% changed the second time, {clients} concurrent clients",
        first.len() as f64 / 1e6,
        options.change * 100.0
    );
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    let client = Client::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (next, latencies, client) = (next.clone(), latencies.clone(), client.clone());
            let (bases, tokens) = (bases.to_vec(), tokens.to_vec());
            let (first, changed) = (first.clone(), changed.clone());
            tokio::spawn(async move {
                loop {
                    let t = next.fetch_add(1, Ordering::Relaxed);
                    let Some(token) = tokens.get(t) else {
                        return Ok::<(), String>(());
                    };
                    let one = &bases[t % bases.len()];
                    let other = &bases[(t + 1) % bases.len()];
                    let load = sync(&client, one, token, first.clone()).await?;
                    let change = sync(&client, other, token, changed.clone()).await?;
                    let mut latencies = latencies.lock().unwrap();
                    latencies.0.push(load);
                    latencies.1.push(change);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let took = started.elapsed().as_secs_f64();
    let (mut loads, mut changes) = std::mem::take(&mut *latencies.lock().unwrap());
    let syncs = loads.len() + changes.len();
    println!(
        "{syncs} syncs in {took:.1} s: {:.1} syncs/s",
        syncs as f64 / took
    );
    let mut all: Vec<Duration> = loads.iter().chain(&changes).copied().collect();
    for (label, latencies) in [
        ("all syncs", &mut all),
        ("first loads", &mut loads),
        ("changed exports", &mut changes),
    ] {
        latencies.sort_unstable();
        println!(
            "{label}: median {:.1} ms, p99 {:.1} ms, slowest {:.1} ms",
            percentile(latencies, 0.50),
            percentile(latencies, 0.99),
            percentile(latencies, 1.0)
        );
    }
    Ok(())
}

/// The `q` quantile (nearest rank) of sorted latencies, in milliseconds.
fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}
