//! `connect --framed`: each stdin line goes out as one frame (a 4-byte
//! big-endian length, then the line without its `\n`), and each frame that
//! comes back is printed as one line, so `serve --framed` (or any
//! length-prefixed protocol) can be driven from a shell. Frames from the peer
//! over `MAX_FRAME` end the session with an error instead of an allocation;
//! stdin lines over it are refused the same way.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;

use anyhow::{Context, Result, anyhow};

use crate::pipe::{self, Counters, PipeEnd, PipeOutcome};
use crate::serve::framed::{encode_header, parse_header};
use crate::transport::Stream;

/// The largest frame sent or accepted, like `serve --max-frame`'s default.
pub const MAX_FRAME: u64 = 16 << 20;

enum Event {
    InputDone(Result<()>),
    PeerDone(Result<()>),
}

/// Run a framed session until stdin is done and the peer has closed.
pub fn run(stream: Stream, counters: Arc<Counters>) -> Result<PipeOutcome> {
    let (tx, rx) = mpsc::channel();
    let reader = stream.try_clone().context("cannot clone the socket")?;
    {
        let tx = tx.clone();
        let c = counters.clone();
        let input = pipe::stdin_file()?;
        thread::Builder::new()
            .name("framed-send".into())
            .spawn(move || {
                let r = send_lines(BufReader::new(input), &stream, &c);
                let _ = stream.shutdown_write();
                let _ = tx.send(Event::InputDone(r));
            })
            .context("cannot start the sender thread")?;
    }
    {
        let c = counters.clone();
        let output = pipe::stdout_file()?;
        thread::Builder::new()
            .name("framed-recv".into())
            .spawn(move || {
                let r = print_frames(reader, io::BufWriter::new(output), &c);
                let _ = tx.send(Event::PeerDone(r));
            })
            .context("cannot start the receiver thread")?;
    }
    // The peer closing ends the session, as in the pipe: what is left of
    // stdin would have nowhere to go.
    while let Ok(ev) = rx.recv() {
        match ev {
            Event::InputDone(r) => r?,
            Event::PeerDone(r) => {
                r?;
                break;
            }
        }
    }
    Ok(PipeOutcome {
        sent: counters.sent.load(Ordering::Relaxed),
        received: counters.received.load(Ordering::Relaxed),
        end: PipeEnd::PeerClosed,
    })
}

/// Send each line of `input` (without `\n`, and `\r\n` as a line end) as a frame.
pub fn send_lines(mut input: impl BufRead, mut out: &Stream, c: &Counters) -> Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = input
            .by_ref()
            .take(MAX_FRAME + 2)
            .read_until(b'\n', &mut line)
            .context("cannot read stdin")?;
        if n == 0 {
            return Ok(());
        }
        let payload = strip_line_end(&line);
        if payload.len() as u64 > MAX_FRAME {
            return Err(anyhow!("stdin line longer than {MAX_FRAME} bytes"));
        }
        // Header and payload in one write: a second small write would wait
        // for the peer's ACK of the first (Nagle) before leaving.
        let mut frame = Vec::with_capacity(4 + payload.len());
        frame.extend_from_slice(&encode_header(payload.len())?);
        frame.extend_from_slice(payload);
        out.write_all(&frame).context("cannot send")?;
        c.sent
            .fetch_add(4 + payload.len() as u64, Ordering::Relaxed);
    }
}

fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Print each frame read from `input` as one line on `out`.
pub fn print_frames(mut input: impl Read, mut out: impl Write, c: &Counters) -> Result<()> {
    let mut payload = Vec::new();
    loop {
        let mut header = [0u8; 4];
        match read_full(&mut input, &mut header)? {
            0 => return Ok(()),
            4 => {}
            _ => return Err(anyhow!("peer closed in the middle of a frame header")),
        }
        let len = parse_header(header, MAX_FRAME).map_err(|e| anyhow!("{e}"))?;
        payload.clear();
        let got = input
            .by_ref()
            .take(len)
            .read_to_end(&mut payload)
            .context("connection lost")?;
        if (got as u64) < len {
            return Err(anyhow!("peer closed in the middle of a {len}-byte frame"));
        }
        c.received.fetch_add(4 + len, Ordering::Relaxed);
        out.write_all(&payload)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .context("cannot write stdout")?;
    }
}

/// Fill `buf` unless EOF comes first; returns how many bytes were read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(anyhow::Error::new(e).context("connection lost")),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_become_lines() {
        let c = Counters::default();
        let mut wire = Vec::new();
        for p in [&b"hello"[..], b"", b"x y"] {
            wire.extend_from_slice(&encode_header(p.len()).unwrap());
            wire.extend_from_slice(p);
        }
        let mut out = Vec::new();
        print_frames(&wire[..], &mut out, &c).unwrap();
        assert_eq!(out, b"hello\n\nx y\n");
        assert_eq!(c.received.load(Ordering::Relaxed), wire.len() as u64);
    }

    #[test]
    fn hostile_frames_are_errors() {
        let c = Counters::default();
        let huge = [0xff, 0xff, 0xff, 0xff, b'a'];
        assert!(print_frames(&huge[..], io::sink(), &c).is_err());
        assert!(print_frames(&[0u8, 0][..], io::sink(), &c).is_err());
        assert!(print_frames(&[0u8, 0, 0, 9, b'a'][..], io::sink(), &c).is_err());
        assert!(print_frames(&[][..], io::sink(), &c).is_ok());
    }

    #[test]
    fn line_ends_are_stripped() {
        assert_eq!(strip_line_end(b"a\r\n"), b"a");
        assert_eq!(strip_line_end(b"a\n"), b"a");
        assert_eq!(strip_line_end(b"a"), b"a");
    }
}
