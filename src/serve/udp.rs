//! UDP services on one socket: datagrams to stdout (stdin lines to the last
//! peer), echo, discard, and time. A UDP peer never gets silence from the
//! time service: anything but `TIME` is answered with an error datagram.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{Context, Result};

use super::services::unix_seconds;
use super::{UdpConfig, UdpMode};
use crate::hexdump::Direction;
use crate::log::Summary;
use crate::pipe;
use crate::shutdown::Shutdown;

/// The largest datagram UDP can carry.
const MAX_DATAGRAM: usize = 65536;

/// The time service's answer to one datagram.
pub fn time_reply(datagram: &[u8], now: u64) -> Vec<u8> {
    if datagram.trim_ascii().eq_ignore_ascii_case(b"TIME") {
        format!("{now}\n").into_bytes()
    } else {
        b"ERR unknown request; send TIME for the Unix time\n".to_vec()
    }
}

/// Serve UDP on an already bound socket until `shutdown` (or `--count`).
pub fn run(socket: UdpSocket, shutdown: Shutdown, cfg: &UdpConfig) -> Result<Summary> {
    let waker = socket.try_clone().context("cannot clone the socket")?;
    shutdown.on_trigger(move || {
        // Wakes a blocked recv_from on Linux, even on an unconnected socket.
        let _ = socket2::SockRef::from(&waker).shutdown(std::net::Shutdown::Read);
    });
    let last_peer: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
    let mut stdout = None;
    if cfg.mode == UdpMode::Listen {
        stdout = Some(pipe::stdout_file()?);
        spawn_stdin_sender(socket.try_clone()?, last_peer.clone(), cfg)?;
    }
    let mut summary = Summary::default();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while cfg.count.is_none_or(|c| summary.connections < c) {
        let received = socket.recv_from(&mut buf);
        if shutdown.is_triggered() {
            break;
        }
        let (n, peer) = match received {
            Ok(pair) => pair,
            // An ICMP error for an earlier reply; it concerns that peer only.
            Err(e) => {
                cfg.log.verbose(&format!("receive error: {e}"));
                continue;
            }
        };
        if !cfg.acl.permits(peer.ip()) {
            summary.rejected += 1;
            cfg.log.verbose(&format!(
                "{peer}: datagram ignored: rejected by --allow/--deny"
            ));
            continue;
        }
        if let Some(d) = &cfg.hexdump {
            d.record(Direction::In, Some(peer), 0, &buf[..n]);
        }
        summary.connections += 1;
        summary.bytes_in += n as u64;
        cfg.log.verbose(&format!("{peer}: {n} byte datagram"));
        let data = &buf[..n];
        let reply: Option<Vec<u8>> = match cfg.mode {
            UdpMode::Echo => Some(data.to_vec()),
            UdpMode::Discard => None,
            UdpMode::Time => Some(time_reply(data, unix_seconds())),
            UdpMode::Listen => {
                if let Ok(mut p) = last_peer.lock() {
                    *p = Some(peer);
                }
                if let Some(out) = stdout.as_mut()
                    && let Err(e) = out.write_all(data)
                {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        break;
                    }
                    return Err(anyhow::Error::new(e).context("cannot write to stdout"));
                }
                None
            }
        };
        if let Some(r) = reply {
            match socket.send_to(&r, peer) {
                Ok(sent) => {
                    summary.bytes_out += sent as u64;
                    if let Some(d) = &cfg.hexdump {
                        d.record(Direction::Out, Some(peer), 0, &r);
                    }
                }
                Err(e) => cfg.log.verbose(&format!("{peer}: cannot reply: {e}")),
            }
        }
    }
    Ok(summary)
}

fn spawn_stdin_sender(
    socket: UdpSocket,
    last_peer: Arc<Mutex<Option<SocketAddr>>>,
    cfg: &UdpConfig,
) -> Result<()> {
    let log = cfg.log;
    let stdin = pipe::stdin_file()?;
    if std::io::stdin().is_terminal() {
        log.info("type a line to send it to the last peer");
    }
    thread::Builder::new()
        .name("stdin-to-peer".into())
        .spawn(move || {
            let mut reader = BufReader::new(stdin);
            let mut line = Vec::new();
            loop {
                line.clear();
                match (&mut reader)
                    .take(MAX_DATAGRAM as u64 - 1)
                    .read_until(b'\n', &mut line)
                {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let peer = last_peer.lock().ok().and_then(|p| *p);
                match peer {
                    Some(p) => {
                        if let Err(e) = socket.send_to(&line, p) {
                            log.warn(&format!("cannot send to {p}: {e}"));
                        }
                    }
                    None => log.warn("no peer has sent a datagram yet; line dropped"),
                }
            }
        })
        .context("cannot start the stdin thread")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_answers_time_and_errors_otherwise() {
        assert_eq!(time_reply(b"TIME", 42), b"42\n");
        assert_eq!(time_reply(b"time\r\n", 42), b"42\n");
        assert!(time_reply(b"", 42).starts_with(b"ERR"));
        assert!(time_reply(b"\xff\xfe", 42).starts_with(b"ERR"));
    }
}
