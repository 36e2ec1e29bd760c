//! Completion scripts and man pages, rendered from the clap definition; the
//! committed copies under `completions/` and `man/` are checked against these
//! by `tests/generated.rs`.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

/// The completion script for `shell`, as `netkit completions SHELL` prints it.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "netkit", &mut out);
    out
}

/// The file name of `shell`'s completion script under `completions/`.
pub fn completion_file_name(shell: Shell) -> String {
    use clap_complete::Generator;
    shell.file_name("netkit")
}

/// Every shell netkit ships completions for.
pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

/// Man pages as (file name, roff text): `netkit.1` and one per subcommand,
/// nested ones included (`netkit-serve-udp.1`, `netkit-kv-serve.1`), so
/// every page a SUBCOMMANDS section names exists.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let cmd = no_help_subcommand(Cli::command());
    let mut pages = Vec::new();
    pages.push(("netkit.1".to_string(), render_page(&cmd)?));
    add_subcommand_pages(&cmd, "netkit", &mut pages)?;
    Ok(pages)
}

/// `help` is a way to print help, not a command with a page.
fn no_help_subcommand(cmd: clap::Command) -> clap::Command {
    cmd.disable_help_subcommand(true)
        .mut_subcommands(no_help_subcommand)
}

fn add_subcommand_pages(
    parent: &clap::Command,
    prefix: &str,
    pages: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    for sub in parent.get_subcommands() {
        let name = format!("{prefix}-{}", sub.get_name());
        let bin = name.replace('-', " ");
        let page = sub.clone().name(name.clone()).bin_name(bin);
        pages.push((format!("{name}.1"), render_page(&page)?));
        add_subcommand_pages(sub, &name, pages)?;
    }
    Ok(())
}

/// One page: clap_mangen's sections, then the examples and notes of the
/// help text in no-fill mode, so `man` shows them line for line instead of
/// flowing the examples into one paragraph.
fn render_page(cmd: &clap::Command) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    let mut sections = Vec::new();
    man.render_name_section(&mut sections)?;
    man.render_synopsis_section(&mut sections)?;
    man.render_description_section(&mut sections)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut sections)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut sections)?;
    }
    // Each fragment starts with the same two-line preamble; keep one.
    let text = String::from_utf8_lossy(&sections).replace(ROFF_PREAMBLE, "");
    out.extend_from_slice(text.as_bytes());
    if let Some(after) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        out.extend_from_slice(verbatim_sections(&after.to_string()).as_bytes());
    }
    Ok(out)
}

/// What clap_mangen's roff writer puts before every fragment.
const ROFF_PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// The help text's paragraphs as man sections: a paragraph headed
/// `Examples:` becomes EXAMPLES (likewise `Kinds:`, `Exit codes:`), the
/// rest NOTES, all in no-fill mode.
fn verbatim_sections(after: &str) -> String {
    let mut out = String::new();
    let mut notes = Vec::new();
    for para in after.split("\n\n") {
        let mut lines = para.lines();
        let Some(first) = lines.next() else { continue };
        let heading = first
            .strip_suffix(':')
            .filter(|h| !h.starts_with(' ') && !h.contains(' ') || *h == "Exit codes");
        match heading {
            Some(h) => {
                out.push_str(&format!(".SH {}\n.nf\n", h.to_uppercase()));
                for l in lines {
                    out.push_str(&roff_line(l));
                }
                out.push_str(".fi\n");
            }
            None => notes.extend(para.lines()),
        }
    }
    if !notes.is_empty() {
        out.push_str(".SH NOTES\n.nf\n");
        for l in notes {
            out.push_str(&roff_line(l));
        }
        out.push_str(".fi\n");
    }
    out
}

/// One line of text as roff: backslashes and dashes escaped, a leading
/// dot or quote kept from being read as a request.
fn roff_line(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}\n")
    } else {
        format!("{escaped}\n")
    }
}

/// `netkit man`: the top page on stdout, or every page into `out_dir`.
pub fn write_man_pages(out_dir: Option<&Path>) -> Result<()> {
    use std::io::Write;
    let pages = man_pages()?;
    match out_dir {
        None => std::io::stdout().write_all(&pages[0].1)?,
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in pages {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    Ok(())
}
