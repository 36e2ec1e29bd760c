//! Scripting commands (placeholder while the engine lands).

use super::CommandSpec;

/// The scripting family.
pub static COMMANDS: &[CommandSpec] = &[];
