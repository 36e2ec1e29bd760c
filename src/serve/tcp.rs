//! The stream accept loop shared by every mode, over TCP or a Unix socket:
//! limits (`--max-conns`, `--count`), a small-stack thread per connection
//! (10,000 idle clients cost about 20 KiB each), per-connection records for
//! `-v`, and the graceful stop: stop accepting, give live connections
//! `--grace` to finish, then close them.
//!
//! With `--tls` each accepted socket is wrapped in a TLS session here, and
//! the handshake runs on the connection's own thread (bounded by
//! `HANDSHAKE_TIMEOUT`) before the mode's handler sees a byte, so a client
//! that never speaks holds no one but itself. Handlers read and write a
//! [`Stream`] and never know which transport carries it.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

pub use super::conns::Counters;
use super::conns::Live;
pub use super::end::End;
use super::{TcpConfig, TcpMode, chat, evloop, exec, fdbudget, forward, framed, listen, services};
use crate::hexdump::Tap;
use crate::log::{ConnRecord, Level, Summary};
use crate::proxy;
use crate::shutdown::Shutdown;
use crate::transport::listener::Listener;
use crate::transport::{Peer, Socket, Stream, TlsStream};
use crate::units::format_duration;
use serde_json::json;

/// Stack size of a connection thread: handlers keep their buffers on the heap.
pub const CONN_STACK: usize = 64 * 1024;
/// How long a TLS client may take to finish its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// One accepted client, with the bytes counted so far.
#[derive(Debug)]
pub struct Conn {
    /// The stream, shared with the server's list of live connections so a
    /// stop can shut it down without a second descriptor per client.
    pub stream: Arc<Stream>,
    /// The client: an address, or a Unix peer's credentials.
    pub peer: Peer,
    /// A per-server id, unique while the server runs.
    pub id: u64,
    /// Bytes read from the client.
    pub bytes_in: u64,
    /// Bytes written to the client.
    pub bytes_out: u64,
}

/// A connection handler: runs until the connection is over.
pub type Handler = Arc<dyn Fn(&mut Conn) -> End + Send + Sync>;

/// Serve on an already bound listener (TCP or Unix) until `shutdown` (or `--count`).
pub fn run(listener: impl Into<Listener>, shutdown: Shutdown, cfg: &TcpConfig) -> Result<Summary> {
    run_counted(listener, shutdown, cfg, Arc::default())
}

/// `run`, with the running totals in `counters`, so the caller can watch
/// them while the server runs (bench waits until its in-process server has
/// accepted every connection it made before stopping it).
pub fn run_counted(
    listener: impl Into<Listener>,
    shutdown: Shutdown,
    cfg: &TcpConfig,
    counters: Arc<Counters>,
) -> Result<Summary> {
    let listener = listener.into();
    let max_frame = cfg.max_frame;
    let dump = cfg.hexdump.clone();
    let handler: Handler = match cfg.mode {
        TcpMode::Listen if !cfg.keep_open => return listen::single(listener, shutdown, cfg),
        TcpMode::Listen => return listen::keep_open(listener, shutdown, cfg),
        TcpMode::Discard if dump.is_some() => Arc::new(move |c: &mut Conn| {
            let tap = conn_tap(&dump, c);
            services::discard_tapped(c, tap.as_ref())
        }),
        TcpMode::Echo => return serve_accepted(listener, shutdown, cfg, None, counters),
        TcpMode::Upper => Arc::new(services::upper),
        TcpMode::Discard => Arc::new(services::discard),
        TcpMode::Source => Arc::new(services::source),
        TcpMode::Time => Arc::new(services::time),
        TcpMode::Framed => Arc::new(move |c: &mut Conn| framed::echo(c, max_frame)),
        TcpMode::Exec => {
            let cmd = cfg
                .exec
                .clone()
                .ok_or_else(|| anyhow::anyhow!("exec mode without a command"))?;
            exec::cloexec_inherited();
            let children = Arc::new(exec::Children::default());
            children.kill_after_stop(&shutdown, cfg.grace);
            let log = cfg.log;
            Arc::new(move |c: &mut Conn| exec::serve(c, &cmd, &children, log))
        }
        TcpMode::Chat => {
            let room = chat::Room::new(cfg.log, cfg.hexdump.clone());
            Arc::new(move |c: &mut Conn| chat::serve(c, &room))
        }
        TcpMode::Forward => {
            let fwd = cfg
                .forward
                .clone()
                .ok_or_else(|| anyhow::anyhow!("forward mode without a target"))?;
            let (idle, log) = (cfg.idle_timeout, cfg.log);
            Arc::new(move |c: &mut Conn| forward::serve(c, &fwd, idle, &dump, log))
        }
        TcpMode::Socks5 | TcpMode::HttpProxy => {
            let p = cfg
                .proxy
                .clone()
                .ok_or_else(|| anyhow::anyhow!("proxy mode without its settings"))?;
            if cfg.mode == TcpMode::Socks5 {
                Arc::new(move |c: &mut Conn| proxy::server::socks5(c, &p))
            } else {
                Arc::new(move |c: &mut Conn| proxy::server::http(c, &p))
            }
        }
    };
    serve_accepted(listener, shutdown, cfg, Some(handler), counters)
}

/// The hexdump tap of one connection, when `--hexdump` is on.
pub fn conn_tap(dump: &Option<Arc<crate::hexdump::HexDump>>, conn: &Conn) -> Option<Tap> {
    dump.as_ref().map(|d| d.tap(conn.peer.inet()))
}

/// `--allow`/`--deny`: true when `peer` may connect; a refusal is logged with -v.
/// (Unix peers have no address; the command line refuses rules for them.)
pub fn admit(cfg: &TcpConfig, peer: &Peer) -> bool {
    match peer.ip() {
        None => return true,
        Some(ip) if cfg.acl.permits(ip) => return true,
        Some(_) => {}
    }
    cfg.log.event(
        Level::Verbose,
        "rejected",
        json!({"peer": peer.to_string(), "reason": "acl"}),
        || format!("{peer}: rejected by --allow/--deny"),
    );
    false
}

/// Make `shutdown` wake a blocked `accept` on this listener.
pub fn wake_accept_on_shutdown(listener: &Listener, shutdown: &Shutdown) -> Result<()> {
    let waker = listener.try_clone().context("cannot clone the listener")?;
    shutdown.on_trigger(move || waker.wake());
    Ok(())
}

/// Accept one connection, retrying on errors that concern only that client.
/// `Ok(None)` means the server is stopping.
pub fn accept_one(
    listener: &Listener,
    shutdown: &Shutdown,
    cfg: &TcpConfig,
) -> Result<Option<(Socket, Peer)>> {
    let mut warned = false;
    loop {
        if shutdown.is_triggered() {
            return Ok(None);
        }
        match listener.accept() {
            // An IPv4 client of a `::` listener is shown, filtered and
            // handed to --exec as plain IPv4.
            Ok((socket, Peer::Inet(a))) => {
                return Ok(Some((socket, Peer::Inet(crate::net::canonical(a)))));
            }
            Ok(pair) => return Ok(Some(pair)),
            Err(_) if shutdown.is_triggered() => return Ok(None),
            Err(e) => match e.raw_os_error() {
                Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
                    if !warned {
                        cfg.log.event(
                            Level::Quiet,
                            "accept_failed",
                            json!({"error": e.to_string(), "waiting": true}),
                            || format!("cannot accept: {e}; waiting for connections to end"),
                        );
                        warned = true;
                    }
                    thread::sleep(Duration::from_millis(50));
                }
                Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO | libc::EPERM) => {}
                _ => return Err(anyhow::Error::new(e).context("accept failed")),
            },
        }
    }
}

/// Prepare an accepted socket: socket options and the idle timeout.
pub fn prepare(socket: &Socket, cfg: &TcpConfig) -> io::Result<()> {
    if let Some(tcp) = socket.tcp() {
        cfg.stream.apply(tcp)?;
    }
    socket.set_read_timeout(cfg.idle_timeout)?;
    socket.set_write_timeout(cfg.idle_timeout)?;
    Ok(())
}

/// The stream for an accepted socket: TLS on top with `--tls` (the
/// handshake waits for [`start`]).
pub fn wrap(socket: Socket, cfg: &TcpConfig) -> io::Result<Stream> {
    match &cfg.tls {
        Some(tls) => Ok(Stream::Tls(TlsStream::new(socket, tls.session()?))),
        None => Ok(Stream::Plain(socket)),
    }
}

/// Run the TLS handshake of a new connection, if it has one, on a blocking
/// socket; the idle timeout is restored afterwards.
pub fn start(stream: &Stream, idle_timeout: Option<Duration>) -> io::Result<()> {
    if let Stream::Tls(t) = stream {
        let limit = idle_timeout.map_or(HANDSHAKE_TIMEOUT, |i| i.min(HANDSHAKE_TIMEOUT));
        t.handshake(Some(limit))?;
        stream.socket().set_read_timeout(idle_timeout)?;
    }
    Ok(())
}

/// How a failed handshake reads in a `-v` record.
pub fn handshake_end(e: &io::Error) -> End {
    match crate::transport::tls::as_tls_error(e) {
        Some(t) => End::Error(format!("TLS handshake failed: {t}")),
        None => End::Error(format!("TLS handshake failed: {e}")),
    }
}

/// The accept loop: a thread per connection running `handler`.
pub fn accept_loop(
    listener: Listener,
    shutdown: Shutdown,
    cfg: &TcpConfig,
    handler: Handler,
) -> Result<Summary> {
    serve_accepted(listener, shutdown, cfg, Some(handler), Arc::default())
}

/// Accept, admit and count clients; each runs `handler` on its own thread,
/// or, without one, is echoed by the readiness loops of `evloop`.
fn serve_accepted(
    listener: Listener,
    shutdown: Shutdown,
    cfg: &TcpConfig,
    handler: Option<Handler>,
    totals: Arc<Counters>,
) -> Result<Summary> {
    wake_accept_on_shutdown(&listener, &shutdown)?;
    let live = Arc::new(Live::default());
    let mut workers = match handler {
        Some(_) => None,
        None => {
            let (lv, tot) = (live.clone(), totals.clone());
            let done = Arc::new(move |f: evloop::Finished| {
                tot.bytes_in.fetch_add(f.bytes_in, Ordering::Relaxed);
                tot.bytes_out.fetch_add(f.bytes_out, Ordering::Relaxed);
                lv.remove(f.id);
            });
            let loop_cfg = evloop::LoopConfig {
                cut: live.cut_flag(),
                idle_timeout: cfg.idle_timeout,
                hexdump: cfg.hexdump.clone(),
                log: cfg.log,
            };
            let n = thread::available_parallelism().map_or(2, |n| n.get());
            Some(evloop::Workers::start(n, &loop_cfg, done)?)
        }
    };
    let mut next_id = 0u64;
    let mut listener = Some(listener);
    let budget = fdbudget::Budget::of_process(cfg.mode, cfg.keep_open, cfg.tls.is_some());
    let mut warned_fds = false;

    while let Some(l) = listener.as_ref() {
        if cfg.count.is_some_and(|c| next_id >= c) {
            // Later clients are refused by the kernel, not left hanging.
            listener = None;
            continue;
        }
        if let Some(b) = budget
            && live.len() as u64 >= b.conns
        {
            // The next client would not fit under the open-file limit:
            // it waits in the backlog until a connection ends.
            if !warned_fds {
                let n = live.len();
                cfg.log.event(
                    Level::Quiet,
                    "fd_limit",
                    json!({"limit": b.limit, "connections": n}),
                    || {
                        format!(
                            "open-file limit ({}) reached at {n} connections: new clients wait until one ends",
                            b.limit
                        )
                    },
                );
                warned_fds = true;
            }
            live.wait_below(b.conns, &shutdown);
            if shutdown.is_triggered() {
                break;
            }
            continue;
        }
        let Some((socket, peer)) = accept_one(l, &shutdown, cfg)? else {
            break;
        };
        if !admit(cfg, &peer) {
            totals.rejected.fetch_add(1, Ordering::Relaxed);
            continue; // dropping the stream closes it
        }
        if cfg.max_conns.is_some_and(|m| live.len() as u64 >= m) {
            totals.rejected.fetch_add(1, Ordering::Relaxed);
            cfg.log.event(
                Level::Verbose,
                "rejected",
                json!({"peer": peer.to_string(), "reason": "max_conns"}),
                || format!("{peer}: rejected, --max-conns reached"),
            );
            continue; // dropping the stream closes it
        }
        let stream = match prepare(&socket, cfg).and_then(|()| wrap(socket, cfg)) {
            Ok(s) => s,
            Err(e) => {
                cfg.log.event(
                    Level::Verbose,
                    "dropped",
                    json!({"peer": peer.to_string(), "error": e.to_string()}),
                    || format!("{peer}: dropped: {e}"),
                );
                continue;
            }
        };
        let id = next_id;
        next_id += 1;
        let stream = Arc::new(stream);
        live.insert(id, stream.clone());
        totals.connections.fetch_add(1, Ordering::Relaxed);
        let handler = match (&handler, workers.as_mut()) {
            (Some(h), _) => h.clone(),
            (None, Some(w)) => {
                if let Err(e) = w.hand(evloop::NewConn {
                    id,
                    stream,
                    peer: peer.clone(),
                }) {
                    live.remove(id);
                    cfg.log.event(
                        Level::Quiet,
                        "dropped",
                        json!({"peer": peer.to_string(), "error": format!("{e:#}")}),
                        || format!("{peer}: dropped: {e:#}"),
                    );
                }
                continue;
            }
            (None, None) => unreachable!("a handler or event-loop workers exist"),
        };
        let (h, lv, tot, log, idle, who) = (
            handler,
            live.clone(),
            totals.clone(),
            cfg.log,
            cfg.idle_timeout,
            peer.clone(),
        );
        let spawned = thread::Builder::new()
            .name(format!("conn-{id}"))
            .stack_size(CONN_STACK)
            .spawn(move || {
                let started = Instant::now();
                let mut conn = Conn {
                    stream,
                    peer: who,
                    id,
                    bytes_in: 0,
                    bytes_out: 0,
                };
                let mut end = match start(&conn.stream, idle) {
                    Ok(()) => h(&mut conn),
                    Err(e) => handshake_end(&e),
                };
                if lv.cut() {
                    end = end.cut();
                }
                tot.bytes_in.fetch_add(conn.bytes_in, Ordering::Relaxed);
                tot.bytes_out.fetch_add(conn.bytes_out, Ordering::Relaxed);
                log.connection(&ConnRecord {
                    peer: conn.peer.clone(),
                    bytes_in: conn.bytes_in,
                    bytes_out: conn.bytes_out,
                    duration: started.elapsed(),
                    end: end.describe(),
                });
                // Close the socket before it leaves the live list: the
                // open-file budget counts on its descriptor being free.
                drop(conn);
                lv.remove(id);
            });
        if let Err(e) = spawned {
            live.remove(id);
            cfg.log
                .warn(&format!("{peer}: dropped, cannot start a thread: {e}"));
        }
    }
    drop(listener);

    // --count reached: let the last clients finish, unless a stop arrives.
    if !shutdown.is_triggered() {
        live.wait_empty(None, Some(&shutdown));
    }
    let waiting = live.len();
    if waiting > 0 {
        // Say what a stop waits for, and how to cut it short.
        cfg.log.event(
            Level::Normal,
            "stopping",
            json!({"connections": waiting, "grace_s": crate::log::secs(cfg.grace)}),
            || {
                format!(
                    "stopping: waiting up to {} for {waiting} connection{} to finish (Ctrl-C again to quit now)",
                    format_duration(cfg.grace),
                    if waiting == 1 { "" } else { "s" }
                )
            },
        );
    }
    if !live.wait_empty(Some(Instant::now() + cfg.grace), None) {
        let n = live.len();
        cfg.log
            .event(Level::Normal, "cutting", json!({"connections": n}), || {
                format!("grace period over: cutting {n} connection(s)")
            });
        live.close_all();
        live.wait_empty(Some(Instant::now() + Duration::from_secs(2)), None);
    }
    if let Some(w) = workers {
        w.stop();
    }
    Ok(totals.summary())
}
