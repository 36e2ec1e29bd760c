//! One-to-many delivery with a queue per client bounded in bytes, so a
//! client that stops reading costs at most its bound and is dropped instead
//! of stalling the others (`serve -k` stdin broadcast, `--chat`).
//!
//! The chunks are shared (`Arc`), so the bound is what one client may hold
//! back, not a copy per client. What happens when a queue is full is the
//! hub's `stall`: zero drops that client at once (chat); otherwise the sender
//! waits for room, and drops the client only once its queue has stayed full
//! for `stall` with nothing taken from it (the `-k` broadcast, so a client
//! that reads a little slower than stdin arrives paces it instead of losing
//! the stream).

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
    /// The client fell behind and was dropped: reset the connection.
    Dropped,
    /// The client was unsubscribed (its reader is done).
    Gone,
}

/// How a queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Close,
    Dropped,
    Gone,
}

#[derive(Debug)]
struct QueueState {
    items: VecDeque<Arc<[u8]>>,
    bytes: usize,
    end: Option<End>,
    last_taken: Instant,
}

#[derive(Debug)]
struct Queue {
    state: Mutex<QueueState>,
    changed: Condvar,
}

impl Queue {
    fn new() -> Queue {
        Queue {
            state: Mutex::new(QueueState {
                items: VecDeque::new(),
                bytes: 0,
                end: None,
                last_taken: Instant::now(),
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// End the queue; `Dropped` and `Gone` discard what is queued.
    fn finish(&self, end: End) {
        let mut st = self.lock();
        if st.end.is_none() {
            st.end = Some(end);
            if end != End::Close {
                st.items.clear();
                st.bytes = 0;
            }
        }
        self.changed.notify_all();
    }

    /// Queue `data`; false when the client had to be dropped for it.
    fn push(&self, data: &Arc<[u8]>, limit: usize, stall: Duration) -> bool {
        let mut st = self.lock();
        let waiting_since = Instant::now();
        loop {
            if st.end.is_some() {
                return true;
            }
            // One chunk is always accepted, however large, so progress is possible.
            if st.items.is_empty() || st.bytes + data.len() <= limit {
                st.bytes += data.len();
                st.items.push_back(data.clone());
                self.changed.notify_all();
                return true;
            }
            let deadline = st.last_taken.max(waiting_since) + stall;
            let now = Instant::now();
            if now >= deadline {
                drop(st);
                self.finish(End::Dropped);
                return false;
            }
            st = match self.changed.wait_timeout(st, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    fn pop(&self) -> Msg {
        let mut st = self.lock();
        loop {
            if let Some(d) = st.items.pop_front() {
                st.bytes -= d.len();
                st.last_taken = Instant::now();
                self.changed.notify_all();
                return Msg::Data(d);
            }
            match st.end {
                Some(End::Close) => return Msg::Close,
                Some(End::Dropped) => return Msg::Dropped,
                Some(End::Gone) => return Msg::Gone,
                None => {}
            }
            st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A client's end of its queue, drained by its writer.
#[derive(Debug)]
pub struct Subscription(Arc<Queue>);

impl Subscription {
    /// The next message, waiting for one.
    pub fn recv(&self) -> Msg {
        self.0.pop()
    }

    /// True once the hub dropped this client.
    pub fn is_dropped(&self) -> bool {
        self.0.lock().end == Some(End::Dropped)
    }
}

/// Subscribers by connection id.
pub struct Hub {
    inner: Mutex<HubState>,
    limit: usize,
    stall: Duration,
}

struct HubState {
    subs: HashMap<u64, Arc<Queue>>,
    closed: bool,
}

impl Hub {
    /// A hub whose clients may hold back `limit` bytes each; see the module
    /// documentation for `stall`.
    pub fn new(limit: usize, stall: Duration) -> Self {
        Hub {
            inner: Mutex::new(HubState {
                subs: HashMap::new(),
                closed: false,
            }),
            limit,
            stall,
        }
    }

    fn state(&self) -> MutexGuard<'_, HubState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register client `id`; its writer drains the returned subscription.
    pub fn subscribe(&self, id: u64) -> Subscription {
        let q = Arc::new(Queue::new());
        let mut st = self.state();
        if st.closed {
            q.finish(End::Close);
        } else {
            st.subs.insert(id, q.clone());
        }
        Subscription(q)
    }

    /// Forget client `id`; its writer gets `Msg::Gone` (queued data is discarded).
    pub fn unsubscribe(&self, id: u64) {
        if let Some(q) = self.state().subs.remove(&id) {
            q.finish(End::Gone);
        }
    }

    /// Queue `data` for every client but `except`, in order. Clients that
    /// had to be dropped (their writer gets `Msg::Dropped`) are returned.
    pub fn send(&self, data: Arc<[u8]>, except: Option<u64>) -> Vec<u64> {
        let targets: Vec<(u64, Arc<Queue>)> = self
            .state()
            .subs
            .iter()
            .filter(|(id, _)| Some(**id) != except)
            .map(|(id, q)| (*id, q.clone()))
            .collect();
        let dropped: Vec<u64> = targets
            .into_iter()
            .filter(|(_, q)| !q.push(&data, self.limit, self.stall))
            .map(|(id, _)| id)
            .collect();
        if !dropped.is_empty() {
            let mut st = self.state();
            for id in &dropped {
                st.subs.remove(id);
            }
        }
        dropped
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

    fn data(n: usize) -> Arc<[u8]> {
        Arc::from(vec![b'x'; n])
    }

    #[test]
    fn the_bound_is_in_bytes_and_a_full_queue_drops_at_once_without_stall() {
        let hub = Hub::new(100, Duration::ZERO);
        let fast = hub.subscribe(1);
        let slow = hub.subscribe(2);
        for _ in 0..3 {
            assert!(hub.send(data(30), None).is_empty());
            assert!(matches!(fast.recv(), Msg::Data(_)));
        }
        // 90 bytes queued for the slow one; 30 more would pass 100.
        assert_eq!(hub.send(data(30), None), vec![2]);
        assert!(matches!(slow.recv(), Msg::Dropped));
        assert!(slow.is_dropped());
        assert_eq!(hub.len(), 1);
        assert!(matches!(fast.recv(), Msg::Data(_)));
    }

    #[test]
    fn one_chunk_larger_than_the_bound_still_goes_through() {
        let hub = Hub::new(10, Duration::ZERO);
        let a = hub.subscribe(1);
        assert!(hub.send(data(1000), None).is_empty());
        assert!(matches!(a.recv(), Msg::Data(d) if d.len() == 1000));
    }

    #[test]
    fn a_reader_that_keeps_taking_paces_the_sender_instead_of_being_dropped() {
        let hub = Arc::new(Hub::new(64, Duration::from_secs(30)));
        let sub = hub.subscribe(1);
        let h = {
            let hub = hub.clone();
            thread::spawn(move || {
                for _ in 0..200 {
                    assert!(hub.send(data(32), None).is_empty(), "dropped a live reader");
                }
                hub.close();
            })
        };
        let mut got = 0;
        loop {
            match sub.recv() {
                Msg::Data(d) => got += d.len(),
                Msg::Close => break,
                m => panic!("unexpected {m:?}"),
            }
        }
        h.join().unwrap();
        assert_eq!(got, 200 * 32);
    }

    #[test]
    fn a_stalled_reader_is_dropped_after_the_stall() {
        let hub = Hub::new(64, Duration::from_millis(50));
        let stalled = hub.subscribe(1);
        assert!(hub.send(data(64), None).is_empty());
        assert_eq!(hub.send(data(1), None), vec![1]);
        assert!(matches!(stalled.recv(), Msg::Dropped));
    }

    #[test]
    fn except_skips_the_sender_and_close_reaches_late_subscribers() {
        let hub = Hub::new(1 << 20, Duration::ZERO);
        let a = hub.subscribe(1);
        let b = hub.subscribe(2);
        hub.send(Arc::from(&b"hi"[..]), Some(1));
        assert!(matches!(b.recv(), Msg::Data(d) if &*d == b"hi"));
        hub.close();
        assert!(matches!(a.recv(), Msg::Close));
        let late = hub.subscribe(3);
        assert!(matches!(late.recv(), Msg::Close));
        assert!(hub.is_empty());
    }

    #[test]
    fn unsubscribe_ends_the_writer() {
        let hub = Hub::new(1 << 20, Duration::ZERO);
        let a = hub.subscribe(1);
        hub.send(data(3), None);
        hub.unsubscribe(1);
        assert!(matches!(a.recv(), Msg::Gone));
        assert!(hub.send(data(3), None).is_empty());
    }
}
