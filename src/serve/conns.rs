//! What the accept loop keeps about its connections: the live ones (so a
//! stop can wait for them, then close them, and the open-file budget can
//! wait for one to end) and the running totals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::log::Summary;
use crate::shutdown::Shutdown;
use crate::transport::Stream;

/// Live connections, so a stop can wait for them and then close them.
#[derive(Default)]
pub(super) struct Live {
    /// Set once the grace period is over and the rest are being cut.
    cutting: Arc<std::sync::atomic::AtomicBool>,
    streams: Mutex<HashMap<u64, Arc<Stream>>>,
    changed: Condvar,
}

impl Live {
    pub(super) fn insert(&self, id: u64, stream: Arc<Stream>) {
        lock(&self.streams).insert(id, stream);
    }

    pub(super) fn remove(&self, id: u64) {
        lock(&self.streams).remove(&id);
        self.changed.notify_all();
    }

    pub(super) fn len(&self) -> usize {
        lock(&self.streams).len()
    }

    /// Wait until no connection is live or `deadline` passes; true if none is left.
    pub(super) fn wait_empty(
        &self,
        deadline: Option<Instant>,
        shutdown: Option<&Shutdown>,
    ) -> bool {
        let mut guard = lock(&self.streams);
        loop {
            if guard.is_empty() {
                return true;
            }
            if shutdown.is_some_and(|s| s.is_triggered()) {
                return false;
            }
            let wait = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) => left.min(Duration::from_millis(100)),
                    None => return false,
                },
                None => Duration::from_millis(100),
            };
            guard = match self.changed.wait_timeout(guard, wait) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Wait until fewer than `n` connections are live, or a stop.
    pub(super) fn wait_below(&self, n: u64, shutdown: &Shutdown) {
        let mut guard = lock(&self.streams);
        while guard.len() as u64 >= n && !shutdown.is_triggered() {
            guard = match self.changed.wait_timeout(guard, Duration::from_millis(100)) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// True once the connections left at the end of `--grace` are cut.
    pub(super) fn cut(&self) -> bool {
        self.cutting.load(Ordering::Acquire)
    }

    /// The flag `cut` reads, for the readiness loops.
    pub(super) fn cut_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.cutting.clone()
    }

    pub(super) fn close_all(&self) {
        self.cutting.store(true, Ordering::Release);
        for s in lock(&self.streams).values() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A server's running totals.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections accepted and admitted so far.
    pub connections: AtomicU64,
    pub(super) rejected: AtomicU64,
    pub(super) bytes_in: AtomicU64,
    pub(super) bytes_out: AtomicU64,
}

impl Counters {
    /// The totals so far.
    pub fn summary(&self) -> Summary {
        Summary {
            connections: self.connections.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
        }
    }
}
