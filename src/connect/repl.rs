//! The interactive `connect` session: a rustyline prompt whose lines go to
//! the peer, while a reader thread (on a `try_clone` of the socket) prints
//! what arrives above the prompt through rustyline's external printer, so
//! the line being typed is never torn.
//!
//! Ending a session from the reader thread: rustyline only returns from
//! `readline` on a key or a signal, so when the peer closes, the reader marks
//! the end and sends SIGINT to the process until the main thread notices.
//! rustyline turns that SIGINT into `Interrupted` while it reads; outside of
//! `readline` a signal-hook handler swallows it, so it never kills the
//! process. Without a terminal (`-i` on a pipe) lines are read plainly and
//! the reader ends the process itself once the peer has closed.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::net::{Shutdown as SockShutdown, SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Config, DefaultEditor, ExternalPrinter};

use super::line::{self, Command, Input};
use crate::units::{format_bytes, format_duration};

/// Files larger than this get a progress bar on `:send`.
const SEND_BAR_THRESHOLD: u64 = 1 << 20;

/// How the prompt behaves.
#[derive(Debug, Clone, Default)]
pub struct ReplOptions {
    /// End sent lines with `\r\n`.
    pub crlf: bool,
    /// Where history is kept; `None` keeps none.
    pub history: Option<PathBuf>,
}

/// What a finished session did, for `--json` and `-v`.
#[derive(Debug, Clone)]
pub struct ReplOutcome {
    /// Bytes sent.
    pub sent: u64,
    /// Bytes received.
    pub received: u64,
    /// How it ended.
    pub end: &'static str,
}

/// The history file: `$NETKIT_HISTORY` (empty: none), else
/// `$XDG_DATA_HOME/netkit/history`, else `~/.local/share/netkit/history`.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NETKIT_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".local/share"),
    };
    Some(base.join("netkit").join("history"))
}

/// The socket behind a session.
enum Link {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

/// How the reader thread saw the session end.
enum Ending {
    PeerClosed,
    Lost(io::Error),
}

/// State shared by the prompt and the reader thread.
struct Shared {
    peer: SocketAddr,
    started: Instant,
    hex: AtomicBool,
    sent: AtomicU64,
    received: AtomicU64,
    ending: Mutex<Option<Ending>>,
    /// The main thread has seen the end; the reader stops signalling.
    acknowledged: AtomicBool,
    /// A SIGINT arrived outside `readline` (Ctrl-C, or the reader's nudge).
    sigint: Arc<AtomicBool>,
}

impl Shared {
    fn ended(&self) -> bool {
        self.ending.lock().map(|e| e.is_some()).unwrap_or(true)
    }

    fn status(&self, crlf: bool) -> String {
        format!(
            "peer {}, sent {}, received {}, connected {}, hex {}, crlf {}",
            self.peer,
            format_bytes(self.sent.load(Ordering::Relaxed)),
            format_bytes(self.received.load(Ordering::Relaxed)),
            format_duration(self.started.elapsed()),
            if self.hex.load(Ordering::Relaxed) {
                "on"
            } else {
                "off"
            },
            if crlf { "on" } else { "off" },
        )
    }
}

/// Where the reader thread prints: above the prompt, or plainly.
enum Out {
    Above(Box<dyn ExternalPrinter + Send>),
    Plain,
}

impl Out {
    fn data(&mut self, text: String) {
        match self {
            Out::Above(p) => {
                let _ = p.print(text);
            }
            Out::Plain => {
                let mut out = io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        }
    }

    fn notice(&mut self, text: &str) {
        match self {
            Out::Above(p) => {
                let _ = p.print(format!("{text}\n"));
            }
            Out::Plain => eprintln!("{text}"),
        }
    }
}

/// Run the prompt over a connected TCP stream.
pub fn run_tcp(stream: TcpStream, opts: &ReplOptions) -> Result<ReplOutcome> {
    let peer = stream.peer_addr().context("cannot read the peer address")?;
    let reader = stream.try_clone().context("cannot clone the socket")?;
    session(Link::Tcp(stream), reader.into(), peer, opts)
}

/// Run the prompt over a connected UDP socket: each line is one datagram.
pub fn run_udp(socket: UdpSocket, opts: &ReplOptions) -> Result<ReplOutcome> {
    let peer = socket.peer_addr().context("cannot read the peer address")?;
    let reader = socket.try_clone().context("cannot clone the socket")?;
    session(Link::Udp(socket), ReaderLink::Udp(reader), peer, opts)
}

enum ReaderLink {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

impl From<TcpStream> for ReaderLink {
    fn from(s: TcpStream) -> Self {
        ReaderLink::Tcp(s)
    }
}

fn session(
    link: Link,
    reader: ReaderLink,
    peer: SocketAddr,
    opts: &ReplOptions,
) -> Result<ReplOutcome> {
    let sigint = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, sigint.clone())
        .context("cannot install the SIGINT handler")?;
    let shared = Arc::new(Shared {
        peer,
        started: Instant::now(),
        hex: AtomicBool::new(false),
        sent: AtomicU64::new(0),
        received: AtomicU64::new(0),
        ending: Mutex::new(None),
        acknowledged: AtomicBool::new(false),
        sigint,
    });

    let interactive = io::stdin().is_terminal() && io::stdout().is_terminal();
    let config = Config::builder()
        .auto_add_history(interactive)
        .history_ignore_dups(true)
        .and_then(|b| b.max_history_size(1000))
        .map(|b| b.build())
        .context("cannot configure the prompt")?;
    let mut editor = DefaultEditor::with_config(config).context("cannot start the prompt")?;
    let history = opts.history.clone().filter(|_| interactive);
    if let Some(path) = &history {
        let _ = editor.load_history(path); // a missing file is a first run
    }
    let out = if interactive {
        match editor.create_external_printer() {
            Ok(p) => Out::Above(Box::new(p)),
            Err(_) => Out::Plain,
        }
    } else {
        Out::Plain
    };
    let (done_tx, done_rx) = mpsc::channel::<()>();
    spawn_reader(reader, shared.clone(), out, interactive, done_tx)?;

    let kind = if matches!(link, Link::Udp(_)) {
        "udp"
    } else {
        "tcp"
    };
    eprintln!(
        "connected to {peer} ({kind}); :help for commands, {}",
        if kind == "udp" {
            "each line is one datagram, Ctrl-D or :quit to leave"
        } else {
            "Ctrl-D half-closes, :quit leaves"
        }
    );
    let result = prompt_loop(&mut editor, &link, &shared, opts.crlf, &done_rx);
    shared.acknowledged.store(true, Ordering::SeqCst);
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = editor.save_history(path) {
            eprintln!(
                "netkit: warning: cannot save history to {}: {e}",
                path.display()
            );
        }
    }
    let end = result?;
    let ending = shared.ending.lock().ok().and_then(|mut e| e.take());
    if let Some(Ending::Lost(e)) = ending {
        return Err(anyhow::Error::new(e).context(format!("connection to {peer} lost")));
    }
    Ok(ReplOutcome {
        sent: shared.sent.load(Ordering::Relaxed),
        received: shared.received.load(Ordering::Relaxed),
        end,
    })
}

/// Read lines until the user quits or the peer is gone; returns how it ended.
fn prompt_loop(
    editor: &mut rustyline::Editor<(), FileHistory>,
    link: &Link,
    shared: &Shared,
    initial_crlf: bool,
    done_rx: &mpsc::Receiver<()>,
) -> Result<&'static str> {
    let mut crlf = initial_crlf;
    loop {
        if shared.ended() {
            return Ok("closed by peer");
        }
        let line = match editor.readline("> ") {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => {
                if shared.ended() {
                    return Ok("closed by peer");
                }
                continue; // Ctrl-C: the line is cleared
            }
            Err(ReadlineError::Eof) => return end_of_input(link, shared, done_rx),
            Err(e) => return Err(anyhow::Error::new(e).context("cannot read the prompt")),
        };
        match line::parse(&line, crlf) {
            Ok(Input::Send(bytes)) => send(link, shared, &bytes)?,
            Ok(Input::Command(cmd)) => match cmd {
                Command::Help => eprintln!("{}", line::HELP),
                Command::Quit => return Ok("quit"),
                Command::Hex(on) => {
                    shared.hex.store(on, Ordering::Relaxed);
                    eprintln!("hex dump {}", if on { "on" } else { "off" });
                }
                Command::Crlf(on) => {
                    crlf = on;
                    eprintln!("lines end with {}", if on { "\\r\\n" } else { "\\n" });
                }
                Command::Status => eprintln!("{}", shared.status(crlf)),
                Command::Send(path) => match link {
                    Link::Tcp(stream) => send_file(stream, shared, &path)?,
                    Link::Udp(_) => {
                        eprintln!(":send streams over TCP; over UDP each typed line is a datagram")
                    }
                },
            },
            Err(e) => eprintln!("{e}"),
        }
    }
}

fn send(link: &Link, shared: &Shared, bytes: &[u8]) -> Result<()> {
    match link {
        Link::Tcp(s) => {
            let mut s: &TcpStream = s;
            s.write_all(bytes).context("cannot send")
        }
        Link::Udp(s) => match s.send(bytes) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                eprintln!("port unreachable: nothing listens on {}", shared.peer);
                return Ok(());
            }
            Err(e) => Err(anyhow::Error::new(e).context("cannot send the datagram")),
        },
    }?;
    shared.sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    Ok(())
}

/// Ctrl-D: TCP half-closes and shows what still arrives until the peer
/// closes (Ctrl-C stops waiting); UDP simply ends.
fn end_of_input(
    link: &Link,
    shared: &Shared,
    done_rx: &mpsc::Receiver<()>,
) -> Result<&'static str> {
    let Link::Tcp(stream) = link else {
        return Ok("end of input");
    };
    let _ = stream.shutdown(SockShutdown::Write);
    eprintln!("sent EOF (half-close); waiting for the peer to close, Ctrl-C to quit");
    shared.sigint.store(false, Ordering::SeqCst);
    loop {
        if shared.ended() {
            return Ok("closed by peer");
        }
        if shared.sigint.swap(false, Ordering::SeqCst) {
            return Ok("interrupted after EOF");
        }
        match done_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                if shared.ended() {
                    return Ok("closed by peer");
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
}

fn send_file(mut stream: &TcpStream, shared: &Shared, path: &std::path::Path) -> Result<()> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot open {}: {e}", path.display());
            return Ok(());
        }
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = if len >= SEND_BAR_THRESHOLD && io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(len);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    shared.sigint.store(false, Ordering::SeqCst);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        if shared.sigint.swap(false, Ordering::SeqCst) || shared.ended() {
            bar.abandon();
            eprintln!("stopped after {}", format_bytes(total));
            return Ok(());
        }
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.abandon();
                eprintln!("cannot read {}: {e}", path.display());
                return Ok(());
            }
        };
        stream.write_all(&buf[..n]).context("cannot send")?;
        total += n as u64;
        shared.sent.fetch_add(n as u64, Ordering::Relaxed);
        bar.set_position(total);
    }
    bar.finish_and_clear();
    eprintln!("sent {} from {}", format_bytes(total), path.display());
    Ok(())
}

fn spawn_reader(
    link: ReaderLink,
    shared: Arc<Shared>,
    mut out: Out,
    interactive: bool,
    done: mpsc::Sender<()>,
) -> Result<()> {
    thread::Builder::new()
        .name("repl-reader".into())
        .spawn(move || {
            let ending = match link {
                ReaderLink::Tcp(s) => read_tcp(s, &shared, &mut out),
                ReaderLink::Udp(s) => read_udp(s, &shared, &mut out),
            };
            match &ending {
                Ending::PeerClosed => out.notice("connection closed by peer"),
                Ending::Lost(e) => out.notice(&format!("connection lost: {e}")),
            }
            let failed = matches!(ending, Ending::Lost(_));
            if let Ok(mut slot) = shared.ending.lock() {
                *slot = Some(ending);
            }
            let _ = done.send(());
            if !interactive {
                // A plain line read cannot be interrupted; nothing to restore.
                let _ = io::stdout().flush();
                std::process::exit(if failed { 1 } else { 0 });
            }
            // Let the prompt draw what is queued above it (the last data and
            // the notice): a signal would otherwise win the race.
            thread::sleep(Duration::from_millis(150));
            while !shared.acknowledged.load(Ordering::SeqCst) {
                // SAFETY: kill(2) on our own pid with a handled signal.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGINT);
                }
                thread::sleep(Duration::from_millis(50));
            }
        })
        .context("cannot start the reader thread")?;
    Ok(())
}

fn show(shared: &Shared, out: &mut Out, carry: &mut Vec<u8>, data: &[u8], prefix: &str) {
    let offset = shared
        .received
        .fetch_add(data.len() as u64, Ordering::Relaxed);
    let text = if shared.hex.load(Ordering::Relaxed) {
        crate::hexdump::dump_lines(offset, data)
    } else {
        line::render_text(carry, data)
    };
    if !prefix.is_empty() && !text.ends_with('\n') {
        out.data(format!("{prefix}{text}\n"));
    } else if !text.is_empty() {
        out.data(format!("{prefix}{text}"));
    }
}

fn read_tcp(mut s: TcpStream, shared: &Shared, out: &mut Out) -> Ending {
    let mut buf = vec![0u8; 16 * 1024];
    let mut carry = Vec::new();
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ending::PeerClosed,
            Ok(n) => show(shared, out, &mut carry, &buf[..n], ""),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Ending::Lost(e),
        }
    }
}

fn read_udp(s: UdpSocket, shared: &Shared, out: &mut Out) -> Ending {
    let mut buf = vec![0u8; 65536];
    loop {
        match s.recv_from(&mut buf) {
            Ok((n, from)) => {
                let mut carry = Vec::new();
                show(shared, out, &mut carry, &buf[..n], &format!("[{from}] "));
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => out.notice(&format!(
                "port unreachable: nothing listens on {}",
                shared.peer
            )),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Ending::Lost(e),
        }
    }
}
