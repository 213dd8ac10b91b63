//! Reading an export whole into one buffer, and parsing and validating it with `sync-core`,
//! borrowing every string from that buffer.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::Context;
use sync_core::{Payload, Report};

use crate::progress::{timed, Progress};

/// Bytes read per step, so that the progress bar moves.
const CHUNK: u64 = 8 << 20;

/// The size of a file, for the progress bar (0 when unknown).
pub(crate) fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Reads a whole file into one buffer. A file that cannot be read is a failure of the
/// command (exit 2), not a problem of the file.
pub(crate) fn read(path: &Path, progress: &Progress) -> anyhow::Result<Vec<u8>> {
    let cannot = || format!("cannot read {}", path.display());
    let mut file = File::open(path).with_context(cannot)?;
    let len = file.metadata().map_or(0, |m| m.len());
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    loop {
        let n = (&mut file)
            .take(CHUNK)
            .read_to_end(&mut bytes)
            .with_context(cannot)?;
        if n == 0 {
            return Ok(bytes);
        }
        progress.inc(n as u64);
    }
}

/// Reads two files at once, on two threads.
pub(crate) fn read_pair(a: &Path, b: &Path) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let progress = Progress::bytes("reading", size(a) + size(b));
    let (a, b) = timed("read both files", || {
        std::thread::scope(|s| {
            let a = s.spawn(|| read(a, &progress));
            let b = read(b, &progress);
            (join(a), b)
        })
    });
    Ok((a?, b?))
}

/// The result of a scoped thread, its panic passed on.
pub(crate) fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A parsed and validated export.
#[derive(Debug)]
pub(crate) struct Checked<'a> {
    /// The contracts (none when the file is not JSON).
    pub payload: Payload<'a>,
    /// Every problem, in payload order.
    pub report: Report,
}

impl Checked<'_> {
    /// Number of contracts in the file.
    pub(crate) fn contracts(&self) -> usize {
        self.payload.contracts.len()
    }
}

/// Parses and validates the bytes of `path`. Bytes that are not UTF-8 or not JSON give one
/// `invalid_json` problem naming the file, the line and the column.
pub(crate) fn check<'a>(path: &Path, bytes: &'a [u8]) -> Checked<'a> {
    let mut checked = parse(path, bytes);
    validate(path, &mut checked);
    checked
}

/// Parses the bytes of `path`; the report then holds only an `invalid_json` problem, if any.
pub(crate) fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Checked<'a> {
    match timed(&format!("parse {}", path.display()), || {
        sync_core::parse(bytes)
    }) {
        Ok(payload) => Checked {
            payload,
            report: Report::default(),
        },
        Err(err) => {
            let mut problem = err.to_problem();
            problem.message = format!("{}: {}", path.display(), problem.message);
            Checked {
                payload: Payload::default(),
                report: Report {
                    problems: vec![problem],
                },
            }
        }
    }
}

/// Validates a parsed file (a file that is not JSON keeps its one problem).
pub(crate) fn validate(path: &Path, checked: &mut Checked<'_>) {
    if checked.report.problems.is_empty() {
        checked.report = timed(&format!("validate {}", path.display()), || {
            sync_core::validate(&checked.payload)
        });
    }
}
