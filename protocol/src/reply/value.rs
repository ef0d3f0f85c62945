//! [`Value`]: any reply, untyped.

use super::FromReply;
use crate::error::{Result, ServerError};
use crate::resp::{Head, Reader};
use bytes::Bytes;

/// Any reply, as the server sent it: the escape hatch for commands whose reply has no
/// typed form (modules, commands newer than the spec) and for exploring.
///
/// Unlike the typed decodings, a `Value` keeps the protocol's shape: the same reply
/// may be a [`Value::Map`] under RESP3 and a flat [`Value::Array`] under RESP2.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Null (`_`, or RESP2's `$-1` / `*-1`).
    Nil,
    /// An integer.
    Int(i64),
    /// A bulk string.
    Bulk(Bytes),
    /// A simple string (`+OK`).
    Simple(Bytes),
    /// A double.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// A big number, as decimal digits.
    BigNumber(Bytes),
    /// A verbatim string: its three-letter format (`txt`, `mkd`) and its text.
    Verbatim {
        /// The format.
        format: Bytes,
        /// The text.
        text: Bytes,
    },
    /// An array.
    Array(Vec<Value>),
    /// A set.
    Set(Vec<Value>),
    /// A map, in the server's order.
    Map(Vec<(Value, Value)>),
    /// A push message.
    Push(Vec<Value>),
    /// An error reply. Inside an aggregate (EXEC results) it is kept as a value; the
    /// client returns a top-level error reply as an `Err` before decoding.
    Error(ServerError),
}

impl Value {
    /// The bytes of a string-like value (bulk, simple, verbatim text, big number).
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => Some(b),
            Value::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// True for [`Value::Nil`].
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    fn read(r: &mut Reader) -> Result<Self> {
        let seq = |r: &mut Reader, n: usize| -> Result<Vec<Value>> {
            let mut v = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                v.push(Value::read(r)?);
            }
            Ok(v)
        };
        Ok(match r.next()? {
            Head::Null => Value::Nil,
            Head::Int(i) => Value::Int(i),
            Head::Bulk(b) => Value::Bulk(b),
            Head::Simple(b) => Value::Simple(b),
            Head::Double(d) => Value::Double(d),
            Head::Bool(b) => Value::Bool(b),
            Head::BigNumber(b) => Value::BigNumber(b),
            Head::Verbatim(format, text) => Value::Verbatim { format, text },
            Head::Error(text) => Value::Error(ServerError::new(text)),
            Head::Array(n) => Value::Array(seq(r, n)?),
            Head::Set(n) => Value::Set(seq(r, n)?),
            Head::Push(n) => Value::Push(seq(r, n)?),
            Head::Map(n) => {
                let mut v = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let k = Value::read(r)?;
                    v.push((k, Value::read(r)?));
                }
                Value::Map(v)
            }
        })
    }
}

impl FromReply for Value {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        Value::read(r)
    }
}
