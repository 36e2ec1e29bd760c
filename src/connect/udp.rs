//! `connect -u`: each chunk read from stdin is one datagram; replies go to
//! stdout. After stdin EOF, replies are awaited until `--reply-timeout`
//! passes without one; if none ever came, the exit code says "no reply".

use std::io::{Read, Write};
use std::sync::mpsc;
use std::thread;

use anyhow::{Context, Result};

use super::ConnectConfig;
use crate::error::Failure;
use crate::net;
use crate::pipe;
use crate::transport::dgram::Dgram;
use crate::transport::unix;

const MAX_DATAGRAM: usize = 65536;

enum Event {
    Reply,
    Refused,
    StdinEof,
    StdinError(std::io::Error),
    OutputClosed,
}

/// Run a datagram session: UDP, or a Unix datagram socket (`-U -u`; the
/// client binds an autobound abstract name so replies can come back).
pub fn run(cfg: &ConnectConfig) -> Result<()> {
    let socket: Dgram = match &cfg.unix {
        Some(addr) => unix::connect_datagram(addr)
            .with_context(|| format!("cannot reach {addr}"))?
            .into(),
        None => net::connect_udp(&cfg.host, cfg.port, &cfg.connect)?.into(),
    };
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

    let mut replies = 0u64;
    let mut stdin_done = false;
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
            Event::Reply => replies += 1,
            Event::StdinEof => stdin_done = true,
            Event::StdinError(e) => return Err(anyhow::Error::new(e).context("cannot read stdin")),
            Event::OutputClosed => return Ok(()),
            Event::Refused => {
                let what = match &cfg.unix {
                    Some(a) => format!("{a}: nothing listens there"),
                    None => format!(
                        "{}:{}: port unreachable (nothing listens there)",
                        cfg.host, cfg.port
                    ),
                };
                return Err(anyhow::Error::new(std::io::Error::from(
                    std::io::ErrorKind::ConnectionRefused,
                ))
                .context(what));
            }
        }
    }
    if replies == 0 {
        let from = match &cfg.unix {
            Some(a) => a.to_string(),
            None => format!("{}:{}", cfg.host, cfg.port),
        };
        return Err(Failure::NoReply(format!(
            "no reply from {from} within {}",
            crate::units::format_duration(cfg.reply_timeout)
        ))
        .into());
    }
    Ok(())
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
                        if tx.send(Event::Reply).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        let _ = tx.send(Event::Refused);
                        return;
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
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => match socket.send(&buf[..n]) {
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                            let _ = tx.send(Event::Refused);
                            return;
                        }
                        Err(e) => {
                            let _ = tx.send(Event::StdinError(e));
                            return;
                        }
                    },
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
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
