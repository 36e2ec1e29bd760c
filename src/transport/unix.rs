//! Unix socket addressing: a filesystem `PATH`, or a Linux abstract name
//! written `@name` (no file; gone with the last socket).
//!
//! Binding a path follows what users expect from a server that may have
//! crashed: a socket file nobody listens on (connect is refused) is stale
//! and removed; one a live server answers on is left alone with an error;
//! anything that is not a socket is never touched. The file a server
//! created is removed when it stops, if it is still the same file
//! (device and inode), so a successor's socket is never deleted.
//! `--unix-mode 660` sets the file's permissions (who may connect).

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use super::Peer;
use crate::error;

/// Where a Unix socket lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnixAddr {
    /// A file in the filesystem.
    Path(PathBuf),
    /// A Linux abstract name (given as `@name`).
    Abstract(Vec<u8>),
}

impl UnixAddr {
    /// `@name` is abstract; anything else a path.
    pub fn parse(s: &str) -> Result<UnixAddr> {
        if s.is_empty() {
            return Err(error::usage("give a Unix socket path (or @name)"));
        }
        let addr = match s.strip_prefix('@') {
            Some("") => {
                return Err(error::usage("an abstract socket needs a name after @"));
            }
            Some(name) => UnixAddr::Abstract(name.as_bytes().to_vec()),
            None => UnixAddr::Path(PathBuf::from(s)),
        };
        // sun_path holds 108 bytes, the trailing NUL (or the leading one) included.
        let len = match &addr {
            UnixAddr::Path(p) => p.as_os_str().len(),
            UnixAddr::Abstract(n) => n.len(),
        };
        if len > 107 {
            return Err(error::usage(format!(
                "Unix socket address '{s}' is longer than 107 bytes"
            )));
        }
        Ok(addr)
    }

    fn sockaddr(&self) -> io::Result<SocketAddr> {
        match self {
            UnixAddr::Path(p) => SocketAddr::from_pathname(p),
            UnixAddr::Abstract(n) => SocketAddr::from_abstract_name(n),
        }
    }

    /// Connect a stream socket.
    pub fn connect(&self) -> io::Result<UnixStream> {
        UnixStream::connect_addr(&self.sockaddr()?)
    }
}

impl fmt::Display for UnixAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnixAddr::Path(p) => write!(f, "{}", p.display()),
            UnixAddr::Abstract(n) => write!(f, "@{}", String::from_utf8_lossy(n)),
        }
    }
}

/// How a socket address reads in logs.
pub fn describe(a: &SocketAddr) -> Option<String> {
    if let Some(p) = a.as_pathname() {
        return Some(p.display().to_string());
    }
    a.as_abstract_name()
        .map(|n| format!("@{}", String::from_utf8_lossy(n)))
}

/// Removes the socket file a server bound when dropped, if it is still ours.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path)
            && m.dev() == self.dev
            && m.ino() == self.ino
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Clear the way for binding `path`: remove a stale socket file, refuse a
/// live one or a file that is not a socket. `probe` says whether something
/// answers at the path (a stream connect or a datagram connect).
fn clear_stale(path: &Path, probe: impl Fn() -> io::Result<()>) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("cannot use {}", path.display())));
        }
    };
    if !meta.file_type().is_socket() {
        return Err(anyhow!(
            "cannot listen on {}: it exists and is not a socket (remove it or pick another path)",
            path.display()
        ));
    }
    match probe() {
        Ok(()) => Err(
            anyhow::Error::new(io::Error::from(io::ErrorKind::AddrInUse)).context(format!(
                "cannot listen on {}: a server is listening there",
                path.display()
            )),
        ),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => std::fs::remove_file(path)
            .with_context(|| format!("cannot remove the stale socket {}", path.display())),
        Err(e) => Err(anyhow::Error::new(e)
            .context(format!("cannot tell whether {} is in use", path.display()))),
    }
}

fn finish_bind(addr: &UnixAddr, mode: Option<u32>) -> Result<Option<SocketFile>> {
    let UnixAddr::Path(path) = addr else {
        return Ok(None);
    };
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("cannot stat {}", path.display()))?;
    let file = SocketFile {
        path: path.clone(),
        dev: meta.dev(),
        ino: meta.ino(),
    };
    if let Some(m) = mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(m))
            .with_context(|| format!("cannot chmod {} to {m:o}", path.display()))?;
    }
    Ok(Some(file))
}

fn check_mode(addr: &UnixAddr, mode: Option<u32>) -> Result<()> {
    if mode.is_some() && matches!(addr, UnixAddr::Abstract(_)) {
        return Err(error::usage(
            "--unix-mode applies to socket files, not abstract @names (they have no permissions)",
        ));
    }
    Ok(())
}

/// Bind and listen on a Unix stream socket; the file (if any) is removed
/// when the returned guard drops.
pub fn bind_listener(
    addr: &UnixAddr,
    mode: Option<u32>,
) -> Result<(UnixListener, Option<SocketFile>)> {
    check_mode(addr, mode)?;
    if let UnixAddr::Path(p) = addr {
        clear_stale(p, || UnixStream::connect(p).map(drop))?;
    }
    let sa = addr
        .sockaddr()
        .with_context(|| format!("bad Unix socket address {addr}"))?;
    let listener =
        UnixListener::bind_addr(&sa).with_context(|| format!("cannot listen on {addr}"))?;
    let file = finish_bind(addr, mode)?;
    Ok((listener, file))
}

/// Bind a Unix datagram socket (a server's); the file is removed with the guard.
pub fn bind_datagram(
    addr: &UnixAddr,
    mode: Option<u32>,
) -> Result<(UnixDatagram, Option<SocketFile>)> {
    check_mode(addr, mode)?;
    if let UnixAddr::Path(p) = addr {
        clear_stale(p, || UnixDatagram::unbound()?.connect(p))?;
    }
    let sa = addr
        .sockaddr()
        .with_context(|| format!("bad Unix socket address {addr}"))?;
    let sock = UnixDatagram::bind_addr(&sa).with_context(|| format!("cannot bind {addr}"))?;
    let file = finish_bind(addr, mode)?;
    Ok((sock, file))
}

/// A client datagram socket connected to `addr`, bound to an autobound
/// abstract name (Linux gives it a unique one) so replies can come back and
/// no file is left behind.
pub fn connect_datagram(addr: &UnixAddr) -> io::Result<UnixDatagram> {
    // SAFETY: a plain socket(2) call; the descriptor is owned at once.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let family = libc::sockaddr_un {
        sun_family: libc::AF_UNIX as libc::sa_family_t,
        sun_path: [0; 108],
    };
    // SAFETY: binding with only the family (length 2) asks Linux to autobind
    // an abstract name; the struct outlives the call.
    let r = unsafe {
        libc::bind(
            owned.as_raw_fd(),
            (&family as *const libc::sockaddr_un).cast(),
            std::mem::size_of::<libc::sa_family_t>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    let sock = UnixDatagram::from(owned);
    sock.connect_addr(&addr.sockaddr()?)?;
    Ok(sock)
}

/// The peer of a connected Unix stream: its bound name (rarely any) and
/// its process credentials.
pub fn peer_of(s: &UnixStream) -> Peer {
    let path = s.peer_addr().ok().and_then(|a| describe(&a));
    let (pid, uid) = match peer_cred(s) {
        Some((pid, uid)) => (Some(pid), Some(uid)),
        None => (None, None),
    };
    Peer::Unix { path, pid, uid }
}

/// Our own end of a Unix stream.
pub fn local_of(s: &UnixStream) -> Peer {
    Peer::Unix {
        path: s.local_addr().ok().and_then(|a| describe(&a)),
        pid: None,
        uid: None,
    }
}

/// SO_PEERCRED: the pid and uid of the process at the other end.
fn peer_cred(s: &UnixStream) -> Option<(i32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`, which we own.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (r == 0 && cred.pid > 0).then_some((cred.pid, cred.uid))
}

/// Parse `--unix-mode`: octal permission bits such as 660 or 0600.
pub fn parse_mode(s: &str) -> Result<u32, String> {
    let t = s.trim();
    match u32::from_str_radix(t, 8) {
        Ok(m) if m <= 0o7777 && !t.is_empty() => Ok(m),
        _ => Err(format!(
            "'{s}' is not an octal file mode (e.g. 660 or 0600)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        assert_eq!(
            UnixAddr::parse("/tmp/x.sock").unwrap(),
            UnixAddr::Path("/tmp/x.sock".into())
        );
        assert_eq!(
            UnixAddr::parse("@netkit").unwrap(),
            UnixAddr::Abstract(b"netkit".to_vec())
        );
        assert!(UnixAddr::parse("@").is_err());
        assert!(UnixAddr::parse("").is_err());
        assert!(UnixAddr::parse(&"x".repeat(200)).is_err());
        assert_eq!(UnixAddr::parse("@a b").unwrap().to_string(), "@a b");
    }

    #[test]
    fn modes_parse() {
        assert_eq!(parse_mode("660"), Ok(0o660));
        assert_eq!(parse_mode("0600"), Ok(0o600));
        assert!(parse_mode("9").is_err());
        assert!(parse_mode("").is_err());
        assert!(parse_mode("77777").is_err());
    }

    #[test]
    fn stale_files_go_live_ones_stay_and_ours_is_removed() {
        let dir = std::env::temp_dir().join(format!("netkit-unix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let addr = UnixAddr::Path(path.clone());
        // A stale file: bound, then the socket closed.
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let (live, guard) = bind_listener(&addr, Some(0o600)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A live one is refused and left alone.
        let err = bind_listener(&addr, None).unwrap_err();
        assert!(
            format!("{err:#}").contains("a server is listening"),
            "{err:#}"
        );
        assert!(path.exists());
        drop(live);
        drop(guard);
        assert!(!path.exists());
        // A regular file is never touched.
        std::fs::write(&path, b"data").unwrap();
        assert!(bind_listener(&addr, None).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"data");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn abstract_datagrams_reply_to_an_autobound_client() {
        let name = format!("netkit-test-{}", std::process::id());
        let addr = UnixAddr::Abstract(name.into_bytes());
        let (server, file) = bind_datagram(&addr, None).unwrap();
        assert!(file.is_none());
        let client = connect_datagram(&addr).unwrap();
        client.send(b"ping").unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        server.send_to_addr(b"pong", &from).unwrap();
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"pong");
    }
}
