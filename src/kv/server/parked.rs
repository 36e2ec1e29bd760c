//! The event loop's side of blocked clients: a parked connection runs no
//! command until its reply arrives (from whichever loop served it, through
//! the mailbox or this round's outbox), its timeout passes, or it leaves.
//! The waiter itself lives behind the store's lock
//! ([`crate::kv::blocking`]); here are only the deadlines this loop must
//! watch, earliest first.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Worker, lock_unless_busy};
use crate::kv::cmd::blocking::timeout_reply;

impl Worker<'_> {
    /// A served (or unblocked) client's reply: queue it and let the client
    /// run what it sent meanwhile. `woken` collects tokens to service.
    pub(super) fn deliver(&mut self, client: u64, reply: Vec<u8>, woken: &mut Vec<usize>) {
        let Some(&t) = self.by_id.get(&client) else {
            return; // gone meanwhile
        };
        if let Some(Some(c)) = self.conns.get_mut(t) {
            if let Some(p) = c.sess.blocked.take() {
                if let Some(d) = p.deadline {
                    self.deadlines.remove(&(d, client));
                }
            }
            c.sess.handle.blocked.store(false, Ordering::Relaxed);
            if !c.sess.reply.muted() {
                c.out.buf.extend_from_slice(&reply);
            }
            c.sess.reply.command_done();
            woken.push(t);
        }
    }

    /// Remember the deadlines of clients of `tokens` that just parked.
    pub(super) fn note_parked(&mut self, tokens: &[usize]) {
        for &t in tokens {
            if let Some(Some(c)) = self.conns.get(t) {
                if let Some(d) = c.sess.blocked.and_then(|p| p.deadline) {
                    self.deadlines.insert((d, c.sess.id));
                }
            }
        }
    }

    fn deadline_of(&self, client: u64) -> Option<Instant> {
        let &t = self.by_id.get(&client)?;
        self.conns.get(t)?.as_ref()?.sess.blocked?.deadline
    }

    /// How long until the next deadline (none: no client waits with one).
    pub(super) fn until_deadline(&self) -> Option<Duration> {
        let (d, _) = self.deadlines.first()?;
        Some(d.saturating_duration_since(Instant::now()))
    }

    /// Answer every parked client whose deadline passed with the timeout
    /// reply, unless another loop served it first (its reply is on the
    /// way); `woken` collects their tokens.
    pub(super) fn expire_parked(&mut self, woken: &mut Vec<usize>) {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(&(d, id)) = self.deadlines.first() {
            if d > now {
                break;
            }
            self.deadlines.pop_first();
            due.push(id);
        }
        if due.is_empty() {
            return;
        }
        let sh = self.sh;
        let Some(locked) = lock_unless_busy(sh) else {
            // A busy script holds the store: try again next time round.
            for &id in &due {
                if let Some(d) = self.deadline_of(id) {
                    self.deadlines.insert((d, id));
                }
            }
            return;
        };
        let mut batch = std::mem::take(&mut self.batch);
        {
            let mut round = sh.store.round_locked(locked, &mut batch);
            for id in due {
                let Some(&t) = self.by_id.get(&id) else {
                    continue;
                };
                let Some(Some(c)) = self.conns.get_mut(t) else {
                    continue;
                };
                if c.sess.blocked.is_none() {
                    continue;
                }
                // Still waiting under the lock: nobody served it.
                if round.space().blocking.unblock(id).is_some() {
                    c.sess.blocked = None;
                    c.sess.handle.blocked.store(false, Ordering::Relaxed);
                    if !c.sess.reply.muted() {
                        c.out.buf.extend_from_slice(&timeout_reply(c.out.resp3));
                    }
                    c.sess.reply.command_done();
                    woken.push(t);
                }
            }
            let _ = round.commit();
        }
        self.batch = batch;
    }
}
