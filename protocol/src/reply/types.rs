//! Hand-written reply types for replies whose shape depends on the options given
//! (the generator refers to them through `spec/overrides.toml`).

use super::{read_aggregate, read_fields, required, FromReply};
use crate::error::{Error, Result};
use crate::resp::{Head, Reader};
use bytes::Bytes;

/// One result of `GEOSEARCH` / `GEORADIUS` with `WITHDIST`, `WITHHASH` or `WITHCOORD`:
/// the fields the options asked for are `Some`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GeoMatch {
    /// The member.
    pub member: Bytes,
    /// Distance from the center, in the query's unit (`WITHDIST`).
    pub dist: Option<f64>,
    /// The raw geohash (`WITHHASH`).
    pub hash: Option<i64>,
    /// Longitude and latitude (`WITHCOORD`).
    pub coord: Option<(f64, f64)>,
}

impl FromReply for GeoMatch {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let n = match r.peek()? {
            Head::Array(_) => read_aggregate(r, "a geo match")?.0,
            _ => {
                return Ok(GeoMatch {
                    member: Bytes::from_reply(r)?,
                    ..GeoMatch::default()
                })
            }
        };
        if n == 0 {
            return Err(Error::decode("a geo match", "an empty array"));
        }
        let mut m = GeoMatch {
            member: Bytes::from_reply(r)?,
            ..GeoMatch::default()
        };
        // The optional parts come in a fixed order (dist, hash, coord) and differ in
        // type, so each is recognised by its shape.
        for _ in 1..n {
            match r.peek()? {
                Head::Int(_) => m.hash = Some(i64::from_reply(r)?),
                Head::Array(_) => m.coord = Some(<(f64, f64)>::from_reply(r)?),
                _ => m.dist = Some(f64::from_reply(r)?),
            }
        }
        Ok(m)
    }
}

/// A stream entry: its ID and its field/value pairs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamEntry {
    /// The entry ID (`1700000000000-0`).
    pub id: Bytes,
    /// Field/value pairs in the order they were added (empty for a deleted entry).
    pub fields: Vec<(Bytes, Bytes)>,
}

impl FromReply for StreamEntry {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        match read_aggregate(r, "a stream entry")? {
            (2, false) => {}
            (n, _) => return Err(Error::decode("a stream entry", format!("{n} elements"))),
        }
        let id = Bytes::from_reply(r)?;
        let fields = Option::<Vec<(Bytes, Bytes)>>::from_reply(r)?.unwrap_or_default();
        Ok(StreamEntry { id, fields })
    }
}

/// One match of `LCS ... IDX`: the ranges in both strings (inclusive), and the
/// match length with `WITHMATCHLEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LcsMatch {
    /// Range in the first string.
    pub a: (i64, i64),
    /// Range in the second string.
    pub b: (i64, i64),
    /// Length of the match (`WITHMATCHLEN`).
    pub len: Option<i64>,
}

impl FromReply for LcsMatch {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let (n, _) = read_aggregate(r, "an LCS match")?;
        if !(2..=3).contains(&n) {
            return Err(Error::decode("an LCS match", format!("{n} elements")));
        }
        let a = FromReply::from_reply(r)?;
        let b = FromReply::from_reply(r)?;
        let len = if n == 3 {
            Some(i64::from_reply(r)?)
        } else {
            None
        };
        Ok(LcsMatch { a, b, len })
    }
}

/// The reply of `LCS ... IDX`: every match, longest first, and the LCS length.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LcsMatches {
    /// The matches.
    pub matches: Vec<LcsMatch>,
    /// Length of the longest common subsequence.
    pub len: i64,
}

impl FromReply for LcsMatches {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let mut matches = None;
        let mut len = None;
        read_fields(r, "an LCS IDX reply", |key, r| {
            match key {
                b"matches" => matches = Some(FromReply::from_reply(r)?),
                b"len" => len = Some(FromReply::from_reply(r)?),
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(LcsMatches {
            matches: required(matches, "the `matches` field")?,
            len: required(len, "the `len` field")?,
        })
    }
}
