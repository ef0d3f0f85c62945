//! Splitting a multi-key command whose keys span slots (`request_policy:multi_shard`:
//! `MGET`, `MSET`, `MSETEX`, `DEL`, `EXISTS`, `TOUCH`, `UNLINK`) into one command per
//! slot, from its key specification: each key takes the arguments that follow it up
//! to the next key (`MSET`'s value), the words before the first key and after the
//! last key's arguments go to every part, and a key count (`MSETEX numkeys`) is
//! rewritten for each part.

use super::slot::slot;
use crate::command::meta::{BeginSearch, CommandMeta, FindKeys};
use crate::command::CommandBuf;
use crate::error::{Error, Result};

/// One slot's share of a split command.
#[derive(Debug, Clone)]
pub struct Part {
    /// The slot of its keys.
    pub slot: u16,
    /// The places of its keys among the whole command's keys (0 is the first key),
    /// in order: where each of its per-key replies goes back.
    pub keys: Vec<usize>,
    /// The command for this slot.
    pub cmd: CommandBuf,
}

/// Where the words of a splittable command are.
struct Layout {
    /// The words each key takes: itself and what follows it (`MSET`'s value).
    step: usize,
    /// The index of the key count (`MSETEX numkeys`), rewritten for each part.
    count_at: Option<usize>,
    /// The index of the first key.
    first: usize,
    /// The index of the first word after the last key's (its options: `NX EX 10`).
    options: usize,
}

/// The [`Layout`] of the command whose words are `args` and whose keys are at
/// `keys`, when its one key specification says how to split it.
fn layout(meta: &CommandMeta, args: &[&[u8]], keys: &[usize]) -> Option<Layout> {
    let [spec] = meta.key_specs else {
        return None;
    };
    let (step, count_at) = match (spec.find_keys, spec.begin_search) {
        (FindKeys::Range { step, .. }, _) => (step.max(1), None),
        (
            FindKeys::Keynum {
                keynumidx, step, ..
            },
            BeginSearch::Index(begin),
        ) => (step.max(1), Some(begin + keynumidx)),
        _ => return None,
    };
    let (&first, &last) = (keys.first()?, keys.last()?);
    if keys.windows(2).any(|w| w[1] != w[0] + step) || last + step > args.len() {
        return None;
    }
    Some(Layout {
        step,
        count_at,
        first,
        options: last + step,
    })
}

/// The option among the words after the keys of a `request_policy:multi_shard`
/// command that makes it unsplittable ([`CommandMeta::no_split_with`]: `MSETEX`'s
/// `NX`), if one is given; `keys` are the places of its keys in `args`.
pub(super) fn unsplittable_option(
    meta: &CommandMeta,
    args: &[&[u8]],
    keys: &[usize],
) -> Option<&'static str> {
    if meta.no_split_with.is_empty() {
        return None;
    }
    let options = &args[layout(meta, args, keys)?.options..];
    options.iter().find_map(|word| {
        meta.no_split_with
            .iter()
            .copied()
            .find(|token| word.eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// Splits the command whose words are `args` (name first) into one [`Part`] per slot
/// of its keys, in the order each slot first appears.
pub fn split(meta: &CommandMeta, args: &[&[u8]]) -> Result<Vec<Part>> {
    let cannot = || {
        Error::cross_slot(
            "its keys hash to different slots, and its key specification does not say how to split it; give the keys a common hash tag. Nothing was sent"
                .to_owned(),
        )
    };
    let keys = meta.key_indices(args);
    let Some(Layout {
        step,
        count_at,
        first,
        options,
    }) = layout(meta, args, &keys)
    else {
        return Err(cannot());
    };
    let prefix = &args[..first];
    let suffix = &args[options..];
    let mut parts: Vec<(u16, Vec<usize>)> = Vec::new();
    for (n, &at) in keys.iter().enumerate() {
        let s = slot(args[at]);
        match parts.iter_mut().find(|(p, _)| *p == s) {
            Some((_, ks)) => ks.push(n),
            None => parts.push((s, vec![n])),
        }
    }
    Ok(parts
        .into_iter()
        .map(|(s, ks)| {
            let mut cmd = CommandBuf::raw(prefix[0]);
            for (i, word) in prefix.iter().enumerate().skip(1) {
                match count_at {
                    Some(c) if c == i => cmd.push(itoa::Buffer::new().format(ks.len()).as_bytes()),
                    _ => cmd.push(word),
                }
            }
            for &k in &ks {
                let at = keys[k];
                for word in &args[at..at + step] {
                    cmd.push(word);
                }
            }
            for word in suffix {
                cmd.push(word);
            }
            Part {
                slot: s,
                keys: ks,
                cmd,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::meta::lookup;

    fn split_words(cmd: &str) -> Vec<(u16, Vec<usize>, String)> {
        let args: Vec<&[u8]> = cmd.split(' ').map(str::as_bytes).collect();
        let meta = lookup(cmd.split(' ').next().unwrap()).unwrap();
        split(meta, &args)
            .unwrap()
            .into_iter()
            .map(|p| {
                let words: Vec<String> = p
                    .cmd
                    .iter()
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect();
                (p.slot, p.keys, words.join(" "))
            })
            .collect()
    }

    #[test]
    fn mget_and_del_split_by_slot_keeping_key_order() {
        let parts = split_words("MGET {a}1 {b}1 {a}2 {c}1 {b}2");
        let cmds: Vec<&str> = parts.iter().map(|p| p.2.as_str()).collect();
        assert_eq!(cmds, ["MGET {a}1 {a}2", "MGET {b}1 {b}2", "MGET {c}1"]);
        let keys: Vec<&[usize]> = parts.iter().map(|p| p.1.as_slice()).collect();
        assert_eq!(keys, [&[0, 2][..], &[1, 4], &[3]]);
        assert_eq!(parts[0].0, slot(b"a"));
        let parts = split_words("DEL {a}1 {b}1");
        assert_eq!(parts.len(), 2);
    }

    #[test]
    fn values_follow_their_keys_and_counts_are_rewritten() {
        let parts = split_words("MSET {a}1 v1 {b}1 v2 {a}2 v3");
        let cmds: Vec<&str> = parts.iter().map(|p| p.2.as_str()).collect();
        assert_eq!(cmds, ["MSET {a}1 v1 {a}2 v3", "MSET {b}1 v2"]);
        let parts = split_words("MSETEX 3 {a}1 v1 {b}1 v2 {a}2 v3 EX 10");
        let cmds: Vec<&str> = parts.iter().map(|p| p.2.as_str()).collect();
        assert_eq!(
            cmds,
            ["MSETEX 2 {a}1 v1 {a}2 v3 EX 10", "MSETEX 1 {b}1 v2 EX 10"]
        );
    }
}
