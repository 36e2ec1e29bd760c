//! netcat listen mode. Without `-k`: accept one client, pipe it to
//! stdin/stdout like `nc -l`, exit when both directions are done. With `-k`:
//! many clients at once, each one's bytes to stdout (whole chunks, never
//! interleaved mid-chunk) and stdin broadcast to all through bounded queues.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::net::Shutdown as SockShutdown;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use anyhow::{Context, Result};

use super::TcpConfig;
use super::broadcast::{Hub, Limits, Msg};
use super::tcp::{self, Conn, End, Handler};
use crate::hexdump::{Direction, Tap};
use crate::log::{ConnRecord, Summary};
use crate::pipe::{self, Counters, PipeOptions};
use crate::shutdown::Shutdown;
use crate::transport::listener::Listener;

/// How far a `-k` client may fall behind stdin before it is dropped.
const QUEUE: Limits = Limits {
    max_bytes: 16 << 20,
    max_wait: std::time::Duration::from_secs(60),
};

/// `nc -l`: one client, then exit.
pub fn single(listener: Listener, shutdown: Shutdown, cfg: &TcpConfig) -> Result<Summary> {
    tcp::wake_accept_on_shutdown(&listener, &shutdown)?;
    let mut rejected = 0;
    let (socket, peer) = loop {
        let Some((socket, peer)) = tcp::accept_one(&listener, &shutdown, cfg)? else {
            return Ok(Summary {
                rejected,
                ..Summary::default()
            });
        };
        if tcp::admit(cfg, &peer) {
            break (socket, peer);
        }
        rejected += 1;
    };
    drop(listener); // later clients are refused, as with nc -l
    if let Some(tcp) = socket.tcp() {
        cfg.stream.apply(tcp).context("cannot set socket options")?;
    }
    let stream = tcp::wrap(socket, cfg)?;
    if let Err(e) = tcp::start(&stream, None) {
        cfg.log
            .verbose(&format!("{peer}: {}", tcp::handshake_end(&e).describe()));
        return Err(anyhow::Error::new(e).context(format!("{peer}: TLS handshake failed")));
    }
    cfg.log.event(
        crate::log::Level::Verbose,
        "connected",
        serde_json::json!({"peer": peer.to_string()}),
        || format!("{peer}: connected"),
    );
    let started = Instant::now();
    let opts = PipeOptions {
        idle_timeout: cfg.idle_timeout,
        input_is_tty: std::io::stdin().is_terminal(),
        tap: cfg.hexdump.as_ref().map(|d| d.tap(peer.inet())),
        ..PipeOptions::default()
    };
    let counters = Arc::new(Counters::default());
    let result = pipe::run(
        stream,
        pipe::stdin_file()?,
        pipe::stdout_file()?,
        &opts,
        counters.clone(),
        Some(&shutdown),
    );
    let (bytes_in, bytes_out) = (
        counters.received.load(Ordering::Relaxed),
        counters.sent.load(Ordering::Relaxed),
    );
    cfg.log.connection(&ConnRecord {
        peer,
        bytes_in,
        bytes_out,
        duration: started.elapsed(),
        end: match &result {
            Ok(o) => o.end.describe().to_string(),
            Err(e) => format!("{e:#}"),
        },
    });
    result?;
    Ok(Summary {
        connections: 1,
        rejected,
        bytes_in,
        bytes_out,
    })
}

/// `ncat -lk`: many clients; stdin to all of them, each one's bytes to stdout.
pub fn keep_open(listener: Listener, shutdown: Shutdown, cfg: &TcpConfig) -> Result<Summary> {
    let hub = Arc::new(Hub::new(QUEUE));
    let stdout = Arc::new(Mutex::new(pipe::stdout_file()?));
    spawn_stdin_broadcast(pipe::stdin_file()?, hub.clone(), cfg.log)?;

    let stop = shutdown.clone();
    let dump = cfg.hexdump.clone();
    let handler: Handler = Arc::new(move |conn: &mut Conn| {
        let tap = tcp::conn_tap(&dump, conn);
        client(conn, &hub, &stdout, &stop, tap)
    });
    tcp::accept_loop(listener, shutdown, cfg, handler)
}

fn spawn_stdin_broadcast(mut stdin: File, hub: Arc<Hub>, log: crate::log::Log) -> Result<()> {
    thread::Builder::new()
        .name("stdin-broadcast".into())
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        for id in hub.send(Arc::from(&buf[..n]), None) {
                            log.event(
                                crate::log::Level::Normal,
                                "dropped",
                                serde_json::json!({"client": id, "reason": "too slow"}),
                                || format!("client {id} dropped: it stopped reading (16 MiB waiting, or data unread for 60s)"),
                            );
                        }
                    }
                }
            }
            hub.close();
        })
        .context("cannot start the stdin thread")?;
    Ok(())
}

fn client(
    conn: &mut Conn,
    hub: &Hub,
    stdout: &Mutex<File>,
    stop: &Shutdown,
    tap: Option<Tap>,
) -> End {
    let rx = hub.subscribe(conn.id);
    let sent = Arc::new(AtomicU64::new(0));
    let writer = match conn.stream.try_clone() {
        Ok(w) => w,
        Err(e) => return End::from_io(&e),
    };
    let sent2 = sent.clone();
    let tap2 = tap.clone();
    let writer_thread = thread::Builder::new()
        .stack_size(tcp::CONN_STACK)
        .spawn(move || {
            let mut w = &writer;
            loop {
                match rx.recv() {
                    Ok(Msg::Data(d)) => {
                        if w.write_all(&d).is_err() {
                            break;
                        }
                        if let Some(t) = &tap2 {
                            t.call(Direction::Out, &d);
                        }
                        sent2.fetch_add(d.len() as u64, Ordering::Relaxed);
                    }
                    Ok(Msg::Close) => {
                        let _ = writer.shutdown_write();
                        break;
                    }
                    Err(_) => {
                        // Dropped as too slow, or the reader is done.
                        let _ = writer.socket().shutdown(SockShutdown::Both);
                        break;
                    }
                }
            }
        });
    let mut buf = vec![0u8; 64 * 1024];
    let mut stream = &*conn.stream;
    let end = loop {
        match stream.read(&mut buf) {
            Ok(0) => break End::PeerClosed,
            Ok(n) => {
                conn.bytes_in += n as u64;
                if let Some(t) = &tap {
                    t.call(Direction::In, &buf[..n]);
                }
                let mut out = stdout.lock().unwrap_or_else(|p| p.into_inner());
                if out.write_all(&buf[..n]).is_err() {
                    // stdout is gone (`| head`): nothing more can be delivered.
                    stop.trigger();
                    break End::Error("stdout closed".into());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break End::from_io(&e),
        }
    };
    hub.unsubscribe(conn.id);
    if let Ok(t) = writer_thread {
        let _ = t.join();
    }
    conn.bytes_out = sent.load(Ordering::Relaxed);
    end
}
