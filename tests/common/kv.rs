//! An in-process kv server on port 0 and a RESP client over a real socket,
//! shared by the kv test files.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::thread;

use netkit::kv::protocol::{Limits, Reply, encode_command, parse_reply};
use netkit::kv::server;
use netkit::kv::shared::Config;
use netkit::kv::store::Store;
use netkit::log::Log;
use netkit::shutdown::Shutdown;

use super::PATIENCE;

/// An in-process kv server on 127.0.0.1:0; stops (and checks) on drop.
pub struct Kv {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    handle: Option<thread::JoinHandle<anyhow::Result<netkit::log::Summary>>>,
}

impl Kv {
    pub fn start(store: Arc<Store>, cfg: Config) -> Kv {
        Kv::serve(TcpListener::bind("127.0.0.1:0").expect("bind"), store, cfg)
    }

    /// A server on a listener the test holds: the test keeps a clone, so
    /// after `stop` the port stays bound and a new server can take over (a
    /// restart with no port to race for).
    pub fn serve(listener: TcpListener, store: Arc<Store>, cfg: Config) -> Kv {
        let addr = listener.local_addr().expect("addr");
        let shutdown = Shutdown::new();
        let s = shutdown.clone();
        let handle = thread::spawn(move || server::run(listener, s, store, cfg));
        Kv {
            addr,
            shutdown,
            handle: Some(handle),
        }
    }

    pub fn memory() -> Kv {
        Kv::start(Arc::new(Store::new(16)), quiet())
    }

    pub fn conn(&self) -> Resp {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        Resp { s, buf: Vec::new() }
    }

    pub fn stop(mut self) {
        self.shutdown.trigger();
        let h = self.handle.take().expect("handle");
        h.join().expect("server panicked").expect("server failed");
    }
}

impl Drop for Kv {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(h) = self.handle.take() {
            let r = h.join();
            if !thread::panicking() {
                r.expect("server panicked").expect("server failed");
            }
        }
    }
}

pub fn quiet() -> Config {
    Config {
        log: Log {
            level: netkit::log::Level::Quiet,
            json: false,
        },
        threads: 2,
        ..Config::default()
    }
}

/// A RESP client over a real socket.
pub struct Resp {
    pub s: TcpStream,
    pub buf: Vec<u8>,
}

impl Resp {
    pub fn send(&mut self, args: &[&[u8]]) {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        self.s.write_all(&encode_command(&v)).expect("write");
    }

    pub fn reply(&mut self) -> Reply {
        let lim = Limits::default();
        let mut chunk = [0u8; 65536];
        loop {
            if let Some((r, n)) = parse_reply(&self.buf, &lim).expect("bad reply") {
                self.buf.drain(..n);
                return r;
            }
            let n = match self.s.read(&mut chunk) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => r.expect("read"),
            };
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub fn call(&mut self, args: &[&str]) -> Reply {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send(&a);
        self.reply()
    }

    /// Read until the server closes; returns what came.
    pub fn rest(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 4096];
        loop {
            match self.s.read(&mut chunk) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                // The server closed with our unread request bytes queued: a
                // reset may follow the reply, which is already here.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !out.is_empty() => {
                    return out;
                }
                Err(e) => panic!("read: {e}"),
            }
        }
    }
}

pub fn bulk(s: &str) -> Reply {
    Reply::Bulk(Some(s.as_bytes().to_vec()))
}

pub fn ok() -> Reply {
    Reply::Status("OK".into())
}

/// A fresh path in the temp dir for a log, a history or a directory; see
/// [`TempPath`].
pub fn temp_path(name: &str) -> TempPath {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    TempPath(std::env::temp_dir().join(format!(
        "netkit-kv-{}-{name}-{nanos}.aof",
        std::process::id()
    )))
}

/// A path that is removed when dropped, whether the test passed or failed:
/// the file or directory itself, and the files the server made beside it
/// (`PATH.tmp`, `PATH.bad`, ...).
#[derive(Debug)]
pub struct TempPath(PathBuf);

impl TempPath {
    /// The path, to be cleaned up by the caller instead.
    pub fn keep(mut self) -> PathBuf {
        std::mem::take(&mut self.0)
    }
}

impl std::ops::Deref for TempPath {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempPath {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let (Some(dir), Some(name)) = (self.0.parent(), self.0.file_name()) else {
            return;
        };
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
        let beside = format!("{}.", name.to_string_lossy());
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(&beside) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

pub fn quiet_log() -> Log {
    quiet().log
}

/// A Python with redis-py: `$NETKIT_PYTHON` (set by .ci/run), the venv
/// .ci/run makes, or the system python3 if it has the module.
pub fn python_with_redis() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("NETKIT_PYTHON") {
        candidates.push(p.into());
    }
    candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/python"));
    candidates.push("python3".into());
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import redis"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Run a redis-py `script` against `port` with `py`; panics with its output
/// unless it exits 0.
pub fn run_python(py: &std::path::Path, script: &str, port: u16) -> String {
    let dir = std::env::temp_dir().join(format!(
        "netkit-py-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("client.py");
    std::fs::write(&file, script).expect("script");
    let out = Command::new(py)
        .arg(&file)
        .arg(port.to_string())
        .output()
        .expect("python");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
