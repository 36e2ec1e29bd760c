//! The terminal, owned by one writer. A program that shows a peer's bytes
//! while the user types needs one place that decides what goes where on
//! the screen; otherwise a reply lands while the prompt is redrawn and is
//! erased, or a progress bar is drawn over data. Here:
//!
//! - `keys`: terminal input bytes to keys (escape sequences, UTF-8,
//!   bracketed pastes), pure and incremental.
//! - `edit`: the line editor (emacs keys, history, Ctrl-R), pure.
//! - `screen`: the screen model: output rows, an unfinished output row
//!   continued in place, the footer (status rows, prompt) below; pure.
//! - `console`: the owner: every thread draws through it, under one lock.
//! - `prompt`: raw mode, signals, history file, and the wait for a key, a
//!   wake-up descriptor or a timeout.
//! - `tty`: the system calls behind them.
//!
//! Why not rustyline's `readline` with its external printer (measured in
//! tmux with a peer answering each line without a newline): the printer
//! appends a newline to every message, so a line in three packets shows
//! as three rows; between two `readline` calls it writes straight to the
//! terminal and the next prompt's redraw erases the text (8 of 60 replies
//! lost); during Ctrl-R search it holds all output back. rustyline keeps
//! the history file (same format as before, now saved after every line).

pub mod console;
pub mod edit;
pub mod keys;
pub mod prompt;
pub mod screen;
pub mod tty;
#[cfg(test)]
mod vt;
