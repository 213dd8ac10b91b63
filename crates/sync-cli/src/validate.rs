//! `sync-cli validate FILE`: every problem of an export at once.

use std::io::Write;
use std::process::ExitCode;

use crate::input;
use crate::output::{self, ReportJson};
use crate::progress::Progress;
use crate::{Format, ValidateArgs, EXIT_PROBLEMS};

pub(crate) fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let path = args.file.as_path();
    let reading = Progress::bytes("reading", input::size(path));
    let bytes = input::open(path, &reading)?;
    reading.finish();

    let step = Progress::step("parsing and validating");
    let checked = input::check(path, &bytes);
    step.finish();

    let mut out = output::open(None)?;
    match args.format {
        Format::Json => {
            let json = ReportJson {
                file: None,
                checked: &checked,
            };
            serde_json::to_writer(&mut out, &json)?;
            writeln!(out)?;
        }
        Format::Text => output::write_report_text(&mut out, path, &checked, "")?,
    }
    out.flush()?;
    Ok(if checked.report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PROBLEMS)
    })
}
