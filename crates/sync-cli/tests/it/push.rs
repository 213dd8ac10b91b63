//! `sync-cli push` against a stub HTTP server on 127.0.0.1 that answers from a script.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{data, sync_cli, sync_cli_with};

const TOKEN: &str = "s3cret-t0ken-123";

/// How the stub answers one connection.
enum Reply {
    /// A status and a JSON body.
    Answer(u16, &'static str),
    /// Read the request, then close the connection without answering.
    Drop,
}

/// One request as the stub received it.
#[derive(Debug)]
struct Received {
    /// `POST /api/sync/v2/contrats`
    request_line: String,
    /// Header names in lowercase.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A server on 127.0.0.1 that takes one connection per scripted reply, then stops. It also
/// stops on its own if the client does not come within a few seconds.
struct Stub {
    url: String,
    received: mpsc::Receiver<Received>,
}

impl Stub {
    fn start(script: Vec<Reply>) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, received) = mpsc::channel();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            for reply in script {
                let stream = loop {
                    match listener.accept() {
                        Ok((stream, _)) => break stream,
                        Err(_) if Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(5))
                        }
                        Err(_) => return,
                    }
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut reader = BufReader::new(stream);
                let Some(request) = read_request(&mut reader) else {
                    return;
                };
                let _ = tx.send(request);
                let mut stream = reader.into_inner();
                if let Reply::Answer(status, body) = reply {
                    let response = format!(
                        "HTTP/1.1 {status} Stub\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes());
                }
                // Dropping the stream closes the connection.
            }
        });
        Stub { url, received }
    }

    /// The requests received so far.
    fn received(&self) -> Vec<Received> {
        self.received.try_iter().collect()
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Received> {
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        request_line: request_line.trim_end().to_owned(),
        headers,
        body,
    })
}

/// `push FILE --url URL --token TOKEN` with fast retries, and extra arguments.
fn push(stub: &Stub, file: &str, extra: &[&str]) -> crate::Run {
    let mut args = vec![
        "push",
        file,
        "--url",
        &stub.url,
        "--token",
        TOKEN,
        "--retry-delay",
        "1",
        "--timeout",
        "10",
    ];
    args.extend_from_slice(extra);
    let run = sync_cli(&args);
    assert_no_token(&run);
    run
}

fn assert_no_token(run: &crate::Run) {
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "the token was printed: {run:?}"
    );
}

#[test]
fn a_sync_sends_the_file_as_is_with_the_token_and_prints_the_summary() {
    let stub = Stub::start(vec![Reply::Answer(
        200,
        r#"{"total": 5, "contrats": [], "summary": {"same": 2, "added": 2, "updated": 1, "removed": 1}}"#,
    )]);
    let run = push(&stub, &data("current.json"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "synced 5 contracts; the server holds 5\nsame 2, added 2, updated 1, removed 1\n"
    );
    let received = stub.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.request_line, "POST /api/sync/v2/contrats HTTP/1.1");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.body,
        std::fs::read(crate::data_path("current.json")).unwrap()
    );
}

#[test]
fn a_byte_order_mark_is_not_sent_on() {
    let answer = r#"{"total": 3, "contrats": [], "summary": {"same": 0, "added": 3, "updated": 0, "removed": 0}}"#;
    let stub = Stub::start(vec![Reply::Answer(200, answer)]);
    let run = push(&stub, &data("with_bom.json"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let received = stub.received();
    let with_bom = std::fs::read(crate::data_path("with_bom.json")).unwrap();
    assert_eq!(&with_bom[..3], b"\xef\xbb\xbf");
    assert_eq!(received[0].body, with_bom[3..]);
}

#[test]
fn a_dry_run_posts_to_contrats_diff_and_prints_the_four_counts() {
    let stub = Stub::start(vec![Reply::Answer(
        200,
        r#"{"same": [{"codeContrat": "A"}, {"codeContrat": "B"}], "added": [{}], "updated": [], "removed": [{}, {}, {}]}"#,
    )]);
    // The token from the environment this time.
    let args = ["push", &data("valid.json"), "--url", &stub.url, "--dry-run"];
    let run = sync_cli_with(&args, &[("SYNC_TOKEN", TOKEN)]);
    assert_no_token(&run);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "dry run, nothing changed: same 2, added 1, updated 0, removed 3\n"
    );
    let received = stub.received();
    assert_eq!(
        received[0].request_line,
        "POST /api/sync/v1/contrats-diff HTTP/1.1"
    );
    assert_eq!(
        received[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[test]
fn a_422_is_shown_readably_and_not_retried() {
    let stub = Stub::start(vec![
        Reply::Answer(
            422,
            r#"{"error": {"code": "validation_failed", "message": "the payload has 1 error", "details": [
                {"index": 1, "codeContrat": "CT-0002", "field": "emailApprenant", "code": "email_conflict",
                 "message": "email x@y.org is already bound to user code APP-9"}]}}"#,
        ),
        Reply::Answer(200, "{}"),
    ]);
    let run = push(&stub, &data("valid.json"), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(lines[0].contains("answered 422"), "{}", run.stderr);
    assert_eq!(lines[1], "  validation_failed: the payload has 1 error");
    assert_eq!(
        lines[2],
        "  #1 CT-0002 emailApprenant: email_conflict: email x@y.org is already bound to user code APP-9"
    );
    assert_eq!(stub.received().len(), 1);
}

#[test]
fn a_5xx_is_retried_then_succeeds() {
    let stub = Stub::start(vec![
        Reply::Answer(
            503,
            r#"{"error": {"code": "unavailable", "message": "busy"}}"#,
        ),
        Reply::Answer(500, "oops"),
        Reply::Answer(200, r#"{"total": 3, "contrats": []}"#),
    ]);
    let run = push(&stub, &data("valid.json"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "synced 3 contracts; the server holds 3\n");
    assert_eq!(run.stderr.matches("retrying").count(), 2, "{}", run.stderr);
    assert_eq!(stub.received().len(), 3);
}

#[test]
fn a_5xx_that_lasts_is_shown_after_the_retries() {
    let body = r#"{"error": {"code": "internal", "message": "database is locked"}}"#;
    let stub = Stub::start((0..3).map(|_| Reply::Answer(500, body)).collect());
    let run = push(&stub, &data("valid.json"), &["--retries", "2"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("answered 500"), "{}", run.stderr);
    assert!(
        run.stderr.contains("internal: database is locked"),
        "{}",
        run.stderr
    );
    assert_eq!(stub.received().len(), 3);
}

#[test]
fn a_dropped_connection_is_retried_then_reported_clearly() {
    let stub = Stub::start((0..4).map(|_| Reply::Drop).collect());
    let run = push(&stub, &data("valid.json"), &["--retries", "3"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.matches("retrying").count(), 3, "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "error: cannot reach {}/api/sync/v2/contrats: ",
            stub.url
        )),
        "{last}"
    );
    assert!(last.ends_with("(4 attempts)"), "{last}");
    assert_eq!(stub.received().len(), 4);
}

#[test]
fn a_dropped_connection_then_an_answer_succeeds() {
    let stub = Stub::start(vec![
        Reply::Drop,
        Reply::Answer(200, r#"{"total": 3, "contrats": []}"#),
    ]);
    let run = push(&stub, &data("valid.json"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(stub.received().len(), 2);
}

#[test]
fn an_invalid_file_is_refused_before_sending() {
    let stub = Stub::start(vec![Reply::Answer(200, "{}")]);
    let run = push(&stub, &data("problems.json"), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("email_conflict"), "{}", run.stdout);
    assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
    assert!(stub.received().is_empty());
}

#[test]
fn without_a_token_or_a_server_push_exits_with_2() {
    let run = sync_cli(&["push", &data("valid.json"), "--url", "http://127.0.0.1:9"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--token"), "{}", run.stderr);

    // Nothing listens on a port just released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let args = [
        "push",
        &data("valid.json"),
        "--url",
        &url,
        "--token",
        TOKEN,
        "--retries",
        "1",
        "--retry-delay",
        "1",
    ];
    let run = sync_cli(&args);
    assert_no_token(&run);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
}
