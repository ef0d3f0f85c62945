//! Structure-aware: the input drives a generator of valid RESP2/RESP3 frames (every
//! type, nested, attributes included) that also builds the `Value` each must decode
//! to. The frames are sent back to back in reads of a size the input chooses; the
//! scanner must split them exactly, and each must decode to its value.

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use respec::resp::{Reader, Scanner};
use respec::{FromReply, ServerError, Value};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((read_size, frames)) = input(&mut u) else {
        return;
    };
    let stream: Vec<u8> = frames.iter().flat_map(|(f, _)| f.iter().copied()).collect();

    let mut scanner = Scanner::default();
    let mut buf = BytesMut::new();
    let mut found = Vec::new();
    for read in stream.chunks(read_size) {
        buf.extend_from_slice(read);
        while let Some(n) = scanner.scan(&buf).expect("a valid stream") {
            found.push(buf.split_to(n).freeze());
        }
    }
    assert!(buf.is_empty(), "bytes left unframed");
    assert_eq!(found.len(), frames.len());
    for (got, (bytes, value)) in found.into_iter().zip(&frames) {
        assert_eq!(&got[..], &bytes[..]);
        let mut r = Reader::new(got.clone());
        let decoded = Value::from_reply(&mut r).expect("a valid frame decodes");
        assert!(r.is_empty());
        assert!(same(&decoded, value), "{decoded:?} != {value:?}");
        let _ = Vec::<(Bytes, f64)>::from_frame(got.clone());
        let _ = Option::<Vec<Option<Bytes>>>::from_frame(got);
    }
});

/// A frame's bytes and the value it must decode to.
type Expected = (Vec<u8>, Value);

fn input(u: &mut Unstructured<'_>) -> Result<(usize, Vec<Expected>)> {
    let read_size = u.int_in_range(1..=64)?;
    let n = u.int_in_range(1..=4)?;
    let mut frames = Vec::with_capacity(n);
    for _ in 0..n {
        let mut out = Vec::new();
        let value = frame(u, &mut out, 0)?;
        frames.push((out, value));
    }
    Ok((read_size, frames))
}

fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
    out.push(kind);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

fn blob(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
    line(out, kind, data.len().to_string().as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Text without CR or LF.
fn text(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let raw: Vec<u8> = u.arbitrary()?;
    Ok(raw
        .into_iter()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect())
}

/// Writes one frame and returns its value.
fn frame(u: &mut Unstructured<'_>, out: &mut Vec<u8>, depth: u32) -> Result<Value> {
    let kinds = if depth < 6 { 19 } else { 13 };
    Ok(match u.choose_index(kinds)? {
        0 => {
            let t = text(u)?;
            line(out, b'+', &t);
            Value::Simple(t.into())
        }
        1 => {
            let t = text(u)?;
            line(out, b'-', &t);
            Value::Error(ServerError::new(t.into()))
        }
        2 => {
            let i: i64 = u.arbitrary()?;
            line(out, b':', i.to_string().as_bytes());
            Value::Int(i)
        }
        3 => {
            let b: Vec<u8> = u.arbitrary()?;
            blob(out, b'$', &b);
            Value::Bulk(b.into())
        }
        4 => {
            line(out, b'$', b"-1");
            Value::Nil
        }
        5 => {
            if u.arbitrary()? {
                line(out, b'*', b"-1");
            } else {
                line(out, b'_', b"");
            }
            Value::Nil
        }
        6 => {
            let b: bool = u.arbitrary()?;
            line(out, b'#', if b { b"t" } else { b"f" });
            Value::Bool(b)
        }
        7 => {
            let d: f64 = u.arbitrary()?;
            let (t, d) = if d.is_nan() {
                ("nan".to_owned(), d)
            } else {
                let t = match u.choose_index(3)? {
                    0 => format!("{d}"),
                    1 => format!("{d:e}"),
                    _ => format!("{d:E}"),
                };
                (t, d)
            };
            line(out, b',', t.as_bytes());
            Value::Double(d)
        }
        8 => {
            let neg: bool = u.arbitrary()?;
            let digits: Vec<u8> = u.arbitrary()?;
            let mut t: Vec<u8> = if neg { b"-".to_vec() } else { Vec::new() };
            t.extend(digits.iter().map(|d| b'0' + d % 10));
            if t.is_empty() || t == b"-" {
                t.push(b'0');
            }
            line(out, b'(', &t);
            Value::BigNumber(t.into())
        }
        9 => {
            let b: Vec<u8> = u.arbitrary()?;
            blob(out, b'!', &b);
            Value::Error(ServerError::new(b.into()))
        }
        10 => {
            let format: [u8; 3] = u.arbitrary()?;
            let t: Vec<u8> = u.arbitrary()?;
            let mut all = format.to_vec();
            all.push(b':');
            all.extend_from_slice(&t);
            blob(out, b'=', &all);
            Value::Verbatim {
                format: Bytes::copy_from_slice(&format),
                text: t.into(),
            }
        }
        11 => {
            line(out, b'*', b"0");
            Value::Array(Vec::new())
        }
        12 => {
            line(out, b'%', b"0");
            Value::Map(Vec::new())
        }
        k @ (13..=15) => {
            let n = u.int_in_range(0..=5)?;
            let kind = [b'*', b'~', b'>'][k - 13];
            line(out, kind, n.to_string().as_bytes());
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(frame(u, out, depth + 1)?);
            }
            match kind {
                b'*' => Value::Array(items),
                b'~' => Value::Set(items),
                _ => Value::Push(items),
            }
        }
        16 => {
            let n = u.int_in_range(0..=4)?;
            line(out, b'%', n.to_string().as_bytes());
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let k = frame(u, out, depth + 1)?;
                pairs.push((k, frame(u, out, depth + 1)?));
            }
            Value::Map(pairs)
        }
        _ => {
            // An attribute, then the element it annotates (which is the value).
            let n = u.int_in_range(0..=3)?;
            line(out, b'|', n.to_string().as_bytes());
            for _ in 0..2 * n {
                frame(u, out, depth + 1)?;
            }
            frame(u, out, depth + 1)?
        }
    })
}

/// Value equality where NaN equals NaN and doubles compare bit for bit otherwise.
fn same(a: &Value, b: &Value) -> bool {
    let all =
        |a: &[Value], b: &[Value]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y));
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Value::Array(x), Value::Array(y))
        | (Value::Set(x), Value::Set(y))
        | (Value::Push(x), Value::Push(y)) => all(x, y),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
        }
        _ => a == b,
    }
}
