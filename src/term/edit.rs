//! The line editor: an emacs-style edit buffer with history, incremental
//! reverse search (Ctrl-R) and bracketed pastes, as a pure state machine.
//! Keys go in, `Action`s come out; what to draw is read from `view`. No
//! terminal, no I/O: the console feeds it and draws it, so every key is a
//! unit test.
//!
//! Keys: Left/Right/Ctrl-B/Ctrl-F, Home/End/Ctrl-A/Ctrl-E, Ctrl-Left/Right
//! and Alt-B/Alt-F by word, Backspace, Delete, Ctrl-D (delete, or end of
//! input on an empty line), Ctrl-K/Ctrl-U/Ctrl-W/Alt-D kill and Ctrl-Y
//! yanks, Up/Down/Ctrl-P/Ctrl-N walk the history, Ctrl-R searches it,
//! Ctrl-C cancels the line, Ctrl-L clears the screen, Ctrl-Z suspends.

use super::keys::Key;

/// Most history entries kept.
pub const HISTORY_MAX: usize = 1000;

/// What a key asks of the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Only the line changed (or nothing): redraw.
    Edited,
    /// Enter: this line is done.
    Submit(String),
    /// A paste: these complete lines, in order (the text after the last
    /// line break stays in the buffer).
    Pasted(Vec<String>),
    /// Ctrl-C: the line was dropped. `repeated` when the line was empty and
    /// the key before was also a Ctrl-C on an empty line.
    Interrupt {
        /// The text that was discarded (empty for an empty line).
        discarded: String,
        /// A second Ctrl-C in a row on an empty line.
        repeated: bool,
    },
    /// Ctrl-D on an empty line.
    Eof,
    /// Ctrl-L.
    ClearScreen,
    /// Ctrl-Z.
    Suspend,
    /// Tab: left to the caller (completion).
    Tab,
}

/// Reverse search in progress.
#[derive(Debug, Clone)]
struct Search {
    term: String,
    /// The history index of the current match.
    found: Option<usize>,
    /// The line and cursor before the search, restored on Esc.
    saved: (String, usize),
}

/// Tab completion in progress: Tab shows the next candidate (after the
/// last, the line as typed), Esc goes back to the line as typed, any other
/// key keeps the candidate shown and acts on it (as linenoise does).
#[derive(Debug, Clone)]
struct Completion {
    candidates: Vec<String>,
    /// The candidate shown; `candidates.len()` shows the saved line.
    index: usize,
    saved: (String, usize),
}

/// The edit buffer and its history.
#[derive(Debug, Default)]
pub struct Editor {
    line: String,
    /// Byte offset of the cursor, on a character boundary.
    pos: usize,
    history: Vec<String>,
    /// Walking the history: the index shown and the line being typed.
    browsing: Option<(usize, String)>,
    search: Option<Search>,
    completion: Option<Completion>,
    kill: String,
    /// The previous key was Ctrl-C on an empty line.
    interrupted: bool,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// A prompt that replaces the caller's (during a search), if any.
    pub prompt: Option<String>,
    /// The text.
    pub line: String,
    /// The cursor, a byte offset into `line`.
    pub cursor: usize,
}

impl Editor {
    /// An empty editor with this history, oldest first.
    pub fn new(history: Vec<String>) -> Editor {
        let mut e = Editor::default();
        for h in history {
            e.remember(&h);
        }
        e
    }

    /// The history, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Add a line to the history (blank lines and repeats of the last one
    /// are skipped); returns whether it was added.
    pub fn remember(&mut self, line: &str) -> bool {
        if line.trim().is_empty() || self.history.last().is_some_and(|l| l == line) {
            return false;
        }
        if self.history.len() == HISTORY_MAX {
            self.history.remove(0);
        }
        self.history.push(line.to_string());
        true
    }

    /// The text being edited (not a search's match).
    pub fn line(&self) -> &str {
        &self.line
    }

    /// What to draw now.
    pub fn view(&self) -> View {
        match &self.search {
            None => View {
                prompt: None,
                line: self.line.clone(),
                cursor: self.pos,
            },
            Some(s) => {
                let failed = !s.term.is_empty() && s.found.is_none();
                let line = s.found.map(|i| self.history[i].clone()).unwrap_or_default();
                let cursor = line.find(&s.term).unwrap_or(0);
                View {
                    prompt: Some(format!(
                        "({}reverse-i-search)`{}': ",
                        if failed { "failed " } else { "" },
                        s.term
                    )),
                    line,
                    cursor,
                }
            }
        }
    }

    /// Start completing the line (after `Action::Tab`): show the first of
    /// `candidates` (whole lines); further Tabs cycle. False when there is
    /// none.
    pub fn complete(&mut self, candidates: Vec<String>) -> bool {
        let Some(first) = candidates.first().cloned() else {
            return false;
        };
        self.completion = Some(Completion {
            candidates,
            index: 0,
            saved: (std::mem::take(&mut self.line), self.pos),
        });
        self.pos = first.len();
        self.line = first;
        true
    }

    /// Keys while completing; `None` means the completion is over and the
    /// key is handled as usual.
    fn completion_key(&mut self, key: &Key) -> Option<Action> {
        let c = self.completion.as_mut()?;
        match key {
            Key::Tab => {
                c.index = (c.index + 1) % (c.candidates.len() + 1);
                let (line, pos) = match c.candidates.get(c.index) {
                    Some(cand) => (cand.clone(), cand.len()),
                    None => c.saved.clone(),
                };
                self.line = line;
                self.pos = pos;
                Some(Action::Edited)
            }
            Key::Esc => {
                let (line, pos) = c.saved.clone();
                self.completion = None;
                self.line = line;
                self.pos = pos;
                Some(Action::Edited)
            }
            _ => {
                self.completion = None;
                None
            }
        }
    }

    /// Handle one key.
    pub fn key(&mut self, key: Key) -> Action {
        if let Some(action) = self.completion_key(&key) {
            return action;
        }
        let interrupted = std::mem::take(&mut self.interrupted);
        if self.search.is_some() {
            if let Some(action) = self.search_key(&key) {
                return action;
            }
        }
        match key {
            Key::Char(c) => self.insert(c),
            Key::Enter => return self.submit(),
            Key::Paste(text) => return self.paste(&text),
            Key::Ctrl('c') => {
                let discarded = self.take_line();
                let repeated = interrupted && discarded.is_empty();
                self.interrupted = discarded.is_empty() && !repeated;
                return Action::Interrupt {
                    discarded,
                    repeated,
                };
            }
            Key::Ctrl('d') if self.line.is_empty() => return Action::Eof,
            Key::Ctrl('d') | Key::Delete => self.delete(),
            Key::Backspace | Key::Ctrl('h') => {
                if let Some(p) = self.prev_boundary() {
                    self.line.replace_range(p..self.pos, "");
                    self.pos = p;
                }
            }
            Key::Left | Key::Ctrl('b') => self.pos = self.prev_boundary().unwrap_or(0),
            Key::Right | Key::Ctrl('f') => self.pos = self.next_boundary(),
            Key::Home | Key::Ctrl('a') => self.pos = 0,
            Key::End | Key::Ctrl('e') => self.pos = self.line.len(),
            Key::CtrlLeft | Key::Alt('b') => self.pos = self.word_left(),
            Key::CtrlRight | Key::Alt('f') => self.pos = self.word_right(),
            Key::Ctrl('k') => {
                self.kill = self.line.split_off(self.pos);
            }
            Key::Ctrl('u') => {
                self.kill = self.line.drain(..self.pos).collect();
                self.pos = 0;
            }
            Key::Ctrl('w') => {
                // Back to the previous blank, like readline's unix-word-rubout.
                let before = self.line[..self.pos].trim_end();
                let from = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                self.kill = self.line.drain(from..self.pos).collect();
                self.pos = from;
            }
            Key::Alt('d') => {
                let to = self.word_right();
                self.kill = self.line.drain(self.pos..to).collect();
            }
            Key::Ctrl('y') => {
                let k = self.kill.clone();
                self.line.insert_str(self.pos, &k);
                self.pos += k.len();
            }
            Key::Up | Key::Ctrl('p') => self.older(),
            Key::Down | Key::Ctrl('n') => self.newer(),
            Key::Ctrl('r') => {
                self.search = Some(Search {
                    term: String::new(),
                    found: None,
                    saved: (self.line.clone(), self.pos),
                });
            }
            Key::Ctrl('l') => return Action::ClearScreen,
            Key::Ctrl('z') => return Action::Suspend,
            Key::Tab => return Action::Tab,
            _ => {}
        }
        Action::Edited
    }

    /// Keys during a reverse search; `None` means the search was accepted
    /// and the key is handled as usual.
    fn search_key(&mut self, key: &Key) -> Option<Action> {
        let s = self.search.as_mut()?;
        match key {
            Key::Char(c) => {
                s.term.push(*c);
                let from = s.found.unwrap_or(self.history.len().saturating_sub(1));
                s.found = find_back(&self.history, &s.term, Some(from));
            }
            Key::Backspace | Key::Ctrl('h') => {
                s.term.pop();
                s.found = find_back(&self.history, &s.term, self.history.len().checked_sub(1));
            }
            Key::Ctrl('r') => {
                if let Some(i) = s.found {
                    if let Some(j) = find_back(&self.history, &s.term, i.checked_sub(1)) {
                        s.found = Some(j);
                    }
                } else if s.term.is_empty() {
                    // Ctrl-R Ctrl-R: the last search term, like readline.
                    s.found = self.history.len().checked_sub(1);
                }
            }
            Key::Esc | Key::Ctrl('g') => {
                let (line, pos) = s.saved.clone();
                self.search = None;
                self.line = line;
                self.pos = pos;
            }
            Key::Ctrl('c') => {
                self.search = None;
                return None;
            }
            _ => {
                // Accept the match, then let the key act on it.
                let found = s.found;
                let cursor = self.view().cursor;
                self.search = None;
                if let Some(i) = found {
                    self.line = self.history[i].clone();
                    self.pos = cursor;
                }
                self.browsing = None;
                return None;
            }
        }
        Some(Action::Edited)
    }

    fn insert(&mut self, c: char) {
        self.line.insert(self.pos, c);
        self.pos += c.len_utf8();
    }

    fn delete(&mut self) {
        let next = self.next_boundary();
        self.line.replace_range(self.pos..next, "");
    }

    fn take_line(&mut self) -> String {
        self.browsing = None;
        self.pos = 0;
        std::mem::take(&mut self.line)
    }

    fn submit(&mut self) -> Action {
        // The caller decides what is worth remembering (`remember`).
        Action::Submit(self.take_line())
    }

    /// Insert pasted text; every line break completes the buffer as a line.
    /// CR LF, CR and LF are each one line break (terminals paste CR).
    fn paste(&mut self, text: &str) -> Action {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let mut lines = Vec::new();
        let mut parts = text.split('\n').peekable();
        while let Some(part) = parts.next() {
            let part = printable(part, parts.peek().is_none());
            self.line.insert_str(self.pos, &part);
            self.pos += part.len();
            if parts.peek().is_some() {
                lines.push(self.take_line());
            }
        }
        Action::Pasted(lines)
    }

    fn older(&mut self) {
        let idx = match &self.browsing {
            None if self.history.is_empty() => return,
            None => {
                self.browsing = Some((self.history.len(), self.line.clone()));
                self.history.len() - 1
            }
            Some((0, _)) => return,
            Some((i, _)) => i - 1,
        };
        if let Some((i, _)) = self.browsing.as_mut() {
            *i = idx;
        }
        self.line = self.history[idx].clone();
        self.pos = self.line.len();
    }

    fn newer(&mut self) {
        let Some((i, typed)) = self.browsing.take() else {
            return;
        };
        if i + 1 >= self.history.len() {
            self.line = typed;
        } else {
            self.browsing = Some((i + 1, typed));
            self.line = self.history[i + 1].clone();
        }
        self.pos = self.line.len();
    }

    fn prev_boundary(&self) -> Option<usize> {
        self.line[..self.pos]
            .char_indices()
            .next_back()
            .map(|(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        self.line[self.pos..]
            .chars()
            .next()
            .map_or(self.pos, |c| self.pos + c.len_utf8())
    }

    fn word_left(&self) -> usize {
        let before = &self.line[..self.pos];
        let trimmed = before.trim_end_matches(|c: char| !c.is_alphanumeric());
        trimmed
            .char_indices()
            .rev()
            .find(|(_, c)| !c.is_alphanumeric())
            .map_or(0, |(i, c)| i + c.len_utf8())
    }

    fn word_right(&self) -> usize {
        let after = &self.line[self.pos..];
        let skip = after.len()
            - after
                .trim_start_matches(|c: char| !c.is_alphanumeric())
                .len();
        let rest = &after[skip..];
        let word = rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
        self.pos + skip + word
    }
}

/// The newest history index at or before `from` whose entry contains `term`.
fn find_back(history: &[String], term: &str, from: Option<usize>) -> Option<usize> {
    let from = from?;
    if term.is_empty() {
        return None;
    }
    (0..=from.min(history.len().checked_sub(1)?))
        .rev()
        .find(|&i| history[i].contains(term))
}

/// Pasted text for the edit buffer. Complete lines go out as they are; the
/// unfinished last part stays in the buffer, where a control character
/// would wreck the display, so it is written as its escape (`\t`, `\xHH`),
/// which sends the same byte.
fn printable(part: &str, stays_in_buffer: bool) -> String {
    if !stays_in_buffer || !part.chars().any(char::is_control) {
        return part.to_string();
    }
    let mut out = String::with_capacity(part.len() + 8);
    for c in part.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(e: &mut Editor, s: &str) {
        for c in s.chars() {
            assert_eq!(e.key(Key::Char(c)), Action::Edited);
        }
    }

    #[test]
    fn typing_and_moving() {
        let mut e = Editor::new(vec![]);
        typed(&mut e, "hllo");
        e.key(Key::Home);
        e.key(Key::Right);
        typed(&mut e, "e");
        assert_eq!(e.view().line, "hello");
        assert_eq!(e.view().cursor, 2);
        e.key(Key::End);
        typed(&mut e, " wörld");
        e.key(Key::Backspace);
        e.key(Key::Left);
        e.key(Key::Delete);
        assert_eq!(e.line(), "hello wör");
        assert_eq!(e.key(Key::Enter), Action::Submit("hello wör".into()));
        assert_eq!(e.line(), "");
        assert!(e.history().is_empty(), "the caller remembers");
        assert!(e.remember("hello wör"));
        assert!(!e.remember("hello wör"));
        assert!(!e.remember("  "));
        assert_eq!(e.history(), ["hello wör"]);
    }

    #[test]
    fn words_and_kills() {
        let mut e = Editor::new(vec![]);
        typed(&mut e, "GET /index.html HTTP/1.1");
        e.key(Key::CtrlLeft);
        assert_eq!(e.view().cursor, "GET /index.html HTTP/1.".len());
        e.key(Key::Alt('b'));
        e.key(Key::Alt('b'));
        assert_eq!(e.view().cursor, "GET /index.html ".len());
        e.key(Key::End);
        e.key(Key::Ctrl('w'));
        assert_eq!(e.line(), "GET /index.html ");
        typed(&mut e, "1.1");
        e.key(Key::Ctrl('a'));
        e.key(Key::Alt('d'));
        assert_eq!(e.line(), " /index.html 1.1");
        e.key(Key::Ctrl('y'));
        assert_eq!(e.line(), "GET /index.html 1.1");
        e.key(Key::Home);
        e.key(Key::CtrlRight);
        e.key(Key::Ctrl('k'));
        assert_eq!(e.line(), "GET");
        e.key(Key::Ctrl('u'));
        assert_eq!(e.line(), "");
    }

    #[test]
    fn history_walk_keeps_the_typed_line() {
        let mut e = Editor::new(vec!["one".into(), "two".into(), "two".into()]);
        assert_eq!(e.history(), ["one", "two"], "repeats are kept once");
        typed(&mut e, "thr");
        e.key(Key::Up);
        assert_eq!(e.line(), "two");
        e.key(Key::Up);
        e.key(Key::Up);
        assert_eq!(e.line(), "one");
        e.key(Key::Down);
        e.key(Key::Down);
        assert_eq!(e.line(), "thr");
        assert_eq!(e.view().cursor, 3);
    }

    #[test]
    fn reverse_search() {
        let mut e = Editor::new(vec![
            "HELO a".into(),
            "MAIL FROM:<x>".into(),
            "HELO b".into(),
        ]);
        e.key(Key::Ctrl('r'));
        typed(&mut e, "HEL");
        let v = e.view();
        assert_eq!(v.prompt.as_deref(), Some("(reverse-i-search)`HEL': "));
        assert_eq!(v.line, "HELO b");
        e.key(Key::Ctrl('r'));
        assert_eq!(e.view().line, "HELO a");
        typed(&mut e, "x");
        assert!(e.view().prompt.unwrap().starts_with("(failed"));
        e.key(Key::Backspace);
        // End moves onto the match, leaving the search.
        e.key(Key::End);
        assert_eq!(e.view().prompt, None);
        assert_eq!(e.line(), "HELO b");
        // Esc restores the line from before the search.
        e.key(Key::Ctrl('r'));
        typed(&mut e, "MAIL");
        e.key(Key::Esc);
        assert_eq!(e.line(), "HELO b");
        // Enter accepts and submits.
        e.key(Key::Ctrl('r'));
        typed(&mut e, "MAIL");
        assert_eq!(e.key(Key::Enter), Action::Submit("MAIL FROM:<x>".into()));
    }

    #[test]
    fn ctrl_c_discards_and_a_second_on_an_empty_line_repeats() {
        let mut e = Editor::new(vec![]);
        typed(&mut e, "abc");
        assert_eq!(
            e.key(Key::Ctrl('c')),
            Action::Interrupt {
                discarded: "abc".into(),
                repeated: false
            }
        );
        assert_eq!(
            e.key(Key::Ctrl('c')),
            Action::Interrupt {
                discarded: String::new(),
                repeated: false
            }
        );
        assert_eq!(
            e.key(Key::Ctrl('c')),
            Action::Interrupt {
                discarded: String::new(),
                repeated: true
            }
        );
        e.key(Key::Ctrl('c'));
        typed(&mut e, "x");
        e.key(Key::Backspace);
        assert_eq!(
            e.key(Key::Ctrl('c')),
            Action::Interrupt {
                discarded: String::new(),
                repeated: false
            },
            "any key in between starts over"
        );
        assert!(e.history().is_empty(), "cancelled lines are not history");
    }

    #[test]
    fn ctrl_d_is_eof_only_on_an_empty_line() {
        let mut e = Editor::new(vec![]);
        typed(&mut e, "ab");
        e.key(Key::Home);
        assert_eq!(e.key(Key::Ctrl('d')), Action::Edited);
        assert_eq!(e.line(), "b");
        e.key(Key::Ctrl('d'));
        assert_eq!(e.key(Key::Ctrl('d')), Action::Eof);
    }

    #[test]
    fn pastes_complete_lines_and_keep_the_rest() {
        let mut e = Editor::new(vec![]);
        typed(&mut e, ">>");
        assert_eq!(
            e.key(Key::Paste("one\rtwo\r\nC:\\dir\nrest".into())),
            Action::Pasted(vec![">>one".into(), "two".into(), "C:\\dir".into()])
        );
        assert_eq!(e.line(), "rest");
        assert_eq!(
            e.key(Key::Paste("a\n".into())),
            Action::Pasted(vec!["resta".into()])
        );
        assert_eq!(e.line(), "");
        assert_eq!(e.key(Key::Paste("x\ty\x1b".into())), Action::Pasted(vec![]));
        assert_eq!(e.line(), "x\\ty\\x1b");
        assert!(e.history().is_empty(), "pasted lines are not history");
        assert_eq!(
            e.key(Key::Paste("\n\n".into())),
            Action::Pasted(vec!["x\\ty\\x1b".into(), String::new()])
        );
    }

    #[test]
    fn tab_cycles_candidates_then_the_typed_line() {
        let mut e = Editor::new(vec![]);
        typed(&mut e, "ge");
        assert_eq!(e.key(Key::Tab), Action::Tab);
        assert!(!e.complete(vec![]), "no candidate: the line stays");
        assert_eq!(e.line(), "ge");
        assert!(e.complete(vec!["GET".into(), "GETDEL".into()]));
        assert_eq!((e.line(), e.view().cursor), ("GET", 3));
        e.key(Key::Tab);
        assert_eq!(e.line(), "GETDEL");
        e.key(Key::Tab);
        assert_eq!((e.line(), e.view().cursor), ("ge", 2));
        e.key(Key::Tab);
        assert_eq!(e.line(), "GET");
        // Esc: back to what was typed.
        e.key(Key::Esc);
        assert_eq!(e.line(), "ge");
        // Any other key keeps the candidate and acts on it.
        e.key(Key::Tab);
        e.complete(vec!["GET".into(), "GETDEL".into()]);
        typed(&mut e, " k");
        assert_eq!(e.line(), "GET k");
        assert_eq!(e.key(Key::Tab), Action::Tab, "a new completion");
        e.complete(vec!["CONFIG GET".into()]);
        assert_eq!(e.key(Key::Enter), Action::Submit("CONFIG GET".into()));
    }
}
