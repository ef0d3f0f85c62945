//! [`CacheError`]: why a cache could not read, write or compute a value.

use crate::error::Error;
use std::fmt;

/// An error of a compression hook or of a value's computation, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a cache operation failed. `Display` names the cache and, when there is one,
/// the key, and says what failed, in one sentence; what failed underneath (the client
/// error, serde_json's error, the compression hook's or the computation's error) is
/// its [`source`](std::error::Error::source).
#[derive(Debug)]
pub struct CacheError {
    cache: String,
    key: Option<String>,
    kind: Kind,
    source: Option<BoxError>,
}

#[derive(Debug)]
enum Kind {
    /// An option or argument the cache cannot work with; nothing was sent.
    InvalidArgument { arg: &'static str, problem: String },
    /// The arguments or the value could not be serialized (or compressed).
    Encode { what: &'static str },
    /// The stored value could not be decompressed or deserialized.
    Decode,
    /// The computation of a value failed.
    Compute,
    /// The client failed (connection, server error): the source says how.
    Client { op: &'static str },
}

impl CacheError {
    pub(crate) fn invalid(cache: &str, arg: &'static str, problem: impl Into<String>) -> Self {
        CacheError::new(
            cache,
            None,
            Kind::InvalidArgument {
                arg,
                problem: problem.into(),
            },
            None,
        )
    }

    pub(crate) fn encode(cache: &str, key: Option<&str>, what: &'static str, e: BoxError) -> Self {
        CacheError::new(cache, key, Kind::Encode { what }, Some(e))
    }

    pub(crate) fn decode(cache: &str, key: &str, e: BoxError) -> Self {
        CacheError::new(cache, Some(key), Kind::Decode, Some(e))
    }

    pub(crate) fn compute(cache: &str, key: &str, e: BoxError) -> Self {
        CacheError::new(cache, Some(key), Kind::Compute, Some(e))
    }

    pub(crate) fn client(cache: &str, key: Option<&str>, op: &'static str, e: Error) -> Self {
        CacheError::new(cache, key, Kind::Client { op }, Some(Box::new(e)))
    }

    fn new(cache: &str, key: Option<&str>, kind: Kind, source: Option<BoxError>) -> Self {
        CacheError {
            cache: cache.to_owned(),
            key: key.map(str::to_owned),
            kind,
            source,
        }
    }

    /// The name of the cache.
    pub fn cache_name(&self) -> &str {
        &self.cache
    }

    /// The key concerned, when the operation was about one key.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// An option or argument was invalid (an empty name, a zero TTL, ...): nothing
    /// was sent.
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self.kind, Kind::InvalidArgument { .. })
    }

    /// The arguments or the value could not be serialized, or the value compressed.
    pub fn is_encode(&self) -> bool {
        matches!(self.kind, Kind::Encode { .. })
    }

    /// The stored value could not be decompressed or deserialized into the type
    /// asked for (it was written as another type, or by another compression).
    pub fn is_decode(&self) -> bool {
        matches!(self.kind, Kind::Decode)
    }

    /// The function computing the value failed (its error is the source).
    pub fn is_compute(&self) -> bool {
        matches!(self.kind, Kind::Compute)
    }

    /// The client error underneath (a lost connection, a server error), if that is
    /// what failed.
    pub fn client_error(&self) -> Option<&Error> {
        self.source.as_ref()?.downcast_ref::<Error>()
    }
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cache `{}`", self.cache)?;
        if let Some(key) = &self.key {
            write!(f, ", key `{key}`")?;
        }
        match &self.kind {
            Kind::InvalidArgument { arg, problem } => {
                write!(f, ": `{arg}` {problem}; nothing was sent")
            }
            Kind::Encode { what } => write!(f, ": the {what} could not be encoded"),
            Kind::Decode => write!(
                f,
                ": the stored value could not be decoded (written as another type or with another compression?)"
            ),
            Kind::Compute => write!(f, ": computing the value failed"),
            Kind::Client { op } => write!(f, ": {op} failed"),
        }
    }
}

impl std::error::Error for CacheError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| &**e as &(dyn std::error::Error + 'static))
    }
}
