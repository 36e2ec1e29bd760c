//! The command line's edges: values that mean nothing are refused when the
//! arguments are read, options that do nothing in a mode are refused,
//! usage errors are short, and hints say only what is true.

mod common;

use std::net::{SocketAddr, TcpListener};

use common::{netkit, run_bounded, spawn_server};

/// Run netkit with these arguments; (exit code, stderr).
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = run_bounded(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_usage_error(args: &[&str], says: &str) {
    let (code, err) = run(args);
    assert_eq!(code, Some(2), "{args:?}: {err}");
    assert!(err.starts_with("netkit: error: "), "{args:?}: {err}");
    assert!(err.lines().count() <= 2, "{args:?}: not short: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
}

#[test]
fn zero_values_are_refused_when_read() {
    assert_usage_error(
        &["serve", "--echo", "--idle-timeout", "0", "0"],
        "above zero",
    );
    assert_usage_error(&["serve", "--echo", "--count", "0", "0"], "--count");
    assert_usage_error(&["serve", "udp", "--echo", "--count", "0", "0"], "--count");
    assert_usage_error(&["connect", "-w", "0", "127.0.0.1", "9"], "above zero");
    assert_usage_error(
        &["connect", "-w", "0ms", "-z", "127.0.0.1", "9"],
        "above zero",
    );
    assert_usage_error(
        &["connect", "--idle-timeout", "0s", "127.0.0.1", "9"],
        "above zero",
    );
    assert_usage_error(
        &["connect", "-u", "--reply-timeout", "0", "127.0.0.1", "9"],
        "above zero",
    );
    assert_usage_error(
        &["serve", "--framed", "--max-frame", "0", "0"],
        "at least 1 byte",
    );
}

#[test]
fn options_that_do_nothing_in_a_mode_are_refused() {
    assert_usage_error(&["serve", "--echo", "--max-frame", "1KiB", "0"], "--framed");
    assert_usage_error(
        &["connect", "--reply-timeout", "2s", "127.0.0.1", "9"],
        "--udp",
    );
    assert_usage_error(&["connect", "--expect-reply", "127.0.0.1", "9"], "--udp");
    assert_usage_error(&["connect", "-z", "-q", "1", "127.0.0.1", "9"], "-q");
    assert_usage_error(&["serve", "--max-conns", "3", "0"], "-k");
    assert_usage_error(&["serve", "--count", "3", "0"], "-k");
    assert_usage_error(
        &["serve", "udp", "--idle-timeout", "1s", "0"],
        "--idle-timeout",
    );
    assert_usage_error(&["serve", "udp", "--grace", "1s", "0"], "--grace");
}

#[test]
fn serve_udp_help_lists_no_tcp_only_option() {
    let out = netkit()
        .args(["serve", "udp", "--help"])
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    // --idle-timeout stays: it ends a --forward session.
    for tcp_only in [
        "--grace",
        "--keepalive",
        "--nodelay",
        "--max-conns",
        "--keep-open",
        "--max-frame",
    ] {
        assert!(
            !help.contains(tcp_only),
            "serve udp --help offers {tcp_only}"
        );
    }
    assert!(
        help.contains("--echo") && help.contains("--count"),
        "{help}"
    );
}

#[test]
fn a_protocol_after_the_options_gets_a_helpful_message() {
    let (code, err) = run(&["serve", "--echo", "udp", "9000"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "netkit: error: the protocol goes right after serve: netkit serve udp --echo 9000\n"
    );
}

#[test]
fn clap_usage_errors_are_one_line_and_the_usage() {
    for args in [
        &["serve", "--bogus", "1"][..],
        &["connect"],
        &["frobnicate"],
        &["serve", "--echo", "--discard", "1"],
        &["bench", "--count", "x"],
    ] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}");
        let lines: Vec<&str> = err.lines().collect();
        assert!(lines[0].starts_with("netkit: error: "), "{args:?}: {err}");
        assert!(lines.len() <= 2, "{args:?}: {err}");
        if let Some(u) = lines.get(1) {
            assert!(u.starts_with("usage: netkit"), "{args:?}: {err}");
        }
    }
}

#[test]
fn a_file_that_cannot_be_written_gets_no_port_hint() {
    // A file the process may not write, root or not.
    let dir = common::TempDir::new("usage");
    let path = if is_root() {
        let p = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";
        if !std::path::Path::new(p).exists() {
            eprintln!("SKIP: no read-only sysfs file to try as root");
            return;
        }
        p.to_string()
    } else {
        let p = dir.join("ro.txt");
        std::fs::write(&p, b"").expect("write");
        let mut perm = std::fs::metadata(&p).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o444);
        std::fs::set_permissions(&p, perm).expect("chmod");
        p.display().to_string()
    };
    let srv = spawn_server(&["serve", "--echo", "0"]);
    let port = srv.addr.port().to_string();
    let (code, err) = run(&["connect", "-o", &path, "127.0.0.1", &port]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("ermission denied"), "{err}");
    assert!(!err.contains("1024"), "a port hint for a file: {err}");
}

#[test]
fn a_client_port_in_use_hints_at_time_wait() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let p = taken.local_addr().expect("addr").port().to_string();
    let srv = spawn_server(&["serve", "--echo", "0"]);
    let port = srv.addr.port().to_string();
    let (code, err) = run(&["connect", "-p", &p, "127.0.0.1", &port]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("TIME_WAIT"), "{err}");
    assert!(!err.contains("another program listens there"), "{err}");
}

#[test]
fn ipv6_addresses_are_printed_in_brackets() {
    let closed = TcpListener::bind("[::1]:0").expect("bind ::1");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let (code, err) = run(&["connect", "::1", &port.to_string()]);
    assert_eq!(code, Some(3), "{err}");
    let want = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)).to_string();
    assert!(err.contains(&format!("cannot connect to {want}")), "{err}");
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}
