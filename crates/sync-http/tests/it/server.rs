//! The real server (`sync_http::start` on 127.0.0.1:0) at its edges, over blocking sockets:
//! stalled requests answered 408 and closed after the read timeout, connections beyond the
//! cap waiting for a free one, and a stop that lets the request in flight finish but not a
//! stalled one hold it forever.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;
use sync_http::{ServeConfig, Server};
use tokio::runtime::Runtime;

use crate::{contracts, TOKEN_A};

/// A server in its own runtime; the test thread is the client.
struct Running {
    runtime: Runtime,
    server: Server,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// Starts the server with tenant `a` and `config`'s limits.
fn start(config: ServeConfig) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        store: sync_store::StoreLocation::Directory(dir.path().to_path_buf()),
        tokens: vec![("a".into(), TOKEN_A.into())],
        ..config
    };
    let runtime = Runtime::new().unwrap();
    let server = runtime
        .block_on(sync_http::start(config))
        .expect("server starts");
    let addr = server.addr();
    Running {
        runtime,
        server,
        addr,
        _dir: dir,
    }
}

impl Running {
    /// A connection that has sent `bytes`.
    fn connect(&self, bytes: &[u8]) -> TcpStream {
        let mut stream = TcpStream::connect(self.addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(bytes).unwrap();
        stream
    }

    fn stop(self) {
        self.runtime
            .block_on(self.server.stop())
            .expect("server stops");
    }
}

/// The head of a POST of a JSON body of `length` bytes to the contract sync, with `extra`
/// header lines.
fn sync_head(length: usize, extra: &str) -> String {
    format!(
        "POST /api/sync/v2/contrats HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {TOKEN_A}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
}

/// The header asking the server to say when its handler starts reading the body.
const EXPECT_CONTINUE: &str = "Expect: 100-continue\r\n";

/// Waits for `HTTP/1.1 100 Continue`: the request's handler is reading its body, the request
/// is in flight.
fn continue_received(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("100 Continue");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 100"), "{head:?}");
}

/// Everything the server sends until it closes the connection (at most 10 s of silence).
fn until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server did not close the connection: {e}"),
    }
    String::from_utf8(answer).expect("UTF-8 answer")
}

/// The status and the JSON body of an HTTP/1.1 answer (`Value::Null` without one).
fn status_and_body(answer: &str) -> (u16, Value) {
    let status = answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

/// Sends `GET /api/sync/v1/test` on `stream` (kept alive) and returns the status.
fn token_check(stream: &mut TcpStream) -> u16 {
    let request = format!(
        "GET /api/sync/v1/test HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {TOKEN_A}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    // The answer is small: read until its JSON body is complete.
    while !answer.ends_with(b"}") {
        let read = stream.read(&mut buffer).expect("an answer");
        assert!(read > 0, "closed before answering");
        answer.extend_from_slice(&buffer[..read]);
    }
    status_and_body(&String::from_utf8(answer).unwrap()).0
}

#[test]
fn stalled_requests_are_answered_408_and_closed() {
    let running = start(ServeConfig {
        read_timeout: Duration::from_millis(500),
        ..ServeConfig::default()
    });
    // Uploads that send their head and part of the body, then nothing.
    let mut uploads: Vec<TcpStream> = (0..5)
        .map(|_| running.connect(format!("{}[{{\"codeContrat\"", sync_head(1000, "")).as_bytes()))
        .collect();
    // A request that stalls in its headers.
    let mut head = running.connect(b"POST /api/sync/v2/contrats HTTP/1.1\r\nHost: te");
    // A connection that sends nothing: closed, with nothing to answer.
    let mut silent = running.connect(b"");
    for stream in uploads.iter_mut().chain([&mut head]) {
        let (status, body) = status_and_body(&until_closed(stream));
        assert_eq!(status, 408, "{body}");
        assert_eq!(body["error"]["code"], "request_timeout", "{body}");
    }
    assert_eq!(until_closed(&mut silent), "");
    // The server still answers.
    let mut fresh = running.connect(b"");
    assert_eq!(token_check(&mut fresh), 200);
    running.stop();
}

#[test]
fn a_slow_upload_that_keeps_sending_is_not_cut() {
    let running = start(ServeConfig {
        read_timeout: Duration::from_millis(1500),
        ..ServeConfig::default()
    });
    let body = serde_json::to_vec(&contracts(3, 1)).unwrap();
    let mut stream = running.connect(sync_head(body.len(), "Connection: close\r\n").as_bytes());
    // Four parts, 600 ms apart: longer than the read timeout in all, never idle that long.
    for part in body.chunks(body.len().div_ceil(4)) {
        std::thread::sleep(Duration::from_millis(600));
        stream.write_all(part).unwrap();
    }
    let (status, answer) = status_and_body(&until_closed(&mut stream));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["summary"]["added"], 3, "{answer}");
    running.stop();
}

#[test]
fn connections_beyond_the_cap_wait_for_a_free_one() {
    let running = start(ServeConfig {
        max_connections: 2,
        ..ServeConfig::default()
    });
    let mut first = running.connect(b"");
    let mut second = running.connect(b"");
    assert_eq!(token_check(&mut first), 200);
    assert_eq!(token_check(&mut second), 200);
    // A third connection is not served while the first two stay open...
    let mut third = running.connect(b"");
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let request = format!(
        "GET /api/sync/v1/test HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {TOKEN_A}\r\n\
         Connection: close\r\n\r\n"
    );
    third.write_all(request.as_bytes()).unwrap();
    let error = third.read(&mut [0; 64]).expect_err("no answer yet");
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{error}"
    );
    // ...and is once one of them closes.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (status, body) = status_and_body(&until_closed(&mut third));
    assert_eq!(status, 200, "{body}");
    assert_eq!(token_check(&mut second), 200);
    running.stop();
}

#[test]
fn stop_lets_the_request_in_flight_finish() {
    let running = start(ServeConfig::default());
    let body = serde_json::to_vec(&contracts(50, 2)).unwrap();
    let (start, rest) = body.split_at(body.len() / 2);
    let mut stream = running.connect(sync_head(body.len(), EXPECT_CONTINUE).as_bytes());
    continue_received(&mut stream);
    stream.write_all(start).unwrap();
    let Running {
        runtime,
        server,
        addr,
        _dir,
    } = running;
    let stopping = runtime.spawn(server.stop());
    // Stopping: new connections are refused...
    let refused = (0..500).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        TcpStream::connect(addr).is_err()
    });
    assert!(refused, "the server still accepts connections");
    // ...but the request in flight is received, applied and answered, and its connection
    // (kept alive otherwise) closed.
    stream.write_all(rest).unwrap();
    let (status, answer) = status_and_body(&until_closed(&mut stream));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["summary"]["added"], 50, "{answer}");
    runtime.block_on(stopping).unwrap().expect("server stops");
}

#[test]
fn stop_closes_a_stalled_connection_after_the_shutdown_timeout() {
    let running = start(ServeConfig {
        shutdown_timeout: Duration::from_millis(300),
        ..ServeConfig::default()
    });
    let mut stalled = running.connect(sync_head(1000, EXPECT_CONTINUE).as_bytes());
    continue_received(&mut stalled);
    stalled.write_all(b"[").unwrap();
    running.stop();
    // Closed without an answer: the request never arrived.
    assert_eq!(until_closed(&mut stalled), "");
}
