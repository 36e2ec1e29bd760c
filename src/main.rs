//! The netkit binary: parse the command line, dispatch to the module that
//! runs the subcommand, print one error line and pick the exit code. The
//! conversion of arguments into each module's config lives in `netkit::cli`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use netkit::bench::{self, BenchConfig};
use netkit::cli::{self, Cli, Command, KvCommand, ServeProto};
use netkit::connect::{self, ConnectConfig, probe::ProbeConfig};
use netkit::error::{self, code};
use netkit::kv::{self, client::ClientConfig};
use netkit::serve::{self, TcpConfig, UdpConfig};

/// Counts heap bytes, for `kv serve`'s `used_memory` and `maxmemory`.
#[global_allocator]
static ALLOC: kv::memory::Counting = kv::memory::Counting;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    netkit::sys::raise_fd_limit();
    let json_errors = cli.json_on_stderr();
    match run(cli) {
        Ok(()) => ExitCode::from(code::OK as u8),
        Err(e) if error::is_broken_pipe(&e) => ExitCode::from(code::OK as u8),
        Err(e) => {
            let code = error::exit_code(&e);
            // A Reported error is already on stderr as the --json summary.
            if e.downcast_ref::<error::Reported>().is_none() {
                let line = if json_errors {
                    // stderr carries JSON objects only: the error is one too.
                    serde_json::json!({
                        "event": "summary",
                        "error": format!("{e:#}"),
                        "hint": error::hint(&e),
                        "exit_code": code,
                    })
                    .to_string()
                } else {
                    format!("netkit: error: {}", error::one_line(&e))
                };
                let _ = writeln!(std::io::stderr(), "{line}");
            }
            ExitCode::from(code as u8)
        }
    }
}

/// A command line clap refused: `netkit: error: <what>` on one line, the
/// usage line under it, exit 2 (help and version print as usual).
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let args: Vec<String> = std::env::args().collect();
    let text = match cli::misplaced_protocol(&args) {
        Some(fixed) => format!("netkit: error: the protocol goes right after serve: {fixed}\n"),
        None => cli::short_usage_error(&e.render().to_string()),
    };
    let _ = std::io::stderr().write_all(text.as_bytes());
    ExitCode::from(code::USAGE as u8)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => match args.into_proto() {
            ServeProto::Tcp(a) => {
                serve::listen_and_serve_tcp(a.listen.listen_addr()?, &TcpConfig::try_from(&a)?)
            }
            ServeProto::Udp(a) => {
                serve::listen_and_serve_udp(a.listen.listen_addr()?, &UdpConfig::try_from(&a)?)
            }
            ServeProto::Unix(a) if a.dgram => serve::listen_and_serve_unix_dgram(
                &a.unix_addr()?,
                a.unix_mode,
                &UdpConfig::try_from(&a)?,
            ),
            ServeProto::Unix(a) => serve::listen_and_serve_unix(
                &a.unix_addr()?,
                a.unix_mode,
                &TcpConfig::try_from(&a)?,
            ),
        },
        Command::Connect(a) if a.probe => connect::probe::run(&ProbeConfig::try_from(&a)?),
        Command::Connect(a) => connect::run(&ConnectConfig::try_from(&a)?),
        Command::Kv(args) => match args.serve {
            Some(KvCommand::Serve(a)) => {
                kv::listen_and_serve(a.listen_addr()?, a.fsync(), (&a).try_into()?)
            }
            Some(KvCommand::CheckLog(c)) => {
                if !kv::checklog::run(&c.file, c.fix)? {
                    let _ = std::io::stdout().flush();
                    std::process::exit(code::FAILURE);
                }
                Ok(())
            }
            None => {
                if !kv::client::run(&ClientConfig::try_from(args.client)?)? {
                    // A nil or error reply: the value is not there (like `grep`).
                    let _ = std::io::stdout().flush();
                    std::process::exit(code::FAILURE);
                }
                Ok(())
            }
        },
        Command::Bench(args) => {
            let cfg = BenchConfig::try_from(args)?;
            match bench::run(&cfg) {
                Ok(report) => Ok(bench::report::print(&report, cfg.output)?),
                Err(e) => {
                    // A --json consumer reads one object on stdout either way.
                    if cfg.output != bench::Output::Text {
                        println!("{}", bench::report::error_json(&cfg, &e));
                    }
                    Err(e)
                }
            }
        }
        Command::Completions { shell } => {
            std::io::stdout().write_all(&cli::completion_script(shell))?;
            Ok(())
        }
        Command::Man { out_dir } => cli::write_man_pages(out_dir.as_deref()),
    }
}
