//! The messages a [`Subscriber`](super::Subscriber) yields, parsed from RESP2 arrays
//! or RESP3 push frames alike.

use crate::error::{Error, Result};
use crate::reply::FromReply;
use crate::resp::{Head, Reader};
use bytes::Bytes;

/// What a [`Message`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A message published to a subscribed channel.
    Message,
    /// A message published to a channel matching a subscribed pattern.
    PMessage,
    /// A message published to a subscribed shard channel (`SPUBLISH`).
    SMessage,
    /// Confirms `SUBSCRIBE` of one channel.
    Subscribe,
    /// Confirms `UNSUBSCRIBE` of one channel.
    Unsubscribe,
    /// Confirms `PSUBSCRIBE` of one pattern.
    PSubscribe,
    /// Confirms `PUNSUBSCRIBE` of one pattern.
    PUnsubscribe,
    /// Confirms `SSUBSCRIBE` of one shard channel.
    SSubscribe,
    /// Confirms `SUNSUBSCRIBE` of one shard channel.
    SUnsubscribe,
    /// The connection was lost and made again, and every subscription renewed; what
    /// was published in between is lost (pub/sub does not keep messages).
    ///
    /// On a cluster client, also for one shard channel (named in
    /// [`channel`](Message::channel)) that the server unsubscribed because its slot
    /// moved to another node (a migration, a failover), once it is subscribed on
    /// the slot's new primary: every message published after it arrives; some
    /// published before it, while the slot moved, may be lost.
    Reconnected,
}

impl Kind {
    /// The kind named by the first element of a pub/sub frame.
    fn from_name(name: &[u8]) -> Option<Kind> {
        Some(match name {
            b"message" => Kind::Message,
            b"pmessage" => Kind::PMessage,
            b"smessage" => Kind::SMessage,
            b"subscribe" => Kind::Subscribe,
            b"unsubscribe" => Kind::Unsubscribe,
            b"psubscribe" => Kind::PSubscribe,
            b"punsubscribe" => Kind::PUnsubscribe,
            b"ssubscribe" => Kind::SSubscribe,
            b"sunsubscribe" => Kind::SUnsubscribe,
            _ => return None,
        })
    }

    /// A confirmation of a subscribe or unsubscribe, rather than a message or event.
    pub fn is_confirmation(self) -> bool {
        !matches!(
            self,
            Kind::Message | Kind::PMessage | Kind::SMessage | Kind::Reconnected
        )
    }

    /// A published message (`message`, `pmessage`, `smessage`).
    pub fn is_message(self) -> bool {
        matches!(self, Kind::Message | Kind::PMessage | Kind::SMessage)
    }
}

/// One message or confirmation, the typed form of redis-py's and coredis's message
/// dictionaries (`type`, `pattern`, `channel`, `data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// What it is.
    pub kind: Kind,
    /// The channel (for a confirmation: the channel or pattern concerned; empty for
    /// [`Kind::Reconnected`] after a reconnect, the shard channel for one after its
    /// slot moved, and empty for an unsubscribe-all when nothing was subscribed).
    pub channel: Bytes,
    /// The pattern that matched, for [`Kind::PMessage`].
    pub pattern: Option<Bytes>,
    /// What was published (empty for confirmations).
    pub payload: Bytes,
    /// For a confirmation, how many subscriptions the connection has after it.
    pub count: Option<i64>,
    /// When what was published is an array rather than a string (the server's
    /// own messages: `__redis__:invalidate` under RESP2 carries the keys that
    /// changed), its elements, and [`payload`](Self::payload) is empty. A null
    /// payload (an invalidation of every key) is an empty payload with no elements.
    pub elements: Option<Vec<Bytes>>,
}

impl Message {
    /// The payload decoded as UTF-8.
    pub fn payload_str(&self) -> Result<&str> {
        std::str::from_utf8(&self.payload).map_err(|_| Error::decode("UTF-8", "invalid UTF-8"))
    }

    /// The channel name decoded as UTF-8.
    pub fn channel_str(&self) -> Result<&str> {
        std::str::from_utf8(&self.channel).map_err(|_| Error::decode("UTF-8", "invalid UTF-8"))
    }

    pub(crate) fn reconnected() -> Self {
        Message::moved(Bytes::new())
    }

    /// A shard channel subscribed again on the new primary of its slot.
    pub(crate) fn moved(channel: Bytes) -> Self {
        Message {
            kind: Kind::Reconnected,
            channel,
            pattern: None,
            payload: Bytes::new(),
            count: None,
            elements: None,
        }
    }

    /// Parses a pub/sub frame: a RESP3 push or a RESP2 array whose first element
    /// names its kind. `Ok(None)` for a frame that is not pub/sub (a `pong`, another
    /// push kind).
    pub(crate) fn parse(frame: Bytes) -> Result<Option<Message>> {
        let mut r = Reader::new(frame);
        let n = match r.next()? {
            Head::Push(n) | Head::Array(n) => n,
            Head::Error(text) => return Err(Error::server(crate::ServerError::new(text))),
            _ => return Ok(None),
        };
        if n == 0 {
            return Ok(None);
        }
        let name = Bytes::from_reply(&mut r)?;
        let Some(kind) = Kind::from_name(&name) else {
            return Ok(None);
        };
        let bad = || Error::decode("a pub/sub message", "a frame of another shape");
        let msg = match (kind, n) {
            (Kind::PMessage, 4) => {
                let pattern = Bytes::from_reply(&mut r)?;
                let channel = Bytes::from_reply(&mut r)?;
                let (payload, elements) = payload(&mut r)?;
                Message {
                    kind,
                    channel,
                    pattern: Some(pattern),
                    payload,
                    count: None,
                    elements,
                }
            }
            (Kind::Message | Kind::SMessage, 3) => {
                let channel = Bytes::from_reply(&mut r)?;
                let (payload, elements) = payload(&mut r)?;
                Message {
                    kind,
                    channel,
                    pattern: None,
                    payload,
                    count: None,
                    elements,
                }
            }
            (k, 3) if k.is_confirmation() => {
                // The channel is null for an unsubscribe-all with nothing subscribed.
                let channel = Option::<Bytes>::from_reply(&mut r)?.unwrap_or_default();
                let count = i64::from_reply(&mut r)?;
                Message {
                    kind,
                    channel,
                    pattern: None,
                    payload: Bytes::new(),
                    count: Some(count),
                    elements: None,
                }
            }
            _ => return Err(bad()),
        };
        Ok(Some(msg))
    }
}

/// A published payload: a string, an array of strings (its elements), or null.
fn payload(r: &mut Reader) -> Result<(Bytes, Option<Vec<Bytes>>)> {
    match r.peek()? {
        Head::Array(_) | Head::Set(_) | Head::Push(_) => {
            Ok((Bytes::new(), Option::<Vec<Bytes>>::from_reply(r)?))
        }
        _ => Ok((Option::<Bytes>::from_reply(r)?.unwrap_or_default(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(frame: &'static [u8]) -> Option<Message> {
        Message::parse(Bytes::from_static(frame)).unwrap()
    }

    #[test]
    fn array_and_null_payloads_are_delivered() {
        // RESP2 client tracking's invalidations: the keys, or null for every key.
        let m = parse(
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        )
        .unwrap();
        assert_eq!(&m.channel[..], b"__redis__:invalidate");
        assert_eq!(m.elements, Some(vec![Bytes::from("a"), Bytes::from("b")]));
        assert!(m.payload.is_empty());
        let null = parse(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*-1\r\n").unwrap();
        assert_eq!((null.elements, &null.payload[..]), (None, &b""[..]));
        let p = parse(b">4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$2\r\nch\r\n*1\r\n$1\r\nk\r\n").unwrap();
        assert_eq!(p.elements, Some(vec![Bytes::from("k")]));
        // A string payload has no elements.
        let s = parse(b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n").unwrap();
        assert_eq!((s.elements, &s.payload[..]), (None, &b"hi"[..]));
    }

    #[test]
    fn resp2_and_resp3_frames_parse_alike() {
        let m2 = parse(b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n").unwrap();
        let m3 = parse(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n").unwrap();
        assert_eq!(m2, m3);
        assert_eq!(
            (m2.kind, &m2.channel[..], &m2.payload[..]),
            (Kind::Message, &b"ch"[..], &b"hi"[..])
        );
        let p = parse(b">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nx\r\n").unwrap();
        assert_eq!(p.pattern.as_deref(), Some(&b"c*"[..]));
        assert_eq!(&p.channel[..], b"ch");
        let s = parse(b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:2\r\n").unwrap();
        assert_eq!((s.kind, s.count), (Kind::Subscribe, Some(2)));
        let u = parse(b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n").unwrap();
        assert_eq!(
            (u.kind, &u.channel[..], u.count),
            (Kind::Unsubscribe, &b""[..], Some(0))
        );
    }

    #[test]
    fn other_frames_are_not_messages() {
        assert_eq!(parse(b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"), None);
        assert_eq!(parse(b"+PONG\r\n"), None);
        assert_eq!(parse(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"), None);
        assert!(
            Message::parse(Bytes::from_static(b"*2\r\n$7\r\nmessage\r\n$2\r\nch\r\n")).is_err()
        );
        assert!(Message::parse(Bytes::from_static(b"-ERR nope\r\n"))
            .unwrap_err()
            .is_server());
    }

    mod props {
        use super::*;
        use crate::resp::{write_array_header, write_bulk, Limits, Scanner};
        use bytes::BytesMut;
        use proptest::collection::vec;
        use proptest::prelude::*;

        const NAMES: [&str; 9] = [
            "message",
            "pmessage",
            "smessage",
            "subscribe",
            "unsubscribe",
            "psubscribe",
            "punsubscribe",
            "ssubscribe",
            "sunsubscribe",
        ];

        /// One element of every RESP2 and RESP3 type, nested ones included.
        const ELEMENTS: [&[u8]; 14] = [
            b"$2\r\nch\r\n",
            b"$0\r\n\r\n",
            b"$-1\r\n",
            b":3\r\n",
            b":-9223372036854775808\r\n",
            b"_\r\n",
            b"+OK\r\n",
            b"-ERR no\r\n",
            b",1.5\r\n",
            b"#t\r\n",
            b"*0\r\n",
            b"*-1\r\n",
            b"*2\r\n$1\r\na\r\n:1\r\n",
            b"%1\r\n+k\r\n$1\r\nv\r\n",
        ];

        proptest! {
            /// A message frame of any bytes, as a RESP2 array or a RESP3 push, gives
            /// back its channel, pattern and payload.
            #[test]
            fn messages_give_back_their_parts(
                push in any::<bool>(),
                kind in 0usize..3,
                parts in vec(vec(any::<u8>(), 0..16), 3),
            ) {
                let name = NAMES[kind];
                let words: Vec<&[u8]> = match kind {
                    1 => vec![name.as_bytes(), &parts[0], &parts[1], &parts[2]],
                    _ => vec![name.as_bytes(), &parts[1], &parts[2]],
                };
                let mut frame = BytesMut::new();
                if push {
                    frame.extend_from_slice(format!(">{}\r\n", words.len()).as_bytes());
                } else {
                    write_array_header(&mut frame, words.len());
                }
                for w in &words {
                    write_bulk(&mut frame, w);
                }
                let m = Message::parse(frame.freeze()).unwrap().unwrap();
                prop_assert_eq!(m.kind, Kind::from_name(name.as_bytes()).unwrap());
                prop_assert_eq!(&m.channel[..], &parts[1][..]);
                prop_assert_eq!(&m.payload[..], &parts[2][..]);
                prop_assert_eq!(m.pattern.as_deref(), (kind == 1).then_some(&parts[0][..]));
                prop_assert_eq!(m.count, None);
            }

            /// A pub/sub kind's name followed by elements of every RESP type (and
            /// random bytes after the frame): the frame parses or fails without a
            /// panic.
            #[test]
            fn frames_of_any_shape_parse_without_a_panic(
                kind in 0usize..9,
                push in any::<bool>(),
                elements in vec(0usize..ELEMENTS.len(), 0..5),
                tail in vec(any::<u8>(), 0..24),
            ) {
                let mut buf = BytesMut::new();
                let n = 1 + elements.len();
                if push {
                    buf.extend_from_slice(format!(">{n}\r\n").as_bytes());
                } else {
                    write_array_header(&mut buf, n);
                }
                write_bulk(&mut buf, NAMES[kind].as_bytes());
                for e in &elements {
                    buf.extend_from_slice(ELEMENTS[*e]);
                }
                let whole = buf.len();
                buf.extend_from_slice(&tail);
                let scanned = Scanner::new(Limits::default()).scan(&buf).ok().flatten();
                prop_assert_eq!(scanned, Some(whole));
                let _ = Message::parse(Bytes::copy_from_slice(&buf[..whole]));
            }
        }
    }
}
