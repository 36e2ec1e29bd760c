//! Helpers for tests that drive real programs (ssh, sshd, git) through
//! netkit: running a command with a deadline, so a hang fails the test
//! instead of stalling the suite.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::Duration;

/// Run `cmd` with `input` on stdin and collect its output; kill it and panic
/// if it has not exited within `deadline` (the hangs this suite guards against).
pub fn run_within(mut cmd: Command, input: &[u8], deadline: Duration) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let feeder = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out_rx = drain(child.stdout.take().expect("stdout"));
    let err_rx = drain(child.stderr.take().expect("stderr"));
    let (tx, rx) = channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    // Output readers are never joined without a bound: a grandchild (a
    // ProxyCommand) may hold the pipes open after a hang.
    let collect = |r: &Receiver<Vec<u8>>| r.recv_timeout(Duration::from_secs(10)).ok();
    let status = match rx.recv_timeout(deadline) {
        Ok(s) => s.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            let err = collect(&err_rx).unwrap_or_default();
            panic!(
                "{what} did not finish within {deadline:?} (killed); stderr:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
    };
    let _ = feeder.join();
    let stdout = collect(&out_rx)
        .unwrap_or_else(|| panic!("{what} exited but something kept its stdout open"));
    Output {
        status,
        stdout,
        stderr: collect(&err_rx).unwrap_or_default(),
    }
}

/// Read `r` to its end on a thread; the bytes arrive on the channel.
fn drain(mut r: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = channel();
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        let _ = tx.send(v);
    });
    rx
}

/// Panic with the command's stderr unless it exited 0.
pub fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
