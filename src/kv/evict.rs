//! `maxmemory`: before a command runs, a server over its limit evicts keys
//! by its `maxmemory-policy`, as Redis's `performEvictions` does, and
//! reports whether it got back under (else commands that may grow memory
//! are refused with `-OOM`).
//!
//! Used memory is the allocator's count ([`super::memory::used`]). An
//! evicted entry may stay alive until the round commits (the undo list keeps
//! it while the log append is pending), so each eviction counts the entry's
//! own estimated size as freed rather than re-reading the allocator.
//!
//! Candidates are sampled as Redis does (`maxmemory-samples`, 5 per pick):
//! `*-lru` evicts the sampled key idle longest; `*-lfu` the same (netkit
//! keeps no access counts, so LFU falls back to LRU); `*-random` the first
//! sampled; `volatile-ttl` the one expiring soonest. `volatile-*` consider
//! keys with an expiry only, `allkeys-*` every key; each eviction is logged
//! as a delete, counted in INFO's `evicted_keys` and announced as an
//! `evicted` keyspace event.

use std::sync::atomic::Ordering::Relaxed;

use super::cmd::{CommandSpec, Ctx, DENYOOM};

/// The `-OOM` error Redis answers a refused command with.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Keys sampled per eviction (Redis's `maxmemory-samples` default).
const SAMPLES: usize = 5;

/// Random picks tried to find `SAMPLES` candidates before giving up on a
/// database (most keys may be expired or, for `volatile-*`, persistent).
const TRIES: usize = 64;

/// True when memory is under `maxmemory` (0: no limit), after evicting
/// what the policy allows; false when the server stays over it.
pub fn make_room(ctx: &mut Ctx<'_>, maxmemory: u64) -> bool {
    let used = super::memory::used() as u64;
    if maxmemory == 0 || used <= maxmemory {
        return true;
    }
    let policy = ctx.srv.settings().maxmemory_policy;
    if policy == "noeviction" {
        return false;
    }
    let volatile = policy.starts_with("volatile");
    let mut to_free = used - maxmemory;
    while to_free > 0 {
        let Some((db, key)) = pick(ctx, policy, volatile) else {
            return false;
        };
        let size = ctx.ks.space.dbs[db]
            .dict
            .get(&key)
            .map_or(0, |e| key.len() + e.value.mem() + 64) as u64;
        ctx.ks.evict(db, &key);
        to_free = to_free.saturating_sub(size.max(1));
    }
    true
}

/// The key to evict next, from the databases in turn (Redis samples each).
fn pick(ctx: &mut Ctx<'_>, policy: &str, volatile: bool) -> Option<(usize, Vec<u8>)> {
    let dbs = ctx.ks.space.dbs.len();
    let mut best: Option<(u64, usize, Vec<u8>)> = None;
    for db in 0..dbs {
        let d = &ctx.ks.space.dbs[db];
        if d.dict.is_empty() || (volatile && d.expires == 0) {
            continue;
        }
        let mut found = 0;
        for _ in 0..TRIES {
            if found == SAMPLES {
                break;
            }
            let space = &mut *ctx.ks.space;
            let mut seed = space.rand();
            let Some((k, e)) = space.dbs[db].dict.random(|| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            }) else {
                break;
            };
            if volatile && e.expires_at == 0 {
                continue;
            }
            found += 1;
            // Lower is evicted first.
            let rank = if policy == "volatile-ttl" {
                e.expires_at
            } else if policy.ends_with("random") {
                0
            } else {
                u64::from(e.access)
            };
            if best.as_ref().is_none_or(|(r, _, _)| rank < *r) {
                best = Some((rank, db, k.to_vec()));
            }
            if policy.ends_with("random") {
                break;
            }
        }
        if found == 0 {
            // Sampling missed (few keys qualify): look through the database.
            let hit = ctx.ks.space.dbs[db]
                .dict
                .iter()
                .find(|(_, e)| !volatile || e.expires_at != 0)
                .map(|(k, e)| (u64::from(e.access), k.to_vec()));
            if let Some((rank, k)) = hit {
                if best.as_ref().is_none_or(|(r, _, _)| rank < *r) {
                    best = Some((rank, db, k));
                }
            }
        }
        if best.is_some() && policy.ends_with("random") {
            break;
        }
    }
    best.map(|(_, db, k)| (db, k))
}

/// Redis's `processCommand` memory check, before `spec` runs (with a
/// `maxmemory` of `max`, not 0): evict what the policy allows, then refuse
/// a command that may grow memory (and, inside MULTI, any command but EXEC,
/// DISCARD, QUIT and RESET; EXEC when it queued one that may) while still
/// over the limit. Commands run by EXEC are not checked again. (A script's
/// `redis.call` is refused a memory-growing command when the server was
/// over its limit as the script started: `script::run`.) True when the
/// command may run.
pub fn admit(ctx: &mut Ctx<'_>, spec: &CommandSpec, in_multi: bool, max: u64) -> bool {
    if ctx.ks.depth() > 0 {
        return true;
    }
    let out_of_memory = !make_room(ctx, max);
    let exec = spec.name == "exec";
    let reject = spec.flags & DENYOOM != 0
        || (exec
            && ctx
                .sess
                .multi
                .as_deref()
                .is_some_and(|q| super::cmd::transactions::queued_any(q, DENYOOM)))
        || (in_multi && !matches!(spec.name, "exec" | "discard" | "quit" | "reset"));
    // Evictions were announced: tell tracking clients, then publish the
    // keyspace events, now, before any reply (Redis's order).
    if ctx.ks.space.tracking.has_pending() {
        super::cmd::tracking::flush(ctx);
    }
    if ctx.ks.space.notify.has_pending() {
        let at = ctx.out.buf.len();
        super::notify::flush(ctx, at);
    }
    if !(out_of_memory && reject) {
        return true;
    }
    if exec {
        super::cmd::transactions::reset_multi(ctx);
        ctx.out.err(&format!(
            "EXECABORT Transaction discarded because of: {OOM}"
        ));
    } else {
        ctx.out.err(OOM);
        if in_multi {
            ctx.sess.multi_error = true;
        }
    }
    false
}

/// True when memory is over `maxmemory` now (0: never): a script starting
/// then may not run commands that grow memory.
pub fn over_limit(ctx: &Ctx<'_>) -> bool {
    let max = ctx.srv.maxmemory.load(Relaxed);
    max != 0 && super::memory::used() as u64 > max
}
