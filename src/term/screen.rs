//! The screen model behind the console: where the last output row ends and
//! what the footer (status rows such as a progress bar, then the prompt and
//! the line being edited) occupies, and the bytes that move between them.
//! Pure: every method appends escape sequences to a `String` and no
//! terminal is touched, so layouts are unit tests.
//!
//! Output and footer never overlap. Before output is written the footer is
//! erased (cursor back to the footer's first row, `ESC [J`), the cursor is
//! put back at the end of the last output row, the output is written, and
//! the footer is drawn again on the rows below it. An output row that has
//! no newline yet (a peer's `login: `) stays where it is: the footer starts
//! on the next row, and when more bytes come the cursor goes back up to
//! the end of that row and they continue it. So a line that arrives in
//! three packets is one row, and a redraw never erases output.
//!
//! Widths: text is measured with `unicode-width`; escape sequences in it
//! (our own SGR marks, never peer bytes) are zero-width; tabs are expanded
//! to spaces at 8-column stops so the column is always known.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthChar;

/// Columns assumed when the terminal does not say.
pub const DEFAULT_WIDTH: usize = 80;

/// What is drawn below the output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footer {
    /// Rows above the prompt (progress bars), each cut to the width.
    pub status: Vec<String>,
    /// Show the prompt and the edited line.
    pub show_prompt: bool,
    /// The prompt, e.g. `> `; may hold SGR sequences.
    pub prompt: String,
    /// The line being edited (printable characters).
    pub line: String,
    /// The cursor, a byte offset into `line`.
    pub cursor: usize,
    /// Grey text after the line (argument hints), never past the row's
    /// end: it is cut to the columns left so it never wraps.
    pub hint: String,
}

/// Output position and footer state; see the module docs.
#[derive(Debug)]
pub struct Screen {
    width: usize,
    /// Column after the last output character on the last output row:
    /// 0 for a fresh row, `width` when the row is full (the terminal's
    /// pending wrap).
    col: usize,
    /// Width of the unfinished output line (for re-wrapping on resize).
    line_w: usize,
    /// The footer is on screen, with the cursor this many rows below its top.
    drawn: Option<usize>,
    footer: Footer,
}

impl Screen {
    /// A screen `width` columns wide, cursor at the start of a row.
    pub fn new(width: usize) -> Screen {
        Screen {
            width: sane(width),
            col: 0,
            line_w: 0,
            drawn: None,
            footer: Footer::default(),
        }
    }

    /// The width in columns.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The footer as last set.
    pub fn footer(&self) -> &Footer {
        &self.footer
    }

    /// The last output row is unfinished (no newline yet).
    pub fn partial(&self) -> bool {
        self.line_w > 0
    }

    /// Write output `text` (printable characters, `\n`, `\t`, SGR
    /// sequences) after what is on screen.
    pub fn output(&mut self, text: &str, out: &mut String) {
        if text.is_empty() {
            return;
        }
        self.hide(out);
        self.write_text(text, out);
        self.draw(out);
    }

    /// Print `text` as whole rows of our own (a notice, an echoed line):
    /// an unfinished output row is ended first, on screen only.
    pub fn rows(&mut self, text: &str, out: &mut String) {
        let footer = self.footer.clone();
        self.rows_and_footer(text, footer, out);
    }

    /// `rows`, drawing `footer` after them.
    pub fn rows_and_footer(&mut self, text: &str, footer: Footer, out: &mut String) {
        self.hide(out);
        self.footer = footer;
        self.end_row(out);
        for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
            self.write_text(line, out);
            out.push_str("\r\n");
            self.col = 0;
            self.line_w = 0;
        }
        self.draw(out);
    }

    /// Start output on a new row if the last one is unfinished (on screen
    /// only), e.g. between datagrams or before a hex dump.
    pub fn break_row(&mut self, out: &mut String) {
        if self.col > 0 || self.line_w > 0 {
            self.hide(out);
            self.end_row(out);
            self.draw(out);
        }
    }

    /// Replace the footer and redraw it.
    pub fn set_footer(&mut self, footer: Footer, out: &mut String) {
        if self.drawn.is_some() && footer == self.footer {
            return;
        }
        self.hide(out);
        self.footer = footer;
        self.draw(out);
    }

    /// Erase the footer and leave the cursor after the output, e.g. before
    /// handing the terminal back.
    pub fn leave(&mut self, out: &mut String) {
        self.hide(out);
        self.end_row(out);
        self.footer = Footer::default();
    }

    /// The terminal changed width.
    pub fn resize(&mut self, width: usize, out: &mut String) {
        let width = sane(width);
        if width == self.width {
            return;
        }
        self.hide(out);
        self.width = width;
        // Terminals that re-wrap (tmux, VTE, kitty) put the end of an
        // unfinished line here.
        self.col = match self.line_w % width {
            0 if self.line_w > 0 => width,
            c => c,
        };
        self.draw(out);
    }

    /// Ctrl-L: clear the screen, keep the footer at the top.
    pub fn clear(&mut self, out: &mut String) {
        out.push_str("\x1b[H\x1b[2J");
        self.drawn = None;
        self.col = 0;
        self.line_w = 0;
        self.draw(out);
    }

    /// Erase the footer; the cursor goes back to the end of the output.
    fn hide(&mut self, out: &mut String) {
        let Some(row) = self.drawn.take() else {
            return;
        };
        if row > 0 {
            let _ = write!(out, "\x1b[{row}A");
        }
        out.push('\r');
        erase_down(out);
        if self.col == self.width {
            // The full row's pending wrap was spent by the footer: output
            // continues at the start of this row.
            self.col = 0;
        } else if self.col > 0 {
            let _ = write!(out, "\x1b[A\x1b[{}G", self.col + 1);
        }
    }

    /// End the current output row on screen (not in the data).
    fn end_row(&mut self, out: &mut String) {
        if self.col > 0 || self.line_w > 0 {
            if self.col > 0 {
                out.push_str("\r\n");
            }
            self.col = 0;
            self.line_w = 0;
        }
    }

    fn write_text(&mut self, text: &str, out: &mut String) {
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\n' => {
                    // At column 0 of a continuation row (a full row's wrap
                    // was spent on the footer) the row break is done.
                    if self.col > 0 || self.line_w == 0 {
                        out.push_str("\r\n");
                    }
                    self.col = 0;
                    self.line_w = 0;
                }
                '\x1b' => {
                    out.push(c);
                    copy_sequence(&mut chars, out);
                }
                '\t' => {
                    let n = 8 - (self.col % self.width) % 8;
                    for _ in 0..n {
                        self.put(' ', 1, out);
                    }
                }
                c => {
                    let w = char_width(c);
                    self.put(c, w, out);
                }
            }
        }
    }

    fn put(&mut self, c: char, w: usize, out: &mut String) {
        if w == 0 {
            if !c.is_control() {
                out.push(c);
            }
            return;
        }
        self.col = advance(self.col, w, self.width);
        self.line_w = self.line_w.saturating_add(w);
        out.push(c);
    }

    /// Draw the footer below the output. Rows from the footer's top down
    /// are blank (they were erased, or are new), except on the first draw.
    fn draw(&mut self, out: &mut String) {
        let f = &self.footer;
        if f.status.is_empty() && !f.show_prompt {
            return;
        }
        if self.col > 0 {
            out.push_str("\r\n");
        }
        erase_down(out);
        let width = self.width;
        for (i, s) in f.status.iter().enumerate() {
            if i > 0 {
                out.push_str("\r\n");
            }
            out.push_str(&truncate(s, width.saturating_sub(1)));
        }
        // The cursor's row below the footer's top.
        let mut row = f.status.len().saturating_sub(1);
        if f.show_prompt {
            if !f.status.is_empty() {
                out.push_str("\r\n");
                row += 1;
            }
            // Lay out prompt + line, noting the cursor's position.
            let (mut r, mut c) = (0usize, 0usize);
            let mut cursor = None;
            let mut chars = f.prompt.chars();
            while let Some(ch) = chars.next() {
                if ch == '\x1b' {
                    out.push(ch);
                    copy_sequence(&mut chars, out);
                    continue;
                }
                let w = char_width(ch);
                (r, c) = place(r, c, w, width);
                if w > 0 {
                    out.push(ch);
                }
            }
            for (i, ch) in f.line.char_indices() {
                let w = char_width(ch);
                if i == f.cursor {
                    cursor = Some(start_of(r, c, w, width));
                }
                (r, c) = place(r, c, w, width);
                if w > 0 {
                    out.push(ch);
                }
            }
            if !f.hint.is_empty() && c + 1 < width {
                let hint = truncate(&f.hint, width - c - 1);
                if !hint.is_empty() {
                    let _ = write!(out, "\x1b[90m{hint}\x1b[0m");
                }
            }
            if c == width {
                // A full last row: move to the next so the cursor shows.
                out.push_str("\r\n");
                r += 1;
                c = 0;
            }
            let (cr, cc) = cursor.unwrap_or((r, c));
            if r > cr {
                let _ = write!(out, "\x1b[{}A", r - cr);
            }
            let _ = write!(out, "\x1b[{}G", cc + 1);
            row += cr;
        }
        self.drawn = Some(row);
    }
}

/// Erase from the cursor (at the start of a row) to the end of the screen,
/// leaving the cursor where it was. Not a bare `ESC [J`: tmux takes that,
/// at the top-left corner, for "clear the screen" and copies the screen
/// into its scrollback first (`scroll-on-clear`), so a prompt on the first
/// row would leave a copy of itself there at every key. Erasing the row
/// (`ESC [K`), then the rest from its second column, is the same erase
/// without being a whole-screen clear.
fn erase_down(out: &mut String) {
    out.push_str("\x1b[K\x1b[2G\x1b[J\r");
}

fn sane(width: usize) -> usize {
    if width < 2 { DEFAULT_WIDTH } else { width }
}

/// Columns a character takes; control characters take none.
pub fn char_width(c: char) -> usize {
    if c.is_ascii() {
        return usize::from(!c.is_ascii_control());
    }
    if c.is_control() {
        return 0;
    }
    c.width().unwrap_or(0)
}

/// Columns `text` takes on one row, escape sequences excluded.
pub fn text_width(text: &str) -> usize {
    let mut n = 0;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            copy_sequence(&mut chars, &mut String::new());
        } else {
            n += char_width(c);
        }
    }
    n
}

/// `text` cut to at most `max` columns, escape sequences kept, styles reset.
pub fn truncate(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut n = 0;
    let mut styled = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            out.push(c);
            copy_sequence(&mut chars, &mut out);
            styled = true;
            continue;
        }
        let w = char_width(c);
        if n + w > max {
            break;
        }
        n += w;
        if w > 0 {
            out.push(c);
        }
    }
    if styled {
        out.push_str("\x1b[0m");
    }
    out
}

/// Copy the rest of an escape sequence (after ESC): `[` parameters and one
/// final byte.
fn copy_sequence(chars: &mut std::str::Chars<'_>, out: &mut String) {
    let Some(c) = chars.next() else { return };
    out.push(c);
    if c != '[' {
        return;
    }
    for c in chars.by_ref() {
        out.push(c);
        if ('\x40'..='\x7e').contains(&c) {
            break;
        }
    }
}

/// The column after writing a character `w` wide at `col` (a full row,
/// `col == width`, wraps first; a wide character that does not fit wraps).
fn advance(col: usize, w: usize, width: usize) -> usize {
    let col = if col >= width || col + w > width {
        0
    } else {
        col
    };
    col + w
}

/// Row and column after writing a character `w` wide at (`r`, `c`).
fn place(r: usize, c: usize, w: usize, width: usize) -> (usize, usize) {
    if w == 0 {
        return (r, c);
    }
    let (r0, c0) = start_of(r, c, w, width);
    (r0, c0 + w)
}

/// Where a character `w` wide written at (`r`, `c`) starts.
fn start_of(r: usize, c: usize, w: usize, width: usize) -> (usize, usize) {
    if c >= width || c + w > width {
        (r + 1, 0)
    } else {
        (r, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::vt::Vt;

    fn prompt(line: &str, cursor: usize) -> Footer {
        Footer {
            show_prompt: true,
            prompt: "> ".into(),
            line: line.into(),
            cursor,
            ..Footer::default()
        }
    }

    type Step<'a> = &'a dyn Fn(&mut Screen, &mut String);

    fn run(width: usize, steps: &[Step<'_>]) -> (Vt, Screen) {
        let mut s = Screen::new(width);
        let mut vt = Vt::new(width);
        for step in steps {
            let mut out = String::new();
            step(&mut s, &mut out);
            vt.feed(&out);
        }
        (vt, s)
    }

    #[test]
    fn a_line_in_three_packets_is_one_row() {
        let (vt, _) = run(
            20,
            &[
                &|s, o| s.set_footer(prompt("", 0), o),
                &|s, o| s.output("par", o),
                &|s, o| s.output("tial-", o),
                &|s, o| s.output("line\n", o),
            ],
        );
        assert_eq!(vt.text(), ["partial-line", ">"]);
    }

    #[test]
    fn partial_output_stays_above_the_prompt_and_edits_do_not_erase_it() {
        let (vt, _) = run(
            20,
            &[
                &|s, o| s.set_footer(prompt("", 0), o),
                &|s, o| s.output("login: ", o),
                &|s, o| s.set_footer(prompt("bo", 2), o),
                &|s, o| s.set_footer(prompt("bob", 3), o),
            ],
        );
        assert_eq!(vt.text(), ["login:", "> bob"]);
        assert_eq!((vt.r, vt.c), (1, 5));
    }

    #[test]
    fn echoed_lines_and_notices_end_a_partial_row_on_screen() {
        let (vt, s) = run(
            30,
            &[
                &|s, o| s.set_footer(prompt("bob", 3), o),
                &|s, o| s.output("login: ", o),
                &|s, o| s.rows("> bob", o),
                &|s, o| s.set_footer(prompt("", 0), o),
                &|s, o| s.output("Password: ", o),
            ],
        );
        assert_eq!(vt.text(), ["login:", "> bob", "Password:", ">"]);
        assert!(s.partial());
    }

    #[test]
    fn long_partial_lines_wrap_and_continue_in_place() {
        // 10 columns: "abcdefghij" fills a row exactly (pending wrap).
        let (vt, _) = run(
            10,
            &[
                &|s, o| s.set_footer(prompt("", 0), o),
                &|s, o| s.output("abcdefghij", o),
                &|s, o| s.output("klm", o),
                &|s, o| s.output("nopqrstuvwxyz\n", o),
            ],
        );
        assert_eq!(vt.text(), ["abcdefghij", "klmnopqrst", "uvwxyz", ">"]);
        let (vt, _) = run(
            10,
            &[
                &|s, o| s.set_footer(prompt("", 0), o),
                &|s, o| s.output("abcdefgh", o),
                &|s, o| s.output("世", o),
                &|s, o| s.output("界\n", o),
            ],
        );
        assert_eq!(vt.text(), ["abcdefgh世", "界", ">"]);
    }

    #[test]
    fn a_wrapping_prompt_line_puts_the_cursor_where_it_belongs() {
        let (vt, _) = run(
            10,
            &[&|s, o| s.output("data\n", o), &|s, o| {
                s.set_footer(prompt("0123456789abc", 3), o)
            }],
        );
        assert_eq!(vt.text(), ["data", "> 01234567", "89abc"]);
        assert_eq!((vt.r, vt.c), (1, 5));
        // Exactly full: the cursor goes to a fresh row.
        let (vt, _) = run(10, &[&|s, o| s.set_footer(prompt("01234567", 8), o)]);
        assert_eq!((vt.r, vt.c), (1, 0));
        // Output then arrives and the footer is redrawn below it, whole.
        let (vt, _) = run(
            10,
            &[
                &|s, o| s.set_footer(prompt("0123456789abc", 13), o),
                &|s, o| s.output("x\n", o),
            ],
        );
        assert_eq!(vt.text(), ["x", "> 01234567", "89abc"]);
    }

    #[test]
    fn hints_follow_the_line_in_grey_and_never_wrap() {
        let hinted = |line: &str, cursor: usize, hint: &str| Footer {
            hint: hint.into(),
            ..prompt(line, cursor)
        };
        let (vt, _) = run(20, &[&|s, o| s.set_footer(hinted("get", 3, " key"), o)]);
        assert_eq!(vt.text(), ["> get key"]);
        assert_eq!(
            (vt.r, vt.c),
            (0, 5),
            "the cursor stays at the end of the line"
        );
        // Cut to the columns left on the row (one kept free), never wrapped.
        let (vt, _) = run(
            20,
            &[&|s, o| s.set_footer(hinted("set k v", 7, " [NX|XX] [GET] [EX seconds]"), o)],
        );
        assert_eq!(vt.text(), ["> set k v [NX|XX] ["]);
        assert_eq!((vt.r, vt.c), (0, 9));
        // Output arriving redraws it below; the cursor can sit mid-line.
        let (vt, _) = run(
            20,
            &[
                &|s, o| s.set_footer(hinted("get", 1, " key"), o),
                &|s, o| s.output("msg\n", o),
            ],
        );
        assert_eq!(vt.text(), ["msg", "> get key"]);
        assert_eq!((vt.r, vt.c), (1, 3));
    }

    #[test]
    fn status_rows_sit_between_output_and_prompt() {
        let bar = Footer {
            status: vec!["[#####     ] 50%".into()],
            ..prompt("", 0)
        };
        let (vt, _) = run(
            40,
            &[
                &|s, o| s.set_footer(bar.clone(), o),
                &|s, o| s.output("one\ntw", o),
                &|s, o| s.output("o\n", o),
            ],
        );
        assert_eq!(vt.text(), ["one", "two", "[#####     ] 50%", ">"]);
        let only_bar = Footer {
            status: vec!["sending".into()],
            ..Footer::default()
        };
        let (vt, _) = run(
            40,
            &[
                &|s, o| s.set_footer(only_bar.clone(), o),
                &|s, o| s.output("data", o),
                &|s, o| s.output(" more\n", o),
            ],
        );
        assert_eq!(vt.text(), ["data more", "sending"]);
    }

    #[test]
    fn leaving_removes_the_prompt_and_keeps_the_output() {
        let (vt, _) = run(
            40,
            &[
                &|s, o| s.set_footer(prompt("typed", 5), o),
                &|s, o| s.output("bye", o),
                &|s, o| s.rows("connection closed by peer", o),
                &|s, o| s.leave(o),
            ],
        );
        assert_eq!(vt.text(), ["bye", "connection closed by peer"]);
        assert_eq!((vt.r, vt.c), (2, 0));
    }

    #[test]
    fn tabs_and_marks_do_not_shift_columns() {
        let (vt, _) = run(
            30,
            &[
                &|s, o| s.set_footer(prompt("", 0), o),
                &|s, o| s.output("a\tb\x1b[7m\\x1b\x1b[27m", o),
                &|s, o| s.output("c\n", o),
            ],
        );
        assert_eq!(vt.text(), ["a       b\\x1bc", ">"]);
    }

    #[test]
    fn truncation_counts_columns() {
        assert_eq!(truncate("abcdef", 3), "abc");
        assert_eq!(truncate("世界x", 3), "世");
        assert_eq!(text_width("\x1b[7mab\x1b[27m"), 2);
        assert_eq!(truncate("\x1b[1mabc", 2), "\x1b[1mab\x1b[0m");
    }

    /// The rows a text makes on a terminal `width` wide.
    fn wrapped(text: &str, width: usize) -> Vec<String> {
        let mut rows = Vec::new();
        for line in text.split('\n') {
            let (mut row, mut col) = (String::new(), 0);
            for c in line.chars() {
                let w = char_width(c);
                if col + w > width {
                    rows.push(std::mem::take(&mut row));
                    col = 0;
                }
                row.push(c);
                col += w;
            }
            rows.push(row);
        }
        if text.ends_with('\n') {
            rows.pop();
        }
        rows
    }

    #[test]
    fn output_in_any_pieces_with_any_redraws_in_between_is_the_text() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let alphabet: Vec<char> = "abcdefgh ij:/-世界é".chars().collect();
        for round in 0..300 {
            let width = 8 + rnd(20);
            let mut text = String::new();
            for _ in 0..1 + rnd(8) {
                for _ in 0..rnd(3 * width) {
                    text.push(alphabet[rnd(alphabet.len())]);
                }
                if rnd(4) > 0 {
                    text.push('\n');
                }
            }
            let mut s = Screen::new(width);
            let mut vt = Vt::new(width);
            let mut out = String::new();
            let chars: Vec<char> = text.chars().collect();
            let mut at = 0;
            while at < chars.len() {
                let n = 1 + rnd(chars.len() - at);
                let piece: String = chars[at..at + n].iter().collect();
                at += n;
                s.output(&piece, &mut out);
                match rnd(4) {
                    0 => {
                        let line: String = (0..rnd(2 * width)).map(|_| 'x').collect();
                        let cursor = rnd(line.len() + 1);
                        s.set_footer(prompt(&line, cursor), &mut out);
                    }
                    1 => s.set_footer(
                        Footer {
                            status: vec!["bar".repeat(rnd(width))],
                            ..prompt("", 0)
                        },
                        &mut out,
                    ),
                    2 => s.set_footer(Footer::default(), &mut out),
                    _ => {}
                }
            }
            s.leave(&mut out);
            vt.feed(&out);
            let want: Vec<String> = wrapped(&text, width)
                .into_iter()
                .map(|r| r.trim_end().to_string())
                .collect();
            let mut got = vt.text();
            got.resize(want.len().max(got.len()), String::new());
            let mut want = want;
            want.resize(got.len(), String::new());
            assert_eq!(got, want, "round {round}, width {width}, text {text:?}");
        }
    }
}
