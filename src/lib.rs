//! netkit: a netcat-style multitool — listen, connect, pipe, and the classic
//! inetd services over TCP and UDP.
//!
//! - `acl`: `--allow`/`--deny` client filters: a pure CIDR parser and matcher.
//! - `cli`: every clap type, one file per subcommand with the conversion of its
//!   arguments into that module's config, and the generated completions and man
//!   pages; nothing else sees clap.
//! - `error`: exit codes and the error kinds that pick them.
//! - `units`: human durations and sizes.
//! - `net`: address parsing, resolve-and-try-each connect, binding with socket options.
//! - `sockopts`: TCP_NODELAY and keepalive on each stream.
//! - `transport`: one stream type for TCP, TLS and Unix sockets (and datagrams),
//!   listeners, TLS configurations, and dialing a target.
//! - `relay`: both directions between two endpoints, half-close passed through.
//! - `faults`: delay, jitter, rate limits, cuts and drops for `serve --forward`.
//! - `proxy`: SOCKS5 and HTTP CONNECT, as a client and as servers.
//! - `shutdown`: the stop handle every server takes, with wakers for blocked calls.
//! - `log`: stderr diagnostics: the listening line, `-v` records, summaries, JSON.
//! - `pipe`: the two-way stdin/stdout session of `connect` and `serve`'s listen mode.
//! - `copy` and `zerocopy`: one direction of it, each chunk passed on at once; splice where proven.
//! - `portnames`: service names as ports (`/etc/services`).
//! - `sys`: process-wide OS settings (the open-file limit).
//! - `udpio`: batched UDP I/O (recvmmsg/sendmmsg, GRO/GSO) for the hot paths.
//! - `serve`: TCP and UDP servers, one module per mode family.
//! - `connect`: the TCP pipe client, the interactive prompt, the UDP client and the port probe.
//! - `term`: the terminal's single owner: key decoding, line editor, screen model, prompt.
//! - `hexdump`: `--hexdump` records of both directions, and the tap the copy loops call.
//! - `bench`: throughput, latency, connection-rate and UDP measurements, with reports.
//! - `kv`: the key-value server (RESP2 + line protocol, append-only log) and its client.

pub mod acl;
pub mod bench;
pub mod cli;
pub mod connect;
pub mod copy;
pub mod error;
pub mod faults;
pub mod hexdump;
pub mod kv;
pub mod log;
pub mod net;
pub mod pipe;
pub mod portnames;
pub mod proxy;
pub mod relay;
pub mod serve;
pub mod shutdown;
pub mod sockopts;
pub mod sys;
pub mod term;
pub mod transport;
pub mod udpio;
pub mod units;
pub mod zerocopy;
