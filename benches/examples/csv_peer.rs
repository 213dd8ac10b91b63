//! The peer: the `csv-diff` crate (the engine behind `qsv diff`) on a CSV pair keyed on the
//! first column (`codeContrat`), printing the counts of added, modified and deleted rows.
//!
//! `cargo run --release -p sync-benches --example csv_peer -- PREVIOUS.csv CURRENT.csv`

use std::process::ExitCode;

use csv_diff::csv::Csv;
use csv_diff::csv_diff::CsvByteDiffLocalBuilder;
use csv_diff::diff_row::DiffByteRecord;

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let [previous, current] = paths.as_slice() else {
        eprintln!("usage: csv_peer PREVIOUS.csv CURRENT.csv");
        return ExitCode::from(2);
    };
    match run(previous, current) {
        Ok((added, modified, deleted)) => {
            println!("added {added}, modified {modified}, deleted {deleted}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(previous: &str, current: &str) -> Result<(usize, usize, usize), Box<dyn std::error::Error>> {
    let left = std::fs::File::open(previous)?;
    let right = std::fs::File::open(current)?;
    let differ = CsvByteDiffLocalBuilder::new()
        .primary_key_columns(vec![0usize])
        .build()?;
    let records = differ.diff(Csv::with_reader_seek(left), Csv::with_reader_seek(right))?;
    let (mut added, mut modified, mut deleted) = (0, 0, 0);
    for record in records.as_slice() {
        match record {
            DiffByteRecord::Add(_) => added += 1,
            DiffByteRecord::Modify { .. } => modified += 1,
            DiffByteRecord::Delete(_) => deleted += 1,
        }
    }
    Ok((added, modified, deleted))
}
