//! Decoding replies into Rust types: the [`FromReply`] trait, its implementations for
//! std types, and the untyped [`Value`].
//!
//! RESP2 and RESP3 encode many replies differently: a map is `%n` in RESP3 and a flat
//! array of keys and values in RESP2; a score is a `,` double in RESP3 and a bulk string
//! in RESP2; a set is `~` or `*`; a boolean is `#t` or `:1`. Every implementation here
//! accepts both, so the same Rust type decodes from either protocol to the same value.
//!
//! Maps and sets decode into `HashMap<K, V, S>` and `HashSet<T, S>` with any hasher
//! `S: BuildHasher + Default`. The generated reply types use std's default (SipHash,
//! resistant to keys chosen to collide); a faster hasher is one
//! [`decode`](crate::cmd::Hgetall::decode) away:
//! `client.hgetall("h").decode::<HashMap<Bytes, Bytes, MyFastState>>()`. Measured on
//! a 10,000-field `HGETALL` reply, a fast hasher (foldhash, FxHash) saves about 6 %
//! of the decoding (some 60 µs of about 1 ms), too little to change the default
//! type that callers name.

mod attributes;
mod frame;
mod impls;
mod push;
mod text;
mod types;
mod value;

pub use attributes::WithAttributes;
pub use push::Push;
pub use text::{ReplyMode, TextReply};
pub use types::{GeoMatch, LcsMatch, LcsMatches, StreamEntry};
pub use value::Value;

#[doc(hidden)]
pub use frame::{decode_frame, frame_error, frame_server_error};

use crate::error::{Error, Result, ServerError};
use crate::resp::{Head, Reader};
use bytes::Bytes;

/// A Rust type that a reply can be decoded into.
///
/// Decoding reads the reply's elements from a [`Reader`] over the reply's frame;
/// bulk strings come out as zero-copy [`Bytes`] slices of it. Implement this for your
/// own types to decode replies (or parts of them) directly, with no intermediate
/// [`Value`] tree.
pub trait FromReply: Sized {
    /// Reads one element (with its children) and builds `Self`.
    fn from_reply(r: &mut Reader) -> Result<Self>;

    /// Whether `Self` is a pair `(K, V)`: a `Vec` of pairs then also decodes from a
    /// map or from RESP2's flat `[k1, v1, k2, v2, ...]` array.
    #[doc(hidden)]
    const PAIR: bool = false;

    /// Reads a pair from two consecutive elements (a map entry or two elements of a
    /// flat array). Only called when [`PAIR`](Self::PAIR) is true.
    #[doc(hidden)]
    fn from_pair(r: &mut Reader) -> Result<Self> {
        let _ = r;
        Err(Error::decode("a pair", "a single element"))
    }

    /// Decodes a complete reply frame. An implementation of its own (a shortcut for
    /// the common frames) must give what [`from_reply`](Self::from_reply) gives on a
    /// [`Reader`] at the frame's start.
    fn from_frame(frame: Bytes) -> Result<Self> {
        Self::from_reply(&mut Reader::new(frame))
    }
}

/// The error for an element that does not fit: an error reply becomes
/// [`Error::server`], anything else a decode error naming both sides.
pub fn unexpected(expected: &'static str, head: Head) -> Error {
    match head {
        Head::Error(text) => Error::server(ServerError::new(text)),
        other => Error::decode(expected, other.kind()),
    }
}

/// Reads the header of an aggregate and returns how many elements follow it, or
/// how many pairs for maps (`is_map` then true).
pub fn read_aggregate(r: &mut Reader, expected: &'static str) -> Result<(usize, bool)> {
    match r.next()? {
        Head::Array(n) | Head::Set(n) | Head::Push(n) => Ok((n, false)),
        Head::Map(n) => Ok((n, true)),
        other => Err(unexpected(expected, other)),
    }
}

/// Reads a sequence of key/value pairs in any of its encodings (RESP3 map, RESP2 flat
/// array, array of two-element arrays) and calls `each` for every pair with the reader
/// positioned at the key.
pub fn read_pairs(
    r: &mut Reader,
    expected: &'static str,
    mut each: impl FnMut(&mut Reader) -> Result<()>,
) -> Result<usize> {
    read_pairs_dyn(r, expected, &mut each)
}

/// [`read_pairs`] compiled once: the generic wrapper stays a call, instead of the
/// loops below copied (and inlined) into every reply type that reads pairs.
fn read_pairs_dyn(
    r: &mut Reader,
    expected: &'static str,
    each: &mut dyn FnMut(&mut Reader) -> Result<()>,
) -> Result<usize> {
    let (n, is_map) = read_aggregate(r, expected)?;
    if is_map {
        for _ in 0..n {
            each(r)?;
        }
        return Ok(n);
    }
    if n == 0 {
        return Ok(0);
    }
    if is_nested_pair(r)? {
        for _ in 0..n {
            match r.next()? {
                Head::Array(2) => each(r)?,
                other => return Err(unexpected("a two-element array", other)),
            }
        }
        Ok(n)
    } else {
        if n % 2 != 0 {
            return Err(Error::decode(expected, "an array of odd length"));
        }
        for _ in 0..n / 2 {
            each(r)?;
        }
        Ok(n / 2)
    }
}

/// Whether the next element is a pair written as a two-element array (RESP3 style)
/// rather than the first element of a flat key/value list.
fn is_nested_pair(r: &Reader) -> Result<bool> {
    Ok(matches!(r.peek()?, Head::Array(2)))
}

/// Reads a map-like reply into named fields: `field` is called with each key and the
/// reader positioned at its value; it must consume the value (or call
/// [`Reader::skip`] for keys it does not know, which keeps decoding forward
/// compatible with servers that add fields).
pub fn read_fields(
    r: &mut Reader,
    expected: &'static str,
    mut field: impl FnMut(&[u8], &mut Reader) -> Result<()>,
) -> Result<()> {
    read_fields_dyn(r, expected, &mut field)
}

/// [`read_fields`] compiled once (see [`read_pairs_dyn`]).
fn read_fields_dyn(
    r: &mut Reader,
    expected: &'static str,
    field: &mut dyn FnMut(&[u8], &mut Reader) -> Result<()>,
) -> Result<()> {
    read_pairs_dyn(r, expected, &mut |r| {
        let key = match r.next()? {
            Head::Bulk(b) | Head::Simple(b) | Head::Verbatim(_, b) => b,
            other => return Err(unexpected("a field name", other)),
        };
        field(&key, r)
    })?;
    Ok(())
}

/// Unwraps a required field read by [`read_fields`].
pub fn required<T>(value: Option<T>, name: &'static str) -> Result<T> {
    value.ok_or_else(|| Error::decode(name, "a reply without that field"))
}
