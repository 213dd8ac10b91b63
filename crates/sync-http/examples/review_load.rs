//! Measures the review page of a held run of N changes (default 100 000): a first sync of N
//! generated contracts, then an empty list, held by the mass-removal guard as a run that would
//! remove all N; then the median and 90th percentile of 20 loads of its review page (the
//! whole HTML answer): the first page, a page deep in the run, and the first page filtered by
//! a code and by a common last name.
//!
//! `cargo run --release -p sync-http --example review_load -- [N]`

use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::Value;

const TOKEN: &str = "bench-token";

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
    let client = Client::builder().no_proxy().build()?;

    let generated = sync_core::gen::generate(&sync_core::gen::Options {
        contracts: n,
        seed: 42,
        change_rate: 0.0,
    });
    let mut body = Vec::with_capacity(n * 1024);
    body.push(b'[');
    for (i, contract) in generated.previous.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        contract.write_json(&mut body);
    }
    body.push(b']');
    let sync = format!("{base}/api/sync/v2/contrats");
    let started = Instant::now();
    let first = client
        .post(&sync)
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await?;
    assert!(
        first.status().is_success(),
        "first sync: {}",
        first.status()
    );
    let _ = first.bytes().await?;
    println!(
        "first sync of {n} contracts: {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let held = client
        .post(&sync)
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .body("[]")
        .send()
        .await?;
    assert_eq!(held.status().as_u16(), 409);
    let held: Value = serde_json::from_slice(&held.bytes().await?)?;
    println!(
        "held sync of {n} removals (409 with reviewUrl): {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let review = format!(
        "{base}{}",
        held["error"]["reviewUrl"].as_str().expect("a reviewUrl")
    );

    let code = generated.previous[n / 2].key().to_lowercase();
    let name = generated.previous[0]
        .get(sync_core::Field::NomApprenant)
        .unwrap_or("")
        .to_owned();
    let cases = [
        ("first page", review.clone()),
        (
            "page 500 (changes 49 901-50 000)",
            format!("{review}&page=500"),
        ),
        ("filtered by a code", format!("{review}&q={code}")),
        ("filtered by a last name", format!("{review}&q={name}")),
    ];
    for (what, url) in cases {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..20 {
            let started = Instant::now();
            let response = client.get(&url).send().await?;
            assert!(
                response.status().is_success(),
                "{what}: {}",
                response.status()
            );
            size = response.bytes().await?.len();
            times.push(started.elapsed());
        }
        let (median, p90) = median_and_p90(times);
        println!("review page, {what}: median {median:.1} ms, p90 {p90:.1} ms ({size} bytes)");
    }
    server.stop().await?;
    Ok(())
}
