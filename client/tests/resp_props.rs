//! Property tests of the sans-IO RESP layer: framing ([`Scanner`]), reading
//! ([`Reader`]) and decoding ([`FromReply`]).
//!
//! A generator builds arbitrary valid RESP2/RESP3 frames of every type, nested a few
//! levels deep, together with the [`Value`] each must decode to. The properties:
//!
//! - a stream of frames, however it is cut into reads, is split into exactly the
//!   frames it was made of;
//! - every frame decodes to its expected `Value`, and typed decodings agree with it;
//! - no typed decoding panics on any frame, and a successful one reads the whole frame;
//! - no byte string (random, token soup, or a mutated valid stream) makes the scanner
//!   panic, and a frame it accepts is read whole without a panic;
//! - the scanner says the same thing whether the bytes arrive at once or one by one,
//!   and the length it says an incomplete frame needs is never more than the frame's.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use respec::reply::{GeoMatch, LcsMatches, StreamEntry};
use respec::resp::{write_array_header, write_bulk, Limits, Reader, Scanner};
use respec::{FromReply, ServerError, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

// ---------------------------------------------------------------------------------
// The frame model
// ---------------------------------------------------------------------------------

/// A RESP frame as the generator builds it.
#[derive(Debug, Clone)]
enum Frame {
    /// `+text` (no CR or LF in the text).
    Simple(Vec<u8>),
    /// `-text`.
    Error(Vec<u8>),
    /// `:n`.
    Int(i64),
    /// `$len` + payload (any bytes, CRLF included).
    Bulk(Vec<u8>),
    /// `$-1`.
    NullBulk,
    /// `*-1`.
    NullArray,
    /// `_`.
    Null,
    /// `#t` / `#f`.
    Bool(bool),
    /// `,text` and the value the text stands for.
    Double(String, f64),
    /// `(digits`.
    BigNumber(String),
    /// `!len` + text.
    BlobError(Vec<u8>),
    /// `=len` + `fmt:` + text.
    Verbatim([u8; 3], Vec<u8>),
    Array(Vec<Frame>),
    Set(Vec<Frame>),
    Map(Vec<(Frame, Frame)>),
    Push(Vec<Frame>),
    /// `|n` + n pairs, then the element they annotate.
    Attributed(Vec<(Frame, Frame)>, Box<Frame>),
}

fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
    out.push(kind);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

fn blob(out: &mut Vec<u8>, kind: u8, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    line(out, kind, len.to_string().as_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    out.extend_from_slice(b"\r\n");
}

impl Frame {
    fn encode(&self, out: &mut Vec<u8>) {
        let seq = |out: &mut Vec<u8>, kind: u8, items: &[Frame]| {
            line(out, kind, items.len().to_string().as_bytes());
            for f in items {
                f.encode(out);
            }
        };
        let pairs = |out: &mut Vec<u8>, kind: u8, items: &[(Frame, Frame)]| {
            line(out, kind, items.len().to_string().as_bytes());
            for (k, v) in items {
                k.encode(out);
                v.encode(out);
            }
        };
        match self {
            Frame::Simple(t) => line(out, b'+', t),
            Frame::Error(t) => line(out, b'-', t),
            Frame::Int(i) => line(out, b':', i.to_string().as_bytes()),
            Frame::Bulk(b) => blob(out, b'$', &[b]),
            Frame::NullBulk => line(out, b'$', b"-1"),
            Frame::NullArray => line(out, b'*', b"-1"),
            Frame::Null => line(out, b'_', b""),
            Frame::Bool(b) => line(out, b'#', if *b { b"t" } else { b"f" }),
            Frame::Double(text, _) => line(out, b',', text.as_bytes()),
            Frame::BigNumber(digits) => line(out, b'(', digits.as_bytes()),
            Frame::BlobError(t) => blob(out, b'!', &[t]),
            Frame::Verbatim(fmt, t) => blob(out, b'=', &[fmt, b":", t]),
            Frame::Array(items) => seq(out, b'*', items),
            Frame::Set(items) => seq(out, b'~', items),
            Frame::Push(items) => seq(out, b'>', items),
            Frame::Map(items) => pairs(out, b'%', items),
            Frame::Attributed(attrs, inner) => {
                pairs(out, b'|', attrs);
                inner.encode(out);
            }
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// The value the frame must decode to (attributes are skipped).
    fn value(&self) -> Value {
        let b = |v: &[u8]| Bytes::copy_from_slice(v);
        let seq = |items: &[Frame]| items.iter().map(Frame::value).collect();
        match self {
            Frame::Simple(t) => Value::Simple(b(t)),
            Frame::Error(t) | Frame::BlobError(t) => Value::Error(ServerError::new(b(t))),
            Frame::Int(i) => Value::Int(*i),
            Frame::Bulk(v) => Value::Bulk(b(v)),
            Frame::NullBulk | Frame::NullArray | Frame::Null => Value::Nil,
            Frame::Bool(v) => Value::Bool(*v),
            Frame::Double(_, d) => Value::Double(*d),
            Frame::BigNumber(d) => Value::BigNumber(b(d.as_bytes())),
            Frame::Verbatim(fmt, t) => Value::Verbatim {
                format: b(fmt),
                text: b(t),
            },
            Frame::Array(items) => Value::Array(seq(items)),
            Frame::Set(items) => Value::Set(seq(items)),
            Frame::Push(items) => Value::Push(seq(items)),
            Frame::Map(items) => {
                Value::Map(items.iter().map(|(k, v)| (k.value(), v.value())).collect())
            }
            Frame::Attributed(_, inner) => inner.value(),
        }
    }
}

/// Value equality where NaN equals NaN and doubles compare bit for bit otherwise.
fn same_value(a: &Value, b: &Value) -> bool {
    let all = |a: &[Value], b: &[Value]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
    };
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => same_double(*x, *y),
        (Value::Array(x), Value::Array(y))
        | (Value::Set(x), Value::Set(y))
        | (Value::Push(x), Value::Push(y)) => all(x, y),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same_value(k1, k2) && same_value(v1, v2))
        }
        _ => a == b,
    }
}

fn same_double(x: f64, y: f64) -> bool {
    (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
}

// ---------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------

/// Text of a simple string or error: any bytes but CR and LF.
fn line_text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => vec(any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'), 0..24),
        1 => "[A-Z]{2,10} [ -~&&[^\r\n]]{0,30}".prop_map(String::into_bytes),
        1 => Just(b"OK".to_vec()),
    ]
}

/// Payload of a bulk string, blob error or verbatim string: any bytes, often with
/// CR, LF and things that look like RESP, sometimes long.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => vec(any::<u8>(), 1..4),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"$3\r\nfoo\r\n".to_vec()),
        1 => Just(b"*1\r\n".to_vec()),
        1 => Just(b"+OK\r\n".to_vec()),
    ];
    prop_oneof![
        8 => vec(piece, 0..10).prop_map(|p| p.concat()),
        1 => Just(Vec::new()),
        1 => vec(any::<u8>(), 200..3000),
    ]
}

/// A double as a server (or a proxy) could write it, with the value it stands for.
fn double() -> impl Strategy<Value = (String, f64)> {
    let special = prop_oneof![
        Just(("inf".to_owned(), f64::INFINITY)),
        Just(("+inf".to_owned(), f64::INFINITY)),
        Just(("-inf".to_owned(), f64::NEG_INFINITY)),
        Just(("nan".to_owned(), f64::NAN)),
        Just(("-nan".to_owned(), f64::NAN)),
        Just(("0".to_owned(), 0.0)),
        Just(("-0".to_owned(), -0.0)),
        Just(("1e-5".to_owned(), 1e-5)),
        Just(("1E+300".to_owned(), 1e300)),
        Just(("-2.5e-3".to_owned(), -2.5e-3)),
    ];
    let number = prop_oneof![
        any::<f64>().prop_filter("NaN is spelled `nan`", |d| !d.is_nan()),
        (-1_000_000i64..1_000_000).prop_map(|i| i as f64),
        (-1_000_000i64..1_000_000, -30i32..30).prop_map(|(m, e)| m as f64 * 10f64.powi(e)),
    ];
    let formatted = (number, 0..5u8).prop_map(|(d, style)| {
        let text = match style {
            0 => format!("{d}"),
            1 => format!("{d:e}"),
            2 => format!("{d:E}"),
            3 => ryu::Buffer::new().format(d).to_owned(),
            // An explicit sign on the exponent and on a positive number.
            _ => {
                let s = format!("{d:e}");
                let s = if s.contains("e-") {
                    s
                } else {
                    s.replace('e', "e+")
                };
                if d.is_sign_negative() {
                    s
                } else {
                    format!("+{s}")
                }
            }
        };
        (text, d)
    });
    prop_oneof![1 => special, 4 => formatted]
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line_text().prop_map(Frame::Simple),
        line_text().prop_map(Frame::Error),
        prop_oneof![any::<i64>(), -1000i64..1000].prop_map(Frame::Int),
        payload().prop_map(Frame::Bulk),
        Just(Frame::NullBulk),
        Just(Frame::NullArray),
        Just(Frame::Null),
        any::<bool>().prop_map(Frame::Bool),
        double().prop_map(|(t, d)| Frame::Double(t, d)),
        "-?[0-9]{1,40}".prop_map(Frame::BigNumber),
        payload().prop_map(Frame::BlobError),
        (
            prop_oneof![Just(*b"txt"), Just(*b"mkd"), any::<[u8; 3]>()],
            payload()
        )
            .prop_map(|(f, t)| Frame::Verbatim(f, t)),
        // Empty aggregates are leaves to the scanner.
        Just(Frame::Array(Vec::new())),
        Just(Frame::Map(Vec::new())),
    ]
}

/// Any frame, aggregates nested up to five levels deep.
fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        let items = vec(inner.clone(), 0..6);
        let pairs = vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            3 => items.clone().prop_map(Frame::Array),
            1 => items.clone().prop_map(Frame::Set),
            2 => pairs.clone().prop_map(Frame::Map),
            1 => items.prop_map(Frame::Push),
            1 => (pairs, inner).prop_map(|(a, f)| Frame::Attributed(a, Box::new(f))),
        ]
    })
}

/// Several frames, back to back, as a server sends replies to a pipeline.
fn stream() -> impl Strategy<Value = Vec<Frame>> {
    vec(frame(), 1..6)
}

/// A valid stream, encoded.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    stream().prop_map(|frames| frames.iter().flat_map(Frame::to_bytes).collect())
}

/// Pieces RESP is made of, glued at random: mostly-wellformed garbage.
fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        prop::sample::select(&b"*%|~>$!=+-:,(#_"[..]).prop_map(|b| vec![b]),
        Just(b"\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        (0u64..5).prop_map(|n| n.to_string().into_bytes()),
        prop::sample::select(vec![
            "-1",
            "t",
            "f",
            "inf",
            "-nan",
            "1e5",
            "txt:",
            "OK",
            "\r",
            "\n",
            "a",
            "1.5",
            "10",
            "99999999999999999999",
            "-0",
            "-01",
            "+1",
            "007",
            "",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    vec(token, 0..40).prop_map(|t| t.concat())
}

/// A valid stream with a few bytes replaced, inserted or removed, or cut short.
fn mutated_stream() -> impl Strategy<Value = Vec<u8>> {
    (
        stream(),
        vec((any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..4),
    )
        .prop_map(|(frames, edits)| {
            let mut bytes: Vec<u8> = frames.iter().flat_map(Frame::to_bytes).collect();
            for (at, byte, op) in edits {
                if bytes.is_empty() {
                    bytes.push(byte);
                    continue;
                }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    2 => {
                        bytes.remove(i);
                    }
                    _ => bytes.truncate(i),
                }
            }
            bytes
        })
}

/// Bytes that are probably not valid RESP.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![vec(any::<u8>(), 0..64), token_soup(), mutated_stream(),]
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// Plays a connection: `stream` arrives in reads that end at `cuts` (increasing
/// offsets); after each read the buffer is scanned and every complete frame split off.
/// What [`Scanner::wanted`] announces while a frame is incomplete is checked against
/// the frame's real length.
fn frames_read_as(stream: &[u8], cuts: impl IntoIterator<Item = usize>) -> Vec<Bytes> {
    let mut scanner = Scanner::default();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut done = 0;
    // The most the current frame was said to need.
    let mut wanted = 0;
    for cut in cuts.into_iter().chain([stream.len()]) {
        let cut = cut.clamp(done, stream.len());
        buf.extend_from_slice(&stream[done..cut]);
        done = cut;
        while let Some(n) = scanner
            .scan(&buf)
            .unwrap_or_else(|e| panic!("valid stream rejected: {e}"))
        {
            assert!(n > 0 && n <= buf.len());
            assert!(
                n >= wanted,
                "a frame of {n} bytes was said to need {wanted}"
            );
            wanted = 0;
            frames.push(buf.split_to(n).freeze());
        }
        wanted = wanted.max(check_wanted(&scanner, buf.len()));
    }
    assert!(buf.is_empty(), "{} bytes left unframed", buf.len());
    frames
}

/// Decodes `frame` as `T` twice (through `from_frame` and through a `Reader`); the two
/// agree on success, and a successful decoding reads the whole frame.
fn decode<T: FromReply>(frame: &Bytes) -> Option<T> {
    let whole = T::from_frame(frame.clone());
    let mut r = Reader::new(frame.clone());
    let read = T::from_reply(&mut r);
    assert_eq!(whole.is_ok(), read.is_ok());
    if read.is_ok() {
        assert!(
            r.is_empty(),
            "decoding as {} left bytes unread in {:?}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(frame)
        );
    }
    whole.ok()
}

/// Decodes `frame` as every type of the set; none may panic.
fn decode_as_everything(frame: &Bytes) {
    decode::<Bytes>(frame);
    decode::<String>(frame);
    decode::<Vec<u8>>(frame);
    decode::<i64>(frame);
    decode::<u64>(frame);
    decode::<i32>(frame);
    decode::<f64>(frame);
    decode::<bool>(frame);
    decode::<()>(frame);
    decode::<Option<Bytes>>(frame);
    decode::<Option<i64>>(frame);
    decode::<Vec<Bytes>>(frame);
    decode::<Vec<Option<Bytes>>>(frame);
    decode::<Vec<Value>>(frame);
    decode::<Vec<(Bytes, f64)>>(frame);
    decode::<Option<(Bytes, f64)>>(frame);
    decode::<HashMap<Bytes, Bytes>>(frame);
    decode::<BTreeMap<String, Value>>(frame);
    decode::<HashSet<Bytes>>(frame);
    decode::<(i64, Bytes)>(frame);
    decode::<(Bytes, Bytes, i64)>(frame);
    decode::<Vec<Vec<Bytes>>>(frame);
    decode::<GeoMatch>(frame);
    decode::<StreamEntry>(frame);
    decode::<LcsMatches>(frame);
    decode::<Value>(frame);
}

/// Checks that the typed decodings agree with the frame's value where the mapping is
/// obvious.
fn typed_agree_with(frame: &Bytes, value: &Value) {
    match value {
        Value::Int(i) => {
            assert_eq!(decode::<i64>(frame), Some(*i));
            assert_eq!(decode::<Bytes>(frame), Some(Bytes::from(i.to_string())));
            assert_eq!(decode::<bool>(frame), Some(*i != 0));
        }
        Value::Bulk(b) | Value::Simple(b) => {
            assert_eq!(decode::<Bytes>(frame).as_ref(), Some(b));
            assert_eq!(decode::<Option<Bytes>>(frame), Some(Some(b.clone())));
            assert_eq!(
                decode::<String>(frame),
                std::str::from_utf8(b).ok().map(str::to_owned)
            );
        }
        Value::Verbatim { text, .. } => {
            assert_eq!(decode::<Bytes>(frame).as_ref(), Some(text));
        }
        Value::BigNumber(digits) => {
            assert_eq!(decode::<Bytes>(frame).as_ref(), Some(digits));
        }
        Value::Nil => {
            assert_eq!(decode::<Option<Bytes>>(frame), Some(None));
            assert_eq!(decode::<bool>(frame), Some(false));
            assert!(decode::<Bytes>(frame).is_none());
        }
        Value::Bool(b) => {
            assert_eq!(decode::<bool>(frame), Some(*b));
            assert_eq!(decode::<i64>(frame), Some(i64::from(*b)));
        }
        Value::Double(d) => {
            let got = decode::<f64>(frame).expect("a double decodes as f64");
            assert!(same_double(got, *d), "{got} != {d}");
        }
        Value::Error(e) => {
            // A top-level error reply is a server error whatever type was asked for.
            fn server_error<T: FromReply>(frame: &Bytes, e: &ServerError) {
                let err = match T::from_frame(frame.clone()) {
                    Ok(_) => panic!("an error reply decoded as {}", std::any::type_name::<T>()),
                    Err(err) => err,
                };
                assert!(err.is_server(), "{err}");
                assert_eq!(err.server_error(), Some(e));
            }
            server_error::<Bytes>(frame, e);
            server_error::<i64>(frame, e);
            server_error::<f64>(frame, e);
            server_error::<bool>(frame, e);
            server_error::<()>(frame, e);
            server_error::<Option<Bytes>>(frame, e);
            server_error::<Vec<Bytes>>(frame, e);
            server_error::<HashMap<Bytes, Bytes>>(frame, e);
            server_error::<(i64, Bytes)>(frame, e);
        }
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            let bulks: Option<Vec<Bytes>> = items
                .iter()
                .map(|v| match v {
                    Value::Bulk(b) | Value::Simple(b) => Some(b.clone()),
                    _ => None,
                })
                .collect();
            if let Some(bulks) = bulks {
                assert_eq!(decode::<Vec<Bytes>>(frame), Some(bulks));
            }
            let values = decode::<Vec<Value>>(frame).expect("an aggregate decodes as Vec<Value>");
            assert!(same_value(
                &Value::Array(values),
                &Value::Array(items.clone())
            ));
        }
        Value::Map(pairs) => {
            let bulk = |v: &Value| match v {
                Value::Bulk(b) | Value::Simple(b) => Some(b.clone()),
                _ => None,
            };
            let flat: Option<Vec<(Bytes, Bytes)>> = pairs
                .iter()
                .map(|(k, v)| Some((bulk(k)?, bulk(v)?)))
                .collect();
            if let Some(flat) = flat {
                let expected: HashMap<Bytes, Bytes> = flat.into_iter().collect();
                assert_eq!(decode::<HashMap<Bytes, Bytes>>(frame), Some(expected));
            }
        }
    }
}

/// The scanner's verdict on `buf` given whole.
fn scan_whole(buf: &[u8], limits: &Limits) -> Result<Option<usize>, respec::resp::ProtocolError> {
    Scanner::new(limits.clone()).scan(buf)
}

/// The scanner's verdict on `buf` given one more byte at a time: the first `Some` or
/// error, or `None` when all of it leaves the frame incomplete.
fn scan_bytewise(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<usize>, respec::resp::ProtocolError> {
    let mut s = Scanner::new(limits.clone());
    let mut wanted = 0;
    for k in 0..=buf.len() {
        if let Some(n) = s.scan(&buf[..k])? {
            assert!(
                n >= wanted,
                "a frame of {n} bytes was said to need {wanted}"
            );
            return Ok(Some(n));
        }
        wanted = wanted.max(check_wanted(&s, k));
    }
    Ok(None)
}

/// After `scan` said "incomplete" on `buffered` bytes: [`Scanner::wanted`] is 0
/// (unknown) or more than what is buffered. Returns it.
fn check_wanted(scanner: &Scanner, buffered: usize) -> usize {
    let w = scanner.wanted();
    assert!(
        w == 0 || w > buffered,
        "wanted {w} with {buffered} bytes buffered"
    );
    w
}

/// Small limits, to reach the limit checks with small inputs.
fn small_limits() -> Limits {
    Limits {
        max_depth: 3,
        max_bulk_len: 16,
        max_aggregate_len: 4,
        max_line_len: 12,
    }
}

/// What must hold for the bytes the scanner accepted as one frame.
fn check_accepted_frame(frame: Bytes) {
    decode_as_everything(&frame);
    let mut r = Reader::new(frame.clone());
    // A frame the scanner accepts is exactly one element to the reader.
    match Value::from_reply(&mut r) {
        Ok(_) => assert!(r.is_empty(), "{:?}", String::from_utf8_lossy(&frame)),
        Err(e) => panic!(
            "the scanner accepted {:?} but the reader says: {e}",
            String::from_utf8_lossy(&frame)
        ),
    }
}

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// However a stream of frames is cut into reads, the scanner finds exactly the
    /// frames it is made of.
    #[test]
    fn streams_split_into_their_frames(
        frames in stream(),
        chunks in vec(1usize..200, 1..64),
        points in vec(any::<prop::sample::Index>(), 16),
    ) {
        let encoded: Vec<Vec<u8>> = frames.iter().map(Frame::to_bytes).collect();
        let all: Vec<u8> = encoded.concat();
        let check = |got: Vec<Bytes>| {
            assert_eq!(got.len(), encoded.len());
            for (g, e) in got.iter().zip(&encoded) {
                assert_eq!(&g[..], &e[..]);
            }
        };

        // Whole.
        check(frames_read_as(&all, []));
        // Two reads, cut at every point (at some points for long streams).
        if all.len() <= 300 {
            for cut in 0..=all.len() {
                check(frames_read_as(&all, [cut]));
            }
        } else {
            for p in &points {
                check(frames_read_as(&all, [p.index(all.len() + 1)]));
            }
        }
        // One byte at a time.
        check(frames_read_as(&all, 1..all.len()));
        // Reads of random sizes.
        let cuts = chunks.iter().cycle().scan(0, |at, n| {
            *at += n;
            Some(*at)
        });
        check(frames_read_as(&all, cuts.take_while(|&c| c < all.len())));
    }

    /// Every frame decodes to the value it was built from, typed decodings agree with
    /// it, and no typed decoding panics on it.
    #[test]
    fn frames_decode_to_their_value(frames in stream()) {
        for f in &frames {
            let bytes = Bytes::from(f.to_bytes());
            let expected = f.value();
            let got = Value::from_frame(bytes.clone()).unwrap_or_else(|e| {
                panic!("{:?} does not decode: {e}", String::from_utf8_lossy(&bytes))
            });
            prop_assert!(
                same_value(&got, &expected),
                "{:?}: got {:?}, expected {:?}",
                String::from_utf8_lossy(&bytes),
                got,
                expected
            );
            let mut r = Reader::new(bytes.clone());
            Value::from_reply(&mut r).unwrap();
            prop_assert!(r.is_empty());
            decode_as_everything(&bytes);
            typed_agree_with(&bytes, &expected);
        }
    }

    /// Commands written with the encoder are frames that decode back to their
    /// arguments.
    #[test]
    fn encoded_commands_decode_back(args in vec(payload(), 0..8)) {
        let mut out = BytesMut::new();
        write_array_header(&mut out, args.len());
        for a in &args {
            write_bulk(&mut out, a);
        }
        let out = out.freeze();
        prop_assert_eq!(Scanner::default().scan(&out), Ok(Some(out.len())));
        let got = Vec::<Bytes>::from_frame(out).unwrap();
        let want: Vec<Bytes> = args.into_iter().map(Bytes::from).collect();
        prop_assert_eq!(got, want);
    }

    /// Nesting up to the depth limit is accepted, one level more is refused.
    #[test]
    fn depth_limit_is_exact(
        depth in 1usize..40,
        limit in 1usize..40,
        kind in prop::sample::select(&b"*~>%|"[..]),
    ) {
        let mut buf = Vec::new();
        for _ in 0..depth {
            buf.push(kind);
            buf.extend_from_slice(b"1\r\n");
            if kind == b'%' || kind == b'|' {
                // The key of a map entry, or of an attribute pair.
                buf.extend_from_slice(b"+k\r\n");
            }
        }
        buf.extend_from_slice(b":1\r\n");
        if kind == b'|' {
            // The element the innermost attribute annotates, then one for each outer one.
            buf.extend_from_slice(&b":2\r\n".repeat(depth));
        }
        let limits = Limits { max_depth: limit, ..Limits::default() };
        let got = Scanner::new(limits).scan(&buf);
        if depth <= limit {
            prop_assert_eq!(got, Ok(Some(buf.len())));
            check_accepted_frame(Bytes::from(buf));
        } else {
            prop_assert!(got.is_err());
        }
    }
}

proptest! {
    // Hostile inputs are cheap to check and the likeliest to find a panic: more cases.
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// No byte string makes the scanner panic; a frame it accepts never makes a
    /// reader or a typed decoding panic, and is read whole.
    #[test]
    fn hostile_bytes_never_panic(bytes in hostile_bytes()) {
        for limits in [Limits::default(), small_limits()] {
            let mut scanner = Scanner::new(limits);
            let mut rest = Bytes::from(bytes.clone());
            while let Ok(Some(n)) = scanner.scan(&rest) {
                prop_assert!(n > 0 && n <= rest.len());
                check_accepted_frame(rest.split_to(n));
            }
        }
        // A reader over bytes the scanner never saw must not panic either.
        let raw = Bytes::from(bytes);
        let mut r = Reader::new(raw.clone());
        for _ in 0..64 {
            if r.next().is_err() {
                break;
            }
        }
        let _ = Value::from_frame(raw.clone());
        let _ = Reader::new(raw).skip();
    }

    /// The scanner says the same thing of a buffer given whole or one byte at a time.
    #[test]
    fn whole_or_bytewise_scans_agree(
        bytes in prop_oneof![hostile_bytes(), stream_bytes()],
    ) {
        let limits = Limits::default();
        prop_assert_eq!(scan_whole(&bytes, &limits), scan_bytewise(&bytes, &limits));
        // Under small limits a line that is both too long and badly terminated may be
        // reported as either; the verdict (frame, incomplete or error) is the same.
        let limits = small_limits();
        let whole = scan_whole(&bytes, &limits);
        let bytewise = scan_bytewise(&bytes, &limits);
        match (&whole, &bytewise) {
            (Err(_), Err(_)) => {}
            _ => prop_assert_eq!(whole, bytewise),
        }
    }
}

// ---------------------------------------------------------------------------------
// Examples
// ---------------------------------------------------------------------------------

#[test]
fn deepest_default_frame_decodes() {
    // The default depth limit, filled: the recursive decoders must not overflow the
    // stack of a test thread.
    let depth = Limits::default().max_depth;
    let mut buf = b"*1\r\n|1\r\n+a\r\n+b\r\n".repeat(depth / 2);
    buf.extend_from_slice(b":7\r\n");
    let buf = Bytes::from(buf);
    assert_eq!(Scanner::default().scan(&buf), Ok(Some(buf.len())));
    check_accepted_frame(buf.clone());
    let mut v = Value::from_frame(buf).unwrap();
    for _ in 0..depth / 2 {
        v = match v {
            Value::Array(mut items) => items.pop().unwrap(),
            other => panic!("expected an array, got {other:?}"),
        };
    }
    assert_eq!(v, Value::Int(7));
}

#[test]
fn verbatim_without_colon_is_rejected_by_the_scanner_and_the_reader() {
    let f = Bytes::from_static(b"=5\r\nabcde\r\n");
    assert!(Scanner::default().scan(&f).is_err());
    let e = Value::from_frame(f).unwrap_err();
    assert!(e.is_protocol(), "{e}");
}

#[test]
fn lengths_are_read_alike_by_scanner_and_reader() {
    // Found by `cargo fuzz run decode` (input `*-01\r\n`): the scanner read any
    // spelling of -1 as a null array, the reader only `*-1`, and failed on the frame.
    let b = Bytes::from_static;
    let cases: &[(&'static [u8], Value)] = &[
        (b"*-1\r\n", Value::Nil),
        (b"*-01\r\n", Value::Nil),
        (b"*-001\r\n", Value::Nil),
        (b"*-0\r\n", Value::Array(Vec::new())),
        (b"*+1\r\n:1\r\n", Value::Array(vec![Value::Int(1)])),
        (b"*01\r\n:1\r\n", Value::Array(vec![Value::Int(1)])),
        (b"$-01\r\n", Value::Nil),
        (b"$+2\r\nab\r\n", Value::Bulk(b(b"ab"))),
        (
            b"%01\r\n+k\r\n+v\r\n",
            Value::Map(vec![(Value::Simple(b(b"k")), Value::Simple(b(b"v")))]),
        ),
        (b"|01\r\n+k\r\n+v\r\n:7\r\n", Value::Int(7)),
    ];
    for (frame, value) in cases {
        let frame = Bytes::from_static(frame);
        assert_eq!(Scanner::default().scan(&frame), Ok(Some(frame.len())));
        check_accepted_frame(frame.clone());
        assert_eq!(&Value::from_frame(frame).unwrap(), value);
    }
    assert!(
        Option::<Vec<Bytes>>::from_frame(Bytes::from_static(b"*-01\r\n"))
            .unwrap()
            .is_none()
    );
}
