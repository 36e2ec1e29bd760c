//! Lua scripting (placeholder).

/// Scripting state shared by the loops.
#[derive(Debug, Default)]
pub struct Scripts {}
