//! The netkit binary: parse the command line, turn it into plain config,
//! run, print one error line and pick the exit code.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;

use netkit::bench::{self, BenchConfig, Direction, Kind, Limit, Output};
use netkit::cli::{
    self, BenchArgs, Cli, Command, ConnectArgs, ServeArgs, ServeProto, TcpServeArgs, UdpServeArgs,
};
use netkit::connect::probe::{self, ProbeConfig};
use netkit::connect::repl::{ReplOptions, history_path};
use std::sync::Arc;

use netkit::acl::{self, Acl};
use netkit::connect::{self, ConnectConfig};
use netkit::error::{self, code};
use netkit::hexdump::HexDump;
use netkit::log::{Level, Log};
use netkit::net::{self, ConnectOptions, Family, StreamOptions};
use netkit::pipe::PipeOptions;
use netkit::serve::exec::ExecCommand;
use netkit::serve::{self, TcpConfig, TcpMode, UdpConfig, UdpMode};
use netkit::shutdown::Shutdown;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => e.exit(), // help/version exit 0, usage errors exit 2
    };
    netkit::sys::raise_fd_limit();
    match run(cli) {
        Ok(()) => ExitCode::from(code::OK as u8),
        Err(e) if error::is_broken_pipe(&e) => ExitCode::from(code::OK as u8),
        Err(e) => {
            let mut line = format!("netkit: error: {e:#}");
            if let Some(hint) = error::hint(&e) {
                line.push_str(&format!(" (hint: {hint})"));
            }
            let _ = writeln!(std::io::stderr(), "{line}");
            ExitCode::from(error::exit_code(&e) as u8)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => serve_cmd(args),
        Command::Connect(args) if args.probe => probe_cmd(args),
        Command::Connect(args) => connect::run(&connect_config(args)?),
        Command::Kv(args) => kv_cmd(args),
        Command::Bench(args) => {
            let cfg = bench_config(args)?;
            let report = bench::run(&cfg)?;
            bench::report::print(&report, cfg.output)?;
            Ok(())
        }
        Command::Completions { shell } => {
            std::io::stdout().write_all(&cli::completion_script(shell))?;
            Ok(())
        }
        Command::Man { out_dir } => man(out_dir),
    }
}

fn man(out_dir: Option<std::path::PathBuf>) -> Result<()> {
    let pages = cli::man_pages()?;
    match out_dir {
        None => std::io::stdout().write_all(&pages[0].1)?,
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in pages {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    Ok(())
}

fn log_of(args: &cli::LogArgs) -> Log {
    Log {
        level: if args.quiet {
            Level::Quiet
        } else if args.verbose {
            Level::Verbose
        } else {
            Level::Normal
        },
        json: args.json,
    }
}

/// SIGINT/SIGTERM trigger a graceful stop; a second one exits at once.
fn stop_on_signals(shutdown: &Shutdown) -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .context("cannot install signal handlers")?;
    let shutdown = shutdown.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for _ in signals.forever() {
                if shutdown.is_triggered() {
                    std::process::exit(130);
                }
                shutdown.trigger();
            }
        })?;
    Ok(())
}

fn serve_cmd(args: ServeArgs) -> Result<()> {
    match args.proto {
        None => serve_tcp(args.tcp),
        Some(ServeProto::Tcp(t)) => serve_tcp(t),
        Some(ServeProto::Udp(u)) => serve_udp(u),
    }
}

fn listen_addr(common: &cli::ServerCommonArgs) -> Result<std::net::SocketAddr> {
    let spec = common
        .addr
        .as_deref()
        .ok_or_else(|| error::usage("give a port to listen on, e.g. 7878 (0 picks a free one)"))?;
    net::listen_addr(spec, common.bind.as_deref())
}

fn tcp_config(a: &TcpServeArgs) -> Result<TcpConfig> {
    let m = &a.mode;
    let mode = if m.echo {
        TcpMode::Echo
    } else if m.upper {
        TcpMode::Upper
    } else if m.discard {
        TcpMode::Discard
    } else if m.source {
        TcpMode::Source
    } else if m.time {
        TcpMode::Time
    } else if m.framed {
        TcpMode::Framed
    } else if m.exec.is_some() || m.sh_exec.is_some() {
        TcpMode::Exec
    } else if m.chat {
        TcpMode::Chat
    } else {
        TcpMode::Listen
    };
    let exec = exec_command(m)?;
    if mode == TcpMode::Exec && a.common.idle_timeout.is_some() {
        return Err(error::usage(
            "--idle-timeout does not apply to --exec/--sh-exec: the command owns the socket",
        ));
    }
    let hexdump_modes = [
        TcpMode::Listen,
        TcpMode::Echo,
        TcpMode::Discard,
        TcpMode::Chat,
    ];
    if a.common.hexdump.is_some() && !hexdump_modes.contains(&mode) {
        return Err(error::usage(format!(
            "--hexdump works in listen, --echo, --discard and --chat modes, not --{}",
            mode.name()
        )));
    }
    // -k is harmless with the other modes, which serve many clients anyway,
    // so ncat's `-lk -c CMD` translates as `serve -k --sh-exec CMD`.
    Ok(TcpConfig {
        mode,
        keep_open: a.keep_open,
        max_conns: a.max_conns,
        idle_timeout: a.common.idle_timeout,
        count: a.common.count,
        stream: StreamOptions {
            nodelay: a.nodelay,
            keepalive: a.keepalive,
        },
        max_frame: a.max_frame,
        grace: a.common.grace,
        log: log_of(&a.common.log),
        acl: acl_of(&a.common)?,
        hexdump: hexdump_of(a.common.hexdump.as_deref())?,
        exec,
    })
}

fn exec_command(m: &cli::TcpModeArgs) -> Result<Option<ExecCommand>> {
    let cmd = match (&m.exec, &m.sh_exec) {
        (Some(line), _) => ExecCommand::split(line)
            .ok_or_else(|| error::usage("--exec needs a command, e.g. --exec 'tr a-z A-Z'"))?,
        (None, Some(line)) if line.trim().is_empty() => {
            return Err(error::usage(
                "--sh-exec needs a command, e.g. --sh-exec 'tr a-z A-Z'",
            ));
        }
        (None, Some(line)) => ExecCommand::shell(line),
        (None, None) => return Ok(None),
    };
    if !cmd.is_runnable(std::env::var_os("PATH").as_deref()) {
        return Err(error::usage(format!(
            "--exec: cannot find program '{}' (give a path, or use --sh-exec for shell syntax)",
            cmd.program
        )));
    }
    Ok(Some(cmd))
}

fn acl_of(common: &cli::ServerCommonArgs) -> Result<Acl> {
    let mut acl = Acl {
        allow: common.allow.clone(),
        deny: common.deny.clone(),
    };
    for f in &common.allow_file {
        acl.allow.extend(acl::read_list(f)?);
    }
    for f in &common.deny_file {
        acl.deny.extend(acl::read_list(f)?);
    }
    if !common.allow_file.is_empty() && acl.allow.is_empty() {
        return Err(error::usage(
            "--allow-file lists no network: every client would be refused",
        ));
    }
    Ok(acl)
}

fn hexdump_of(spec: Option<&str>) -> Result<Option<Arc<HexDump>>> {
    spec.map(|s| HexDump::open(s).map(Arc::new)).transpose()
}

fn serve_tcp(a: TcpServeArgs) -> Result<()> {
    let cfg = tcp_config(&a)?;
    let listener = net::bind_tcp(listen_addr(&a.common)?)?;
    let local = listener.local_addr()?;
    cfg.log
        .listening(local, "tcp", cfg.mode.name(), net::loopback_note(&local));
    let shutdown = Shutdown::new();
    stop_on_signals(&shutdown)?;
    let started = Instant::now();
    let summary = serve::tcp::run(listener, shutdown, &cfg)?;
    cfg.log.summary(&summary, started.elapsed(), "connections");
    Ok(())
}

fn serve_udp(a: UdpServeArgs) -> Result<()> {
    let m = &a.mode;
    let mode = if m.echo {
        UdpMode::Echo
    } else if m.discard {
        UdpMode::Discard
    } else if m.time {
        UdpMode::Time
    } else {
        UdpMode::Listen
    };
    if a.common.idle_timeout.is_some() {
        return Err(error::usage(
            "--idle-timeout applies to TCP connections only",
        ));
    }
    let cfg = UdpConfig {
        mode,
        count: a.common.count,
        log: log_of(&a.common.log),
        acl: acl_of(&a.common)?,
        hexdump: hexdump_of(a.common.hexdump.as_deref())?,
    };
    let socket = net::bind_udp(listen_addr(&a.common)?)?;
    let local = socket.local_addr()?;
    cfg.log
        .listening(local, "udp", mode.name(), net::loopback_note(&local));
    let shutdown = Shutdown::new();
    stop_on_signals(&shutdown)?;
    let started = Instant::now();
    let summary = serve::udp::run(socket, shutdown, &cfg)?;
    cfg.log.summary(&summary, started.elapsed(), "datagrams");
    Ok(())
}

fn connect_config(a: ConnectArgs) -> Result<ConnectConfig> {
    let (host, port) = match (net::split_host_port(&a.host)?, a.port.clone()) {
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
    };
    if a.udp && a.hexdump.is_some() {
        return Err(error::usage("--hexdump is for TCP connections (not -u)"));
    }
    let port = net::parse_port(&port)?;
    if port == 0 {
        return Err(error::usage("cannot connect to port 0"));
    }
    Ok(ConnectConfig {
        host,
        port,
        udp: a.udp,
        connect: ConnectOptions {
            timeout: Some(a.timeout.unwrap_or(Duration::from_secs(10))),
            family: family_of(&a),
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
        reply_timeout: a.reply_timeout,
        verbose: a.verbose,
        interactive: a.interactive,
        repl: ReplOptions {
            crlf: a.crlf,
            history: history_path(),
        },
        framed: a.framed,
        progress: a.progress,
        json: a.json,
    })
}

fn family_of(a: &ConnectArgs) -> Family {
    if a.ipv4 {
        Family::V4
    } else if a.ipv6 {
        Family::V6
    } else {
        Family::Any
    }
}

/// `connect -z HOST PORTS`: HOST:PORTS is not accepted, since a port list is
/// not an address.
fn probe_cmd(a: ConnectArgs) -> Result<()> {
    let ports = a.port.as_deref().ok_or_else(|| {
        error::usage(format!(
            "no ports given: netkit connect -z {} 1-1024,8080",
            a.host
        ))
    })?;
    if a.source.is_some() || a.source_port.is_some() {
        return Err(error::usage("-s/-p do not apply to -z"));
    }
    let cfg = ProbeConfig {
        host: a.host.clone(),
        ports: probe::parse_ports(ports).map_err(error::usage)?,
        timeout: a.timeout.unwrap_or(Duration::from_secs(1)),
        concurrency: a
            .concurrency
            .map_or(probe::DEFAULT_CONCURRENCY, |c| c as usize),
        udp: a.udp,
        verbose: a.verbose,
        json: a.json,
    };
    let host = a.host.trim_start_matches('[').trim_end_matches(']');
    let ip = net::resolve(host, 0, family_of(&a))?[0].ip();
    probe::run(ip, &cfg)
}

fn kv_cmd(args: cli::KvArgs) -> Result<()> {
    match args.serve {
        Some(cli::KvCommand::Serve(s)) => kv_serve(s),
        None => {
            let cfg = kv_client_config(args.client)?;
            if !netkit::kv::client::run(&cfg)? {
                // A nil or error reply: the value is not there (like `grep`).
                let _ = std::io::stdout().flush();
                std::process::exit(code::FAILURE);
            }
            Ok(())
        }
    }
}

fn kv_client_config(a: cli::KvClientArgs) -> Result<netkit::kv::client::ClientConfig> {
    use std::os::unix::ffi::OsStringExt;
    let (host, port) = match net::split_host_port(&a.addr)? {
        (h, Some(p)) => (h, net::parse_port(&p)?),
        (_, None) => {
            return Err(error::usage(format!(
                "--addr '{}' needs a port, e.g. 127.0.0.1:6380",
                a.addr
            )));
        }
    };
    Ok(netkit::kv::client::ClientConfig {
        host,
        port,
        raw: if a.raw {
            Some(true)
        } else if a.no_raw {
            Some(false)
        } else {
            None
        },
        stdin_last: a.stdin_last,
        args: a.command.into_iter().map(|s| s.into_vec()).collect(),
    })
}

fn kv_serve(a: cli::KvServeArgs) -> Result<()> {
    use netkit::kv::{self, aof::Fsync, protocol::Limits, server};
    let log = log_of(&a.log);
    let fsync = match a.fsync {
        cli::FsyncArg::Always => Fsync::Always,
        cli::FsyncArg::Everysec => Fsync::EverySec,
        cli::FsyncArg::No => Fsync::No,
    };
    let cfg = server::Config {
        limits: Limits {
            max_line: usize::try_from(a.max_line).unwrap_or(usize::MAX),
            max_bulk: usize::try_from(a.max_bulk).unwrap_or(usize::MAX),
            max_args: usize::try_from(a.max_args).unwrap_or(usize::MAX),
        },
        max_conns: usize::try_from(a.max_conns).unwrap_or(usize::MAX),
        threads: a.threads,
        log,
    };
    let addr = net::listen_addr(&a.addr, a.bind.as_deref())?;
    let (store, opened) = kv::open_store(a.data.as_deref(), fsync, &log)?;
    let listener = net::bind_tcp(addr)?;
    let local = listener.local_addr()?;
    let mode = match &a.data {
        None => "kv, in memory only: nothing is saved (--data FILE to persist)".to_string(),
        Some(p) => format!(
            "kv, log {} fsync {}, {} keys from {} records",
            p.display(),
            match fsync {
                Fsync::Always => "always",
                Fsync::EverySec => "everysec",
                Fsync::No => "no",
            },
            opened.keys,
            opened.records
        ),
    };
    log.listening(local, "tcp", &mode, net::loopback_note(&local));
    let shutdown = Shutdown::new();
    stop_on_signals(&shutdown)?;
    let started = Instant::now();
    let summary = server::run(listener, shutdown, store, &cfg)?;
    log.summary(&summary, started.elapsed(), "connections");
    Ok(())
}
fn bench_config(a: BenchArgs) -> Result<BenchConfig> {
    // KIND is optional, so `netkit bench HOST:PORT` names a target, not a kind.
    let (kind, target) = match (a.kind, a.target) {
        (None, t) => (Kind::Throughput, t),
        (Some(k), t) => match Kind::parse(&k) {
            Some(kind) => (kind, t),
            None if t.is_none() && k.contains(':') => (Kind::Throughput, Some(k)),
            None => {
                return Err(error::usage(format!(
                    "unknown bench kind '{k}' (throughput, latency, connect or udp)"
                )));
            }
        },
    };
    let target = match target {
        None => None,
        Some(t) => match net::split_host_port(&t)? {
            (h, Some(p)) if !h.is_empty() => {
                let port = net::parse_port(&p)?;
                if port == 0 {
                    return Err(error::usage("cannot bench port 0"));
                }
                Some((h, port))
            }
            _ => {
                return Err(error::usage(format!(
                    "bad target '{t}': give HOST:PORT, e.g. 127.0.0.1:7878"
                )));
            }
        },
    };
    let size = match a.size {
        Some(s) => usize::try_from(s).map_err(|_| error::usage("--size is too large"))?,
        None => match kind {
            Kind::Throughput | Kind::Connect => bench::DEFAULT_BLOCK,
            Kind::Latency => bench::DEFAULT_MESSAGE,
            Kind::Udp => bench::DEFAULT_DATAGRAM,
        },
    };
    let limit = match (a.bytes, a.duration) {
        (Some(n), _) => Limit::Bytes(n),
        (None, Some(d)) => Limit::Time(d),
        (None, None) => Limit::Time(std::time::Duration::from_secs(10)),
    };
    let warmup = a.warmup.unwrap_or(match kind {
        Kind::Latency => std::time::Duration::from_secs(1),
        _ => std::time::Duration::ZERO,
    });
    Ok(BenchConfig {
        kind,
        target,
        direction: if a.reverse {
            Direction::Receive
        } else if a.bidir {
            Direction::Both
        } else {
            Direction::Send
        },
        limit,
        size,
        streams: a.parallel as usize,
        connections: a.connections as usize,
        warmup,
        rate: a.rate,
        interval: a.interval,
        timeout: a.timeout,
        quiet: a.quiet,
        output: if a.json {
            Output::Json
        } else if a.json_stream {
            Output::JsonStream
        } else {
            Output::Text
        },
    })
}
