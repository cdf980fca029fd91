//! The accept loop: hyper's own connection builder rather than `axum::serve`, because the
//! console needs what `axum::serve` does not offer: a cap on open connections, and a time
//! limit on reading a request's headers (300 half-sent requests must not stay open forever).

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// What the accept loop enforces.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Connections open at once; further clients wait in the kernel's backlog.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (HTTP/1).
    pub header_read_timeout: Duration,
    /// Asked of the kernel on every accepted connection (`TCP_USER_TIMEOUT`): a client that
    /// leaves sent data unread this long is dropped.
    pub stalled_client: Duration,
}

/// Serves `router` on `listener` until `stop` resolves, then lets requests in flight finish.
pub async fn serve(listener: TcpListener, router: Router, limits: ServeLimits, stop: impl std::future::Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    tokio::pin!(stop);
    loop {
        // A permit first: at the cap, nothing more is accepted until a connection closes.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut stop => break,
        };
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        drop_when_stalled(&tcp, limits.stalled_client);
        let service = tower::ServiceExt::map_request(router.clone(), move |mut request: axum::http::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            request
        });
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(tcp), hyper_util::service::TowerToHyperService::new(service));
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %remote, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Requests in flight get a while to finish; event streams end on the shutdown flag.
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after 10 s of shutdown; closing them");
    }
}

/// Asks the kernel to close a connection whose peer leaves sent data unread for `limit`
/// (TCP_USER_TIMEOUT covers a shut receive window): a tab that stops reading its event stream
/// is dropped without holding a stream slot or slowing anyone else. Nodelay too: events and
/// small pages go out at once.
fn drop_when_stalled(tcp: &tokio::net::TcpStream, limit: Duration) {
    let _ = tcp.set_nodelay(true);
    if let Err(e) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(limit)) {
        tracing::warn!(error = %e, "cannot set TCP_USER_TIMEOUT; a stalled client keeps its connection");
    }
}
