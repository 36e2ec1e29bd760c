//! `MONITOR`: every command any client runs, as one line to each client
//! that asked, in Redis's form:
//! `+1700000000.123456 [0 127.0.0.1:50000] "set" "foo" "bar"`.
//!
//! A command is shown after it ran (so EXEC comes after the commands it
//! ran, and the commands a script calls come as `[db lua]`), except EVAL and
//! EVALSHA, shown before their script's commands; administrative commands
//! are not shown, nor commands queued in MULTI until EXEC runs them. Lines
//! travel like pub/sub messages: through the round's outbox, so a round
//! that is undone shows nothing. With no monitor the cost per command is
//! one atomic load.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use super::pubsub::Sub;
use super::shared::Msg;

/// The monitoring clients.
#[derive(Debug, Default)]
pub struct Monitors {
    n: AtomicUsize,
    subs: RwLock<Vec<Sub>>,
}

impl Monitors {
    /// Is anyone monitoring?
    pub fn active(&self) -> bool {
        self.n.load(Ordering::Relaxed) > 0
    }

    /// Start sending lines to `s`.
    pub fn add(&self, s: Sub) {
        if let Ok(mut v) = self.subs.write() {
            if !v.contains(&s) {
                v.push(s);
                self.n.store(v.len(), Ordering::Relaxed);
            }
        }
    }

    /// Stop sending lines to `client` (RESET, or it left).
    pub fn remove(&self, client: u64) {
        if let Ok(mut v) = self.subs.write() {
            v.retain(|s| s.client != client);
            self.n.store(v.len(), Ordering::Relaxed);
        }
    }

    /// Queue the line for `argv`, run in database `db` by `origin` (the
    /// client's address, or `lua`), for every monitor.
    pub fn feed(&self, db: usize, origin: &str, argv: &[&[u8]], outbox: &mut Vec<(usize, Msg)>) {
        let Ok(v) = self.subs.read() else {
            return;
        };
        if v.is_empty() {
            return;
        }
        let line: Arc<[u8]> = line(db, origin, argv, std::time::SystemTime::now()).into();
        for s in v.iter() {
            outbox.push((s.worker, Msg::Monitor(s.client, line.clone())));
        }
    }
}

/// Shown before the script's own commands, not after.
pub fn shown_first(name: &str) -> bool {
    matches!(name, "eval" | "evalsha" | "eval_ro" | "evalsha_ro")
}

/// One monitor line.
pub fn line(db: usize, origin: &str, argv: &[&[u8]], at: std::time::SystemTime) -> Vec<u8> {
    let t = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut out = format!("+{}.{:06} [{db} {origin}]", t.as_secs(), t.subsec_micros()).into_bytes();
    for a in argv {
        out.push(b' ');
        quote(&mut out, a);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// An argument quoted as Redis's `sdscatrepr`: `"..."` with `\\`, `\"`,
/// `\n`, `\r`, `\t`, `\a`, `\b` and `\xHH` for other unprintable bytes.
fn quote(out: &mut Vec<u8>, a: &[u8]) {
    out.push(b'"');
    for &b in a {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_quotes_as_redis_does() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_700_000_000_000_042);
        let l = line(
            3,
            "127.0.0.1:5000",
            &[b"set", b"k \"q\"", b"a\\b\r\n\x01\xff"],
            at,
        );
        assert_eq!(
            String::from_utf8_lossy(&l),
            "+1700000000.000042 [3 127.0.0.1:5000] \"set\" \"k \\\"q\\\"\" \"a\\\\b\\r\\n\\x01\\xff\"\r\n"
        );
    }

    #[test]
    fn monitors_come_and_go() {
        let m = Monitors::default();
        assert!(!m.active());
        m.add(Sub {
            worker: 0,
            client: 7,
        });
        m.add(Sub {
            worker: 0,
            client: 7,
        });
        assert!(m.active());
        let mut outbox = Vec::new();
        m.feed(0, "lua", &[b"get", b"k"], &mut outbox);
        assert_eq!(outbox.len(), 1);
        m.remove(7);
        assert!(!m.active());
    }
}
