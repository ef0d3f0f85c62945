//! Which node or nodes of a cluster a command goes to, from its metadata: the slot
//! of its keys (key specifications, hash tags included), or the spec's request
//! policy for keyless and multi-key commands.

use super::slot::slot;
use crate::command::meta::{CommandMeta, RequestPolicy, ResponsePolicy};
use crate::error::{Error, Result};

/// Where a command runs on a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The node that serves this slot. `read_only`: the command only reads, so a
    /// replica may serve it when the read policy allows.
    Slot {
        /// The slot of every key.
        slot: u16,
        /// The command only reads.
        read_only: bool,
    },
    /// Any one node: a keyless command with no request policy (`PING`, `INFO`,
    /// `CLUSTER SHARDS`), or one the spec does not know (a module's: if it has keys
    /// on another node, the node redirects it).
    Any,
    /// Every primary (`request_policy:all_shards`): `DBSIZE`, `KEYS`, `FLUSHALL`,
    /// `FUNCTION LOAD`; the replies are merged by the response policy.
    AllPrimaries(Option<ResponsePolicy>),
    /// Every node, replicas too (`request_policy:all_nodes`): `CONFIG SET`,
    /// `SCRIPT LOAD`, `SCRIPT FLUSH`.
    AllNodes(Option<ResponsePolicy>),
    /// A command whose request or response policy is `special`: handled by name
    /// (`SCAN`'s cursor belongs to one node; `RANDOMKEY` asks every primary; the
    /// per-node diagnostics `INFO`, `MEMORY STATS`, `LATENCY LATEST` ...).
    Special(&'static str),
    /// Keys in several slots of a command the spec lets a client split
    /// (`request_policy:multi_shard`: `MGET`, `MSET`, `DEL`, `EXISTS`): one part per
    /// slot ([`split()`](super::split())), merged by the response policy, or in the
    /// caller's key order.
    Split(Option<ResponsePolicy>),
}

/// Where the command whose words are `args` (its name first) and whose metadata is
/// `meta` (`None`: a command the spec does not know) runs on a cluster.
///
/// A multi-key command the spec does not let a client split (`MSETNX`, `RENAME`,
/// `SINTERSTORE`, a script's keys) whose keys hash to different slots is refused
/// here, before anything is sent, with an error naming the slots and the hash-tag
/// remedy ([`Error::is_cross_slot`]); so is a multi-shard command given an option
/// that makes it a condition on all its keys at once (`MSETEX ... NX`:
/// [`CommandMeta::no_split_with`]).
pub fn target(meta: Option<&CommandMeta>, args: &[&[u8]]) -> Result<Target> {
    let Some(meta) = meta else {
        return Ok(Target::Any);
    };
    if meta.request_policy == Some(RequestPolicy::Special)
        || meta.response_policy == Some(ResponsePolicy::Special)
    {
        return Ok(Target::Special(meta.name));
    }
    match meta.request_policy {
        Some(RequestPolicy::AllShards) => return Ok(Target::AllPrimaries(meta.response_policy)),
        Some(RequestPolicy::AllNodes) => return Ok(Target::AllNodes(meta.response_policy)),
        _ => {}
    }
    let keys = meta.key_indices(args);
    let Some((&first, rest)) = keys.split_first() else {
        return Ok(Target::Any);
    };
    let first_slot = slot(args[first]);
    let Some(&other) = rest.iter().find(|&&i| slot(args[i]) != first_slot) else {
        return Ok(Target::Slot {
            slot: first_slot,
            read_only: meta.is_readonly(),
        });
    };
    let condition = super::split::unsplittable_option(meta, args, &keys);
    if meta.request_policy == Some(RequestPolicy::MultiShard) && condition.is_none() {
        return Ok(Target::Split(meta.response_policy));
    }
    let why = match condition {
        Some(token) => format!(
            "with {token} it writes every key or none, by the state of all of them, which parts split by slot and run on several nodes cannot honour"
        ),
        None => "a cluster runs it only when they share one".to_owned(),
    };
    Err(Error::cross_slot(format!(
        "its keys hash to different slots ({} for `{}`, {} for `{}`), and {why}; give the keys a common hash tag (`{{user1}}:a`, `{{user1}}:b`) to put them in one slot. Nothing was sent",
        first_slot,
        String::from_utf8_lossy(args[first]),
        slot(args[other]),
        String::from_utf8_lossy(args[other]),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::meta::lookup;

    fn words(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(str::as_bytes).collect()
    }

    fn t(s: &str) -> Result<Target> {
        let args = words(s);
        target(crate::command::meta::lookup_args(&args), &args)
    }

    #[test]
    fn keys_give_the_slot() {
        assert_eq!(
            t("GET foo").unwrap(),
            Target::Slot {
                slot: 12182,
                read_only: true
            }
        );
        assert_eq!(
            t("SET foo 1").unwrap(),
            Target::Slot {
                slot: 12182,
                read_only: false
            }
        );
        // Same hash tag: one slot, even for a command that cannot be split.
        assert!(matches!(
            t("RENAME {a}x {a}y").unwrap(),
            Target::Slot { .. }
        ));
        assert!(matches!(t("MGET {a}x {a}y").unwrap(), Target::Slot { .. }));
    }

    #[test]
    fn tips_route_keyless_and_multi_key_commands() {
        assert_eq!(
            t("DBSIZE").unwrap(),
            Target::AllPrimaries(Some(ResponsePolicy::AggSum))
        );
        assert_eq!(t("KEYS *").unwrap(), Target::AllPrimaries(None));
        assert!(matches!(t("CONFIG SET a b").unwrap(), Target::AllNodes(_)));
        assert_eq!(t("ECHO hi").unwrap(), Target::Any);
        assert_eq!(t("SCAN 0").unwrap(), Target::Special("SCAN"));
        assert_eq!(t("INFO").unwrap(), Target::Special("INFO"));
        assert_eq!(
            t("PING").unwrap(),
            Target::AllPrimaries(Some(ResponsePolicy::AllSucceeded))
        );
        assert_eq!(t("MGET a b").unwrap(), Target::Split(None));
        assert_eq!(
            t("DEL a b").unwrap(),
            Target::Split(Some(ResponsePolicy::AggSum))
        );
        assert!(matches!(t("MSET a 1 b 2").unwrap(), Target::Split(_)));
        assert!(lookup("MSETNX").is_some());
        // Unconditional, or a value that reads like the condition: split.
        assert!(matches!(
            t("MSETEX 2 a 1 b 2 EX 10").unwrap(),
            Target::Split(_)
        ));
        assert!(matches!(t("MSETEX 2 a NX b XX").unwrap(), Target::Split(_)));
        // Conditional in one slot: runs there.
        assert!(matches!(
            t("MSETEX 2 {a}1 x {a}2 y NX").unwrap(),
            Target::Slot { .. }
        ));
    }

    #[test]
    fn unsplittable_keys_in_two_slots_are_refused_before_sending() {
        for cmd in [
            "MSETNX a 1 b 2",
            "RENAME a b",
            "SINTERSTORE d a b",
            "MSETEX 2 a 1 b 2 NX",
            "msetex 2 a 1 b 2 EX 10 xx",
        ] {
            let err = t(cmd).unwrap_err();
            assert!(err.is_cross_slot(), "{cmd}: {err}");
            assert!(err.is_unsent(), "{cmd}: {err}");
            let text = err.to_string();
            assert!(
                text.contains("hash tag") && text.contains("different slots"),
                "{text}"
            );
        }
    }
}
