//! Property tests of what the runtime parses outside the reply path: `MONITOR` lines
//! ([`MonitorEntry::parse`]) and RESP3 push frames for the hook ([`Push::parse`]).
//!
//! - A monitor line written the way the server writes it (time, `[db client]`, every
//!   argument quoted and escaped like its `sdscatrepr`) parses back to the same entry,
//!   whatever bytes the arguments hold and whatever the client is (`host:port`, an
//!   IPv6 `[addr]:port`, `unix:/path`, `lua`).
//! - No byte string, random or a mutated valid line, makes the line parser panic.
//! - A push frame of any shape the scanner accepts parses or fails without a panic,
//!   and an `invalidate` push gives back exactly its keys.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use respec::connection::Push;
use respec::monitor::MonitorEntry;
use respec::resp::{write_array_header, write_bulk, Limits, Scanner};

/// An argument quoted as the server quotes it: `\\`, `\"`, `\n`, `\r`, `\t`, `\a`,
/// `\b`, printable ASCII as is, every other byte as `\xhh`.
fn quoted(arg: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in arg {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

/// The client part of a line, as the server names a peer.
fn client() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, port)| format!("{}.{}.{}.{}:{port}", ip[0], ip[1], ip[2], ip[3])),
        (any::<[u16; 8]>(), any::<u16>()).prop_map(|(ip, port)| {
            let words: Vec<String> = ip.iter().map(|w| format!("{w:x}")).collect();
            format!("[{}]:{port}", words.join(":"))
        }),
        any::<u16>().prop_map(|port| format!("[::1]:{port}")),
        "[a-zA-Z0-9/._ -]{1,20}".prop_map(|path| format!("unix:/{path}")),
        Just("lua".to_owned()),
    ]
}

/// A whole line with the entry it holds.
fn line() -> impl Strategy<Value = (Vec<u8>, MonitorEntry)> {
    (
        0u64..4_000_000_000,
        0u32..1_000_000,
        0i64..16,
        client(),
        vec(vec(any::<u8>(), 0..24), 1..6),
    )
        .prop_map(|(secs, micros, db, client, args)| {
            let time = format!("{secs}.{micros:06}");
            let mut line = format!("{time} [{db} {client}]").into_bytes();
            for arg in &args {
                line.push(b' ');
                line.extend_from_slice(&quoted(arg));
            }
            let entry = MonitorEntry {
                time: time.parse().unwrap(),
                db,
                client,
                args: args.into_iter().map(Bytes::from).collect(),
            };
            (line, entry)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn monitor_lines_parse_back_to_their_entry((line, entry) in line()) {
        let parsed = MonitorEntry::parse(&line);
        prop_assert_eq!(parsed.ok(), Some(entry), "{}", String::from_utf8_lossy(&line));
    }

    #[test]
    fn no_byte_string_panics_the_line_parser(bytes in vec(any::<u8>(), 0..64)) {
        let _ = MonitorEntry::parse(&bytes);
    }

    #[test]
    fn no_mutation_of_a_line_panics_the_parser(
        (line, _) in line(),
        cuts in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        truncate in any::<prop::sample::Index>(),
    ) {
        let mut line = line;
        for (at, byte) in cuts {
            let i = at.index(line.len());
            line[i] = byte;
        }
        let _ = MonitorEntry::parse(&line);
        let _ = MonitorEntry::parse(&line[..truncate.index(line.len() + 1)]);
    }

    #[test]
    fn invalidate_pushes_give_back_their_keys(keys in vec(vec(any::<u8>(), 0..16), 0..6)) {
        let mut frame = bytes::BytesMut::from(&b">2\r\n$10\r\ninvalidate\r\n"[..]);
        write_array_header(&mut frame, keys.len());
        for k in &keys {
            write_bulk(&mut frame, k);
        }
        let expected: Vec<Bytes> = keys.into_iter().map(Bytes::from).collect();
        prop_assert_eq!(Push::parse(frame.freeze()).unwrap(), Push::Invalidate(Some(expected)));
    }

    #[test]
    fn push_frames_of_any_shape_parse_without_a_panic(body in vec(any::<u8>(), 0..48)) {
        // A push header in front of random bytes: whatever the scanner accepts as a
        // frame goes to the parser whole, as the connection would hand it over.
        for n in 0..4 {
            let mut buf = format!(">{n}\r\n").into_bytes();
            buf.extend_from_slice(&body);
            if let Ok(Some(len)) = Scanner::new(Limits::default()).scan(&buf) {
                let _ = Push::parse(Bytes::copy_from_slice(&buf[..len]));
            }
        }
    }
}
