//! Values in and out of the server: serialized as JSON with serde, then compressed
//! by the cache's [`Compression`] hook, if it has one.

use super::error::{BoxError, CacheError};
use super::options::Cache;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A compression of the cache's serialized values, applied after serialization and
/// undone before deserialization (none by default: see [`Cache::compression`]).
/// Implement it with the compression crate of your choice:
///
/// ```
/// use respec::cache::{BoxError, Compression};
///
/// /// Run-length encoding of zero bytes (a toy).
/// #[derive(Debug)]
/// struct Zeros;
///
/// impl Compression for Zeros {
///     fn compress(&self, data: &[u8]) -> Result<Vec<u8>, BoxError> {
///         Ok(data.to_vec()) // a real one would shrink it
///     }
///     fn decompress(&self, data: &[u8]) -> Result<Vec<u8>, BoxError> {
///         Ok(data.to_vec())
///     }
/// }
/// ```
pub trait Compression: Send + Sync + 'static {
    /// Compresses a serialized value before it is written.
    fn compress(&self, data: &[u8]) -> Result<Vec<u8>, BoxError>;
    /// Undoes [`compress`](Compression::compress) on a value read.
    fn decompress(&self, data: &[u8]) -> Result<Vec<u8>, BoxError>;
}

impl Cache {
    /// `value` as written to the server.
    pub(crate) fn encode(&self, key: &str, value: &impl Serialize) -> Result<Bytes, CacheError> {
        let bad = |what, e| CacheError::encode(&self.name, Some(key), what, e);
        let json = serde_json::to_vec(value).map_err(|e| bad("value", Box::new(e)))?;
        match &self.compression {
            None => Ok(Bytes::from(json)),
            Some(c) => c
                .compress(&json)
                .map(Bytes::from)
                .map_err(|e| bad("value (compression)", e)),
        }
    }

    /// The value read from `key`.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        key: &str,
        stored: &[u8],
    ) -> Result<T, CacheError> {
        let bad = |e| CacheError::decode(&self.name, key, e);
        match &self.compression {
            None => serde_json::from_slice(stored).map_err(|e| bad(Box::new(e))),
            Some(c) => {
                let json = c.decompress(stored).map_err(bad)?;
                serde_json::from_slice(&json).map_err(|e| bad(Box::new(e)))
            }
        }
    }
}
