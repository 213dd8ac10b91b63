//! `sync-cli serve` as a process, its stderr piped (not a terminal): the log lines in each
//! format.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// A running `sync-cli serve`, killed and waited for when dropped.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Served {
    /// Starts `sync-cli serve` on a free port of 127.0.0.1 with `args` and `env`.
    fn start(data: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sync-cli"));
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(args)
            .env_remove("SYNC_LOG_FORMAT")
            .env_remove("SYNC_TOKENS")
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
    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(30))
            .expect("a log line within 30 s")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `GET /api/sync/v1/test` without a token to `addr` and reads the whole answer.
fn request(addr: &str) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .write_all(b"GET /api/sync/v1/test HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

/// Starts the server with `args` and `env`, makes one request, and checks its first two log
/// lines (`listening`, then the request): never a colour code; JSON objects when `json`.
fn check(args: &[&str], env: &[(&str, &str)], json: bool) {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(dir.path(), args, env);
    let listening = served.line();
    let case = format!("{args:?} {env:?}: {listening}");
    assert!(!listening.contains("\x1b["), "{case}");
    let addr = if json {
        let object: Value = serde_json::from_str(&listening).expect(&case);
        assert_eq!(
            (&object["level"], &object["message"]),
            (&Value::from("INFO"), &Value::from("listening")),
            "{case}"
        );
        object["addr"].as_str().expect(&case).to_owned()
    } else {
        assert!(serde_json::from_str::<Value>(&listening).is_err(), "{case}");
        assert!(listening.contains("INFO listening addr="), "{case}");
        listening.rsplit("addr=").next().unwrap().trim().to_owned()
    };
    request(&addr);
    let logged = served.line();
    let case = format!("{args:?} {env:?}: {logged}");
    assert!(!logged.contains("\x1b["), "{case}");
    if json {
        let object: Value = serde_json::from_str(&logged).expect(&case);
        assert_eq!(object["message"], "request", "{case}");
        assert_eq!(object["status"], 401, "{case}");
        assert_eq!(object["path"], "/api/sync/v1/test", "{case}");
    } else {
        assert!(
            logged.contains("request") && logged.contains("status=401"),
            "{case}"
        );
    }
}

#[test]
fn log_lines_in_each_format() {
    check(&[], &[], false);
    check(&["--log-format", "text"], &[], false);
    check(&["--log-format", "json"], &[], true);
    check(&[], &[("SYNC_LOG_FORMAT", "json")], true);
    check(
        &["--log-format", "text"],
        &[("SYNC_LOG_FORMAT", "json")],
        false,
    );
}
