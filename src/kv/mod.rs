//! `netkit kv`: a Redis-compatible key-value server (RESP2, RESP3, inline
//! commands) that also speaks the seed's line protocol (so nc works), plus a
//! redis-cli-like client and a log checker.
//!
//! - `protocol`: pure request parsing (resumable), the client's reply parser.
//! - `reply`: the reply writer, RESP2 or RESP3 per connection.
//! - `cmd`: the command table, dispatch and one file per command family.
//! - `value`, `dict`, `db`: what a key holds, the scan-friendly hash table, databases.
//! - `keyspace`: the only write path: log op, undo entry, change, watch notice.
//! - `store`: the key space behind one lock, rounds that commit or undo.
//! - `aof` (format, replay, check) and `logfile` (appends, fsync, compaction).
//! - `session`, `shared`, `conn`, `server`: clients, shared state, the event loops.
//! - `checklog`: `netkit kv check-log FILE [--fix]`.
//! - `client`: one-shot commands, reply formatting and the REPL.

pub mod aof;
pub mod checklog;
pub mod client;
pub mod cmd;
pub mod conn;
pub mod db;
pub mod dict;
pub mod glob;
pub mod keyspace;
pub mod logfile;
pub mod protocol;
pub mod reply;
pub mod server;
pub mod session;
pub mod shared;
pub mod store;
pub mod value;
