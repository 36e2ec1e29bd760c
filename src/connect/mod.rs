//! `netkit connect`: a TCP client that pipes stdin/stdout through the socket
//! (see `crate::pipe`), an interactive prompt on a terminal (`repl`, with
//! line handling in `line` and display in `render`), a UDP client (`udp`), a length-prefixed frame
//! client (`framed`) and a port prober (`probe`).

pub mod framed;
mod incoming;
pub mod line;
mod outgoing;
mod ports;
pub mod probe;
pub mod render;
pub mod repl;
mod session;
pub mod transcript;
pub mod udp;

use std::io::IsTerminal;
use std::net::SocketAddr;
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
    /// UDP: no reply at all is a failure (exit 5); otherwise exit 0, like nc.
    pub expect_reply: bool,
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

/// How a session failed, for its summary.
struct Failed<'a> {
    error: &'a str,
    hint: Option<&'a str>,
    code: i32,
}

/// What a session moved and with whom, kept where a summary can read it
/// whatever ends the session (success, an error, Ctrl-C).
#[derive(Default)]
struct Stats {
    counters: Arc<Counters>,
    peer: std::sync::Mutex<Option<SocketAddr>>,
}

impl Stats {
    fn set(&self, sent: u64, received: u64) {
        self.counters.sent.store(sent, Ordering::Relaxed);
        self.counters.received.store(received, Ordering::Relaxed);
    }

    fn set_peer(&self, peer: Option<SocketAddr>) {
        if let Ok(mut p) = self.peer.lock() {
            *p = peer;
        }
    }

    /// The `--json` summary: netkit's one schema (`peer`, `bytes_in`,
    /// `bytes_out`, `duration_s`, `end`, and `error` when it failed).
    fn json(&self, cfg: &ConnectConfig, started: Instant, end: Result<&str, Failed<'_>>) -> String {
        let peer = self.peer.lock().ok().and_then(|p| *p);
        let mut v = serde_json::json!({
            "event": "summary",
            "proto": if cfg.udp { "udp" } else { "tcp" },
            "host": cfg.host,
            "port": cfg.port,
            "peer": peer.map(|p| p.to_string()),
            "bytes_out": self.counters.sent.load(Ordering::Relaxed),
            "bytes_in": self.counters.received.load(Ordering::Relaxed),
            "duration_s": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        });
        match end {
            Ok(end) => v["end"] = serde_json::json!(end),
            Err(f) => {
                v["end"] = serde_json::json!("error");
                v["error"] = serde_json::json!(f.error);
                v["hint"] = serde_json::json!(f.hint);
                v["exit_code"] = serde_json::json!(f.code);
            }
        }
        v.to_string()
    }
}

/// Connect and run the session until both sides are done. With `--json`,
/// exactly one summary object reaches stderr, however it ends: success,
/// an error (refused, unknown host...) or Ctrl-C/SIGTERM.
pub fn run(cfg: &ConnectConfig) -> Result<()> {
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    if cfg.json {
        summary_on_signal(cfg, stats.clone(), started)?;
    }
    let result = session(cfg, &stats);
    match &result {
        Ok(end) if cfg.json => eprintln!("{}", stats.json(cfg, started, Ok(end))),
        Ok(end) if cfg.verbose => eprintln!(
            "netkit: {end}: sent {} bytes, received {} bytes",
            stats.counters.sent.load(Ordering::Relaxed),
            stats.counters.received.load(Ordering::Relaxed)
        ),
        Err(e) if cfg.json && !crate::error::is_broken_pipe(e) => {
            let error = format!("{e:#}");
            let failed = Failed {
                error: &error,
                hint: crate::error::hint(e),
                code: crate::error::exit_code(e),
            };
            eprintln!("{}", stats.json(cfg, started, Err(failed)));
        }
        _ => {}
    }
    match result {
        Ok(_) => Ok(()),
        // Shown as JSON already: main only picks the exit code.
        Err(e) if cfg.json => Err(crate::error::Reported(e).into()),
        Err(e) => Err(e),
    }
}

/// `--json`: Ctrl-C or SIGTERM prints the summary (with what moved so
/// far and `"error": "interrupted"`) and exits 130.
fn summary_on_signal(cfg: &ConnectConfig, stats: Arc<Stats>, started: Instant) -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .map_err(|e| anyhow::Error::new(e).context("cannot install signal handlers"))?;
    let cfg = cfg.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                let failed = Failed {
                    error: "interrupted",
                    hint: None,
                    code: 130,
                };
                eprintln!("{}", stats.json(&cfg, started, Err(failed)));
                std::process::exit(130);
            }
        })?;
    Ok(())
}

/// The session itself; returns how it ended.
fn session(cfg: &ConnectConfig, stats: &Stats) -> Result<String> {
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
            stats.set_peer(socket.peer_addr().ok());
            let outcome = repl::run_udp(socket, &repl_opts)?;
            stats.set(outcome.sent, outcome.received);
            return Ok(outcome.end.into());
        }
        let end = udp::run(cfg, &stats.counters, |peer| stats.set_peer(Some(peer)))?;
        return Ok(end.into());
    }
    let stream = dial::dial(&cfg.target(), &cfg.dial_options())?;
    let peer = stream.socket().peer().inet();
    stats.set_peer(peer);
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
        return run_exec(cmd, stream, stats);
    }
    if prompt {
        let o = repl::run_tcp(stream, &repl_opts)?;
        stats.set(o.sent, o.received);
        return Ok(o.end.into());
    }
    let counters = stats.counters.clone();
    let bar = progress::Progress::start(cfg.progress, counters.clone());
    let outcome = if cfg.framed {
        framed::run(stream, counters)
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
            counters,
            None,
        )
    };
    bar.stop();
    let o = outcome?;
    stats.set(o.sent, o.received);
    Ok(o.end.describe().into())
}

/// `connect --exec/--sh-exec`: the command gets the connection as its stdin
/// and stdout; netkit exits when the command has (0 if it succeeded).
fn run_exec(cmd: &ExecCommand, stream: Stream, stats: &Stats) -> Result<String> {
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
    stats.set(sent, received);
    match exec::exit_end(status) {
        crate::serve::tcp::End::Done => Ok(crate::serve::tcp::End::Done.describe()),
        other => Err(anyhow::anyhow!("{}: {}", cmd.display, other.describe())),
    }
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
