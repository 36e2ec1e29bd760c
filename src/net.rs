//! Addresses and sockets: parsing `[ADDR:]PORT`, `HOST:PORT` and `[v6]:PORT`,
//! resolving a name and trying every address it has, and binding with the
//! socket options netkit always wants (SO_REUSEADDR, a deep backlog).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::{Site, usage};

pub use crate::sockopts::{KEEPALIVE_PROBES, StreamOptions, keepalive_plan};

/// Which address families a client may use (`-4` / `-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Any family, in the order the resolver returns them.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    fn admits(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// Parse a port number, with a message that says what was wrong.
pub fn parse_port(s: &str) -> Result<u16> {
    s.trim().parse::<u16>().map_err(|_| {
        usage(format!(
            "bad port '{s}': a port is a number from 0 to 65535"
        ))
    })
}

/// A port number, or a service name from `/etc/services` (`http`, `ssh`).
pub fn parse_port_or_service(s: &str, proto: crate::portnames::Proto) -> Result<u16> {
    let t = s.trim();
    if t.bytes().any(|b| b.is_ascii_alphabetic()) {
        return crate::portnames::lookup(t, proto).map_err(usage);
    }
    parse_port(t)
}

/// Split `HOST:PORT`, `[v6]:PORT` or `v6::addr` (no port) into host and port text.
/// Returns `None` for the port when the text has no port part.
pub fn split_host_port(s: &str) -> Result<(String, Option<String>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| usage(format!("bad address '{s}': missing ']'")))?;
        return match after {
            "" => Ok((host.to_string(), None)),
            p if p.starts_with(':') => Ok((host.to_string(), Some(p[1..].to_string()))),
            _ => Err(usage(format!("bad address '{s}': expected [v6]:PORT"))),
        };
    }
    match s.matches(':').count() {
        0 => Ok((s.to_string(), None)),
        1 => {
            let (h, p) = s.split_once(':').unwrap_or((s, ""));
            Ok((h.to_string(), Some(p.to_string())))
        }
        // A bare IPv6 address such as ::1 has no port.
        _ => Ok((s.to_string(), None)),
    }
}

/// `host:port` as users write it: an IPv6 address in brackets (`[::1]:80`).
pub fn host_port(host: &str, port: u16) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Resolve `host` and `port` to every address it names, filtered by `family`.
pub fn resolve(host: &str, port: u16, family: Family) -> Result<Vec<SocketAddr>> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve '{host}'"))?
        .filter(|a| family.admits(a))
        .collect();
    if addrs.is_empty() {
        return Err(anyhow!(
            "cannot resolve '{host}': no {} address",
            match family {
                Family::V4 => "IPv4",
                Family::V6 => "IPv6",
                Family::Any => "usable",
            }
        ));
    }
    Ok(addrs)
}

/// The address a server binds: `PORT`, `ADDR:PORT`, `[v6]:PORT`, with `--bind`
/// supplying the address when the spec has none. Loopback is the default.
pub fn listen_addr(spec: &str, bind: Option<&str>) -> Result<SocketAddr> {
    let (host, port) = match split_host_port(spec)? {
        (p, None) if !p.contains(':') => (None, p),
        (h, Some(p)) => (Some(h), p),
        (h, None) => {
            return Err(usage(format!(
                "bad listen address '{h}': give a port, e.g. [{h}]:7878"
            )));
        }
    };
    let port = parse_port(&port)?;
    let host = match (host.filter(|h| !h.is_empty()), bind) {
        (Some(_), Some(_)) => {
            return Err(usage(format!(
                "'{spec}' names an address and --bind gives another; use one"
            )));
        }
        (Some(h), None) => h,
        (None, Some(b)) => b.trim_start_matches('[').trim_end_matches(']').to_string(),
        (None, None) => return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
    };
    let addrs = resolve(&host, port, Family::Any)?;
    Ok(addrs[0])
}

/// The address as people write it: an IPv4 client of a `::` listener
/// (`::ffff:127.0.0.2`) becomes plain IPv4 (`127.0.0.2`).
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// A note for the listening line when other hosts cannot reach the server.
pub fn loopback_note(addr: &SocketAddr) -> Option<&'static str> {
    addr.ip()
        .is_loopback()
        .then_some("loopback only; --bind 0.0.0.0 to accept other hosts")
}

/// Bind a TCP listener with SO_REUSEADDR (a restart rebinds at once) and a deep backlog.
pub fn bind_tcp(addr: SocketAddr) -> Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context("cannot create a TCP socket")?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into()).context(Site::Listen(addr))?;
    socket.listen(4096).context(Site::Listen(addr))?;
    Ok(socket.into())
}

/// Bind a UDP socket exclusively: no `SO_REUSEADDR` or `SO_REUSEPORT`, so
/// the bind fails while anyone else holds the port, and nobody can bind it
/// next to this socket and take its datagrams (`serve::udp_sockets` adds
/// this process's own sockets afterwards).
pub fn bind_udp(addr: SocketAddr) -> Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .context("cannot create a UDP socket")?;
    socket.bind(&addr.into()).context(Site::Bind(addr))?;
    Ok(socket.into())
}

/// How a client connects: timeout, family and optional source address/port.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Give up on one address after this long.
    pub timeout: Option<Duration>,
    /// Restrict the address family.
    pub family: Family,
    /// Bind to this local address first (`-s`).
    pub source: Option<IpAddr>,
    /// Bind to this local port first (`-p`).
    pub source_port: Option<u16>,
}

impl ConnectOptions {
    fn local_for(&self, remote: &SocketAddr) -> Option<SocketAddr> {
        if self.source.is_none() && self.source_port.is_none() {
            return None;
        }
        let ip = self.source.unwrap_or(match remote {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            SocketAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        });
        Some(SocketAddr::new(ip, self.source_port.unwrap_or(0)))
    }

    fn socket_for(&self, remote: &SocketAddr, ty: Type, proto: Protocol) -> io::Result<Socket> {
        let socket = Socket::new(Domain::for_address(*remote), ty, Some(proto))?;
        if let Some(local) = self.local_for(remote) {
            if local.is_ipv4() != remote.is_ipv4() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "source {} and target {} are of different families",
                        local.ip(),
                        remote.ip()
                    ),
                ));
            }
            socket.set_reuse_address(true)?;
            socket.bind(&local.into())?;
        }
        Ok(socket)
    }
}

/// The kind of the I/O error at the root of `e`.
fn e_kind(e: &anyhow::Error) -> io::ErrorKind {
    e.downcast_ref::<io::Error>()
        .map_or(io::ErrorKind::Other, io::Error::kind)
}

/// Connect over TCP to `host:port`, trying every address the name resolves to
/// in order. The error of the last attempt decides the exit code.
pub fn connect_tcp(host: &str, port: u16, opts: &ConnectOptions) -> Result<TcpStream> {
    let addrs = resolve(host, port, opts.family)?;
    let mut last: Option<(SocketAddr, io::Error)> = None;
    for addr in addrs {
        let attempt = opts
            .socket_for(&addr, Type::STREAM, Protocol::TCP)
            .and_then(|s| {
                let target = SockAddr::from(addr);
                match opts.timeout {
                    Some(t) => s.connect_timeout(&target, t),
                    None => s.connect(&target),
                }
                .map(|()| s)
            });
        match attempt {
            Ok(s) => return Ok(s.into()),
            Err(e) => last = Some((addr, e)),
        }
    }
    let (addr, err) = last.unwrap_or((
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        io::Error::other("no address to try"),
    ));
    let err = if err.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "connection timed out")
    } else {
        err
    };
    // Name the address tried only when the host was a name.
    let tried = if host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
        String::new()
    } else {
        format!(" ({addr})")
    };
    let mut e = anyhow::Error::new(err);
    if let (io::ErrorKind::AddrInUse, Some(p)) = (e_kind(&e), opts.source_port) {
        e = e.context(Site::ClientPort(p));
    }
    Err(e.context(format!(
        "cannot connect to {}{tried}",
        host_port(host, port)
    )))
}

/// A UDP socket connected to the first address of `host:port` that works.
pub fn connect_udp(host: &str, port: u16, opts: &ConnectOptions) -> Result<UdpSocket> {
    let addrs = resolve(host, port, opts.family)?;
    let mut last = None;
    for addr in addrs {
        let attempt = opts
            .socket_for(&addr, Type::DGRAM, Protocol::UDP)
            .and_then(|s| s.connect(&addr.into()).map(|()| s));
        match attempt {
            Ok(s) => return Ok(s.into()),
            Err(e) => last = Some(e),
        }
    }
    let err = last.unwrap_or_else(|| io::Error::other("no address to try"));
    let mut e = anyhow::Error::new(err);
    if let (io::ErrorKind::AddrInUse, Some(p)) = (e_kind(&e), opts.source_port) {
        e = e.context(Site::ClientPort(p));
    }
    Err(e.context(format!("cannot reach {} over UDP", host_port(host, port))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        let sp = |s| split_host_port(s).unwrap();
        assert_eq!(sp("example:80"), ("example".into(), Some("80".into())));
        assert_eq!(sp("[::1]:78"), ("::1".into(), Some("78".into())));
        assert_eq!(sp("::1"), ("::1".into(), None));
        assert_eq!(sp("host"), ("host".into(), None));
        assert!(split_host_port("[::1").is_err());
        assert!(split_host_port("[::1]x").is_err());
    }

    #[test]
    fn listen_addresses_default_to_loopback() {
        assert_eq!(
            listen_addr("78", None).unwrap(),
            SocketAddr::from(([127, 0, 0, 1], 78))
        );
        assert_eq!(
            listen_addr("0", Some("::1")).unwrap(),
            "[::1]:0".parse().unwrap()
        );
        assert_eq!(
            listen_addr("127.0.0.2:9", None).unwrap(),
            "127.0.0.2:9".parse().unwrap()
        );
        assert_eq!(
            listen_addr("[::1]:5", None).unwrap(),
            "[::1]:5".parse().unwrap()
        );
        assert!(listen_addr("70000", None).is_err());
        assert!(listen_addr("x", None).is_err());
        assert!(listen_addr("127.0.0.1:1", Some("::1")).is_err());
        assert!(listen_addr("::1", None).is_err());
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(host_port("::1", 80), "[::1]:80");
        assert_eq!(host_port("[::1]", 80), "[::1]:80");
        assert_eq!(host_port("127.0.0.1", 80), "127.0.0.1:80");
        assert_eq!(host_port("localhost", 7), "localhost:7");
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("0").unwrap(), 0);
        assert_eq!(parse_port("65535").unwrap(), 65535);
        assert!(parse_port("65536").is_err());
        assert!(parse_port("-1").is_err());
    }
}
