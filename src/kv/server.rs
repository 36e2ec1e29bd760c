//! The kv server's socket layer: readiness loops over non-blocking sockets.
//!
//! Why not thread-per-connection like the rest of netkit: measured on this
//! machine with a minimal `+PONG` server under `redis-benchmark -c 50`,
//! thread-per-connection reached ~0.78x of redis-server (0.73x pipelined),
//! because every request costs two context switches between 50 threads on
//! two cores; one readiness loop over non-blocking sockets (mio) reached
//! ~0.94x. So each worker thread (one per core) runs a mio `Poll`, accepts
//! from the shared listener and serves its own connections to completion:
//! read everything available, parse and execute every complete command, and
//! answer all of them with one `write` at the end of the round. With a log,
//! the round ends with one [`Aof::commit`](super::aof::Aof::commit) for all
//! connections of the worker before any reply is written (group commit).
//!
//! The store, the parsers and the commands know nothing of this: they take
//! bytes and return bytes, so the loop could be swapped without touching them.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mio::net::TcpListener as MioListener;
use mio::{Events, Interest, Poll, Token, Waker};

use super::command::{self, Action, Ctx, Info};
use super::protocol::{self, Limits, Parsed, Proto};
use super::store::Store;
use super::stream::KvStream;
use crate::log::{ConnRecord, Log, Summary};
use crate::shutdown::Shutdown;

/// Server settings (plain data; `main` builds it from the command line).
#[derive(Debug, Clone)]
pub struct Config {
    /// Parser limits.
    pub limits: Limits,
    /// Most clients at once; the next one gets an error and is closed.
    pub max_conns: usize,
    /// Event-loop threads (0: one per core).
    pub threads: usize,
    /// Diagnostics.
    pub log: Log,
    /// `--tls`: every connection is a TLS session (see `stream`).
    pub tls: Option<crate::transport::tlsconfig::TlsServer>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            max_conns: 10_000,
            threads: 0,
            log: Log::default(),
            tls: None,
        }
    }
}

const LISTENER: Token = Token(usize::MAX - 1);
const WAKER: Token = Token(usize::MAX - 2);
const READ_CHUNK: usize = 64 * 1024;
/// Stop executing a client's commands while this much output waits.
const OUT_HIGH: usize = 1 << 20;

#[derive(Default)]
struct Totals {
    connections: AtomicU64,
    rejected: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    live: AtomicUsize,
}

struct Conn {
    stream: KvStream,
    peer: SocketAddr,
    started: Instant,
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    out: Vec<u8>,
    out_pos: usize,
    proto: Option<Proto>,
    /// Line protocol: skipping the rest of an over-long line.
    discarding: bool,
    /// Close once the output is flushed.
    closing: Option<String>,
    /// More input may be waiting (stopped because of output backlog).
    paused: bool,
    logged: u64,
    bytes_in: u64,
    bytes_out: u64,
    dirty: bool,
}

/// Serve `listener` until `shutdown` triggers; returns the totals.
pub fn run(
    listener: TcpListener,
    shutdown: Shutdown,
    store: Arc<Store>,
    cfg: &Config,
) -> Result<Summary> {
    listener
        .set_nonblocking(true)
        .context("cannot make the listener non-blocking")?;
    let threads = if cfg.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        cfg.threads
    };
    let info = Info {
        appendonly: store.aof().is_some(),
        fsync: match store.aof().map(|a| a.fsync()) {
            Some(super::aof::Fsync::Always) => "always",
            Some(super::aof::Fsync::No) => "no",
            _ => "everysec",
        },
        max_clients: cfg.max_conns,
    };
    let totals = Arc::new(Totals::default());
    let housekeeping = spawn_housekeeping(store.clone(), shutdown.clone(), cfg.log)?;
    let mut workers = Vec::new();
    for i in 0..threads {
        let l = listener.try_clone().context("cannot clone the listener")?;
        let (store, shutdown, totals, cfg) =
            (store.clone(), shutdown.clone(), totals.clone(), cfg.clone());
        let h = std::thread::Builder::new()
            .name(format!("kv-worker-{i}"))
            .spawn(move || worker(l, shutdown, store, &cfg, info, &totals))
            .context("cannot start a worker thread")?;
        workers.push(h);
    }
    let mut first_err = None;
    for w in workers {
        match w.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                shutdown.trigger();
                first_err.get_or_insert(e);
            }
            Err(_) => {
                shutdown.trigger();
                first_err.get_or_insert(anyhow::anyhow!("a kv worker thread panicked"));
            }
        }
    }
    shutdown.trigger();
    let _ = housekeeping.join();
    if let Some(aof) = store.aof() {
        aof.sync_all().context("cannot flush the log at shutdown")?;
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    Ok(Summary {
        connections: totals.connections.load(Ordering::Relaxed),
        rejected: totals.rejected.load(Ordering::Relaxed),
        bytes_in: totals.bytes_in.load(Ordering::Relaxed),
        bytes_out: totals.bytes_out.load(Ordering::Relaxed),
    })
}

/// Expired-key sweeps (each shard about once a second), the everysec fsync
/// and automatic log compaction.
fn spawn_housekeeping(
    store: Arc<Store>,
    shutdown: Shutdown,
    log: Log,
) -> Result<std::thread::JoinHandle<()>> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let tx = std::sync::Mutex::new(tx);
    shutdown.on_trigger(move || {
        if let Ok(t) = tx.lock() {
            let _ = t.send(());
        }
    });
    let h = std::thread::Builder::new()
        .name("kv-housekeeping".into())
        .spawn(move || {
            let mut last_tick = Instant::now();
            loop {
                match rx.recv_timeout(Duration::from_millis(100)) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                store.sweep(7);
                let Some(aof) = store.aof() else { continue };
                if last_tick.elapsed() >= Duration::from_secs(1) {
                    last_tick = Instant::now();
                    if let Err(e) = aof.tick() {
                        log.warn(&format!("cannot fsync the log: {e}"));
                    }
                    if aof.wants_rewrite() {
                        let before = aof.size();
                        match store.rewrite_log() {
                            Ok(true) => log.info(&format!(
                                "compacted the log from {} to {} bytes",
                                before,
                                aof.size()
                            )),
                            Ok(false) => {}
                            Err(e) => log.warn(&format!("log compaction failed: {e}")),
                        }
                    }
                }
            }
        })?;
    Ok(h)
}

fn worker(
    listener: TcpListener,
    shutdown: Shutdown,
    store: Arc<Store>,
    cfg: &Config,
    info: Info,
    totals: &Totals,
) -> Result<()> {
    let mut poll = Poll::new().context("cannot create a poll instance")?;
    let mut listener = MioListener::from_std(listener);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    // Keep a handle here: `trigger` drops its copy right after waking, and
    // closing the eventfd would remove the pending event from epoll.
    let wake = waker.clone();
    shutdown.on_trigger(move || {
        let _ = wake.wake();
    });
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut dirty: Vec<usize> = Vec::new();
    let mut again: Vec<usize> = Vec::new();
    let mut args = Vec::with_capacity(16);
    while !shutdown.is_triggered() {
        let timeout = if again.is_empty() {
            None
        } else {
            Some(Duration::ZERO)
        };
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e).context("poll failed");
        }
        for ev in events.iter() {
            match ev.token() {
                LISTENER => accept_all(&listener, &poll, &mut conns, &mut free, cfg, totals),
                WAKER => {}
                Token(i) => {
                    if let Some(Some(c)) = conns.get_mut(i) {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            serve_input(c, &store, cfg, &info, &mut args);
                        }
                        c.dirty = true;
                        dirty.push(i);
                    }
                }
            }
        }
        for i in std::mem::take(&mut again) {
            if let Some(Some(c)) = conns.get_mut(i) {
                serve_input(c, &store, cfg, &info, &mut args);
                if !c.dirty {
                    c.dirty = true;
                    dirty.push(i);
                }
            }
        }
        finish_round(
            &mut conns, &mut free, &mut dirty, &mut again, &store, &poll, cfg, totals,
        );
    }
    // Shutdown: everything executed so far is committed and answered.
    let all: Vec<usize> = (0..conns.len()).filter(|&i| conns[i].is_some()).collect();
    for &i in &all {
        if let Some(Some(c)) = conns.get_mut(i) {
            c.closing.get_or_insert_with(|| "server shutdown".into());
            c.dirty = true;
        }
    }
    let mut dirty = all;
    finish_round(
        &mut conns, &mut free, &mut dirty, &mut again, &store, &poll, cfg, totals,
    );
    for i in 0..conns.len() {
        if conns[i].is_some() {
            close(
                &mut conns,
                &mut free,
                i,
                &poll,
                cfg,
                totals,
                "server shutdown",
            );
        }
    }
    Ok(())
}

fn accept_all(
    listener: &MioListener,
    poll: &Poll,
    conns: &mut Vec<Option<Conn>>,
    free: &mut Vec<usize>,
    cfg: &Config,
    totals: &Totals,
) {
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // EMFILE and friends: keep serving the clients we have.
                cfg.log.warn(&format!("accept failed: {e}"));
                return;
            }
        };
        let mut stream = match KvStream::new(stream, cfg.tls.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                cfg.log.warn(&format!("{peer}: {e}"));
                continue;
            }
        };
        if totals.live.load(Ordering::Relaxed) >= cfg.max_conns {
            totals.rejected.fetch_add(1, Ordering::Relaxed);
            let _ = stream.write(b"-ERR max number of clients reached\r\n");
            cfg.log
                .verbose(&format!("{peer}: rejected, --max-conns reached"));
            continue;
        }
        let _ = stream.set_nodelay(true);
        let i = free.pop().unwrap_or_else(|| {
            conns.push(None);
            conns.len() - 1
        });
        if let Err(e) = poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            cfg.log.warn(&format!("cannot register {peer}: {e}"));
            free.push(i);
            continue;
        }
        totals.live.fetch_add(1, Ordering::Relaxed);
        totals.connections.fetch_add(1, Ordering::Relaxed);
        conns[i] = Some(Conn {
            stream,
            peer,
            started: Instant::now(),
            buf: vec![0; 16 * 1024],
            start: 0,
            filled: 0,
            out: Vec::with_capacity(16 * 1024),
            out_pos: 0,
            proto: None,
            discarding: false,
            closing: None,
            paused: false,
            logged: 0,
            bytes_in: 0,
            bytes_out: 0,
            dirty: false,
        });
    }
}

/// The largest read buffer a connection may have: one maximal command.
fn max_buffer(lim: &Limits) -> usize {
    lim.max_bulk
        .saturating_add(lim.max_line)
        .saturating_add(64 * 1024)
}

/// Read what is available and execute every complete command, until the
/// socket would block, the client closed, or output piles up.
fn serve_input(
    c: &mut Conn,
    store: &Arc<Store>,
    cfg: &Config,
    info: &Info,
    args: &mut Vec<std::ops::Range<usize>>,
) {
    c.paused = false;
    loop {
        if c.closing.is_some() {
            return;
        }
        execute_buffered(c, store, cfg, info, args);
        if c.closing.is_some() {
            return;
        }
        if c.out.len() - c.out_pos >= OUT_HIGH {
            c.paused = true;
            return;
        }
        // Make room: move the unparsed tail to the front, grow if one
        // command needs more than the buffer holds.
        if c.start > 0 {
            c.buf.copy_within(c.start..c.filled, 0);
            c.filled -= c.start;
            c.start = 0;
        }
        if c.filled == c.buf.len() {
            let want = match c.proto {
                Some(Proto::Resp) => {
                    protocol::resp_hint(&c.buf[..c.filled]).unwrap_or(c.buf.len() * 2)
                }
                _ => c.buf.len() * 2,
            };
            let cap = max_buffer(&cfg.limits);
            if c.buf.len() >= cap {
                c.out
                    .extend_from_slice(b"-ERR Protocol error: request too large\r\n");
                c.closing = Some("request too large".into());
                return;
            }
            let new_len = want.clamp(c.buf.len() + READ_CHUNK, cap);
            c.buf.resize(new_len, 0);
        }
        match c.stream.read(&mut c.buf[c.filled..]) {
            Ok(0) => {
                c.closing = Some("closed by peer".into());
                return;
            }
            Ok(n) => {
                c.filled += n;
                c.bytes_in += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                c.closing = Some(format!("read error: {e}"));
                return;
            }
        }
    }
}

fn execute_buffered(
    c: &mut Conn,
    store: &Arc<Store>,
    cfg: &Config,
    info: &Info,
    args: &mut Vec<std::ops::Range<usize>>,
) {
    let mut ctx = Ctx {
        store,
        logged: c.logged,
        info,
    };
    let mut argv: Vec<&[u8]> = Vec::with_capacity(8);
    while c.start < c.filled && c.out.len() - c.out_pos < OUT_HIGH {
        let data = &c.buf[c.start..c.filled];
        if c.discarding {
            match data.iter().position(|&b| b == b'\n') {
                Some(p) => {
                    c.start += p + 1;
                    c.discarding = false;
                    continue;
                }
                None => {
                    c.start = c.filled;
                    break;
                }
            }
        }
        let proto = *c.proto.get_or_insert(Proto::detect(data[0]));
        let parsed = match proto {
            Proto::Resp => protocol::parse_resp(data, &cfg.limits, args),
            Proto::Line => protocol::parse_line(data, &cfg.limits, args),
        };
        match parsed {
            Ok(Parsed::Incomplete) => break,
            Ok(Parsed::BadLine(n, why)) => {
                c.start += n;
                c.out.extend_from_slice(format!("ERR {why}\n").as_bytes());
            }
            Ok(Parsed::Command(n)) => {
                argv.clear();
                argv.extend(args.iter().map(|r| &data[r.clone()]));
                let action = match proto {
                    Proto::Resp => command::execute(&argv, &mut ctx, &mut c.out),
                    Proto::Line => command::execute_line(&argv, &mut ctx, &mut c.out),
                };
                c.start += n;
                if action == Action::Close {
                    c.closing = Some("QUIT".into());
                    break;
                }
            }
            Err(e) => match proto {
                Proto::Resp => {
                    command::reply::err(&mut c.out, &format!("ERR {}", e.0));
                    c.closing = Some(e.0);
                    break;
                }
                Proto::Line => {
                    c.out.extend_from_slice(format!("ERR {}\n", e.0).as_bytes());
                    c.discarding = true;
                }
            },
        }
    }
    if c.start == c.filled {
        c.start = 0;
        c.filled = 0;
    }
    c.logged = ctx.logged;
}

#[allow(clippy::too_many_arguments)]
fn finish_round(
    conns: &mut [Option<Conn>],
    free: &mut Vec<usize>,
    dirty: &mut Vec<usize>,
    again: &mut Vec<usize>,
    store: &Arc<Store>,
    poll: &Poll,
    cfg: &Config,
    totals: &Totals,
) {
    // One commit covers every connection of this round.
    let upto = dirty
        .iter()
        .filter_map(|&i| conns.get(i)?.as_ref())
        .map(|c| c.logged)
        .max()
        .unwrap_or(0);
    let mut commit_err = None;
    if upto > 0 {
        if let Some(aof) = store.aof() {
            if let Err(e) = aof.commit(upto) {
                cfg.log.warn(&format!("cannot write the log: {e}"));
                commit_err = Some(e.to_string());
            }
        }
    }
    let mut to_close = Vec::new();
    for i in dirty.drain(..) {
        let Some(Some(c)) = conns.get_mut(i) else {
            continue;
        };
        c.dirty = false;
        if let Some(e) = &commit_err {
            if c.logged > 0 {
                // Never acknowledge what is not in the log.
                c.out.clear();
                c.out_pos = 0;
                to_close.push((i, format!("log write failed: {e}")));
                continue;
            }
        }
        match flush(c) {
            Ok(true) => {
                if let Some(why) = c.closing.take() {
                    to_close.push((i, why));
                } else if c.paused {
                    again.push(i);
                }
            }
            Ok(false) => {} // WRITABLE will fire when the socket drains
            Err(e) => to_close.push((i, format!("write error: {e}"))),
        }
    }
    for (i, why) in to_close {
        close(conns, free, i, poll, cfg, totals, &why);
    }
}

/// Write pending output; Ok(true) when all of it went out.
fn flush(c: &mut Conn) -> io::Result<bool> {
    while c.out_pos < c.out.len() {
        match c.stream.write(&c.out[c.out_pos..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                c.out_pos += n;
                c.bytes_out += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    // TLS: the replies are out only once their ciphertext is.
    match c.stream.flush_pending() {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
        Err(e) => return Err(e),
    }
    c.out.clear();
    c.out_pos = 0;
    if c.out.capacity() > 4 * OUT_HIGH {
        c.out = Vec::with_capacity(16 * 1024);
    }
    Ok(true)
}

fn close(
    conns: &mut [Option<Conn>],
    free: &mut Vec<usize>,
    i: usize,
    poll: &Poll,
    cfg: &Config,
    totals: &Totals,
    why: &str,
) {
    let Some(mut c) = conns.get_mut(i).and_then(Option::take) else {
        return;
    };
    let _ = poll.registry().deregister(&mut c.stream);
    free.push(i);
    totals.live.fetch_sub(1, Ordering::Relaxed);
    totals.bytes_in.fetch_add(c.bytes_in, Ordering::Relaxed);
    totals.bytes_out.fetch_add(c.bytes_out, Ordering::Relaxed);
    cfg.log.connection(&ConnRecord {
        peer: crate::transport::Peer::Inet(c.peer),
        bytes_in: c.bytes_in,
        bytes_out: c.bytes_out,
        duration: c.started.elapsed(),
        end: why.to_string(),
    });
}
