//! `serve --forward` options: how the target is reached (timeout, TLS) and
//! the network faults to inject, with their conversion into
//! `serve::forward::Forward` and `faults::Faults`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use crate::error;
use crate::faults::{self, Faults};
use crate::net::{self, ConnectOptions};
use crate::proxy::Credentials;
use crate::transport::dial::{DialOptions, Target};
use crate::transport::tlsconfig::{self, TlsClientOptions};
use crate::transport::unix::UnixAddr;
use crate::units::{parse_duration, parse_size};

/// How `--forward` and the proxy modes reach their targets.
#[derive(Debug, Args, Default, Clone)]
pub struct UpstreamArgs {
    /// --forward: speak TLS to the target (verified against the system's CAs, or --forward-tls-ca/-pin/-insecure).
    #[arg(long, help_heading = "Forwarding")]
    pub forward_tls: bool,
    /// --forward-tls: trust the CAs in FILE (PEM) for the target.
    #[arg(long, value_name = "FILE", help_heading = "Forwarding", conflicts_with_all = ["forward_tls_pin", "forward_tls_insecure"])]
    pub forward_tls_ca: Option<PathBuf>,
    /// --forward-tls: trust exactly the target certificate with this SHA-256.
    #[arg(long, value_name = "SHA256", value_parser = tlsconfig::parse_pin, help_heading = "Forwarding", conflicts_with = "forward_tls_insecure")]
    pub forward_tls_pin: Option<[u8; 32]>,
    /// --forward-tls: accept any certificate from the target.
    #[arg(long, help_heading = "Forwarding")]
    pub forward_tls_insecure: bool,
    /// --forward-tls: the name to send (SNI) and check [default: the target's host].
    #[arg(long, value_name = "NAME", help_heading = "Forwarding")]
    pub forward_tls_sni: Option<String>,
    /// --socks5/--http-proxy: require these credentials from clients.
    #[arg(long, value_name = "USER:PASS", value_parser = Credentials::parse, help_heading = "Forwarding")]
    pub proxy_auth: Option<Credentials>,
    /// Give up connecting to a target after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s", help_heading = "Forwarding")]
    pub connect_timeout: Duration,
}

impl UpstreamArgs {
    fn tls_wanted(&self) -> bool {
        self.forward_tls
            || self.forward_tls_ca.is_some()
            || self.forward_tls_pin.is_some()
            || self.forward_tls_insecure
            || self.forward_tls_sni.is_some()
    }

    /// How to dial targets.
    pub fn dial_options(&self) -> Result<DialOptions> {
        let tls = if self.tls_wanted() {
            Some(
                TlsClientOptions {
                    ca: self.forward_tls_ca.clone(),
                    insecure: self.forward_tls_insecure,
                    pin: self.forward_tls_pin,
                    sni: self.forward_tls_sni.clone(),
                    ..Default::default()
                }
                .build()?,
            )
        } else {
            None
        };
        Ok(DialOptions {
            connect: ConnectOptions {
                timeout: Some(self.connect_timeout),
                ..Default::default()
            },
            tls,
            ..Default::default()
        })
    }

    /// Refuse `--forward-tls*` where nothing is forwarded over a stream.
    pub fn check_unused(&self, why: &str) -> Result<()> {
        if self.tls_wanted() {
            return Err(error::usage(format!("--forward-tls {why}")));
        }
        Ok(())
    }
}

/// Network faults on the forwarded path.
#[derive(Debug, Args, Default, Clone)]
pub struct FaultArgs {
    /// --forward: deliver each chunk (datagram) this much later, each direction (e.g. 80ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Network faults")]
    pub delay: Option<Duration>,
    /// --forward: add up to plus or minus this much to --delay, at random (bytes of a stream never reorder).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Network faults")]
    pub jitter: Option<Duration>,
    /// --forward: at most SIZE bytes per second, each direction (UDP: datagrams beyond it are dropped).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Network faults")]
    pub limit_rate: Option<u64>,
    /// --forward (TCP): reset both sides after SIZE bytes in all, or DURATION after connecting.
    #[arg(long, value_name = "SIZE|DURATION", value_parser = faults::parse_cut, help_heading = "Network faults")]
    pub cut_after: Option<(Option<u64>, Option<Duration>)>,
    /// --forward (UDP): drop this percentage of datagrams, each direction (e.g. 5 or 0.5).
    #[arg(long, value_name = "PERCENT", value_parser = faults::parse_percent, help_heading = "Network faults")]
    pub drop: Option<f64>,
}

impl FaultArgs {
    /// The faults, or `None` when none was asked for.
    pub fn faults(&self, forwarding: bool, udp: bool) -> Result<Option<Arc<Faults>>> {
        let (cut_bytes, cut_time) = self.cut_after.unwrap_or((None, None));
        let f = Faults {
            delay: self.delay.unwrap_or_default(),
            jitter: self.jitter.unwrap_or_default(),
            rate: self.limit_rate,
            cut_after_bytes: cut_bytes,
            cut_after_time: cut_time,
            drop_percent: self.drop.unwrap_or(0.0),
        };
        if f.is_none() {
            return Ok(None);
        }
        if !forwarding {
            return Err(error::usage(
                "--delay, --jitter, --limit-rate, --cut-after and --drop apply to --forward",
            ));
        }
        if self.limit_rate == Some(0) {
            return Err(error::usage("--limit-rate must be above 0"));
        }
        if udp && self.cut_after.is_some() {
            return Err(error::usage(
                "--cut-after resets TCP connections; UDP has none (try --drop)",
            ));
        }
        if !udp && self.drop.is_some() {
            return Err(error::usage(
                "--drop loses UDP datagrams; a TCP stream cannot lose bytes (try --cut-after)",
            ));
        }
        Ok(Some(Arc::new(f)))
    }
}

/// Parse a `--forward` target: `HOST:PORT`, `[V6]:PORT`, or a Unix socket
/// (`/path`, `./path`, `@name`).
pub fn parse_target(s: &str) -> Result<Target> {
    if s.starts_with('/') || s.starts_with("./") || s.starts_with('@') {
        return Ok(Target::Unix(UnixAddr::parse(s)?));
    }
    match net::split_host_port(s)? {
        (host, Some(port)) if !host.is_empty() => {
            let port = net::parse_port(&port)?;
            if port == 0 {
                return Err(error::usage("--forward: cannot forward to port 0"));
            }
            Ok(Target::Tcp { host, port })
        }
        _ => Err(error::usage(format!(
            "--forward needs HOST:PORT (or a Unix socket /path or @name), not '{s}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("db:5432").unwrap(),
            Target::Tcp {
                host: "db".into(),
                port: 5432
            }
        );
        assert_eq!(
            parse_target("[::1]:80").unwrap(),
            Target::Tcp {
                host: "::1".into(),
                port: 80
            }
        );
        assert!(matches!(
            parse_target("/run/x.sock").unwrap(),
            Target::Unix(_)
        ));
        assert!(matches!(parse_target("@abs").unwrap(), Target::Unix(_)));
        for bad in ["db", "db:0", ":80", "db:x"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
