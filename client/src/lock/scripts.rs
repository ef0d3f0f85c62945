//! The Lua scripts behind a lock: each one checks and changes the lock's keys in one
//! atomic step on the server (a script runs alone), run by digest through
//! [`Script`](crate::script::Script) (loaded again after `NOSCRIPT`); the query of
//! the holder is sent whole.
//!
//! `KEYS[1]` is the lock's key, holding the holder's random token with the lease as
//! its expiry; `KEYS[2]` (acquisition only) is the fencing counter, which has no
//! expiry and only grows. Both keys share a hash tag (one slot on a cluster).

use crate::error::Result;
use crate::script::Script;
use crate::Client;
use bytes::Bytes;
use std::sync::LazyLock;

/// Sets the key to the token if it does not exist, with the lease (ms) as expiry, and
/// in the same step increments the fencing counter: returns the new fencing token,
/// or 0 when the lock is held (tokens start at 1).
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then \
           return redis.call('INCR', KEYS[2]) \
         end \
         return 0",
    )
});

/// Deletes the key if it holds the token: 1, else 0.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
           return redis.call('DEL', KEYS[1]) \
         end \
         return 0",
    )
});

/// If the key holds the token, sets its expiry to ARGV[2] ms (added to what is left
/// when ARGV[3] is 1) and returns the new expiry in ms; else 0.
static EXTEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) ~= ARGV[1] then \
           return 0 \
         end \
         local ms = tonumber(ARGV[2]) \
         if ARGV[3] == '1' then \
           local left = redis.call('PTTL', KEYS[1]) \
           if left > 0 then ms = ms + left end \
         end \
         redis.call('PEXPIRE', KEYS[1], ms) \
         return ms",
    )
});

/// The token holding the lock now, if any, read by a script so that it is read on
/// the primary whatever the client's read policy (a replica may lag behind it). Sent
/// whole (`EVAL`, a few bytes): on a cluster, loading a script for `EVALSHA` goes to
/// every node, and waits on one that is down, where a query must not.
pub(crate) async fn holder(on: &Client, key: &[u8]) -> Result<Option<Bytes>> {
    let peek = crate::raw_cmd("EVAL")
        .arg("return redis.call('GET', KEYS[1])")
        .arg(1)
        .arg(key);
    on.send(peek.decode::<Option<Bytes>>()).await
}

/// Takes the lock for `token` on `on`: the fencing token, or `None` when it is held.
pub(crate) async fn acquire(
    on: &Client,
    key: &[u8],
    fence_key: &[u8],
    token: &str,
    lease_ms: u64,
) -> Result<Option<u64>> {
    let fence: i64 = ACQUIRE
        .prepare()
        .key(key)
        .key(fence_key)
        .arg(token)
        .arg(lease_ms)
        .invoke(on)
        .await?;
    Ok(u64::try_from(fence).ok().filter(|&f| f > 0))
}

/// Deletes the lock if `token` holds it: whether it did.
pub(crate) async fn release(on: &Client, key: &[u8], token: &str) -> Result<bool> {
    let n: i64 = RELEASE.prepare().key(key).arg(token).invoke(on).await?;
    Ok(n == 1)
}

/// How [`extend`] changes the expiry.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Extension {
    /// To this many ms from now (a full lease again).
    Reset(u64),
    /// By this many ms more than what is left.
    Add(u64),
}

/// Changes the lock's expiry if `token` holds it: the new expiry in ms, or `None`
/// when the lock is not ours.
pub(crate) async fn extend(
    on: &Client,
    key: &[u8],
    token: &str,
    how: Extension,
) -> Result<Option<u64>> {
    let (ms, add) = match how {
        Extension::Reset(ms) => (ms, 0),
        Extension::Add(ms) => (ms, 1),
    };
    let left: i64 = EXTEND
        .prepare()
        .key(key)
        .arg(token)
        .arg(ms)
        .arg(add)
        .invoke(on)
        .await?;
    Ok(u64::try_from(left).ok().filter(|&ms| ms > 0))
}
