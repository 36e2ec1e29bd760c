//! The few terminal system calls the console needs: raw mode on the input
//! terminal (restored on drop), its width, and `poll(2)` over the input and
//! wake-up descriptors.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// The input terminal in raw mode: keys arrive one by one, unechoed, and
/// Ctrl-C/Ctrl-Z/Ctrl-\ are bytes, not signals. Output processing is left
/// on. Dropping it restores the saved settings.
pub struct RawMode {
    fd: RawFd,
    saved: libc::termios,
}

impl RawMode {
    /// Switch `fd` (a terminal) to raw mode.
    pub fn enter(fd: RawFd) -> io::Result<RawMode> {
        // SAFETY: termios is a plain C struct; tcgetattr fills it.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd is open for the life of the process; the pointer is valid.
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let raw = RawMode { fd, saved };
        raw.reenter()?;
        Ok(raw)
    }

    /// Raw mode again (after a suspend).
    pub fn reenter(&self) -> io::Result<()> {
        let mut t = self.saved;
        t.c_iflag &= !(libc::BRKINT | libc::ICRNL | libc::INPCK | libc::ISTRIP | libc::IXON);
        t.c_cflag |= libc::CS8;
        t.c_lflag &= !(libc::ECHO | libc::ICANON | libc::IEXTEN | libc::ISIG);
        t.c_cc[libc::VMIN] = 1;
        t.c_cc[libc::VTIME] = 0;
        // SAFETY: as above, with a struct we own.
        if unsafe { libc::tcsetattr(self.fd, libc::TCSADRAIN, &t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Back to the settings found at `enter`.
    pub fn restore(&self) {
        // SAFETY: as above.
        unsafe {
            libc::tcsetattr(self.fd, libc::TCSADRAIN, &self.saved);
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        self.restore();
    }
}

/// True when `fd` is a terminal.
pub fn is_tty(fd: RawFd) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// The terminal's width in columns, if it says.
pub fn width(fd: RawFd) -> Option<usize> {
    // SAFETY: winsize is a plain struct that TIOCGWINSZ fills.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a struct we own.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
}

/// Wait until one of `fds` is readable (or hung up), or `timeout` passes.
/// Returns which are ready; all false on a timeout or an interrupted wait.
pub fn poll_readable(fds: &[RawFd], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = match timeout {
        None => -1,
        Some(t) => t.as_millis().clamp(0, i32::MAX as u128) as i32,
    };
    // SAFETY: pfds is a valid array of pollfd for its length.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![false; fds.len()]);
        }
        return Err(e);
    }
    Ok(pfds.iter().map(|p| p.revents != 0).collect())
}
