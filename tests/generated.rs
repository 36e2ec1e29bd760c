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

#[test]
fn every_page_a_page_points_to_exists_and_each_has_a_description() {
    let pages = cli::man_pages().expect("render man pages");
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for must in [
        "netkit-serve-tcp.1",
        "netkit-serve-udp.1",
        "netkit-kv-serve.1",
    ] {
        assert!(names.contains(&must), "no {must} in {names:?}");
    }
    for (name, text) in &pages {
        let text = String::from_utf8_lossy(text);
        assert!(
            text.contains("\n.SH DESCRIPTION\n"),
            "{name} has no DESCRIPTION"
        );
        // Every `netkit-x(1)` a page names is a page we ship.
        for word in text.split_whitespace() {
            if let Some(page) = word.strip_suffix("(1)") {
                let page = page.replace("\\-", "-");
                assert!(
                    names.contains(&format!("{page}.1").as_str()),
                    "{name} points to {page}(1), which does not exist"
                );
            }
        }
    }
}

#[test]
fn examples_in_man_pages_keep_their_lines() {
    let pages = cli::man_pages().expect("render man pages");
    let (_, serve) = pages
        .iter()
        .find(|(n, _)| n == "netkit-serve.1")
        .expect("netkit-serve.1");
    let text = String::from_utf8_lossy(serve);
    let examples = text
        .split(".SH EXAMPLES\n")
        .nth(1)
        .expect("an EXAMPLES section");
    assert!(
        examples.starts_with(".nf\n"),
        "examples are not in no-fill mode"
    );
    let block = &examples[..examples.find(".fi\n").expect("end of no-fill")];
    assert!(
        block.lines().filter(|l| l.contains("netkit serve")).count() >= 5,
        "{block}"
    );
}

#[test]
fn bash_completion_offers_the_bench_kinds() {
    let script =
        String::from_utf8(cli::completion_script(clap_complete::Shell::Bash)).expect("utf-8");
    let bench = script
        .split("netkit__subcmd__bench)")
        .nth(1)
        .expect("a bench case");
    let opts = bench.lines().find(|l| l.contains("opts=")).expect("opts");
    for kind in ["throughput", "latency", "connect", "udp"] {
        assert!(opts.contains(kind), "bench completion lacks {kind}: {opts}");
    }
}
