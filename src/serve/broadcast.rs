//! One-to-many delivery with a bounded queue per client, so a client that
//! stops reading is dropped instead of stalling the others (`serve -k`
//! stdin broadcast, `--chat`).
//!
//! A queue is bounded by bytes and by time, not by a count of messages: a
//! burst of a thousand short lines is a few kilobytes and must not drop
//! anyone, while a client that has left a message unread for `max_wait`,
//! or has `max_bytes` waiting, is not reading and is dropped.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A message for a client's writer thread.
#[derive(Debug, Clone)]
pub enum Msg {
    /// Bytes to send.
    Data(Arc<[u8]>),
    /// No more data will come: half-close.
    Close,
}

/// How far a client may fall behind before it is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes waiting for the client.
    pub max_bytes: usize,
    /// How long its oldest waiting message may wait.
    pub max_wait: Duration,
}

/// The writer's side was dropped or closed: nothing more will come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

#[derive(Default)]
struct QueueState {
    msgs: VecDeque<(Instant, Msg)>,
    bytes: usize,
    /// No more messages will be pushed (dropped, unsubscribed or closed).
    ended: bool,
}

#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn end(&self) {
        self.lock().ended = true;
        self.ready.notify_all();
    }
}

/// A client's end of its queue, drained by its writer thread.
pub struct Subscription {
    queue: Arc<Queue>,
}

impl Subscription {
    /// The next message, waiting for one; `Err` once the queue has ended
    /// and is empty (the client was dropped or unsubscribed).
    pub fn recv(&self) -> Result<Msg, Gone> {
        let mut st = self.queue.lock();
        loop {
            if let Some((_, m)) = st.msgs.pop_front() {
                if let Msg::Data(d) = &m {
                    st.bytes -= d.len();
                }
                return Ok(m);
            }
            if st.ended {
                return Err(Gone);
            }
            st = self.queue.ready.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The next message if one is waiting, without blocking.
    pub fn try_recv(&self) -> Option<Msg> {
        let mut st = self.queue.lock();
        let (_, m) = st.msgs.pop_front()?;
        if let Msg::Data(d) = &m {
            st.bytes -= d.len();
        }
        Some(m)
    }
}

/// Subscribers by connection id.
pub struct Hub {
    inner: Mutex<HubState>,
    limits: Limits,
}

struct HubState {
    subs: HashMap<u64, Arc<Queue>>,
    closed: bool,
}

impl Hub {
    /// A hub whose clients are dropped past `limits`.
    pub fn new(limits: Limits) -> Self {
        Hub {
            inner: Mutex::new(HubState {
                subs: HashMap::new(),
                closed: false,
            }),
            limits,
        }
    }

    fn state(&self) -> MutexGuard<'_, HubState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register client `id`; its writer drains the returned subscription.
    pub fn subscribe(&self, id: u64) -> Subscription {
        let queue = Arc::new(Queue::default());
        let mut st = self.state();
        if st.closed {
            let mut q = queue.lock();
            q.msgs.push_back((Instant::now(), Msg::Close));
            q.ended = true;
        } else {
            st.subs.insert(id, queue.clone());
        }
        Subscription { queue }
    }

    /// Forget client `id`; its subscription ends once drained.
    pub fn unsubscribe(&self, id: u64) {
        if let Some(q) = self.state().subs.remove(&id) {
            q.end();
        }
    }

    /// Queue `data` for every client but `except`. Clients that are too far
    /// behind are dropped (their subscription ends without what they did
    /// not read) and returned.
    pub fn send(&self, data: Arc<[u8]>, except: Option<u64>) -> Vec<u64> {
        self.send_at(data, except, Instant::now())
    }

    /// `send`, as if it were `now`.
    pub fn send_at(&self, data: Arc<[u8]>, except: Option<u64>, now: Instant) -> Vec<u64> {
        let mut st = self.state();
        let mut dropped = Vec::new();
        for (&id, q) in &st.subs {
            if Some(id) == except {
                continue;
            }
            let mut qs = q.lock();
            let stale = qs
                .msgs
                .front()
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) > self.limits.max_wait);
            if qs.ended || stale || qs.bytes + data.len() > self.limits.max_bytes {
                // Dropped: what it did not read is discarded.
                qs.msgs.clear();
                qs.bytes = 0;
                qs.ended = true;
                drop(qs);
                q.ready.notify_all();
                dropped.push(id);
                continue;
            }
            qs.bytes += data.len();
            qs.msgs.push_back((now, Msg::Data(data.clone())));
            drop(qs);
            q.ready.notify_one();
        }
        for id in &dropped {
            st.subs.remove(id);
        }
        dropped
    }

    /// No more data: every client, present and future, is half-closed once
    /// it has read what is queued.
    pub fn close(&self) {
        let mut st = self.state();
        st.closed = true;
        for (_, q) in st.subs.drain() {
            let mut qs = q.lock();
            qs.msgs.push_back((Instant::now(), Msg::Close));
            qs.ended = true;
            drop(qs);
            q.ready.notify_all();
        }
    }

    /// Number of clients.
    pub fn len(&self) -> usize {
        self.state().subs.len()
    }

    /// True when no client is subscribed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_bytes: 10,
        max_wait: Duration::from_secs(30),
    };

    fn data(s: &[u8]) -> Arc<[u8]> {
        Arc::from(s)
    }

    #[test]
    fn many_small_messages_fit_a_byte_bound() {
        let hub = Hub::new(Limits {
            max_bytes: 2048,
            ..LIMITS
        });
        let reader = hub.subscribe(1);
        for _ in 0..1000 {
            assert!(hub.send(data(b"a\n"), None).is_empty());
        }
        for _ in 0..1000 {
            assert!(matches!(reader.try_recv(), Some(Msg::Data(d)) if &*d == b"a\n"));
        }
        assert!(reader.try_recv().is_none());
    }

    #[test]
    fn a_client_past_the_byte_bound_is_dropped_and_others_served() {
        let hub = Hub::new(LIMITS);
        let fast = hub.subscribe(1);
        let slow = hub.subscribe(2);
        for _ in 0..2 {
            assert!(hub.send(data(b"12345"), None).is_empty());
            assert!(matches!(fast.try_recv(), Some(Msg::Data(_))));
        }
        assert_eq!(hub.send(data(b"x"), None), vec![2]);
        assert_eq!(hub.len(), 1);
        assert!(matches!(fast.try_recv(), Some(Msg::Data(_))));
        // The dropped client's queue ends at once, unread data discarded.
        assert_eq!(slow.recv().err(), Some(Gone));
    }

    #[test]
    fn a_client_that_leaves_a_message_unread_too_long_is_dropped() {
        let hub = Hub::new(Limits {
            max_bytes: 1 << 20,
            max_wait: Duration::from_secs(30),
        });
        let t0 = Instant::now();
        let reader = hub.subscribe(1);
        let stuck = hub.subscribe(2);
        assert!(hub.send_at(data(b"hi"), None, t0).is_empty());
        assert!(reader.try_recv().is_some());
        let later = t0 + Duration::from_secs(31);
        assert_eq!(hub.send_at(data(b"again"), None, later), vec![2]);
        assert!(matches!(reader.try_recv(), Some(Msg::Data(d)) if &*d == b"again"));
        assert_eq!(stuck.recv().err(), Some(Gone));
    }

    #[test]
    fn except_skips_the_sender_and_close_reaches_late_subscribers() {
        let hub = Hub::new(LIMITS);
        let a = hub.subscribe(1);
        let b = hub.subscribe(2);
        hub.send(data(b"hi"), Some(1));
        assert!(a.try_recv().is_none());
        assert!(matches!(b.try_recv(), Some(Msg::Data(d)) if &*d == b"hi"));
        hub.close();
        assert!(matches!(a.recv(), Ok(Msg::Close)));
        assert_eq!(a.recv().err(), Some(Gone));
        let late = hub.subscribe(3);
        assert!(matches!(late.recv(), Ok(Msg::Close)));
        assert!(hub.is_empty());
    }

    #[test]
    fn unsubscribing_ends_the_writer_after_what_is_queued() {
        let hub = Hub::new(LIMITS);
        let a = hub.subscribe(1);
        hub.send(data(b"last"), None);
        hub.unsubscribe(1);
        assert!(matches!(a.recv(), Ok(Msg::Data(d)) if &*d == b"last"));
        assert_eq!(a.recv().err(), Some(Gone));
    }
}
