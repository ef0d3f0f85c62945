//! [`FromReply`] for std types and `Bytes`.

use super::{read_aggregate, read_pairs, unexpected, FromReply};
use crate::error::{Error, Result};
use crate::resp::{Head, Reader};
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};

/// The capacity to reserve for an aggregate announcing `n` elements: what the rest of
/// the frame can really hold (every element takes at least 3 bytes), whatever length
/// it announces.
fn capacity(r: &Reader, n: usize) -> usize {
    n.min(r.remaining() / 3)
}

/// The pair count of a map-like aggregate at the reader: a map's own count, half the
/// elements of an array (flat pairs or, at most, that many two-element arrays).
fn announced_pairs(r: &Reader) -> usize {
    match r.peek() {
        Ok(Head::Map(_)) => announced(r),
        _ => announced(r) / 2,
    }
}

/// The element count of the aggregate at the reader, without consuming it (for
/// preallocation; 0 when it is not an aggregate). A map counts its pairs.
fn announced(r: &Reader) -> usize {
    match r.peek() {
        Ok(Head::Array(n) | Head::Set(n) | Head::Push(n)) => capacity(r, n),
        Ok(Head::Map(n)) => capacity(r, n),
        _ => 0,
    }
}

/// The bytes of a scalar element, formatting numbers the way the server would.
fn scalar_bytes(head: Head, expected: &'static str) -> Result<Bytes> {
    match head {
        Head::Bulk(b) | Head::Simple(b) | Head::BigNumber(b) => Ok(b),
        Head::Verbatim(_, b) => Ok(b),
        Head::Int(i) => Ok(Bytes::copy_from_slice(
            itoa::Buffer::new().format(i).as_bytes(),
        )),
        Head::Double(d) => Ok(Bytes::from(format_double(d))),
        Head::Bool(b) => Ok(Bytes::from_static(if b { b"1" } else { b"0" })),
        other => Err(unexpected(expected, other)),
    }
}

fn format_double(d: f64) -> String {
    if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else if d.is_nan() {
        "nan".to_owned()
    } else {
        let mut b = ryu::Buffer::new();
        let s = b.format(d);
        s.strip_suffix(".0").unwrap_or(s).to_owned()
    }
}

impl FromReply for Bytes {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        if let Some(bulk) = r.next_bulk() {
            return Ok(bulk?);
        }
        scalar_bytes(r.next()?, "a string")
    }

    /// A frame that is a bulk string (most replies of this type) becomes its
    /// payload: the frame itself, trimmed.
    #[inline]
    fn from_frame(frame: Bytes) -> Result<Self> {
        match Reader::whole_bulk(frame) {
            Ok(payload) => Ok(payload),
            Err(frame) => Self::from_reply(&mut Reader::new(frame)),
        }
    }
}

/// Bytes as an owned vector (prefer [`Bytes`], which does not copy).
impl FromReply for Vec<u8> {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        Ok(scalar_bytes(r.next()?, "a string")?.to_vec())
    }
}

impl FromReply for String {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let b = scalar_bytes(r.next()?, "a string")?;
        String::from_utf8(b.to_vec()).map_err(|_| Error::decode("a UTF-8 string", "invalid UTF-8"))
    }
}

/// Parses an integer from a bulk or simple string (RESP2 sends some numbers so).
fn int_from_text(b: &[u8]) -> Option<i128> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

fn read_i128(r: &mut Reader) -> Result<i128> {
    match r.next()? {
        Head::Int(i) => Ok(i128::from(i)),
        Head::Bool(b) => Ok(i128::from(b)),
        Head::Double(d) if d.fract() == 0.0 && d.abs() < 1e36 => Ok(d as i128),
        Head::Bulk(b) | Head::Simple(b) | Head::BigNumber(b) | Head::Verbatim(_, b) => {
            int_from_text(&b).ok_or_else(|| Error::decode("an integer", "a non-numeric string"))
        }
        other => Err(unexpected("an integer", other)),
    }
}

macro_rules! int_impls {
    ($($t:ty),*) => {$(
        impl FromReply for $t {
            fn from_reply(r: &mut Reader) -> Result<Self> {
                let v = read_i128(r)?;
                <$t>::try_from(v).map_err(|_| {
                    Error::decode(concat!("an integer that fits ", stringify!($t)), v.to_string())
                })
            }
        }
    )*};
}

int_impls!(i8, i16, i32, i64, i128, isize, u16, u32, u64, usize);

impl FromReply for f64 {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        match r.next()? {
            Head::Double(d) => Ok(d),
            Head::Int(i) => Ok(i as f64),
            Head::Bulk(b) | Head::Simple(b) | Head::BigNumber(b) | Head::Verbatim(_, b) => {
                crate::resp::parse_double(&b)
                    .ok_or_else(|| Error::decode("a number", "a non-numeric string"))
            }
            other => Err(unexpected("a number", other)),
        }
    }
}

impl FromReply for f32 {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        f64::from_reply(r).map(|v| v as f32)
    }
}

impl FromReply for bool {
    /// `#t`/`#f`, integers (zero is false), `+OK` (true) and null (false): the
    /// spellings commands use for "did it happen".
    fn from_reply(r: &mut Reader) -> Result<Self> {
        if r.next_is(b"+OK\r\n") {
            return Ok(true);
        }
        match r.next()? {
            Head::Bool(b) => Ok(b),
            Head::Int(i) => Ok(i != 0),
            Head::Null => Ok(false),
            Head::Simple(s) if &s[..] == b"OK" => Ok(true),
            Head::Bulk(b) | Head::Simple(b) => match &b[..] {
                b"1" | b"OK" => Ok(true),
                b"0" => Ok(false),
                _ => Err(Error::decode("a boolean", "a string")),
            },
            other => Err(unexpected("a boolean", other)),
        }
    }

    /// The same, and `+OK` (a `SET`'s reply) without a reader.
    fn from_frame(frame: Bytes) -> Result<Self> {
        if frame[..] == *b"+OK\r\n" {
            return Ok(true);
        }
        Self::from_reply(&mut Reader::new(frame))
    }
}

impl FromReply for () {
    /// Accepts any reply that is not an error, and ignores it.
    fn from_reply(r: &mut Reader) -> Result<Self> {
        match r.peek()? {
            Head::Error(_) => Err(unexpected("any reply", r.next()?)),
            _ => r.skip().map_err(Error::from),
        }
    }

    /// The same, and `+OK` (most replies of this type) without a reader.
    fn from_frame(frame: Bytes) -> Result<Self> {
        if frame[..] == *b"+OK\r\n" {
            return Ok(());
        }
        Self::from_reply(&mut Reader::new(frame))
    }
}

impl<T: FromReply> FromReply for Option<T> {
    /// Null is `None`; so is an empty array where a pair was expected (`ZPOPMIN` on a
    /// missing key).
    fn from_reply(r: &mut Reader) -> Result<Self> {
        // A string or a number that is not negative (most replies) is not null: no
        // look ahead (which would slice the frame once more).
        if is_plain_scalar(r.next_type(), r.next_type_arg()) {
            return T::from_reply(r).map(Some);
        }
        match r.peek()? {
            Head::Null => {
                r.next()?;
                return Ok(None);
            }
            Head::Array(0) if T::PAIR => {
                r.next()?;
                return Ok(None);
            }
            _ => {}
        }
        T::from_reply(r).map(Some)
    }

    /// The same, with `T`'s own [`from_frame`](FromReply::from_frame) for a frame
    /// that is not null, and no reader for one that is only null.
    fn from_frame(frame: Bytes) -> Result<Self> {
        if is_plain_scalar(frame.first().copied(), frame.get(1).copied()) {
            return T::from_frame(frame).map(Some);
        }
        if matches!(&frame[..], b"$-1\r\n" | b"_\r\n") {
            return Ok(None);
        }
        Self::from_reply(&mut Reader::new(frame))
    }
}

/// Whether an element starting with these two bytes is a string or a number that is
/// not negative (most replies), so not null: [`Option`]'s test without a look ahead.
fn is_plain_scalar(kind: Option<u8>, arg: Option<u8>) -> bool {
    matches!(kind, Some(b'$' | b'+' | b':')) && !matches!(arg, Some(b'-') | None)
}

impl<T: FromReply> FromReply for Box<T> {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        T::from_reply(r).map(Box::new)
    }
}

/// Reads the elements of a sequence into `push`, handling the pair encodings.
fn read_seq<T: FromReply>(r: &mut Reader, mut push: impl FnMut(T)) -> Result<usize> {
    if T::PAIR {
        return read_pairs(r, "an array of pairs", |r| {
            push(T::from_pair(r)?);
            Ok(())
        });
    }
    let (n, is_map) = read_aggregate(r, "an array")?;
    let n = if is_map { n.saturating_mul(2) } else { n };
    for _ in 0..n {
        push(T::from_reply(r)?);
    }
    Ok(n)
}

impl<T: FromReply> FromReply for Vec<T> {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let n = if T::PAIR {
            announced_pairs(r)
        } else {
            announced(r)
        };
        let mut out = Vec::with_capacity(n);
        read_seq(r, |v| out.push(v))?;
        Ok(out)
    }
}

impl<T: FromReply> FromReply for VecDeque<T> {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        Vec::from_reply(r).map(VecDeque::from)
    }
}

impl<T: FromReply + Eq + Hash, S: BuildHasher + Default> FromReply for HashSet<T, S> {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let mut out = HashSet::with_capacity_and_hasher(announced(r), S::default());
        read_seq(r, |v| {
            out.insert(v);
        })?;
        Ok(out)
    }
}

impl<T: FromReply + Ord> FromReply for BTreeSet<T> {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let mut out = BTreeSet::new();
        read_seq(r, |v| {
            out.insert(v);
        })?;
        Ok(out)
    }
}

impl<K: FromReply + Eq + Hash, V: FromReply, S: BuildHasher + Default> FromReply
    for HashMap<K, V, S>
{
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let mut out = HashMap::with_capacity_and_hasher(announced_pairs(r), S::default());
        read_pairs(r, "a map", |r| {
            let k = K::from_reply(r)?;
            out.insert(k, V::from_reply(r)?);
            Ok(())
        })?;
        Ok(out)
    }
}

impl<K: FromReply + Ord, V: FromReply> FromReply for BTreeMap<K, V> {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let mut out = BTreeMap::new();
        read_pairs(r, "a map", |r| {
            let k = K::from_reply(r)?;
            out.insert(k, V::from_reply(r)?);
            Ok(())
        })?;
        Ok(out)
    }
}

impl<A: FromReply, B: FromReply> FromReply for (A, B) {
    const PAIR: bool = true;

    fn from_reply(r: &mut Reader) -> Result<Self> {
        match read_aggregate(r, "a two-element array")? {
            (2, false) | (1, true) => Self::from_pair(r),
            (n, _) => Err(Error::decode(
                "a two-element array",
                format!("{n} elements"),
            )),
        }
    }

    fn from_pair(r: &mut Reader) -> Result<Self> {
        let a = A::from_reply(r)?;
        Ok((a, B::from_reply(r)?))
    }
}

macro_rules! tuples {
    ($($n:literal => ($($t:ident),+);)*) => {$(
        impl<$($t: FromReply),+> FromReply for ($($t,)+) {
            fn from_reply(r: &mut Reader) -> Result<Self> {
                match read_aggregate(r, concat!("an array of ", stringify!($n), " elements"))? {
                    ($n, false) => Ok(($($t::from_reply(r)?,)+)),
                    (n, _) => Err(Error::decode(
                        concat!("an array of ", stringify!($n), " elements"),
                        format!("{n} elements"),
                    )),
                }
            }
        }
    )*};
}

tuples! {
    1 => (A);
    3 => (A, B, C);
    4 => (A, B, C, D);
    5 => (A, B, C, D, E);
    6 => (A, B, C, D, E, F);
    7 => (A, B, C, D, E, F, G);
    8 => (A, B, C, D, E, F, G, H);
    9 => (A, B, C, D, E, F, G, H, I);
    10 => (A, B, C, D, E, F, G, H, I, J);
    11 => (A, B, C, D, E, F, G, H, I, J, K);
    12 => (A, B, C, D, E, F, G, H, I, J, K, L);
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::hash::{BuildHasherDefault, DefaultHasher};

    /// A map reply decodes with whatever hasher the caller names, from RESP3 and RESP2.
    #[test]
    fn maps_decode_with_any_hasher() {
        type Fast = BuildHasherDefault<DefaultHasher>;
        for frame in [
            &b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"[..],
            &b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"[..],
        ] {
            let map = HashMap::<Bytes, Bytes, Fast>::from_frame(Bytes::from_static(frame)).unwrap();
            assert_eq!(map.len(), 2);
            assert_eq!(map[&Bytes::from("b")], Bytes::from("2"));
        }
    }

    /// The shortcuts for the common replies (`+OK` as true, a string or a number as
    /// `Some` without a look ahead) decode as the general path does.
    #[test]
    fn common_replies_decode_as_before() {
        let frame = |f: &'static [u8]| Bytes::from_static(f);
        assert!(bool::from_frame(frame(b"+OK\r\n")).unwrap());
        assert!(bool::from_frame(frame(b"+OKAY\r\n")).is_err());
        assert!(!bool::from_frame(frame(b"_\r\n")).unwrap());
        assert_eq!(
            Option::<Bytes>::from_frame(frame(b"$3\r\nabc\r\n")).unwrap(),
            Some(Bytes::from("abc"))
        );
        assert_eq!(
            Option::<Bytes>::from_frame(frame(b"$-1\r\n")).unwrap(),
            None
        );
        assert_eq!(Option::<Bytes>::from_frame(frame(b"_\r\n")).unwrap(), None);
        assert_eq!(
            Option::<i64>::from_frame(frame(b":-1\r\n")).unwrap(),
            Some(-1)
        );
        assert_eq!(
            Option::<i64>::from_frame(frame(b":7\r\n")).unwrap(),
            Some(7)
        );
        assert_eq!(
            Option::<(Bytes, f64)>::from_frame(frame(b"*0\r\n")).unwrap(),
            None
        );
        assert!(Option::<Bytes>::from_frame(frame(b"$5\r\nabc\r\n")).is_err());
        assert_eq!(
            Bytes::from_frame(frame(b"+simple\r\n")).unwrap(),
            Bytes::from("simple")
        );
        // The frame-level shortcuts: a bulk string's payload, null, `+OK`.
        assert_eq!(
            Bytes::from_frame(frame(b"$3\r\nabc\r\n")).unwrap(),
            Bytes::from("abc")
        );
        assert!(Bytes::from_frame(frame(b"$5\r\nabc\r\n")).is_err());
        assert!(Bytes::from_frame(frame(b"$-1\r\n")).is_err());
        assert_eq!(
            Option::<Bytes>::from_frame(frame(b"*-1\r\n")).unwrap(),
            None
        );
        assert!(<()>::from_frame(frame(b"+OK\r\n")).is_ok());
        assert!(<()>::from_frame(frame(b"-ERR no\r\n"))
            .unwrap_err()
            .is_server());
        assert!(bool::from_frame(frame(b"-ERR no\r\n"))
            .unwrap_err()
            .is_server());
    }

    /// `T::from_frame` and `T::from_reply` on a reader at the frame's start (what
    /// the shortcuts must keep) give the same value or both an error, on any bytes.
    fn same_either_way<T: FromReply + PartialEq + std::fmt::Debug>(
        bytes: &[u8],
    ) -> std::result::Result<(), proptest::test_runner::TestCaseError> {
        let frame = Bytes::copy_from_slice(bytes);
        let whole = T::from_frame(frame.clone()).ok();
        let read = T::from_reply(&mut Reader::new(frame)).ok();
        proptest::prop_assert_eq!(whole, read, "{:?}", String::from_utf8_lossy(bytes));
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        #[test]
        fn frame_shortcuts_decode_as_a_reader_does(
            bytes in proptest::prop_oneof![
                crate::resp::simple_frames(),
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..24),
            ],
        ) {
            same_either_way::<Bytes>(&bytes)?;
            same_either_way::<Option<Bytes>>(&bytes)?;
            same_either_way::<Option<Option<Bytes>>>(&bytes)?;
            same_either_way::<bool>(&bytes)?;
            same_either_way::<()>(&bytes)?;
            same_either_way::<Option<i64>>(&bytes)?;
        }
    }
}
