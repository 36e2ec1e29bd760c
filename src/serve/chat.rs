//! `serve --chat`: every line from one client goes to every other client,
//! prefixed with the sender (`[127.0.0.1:5555] hello`), like `ncat --chat`.
//!
//! Each client has a reader (the connection thread) and a writer thread that
//! drains the client's bounded queue in the broadcast `Hub`. A client that
//! stops reading falls behind, its queue fills, and it is dropped with a
//! notice; the others never wait for it. Lines are bounded: a longer one
//! closes that client with an error line. Joins and leaves are announced.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown as SockShutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc::Receiver};
use std::thread;
use std::time::Duration;

use super::broadcast::{Hub, Msg};
use super::tcp::{self, Conn, End};
use crate::hexdump::{Direction, HexDump, Tap};
use crate::log::Log;

/// The longest line a client may send (its line ending included).
pub const MAX_CHAT_LINE: usize = 16 * 1024;
/// How many messages a client may fall behind before it is dropped.
pub const CHAT_QUEUE: usize = 256;

/// The shared state of one chat server.
pub struct Room {
    hub: Hub,
    log: Log,
    dump: Option<Arc<HexDump>>,
}

impl Room {
    /// An empty room.
    pub fn new(log: Log, dump: Option<Arc<HexDump>>) -> Room {
        Room {
            hub: Hub::new(CHAT_QUEUE),
            log,
            dump,
        }
    }

    /// Queue `text` for everyone but `except`; log who was dropped as too slow.
    fn say(&self, text: String, except: u64) {
        for id in self.hub.send(Arc::from(text.into_bytes()), Some(except)) {
            self.log.verbose(&format!(
                "chat client {id} dropped: it fell {CHAT_QUEUE} messages behind"
            ));
        }
    }
}

/// What one line from `peer` becomes for the others; `None` for a blank line.
pub fn chat_line(peer: SocketAddr, line: &[u8]) -> Option<Vec<u8>> {
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
    let tap: Option<Tap> = room.dump.as_ref().map(|d| d.tap(Some(conn.peer)));
    let rx = room.hub.subscribe(conn.id);
    let others = room.hub.len().saturating_sub(1);
    let welcome = format!(
        "*** welcome {}; {others} other(s) here\n",
        conn.peer
    );
    if let Err(e) = (&conn.stream).write_all(welcome.as_bytes()) {
        room.hub.unsubscribe(conn.id);
        return End::from_io(&e);
    }
    if let Some(t) = &tap {
        t.call(Direction::Out, welcome.as_bytes());
    }
    conn.bytes_out += welcome.len() as u64;
    room.say(format!("*** {} joined\n", conn.peer), conn.id);

    let leaving = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let writer = match conn.stream.try_clone() {
        Ok(w) => {
            let (leaving, dropped, sent, tap) =
                (leaving.clone(), dropped.clone(), sent.clone(), tap.clone());
            thread::Builder::new()
                .name(format!("chat-writer-{}", conn.id))
                .stack_size(tcp::CONN_STACK)
                .spawn(move || write_queue(w, rx, &leaving, &dropped, &sent, tap.as_ref()))
                .ok()
        }
        Err(_) => None,
    };

    let end = read_lines(conn, room, tap.as_ref());

    leaving.store(true, Ordering::Release);
    room.hub.unsubscribe(conn.id);
    let _ = conn.stream.shutdown(SockShutdown::Both);
    if let Some(w) = writer {
        let _ = w.join();
    }
    conn.bytes_out += sent.load(Ordering::Relaxed);
    let (end, why) = if dropped.load(Ordering::Acquire) {
        (End::Error("dropped: too slow".into()), "dropped (too slow)")
    } else {
        match &end {
            End::Error(_) => (end, "dropped"),
            _ => (end, "left"),
        }
    };
    room.say(format!("*** {} {why}\n", conn.peer), conn.id);
    end
}

fn read_lines(conn: &mut Conn, room: &Room, tap: Option<&Tap>) -> End {
    let source: Box<dyn Read + '_> = match tap {
        Some(t) => Box::new(t.reader(&conn.stream, Direction::In)),
        None => Box::new(&conn.stream),
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
            let _ = (&conn.stream).write_all(msg.as_bytes());
            return End::Error(format!("line longer than {MAX_CHAT_LINE} bytes"));
        }
        if let Some(out) = chat_line(conn.peer, &line) {
            for id in room.hub.send(Arc::from(out), Some(conn.id)) {
                room.log.verbose(&format!(
                    "chat client {id} dropped: it fell {CHAT_QUEUE} messages behind"
                ));
            }
        }
    }
}

/// The writer thread: the client's queue to its socket. A disconnect while
/// the reader is still on means the hub dropped this client as too slow.
fn write_queue(
    stream: std::net::TcpStream,
    rx: Receiver<Msg>,
    leaving: &AtomicBool,
    dropped: &AtomicBool,
    sent: &AtomicU64,
    tap: Option<&Tap>,
) {
    let mut w = &stream;
    loop {
        match rx.recv() {
            Ok(Msg::Data(d)) => {
                if w.write_all(&d).is_err() {
                    break;
                }
                if let Some(t) = tap {
                    t.call(Direction::Out, &d);
                }
                sent.fetch_add(d.len() as u64, Ordering::Relaxed);
            }
            Ok(Msg::Close) => break,
            Err(_) => {
                if !leaving.load(Ordering::Acquire) {
                    dropped.store(true, Ordering::Release);
                    // Best effort: the client is slow, so do not wait long.
                    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
                    let _ = w.write_all(b"*** you were dropped: too slow\n");
                }
                break;
            }
        }
    }
    // Wake the reader: this client is done either way.
    let _ = stream.shutdown(SockShutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_prefixed_and_endings_normalised() {
        let p: SocketAddr = "127.0.0.1:5555".parse().expect("addr");
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
