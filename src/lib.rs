//! netkit: a netcat-style multitool — listen, connect, pipe, and the classic
//! inetd services over TCP and UDP.
//!
//! - `cli`: every clap type and the generated completions and man pages; nothing else sees clap.
//! - `error`: exit codes and the error kinds that pick them.
//! - `units`: human durations and sizes.
//! - `net`: address parsing, resolve-and-try-each connect, binding with socket options.
//! - `shutdown`: the stop handle every server takes, with wakers for blocked calls.
//! - `log`: stderr diagnostics: the listening line, `-v` records, summaries, JSON.
//! - `pipe` and `zerocopy`: the two-way stdin/stdout pipe and the fastest byte copy.
//! - `serve`: TCP and UDP servers, one module per mode family.
//! - `connect`: the TCP pipe client and the UDP client.
//! - `bench`: throughput, latency, connection-rate and UDP measurements, with reports.

pub mod bench;
pub mod cli;
pub mod connect;
pub mod error;
pub mod log;
pub mod net;
pub mod pipe;
pub mod serve;
pub mod shutdown;
pub mod units;
pub mod zerocopy;
