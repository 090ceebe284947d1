//! Serving the receiver's router with the bounds `axum::serve` lacks: at most
//! `max_connections` connections at once (beyond, the accept loop waits and callers queue in
//! the kernel's backlog, made long enough for a flood), a timeout on each request's head (which also closes idle kept-alive
//! connections) and a small bound on a head's size, from hyper's HTTP/1 server. Each request
//! carries its caller's address (`ConnectInfo`), by which logins are throttled.

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The most bytes hyper buffers for one connection: a request's head must fit (MTS's are
/// well under 2 KiB).
const MAX_BUFFER_BYTES: usize = 16 * 1024;

/// The listen backlog asked for (the kernel caps it at `net.core.somaxconn`, 4,096 on current
/// Linux). The usual 128 overflows when hundreds of callers connect at once, and a caller whose
/// connection finds it full waits a second for its SYN to be sent again.
const BACKLOG: u32 = 4096;

/// A listener on `addr` with a backlog long enough for a flood of connections.
pub(crate) fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Bounds on connections.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionLimits {
    /// Connections served at once (default 512).
    pub(crate) max_connections: usize,
    /// The longest a request's head may take to arrive, counted from the end of the previous
    /// request on a kept-alive connection (default 10 s).
    pub(crate) header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `app` on `listener` until the process ends.
pub(crate) async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_BUFFER_BYTES);
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, or a connection reset before it was accepted: wait a
                // little rather than spin, as axum::serve does.
                errln!("callback_server: accepting a connection failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
        tokio::spawn(async move {
            // A connection ends in an error when its caller goes away or its head times out:
            // nothing to do either way.
            let _ = connection.await;
            drop(permit);
        });
    }
}
