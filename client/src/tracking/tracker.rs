//! [`Tracker`]: the cache of one connection, shared by the client's callers (who
//! read it, and reserve and fill entries) and the connection's driver (which
//! invalidates it and flushes it), and the [`Fill`] a cacheable read carries.

use super::options::TrackingOptions;
use super::store::{Store, TrackingStats};
use crate::command::meta::{CommandFlags, FindKeys, KeySpecFlags, Tips};
use crate::command::CommandBuf;
use crate::command::{CommandMeta, Request, Route};
use bytes::{Bytes, BytesMut};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

thread_local! {
    /// Where a read's wire form is made to look it up in a cache.
    static WIRE: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// The most a thread's scratch buffer keeps between reads.
const SCRATCH_KEPT: usize = 4096;

/// The cache of one connection (see the module docs).
pub(crate) struct Tracker {
    options: TrackingOptions,
    store: Mutex<Store>,
    /// RESP2: the invalidation connection's client id, for `REDIRECT`.
    redirect: Mutex<Redirect>,
    /// The data connection must send `CLIENT TRACKING ON REDIRECT` again (the
    /// invalidation connection was made again, with a new id).
    renew: AtomicBool,
}

#[derive(Default)]
struct Redirect {
    id: Option<i64>,
    /// The data connection's driver, woken to renew tracking.
    waker: Option<Waker>,
}

/// What to do with a request.
pub(crate) enum Plan {
    /// Its reply, from the cache.
    Hit(Bytes),
    /// Send it, and store its reply through this.
    Fill(Fill),
    /// Send it.
    Send,
    /// Refuse it, with this advice.
    Refuse(&'static str),
}

/// Whether the replies of a command may be cached, from its metadata: a read-only
/// command with one key specification, of exactly one key whose data it returns
/// (`RO` and `ACCESS`: `GET`, `HGETALL`, `LRANGE`; not `STRLEN` nor `LLEN`, which the
/// spec flags as it flags `TTL`), with a deterministic output (not `TTL`, nor
/// `HTTL`, which `spec/overrides.toml` tips as the spec tips `TTL`), that runs on the
/// shared connection.
pub(crate) fn cacheable(meta: &CommandMeta) -> bool {
    let [spec] = meta.key_specs else {
        return false;
    };
    meta.flags.contains(CommandFlags::READONLY)
        && !meta.flags.contains(CommandFlags::BLOCKING)
        && !meta.custom_key_lookup
        && meta.route == Route::Shared
        && !meta.tips.contains(Tips::NONDETERMINISTIC_OUTPUT)
        && spec.flags.contains(KeySpecFlags::RO | KeySpecFlags::ACCESS)
        && !spec.flags.contains(KeySpecFlags::NOT_KEY)
        && matches!(spec.find_keys, FindKeys::Range { lastkey: 0, .. })
}

impl Tracker {
    pub(crate) fn new(options: TrackingOptions) -> Self {
        Tracker {
            store: Mutex::new(Store::new(&options)),
            options,
            redirect: Mutex::new(Redirect::default()),
            renew: AtomicBool::new(false),
        }
    }

    pub(crate) fn options(&self) -> &TrackingOptions {
        &self.options
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decides what to do with a request about to be sent: a cacheable read is
    /// served from the cache or reserves its entry; a write of keys drops what is
    /// cached of them first (read-your-writes, without waiting for the server's
    /// invalidation, which comes after the write's reply).
    pub(crate) fn plan(self: &Arc<Self>, req: &Request<'_>) -> Plan {
        let Some(meta) = req.meta else {
            return Plan::Send;
        };
        if meta.name == "CLIENT TRACKING" {
            // Turning it off (or redirecting it) would leave the cache unaware.
            return Plan::Refuse(
                "client-side caching owns CLIENT TRACKING on this client's shared connection; use a Client without client_side_cache, or a connection of your own (Client::dedicated)",
            );
        }
        let read = cacheable(meta);
        if !read && !meta.flags.contains(CommandFlags::WRITE) {
            return Plan::Send;
        }
        let args = req.buf.words();
        let keys = meta.key_indices(&args);
        if !read {
            let mut store = self.store();
            for &i in &keys {
                store.invalidate(args[i]);
            }
            return Plan::Send;
        }
        let [i] = keys[..] else {
            return Plan::Send;
        };
        if !self.options.covers(args[i]) {
            return Plan::Send;
        }
        let (wire, mut store) = match self.look_up(req.buf) {
            Ok(frame) => return Plan::Hit(frame),
            Err(miss) => miss,
        };
        // (Copied only on a miss: a hit allocates nothing more than the wire form.)
        let key = Bytes::copy_from_slice(args[i]);
        match store.reserve(&key) {
            Some(id) => Plan::Fill(Fill {
                tracker: self.clone(),
                wire,
                key,
                id,
                done: false,
            }),
            None => Plan::Send,
        }
    }

    /// The cached reply of `buf`; else its wire form (the cache's key for it), with
    /// the store still locked. A hit allocates nothing: the wire form is made in
    /// this thread's scratch buffer, and copied out only on a miss.
    fn look_up(&self, buf: &CommandBuf) -> Result<Bytes, (Bytes, MutexGuard<'_, Store>)> {
        let scratch = WIRE.try_with(|wire| {
            let mut wire = wire.borrow_mut();
            wire.clear();
            buf.encode(&mut wire);
            let mut store = self.store();
            let found = match store.get(&wire) {
                Some(frame) => Ok(frame),
                None => Err((Bytes::copy_from_slice(&wire), store)),
            };
            // A command with large arguments does not keep its size here.
            if wire.capacity() > SCRATCH_KEPT {
                *wire = BytesMut::new();
            }
            found
        });
        // (The thread is exiting: no scratch buffer.)
        scratch.unwrap_or_else(|_| {
            let wire = buf.to_bytes();
            let mut store = self.store();
            store.get(&wire).ok_or((wire, store))
        })
    }

    /// The server reports these keys changed (`None`: every key).
    pub(crate) fn invalidate(&self, keys: Option<&[Bytes]>) {
        let mut store = self.store();
        match keys {
            Some(keys) => keys.iter().for_each(|k| store.invalidate(k)),
            // A flush keeps tracking on: a `FLUSHALL` does not turn it off.
            None => {
                let ready = store.is_ready();
                store.flush(ready);
            }
        }
    }

    /// Empties the cache; nothing is stored nor served until tracking is
    /// confirmed again ([`tracking_on`](Self::tracking_on)).
    pub(crate) fn flush(&self) {
        self.store().flush(false);
    }

    /// The server confirmed `CLIENT TRACKING ON` sent with `redirect`: from now on
    /// reads may be cached, unless the invalidation connection changed since.
    pub(crate) fn tracking_on(&self, redirect: Option<i64>) {
        if redirect.is_some() && redirect != self.redirect_id() {
            return;
        }
        self.store().tracking_on();
    }

    pub(crate) fn stats(&self) -> TrackingStats {
        self.store().stats()
    }

    /// The invalidation connection's client id (RESP2).
    pub(crate) fn redirect_id(&self) -> Option<i64> {
        self.redirect.lock().unwrap_or_else(|e| e.into_inner()).id
    }

    /// The invalidation connection is (re)made with client id `id` (or lost:
    /// `None`): the cache is flushed (invalidations may have been missed) and the
    /// data connection asked to redirect its tracking there.
    pub(crate) fn set_redirect(&self, id: Option<i64>) {
        self.flush();
        let waker = {
            let mut r = self.redirect.lock().unwrap_or_else(|e| e.into_inner());
            r.id = id;
            if id.is_some() {
                self.renew.store(true, Ordering::Release);
            }
            r.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// For the data connection: the id to redirect tracking to, if it must be sent
    /// again; else registers `waker` for when it must.
    pub(crate) fn take_renew(&self, waker: &Waker) -> Option<i64> {
        if self.renew.swap(false, Ordering::AcqRel) {
            return self.redirect_id();
        }
        let mut r = self.redirect.lock().unwrap_or_else(|e| e.into_inner());
        if !r.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            r.waker = Some(waker.clone());
        }
        None
    }

    /// Clears a pending renewal (the connection's handshake sends it anyway).
    pub(crate) fn clear_renew(&self) {
        self.renew.store(false, Ordering::Release);
    }
}

/// A cacheable read in flight: its placeholder in the cache, filled with its reply
/// if it is still valid then, forgotten if the read ends otherwise.
pub(crate) struct Fill {
    tracker: Arc<Tracker>,
    wire: Bytes,
    key: Bytes,
    id: u64,
    done: bool,
}

impl Fill {
    /// The read's reply arrived: stored unless it is an error.
    pub(crate) fn complete(mut self, frame: &[u8]) {
        self.done = true;
        let mut store = self.tracker.store();
        match frame.first() {
            Some(b'-' | b'!') | None => store.abandon(&self.key, self.id),
            Some(_) => store.fill(
                std::mem::take(&mut self.wire),
                std::mem::take(&mut self.key),
                self.id,
                frame,
            ),
        }
    }
}

impl Drop for Fill {
    fn drop(&mut self) {
        if !self.done {
            self.tracker.store().abandon(&self.key, self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cacheable;
    use crate::command::meta::lookup;

    #[test]
    fn the_metadata_says_which_replies_may_be_cached() {
        let is = |name: &str| cacheable(lookup(name).unwrap());
        for name in [
            "GET", "HGET", "HGETALL", "LRANGE", "SMEMBERS", "ZRANGE", "GETRANGE",
        ] {
            assert!(is(name), "{name} should be cacheable");
        }
        // Time-dependent, random, several keys, blocking, writes, no key, and (no
        // `ACCESS` flag) what only describes the data.
        for name in [
            "TTL",
            "PTTL",
            "HTTL",
            "SRANDMEMBER",
            "MGET",
            "BLPOP",
            "SET",
            "GETEX",
            "DBSIZE",
            "STRLEN",
        ] {
            if lookup(name).is_none() {
                continue;
            }
            assert!(!is(name), "{name} should not be cacheable");
        }
    }
}
