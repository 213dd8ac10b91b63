//! Writing results: buffered, streamed (never a whole `serde_json::Value`), to stdout or a
//! file; reports in the `validate` format.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use rayon::prelude::*;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use sync_core::{Contract, Problem, Report, Summary};

use crate::input::Checked;
use crate::progress::Progress;

/// Buffer size of the output.
const BUFFER: usize = 1 << 20;

/// Standard output, or the file given with `--output` (created or truncated).
pub(crate) fn open(path: Option<&Path>) -> anyhow::Result<BufWriter<Box<dyn Write + Send>>> {
    let sink: Box<dyn Write + Send> = match path {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        ),
        None => Box::new(io::stdout()),
    };
    Ok(BufWriter::with_capacity(BUFFER, sink))
}

/// `same 9, added 2, updated 2, removed 1`: the counts as `gen` and `diff` print them.
pub(crate) fn summary_line(s: &Summary) -> String {
    format!(
        "same {}, added {}, updated {}, removed {}",
        s.same, s.added, s.updated, s.removed
    )
}

/// `{"valid", "contracts", "errors", "warnings"}`, preceded by `"file"` when given.
pub(crate) struct ReportJson<'r> {
    pub file: Option<&'r Path>,
    pub checked: &'r Checked<'r>,
}

impl Serialize for ReportJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = &self.checked.report;
        let mut s = serializer.serialize_struct("Report", 5)?;
        if let Some(file) = self.file {
            s.serialize_field("file", &file.display().to_string())?;
        }
        s.serialize_field("valid", &report.is_valid())?;
        s.serialize_field("contracts", &self.checked.contracts())?;
        s.serialize_field("errors", &Problems(report, true))?;
        s.serialize_field("warnings", &Problems(report, false))?;
        s.end()
    }
}

/// The errors (or the warnings) of a report, as a JSON array.
struct Problems<'r>(&'r Report, bool);

impl Serialize for Problems<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let errors = self.1;
        serializer.collect_seq(self.0.problems.iter().filter(|p| p.is_error() == errors))
    }
}

/// One line per problem (`#12 C0042 emailApprenant: email_conflict: ...`), each after
/// `prefix`, then a one-line summary naming the file.
pub(crate) fn write_report_text(
    out: &mut impl Write,
    path: &Path,
    checked: &Checked<'_>,
    prefix: &str,
) -> io::Result<()> {
    let report = &checked.report;
    for problem in &report.problems {
        writeln!(out, "{prefix}{problem}")?;
    }
    writeln!(out, "{}", report_summary(path, checked))
}

/// `export.json: valid, 12 contracts, 1 warning` or `export.json: invalid, 3 errors, ...`.
pub(crate) fn report_summary(path: &Path, checked: &Checked<'_>) -> String {
    let report = &checked.report;
    let errors = report.errors().count();
    let warnings = report.warnings().count();
    format!(
        "{}: {}, {}, {}, {}",
        path.display(),
        if report.is_valid() {
            "valid"
        } else {
            "invalid"
        },
        plural(checked.contracts(), "contract"),
        plural(errors, "error"),
        plural(warnings, "warning"),
    )
}

/// `1 error`, `2 errors`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Prints the warnings of a file on stderr, at most `limit` of them, then how many were left.
pub(crate) fn warn(path: &Path, problems: &[&Problem], limit: usize) {
    let mut err = io::stderr().lock();
    for problem in problems.iter().take(limit) {
        let _ = writeln!(err, "warning: {}: {problem}", path.display());
    }
    if problems.len() > limit {
        let _ = writeln!(
            err,
            "warning: {}: {} more (see `sync-cli validate {}`)",
            path.display(),
            problems.len() - limit,
            path.display()
        );
    }
}

/// Contracts serialized per task.
const CHUNK: usize = 4096;
/// Contracts serialized per batch of tasks: bounds the memory of the serialized text.
const BATCH: usize = 16 * CHUNK;

/// Writes `contracts` as a JSON array in the wire format, one contract per line.
///
/// The contracts are serialized in parallel, a batch at a time, while the previous batch is
/// written: the bytes are those of a sequential `serde_json` writer with a newline before
/// each item (each contract written by `Contract::write_json`), and the memory held is two
/// batches of text.
pub(crate) fn write_contracts<W: Write + Send>(
    out: &mut W,
    contracts: &[&Contract<'_>],
    progress: &Progress,
) -> io::Result<()> {
    out.write_all(b"[")?;
    let mut pending: Vec<Vec<u8>> = Vec::new();
    for (b, batch) in contracts.chunks(BATCH).enumerate() {
        let (written, parts) = rayon::join(
            || write_parts(out, &pending),
            || serialize_batch(batch, b * BATCH),
        );
        written?;
        pending = parts;
        progress.inc(batch.len() as u64);
    }
    write_parts(out, &pending)?;
    out.write_all(if contracts.is_empty() { b"]" } else { b"\n]" })
}

fn write_parts(out: &mut impl Write, parts: &[Vec<u8>]) -> io::Result<()> {
    parts.iter().try_for_each(|part| out.write_all(part))
}

/// The text of `batch`, whose first contract is item `first` of the array, in parts.
fn serialize_batch(batch: &[&Contract<'_>], first: usize) -> Vec<Vec<u8>> {
    batch
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let first = first + c * CHUNK;
            let mut buf = Vec::with_capacity(chunk.len() * 1024);
            for (i, contract) in chunk.iter().enumerate() {
                buf.extend_from_slice(if first + i == 0 { b"\n" } else { b",\n" });
                contract.write_json(&mut buf);
            }
            buf
        })
        .collect()
}
