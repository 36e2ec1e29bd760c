//! OpenSSH through netkit, as users run it: `ssh -o ProxyCommand='netkit
//! connect %h %p'` to an `sshd -i` served per connection by `netkit serve -k
//! --sh-exec ... 0`, directly and through a `netkit serve --sh-exec 'netkit
//! connect ...'` relay. Log in, run a command, move 4 MiB of random bytes each
//! way. Host and user keys and the sshd configuration live in a temporary
//! directory; nothing binds a fixed port. Before issue 8 the client hung
//! after `SSH2_MSG_KEXINIT sent`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::TempDir;
use common::programs::{assert_success, run_within};
use common::{Running, have, random_bytes, spawn_server};

/// A generous bound for one ssh command; a hang fails the test.
const DEADLINE: Duration = Duration::from_secs(60);
const NETKIT: &str = env!("CARGO_BIN_EXE_netkit");

/// sshd's path: it must be absolute (sshd re-executes itself).
fn sshd_path() -> Option<PathBuf> {
    let out = Command::new("sh")
        .arg("-c")
        .arg("command -v sshd || ls /usr/sbin/sshd")
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).lines().next()?.trim());
    p.is_absolute().then_some(p)
}

/// As root, sshd needs its privilege separation directory (a fresh machine
/// gets it only when the service first starts). None when it is there.
fn privsep_problem() -> Option<String> {
    // SAFETY-free check of the effective user through id(1).
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return None;
    }
    let dir = Path::new("/run/sshd");
    if dir.is_dir() {
        return None;
    }
    std::fs::create_dir_all(dir)
        .err()
        .map(|e| format!("cannot create /run/sshd: {e}"))
}

/// A user, its key and an sshd behind `netkit serve`.
struct Sshd {
    dir: TempDir,
    server: Running,
    user: String,
}

impl Sshd {
    fn start(tag: &str) -> Option<Sshd> {
        if !have("ssh") || !have("ssh-keygen") {
            return None;
        }
        let Some(sshd) = sshd_path() else {
            eprintln!("SKIP: sshd is not installed (.ci/run installs openssh-server)");
            return None;
        };
        if let Some(why) = privsep_problem() {
            eprintln!("SKIP: {why}");
            return None;
        }
        let dir = TempDir::new(&format!("ssh-{tag}"));
        for key in ["host_key", "user_key"] {
            let out = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(key))
                .output()
                .expect("ssh-keygen");
            assert_success("ssh-keygen", &out);
        }
        std::fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys")).unwrap();
        let config = format!(
            "HostKey {host}\nAuthorizedKeysFile {auth}\nStrictModes no\nUsePAM no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nPrintMotd no\nPrintLastLog no\n\
             LogLevel ERROR\nPidFile none\n",
            host = dir.join("host_key").display(),
            auth = dir.join("authorized_keys").display(),
        );
        std::fs::write(dir.join("sshd_config"), config).unwrap();
        let cmd = format!(
            "'{}' -i -f '{}'",
            sshd.display(),
            dir.join("sshd_config").display()
        );
        let server = spawn_server(&["serve", "-k", "--sh-exec", &cmd, "0"]);
        let user = Command::new("id").arg("-un").output().expect("id -un");
        let user = String::from_utf8_lossy(&user.stdout).trim().to_string();
        Some(Sshd { dir, server, user })
    }

    /// `ssh` with netkit as its ProxyCommand, to `port` on 127.0.0.1.
    fn ssh(&self, port: u16, remote: &str, input: &[u8]) -> Output {
        let mut cmd = Command::new("ssh");
        cmd.args(["-F", "/dev/null"])
            .args(["-o", &format!("ProxyCommand='{NETKIT}' connect %h %p")])
            .args(["-o", "StrictHostKeyChecking=no"])
            .args(["-o", "UserKnownHostsFile=/dev/null"])
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
            .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"])
            .args(["-o", "LogLevel=ERROR"])
            .arg("-i")
            .arg(self.dir.join("user_key"))
            .args(["-p", &port.to_string()])
            .arg(format!("{}@127.0.0.1", self.user))
            .arg(remote);
        let out = run_within(cmd, input, DEADLINE);
        if !out.status.success() {
            let mut log = String::new();
            while let Some(l) = self.server.try_stderr_line() {
                log.push_str(&l);
                log.push('\n');
            }
            eprintln!("netkit serve / sshd stderr:\n{log}");
        }
        out
    }

    /// Log in, run a command, and move 4 MiB each way through `port`.
    fn exercise(&self, port: u16) {
        let out = self.ssh(port, "echo logged in as $(id -un)", b"");
        assert_success("ssh echo", &out);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("logged in as {}\n", self.user)
        );

        let up = random_bytes(4 << 20, 21);
        let path = self.dir.join("up.bin");
        let out = self.ssh(port, &format!("cat > '{}'", path.display()), &up);
        assert_success("ssh upload", &out);
        assert!(std::fs::read(&path).unwrap() == up, "upload differs");
        assert_eq!(sha256(&up), sha256_file(&path));

        let down = random_bytes(4 << 20, 22);
        let path = self.dir.join("down.bin");
        std::fs::write(&path, &down).unwrap();
        let out = self.ssh(port, &format!("cat '{}'", path.display()), b"");
        assert_success("ssh download", &out);
        assert_eq!(out.stdout.len(), down.len());
        assert!(out.stdout == down, "download differs");
    }
}

/// sha256sum of bytes, through the system tool.
fn sha256(data: &[u8]) -> String {
    let out = run_within(Command::new("sha256sum"), data, DEADLINE);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn sha256_file(path: &Path) -> String {
    sha256(&std::fs::read(path).unwrap())
}

#[test]
fn ssh_with_netkit_connect_as_proxy_command() {
    let Some(sshd) = Sshd::start("direct") else {
        return;
    };
    sshd.exercise(sshd.server.addr.port());
}

#[test]
fn ssh_through_a_netkit_relay() {
    let Some(sshd) = Sshd::start("relay") else {
        return;
    };
    let inner = format!("'{NETKIT}' connect 127.0.0.1 {}", sshd.server.addr.port());
    let relay = spawn_server(&["serve", "-k", "--sh-exec", &inner, "0"]);
    sshd.exercise(relay.addr.port());
}
