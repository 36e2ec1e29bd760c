//! How a client reaches a target: TCP (every address of a name in turn) or a
//! Unix socket, optionally through a proxy, optionally with TLS on top. Used
//! by `connect`, `serve --forward`'s upstream side and `bench`.

use std::fmt;
use std::time::Duration;

use anyhow::{Context, Result};

use super::tls::{TlsStream, as_tls_error};
use super::tlsconfig::TlsClient;
use super::unix::UnixAddr;
use super::{Socket, Stream};
use crate::error::Failure;
use crate::net::{self, ConnectOptions, StreamOptions};

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host name or address and a port.
    Tcp {
        /// Name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix stream socket.
    Unix(UnixAddr),
}

impl Target {
    /// The host name TLS checks the certificate against (Unix: `localhost`).
    pub fn tls_name(&self) -> &str {
        match self {
            Target::Tcp { host, .. } => host,
            Target::Unix(_) => "localhost",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
            Target::Unix(a) => write!(f, "{a}"),
        }
    }
}

/// How to dial.
#[derive(Debug, Clone, Default)]
pub struct DialOptions {
    /// Timeout, family, source address (TCP).
    pub connect: ConnectOptions,
    /// Socket options (TCP).
    pub stream: StreamOptions,
    /// TLS on top, when set.
    pub tls: Option<TlsClient>,
    /// Through this proxy, when set (TCP targets).
    pub proxy: Option<crate::proxy::ProxyUrl>,
}

/// Connect to `target` and, with TLS, complete the handshake.
pub fn dial(target: &Target, opts: &DialOptions) -> Result<Stream> {
    let socket = match target {
        Target::Tcp { host, port } => {
            let s = match &opts.proxy {
                Some(p) => crate::proxy::client::connect(p, host, *port, &opts.connect)?,
                None => net::connect_tcp(host, *port, &opts.connect)?,
            };
            opts.stream.apply(&s).context("cannot set socket options")?;
            Socket::Tcp(s)
        }
        Target::Unix(addr) => {
            if opts.proxy.is_some() {
                return Err(crate::error::usage(
                    "--proxy does not apply to Unix sockets",
                ));
            }
            Socket::Unix(
                addr.connect()
                    .with_context(|| format!("cannot connect to {addr}"))?,
            )
        }
    };
    match &opts.tls {
        Some(tls) => tls_handshake(socket, tls, target.tls_name(), opts.connect.timeout),
        None => Ok(Stream::Plain(socket)),
    }
}

/// Start TLS as a client on a connected socket; a failed handshake is one
/// line saying why, with the TLS exit code.
pub fn tls_handshake(
    socket: Socket,
    tls: &TlsClient,
    host: &str,
    timeout: Option<Duration>,
) -> Result<Stream> {
    let session = tls.session(host)?;
    let stream = TlsStream::new(socket, session);
    if let Err(e) = stream.handshake(timeout) {
        let msg = match as_tls_error(&e) {
            Some(t) => tls.explain(host, t),
            None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                "the peer closed the connection during the handshake (is it a TLS port?)".into()
            }
            None if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(
                    Failure::TimedOut(format!("TLS handshake with {host} timed out")).into(),
                );
            }
            None => {
                return Err(
                    anyhow::Error::new(e).context(format!("TLS handshake with {host} failed"))
                );
            }
        };
        return Err(Failure::Tls(format!("TLS handshake with {host} failed: {msg}")).into());
    }
    Ok(Stream::Tls(stream))
}
