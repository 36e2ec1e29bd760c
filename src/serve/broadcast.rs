//! One-to-many delivery with a bounded queue per client, so a client that
//! stops reading is dropped instead of stalling the others (`serve -k`
//! stdin broadcast, `--chat`).

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

/// A message for a client's writer thread.
#[derive(Debug, Clone)]
pub enum Msg {
    /// Bytes to send.
    Data(Arc<[u8]>),
    /// No more data will come: half-close.
    Close,
}

/// Subscribers by connection id.
pub struct Hub {
    inner: Mutex<HubState>,
    capacity: usize,
}

struct HubState {
    subs: HashMap<u64, SyncSender<Msg>>,
    closed: bool,
}

impl Hub {
    /// A hub whose clients may fall `capacity` messages behind before being dropped.
    pub fn new(capacity: usize) -> Self {
        Hub {
            inner: Mutex::new(HubState {
                subs: HashMap::new(),
                closed: false,
            }),
            capacity,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register client `id`; its writer drains the returned receiver.
    pub fn subscribe(&self, id: u64) -> Receiver<Msg> {
        let (tx, rx) = sync_channel(self.capacity);
        let mut st = self.state();
        if st.closed {
            let _ = tx.try_send(Msg::Close);
        } else {
            st.subs.insert(id, tx);
        }
        rx
    }

    /// Forget client `id`; its receiver disconnects once drained.
    pub fn unsubscribe(&self, id: u64) {
        self.state().subs.remove(&id);
    }

    /// Queue `data` for every client but `except`. Clients whose queue is full
    /// are dropped (their writer sees a disconnect) and returned.
    pub fn send(&self, data: Arc<[u8]>, except: Option<u64>) -> Vec<u64> {
        let mut st = self.state();
        let mut dropped = Vec::new();
        for (&id, tx) in &st.subs {
            if Some(id) == except {
                continue;
            }
            match tx.try_send(Msg::Data(data.clone())) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => dropped.push(id),
            }
        }
        for id in &dropped {
            st.subs.remove(id);
        }
        dropped
    }

    /// No more data: every client, present and future, is half-closed.
    pub fn close(&self) {
        let mut st = self.state();
        st.closed = true;
        for (_, tx) in st.subs.drain() {
            // A full queue still ends: dropping the sender disconnects it.
            let _ = tx.try_send(Msg::Close);
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

    #[test]
    fn slow_clients_are_dropped_and_others_served() {
        let hub = Hub::new(2);
        let fast = hub.subscribe(1);
        let _slow = hub.subscribe(2);
        let data: Arc<[u8]> = Arc::from(&b"x"[..]);
        for _ in 0..2 {
            assert!(hub.send(data.clone(), None).is_empty());
            assert!(matches!(fast.try_recv(), Ok(Msg::Data(_))));
        }
        assert_eq!(hub.send(data.clone(), None), vec![2]);
        assert_eq!(hub.len(), 1);
        assert!(matches!(fast.try_recv(), Ok(Msg::Data(_))));
    }

    #[test]
    fn except_skips_the_sender_and_close_reaches_late_subscribers() {
        let hub = Hub::new(4);
        let a = hub.subscribe(1);
        let b = hub.subscribe(2);
        hub.send(Arc::from(&b"hi"[..]), Some(1));
        assert!(a.try_recv().is_err());
        assert!(matches!(b.try_recv(), Ok(Msg::Data(d)) if &*d == b"hi"));
        hub.close();
        assert!(matches!(a.try_recv(), Ok(Msg::Close)));
        let late = hub.subscribe(3);
        assert!(matches!(late.try_recv(), Ok(Msg::Close)));
        assert!(hub.is_empty());
    }
}
