//! UDP listen mode's other half: each stdin line goes to the peer heard
//! from last, and counts as sent.

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{Context, Result};
use serde_json::json;

use super::UdpConfig;
use crate::hexdump::Direction;
use crate::log::Level;
use crate::net;
use crate::pipe;

/// The largest datagram UDP can carry.
const MAX_DATAGRAM: usize = 65536;

/// Listen mode: each stdin line goes to the peer heard from last; its
/// bytes count as sent.
pub fn spawn(
    socket: &UdpSocket,
    cfg: &UdpConfig,
    last_peer: Arc<Mutex<Option<SocketAddr>>>,
    sent: Arc<AtomicU64>,
) -> Result<()> {
    let socket = socket.try_clone().context("cannot clone the socket")?;
    let (log, dump) = (cfg.log, cfg.hexdump.clone());
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
                    Some(p) => match socket.send_to(&line, p) {
                        Ok(n) => {
                            sent.fetch_add(n as u64, Ordering::Relaxed);
                            if let Some(d) = &dump {
                                d.record(Direction::Out, Some(net::canonical(p)), 0, &line);
                            }
                        }
                        Err(e) => log.event(
                            Level::Quiet,
                            "send_failed",
                            json!({"peer": p.to_string(), "error": e.to_string()}),
                            || format!("cannot send to {p}: {e}"),
                        ),
                    },
                    None => log.event(
                        Level::Quiet,
                        "line_dropped",
                        json!({"reason": "no_peer", "bytes": line.len()}),
                        || "no peer has sent a datagram yet; line dropped".into(),
                    ),
                }
            }
        })
        .context("cannot start the stdin thread")?;
    Ok(())
}
