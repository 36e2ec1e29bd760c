//! The client side: connect to the proxy, ask it for `host:port`, and hand
//! back the socket as a tunnel. Names are sent as names (the proxy resolves
//! them: `curl --socks5-hostname` semantics). Replies are read exactly, never
//! a byte beyond them, so the tunnel's first bytes reach the caller.
//!
//! Failures keep netkit's exit codes: the proxy itself refusing or timing out
//! is 3 or 4 as for any connect; the target refused behind the proxy is 3;
//! bad credentials, a rule or an unreachable target is 7 (proxy).

use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream};

use anyhow::{Context, Result};

use super::socks5::{self, Dest, Parsed, Reply};
use super::{ProxyKind, ProxyUrl, http};
use crate::error::Failure;
use crate::net::{self, ConnectOptions};

/// Connect to `host:port` through `proxy`.
pub fn connect(
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
    opts: &ConnectOptions,
) -> Result<TcpStream> {
    let stream = net::connect_tcp(&proxy.host, proxy.port, opts)
        .with_context(|| format!("cannot reach the proxy {proxy}"))?;
    // The handshake gets the connect timeout too: a silent proxy must not hang us.
    stream.set_read_timeout(opts.timeout)?;
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let r = match proxy.kind {
        ProxyKind::Socks5 => socks5_handshake(&stream, proxy, host, port),
        ProxyKind::Http => http_handshake(&stream, proxy, host, port),
    };
    r.map_err(|e| match e.downcast_ref::<io::Error>() {
        Some(io)
            if matches!(
                io.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Failure::TimedOut(format!("the proxy {proxy} did not answer in time")).into()
        }
        _ => e,
    })
    .with_context(|| format!("cannot connect to {target} through {proxy}"))?;
    stream.set_read_timeout(None)?;
    Ok(stream)
}

/// Read exactly one message that `parse` recognises.
fn read_message<T>(
    stream: &TcpStream,
    parse: impl Fn(&[u8]) -> Result<Parsed<T>, socks5::BadMessage>,
) -> Result<T> {
    let mut buf = Vec::with_capacity(64);
    loop {
        match parse(&buf)? {
            Parsed::Done(v, _) => return Ok(v),
            Parsed::Need(n) => {
                if n > socks5::MAX_MESSAGE {
                    return Err(anyhow::anyhow!("the proxy sent an oversized message"));
                }
                let have = buf.len();
                buf.resize(n, 0);
                let mut r = stream;
                r.read_exact(&mut buf[have..]).map_err(|e| {
                    if e.kind() == io::ErrorKind::UnexpectedEof {
                        anyhow::anyhow!("the proxy closed the connection")
                    } else {
                        e.into()
                    }
                })?;
            }
        }
    }
}

fn socks5_handshake(stream: &TcpStream, proxy: &ProxyUrl, host: &str, port: u16) -> Result<()> {
    let mut w = stream;
    w.write_all(&socks5::encode_greeting(proxy.auth.is_some()))?;
    match read_message(stream, socks5::parse_method_choice)? {
        socks5::NO_AUTH => {}
        socks5::USER_PASS => {
            let Some(c) = &proxy.auth else {
                return Err(Failure::Proxy(
                    "the proxy asks for a password we did not offer".into(),
                )
                .into());
            };
            w.write_all(&socks5::encode_user_pass(c))?;
            if !read_message(stream, socks5::parse_auth_status)? {
                return Err(Failure::Proxy(format!(
                    "the proxy rejected the credentials of user '{}'",
                    c.user
                ))
                .into());
            }
        }
        socks5::NO_METHOD if proxy.auth.is_none() => {
            return Err(Failure::Proxy(
                "the proxy requires authentication (socks5://USER:PASS@HOST:PORT or --proxy-auth)"
                    .into(),
            )
            .into());
        }
        m => {
            return Err(Failure::Proxy(format!(
                "the proxy accepts none of our authentication methods (it chose {m})"
            ))
            .into());
        }
    }
    let dest = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => Dest::Ip(ip),
        Err(_) => Dest::Name(host.to_string()),
    };
    w.write_all(&socks5::encode_connect(&dest, port)?)?;
    let (code, _, _) = read_message(stream, socks5::parse_reply)?;
    match Reply::from_code(code) {
        Some(Reply::Ok) => Ok(()),
        Some(Reply::Refused) => Err(anyhow::Error::new(io::Error::from(
            io::ErrorKind::ConnectionRefused,
        ))
        .context("the proxy says: connection refused")),
        Some(Reply::TtlExpired) => {
            Err(Failure::TimedOut("the proxy says: the target timed out".into()).into())
        }
        Some(r) => Err(Failure::Proxy(format!("the proxy says: {}", r.describe())).into()),
        None => Err(Failure::Proxy(format!("the proxy sent unknown reply code {code}")).into()),
    }
}

fn http_handshake(stream: &TcpStream, proxy: &ProxyUrl, host: &str, port: u16) -> Result<()> {
    let mut w = stream;
    let host = host.trim_matches(['[', ']']);
    w.write_all(http::encode_connect(host, port, proxy.auth.as_ref()).as_bytes())?;
    // Byte by byte: the head is short, and not one tunnel byte may be taken.
    let mut head = Vec::with_capacity(256);
    let mut r = stream;
    let mut byte = [0u8; 1];
    while http::head_end(&head).is_none() {
        if head.len() >= http::MAX_HEAD {
            return Err(Failure::Proxy("the proxy's response head is too long".into()).into());
        }
        match r.read(&mut byte) {
            Ok(0) => {
                return Err(if head.is_empty() {
                    anyhow::anyhow!("the proxy closed the connection without answering")
                } else {
                    anyhow::anyhow!("the proxy closed the connection mid-answer")
                });
            }
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let (code, reason) = http::parse_status(&head).map_err(Failure::Proxy)?;
    match code {
        200..=299 => Ok(()),
        407 => Err(Failure::Proxy(if proxy.auth.is_some() {
            "the proxy rejected the credentials (407)".into()
        } else {
            "the proxy requires authentication (407; --proxy-auth USER:PASS)".into()
        })
        .into()),
        _ => Err(Failure::Proxy(format!("the proxy answered {code} {reason}")).into()),
    }
}
