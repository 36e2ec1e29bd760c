//! `serve --forward TARGET`: relay each client to TARGET (TCP `HOST:PORT`,
//! or a Unix socket), like `socat TCP-LISTEN:P,fork TCP:HOST:PORT`.
//!
//! Either side may be TLS: `--tls` terminates it from clients (the accept
//! loop's handshake), `--forward-tls` originates it to the target (a client
//! session made by `dial`). The target is dialed when a client arrives; a
//! target that refuses or times out closes that client only. The relay passes
//! a half-close through in both directions and writes every chunk the moment
//! it is read. Network faults (`--delay`, `--jitter`, `--limit-rate`,
//! `--cut-after`) are applied per connection by `relay`/`faults`.
//!
//! How bytes move, measured on this 2-core machine (same runs, noisy):
//! - no faults, no `--hexdump`: the shared readiness loops of
//!   `relay::event` (non-blocking, 256 KiB reads, TLS included). 50 echo
//!   clients through the relay: 63-72k requests/s against 36-52k with a
//!   thread per direction and 35-39k through socat; 2 GiB into a discard
//!   server: 13-17 Gbit/s, against 16-20 spliced by a thread per direction;
//! - faults or a tap: a thread per direction (`relay`): the shaping loop
//!   for faults, the pipe's copy (`copy`) for a tap. Without either (the
//!   proxies' fallback when no readiness loop can start), that copy splices
//!   between plain sockets (measured 9.3-13.2 Gbit/s against 6.7-8.4 for
//!   read/write in an earlier run).

use std::sync::Arc;

use super::tcp::{Conn, End};
use crate::faults::Faults;
use crate::hexdump::HexDump;
use crate::log::Log;
use crate::relay::{self, Endpoint, RelayEnd, RelayOptions};
use crate::transport::dial::{self, DialOptions, Target};

/// What `--forward` needs per connection.
#[derive(Debug, Clone)]
pub struct Forward {
    /// Where to relay to.
    pub target: Target,
    /// How to dial it (timeout, TLS).
    pub upstream: DialOptions,
    /// Faults to inject.
    pub faults: Option<Arc<Faults>>,
}

/// Relay one client to the target.
pub fn serve(
    conn: &mut Conn,
    fwd: &Forward,
    idle_timeout: Option<std::time::Duration>,
    dump: &Option<Arc<HexDump>>,
    log: Log,
) -> End {
    let up = match dial::dial(&fwd.target, &fwd.upstream) {
        Ok(s) => s,
        Err(e) => {
            return End::Error(format!("cannot reach {}: {e:#}", fwd.target));
        }
    };
    log.verbose(&format!(
        "{}: forwarding to {} ({})",
        conn.peer,
        fwd.target,
        up.socket().peer()
    ));
    let opts = RelayOptions {
        idle_timeout,
        faults: fwd.faults.clone(),
        tap: dump.as_ref().map(|d| d.tap(conn.peer.inet())),
    };
    // Without faults or a tap, the shared readiness loops relay (see
    // `relay::event`); faults and taps need the thread per direction.
    let loops = opts.faults.is_none() && opts.tap.is_none();
    let outcome = if loops {
        match relay::event::relay(conn.stream.clone(), Arc::new(up), idle_timeout) {
            Ok(o) => o,
            Err(e) => return End::Error(format!("relay: {e}")),
        }
    } else {
        relay::relay(
            Endpoint::Stream(conn.stream.clone()),
            Endpoint::Stream(Arc::new(up)),
            &opts,
        )
    };
    conn.bytes_in = outcome.a_to_b;
    conn.bytes_out = outcome.b_to_a;
    match outcome.end {
        RelayEnd::Closed => End::PeerClosed,
        RelayEnd::Idle => End::Idle,
        other => End::Error(other.describe()),
    }
}
