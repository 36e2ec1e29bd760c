//! Proxies: SOCKS5 (RFC 1928, with RFC 1929 username/password) and HTTP
//! CONNECT, as a client (`connect --proxy`, and `dial` for every client) and
//! as servers (`serve --socks5`, `serve --http-proxy`).
//!
//! - `socks5`: the SOCKS5 messages, encoded and decoded by pure functions.
//! - `http`: the CONNECT request and response heads, pure.
//! - `client`: the client handshakes over a connected socket.
//! - `server`: the two server modes, each a connection handler that reads
//!   the request, dials the target and relays.
//! - `base64`: the Basic credentials of `Proxy-Authorization`.

pub mod base64;
pub mod client;
pub mod http;
pub mod server;
pub mod socks5;

use std::fmt;

use crate::error;

/// Which proxy protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// SOCKS5, names resolved by the proxy.
    Socks5,
    /// HTTP CONNECT.
    Http,
}

/// Username and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub pass: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}:***)", self.user)
    }
}

impl Credentials {
    /// Parse `USER:PASS` (the password may contain colons).
    pub fn parse(s: &str) -> Result<Credentials, String> {
        match s.split_once(':') {
            Some((u, p)) if !u.is_empty() && u.len() <= 255 && p.len() <= 255 => Ok(Credentials {
                user: u.to_string(),
                pass: p.to_string(),
            }),
            _ => Err(format!(
                "'{}' is not USER:PASS (each at most 255 bytes)",
                s.split(':').next().unwrap_or("")
            )),
        }
    }
}

/// A proxy to go through: `socks5://[USER:PASS@]HOST:PORT` or `http://...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// The protocol.
    pub kind: ProxyKind,
    /// The proxy's host.
    pub host: String,
    /// The proxy's port.
    pub port: u16,
    /// Credentials, from the URL or `--proxy-auth`.
    pub auth: Option<Credentials>,
}

impl ProxyUrl {
    /// Parse a proxy URL. `socks5h://` is accepted as `socks5://` (names are
    /// always resolved by the proxy); `http://` without a port means 8080,
    /// `socks5://` 1080.
    pub fn parse(s: &str) -> Result<ProxyUrl, String> {
        let (scheme, rest) = s.split_once("://").ok_or_else(|| {
            format!("'{s}' is not a proxy URL (socks5://HOST:PORT or http://HOST:PORT)")
        })?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "socks5" | "socks5h" => ProxyKind::Socks5,
            "http" => ProxyKind::Http,
            other => {
                return Err(format!(
                    "unsupported proxy scheme '{other}' (socks5:// or http://)"
                ));
            }
        };
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(Credentials::parse(&percent_decode(a))?), h),
            None => (None, rest),
        };
        let default_port = match kind {
            ProxyKind::Socks5 => 1080,
            ProxyKind::Http => 8080,
        };
        let (host, port) = match crate::net::split_host_port(hostport).map_err(|e| e.to_string())? {
            (h, Some(p)) => (
                h,
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("bad proxy port '{p}'"))?,
            ),
            (h, None) => (h, default_port),
        };
        if host.is_empty() {
            return Err(format!("'{s}' names no proxy host"));
        }
        Ok(ProxyUrl {
            kind,
            host,
            port,
            auth,
        })
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Http => "http",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// `%XX` escapes in URL credentials (`p%40ss` for `p@ss`).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A usage error for a proxy URL.
pub fn bad_url(msg: String) -> anyhow::Error {
    error::usage(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let p = ProxyUrl::parse("socks5://u:p%40ss@127.0.0.1:1080").unwrap();
        assert_eq!(p.kind, ProxyKind::Socks5);
        assert_eq!(p.host, "127.0.0.1");
        assert_eq!(p.port, 1080);
        assert_eq!(
            p.auth,
            Some(Credentials {
                user: "u".into(),
                pass: "p@ss".into()
            })
        );
        let h = ProxyUrl::parse("http://[::1]:3128/").unwrap();
        assert_eq!(
            (h.kind, h.host.as_str(), h.port),
            (ProxyKind::Http, "::1", 3128)
        );
        assert_eq!(ProxyUrl::parse("socks5h://localhost").unwrap().port, 1080);
        for bad in [
            "127.0.0.1:1080",
            "ftp://x:1",
            "socks5://:1",
            "http://h:0",
            "http://h:99999",
        ] {
            assert!(ProxyUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_parse() {
        let c = Credentials::parse("user:pa:ss").unwrap();
        assert_eq!((c.user.as_str(), c.pass.as_str()), ("user", "pa:ss"));
        assert!(Credentials::parse("nocolon").is_err());
        assert!(Credentials::parse(":x").is_err());
        assert!(!format!("{c:?}").contains("pa:ss"));
    }
}
