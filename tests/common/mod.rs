//! Shared test helpers: start the real `netkit` binary on port 0 and read its
//! address from the listening line, or run a server in-process on a socket the
//! test bound itself. No fixed ports, no sleeps: readiness is the bound socket.
#![allow(dead_code)]

pub mod kv;
pub mod programs;
pub mod redis;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread;
use std::time::Duration;

pub mod screen;
pub mod tmux;

use netkit::log::Summary;
use netkit::serve::TcpConfig;
use netkit::shutdown::Shutdown;

/// Generous upper bound for anything a test waits for; never a readiness sleep.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The netkit binary under test.
pub fn netkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netkit"))
}

/// True when `program` is on PATH; otherwise print why the caller skips.
pub fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        eprintln!("SKIP: {program} is not installed (.ci/run installs it)");
    }
    found
}

/// A `netkit` child process that printed its listening line.
pub struct Running {
    child: Option<Child>,
    pid: u32,
    pub addr: SocketAddr,
    /// The listening line itself.
    pub listening: String,
    pub stdin: Option<ChildStdin>,
    pub stdout: Option<ChildStdout>,
    stderr: Receiver<String>,
}

/// Lines read from `out` on a thread, so a test can wait with a deadline.
pub fn lines_of(out: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Start `netkit ARGS` with piped stdio and wait for `listening on ADDR`.
pub fn spawn_server(args: &[&str]) -> Running {
    let mut cmd = netkit();
    cmd.args(args);
    spawn_server_cmd(cmd)
}

/// Like `spawn_server`, for a prepared command.
pub fn spawn_server_cmd(mut cmd: Command) -> Running {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start netkit");
    let rx = lines_of(child.stderr.take().expect("stderr"));
    let first = rx
        .recv_timeout(PATIENCE)
        .expect("server printed no listening line");
    let addr = parse_listening(&first).unwrap_or_else(|| panic!("not a listening line: {first}"));
    Running {
        listening: first.clone(),
        stdin: child.stdin.take(),
        stdout: child.stdout.take(),
        pid: child.id(),
        child: Some(child),
        addr,
        stderr: rx,
    }
}

pub mod peers;
pub mod pki;

/// Start `netkit ARGS` whose listening line names no IP address (a Unix
/// socket): returns the child and that line.
pub fn spawn_unix_server(args: &[&str]) -> (Child, String, Receiver<String>) {
    let mut child = netkit()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start netkit");
    let rx = lines_of(child.stderr.take().expect("stderr"));
    let first = rx
        .recv_timeout(PATIENCE)
        .expect("server printed no listening line");
    assert!(first.starts_with("listening on "), "{first}");
    (child, first, rx)
}

/// The SHA-256 on a TLS server's listening line.
pub fn fingerprint_of(listening: &str) -> String {
    listening
        .split("sha256 ")
        .nth(1)
        .and_then(|r| r.split([')', ' ', ';']).next())
        .unwrap_or_else(|| panic!("no fingerprint in: {listening}"))
        .to_string()
}

/// A child killed and reaped when the test ends, failed or not.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A directory under the system temp dir, removed (with its contents) on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// A fresh directory named after `tag` and this process.
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "netkit-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    /// A path inside it, as a string.
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }

    /// The directory itself.
    pub fn root(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The address in `listening on ADDR (...)`, or in a JSON listening event.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    if let Some(rest) = line.strip_prefix("listening on ") {
        return rest.split_whitespace().next()?.parse().ok();
    }
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v.get("addr")?.as_str()?.parse().ok()
}

impl Running {
    /// The next stderr line, within `PATIENCE`.
    pub fn stderr_line(&self) -> Option<String> {
        match self.stderr.recv_timeout(PATIENCE) {
            Ok(l) => Some(l),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// A stderr line already printed, without waiting.
    pub fn try_stderr_line(&self) -> Option<String> {
        self.stderr.try_recv().ok()
    }

    /// Wait for a stderr line containing `needle`; returns it. Bounded by
    /// `PATIENCE` in all, so a server that logs without end fails the test.
    pub fn wait_stderr(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(l) if l.contains(needle) => return l,
                Ok(_) => {}
                Err(_) => panic!("stderr never said '{needle}'"),
            }
        }
    }

    /// Send a signal to the child.
    pub fn signal(&self, sig: i32) {
        // SAFETY-free: kill(1) through the shell keeps tests free of unsafe.
        let _ = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid.to_string())
            .status();
    }

    /// Wait for exit with a bound; panics (after killing it) if the child hangs.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("already waited for");
        within_patience(self.pid, "netkit did not exit in time", move || {
            child.wait()
        })
        .expect("wait")
    }

    /// Read all of stdout until EOF.
    pub fn read_stdout(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(mut s) = self.stdout.take() {
            s.read_to_end(&mut out).expect("read stdout");
        }
        out
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An in-process TCP server on 127.0.0.1:0; dropping it stops the server and
/// fails the test if the server thread panicked.
pub struct InProcess {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    handle: Option<thread::JoinHandle<anyhow::Result<Summary>>>,
}

impl InProcess {
    /// Start `serve::tcp::run` with `cfg` on a freshly bound listener.
    pub fn tcp(cfg: TcpConfig) -> InProcess {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = Shutdown::new();
        let s = shutdown.clone();
        let handle = thread::spawn(move || netkit::serve::tcp::run(listener, s, &cfg));
        InProcess {
            addr,
            shutdown,
            handle: Some(handle),
        }
    }

    /// Stop the server and return its summary.
    pub fn stop(mut self) -> Summary {
        self.shutdown.trigger();
        let h = self.handle.take().expect("handle");
        h.join().expect("server panicked").expect("server failed")
    }

    /// A connected client with a read timeout, so a broken server fails the test.
    pub fn client(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        s
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(h) = self.handle.take() {
            let result = h.join();
            if !thread::panicking() {
                result.expect("server panicked").expect("server failed");
            }
        }
    }
}

/// Run `netkit ARGS` (stdin empty) with a bound: a run that does not end
/// within `PATIENCE` is killed and fails the test.
pub fn run_bounded(args: &[&str]) -> std::process::Output {
    let child = netkit()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run netkit");
    let what = format!("netkit {args:?} did not end within {PATIENCE:?}");
    within_patience(child.id(), &what, move || child.wait_with_output()).expect("wait")
}

/// Run `wait` (a wait for process `pid`) on a thread and give it
/// `PATIENCE`; past that, SIGKILL the process and fail with `what`.
fn within_patience<T: Send + 'static>(
    pid: u32,
    what: &str,
    wait: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = channel();
    thread::spawn(move || {
        let _ = tx.send(wait());
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(v) => v,
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("{what}");
        }
    }
}

/// Run `netkit ARGS` with `input` fed on stdin from another thread (so a
/// large input cannot deadlock against a full stdout), and collect its output.
pub fn run_with_input(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = netkit()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start netkit");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let feeder = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    feeder.join().expect("feeder");
    out
}

/// Write `data` and read exactly `n` bytes back.
pub fn roundtrip(stream: &mut TcpStream, data: &[u8], n: usize) -> Vec<u8> {
    stream.write_all(data).expect("write");
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).expect("read");
    buf
}

/// Deterministic pseudo-random bytes (xorshift), so payloads are reproducible.
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(n);
    out
}
