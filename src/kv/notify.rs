//! Keyspace notifications (`notify-keyspace-events`), as Redis 7.0: a write
//! publishes `__keyspace@<db>__:<key>` carrying the event name and
//! `__keyevent@<db>__:<event>` carrying the key, for the event classes the
//! flags select.
//!
//! Events are noted where the key space changes ([`Ks::notify`]: the store
//! layer notes `new`, `del`, `expired` and `keymiss`; command handlers note
//! their own event names, in Redis's order) into a list kept with the
//! locked key space. With the flags off (the default) a site costs one load
//! of a plain field, read under the store lock the site already holds. The
//! list is published when the outermost command ends (a whole `EXEC` or
//! script included), through the pub/sub registry: messages for other
//! clients go in the round's outbox, sent only if the round commits; a
//! RESP3 client subscribed to its own events gets them before its reply,
//! as `PUBLISH` to oneself does. Keys expired by the background sweep are
//! published by the housekeeping thread once its round has committed.

use std::sync::Arc;

use super::cmd::Ctx;
use super::keyspace::Ks;
use super::pubsub::{Kind, PubMsg, PubSub, Sub};
use super::reply::{Out, push_int};
use super::shared::{Msg, Shared};

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted-set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: a key expired (lazily or by the background sweep).
pub const EXPIRED: u32 = 1 << 8;
/// `e`: a key was evicted to get under `maxmemory`.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands (netkit has no streams: never sent).
pub const STREAM: u32 = 1 << 10;
/// `m`: a read found no key (not part of `A`).
pub const KEYMISS: u32 = 1 << 11;
/// `d`: module events (netkit has no modules: never sent).
pub const MODULE: u32 = 1 << 13;
/// `n`: a key was created (not part of `A`).
pub const NEW: u32 = 1 << 14;
/// `A`: `g$lshzxetd`.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Redis's error for a bad letter (after `CONFIG SET failed ... - `).
pub const BAD_FLAGS: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// Parse Redis's flag letters (`KEA`, `Elg`, `""` for none); `None` on a
/// letter Redis does not know.
pub fn parse(s: &[u8]) -> Option<u32> {
    let mut f = 0;
    for c in s {
        f |= match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEYMISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// The flags as `CONFIG GET` prints them (Redis's
/// `keyspaceEventsFlagsToString`): `A` or the class letters, then `K`, `E`, `m`.
pub fn format(f: u32) -> String {
    let mut s = String::new();
    if f & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEYMISS, 'm')] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// One noted event: its name, database and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event name (`set`, `lpush`, `expired`...).
    pub name: &'static str,
    /// The database.
    pub db: usize,
    /// The key.
    pub key: Box<[u8]>,
}

/// The configured flags and the events noted but not yet published (kept
/// in the key space, under the store lock).
#[derive(Debug, Default)]
pub struct Notify {
    flags: u32,
    /// The classes that publish: the flags' classes when `K` or `E` is on, else none.
    mask: u32,
    pending: Vec<Event>,
}

impl Notify {
    /// The flags as set.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Set the flags (`CONFIG SET notify-keyspace-events`, `--notify-keyspace-events`).
    pub fn set(&mut self, flags: u32) {
        self.flags = flags;
        self.mask = if flags & (KEYSPACE | KEYEVENT) != 0 {
            flags & !(KEYSPACE | KEYEVENT)
        } else {
            0
        };
    }

    /// True when events of `class` are published.
    #[inline]
    pub fn wants(&self, class: u32) -> bool {
        self.mask & class != 0
    }

    /// Note event `name` of `class` on `key` in `db` if `class` is selected.
    #[inline]
    pub fn event(&mut self, class: u32, name: &'static str, db: usize, key: &[u8]) {
        if self.wants(class) {
            self.note(name, db, key);
        }
    }

    #[cold]
    #[inline(never)]
    fn note(&mut self, name: &'static str, db: usize, key: &[u8]) {
        self.pending.push(Event {
            name,
            db,
            key: key.into(),
        });
    }

    /// True when events wait to be published.
    #[inline]
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Take the noted events (for publishing).
    pub fn take(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.pending)
    }
}

impl Ks<'_> {
    /// Note event `name` of `class` on `key` in `db` (nothing unless the
    /// flags select `class`).
    #[inline]
    pub fn notify(&mut self, class: u32, name: &'static str, db: usize, key: &[u8]) {
        self.space.notify.event(class, name, db, key);
    }
}

fn channel(prefix: &[u8], db: usize, tail: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(prefix.len() + tail.len() + 8);
    c.extend_from_slice(prefix);
    push_int(&mut c, db as i64);
    c.extend_from_slice(b"__:");
    c.extend_from_slice(tail);
    c
}

/// Publish `events` as `flags` asks (`K`: keyspace channels, `E`:
/// keyevent channels), handing each message to `to` with its subscriber.
pub fn publish(
    pubsub: &PubSub,
    flags: u32,
    events: &[Event],
    mut to: impl FnMut(Sub, Arc<PubMsg>),
) {
    for ev in events {
        if flags & KEYSPACE != 0 {
            let ch = channel(b"__keyspace@", ev.db, &ev.key);
            pubsub.publish(Kind::Channel, &ch, ev.name.as_bytes(), &mut to);
        }
        if flags & KEYEVENT != 0 {
            let ch = channel(b"__keyevent@", ev.db, ev.name.as_bytes());
            pubsub.publish(Kind::Channel, &ch, &ev.key, &mut to);
        }
    }
}

/// Publish the events the command just ended noted: other clients' messages
/// into the round's outbox, the client's own inserted at `reply_at` (where
/// its reply starts), before the reply.
pub fn flush(ctx: &mut Ctx<'_>, reply_at: usize) {
    let events = ctx.ks.space.notify.take();
    let flags = ctx.ks.space.notify.flags();
    let id = ctx.sess.id;
    let outbox = &mut *ctx.outbox;
    let mut own = Vec::new();
    publish(&ctx.srv.pubsub, flags, &events, |s, m| {
        if s.client == id {
            own.push(m);
        } else {
            outbox.push((s.worker, Msg::Push(s.client, m)));
        }
    });
    if own.is_empty() {
        return;
    }
    let mut pushes = Out {
        resp3: ctx.out.resp3,
        ..Out::default()
    };
    for m in own {
        m.deliver(&ctx.sess.pubsub, &mut pushes);
    }
    ctx.out.insert_push(reply_at, pushes.buf);
}

/// Publish events noted outside any client's command (the background
/// expiry sweep, after its round committed): each loop gets its share in
/// one mailbox batch.
pub fn post(sh: &Shared, flags: u32, events: &[Event]) {
    let mut per_loop: Vec<Vec<Msg>> = Vec::new();
    publish(&sh.pubsub, flags, events, |s, m| {
        if per_loop.len() <= s.worker {
            per_loop.resize_with(s.worker + 1, Vec::new);
        }
        per_loop[s.worker].push(Msg::Push(s.client, m));
    });
    for (w, ms) in per_loop.into_iter().enumerate() {
        if let (false, Some(mb)) = (ms.is_empty(), sh.mailboxes.get(w)) {
            mb.send_all(ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_print_as_redis_does() {
        assert_eq!(parse(b""), Some(0));
        assert_eq!(parse(b"KEA"), Some(KEYSPACE | KEYEVENT | ALL));
        assert_eq!(parse(b"Elg"), Some(KEYEVENT | LIST | GENERIC));
        assert_eq!(
            parse(b"KEAmn"),
            Some(KEYSPACE | KEYEVENT | ALL | KEYMISS | NEW)
        );
        assert_eq!(parse(b"KEx?"), None);
        assert_eq!(parse(b"a"), None);
        // The canonical form Redis's test expects back from CONFIG GET.
        let back = |s: &[u8]| format(parse(s).expect("valid flags"));
        assert_eq!(back(b"gKE"), "gKE");
        assert_eq!(back(b"$lshzxeKE"), "$lshzxeKE");
        assert_eq!(back(b"KA"), "AK");
        assert_eq!(back(b"EA"), "AE");
        assert_eq!(back(b"g$lshzxetd"), "A");
        assert_eq!(back(b"nmEdK"), "dnKEm");
        assert_eq!(back(b"Ex"), "xE");
        assert_eq!(back(b""), "");
    }

    #[test]
    fn only_selected_classes_with_k_or_e_are_noted() {
        let mut n = Notify::default();
        assert!(!n.wants(GENERIC));
        n.set(parse(b"A").unwrap_or(0));
        assert!(!n.wants(GENERIC), "no K or E: nothing is published");
        n.set(parse(b"Kl").unwrap_or(0));
        assert!(n.wants(LIST) && !n.wants(STRING) && !n.wants(KEYSPACE));
        n.set(parse(b"En").unwrap_or(0));
        assert!(n.wants(NEW) && !n.wants(GENERIC));
        n.set(0);
        assert!(!n.wants(ALL | NEW | KEYMISS));
    }

    #[test]
    fn channels_carry_db_key_and_event() {
        assert_eq!(channel(b"__keyspace@", 3, b"foo"), b"__keyspace@3__:foo");
        assert_eq!(channel(b"__keyevent@", 0, b"del"), b"__keyevent@0__:del");
    }
}
