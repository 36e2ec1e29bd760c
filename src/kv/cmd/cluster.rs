//! CLUSTER, as Redis 7.0 answers it when not started in cluster mode:
//! every subcommand is in the table with Redis's arity and flags (so
//! `COMMAND INFO`, arity errors and scripts see what Redis shows: `CLUSTER
//! RESET` is `noscript`, so a script gets "This Redis command is not
//! allowed from script"), and every call that gets through is answered
//! "ERR This instance has cluster support disabled". netkit is never a
//! cluster node.

use super::{ADMIN, CommandSpec, Ctx, LOADING, NOSCRIPT, STALE, spec};

const G: &str = "cluster";

/// Redis's reply to any CLUSTER subcommand on a non-cluster instance.
pub const DISABLED: &str = "ERR This instance has cluster support disabled";

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
) -> CommandSpec {
    spec(
        name,
        arity,
        flags,
        (0, 0, 0),
        G,
        since,
        summary,
        syntax,
        disabled,
    )
}

const AS: u32 = ADMIN | STALE;

static CLUSTER_SUBS: &[CommandSpec] = &[
    sub(
        "addslots",
        -3,
        AS,
        "3.0.0",
        "Assign new hash slots to receiving node.",
        "slot [slot ...]",
    ),
    sub(
        "addslotsrange",
        -4,
        AS,
        "7.0.0",
        "Assign new hash slots to receiving node.",
        "start-slot end-slot [start-slot end-slot ...]",
    ),
    sub(
        "bumpepoch",
        2,
        AS,
        "3.0.0",
        "Advance the cluster config epoch.",
        "",
    ),
    sub(
        "count-failure-reports",
        3,
        AS,
        "3.0.0",
        "Return the number of failure reports active for a given node.",
        "node-id",
    ),
    sub(
        "countkeysinslot",
        3,
        STALE,
        "3.0.0",
        "Return the number of local keys in the specified hash slot.",
        "slot",
    ),
    sub(
        "delslots",
        -3,
        AS,
        "3.0.0",
        "Set hash slots as unbound in receiving node.",
        "slot [slot ...]",
    ),
    sub(
        "delslotsrange",
        -4,
        AS,
        "7.0.0",
        "Set hash slots as unbound in receiving node.",
        "start-slot end-slot [start-slot end-slot ...]",
    ),
    sub(
        "failover",
        -2,
        AS,
        "3.0.0",
        "Forces a replica to perform a manual failover of its master.",
        "[FORCE|TAKEOVER]",
    ),
    sub(
        "flushslots",
        2,
        AS,
        "3.0.0",
        "Delete a node's own slots information.",
        "",
    ),
    sub(
        "forget",
        3,
        AS,
        "3.0.0",
        "Remove a node from the nodes table.",
        "node-id",
    ),
    sub(
        "getkeysinslot",
        4,
        STALE,
        "3.0.0",
        "Return local key names in the specified hash slot.",
        "slot count",
    ),
    sub(
        "help",
        2,
        LOADING | STALE,
        "5.0.0",
        "Show helpful text about the different subcommands.",
        "",
    ),
    sub(
        "info",
        2,
        STALE,
        "3.0.0",
        "Provides info about Redis Cluster node state.",
        "",
    ),
    sub(
        "keyslot",
        3,
        STALE,
        "3.0.0",
        "Returns the hash slot of the specified key.",
        "key",
    ),
    sub(
        "links",
        2,
        STALE,
        "7.0.0",
        "Returns a list of all TCP links to and from peer nodes in cluster.",
        "",
    ),
    sub(
        "meet",
        -4,
        AS,
        "3.0.0",
        "Force a node cluster to handshake with another node.",
        "ip port [cluster-bus-port]",
    ),
    sub("myid", 2, STALE, "3.0.0", "Return the node id.", ""),
    sub(
        "nodes",
        2,
        STALE,
        "3.0.0",
        "Get Cluster config for the node.",
        "",
    ),
    sub(
        "replicas",
        3,
        AS,
        "5.0.0",
        "List replica nodes of the specified master node.",
        "node-id",
    ),
    sub(
        "replicate",
        3,
        AS,
        "3.0.0",
        "Reconfigure a node as a replica of the specified master node.",
        "node-id",
    ),
    sub(
        "reset",
        -2,
        AS | NOSCRIPT,
        "3.0.0",
        "Reset a Redis Cluster node.",
        "[HARD|SOFT]",
    ),
    sub(
        "saveconfig",
        2,
        AS,
        "3.0.0",
        "Forces the node to save cluster state on disk.",
        "",
    ),
    sub(
        "set-config-epoch",
        3,
        AS,
        "3.0.0",
        "Set the configuration epoch in a new node.",
        "config-epoch",
    ),
    sub(
        "setslot",
        -4,
        AS,
        "3.0.0",
        "Bind a hash slot to a specific node.",
        "slot IMPORTING node-id|MIGRATING node-id|NODE node-id|STABLE",
    ),
    sub(
        "shards",
        2,
        STALE,
        "7.0.0",
        "Get array of cluster slots to node mappings.",
        "",
    ),
    sub(
        "slaves",
        3,
        AS,
        "3.0.0",
        "List replica nodes of the specified master node.",
        "node-id",
    ),
    sub(
        "slots",
        2,
        STALE,
        "3.0.0",
        "Get array of Cluster slot to node mappings.",
        "",
    ),
];

/// The cluster family: one container.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: CLUSTER_SUBS,
    ..spec(
        "cluster",
        -2,
        0,
        (0, 0, 0),
        G,
        "3.0.0",
        "A container for cluster commands.",
        "INFO|NODES|SLOTS|SHARDS|KEYSLOT|RESET|HELP ...",
        super::no_subcommand,
    )
}];

fn disabled(ctx: &mut Ctx<'_>, _: &[&[u8]]) {
    ctx.out.err(DISABLED);
}
