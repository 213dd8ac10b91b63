//! `sync-cli serve` as a process, its stderr piped (not a terminal): the log lines in each
//! format, and the graceful stop on SIGTERM and SIGINT.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::served::Served;

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

#[test]
fn sigterm_and_sigint_stop_an_idle_server_with_exit_code_0() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let mut served = Served::start(dir.path(), &[], &[]);
        let addr = served.text_addr();
        request(&addr);
        served.signal(signal);
        assert_eq!(served.exit_code(), Some(0), "SIG{signal}");
        assert!(
            TcpStream::connect(&addr).is_err(),
            "SIG{signal}: still listening"
        );
    }
}

/// The token of tenant `school` in the SIGTERM test.
const TOKEN: &str = "s3cret";

/// Everything the server sends on `stream` until it closes it: status and JSON body.
fn read_answer(stream: &mut TcpStream) -> (u16, Value) {
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("an answer, then close");
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

#[test]
fn a_sync_in_flight_at_sigterm_is_applied_and_answered() {
    let dir = tempfile::tempdir().unwrap();
    let token = format!("school={TOKEN}");
    let mut served = Served::start(dir.path(), &["--token", &token], &[]);
    let addr = served.text_addr();
    let generated = sync_core::gen::generate(&sync_core::gen::Options {
        contracts: 20_000,
        seed: 3,
        change_rate: 0.0,
    });
    let body = serde_json::to_vec(&generated.previous).unwrap();
    let mut stream = TcpStream::connect(&addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    // The head, then `100 Continue` once the handler reads the body: the sync is in flight.
    let head = format!(
        "POST /api/sync/v2/contrats HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut continued = [0; 25];
    stream.read_exact(&mut continued).unwrap();
    assert_eq!(&continued, b"HTTP/1.1 100 Continue\r\n\r\n");
    let (start, rest) = body.split_at(body.len() / 2);
    stream.write_all(start).unwrap();
    served.signal("TERM");
    served.line_with("shutting down");
    stream.write_all(rest).unwrap();
    let (status, answer) = read_answer(&mut stream);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["summary"]["added"], 20_000, "{answer}");
    assert_eq!(served.exit_code(), Some(0));
    drop(served);

    // Restarted on the same data, the server has every contract.
    let served = Served::start(dir.path(), &[], &[]);
    let addr = served.text_addr();
    let mut stream = TcpStream::connect(&addr).expect("connects");
    let request = format!(
        "GET /api/sync/v1/contrats-get-all?limit=1&page=1 HTTP/1.1\r\nHost: test\r\n\
         Authorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let (status, answer) = read_answer(&mut stream);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["total"], 20_000, "{answer}");
}

/// The stored tenant of this name in the data directory `data`.
fn stored_tenant(data: &std::path::Path, name: &str) -> Option<sync_store::Tenant> {
    use sync_store::Store;
    let store = sync_store::SqliteStore::open(data).expect("store opens");
    store.tenant_by_name(name).expect("store reads")
}

#[test]
fn a_stored_tenant_keeps_its_sandbox_flag_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let created = crate::sync_cli(&["tenant", "create", "school", "--data", data, "--sandbox"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let token = created.stdout.trim().to_owned();
    let sandbox = stored_tenant(dir.path(), "school").unwrap();
    assert!(sandbox.sandbox);

    // `tenant create` of an existing name: exit 2, nothing changed, no new token.
    let again = crate::sync_cli(&["tenant", "create", "school", "--data", data]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(
        again.stderr.contains("tenant school already exists"),
        "{}",
        again.stderr
    );
    assert_eq!(again.stdout, "");
    assert_eq!(stored_tenant(dir.path(), "school"), Some(sandbox.clone()));

    // `serve --token` without `--sandbox`: the stored flag stays, the token is added; a new
    // tenant is created with the flag given.
    let served = Served::start(
        dir.path(),
        &["--token", "school=second", "--token", "new=third"],
        &[],
    );
    // Listening: the tokens are registered. Dropped: killed.
    served.text_addr();
    drop(served);
    use sync_store::Store;
    let store = sync_store::SqliteStore::open(dir.path()).unwrap();
    for token in [token.as_str(), "second"] {
        let found = store
            .tenant_by_token_hash(&sync_store::hash_token(token))
            .unwrap();
        assert_eq!(found.as_ref(), Some(&sandbox), "token {token}");
    }
    let new = store.tenant_by_name("new").unwrap().unwrap();
    assert!(!new.sandbox);
    drop(store);

    // With `--sandbox`, only new tenants are sandboxes: `new` stays as stored.
    let served = Served::start(
        dir.path(),
        &[
            "--sandbox",
            "--token",
            "new=fourth",
            "--token",
            "other=fifth",
        ],
        &[],
    );
    // Listening: the tokens are registered. Dropped: killed.
    served.text_addr();
    drop(served);
    assert_eq!(stored_tenant(dir.path(), "new"), Some(new));
    assert!(stored_tenant(dir.path(), "other").unwrap().sandbox);
}
