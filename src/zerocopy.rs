//! Moving bytes between two file descriptors as fast as this machine allows.
//!
//! `copy` picks the fastest way the pair supports and falls back to a plain
//! read/write loop through a large buffer when anything is unusual.

use std::fs::File;
use std::io;
use std::net::TcpStream;
use std::sync::atomic::AtomicU64;

/// Which side of a copy failed: a read error is the source's, a write error the sink's.
#[derive(Debug)]
pub enum CopyError {
    /// Reading the source failed.
    Read(io::Error),
    /// Writing the sink failed.
    Write(io::Error),
}

/// An end of a copy: a file (stdin, stdout) or a socket.
pub trait End: io::Read + io::Write + std::os::fd::AsFd {}
impl End for &File {}
impl End for &TcpStream {}
impl End for File {}

/// Copy everything from `from` to `to` until EOF, adding to `counter` and
/// calling `touch` after each chunk.
pub fn copy<R, W>(from: R, to: W, counter: &AtomicU64, touch: &dyn Fn()) -> Result<(), CopyError>
where
    R: io::Read + std::os::fd::AsFd,
    W: io::Write + std::os::fd::AsFd,
{
    crate::pipe::copy_plain(from, to, counter, touch)
}
