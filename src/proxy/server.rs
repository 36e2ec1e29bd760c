//! `serve --socks5` and `serve --http-proxy`: a connection handler per
//! protocol that reads the client's request (bounded, within
//! `NEGOTIATION_TIMEOUT`), checks credentials when `--proxy-auth` asks for
//! them, dials the target (names resolved here) and relays.
//!
//! Bytes a client sends right behind its request (a TLS ClientHello
//! pipelined after CONNECT) are read with the request and handed to the
//! target first; the reply is written before any byte of the tunnel.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::log::Log;
use crate::relay::{self, Endpoint, RelayEnd, RelayOptions};
use crate::serve::tcp::{Conn, End};
use crate::transport::Stream;
use crate::transport::dial::{self, DialOptions, Target};

use super::socks5::{self, Dest, Parsed, Reply};
use super::{Credentials, http};

/// How long a client may take to say where it wants to go.
pub const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(10);

/// What both proxy modes need.
#[derive(Debug, Clone)]
pub struct ProxyServer {
    /// Required credentials, if any (`--proxy-auth USER:PASS`).
    pub auth: Option<Credentials>,
    /// How targets are dialed (timeout).
    pub upstream: DialOptions,
    /// Close a tunnel with no traffic for this long.
    pub idle_timeout: Option<Duration>,
    /// `-v` lines.
    pub log: Log,
}

/// Compare credentials without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = (a.len() != b.len()) as u8;
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

fn accepted(required: &Credentials, given: &Credentials) -> bool {
    same(&required.user, &given.user) & same(&required.pass, &given.pass)
}

/// Bytes read from the client but not yet parsed.
struct Inbox {
    buf: Vec<u8>,
    pos: usize,
}

impl Inbox {
    /// Read until `parse` recognises a message at `pos`, taking it.
    fn next<T>(
        &mut self,
        stream: &Stream,
        limit: usize,
        parse: impl Fn(&[u8]) -> Result<Parsed<T>, socks5::BadMessage>,
    ) -> Result<T, String> {
        loop {
            match parse(&self.buf[self.pos..]).map_err(|e| e.to_string())? {
                Parsed::Done(v, n) => {
                    self.pos += n;
                    return Ok(v);
                }
                Parsed::Need(_) => {
                    if self.buf.len() - self.pos >= limit {
                        return Err("request too long".into());
                    }
                    self.fill(stream)?;
                }
            }
        }
    }

    fn fill(&mut self, stream: &Stream) -> Result<(), String> {
        let mut chunk = [0u8; 4096];
        match (&*stream).read(&mut chunk) {
            Ok(0) => Err("the client closed before its request was complete".into()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err("the client sent no complete request in time".into())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn rest(&self) -> &[u8] {
        &self.buf[self.pos..]
    }
}

/// `serve --socks5`: RFC 1928 CONNECT, no auth or RFC 1929 username/password.
pub fn socks5(conn: &mut Conn, p: &ProxyServer) -> End {
    let _ = conn
        .stream
        .socket()
        .set_read_timeout(Some(NEGOTIATION_TIMEOUT));
    let mut inbox = Inbox {
        buf: Vec::with_capacity(512),
        pos: 0,
    };
    let mut w = &*conn.stream;
    let methods = match inbox.next(&conn.stream, socks5::MAX_MESSAGE, socks5::parse_greeting) {
        Ok(m) => m,
        Err(e) => return End::Error(format!("SOCKS5: {e}")),
    };
    let method = match &p.auth {
        Some(_) if methods.contains(&socks5::USER_PASS) => socks5::USER_PASS,
        None if methods.contains(&socks5::NO_AUTH) => socks5::NO_AUTH,
        _ => socks5::NO_METHOD,
    };
    if let Err(e) = w.write_all(&[socks5::VERSION, method]) {
        return End::from_io(&e);
    }
    if method == socks5::NO_METHOD {
        return End::Error("SOCKS5: no acceptable authentication method".into());
    }
    if let Some(required) = &p.auth {
        let given = match inbox.next(&conn.stream, socks5::MAX_MESSAGE, socks5::parse_user_pass) {
            Ok(c) => c,
            Err(e) => return End::Error(format!("SOCKS5: {e}")),
        };
        let ok = accepted(required, &given);
        let _ = w.write_all(&[1, if ok { 0 } else { 1 }]);
        if !ok {
            return End::Error(format!("SOCKS5: bad credentials for user '{}'", given.user));
        }
    }
    let (cmd, dest, port) =
        match inbox.next(&conn.stream, socks5::MAX_MESSAGE, socks5::parse_request) {
            Ok(r) => r,
            Err(e) => {
                let _ = w.write_all(&socks5::encode_reply(Reply::Failure, None));
                return End::Error(format!("SOCKS5: {e}"));
            }
        };
    if cmd != socks5::CMD_CONNECT {
        let _ = w.write_all(&socks5::encode_reply(Reply::CommandNotSupported, None));
        return End::Error(format!(
            "SOCKS5: command {cmd} not supported (CONNECT only)"
        ));
    }
    let host = match &dest {
        Dest::Ip(ip) => ip.to_string(),
        Dest::Name(n) => n.clone(),
    };
    let target = Target::Tcp {
        host: host.clone(),
        port,
    };
    p.log
        .verbose(&format!("{}: SOCKS5 CONNECT {dest}:{port}", conn.peer));
    let early = inbox.rest().to_vec();
    let up = match dial::dial(&target, &p.upstream) {
        Ok(s) => s,
        Err(e) => {
            let code = e
                .chain()
                .find_map(|c| c.downcast_ref::<io::Error>())
                .map_or(Reply::HostUnreachable, Reply::for_io);
            let _ = w.write_all(&socks5::encode_reply(code, None));
            return End::Error(format!("cannot reach {target}: {e:#}"));
        }
    };
    let bound = up.socket().local().inet();
    let reply = socks5::encode_reply(Reply::Ok, bound);
    tunnel_with(conn, up, target, &early, p, &reply)
}

/// Send `ok` to the client, hand the target what the client already sent
/// past its request, and relay.
fn tunnel_with(
    conn: &mut Conn,
    up: Stream,
    target: Target,
    early: &[u8],
    p: &ProxyServer,
    ok: &[u8],
) -> End {
    let up = Arc::new(up);
    p.log.verbose(&format!("{}: tunnel to {target}", conn.peer));
    if let Err(e) = (&*conn.stream).write_all(ok) {
        return End::from_io(&e);
    }
    if !early.is_empty() {
        if let Err(e) = (&*up).write_all(early) {
            return End::Error(format!("{target}: {e}"));
        }
        conn.bytes_in += early.len() as u64;
    }
    let _ = conn.stream.socket().set_read_timeout(None);
    let outcome = match relay::event::relay(conn.stream.clone(), up.clone(), p.idle_timeout) {
        Ok(o) => o,
        // No readiness loop to be had: a thread per direction does it.
        Err(_) => relay::relay(
            Endpoint::Stream(conn.stream.clone()),
            Endpoint::Stream(up),
            &RelayOptions {
                idle_timeout: p.idle_timeout,
                ..RelayOptions::default()
            },
        ),
    };
    conn.bytes_in += outcome.a_to_b;
    conn.bytes_out += outcome.b_to_a;
    match outcome.end {
        RelayEnd::Closed => End::PeerClosed,
        RelayEnd::Idle => End::Idle,
        other => End::Error(other.describe()),
    }
}

/// `serve --http-proxy`: CONNECT tunnels only; anything else gets 405.
pub fn http(conn: &mut Conn, p: &ProxyServer) -> End {
    let _ = conn
        .stream
        .socket()
        .set_read_timeout(Some(NEGOTIATION_TIMEOUT));
    let mut inbox = Inbox {
        buf: Vec::with_capacity(1024),
        pos: 0,
    };
    let end = loop {
        if let Some(end) = http::head_end(&inbox.buf) {
            break end;
        }
        if inbox.buf.len() >= http::MAX_HEAD {
            let _ = (&*conn.stream).write_all(
                http::encode_response(431, "Request Header Fields Too Large", &[]).as_bytes(),
            );
            return End::Error("HTTP proxy: request head too long".into());
        }
        if let Err(e) = inbox.fill(&conn.stream) {
            return End::Error(format!("HTTP proxy: {e}"));
        }
    };
    inbox.pos = end;
    let mut w = &*conn.stream;
    let req = match http::parse_request(&inbox.buf[..end]) {
        Ok(r) => r,
        Err(refusal) => {
            let extra: &[(&str, &str)] = match refusal.status {
                405 => &[("Allow", "CONNECT")],
                407 => &[("Proxy-Authenticate", "Basic realm=\"netkit\"")],
                _ => &[],
            };
            let _ = w.write_all(
                http::encode_response(refusal.status, &refusal.reason, extra).as_bytes(),
            );
            return End::Error(format!("HTTP proxy: {}", refusal.reason));
        }
    };
    if let Some(required) = &p.auth {
        let ok = req.auth.as_ref().is_some_and(|g| accepted(required, g));
        if !ok {
            let _ = w.write_all(
                http::encode_response(
                    407,
                    "Proxy Authentication Required",
                    &[("Proxy-Authenticate", "Basic realm=\"netkit\"")],
                )
                .as_bytes(),
            );
            return End::Error("HTTP proxy: missing or bad credentials".into());
        }
    }
    p.log
        .verbose(&format!("{}: CONNECT {}:{}", conn.peer, req.host, req.port));
    let target = Target::Tcp {
        host: req.host.clone(),
        port: req.port,
    };
    let early = inbox.rest().to_vec();
    match dial::dial(&target, &p.upstream) {
        Ok(up) => {
            let ok = http::encode_response(200, "Connection established", &[]);
            tunnel_with(conn, up, target, &early, p, ok.as_bytes())
        }
        Err(e) => {
            let timed_out = e.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|i| i.kind() == io::ErrorKind::TimedOut)
                    || c.downcast_ref::<crate::error::Failure>()
                        .is_some_and(|f| matches!(f, crate::error::Failure::TimedOut(_)))
            });
            let (status, reason) = if timed_out {
                (504, "Gateway Timeout")
            } else {
                (502, "Bad Gateway")
            };
            let _ = w.write_all(http::encode_response(status, reason, &[]).as_bytes());
            End::Error(format!("cannot reach {target}: {e:#}"))
        }
    }
}
