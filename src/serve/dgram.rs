//! Datagram services on a Unix datagram socket (`serve unix --dgram`):
//! datagrams to stdout (stdin lines to the last peer), echo, discard, and
//! time, one datagram at a time. A peer never gets silence from the time
//! service: anything but `TIME` is answered with an error datagram. A Unix
//! sender that bound no name cannot be answered; that is logged with `-v`.

use std::borrow::Cow;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

use super::services::unix_seconds;
use super::udp::time_reply;
use super::{UdpConfig, UdpMode, udp_stdin};
use crate::hexdump::Direction;
use crate::log::{Level, Summary};
use crate::pipe;
use crate::shutdown::Shutdown;
use crate::transport::dgram::{Dgram, DgramPeer};

/// The largest datagram UDP can carry.
const MAX_DATAGRAM: usize = 65536;

/// Make `shutdown` wake a `recv_from` blocked on `socket`. A Unix socket
/// gets an empty datagram from this process (its path or name is ours
/// alone); UDP sockets are shut down instead (see `udp`).
pub fn wake_on_shutdown(socket: &Dgram, shutdown: &Shutdown) -> Result<()> {
    match socket {
        Dgram::Udp(_) => {}
        Dgram::Unix(s) => {
            let local = s.local_addr().context("cannot read the bound address")?;
            shutdown.on_trigger(move || {
                if let Ok(w) = UnixDatagram::unbound() {
                    let _ = w.send_to_addr(&[], &local);
                }
            });
        }
    }
    Ok(())
}

/// Serve datagrams on a bound Unix datagram socket until `shutdown` (or
/// `--count`), one datagram at a time.
pub fn run(socket: Dgram, shutdown: Shutdown, cfg: &UdpConfig) -> Result<Summary> {
    let last_peer: Arc<Mutex<Option<DgramPeer>>> = Arc::new(Mutex::new(None));
    let mut stdout = None;
    // Bytes stdin lines sent (listen mode).
    let sent = Arc::new(AtomicU64::new(0));
    if cfg.mode == UdpMode::Listen {
        stdout = Some(pipe::stdout_file()?);
        let out = socket.try_clone()?;
        udp_stdin::spawn(
            cfg,
            last_peer.clone(),
            sent.clone(),
            move |line, peer| out.send_to(line, peer),
            |peer| match peer {
                DgramPeer::Inet(a) => Some(*a),
                DgramPeer::Unix(_) => None,
            },
        )?;
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
        if let Some(a) = peer.inet()
            && !cfg.acl.permits(a.ip())
        {
            summary.rejected += 1;
            cfg.log.verbose(&format!(
                "{peer}: datagram ignored: rejected by --allow/--deny"
            ));
            continue;
        }
        if let Some(d) = &cfg.hexdump {
            d.record(Direction::In, peer.inet(), 0, &buf[..n]);
        }
        summary.connections += 1;
        summary.bytes_in += n as u64;
        if cfg.log.level >= Level::Verbose {
            cfg.log.verbose(&format!("{peer}: {n} byte datagram"));
        }
        let data = &buf[..n];
        // Echo sends straight from the receive buffer: nothing per datagram.
        let reply: Option<Cow<[u8]>> = match cfg.mode {
            UdpMode::Echo => Some(Cow::Borrowed(data)),
            UdpMode::Discard | UdpMode::Forward => None,
            UdpMode::Time => Some(Cow::Owned(time_reply(data, unix_seconds()))),
            UdpMode::Listen => {
                if let Ok(mut p) = last_peer.lock() {
                    *p = Some(peer.clone());
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
            if !peer.can_reply() {
                cfg.log
                    .verbose("cannot reply to an unnamed Unix socket (the client bound no name)");
                continue;
            }
            match socket.send_to(&r, &peer) {
                Ok(sent) => {
                    summary.bytes_out += sent as u64;
                    if let Some(d) = &cfg.hexdump {
                        d.record(Direction::Out, peer.inet(), 0, &r);
                    }
                }
                Err(e) => cfg.log.verbose(&format!("{peer}: cannot reply: {e}")),
            }
        }
    }
    summary.bytes_out += sent.load(Ordering::Relaxed);
    Ok(summary)
}
