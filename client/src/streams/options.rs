//! The checks the reader's and the group consumer's options share, made before
//! anything is sent, and their defaults.

use super::error::StreamError;
use bytes::Bytes;
use std::time::Duration;

/// The default longest wait of one blocking read (`BLOCK`): 2 s.
pub const DEFAULT_BLOCK: Duration = Duration::from_secs(2);
/// The default most entries one read returns per stream (`COUNT`): 100.
pub const DEFAULT_COUNT: u64 = 100;

/// `d` in whole milliseconds, or the error naming `arg` of `consumer` (zero, a
/// fraction of a millisecond, more than the server can count).
pub(super) fn millis(consumer: &str, arg: &'static str, d: Duration) -> Result<u64, StreamError> {
    crate::config::whole_millis(d).map_err(|problem| StreamError::invalid(consumer, arg, problem))
}

/// The block time in milliseconds: a zero one would make the server wait forever,
/// past every claim and without noticing a dead connection.
pub(super) fn block(consumer: &str, d: Duration) -> Result<u64, StreamError> {
    if d.is_zero() {
        return Err(StreamError::invalid(
            consumer,
            "block",
            "is zero, which the server takes as \"wait forever\" (give the longest wait of one read, at least 1 ms; the consumer reads again after it)",
        ));
    }
    millis(consumer, "block", d)
}

/// A count of at least one.
pub(super) fn count(consumer: &str, n: u64) -> Result<u64, StreamError> {
    if n == 0 {
        return Err(StreamError::invalid(
            consumer,
            "count",
            "is zero (it must be at least 1)",
        ));
    }
    Ok(n)
}

/// `key` as the consumer's `Display` names it.
pub(super) fn shown(key: &[u8]) -> String {
    format!("`{}`", String::from_utf8_lossy(key))
}

/// The one slot the keys share on a cluster client, or the error: one read runs on
/// one node.
pub(super) fn one_slot(consumer: &str, keys: &[Bytes]) -> Result<(), StreamError> {
    let mut slots = keys.iter().map(|k| respec_protocol::cluster::slot(k));
    let Some(first) = slots.next() else {
        return Ok(());
    };
    match slots.find(|&s| s != first) {
        None => Ok(()),
        Some(other) => Err(StreamError::invalid(
            consumer,
            "streams",
            format!("hash to different slots ({first} and {other}) of the cluster, and one read runs on one node: give the keys a common hash tag (`orders:{{shop}}`, `refunds:{{shop}}`) or use one reader per stream"),
        )),
    }
}
