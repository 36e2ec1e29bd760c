//! Real peers (openssl, socat, ncat, microsocks...) started on port 0: the
//! port is read from what the peer prints once it listens, never guessed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::thread;

use super::PATIENCE;

/// A peer process, killed when dropped.
pub struct Peer {
    pub child: Child,
    pub port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `cmd`, read its stdout and stderr until a line contains `marker`,
/// and take the port from the end of the text that follows it
/// (`ACCEPT 127.0.0.1:41234`, `listening on AF=2 127.0.0.1:41234`).
pub fn start(mut cmd: Command, marker: &str) -> Peer {
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    // From here on, Drop kills and reaps it whatever happens.
    let mut peer = Peer { child, port: 0 };
    let (tx, rx) = channel::<String>();
    for r in [
        Box::new(peer.child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(peer.child.stderr.take().expect("stderr")),
    ] {
        let tx = tx.clone();
        thread::spawn(move || {
            for line in BufReader::new(r).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    loop {
        let line = rx
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("{cmd:?} never printed '{marker}'"));
        if let Some(rest) = line.split(marker).nth(1) {
            let port: u16 = rest
                .trim()
                .rsplit(':')
                .next()
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or_else(|| panic!("no port in: {line}"));
            // Keep draining its output so it never blocks on a full pipe.
            thread::spawn(move || while rx.recv().is_ok() {});
            peer.port = port;
            return peer;
        }
    }
}

/// Start `cmd` and find the TCP port it listens on from /proc (for peers
/// that bind port 0 and do not say which port they got).
pub fn start_silent(mut cmd: Command) -> Peer {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut peer = Peer { child, port: 0 };
    let t0 = std::time::Instant::now();
    loop {
        if let Some(p) = listening_port(peer.child.id()) {
            peer.port = p;
            return peer;
        }
        if let Ok(Some(st)) = peer.child.try_wait() {
            panic!("{cmd:?} exited before listening: {st}");
        }
        assert!(t0.elapsed() < PATIENCE, "{cmd:?} never listened");
        thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The port of a TCP socket in LISTEN state owned by process `pid`.
pub fn listening_port(pid: u32) -> Option<u16> {
    let mut inodes = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        if let Ok(target) = std::fs::read_link(e.path()) {
            let t = target.to_string_lossy().into_owned();
            if let Some(i) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                inodes.push(i.to_string());
            }
        }
    }
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[3] == "0A" && inodes.iter().any(|i| i == f[9]) {
                let port = f[1].rsplit(':').next()?;
                return u16::from_str_radix(port, 16).ok();
            }
        }
    }
    None
}
