//! Progress on stderr, only when stderr is a terminal: nothing of it in pipes or CI logs.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress display that is a no-op unless stderr is a terminal.
#[derive(Debug)]
pub(crate) struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar of `total` bytes, e.g. while reading files.
    pub(crate) fn bytes(message: &str, total: u64) -> Self {
        Self::make(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>10} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(message.to_owned());
            bar
        })
    }

    /// A spinner for a step whose length is not known (parsing, validating, diffing).
    pub(crate) fn step(message: &str) -> Self {
        Self::make(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .expect("valid template"),
            );
            bar.set_message(message.to_owned());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        })
    }

    /// A bar of `total` items, e.g. contracts written.
    pub(crate) fn items(message: &str, total: u64) -> Self {
        Self::make(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} ({eta})")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(message.to_owned());
            bar
        })
    }

    fn make(bar: impl FnOnce() -> ProgressBar) -> Self {
        Progress(std::io::stderr().is_terminal().then(bar))
    }

    /// Advances by `n` bytes or items.
    pub(crate) fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    /// Removes the display.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    /// An early return must not leave a spinner behind.
    fn drop(&mut self) {
        self.finish();
    }
}

/// Runs `f`, and prints how long it took on stderr when `SYNC_CLI_TIMINGS` is set (for
/// measuring the phases of a run; see README, Performance).
pub(crate) fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    if std::env::var_os("SYNC_CLI_TIMINGS").is_none() {
        return f();
    }
    let start = std::time::Instant::now();
    let value = f();
    eprintln!("timing: {label}: {:.2} s", start.elapsed().as_secs_f64());
    value
}
