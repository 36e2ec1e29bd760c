//! netcat listen mode. Without `-k`: accept one client, pipe it to
//! stdin/stdout like `nc -l`, exit when both directions are done. With `-k`:
//! many clients at once, each one's bytes to stdout (whole chunks, never
//! interleaved mid-chunk) and stdin broadcast to all through queues bounded
//! in bytes and time (`KEEP_OPEN_LIMITS`). A client past them is dropped
//! with a reset, so it sees an error, never an end of stream that passes
//! for a complete transfer. stdin is read as fast as the clients that read
//! take it; one that stopped is waited for at most a second, then dropped
//! as stdin goes on.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::net::Shutdown as SockShutdown;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::TcpConfig;
use super::broadcast::{Hub, Limits, Msg, Subscription};
use super::tcp::{self, Conn, End, Handler};
use crate::copy;
use crate::hexdump::{Direction, Tap};
use crate::log::{ConnRecord, Summary};
use crate::pipe::{self, Counters, PipeOptions};
use crate::shutdown::Shutdown;
use crate::transport::Stream;
use crate::transport::listener::Listener;

/// How far a `-k` client may fall behind stdin before it is dropped: 1 MiB
/// waiting (four stalled clients cost a few MiB; the chunks are shared
/// between clients), or data unread for 10 s.
pub const KEEP_OPEN_LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_wait: Duration::from_secs(10),
};
/// How a client past `KEEP_OPEN_LIMITS` ends.
const DROPPED: &str = "dropped and reset: it stopped reading";
/// stdin is read once every client that keeps reading has no more than
/// this waiting...
const READ_WHEN_BELOW: usize = KEEP_OPEN_LIMITS.max_bytes / 4;
/// ...and a client that took nothing for this long is not waited for.
const STUCK: Duration = Duration::from_secs(1);
/// How often a writer stuck on a client that does not read checks whether
/// that client was dropped.
const WRITE_POLL: Duration = Duration::from_millis(100);

/// `nc -l`: one client, then exit.
pub fn single(listener: Listener, shutdown: Shutdown, cfg: &TcpConfig) -> Result<Summary> {
    tcp::wake_accept_on_shutdown(&listener, &shutdown)?;
    let mut rejected = 0;
    let (socket, peer) = loop {
        let Some((socket, peer)) = tcp::accept_one(&listener, &shutdown, cfg)? else {
            return Ok(Summary {
                rejected,
                ..Summary::default()
            });
        };
        if tcp::admit(cfg, &peer) {
            break (socket, peer);
        }
        rejected += 1;
    };
    drop(listener); // later clients are refused, as with nc -l
    if let Some(tcp) = socket.tcp() {
        cfg.stream.apply(tcp).context("cannot set socket options")?;
    }
    let stream = tcp::wrap(socket, cfg)?;
    if let Err(e) = tcp::start(&stream, None) {
        cfg.log
            .verbose(&format!("{peer}: {}", tcp::handshake_end(&e).describe()));
        return Err(anyhow::Error::new(e).context(format!("{peer}: TLS handshake failed")));
    }
    cfg.log.event(
        crate::log::Level::Verbose,
        "connected",
        serde_json::json!({"peer": peer.to_string()}),
        || format!("{peer}: connected"),
    );
    let started = Instant::now();
    let opts = PipeOptions {
        idle_timeout: cfg.idle_timeout,
        input_is_tty: std::io::stdin().is_terminal(),
        tap: cfg.hexdump.as_ref().map(|d| d.tap(peer.inet())),
        ..PipeOptions::default()
    };
    let counters = Arc::new(Counters::default());
    let result = pipe::run(
        stream,
        pipe::stdin_file()?,
        pipe::stdout_file()?,
        &opts,
        counters.clone(),
        Some(&shutdown),
    );
    let (bytes_in, bytes_out) = (
        counters.received.load(Ordering::Relaxed),
        counters.sent.load(Ordering::Relaxed),
    );
    cfg.log.connection(&ConnRecord {
        peer,
        bytes_in,
        bytes_out,
        duration: started.elapsed(),
        end: match &result {
            Ok(o) => o.end.describe().to_string(),
            Err(e) => format!("{e:#}"),
        },
    });
    result?;
    Ok(Summary {
        connections: 1,
        rejected,
        bytes_in,
        bytes_out,
    })
}

/// `ncat -lk`: many clients; stdin to all of them, each one's bytes to stdout.
pub fn keep_open(listener: Listener, shutdown: Shutdown, cfg: &TcpConfig) -> Result<Summary> {
    let hub = Arc::new(Hub::new(KEEP_OPEN_LIMITS));
    let stdout = Arc::new(Mutex::new(pipe::stdout_file()?));
    spawn_stdin_broadcast(pipe::stdin_file()?, hub.clone())?;

    let stop = shutdown.clone();
    let dump = cfg.hexdump.clone();
    let log = cfg.log;
    let handler: Handler = Arc::new(move |conn: &mut Conn| {
        let tap = tcp::conn_tap(&dump, conn);
        let end = client(conn, &hub, &stdout, &stop, tap);
        if matches!(&end, End::Error(e) if e == DROPPED) {
            let peer = conn.peer.to_string();
            log.event(
                crate::log::Level::Normal,
                "dropped",
                serde_json::json!({"peer": peer, "reason": "too slow"}),
                || format!("{peer}: {DROPPED} (1 MiB waiting, or data unread for 10s)"),
            );
        }
        end
    });
    tcp::accept_loop(listener, shutdown, cfg, handler)
}

fn spawn_stdin_broadcast(mut stdin: File, hub: Arc<Hub>) -> Result<()> {
    thread::Builder::new()
        .name("stdin-broadcast".into())
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                hub.wait_for_room(READ_WHEN_BELOW, STUCK);
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    // Each client's writer reports its own drop.
                    Ok(n) => drop(hub.send(Arc::from(&buf[..n]), None)),
                }
            }
            hub.close();
        })
        .context("cannot start the stdin thread")?;
    Ok(())
}

fn client(
    conn: &mut Conn,
    hub: &Hub,
    stdout: &Mutex<File>,
    stop: &Shutdown,
    tap: Option<Tap>,
) -> End {
    copy::no_delay(conn.stream.socket());
    let rx = hub.subscribe(conn.id);
    let sent = Arc::new(AtomicU64::new(0));
    let writer = match conn
        .stream
        .try_clone()
        .and_then(|w| w.socket().set_write_timeout(Some(WRITE_POLL)).map(|()| w))
    {
        Ok(w) => w,
        Err(e) => {
            hub.unsubscribe(conn.id);
            return End::from_io(&e);
        }
    };
    let (sent2, tap2) = (sent.clone(), tap.clone());
    let writer_thread = thread::Builder::new()
        .stack_size(tcp::CONN_STACK)
        .spawn(move || write_queue(&writer, &rx, &sent2, tap2));
    let mut buf = vec![0u8; 64 * 1024];
    let mut stream = &*conn.stream;
    let end = loop {
        match stream.read(&mut buf) {
            Ok(0) => break End::PeerClosed,
            Ok(n) => {
                conn.bytes_in += n as u64;
                if let Some(t) = &tap {
                    t.call(Direction::In, &buf[..n]);
                }
                let mut out = stdout.lock().unwrap_or_else(|p| p.into_inner());
                if out.write_all(&buf[..n]).is_err() {
                    // stdout is gone (`| head`): nothing more can be delivered.
                    stop.trigger();
                    break End::Error("stdout closed".into());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break End::from_io(&e),
        }
    };
    hub.unsubscribe(conn.id);
    let dropped = writer_thread.map(|t| t.join().unwrap_or(false));
    conn.bytes_out = sent.load(Ordering::Relaxed);
    match dropped {
        Ok(true) => End::Error(DROPPED.into()),
        _ => end,
    }
}

/// The writer of one `-k` client: its queue to its socket. Returns true when
/// the client was dropped (and its connection reset).
fn write_queue(w: &Stream, rx: &Subscription, sent: &AtomicU64, tap: Option<Tap>) -> bool {
    loop {
        match rx.recv() {
            Msg::Data(d) => match send_all(w, &d, rx) {
                Ok(()) => {
                    if let Some(t) = &tap {
                        t.call(Direction::Out, &d);
                    }
                    sent.fetch_add(d.len() as u64, Ordering::Relaxed);
                }
                Err(Stopped::Dropped) => return reset(w),
                Err(Stopped::Failed) => {
                    let _ = w.socket().shutdown(SockShutdown::Both);
                    return false;
                }
            },
            Msg::Close => {
                if let Err(Stopped::Dropped) = flush(w, rx) {
                    return reset(w);
                }
                let _ = w.shutdown_write();
                return false;
            }
            Msg::Dropped => return reset(w),
            Msg::Gone => {
                let _ = w.socket().shutdown(SockShutdown::Both);
                return false;
            }
        }
    }
}

enum Stopped {
    Dropped,
    Failed,
}

/// Write all of `d`, giving up when the client is dropped meanwhile (the
/// socket's write timeout wakes a write stuck on a client that does not read).
/// Over TLS a write that timed out keeps its ciphertext as pending: that is
/// sent too before this returns, so no byte waits for the next chunk.
fn send_all(mut w: &Stream, d: &[u8], rx: &Subscription) -> Result<(), Stopped> {
    use std::io::ErrorKind::Interrupted;
    let mut off = 0;
    while off < d.len() {
        match w.write(&d[off..]) {
            Ok(0) => return Err(Stopped::Failed),
            Ok(n) => off += n,
            Err(e) if timed_out(&e) => wanted(rx)?,
            Err(e) if e.kind() == Interrupted => {}
            Err(_) => return Err(Stopped::Failed),
        }
    }
    flush(w, rx)
}

/// Send what a TLS write left pending (nothing to do for a plain socket).
fn flush(w: &Stream, rx: &Subscription) -> Result<(), Stopped> {
    while w.wants_write() {
        match w.flush_pending() {
            Ok(()) => {}
            Err(e) if timed_out(&e) => wanted(rx)?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(Stopped::Failed),
        }
    }
    Ok(())
}

/// A write timed out: go on unless the client was dropped meanwhile.
fn wanted(rx: &Subscription) -> Result<(), Stopped> {
    if rx.still_wanted(Instant::now()) {
        Ok(())
    } else {
        Err(Stopped::Dropped)
    }
}

fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Reset a dropped client's connection: with a zero linger the close sends
/// RST, never FIN, so the client cannot take the cut for a complete stream.
/// `shutdown(SHUT_RD)` (which sends nothing) wakes our reader; the close
/// happens when the connection's last descriptor is dropped. (A Unix
/// socket has no reset: its client sees the stream end.)
fn reset(w: &Stream) -> bool {
    let s = socket2::SockRef::from(w.socket());
    let _ = s.set_linger(Some(Duration::ZERO));
    let _ = s.shutdown(SockShutdown::Read);
    true
}
