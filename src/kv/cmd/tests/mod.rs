//! Unit tests per command family, against Redis's documented replies (the
//! RESP bytes Redis 7.0 sends), through the real dispatch and store.

mod blocking;
mod connection;
mod geo;
mod hashes;
mod keys;
mod lists;
mod notify;
mod scripting;
mod server;
mod sets;
mod sort;
mod strings;
mod transactions;
mod types;
mod zsets;

use std::net::SocketAddr;
use std::sync::Arc;

use super::{Ctx, dispatch};
use crate::kv::keyspace::Batch;
use crate::kv::reply::Out;
use crate::kv::session::Session;
use crate::kv::shared::{Config, Msg, Shared};
use crate::kv::store::{Store, now_ms};

/// One client of an in-process store.
pub struct T {
    pub sh: Arc<Shared>,
    pub sess: Session,
    pub out: Out,
    batch: Batch,
    outbox: Vec<(usize, Msg)>,
}

fn addr() -> SocketAddr {
    "127.0.0.1:1".parse().expect("addr")
}

impl T {
    pub fn new() -> T {
        T::with(Config::default(), Store::new(16))
    }

    pub fn with(cfg: Config, store: Store) -> T {
        let sh = Arc::new(Shared::new(cfg, Arc::new(store), addr(), 1));
        T::client(&sh)
    }

    /// Another client of the same server.
    pub fn client(sh: &Arc<Shared>) -> T {
        T::client_on(sh, 0)
    }

    /// Another client, owned by event loop `worker`.
    pub fn client_on(sh: &Arc<Shared>, worker: usize) -> T {
        let h = sh
            .registry
            .add(addr(), addr(), -1, worker, sh.users.default_user());
        let authed = !sh.users.default_needs_auth();
        let batch = sh.store.batch();
        T {
            sh: sh.clone(),
            sess: Session::new(h, authed),
            out: Out::default(),
            batch,
            outbox: Vec::new(),
        }
    }

    /// Run one command (its own round) and return the reply as text.
    pub fn raw(&mut self, args: &[&[u8]]) -> String {
        String::from_utf8_lossy(&self.bytes(args)).into_owned()
    }

    /// Run one command (its own round) and return the reply's bytes.
    pub fn bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut round = self.sh.store.round(&mut self.batch);
        let mut ctx = Ctx {
            ks: round.ks(now_ms()),
            sess: &mut self.sess,
            out: &mut self.out,
            srv: &self.sh,
            outbox: &mut self.outbox,
            calls: &self.sh.calls[0],
            refuse_writes: None,
            interrupt: None,
        };
        let at = ctx.out.buf.len();
        dispatch(&mut ctx, args);
        super::count_error(&mut ctx, at);
        round.commit().expect("commit");
        std::mem::take(&mut self.out.buf)
    }

    /// Effects this client's commands left for event loops (then cleared).
    pub fn outbox(&mut self) -> Vec<(usize, Msg)> {
        std::mem::take(&mut self.outbox)
    }

    /// RESP3 from now on (HELLO 3), its reply dropped.
    pub fn resp3(&mut self) {
        self.r(&["HELLO", "3"]);
    }

    /// The DUMP payload of `key` (empty when there is none).
    pub fn dump_payload(&mut self, key: &str) -> Vec<u8> {
        let reply = self.bytes(&[b"DUMP", key.as_bytes()]);
        let Some(eol) = reply.windows(2).position(|w| w == b"\r\n") else {
            return Vec::new();
        };
        let len: usize = std::str::from_utf8(&reply[1..eol])
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        reply[eol + 2..eol + 2 + len].to_vec()
    }

    pub fn r(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.raw(&a)
    }
}

/// A bulk string reply.
pub fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// An integer reply.
pub fn int(n: i64) -> String {
    format!(":{n}\r\n")
}

pub const OK: &str = "+OK\r\n";
pub const NIL: &str = "$-1\r\n";
pub const NIL_ARRAY: &str = "*-1\r\n";
pub const WT: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// An array of bulk strings.
pub fn arr(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&bulk(i));
    }
    s
}
