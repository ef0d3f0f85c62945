//! [`Entry`]: one entry of a stream as a consumer yields it, and [`Start`]: where a
//! reader or a new group starts.

use bytes::Bytes;
use respec_protocol::reply::StreamEntry;

/// One entry of a stream, as a [`StreamReader`](super::StreamReader) or a
/// [`GroupConsumer`](super::GroupConsumer) yields it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entry {
    /// The stream (key) it was read from.
    pub stream: Bytes,
    /// Its ID (`1700000000000-0`).
    pub id: Bytes,
    /// Its field/value pairs, in the order they were added.
    pub fields: Vec<(Bytes, Bytes)>,
    /// How many times the group has delivered it, this delivery included, as the
    /// server counts it: 1 for a new entry, more for an entry read again from the
    /// consumer's pending entries or claimed from another consumer. 0 from a
    /// [`StreamReader`](super::StreamReader) (no group counts its reads).
    pub deliveries: u64,
}

impl Entry {
    pub(crate) fn new(stream: &Bytes, entry: StreamEntry, deliveries: u64) -> Self {
        Entry {
            stream: stream.clone(),
            id: entry.id,
            fields: entry.fields,
            deliveries,
        }
    }

    /// The value of the first field named `name`.
    pub fn field(&self, name: impl AsRef<[u8]>) -> Option<&Bytes> {
        let name = name.as_ref();
        self.fields
            .iter()
            .find(|(f, _)| f.as_ref() == name)
            .map(|(_, v)| v)
    }
}

/// Where a [`StreamReader`](super::StreamReader) starts reading a stream, or where a
/// group that a [`GroupConsumer`](super::GroupConsumer) creates starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Start {
    /// After the stream's last entry when the reader starts (or the group is
    /// created): new entries only (`$`).
    #[default]
    New,
    /// From the stream's first entry (`0`).
    Beginning,
    /// After the entry with this ID (exclusive), such as the last ID a previous
    /// reader handled.
    After(Bytes),
}

impl Start {
    /// [`Start::After`] the entry `id`.
    pub fn after(id: impl AsRef<[u8]>) -> Self {
        Start::After(Bytes::copy_from_slice(id.as_ref()))
    }
}
