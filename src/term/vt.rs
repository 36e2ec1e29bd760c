//! A tiny terminal for unit tests: enough of VT100 (CR, LF, CUU, CHA, ED,
//! EL, SGR ignored, auto-wrap with the pending-wrap column, wide
//! characters) to replay what `screen` writes and read back the rows a
//! user would see.

use super::screen::char_width;

/// A tiny terminal: enough of VT100 to replay what `Screen` writes and
/// check the rows a user would see.
pub struct Vt {
    width: usize,
    rows: Vec<Vec<char>>,
    /// Cursor row.
    pub r: usize,
    /// Cursor column.
    pub c: usize,
    pending: bool,
}

impl Vt {
    /// An empty terminal `width` columns wide, unbounded downwards.
    pub fn new(width: usize) -> Vt {
        Vt {
            width,
            rows: vec![Vec::new()],
            r: 0,
            c: 0,
            pending: false,
        }
    }
    fn row(&mut self) -> &mut Vec<char> {
        while self.rows.len() <= self.r {
            self.rows.push(Vec::new());
        }
        &mut self.rows[self.r]
    }
    /// Interpret what a program wrote.
    pub fn feed(&mut self, s: &str) {
        let mut chars = s.chars().peekable();
        while let Some(ch) = chars.next() {
            match ch {
                '\r' => {
                    self.c = 0;
                    self.pending = false;
                }
                '\n' => {
                    self.r += 1;
                    self.pending = false;
                    self.row();
                }
                '\x1b' => {
                    assert_eq!(chars.next(), Some('['), "only CSI");
                    let mut p = String::new();
                    let fin = loop {
                        let c = chars.next().expect("final byte");
                        if ('\x40'..='\x7e').contains(&c) {
                            break c;
                        }
                        p.push(c);
                    };
                    let n: usize = p.parse().unwrap_or(1);
                    self.pending = false;
                    match fin {
                        'A' => self.r = self.r.checked_sub(n).expect("cursor above the top"),
                        'G' => self.c = n - 1,
                        'J' => {
                            let c = self.c;
                            self.row().truncate(c);
                            self.rows.truncate(self.r + 1);
                        }
                        'K' => {
                            let c = self.c;
                            self.row().truncate(c);
                        }
                        'm' => {}
                        other => panic!("unexpected CSI {other}"),
                    }
                }
                ch => {
                    let w = char_width(ch);
                    if self.pending || self.c + w > self.width {
                        self.r += 1;
                        self.c = 0;
                        self.pending = false;
                    }
                    let c = self.c;
                    let row = self.row();
                    while row.len() < c {
                        row.push(' ');
                    }
                    if row.len() == c {
                        row.push(ch);
                    } else {
                        row[c] = ch;
                    }
                    if w == 2 {
                        if row.len() == c + 1 {
                            row.push('\0');
                        } else {
                            row[c + 1] = '\0';
                        }
                    }
                    self.c += w;
                    if self.c == self.width {
                        self.c -= 1;
                        self.pending = true;
                    }
                }
            }
        }
    }
    /// The rows, trailing blanks and trailing empty rows removed.
    pub fn text(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .filter(|&&c| c != '\0')
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect();
        while v.last().is_some_and(|l| l.is_empty()) {
            v.pop();
        }
        v
    }
}
