//! [`WithAttributes`]: a reply with the RESP3 attributes the server sent before it
//! (justredis's `attributes=True`).

use super::{FromReply, Value};
use crate::error::Result;
use crate::resp::Reader;

/// A reply together with the RESP3 attributes (`|`) the server put in front of it:
/// auxiliary data about the reply (Redis's documented example is the popularity of
/// the keys read), which does not change the reply itself.
///
/// Attributes are skipped by every other decoding, as if they were not there; ask
/// for them by decoding into this type, for any reply type `T`:
///
/// ```
/// use bytes::Bytes;
/// use respec::{reply::WithAttributes, FromReply, Value};
///
/// let frame = Bytes::from_static(
///     b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$5\r\nhello\r\n",
/// );
/// let reply = WithAttributes::<String>::from_frame(frame)?;
/// assert_eq!(reply.value, "hello");
/// assert_eq!(reply.attributes.len(), 1);
/// assert_eq!(reply.attribute("key-popularity"), Some(&Value::Array(vec![
///     Value::Bulk(Bytes::from_static(b"key:123")),
///     Value::Int(90),
/// ])));
/// // Any other type skips them.
/// # let frame = Bytes::from_static(
/// #     b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$5\r\nhello\r\n",
/// # );
/// assert_eq!(String::from_frame(frame)?, "hello");
/// # Ok::<_, respec::Error>(())
/// ```
///
/// On a command, [`with_attributes`](crate::cmd::Get::with_attributes) keeps its
/// reply type: `client.get("k").with_attributes().await?` is a
/// `WithAttributes<Option<Bytes>>`. Only the attributes in front of the whole reply
/// are collected here; those of elements inside it are skipped, unless the element
/// type is itself a `WithAttributes` (`Vec<WithAttributes<Bytes>>`). Without
/// attributes, `attributes` is empty. Servers send attributes only under RESP3.
#[derive(Debug, Clone, PartialEq)]
pub struct WithAttributes<T> {
    /// The attributes' key/value pairs, in the server's order (from every attribute
    /// frame in front of the reply, when there are several).
    pub attributes: Vec<(Value, Value)>,
    /// The reply.
    pub value: T,
}

impl<T> WithAttributes<T> {
    /// The value of the attribute whose key is the string `key`.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|(k, _)| k.as_bytes().is_some_and(|b| b.as_ref() == key.as_bytes()))
            .map(|(_, v)| v)
    }
}

impl<T: FromReply> FromReply for WithAttributes<T> {
    fn from_reply(r: &mut Reader) -> Result<Self> {
        let mut attributes = Vec::new();
        while let Some(pairs) = r.attribute()? {
            attributes.reserve(pairs.min(64));
            for _ in 0..pairs {
                let key = Value::from_reply(r)?;
                let value = Value::from_reply(r)?;
                attributes.push((key, value));
            }
        }
        Ok(WithAttributes {
            attributes,
            value: T::from_reply(r)?,
        })
    }
}
