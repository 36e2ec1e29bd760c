//! Datagram listen mode's other half (UDP and Unix): each stdin line goes to the peer heard
//! from last, and counts as sent.

use std::fmt::Display;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{Context, Result};
use serde_json::json;

use super::UdpConfig;
use crate::hexdump::Direction;
use crate::log::Level;
use crate::pipe;

/// The largest datagram UDP can carry.
const MAX_DATAGRAM: usize = 65536;

/// Listen mode: each stdin line goes to the peer heard from last, by
/// `send`; its bytes count as sent. `ip_of` gives the peer's address for
/// the hexdump (none for a Unix peer).
pub fn spawn<P, F>(
    cfg: &UdpConfig,
    last_peer: Arc<Mutex<Option<P>>>,
    sent: Arc<AtomicU64>,
    send: F,
    ip_of: fn(&P) -> Option<SocketAddr>,
) -> Result<()>
where
    P: Clone + Display + Send + 'static,
    F: Fn(&[u8], &P) -> io::Result<usize> + Send + 'static,
{
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
                let peer = last_peer.lock().ok().and_then(|p| p.clone());
                match peer {
                    Some(p) => {
                        // Counted before the send: the peer may act on the
                        // datagram (and the server be asked for its summary)
                        // before this thread runs again. A datagram goes
                        // whole or not at all, so a failure takes it back.
                        sent.fetch_add(line.len() as u64, Ordering::Relaxed);
                        match send(&line, &p) {
                            Ok(_) => {
                                if let Some(d) = &dump {
                                    d.record(Direction::Out, ip_of(&p), 0, &line);
                                }
                            }
                            Err(e) => {
                                sent.fetch_sub(line.len() as u64, Ordering::Relaxed);
                                log.event(
                                    Level::Quiet,
                                    "send_failed",
                                    json!({"peer": p.to_string(), "error": e.to_string()}),
                                    || format!("cannot send to {p}: {e}"),
                                )
                            }
                        }
                    }
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
