//! Reading an export whole into one buffer, and parsing and validating it with `sync-core`,
//! borrowing every string from that buffer.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::Context;
use sync_core::{Baseline, Payload, Report};

use crate::progress::{timed, Progress};

/// Bytes read per step, so that the progress bar moves.
const CHUNK: u64 = 8 << 20;

/// The size of a file, for the progress bar (0 when unknown).
pub(crate) fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Files from this size on are mapped into memory rather than read.
const MAP_FROM: u64 = 64 << 20;

/// The bytes of an input file: mapped when the file is large, read otherwise.
pub enum Input {
    /// A large regular file, mapped read-only.
    Mapped(memmap2::Mmap),
    /// Any other file, read into memory.
    Read(Vec<u8>),
}

impl std::ops::Deref for Input {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(map) => map,
            Input::Read(bytes) => bytes,
        }
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self {
            Input::Mapped(_) => "mapped",
            Input::Read(_) => "read",
        };
        write!(f, "Input({how}, {} bytes)", self.len())
    }
}

/// The bytes of a file, for parsing: a regular file of 64 MB or more is mapped into memory
/// (no copy, no zeroed buffer: a 1 GB export is ready in a fraction of the time a read takes),
/// anything else is read. A file that cannot be read is a failure of the command (exit 2),
/// not a problem of the file.
pub(crate) fn open(path: &Path, progress: &Progress) -> anyhow::Result<Input> {
    open_mapping_from(path, progress, MAP_FROM)
}

fn open_mapping_from(path: &Path, progress: &Progress, map_from: u64) -> anyhow::Result<Input> {
    let cannot = || format!("cannot read {}", path.display());
    let file = File::open(path).with_context(cannot)?;
    let metadata = file.metadata().with_context(cannot)?;
    if metadata.is_file() && metadata.len() >= map_from {
        // SAFETY: the map is read-only and is dropped before the command ends. The one hazard
        // of a mapped file is another process truncating or rewriting it while it is parsed
        // (the bytes would change under the parser, or the process would stop on SIGBUS),
        // the trade-off ripgrep makes for large files too: exports are written once, then
        // read. The pages are mapped in as the parser reaches them (the kernel maps the pages
        // around each fault): mapping them all in first was measured slower (1M pair, six
        // alternate runs: median 2.81 s against 2.71 s).
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::MmapOptions::new().map(&file) };
        if let Ok(map) = map {
            progress.inc(metadata.len());
            return Ok(Input::Mapped(map));
        }
    }
    read(path, progress).map(Input::Read)
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

/// Opens two files at once, on two threads.
pub(crate) fn read_pair(a: &Path, b: &Path) -> anyhow::Result<(Input, Input)> {
    let progress = Progress::bytes("reading", size(a) + size(b));
    let (a, b) = timed("read both files", || {
        std::thread::scope(|s| {
            let a = s.spawn(|| open(a, &progress));
            let b = open(b, &progress);
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
    validate(path, &checked.payload, &mut checked.report);
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

/// Validates the payload of a parsed file into its report (a file that is not JSON keeps its
/// one problem).
pub(crate) fn validate(path: &Path, payload: &Payload<'_>, report: &mut Report) {
    if report.problems.is_empty() {
        *report = timed(&format!("validate {}", path.display()), || {
            sync_core::validate(payload)
        });
    }
}

/// [`validate`] for the file before another, as a [`Baseline`] to compare the other with:
/// `None` when this one is not JSON or has errors (then there is nothing to compare).
pub(crate) fn baseline<'p, 'a>(
    path: &Path,
    payload: &'p Payload<'a>,
    report: &mut Report,
) -> Option<Baseline<'p, 'a>> {
    if !report.problems.is_empty() {
        return None;
    }
    let baseline = timed(&format!("validate {}", path.display()), || {
        Baseline::new(payload)
    });
    report.clone_from(baseline.report());
    baseline.report().is_valid().then_some(baseline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapped_file_reads_as_the_same_bytes_as_a_read_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.json");
        let text = br#"[{"codeContrat": "C1", "nomSite": "Lyon \u00e9"}]"#;
        std::fs::write(&path, text).unwrap();
        let progress = Progress::bytes("reading", 0);
        let mapped = open_mapping_from(&path, &progress, 0).unwrap();
        assert!(matches!(mapped, Input::Mapped(_)), "{mapped:?}");
        let read = open_mapping_from(&path, &progress, u64::MAX).unwrap();
        assert!(matches!(read, Input::Read(_)), "{read:?}");
        assert_eq!(&*mapped, &text[..]);
        assert_eq!(&*read, &text[..]);
        let missing = open(&dir.path().join("missing.json"), &progress).unwrap_err();
        assert!(missing.to_string().starts_with("cannot read"), "{missing}");
    }
}
