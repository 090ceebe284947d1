//! A TCP proxy on a loopback port that a test can cut, and that can hold the request carrying a
//! given text (a JSON-RPC method name) until the test lets it through or drops it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// What the proxy does with new connections and held requests.
#[derive(Debug, Default)]
struct State {
    /// Close every connection at once (callers see a reset or an empty answer).
    cut: bool,
    /// Hold the request whose bytes contain this, after letting `skip` such requests through.
    hold: Option<(Vec<u8>, usize)>,
    /// How many requests were held so far.
    held: usize,
}

/// What a held request becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// Still held.
    Wait,
    /// Sent on to the server.
    Forward,
    /// Dropped with its connection.
    Drop,
}

/// A running proxy to one upstream address.
#[derive(Debug, Clone)]
pub(crate) struct Proxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    release: watch::Sender<Release>,
}

impl Proxy {
    /// A proxy on 127.0.0.1, port 0, to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (release, _) = watch::channel(Release::Wait);
        let proxy = Self {
            addr: listener.local_addr().expect("addr"),
            state: Arc::default(),
            changed: Arc::default(),
            release,
        };
        let p = proxy.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let p = p.clone();
                tokio::spawn(async move { p.serve(client, upstream).await });
            }
        });
        proxy
    }

    /// Its address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts (or restores) the path: every connection, open or new, is closed while cut.
    pub(crate) fn cut(&self, cut: bool) {
        self.state.lock().unwrap().cut = cut;
        self.changed.notify_waiters();
    }

    /// Holds the request containing `text`, after letting `skip` of them through.
    pub(crate) fn hold(&self, text: &str, skip: usize) {
        self.state.lock().unwrap().hold = Some((text.as_bytes().to_vec(), skip));
        let _ = self.release.send(Release::Wait);
    }

    /// How many requests it has held.
    pub(crate) fn held(&self) -> usize {
        self.state.lock().unwrap().held
    }

    /// Lets the held request through, or drops it.
    pub(crate) fn release(&self, how: Release) {
        let _ = self.release.send(how);
    }

    fn is_cut(&self) -> bool {
        self.state.lock().unwrap().cut
    }

    /// Whether `bytes` is a request to hold (and counts it).
    fn to_hold(&self, bytes: &[u8]) -> bool {
        let mut state = self.state.lock().unwrap();
        let Some((text, skip)) = &mut state.hold else {
            return false;
        };
        if !bytes.windows(text.len()).any(|w| w == text.as_slice()) {
            return false;
        }
        if *skip > 0 {
            *skip -= 1;
            return false;
        }
        state.hold = None;
        state.held += 1;
        true
    }

    async fn serve(self, mut client: TcpStream, upstream: SocketAddr) {
        if self.is_cut() {
            return;
        }
        let Ok(mut server) = TcpStream::connect(upstream).await else {
            return;
        };
        let (mut cr, mut cw) = client.split();
        let (mut sr, mut sw) = server.split();
        let up = async {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if self.to_hold(&buf[..n]) {
                    let mut release = self.release.subscribe();
                    let how = loop {
                        let how = *release.borrow_and_update();
                        if how != Release::Wait {
                            break how;
                        }
                        if release.changed().await.is_err() {
                            return;
                        }
                    };
                    if how == Release::Drop {
                        return;
                    }
                }
                if sw.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        };
        let down = async {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match sr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if cw.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        };
        let cut = async {
            loop {
                let notified = self.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.is_cut() {
                    return;
                }
                notified.await;
            }
        };
        tokio::select! {
            () = up => {}
            () = down => {}
            () = cut => {}
        }
    }
}
