//! [`Push`]: the typed form of a RESP3 push frame that is neither a reply nor a
//! pub/sub message for a subscriber, handed to the client's push hook.

use super::FromReply;
use crate::error::{Error, Result};
use crate::resp::{Head, Reader};
use bytes::Bytes;

/// A RESP3 push frame for the client's push hook
/// (`ClientBuilder::push_hook`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Push {
    /// Client-side caching (`CLIENT TRACKING ON`): these keys may have changed and
    /// any copy of them is stale. `None` means every key is: the server flushed its
    /// data, or it could no longer track this connection's keys.
    Invalidate(Option<Vec<Bytes>>),
    /// A kind this client does not know: its name and the whole frame (decode it
    /// with [`FromReply::from_frame`], into [`Value`](crate::Value) for one).
    Other {
        /// The push's first element, naming its kind.
        kind: Bytes,
        /// The frame as it came.
        frame: Bytes,
    },
}

impl Push {
    /// Parses a push frame (`>` followed by the kind and its data).
    pub fn parse(frame: Bytes) -> Result<Push> {
        let mut r = Reader::new(frame.clone());
        let n = match r.next()? {
            Head::Push(n) if n > 0 => n,
            _ => return Err(Error::decode("a push frame", "another frame")),
        };
        let kind = Bytes::from_reply(&mut r)?;
        if &kind[..] == b"invalidate" && n == 2 {
            return Ok(Push::Invalidate(Option::<Vec<Bytes>>::from_reply(&mut r)?));
        }
        Ok(Push::Other { kind, frame })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(frame: &'static [u8]) -> Result<Push> {
        Push::parse(Bytes::from_static(frame))
    }

    #[test]
    fn invalidations_and_other_kinds() {
        assert_eq!(
            parse(b">2\r\n$10\r\ninvalidate\r\n*2\r\n$1\r\na\r\n$2\r\nbc\r\n").unwrap(),
            Push::Invalidate(Some(vec![Bytes::from("a"), Bytes::from("bc")]))
        );
        assert_eq!(
            parse(b">2\r\n$10\r\ninvalidate\r\n_\r\n").unwrap(),
            Push::Invalidate(None)
        );
        let frame = &b">3\r\n$7\r\nunknown\r\n:1\r\n:2\r\n"[..];
        assert_eq!(
            parse(frame).unwrap(),
            Push::Other {
                kind: Bytes::from("unknown"),
                frame: Bytes::from_static(frame)
            }
        );
        assert!(parse(b"+OK\r\n").unwrap_err().is_decode());
        assert!(parse(b">0\r\n").is_err());
        assert!(parse(b">2\r\n$10\r\ninvalidate\r\n:3\r\n").is_err());
    }
}
