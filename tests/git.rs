//! git through netkit, five clones and five pushes in a row for each way
//! users wire it: `ext::netkit connect HOST PORT %G/repo.git` against `git
//! daemon --inetd` behind `netkit serve -k --sh-exec ... 0`; `ext::` straight
//! to `git upload-pack` / `git receive-pack` behind `netkit serve --sh-exec`;
//! and `core.gitProxy` (a program given HOST PORT: a two-line script that
//! execs `netkit connect "$@"`) with `git://` URLs. Before issue 8 two in
//! three of these hung. Everything lives in a temporary directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::TempDir;
use common::programs::{assert_success, run_within};
use common::{Running, have, netkit, spawn_server_cmd};

/// A generous bound for one git command; a hang fails the test.
const DEADLINE: Duration = Duration::from_secs(60);
const ROUNDS: usize = 5;
const NETKIT: &str = env!("CARGO_BIN_EXE_netkit");

/// A scratch home with a git identity, a bare repository with one commit,
/// and netkit servers in front of it.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new(tag: &str) -> Option<Fixture> {
        if !have("git") {
            return None;
        }
        let f = Fixture {
            dir: TempDir::new(&format!("git-{tag}")),
        };
        std::fs::write(
            f.dir.join(".gitconfig"),
            "[user]\n\tname = netkit test\n\temail = test@example.invalid\n\
             [init]\n\tdefaultBranch = main\n[protocol \"ext\"]\n\tallow = always\n",
        )
        .unwrap();
        f.git_ok(&["init", "-q", "--bare", "srv/repo.git"], f.dir.root());
        f.git_ok(&["init", "-q", "seed"], f.dir.root());
        let seed = f.dir.join("seed");
        std::fs::write(seed.join("README"), "first\n").unwrap();
        f.git_ok(&["add", "README"], &seed);
        f.git_ok(&["commit", "-q", "-m", "first"], &seed);
        f.git_ok(&["push", "-q", "../srv/repo.git", "main"], &seed);
        Some(f)
    }

    fn srv(&self) -> PathBuf {
        self.dir.join("srv")
    }

    /// A git command with this fixture's home and no system config.
    fn git(&self, args: &[&str], cwd: &Path) -> Command {
        let mut c = Command::new("git");
        c.args(args)
            .current_dir(cwd)
            .env("HOME", self.dir.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0");
        c
    }

    fn git_ok(&self, args: &[&str], cwd: &Path) -> Output {
        let out = run_within(self.git(args, cwd), b"", DEADLINE);
        assert_success(&format!("git {}", args.join(" ")), &out);
        out
    }

    /// `netkit serve -k --sh-exec CMD 0`, with this fixture's environment.
    fn serve(&self, sh: &str) -> Running {
        let mut c = netkit();
        c.args(["serve", "-k", "--sh-exec", sh, "0"])
            .env("HOME", self.dir.root())
            .env("GIT_CONFIG_NOSYSTEM", "1");
        spawn_server_cmd(c)
    }

    fn head(&self, repo: &Path) -> String {
        let out = self.git_ok(&["rev-parse", "HEAD"], repo);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// ROUNDS times: clone `url` into a fresh directory (with `extra` config),
    /// check it has the server's head, commit, push to `push_url`, check the
    /// server has the new commit.
    fn clone_and_push_rounds(&self, extra: &[&str], url: &str, push_url: &str) {
        let bare = self.srv().join("repo.git");
        for round in 0..ROUNDS {
            let name = format!("clone-{round}");
            let mut args: Vec<&str> = extra.to_vec();
            args.extend(["clone", "-q", url, &name]);
            self.git_ok(&args, self.dir.root());
            let work = self.dir.join(&name);
            assert_eq!(self.head(&work), self.head(&bare), "round {round}: clone");

            std::fs::write(work.join(format!("round-{round}")), format!("{round}\n")).unwrap();
            self.git_ok(&["add", "."], &work);
            self.git_ok(&["commit", "-q", "-m", &format!("round {round}")], &work);
            let mut args: Vec<&str> = extra.to_vec();
            args.extend(["push", "-q", push_url, "HEAD:main"]);
            self.git_ok(&args, &work);
            assert_eq!(self.head(&bare), self.head(&work), "round {round}: push");
            std::fs::remove_dir_all(&work).unwrap();
        }
    }
}

fn daemon_cmd(srv: &Path) -> String {
    format!(
        "git daemon --inetd --export-all --enable=receive-pack --base-path='{0}' '{0}'",
        srv.display()
    )
}

#[test]
fn git_ext_transport_through_netkit_connect_to_git_daemon() {
    let Some(f) = Fixture::new("ext-daemon") else {
        return;
    };
    let daemon = f.serve(&daemon_cmd(&f.srv()));
    let url = format!(
        "ext::{NETKIT} connect 127.0.0.1 {} %G/repo.git",
        daemon.addr.port()
    );
    f.clone_and_push_rounds(&[], &url, &url);
}

#[test]
fn git_ext_transport_straight_to_upload_pack_and_receive_pack() {
    let Some(f) = Fixture::new("ext-pack") else {
        return;
    };
    let repo = f.srv().join("repo.git");
    let upload = f.serve(&format!("git upload-pack '{}'", repo.display()));
    let receive = f.serve(&format!("git receive-pack '{}'", repo.display()));
    let fetch_url = format!("ext::{NETKIT} connect 127.0.0.1 {}", upload.addr.port());
    let push_url = format!("ext::{NETKIT} connect 127.0.0.1 {}", receive.addr.port());
    f.clone_and_push_rounds(&[], &fetch_url, &push_url);
}

#[test]
fn git_core_git_proxy_runs_netkit_connect() {
    let Some(f) = Fixture::new("proxy") else {
        return;
    };
    let daemon = f.serve(&daemon_cmd(&f.srv()));
    let proxy = f.dir.join("netkit-proxy");
    std::fs::write(
        &proxy,
        format!("#!/bin/sh\nexec '{NETKIT}' connect \"$@\"\n"),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&proxy, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let setting = format!("core.gitProxy={}", proxy.display());
    let url = format!("git://127.0.0.1:{}/repo.git", daemon.addr.port());
    f.clone_and_push_rounds(&["-c", &setting], &url, &url);
}
