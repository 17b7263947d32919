//! The connections `serve` holds: how many, for how long, and which one gives way to a newcomer.
//!
//! All connections live as tasks on one thread, so an idle socket costs a few kilobytes, not a
//! thread. At most [`MAX_CONNECTIONS`] are open at once. When a new one arrives at the cap, the
//! oldest *idle* connection (one with no request in progress: a kept-alive socket waiting for its
//! next request, or a client that never finished sending one) is closed to make room, so a crowd
//! of idle or slow clients cannot lock out the browser. Only when every connection is busy (open
//! event streams, responses being written) is the newcomer turned away with a 503.
//!
//! Time limits, for clients that stall: a request head must arrive within [`HEAD_TIMEOUT`] (hyper
//! enforces it, also between requests on a kept-alive socket), and a response write that makes no
//! progress for [`WRITE_TIMEOUT`] closes the connection (a page that stops reading its event
//! stream).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Sleep;

/// Open connections, event streams included. A preview has a few tabs, each holding one event
/// stream and (over HTTP/1.1) up to six sockets.
pub const MAX_CONNECTIONS: usize = 128;
/// How long a client has to send a whole request head, counted from the first moment the server
/// waits for it (so this is also how long an idle kept-alive socket stays open).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a response write may make no progress before the connection is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(20);

/// The open connections, oldest first.
#[derive(Default)]
pub struct Registry {
    inner: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    by_age: BTreeMap<u64, Arc<Connection>>,
}

/// One open connection, as the registry and the connection's task share it.
pub struct Connection {
    id: u64,
    /// Requests whose response is not yet fully written.
    busy: AtomicUsize,
    /// Told to close when the connection is evicted.
    close: Notify,
}

/// What became of a newcomer.
pub enum Admission {
    /// Serve it; closing it later is signalled through the [`Connection`].
    Admitted(Arc<Connection>),
    /// At the cap with nothing idle to evict.
    Full,
}

impl Registry {
    /// Admits a new connection, evicting the oldest idle one when at `cap`.
    pub fn admit(&self, cap: usize) -> Admission {
        let mut open = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if open.by_age.len() >= cap {
            let idle = open
                .by_age
                .iter()
                .find(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
                .map(|(&id, _)| id);
            match idle {
                Some(id) => {
                    if let Some(evicted) = open.by_age.remove(&id) {
                        // `notify_one` keeps the wake-up if the task is not waiting yet.
                        evicted.close.notify_one();
                    }
                }
                None => return Admission::Full,
            }
        }
        let id = open.next_id;
        open.next_id += 1;
        let connection = Arc::new(Connection {
            id,
            busy: AtomicUsize::new(0),
            close: Notify::new(),
        });
        open.by_age.insert(id, Arc::clone(&connection));
        Admission::Admitted(connection)
    }

    /// Forgets a connection that has ended.
    pub fn release(&self, connection: &Connection) {
        let mut open = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        open.by_age.remove(&connection.id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().by_age.len()
    }
}

impl Connection {
    /// Marks a request in progress until the guard drops (with the response's body, once written).
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(self))
    }

    /// Resolves when the registry evicts this connection.
    pub async fn evicted(&self) {
        self.close.notified().await;
    }
}

/// A request in progress; see [`Connection::busy`].
pub struct Busy(Arc<Connection>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket whose writes fail with `TimedOut` after making no progress for a while.
pub struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<S> WriteDeadline<S> {
    pub fn new(inner: S, limit: Duration) -> Self {
        WriteDeadline {
            inner,
            limit,
            stalled: None,
        }
    }

    /// After the inner write returned `poll`: starts, checks or clears the stall timer.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(admission: Admission) -> Arc<Connection> {
        match admission {
            Admission::Admitted(c) => c,
            Admission::Full => panic!("turned away"),
        }
    }

    #[test]
    fn at_the_cap_the_oldest_idle_connection_gives_way() {
        let registry = Registry::default();
        let first = admitted(registry.admit(3));
        let _first_busy = first.busy();
        let second = admitted(registry.admit(3));
        let third = admitted(registry.admit(3));
        let _fourth = admitted(registry.admit(3));
        assert_eq!(registry.len(), 3);
        // The busy first one stays; the second, oldest idle one, is told to close.
        let open = registry.inner.lock().unwrap();
        assert!(open.by_age.contains_key(&first.id));
        assert!(!open.by_age.contains_key(&second.id));
        assert!(open.by_age.contains_key(&third.id));
    }

    /// A client that never reads: every write would block.
    struct Stalled;

    impl AsyncWrite for Stalled {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Pending
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn a_write_that_makes_no_progress_fails_with_timed_out() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let mut socket = WriteDeadline::new(Stalled, Duration::from_millis(10));
        let result = runtime.block_on(std::future::poll_fn(|cx| {
            Pin::new(&mut socket).poll_write(cx, b"event: update\n\n")
        }));
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn when_everything_is_busy_the_newcomer_is_turned_away() {
        let registry = Registry::default();
        let a = admitted(registry.admit(2));
        let b = admitted(registry.admit(2));
        let (_a, b_busy) = (a.busy(), b.busy());
        assert!(matches!(registry.admit(2), Admission::Full));
        drop(b_busy);
        assert!(matches!(registry.admit(2), Admission::Admitted(_)));
        registry.release(&a);
        assert_eq!(registry.len(), 1);
    }
}
