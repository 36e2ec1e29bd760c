//! A loop's client table, borrowed apart from its log batch (so a busy
//! script's hook can accept and serve clients mid-round), and accepting
//! new clients into it.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

use mio::net::TcpListener as MioListener;
use mio::{Interest, Poll, Token};

use crate::kv::conn::Conn;
use crate::kv::session::Session;
use crate::kv::shared::Shared;
use crate::kv::stream::KvStream;

/// A loop's clients and poll.
pub(crate) struct Clients<'a> {
    pub(crate) id: usize,
    pub(crate) sh: &'a Shared,
    pub(crate) poll: &'a mut Poll,
    pub(crate) conns: &'a mut Vec<Option<Conn>>,
    pub(crate) free: &'a mut Vec<usize>,
    pub(crate) by_id: &'a mut HashMap<u64, usize>,
}

impl Clients<'_> {
    /// Accept every pending connection and register it.
    pub(crate) fn accept_all(&mut self, listener: &MioListener) {
        loop {
            let (mut stream, peer) = match listener.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.sh.fd_limited.store(false, Ordering::Relaxed);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE/ENFILE: keep serving; accept again when a
                    // descriptor frees up. One line per episode: it ends
                    // when the backlog is empty (WouldBlock above), not at
                    // the first accept a freed descriptor allows.
                    if !self.sh.fd_limited.swap(true, Ordering::Relaxed) {
                        self.sh.cfg.log.warn(&format!(
                            "accept failed: {e}; waiting for a client to leave before accepting more"
                        ));
                    }
                    return;
                }
            };
            let st = &self.sh.stats;
            if !self.sh.cfg.acl.permits(peer.ip()) {
                st.rejected.fetch_add(1, Ordering::Relaxed);
                self.sh.cfg.log.event(
                    crate::log::Level::Verbose,
                    "rejected",
                    serde_json::json!({"peer": peer.to_string(), "reason": "acl"}),
                    || format!("{peer}: refused by --allow/--deny"),
                );
                continue;
            }
            if self.sh.registry.len() >= self.sh.cfg.max_conns {
                st.rejected.fetch_add(1, Ordering::Relaxed);
                let _ = stream.write(b"-ERR max number of clients reached\r\n");
                self.sh.cfg.log.event(
                    crate::log::Level::Verbose,
                    "rejected",
                    serde_json::json!({"peer": peer.to_string(), "reason": "max_conns"}),
                    || format!("{peer}: rejected, --max-conns reached"),
                );
                continue;
            }
            let _ = stream.set_nodelay(true);
            let settings = self.sh.settings();
            if settings.tcp_keepalive > 0 {
                let ka = Duration::from_secs(settings.tcp_keepalive);
                let sock = socket2::SockRef::from(&stream);
                let _ = sock.set_tcp_keepalive(
                    &socket2::TcpKeepalive::new()
                        .with_time(ka)
                        .with_interval((ka / 3).max(Duration::from_secs(1)))
                        .with_retries(3),
                );
            }
            use std::os::fd::AsRawFd;
            let laddr = stream.local_addr().unwrap_or(self.sh.addr);
            let fd = stream.as_raw_fd();
            let mut stream = match KvStream::new(stream, self.sh.cfg.tls.as_ref()) {
                Ok(s) => s,
                Err(e) => {
                    self.sh.cfg.log.warn(&format!("{peer}: {e}"));
                    continue;
                }
            };
            let i = self.free.pop().unwrap_or_else(|| {
                self.conns.push(None);
                self.conns.len() - 1
            });
            if let Err(e) = self
                .poll
                .registry()
                .register(&mut stream, Token(i), Interest::READABLE)
            {
                self.sh
                    .cfg
                    .log
                    .warn(&format!("cannot register {peer}: {e}"));
                self.free.push(i);
                continue;
            }
            let handle =
                self.sh
                    .registry
                    .add(peer, laddr, fd, self.id, self.sh.users.default_user());
            st.connections.fetch_add(1, Ordering::Relaxed);
            self.by_id.insert(handle.id, i);
            let sess = Session::new(handle, !self.sh.users.default_needs_auth());
            self.conns[i] = Some(Conn::new(stream, peer, sess));
        }
    }
}
