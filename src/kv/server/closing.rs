//! The end of a loop's round: flushing replies, closing clients (and
//! taking what they left out of the store), idle timeouts.

use std::sync::atomic::Ordering;
use std::time::Duration;

use mio::{Interest, Token};

use super::{Worker, lock_unless_busy};
use crate::kv::conn::{Conn, OUT_HIGH};
use crate::kv::store::Round;
use crate::log::ConnRecord;

/// A closed client's leftovers in the store: its watched keys (database,
/// key), whether it was parked in a blocking pop, whether it tracked keys.
pub(super) struct Left {
    id: u64,
    watched: Vec<(usize, Box<[u8]>)>,
    blocked: bool,
    tracking: bool,
}

/// Take closed clients out of the store's watch lists and wait queues.
pub(super) fn leave(round: &mut Round<'_>, left: &mut Vec<Left>) {
    for l in left.drain(..) {
        round.space().unwatch(l.id, &l.watched);
        if l.blocked {
            round.space().blocking.unblock(l.id);
        }
        if l.tracking {
            round.space().tracking.disable(l.id);
        }
    }
}

impl Worker<'_> {
    /// Flush output, close what must close, schedule what must come back.
    pub(super) fn finish(&mut self, ready: &mut Vec<usize>, again: &mut Vec<usize>) {
        let (limit, pubsub_limit) = self.sh.settings.read().map_or((0, 0), |s| {
            (s.output_limit as usize, s.pubsub_output_limit as usize)
        });
        for i in ready.drain(..) {
            let Some(Some(c)) = self.conns.get_mut(i) else {
                continue;
            };
            if c.sess.close {
                c.closing.get_or_insert_with(|| "QUIT".into());
            }
            if c.peer_closed && !c.more && (!c.has_input() || c.pending() < OUT_HIGH) {
                // Everything it sent before closing has been run.
                c.closing.get_or_insert_with(|| "closed by peer".into());
            }
            let limit = if c.sess.pubsub.active() {
                pubsub_limit
            } else {
                limit
            };
            if limit > 0 && c.pending() > limit {
                let why = format!(
                    "output buffer limit reached ({} bytes pending, limit {limit})",
                    c.pending()
                );
                self.sh
                    .stats
                    .output_disconnects
                    .fetch_add(1, Ordering::Relaxed);
                self.sh.cfg.log.event(
                    crate::log::Level::Quiet,
                    "dropped",
                    serde_json::json!({"peer": c.peer.to_string(), "client_id": c.sess.id, "reason": why}),
                    || format!("{}: closing client id={}: {why}", c.peer, c.sess.id),
                );
                c.out.buf.clear();
                c.out_pos = 0;
                self.close(i, &why);
                continue;
            }
            match c.flush() {
                Ok(true) => {
                    if let Some(why) = c.closing.take() {
                        self.close(i, &why);
                        continue;
                    }
                    if c.want_write {
                        // Drained: readable events only (no wakeup per ACK).
                        c.want_write = false;
                        let _ = self.poll.registry().reregister(
                            &mut c.stream,
                            Token(i),
                            Interest::READABLE,
                        );
                    }
                    if c.more || c.has_input() && complete_waiting(c) {
                        again.push(i);
                    }
                }
                Ok(false) => {
                    if !c.want_write {
                        c.want_write = true;
                        let _ = self.poll.registry().reregister(
                            &mut c.stream,
                            Token(i),
                            Interest::READABLE | Interest::WRITABLE,
                        );
                    }
                    if c.closing.is_none() && c.pending() < OUT_HIGH && (c.more || c.has_input()) {
                        again.push(i);
                    }
                }
                Err(e) => self.close(i, &format!("write error: {e}")),
            }
        }
    }

    pub(super) fn housekeep(&mut self, again: &mut Vec<usize>) {
        self.leave_store();
        if self.sh.fd_limited.load(Ordering::Relaxed) {
            self.accept_all();
        }
        let timeout = self.sh.settings.read().map_or(0, |s| s.timeout);
        if timeout == 0 {
            return;
        }
        let limit = Duration::from_secs(timeout);
        let idle: Vec<usize> = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.as_ref()
                    .filter(|c| c.last_active.elapsed() > limit)
                    .map(|_| i)
            })
            .collect();
        for i in idle {
            self.sh.stats.timeouts.fetch_add(1, Ordering::Relaxed);
            self.close(i, &format!("idle for more than {timeout}s (--timeout)"));
        }
        again.retain(|&i| matches!(self.conns.get(i), Some(Some(_))));
    }

    /// Take closed clients out of the store's watch lists and wait queues,
    /// unless a busy script holds it (then at the next round).
    pub(super) fn leave_store(&mut self) {
        if self.leave_later.is_empty() {
            return;
        }
        let sh = self.sh;
        let Some(l) = lock_unless_busy(sh) else {
            return;
        };
        let mut round = sh.store.round_locked(l, &mut self.batch);
        leave(&mut round, &mut self.leave_later);
        let _ = round.commit();
    }

    pub(super) fn close(&mut self, i: usize, why: &str) {
        let Some(mut c) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        let _ = c.flush();
        let _ = self.poll.registry().deregister(&mut c.stream);
        self.free.push(i);
        self.by_id.remove(&c.sess.id);
        self.sh.registry.remove(c.sess.id);
        self.sh.users.client_gone();
        self.sh.pubsub.forget_all(&c.sess.pubsub, c.sess.id);
        if c.sess.monitor {
            self.sh.monitors.remove(c.sess.id);
        }
        if let Some(d) = c.sess.blocked.and_then(|p| p.deadline) {
            self.deadlines.remove(&(d, c.sess.id));
        }
        if !c.sess.watched.is_empty() || c.sess.blocked.is_some() || c.sess.tracking {
            self.leave_later.push(Left {
                id: c.sess.id,
                watched: std::mem::take(&mut c.sess.watched),
                blocked: c.sess.blocked.is_some(),
                tracking: c.sess.tracking,
            });
            self.leave_store();
        }
        let st = &self.sh.stats;
        st.net_in.fetch_add(c.bytes_in, Ordering::Relaxed);
        st.net_out.fetch_add(c.bytes_out, Ordering::Relaxed);
        drop(c.stream);
        self.sh.wake_accept();
        self.sh.cfg.log.connection(&ConnRecord {
            peer: crate::transport::Peer::Inet(c.peer),
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            duration: c.started.elapsed(),
            end: why.to_string(),
        });
    }
}

/// True when the unconsumed input may hold a whole command (run it next round).
pub(super) fn complete_waiting(c: &Conn) -> bool {
    c.pending() < OUT_HIGH && !c.sess.close && c.sess.blocked.is_none()
}
