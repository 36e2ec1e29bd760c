//! Closed-loop latency over many connections from a few threads: each thread
//! runs a readiness loop (mio) over its share of non-blocking connections,
//! sending the next request on a connection as soon as its reply is in.
//!
//! Why: with a thread per connection, every reply wakes a sleeping client
//! thread, and at `-c 50` on 2 cores the client spent more CPU than the
//! server it measured, hiding the difference between servers (measured: a
//! readiness-loop client showed netkit's echo at 1.9-2.4x socat's requests/s
//! where thread-per-connection showed 1.5x). `-c 1` keeps the blocking
//! client, whose single round trip is the lowest latency.

use std::io::{self, Read, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use hdrhistogram::Histogram;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::report::StreamFigures;
use crate::transport::Stream;

use super::{BenchConfig, Clock, Meter, Target, nanos, new_histogram, no_reply};

const NEEDS: &str = "latency needs an echo server (netkit serve --echo)";

struct Conn {
    stream: Stream,
    req: Vec<u8>,
    reply: Vec<u8>,
    written: usize,
    got: usize,
    t0: Instant,
    /// When a byte last moved either way: silence is measured from here.
    moved_at: Instant,
    /// No request outstanding and none will be sent: the run is over.
    done: bool,
    /// Poll saw the server's FIN (or an error): read on to EOF, since no
    /// later edge will say so.
    hup: bool,
    fig: StreamFigures,
    hist: Histogram<u64>,
    last: Instant,
}

/// Ping-pong on every `(id, stream, request)` until the clock says stop;
/// returns one figure and histogram per connection.
pub fn closed_loop(
    conns: Vec<(usize, Stream, Vec<u8>)>,
    cfg: &BenchConfig,
    clock: &Clock,
    meter: &Meter,
    target: &Target,
) -> Result<Vec<(StreamFigures, Histogram<u64>)>> {
    let mut poll = Poll::new()?;
    let mut state = Vec::with_capacity(conns.len());
    for (i, (id, stream, req)) in conns.into_iter().enumerate() {
        stream.set_nonblocking(true)?;
        poll.registry().register(
            &mut SourceFd(&stream.raw_fd()),
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let now = Instant::now();
        let reply = vec![0u8; req.len()];
        state.push(Conn {
            stream,
            reply,
            req,
            written: 0,
            got: 0,
            t0: now,
            moved_at: now,
            done: false,
            hup: false,
            fig: StreamFigures {
                id,
                ..Default::default()
            },
            hist: new_histogram(),
            last: clock.measure,
        });
    }
    for c in &mut state {
        progress(c, clock, meter, target)?;
    }
    let mut events = Events::with_capacity(256);
    while state.iter().any(|c| !c.done) {
        let wait = Duration::from_millis(50).min(cfg.timeout);
        poll.poll(&mut events, Some(wait))?;
        for ev in events.iter() {
            if let Some(c) = state.get_mut(ev.token().0) {
                c.hup |= ev.is_read_closed() || ev.is_error();
                progress(c, clock, meter, target)?;
            }
        }
        // A server that swallows requests (discard) is told by the silence.
        let now = Instant::now();
        if state
            .iter()
            .any(|c| !c.done && now.duration_since(c.moved_at) > cfg.timeout)
        {
            return Err(no_reply(target, cfg.timeout, NEEDS));
        }
        if meter.stopped() {
            break;
        }
    }
    Ok(state
        .into_iter()
        .map(|mut c| {
            c.fig.secs = c.last.duration_since(clock.measure).as_secs_f64();
            (c.fig, c.hist)
        })
        .collect())
}

/// Send what the socket takes now of the rest of the request; true if
/// anything moved.
fn write_some(c: &mut Conn, target: &Target) -> Result<bool> {
    let mut moved = false;
    while c.written < c.req.len() {
        match (&c.stream).write(&c.req[c.written..]) {
            Ok(0) => return Err(anyhow!("{} stopped reading: {NEEDS}", target.describe())),
            Ok(n) => {
                c.written += n;
                moved = true;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot send to {}", target.describe()))
                );
            }
        }
    }
    Ok(moved)
}

/// Read what has arrived of the reply; true if anything moved.
fn read_some(c: &mut Conn, target: &Target) -> Result<bool> {
    let mut moved = false;
    while c.got < c.reply.len() {
        match (&c.stream).read(&mut c.reply[c.got..]) {
            Ok(0) => {
                return Err(anyhow!(
                    "{} closed the connection mid-reply: {NEEDS}",
                    target.describe()
                ));
            }
            Ok(n) => {
                let asked = c.reply.len() - c.got;
                c.got += n;
                moved = true;
                if n < asked && !c.hup {
                    // Drained: data or a FIN arriving later raises a new
                    // edge (one already seen does not: `hup`).
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot read from {}", target.describe())));
            }
        }
    }
    Ok(moved)
}

/// Move one connection along: write the request and read the reply as the
/// socket allows, and when the reply is complete, record it and send the
/// next one.
fn progress(c: &mut Conn, clock: &Clock, meter: &Meter, target: &Target) -> Result<()> {
    loop {
        if c.done {
            return Ok(());
        }
        // Write and read in turns until neither can move: a request larger
        // than the socket buffers is echoed while it is still being sent,
        // and the server cannot send its echo until it is read.
        while c.got < c.reply.len() {
            let fresh = c.written == 0;
            let wrote = write_some(c, target)?;
            if fresh && c.written == c.req.len() && !c.hup {
                // A whole new request is out: its reply raises an edge when
                // it comes, so reading now would only say WouldBlock.
                c.moved_at = Instant::now();
                return Ok(());
            }
            let read = read_some(c, target)?;
            if !wrote && !read {
                return Ok(());
            }
            c.moved_at = Instant::now();
        }
        let t1 = Instant::now();
        if c.reply != c.req {
            return Err(anyhow!(
                "the reply from {} differs from the request: {NEEDS}",
                target.describe()
            ));
        }
        let size = c.req.len() as u64;
        c.fig.sent += size;
        c.fig.received += size;
        if c.t0 >= clock.measure {
            c.hist.saturating_record(nanos(t1 - c.t0).max(1));
            c.fig.ops += 1;
            c.fig.measured += 2 * size;
            meter.ops.fetch_add(1, Ordering::Relaxed);
            c.last = t1;
        }
        // Next request, unless the run is over.
        if clock.over(t1) || meter.stopped() {
            c.done = true;
            return Ok(());
        }
        c.written = 0;
        c.got = 0;
        c.t0 = t1;
    }
}
