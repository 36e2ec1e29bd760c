//! Streams: entries ordered by ID (`ms-seq`), with the metadata Redis 7.0
//! keeps (last ID, entries ever added, the greatest deleted ID).
//!
//! Redis packs entries into listpack nodes of at most
//! `stream-node-max-entries`; approximate trimming (`MAXLEN ~`, `MINID ~`)
//! only drops whole nodes. netkit stores entries in one ordered map and
//! keeps the node boundaries alongside ([`Node`]), so `~` trims exactly as
//! much as Redis would.

use std::collections::{BTreeMap, VecDeque};

/// A stream entry ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// `ms-seq`.
    pub fn fmt(&self) -> String {
        format!("{}-{}", self.ms, self.seq)
    }

    /// 16 bytes, big-endian (sorts like the ID).
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// Back from [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(b: &[u8]) -> Option<StreamId> {
        let b: &[u8; 16] = b.try_into().ok()?;
        Some(StreamId {
            ms: u64::from_be_bytes(b[..8].try_into().ok()?),
            seq: u64::from_be_bytes(b[8..].try_into().ok()?),
        })
    }

    /// The next ID (None after MAX).
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId {
                ms: self.ms,
                seq: self.seq + 1,
            })
        } else if self.ms < u64::MAX {
            Some(StreamId {
                ms: self.ms + 1,
                seq: 0,
            })
        } else {
            None
        }
    }

    /// The previous ID (None before 0-0).
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId {
                ms: self.ms,
                seq: self.seq - 1,
            })
        } else if self.ms > 0 {
            Some(StreamId {
                ms: self.ms - 1,
                seq: u64::MAX,
            })
        } else {
            None
        }
    }
}

/// An entry's fields and values, alternating.
pub type Fields = Box<[Box<[u8]>]>;

/// One listpack node as Redis would have it: its first ID, entries ever
/// put in it, and those not deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// First ID inserted in the node.
    pub first: StreamId,
    /// Entries inserted.
    pub inserted: u32,
    /// Entries still present.
    pub live: u32,
}

/// A stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// The entries.
    pub entries: BTreeMap<StreamId, Fields>,
    /// Node boundaries, oldest first.
    pub nodes: VecDeque<Node>,
    /// The greatest ID ever added (or set by XSETID).
    pub last_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// The greatest ID deleted by XDEL (trims do not count, as in 7.0).
    pub max_deleted: StreamId,
    /// Consumer groups by name.
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

/// A delivered, not yet acknowledged entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The consumer it was delivered to.
    pub consumer: Box<[u8]>,
    /// Last delivery, Unix ms.
    pub time: u64,
    /// Deliveries so far.
    pub count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumer {
    /// Last seen, Unix ms.
    pub seen: u64,
    /// Its pending entries.
    pub pel: std::collections::BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// Last ID delivered.
    pub last_id: StreamId,
    /// Entries read (-1: unknown), for the lag.
    pub entries_read: i64,
    /// Pending entries of every consumer.
    pub pel: BTreeMap<StreamId, Pending>,
    /// Consumers by name.
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl Group {
    /// Set (or replace) the pending entry `id`, owned by `consumer`.
    pub fn set_pending(&mut self, id: StreamId, p: Pending) {
        if let Some(old) = self.pel.get(&id) {
            if let Some(c) = self.consumers.get_mut(&old.consumer) {
                c.pel.remove(&id);
            }
        }
        self.consumers
            .entry(p.consumer.clone())
            .or_default()
            .pel
            .insert(id);
        self.pel.insert(id, p);
    }

    /// Drop the pending entry `id`; returns it.
    pub fn ack(&mut self, id: StreamId) -> Option<Pending> {
        let p = self.pel.remove(&id)?;
        if let Some(c) = self.consumers.get_mut(&p.consumer) {
            c.pel.remove(&id);
        }
        Some(p)
    }
}

impl Stream {
    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: entries read
    /// for a group at `id`, or -1 when it cannot be known.
    pub fn entries_read_at(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if added == 0 {
            return 0;
        }
        if self.is_empty() && id <= self.last_id {
            return added;
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return added,
            std::cmp::Ordering::Greater => return -1,
            _ => {}
        }
        let first = self.first_id();
        if self.max_deleted == StreamId::default() || self.max_deleted < first {
            match id.cmp(&first) {
                std::cmp::Ordering::Less => return added - self.len() as i64,
                std::cmp::Ordering::Equal => return added - self.len() as i64 + 1,
                _ => {}
            }
        }
        -1
    }

    /// The lag of a group: entries not yet read, or None if unknown.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read >= 0 && !self.range_has_tombstones(g.last_id) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.entries_read_at(g.last_id);
        (read >= 0).then(|| self.entries_added as i64 - read)
    }

    /// Redis's `streamRangeHasTombstones` from `start` on.
    pub fn range_has_tombstones(&self, start: StreamId) -> bool {
        if self.is_empty() || self.max_deleted == StreamId::default() {
            return false;
        }
        start <= self.max_deleted && self.max_deleted >= self.first_id()
    }
}

impl Stream {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True without entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry's ID, or 0-0.
    pub fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or_default()
    }

    /// Append `id` (greater than every ID present) with `fields`, in a
    /// node of at most `node_max` entries.
    pub fn append(&mut self, id: StreamId, fields: Fields, node_max: u32) {
        match self.nodes.back_mut() {
            Some(n) if n.inserted < node_max.max(1) => {
                n.inserted += 1;
                n.live += 1;
            }
            _ => self.nodes.push_back(Node {
                first: id,
                inserted: 1,
                live: 1,
            }),
        }
        self.entries.insert(id, fields);
        if id > self.last_id {
            self.last_id = id;
        }
        self.entries_added += 1;
    }

    fn node_of(&self, id: StreamId) -> Option<usize> {
        let i = self.nodes.partition_point(|n| n.first <= id);
        i.checked_sub(1)
    }

    /// Remove `id`; its node goes once empty.
    pub fn remove(&mut self, id: StreamId) -> Option<Fields> {
        let f = self.entries.remove(&id)?;
        if let Some(i) = self.node_of(id) {
            let n = &mut self.nodes[i];
            n.live = n.live.saturating_sub(1);
            if n.live == 0 {
                self.nodes.remove(i);
            }
        }
        Some(f)
    }

    /// The IDs a trim would remove: by `maxlen` (keep that many) or by
    /// `minid` (drop IDs below it); `approx` drops whole nodes only, and at
    /// most `limit` entries (0: no limit).
    pub fn trim_ids(
        &self,
        maxlen: Option<u64>,
        minid: Option<StreamId>,
        approx: bool,
        limit: u64,
    ) -> Vec<StreamId> {
        let mut out = Vec::new();
        let mut len = self.len() as u64;
        if approx {
            for (i, n) in self.nodes.iter().enumerate() {
                let live = n.live as u64;
                if limit != 0 && out.len() as u64 + n.inserted as u64 > limit {
                    break;
                }
                let drop = match (maxlen, minid) {
                    (Some(m), _) => len - live >= m,
                    (None, Some(min)) => {
                        // Every entry of the node is below `min`.
                        let end = self.nodes.get(i + 1).map(|x| x.first);
                        let last = match end {
                            Some(e) => self.entries.range(..e).next_back(),
                            None => self.entries.iter().next_back(),
                        };
                        last.is_some_and(|(id, _)| *id < min)
                    }
                    _ => false,
                };
                if !drop {
                    break;
                }
                let range = match self.nodes.get(i + 1) {
                    Some(next) => self.entries.range(n.first..next.first),
                    None => self.entries.range(n.first..),
                };
                out.extend(range.map(|(id, _)| *id));
                len -= live;
            }
            return out;
        }
        for id in self.entries.keys() {
            let drop = match (maxlen, minid) {
                (Some(m), _) => len > m,
                (None, Some(min)) => *id < min,
                _ => false,
            };
            if !drop {
                break;
            }
            out.push(*id);
            len -= 1;
        }
        out
    }

    /// Rough heap bytes (entries, nodes, and each group's PEL and
    /// consumers: O(groups)).
    pub fn mem(&self) -> usize {
        let groups: usize = self
            .groups
            .values()
            .map(|g| 128 + g.pel.len() * 96 + g.consumers.len() * 64)
            .sum();
        self.entries.len() * 96 + self.nodes.len() * 24 + groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    #[test]
    fn approximate_trims_whole_nodes_like_redis() {
        let mut s = Stream::default();
        for i in 0..1000 {
            s.append(id(i, 0), Box::new([]), 100);
            let ids = s.trim_ids(Some(555), None, true, 10_000);
            for x in ids {
                s.remove(x);
            }
        }
        assert_eq!(s.len(), 600);
        let exact = s.trim_ids(Some(555), None, false, 0);
        assert_eq!(exact.len(), 45);
        assert_eq!(s.trim_ids(None, Some(id(950, 0)), false, 0).len(), 550);
    }

    #[test]
    fn ids_step_and_round_trip() {
        assert_eq!(id(1, u64::MAX).next(), Some(id(2, 0)));
        assert_eq!(id(2, 0).prev(), Some(id(1, u64::MAX)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::from_bytes(&id(7, 9).to_bytes()), Some(id(7, 9)));
    }
}
