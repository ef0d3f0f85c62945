//! The cache itself: replies by their command's wire form, indexed by key, bounded
//! by entries and bytes (CLOCK eviction), with the placeholders that keep a read
//! racing with its own invalidation from storing a stale reply.

use super::options::TrackingOptions;
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::Instant;

/// The cache's maps hash with foldhash (seeded at random per map, as std's are),
/// several times quicker than std's SipHash on a command's few dozen bytes: every
/// read through the cache hashes its command once.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// What an entry costs beyond its bytes (the maps' slots, the ring's).
const ENTRY_OVERHEAD: usize = 96;

/// The cache's counters ([`Client::tracking_stats`](crate::Client::tracking_stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackingStats {
    /// Reads served from the cache.
    pub hits: u64,
    /// Cacheable reads sent to the server.
    pub misses: u64,
    /// Entries dropped to stay within the bounds, or past their TTL.
    pub evictions: u64,
    /// Entries dropped because the server reported their key changed (or the
    /// client wrote it).
    pub invalidations: u64,
    /// Times the whole cache was emptied: a `FLUSHALL`/`FLUSHDB` invalidation, a
    /// connection (the data connection or the RESP2 invalidation connection) lost or
    /// made again.
    pub flushes: u64,
    /// Entries held now.
    pub entries: usize,
    /// Bytes held now (replies, commands and keys, with a fixed overhead each).
    pub bytes: usize,
}

impl std::iter::Sum for TrackingStats {
    fn sum<I: Iterator<Item = TrackingStats>>(iter: I) -> Self {
        iter.fold(TrackingStats::default(), |a, b| TrackingStats {
            hits: a.hits + b.hits,
            misses: a.misses + b.misses,
            evictions: a.evictions + b.evictions,
            invalidations: a.invalidations + b.invalidations,
            flushes: a.flushes + b.flushes,
            entries: a.entries + b.entries,
            bytes: a.bytes + b.bytes,
        })
    }
}

struct Entry {
    frame: Bytes,
    key: Bytes,
    /// Tells this entry from a later one of the same command in the ring.
    id: u64,
    expires: Option<Instant>,
    /// Read since the CLOCK hand last passed.
    referenced: bool,
    size: usize,
}

/// The cache's state, behind the tracker's lock.
pub(crate) struct Store {
    max_entries: usize,
    max_bytes: usize,
    ttl: Option<std::time::Duration>,
    entries: HashMap<Bytes, Entry>,
    /// The commands cached for each key.
    by_key: HashMap<Bytes, Vec<Bytes>>,
    /// The reads sent and not yet stored, by key: an invalidation of the key (or a
    /// flush) removes them, and a reply is stored only if its placeholder is still
    /// here.
    pending: HashMap<Bytes, Vec<u64>>,
    /// The CLOCK hand's order: (command, entry id); stale items are skipped.
    ring: VecDeque<(Bytes, u64)>,
    bytes: usize,
    next_id: u64,
    /// Tracking is on for the connection the reads go to: without it nothing is
    /// stored nor served.
    ready: bool,
    stats: TrackingStats,
}

impl Store {
    pub(crate) fn new(options: &TrackingOptions) -> Self {
        Store {
            max_entries: options.max_entries,
            max_bytes: options.max_bytes,
            ttl: options.ttl,
            entries: HashMap::default(),
            by_key: HashMap::default(),
            pending: HashMap::default(),
            ring: VecDeque::new(),
            bytes: 0,
            next_id: 0,
            ready: false,
            stats: TrackingStats::default(),
        }
    }

    /// The cached reply of `wire`, if any (counted as a hit); `None` is not counted.
    pub(crate) fn get(&mut self, wire: &[u8]) -> Option<Bytes> {
        let entry = self.entries.get_mut(wire)?;
        if entry.expires.is_some_and(|at| at <= Instant::now()) {
            let wire = Bytes::copy_from_slice(wire);
            self.remove(&wire);
            self.stats.evictions += 1;
            return None;
        }
        entry.referenced = true;
        self.stats.hits += 1;
        Some(entry.frame.clone())
    }

    /// A placeholder for a read of `key` about to be sent (counted as a miss);
    /// `None` while tracking is not on (the read is then not cached).
    pub(crate) fn reserve(&mut self, key: &Bytes) -> Option<u64> {
        self.stats.misses += 1;
        if !self.ready {
            return None;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.pending.entry(key.clone()).or_default().push(id);
        Some(id)
    }

    /// Forgets a placeholder whose read will not be stored.
    pub(crate) fn abandon(&mut self, key: &Bytes, id: u64) {
        if let Some(ids) = self.pending.get_mut(key) {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.pending.remove(key);
            }
        }
    }

    /// Stores the reply of a read whose placeholder is `id`, if the placeholder is
    /// still valid (no invalidation of its key, no flush, since it was made).
    pub(crate) fn fill(&mut self, wire: Bytes, key: Bytes, id: u64, frame: &[u8]) {
        let Some(ids) = self.pending.get_mut(&key) else {
            return;
        };
        let Some(at) = ids.iter().position(|&i| i == id) else {
            return;
        };
        ids.swap_remove(at);
        if ids.is_empty() {
            self.pending.remove(&key);
        }
        let size = frame.len() + wire.len() + key.len() + ENTRY_OVERHEAD;
        if !self.ready || size > self.max_bytes {
            return;
        }
        self.remove(&wire);
        self.next_id += 1;
        let id = self.next_id;
        self.by_key
            .entry(key.clone())
            .or_default()
            .push(wire.clone());
        self.ring.push_back((wire.clone(), id));
        self.bytes += size;
        self.entries.insert(
            wire,
            Entry {
                // A copy: the reply is a slice of the connection's read buffer, which
                // it would otherwise keep alive whole.
                frame: Bytes::copy_from_slice(frame),
                key,
                id,
                expires: self.ttl.map(|ttl| Instant::now() + ttl),
                referenced: false,
                size,
            },
        );
        self.evict();
    }

    /// The server (or the client's own write) says `key` changed.
    pub(crate) fn invalidate(&mut self, key: &[u8]) {
        self.pending.remove(key);
        if let Some(wires) = self.by_key.remove(key) {
            for wire in wires {
                if let Some(e) = self.entries.remove(&wire) {
                    self.bytes -= e.size;
                    self.stats.invalidations += 1;
                }
            }
        }
    }

    /// Empties the cache and forgets every placeholder; `ready` says whether
    /// tracking is on for the connection from now on.
    pub(crate) fn flush(&mut self, ready: bool) {
        self.stats.flushes += 1;
        self.entries.clear();
        self.by_key.clear();
        self.pending.clear();
        self.ring.clear();
        self.bytes = 0;
        self.ready = ready;
    }

    /// Tracking was confirmed on the connection: the reads sent before it (whose
    /// placeholders are forgotten here) may have been read untracked.
    pub(crate) fn tracking_on(&mut self) {
        self.pending.clear();
        self.ready = true;
    }

    /// Whether tracking is on (replies may be stored and served).
    pub(crate) fn is_ready(&self) -> bool {
        self.ready
    }

    pub(crate) fn stats(&self) -> TrackingStats {
        TrackingStats {
            entries: self.entries.len(),
            bytes: self.bytes,
            ..self.stats
        }
    }

    /// Removes the entry of `wire`, if any.
    fn remove(&mut self, wire: &Bytes) {
        let Some(e) = self.entries.remove(wire) else {
            return;
        };
        self.bytes -= e.size;
        if let Some(wires) = self.by_key.get_mut(&e.key) {
            wires.retain(|w| w != wire);
            if wires.is_empty() {
                self.by_key.remove(&e.key);
            }
        }
    }

    /// Evicts (CLOCK: an entry read since the hand last passed gets a second
    /// chance) until within both bounds.
    fn evict(&mut self) {
        while self.entries.len() > self.max_entries || self.bytes > self.max_bytes {
            let Some((wire, id)) = self.ring.pop_front() else {
                break;
            };
            let Some(e) = self.entries.get_mut(&wire) else {
                continue;
            };
            if e.id != id {
                continue;
            }
            if e.referenced {
                e.referenced = false;
                self.ring.push_back((wire, id));
                continue;
            }
            self.remove(&wire);
            self.stats.evictions += 1;
        }
        // Items of entries invalidated or replaced stay in the ring until the hand
        // passes; past twice the entries, they are swept at once.
        if self.ring.len() > 2 * self.entries.len() + 64 {
            let entries = &self.entries;
            self.ring
                .retain(|(wire, id)| entries.get(wire).is_some_and(|e| e.id == *id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max_entries: usize, max_bytes: usize) -> Store {
        let mut s = Store::new(
            &TrackingOptions::new()
                .max_entries(max_entries)
                .max_bytes(max_bytes),
        );
        s.flush(true);
        s
    }

    fn read(s: &mut Store, wire: &str, key: &str, frame: &str) {
        let key = Bytes::copy_from_slice(key.as_bytes());
        let id = s.reserve(&key).unwrap();
        s.fill(
            Bytes::copy_from_slice(wire.as_bytes()),
            key,
            id,
            frame.as_bytes(),
        );
    }

    #[test]
    fn an_invalidation_drops_every_reply_of_its_key_and_pending_reads() {
        let mut s = store(100, 1 << 20);
        read(&mut s, "GET a", "a", "$1\r\n1\r\n");
        read(&mut s, "STRLEN a", "a", ":1\r\n");
        read(&mut s, "GET b", "b", "$1\r\n2\r\n");
        let key = Bytes::from_static(b"a");
        let id = s.reserve(&key).unwrap();
        s.invalidate(b"a");
        // The read sent before the invalidation arrived is not stored.
        s.fill(Bytes::from_static(b"GETRANGE a"), key, id, b"$1\r\n1\r\n");
        assert_eq!(s.get(b"GET a"), None);
        assert_eq!(s.get(b"STRLEN a"), None);
        assert_eq!(s.get(b"GETRANGE a"), None);
        assert_eq!(s.get(b"GET b").as_deref(), Some(&b"$1\r\n2\r\n"[..]));
        let st = s.stats();
        assert_eq!((st.entries, st.invalidations, st.hits), (1, 2, 1));
    }

    #[test]
    fn bounds_hold_and_read_entries_survive_the_hand() {
        let mut s = store(3, 1 << 20);
        for k in ["a", "b", "c"] {
            read(&mut s, &format!("GET {k}"), k, "+x\r\n");
        }
        assert!(s.get(b"GET a").is_some());
        read(&mut s, "GET d", "d", "+x\r\n");
        // b, the oldest entry not read since, is the one evicted.
        assert!(s.get(b"GET b").is_none());
        assert!(s.get(b"GET a").is_some());
        assert_eq!(s.stats().entries, 3);
        let mut s = store(1000, 4 * (ENTRY_OVERHEAD + 20));
        for i in 0..100 {
            read(
                &mut s,
                &format!("GET k{i:02}"),
                &format!("k{i:02}"),
                "+0123456\r\n",
            );
            assert!(s.stats().bytes <= 4 * (ENTRY_OVERHEAD + 20));
        }
        assert_eq!(s.stats().entries, 4);
        assert_eq!(s.stats().evictions, 96);
        assert!(s.ring.len() <= 2 * 4 + 64);
    }

    #[test]
    fn nothing_is_stored_while_tracking_is_off_or_after_a_flush() {
        let mut s = store(10, 1 << 20);
        let key = Bytes::from_static(b"a");
        let id = s.reserve(&key).unwrap();
        s.flush(false);
        assert_eq!(s.reserve(&key), None);
        s.fill(Bytes::from_static(b"GET a"), key.clone(), id, b"+x\r\n");
        assert_eq!(s.get(b"GET a"), None);
        s.flush(true);
        let id = s.reserve(&key).unwrap();
        // Confirmed again: what was sent before may have been read untracked.
        s.tracking_on();
        s.fill(Bytes::from_static(b"GET a"), key, id, b"+x\r\n");
        assert_eq!(s.get(b"GET a"), None);
    }
}
