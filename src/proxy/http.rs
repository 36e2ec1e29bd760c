//! HTTP CONNECT heads, as pure functions: the request a client sends and the
//! server parses, and the response. A head is bounded (`MAX_HEAD`); whatever
//! follows its blank line belongs to the tunnel and is handed over intact.

use super::{Credentials, base64};

/// The largest request or response head accepted.
pub const MAX_HEAD: usize = 16 * 1024;

/// The end of a head (`\r\n\r\n`, or a bare `\n\n` from sloppy peers): the
/// index just past it.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf[i + 1..].starts_with(b"\r\n") {
                return Some(i + 3);
            }
            if buf[i + 1..].starts_with(b"\n") {
                return Some(i + 2);
            }
        }
        i += 1;
    }
    None
}

/// The request a client sends.
pub fn encode_connect(host: &str, port: u16, auth: Option<&Credentials>) -> String {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(c) = auth {
        let token = base64::encode(format!("{}:{}", c.user, c.pass).as_bytes());
        req.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    req.push_str("\r\n");
    req
}

/// A proxy's response status line: the code and the reason text.
pub fn parse_status(head: &[u8]) -> Result<(u16, String), String> {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line).trim_end().to_string();
    let mut parts = line.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !version.starts_with("HTTP/") {
        return Err(format!(
            "not an HTTP proxy (it answered '{}')",
            truncate(&line)
        ));
    }
    let code = code
        .parse::<u16>()
        .map_err(|_| format!("bad HTTP status line '{}'", truncate(&line)))?;
    Ok((code, parts.next().unwrap_or("").to_string()))
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// A CONNECT request as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Target host (name or address, no brackets).
    pub host: String,
    /// Target port.
    pub port: u16,
    /// Basic credentials, if the client sent them.
    pub auth: Option<Credentials>,
}

/// Why a request head was refused, with the status to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// Why.
    pub reason: String,
}

fn refuse<T>(status: u16, reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        status,
        reason: reason.into(),
    })
}

/// Parse a complete request head (up to and including the blank line).
pub fn parse_request(head: &[u8]) -> Result<ConnectRequest, Refusal> {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(_) => return refuse(400, "request head is not UTF-8"),
    };
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let (method, target, version) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return refuse(400, "bad request line");
    }
    if !method.eq_ignore_ascii_case("CONNECT") {
        return refuse(
            405,
            format!("method {method} not allowed: this proxy only tunnels (CONNECT)"),
        );
    }
    let (host, port) = match crate::net::split_host_port(target) {
        Ok((h, Some(p))) if !h.is_empty() => match p.parse::<u16>() {
            Ok(p) if p != 0 => (h, p),
            _ => return refuse(400, format!("bad port in '{target}'")),
        },
        _ => return refuse(400, format!("CONNECT needs HOST:PORT, not '{target}'")),
    };
    let mut auth = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("proxy-authorization") {
            let value = value.trim();
            let Some((scheme, token)) = value.split_once(' ') else {
                return refuse(407, "bad Proxy-Authorization");
            };
            if !scheme.eq_ignore_ascii_case("basic") {
                return refuse(407, "only Basic proxy authentication is supported");
            }
            let decoded = base64::decode(token)
                .and_then(|d| String::from_utf8(d).ok())
                .and_then(|d| Credentials::parse(&d).ok());
            match decoded {
                Some(c) => auth = Some(c),
                None => return refuse(407, "bad Proxy-Authorization credentials"),
            }
        }
    }
    Ok(ConnectRequest { host, port, auth })
}

/// The response head a server sends.
pub fn encode_response(status: u16, reason: &str, extra: &[(&str, &str)]) -> String {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if status != 200 {
        out.push_str("Content-Length: 0\r\nConnection: close\r\n");
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let c = Credentials {
            user: "u".into(),
            pass: "p:w".into(),
        };
        let req = encode_connect("::1", 8080, Some(&c));
        assert!(req.starts_with("CONNECT [::1]:8080 HTTP/1.1\r\n"));
        let end = head_end(req.as_bytes()).unwrap();
        assert_eq!(end, req.len());
        let parsed = parse_request(&req.as_bytes()[..end]).unwrap();
        assert_eq!(
            parsed,
            ConnectRequest {
                host: "::1".into(),
                port: 8080,
                auth: Some(c)
            }
        );
    }

    #[test]
    fn head_ends_are_found_and_tunnel_bytes_left_alone() {
        assert_eq!(head_end(b"CONNECT a:1 HTTP/1.1\r\n\r\nXYZ"), Some(24));
        assert_eq!(head_end(b"CONNECT a:1 HTTP/1.0\n\nX"), Some(22));
        assert_eq!(head_end(b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\n"), None);
        for i in 0..24 {
            assert_eq!(head_end(&b"CONNECT a:1 HTTP/1.1\r\n\r\n"[..i]), None);
        }
    }

    #[test]
    fn bad_requests_get_the_right_status() {
        let status = |r: &[u8]| parse_request(r).unwrap_err().status;
        assert_eq!(status(b"GET http://x/ HTTP/1.1\r\n\r\n"), 405);
        assert_eq!(status(b"CONNECT nohost HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"CONNECT h:0 HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"CONNECT h:1\r\n\r\n"), 400);
        assert_eq!(status(b"\xff\xfe\r\n\r\n"), 400);
        assert_eq!(
            status(b"CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Digest x\r\n\r\n"),
            407
        );
    }

    #[test]
    fn statuses_parse() {
        assert_eq!(
            parse_status(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap(),
            (200, "Connection established".into())
        );
        assert_eq!(parse_status(b"HTTP/1.0 407 Proxy Auth\r\n").unwrap().0, 407);
        assert!(parse_status(b"SSH-2.0-OpenSSH\r\n").is_err());
    }
}
