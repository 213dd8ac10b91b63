//! What recording a run costs the store: a first load of N contracts (default 100 000) into a
//! fresh database, with its run and one change record per contract, and without, alternated.
//!
//! `cargo run --release -p sync-store --example runs_cost -- [N] [PAIRS]`

use std::borrow::Cow;
use std::time::Instant;

use sync_core::{Field, Summary};
use sync_store::{
    ChangeKind, ChangeRecord, Run, RunKind, RunOutcome, RunWrite, SqliteStore, Store, SyncWrite,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let pairs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(5);
    let mut contracts = sync_core::gen::generate(&sync_core::gen::Options {
        contracts: n,
        seed: 7,
        change_rate: 0.0,
    })
    .previous;
    contracts.sort_by(|a, b| a.key().cmp(b.key()));
    let text = |c: &sync_core::Contract<'static>, f: Field| -> Cow<'static, str> {
        Cow::Owned(c.trimmed(f).to_owned())
    };
    let records: Vec<ChangeRecord<'static>> = contracts
        .iter()
        .map(|c| ChangeRecord {
            code: Cow::Owned(c.key().to_owned()),
            change: ChangeKind::Added,
            fields: "[]".into(),
            previous: None,
            last_name: text(c, Field::NomApprenant),
            first_name: text(c, Field::PrenomApprenant),
            group_code: text(c, Field::CodeGroupe),
            group_name: text(c, Field::NomGroupe),
            site_code: text(c, Field::CodeSite),
            site_name: text(c, Field::NomSite),
        })
        .collect();
    let run = Run {
        id: "0123456789abcdef0123456789abcdef".into(),
        kind: RunKind::Full,
        received_at: 0,
        outcome: RunOutcome::Applied,
        summary: Summary {
            added: n,
            ..Summary::default()
        },
        errors: 0,
        warnings: 0,
        user_agent: None,
        based_on: 0,
        version_after: None,
        reverts: None,
        decided_at: None,
    };
    let started = Instant::now();
    let chunks = sync_store::encode_change_chunks(&records);
    let bytes: usize = chunks.iter().map(|c| c.2.len()).sum();
    println!(
        "encoding {n} change records: {:.3} s, {:.1} MB",
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1e6
    );
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..pairs {
        for record in [false, true] {
            let dir = tempfile::tempdir()?;
            let store = SqliteStore::open(dir.path())?;
            let tenant = store.create_tenant("t", false)?;
            let write = SyncWrite {
                upsert: contracts.iter().collect(),
                based_on: Some(0),
                run: record.then_some(RunWrite::New {
                    run: &run,
                    changes: &records,
                    problems: None,
                    payload: None,
                }),
                ..Default::default()
            };
            let started = Instant::now();
            store.apply_sync(tenant.id, &write)?;
            let took = started.elapsed().as_secs_f64();
            if record {
                with.push(took)
            } else {
                without.push(took)
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (w, wo) = (median(&mut with), median(&mut without));
    println!("{n} contracts, first load: without run {wo:.3} s, with run and {n} change records {w:.3} s (+{:.3} s)", w - wo);
    Ok(())
}
