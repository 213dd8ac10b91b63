//! `sync-cli serve` as a child process of a test: its stderr read line by line, its address
//! read from the `listening` line, signals sent to it; killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `sync-cli serve`, killed and waited for when dropped.
pub struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Served {
    /// Starts `sync-cli serve` on a free port of 127.0.0.1 on the data directory `data`, with
    /// `args` and `env`.
    pub fn start(data: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        let data = data.to_str().expect("a UTF-8 path");
        Served::start_on(&["--data", data], args, env)
    }

    /// Starts `sync-cli serve` on a free port of 127.0.0.1 on the store `store` names
    /// (`--data DIR` or `--database-url URL`), with `args` and `env`.
    pub fn start_on(store: &[&str], args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sync-cli"));
        command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(store)
            .args(args)
            .env_remove("SYNC_LOG_FORMAT")
            .env_remove("SYNC_TOKENS")
            .env_remove("SYNC_DATABASE_URL")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("sync-cli starts");
        let stderr: ChildStderr = child.stderr.take().expect("stderr piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Served { child, lines }
    }

    /// The next line of stderr, waiting at most 30 s.
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(30))
            .expect("a log line within 30 s")
    }

    /// The next line of stderr that contains `text`.
    pub fn line_with(&self, text: &str) -> String {
        loop {
            let line = self.line();
            if line.contains(text) {
                return line;
            }
        }
    }

    /// The address of the `listening` line of the text format (the first line).
    pub fn text_addr(&self) -> String {
        let listening = self.line_with("listening");
        listening.rsplit("addr=").next().unwrap().trim().to_owned()
    }

    /// Kills the process with SIGKILL (`kill -9`: no chance to finish anything) and waits.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().expect("waited for");
    }

    /// Sends `signal` (`TERM`, `INT`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}: {status}");
    }

    /// The exit code, waiting at most 60 s for the process to end.
    pub fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "still running after 60 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
