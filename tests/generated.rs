//! The committed completions/ and man/ match what the binary generates now.

use std::path::Path;

use netkit::cli;

#[test]
fn completions_are_fresh() {
    for shell in cli::SHELLS {
        let name = cli::completion_file_name(shell);
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("completions")
            .join(&name);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == cli::completion_script(shell),
            "completions/{name} is stale: run `netkit completions {shell} > completions/{name}` to refresh (or completions/refresh.sh)"
        );
    }
}

#[test]
fn man_pages_are_fresh() {
    let pages = cli::man_pages().expect("render man pages");
    assert!(pages.iter().any(|(n, _)| n == "netkit-serve.1"));
    for (name, text) in pages {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("man")
            .join(&name);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == text,
            "man/{name} is stale: run `netkit man --out-dir man/` to refresh (or completions/refresh.sh)"
        );
    }
}

#[test]
fn every_subcommand_help_shows_an_example() {
    use clap::CommandFactory;
    let cmd = cli::Cli::command();
    for sub in cmd.get_subcommands() {
        let help = sub
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(
            help.contains("Example"),
            "`netkit {} --help` has no example",
            sub.get_name()
        );
    }
}
