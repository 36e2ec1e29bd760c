//! `serve --chat`: every line from one client goes to every other client,
//! prefixed with the sender (`[127.0.0.1:5555] hello`), like `ncat --chat`.
//!
//! Each client has a reader (the connection thread) and a writer thread that
//! drains the client's bounded queue in the broadcast `Hub`. A client that
//! stops reading falls behind, its queue fills (1 MiB waiting, or a line
//! unread for 30 s), and it is dropped with a notice; the others never
//! wait for it. A burst of many short lines is a few kilobytes and drops
//! no one. Lines are bounded: a longer one
//! closes that client with an error line. Joins and leaves are announced.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::Shutdown as SockShutdown;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::broadcast::{Hub, Limits, Msg, Subscription};
use super::tcp::{self, Conn, End};
use crate::hexdump::{Direction, HexDump, Tap};
use crate::log::Log;
use crate::transport::{Peer, Stream};

/// The longest line a client may send (its line ending included).
pub const MAX_CHAT_LINE: usize = 16 * 1024;
/// How far a client may fall behind before it is dropped.
pub const CHAT_LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_wait: Duration::from_secs(30),
};
/// The most queued lines a writer sends with one write.
const COALESCE: usize = 64 * 1024;

/// The shared state of one chat server.
pub struct Room {
    hub: Hub,
    log: Log,
    dump: Option<Arc<HexDump>>,
    members: Mutex<HashMap<u64, Member>>,
}

/// What the room needs to drop a client whose writer may be stuck.
struct Member {
    stream: Stream,
    peer: Peer,
    dropped: Arc<AtomicBool>,
}

impl Room {
    /// An empty room.
    pub fn new(log: Log, dump: Option<Arc<HexDump>>) -> Room {
        Room {
            hub: Hub::new(CHAT_LIMITS),
            log,
            dump,
            members: Mutex::new(HashMap::new()),
        }
    }

    fn members(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Member>> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue `data` for everyone but `except`. A client whose queue is full
    /// is dropped: its writer is likely stuck in a send, so its socket is
    /// shut down, which wakes both its threads; its reader announces it.
    fn send(&self, data: Vec<u8>, except: u64) {
        let dropped = self.hub.send(Arc::from(data), Some(except));
        if dropped.is_empty() {
            return;
        }
        let members = self.members();
        for id in dropped {
            let Some(m) = members.get(&id) else { continue };
            m.dropped.store(true, Ordering::Release);
            let peer = m.peer.to_string();
            self.log.event(
                crate::log::Level::Verbose,
                "dropped",
                serde_json::json!({"peer": peer, "reason": "too slow"}),
                || format!("{peer}: chat client dropped: it stopped reading (1 MiB waiting, or a line unread for 30s)"),
            );
            // Best effort, never blocking: the client is not reading. (Not
            // over TLS: raw bytes would break its records.)
            if let Some(fd) = m.stream.plain_fd() {
                let _ = socket2::SockRef::from(&fd)
                    .send_with_flags(b"\n*** you were dropped: too slow\n", libc::MSG_DONTWAIT);
            }
            let _ = m.stream.socket().shutdown(SockShutdown::Both);
        }
    }

    fn say(&self, text: String, except: u64) {
        self.send(text.into_bytes(), except);
    }
}

/// What one line from `peer` becomes for the others; `None` for a blank line.
pub fn chat_line(peer: &Peer, line: &[u8]) -> Option<Vec<u8>> {
    let body = line
        .strip_suffix(b"\n")
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .unwrap_or(line);
    if body.is_empty() {
        return None;
    }
    let mut out = format!("[{peer}] ").into_bytes();
    out.extend_from_slice(body);
    out.push(b'\n');
    Some(out)
}

/// Serve one chat client until it leaves, is dropped, or sends a line too long.
pub fn serve(conn: &mut Conn, room: &Room) -> End {
    let tap: Option<Tap> = room.dump.as_ref().map(|d| d.tap(conn.peer.inet()));
    let rx = room.hub.subscribe(conn.id);
    let others = room.hub.len().saturating_sub(1);
    // Announce before the welcome: once a client has read its welcome, every
    // later client sees it in the room, never its late join notice.
    room.say(format!("*** {} joined\n", conn.peer), conn.id);
    let welcome = format!("*** welcome {}; {others} other(s) here\n", conn.peer);
    if let Err(e) = (&*conn.stream).write_all(welcome.as_bytes()) {
        room.hub.unsubscribe(conn.id);
        return End::from_io(&e);
    }
    if let Some(t) = &tap {
        t.call(Direction::Out, welcome.as_bytes());
    }
    conn.bytes_out += welcome.len() as u64;

    let dropped = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let writer = match (conn.stream.try_clone(), conn.stream.try_clone()) {
        (Ok(w), Ok(m)) => {
            room.members().insert(
                conn.id,
                Member {
                    stream: m,
                    peer: conn.peer.clone(),
                    dropped: dropped.clone(),
                },
            );
            let (sent, tap, dropped) = (sent.clone(), tap.clone(), dropped.clone());
            thread::Builder::new()
                .name(format!("chat-writer-{}", conn.id))
                .stack_size(tcp::CONN_STACK)
                .spawn(move || {
                    if write_queue(w, rx, &sent, tap.as_ref()) {
                        dropped.store(true, Ordering::Release);
                    }
                })
                .ok()
        }
        _ => None,
    };
    if writer.is_none() {
        room.members().remove(&conn.id);
        room.hub.unsubscribe(conn.id);
        return End::Error("cannot start the writer thread".into());
    }

    let end = read_lines(conn, room, tap.as_ref());

    room.members().remove(&conn.id);
    room.hub.unsubscribe(conn.id);
    let _ = conn.stream.socket().shutdown(SockShutdown::Both);
    if let Some(w) = writer {
        let _ = w.join();
    }
    conn.bytes_out += sent.load(Ordering::Relaxed);
    let (end, why) = if dropped.load(Ordering::Acquire) {
        (End::Error("dropped: too slow".into()), "dropped (too slow)")
    } else {
        match &end {
            // A client that closes with lines unread to it ends in a reset:
            // it left, the server did not drop it.
            End::Error(e) if e == super::end::RESET => (end, "left"),
            End::Error(_) => (end, "dropped"),
            _ => (end, "left"),
        }
    };
    room.say(format!("*** {} {why}\n", conn.peer), conn.id);
    end
}

fn read_lines(conn: &mut Conn, room: &Room, tap: Option<&Tap>) -> End {
    let source: Box<dyn Read + '_> = match tap {
        Some(t) => Box::new(t.reader(&*conn.stream, Direction::In)),
        None => Box::new(&*conn.stream),
    };
    let mut reader = BufReader::with_capacity(8 * 1024, source);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_CHAT_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
        {
            Ok(0) => return End::PeerClosed,
            Ok(n) => conn.bytes_in += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return End::from_io(&e),
        }
        if line.len() > MAX_CHAT_LINE {
            let msg = format!("*** error: line longer than {MAX_CHAT_LINE} bytes; closing\n");
            let _ = (&*conn.stream).write_all(msg.as_bytes());
            return End::Error(format!("line longer than {MAX_CHAT_LINE} bytes"));
        }
        if let Some(out) = chat_line(&conn.peer, &line) {
            room.send(out, conn.id);
        }
    }
}

/// The writer thread: the client's queue to its socket, until the queue is
/// closed (the client left or was dropped) or the socket fails. Lines that
/// wait together go out in one write. Returns whether the client was
/// dropped; the socket is shut down either way, which wakes the reader.
/// (The reader joins this thread before it reads the dropped flag, so a
/// client dropped here is never announced as one that left.)
fn write_queue(stream: Stream, rx: Subscription, sent: &AtomicU64, tap: Option<&Tap>) -> bool {
    let dropped = write_until_closed(&stream, rx, sent, tap);
    let _ = stream.socket().shutdown(SockShutdown::Both);
    dropped
}

fn write_until_closed(
    stream: &Stream,
    rx: Subscription,
    sent: &AtomicU64,
    tap: Option<&Tap>,
) -> bool {
    let mut w = stream;
    let mut out = Vec::new();
    loop {
        let first = match rx.recv() {
            Msg::Data(d) => d,
            other => return matches!(other, Msg::Dropped),
        };
        out.clear();
        out.extend_from_slice(&first);
        let mut closing = false;
        while out.len() < COALESCE {
            match rx.try_recv() {
                Some(Msg::Data(d)) => out.extend_from_slice(&d),
                Some(Msg::Dropped) => return true,
                // Closed, or left: what was queued is in `out`.
                Some(Msg::Close | Msg::Gone) => {
                    closing = true;
                    break;
                }
                None => break,
            }
        }
        if w.write_all(&out).is_err() {
            return false;
        }
        if let Some(t) = tap {
            t.call(Direction::Out, &out);
        }
        sent.fetch_add(out.len() as u64, Ordering::Relaxed);
        if closing {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_prefixed_and_endings_normalised() {
        let p = &Peer::Inet(std::net::SocketAddr::from(([127, 0, 0, 1], 5555)));
        assert_eq!(
            chat_line(p, b"hello\n").as_deref(),
            Some(&b"[127.0.0.1:5555] hello\n"[..])
        );
        assert_eq!(
            chat_line(p, b"hi\r\n").as_deref(),
            Some(&b"[127.0.0.1:5555] hi\n"[..])
        );
        assert_eq!(
            chat_line(p, b"no newline").as_deref(),
            Some(&b"[127.0.0.1:5555] no newline\n"[..])
        );
        assert_eq!(chat_line(p, b"\n"), None);
        assert_eq!(chat_line(p, b"\r\n"), None);
        assert_eq!(
            chat_line(p, b"\x00\xff\n").as_deref(),
            Some(&b"[127.0.0.1:5555] \x00\xff\n"[..])
        );
    }
}
