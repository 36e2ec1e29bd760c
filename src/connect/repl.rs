//! The interactive `connect` session: lines typed (or pasted) at a prompt
//! go to the peer, and what the peer sends is shown as it arrives.
//!
//! The terminal has one owner, `term::console::Console`: the reader thread
//! (`incoming`) writes the peer's bytes through it and the prompt
//! (`term::prompt`) draws the line being edited through it, so a reply that
//! lands while the prompt is redrawn is never erased, a line that arrives
//! in pieces stays one line, and `:send`'s progress bar is a row of its own
//! below the data. rustyline's `readline` could not promise that (see
//! `crate::term`); it still keeps the history file.
//!
//! With stdout not a terminal the peer's bytes go there exactly as they
//! came, and the prompt, the echo and all messages go to the terminal
//! (`/dev/tty`), as with `nc host port > file`. Without a terminal at all
//! (`-i` on a pipe) lines are read plainly and messages go to stderr.

use std::fs::File;
use std::io;
use std::net::UdpSocket;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::transport::{Peer, Stream};

use super::incoming::{self, Delivery, Source};
use super::line::{self, Command, Input};
use super::outgoing::{Link, SEND_SLICE, Sender, Sent};
use super::session::{Ending, Shared, Ui};
use crate::error::Failure;
use crate::hexdump::{HexDump, Tap};
use crate::term::console::{Console, RowsWriter};
use crate::term::prompt::{Event, Prompt};
use crate::term::tty;
use crate::units::format_duration;

/// How the prompt behaves.
#[derive(Debug, Clone, Default)]
pub struct ReplOptions {
    /// End sent lines with `\r\n`.
    pub crlf: bool,
    /// Where history is kept; `None` keeps none.
    pub history: Option<PathBuf>,
    /// End the session when nothing moves either way for this long.
    pub idle_timeout: Option<Duration>,
    /// `--hexdump`: both directions as hex records.
    pub hexdump: Option<Arc<HexDump>>,
    /// `--hexdump -`: the records go to the terminal, through the console.
    pub hexdump_on_stderr: bool,
    /// `-o FILE`: both directions as they are.
    pub transcript: Option<Tap>,
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

/// Run the prompt over a connected stream (TCP, TLS or Unix).
pub fn run_tcp(stream: Stream, opts: &ReplOptions) -> Result<ReplOutcome> {
    let peer = stream.peer();
    let reader = stream.try_clone().context("cannot clone the socket")?;
    // A blocked send gives the prompt back every SEND_SLICE (for Ctrl-C).
    stream
        .socket()
        .set_write_timeout(Some(SEND_SLICE))
        .context("cannot set the send timeout")?;
    session(Link::Tcp(stream), Source::Tcp(reader), peer, opts)
}

/// Run the prompt over a connected UDP socket: each line is one datagram.
pub fn run_udp(socket: UdpSocket, opts: &ReplOptions) -> Result<ReplOutcome> {
    let peer = Peer::Inet(socket.peer_addr().context("cannot read the peer address")?);
    let reader = socket.try_clone().context("cannot clone the socket")?;
    session(Link::Udp(socket), Source::Udp(reader), peer, opts)
}

/// How the prompt loop ended.
enum End {
    /// The reader ended (see its `Ending`).
    Closed,
    /// The user ended it.
    Quit(&'static str),
    /// A terminating signal: restore the terminal, then die of it.
    Signal(i32),
}

fn session(link: Link, source: Source, peer: Peer, opts: &ReplOptions) -> Result<ReplOutcome> {
    let ui = match Console::open_terminal() {
        Some(c) => Ui::Console(c),
        None => Ui::Plain,
    };
    let raw = if tty::is_tty(1) {
        None
    } else {
        Some(File::from(
            io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .context("cannot use stdout")?,
        ))
    };
    let shared = Arc::new(Shared::new(peer.clone()));
    let hexdump = match (&opts.hexdump, &ui) {
        (Some(_), Ui::Console(c)) if opts.hexdump_on_stderr => {
            Some(Arc::new(HexDump::new(Box::new(RowsWriter::new(c.clone())))))
        }
        (h, _) => h.clone(),
    };
    let tap = super::transcript::both(hexdump.map(|h| h.tap(peer.inet())), opts.transcript.clone());
    let udp = matches!(link, Link::Udp(_));
    // The banner is shown whole before the reader can show anything.
    ui.notice(&format!(
        "connected to {peer} ({}); :help for commands, {}",
        if udp { "udp" } else { "tcp" },
        if udp {
            "each line is one datagram, Ctrl-D or :quit to leave"
        } else {
            "Ctrl-D half-closes, :quit leaves"
        }
    ));
    let mut prompt = match &ui {
        Ui::Console(c) => Some(Prompt::start(c.clone(), 0, opts.history.clone())?),
        Ui::Plain => None,
    };
    let (wake, wake_tx) = UnixStream::pair().context("cannot create the wake-up pipe")?;
    let delivery = Delivery {
        ui: ui.clone(),
        raw,
        tap: tap.clone(),
    };
    incoming::spawn(source, shared.clone(), delivery, wake_tx)?;
    let mut s = Session {
        link,
        shared: shared.clone(),
        tap,
        ui,
        crlf: opts.crlf,
        idle: opts.idle_timeout,
        hinted: false,
        wake,
    };
    let result = match prompt.as_mut() {
        Some(p) => s.console_loop(p),
        None => s.plain_loop(),
    };
    if !matches!(result, Ok(End::Closed)) {
        // The reader has not finished the screen: take the prompt away.
        if let Some(c) = s.ui.console() {
            c.finish(None);
        }
    }
    drop(prompt); // the terminal is restored here
    if let Some(c) = s.ui.console() {
        c.close(); // what the peer may still send is not drawn any more
    }
    let ending = shared.take_ending();
    if let Some(Ending::Lost(e)) = ending {
        return Err(anyhow::Error::new(e).context(format!("connection to {peer} lost")));
    }
    let end = match result? {
        End::Closed => match ending {
            Some(Ending::OutputClosed) => "stdout closed",
            _ => "closed by peer",
        },
        End::Quit(why) => why,
        End::Signal(sig) => {
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            "terminated by a signal"
        }
    };
    Ok(ReplOutcome {
        sent: shared.sent.load(Ordering::Relaxed),
        received: shared.received.load(Ordering::Relaxed),
        end,
    })
}

struct Session {
    link: Link,
    shared: Arc<Shared>,
    tap: Option<Tap>,
    ui: Ui,
    crlf: bool,
    idle: Option<Duration>,
    /// The unknown-escape hint was shown.
    hinted: bool,
    wake: UnixStream,
}

impl Session {
    fn sender(&self) -> Sender<'_> {
        Sender {
            link: &self.link,
            shared: &self.shared,
            tap: self.tap.as_ref(),
            ui: &self.ui,
        }
    }

    fn idle_left(&self) -> Option<Duration> {
        self.idle.map(|i| i.saturating_sub(self.shared.idle_for()))
    }

    fn idle_expired(&self) -> Result<()> {
        match self.idle {
            Some(i) if self.shared.idle_for() >= i => Err(Failure::TimedOut(format!(
                "idle timeout: nothing moved for {}",
                format_duration(i)
            ))
            .into()),
            _ => Ok(()),
        }
    }

    fn console_loop(&mut self, prompt: &mut Prompt) -> Result<End> {
        loop {
            let wake = [self.wake.as_raw_fd()];
            let ev = prompt
                .next(&wake, self.idle_left())
                .context("cannot read the terminal")?;
            match ev {
                Event::Line(l) => {
                    prompt.echo(&format!("{}{l}", prompt.prompt()));
                    prompt.remember(&l);
                    let input = line::parse(&l, self.crlf);
                    if let Some(end) = self.input(input, Some(prompt))? {
                        return Ok(end);
                    }
                }
                Event::Pasted(lines) => {
                    for l in lines {
                        prompt.echo(&format!("{}{l}", prompt.prompt()));
                        let input = Ok(line::data_line(&l, self.crlf));
                        if let Some(end) = self.input(input, Some(prompt))? {
                            return Ok(end);
                        }
                    }
                }
                Event::Interrupt {
                    discarded,
                    repeated,
                } => {
                    if repeated {
                        return Ok(End::Quit("interrupted"));
                    }
                    if discarded.is_empty() {
                        self.ui.notice(
                            "^C: to leave, press Ctrl-C again or type :quit; Ctrl-D half-closes and waits for the peer",
                        );
                    } else {
                        self.ui.notice(&format!("^C: not sent: {discarded}"));
                    }
                }
                Event::Eof => return self.end_of_input(Some(prompt)),
                Event::Woken(_) => return Ok(End::Closed),
                Event::Timeout => self.idle_expired()?,
                Event::Terminate(sig) => return Ok(End::Signal(sig)),
                Event::InputClosed => return Ok(End::Quit("terminal closed")),
            }
        }
    }

    /// Act on one line; `Some` ends the session.
    fn input(
        &mut self,
        input: Result<Input, line::LineError>,
        prompt: Option<&mut Prompt>,
    ) -> Result<Option<End>> {
        match input {
            Ok(Input::Send { bytes, literal }) => {
                if let (Some(seq), false) = (literal, self.hinted) {
                    self.hinted = true;
                    self.ui.notice(&line::literal_hint(&seq));
                }
                let mut prompt = prompt;
                let shared = self.shared.clone();
                let mut stop =
                    || prompt.as_deref_mut().is_some_and(|p| p.interrupted()) || shared.ended();
                match self.sender().send(&bytes, &mut stop) {
                    Ok(Sent::All) => {}
                    Ok(Sent::Stopped(_)) if self.shared.ended() => return Ok(Some(End::Closed)),
                    Ok(Sent::Stopped(n)) => self.ui.notice(&format!(
                        "^C: stopped; {n} of {} bytes of that line were sent",
                        bytes.len()
                    )),
                    Err(_) if self.shared.ended() => return Ok(Some(End::Closed)),
                    Err(e) => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("cannot send to {}", self.shared.peer)));
                    }
                }
            }
            Ok(Input::Command(cmd)) => return self.command(cmd, prompt),
            Err(e) => self.ui.notice(&e.to_string()),
        }
        Ok(None)
    }

    fn command(&mut self, cmd: Command, mut prompt: Option<&mut Prompt>) -> Result<Option<End>> {
        match cmd {
            Command::Help => self.ui.notice(line::HELP),
            Command::Quit => return Ok(Some(End::Quit("quit"))),
            Command::Hex(on) => {
                self.shared.hex.store(on, Ordering::Relaxed);
                self.ui
                    .notice(&format!("hex dump {}", if on { "on" } else { "off" }));
            }
            Command::Crlf(on) => {
                self.crlf = on;
                self.ui.notice(&format!(
                    "lines end with {}",
                    if on { "\\r\\n" } else { "\\n" }
                ));
            }
            Command::Status => self.ui.notice(&self.shared.status(self.crlf)),
            Command::Send(path) => {
                if matches!(self.link, Link::Udp(_)) {
                    self.ui
                        .notice(":send streams over TCP; over UDP each typed line is a datagram");
                    return Ok(None);
                }
                if let Some(p) = prompt.as_deref_mut() {
                    p.set_visible(false);
                }
                let shared = self.shared.clone();
                let mut stop =
                    || prompt.as_deref_mut().is_some_and(|p| p.interrupted()) || shared.ended();
                let sent = self.sender().send_file(&path, &mut stop);
                if let Some(p) = prompt {
                    p.set_visible(true);
                }
                if let Err(e) = sent {
                    if self.shared.ended() {
                        return Ok(Some(End::Closed));
                    }
                    return Err(anyhow::Error::new(e)
                        .context(format!("cannot send to {}", self.shared.peer)));
                }
            }
        }
        Ok(None)
    }

    /// Ctrl-D or the end of piped input: TCP half-closes and shows what
    /// still arrives until the peer closes (Ctrl-C stops waiting); UDP ends.
    fn end_of_input(&mut self, prompt: Option<&mut Prompt>) -> Result<End> {
        let Link::Tcp(stream) = &self.link else {
            return Ok(End::Quit("end of input"));
        };
        let _ = stream.shutdown_write();
        let wake = [self.wake.as_raw_fd()];
        let Some(prompt) = prompt else {
            loop {
                let ready = tty::poll_readable(&wake, self.idle_left())?;
                if ready[0] {
                    return Ok(End::Closed);
                }
                self.idle_expired()?;
            }
        };
        self.ui
            .notice("sent EOF (half-close); waiting for the peer to close, Ctrl-C quits");
        prompt.set_visible(false);
        loop {
            match prompt
                .next(&wake, self.idle_left())
                .context("cannot read the terminal")?
            {
                Event::Woken(_) => return Ok(End::Closed),
                Event::Interrupt { .. } => return Ok(End::Quit("interrupted after EOF")),
                Event::Timeout => self.idle_expired()?,
                Event::Terminate(sig) => return Ok(End::Signal(sig)),
                Event::InputClosed => return Ok(End::Quit("terminal closed")),
                Event::Line(_) | Event::Pasted(_) | Event::Eof => {}
            }
        }
    }

    /// No terminal: lines from stdin as they come, messages on stderr.
    fn plain_loop(&mut self) -> Result<End> {
        let mut pending = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let ready = tty::poll_readable(&[0, self.wake.as_raw_fd()], self.idle_left())?;
            if ready[1] {
                return Ok(End::Closed);
            }
            if !ready[0] {
                self.idle_expired()?;
                continue;
            }
            // SAFETY: reading into a buffer we own, at most its length.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(anyhow::Error::new(e).context("cannot read stdin"));
            }
            let n = n as usize;
            pending.extend_from_slice(&buf[..n]);
            let eof = n == 0;
            while let Some(at) = pending.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = pending.drain(..=at).collect();
                let text = String::from_utf8_lossy(&raw[..at]);
                let text = text.strip_suffix('\r').unwrap_or(&text);
                if let Some(end) = self.input(line::parse(text, self.crlf), None)? {
                    return Ok(end);
                }
            }
            if eof {
                if !pending.is_empty() {
                    let text = String::from_utf8_lossy(&pending).into_owned();
                    pending.clear();
                    if let Some(end) = self.input(line::parse(&text, self.crlf), None)? {
                        return Ok(end);
                    }
                }
                return self.end_of_input(None);
            }
        }
    }
}
