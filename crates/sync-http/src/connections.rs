//! The accept loop under [`crate::start`]: at most `max_connections` connections at once (the
//! next ones wait in the listen backlog), request headers read within the read timeout (408
//! when a request was started), and a graceful shutdown that stops accepting and lets the
//! connections in flight finish within the shutdown timeout.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::error::ApiError;

/// The limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Longest wait for a request's headers.
    pub read_timeout: Duration,
    /// Longest wait for the connections in flight once stopping.
    pub shutdown_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `stop` turns true (or its sender is dropped), then
/// waits for the connections in flight at most `limits.shutdown_timeout` and closes the
/// ones still open.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout);
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            _ = stopped(&mut stop) => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a little instead of spinning, never fail the server.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let connection = connection(
            builder.clone(),
            stream,
            router.clone(),
            limits.read_timeout,
            stop.clone(),
            permit,
        );
        connections.spawn(connection);
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let open = connections.len();
    if open > 0 {
        tracing::info!(connections = open, "waiting for the connections in flight");
    }
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "shutdown timeout: closing the connections still open"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

/// Resolves once `stop` turns true or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Serves one connection; on `stop`, finishes the request in flight and closes it.
async fn connection(
    builder: http1::Builder,
    stream: TcpStream,
    router: Router,
    read_timeout: Duration,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let shared = Arc::new(Shared {
        stream,
        request_started: AtomicBool::new(false),
    });
    let io = TokioIo::new(SharedStream(shared.clone()));
    let served = builder.serve_connection(io, TowerToHyperService::new(router));
    tokio::pin!(served);
    let mut stopping = false;
    let result = loop {
        tokio::select! {
            result = served.as_mut() => break result,
            _ = stopped(&mut stop), if !stopping => {
                stopping = true;
                served.as_mut().graceful_shutdown();
            }
        }
    };
    match result {
        Err(error) if error.is_timeout() => {
            if shared.request_started.load(Ordering::Relaxed) {
                tracing::info!(status = 408, "request headers not received in time");
                let (status, body) = ApiError::RequestTimeout(read_timeout).status_and_body();
                let body = body.to_string();
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                // A fresh socket buffer takes these few bytes at once; if not, the client
                // is gone or stalled and only the close matters.
                let _ = shared.stream.try_write(answer.as_bytes());
            }
        }
        Err(error) => tracing::debug!(%error, "connection closed with an error"),
        Ok(()) => {}
    }
}

/// A connection's stream, kept by its task too, so that a 408 can still be written once
/// hyper gives the connection up on a header timeout.
#[derive(Debug)]
struct Shared {
    stream: TcpStream,
    /// Whether bytes arrived since the last answer was written: a request has started.
    request_started: AtomicBool,
}

/// The stream as hyper reads and writes it.
#[derive(Debug)]
struct SharedStream(Arc<Shared>);

impl AsyncRead for SharedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.stream.poll_read_ready(cx))?;
            match self.0.stream.try_read(buf.initialize_unfilled()) {
                Ok(read) => {
                    if read > 0 {
                        self.0.request_started.store(true, Ordering::Relaxed);
                    }
                    buf.advance(read);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for SharedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.stream.poll_write_ready(cx))?;
            match self.0.stream.try_write(bytes) {
                Ok(written) => {
                    self.0.request_started.store(false, Ordering::Relaxed);
                    return Poll::Ready(Ok(written));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        parts: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.stream.poll_write_ready(cx))?;
            match self.0.stream.try_write_vectored(parts) {
                Ok(written) => {
                    self.0.request_started.store(false, Ordering::Relaxed);
                    return Poll::Ready(Ok(written));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// The socket is closed when the connection's task ends and drops it.
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
