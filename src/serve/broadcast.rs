//! One-to-many delivery with a bounded queue per client, so a client that
//! stops reading is dropped instead of stalling the others (`serve -k`
//! stdin broadcast, `--chat`).
//!
//! A queue is bounded by bytes and by time, not by a count of messages: a
//! burst of a thousand short lines is a few kilobytes and must not drop
//! anyone, while a client that has `max_bytes` waiting, or has left data
//! unread for `max_wait`, is not reading and is dropped. Sending never
//! waits for a client; the chunks are shared (`Arc`), so the bound is what
//! one client may hold back, not a copy per client. A producer that should
//! not outrun its clients (the `-k` stdin reader) paces itself with
//! `Hub::wait_for_room`, which waits only for clients that keep taking.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a client's writer gets next from its queue.
#[derive(Debug, Clone)]
pub enum Msg {
    /// Bytes to send.
    Data(Arc<[u8]>),
    /// No more data will come: half-close.
    Close,
    /// The client fell behind and was dropped: what it did not read is
    /// discarded; reset the connection.
    Dropped,
    /// The client was unsubscribed (its reader is done), and what was
    /// queued for it has been taken.
    Gone,
}

/// How far a client may fall behind before it is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes waiting for the client.
    pub max_bytes: usize,
    /// How long data may wait for it.
    pub max_wait: Duration,
}

/// How a queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Close,
    Dropped,
    Gone,
}

impl End {
    fn msg(self) -> Msg {
        match self {
            End::Close => Msg::Close,
            End::Dropped => Msg::Dropped,
            End::Gone => Msg::Gone,
        }
    }
}

/// Bumped whenever a queue makes room, so a pacing producer wakes up.
#[derive(Default)]
struct Room {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Room {
    fn bump(&self) {
        *self.generation.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.changed.notify_all();
    }
}

struct QueueState {
    items: VecDeque<(Instant, Arc<[u8]>)>,
    bytes: usize,
    end: Option<End>,
    /// When the writer last took a chunk (or subscribed).
    taken_at: Instant,
    /// When the chunk the writer took last was queued.
    taken_queued_at: Option<Instant>,
}

struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    room: Arc<Room>,
}

impl Queue {
    fn new(room: Arc<Room>) -> Queue {
        Queue {
            state: Mutex::new(QueueState {
                items: VecDeque::new(),
                bytes: 0,
                end: None,
                taken_at: Instant::now(),
                taken_queued_at: None,
            }),
            ready: Condvar::new(),
            room,
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// End the queue (the first end wins); `Dropped` discards what is queued.
    fn finish(&self, end: End) {
        let mut st = self.lock();
        if st.end.is_none() {
            st.end = Some(end);
            if end == End::Dropped {
                st.items.clear();
                st.bytes = 0;
            }
        }
        drop(st);
        self.ready.notify_all();
        self.room.bump();
    }

    /// The next message, if one is ready.
    fn take(&self, st: &mut QueueState) -> Option<Msg> {
        if let Some((at, d)) = st.items.pop_front() {
            st.bytes -= d.len();
            st.taken_at = Instant::now();
            st.taken_queued_at = Some(at);
            self.room.bump();
            return Some(Msg::Data(d));
        }
        st.end.map(End::msg)
    }
}

/// A client's end of its queue, drained by its writer.
pub struct Subscription {
    queue: Arc<Queue>,
    max_wait: Duration,
}

impl Subscription {
    /// The next message, waiting for one.
    pub fn recv(&self) -> Msg {
        let mut st = self.queue.lock();
        loop {
            if let Some(m) = self.queue.take(&mut st) {
                return m;
            }
            st = self.queue.ready.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The next message if one is ready, without waiting.
    pub fn try_recv(&self) -> Option<Msg> {
        let mut st = self.queue.lock();
        self.queue.take(&mut st)
    }

    /// For a writer whose write of the last chunk it took is not done yet:
    /// false once the client was dropped, or is dropped now because that
    /// chunk has waited longer than the time bound (so the bound holds even
    /// when nothing more is sent).
    pub fn still_wanted(&self, now: Instant) -> bool {
        let st = self.queue.lock();
        match st.end {
            Some(End::Dropped) => false,
            _ if st
                .taken_queued_at
                .is_some_and(|t| now.saturating_duration_since(t) > self.max_wait) =>
            {
                drop(st);
                self.queue.finish(End::Dropped);
                false
            }
            _ => true,
        }
    }
}

/// Subscribers by connection id.
pub struct Hub {
    inner: Mutex<HubState>,
    limits: Limits,
    room: Arc<Room>,
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
            room: Arc::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, HubState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register client `id`; its writer drains the returned subscription.
    pub fn subscribe(&self, id: u64) -> Subscription {
        let queue = Arc::new(Queue::new(self.room.clone()));
        let mut st = self.state();
        if st.closed {
            queue.finish(End::Close);
        } else {
            st.subs.insert(id, queue.clone());
        }
        drop(st);
        self.room.bump();
        Subscription {
            queue,
            max_wait: self.limits.max_wait,
        }
    }

    /// Forget client `id`; its writer gets what is queued, then `Msg::Gone`.
    pub fn unsubscribe(&self, id: u64) {
        let q = self.state().subs.remove(&id);
        if let Some(q) = q {
            q.finish(End::Gone);
        }
    }

    /// Queue `data` for every client but `except`; never waits. Clients too
    /// far behind are dropped (their writer gets `Msg::Dropped`) and
    /// returned; one its writer already dropped leaves silently.
    pub fn send(&self, data: Arc<[u8]>, except: Option<u64>) -> Vec<u64> {
        self.send_at(data, except, Instant::now())
    }

    /// `send`, as if it were `now`.
    pub fn send_at(&self, data: Arc<[u8]>, except: Option<u64>, now: Instant) -> Vec<u64> {
        let mut st = self.state();
        let mut dropped = Vec::new();
        let mut gone = Vec::new();
        for (&id, q) in &st.subs {
            if Some(id) == except {
                continue;
            }
            let mut qs = q.lock();
            if qs.end.is_some() {
                gone.push(id);
                continue;
            }
            let stale = qs
                .items
                .front()
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) > self.limits.max_wait);
            if stale || qs.bytes + data.len() > self.limits.max_bytes {
                drop(qs);
                q.finish(End::Dropped);
                dropped.push(id);
                continue;
            }
            qs.bytes += data.len();
            qs.items.push_back((now, data.clone()));
            drop(qs);
            q.ready.notify_one();
        }
        for id in dropped.iter().chain(&gone) {
            st.subs.remove(id);
        }
        dropped
    }

    /// Wait until every client has at most `low` bytes waiting, or has
    /// taken nothing for `stuck` (it is not waited for: it is dropped by the
    /// bounds as sending goes on). A producer paced this way does not outrun
    /// clients that read, and waits for one that stopped at most `stuck`.
    pub fn wait_for_room(&self, low: usize, stuck: Duration) {
        loop {
            let seen = *self
                .room
                .generation
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let waiting_for = {
                let st = self.state();
                st.subs
                    .values()
                    .filter_map(|q| {
                        let qs = q.lock();
                        let taking = now.saturating_duration_since(qs.taken_at) < stuck;
                        (qs.end.is_none() && qs.bytes > low && taking)
                            .then(|| stuck - now.saturating_duration_since(qs.taken_at))
                    })
                    .min()
            };
            let Some(at_most) = waiting_for else { return };
            let g = self
                .room
                .generation
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if *g == seen {
                let _ = self.room.changed.wait_timeout(g, at_most);
            }
        }
    }

    /// No more data: every client, present and future, gets what is queued,
    /// then `Msg::Close`.
    pub fn close(&self) {
        let mut st = self.state();
        st.closed = true;
        for (_, q) in st.subs.drain() {
            q.finish(End::Close);
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
    use std::thread;

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
        assert!(matches!(slow.recv(), Msg::Dropped));
    }

    #[test]
    fn a_client_that_leaves_data_unread_too_long_is_dropped() {
        let hub = Hub::new(Limits {
            max_bytes: 1 << 20,
            ..LIMITS
        });
        let t0 = Instant::now();
        let reader = hub.subscribe(1);
        let stuck = hub.subscribe(2);
        assert!(hub.send_at(data(b"hi"), None, t0).is_empty());
        assert!(reader.try_recv().is_some());
        let later = t0 + Duration::from_secs(31);
        assert_eq!(hub.send_at(data(b"again"), None, later), vec![2]);
        assert!(matches!(reader.try_recv(), Some(Msg::Data(d)) if &*d == b"again"));
        assert!(matches!(stuck.recv(), Msg::Dropped));
    }

    #[test]
    fn a_writer_stuck_on_a_chunk_past_the_time_bound_drops_its_client() {
        let hub = Hub::new(LIMITS);
        let t0 = Instant::now();
        let stuck = hub.subscribe(1);
        assert!(hub.send_at(data(b"hi"), None, t0).is_empty());
        assert!(matches!(stuck.recv(), Msg::Data(_)));
        assert!(stuck.still_wanted(t0 + Duration::from_secs(29)));
        assert!(!stuck.still_wanted(t0 + Duration::from_secs(31)));
        assert!(matches!(stuck.recv(), Msg::Dropped));
        // It leaves the hub without being reported again.
        assert!(hub.send(data(b"x"), None).is_empty());
        assert!(hub.is_empty());
    }

    #[test]
    fn the_producer_waits_for_clients_that_take_and_not_for_one_that_stopped() {
        let hub = Arc::new(Hub::new(Limits {
            max_bytes: 64,
            ..LIMITS
        }));
        let slow = hub.subscribe(1);
        let _stopped = hub.subscribe(2);
        let producer = {
            let hub = hub.clone();
            thread::spawn(move || {
                let mut dropped = Vec::new();
                for _ in 0..100 {
                    hub.wait_for_room(16, Duration::from_secs(1));
                    dropped.extend(hub.send(data(&[7; 8]), None));
                }
                hub.close();
                dropped
            })
        };
        let mut got = 0;
        loop {
            match slow.recv() {
                Msg::Data(d) => got += d.len(),
                Msg::Close => break,
                m => panic!("unexpected {m:?}"),
            }
            // Slower than the producer, but taking: it paces the producer.
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(got, 800, "the slow reader lost bytes");
        assert_eq!(producer.join().unwrap(), vec![2]);
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
        assert!(matches!(a.recv(), Msg::Close));
        let late = hub.subscribe(3);
        assert!(matches!(late.recv(), Msg::Close));
        assert!(hub.is_empty());
    }

    #[test]
    fn unsubscribing_ends_the_writer_after_what_is_queued() {
        let hub = Hub::new(LIMITS);
        let a = hub.subscribe(1);
        hub.send(data(b"last"), None);
        hub.unsubscribe(1);
        assert!(matches!(a.recv(), Msg::Data(d) if &*d == b"last"));
        assert!(matches!(a.recv(), Msg::Gone));
    }
}
