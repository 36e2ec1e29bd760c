//! A real terminal for tests: a private tmux server (its own socket, no
//! user config) running one command in a pane of a fixed size. Keys go in
//! with `send-keys`, pastes with `paste-buffer -p` (bracketed when the
//! program asked for it), and the screen comes out of `capture-pane`.
//! Waits poll the screen until a condition holds, with a generous deadline;
//! nothing waits a fixed time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a screen condition may take on a loaded 2-core CI machine.
pub const SCREEN_PATIENCE: Duration = Duration::from_secs(30);

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A tmux server with one pane; killed on drop.
pub struct Tmux {
    dir: PathBuf,
    socket: PathBuf,
}

impl Tmux {
    /// Run the shell command `cmd` in a `width` x `height` pane. `None`
    /// (after printing why) when tmux is not installed.
    pub fn start(cmd: &str, width: u16, height: u16) -> Option<Tmux> {
        if !super::have("tmux") {
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nk-tmux-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tmux temp dir");
        let conf = dir.join("tmux.conf");
        std::fs::write(
            &conf,
            "set -g history-limit 50000\nset -g remain-on-exit on\nset -g status off\n\
             set -g default-shell /bin/sh\nset -g escape-time 0\n",
        )
        .expect("tmux config");
        let t = Tmux {
            socket: dir.join("sock"),
            dir,
        };
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&t.socket)
            .arg("-f")
            .arg(&conf)
            .args([
                "new-session",
                "-d",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg(format!(
                "{cmd}; echo $? > {}",
                sh_quote(&t.dir.join("status").to_string_lossy())
            ))
            .output()
            .expect("run tmux");
        assert!(out.status.success(), "tmux new-session: {out:?}");
        if std::env::var_os("NK_TMUX_RAW").is_some() {
            t.tmux(&[
                "pipe-pane",
                "-o",
                "-t",
                "0",
                &format!("cat > {}/raw", t.dir.display()),
            ]);
        }
        Some(t)
    }

    /// A scratch directory that lives as long as the pane.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        out
    }

    /// Keys in tmux's names (`Enter`, `C-c`, `C-r`) or plain words.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Type `text` literally, then Enter.
    pub fn line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", text]);
        self.keys(&["Enter"]);
    }

    /// Paste `text` as a terminal does (newlines become CR), wrapped in
    /// bracketed-paste markers if the program turned that mode on.
    pub fn paste(&self, text: &str) {
        self.tmux(&["set-buffer", "-b", "nk", "--", text]);
        self.tmux(&["paste-buffer", "-p", "-d", "-b", "nk", "-t", "0"]);
    }

    /// The visible screen, one string per row, trailing blanks removed.
    pub fn screen(&self) -> Vec<String> {
        rows(&self.tmux(&["capture-pane", "-p", "-t", "0"]))
    }

    /// Everything: scrollback and screen.
    pub fn history(&self) -> Vec<String> {
        rows(&self.tmux(&["capture-pane", "-p", "-S", "-", "-E", "-", "-t", "0"]))
    }

    /// The visible screen with its SGR attributes as escape sequences.
    pub fn styled(&self) -> Vec<String> {
        rows(&self.tmux(&["capture-pane", "-p", "-e", "-t", "0"]))
    }

    /// Wait until `cond` holds for the rows `capture` returns; returns them.
    pub fn wait_until(
        &self,
        what: &str,
        capture: impl Fn(&Tmux) -> Vec<String>,
        cond: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let start = Instant::now();
        loop {
            let rows = capture(self);
            if cond(&rows) {
                return rows;
            }
            if start.elapsed() > SCREEN_PATIENCE {
                panic!("screen never showed {what}:\n{}", rows.join("\n"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until some visible row contains `needle`.
    pub fn wait_for(&self, needle: &str) -> Vec<String> {
        self.wait_until(needle, Tmux::screen, |rows| {
            rows.iter().any(|r| r.contains(needle))
        })
    }

    /// The program's exit status once it has ended. The shell around it
    /// writes the status to a file: tmux built with utempter can miss the
    /// SIGCHLD of a pane (tmux issue 311), so `#{pane_dead}` is no signal.
    pub fn wait_exit(&self) -> i32 {
        let file = self.dir.join("status");
        let start = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                if let Some(code) = text.strip_suffix('\n') {
                    return code.parse().expect("exit status");
                }
            }
            if start.elapsed() > SCREEN_PATIENCE {
                panic!("the program did not exit:\n{}", self.screen().join("\n"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rows(out: &Output) -> Vec<String> {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    // remain-on-exit's own line (it scrolls the screen by one row).
    if rows.last().is_some_and(|r| r.starts_with("Pane is dead")) {
        rows.pop();
    }
    while rows.last().is_some_and(|r| r.is_empty()) {
        rows.pop();
    }
    rows
}

/// Quote `s` for /bin/sh.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
