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
//! reply matches what memory and the log hold ([`round`]). Effects on other
//! clients (`CLIENT KILL`, the replies of blocked clients a write served,
//! pub/sub messages) wait in an outbox until the round commits (and with
//! `--fsync always`, is on disk). A client parked in a blocking pop runs
//! nothing until its reply comes ([`parked`]). A loop never waits for the
//! store behind a busy script: it answers `-BUSY` instead
//! ([`crate::kv::script::busy`]).

mod busy_poll;
mod clients;
mod closing;
mod parked;
mod round;

pub(crate) use clients::Clients;
use closing::Left;
pub(crate) use round::{drive, replies_done};

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mio::net::TcpListener as MioListener;
use mio::{Events, Interest, Poll, Token, Waker};

use super::conn::{Conn, OUT_HIGH};
use super::keyspace::Batch;
use super::notify;
use super::shared::{Config, Msg, Shared};
use super::store::{Locked, Store, now_ms};
use crate::log::Summary;
use crate::shutdown::Shutdown;

pub(crate) const LISTENER: Token = Token(usize::MAX - 1);
pub(crate) const WAKER: Token = Token(usize::MAX - 2);

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
        default_threads()
    } else {
        cfg.threads
    };
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let shared = Arc::new(Shared::new(cfg, store, addr, threads));
    let _ = shared.shutdown.set(shutdown.clone());
    let housekeeping = spawn_housekeeping(shared.clone(), shutdown.clone())?;
    let flags = shared.scripts.flags.clone();
    shutdown.on_trigger(move || flags.shutdown.store(true, Ordering::SeqCst));
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

/// Drop repeated tokens from `v`, keeping each one's first place.
fn dedup_in_order(v: &mut Vec<usize>, seen: &mut Vec<(usize, usize)>) {
    if v.len() < 2 {
        return;
    }
    seen.clear();
    seen.extend(v.iter().enumerate().map(|(pos, &t)| (t, pos)));
    seen.sort_unstable();
    seen.dedup_by_key(|&mut (t, _)| t);
    seen.sort_unstable_by_key(|&(_, pos)| pos);
    v.clear();
    v.extend(seen.iter().map(|&(t, _)| t));
}

/// One loop per core but one, at least one: the clients a server is tested
/// with run on the same machine. Measured on 2 cores under `redis-benchmark
/// -c 50` (same runs): one loop 75-81k GETs/s, two loops 68-77k, redis-server
/// 73-87k; pipelined (`-P 16`) one loop kept up with two.
fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1).max(1))
        .unwrap_or(1)
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
                    if round.space().active_expire && !round.space().cron_paused {
                        round.space().tracking.current = 0;
                        round.ks(now_ms()).sweep(&mut cursors, 200);
                    }
                    // `expired` events, published once the round is committed.
                    let notify = &mut round.space().notify;
                    let (flags, events) = (notify.flags(), notify.take());
                    // Invalidations of expired keys, likewise.
                    let mut inval: Vec<Vec<Msg>> = Vec::new();
                    round.space().tracking.route(&sh.registry, |to, w, m| {
                        if inval.len() <= w {
                            inval.resize_with(w + 1, Vec::new);
                        }
                        inval[w].push(Msg::Track(to, m));
                    });
                    let committed = round.commit();
                    if committed.is_ok() {
                        for (w, ms) in inval.into_iter().enumerate() {
                            if let (false, Some(mb)) = (ms.is_empty(), sh.mailboxes.get(w)) {
                                mb.send_all(ms);
                            }
                        }
                    }
                    match committed {
                        Ok(_) if !events.is_empty() => notify::post(&sh, flags, &events),
                        Ok(_) => {}
                        Err(e) => sh
                            .cfg
                            .log
                            .warn(&format!("expiry sweep not logged, undone: {}", e.0)),
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

/// Lock the store, or None while a script is busy (the caller answers or
/// retries later instead of waiting).
fn lock_unless_busy(sh: &Shared) -> Option<Locked<'_>> {
    loop {
        if let Some(l) = sh.store.lock_for(Duration::from_millis(20)) {
            return Some(l);
        }
        if sh.scripts.busy() {
            return None;
        }
    }
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
    /// Deadlines of this loop's parked clients: (when, client id).
    deadlines: BTreeSet<(Instant, u64)>,
    /// Clients given output outside their own commands (served blocked
    /// pops, pub/sub pushes, answers while a script was busy): flushed with
    /// the ready clients.
    touched: Vec<usize>,
    /// A busy script's hook consumed a mailbox event.
    missed: bool,
    /// The shared listener (registered with this loop's poll).
    listener: Option<MioListener>,
    /// Closed clients still watching keys or parked, taken out of the
    /// store at once unless a busy script holds it, else at the next round
    /// (closing never waits behind a script).
    leave_later: Vec<Left>,
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
            deadlines: BTreeSet::new(),
            touched: Vec::new(),
            missed: false,
            listener: None,
            leave_later: Vec::new(),
        })
    }

    fn run(&mut self, listener: TcpListener, shutdown: &Shutdown) -> Result<()> {
        let mut listener = MioListener::from_std(listener);
        self.poll
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        self.listener = Some(listener);
        let waker = Arc::new(Waker::new(self.poll.registry(), WAKER)?);
        self.sh.mailboxes[self.id].set_waker(waker.clone());
        let wake = waker.clone();
        shutdown.on_trigger(move || {
            let _ = wake.wake();
        });
        let mut events = Events::with_capacity(1024);
        let mut ready: Vec<usize> = Vec::new();
        let mut again: Vec<usize> = Vec::new();
        let mut seen: Vec<(usize, usize)> = Vec::new();
        let mut last_tick = Instant::now();
        let mut spin = busy_poll::BusyPoll::new(self.sh.cfg.busy_poll, self.sh.loops());
        while !shutdown.is_triggered() {
            let timeout = spin.timeout(if again.is_empty() {
                let tick = Duration::from_millis(if self.sh.fd_limited.load(Ordering::Relaxed) {
                    100
                } else {
                    1000
                });
                Some(self.until_deadline().map_or(tick, |d| d.min(tick)))
            } else {
                Some(Duration::ZERO)
            });
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e).context("poll failed");
            }
            spin.polled(!events.is_empty());
            for ev in events.iter() {
                match ev.token() {
                    LISTENER => self.accept_all(),
                    WAKER => self.drain_mail(&mut ready),
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
            self.expire_parked(&mut ready);
            // Input left from the last pass came first; then this poll's,
            // in the order it arrived (epoll reports it so): clients run in
            // arrival order, as in Redis's one loop. A client that sent
            // UNSUBSCRIBE before another's PUBLISH is unsubscribed first.
            again.append(&mut ready);
            std::mem::swap(&mut again, &mut ready);
            dedup_in_order(&mut ready, &mut seen);
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
            if std::mem::take(&mut self.missed) {
                // A busy script's hook took this event: act on it now.
                self.drain_mail(&mut ready);
            }
            ready.append(&mut self.touched);
            ready.sort_unstable();
            ready.dedup();
            self.finish(&mut ready, &mut again);
            if last_tick.elapsed() >= Duration::from_secs(1)
                || self.sh.fd_limited.load(Ordering::Relaxed)
            {
                last_tick = Instant::now();
                self.housekeep(&mut again);
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

    fn drain_mail(&mut self, ready: &mut Vec<usize>) {
        for m in self.sh.mailboxes[self.id].drain() {
            self.act(m, ready);
        }
    }

    /// Act on one message for this loop; `ready` collects the tokens of
    /// clients to service.
    fn act(&mut self, m: Msg, ready: &mut Vec<usize>) {
        match m {
            Msg::Kill(id) => {
                if let Some(&t) = self.by_id.get(&id) {
                    if let Some(Some(c)) = self.conns.get_mut(t) {
                        c.closing
                            .get_or_insert_with(|| "killed by CLIENT KILL".into());
                        // Close it now, not at its next event.
                        ready.push(t);
                    }
                }
            }
            Msg::CheckChannels(id) => {
                if let Some(&t) = self.by_id.get(&id) {
                    if let Some(Some(c)) = self.conns.get_mut(t) {
                        if !super::users::subscriptions_allowed(&c.sess) {
                            c.closing.get_or_insert_with(|| {
                                "killed: its user may no longer use its channels".into()
                            });
                            ready.push(t);
                        }
                    }
                }
            }
            Msg::Accept => self.accept_all(),
            Msg::Unblock(id, reply) => self.deliver(id, reply, ready),
            Msg::Push(id, m) => {
                if let Some(t) = self.deliver_push(id, &m) {
                    ready.push(t);
                }
            }
            Msg::Track(id, m) => {
                let t = self.by_id.get(&id).copied();
                if let Some((t, Some(c))) = t.and_then(|t| Some((t, self.conns.get_mut(t)?))) {
                    if c.closing.is_none() && m.deliver(c.sess.pubsub.active(), &mut c.out) {
                        ready.push(t);
                    }
                }
            }
            Msg::Monitor(id, line) => {
                let t = self.by_id.get(&id).copied();
                if let Some((t, Some(c))) = t.and_then(|t| Some((t, self.conns.get_mut(t)?))) {
                    if c.closing.is_none() && c.sess.monitor {
                        c.out.buf.extend_from_slice(&line);
                        ready.push(t);
                    }
                }
            }
        }
    }

    fn accept_all(&mut self) {
        let Some(l) = self.listener.as_ref() else {
            return;
        };
        Clients {
            id: self.id,
            sh: self.sh,
            poll: &mut self.poll,
            conns: &mut self.conns,
            free: &mut self.free,
            by_id: &mut self.by_id,
        }
        .accept_all(l);
    }

    /// Hand a published message to one of this loop's clients; its token
    /// if it got output.
    fn deliver_push(&mut self, id: u64, m: &super::pubsub::PubMsg) -> Option<usize> {
        let &t = self.by_id.get(&id)?; // none: gone meanwhile
        let c = self.conns.get_mut(t)?.as_mut()?;
        (c.closing.is_none() && m.deliver(&c.sess.pubsub, &mut c.out)).then_some(t)
    }
}

pub(crate) fn max_buffer(cfg: &Config) -> usize {
    cfg.limits
        .max_bulk
        .saturating_add(cfg.limits.max_line)
        .saturating_add(1 << 20)
}

#[cfg(test)]
mod tests {
    use super::dedup_in_order;

    #[test]
    fn dedup_keeps_each_token_at_its_first_place() {
        let mut seen = Vec::new();
        let mut v = vec![7, 3, 7, 1, 3, 9];
        dedup_in_order(&mut v, &mut seen);
        assert_eq!(v, [7, 3, 1, 9]);
        let mut one = vec![4];
        dedup_in_order(&mut one, &mut seen);
        assert_eq!(one, [4]);
    }
}
