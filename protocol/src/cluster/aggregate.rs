//! Putting the replies of several nodes back together as one reply frame, by the
//! spec's response policy (`RESPONSE_POLICY` tips), or in the caller's key order for
//! a split command without one (`MGET`). Works on frames, so the caller decodes the
//! result into whatever type it asked for, exactly as from one server.

use crate::command::meta::ResponsePolicy;
use crate::error::{Error, Result};
use crate::resp::{write_array_header, Head, Reader};
use bytes::{Bytes, BytesMut};

/// Whether a reply frame is an error reply.
fn is_error(frame: &Bytes) -> bool {
    matches!(frame.first(), Some(b'-' | b'!'))
}

/// Merges the replies of every node a command went to (`replies`, one per node, at
/// least one) by `policy`:
///
/// - `one_succeeded`: the first reply that is not an error, else the first error;
/// - `all_succeeded`: the first error if there is one, else the first reply;
/// - `agg_logical_and` / `agg_logical_or` / `agg_min` / `agg_max` / `agg_sum`: the
///   integers combined, element by element for arrays of integers (`SCRIPT EXISTS`);
/// - none: arrays (and sets) concatenated (`KEYS`), maps merged; any error fails it;
/// - `special`: every node's reply, as an array in node order.
pub fn merge(policy: Option<ResponsePolicy>, replies: Vec<Bytes>) -> Result<Bytes> {
    let first_error = replies.iter().find(|f| is_error(f)).cloned();
    match policy {
        Some(ResponsePolicy::OneSucceeded) => Ok(replies
            .iter()
            .find(|f| !is_error(f))
            .or(replies.first())
            .cloned()
            .unwrap_or_default()),
        Some(ResponsePolicy::AllSucceeded) => {
            Ok(first_error.unwrap_or_else(|| replies.into_iter().next().unwrap_or_default()))
        }
        Some(ResponsePolicy::Special) => {
            let mut out = BytesMut::new();
            write_array_header(&mut out, replies.len());
            for r in &replies {
                out.extend_from_slice(r);
            }
            Ok(out.freeze())
        }
        _ if first_error.is_some() => Ok(first_error.unwrap_or_default()),
        None => concat(replies),
        Some(op) => combine(op, replies),
    }
}

/// One integer, or an array of integers, read from a frame.
enum Ints {
    One(i64),
    Many(Vec<i64>),
}

fn read_ints(frame: Bytes) -> Result<Ints> {
    let mut r = Reader::new(frame);
    let int = |h: Head| match h {
        Head::Int(i) => Ok(i),
        Head::Bool(b) => Ok(b as i64),
        other => Err(Error::decode("integer replies to aggregate", other.kind())),
    };
    match r.next()? {
        Head::Array(n) | Head::Set(n) => (0..n)
            .map(|_| int(r.next()?))
            .collect::<Result<Vec<_>>>()
            .map(Ints::Many),
        head => int(head).map(Ints::One),
    }
}

/// Combines integer replies with `op`.
fn combine(op: ResponsePolicy, replies: Vec<Bytes>) -> Result<Bytes> {
    let f = |a: i64, b: i64| match op {
        ResponsePolicy::AggLogicalAnd => (a != 0 && b != 0) as i64,
        ResponsePolicy::AggLogicalOr => (a != 0 || b != 0) as i64,
        ResponsePolicy::AggMin => a.min(b),
        ResponsePolicy::AggMax => a.max(b),
        _ => a.saturating_add(b),
    };
    let mut acc: Option<Ints> = None;
    for frame in replies {
        let next = read_ints(frame)?;
        acc = Some(match (acc, next) {
            (None, n) => n,
            (Some(Ints::One(a)), Ints::One(b)) => Ints::One(f(a, b)),
            (Some(Ints::Many(a)), Ints::Many(b)) if a.len() == b.len() => {
                Ints::Many(a.into_iter().zip(b).map(|(a, b)| f(a, b)).collect())
            }
            _ => {
                return Err(Error::decode(
                    "replies of the same shape from every node",
                    "different shapes",
                ))
            }
        });
    }
    let mut out = BytesMut::new();
    let write_int = |out: &mut BytesMut, i: i64| {
        out.extend_from_slice(b":");
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    match acc {
        Some(Ints::One(i)) => write_int(&mut out, i),
        Some(Ints::Many(v)) => {
            write_array_header(&mut out, v.len());
            for i in v {
                write_int(&mut out, i);
            }
        }
        None => write_int(&mut out, 0),
    }
    Ok(out.freeze())
}

/// Concatenates array replies (`KEYS`), merges map replies; a single non-aggregate
/// reply stands for all (they agree: `OK`).
fn concat(replies: Vec<Bytes>) -> Result<Bytes> {
    let mut elements: Vec<Bytes> = Vec::new();
    let mut map = false;
    for frame in &replies {
        let mut r = Reader::new(frame.clone());
        let n = match r.next()? {
            Head::Array(n) | Head::Set(n) => n,
            Head::Map(n) => {
                map = true;
                n * 2
            }
            _ => return Ok(replies.into_iter().next().unwrap_or_default()),
        };
        for _ in 0..n {
            elements.push(r.next_frame()?);
        }
    }
    let mut out = BytesMut::new();
    if map {
        out.extend_from_slice(b"%");
        out.extend_from_slice(itoa::Buffer::new().format(elements.len() / 2).as_bytes());
        out.extend_from_slice(b"\r\n");
    } else {
        write_array_header(&mut out, elements.len());
    }
    for e in elements {
        out.extend_from_slice(&e);
    }
    Ok(out.freeze())
}

/// Merges the replies of every primary to `CLUSTER SLOT-STATS` (`args`: its words,
/// name first) into what one server holding every slot answers: with
/// `ORDERBY <metric> [LIMIT n] [ASC | DESC]`, the entries ordered by the metric
/// (descending unless `ASC`, ties by ascending slot, as the server breaks them) and
/// cut to `n` (without `LIMIT`, every slot, as a node answers with all of its own);
/// with `SLOTSRANGE`, every
/// entry in slot order. An error reply from any node fails it.
pub fn slot_stats(args: &[&[u8]], replies: Vec<Bytes>) -> Result<Bytes> {
    if let Some(e) = replies.iter().find(|f| is_error(f)) {
        return Ok(e.clone());
    }
    let word = |w: &[u8], s: &str| w.eq_ignore_ascii_case(s.as_bytes());
    let order_by = args
        .iter()
        .position(|w| word(w, "ORDERBY"))
        .and_then(|i| args.get(i + 1));
    let limit = args
        .windows(2)
        .find(|w| word(w[0], "LIMIT"))
        .and_then(|w| std::str::from_utf8(w[1]).ok()?.parse::<usize>().ok());
    let ascending = args.iter().any(|w| word(w, "ASC"));
    // (slot, the metric's value, the entry's frame)
    let mut entries: Vec<(i64, i64, Bytes)> = Vec::new();
    for frame in replies {
        let mut r = Reader::new(frame);
        let n = r.next()?.children();
        for _ in 0..n {
            let entry = r.next_frame()?;
            let mut e = Reader::new(entry.clone());
            let shape = || Error::decode("a slot and its statistics", "another shape");
            let (Head::Array(2), Head::Int(slot)) = (e.next()?, e.next()?) else {
                return Err(shape());
            };
            let mut value = 0;
            if let Some(metric) = order_by {
                let pairs = match e.next()? {
                    Head::Map(n) => n,
                    Head::Array(n) => n / 2,
                    _ => return Err(shape()),
                };
                for _ in 0..pairs {
                    let key = match e.next()? {
                        Head::Bulk(k) | Head::Simple(k) => k,
                        _ => return Err(shape()),
                    };
                    match e.next()? {
                        Head::Int(v) if key.eq_ignore_ascii_case(metric) => value = v,
                        _ => {}
                    }
                }
            }
            entries.push((slot, value, entry));
        }
    }
    match order_by {
        Some(_) => {
            entries.sort_by(|a, b| {
                let by_metric = if ascending {
                    a.1.cmp(&b.1)
                } else {
                    b.1.cmp(&a.1)
                };
                by_metric.then(a.0.cmp(&b.0))
            });
            if let Some(limit) = limit {
                entries.truncate(limit);
            }
        }
        None => entries.sort_by_key(|e| e.0),
    }
    let mut out = BytesMut::new();
    write_array_header(&mut out, entries.len());
    for (_, _, frame) in entries {
        out.extend_from_slice(&frame);
    }
    Ok(out.freeze())
}

/// Puts the replies of a split command back together: `replies[i]` answers the part
/// whose keys are `parts[i]` (places among the command's `total` keys). With a
/// response policy the replies are merged by it (`DEL`'s sum, `MSET`'s
/// all-succeeded); without one each reply is an array with one element per key of
/// its part, and the result is one array in the caller's key order (`MGET`).
pub fn reassemble(
    policy: Option<ResponsePolicy>,
    parts: &[Vec<usize>],
    total: usize,
    replies: Vec<Bytes>,
) -> Result<Bytes> {
    if policy.is_some() || replies.iter().any(is_error) {
        return merge(policy, replies);
    }
    let mut slots: Vec<Option<Bytes>> = vec![None; total];
    for (keys, frame) in parts.iter().zip(replies) {
        let mut r = Reader::new(frame);
        let n = r.next()?.children();
        if n != keys.len() {
            return Err(Error::decode(
                "one reply element per key",
                format!("{n} elements for {} keys", keys.len()),
            ));
        }
        for &k in keys {
            if let Some(place) = slots.get_mut(k) {
                *place = Some(r.next_frame()?);
            }
        }
    }
    let mut out = BytesMut::new();
    write_array_header(&mut out, total);
    for e in slots {
        out.extend_from_slice(&e.ok_or_else(|| Error::decode("a reply for every key", "a gap"))?);
    }
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{decode_frame, Value};

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn v(frame: Result<Bytes>) -> Value {
        decode_frame::<Value>(frame.unwrap()).unwrap()
    }

    #[test]
    fn sums_and_logic() {
        let sum = merge(Some(ResponsePolicy::AggSum), vec![b(":3\r\n"), b(":4\r\n")]);
        assert_eq!(v(sum), Value::Int(7));
        let and = merge(
            Some(ResponsePolicy::AggLogicalAnd),
            vec![b("*2\r\n:1\r\n:1\r\n"), b("*2\r\n:1\r\n:0\r\n")],
        );
        assert_eq!(v(and), Value::Array(vec![Value::Int(1), Value::Int(0)]));
        let min = merge(
            Some(ResponsePolicy::AggMin),
            vec![b(":3\r\n"), b(":-1\r\n")],
        );
        assert_eq!(v(min), Value::Int(-1));
    }

    #[test]
    fn errors_and_successes() {
        let err = b("-ERR no\r\n");
        let all = merge(
            Some(ResponsePolicy::AllSucceeded),
            vec![b("+OK\r\n"), err.clone()],
        );
        assert_eq!(all.unwrap(), err);
        let one = merge(
            Some(ResponsePolicy::OneSucceeded),
            vec![err.clone(), b("+OK\r\n")],
        );
        assert_eq!(one.unwrap(), b("+OK\r\n"));
        assert_eq!(merge(None, vec![b("*0\r\n"), err.clone()]).unwrap(), err);
    }

    #[test]
    fn slot_stats_ordered_by_the_metric_and_cut_or_by_slot() {
        let entry = |slot: i64, keys: i64| {
            format!("*2\r\n:{slot}\r\n%2\r\n$9\r\nkey-count\r\n:{keys}\r\n$8\r\ncpu-usec\r\n:7\r\n")
        };
        let node = |e: &[(i64, i64)]| {
            let body: String = e.iter().map(|&(s, k)| entry(s, k)).collect();
            b(&format!("*{}\r\n{body}", e.len()))
        };
        let replies = || {
            vec![
                node(&[(10, 5), (11, 1)]),
                node(&[(9000, 9), (9001, 5)]),
                node(&[(16000, 0)]),
            ]
        };
        let slots = |args: &str| -> Vec<i64> {
            let words: Vec<&[u8]> = args.split(' ').map(str::as_bytes).collect();
            match v(slot_stats(&words, replies())) {
                Value::Array(items) => items
                    .into_iter()
                    .map(|e| match e {
                        Value::Array(pair) => match pair[0] {
                            Value::Int(s) => s,
                            _ => panic!(),
                        },
                        _ => panic!(),
                    })
                    .collect(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            slots("CLUSTER SLOT-STATS ORDERBY KEY-COUNT LIMIT 3"),
            [9000, 10, 9001]
        );
        assert_eq!(
            slots("CLUSTER SLOT-STATS ORDERBY key-count LIMIT 2 ASC"),
            [16000, 11]
        );
        assert_eq!(
            slots("CLUSTER SLOT-STATS SLOTSRANGE 0 16383"),
            [10, 11, 9000, 9001, 16000]
        );
        let err = b("-ERR no\r\n");
        let words: Vec<&[u8]> = vec![b"CLUSTER", b"SLOT-STATS"];
        assert_eq!(
            slot_stats(&words, vec![replies()[0].clone(), err.clone()]).unwrap(),
            err
        );
    }

    #[test]
    fn concatenation_and_key_order() {
        let keys = merge(
            None,
            vec![b("*1\r\n$1\r\na\r\n"), b("*2\r\n$1\r\nb\r\n$1\r\nc\r\n")],
        );
        assert_eq!(
            v(keys),
            Value::Array(vec![
                Value::Bulk(b("a")),
                Value::Bulk(b("b")),
                Value::Bulk(b("c"))
            ])
        );
        let mget = reassemble(
            None,
            &[vec![0, 2], vec![1]],
            3,
            vec![b("*2\r\n$1\r\nx\r\n_\r\n"), b("*1\r\n$1\r\ny\r\n")],
        );
        assert_eq!(
            v(mget),
            Value::Array(vec![Value::Bulk(b("x")), Value::Bulk(b("y")), Value::Nil])
        );
    }
}
