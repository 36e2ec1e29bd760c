//! `netkit connect`: a TCP client that pipes stdin/stdout through the socket
//! (see `crate::pipe`), an interactive prompt on a terminal (`repl`, with
//! line handling in `line` and display in `render`), a UDP client (`udp`), a length-prefixed frame
//! client (`framed`) and a port prober (`probe`).

pub mod framed;
mod incoming;
pub mod line;
mod outgoing;
pub mod probe;
pub mod render;
pub mod repl;
mod session;
pub mod transcript;
pub mod udp;

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::hexdump::HexDump;
use crate::net::{self, ConnectOptions, StreamOptions};
use crate::pipe::{self, Counters, PipeOptions};
use crate::proxy::ProxyUrl;
use crate::serve::exec::ExecCommand;
use crate::transport::dial::{self, DialOptions, Target};
use crate::transport::tlsconfig::TlsClient;
use crate::transport::unix::UnixAddr;
use crate::transport::{Peer, Stream};

/// Everything `connect` needs, free of clap types.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// UDP instead of TCP.
    pub udp: bool,
    /// Timeout, family, source address.
    pub connect: ConnectOptions,
    /// Socket options.
    pub stream: StreamOptions,
    /// Pipe behaviour at the ends.
    pub pipe: PipeOptions,
    /// UDP: how long to wait for replies after stdin EOF.
    pub reply_timeout: Duration,
    /// Report the connection and its end on stderr.
    pub verbose: bool,
    /// The prompt even when stdin is not a terminal (`-i`).
    pub interactive: bool,
    /// Prompt options (line ending, history file).
    pub repl: repl::ReplOptions,
    /// Lines as length-prefixed frames (`--framed`).
    pub framed: bool,
    /// A live byte counter on stderr while piping.
    pub progress: bool,
    /// One JSON summary object on stderr at exit.
    pub json: bool,
    /// `--hexdump`: record both directions.
    pub hexdump: Option<Arc<HexDump>>,
    /// `-o FILE`: both directions as they are.
    pub transcript: Option<crate::hexdump::Tap>,
    /// `-U`: a Unix socket instead of host and port.
    pub unix: Option<UnixAddr>,
    /// `--tls`: TLS on top, with this configuration.
    pub tls: Option<TlsClient>,
    /// `--proxy`: through a SOCKS5 or HTTP proxy.
    pub proxy: Option<ProxyUrl>,
    /// `--exec`/`--sh-exec`: hand the connection to a command.
    pub exec: Option<ExecCommand>,
}

impl ConnectConfig {
    /// Where to connect.
    pub fn target(&self) -> Target {
        match &self.unix {
            Some(u) => Target::Unix(u.clone()),
            None => Target::Tcp {
                host: self.host.clone(),
                port: self.port,
            },
        }
    }

    /// How to dial it.
    pub fn dial_options(&self) -> DialOptions {
        DialOptions {
            connect: self.connect.clone(),
            stream: self.stream,
            tls: self.tls.clone(),
            proxy: self.proxy.clone(),
        }
    }
}

/// Connect and run the session until both sides are done.
pub fn run(cfg: &ConnectConfig) -> Result<()> {
    let prompt = !cfg.framed && (cfg.interactive || std::io::stdin().is_terminal());
    // The prompt records and times out like the pipe.
    let repl_opts = repl::ReplOptions {
        idle_timeout: cfg.pipe.idle_timeout,
        hexdump: cfg.hexdump.clone(),
        transcript: cfg.transcript.clone(),
        ..cfg.repl.clone()
    };
    if cfg.udp {
        if prompt && cfg.unix.is_none() {
            let socket = net::connect_udp(&cfg.host, cfg.port, &cfg.connect)?;
            let outcome = repl::run_udp(socket, &repl_opts)?;
            return report(cfg, outcome.sent, outcome.received, outcome.end, None);
        }
        return udp::run(cfg);
    }
    let started = Instant::now();
    let stream = dial::dial(&cfg.target(), &cfg.dial_options())?;
    let peer = stream.socket().peer().inet();
    if cfg.verbose {
        let via = cfg
            .proxy
            .as_ref()
            .map(|p| format!(" through {p}"))
            .unwrap_or_default();
        let tls = match &stream {
            Stream::Tls(t) => format!(" ({})", t.info()),
            Stream::Plain(_) => String::new(),
        };
        match (stream.socket().peer(), stream.socket().local()) {
            (Peer::Inet(p), Peer::Inet(l)) => {
                eprintln!("netkit: connected to {p} from {l}{via}{tls}")
            }
            _ => eprintln!("netkit: connected to {}{tls}", cfg.target()),
        }
    }
    if let Some(cmd) = &cfg.exec {
        return run_exec(cfg, cmd, stream, started, peer);
    }
    if prompt {
        let outcome = repl::run_tcp(stream, &repl_opts);
        return finish(
            cfg,
            started,
            peer,
            outcome.map(|o| (o.sent, o.received, o.end)),
        );
    }
    let counters = Arc::new(Counters::default());
    let bar = progress::Progress::start(cfg.progress, counters.clone());
    let outcome = if cfg.framed {
        framed::run(stream, counters.clone())
    } else {
        let mut opts = cfg.pipe.clone();
        opts.input_is_tty = std::io::stdin().is_terminal();
        opts.tap = transcript::both(
            cfg.hexdump.as_ref().map(|d| d.tap(peer)),
            cfg.transcript.clone(),
        );
        pipe::run(
            stream,
            pipe::stdin_file()?,
            pipe::stdout_file()?,
            &opts,
            counters.clone(),
            None,
        )
    };
    bar.stop();
    let outcome = match outcome {
        Ok(o) => Ok((o.sent, o.received, o.end.describe())),
        Err(e) => {
            // Still report what moved before the failure.
            let (s, r) = (
                counters.sent.load(Ordering::Relaxed),
                counters.received.load(Ordering::Relaxed),
            );
            if cfg.json {
                summary_json(cfg, started, peer, s, r, &format!("error: {e:#}"));
            }
            return Err(e);
        }
    };
    finish(cfg, started, peer, outcome)
}

/// `connect --exec/--sh-exec`: the command gets the connection as its stdin
/// and stdout; netkit exits when the command has (0 if it succeeded).
fn run_exec(
    cfg: &ConnectConfig,
    cmd: &ExecCommand,
    stream: Stream,
    started: Instant,
    peer: Option<std::net::SocketAddr>,
) -> Result<()> {
    use crate::serve::exec;
    let stream = Arc::new(stream);
    let mut command = std::process::Command::new(&cmd.program);
    command
        .args(&cmd.args)
        .stderr(std::process::Stdio::inherit());
    let relayed = exec::attach(&mut command, &stream)?;
    exec::peer_env(&mut command, &stream, &stream.socket().peer());
    let mut child = command
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run {}: {e}", cmd.program))?;
    drop(command);
    let moved = exec::pump(&stream, &mut child, relayed)?;
    let status = child.wait()?;
    let (received, sent) = moved.unwrap_or((0, 0));
    let end = exec::exit_end(status);
    report(cfg, sent, received, &end.describe(), Some((started, peer)))?;
    match end {
        crate::serve::tcp::End::Done => Ok(()),
        other => Err(anyhow::anyhow!("{}: {}", cmd.display, other.describe())),
    }
}

fn finish(
    cfg: &ConnectConfig,
    started: Instant,
    peer: Option<std::net::SocketAddr>,
    outcome: Result<(u64, u64, &'static str)>,
) -> Result<()> {
    match outcome {
        Ok((sent, received, end)) => report(cfg, sent, received, end, Some((started, peer))),
        Err(e) => {
            if cfg.json {
                summary_json(cfg, started, peer, 0, 0, &format!("error: {e:#}"));
            }
            Err(e)
        }
    }
}

fn report(
    cfg: &ConnectConfig,
    sent: u64,
    received: u64,
    end: &str,
    timing: Option<(Instant, Option<std::net::SocketAddr>)>,
) -> Result<()> {
    if cfg.json {
        let (started, peer) = timing.unwrap_or((Instant::now(), None));
        summary_json(cfg, started, peer, sent, received, end);
    } else if cfg.verbose {
        eprintln!("netkit: {end}: sent {sent} bytes, received {received} bytes");
    }
    Ok(())
}

fn summary_json(
    cfg: &ConnectConfig,
    started: Instant,
    peer: Option<std::net::SocketAddr>,
    sent: u64,
    received: u64,
    end: &str,
) {
    let v = serde_json::json!({
        "event": "summary",
        "host": cfg.host,
        "port": cfg.port,
        "peer": peer.map(|p| p.to_string()),
        "sent": sent,
        "received": received,
        "duration_s": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        "end": end,
    });
    eprintln!("{v}");
}

/// The live byte counter of `--progress`.
mod progress {
    use std::io::IsTerminal;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;
    use std::time::{Duration, Instant};

    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

    use crate::pipe::Counters;
    use crate::units::format_bytes;

    /// A spinner redrawn from the pipe's counters; hidden when stderr is not a terminal.
    pub struct Progress {
        bar: ProgressBar,
        stop: Arc<AtomicBool>,
        handle: Option<thread::JoinHandle<()>>,
    }

    impl Progress {
        /// Start drawing when `wanted` and stderr is a terminal.
        pub fn start(wanted: bool, counters: Arc<Counters>) -> Progress {
            let stop = Arc::new(AtomicBool::new(false));
            if !wanted || !std::io::stderr().is_terminal() {
                return Progress {
                    bar: ProgressBar::hidden(),
                    stop,
                    handle: None,
                };
            }
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            let (b, s) = (bar.clone(), stop.clone());
            let handle = thread::Builder::new()
                .name("progress".into())
                .spawn(move || {
                    let started = Instant::now();
                    let mut last = (Instant::now(), 0u64, 0u64);
                    while !s.load(Ordering::Relaxed) {
                        thread::sleep(Duration::from_millis(200));
                        let sent = counters.sent.load(Ordering::Relaxed);
                        let recv = counters.received.load(Ordering::Relaxed);
                        let dt = last.0.elapsed().as_secs_f64().max(1e-3);
                        let up = (sent.saturating_sub(last.1) as f64 / dt) as u64;
                        let down = (recv.saturating_sub(last.2) as f64 / dt) as u64;
                        last = (Instant::now(), sent, recv);
                        b.set_message(format!(
                            "sent {} ({}/s)  received {} ({}/s)  {}",
                            format_bytes(sent),
                            format_bytes(up),
                            format_bytes(recv),
                            format_bytes(down),
                            crate::units::format_duration(started.elapsed()),
                        ));
                        b.tick();
                    }
                })
                .ok();
            Progress { bar, stop, handle }
        }

        /// Stop drawing and clear the line.
        pub fn stop(mut self) {
            self.stop.store(true, Ordering::Relaxed);
            if let Some(h) = self.handle.take() {
                let _ = h.join();
            }
            self.bar.finish_and_clear();
        }
    }
}
