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

/// Man pages as (file name, roff text): `netkit.1` and one per subcommand.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let cmd = Cli::command();
    let mut pages = Vec::new();
    let mut top = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut top)?;
    pages.push(("netkit.1".to_string(), top));
    for sub in cmd.get_subcommands() {
        let name = format!("netkit-{}", sub.get_name());
        let sub = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("netkit {}", sub.get_name()));
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page)?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages)
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
