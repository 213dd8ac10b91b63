//! Writes a contract export as CSV (header: the wire field names; `codeContrat` first), so that
//! the same data can be given to a CSV diff.
//!
//! `cargo run --release -p sync-benches --example to_csv -- IN.json OUT.csv`

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use sync_core::Field;

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = paths.as_slice() else {
        eprintln!("usage: to_csv IN.json OUT.csv");
        return ExitCode::from(2);
    };
    match convert(input, output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn convert(input: &str, output: &str) -> Result<(), String> {
    let bytes = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let payload = sync_core::parse(&bytes).map_err(|e| format!("{input}: {e}"))?;
    let file = std::fs::File::create(output).map_err(|e| format!("{output}: {e}"))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let write = |out: &mut BufWriter<std::fs::File>, fields: &mut dyn Iterator<Item = &str>| {
        for (i, value) in fields.enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            if value.contains([',', '"', '\n', '\r']) {
                write!(out, "\"{}\"", value.replace('"', "\"\""))?;
            } else {
                out.write_all(value.as_bytes())?;
            }
        }
        out.write_all(b"\n")
    };
    let io = |e: std::io::Error| format!("{output}: {e}");
    write(&mut out, &mut Field::ALL.iter().map(|f| f.name())).map_err(io)?;
    for contract in &payload.contracts {
        let mut values = Field::ALL.iter().map(|&f| contract.get(f).unwrap_or(""));
        write(&mut out, &mut values).map_err(io)?;
    }
    out.flush().map_err(io)
}
