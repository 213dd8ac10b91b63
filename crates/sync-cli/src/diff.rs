//! `sync-cli diff PREVIOUS CURRENT`: both exports validated, then compared.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use sync_core::{Contract, Diff};

use crate::input::{self, Checked};
use crate::output::{self, ReportJson};
use crate::progress::{timed, Progress};
use crate::{html, DiffArgs, DiffFormat, EXIT_PROBLEMS};

/// Warnings shown on stderr per file before a diff; `validate` lists them all.
const WARNINGS_SHOWN: usize = 10;

pub(crate) fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let (previous_path, current_path) = (args.previous.as_path(), args.current.as_path());
    let (previous_bytes, current_bytes) = input::read_pair(previous_path, current_path)?;

    let step = Progress::step("parsing, validating and comparing");
    // Parsing is sequential in the core: one file per thread. Validation is parallel in the
    // core: one file after the other, so that only one file's cross-check tables are alive.
    let (mut previous, mut current) = std::thread::scope(|s| {
        let previous = s.spawn(|| input::parse(previous_path, &previous_bytes));
        let current = input::parse(current_path, &current_bytes);
        (input::join(previous), current)
    });
    // With a valid previous file, the current one is compared with it as a baseline: the
    // contracts found unchanged, byte for byte, need not all be checked again. If the current
    // file has errors, the diff is not shown: the problems are, as without it.
    let baseline = input::baseline(previous_path, &previous.payload, &mut previous.report);
    let diff = match baseline.as_ref() {
        Some(baseline) if current.report.problems.is_empty() => {
            let comparison = timed(
                &format!("diff and validate {}", current_path.display()),
                || baseline.compare(&current.payload),
            );
            current.report = comparison.report;
            Some(comparison.diff)
        }
        _ => {
            input::validate(current_path, &current.payload, &mut current.report);
            None
        }
    };
    step.finish();

    let mut out = output::open(args.output.as_deref())?;
    let files = [(previous_path, &previous), (current_path, &current)];
    if files.iter().any(|(_, c)| !c.report.is_valid()) {
        write_problems(&mut out, args.format, &files)?;
        out.flush()?;
        for (path, checked) in files.iter().filter(|(_, c)| !c.report.is_valid()) {
            eprintln!(
                "error: {}; nothing compared",
                output::report_summary(path, checked)
            );
        }
        return Ok(ExitCode::from(EXIT_PROBLEMS));
    }
    for (path, checked) in files {
        output::warn(
            path,
            &checked.report.warnings().collect::<Vec<_>>(),
            WARNINGS_SHOWN,
        );
    }

    // Both files are valid, so the diff was made above.
    let diff = diff.unwrap_or_else(|| sync_core::diff(&previous.payload, &current.payload));

    let written = timed("write", || {
        match args.format {
            DiffFormat::Json => write_json(&mut out, &diff),
            DiffFormat::Text => write_text(&mut out, &diff),
            DiffFormat::Html => html::write_diff(&mut out, &files, &diff),
        }
        .and_then(|()| out.flush())
    });
    written.with_context(|| match &args.output {
        Some(path) => format!("cannot write {}", path.display()),
        None => "cannot write the output".to_owned(),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The problems of both files in the `validate` format, each naming its file: in JSON
/// `{"previous": {"file", "valid", "contracts", "errors", "warnings"}, "current": {...}}`.
fn write_problems(
    out: &mut impl Write,
    format: DiffFormat,
    files: &[(&Path, &Checked<'_>); 2],
) -> anyhow::Result<()> {
    match format {
        DiffFormat::Html => html::write_problems(out, files)?,
        DiffFormat::Json => {
            let [(pp, pc), (cp, cc)] = *files;
            #[derive(serde::Serialize)]
            struct Both<'r> {
                previous: ReportJson<'r>,
                current: ReportJson<'r>,
            }
            let both = Both {
                previous: ReportJson {
                    file: Some(pp),
                    checked: pc,
                },
                current: ReportJson {
                    file: Some(cp),
                    checked: cc,
                },
            };
            serde_json::to_writer(&mut *out, &both)?;
            writeln!(out)?;
        }
        DiffFormat::Text => {
            for (path, checked) in files {
                let prefix = format!("{}: ", path.display());
                output::write_report_text(out, path, checked, &prefix)?;
            }
        }
    }
    Ok(())
}

/// `{"same", "added", "updated", "removed", "changes"}`, streamed.
fn write_json(out: &mut (impl Write + Send), diff: &Diff<'_, '_>) -> std::io::Result<()> {
    let total = diff.current.len() + diff.removed.len();
    let progress = Progress::items("writing", total as u64);
    let arrays: [(&str, Vec<&Contract<'_>>); 4] = [
        ("same", diff.same_contracts().collect()),
        ("added", diff.added_contracts().collect()),
        ("updated", diff.updated_contracts().collect()),
        ("removed", diff.removed_contracts().collect()),
    ];
    for (i, (name, contracts)) in arrays.iter().enumerate() {
        out.write_all(if i == 0 { b"{" } else { b",\n" })?;
        write!(out, "\"{name}\":")?;
        output::write_contracts(out, contracts, &progress)?;
    }
    drop(arrays);
    out.write_all(b",\n\"changes\":{")?;
    for (i, update) in diff.updates().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, update.key)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, &update.changes().collect::<Vec<_>>())?;
    }
    out.write_all(if diff.updated.is_empty() {
        b"}}\n"
    } else {
        b"\n}}\n"
    })?;
    progress.finish();
    Ok(())
}

/// The counts, then each updated contract with its changed fields, then the codes added and
/// removed.
fn write_text(out: &mut impl Write, diff: &Diff<'_, '_>) -> std::io::Result<()> {
    writeln!(out, "{}", output::summary_line(&diff.summary()))?;
    if !diff.updated.is_empty() {
        writeln!(out, "\nupdated ({}):", diff.updated.len())?;
        for update in diff.updates() {
            writeln!(out, "  {}", update.key)?;
            for change in update.changes() {
                writeln!(
                    out,
                    "    {}: {} -> {}",
                    change.field.name(),
                    shown(change.old),
                    shown(change.new)
                )?;
            }
        }
    }
    for (name, contracts) in [
        ("added", diff.added_contracts().collect::<Vec<_>>()),
        ("removed", diff.removed_contracts().collect()),
    ] {
        if !contracts.is_empty() {
            writeln!(out, "\n{name} ({}):", contracts.len())?;
            for contract in contracts {
                writeln!(out, "  {}", contract.key())?;
            }
        }
    }
    Ok(())
}

/// A value quoted as JSON, or `(absent)`.
fn shown(value: Option<&str>) -> String {
    value.map_or_else(
        || "(absent)".to_owned(),
        |v| serde_json::to_string(v).unwrap_or_default(),
    )
}
