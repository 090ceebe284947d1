//! The self-hosted sink's receiver over HTTP (`callback.sink = "self_hosted"`): served by the
//! `omc` process at `callback.listen` with bounded connections, requests and read times.

#[allow(dead_code)] // the examples and tests that include it use other parts
pub(crate) mod router;
#[allow(dead_code)]
pub(crate) mod server;

use omc_core::receiver::CallbackReceiver;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Binds `listen` (port 0: a free one); the listener and the address bound.
pub(crate) fn bind(listen: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = server::listen(listen)?;
    let bound = listener.local_addr()?;
    Ok((listener, bound))
}

/// Serves `receiver` on `listener` until the process ends.
pub(crate) fn serve(receiver: Arc<CallbackReceiver>, listener: TcpListener) {
    let app = router::router_with(receiver, &router::RequestLimits::default());
    tokio::spawn(server::serve(
        listener,
        app,
        server::ConnectionLimits::default(),
    ));
}
