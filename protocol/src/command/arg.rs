//! How Rust values become command arguments.
//!
//! The spec types each argument; the generated builders take the matching trait:
//!
//! | spec type | Rust parameter |
//! |-----------|----------------|
//! | `key`, `string`, `pattern` | [`ToArg`]: `&str`, `String`, `&[u8]`, `Vec<u8>`, `Bytes`, numbers, ... |
//! | `integer` | [`IntArg`]: any primitive integer |
//! | `integer` counting seconds / milliseconds | [`SecondsArg`] / [`MillisArg`]: integers or [`Duration`] |
//! | `double` | [`DoubleArg`]: floats, integers, [`ScoreBound`] |
//! | `double` timeout in seconds | [`TimeoutArg`]: numbers or [`Duration`] |
//! | `unix-time` | [`UnixTimeArg`]: integers or [`SystemTime`] |

use super::CommandBuf;
use bytes::{Bytes, BytesMut};
use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A value that encodes as exactly one argument (a RESP bulk string).
///
/// Implement it for your own types to pass them where the spec expects a string
/// or a key; write the bytes with [`CommandBuf::push`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not one command argument",
    label = "expected one value (a key, a string, bytes or a number)",
    note = "this parameter takes exactly one value: `&str`, `String`, `&[u8]`, `Vec<u8>`, `Bytes` or a number; a list parameter (`key [key ...]`) is the one that takes many",
    note = "implement `respec::ToArg` to pass a type of your own"
)]
pub trait ToArg {
    /// Appends `self` as one argument.
    fn write_arg(&self, out: &mut CommandBuf);

    /// A slice of `Self` as the bytes of one argument, for the type whose slices are
    /// one value rather than a list of values (`u8`: `b"key"`, `Vec<u8>`); `None`
    /// for every other type ([`ToArgs`](super::ToArgs) writes one argument per item).
    #[doc(hidden)]
    fn as_bytes(items: &[Self]) -> Option<&[u8]>
    where
        Self: Sized,
    {
        let _ = items;
        None
    }
}

/// One argument's bytes, as [`ToArg`] writes them (keys and arguments that are kept
/// before a command is built: scripts, functions, subscriptions, watched keys).
#[doc(hidden)]
pub fn arg_bytes(value: impl ToArg) -> Bytes {
    let mut buf = CommandBuf::raw(b"");
    value.write_arg(&mut buf);
    let bytes = buf.iter().nth(1).map(Bytes::copy_from_slice);
    bytes.unwrap_or_default()
}

impl<T: ToArg + ?Sized> ToArg for &T {
    #[inline]
    fn write_arg(&self, out: &mut CommandBuf) {
        (**self).write_arg(out)
    }
}

impl<T: ToArg + ?Sized> ToArg for Box<T> {
    #[inline]
    fn write_arg(&self, out: &mut CommandBuf) {
        (**self).write_arg(out)
    }
}

macro_rules! forward_refs {
    ($($tr:ident :: $m:ident ($($p:ident : $t:ty),*);)*) => {$(
        impl<T: $tr + ?Sized> $tr for &T {
            fn $m(&self, $($p: $t),*) {
                (**self).$m($($p),*)
            }
        }
    )*};
}

forward_refs! {
    IntArg::write_int(out: &mut CommandBuf);
    DoubleArg::write_double(out: &mut CommandBuf);
    SecondsArg::write_seconds(out: &mut CommandBuf);
    MillisArg::write_millis(out: &mut CommandBuf);
    TimeoutArg::write_timeout(out: &mut CommandBuf);
    UnixTimeArg::write_unix_time(millis: bool, out: &mut CommandBuf);
}

/// Reads a flag parameter or field, by value or by reference (generated code, an
/// extension's too).
#[doc(hidden)]
pub fn flag(b: impl std::borrow::Borrow<bool>) -> bool {
    *b.borrow()
}

macro_rules! bytes_like {
    ($($t:ty => |$s:ident| $e:expr;)*) => {$(
        impl ToArg for $t {
            #[inline]
            fn write_arg(&self, out: &mut CommandBuf) {
                let $s = self;
                out.push($e)
            }
        }
    )*};
}

bytes_like! {
    str => |s| s.as_bytes();
    String => |s| s.as_bytes();
    [u8] => |s| s;
    Vec<u8> => |s| s;
    BytesMut => |s| s;
    Cow<'_, str> => |s| s.as_bytes();
    Cow<'_, [u8]> => |s| s;
}

/// A large `Bytes` value is not copied: the command keeps a reference to it.
impl ToArg for Bytes {
    #[inline]
    fn write_arg(&self, out: &mut CommandBuf) {
        if self.len() < crate::command::LARGE_ARG {
            out.push(self)
        } else {
            out.push_bytes(self.clone())
        }
    }
}

impl<const N: usize> ToArg for [u8; N] {
    #[inline]
    fn write_arg(&self, out: &mut CommandBuf) {
        out.push(self)
    }
}

impl ToArg for char {
    fn write_arg(&self, out: &mut CommandBuf) {
        let mut b = [0u8; 4];
        out.push(self.encode_utf8(&mut b).as_bytes())
    }
}

/// A primitive integer, for arguments the spec types `integer`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an integer argument",
    label = "expected an integer",
    note = "this argument is an integer: pass `i64`, `u32`, `usize`, ...; parse text first (`\"5\".parse::<i64>()`)"
)]
pub trait IntArg {
    /// Appends `self` in decimal.
    fn write_int(&self, out: &mut CommandBuf);
}

/// Appends an integer in decimal.
fn push_int(v: impl itoa::Integer, out: &mut CommandBuf) {
    out.push(itoa::Buffer::new().format(v).as_bytes())
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn write_arg(&self, out: &mut CommandBuf) {
                push_int(*self, out)
            }
        }
    )*};
}

int_args!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

/// A byte is a number, but a slice of bytes is one argument (its bytes), never a list
/// of numbers.
impl ToArg for u8 {
    fn write_arg(&self, out: &mut CommandBuf) {
        push_int(*self, out)
    }

    fn as_bytes(items: &[u8]) -> Option<&[u8]> {
        Some(items)
    }
}

macro_rules! ints {
    ($($t:ty),*) => {$(
        impl IntArg for $t {
            fn write_int(&self, out: &mut CommandBuf) {
                self.write_arg(out)
            }
        }
        impl SecondsArg for $t {
            fn write_seconds(&self, out: &mut CommandBuf) {
                self.write_arg(out)
            }
        }
        impl MillisArg for $t {
            fn write_millis(&self, out: &mut CommandBuf) {
                self.write_arg(out)
            }
        }
        impl UnixTimeArg for $t {
            fn write_unix_time(&self, _millis: bool, out: &mut CommandBuf) {
                self.write_arg(out)
            }
        }
        impl DoubleArg for $t {
            fn write_double(&self, out: &mut CommandBuf) {
                self.write_arg(out)
            }
        }
        impl TimeoutArg for $t {
            fn write_timeout(&self, out: &mut CommandBuf) {
                self.write_arg(out)
            }
        }
    )*};
}

ints!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

/// Formats a finite or infinite number the way the server parses it.
fn with_f64<R>(v: f64, f: impl FnOnce(&[u8]) -> R) -> R {
    if v.is_infinite() {
        f(if v > 0.0 { b"+inf" } else { b"-inf" })
    } else if v == v.trunc() && v.abs() < 1e15 {
        // Whole numbers as integers: "3" rather than "3.0", exact and shorter.
        f(itoa::Buffer::new().format(v as i64).as_bytes())
    } else {
        f(ryu::Buffer::new().format(v).as_bytes())
    }
}

fn push_f64(v: f64, out: &mut CommandBuf) {
    if v.is_nan() {
        out.fail("must be a number, not NaN");
    }
    with_f64(v, |text| out.push(text))
}

impl ToArg for f64 {
    fn write_arg(&self, out: &mut CommandBuf) {
        push_f64(*self, out)
    }
}

impl ToArg for f32 {
    fn write_arg(&self, out: &mut CommandBuf) {
        push_f64(f64::from(*self), out)
    }
}

/// A number for arguments the spec types `double`: floats, integers, and
/// [`ScoreBound`] for the score ranges of the sorted-set commands.
///
/// NaN is rejected before the command is sent; infinities encode as `+inf` / `-inf`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number argument",
    label = "expected a number",
    note = "this argument is a number: pass `f64`, `f32`, an integer, or a `ScoreBound` for a score range (`ScoreBound::Exclusive(1.5)`, `ScoreBound::PosInf`)"
)]
pub trait DoubleArg {
    /// Appends `self` as a decimal number.
    fn write_double(&self, out: &mut CommandBuf);
}

impl DoubleArg for f64 {
    fn write_double(&self, out: &mut CommandBuf) {
        push_f64(*self, out)
    }
}

impl DoubleArg for f32 {
    fn write_double(&self, out: &mut CommandBuf) {
        push_f64(f64::from(*self), out)
    }
}

/// One end of a score range (`ZRANGEBYSCORE`, `ZCOUNT`, `ZREMRANGEBYSCORE`, ...).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScoreBound {
    /// The score itself is in the range.
    Inclusive(f64),
    /// The score itself is not in the range (`(1.5`).
    Exclusive(f64),
    /// `-inf`.
    NegInf,
    /// `+inf`.
    PosInf,
}

impl DoubleArg for ScoreBound {
    fn write_double(&self, out: &mut CommandBuf) {
        match *self {
            ScoreBound::Inclusive(v) => push_f64(v, out),
            ScoreBound::Exclusive(v) => {
                if v.is_nan() {
                    out.fail("must be a number, not NaN");
                }
                with_f64(v, |text| out.push_parts(&[b"(", text]))
            }
            ScoreBound::NegInf => out.push(b"-inf"),
            ScoreBound::PosInf => out.push(b"+inf"),
        }
    }
}

impl ToArg for ScoreBound {
    fn write_arg(&self, out: &mut CommandBuf) {
        self.write_double(out)
    }
}

/// One end of a lexicographic range (`ZRANGEBYLEX`, `ZLEXCOUNT`, `ZRANGE ... BYLEX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound<T> {
    /// The member itself is in the range (`[a`).
    Inclusive(T),
    /// The member itself is not in the range (`(a`).
    Exclusive(T),
    /// Below every member (`-`).
    Min,
    /// Above every member (`+`).
    Max,
}

impl<T: AsRef<[u8]>> ToArg for LexBound<T> {
    fn write_arg(&self, out: &mut CommandBuf) {
        let (prefix, v) = match self {
            LexBound::Inclusive(v) => (b'[', v.as_ref()),
            LexBound::Exclusive(v) => (b'(', v.as_ref()),
            LexBound::Min => return out.push(b"-"),
            LexBound::Max => return out.push(b"+"),
        };
        out.push_parts(&[&[prefix], v])
    }
}

/// A count of seconds: an integer, or a [`Duration`] of whole seconds.
///
/// A `Duration` with a fraction of a second is refused before anything is sent
/// (the error names the command and the argument): truncated, 500 ms would become
/// `EXPIRE key 0`, which deletes the key. Use the command's milliseconds form
/// (`PEXPIRE`, `PX`) for such durations.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a count of seconds",
    label = "expected whole seconds: an integer or a `Duration`",
    note = "pass an integer or a `std::time::Duration` of whole seconds; for fractions use the command's milliseconds form (`PEXPIRE`, `.px(..)`)"
)]
pub trait SecondsArg {
    /// Appends the number of seconds.
    fn write_seconds(&self, out: &mut CommandBuf);
}

impl SecondsArg for Duration {
    fn write_seconds(&self, out: &mut CommandBuf) {
        if self.subsec_nanos() != 0 {
            out.fail("is a Duration with a fraction of a second, which this argument counts in whole seconds: use the milliseconds form of the command (PEXPIRE, PX, ...) or round the Duration yourself");
        } else if i64::try_from(self.as_secs()).is_err() {
            out.fail("is a Duration longer than the server can count (more than i64::MAX seconds)");
        }
        self.as_secs().write_arg(out)
    }
}

/// A count of milliseconds: an integer, or a [`Duration`] of whole milliseconds.
///
/// A `Duration` with a fraction of a millisecond is refused before anything is sent,
/// like [`SecondsArg`]'s fractions of a second.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a count of milliseconds",
    label = "expected whole milliseconds: an integer or a `Duration`",
    note = "pass an integer or a `std::time::Duration` of whole milliseconds"
)]
pub trait MillisArg {
    /// Appends the number of milliseconds.
    fn write_millis(&self, out: &mut CommandBuf);
}

impl MillisArg for Duration {
    fn write_millis(&self, out: &mut CommandBuf) {
        if self.subsec_nanos() % 1_000_000 != 0 {
            out.fail("is a Duration with a fraction of a millisecond, which this argument counts in whole milliseconds: round the Duration to milliseconds");
        } else if i64::try_from(self.as_millis()).is_err() {
            out.fail(
                "is a Duration longer than the server can count (more than i64::MAX milliseconds)",
            );
        }
        self.as_millis().write_arg(out)
    }
}

/// A timeout in seconds that may have a fraction (the blocking list and sorted-set
/// commands): a number, or a [`Duration`]. Zero blocks forever.
pub trait TimeoutArg {
    /// Appends the timeout in seconds.
    fn write_timeout(&self, out: &mut CommandBuf);
}

impl TimeoutArg for Duration {
    fn write_timeout(&self, out: &mut CommandBuf) {
        push_f64(self.as_secs_f64(), out)
    }
}

impl TimeoutArg for f64 {
    fn write_timeout(&self, out: &mut CommandBuf) {
        if *self < 0.0 {
            out.fail("must not be negative");
        }
        push_f64(*self, out)
    }
}

/// A point in time: a [`SystemTime`], or an integer already in the unit the argument
/// asks for (seconds or milliseconds since the Unix epoch).
///
/// A `SystemTime` between two whole units is rounded **up** to the next one: a
/// deadline moves later by less than a unit, never earlier (rounded down, a time
/// half a second from now could land in the past, and `EXPIREAT` with a past time
/// deletes the key).
pub trait UnixTimeArg {
    /// Appends the time in seconds, or milliseconds when `millis`.
    fn write_unix_time(&self, millis: bool, out: &mut CommandBuf);
}

impl UnixTimeArg for SystemTime {
    fn write_unix_time(&self, millis: bool, out: &mut CommandBuf) {
        match self.duration_since(UNIX_EPOCH) {
            Ok(d) if millis => {
                let whole = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
                whole.write_arg(out)
            }
            Ok(d) => (u128::from(d.as_secs()) + u128::from(d.subsec_nanos() != 0)).write_arg(out),
            Err(_) => {
                out.fail("is before the Unix epoch");
                out.push(b"0")
            }
        }
    }
}
