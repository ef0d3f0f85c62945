//! Feeds arbitrary bytes to a [`Scanner`] the way a connection does (in reads of a
//! size chosen by the first input byte, splitting off every complete frame), and
//! decodes every frame it accepts as a `Value` and as a set of typed replies.
//!
//! Must never panic. Beyond that it checks:
//! - the frames found do not depend on how the bytes were cut into reads;
//! - a frame the scanner accepts is exactly one element to the reader (the scanner
//!   and the reader agree on every frame);
//! - a typed decoding that succeeds has read the whole frame;
//! - what `Scanner::wanted` says an incomplete frame needs is more than what is
//!   buffered and no more than the frame turns out to be.
//!
//! First byte: bits 0-5 are the read size (0 means the whole input at once), bit 6
//! selects small limits (so that the limit checks are reached by small inputs).

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use respec::reply::{GeoMatch, LcsMatches, StreamEntry};
use respec::resp::{Limits, Reader, Scanner};
use respec::{FromReply, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    let read_size = match usize::from(first & 0x3f) {
        0 => input.len().max(1),
        n => n,
    };
    let limits = if first & 0x40 != 0 {
        Limits {
            max_depth: 4,
            max_bulk_len: 32,
            max_aggregate_len: 8,
            max_line_len: 24,
        }
    } else {
        Limits::default()
    };

    let chunked = frames(input, read_size, &limits);
    let whole = frames(input, input.len().max(1), &limits);
    // The same frames whatever the reads; an error is an error (a line both too long
    // and badly terminated may be reported either way).
    assert_eq!(
        chunked.0, whole.0,
        "frames differ with reads of {read_size}"
    );
    assert_eq!(
        chunked.1, whole.1,
        "error or not differs with reads of {read_size}"
    );

    for frame in chunked.0 {
        check_frame(Bytes::copy_from_slice(&input[frame.0..frame.1]));
    }
});

/// The `(start, end)` of every frame found when `input` arrives in reads of
/// `read_size`, and whether the scanner ended with an error.
fn frames(input: &[u8], read_size: usize, limits: &Limits) -> (Vec<(usize, usize)>, bool) {
    let mut scanner = Scanner::new(limits.clone());
    let mut buf = BytesMut::new();
    let mut consumed = 0;
    let mut found = Vec::new();
    // The most the current frame was said to need (`Scanner::wanted`).
    let mut wanted = 0;
    for read in input.chunks(read_size) {
        buf.extend_from_slice(read);
        loop {
            match scanner.scan(&buf) {
                Ok(Some(n)) => {
                    assert!(
                        n > 0 && n <= buf.len(),
                        "frame of {n} in a buffer of {}",
                        buf.len()
                    );
                    assert!(
                        n >= wanted,
                        "a frame of {n} bytes was said to need {wanted}"
                    );
                    wanted = 0;
                    let _ = buf.split_to(n);
                    found.push((consumed, consumed + n));
                    consumed += n;
                }
                Ok(None) => {
                    let w = scanner.wanted();
                    assert!(
                        w == 0 || w > buf.len(),
                        "wanted {w} with {} bytes",
                        buf.len()
                    );
                    wanted = wanted.max(w);
                    break;
                }
                Err(_) => return (found, true),
            }
        }
    }
    (found, false)
}

fn check_frame(frame: Bytes) {
    let mut r = Reader::new(frame.clone());
    match Value::from_reply(&mut r) {
        Ok(_) => assert!(r.is_empty(), "Value left part of {frame:?} unread"),
        Err(e) => panic!("the scanner accepted {frame:?} but the reader says: {e}"),
    }
    decode::<Bytes>(&frame);
    decode::<String>(&frame);
    decode::<i64>(&frame);
    decode::<u64>(&frame);
    decode::<f64>(&frame);
    decode::<bool>(&frame);
    decode::<()>(&frame);
    decode::<Option<Bytes>>(&frame);
    decode::<Vec<Bytes>>(&frame);
    decode::<Vec<Option<Bytes>>>(&frame);
    decode::<Vec<(Bytes, f64)>>(&frame);
    decode::<Option<(Bytes, f64)>>(&frame);
    decode::<HashMap<Bytes, Bytes>>(&frame);
    decode::<BTreeMap<String, Value>>(&frame);
    decode::<HashSet<Bytes>>(&frame);
    decode::<(i64, Bytes)>(&frame);
    decode::<Vec<Vec<Bytes>>>(&frame);
    decode::<GeoMatch>(&frame);
    decode::<StreamEntry>(&frame);
    decode::<LcsMatches>(&frame);
    decode::<Value>(&frame);
}

/// Decodes `frame` as `T`; a success must have read the whole frame.
fn decode<T: FromReply>(frame: &Bytes) {
    let mut r = Reader::new(frame.clone());
    if T::from_reply(&mut r).is_ok() {
        assert!(
            r.is_empty(),
            "{} left part of {frame:?} unread",
            std::any::type_name::<T>()
        );
    }
}
