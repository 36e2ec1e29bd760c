//! Scripted peers for the prompt's tmux tests: a listener that takes one
//! connection and runs a script on it, `netkit connect` in a tmux pane,
//! and the steps a test hands to its peer.
#![allow(dead_code)]

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::{self, JoinHandle};

use super::tmux::{SCREEN_PATIENCE, Tmux, sh_quote};

/// A peer that takes one connection and runs `script` on it.
pub struct Peer<T> {
    pub addr: SocketAddr,
    handle: Option<JoinHandle<T>>,
}

pub fn peer<T: Send + 'static>(script: impl FnOnce(TcpStream) -> T + Send + 'static) -> Peer<T> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handle = thread::spawn(move || {
        // No read timeout: netkit ends (or the test kills tmux and with it
        // netkit), and the peer's reads end with it.
        let (s, _) = listener.accept().expect("accept");
        script(s)
    });
    Peer {
        addr,
        handle: Some(handle),
    }
}

impl<T> Peer<T> {
    pub fn join(mut self) -> T {
        self.handle
            .take()
            .expect("joined once")
            .join()
            .expect("the peer failed")
    }
}

/// `netkit connect` to `addr` in a fresh tmux pane (history off unless given).
pub fn netkit_in_tmux(
    addr: SocketAddr,
    extra: &str,
    history: Option<&str>,
    size: (u16, u16),
) -> Option<Tmux> {
    let cmd = format!(
        "env NETKIT_HISTORY={} {} connect {extra} {} {}",
        sh_quote(history.unwrap_or("")),
        sh_quote(env!("CARGO_BIN_EXE_netkit")),
        addr.ip(),
        addr.port()
    );
    Tmux::start(&cmd, size.0, size.1)
}

/// Steps the test hands to the peer: "go on".
pub fn steps() -> (Sender<()>, Receiver<()>) {
    channel()
}

/// Keep the connection open until netkit closes it.
pub fn hold(s: &mut TcpStream) {
    let _ = s.set_read_timeout(None);
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Wait for the test's "go on".
pub fn step(rx: &Receiver<()>) {
    rx.recv_timeout(SCREEN_PATIENCE)
        .expect("the test never said go");
}
