//! `netkit kv check-log FILE [--fix]`, like `redis-check-aof`: read a log,
//! report every problem with its offset, and with `--fix` keep a backup and
//! rewrite the file with only its good records (a damaged record in the
//! middle is dropped, the good records after it are kept; a torn tail is cut).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::aof::{self, Problem};

/// What the check found and did.
#[derive(Debug)]
pub struct Report {
    /// Good records.
    pub records: u64,
    /// Problems found.
    pub problems: Vec<Problem>,
    /// Where the original was saved (with `--fix`, when something was fixed).
    pub backup: Option<PathBuf>,
    /// Bytes of the file before and after.
    pub size: (u64, u64),
}

impl Report {
    /// Human-readable lines.
    pub fn lines(&self, path: &Path) -> Vec<String> {
        let mut v = Vec::new();
        for p in &self.problems {
            v.push(match p {
                Problem::Torn { at, bytes } => format!(
                    "{}: torn record at offset {at}: the last {bytes} bytes are an incomplete write (a crash mid-append)",
                    path.display()
                ),
                Problem::Corrupt { at, next, why } => format!(
                    "{}: corrupt record at offset {at} ({why}); {} bytes unreadable, good records resume at offset {next}",
                    path.display(),
                    next - at
                ),
            });
        }
        v.push(format!(
            "{}: {} good records, {} problem(s)",
            path.display(),
            self.records,
            self.problems.len()
        ));
        if let Some(b) = &self.backup {
            v.push(format!(
                "{}: repaired ({} -> {} bytes); the original is saved as {}",
                path.display(),
                self.size.0,
                self.size.1,
                b.display()
            ));
        }
        v
    }
}

fn backup_path(path: &Path) -> PathBuf {
    let mut n = 0;
    loop {
        let mut s = path.as_os_str().to_owned();
        s.push(if n == 0 {
            ".bak".to_string()
        } else {
            format!(".bak.{n}")
        });
        let p = PathBuf::from(s);
        if !p.exists() {
            return p;
        }
        n += 1;
    }
}

/// Check `path`; with `fix`, repair it (keeping a backup) if needed.
pub fn check(path: &Path, fix: bool) -> Result<Report> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let scan = aof::scan(&data, |_| {}).with_context(|| format!("{}", path.display()))?;
    let mut report = Report {
        records: scan.records,
        problems: scan.problems.clone(),
        backup: None,
        size: (data.len() as u64, data.len() as u64),
    };
    if fix && !scan.problems.is_empty() {
        let backup = backup_path(path);
        std::fs::copy(path, &backup)
            .with_context(|| format!("cannot save a backup as {}", backup.display()))?;
        let good = aof::repaired(&data, &scan);
        let tmp = super::logfile::tmp_path(path);
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(&good)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        super::logfile::sync_dir(path);
        report.backup = Some(backup);
        report.size.1 = good.len() as u64;
    }
    Ok(report)
}

/// `netkit kv check-log FILE [--fix]`: print the report; false when
/// problems remain (exit status 1).
pub fn run(path: &Path, fix: bool) -> Result<bool> {
    let report = check(path, fix)?;
    for line in report.lines(path) {
        println!("{line}");
    }
    if !report.problems.is_empty() && report.backup.is_none() {
        println!(
            "run `netkit kv check-log {} --fix` to repair it (a backup is kept)",
            path.display()
        );
        return Ok(false);
    }
    Ok(true)
}
