//! `sync-cli gen`: a seeded, realistic previous and current export written to a directory.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use sync_core::gen::{generate, Options};
use sync_core::Contract;

use crate::output;
use crate::progress::Progress;
use crate::GenArgs;

pub(crate) fn run(args: &GenArgs) -> anyhow::Result<ExitCode> {
    let step = Progress::step("generating");
    let generated = generate(&Options {
        contracts: args.contracts,
        seed: args.seed,
        change_rate: args.change_rate,
    });
    step.finish();

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create directory {}", args.out.display()))?;
    let total = generated.previous.len() + generated.current.len();
    let progress = Progress::items("writing", total as u64);
    for (name, contracts) in [
        ("previous.json", &generated.previous),
        ("current.json", &generated.current),
    ] {
        let path = args.out.join(name);
        let refs: Vec<&Contract<'_>> = contracts.iter().collect();
        let mut out = output::open(Some(&path))?;
        output::write_contracts(&mut out, &refs, &progress)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    progress.finish();

    println!(
        "wrote {} ({}) and {} ({})",
        args.out.join("previous.json").display(),
        output::plural(generated.previous.len(), "contract"),
        args.out.join("current.json").display(),
        output::plural(generated.current.len(), "contract"),
    );
    println!(
        "expected diff: {}",
        output::summary_line(&generated.expected)
    );
    Ok(ExitCode::SUCCESS)
}
