//! Reply modes: the same commands with `Bytes` replies (the default) or with `String`
//! replies (the string view, like coredis's `decode_responses=True`, decided by type).

use super::{FromReply, GeoMatch, LcsMatches, StreamEntry, Value};
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

/// A reply type with a text counterpart: `Bytes` becomes `String` (checked UTF-8),
/// containers map their elements, everything else stays as it is.
pub trait TextReply: FromReply + Send + 'static {
    /// The type with strings instead of bytes.
    type Text: FromReply + Send + 'static;
}

/// How an executor types replies: a client keeps the generated types, its string
/// view (`Client::strings`) turns their byte strings into
/// `String`s.
pub trait ReplyMode {
    /// The reply type of a command whose generated reply type is `T`.
    type Out<T: TextReply>: FromReply + Send + 'static;
}

impl TextReply for Bytes {
    type Text = String;
}

macro_rules! same {
    ($($t:ty),*) => {$(
        impl TextReply for $t {
            type Text = $t;
        }
    )*};
}

same!(
    String,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u16,
    u32,
    u64,
    usize,
    f32,
    f64,
    bool,
    (),
    Value,
    GeoMatch,
    StreamEntry,
    LcsMatches
);

impl<T: TextReply> TextReply for Option<T> {
    type Text = Option<T::Text>;
}

impl<T: TextReply> TextReply for Vec<T> {
    type Text = Vec<T::Text>;
}

impl<K: TextReply + Eq + Hash, V: TextReply> TextReply for HashMap<K, V>
where
    K::Text: Eq + Hash,
{
    type Text = HashMap<K::Text, V::Text>;
}

impl<K: TextReply + Ord, V: TextReply> TextReply for BTreeMap<K, V>
where
    K::Text: Ord,
{
    type Text = BTreeMap<K::Text, V::Text>;
}

impl<T: TextReply + Eq + Hash> TextReply for HashSet<T>
where
    T::Text: Eq + Hash,
{
    type Text = HashSet<T::Text>;
}

impl<T: TextReply + Ord> TextReply for BTreeSet<T>
where
    T::Text: Ord,
{
    type Text = BTreeSet<T::Text>;
}

macro_rules! tuples {
    ($(($($t:ident),+))*) => {$(
        impl<$($t: TextReply),+> TextReply for ($($t,)+) {
            type Text = ($($t::Text,)+);
        }
    )*};
}

tuples! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
    (A, B, C, D, E, F, G, H, I)
    (A, B, C, D, E, F, G, H, I, J)
    (A, B, C, D, E, F, G, H, I, J, K)
    (A, B, C, D, E, F, G, H, I, J, K, L)
}
