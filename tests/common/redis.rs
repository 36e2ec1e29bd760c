//! A real redis-server for tests, on a Unix socket only (`--port 0`
//! turns TCP off, so no port is ever picked), ready when it says so on
//! stdout. It can be stopped and started again on the same socket path: a
//! server restart with no port to race for.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::channel;
use std::thread;

use netkit::kv::protocol::{Limits, encode_command};
use netkit::kv::resp::{Reply, parse_reply};

use super::PATIENCE;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A redis-server on `dir/redis.sock`; killed (and its directory removed)
/// on drop.
pub struct Redis {
    dir: PathBuf,
    child: Option<Child>,
}

impl Redis {
    /// Start one, or `None` (after printing why) when it is not installed.
    pub fn start() -> Option<Redis> {
        if !super::have("redis-server") {
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nk-redis-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("redis dir");
        let mut r = Redis { dir, child: None };
        r.up();
        Some(r)
    }

    /// The socket path.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("redis.sock")
    }

    /// A scratch directory that lives as long as the server.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Start the server (again) and wait for it to say it is ready to accept
    /// connections.
    pub fn up(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(self.socket())
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "local",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        thread::spawn(move || {
            let mut ready = Some(tx);
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if line
                    .to_ascii_lowercase()
                    .contains("ready to accept connections")
                {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                }
            }
        });
        // Kept before waiting, so a server that never gets ready is still
        // killed on drop when the wait panics.
        self.child = Some(child);
        rx.recv_timeout(PATIENCE)
            .expect("redis-server never said it was ready");
    }

    /// Stop the server (SIGKILL: nothing is saved; the socket file stays,
    /// as after a crash) and wait for it to be gone.
    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A RESP connection to it.
    pub fn conn(&self) -> Client {
        let s = UnixStream::connect(self.socket()).expect("connect to redis-server");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        Client { s, buf: Vec::new() }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.down();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A RESP client over a Unix socket.
pub struct Client {
    s: UnixStream,
    buf: Vec<u8>,
}

impl Client {
    /// Send a command and read its reply.
    pub fn call(&mut self, args: &[&str]) -> Reply {
        let a: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.call_bytes(&a)
    }

    /// Send a command with binary arguments and read its reply.
    fn call_bytes(&mut self, args: &[&[u8]]) -> Reply {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        self.s.write_all(&encode_command(&v)).expect("write");
        let mut chunk = [0u8; 65536];
        loop {
            if let Some((r, n)) = parse_reply(&self.buf, &Limits::default()).expect("reply") {
                self.buf.drain(..n);
                return r;
            }
            let n = self.s.read(&mut chunk).expect("read");
            assert!(n > 0, "redis-server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
