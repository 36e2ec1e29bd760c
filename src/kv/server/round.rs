//! One round of a loop: run every complete command its ready clients sent
//! with the store locked once, commit the round's log records, and hand out
//! its effects on other clients; on a failed append, rewind the clients and
//! run the round again with writes refused.

use std::io;
use std::sync::atomic::Ordering;

use super::clients::Clients;
use super::closing::leave;
use super::{Worker, lock_unless_busy};
use crate::kv::cmd::{self, Ctx};
use crate::kv::conn::{Conn, OUT_HIGH};
use crate::kv::logfile::Fsync;
use crate::kv::protocol::ParserMark;
use crate::kv::protocol::{Proto, Step};
use crate::kv::script::busy;
use crate::kv::script::run::Interrupt;
use crate::kv::session::Session;
use crate::kv::shared::{Msg, Shared};
use crate::kv::store::now_ms;

/// Where a client was when the round started (to rewind it).
struct Mark {
    token: usize,
    start: usize,
    parser: ParserMark,
    out_len: usize,
    sess: Session,
    discarding: bool,
}

impl Worker<'_> {
    /// Run every complete command of `tokens` in one locked round; on a
    /// failed log append, rewind and run again refusing writes.
    pub(super) fn execute(&mut self, tokens: &[usize], refuse: Option<&str>) {
        let logging = self.sh.store.aof().is_some();
        let todo: Vec<usize> = tokens
            .iter()
            .copied()
            .filter(|&i| {
                matches!(self.conns.get(i), Some(Some(c)) if c.has_input() && c.pending() < OUT_HIGH && !c.sess.close && c.sess.blocked.is_none())
            })
            .collect();
        if todo.is_empty() {
            return;
        }
        let mut marks: Vec<Mark> = Vec::new();
        let mut wrote: Vec<usize> = Vec::new();
        let sh = self.sh;
        let calls = &sh.calls[self.id];
        let Some(locked) = lock_unless_busy(sh) else {
            // Another loop's script is busy: answer -BUSY, never wait.
            for &i in &todo {
                if let Some(Some(c)) = self.conns.get_mut(i) {
                    busy::answer_all(sh, c);
                }
            }
            return;
        };
        let commit = {
            let mut round = sh.store.round_locked(locked, &mut self.batch);
            leave(&mut round, &mut self.leave_later);
            for (k, &i) in todo.iter().enumerate() {
                // Out of `conns` while it runs, so a busy script's hook can
                // serve the loop's other clients.
                let Some(mut owned) = self.conns.get_mut(i).and_then(Option::take) else {
                    continue;
                };
                let c = &mut owned;
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
                let saving = round.sync_wanted();
                let mut lio = busy::LoopIo {
                    clients: Clients {
                        id: self.id,
                        sh,
                        poll: &mut self.poll,
                        conns: &mut self.conns,
                        free: &mut self.free,
                        by_id: &mut self.by_id,
                    },
                    listener: self.listener.as_ref(),
                    skip: if logging { &todo[..k] } else { &[] },
                    done: if logging { &[] } else { &todo[..k] },
                    waiting: &todo[k + 1..],
                    touched: &mut self.touched,
                    missed: &mut self.missed,
                    events: None,
                };
                run_commands(
                    c,
                    &mut round,
                    sh,
                    &mut self.outbox,
                    calls,
                    refuse,
                    Some(&mut lio),
                );
                if round.log_len() != before || round.sync_wanted() != saving {
                    wrote.push(i); // its reply waits for the log (SAVE: the fsync)
                }
                self.conns[i] = Some(owned);
            }
            round.commit()
        };
        match commit {
            Ok(pos) => {
                let mut synced = Ok(());
                let save = std::mem::take(&mut self.batch.sync_wanted);
                if let Some(aof) = sh.store.aof() {
                    if save {
                        synced = aof.sync_all();
                    } else if let (Some(pos), Fsync::Always) = (pos, aof.fsync()) {
                        synced = aof.sync_to(pos);
                    }
                }
                if let Err(e) = &synced {
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
                self.note_parked(&todo);
                self.post(synced.err());
            }
            Err(e) => {
                self.batch.sync_wanted = false; // a SAVE in the re-run asks again
                sh.cfg.log.warn(&format!(
                    "{}; the round was undone and its writes refused",
                    e.0
                ));
                // Undone writes change nothing, but the tracking table has
                // already forgotten their keys: their readers are still told.
                self.outbox.retain(|(_, m)| matches!(m, Msg::Track(..)));
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
                        c.sess
                            .handle
                            .blocked
                            .store(c.sess.blocked.is_some(), Ordering::Relaxed);
                        c.discarding = m.discarding;
                        c.closing = None;
                    }
                }
                let why = e.0.trim_start_matches("cannot write the log: ").to_string();
                self.execute(&todo, Some(&why));
            }
        }
    }

    /// Hand out the round's effects on clients (its outbox), once the
    /// round is committed and, with `--fsync always`, on disk (`unsynced`:
    /// why not; then a served pop is answered `-MISCONF` instead). Effects
    /// on this loop's clients apply now; each other loop gets its batch
    /// with one wakeup.
    fn post(&mut self, unsynced: Option<io::Error>) {
        let mut remote: Vec<Vec<Msg>> = Vec::new();
        let mut outbox = std::mem::take(&mut self.outbox);
        for (w, m) in outbox.drain(..) {
            let m = match (m, &unsynced) {
                // A served pop that may not be on disk: not acknowledged.
                (Msg::Unblock(id, _), Some(e)) => Msg::Unblock(
                    id,
                    format!("-MISCONF Errors writing to the AOF file: fsync failed: {e}\r\n")
                        .into_bytes(),
                ),
                (m, _) => m,
            };
            if w != self.id {
                if remote.len() <= w {
                    remote.resize_with(w + 1, Vec::new);
                }
                remote[w].push(m);
                continue;
            }
            let mut touched = std::mem::take(&mut self.touched);
            self.act(m, &mut touched);
            self.touched = touched;
        }
        self.outbox = outbox;
        for (w, ms) in remote.into_iter().enumerate() {
            if let (false, Some(mb)) = (ms.is_empty(), self.sh.mailboxes.get(w)) {
                mb.send_all(ms);
            }
        }
    }
}

/// Run the complete commands in `c`'s input.
#[allow(clippy::too_many_arguments)]
fn run_commands(
    c: &mut Conn,
    round: &mut crate::kv::store::Round<'_>,
    sh: &Shared,
    outbox: &mut Vec<(usize, Msg)>,
    calls: &[crate::kv::shared::CmdStat],
    refuse: Option<&str>,
    mut interrupt: Option<&mut dyn Interrupt>,
) {
    let lim = sh.cfg.limits;
    let n = drive(c, &lim, |sess, out, line, argv| {
        let mut ctx = Ctx {
            ks: round.ks(now_ms()),
            sess,
            out,
            srv: sh,
            outbox,
            calls,
            refuse_writes: refuse,
            interrupt: match interrupt {
                Some(ref mut i) => Some(&mut **i as &mut dyn Interrupt),
                None => None,
            },
        };
        if line {
            cmd::line::execute(&mut ctx, argv);
        } else {
            let at = ctx.out.buf.len();
            if ctx.sess.reply.muted() {
                ctx.out.pushes = Some(Vec::new());
            }
            cmd::dispatch(&mut ctx, argv);
            cmd::count_error(&mut ctx, at);
            replies_done(ctx.sess, ctx.out, at);
        }
    });
    if n > 0 {
        sh.stats.commands.fetch_add(n, Ordering::Relaxed);
        let ms = c.started.elapsed().as_millis() as u64;
        c.sess.handle.last_active.store(ms, Ordering::Relaxed);
    }
}

/// `CLIENT REPLY`: drop the command's replies (written from `at`) if they
/// are off, and move a `SKIP` on unless the command parked (its reply comes
/// later, and is dropped then).
pub(crate) fn replies_done(sess: &mut Session, out: &mut crate::kv::reply::Out, at: usize) {
    if sess.reply.muted() {
        out.drop_replies(at);
    }
    out.pushes = None;
    if sess.blocked.is_none() {
        sess.reply.command_done();
    }
}

/// Parse the complete commands in `c`'s input and hand each to `run`
/// (session, output, line protocol?, arguments); returns how many ran.
pub(crate) fn drive(
    c: &mut Conn,
    lim: &crate::kv::protocol::Limits,
    mut run: impl FnMut(&mut Session, &mut crate::kv::reply::Out, bool, &[&[u8]]),
) -> u64 {
    let mut n = 0u64;
    while c.start < c.filled
        && c.out.buf.len() - c.out_pos < OUT_HIGH
        && !c.sess.close
        && c.closing.is_none()
        && c.sess.blocked.is_none()
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
        match parser.next(data, lim) {
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
                sess.handle.qbuf.store(data.len(), Ordering::Relaxed);
                run(sess, out, parser.proto == Some(Proto::Line), argv);
                *start += len;
                n += 1;
            }
        }
    }
    n
}
