//! `connect -u`: each chunk read from stdin is one datagram; replies go to
//! stdout. After stdin EOF, replies are awaited until `--reply-timeout`
//! passes without one. Silence is normal for fire-and-forget datagrams
//! (statsd, syslog): exit 0 like nc, unless `--expect-reply` asks for a
//! reply, then no reply exits 5.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;

use anyhow::{Context, Result};

use super::ConnectConfig;
use crate::error::Failure;
use crate::net;
use crate::pipe::{self, Counters};
use crate::transport::dgram::Dgram;
use crate::transport::unix;

const MAX_DATAGRAM: usize = 65536;

enum Event {
    /// A reply of this many bytes went to stdout.
    Reply(usize),
    /// A datagram of this many bytes left.
    Sent(usize),
    /// An ICMP port unreachable came back for an earlier datagram.
    Refused,
    StdinEof,
    StdinError(std::io::Error),
    OutputClosed,
}

/// Run a datagram session: UDP, or a Unix datagram socket (`-U -u`; the
/// client binds an autobound abstract name so replies can come back).
/// What moved is counted in `counters` (so a summary can read it whatever
/// the outcome). Returns how it ended.
pub fn run(
    cfg: &ConnectConfig,
    counters: &Counters,
    on_peer: impl Fn(SocketAddr),
) -> Result<&'static str> {
    let socket: Dgram = match &cfg.unix {
        Some(addr) => unix::connect_datagram(addr)
            .with_context(|| format!("cannot reach {addr}"))?
            .into(),
        None => net::connect_udp(&cfg.host, cfg.port, &cfg.connect)?.into(),
    };
    if let Dgram::Udp(s) = &socket
        && let Ok(peer) = s.peer_addr()
    {
        on_peer(peer);
    }
    if cfg.verbose {
        match &socket {
            Dgram::Udp(s) => {
                if let (Ok(peer), Ok(local)) = (s.peer_addr(), s.local_addr()) {
                    eprintln!("netkit: sending datagrams to {peer} from {local}");
                }
            }
            Dgram::Unix(_) => eprintln!(
                "netkit: sending datagrams to {} from {}",
                cfg.host,
                socket.describe()
            ),
        }
    }
    let (tx, rx) = mpsc::channel();
    spawn_receiver(socket.try_clone()?, tx.clone())?;
    spawn_sender(socket, tx)?;

    let target = match &cfg.unix {
        Some(a) => a.to_string(),
        None => net::host_port(&cfg.host, cfg.port),
    };
    let mut stdin_done = false;
    let mut refused = false;
    loop {
        let event = if stdin_done {
            match rx.recv_timeout(cfg.reply_timeout) {
                Ok(ev) => ev,
                Err(_) => break,
            }
        } else {
            match rx.recv() {
                Ok(ev) => ev,
                Err(_) => break,
            }
        };
        match event {
            Event::Reply(n) => {
                counters.received.fetch_add(n as u64, Ordering::Relaxed);
            }
            Event::Sent(n) => {
                counters.sent.fetch_add(n as u64, Ordering::Relaxed);
            }
            Event::StdinEof => stdin_done = true,
            Event::StdinError(e) => return Err(anyhow::Error::new(e).context("cannot read stdin")),
            Event::OutputClosed => return Ok("stdout closed"),
            Event::Refused if cfg.expect_reply => {
                return Err(anyhow::Error::new(std::io::Error::from(
                    std::io::ErrorKind::ConnectionRefused,
                ))
                .context(format!(
                    "{target}: port unreachable (nothing listens there)"
                )));
            }
            Event::Refused => {
                // Fire and forget (statsd, syslog): say it once, go on.
                if !refused && !cfg.json {
                    eprintln!(
                        "netkit: {target}: port unreachable (nothing listens there); datagrams are lost"
                    );
                }
                refused = true;
            }
        }
    }
    let received = counters.received.load(Ordering::Relaxed);
    if received == 0 && cfg.expect_reply {
        return Err(Failure::NoReply(format!(
            "no reply from {target} within {}",
            crate::units::format_duration(cfg.reply_timeout)
        ))
        .into());
    }
    Ok(match (received > 0, refused) {
        (true, _) => "replies received",
        (false, true) => "port unreachable",
        (false, false) => "no reply",
    })
}

fn spawn_receiver(socket: Dgram, tx: mpsc::Sender<Event>) -> Result<()> {
    let mut out = pipe::stdout_file()?;
    thread::Builder::new()
        .name("udp-replies".into())
        .spawn(move || {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            loop {
                match socket.recv(&mut buf) {
                    Ok(n) => {
                        if out.write_all(&buf[..n]).is_err() {
                            let _ = tx.send(Event::OutputClosed);
                            return;
                        }
                        if tx.send(Event::Reply(n)).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        if tx.send(Event::Refused).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
        })
        .context("cannot start the receiver thread")?;
    Ok(())
}

fn spawn_sender(socket: Dgram, tx: mpsc::Sender<Event>) -> Result<()> {
    let mut stdin = pipe::stdin_file()?;
    thread::Builder::new()
        .name("udp-send".into())
        .spawn(move || {
            // A datagram carries at most 65507 bytes of payload over IPv4.
            let mut buf = vec![0u8; 65507];
            loop {
                let n = match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = tx.send(Event::StdinError(e));
                        return;
                    }
                };
                // An ICMP error for an earlier datagram is reported by this
                // send instead of sending: report it and send again.
                let mut sent = socket.send(&buf[..n]);
                if matches!(&sent, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused) {
                    let _ = tx.send(Event::Refused);
                    sent = socket.send(&buf[..n]);
                }
                match sent {
                    Ok(k) => {
                        let _ = tx.send(Event::Sent(k));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        let _ = tx.send(Event::Refused);
                    }
                    Err(e) => {
                        let _ = tx.send(Event::StdinError(e));
                        return;
                    }
                }
            }
            let _ = tx.send(Event::StdinEof);
        })
        .context("cannot start the sender thread")?;
    Ok(())
}
