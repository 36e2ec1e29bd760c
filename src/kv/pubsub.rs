//! Pub/sub: who is subscribed to what, server-wide, and the messages.
//!
//! Channels are keyspace-free: no database, no store lock. The registry maps
//! each channel (and each pattern, and each shard channel) to its
//! subscribers as (event loop, client id); a client's own view of its
//! subscriptions lives in its [`Session`](super::session::Session) as a
//! [`Subs`]. `PUBLISH` looks subscribers up under a read lock and queues one
//! [`PubMsg`] per subscriber in the round's outbox; after the round each loop
//! gets its share in one mailbox batch (one wakeup), and the owning loop
//! encodes the push for the subscriber's protocol (`*3` in RESP2, `>3` in
//! RESP3) and appends it to its output. A publisher never waits for a
//! subscriber: a slow one only grows its own output, which the pub/sub output
//! limit bounds (the loop disconnects it with a log line).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use super::glob::glob_match;
use super::reply::Out;

/// The three namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `SUBSCRIBE` / `PUBLISH`.
    Channel,
    /// `PSUBSCRIBE` (glob patterns over channel names).
    Pattern,
    /// `SSUBSCRIBE` / `SPUBLISH` (shard channels; one shard here).
    Shard,
}

impl Kind {
    /// The confirmation names: (subscribe, unsubscribe).
    pub fn verbs(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Kind::Channel => (b"subscribe", b"unsubscribe"),
            Kind::Pattern => (b"psubscribe", b"punsubscribe"),
            Kind::Shard => (b"ssubscribe", b"sunsubscribe"),
        }
    }
}

/// A client's subscriptions (its session keeps them).
#[derive(Debug, Clone, Default)]
pub struct Subs {
    /// Channels.
    pub channels: HashSet<Box<[u8]>>,
    /// Patterns.
    pub patterns: HashSet<Box<[u8]>>,
    /// Shard channels.
    pub shard: HashSet<Box<[u8]>>,
}

impl Subs {
    /// The set for `kind`.
    pub fn set(&self, kind: Kind) -> &HashSet<Box<[u8]>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    fn set_mut(&mut self, kind: Kind) -> &mut HashSet<Box<[u8]>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count a (un)subscribe confirmation carries: channels and
    /// patterns together, shard channels on their own (as Redis 7.0).
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    /// True while subscribed to anything (RESP2 subscribe mode).
    pub fn active(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }
}

/// A published message, shared by every subscriber it goes to.
#[derive(Debug)]
pub struct PubMsg {
    /// Which namespace it was published in (a pattern match: `Pattern`).
    pub kind: Kind,
    /// The pattern that matched (pattern messages only).
    pub pattern: Option<Box<[u8]>>,
    /// The channel.
    pub channel: Box<[u8]>,
    /// The payload.
    pub payload: Arc<[u8]>,
}

impl PubMsg {
    /// Encode it as a push for `out`'s protocol, if the subscriber (`subs`)
    /// still holds the subscription it was sent for.
    pub fn deliver(&self, subs: &Subs, out: &mut Out) -> bool {
        let key = self.pattern.as_deref().unwrap_or(&self.channel);
        if !subs.set(self.kind).contains(key) {
            return false; // unsubscribed while the message travelled
        }
        let start = out.buf.len();
        match &self.pattern {
            Some(p) => {
                out.push(4);
                out.bulk(b"pmessage");
                out.bulk(p);
            }
            None => {
                out.push(3);
                out.bulk(if self.kind == Kind::Shard {
                    b"smessage"
                } else {
                    b"message"
                });
            }
        }
        out.bulk(&self.channel);
        out.bulk(&self.payload);
        out.pushed(start);
        true
    }
}

/// A subscriber: its event loop and client id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sub {
    /// The owning event loop.
    pub worker: usize,
    /// The client.
    pub client: u64,
}

type Table = HashMap<Box<[u8]>, Vec<Sub>>;

/// Every subscription of every client.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: RwLock<Table>,
    patterns: RwLock<Table>,
    shard: RwLock<Table>,
    npatterns: AtomicUsize,
}

impl PubSub {
    fn table(&self, kind: Kind) -> &RwLock<Table> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    /// Subscribe `sub` (whose own set is `subs`) to `name`; returns the count
    /// for the confirmation.
    pub fn subscribe(&self, subs: &mut Subs, kind: Kind, name: &[u8], sub: Sub) -> usize {
        if subs.set_mut(kind).insert(name.into()) {
            if let Ok(mut t) = self.table(kind).write() {
                let v = t.entry(name.into()).or_default();
                if v.is_empty() && kind == Kind::Pattern {
                    self.npatterns.fetch_add(1, Ordering::Relaxed);
                }
                if !v.contains(&sub) {
                    v.push(sub);
                }
            }
        }
        subs.count(kind)
    }

    /// Unsubscribe from `name`; returns the count for the confirmation.
    pub fn unsubscribe(&self, subs: &mut Subs, kind: Kind, name: &[u8], client: u64) -> usize {
        if subs.set_mut(kind).remove(name) {
            self.forget(kind, name, client);
        }
        subs.count(kind)
    }

    fn forget(&self, kind: Kind, name: &[u8], client: u64) {
        if let Ok(mut t) = self.table(kind).write() {
            if let Some(v) = t.get_mut(name) {
                v.retain(|s| s.client != client);
                if v.is_empty() {
                    t.remove(name);
                    if kind == Kind::Pattern {
                        self.npatterns.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    /// Drop every subscription of a client that is leaving.
    pub fn forget_all(&self, subs: &Subs, client: u64) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for name in subs.set(kind) {
                self.forget(kind, name, client);
            }
        }
    }

    /// Find who receives `payload` on `channel`: calls `to` once per
    /// receiving subscription and returns how many there were.
    pub fn publish(
        &self,
        kind: Kind,
        channel: &[u8],
        payload: &[u8],
        mut to: impl FnMut(Sub, Arc<PubMsg>),
    ) -> usize {
        let mut n = 0;
        let mut shared_payload: Option<Arc<[u8]>> = None;
        let mut payload_arc = || {
            shared_payload
                .get_or_insert_with(|| Arc::from(payload))
                .clone()
        };
        if let Ok(t) = self.table(kind).read() {
            if let Some(v) = t.get(channel) {
                let m = Arc::new(PubMsg {
                    kind,
                    pattern: None,
                    channel: channel.into(),
                    payload: payload_arc(),
                });
                for s in v {
                    to(*s, m.clone());
                    n += 1;
                }
            }
        }
        if kind != Kind::Channel || self.npatterns.load(Ordering::Relaxed) == 0 {
            return n;
        }
        if let Ok(t) = self.patterns.read() {
            for (pat, v) in t.iter() {
                if !glob_match(pat, channel) {
                    continue;
                }
                let m = Arc::new(PubMsg {
                    kind: Kind::Pattern,
                    pattern: Some(pat.clone()),
                    channel: channel.into(),
                    payload: payload_arc(),
                });
                for s in v {
                    to(*s, m.clone());
                    n += 1;
                }
            }
        }
        n
    }

    /// Active channels of `kind` matching `pattern` (all when `None`).
    pub fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Box<[u8]>> {
        self.table(kind)
            .read()
            .map(|t| {
                t.keys()
                    .filter(|c| pattern.is_none_or(|p| glob_match(p, c)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Subscribers of `channel` (patterns not counted, as Redis).
    pub fn numsub(&self, kind: Kind, channel: &[u8]) -> usize {
        self.table(kind)
            .read()
            .map(|t| t.get(channel).map_or(0, Vec::len))
            .unwrap_or(0)
    }

    /// Distinct patterns subscribed to.
    pub fn numpat(&self) -> usize {
        self.npatterns.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_reaches_channels_and_patterns_once_each() {
        let ps = PubSub::default();
        let (mut a, mut b) = (Subs::default(), Subs::default());
        let sa = Sub {
            worker: 0,
            client: 1,
        };
        let sb = Sub {
            worker: 1,
            client: 2,
        };
        assert_eq!(ps.subscribe(&mut a, Kind::Channel, b"news", sa), 1);
        assert_eq!(ps.subscribe(&mut a, Kind::Channel, b"news", sa), 1);
        assert_eq!(ps.subscribe(&mut a, Kind::Pattern, b"n*", sa), 2);
        assert_eq!(ps.subscribe(&mut b, Kind::Pattern, b"n*", sb), 1);
        assert_eq!(ps.subscribe(&mut b, Kind::Shard, b"news", sb), 1);
        assert_eq!(ps.numpat(), 1);
        let mut got = Vec::new();
        let n = ps.publish(Kind::Channel, b"news", b"hi", |s, m| {
            got.push((s.client, m.pattern.is_some()))
        });
        assert_eq!(n, 3);
        got.sort();
        assert_eq!(got, vec![(1, false), (1, true), (2, true)]);
        assert_eq!(ps.publish(Kind::Shard, b"news", b"x", |_, _| {}), 1);
        assert_eq!(ps.numsub(Kind::Channel, b"news"), 1);
        assert_eq!(ps.unsubscribe(&mut a, Kind::Pattern, b"n*", 1), 1);
        assert_eq!(ps.numpat(), 1);
        ps.forget_all(&b, 2);
        assert_eq!(ps.numpat(), 0);
        assert!(ps.channels(Kind::Shard, None).is_empty());
        assert_eq!(ps.channels(Kind::Channel, Some(b"n?ws")).len(), 1);
    }

    #[test]
    fn a_push_is_encoded_per_protocol_and_dropped_after_unsubscribe() {
        let mut subs = Subs::default();
        subs.patterns.insert(b"c*".as_slice().into());
        let m = PubMsg {
            kind: Kind::Pattern,
            pattern: Some(b"c*".as_slice().into()),
            channel: b"ch".as_slice().into(),
            payload: Arc::from(b"x".as_slice()),
        };
        let mut out = Out::default();
        assert!(m.deliver(&subs, &mut out));
        assert_eq!(
            out.buf,
            b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nx\r\n"
        );
        let mut out3 = Out {
            resp3: true,
            ..Out::default()
        };
        assert!(m.deliver(&subs, &mut out3));
        assert!(out3.buf.starts_with(b">4\r\n"));
        subs.patterns.clear();
        assert!(!m.deliver(&subs, &mut out));
    }
}
