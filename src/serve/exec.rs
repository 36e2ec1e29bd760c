//! `serve --exec CMD` / `--sh-exec CMD`: a process per connection with the
//! socket as its stdin and stdout, like `ncat -e` / `ncat -c`.
//!
//! The child gets duplicates of the socket as fds 0 and 1 (stderr is the
//! server's) — over TLS, pipes that netkit relays to the session — and nothing else: every fd netkit opens is close-on-exec, and a
//! test lists `/proc/self/fd` from a child to keep it so. Each child runs in
//! its own process group, so Ctrl-C reaches the server only and a stop can
//! signal a whole `sh -c` pipeline. The connection thread waits for the child
//! without reaping it (`waitid(WNOWAIT)`), takes it out of the registry, then
//! reaps it: a stop that signals what is in the registry never signals a
//! recycled pid.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::tcp::{self, Conn, End};
use crate::copy;
use crate::log::Log;
use crate::relay::{self, Endpoint, RelayOptions};
use crate::shutdown::Shutdown;
use crate::transport::{Peer, Socket, Stream};

/// `--max-conns` when none is given: as many children at once, like ncat's
/// default of 100.
pub const DEFAULT_MAX_CONNS: u64 = 100;

/// The command run for each connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand {
    /// The program (searched in PATH when it has no `/`).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The command line as the user gave it, for logs.
    pub display: String,
}

impl ExecCommand {
    /// `--exec`: split at whitespace, no shell and no quoting (use `--sh-exec`
    /// for those). `None` when there is nothing to run.
    pub fn split(cmdline: &str) -> Option<ExecCommand> {
        let mut words = cmdline.split_whitespace().map(str::to_string);
        let program = words.next()?;
        Some(ExecCommand {
            program,
            args: words.collect(),
            display: cmdline.trim().to_string(),
        })
    }

    /// `--sh-exec`: `/bin/sh -c CMD`.
    pub fn shell(cmdline: &str) -> ExecCommand {
        ExecCommand {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), cmdline.into()],
            display: cmdline.to_string(),
        }
    }

    /// True when the program exists: a path that is a file, or a name found
    /// in one of `path`'s directories. Checked at start so a typo is a usage
    /// error, not one failure per client.
    pub fn is_runnable(&self, path: Option<&std::ffi::OsStr>) -> bool {
        if self.program.contains('/') {
            return Path::new(&self.program).is_file();
        }
        path.is_some_and(|p| std::env::split_paths(p).any(|d| d.join(&self.program).is_file()))
    }
}

/// Children that are running, by connection id, so a stop can signal them.
#[derive(Debug, Default)]
pub struct Children {
    pids: Mutex<HashMap<u64, libc::pid_t>>,
}

impl Children {
    fn pids(&self) -> std::sync::MutexGuard<'_, HashMap<u64, libc::pid_t>> {
        self.pids.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Send `sig` to every running child's process group.
    pub fn signal_all(&self, sig: libc::c_int) {
        for &pid in self.pids().values() {
            // SAFETY: kill(2) has no memory effects; `pid` is not reaped yet
            // (it leaves the registry before it is), so it cannot be recycled.
            unsafe {
                libc::kill(-pid, sig);
            }
        }
    }

    /// Number of running children.
    pub fn len(&self) -> usize {
        self.pids().len()
    }

    /// True when no child runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// After a stop: wait `grace`, then SIGTERM every child still running,
    /// and SIGKILL what is left a second later (the accept loop closes the
    /// sockets at the same moment and gives the threads two seconds).
    pub fn kill_after_stop(self: &Arc<Self>, shutdown: &Shutdown, grace: Duration) {
        let children = self.clone();
        shutdown.on_trigger(move || {
            let children = children.clone();
            let _ = thread::Builder::new()
                .name("exec-reaper".into())
                .spawn(move || {
                    thread::sleep(grace);
                    if children.is_empty() {
                        return;
                    }
                    children.signal_all(libc::SIGTERM);
                    thread::sleep(Duration::from_secs(1));
                    children.signal_all(libc::SIGKILL);
                });
        });
    }
}

/// Mark every inherited descriptor above stderr close-on-exec. netkit's own
/// are already; these came from whoever started netkit (a shell's stray fds)
/// and must not reach the commands run for clients.
pub fn cloexec_inherited() {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in dir.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if fd > 2 {
            // SAFETY: fcntl on an fd number only changes its flags; a stale
            // number (the directory's own fd) fails harmlessly with EBADF.
            unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                    libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
                }
            }
        }
    }
}

/// Block until `pid` has exited, without reaping it.
fn wait_exited(pid: libc::pid_t) -> io::Result<()> {
    loop {
        // SAFETY: siginfo_t is plain data; waitid writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: a valid pointer to `info`; WNOWAIT leaves the child waitable.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Bytes the kernel counted on this socket (in, out), for the `-v` record:
/// the child moved them, not netkit.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn socket_bytes(socket: &Socket) -> (u64, u64) {
    use std::os::fd::AsRawFd;
    let Some(stream) = socket.tcp() else {
        return (0, 0); // a Unix socket keeps no such counters
    };
    // SAFETY: tcp_info is plain data.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: valid fd, pointer and length for getsockopt(TCP_INFO).
    let r = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if r == 0 {
        // The counters include a FIN's sequence number: take it out.
        const FIN_WAIT2: u8 = 5;
        const TIME_WAIT: u8 = 6;
        const CLOSE_WAIT: u8 = 8;
        const LAST_ACK: u8 = 9;
        const CLOSING: u8 = 11;
        let st = info.tcpi_state;
        let fin_in = matches!(st, TIME_WAIT | CLOSE_WAIT | LAST_ACK | CLOSING);
        let fin_out_acked = matches!(st, FIN_WAIT2 | TIME_WAIT);
        (
            info.tcpi_bytes_received.saturating_sub(u64::from(fin_in)),
            info.tcpi_bytes_acked
                .saturating_sub(u64::from(fin_out_acked)),
        )
    } else {
        (0, 0)
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn socket_bytes(_socket: &Socket) -> (u64, u64) {
    (0, 0)
}

/// Run `f` again while it fails for want of descriptors (other children
/// being spawned hold a few for a moment), for up to five seconds.
fn retry_out_of_fds<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    for _ in 0..100 {
        match f() {
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
    f()
}

/// Put the stream on the command's stdin and stdout. A plain socket is
/// handed over itself (duplicates of its descriptor: the child reads and
/// writes the socket directly); TLS has no descriptor carrying plaintext, so
/// the child gets pipes that [`pump`] relays. Returns true when relayed.
pub fn attach(command: &mut Command, stream: &Stream) -> io::Result<bool> {
    if stream.plain_fd().is_some() {
        // The command's small writes go out at once, not after the peer's
        // ACK (a relay's `netkit connect` writes whatever it receives).
        copy::no_delay(stream.socket());
        let (a, b) = (stream.socket().try_clone()?, stream.socket().try_clone()?);
        command
            .stdin(Stdio::from(OwnedFd::from(a)))
            .stdout(Stdio::from(OwnedFd::from(b)));
        Ok(false)
    } else {
        command.stdin(Stdio::piped()).stdout(Stdio::piped());
        Ok(true)
    }
}

/// Tell the command who is at the other end: `NETKIT_PEER_ADDR`/`_PORT` and
/// `NETKIT_LOCAL_ADDR`/`_PORT` over IP, `NETKIT_PEER_PID`/`_UID` over a Unix
/// socket, `NETKIT_TLS_VERSION`, `NETKIT_TLS_SNI`, `NETKIT_TLS_ALPN` over TLS.
pub fn peer_env(command: &mut Command, stream: &Stream, peer: &Peer) {
    match peer {
        Peer::Inet(a) => {
            command
                // An IPv4 client of a `::` listener as plain IPv4.
                .env("NETKIT_PEER_ADDR", a.ip().to_canonical().to_string())
                .env("NETKIT_PEER_PORT", a.port().to_string());
        }
        Peer::Unix { pid, uid, .. } => {
            if let Some(p) = pid {
                command.env("NETKIT_PEER_PID", p.to_string());
            }
            if let Some(u) = uid {
                command.env("NETKIT_PEER_UID", u.to_string());
            }
        }
        Peer::Unknown => {}
    }
    match stream.socket().local() {
        Peer::Inet(l) => {
            command
                .env("NETKIT_LOCAL_ADDR", l.ip().to_canonical().to_string())
                .env("NETKIT_LOCAL_PORT", l.port().to_string());
        }
        Peer::Unix { path: Some(p), .. } => {
            command.env("NETKIT_LOCAL_PATH", p);
        }
        _ => {}
    }
    if let Stream::Tls(t) = stream {
        let info = t.info();
        command.env("NETKIT_TLS_VERSION", info.version);
        if let Some(sni) = info.sni {
            command.env("NETKIT_TLS_SNI", sni);
        }
        if let Some(alpn) = info.alpn {
            command.env("NETKIT_TLS_ALPN", alpn);
        }
    }
}

/// Wait for a spawned command to exit (without reaping it), relaying its
/// pipes to the stream first when [`attach`] said so. Once it has exited, the
/// stream's read side is shut down so the relay's other direction ends too,
/// while what the command wrote is still delivered. Returns the bytes moved
/// (in from the peer, out to it) when netkit moved them.
pub fn pump(
    stream: &Arc<Stream>,
    child: &mut std::process::Child,
    relayed: bool,
) -> io::Result<Option<(u64, u64)>> {
    let pid = child.id() as libc::pid_t;
    if !relayed {
        return wait_exited(pid).map(|()| None);
    }
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(io::Error::other("the command's pipes are missing"));
    };
    let s = stream.clone();
    let waiter = thread::Builder::new()
        .name("exec-wait".into())
        .stack_size(tcp::CONN_STACK)
        .spawn(move || {
            let r = wait_exited(pid);
            let _ = s.socket().shutdown(std::net::Shutdown::Read);
            r
        })?;
    let outcome = relay::relay(
        Endpoint::Stream(stream.clone()),
        Endpoint::Pipes {
            from: File::from(OwnedFd::from(stdout)),
            to: File::from(OwnedFd::from(stdin)),
        },
        &RelayOptions::default(),
    );
    waiter
        .join()
        .map_err(|_| io::Error::other("the wait thread panicked"))??;
    Ok(Some((outcome.a_to_b, outcome.b_to_a)))
}

/// Run `cmd` for one connection and wait for it.
pub fn serve(conn: &mut Conn, cmd: &ExecCommand, children: &Children, log: Log) -> End {
    let mut command = Command::new(&cmd.program);
    command
        .args(&cmd.args)
        .stderr(Stdio::inherit())
        .process_group(0);
    let relayed = match retry_out_of_fds(|| attach(&mut command, &conn.stream)) {
        Ok(r) => r,
        Err(e) => return End::Error(format!("cannot pass the socket: {e}")),
    };
    peer_env(&mut command, &conn.stream, &conn.peer);
    // Hold the registry while spawning, so a stop cannot miss this child.
    // (Each attempt takes the lock anew: a wait for descriptors must not
    // hold up the other connections or a stop.)
    let spawned = retry_out_of_fds(|| {
        let mut pids = children.pids();
        let c = command.spawn()?;
        pids.insert(conn.id, c.id() as libc::pid_t);
        Ok(c)
    });
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            log.event(
                crate::log::Level::Quiet,
                "exec_failed",
                serde_json::json!({"peer": conn.peer.to_string(), "command": cmd.display, "error": e.to_string()}),
                || format!("{}: cannot run {}: {e}", conn.peer, cmd.program),
            );
            return End::Error(format!("cannot run {}: {e}", cmd.program));
        }
    };
    // `command` holds the parent's copies of the socket fds until dropped.
    drop(command);
    let waited = pump(&conn.stream, &mut child, relayed);
    children.pids().remove(&conn.id);
    let moved = match waited {
        Ok(m) => m,
        Err(e) => {
            let _ = child.wait();
            return End::Error(format!("cannot wait for {}: {e}", cmd.program));
        }
    };
    let status = match child.wait() {
        Ok(s) => s,
        Err(e) => return End::Error(format!("cannot wait for {}: {e}", cmd.program)),
    };
    (conn.bytes_in, conn.bytes_out) = match moved {
        Some(m) => m,
        None => socket_bytes(conn.stream.socket()),
    };
    exit_end(status)
}

/// How a command's exit reads in a `-v` record.
pub fn exit_end(status: std::process::ExitStatus) -> End {
    if status.success() {
        End::Done
    } else if let Some(sig) = status.signal() {
        End::Error(format!("command killed by signal {sig}"))
    } else {
        End::Error(format!(
            "command exited with status {}",
            status.code().unwrap_or(-1)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_whitespace_only() {
        let c = ExecCommand::split("  tr  a-z A-Z ").expect("cmd");
        assert_eq!(c.program, "tr");
        assert_eq!(c.args, ["a-z", "A-Z"]);
        assert!(ExecCommand::split("").is_none());
        assert!(ExecCommand::split(" \t ").is_none());
        let q = ExecCommand::split("echo 'a b'").expect("cmd");
        assert_eq!(q.args, ["'a", "b'"]);
    }

    #[test]
    fn shell_wraps_the_whole_line() {
        let c = ExecCommand::shell("tr a-z A-Z | rev");
        assert_eq!(c.program, "/bin/sh");
        assert_eq!(c.args, ["-c", "tr a-z A-Z | rev"]);
    }

    #[test]
    fn runnable_checks_paths_and_path_dirs() {
        let path = std::ffi::OsString::from("/nonexistent:/bin:/usr/bin");
        assert!(ExecCommand::shell("x").is_runnable(None));
        assert!(
            ExecCommand::split("sh -c true")
                .expect("cmd")
                .is_runnable(Some(&path))
        );
        assert!(
            !ExecCommand::split("no-such-program-netkit")
                .expect("cmd")
                .is_runnable(Some(&path))
        );
        assert!(!ExecCommand::split("sh").expect("cmd").is_runnable(None));
        assert!(
            !ExecCommand::split("/no/such/file")
                .expect("cmd")
                .is_runnable(None)
        );
    }
}
