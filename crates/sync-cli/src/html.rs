//! `sync-cli diff --format html`: the diff of two exports as one self-contained page, drawn
//! by the review page's renderer (`sync_http::html`) from `sync-core`'s diff.
//!
//! Every change is in the file (a 100,000-change diff is about 40 MB and opens in a few
//! seconds); the page's small script filters them by code or name and shows them
//! [`IN_PAGE_SIZE`](sync_http::html::IN_PAGE_SIZE) at a time, so the browser lays out one
//! page, not the whole diff.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use sync_core::{Contract, Diff, Field};
use sync_http::html::{
    self, ChangeKind, ChangeRow, Counts, DiffView, FieldChange, Navigation, ProblemLine,
};

use crate::input::Checked;

/// The page of a diff: the counts, the warnings of both files, every change.
pub(crate) fn write_diff(
    out: &mut impl Write,
    files: &[(&Path, &Checked<'_>); 2],
    diff: &Diff<'_, '_>,
) -> io::Result<()> {
    let names = file_names(files);
    let summary = diff.summary();
    let mut changes = Vec::with_capacity(summary.added + summary.updated + summary.removed);
    changes.extend(
        diff.removed_contracts()
            .map(|c| row(ChangeKind::Removed, c, Vec::new())),
    );
    changes.extend(diff.updates().map(|update| {
        let fields = update
            .changes()
            .map(|change| FieldChange {
                field: change.field.name(),
                old: change.old,
                new: change.new,
            })
            .collect();
        row(ChangeKind::Updated, update.current, fields)
    }));
    changes.extend(
        diff.added_contracts()
            .map(|c| row(ChangeKind::Added, c, Vec::new())),
    );
    let view = DiffView {
        counts: Counts {
            same: summary.same,
            added: summary.added,
            updated: summary.updated,
            removed: summary.removed,
        },
        no_changes_reason: None,
        changes,
        ..view(files, &names)
    };
    write_view(out, &view)
}

/// The page of two files that could not be compared: the problems of both at the top.
pub(crate) fn write_problems(
    out: &mut impl Write,
    files: &[(&Path, &Checked<'_>); 2],
) -> io::Result<()> {
    let names = file_names(files);
    let view = view(files, &names);
    write_view(out, &view)
}

fn file_names(files: &[(&Path, &Checked<'_>); 2]) -> [String; 2] {
    [
        files[0].0.display().to_string(),
        files[1].0.display().to_string(),
    ]
}

/// The parts both pages share; the diff's counts and changes are filled in by the caller.
fn view<'a>(files: &[(&Path, &Checked<'_>); 2], names: &'a [String; 2]) -> DiffView<'a> {
    let mut problems = Vec::new();
    for ((_, checked), name) in files.iter().zip(names) {
        problems.extend(checked.report.problems.iter().map(|p| ProblemLine {
            error: p.is_error(),
            source: Some(name.as_str()),
            text: p.to_string(),
        }));
    }
    let invalid: Vec<&str> = files
        .iter()
        .zip(names)
        .filter(|((_, c), _)| !c.report.is_valid())
        .map(|(_, name)| name.as_str())
        .collect();
    DiffView {
        title: format!(
            "Diff of {} and {}",
            file_name(files[0].0),
            file_name(files[1].0)
        ),
        facts: vec![
            (
                "previous",
                format!("{} ({} contracts)", names[0], files[0].1.contracts()),
            ),
            (
                "current",
                format!("{} ({} contracts)", names[1], files[1].1.contracts()),
            ),
        ],
        notice: None,
        counts: Counts::default(),
        problems,
        no_changes_reason: (!invalid.is_empty()).then(|| {
            format!(
                "Nothing compared: {} {} errors (listed above).",
                invalid.join(" and "),
                if invalid.len() == 1 { "has" } else { "have" }
            )
        }),
        changes: Vec::new(),
        navigation: Navigation::InPage,
        actions: None,
    }
}

/// The last part of a path, for the title (the facts give the whole path).
fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// A row naming the contract by its code, apprentice, group and site, as sent.
fn row<'a>(
    kind: ChangeKind,
    contract: &'a Contract<'_>,
    fields: Vec<FieldChange<'a>>,
) -> ChangeRow<'a> {
    let first = contract.get(Field::PrenomApprenant).unwrap_or("");
    let last = contract.get(Field::NomApprenant).unwrap_or("");
    let apprentice = match (first.is_empty(), last.is_empty()) {
        (false, false) => Cow::Owned(format!("{first} {last}")),
        (true, _) => Cow::Borrowed(last),
        (false, true) => Cow::Borrowed(first),
    };
    ChangeRow {
        kind,
        code: contract.key(),
        apprentice,
        group: contract.get(Field::NomGroupe).unwrap_or(""),
        site: contract.get(Field::NomSite).unwrap_or(""),
        fields,
    }
}

/// Writes the page through a `fmt::Write` adapter, keeping the first I/O error.
fn write_view(out: &mut impl Write, view: &DiffView<'_>) -> io::Result<()> {
    struct Adapter<'w, W> {
        out: &'w mut W,
        error: Option<io::Error>,
    }
    impl<W: Write> fmt::Write for Adapter<'_, W> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.out.write_all(s.as_bytes()).map_err(|e| {
                self.error = Some(e);
                fmt::Error
            })
        }
    }
    let mut adapter = Adapter { out, error: None };
    match html::write_page(&mut adapter, view) {
        Ok(()) => Ok(()),
        Err(fmt::Error) => Err(adapter
            .error
            .unwrap_or_else(|| io::Error::other("the page could not be written"))),
    }
}
