//! Sans-IO RESP2/RESP3: framing ([`Scanner`]), reading ([`Reader`]) and encoding
//! (the `encode` functions). Nothing here touches a socket or an async runtime.
//!
//! The protocol work happens in two phases. The connection's I/O task calls
//! [`Scanner::scan`] on its read buffer to find where a complete frame ends (no
//! allocation, no copy); it splits those bytes off as a [`bytes::Bytes`] and hands them
//! to whoever waits for the reply. That task then decodes them with a [`Reader`] into
//! the type it asked for, so decoding cost lands on the caller, not on the I/O task.

mod encode;
mod reader;
mod scan;

pub(crate) use encode::{two_digits, HEADER_LEN};
pub use encode::{write_array_header, write_bulk, write_bulk_header, Header, Out};
pub(crate) use reader::parse_double;
pub use reader::{Head, Reader};
pub use scan::Scanner;

/// The server's default `proto-max-bulk-len` (512 MiB): the longest bulk string it
/// accepts, and the default of [`Limits::max_bulk_len`].
pub const SERVER_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

/// Upper bounds on what a peer may send, checked while framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of aggregates (arrays, maps, sets, pushes, attributes).
    pub max_depth: usize,
    /// Longest bulk string, blob error or verbatim string, in bytes.
    pub max_bulk_len: u64,
    /// Most elements (or pairs, for maps) in one aggregate.
    pub max_aggregate_len: u64,
    /// Longest header or simple line (simple strings, errors, numbers), in bytes.
    pub max_line_len: usize,
}

impl Default for Limits {
    /// Depth 128, bulk strings up to 512 MiB (the server's own `proto-max-bulk-len`
    /// default), aggregates up to 2^32 elements, lines up to 64 KiB.
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_bulk_len: SERVER_MAX_BULK_LEN,
            max_aggregate_len: 1 << 32,
            max_line_len: 64 * 1024,
        }
    }
}

/// Bytes from the peer that are not valid RESP, or that break a [`Limits`] bound.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A byte that starts no RESP type.
    UnknownType {
        /// The offending byte.
        byte: u8,
    },
    /// A structural error.
    Malformed {
        /// What was wrong.
        what: &'static str,
    },
    /// The frame ended before an element did (only from a reader over a partial frame).
    Truncated,
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// A bulk string longer than [`Limits::max_bulk_len`].
    BulkTooLong {
        /// Announced length.
        len: u64,
        /// The configured limit.
        limit: u64,
    },
    /// An aggregate longer than [`Limits::max_aggregate_len`].
    AggregateTooLong {
        /// Announced length.
        len: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A line longer than [`Limits::max_line_len`].
    LineTooLong {
        /// The configured limit.
        limit: usize,
    },
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownType { byte } => write!(f, "invalid RESP: unknown type byte 0x{byte:02x}"),
            Self::Malformed { what } => write!(f, "invalid RESP: {what}"),
            Self::Truncated => f.write_str("invalid RESP: frame ends inside an element"),
            Self::TooDeep { limit } => write!(f, "RESP nesting deeper than the limit of {limit}"),
            Self::BulkTooLong { len, limit } => write!(
                f,
                "RESP bulk string of {len} bytes exceeds the limit of {limit}"
            ),
            Self::AggregateTooLong { len, limit } => write!(
                f,
                "RESP aggregate of {len} elements exceeds the limit of {limit}"
            ),
            Self::LineTooLong { limit } => {
                write!(f, "RESP line longer than the limit of {limit} bytes")
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Test input: simple frames (`+`, `:`, `$`, nulls, an error) and a little garbage
/// back to back, some with bytes replaced (the tests also cut them short).
#[cfg(test)]
pub(crate) fn simple_frames() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::collection::vec;
    use proptest::prelude::*;
    let frame = prop_oneof![
        vec(any::<u8>(), 0..40).prop_map(|t| [&b"+"[..], &t, b"\r\n"].concat()),
        prop_oneof![any::<i64>(), -3i64..3].prop_map(|i| format!(":{i}\r\n").into_bytes()),
        vec(any::<u8>(), 0..40)
            .prop_map(|t| [format!("${}\r\n", t.len()).as_bytes(), &t, b"\r\n"].concat()),
        Just(b"$-1\r\n".to_vec()),
        Just(b"_\r\n".to_vec()),
        Just(b"+OK\r\n".to_vec()),
        Just(b"-ERR wrong\r\n".to_vec()),
        vec(any::<u8>(), 1..4),
    ];
    let replaced = vec((any::<prop::sample::Index>(), any::<u8>()), 0..3);
    (vec(frame, 1..3), replaced).prop_map(|(frames, replaced)| {
        let mut bytes = frames.concat();
        for (at, byte) in replaced {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        bytes
    })
}
