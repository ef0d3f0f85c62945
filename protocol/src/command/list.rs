//! [`ToArgs`]: what a list parameter (`key [key ...]`) takes: one value or many.

use super::{CommandBuf, ToArg};
use bytes::{Bytes, BytesMut};
use std::borrow::Cow;
use std::collections::{btree_map, btree_set, hash_map, hash_set, BTreeSet, HashSet, VecDeque};

/// One or more arguments of the same kind: the value of a list parameter
/// (`DEL key [key ...]`, `MGET`, `EXISTS`, `XACK ... id [id ...]`).
///
/// A single value is a list of one: `client.del("k")`, `client.exists(key_bytes)`.
/// Collections give one argument per item: arrays, slices, `Vec`s, `VecDeque`s, sets
/// (`client.del(["a", "b"])`, `client.del(&names)`, `client.del(vec![k1, k2])`), and
/// so do iterators whose length is known (`names.iter().map(|n| format!("user:{n}"))`,
/// `map.keys()`). Text is never split into characters, and bytes (`Vec<u8>`,
/// `&[u8]`, `b"key"`) are one argument, not a list of numbers.
///
/// For an iterator of unknown length (`filter`, `chain`), collect it first
/// (`.collect::<Vec<_>>()`); a single value of your own [`ToArg`] type goes in an
/// array (`[value]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a list of command arguments",
    label = "not one value or a list of values",
    note = "a list parameter takes one value (`\"key\"`, a `String`, `Bytes`, a number), an array, slice, `Vec`, `VecDeque` or set of them, or an iterator of known length (`.iter().map(..)`)",
    note = "collect another iterator first (`.collect::<Vec<_>>()`); put a single value of your own `ToArg` type in an array (`[value]`)"
)]
pub trait ToArgs {
    /// How many arguments `self` writes.
    fn arg_count(&self) -> usize;

    /// Appends the arguments, each after `token` when there is one (`GET pattern`
    /// repeated).
    fn write_each(self, token: Option<&'static str>, out: &mut CommandBuf);
}

/// Writes `token` (when there is one) and then `item`.
fn write_one(item: impl ToArg, token: Option<&'static str>, out: &mut CommandBuf) {
    if let Some(t) = token {
        out.token(t);
    }
    item.write_arg(out)
}

/// Writes the items of a slice: one argument each, or one argument in all for a
/// slice of bytes.
fn write_slice<T: ToArg>(items: &[T], token: Option<&'static str>, out: &mut CommandBuf) {
    match T::as_bytes(items) {
        Some(bytes) => write_one(bytes, token, out),
        None => items.iter().for_each(|item| write_one(item, token, out)),
    }
}

fn slice_count<T: ToArg>(items: &[T]) -> usize {
    match T::as_bytes(items) {
        Some(_) => 1,
        None => items.len(),
    }
}

/// Single values: a list of one.
macro_rules! single {
    ($($t:ty),* $(,)?) => {$(
        impl ToArgs for $t {
            fn arg_count(&self) -> usize {
                1
            }
            fn write_each(self, token: Option<&'static str>, out: &mut CommandBuf) {
                write_one(self, token, out)
            }
        }
    )*};
}

single!(
    &str,
    String,
    &String,
    Box<str>,
    Cow<'_, str>,
    &Cow<'_, str>,
    Bytes,
    &Bytes,
    BytesMut,
    char,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    f32,
    f64,
    &i8,
    &i16,
    &i32,
    &i64,
    &i128,
    &isize,
    &u8,
    &u16,
    &u32,
    &u64,
    &u128,
    &usize,
);

/// Contiguous collections: one argument per item (bytes: one in all).
macro_rules! slices {
    ($([$($g:tt)*] $t:ty => |$s:ident| $slice:expr;)*) => {$(
        impl<$($g)*> ToArgs for $t {
            fn arg_count(&self) -> usize {
                let $s = self;
                slice_count($slice)
            }
            fn write_each(self, token: Option<&'static str>, out: &mut CommandBuf) {
                let $s = &self;
                write_slice($slice, token, out)
            }
        }
    )*};
}

slices! {
    [T: ToArg] Vec<T> => |s| s.as_slice();
    [T: ToArg] &Vec<T> => |s| s.as_slice();
    [T: ToArg] &[T] => |s| s;
    [T: ToArg, const N: usize] [T; N] => |s| s.as_slice();
    [T: ToArg, const N: usize] &[T; N] => |s| s.as_slice();
}

/// Other collections and iterators of known length: one argument per item.
macro_rules! each {
    ($([$($g:tt)*] $t:ty;)*) => {$(
        impl<$($g)*> ToArgs for $t {
            fn arg_count(&self) -> usize {
                self.len()
            }
            fn write_each(self, token: Option<&'static str>, out: &mut CommandBuf) {
                self.into_iter().for_each(|item| write_one(item, token, out))
            }
        }
    )*};
}

each! {
    [T: ToArg] VecDeque<T>;
    [T: ToArg] &VecDeque<T>;
    [T: ToArg, S] HashSet<T, S>;
    [T: ToArg, S] &HashSet<T, S>;
    [T: ToArg] BTreeSet<T>;
    [T: ToArg] &BTreeSet<T>;
    [T: ToArg] std::vec::IntoIter<T>;
    [T: ToArg, const N: usize] std::array::IntoIter<T, N>;
    [T: ToArg] std::slice::Iter<'_, T>;
    [T: ToArg] std::iter::Once<T>;
    [T: ToArg] std::collections::vec_deque::Iter<'_, T>;
    [T: ToArg] hash_set::Iter<'_, T>;
    [T: ToArg] hash_set::IntoIter<T>;
    [T: ToArg] btree_set::Iter<'_, T>;
    [T: ToArg] btree_set::IntoIter<T>;
    [K: ToArg, V] hash_map::Keys<'_, K, V>;
    [K: ToArg, V] hash_map::IntoKeys<K, V>;
    [K, V: ToArg] hash_map::Values<'_, K, V>;
    [K: ToArg, V] btree_map::Keys<'_, K, V>;
    [K: ToArg, V] btree_map::IntoKeys<K, V>;
    [K, V: ToArg] btree_map::Values<'_, K, V>;
    [B: ToArg, I: ExactSizeIterator, F: FnMut(I::Item) -> B] std::iter::Map<I, F>;
    ['a, T: ToArg + Clone + 'a, I: ExactSizeIterator<Item = &'a T>] std::iter::Cloned<I>;
    ['a, T: ToArg + Copy + 'a, I: ExactSizeIterator<Item = &'a T>] std::iter::Copied<I>;
    [I: ExactSizeIterator<Item: ToArg>] std::iter::Take<I>;
    [I: ExactSizeIterator<Item: ToArg>] std::iter::Skip<I>;
    [I: DoubleEndedIterator + ExactSizeIterator<Item: ToArg>] std::iter::Rev<I>;
}
