//! A user's rules written back as `ACL SETUSER` would take them (`ACL
//! LIST`, `ACL GETUSER`), with Redis's algorithm: start from `+@all` or
//! `-@all`, apply the best-fitting categories while they fit, then single
//! commands for the rest. netkit's table is smaller than Redis's, so a
//! complex rule set may be written with other (equivalent) rules than
//! Redis would write.

use super::cats::{NAMES, table};
use super::rules::Perms;

fn count(p: &Perms, cat: u32) -> (usize, usize) {
    let t = table();
    let (mut on, mut off) = (0, 0);
    for (id, e) in t.entries.iter().enumerate() {
        if e.cats & cat != 0 {
            if p.allows(id) {
                on += 1;
            } else {
                off += 1;
            }
        }
    }
    (on, off)
}

/// The command part: `+@all`, `-@all +get`, `+@all -@dangerous`...
pub fn command_rules(p: &Perms) -> String {
    let additive = !p.future;
    let mut rules = vec![if additive { "-@all" } else { "+@all" }.to_string()];
    let mut fake = Perms::new();
    let _ = fake.apply(if additive { b"-@all" } else { b"+@all" });
    let mut temp = p.clone();
    let mut applied = [false; NAMES.len()];
    loop {
        let mut best = None;
        let (mut mindiff, mut maxsame) = (usize::MAX, 0);
        for (j, done) in applied.iter().enumerate() {
            if *done {
                continue;
            }
            let (on, off) = count(&temp, 1 << j);
            let (diff, same) = if additive { (off, on) } else { (on, off) };
            if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                best = Some(j);
                mindiff = diff;
                maxsame = same;
            }
        }
        let Some(j) = best else { break };
        fake.change_category(1 << j, additive);
        temp.change_category(1 << j, !additive);
        rules.push(format!("{}@{}", if additive { '+' } else { '-' }, NAMES[j]));
        applied[j] = true;
    }
    for (id, e) in table().entries.iter().enumerate() {
        let want = p.allows(id);
        if want != fake.allows(id) {
            rules.push(format!("{}{}", if want { '+' } else { '-' }, e.fullname));
            fake.change(id, want);
        }
    }
    rules.join(" ")
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `~a ~b` (`~*` for allkeys; empty for none).
pub fn keys(p: &Perms) -> String {
    if p.allkeys {
        return "~*".into();
    }
    let v: Vec<String> = p.keys.iter().map(|k| format!("~{}", lossy(k))).collect();
    v.join(" ")
}

/// `&a &b` (`&*` for allchannels; empty for none).
pub fn channels(p: &Perms) -> String {
    if p.allchannels {
        return "&*".into();
    }
    let v: Vec<String> = p
        .channels
        .iter()
        .map(|k| format!("&{}", lossy(k)))
        .collect();
    v.join(" ")
}

/// The flags `ACL GETUSER` lists.
pub fn flags(p: &Perms) -> Vec<&'static str> {
    let mut v = vec![if p.enabled { "on" } else { "off" }];
    if p.nopass {
        v.push("nopass");
    }
    if p.sanitize {
        v.push("sanitize-payload");
    }
    v
}

/// One `ACL LIST` line: `user NAME on nopass ~* &* +@all`.
pub fn line(name: &str, p: &Perms) -> String {
    let mut parts = vec!["user".to_string(), name.to_string()];
    parts.extend(flags(p).iter().map(|s| s.to_string()));
    parts.extend(p.passwords.iter().map(|h| format!("#{h}")));
    let k = keys(p);
    if !k.is_empty() {
        parts.push(k);
    }
    if p.allchannels {
        parts.push("&*".into());
    } else {
        parts.push("resetchannels".into());
        let c = channels(p);
        if !c.is_empty() {
            parts.push(c);
        }
    }
    parts.push(command_rules(p));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(rules: &[&str]) -> Perms {
        let mut p = Perms::new();
        for r in rules {
            p.apply(r.as_bytes()).expect(r);
        }
        p
    }

    #[test]
    fn lines_as_redis_writes_them() {
        assert_eq!(
            line("default", &Perms::everything()),
            "user default on nopass ~* &* +@all"
        );
        assert_eq!(
            line("u2", &perms(&["-@all", "+get", "~k*", "&ch"])),
            "user u2 off ~k* resetchannels &ch -@all +get"
        );
        assert_eq!(
            line("u4", &perms(&["+@all", "-@dangerous"])),
            "user u4 off resetchannels +@all -@dangerous"
        );
    }

    #[test]
    fn rules_written_back_give_the_same_permissions() {
        for rules in [
            &["+@all", "-@write", "+set", "-config|get"][..],
            &["-@all", "+@read", "-get", "+config"],
            &["+@hash", "+@list", "-lpush", "+client|id"],
        ] {
            let p = perms(rules);
            let mut again = Perms::new();
            for r in command_rules(&p).split(' ') {
                again.apply(r.as_bytes()).expect(r);
            }
            assert_eq!(again.allowed, p.allowed, "{rules:?}");
        }
    }
}
