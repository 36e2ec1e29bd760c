//! `netkit kv serve --data`: replay, torn tails, corruption in the middle
//! (refused at start, repaired by `check-log --fix`), one record per
//! multi-key write or transaction, compaction, SAVE and BGSAVE, and a full
//! disk.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::kv::{Kv, bulk, ok, quiet, temp_path};
use common::netkit;
use netkit::kv::aof::{self, Problem};
use netkit::kv::logfile::Fsync;
use netkit::kv::protocol::Reply;
use netkit::kv::store::Store;

fn open(path: &std::path::Path) -> (Store, netkit::kv::store::Opened) {
    Store::open(path, 16, Fsync::Always).expect("open")
}

fn records(path: &std::path::Path) -> (u64, Vec<Vec<aof::Record>>, Vec<Problem>) {
    let data = std::fs::read(path).expect("read log");
    let mut recs = Vec::new();
    let s = aof::scan(&data, |ops| recs.push(ops)).expect("scan");
    (s.records, recs, s.problems)
}

#[test]
fn the_log_replays_after_a_restart_and_a_torn_tail_is_cut() {
    let path = temp_path("replay");
    {
        let (store, opened) = open(&path);
        assert_eq!(opened.keys, 0);
        let kv = Kv::start(Arc::new(store), quiet());
        let mut c = kv.conn();
        for i in 0..100 {
            assert_eq!(c.call(&["SET", &format!("k{i}"), &format!("v{i}")]), ok());
        }
        assert_eq!(c.call(&["INCRBY", "n", "7"]), Reply::Int(7));
        assert_eq!(c.call(&["DEL", "k0"]), Reply::Int(1));
        assert_eq!(c.call(&["SET", "ttl", "v", "EX", "1000"]), ok());
        assert_eq!(c.call(&["SELECT", "3"]), ok());
        assert_eq!(c.call(&["SET", "in3", "x"]), ok());
        assert_eq!(c.call(&["SET", "last", "the last record"]), ok());
        kv.stop();
    }
    let (store, opened) = open(&path);
    assert_eq!((opened.torn, opened.keys), (0, 99 + 1 + 1 + 2));
    drop(store);
    // Tear the last record, as a crash mid-write would.
    let len = std::fs::metadata(&path).expect("meta").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    f.set_len(len - 10).expect("truncate");
    drop(f);
    let (store, opened) = open(&path);
    assert!(opened.torn > 0, "the torn tail is reported");
    let kv = Kv::start(Arc::new(store), quiet());
    let mut c = kv.conn();
    assert_eq!(c.call(&["GET", "k99"]), bulk("v99"));
    assert_eq!(c.call(&["GET", "n"]), bulk("7"));
    assert!(matches!(c.call(&["TTL", "ttl"]), Reply::Int(t) if t > 990));
    assert_eq!(c.call(&["SELECT", "3"]), ok());
    assert_eq!(c.call(&["GET", "in3"]), bulk("x"));
    assert_eq!(c.call(&["GET", "last"]), Reply::Bulk(None));
    assert_eq!(c.call(&["SET", "after", "tear"]), ok());
    kv.stop();
    let (_, _, problems) = records(&path);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn a_multi_key_write_and_a_transaction_are_one_record_each() {
    let path = temp_path("records");
    let (store, _) = open(&path);
    let kv = Kv::start(Arc::new(store), quiet());
    let mut c = kv.conn();
    assert_eq!(c.call(&["MSET", "a", "1", "b", "2", "c", "3"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    c.call(&["INCRBY", "a", "10"]);
    c.call(&["DECRBY", "b", "10"]);
    c.call(&["GET", "c"]);
    assert_eq!(
        c.call(&["EXEC"]),
        Reply::Array(Some(vec![Reply::Int(11), Reply::Int(-8), bulk("3")]))
    );
    // An aborted transaction writes nothing.
    c.call(&["MULTI"]);
    c.call(&["SET", "x", "1"]);
    c.call(&["NOSUCHCOMMAND"]);
    assert!(matches!(c.call(&["EXEC"]), Reply::Error(e) if e.starts_with("EXECABORT")));
    kv.stop();
    let (n, recs, _) = records(&path);
    assert_eq!(n, 2);
    assert_eq!(
        recs[0].len(),
        3,
        "MSET of three keys is one record of three ops"
    );
    assert_eq!(recs[1].len(), 2, "EXEC's two writes are one record");
}

#[test]
fn corruption_in_the_middle_refuses_to_start_and_check_log_repairs_it() {
    let path = temp_path("corrupt");
    {
        let (store, _) = open(&path);
        let kv = Kv::start(Arc::new(store), quiet());
        let mut c = kv.conn();
        for i in 0..20 {
            assert_eq!(c.call(&["SET", &format!("k{i:02}"), "value"]), ok());
        }
        kv.stop();
    }
    let mut bytes = std::fs::read(&path).expect("read");
    let rec = (bytes.len() - 8) / 20;
    let bad_at = 8 + 5 * rec;
    bytes[bad_at + 12] ^= 0x01; // one flipped bit in the sixth record
    std::fs::write(&path, &bytes).expect("write");
    // The library refuses, naming the offset.
    let err = Store::open(&path, 16, Fsync::Always)
        .err()
        .expect("must refuse");
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!("offset {bad_at}")) && msg.contains("check-log"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        bytes,
        "nothing was cut"
    );
    // So does the binary, with exit status 1 and the same message.
    let p = path.to_str().expect("utf-8 path");
    let out = netkit()
        .args(["kv", "serve", "--data", p, "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("offset {bad_at}")));
    // check-log reports, exit 1; --fix keeps a backup and every good record.
    let out = netkit().args(["kv", "check-log", p]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(&format!("corrupt record at offset {bad_at}")),
        "{text}"
    );
    let out = netkit()
        .args(["kv", "check-log", p, "--fix"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let backup = format!("{p}.bak");
    assert_eq!(std::fs::read(&backup).expect("backup"), bytes);
    let (store, opened) = open(&path);
    assert_eq!(opened.keys, 19, "only the damaged record is lost");
    let kv = Kv::start(Arc::new(store), quiet());
    let mut c = kv.conn();
    assert_eq!(c.call(&["EXISTS", "k05"]), Reply::Int(0));
    assert_eq!(c.call(&["GET", "k19"]), bulk("value"));
    kv.stop();
    let out = netkit().args(["kv", "check-log", p]).output().expect("run");
    assert!(out.status.success());
}

#[test]
fn not_a_log_is_refused_not_overwritten() {
    let path = temp_path("foreign");
    std::fs::write(&path, b"precious user data\n").expect("write");
    let err = Store::open(&path, 16, Fsync::No)
        .err()
        .expect("must refuse");
    assert!(format!("{err:#}").contains("not a netkit kv log"));
    assert_eq!(std::fs::read(&path).expect("read"), b"precious user data\n");
}

#[test]
fn compaction_keeps_every_live_key_and_shrinks_the_log() {
    let path = temp_path("compact");
    let (store, _) = open(&path);
    let store = Arc::new(store);
    let kv = Kv::start(store.clone(), quiet());
    let mut c = kv.conn();
    for round in 0..5 {
        for i in 0..300 {
            c.call(&["SET", &format!("k{i}"), &format!("value-{round}-{i}")]);
        }
    }
    for i in 0..100 {
        c.call(&["DEL", &format!("k{i}")]);
    }
    c.call(&["EXPIRE", "k299", "5000"]);
    let before = std::fs::metadata(&path).expect("meta").len();
    assert!(store.rewrite_log().expect("rewrite"));
    let after = std::fs::metadata(&path).expect("meta").len();
    assert!(after * 3 < before, "{before} -> {after}");
    assert_eq!(c.call(&["SET", "new", "after rewrite"]), ok());
    kv.stop();
    drop(store);
    let (store, opened) = open(&path);
    assert_eq!(opened.keys, 200 + 1);
    let kv = Kv::start(Arc::new(store), quiet());
    let mut c = kv.conn();
    assert_eq!(c.call(&["GET", "k150"]), bulk("value-4-150"));
    assert!(matches!(c.call(&["TTL", "k299"]), Reply::Int(t) if t > 4000));
    assert_eq!(c.call(&["GET", "new"]), bulk("after rewrite"));
    kv.stop();
}

/// A small tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = temp_path("tmpfs").keep();
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            let _ = std::fs::remove_dir(&dir);
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_full_disk_is_an_error_reply_and_loses_no_acknowledged_write() {
    let fs = match Tmpfs::mount("1m") {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!(
                "SKIP a_full_disk_...: cannot mount a small tmpfs ({why}); run as root to test a full disk"
            );
            return;
        }
    };
    let path = fs.0.join("kv.aof");
    let (store, _) = open(&path);
    let kv = Kv::start(Arc::new(store), quiet());
    let mut c = kv.conn();
    let mut other = kv.conn();
    assert_eq!(c.call(&["SET", "counter", "0"]), ok());
    let value = "x".repeat(100 * 1024);
    let mut acked = Vec::new();
    let mut refused = None;
    for i in 0..20 {
        let k = format!("big{i}");
        match c.call(&["SET", &k, &value]) {
            Reply::Status(s) if s == "OK" => acked.push(k),
            Reply::Error(e) => {
                refused = Some((k, e));
                break;
            }
            r => panic!("{r:?}"),
        }
    }
    let (k, e) = refused.expect("1 MiB fills up");
    assert!(
        e.starts_with("MISCONF Errors writing to the AOF file"),
        "{e}"
    );
    // Nothing of the refused write is visible, to anyone.
    assert_eq!(other.call(&["EXISTS", &k]), Reply::Int(0));
    // A transaction with a write is refused as a whole.
    c.call(&["MULTI"]);
    c.call(&["INCR", "counter"]);
    c.call(&["SET", &k, &value]);
    assert!(
        matches!(c.call(&["EXEC"]), Reply::Error(e) if e.contains("MISCONF") || e.starts_with("EXECABORT"))
    );
    assert_eq!(other.call(&["GET", "counter"]), bulk("0"));
    // Reads still work; small writes that fit still go through.
    assert_eq!(other.call(&["GET", &acked[0]]).clone(), bulk(&value));
    kv.stop();
    let (_, _, problems) = records(&path);
    assert!(
        problems.is_empty(),
        "no partial record in the log: {problems:?}"
    );
    let (store, _) = open(&path);
    let kv = Kv::start(Arc::new(store), quiet());
    let mut c = kv.conn();
    for k in &acked {
        assert_eq!(
            c.call(&["STRLEN", k]),
            Reply::Int(value.len() as i64),
            "{k} lost"
        );
    }
    assert_eq!(c.call(&["EXISTS", &k]), Reply::Int(0));
    kv.stop();
}

/// SAVE makes everything written so far durable: with `--fsync no` the log
/// is fsynced before its reply, even for writes pipelined in the same
/// round. LASTSAVE and INFO follow it; it is refused inside MULTI and
/// without a log. BGSAVE compacts the log in the background.
#[test]
fn save_fsyncs_the_log_before_it_answers_and_bgsave_compacts_it() {
    let path = temp_path("save");
    let store = Arc::new(Store::open(&path, 16, Fsync::No).expect("open").0);
    let kv = Kv::start(store.clone(), quiet());
    let mut c = kv.conn();
    let aof = store.aof().expect("a log");
    assert_eq!(c.call(&["SET", "a", "1"]), ok());
    assert!(aof.unsynced() > 0, "--fsync no left the write unsynced");
    c.send(&[b"SET", b"b", b"2"]);
    c.send(&[b"SAVE"]);
    assert_eq!(c.reply(), ok());
    assert_eq!(c.reply(), ok());
    assert_eq!(aof.unsynced(), 0, "SAVE answered before the fsync");
    let Reply::Bulk(Some(info)) = c.call(&["INFO", "persistence"]) else {
        panic!("INFO");
    };
    assert!(String::from_utf8_lossy(&info).contains("rdb_changes_since_last_save:0\r\n"));
    let Reply::Int(last) = c.call(&["LASTSAVE"]) else {
        panic!("LASTSAVE");
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!(
        (now - 5..=now).contains(&last),
        "LASTSAVE {last}, now {now}"
    );
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(
        c.call(&["SAVE"]),
        Reply::Error("ERR Command not allowed inside a transaction".into())
    );
    assert!(matches!(c.call(&["EXEC"]), Reply::Error(e) if e.starts_with("EXECABORT")));
    for i in 0..2000 {
        c.call(&["SET", "big", &format!("overwritten {i}")]);
    }
    let before = std::fs::metadata(&path).expect("meta").len();
    assert_eq!(
        c.call(&["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    let deadline = std::time::Instant::now() + common::PATIENCE;
    while aof.rewriting() {
        assert!(std::time::Instant::now() < deadline, "BGSAVE never ended");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let after = std::fs::metadata(&path).expect("meta").len();
    assert!(after * 10 < before, "{before} -> {after}");
    kv.stop();
    drop(store);
    let (store, opened) = open(&path);
    assert_eq!(opened.keys, 3);
    let kv = Kv::start(Arc::new(store), quiet());
    assert_eq!(kv.conn().call(&["GET", "big"]), bulk("overwritten 1999"));
    kv.stop();

    let mem = Kv::memory();
    assert_eq!(
        mem.conn().call(&["SAVE"]),
        Reply::Error("ERR no append-only file: start the server with --data FILE".into())
    );
}
