//! Integration tests: the real `sync-cli` binary on the files of `tests/data`, and `serve` as
//! a process.

mod browser;
mod diff;
mod gen;
mod instances;
mod lms_import;
mod push;
mod report;
mod runs;
mod serve;
mod served;
mod validate;

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run of the binary printed, and its exit code.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The standard output as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `sync-cli` with `args`, without `SYNC_TOKEN` or proxies from the environment.
pub fn sync_cli<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    sync_cli_with(args, &[])
}

/// Runs `sync-cli` with `args` and extra environment variables.
pub fn sync_cli_with<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sync-cli"));
    command.args(args);
    for var in [
        "SYNC_TOKEN",
        "SYNC_DATABASE_URL",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("the binary runs");
    Run {
        code: output.status.code().expect("exited normally"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// A file of `tests/data`, as a string argument.
pub fn data(name: &str) -> String {
    data_path(name).to_str().expect("UTF-8 path").to_owned()
}

/// A file of `tests/data`.
pub fn data_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}
