//! `netkit connect`: the arguments and their conversion into
//! [`ConnectConfig`] (a session) or [`ProbeConfig`] (`-z`).

use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::serve::{exec_command, hexdump_of};
use super::tls::TlsClientArgs;
use crate::connect::ConnectConfig;
use crate::connect::probe::{self, ProbeConfig};
use crate::connect::repl::{ReplOptions, history_path};
use crate::error;
use crate::net::{self, ConnectOptions, Family, StreamOptions};
use crate::pipe::PipeOptions;
use crate::portnames::{self, Proto};
use crate::proxy::{Credentials, ProxyUrl};
use crate::transport::unix::UnixAddr;
use crate::units::{parse_duration, parse_nonzero_duration};

/// `netkit connect [OPTIONS] <HOST> <PORT>`.
#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  echo hi | netkit connect localhost 7878     prints the echo, exits 0\n",
    "  tar c dir | netkit connect host 9000        every byte, then half-close\n",
    "  netkit connect [::1]:7878 < req > resp\n",
    "  printf TIME | netkit connect -u 127.0.0.1 9000\n",
    "  netkit connect 127.0.0.1 7878              on a terminal: a prompt (:help lists commands)\n",
    "  netkit connect -z 127.0.0.1 1-1024,8080    which ports are open (exit 0 if any)\n",
    "  netkit connect -z 127.0.0.1 http,ssh       service names from /etc/services\n",
    "  netkit connect -z -u -v 127.0.0.1 53,123   UDP: open, closed or open|filtered\n",
    "  echo hello | netkit connect --framed 127.0.0.1 9000\n",
    "  netkit connect --hexdump trace.txt host 80 < req   both directions, like socat -x\n",
    "  echo cmd | netkit connect -q 1 host 9000   the whole reply; exit 1 s after the server closes\n",
    "  printf 'HEAD / HTTP/1.0\\n\\n' | netkit connect -C host 80   \\n sent as \\r\\n (nc -C)\n",
    "  ssh -o ProxyCommand='netkit connect %h %p' host\n",
    "  netkit connect --tls example.com 443         TLS, verified against the system's CAs\n",
    "  netkit connect --tls --tls-pin AB:CD:.. 127.0.0.1 4433   trust the one certificate `serve --tls` printed\n",
    "  netkit connect -U /run/app.sock              a Unix socket (@name: abstract; -u: datagrams)\n",
    "  netkit connect --proxy socks5://127.0.0.1:1080 host 22   through SOCKS5 (the proxy resolves names)\n",
    "  netkit connect --sh-exec 'cat file' host 9000   hand the connection to a command (ncat -c)\n",
    "  netkit connect -o session.txt 127.0.0.1 25        a prompt, the session's bytes logged (ncat -o)\n\n",
    "At stdin EOF the write side is shut down and netkit reads until the peer closes; every byte is\n",
    "passed on as it arrives, whatever stdin and stdout are. -q SECS behaves like netcat-openbsd's: it\n",
    "never cuts the reply, it waits SECS after the peer closed. A socket stdout gets the peer's EOF.\n",
    "On a terminal (or with -i) a prompt sends each line with \\n; escapes \\n \\r \\t \\\\ \\0 \\xHH\n",
    "send raw bytes (another backslash is sent as typed); a paste sends one line per pasted line.\n",
    "The peer's bytes show as they arrive, control bytes as \\xHH in reverse video; with stdout\n",
    "redirected they go there exactly and the prompt stays on the terminal. :hex on|off,\n",
    ":crlf on|off, :send FILE, :status, :quit; Ctrl-D half-closes; Ctrl-C drops the line, twice on\n",
    "an empty line leaves. History (Up, Ctrl-R) is saved after each line in\n",
    "$NETKIT_HISTORY, else $XDG_DATA_HOME/netkit/history, else ~/.local/share/netkit/history.\n",
    "HOST may be a name, an IPv4 or an IPv6 address; every address of a name is tried.\n\n",
    exit_codes!()
))]
pub struct ConnectArgs {
    /// Host name or address; also HOST:PORT or [V6]:PORT.
    pub host: String,
    /// Port (a number or a service name: http, ssh), unless given in HOST; with -z a list.
    pub port: Option<String>,
    /// Use UDP: stdin chunks become datagrams, replies go to stdout.
    #[arg(short, long)]
    pub udp: bool,
    /// Connect timeout for each address [default: 10s; with -z, per port: 1s].
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = parse_nonzero_duration)]
    pub timeout: Option<Duration>,
    /// Close when no data moves either way for this long (exit code 4).
    #[arg(long, value_name = "DURATION", value_parser = parse_nonzero_duration)]
    pub idle_timeout: Option<Duration>,
    /// Like nc -q: after stdin EOF the whole reply is still read; once the peer has closed too, wait SECS, then exit.
    #[arg(short = 'q', value_name = "SECS", value_parser = parse_duration, conflicts_with_all = ["no_shutdown", "probe"])]
    pub quit_after: Option<Duration>,
    /// Do not shut down the write side at stdin EOF.
    #[arg(long)]
    pub no_shutdown: bool,
    /// UDP: how long to wait for replies after stdin EOF [default: 1s].
    #[arg(long, value_name = "DURATION", value_parser = parse_nonzero_duration, requires = "udp")]
    pub reply_timeout: Option<Duration>,
    /// UDP: exit 5 when no reply came within --reply-timeout (without it, exit 0 like nc).
    #[arg(long, requires = "udp", conflicts_with = "probe")]
    pub expect_reply: bool,
    /// IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Local address to connect from.
    #[arg(short, long, value_name = "ADDR")]
    pub source: Option<std::net::IpAddr>,
    /// Local port to connect from.
    #[arg(short = 'p', long, value_name = "PORT")]
    pub source_port: Option<u16>,
    /// Set TCP_NODELAY (pipe mode always does: a small write never waits for an ACK).
    #[arg(long)]
    pub nodelay: bool,
    /// Report the connection and how it ended on stderr (-z: every port, its state and time).
    #[arg(short, long)]
    pub verbose: bool,
    /// A prompt even when stdin is not a terminal (one line, one send).
    #[arg(short, long, conflicts_with_all = ["framed", "probe"])]
    pub interactive: bool,
    /// Send every \n from stdin as \r\n, like nc -C (a \n already after \r is left alone; the prompt ends lines with \r\n).
    #[arg(short = 'C', long)]
    pub crlf: bool,
    /// Probe PORT (a list: 20-30,80,443) and print the open ports; exit 0 if any is open.
    #[arg(short = 'z', long = "probe")]
    pub probe: bool,
    /// -z: how many ports to probe at once.
    #[arg(long, value_name = "N", requires = "probe", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: Option<u32>,
    /// Send each stdin line as one frame (4-byte big-endian length + bytes); print each frame received as a line.
    #[arg(long, conflicts_with_all = ["udp", "probe"])]
    pub framed: bool,
    /// A live byte counter and rate on stderr while piping (hidden when stderr is not a terminal).
    #[arg(long, conflicts_with = "probe")]
    pub progress: bool,
    /// One JSON summary object on stderr at exit (-z: one object per port on stdout).
    #[arg(long)]
    pub json: bool,
    /// Record every chunk both ways as a hex dump to FILE (`-`: stderr; at the prompt, the screen).
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["probe", "framed"])]
    pub hexdump: Option<String>,
    /// Connect to a Unix socket: HOST is its path (@name: a Linux abstract name); with -u, a datagram socket.
    #[arg(short = 'U', long = "unix", conflicts_with_all = ["probe", "source", "source_port", "ipv4", "ipv6"], help_heading = "Transports")]
    pub unix: bool,
    #[command(flatten)]
    pub tls: TlsClientArgs,
    /// Go through a proxy: socks5://[USER:PASS@]HOST:PORT (the proxy resolves names) or http://[USER:PASS@]HOST:PORT (CONNECT).
    #[arg(long, value_name = "URL", value_parser = ProxyUrl::parse, conflicts_with_all = ["probe", "unix", "udp"], help_heading = "Transports")]
    pub proxy: Option<ProxyUrl>,
    /// Credentials for --proxy, when not in its URL.
    #[arg(long, value_name = "USER:PASS", requires = "proxy", value_parser = Credentials::parse, help_heading = "Transports")]
    pub proxy_auth: Option<Credentials>,
    /// Run CMD with the connection as its stdin and stdout (split at spaces, no shell), like ncat -e.
    #[arg(short = 'e', long, value_name = "CMD", conflicts_with_all = ["sh_exec", "probe", "interactive", "framed", "udp", "hexdump", "progress", "output"], help_heading = "Exec")]
    pub exec: Option<String>,
    /// Run `/bin/sh -c CMD` with the connection as its stdin and stdout, like ncat -c.
    #[arg(short = 'c', long, value_name = "CMD", conflicts_with_all = ["probe", "interactive", "framed", "udp", "hexdump", "progress", "output"], help_heading = "Exec")]
    pub sh_exec: Option<String>,
    /// Write the session's bytes, both ways as they are, to FILE (like ncat -o); also at the prompt.
    #[arg(short = 'o', long = "output", value_name = "FILE", conflicts_with_all = ["probe", "framed"])]
    pub output: Option<std::path::PathBuf>,
}

impl ConnectArgs {
    fn family(&self) -> Family {
        if self.ipv4 {
            Family::V4
        } else if self.ipv6 {
            Family::V6
        } else {
            Family::Any
        }
    }
}

impl TryFrom<&ConnectArgs> for ConnectConfig {
    type Error = anyhow::Error;

    fn try_from(a: &ConnectArgs) -> Result<ConnectConfig> {
        let tls = a.tls.build()?;
        if tls.is_some() && a.udp {
            return Err(error::usage(
                "--tls is for streams; TLS over UDP (DTLS) is not supported",
            ));
        }
        let exec = exec_command(a.exec.as_deref(), a.sh_exec.as_deref())?;
        let proxy = a.proxy.clone().map(|mut p| {
            if a.proxy_auth.is_some() {
                p.auth = a.proxy_auth.clone();
            }
            p
        });
        let unix = if a.unix {
            if a.port.is_some() {
                return Err(error::usage(format!(
                    "-U takes a socket path, not a port: netkit connect -U {}",
                    a.host
                )));
            }
            Some(UnixAddr::parse(&a.host)?)
        } else {
            None
        };
        let (host, port) = if unix.is_some() {
            (a.host.clone(), String::from("0"))
        } else {
            match (net::split_host_port(&a.host)?, a.port.clone()) {
                ((h, None), Some(p)) => (h, p),
                ((h, Some(p)), None) => (h, p),
                ((_, Some(_)), Some(_)) => {
                    return Err(error::usage(format!(
                        "'{}' already names a port; give HOST PORT or HOST:PORT",
                        a.host
                    )));
                }
                ((_, None), None) => {
                    return Err(error::usage(format!(
                        "no port given: netkit connect {} PORT",
                        a.host
                    )));
                }
            }
        };
        if a.udp && a.hexdump.is_some() {
            return Err(error::usage("--hexdump is for TCP connections (not -u)"));
        }
        if a.udp && a.output.is_some() {
            return Err(error::usage("-o/--output is for TCP connections (not -u)"));
        }
        let proto = if a.udp { Proto::Udp } else { Proto::Tcp };
        let port = net::parse_port_or_service(&port, proto)?;
        if port == 0 && unix.is_none() {
            return Err(error::usage("cannot connect to port 0"));
        }
        Ok(ConnectConfig {
            host,
            port,
            udp: a.udp,
            connect: ConnectOptions {
                timeout: Some(a.timeout.unwrap_or(Duration::from_secs(10))),
                family: a.family(),
                source: a.source,
                source_port: a.source_port,
            },
            stream: StreamOptions {
                nodelay: a.nodelay,
                keepalive: None,
            },
            pipe: PipeOptions {
                quit_after: a.quit_after,
                idle_timeout: a.idle_timeout,
                no_shutdown: a.no_shutdown,
                input_is_tty: false,
                tap: None,
                crlf: a.crlf,
            },
            hexdump: hexdump_of(a.hexdump.as_deref())?,
            transcript: a
                .output
                .as_deref()
                .map(crate::connect::transcript::open)
                .transpose()?,
            reply_timeout: a.reply_timeout.unwrap_or(Duration::from_secs(1)),
            expect_reply: a.expect_reply,
            verbose: a.verbose,
            interactive: a.interactive,
            repl: ReplOptions {
                crlf: a.crlf,
                history: history_path(),
                hexdump_on_stderr: a.hexdump.as_deref() == Some("-"),
                ..ReplOptions::default()
            },
            framed: a.framed,
            progress: a.progress,
            json: a.json,
            unix,
            tls,
            proxy,
            exec,
        })
    }
}

/// `connect -z HOST PORTS`: HOST:PORTS is not accepted, since a port list is
/// not an address.
impl TryFrom<&ConnectArgs> for ProbeConfig {
    type Error = anyhow::Error;

    fn try_from(a: &ConnectArgs) -> Result<ProbeConfig> {
        let ports = a.port.as_deref().ok_or_else(|| {
            error::usage(format!(
                "no ports given: netkit connect -z {} 1-1024,8080",
                a.host
            ))
        })?;
        if a.source.is_some() || a.source_port.is_some() {
            return Err(error::usage("-s/-p do not apply to -z"));
        }
        let proto = if a.udp { Proto::Udp } else { Proto::Tcp };
        if a.tls.wanted() {
            return Err(error::usage("--tls does not apply to -z (it probes ports)"));
        }
        Ok(ProbeConfig {
            host: a.host.clone(),
            ports: probe::parse_ports(ports, &|name| portnames::lookup(name, proto))
                .map_err(error::usage)?,
            timeout: a.timeout.unwrap_or(Duration::from_secs(1)),
            concurrency: a
                .concurrency
                .map_or(probe::DEFAULT_CONCURRENCY, |c| c as usize),
            udp: a.udp,
            verbose: a.verbose,
            json: a.json,
            family: a.family(),
        })
    }
}
