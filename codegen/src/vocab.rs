//! The spec's vocabularies: the words of each closed list (command flags, ACL
//! categories, key-spec flags, documentation groups, command tips and routing
//! policies) that the runtime's metadata types name (`protocol/src/command/meta.rs`).
//!
//! A newer server's tree may use words these lists lack. They never stop the
//! generator: the metadata keeps each as the type's "other" value (the `OTHER` bit of
//! a set of flags, `Group::Other`, the `Special` policy, which the cluster client
//! never guesses about), and [`unknown_words`] reports them as warnings, so the lists
//! (and the runtime's types) can be extended when the word deserves a meaning. The
//! documentation flags and argument types the spec mirror does not know are kept the
//! same way (`DocFlag::Other`, `ArgType::Other`, lowered as a plain string), and
//! so are the JSON keys it does not know (a newer server's argument flags), ignored.

use crate::spec::{ArgSpec, ArgType, BeginSearch, CommandSpec, DocFlag, FindKeys};

/// The command flags `CommandFlags` names.
pub const COMMAND_FLAGS: &[&str] = &[
    "ADMIN",
    "ALL_DBS",
    "ALLOW_BUSY",
    "ASKING",
    "BLOCKING",
    "DENYOOM",
    "FAST",
    "LOADING",
    "MAY_REPLICATE",
    "NO_ASYNC_LOADING",
    "NO_AUTH",
    "NO_MANDATORY_KEYS",
    "NO_MULTI",
    "NOSCRIPT",
    "ONLY_SENTINEL",
    "PROTECTED",
    "PUBSUB",
    "READONLY",
    "SENTINEL",
    "SKIP_MONITOR",
    "SKIP_SLOWLOG",
    "SKIP_COMMANDLOG",
    "STALE",
    "TOUCHES_ARBITRARY_KEYS",
    "WRITE",
];

/// The ACL categories `AclCategories` names.
pub const ACL_CATEGORIES: &[&str] = &[
    "ADMIN",
    "BITMAP",
    "BLOCKING",
    "CONNECTION",
    "DANGEROUS",
    "FAST",
    "GEO",
    "HASH",
    "HYPERLOGLOG",
    "KEYSPACE",
    "LIST",
    "PUBSUB",
    "READ",
    "SCRIPTING",
    "SET",
    "SLOW",
    "SORTEDSET",
    "STREAM",
    "STRING",
    "TRANSACTION",
    "WRITE",
];

/// The key-spec flags `KeySpecFlags` names.
pub const KEY_SPEC_FLAGS: &[&str] = &[
    "RO",
    "RW",
    "OW",
    "RM",
    "ACCESS",
    "INSERT",
    "UPDATE",
    "DELETE",
    "NOT_KEY",
    "INCOMPLETE",
    "VARIABLE_FLAGS",
];

/// The documentation groups `Group` names (as the spec spells them).
pub const GROUPS: &[&str] = &[
    "bitmap",
    "cluster",
    "connection",
    "generic",
    "geo",
    "hash",
    "hyperloglog",
    "list",
    "module",
    "pubsub",
    "scripting",
    "sentinel",
    "server",
    "set",
    "sorted_set",
    "stream",
    "string",
    "transactions",
];

/// The tips `Tips` names (those that are not routing policies).
pub const TIPS: &[&str] = &["NONDETERMINISTIC_OUTPUT", "NONDETERMINISTIC_OUTPUT_ORDER"];

/// The request policies `RequestPolicy` names (`REQUEST_POLICY:...` tips).
pub const REQUEST_POLICIES: &[&str] = &["ALL_NODES", "ALL_SHARDS", "MULTI_SHARD", "SPECIAL"];

/// The response policies `ResponsePolicy` names (`RESPONSE_POLICY:...` tips).
pub const RESPONSE_POLICIES: &[&str] = &[
    "AGG_LOGICAL_AND",
    "AGG_LOGICAL_OR",
    "AGG_MIN",
    "AGG_MAX",
    "AGG_SUM",
    "ALL_SUCCEEDED",
    "ONE_SUCCEEDED",
    "SPECIAL",
];

/// Whether `list` has `word` (the spec's words are compared in upper case, groups as
/// written).
pub fn knows(list: &[&str], word: &str) -> bool {
    list.contains(&word)
}

/// What a tip is, once its vocabulary is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tip<'a> {
    /// `REQUEST_POLICY:<policy>`; `None` for a policy [`REQUEST_POLICIES`] lacks.
    Request(Option<&'a str>),
    /// `RESPONSE_POLICY:<policy>`; `None` for a policy [`RESPONSE_POLICIES`] lacks.
    Response(Option<&'a str>),
    /// One of [`TIPS`].
    Known(&'a str),
    /// Any other tip.
    Other,
}

/// Classifies a tip (upper case).
pub fn tip(t: &str) -> Tip<'_> {
    let known = |list: &[&str], p| knows(list, p).then_some(p);
    if let Some(p) = t.strip_prefix("REQUEST_POLICY:") {
        Tip::Request(known(REQUEST_POLICIES, p))
    } else if let Some(p) = t.strip_prefix("RESPONSE_POLICY:") {
        Tip::Response(known(RESPONSE_POLICIES, p))
    } else if knows(TIPS, t) {
        Tip::Known(t)
    } else {
        Tip::Other
    }
}

/// Every word of the spec files that a vocabulary lacks, one warning each, naming
/// the file, the vocabulary and what the generated code keeps of it.
pub fn unknown_words(specs: &[(String, String, CommandSpec)]) -> Vec<String> {
    let mut out = Vec::new();
    for (file, _, s) in specs {
        let mut note = |what: &str, word: &str, kept: &str| {
            out.push(format!("{file}: unknown {what} `{word}`: {kept}"));
        };
        for key in s.unknown.keys() {
            note("command field", key, "ignored");
        }
        for key in s.key_specs.iter().flat_map(|k| k.unknown.keys()) {
            note("key-spec field", key, "ignored");
        }
        for ks in &s.key_specs {
            if let BeginSearch::Other(form) = &ks.begin_search {
                note(
                    "key-spec form",
                    form,
                    "kept as BeginSearch::Unknown (keys not located)",
                );
            }
            if let FindKeys::Other(form) = &ks.find_keys {
                note(
                    "key-spec form",
                    form,
                    "kept as FindKeys::Unknown (keys not located)",
                );
            }
        }
        for f in &s.command_flags {
            if !knows(COMMAND_FLAGS, &f.to_uppercase()) {
                note("command flag", f, "kept as CommandFlags::OTHER");
            }
        }
        for a in &s.acl_categories {
            if !knows(ACL_CATEGORIES, &a.to_uppercase()) {
                note("ACL category", a, "kept as AclCategories::OTHER");
            }
        }
        for f in s.key_specs.iter().flat_map(|k| &k.flags) {
            if !knows(KEY_SPEC_FLAGS, &f.to_uppercase()) {
                note("key-spec flag", f, "kept as KeySpecFlags::OTHER");
            }
        }
        if !knows(GROUPS, &s.group) {
            note("group", &s.group, "kept as Group::Other");
        }
        for t in &s.command_tips {
            match tip(&t.to_uppercase()) {
                Tip::Request(None) | Tip::Response(None) => {
                    note("routing policy", t, "kept as the Special policy")
                }
                Tip::Other => note("command tip", t, "kept as Tips::OTHER"),
                _ => {}
            }
        }
        for f in &s.doc_flags {
            if let DocFlag::Other(word) = f {
                note("doc flag", word, "ignored (documentation only)");
            }
        }
        let mut args = Vec::new();
        walk(s.arguments.as_deref().unwrap_or_default(), &mut args);
        for a in args {
            for key in a.unknown.keys() {
                let what = format!("argument field (argument `{}`)", a.name);
                note(&what, key, "ignored");
            }
            if let ArgType::Other(word) = &a.kind {
                let kept = if a.arguments.is_empty() {
                    "kept as a string argument"
                } else {
                    "kept as a block of its arguments"
                };
                note(
                    &format!("argument type (argument `{}`)", a.name),
                    word,
                    kept,
                );
            }
        }
    }
    out
}

/// Every argument of `list`, depth first.
fn walk<'a>(list: &'a [ArgSpec], out: &mut Vec<&'a ArgSpec>) {
    for a in list {
        out.push(a);
        walk(&a.arguments, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tips_are_classified_by_their_vocabulary() {
        assert_eq!(
            tip("REQUEST_POLICY:ALL_SHARDS"),
            Tip::Request(Some("ALL_SHARDS"))
        );
        assert_eq!(tip("REQUEST_POLICY:SOMEWHERE_NEW"), Tip::Request(None));
        assert_eq!(
            tip("RESPONSE_POLICY:AGG_SUM"),
            Tip::Response(Some("AGG_SUM"))
        );
        assert_eq!(tip("RESPONSE_POLICY:AGG_NEW"), Tip::Response(None));
        assert_eq!(
            tip("NONDETERMINISTIC_OUTPUT"),
            Tip::Known("NONDETERMINISTIC_OUTPUT")
        );
        assert_eq!(tip("SOMETHING_NEW"), Tip::Other);
    }

    #[test]
    fn the_vendored_spec_uses_no_unknown_word() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/commands");
        let specs = crate::spec::load_dir(std::path::Path::new(dir)).unwrap();
        assert_eq!(unknown_words(&specs), Vec::<String>::new());
    }
}
