//! The kv server's socket layer: readiness loops over non-blocking sockets.
//!
//! Why not thread-per-connection like the rest of netkit: measured under
//! `redis-benchmark -c 50` on two cores, thread-per-connection reached ~0.78x
//! of redis-server because every request costs two context switches; one
//! readiness loop per core (mio) reached parity. Each loop accepts from the
//! shared listener and serves its clients in rounds:
//!
//! 1. read what each ready client sent (at most [`ROUND_READ`] each);
//! 2. lock the store once, run every complete command, append the round's
//!    log records with one write, unlock ([`Store::round`]);
//! 3. with `--fsync always`, one fsync for everything appended so far;
//! 4. write the replies.
//!
//! If the append fails, the store has already undone the round; the loop
//! rewinds each client's input, output and session to where the round
//! started and runs it again with writes refused (`-MISCONF`), so every
//! reply matches what memory and the log hold. Effects on other loops
//! (`CLIENT KILL`) wait in an outbox until the round commits.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mio::net::TcpListener as MioListener;
use mio::{Events, Interest, Poll, Token, Waker};

use super::cmd::{self, Ctx};
use super::conn::{Conn, OUT_HIGH};
use super::keyspace::Batch;
use super::logfile::Fsync;
use super::protocol::{ParserMark, Proto, Step};
use super::session::Session;
use super::shared::{Config, Msg, Shared};
use super::store::{Store, now_ms};
use super::stream::KvStream;
use crate::log::{ConnRecord, Summary};
use crate::shutdown::Shutdown;

const LISTENER: Token = Token(usize::MAX - 1);
const WAKER: Token = Token(usize::MAX - 2);

/// Serve `listener` until `shutdown` triggers; returns the totals.
pub fn run(
    listener: TcpListener,
    shutdown: Shutdown,
    store: Arc<Store>,
    cfg: Config,
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
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let shared = Arc::new(Shared::new(cfg, store, addr, threads));
    let housekeeping = spawn_housekeeping(shared.clone(), shutdown.clone())?;
    let mut workers = Vec::new();
    for i in 0..threads {
        let l = listener.try_clone().context("cannot clone the listener")?;
        let (sh, sd) = (shared.clone(), shutdown.clone());
        let h = std::thread::Builder::new()
            .name(format!("kv-loop-{i}"))
            .spawn(move || Worker::new(i, &sh).and_then(|mut w| w.run(l, &sd)))
            .context("cannot start an event-loop thread")?;
        workers.push(h);
    }
    let mut first_err = None;
    for w in workers {
        let r = w
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("a kv event loop panicked")));
        if let Err(e) = r {
            shutdown.trigger();
            first_err.get_or_insert(e);
        }
    }
    shutdown.trigger();
    let _ = housekeeping.join();
    if let Some(aof) = shared.store.aof() {
        aof.sync_all().context("cannot fsync the log at shutdown")?;
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let st = &shared.stats;
    Ok(Summary {
        connections: st.connections.load(Ordering::Relaxed),
        rejected: st.rejected.load(Ordering::Relaxed),
        bytes_in: st.net_in.load(Ordering::Relaxed),
        bytes_out: st.net_out.load(Ordering::Relaxed),
    })
}

/// Expired-key sweeps (10 a second, as Redis's hz), the everysec fsync and
/// automatic log compaction.
fn spawn_housekeeping(sh: Arc<Shared>, shutdown: Shutdown) -> Result<std::thread::JoinHandle<()>> {
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
            let mut batch = sh.store.batch();
            let mut cursors = Vec::new();
            loop {
                match rx.recv_timeout(Duration::from_millis(100)) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                {
                    let mut round = sh.store.round(&mut batch);
                    if round.space().active_expire {
                        round.ks(now_ms()).sweep(&mut cursors, 200);
                    }
                    if let Err(e) = round.commit() {
                        sh.cfg
                            .log
                            .warn(&format!("expiry sweep not logged, undone: {}", e.0));
                    }
                }
                let Some(aof) = sh.store.aof() else { continue };
                if last_tick.elapsed() >= Duration::from_secs(1) {
                    last_tick = Instant::now();
                    if let Err(e) = aof.tick() {
                        sh.cfg.log.warn(&format!("cannot fsync the log: {e}"));
                    }
                    if aof.wants_rewrite() {
                        let before = aof.size();
                        match sh.store.rewrite_log() {
                            Ok(true) => sh.cfg.log.info(&format!(
                                "compacted the log from {before} to {} bytes",
                                aof.size()
                            )),
                            Ok(false) => {}
                            Err(e) => sh.cfg.log.warn(&format!("log compaction failed: {e}")),
                        }
                    }
                }
            }
        })?;
    Ok(h)
}

/// Where a client was when the round started (to rewind it).
struct Mark {
    token: usize,
    start: usize,
    parser: ParserMark,
    out_len: usize,
    sess: Session,
    discarding: bool,
}

struct Worker<'a> {
    id: usize,
    sh: &'a Arc<Shared>,
    poll: Poll,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    by_id: HashMap<u64, usize>,
    batch: Batch,
    outbox: Vec<(usize, Msg)>,
}

impl<'a> Worker<'a> {
    fn new(id: usize, sh: &'a Arc<Shared>) -> Result<Worker<'a>> {
        Ok(Worker {
            id,
            sh,
            poll: Poll::new().context("cannot create a poll instance")?,
            conns: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            batch: sh.store.batch(),
            outbox: Vec::new(),
        })
    }

    fn run(&mut self, listener: TcpListener, shutdown: &Shutdown) -> Result<()> {
        let mut listener = MioListener::from_std(listener);
        self.poll
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(self.poll.registry(), WAKER)?);
        self.sh.mailboxes[self.id].set_waker(waker.clone());
        let wake = waker.clone();
        shutdown.on_trigger(move || {
            let _ = wake.wake();
        });
        let mut events = Events::with_capacity(1024);
        let mut ready: Vec<usize> = Vec::new();
        let mut again: Vec<usize> = Vec::new();
        let mut last_tick = Instant::now();
        while !shutdown.is_triggered() {
            let timeout = if again.is_empty() {
                Some(Duration::from_millis(
                    if self.sh.fd_limited.load(Ordering::Relaxed) {
                        100
                    } else {
                        1000
                    },
                ))
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e).context("poll failed");
            }
            for ev in events.iter() {
                match ev.token() {
                    LISTENER => self.accept_all(&listener),
                    WAKER => {
                        for m in self.sh.mailboxes[self.id].drain() {
                            match m {
                                Msg::Kill(id) => {
                                    if let Some(&t) = self.by_id.get(&id) {
                                        if let Some(Some(c)) = self.conns.get_mut(t) {
                                            c.closing.get_or_insert_with(|| {
                                                "killed by CLIENT KILL".into()
                                            });
                                            ready.push(t);
                                        }
                                    }
                                }
                                Msg::Accept => self.accept_all(&listener),
                            }
                        }
                    }
                    Token(i) => {
                        if ev.is_read_closed() || ev.is_error() {
                            // The FIN may sit behind data a short read takes:
                            // read on to the end this time.
                            if let Some(Some(c)) = self.conns.get_mut(i) {
                                c.read_to_end = true;
                            }
                        }
                        ready.push(i);
                    }
                }
            }
            ready.append(&mut again);
            ready.sort_unstable();
            ready.dedup();
            for &i in &ready {
                if let Some(Some(c)) = self.conns.get_mut(i) {
                    if c.closing.is_some() || c.peer_closed {
                        continue;
                    }
                    if c.pending() < OUT_HIGH {
                        c.read_some(max_buffer(&self.sh.cfg));
                    } else {
                        // Output backed up: read later (no new edge will come).
                        c.more = true;
                    }
                }
            }
            self.execute(&ready, None);
            self.finish(&mut ready, &mut again);
            if last_tick.elapsed() >= Duration::from_secs(1)
                || self.sh.fd_limited.load(Ordering::Relaxed)
            {
                last_tick = Instant::now();
                self.housekeep(&listener, &mut again);
            }
        }
        // Shutdown: answer everything received, then close.
        let all: Vec<usize> = (0..self.conns.len())
            .filter(|&i| self.conns[i].is_some())
            .collect();
        self.execute(&all, None);
        for &i in &all {
            if let Some(Some(c)) = self.conns.get_mut(i) {
                c.closing.get_or_insert_with(|| "server shutdown".into());
            }
        }
        let mut all = all;
        self.finish(&mut all, &mut Vec::new());
        for i in 0..self.conns.len() {
            if self.conns[i].is_some() {
                self.close(i, "server shutdown");
            }
        }
        Ok(())
    }

    fn accept_all(&mut self, listener: &MioListener) {
        loop {
            let (mut stream, peer) = match listener.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.sh.fd_limited.store(false, Ordering::Relaxed);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE/ENFILE: keep serving; accept again when a
                    // descriptor frees up. One line per episode.
                    if !self.sh.fd_limited.swap(true, Ordering::Relaxed) {
                        self.sh.cfg.log.warn(&format!(
                            "accept failed: {e}; waiting for a client to leave before accepting more"
                        ));
                    }
                    return;
                }
            };
            self.sh.fd_limited.store(false, Ordering::Relaxed);
            let st = &self.sh.stats;
            if !self.sh.cfg.acl.permits(peer.ip()) {
                st.rejected.fetch_add(1, Ordering::Relaxed);
                self.sh.cfg.log.event(
                    crate::log::Level::Verbose,
                    "rejected",
                    serde_json::json!({"peer": peer.to_string(), "reason": "acl"}),
                    || format!("{peer}: refused by --allow/--deny"),
                );
                continue;
            }
            if self.sh.registry.len() >= self.sh.cfg.max_conns {
                st.rejected.fetch_add(1, Ordering::Relaxed);
                let _ = stream.write(b"-ERR max number of clients reached\r\n");
                self.sh.cfg.log.event(
                    crate::log::Level::Verbose,
                    "rejected",
                    serde_json::json!({"peer": peer.to_string(), "reason": "max_conns"}),
                    || format!("{peer}: rejected, --max-conns reached"),
                );
                continue;
            }
            let _ = stream.set_nodelay(true);
            let settings = self.sh.settings();
            if settings.tcp_keepalive > 0 {
                let ka = Duration::from_secs(settings.tcp_keepalive);
                let sock = socket2::SockRef::from(&stream);
                let _ = sock.set_tcp_keepalive(
                    &socket2::TcpKeepalive::new()
                        .with_time(ka)
                        .with_interval((ka / 3).max(Duration::from_secs(1)))
                        .with_retries(3),
                );
            }
            use std::os::fd::AsRawFd;
            let laddr = stream.local_addr().unwrap_or(self.sh.addr);
            let fd = stream.as_raw_fd();
            let mut stream = match KvStream::new(stream, self.sh.cfg.tls.as_ref()) {
                Ok(s) => s,
                Err(e) => {
                    self.sh.cfg.log.warn(&format!("{peer}: {e}"));
                    continue;
                }
            };
            let i = self.free.pop().unwrap_or_else(|| {
                self.conns.push(None);
                self.conns.len() - 1
            });
            if let Err(e) = self
                .poll
                .registry()
                .register(&mut stream, Token(i), Interest::READABLE)
            {
                self.sh
                    .cfg
                    .log
                    .warn(&format!("cannot register {peer}: {e}"));
                self.free.push(i);
                continue;
            }
            let handle = self.sh.registry.add(peer, laddr, fd, self.id);
            st.connections.fetch_add(1, Ordering::Relaxed);
            self.by_id.insert(handle.id, i);
            let sess = Session::new(handle, settings.requirepass.is_none());
            self.conns[i] = Some(Conn::new(stream, peer, sess));
        }
    }

    /// Run every complete command of `tokens` in one locked round; on a
    /// failed log append, rewind and run again refusing writes.
    fn execute(&mut self, tokens: &[usize], refuse: Option<&str>) {
        let logging = self.sh.store.aof().is_some();
        let todo: Vec<usize> = tokens
            .iter()
            .copied()
            .filter(|&i| {
                matches!(self.conns.get(i), Some(Some(c)) if c.has_input() && c.pending() < OUT_HIGH && !c.sess.close)
            })
            .collect();
        if todo.is_empty() {
            return;
        }
        let mut marks: Vec<Mark> = Vec::new();
        let mut wrote: Vec<usize> = Vec::new();
        let sh = self.sh;
        let calls = &sh.calls[self.id];
        let commit = {
            let mut round = sh.store.round(&mut self.batch);
            for &i in &todo {
                let Some(Some(c)) = self.conns.get_mut(i) else {
                    continue;
                };
                if logging {
                    marks.push(Mark {
                        token: i,
                        start: c.start,
                        parser: c.parser.mark(),
                        out_len: c.out.buf.len(),
                        sess: c.sess.clone(),
                        discarding: c.discarding,
                    });
                }
                let before = round.log_len();
                run_commands(c, &mut round, sh, &mut self.outbox, calls, refuse);
                if round.log_len() != before {
                    wrote.push(i);
                }
            }
            round.commit()
        };
        match commit {
            Ok(pos) => {
                for (w, m) in self.outbox.drain(..) {
                    match m {
                        Msg::Kill(id) if w == self.id => {
                            if let Some(&t) = self.by_id.get(&id) {
                                if let Some(Some(c)) = self.conns.get_mut(t) {
                                    c.closing
                                        .get_or_insert_with(|| "killed by CLIENT KILL".into());
                                }
                            }
                        }
                        m => {
                            if let Some(mb) = sh.mailboxes.get(w) {
                                mb.send(m);
                            }
                        }
                    }
                }
                if let (Some(pos), Some(aof)) = (pos, sh.store.aof()) {
                    if aof.fsync() == Fsync::Always {
                        if let Err(e) = aof.sync_to(pos) {
                            sh.cfg.log.warn(&format!(
                                "cannot fsync the log: {e}; refusing writes from now on"
                            ));
                            // Never acknowledge what may not be on disk.
                            for m in &marks {
                                if !wrote.contains(&m.token) {
                                    continue;
                                }
                                if let Some(Some(c)) = self.conns.get_mut(m.token) {
                                    c.out.buf.truncate(m.out_len);
                                    c.out.err(&format!(
                                        "MISCONF Errors writing to the AOF file: fsync failed: {e}"
                                    ));
                                    c.closing = Some(format!("log fsync failed: {e}"));
                                }
                            }
                        }
                    }
                }
            }
            Err(e) => {
                sh.cfg.log.warn(&format!(
                    "{}; the round was undone and its writes refused",
                    e.0
                ));
                self.outbox.clear();
                if refuse.is_some() {
                    return; // cannot happen: a refusing round writes nothing
                }
                for m in marks {
                    if let Some(Some(c)) = self.conns.get_mut(m.token) {
                        c.start = m.start;
                        c.parser.rewind(m.parser);
                        c.out.buf.truncate(m.out_len);
                        c.out.resp3 = m.sess.handle.resp.load(Ordering::Relaxed) == 3;
                        c.sess = m.sess;
                        c.discarding = m.discarding;
                        c.closing = None;
                    }
                }
                let why = e.0.trim_start_matches("cannot write the log: ").to_string();
                self.execute(&todo, Some(&why));
            }
        }
    }

    /// Flush output, close what must close, schedule what must come back.
    fn finish(&mut self, ready: &mut Vec<usize>, again: &mut Vec<usize>) {
        let limit = self.sh.settings.read().map_or(0, |s| s.output_limit) as usize;
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

    fn housekeep(&mut self, listener: &MioListener, again: &mut Vec<usize>) {
        if self.sh.fd_limited.load(Ordering::Relaxed) {
            self.accept_all(listener);
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

    fn close(&mut self, i: usize, why: &str) {
        let Some(mut c) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        let _ = c.flush();
        let _ = self.poll.registry().deregister(&mut c.stream);
        self.free.push(i);
        self.by_id.remove(&c.sess.id);
        self.sh.registry.remove(c.sess.id);
        {
            let sh = self.sh;
            let mut batch = std::mem::take(&mut self.batch);
            if !c.sess.watched.is_empty() {
                let mut round = sh.store.round(&mut batch);
                round.space().unwatch(c.sess.id, &c.sess.watched);
                let _ = round.commit();
            }
            self.batch = batch;
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
fn complete_waiting(c: &Conn) -> bool {
    c.pending() < OUT_HIGH && !c.sess.close
}

fn max_buffer(cfg: &Config) -> usize {
    cfg.limits
        .max_bulk
        .saturating_add(cfg.limits.max_line)
        .saturating_add(1 << 20)
}

/// Run the complete commands in `c`'s input.
fn run_commands(
    c: &mut Conn,
    round: &mut super::store::Round<'_>,
    sh: &Shared,
    outbox: &mut Vec<(usize, Msg)>,
    calls: &[AtomicU64],
    refuse: Option<&str>,
) {
    let lim = sh.cfg.limits;
    let mut n = 0u64;
    while c.start < c.filled
        && c.out.buf.len() - c.out_pos < OUT_HIGH
        && !c.sess.close
        && c.closing.is_none()
    {
        let Conn {
            inbuf,
            start,
            filled,
            parser,
            out,
            sess,
            closing,
            discarding,
            ..
        } = c;
        let data = &inbuf[*start..*filled];
        if *discarding {
            match data.iter().position(|&b| b == b'\n') {
                Some(p) => {
                    *start += p + 1;
                    *discarding = false;
                    continue;
                }
                None => {
                    *start = *filled;
                    break;
                }
            }
        }
        match parser.next(data, &lim) {
            Step::Incomplete => break,
            Step::Skip(k) => *start += k,
            Step::BadLine(k, why) => {
                *start += k;
                if k == data.len() && !data.ends_with(b"\n") {
                    *discarding = true;
                }
                out.buf.extend_from_slice(format!("ERR {why}\n").as_bytes());
            }
            Step::Fatal(why) => {
                out.err(&format!("ERR Protocol error: {why}"));
                *closing = Some(format!("protocol error: {why}"));
                *start = *filled;
                break;
            }
            Step::Command { len, inline } => {
                // Most commands have few arguments: no allocation for them.
                let mut small: [&[u8]; 8] = [&[]; 8];
                let mut big: Vec<&[u8]> = Vec::new();
                let argc = if inline {
                    parser.owned.len()
                } else {
                    parser.args.len()
                };
                let argv: &[&[u8]] = if argc <= small.len() {
                    if inline {
                        for (d, a) in small.iter_mut().zip(&parser.owned) {
                            *d = a;
                        }
                    } else {
                        for (d, r) in small.iter_mut().zip(&parser.args) {
                            *d = &data[r.clone()];
                        }
                    }
                    &small[..argc]
                } else {
                    if inline {
                        big.extend(parser.owned.iter().map(|a| a.as_slice()));
                    } else {
                        big.extend(parser.args.iter().map(|r| &data[r.clone()]));
                    }
                    &big
                };
                let mut ctx = Ctx {
                    ks: round.ks(now_ms()),
                    sess,
                    out,
                    srv: sh,
                    outbox,
                    calls,
                    refuse_writes: refuse,
                };
                if parser.proto == Some(Proto::Line) {
                    cmd::line::execute(&mut ctx, argv);
                } else {
                    cmd::dispatch(&mut ctx, argv);
                }
                *start += len;
                n += 1;
            }
        }
    }
    if n > 0 {
        sh.stats.commands.fetch_add(n, Ordering::Relaxed);
        let ms = c.started.elapsed().as_millis() as u64;
        c.sess.handle.last_active.store(ms, Ordering::Relaxed);
    }
}
