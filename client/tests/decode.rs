//! Reply decoding from RESP2 and RESP3 byte fixtures.
//!
//! For every command, the RESP2 frame and the RESP3 frame of the same logical reply
//! decode with the command's reply type (the default one, or the one an option
//! switches to) into the same Rust value, and each test spells that value out.
//!
//! The fixtures are the bytes real servers send: they were read off the socket of
//! `valkey-server` 9.1.2 and `redis-server` 7.0.15 (RESP2 connections, and RESP3
//! connections after `HELLO 3`) and checked against the spec's `reply_schema`. Where
//! a value changes from one call to the next (client ids, timestamps, memory
//! counters), the RESP2 frame was aligned with the RESP3 frame so that both carry one
//! logical reply; nothing else was edited. Hand-written frames are marked as such
//! (the blob error, attributes inside aggregates, hostile frames). Multi-line frames
//! are in `tests/fixtures/NAME.resp2` and `NAME.resp3`.
//!
//! What the two protocols really send differently, as seen on the wire:
//! maps (`%` vs a flat array), doubles (`,` vs bulk), sets (`~` vs `*`), nulls (`_` vs
//! `$-1` / `*-1`), pairs (`*2` sub-arrays vs a flat array: ZRANGE WITHSCORES,
//! ZPOPMIN with a count, ZRANDMEMBER WITHSCORES, HRANDFIELD WITHVALUES), verbatim
//! strings (`=` vs bulk: INFO, CLIENT INFO, LATENCY DOCTOR), and only from DEBUG
//! PROTOCOL (and Lua with `redis.setresp(3)`) booleans, big numbers and attributes.
//! INCRBYFLOAT, HINCRBYFLOAT, GEODIST, GEOSEARCH distances, ZSCAN scores and
//! XPENDING consumer counts are bulk strings in both protocols; SISMEMBER, EXPIRE and
//! friends are `:0` / `:1` in both.

use bytes::Bytes;
use respec::replies::{
    ClientTrackinginfoReply, CommandDocsReplyValue, FunctionListReply, MemoryStatsReply,
    XinfoGroupsReply, XinfoStreamFullReplyGroups, XinfoStreamReply,
};
use respec::reply::{GeoMatch, LcsMatch, LcsMatches, StreamEntry};
use respec::resp::{Reader, Scanner};
use respec::types::{GeoUnit, GeosearchBy, ListSide, MinMax};
use respec::{cmd, raw_cmd, Command, Detached, Error, FromReply, ServerError, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Debug;

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// A RESP2 / RESP3 pair of fixture files.
macro_rules! fixture {
    ($name:literal) => {
        (
            include_bytes!(concat!("fixtures/", $name, ".resp2")) as &'static [u8],
            include_bytes!(concat!("fixtures/", $name, ".resp3")) as &'static [u8],
        )
    };
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

fn bv(items: &[&'static str]) -> Vec<Bytes> {
    items.iter().map(|s| b(s)).collect()
}

/// Decodes one frame into `T` with `FromReply::from_frame`, after checking that the
/// fixture is exactly one well-formed frame and that decoding `T` consumes all of it.
#[track_caller]
fn decode<T: FromReply>(frame: &'static [u8]) -> respec::Result<T> {
    assert_eq!(
        Scanner::default().scan(frame),
        Ok(Some(frame.len())),
        "the fixture is not exactly one complete frame: {:?}",
        String::from_utf8_lossy(frame)
    );
    let value = T::from_frame(Bytes::from_static(frame))?;
    let mut reader = Reader::new(Bytes::from_static(frame));
    T::from_reply(&mut reader)?;
    assert!(reader.is_empty(), "decoding left part of the frame unread");
    Ok(value)
}

/// Decodes the RESP2 and the RESP3 frame, checks that they give the same value and
/// returns it.
#[track_caller]
fn both_as<T: FromReply + PartialEq + Debug>(resp2: &'static [u8], resp3: &'static [u8]) -> T {
    let v2 = match decode::<T>(resp2) {
        Ok(v) => v,
        Err(e) => panic!("the RESP2 frame does not decode: {e}"),
    };
    let v3 = match decode::<T>(resp3) {
        Ok(v) => v,
        Err(e) => panic!("the RESP3 frame does not decode: {e}"),
    };
    assert_eq!(v2, v3, "RESP2 and RESP3 decode to different values");
    v2
}

/// [`both_as`] with the reply type of the command `_c`.
#[track_caller]
fn both<C: Command>(_c: &C, resp2: &'static [u8], resp3: &'static [u8]) -> C::Output
where
    C::Output: PartialEq + Debug,
{
    both_as::<C::Output>(resp2, resp3)
}

/// Decodes both frames with the reply type of `_c`, expecting an error from each.
#[track_caller]
fn both_err<C: Command>(_c: &C, resp2: &'static [u8], resp3: &'static [u8]) -> (Error, Error)
where
    C::Output: Debug,
{
    let e2 = decode::<C::Output>(resp2).expect_err("the RESP2 frame decoded");
    let e3 = decode::<C::Output>(resp3).expect_err("the RESP3 frame decoded");
    (e2, e3)
}

/// Compile-time check: the reply type of `_c` is `T`.
fn output_is<T, C: Command<Output = T>>(_c: &C) {}

/// Asserts an error reply from the server with this code.
#[track_caller]
fn assert_server_error(e: &Error, code: &str, message: &str) {
    assert!(e.is_server(), "not a server error: {e}");
    assert!(!e.is_decode() && !e.is_protocol());
    let se = e.server_error().expect("server error");
    assert_eq!(se.code(), code);
    assert_eq!(se.message(), message);
}

// ---------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------

#[test]
fn get() {
    let c = cmd::get("k");
    output_is::<Option<Bytes>, _>(&c);
    assert_eq!(
        both(&c, b"$5\r\nhello\r\n", b"$5\r\nhello\r\n"),
        Some(b("hello"))
    );
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
    // An empty string is not a missing key.
    assert_eq!(both(&c, b"$0\r\n\r\n", b"$0\r\n\r\n"), Some(Bytes::new()));
}

#[test]
fn set_is_bool() {
    let c = cmd::set("k", "v");
    output_is::<bool, _>(&c);
    assert!(both(&c, b"+OK\r\n", b"+OK\r\n"));
    // NX / XX not met: null.
    let nx = cmd::set("k", "v").nx();
    assert!(!both(&nx, b"$-1\r\n", b"_\r\n"));
}

#[test]
fn set_get_returns_old_value() {
    let c = cmd::set("k", "new").get();
    output_is::<Option<Bytes>, _>(&c);
    assert_eq!(both(&c, b"$3\r\nold\r\n", b"$3\r\nold\r\n"), Some(b("old")));
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
}

#[test]
fn incr() {
    let c = cmd::incr("n");
    output_is::<i64, _>(&c);
    assert_eq!(both(&c, b":42\r\n", b":42\r\n"), 42);
    assert_eq!(
        both(
            &c,
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n"
        ),
        i64::MIN
    );
}

#[test]
fn incrbyfloat_is_bulk_in_both_protocols() {
    // Real servers answer INCRBYFLOAT with a bulk string under RESP3 too.
    let c = cmd::incrbyfloat("f", 0.1);
    output_is::<f64, _>(&c);
    assert_eq!(both(&c, b"$4\r\n10.6\r\n", b"$4\r\n10.6\r\n"), 10.6);
    // SET f 5.0e3, INCRBYFLOAT f 2.0e2.
    assert_eq!(both(&c, b"$4\r\n5200\r\n", b"$4\r\n5200\r\n"), 5200.0);
    // The text as the server formatted it.
    let c = cmd::incrbyfloat("f", 0.1).decode::<Bytes>();
    assert_eq!(both(&c, b"$4\r\n10.6\r\n", b"$4\r\n10.6\r\n"), b("10.6"));
    // A RESP3 double (what a proxy or a future server could send) decodes as well.
    assert_eq!(decode::<f64>(b",10.6\r\n").unwrap(), 10.6);

    let c = cmd::hincrbyfloat("h", "f", 0.1);
    output_is::<f64, _>(&c);
    assert_eq!(both(&c, b"$4\r\n10.6\r\n", b"$4\r\n10.6\r\n"), 10.6);
}

#[test]
fn mget() {
    let c = cmd::mget(["a", "b", "c"]);
    output_is::<Vec<Option<Bytes>>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n",
            b"*3\r\n$1\r\n1\r\n_\r\n$1\r\n3\r\n"
        ),
        vec![Some(b("1")), None, Some(b("3"))]
    );
}

#[test]
fn lcs_idx_withmatchlen() {
    // LCS key1 key2 IDX MINMATCHLEN 0 WITHMATCHLEN, with "ohmytext" / "mynewtext".
    let c = cmd::lcs("key1", "key2").idx().minmatchlen(0).withmatchlen();
    output_is::<LcsMatches, _>(&c);
    let v = both(
        &c,
        b"*4\r\n$7\r\nmatches\r\n*2\r\n\
          *3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
          *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n\
          $3\r\nlen\r\n:6\r\n",
        b"%2\r\n$7\r\nmatches\r\n*2\r\n\
          *3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
          *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n\
          $3\r\nlen\r\n:6\r\n",
    );
    assert_eq!(
        v,
        LcsMatches {
            matches: vec![
                LcsMatch {
                    a: (4, 7),
                    b: (5, 8),
                    len: Some(4)
                },
                LcsMatch {
                    a: (2, 3),
                    b: (0, 1),
                    len: Some(2)
                },
            ],
            len: 6,
        }
    );
    // Without WITHMATCHLEN every match has two ranges.
    let c = cmd::lcs("key1", "key2").idx().minmatchlen(4);
    let v = both(
        &c,
        b"*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n",
        b"%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n",
    );
    assert_eq!(
        v.matches,
        vec![LcsMatch {
            a: (4, 7),
            b: (5, 8),
            len: None
        }]
    );
    // LCS and LCS LEN.
    assert_eq!(
        both(
            &cmd::lcs("key1", "key2"),
            b"$6\r\nmytext\r\n",
            b"$6\r\nmytext\r\n"
        ),
        b("mytext")
    );
    assert_eq!(
        both(&cmd::lcs("key1", "key2").len(), b":6\r\n", b":6\r\n"),
        6
    );
}

// ---------------------------------------------------------------------------------
// Hashes
// ---------------------------------------------------------------------------------

#[test]
fn hgetall_map() {
    let c = cmd::hgetall("h");
    output_is::<HashMap<Bytes, Bytes>, _>(&c);
    let v = both(
        &c,
        b"*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
        b"%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
    );
    assert_eq!(v, HashMap::from([(b("f1"), b("v1")), (b("f2"), b("v2"))]));
    // A missing key: an empty map.
    assert_eq!(both(&c, b"*0\r\n", b"%0\r\n"), HashMap::new());
    // Other map types through .decode().
    let c = cmd::hgetall("h").decode::<BTreeMap<String, String>>();
    assert_eq!(
        both(
            &c,
            b"*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
            b"%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
        ),
        BTreeMap::from([
            ("f1".to_owned(), "v1".to_owned()),
            ("f2".to_owned(), "v2".to_owned())
        ])
    );
    let c = cmd::hgetall("h").decode::<Vec<(Bytes, Bytes)>>();
    assert_eq!(
        both(
            &c,
            b"*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
            b"%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
        ),
        vec![(b("f1"), b("v1")), (b("f2"), b("v2"))]
    );
}

#[test]
fn hrandfield() {
    let c = cmd::hrandfield("h");
    output_is::<Option<Bytes>, _>(&c);
    assert_eq!(both(&c, b"$2\r\nf1\r\n", b"$2\r\nf1\r\n"), Some(b("f1")));
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);

    let c = cmd::hrandfield("h").count(2);
    output_is::<Vec<Bytes>, _>(&c);
    assert_eq!(
        both(&c, b"*1\r\n$2\r\nf1\r\n", b"*1\r\n$2\r\nf1\r\n"),
        bv(&["f1"])
    );
}

#[test]
fn hrandfield_withvalues_pairs() {
    let c = cmd::hrandfield("h").count_withvalues(2);
    output_is::<Vec<(Bytes, Bytes)>, _>(&c);
    // One pair: flat in RESP2, one nested pair in RESP3.
    assert_eq!(
        both(
            &c,
            b"*2\r\n$2\r\nf1\r\n$2\r\nv1\r\n",
            b"*1\r\n*2\r\n$2\r\nf1\r\n$2\r\nv1\r\n"
        ),
        vec![(b("f1"), b("v1"))]
    );
    assert_eq!(
        both(
            &c,
            b"*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
            b"*2\r\n*2\r\n$2\r\nf1\r\n$2\r\nv1\r\n*2\r\n$2\r\nf2\r\n$2\r\nv2\r\n"
        ),
        vec![(b("f1"), b("v1")), (b("f2"), b("v2"))]
    );
    // Missing key: empty array in both.
    assert_eq!(both(&c, b"*0\r\n", b"*0\r\n"), vec![]);
}

#[test]
fn hmget() {
    let c = cmd::hmget("h", ["a", "b"]);
    output_is::<Vec<Option<Bytes>>, _>(&c);
    assert_eq!(
        both(&c, b"*2\r\n$1\r\n1\r\n$-1\r\n", b"*2\r\n$1\r\n1\r\n_\r\n"),
        vec![Some(b("1")), None]
    );
}

#[test]
fn hscan() {
    let c = cmd::hscan("h", 0);
    output_is::<(Bytes, Vec<(Bytes, Bytes)>), _>(&c);
    let frame: &'static [u8] =
        b"*2\r\n$1\r\n0\r\n*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n";
    assert_eq!(
        both(&c, frame, frame),
        (b("0"), vec![(b("f1"), b("v1")), (b("f2"), b("v2"))])
    );
    // HSCAN ... NOVALUES (Valkey 8+).
    let c = cmd::hscan("h", 0).novalues();
    output_is::<(Bytes, Vec<Bytes>), _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\n0\r\n*2\r\n$2\r\nf1\r\n$2\r\nf2\r\n",
            b"*2\r\n$1\r\n0\r\n*2\r\n$2\r\nf1\r\n$2\r\nf2\r\n"
        ),
        (b("0"), bv(&["f1", "f2"]))
    );
}

// ---------------------------------------------------------------------------------
// Server and connection maps
// ---------------------------------------------------------------------------------

#[test]
fn config_get_map() {
    let c = cmd::config_get(["maxmemory-policy"]);
    output_is::<HashMap<Bytes, Bytes>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n",
            b"%1\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n"
        ),
        HashMap::from([(b("maxmemory-policy"), b("noeviction"))])
    );
}

#[test]
fn client_trackinginfo_struct() {
    let c = cmd::client_trackinginfo();
    output_is::<ClientTrackinginfoReply, _>(&c);
    let v = both(
        &c,
        b"*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n",
        b"%3\r\n$5\r\nflags\r\n~1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n",
    );
    assert_eq!(v.flags, Some(bv(&["off"])));
    assert_eq!(v.redirect, Some(-1));
    assert_eq!(v.prefixes, Some(vec![]));
}

#[test]
fn acl_getuser_struct() {
    let c = cmd::acl_getuser("default");
    let v = both(
        &c,
        b"*14\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$6\r\nnopass\r\n$9\r\npasswords\r\n*0\r\n\
          $8\r\ncommands\r\n$5\r\n+@all\r\n$4\r\nkeys\r\n$2\r\n~*\r\n$8\r\nchannels\r\n$2\r\n&*\r\n\
          $9\r\ndatabases\r\n$6\r\nalldbs\r\n$9\r\nselectors\r\n*0\r\n",
        b"%7\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$6\r\nnopass\r\n$9\r\npasswords\r\n*0\r\n\
          $8\r\ncommands\r\n$5\r\n+@all\r\n$4\r\nkeys\r\n$2\r\n~*\r\n$8\r\nchannels\r\n$2\r\n&*\r\n\
          $9\r\ndatabases\r\n$6\r\nalldbs\r\n$9\r\nselectors\r\n*0\r\n",
    )
    .expect("user exists");
    assert_eq!(v.flags, Some(bv(&["on", "nopass"])));
    assert_eq!(v.passwords, Some(vec![]));
    assert_eq!(v.commands, Some(b("+@all")));
    assert_eq!(v.keys, Some(b("~*")));
    assert_eq!(v.channels, Some(b("&*")));
    assert_eq!(v.databases, Some(b("alldbs")));
    assert_eq!(v.selectors, Some(vec![]));
    // No such user.
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
}

#[test]
fn client_info_verbatim() {
    let c = cmd::client_info();
    output_is::<Bytes, _>(&c);
    let (r2, r3) = fixture!("client_info");
    assert!(r3.starts_with(b"=347\r\ntxt:id=214 "));
    assert_eq!(
        both(&c, r2, r3),
        b(
            "id=214 addr=127.0.0.1:48252 laddr=127.0.0.1:17901 fd=12 name= age=0 idle=0 \
           flags=N capa= db=0 sub=0 psub=0 ssub=0 multi=-1 watch=0 qbuf=0 qbuf-free=0 \
           argv-mem=10 multi-mem=0 rbs=16392 rbp=16392 obl=0 oll=0 omem=0 tot-mem=17002 \
           events=r cmd=client|info user=default redir=-1 resp=3 lib-name= lib-ver= \
           tot-net-in=120 tot-net-out=1427 tot-cmds=4\n"
        )
    );
    let c = cmd::client_info().decode::<String>();
    assert!(both(&c, r2, r3).contains(" cmd=client|info "));
}

#[test]
fn info_verbatim() {
    let c = cmd::info();
    output_is::<Bytes, _>(&c);
    assert_eq!(
        both(
            &c,
            b"$71\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0,keys_with_volatile_items=0\r\n\r\n",
            b"=75\r\ntxt:# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0,keys_with_volatile_items=0\r\n\r\n",
        ),
        b("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0,keys_with_volatile_items=0\r\n")
    );
}

#[test]
fn latency_doctor_verbatim() {
    let c = cmd::latency_doctor();
    output_is::<Bytes, _>(&c);
    assert_eq!(
        both(
            &c,
            b"$101\r\nNo latency spike was observed during the lifetime of this Valkey instance, \
              not in the slightest bit.\n\r\n",
            b"=105\r\ntxt:No latency spike was observed during the lifetime of this Valkey \
              instance, not in the slightest bit.\n\r\n",
        ),
        b(
            "No latency spike was observed during the lifetime of this Valkey instance, \
           not in the slightest bit.\n"
        )
    );
}

#[test]
fn latency_latest_valkey() {
    let c = cmd::latency_latest();
    output_is::<Vec<Vec<Value>>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*1\r\n*6\r\n$7\r\ncommand\r\n:1795241551\r\n:10\r\n:10\r\n:10\r\n:1\r\n",
            b"*1\r\n*6\r\n$7\r\ncommand\r\n:1795241551\r\n:10\r\n:10\r\n:10\r\n:1\r\n",
        ),
        vec![vec![
            Value::Bulk(b("command")),
            Value::Int(1795241551),
            Value::Int(10),
            Value::Int(10),
            Value::Int(10),
            Value::Int(1)
        ]]
    );
    // The same entry as a typed tuple, chosen by the caller.
    let typed = cmd::latency_latest().decode::<Vec<(Bytes, i64, i64, i64, i64, i64)>>();
    assert_eq!(
        both(
            &typed,
            b"*1\r\n*6\r\n$7\r\ncommand\r\n:1795241551\r\n:10\r\n:10\r\n:10\r\n:1\r\n",
            b"*1\r\n*6\r\n$7\r\ncommand\r\n:1795241551\r\n:10\r\n:10\r\n:10\r\n:1\r\n",
        ),
        vec![(b("command"), 1795241551, 10, 10, 10, 1)]
    );
}

#[test]
fn latency_latest_redis7() {
    // Redis 7 sends 4 elements per event, Valkey 9 six: the reply type keeps each
    // entry as a list so both decode.
    let c = cmd::latency_latest();
    let v = both(
        &c,
        b"*1\r\n*4\r\n$7\r\ncommand\r\n:1795241552\r\n:10\r\n:10\r\n",
        b"*1\r\n*4\r\n$7\r\ncommand\r\n:1795241552\r\n:10\r\n:10\r\n",
    );
    assert_eq!(
        v,
        vec![vec![
            Value::Bulk(b("command")),
            Value::Int(1795241552),
            Value::Int(10),
            Value::Int(10)
        ]]
    );
}

#[test]
fn latency_history_pairs() {
    let c = cmd::latency_history("command");
    output_is::<Vec<(i64, i64)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*1\r\n*2\r\n:1795241552\r\n:10\r\n",
            b"*1\r\n*2\r\n:1795241552\r\n:10\r\n"
        ),
        vec![(1795241552, 10)]
    );
    assert_eq!(
        both(
            &c,
            b"*2\r\n*2\r\n:1795241552\r\n:10\r\n*2\r\n:1795241553\r\n:12\r\n",
            b"*2\r\n*2\r\n:1795241552\r\n:10\r\n*2\r\n:1795241553\r\n:12\r\n"
        ),
        vec![(1795241552, 10), (1795241553, 12)]
    );
}

#[test]
fn memory_stats_valkey() {
    let c = cmd::memory_stats();
    output_is::<MemoryStatsReply, _>(&c);
    let (r2, r3) = fixture!("memory_stats_valkey9");
    let v = both(&c, r2, r3);
    assert_eq!(v.peak_allocated, Some(3013616));
    assert_eq!(v.total_allocated, Some(2996360));
    assert_eq!(v.startup_allocated, Some(998480));
    assert_eq!(v.replication_backlog, Some(0));
    assert_eq!(v.replicas_repl_buffer, Some(0));
    assert_eq!(v.clients_slaves, Some(0));
    assert_eq!(v.clients_normal, Some(0));
    assert_eq!(v.cluster_links, Some(0));
    assert_eq!(v.cluster_slot_import, Some(0));
    assert_eq!(v.cluster_slot_export, Some(0));
    assert_eq!(v.aof_buffer, Some(0));
    assert_eq!(v.lua_caches, Some(704));
    assert_eq!(v.functions_caches, Some(944));
    assert_eq!(v.overhead_db_hashtable_lut, Some(160));
    assert_eq!(v.overhead_db_hashtable_rehashing, Some(0));
    assert_eq!(v.overhead_total, Some(1000528));
    assert_eq!(v.db_dict_rehashing_count, Some(0));
    assert_eq!(v.keys_count, Some(1));
    assert_eq!(v.keys_bytes_per_key, Some(1995832));
    assert_eq!(v.dataset_bytes, Some(1995832));
    assert_eq!(v.dataset_percentage, Some(99.89749145507812));
    assert_eq!(v.peak_percentage, Some(99.42739868164062));
    assert_eq!(v.allocator_allocated, Some(2996320));
    assert_eq!(v.allocator_active, Some(7698432));
    assert_eq!(v.allocator_resident, Some(7698432));
    assert_eq!(v.allocator_muzzy, Some(0));
    assert_eq!(v.allocator_fragmentation_ratio, Some(1.0));
    assert_eq!(v.allocator_fragmentation_bytes, Some(0));
    assert_eq!(v.allocator_rss_ratio, Some(1.0));
    assert_eq!(v.allocator_rss_bytes, Some(0));
    assert_eq!(v.rss_overhead_ratio, Some(1.0098429918289185));
    assert_eq!(v.rss_overhead_bytes, Some(75776));
    assert_eq!(v.fragmentation, Some(2.594585418701172));
    assert_eq!(v.fragmentation_bytes, Some(4777888));
    // The `db.0` sub-map is skipped: a map (or flat array) in the middle of the
    // reply, so the fields after it must still be found.
    assert!(r3
        .windows(b"db.0\r\n%2\r\n".len())
        .any(|w| w == b"db.0\r\n%2\r\n"));
}

#[test]
fn memory_stats_redis7() {
    let c = cmd::memory_stats();
    let (r2, r3) = fixture!("memory_stats_redis7");
    let v = both(&c, r2, r3);
    assert_eq!(v.peak_allocated, Some(2906928));
    assert_eq!(v.total_allocated, Some(2868712));
    assert_eq!(v.overhead_total, Some(877336));
    assert_eq!(v.keys_count, Some(1));
    assert_eq!(v.dataset_bytes, Some(1991376));
    assert_eq!(v.dataset_percentage, Some(99.93456268310547));
    assert_eq!(v.peak_percentage, Some(98.68534851074219));
    assert_eq!(v.allocator_fragmentation_ratio, Some(1.187424659729004));
    assert_eq!(v.allocator_rss_ratio, Some(1.669396162033081));
    assert_eq!(v.rss_overhead_ratio, Some(1.9742488861083984));
    assert_eq!(v.fragmentation, Some(4.6594390869140625));
    assert_eq!(v.fragmentation_bytes, Some(10358496));
    // Fields Redis 7.0 does not send.
    assert_eq!(v.replicas_repl_buffer, None);
    assert_eq!(v.overhead_db_hashtable_lut, None);
    assert_eq!(v.allocator_muzzy, None);
}

#[test]
fn function_list_structs() {
    let c = cmd::function_list();
    output_is::<Vec<FunctionListReply>, _>(&c);
    let v = both(
        &c,
        b"*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n\
          $9\r\nfunctions\r\n*2\r\n\
          *6\r\n$4\r\nname\r\n$6\r\nmyfunc\r\n$11\r\ndescription\r\n$11\r\nreturns one\r\n\
          $5\r\nflags\r\n*1\r\n+no-writes\r\n\
          *6\r\n$4\r\nname\r\n$2\r\nf2\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n",
        b"*1\r\n%3\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n\
          $9\r\nfunctions\r\n*2\r\n\
          %3\r\n$4\r\nname\r\n$6\r\nmyfunc\r\n$11\r\ndescription\r\n$11\r\nreturns one\r\n\
          $5\r\nflags\r\n~1\r\n+no-writes\r\n\
          %3\r\n$4\r\nname\r\n$2\r\nf2\r\n$11\r\ndescription\r\n_\r\n$5\r\nflags\r\n~0\r\n",
    );
    assert_eq!(v.len(), 1);
    let lib = &v[0];
    assert_eq!(lib.library_name, Some(b("mylib")));
    assert_eq!(lib.engine, Some(b("LUA")));
    assert_eq!(lib.library_code, None);
    let functions = lib.functions.as_ref().expect("functions");
    assert_eq!(functions.len(), 2);
    assert_eq!(functions[0].name, Some(b("myfunc")));
    assert_eq!(functions[0].description, Some(b("returns one")));
    assert_eq!(functions[0].flags, Some(bv(&["no-writes"])));
    assert_eq!(functions[1].name, Some(b("f2")));
    // Null on the wire.
    assert_eq!(functions[1].description, None);
    assert_eq!(functions[1].flags, Some(vec![]));
    assert_eq!(both(&c, b"*0\r\n", b"*0\r\n"), vec![]);
}

#[test]
fn command_docs_struct() {
    let c = cmd::command_docs().command_name(["get"]);
    output_is::<HashMap<Bytes, CommandDocsReplyValue>, _>(&c);
    let v = both(
        &c,
        b"*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$34\r\nReturns the string value of a key.\r\n\
          $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n\
          $9\r\narguments\r\n*1\r\n*8\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n\
          $12\r\ndisplay_text\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n",
        b"%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$34\r\nReturns the string value of a key.\r\n\
          $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n\
          $9\r\narguments\r\n*1\r\n%4\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n\
          $12\r\ndisplay_text\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n",
    );
    assert_eq!(v.len(), 1);
    let doc = &v[&b("get")];
    assert_eq!(doc.summary, Some(b("Returns the string value of a key.")));
    assert_eq!(doc.since, Some(b("1.0.0")));
    assert_eq!(doc.group, Some(b("string")));
    assert_eq!(doc.complexity, Some(b("O(1)")));
    assert_eq!(doc.history, None);
    assert_eq!(doc.doc_flags, None);
    let args = doc.arguments.as_ref().expect("arguments");
    assert_eq!(args.len(), 1);
    assert_eq!(args[0].name, Some(b("key")));
    assert_eq!(args[0].type_, Some(b("key")));
    assert_eq!(args[0].display_text, Some(b("key")));
    assert_eq!(args[0].key_spec_index, Some(0));
    assert_eq!(args[0].token, None);
}

#[test]
fn command_docs_nested_arguments() {
    let c = cmd::command_docs().command_name(["getex"]);
    let (r2, r3) = fixture!("command_docs_getex");
    let v = both(&c, r2, r3);
    let doc = &v[&b("getex")];
    assert_eq!(doc.since, Some(b("6.2.0")));
    let args = doc.arguments.as_ref().expect("arguments");
    assert_eq!(args.len(), 2);
    assert_eq!(args[1].name, Some(b("expiration")));
    assert_eq!(args[1].type_, Some(b("oneof")));
    assert_eq!(args[1].flags, Some(bv(&["optional"])));
    assert_eq!(args[1].arguments.as_ref().map(Vec::len), Some(5));
}

#[test]
fn command_info_key_specs() {
    let c = cmd::command_info().command_name(["get", "nosuchcmd"]);
    let v = both(
        &c,
        b"*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
          *3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n\
          *1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
          $12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
          $9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
          *6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n\
          *0\r\n$-1\r\n",
        b"*2\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
          ~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n\
          ~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n\
          $12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n\
          $9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
          %3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n\
          *0\r\n_\r\n",
    );
    assert_eq!(v.len(), 2);
    let get = v[0].as_ref().expect("GET is known");
    assert_eq!(get.0, b("get"));
    assert_eq!(get.1, 2);
    assert_eq!(get.2, bv(&["readonly", "fast"]));
    assert_eq!((get.3, get.4, get.5), (1, 1, 1));
    assert_eq!(get.6, bv(&["@read", "@string", "@fast"]));
    assert_eq!(get.7, Vec::<Bytes>::new());
    assert_eq!(get.8.len(), 1);
    assert_eq!(get.8[0].flags, Some(bv(&["RO", "access"])));
    let begin = get.8[0].begin_search.as_ref().expect("begin_search");
    assert_eq!(begin.type_, Some(b("index")));
    assert_eq!(
        begin.spec,
        Some(HashMap::from([(b("index"), Value::Int(1))]))
    );
    let find = get.8[0].find_keys.as_ref().expect("find_keys");
    assert_eq!(find.type_, Some(b("range")));
    assert!(get.9.is_empty());
    assert!(v[1].is_none());
}

#[test]
fn command_getkeysandflags_pairs() {
    let c = cmd::command_getkeysandflags("LMOVE").arg(["a", "b", "LEFT", "RIGHT"]);
    output_is::<Vec<(Bytes, Vec<Bytes>)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n\
              *2\r\n$1\r\nb\r\n*2\r\n+RW\r\n+insert\r\n",
            b"*2\r\n*2\r\n$1\r\na\r\n~3\r\n+RW\r\n+access\r\n+delete\r\n\
              *2\r\n$1\r\nb\r\n~2\r\n+RW\r\n+insert\r\n",
        ),
        vec![
            (b("a"), bv(&["RW", "access", "delete"])),
            (b("b"), bv(&["RW", "insert"]))
        ]
    );
}

#[test]
fn pubsub_numsub() {
    // A flat array in both protocols (not a map).
    let c = cmd::pubsub_numsub().channel(["ch1", "ch2"]);
    output_is::<Vec<(Bytes, i64)>, _>(&c);
    let r: &'static [u8] = b"*4\r\n$3\r\nch1\r\n:0\r\n$3\r\nch2\r\n:2\r\n";
    assert_eq!(both(&c, r, r), vec![(b("ch1"), 0), (b("ch2"), 2)]);
    assert_eq!(both(&c, b"*0\r\n", b"*0\r\n"), vec![]);
    let c = cmd::pubsub_numsub()
        .channel(["ch1", "ch2"])
        .decode::<HashMap<String, i64>>();
    assert_eq!(
        both(&c, r, r),
        HashMap::from([("ch1".to_owned(), 0), ("ch2".to_owned(), 2)])
    );
    let c = cmd::pubsub_numsub()
        .channel(["ch1", "ch2"])
        .decode::<Vec<Value>>();
    assert_eq!(
        both(&c, r, r),
        vec![
            Value::Bulk(b("ch1")),
            Value::Int(0),
            Value::Bulk(b("ch2")),
            Value::Int(2)
        ]
    );
    let c = cmd::pubsub_shardnumsub().shardchannel(["sc"]);
    output_is::<Vec<(Bytes, i64)>, _>(&c);
    let r: &'static [u8] = b"*2\r\n$2\r\nsc\r\n:1\r\n";
    assert_eq!(both(&c, r, r), vec![(b("sc"), 1)]);
}

#[test]
fn time() {
    let c = cmd::time();
    output_is::<Vec<Bytes>, _>(&c);
    let r: &'static [u8] = b"*2\r\n$10\r\n1795241551\r\n$6\r\n940857\r\n";
    assert_eq!(both(&c, r, r), bv(&["1795241551", "940857"]));
    let c = cmd::time().decode::<(u64, u32)>();
    assert_eq!(both(&c, r, r), (1795241551, 940857));
}

#[test]
fn waitaof() {
    // Two integers on the wire (the schema says "number" for the second).
    let c = cmd::waitaof(0, 0, 0);
    output_is::<(i64, i64), _>(&c);
    assert_eq!(
        both(&c, b"*2\r\n:1\r\n:0\r\n", b"*2\r\n:1\r\n:0\r\n"),
        (1, 0)
    );
}

#[test]
fn script_exists() {
    let c = cmd::script_exists(["e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"]);
    output_is::<Vec<bool>, _>(&c);
    assert_eq!(
        both(&c, b"*2\r\n:1\r\n:0\r\n", b"*2\r\n:1\r\n:0\r\n"),
        vec![true, false]
    );
}

#[test]
fn bitfield() {
    let c = cmd::bitfield("bf");
    output_is::<Vec<Option<i64>>, _>(&c);
    assert_eq!(
        both(&c, b"*2\r\n:1\r\n$-1\r\n", b"*2\r\n:1\r\n_\r\n"),
        vec![Some(1), None]
    );
}

// ---------------------------------------------------------------------------------
// Sets
// ---------------------------------------------------------------------------------

#[test]
fn smembers_set_vs_array() {
    let c = cmd::smembers("s");
    output_is::<Vec<Bytes>, _>(&c);
    let mut v = both(
        &c,
        b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        b"~2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    v.sort();
    assert_eq!(v, bv(&["a", "b"]));
    assert_eq!(both(&c, b"*0\r\n", b"~0\r\n"), Vec::<Bytes>::new());
    let c = cmd::smembers("s").decode::<HashSet<String>>();
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            b"~2\r\n$1\r\na\r\n$1\r\nb\r\n"
        ),
        HashSet::from(["a".to_owned(), "b".to_owned()])
    );
}

#[test]
fn sismember_is_bool() {
    // `:0` / `:1` in both protocols.
    let c = cmd::sismember("s", "a");
    output_is::<bool, _>(&c);
    assert!(both(&c, b":1\r\n", b":1\r\n"));
    assert!(!both(&c, b":0\r\n", b":0\r\n"));
}

#[test]
fn smismember() {
    let c = cmd::smismember("s", ["a", "b", "c"]);
    output_is::<Vec<bool>, _>(&c);
    assert_eq!(
        both(&c, b"*3\r\n:1\r\n:0\r\n:1\r\n", b"*3\r\n:1\r\n:0\r\n:1\r\n"),
        vec![true, false, true]
    );
}

#[test]
fn spop_and_srandmember_with_count() {
    // SPOP with a count answers with a set under RESP3; SRANDMEMBER with an array.
    let c = cmd::spop("s").count(5);
    output_is::<Vec<Bytes>, _>(&c);
    assert_eq!(
        both(&c, b"*1\r\n$1\r\na\r\n", b"~1\r\n$1\r\na\r\n"),
        bv(&["a"])
    );
    let c = cmd::srandmember("s").count(5);
    output_is::<Vec<Bytes>, _>(&c);
    assert_eq!(
        both(&c, b"*1\r\n$1\r\na\r\n", b"*1\r\n$1\r\na\r\n"),
        bv(&["a"])
    );
    let c = cmd::spop("s");
    assert_eq!(both(&c, b"$1\r\na\r\n", b"$1\r\na\r\n"), Some(b("a")));
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
}

// ---------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------

#[test]
fn expire_is_bool() {
    let c = cmd::expire("k", 100);
    output_is::<bool, _>(&c);
    assert!(both(&c, b":1\r\n", b":1\r\n"));
    assert!(!both(&c, b":0\r\n", b":0\r\n"));
}

#[test]
fn type_simple_string() {
    // TYPE never answers null: a missing key is `+none`.
    let c = cmd::type_("k");
    output_is::<Bytes, _>(&c);
    assert_eq!(both(&c, b"+string\r\n", b"+string\r\n"), b("string"));
    assert_eq!(both(&c, b"+none\r\n", b"+none\r\n"), b("none"));
    let c = cmd::type_("k").decode::<String>();
    assert_eq!(both(&c, b"+stream\r\n", b"+stream\r\n"), "stream");
}

#[test]
fn object_encoding() {
    let c = cmd::object_encoding("l");
    output_is::<Option<Bytes>, _>(&c);
    assert_eq!(
        both(&c, b"$8\r\nlistpack\r\n", b"$8\r\nlistpack\r\n"),
        Some(b("listpack"))
    );
    assert_eq!(
        both(&c, b"$9\r\nquicklist\r\n", b"$9\r\nquicklist\r\n"),
        Some(b("quicklist"))
    );
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
}

#[test]
fn scan_cursor_and_keys() {
    let c = cmd::scan(0);
    output_is::<(Bytes, Vec<Bytes>), _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\n0\r\n*1\r\n$2\r\nk1\r\n",
            b"*2\r\n$1\r\n0\r\n*1\r\n$2\r\nk1\r\n"
        ),
        (b("0"), bv(&["k1"]))
    );
    let c = cmd::scan(0).decode::<(u64, Vec<String>)>();
    assert_eq!(
        both(
            &c,
            b"*2\r\n$2\r\n17\r\n*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n",
            b"*2\r\n$2\r\n17\r\n*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n"
        ),
        (17, vec!["k1".to_owned(), "k2".to_owned()])
    );
}

// ---------------------------------------------------------------------------------
// Sorted sets
// ---------------------------------------------------------------------------------

#[test]
fn zadd() {
    let c = cmd::zadd("z", [(1.0, "a"), (2.5, "b")]);
    output_is::<i64, _>(&c);
    assert_eq!(both(&c, b":2\r\n", b":2\r\n"), 2);
}

#[test]
fn zadd_incr() {
    let c = cmd::zadd("z", [(2.5, "a")]).incr();
    output_is::<Option<f64>, _>(&c);
    assert_eq!(both(&c, b"$3\r\n3.5\r\n", b",3.5\r\n"), Some(3.5));
    // NX / XX / GT / LT prevented the update.
    let c = cmd::zadd("z", [(2.5, "a")]).nx().incr();
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
}

#[test]
fn zscore() {
    let c = cmd::zscore("z", "a");
    output_is::<Option<f64>, _>(&c);
    assert_eq!(both(&c, b"$3\r\n1.5\r\n", b",1.5\r\n"), Some(1.5));
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
    assert_eq!(
        both(&c, b"$4\r\n-inf\r\n", b",-inf\r\n"),
        Some(f64::NEG_INFINITY)
    );
    assert_eq!(
        both(
            &c,
            b"$21\r\n1.0000000000000003e-5\r\n",
            b",1.0000000000000003e-5\r\n"
        ),
        Some(1.0000000000000003e-5)
    );
    // Redis 7 writes the exponent with two digits.
    assert_eq!(
        both(
            &c,
            b"$22\r\n1.0000000000000003e-05\r\n",
            b",1.0000000000000003e-05\r\n"
        ),
        Some(1.0000000000000003e-5)
    );
}

#[test]
fn zincrby() {
    let c = cmd::zincrby("z", 2, "a");
    output_is::<f64, _>(&c);
    assert_eq!(both(&c, b"$3\r\n3.5\r\n", b",3.5\r\n"), 3.5);
}

#[test]
fn zrange() {
    let c = cmd::zrange("z", 0, -1);
    output_is::<Vec<Bytes>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        ),
        bv(&["a", "b"])
    );
}

#[test]
fn zrange_withscores_pairs() {
    let c = cmd::zrange("z", 0, -1).withscores();
    output_is::<Vec<(Bytes, f64)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
            b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        ),
        vec![(b("a"), 1.0), (b("b"), 2.5)]
    );
    // One member: `*2` flat in RESP2, `*1` of one pair in RESP3.
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\na\r\n$1\r\n1\r\n",
            b"*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
        ),
        vec![(b("a"), 1.0)]
    );
    // Infinite scores.
    assert_eq!(
        both(
            &c,
            b"*4\r\n$1\r\na\r\n$4\r\n-inf\r\n$1\r\nb\r\n$3\r\ninf\r\n",
            b"*2\r\n*2\r\n$1\r\na\r\n,-inf\r\n*2\r\n$1\r\nb\r\n,inf\r\n"
        ),
        vec![(b("a"), f64::NEG_INFINITY), (b("b"), f64::INFINITY)]
    );
    assert_eq!(both(&c, b"*0\r\n", b"*0\r\n"), vec![]);
    let c = cmd::zrange("z", 0, -1)
        .withscores()
        .decode::<Vec<(String, f64)>>();
    assert_eq!(
        both(
            &c,
            b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
            b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        ),
        vec![("a".to_owned(), 1.0), ("b".to_owned(), 2.5)]
    );
}

#[test]
fn zrank_withscore() {
    let c = cmd::zrank("z", "b");
    output_is::<Option<i64>, _>(&c);
    assert_eq!(both(&c, b":1\r\n", b":1\r\n"), Some(1));
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);

    let c = cmd::zrank("z", "b").withscore();
    output_is::<Option<(i64, f64)>, _>(&c);
    assert_eq!(
        both(&c, b"*2\r\n:1\r\n$3\r\n2.5\r\n", b"*2\r\n:1\r\n,2.5\r\n"),
        Some((1, 2.5))
    );
    assert_eq!(both(&c, b"*-1\r\n", b"_\r\n"), None);
}

#[test]
fn zpopmin_without_count() {
    let c = cmd::zpopmin("z");
    output_is::<Option<(Bytes, f64)>, _>(&c);
    // Without a count RESP3 also sends a flat [member, score].
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\na\r\n$1\r\n1\r\n",
            b"*2\r\n$1\r\na\r\n,1\r\n"
        ),
        Some((b("a"), 1.0))
    );
    // Empty or missing key: an empty array, in both protocols.
    assert_eq!(both(&c, b"*0\r\n", b"*0\r\n"), None);
}

#[test]
fn zpopmin_with_count() {
    let c = cmd::zpopmin("z").count(2);
    output_is::<Vec<(Bytes, f64)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
            b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        ),
        vec![(b("a"), 1.0), (b("b"), 2.5)]
    );
    let c = cmd::zpopmin("z").count(1);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\na\r\n$1\r\n1\r\n",
            b"*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
        ),
        vec![(b("a"), 1.0)]
    );
    assert_eq!(both(&c, b"*0\r\n", b"*0\r\n"), vec![]);
    let c = cmd::zpopmax("z").count(1);
    output_is::<Vec<(Bytes, f64)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
            b"*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        ),
        vec![(b("b"), 2.5)]
    );
}

#[test]
fn zmscore() {
    let c = cmd::zmscore("z", ["a", "x", "b"]);
    output_is::<Vec<Option<f64>>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*3\r\n$1\r\n1\r\n$-1\r\n$3\r\n2.5\r\n",
            b"*3\r\n,1\r\n_\r\n,2.5\r\n"
        ),
        vec![Some(1.0), None, Some(2.5)]
    );
}

#[test]
fn zrandmember() {
    let c = cmd::zrandmember("z");
    output_is::<Option<Bytes>, _>(&c);
    assert_eq!(both(&c, b"$1\r\na\r\n", b"$1\r\na\r\n"), Some(b("a")));
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
    let c = cmd::zrandmember("z").count(1);
    output_is::<Vec<Bytes>, _>(&c);
    assert_eq!(
        both(&c, b"*1\r\n$1\r\na\r\n", b"*1\r\n$1\r\na\r\n"),
        bv(&["a"])
    );
}

#[test]
fn zrandmember_withscores_pairs() {
    let c = cmd::zrandmember("z").count_withscores(2);
    output_is::<Vec<(Bytes, f64)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\na\r\n$1\r\n1\r\n",
            b"*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
        ),
        vec![(b("a"), 1.0)]
    );
    assert_eq!(
        both(
            &c,
            b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
            b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        ),
        vec![(b("a"), 1.0), (b("b"), 2.5)]
    );
    assert_eq!(both(&c, b"*0\r\n", b"*0\r\n"), vec![]);
}

#[test]
fn zmpop_nested_in_both() {
    // ZMPOP nests [member, score] pairs in RESP2 too.
    let c = cmd::zmpop(["z"], MinMax::Min).count(2);
    output_is::<Option<(Bytes, Vec<(Bytes, f64)>)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
            b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        ),
        Some((b("z"), vec![(b("a"), 1.0), (b("b"), 2.5)]))
    );
    assert_eq!(both(&c, b"*-1\r\n", b"_\r\n"), None);
}

#[test]
fn bzpopmin() {
    let c = cmd::bzpopmin(["z"], 0);
    output_is::<Option<(Bytes, Bytes, f64)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n",
            b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,1\r\n"
        ),
        Some((b("z"), b("a"), 1.0))
    );
    assert_eq!(both(&c, b"*-1\r\n", b"_\r\n"), None);
}

#[test]
fn zscan() {
    // ZSCAN scores are bulk strings in both protocols.
    let c = cmd::zscan("z", 0);
    output_is::<(Bytes, Vec<(Bytes, f64)>), _>(&c);
    let r: &'static [u8] = b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n";
    assert_eq!(both(&c, r, r), (b("0"), vec![(b("a"), 1.0), (b("b"), 2.5)]));
}

#[test]
fn zscan_noscores() {
    let c = cmd::zscan("z", 0).noscores();
    let r: &'static [u8] = b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n";
    assert_eq!(both(&c, r, r), (b("0"), bv(&["a", "b"])));
}

// ---------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------

#[test]
fn lpop() {
    let c = cmd::lpop("l");
    output_is::<Option<Bytes>, _>(&c);
    assert_eq!(both(&c, b"$1\r\na\r\n", b"$1\r\na\r\n"), Some(b("a")));
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
}

#[test]
fn lpop_with_count() {
    let c = cmd::lpop("l").count(2);
    output_is::<Option<Vec<Bytes>>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        ),
        Some(bv(&["a", "b"]))
    );
    // Missing key: null array / null.
    assert_eq!(both(&c, b"*-1\r\n", b"_\r\n"), None);
    let c = cmd::rpop("l").count(2);
    output_is::<Option<Vec<Bytes>>, _>(&c);
    assert_eq!(
        both(&c, b"*1\r\n$1\r\nc\r\n", b"*1\r\n$1\r\nc\r\n"),
        Some(bv(&["c"]))
    );
}

#[test]
fn lpos() {
    let c = cmd::lpos("l", "b");
    output_is::<Option<i64>, _>(&c);
    assert_eq!(both(&c, b":1\r\n", b":1\r\n"), Some(1));
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);

    let c = cmd::lpos("l", "a").count(0);
    output_is::<Vec<i64>, _>(&c);
    assert_eq!(
        both(&c, b"*3\r\n:0\r\n:2\r\n:4\r\n", b"*3\r\n:0\r\n:2\r\n:4\r\n"),
        vec![0, 2, 4]
    );
    assert_eq!(both(&c, b"*0\r\n", b"*0\r\n"), Vec::<i64>::new());
}

#[test]
fn blpop() {
    let c = cmd::blpop(["l"], 0);
    output_is::<Option<(Bytes, Bytes)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\nl\r\n$1\r\na\r\n",
            b"*2\r\n$1\r\nl\r\n$1\r\na\r\n"
        ),
        Some((b("l"), b("a")))
    );
    // Timeout.
    assert_eq!(both(&c, b"*-1\r\n", b"_\r\n"), None);
}

#[test]
fn lmpop() {
    let c = cmd::lmpop(["l"], ListSide::Left).count(2);
    output_is::<Option<(Bytes, Vec<Bytes>)>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$1\r\nl\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            b"*2\r\n$1\r\nl\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        ),
        Some((b("l"), bv(&["a", "b"])))
    );
    assert_eq!(both(&c, b"*-1\r\n", b"_\r\n"), None);
}

// ---------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------

#[test]
fn xrange() {
    let c = cmd::xrange("st", "-", "+");
    output_is::<Vec<StreamEntry>, _>(&c);
    let r: &'static [u8] = b"*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
        *2\r\n$3\r\n2-1\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n";
    assert_eq!(
        both(&c, r, r),
        vec![
            StreamEntry {
                id: b("1-1"),
                fields: vec![(b("f"), b("v"))]
            },
            StreamEntry {
                id: b("2-1"),
                fields: vec![(b("a"), b("1")), (b("b"), b("2"))]
            },
        ]
    );
    // One entry.
    let c = cmd::xrevrange("st", "+", "-");
    output_is::<Vec<StreamEntry>, _>(&c);
    let r: &'static [u8] = b"*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
    assert_eq!(
        both(&c, r, r),
        vec![StreamEntry {
            id: b("1-1"),
            fields: vec![(b("f"), b("v"))]
        }]
    );
    assert_eq!(both(&c, b"*0\r\n", b"*0\r\n"), vec![]);
    let c = cmd::xrange("st", "-", "+").decode::<Vec<(Bytes, Vec<Bytes>)>>();
    assert_eq!(both(&c, r, r), vec![(b("1-1"), bv(&["f", "v"]))]);
}

#[test]
fn xread_map_vs_pairs() {
    let c = cmd::xread(["st", "s2"], ["0", "0"]);
    output_is::<Option<Vec<(Bytes, Vec<StreamEntry>)>>, _>(&c);
    let r2: &'static [u8] =
        b"*2\r\n*2\r\n$2\r\nst\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
          *2\r\n$2\r\ns2\r\n*1\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n";
    let r3: &'static [u8] =
        b"%2\r\n$2\r\nst\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
          $2\r\ns2\r\n*1\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n";
    let entry = |id: &'static str, f: &'static str, v: &'static str| StreamEntry {
        id: b(id),
        fields: vec![(b(f), b(v))],
    };
    assert_eq!(
        both(&c, r2, r3),
        Some(vec![
            (b("st"), vec![entry("1-1", "f", "v")]),
            (b("s2"), vec![entry("3-1", "x", "y")]),
        ])
    );
    // As a map keyed by stream.
    let c =
        cmd::xread(["st", "s2"], ["0", "0"]).decode::<Option<HashMap<Bytes, Vec<StreamEntry>>>>();
    assert_eq!(
        both(&c, r2, r3),
        Some(HashMap::from([
            (b("st"), vec![entry("1-1", "f", "v")]),
            (b("s2"), vec![entry("3-1", "x", "y")]),
        ]))
    );
    // One stream.
    let c = cmd::xread(["st"], ["0"]);
    assert_eq!(
        both(
            &c,
            b"*1\r\n*2\r\n$2\r\nst\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
            b"%1\r\n$2\r\nst\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
        ),
        Some(vec![(b("st"), vec![entry("1-1", "f", "v")])])
    );
    // BLOCK timed out.
    assert_eq!(both(&c, b"*-1\r\n", b"_\r\n"), None);
}

#[test]
fn xreadgroup_map_vs_pairs_with_deleted_entry() {
    let c = cmd::xreadgroup("g", "alice", ["st"], ["0"]);
    output_is::<Option<Vec<(Bytes, Vec<StreamEntry>)>>, _>(&c);
    // Re-reading the PEL after XDEL: the deleted entry has null fields.
    let v = both(
        &c,
        b"*1\r\n*2\r\n$2\r\nst\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
          *2\r\n$3\r\n2-1\r\n*-1\r\n",
        b"%1\r\n$2\r\nst\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
          *2\r\n$3\r\n2-1\r\n_\r\n",
    );
    assert_eq!(
        v,
        Some(vec![(
            b("st"),
            vec![
                StreamEntry {
                    id: b("1-1"),
                    fields: vec![(b("f"), b("v"))]
                },
                StreamEntry {
                    id: b("2-1"),
                    fields: vec![]
                },
            ]
        )])
    );
    assert_eq!(both(&c, b"*-1\r\n", b"_\r\n"), None);
}

#[test]
fn xinfo_stream_struct() {
    let c = cmd::xinfo_stream("st");
    output_is::<XinfoStreamReply, _>(&c);
    let v = both(
        &c,
        b"*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n\
          $16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-1\r\n\
          $20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:2\r\n\
          $23\r\nrecorded-first-entry-id\r\n$3\r\n1-1\r\n$6\r\ngroups\r\n:1\r\n\
          $11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
          $10\r\nlast-entry\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        b"%10\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n\
          $16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-1\r\n\
          $20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:2\r\n\
          $23\r\nrecorded-first-entry-id\r\n$3\r\n1-1\r\n$6\r\ngroups\r\n:1\r\n\
          $11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
          $10\r\nlast-entry\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    assert_eq!(v.length, Some(2));
    assert_eq!(v.radix_tree_keys, Some(1));
    assert_eq!(v.radix_tree_nodes, Some(2));
    assert_eq!(v.last_generated_id, Some(b("2-1")));
    assert_eq!(v.max_deleted_entry_id, Some(b("0-0")));
    assert_eq!(v.entries_added, Some(2));
    assert_eq!(v.recorded_first_entry_id, Some(b("1-1")));
    // `groups` is a count here and an array with FULL: typed as Value.
    assert_eq!(v.groups, Some(1));
    assert_eq!(v.first_entry, Some((b("1-1"), bv(&["f", "v"]))));
    assert_eq!(v.last_entry, Some((b("2-1"), bv(&["a", "1"]))));

    // An emptied stream: first-entry and last-entry are null.
    let v = both(
        &c,
        b"*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n\
          $16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n1-1\r\n\
          $20\r\nmax-deleted-entry-id\r\n$3\r\n1-1\r\n$13\r\nentries-added\r\n:1\r\n\
          $23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n\
          $11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n",
        b"%10\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n\
          $16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n1-1\r\n\
          $20\r\nmax-deleted-entry-id\r\n$3\r\n1-1\r\n$13\r\nentries-added\r\n:1\r\n\
          $23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n\
          $11\r\nfirst-entry\r\n_\r\n$10\r\nlast-entry\r\n_\r\n",
    );
    assert_eq!(v.length, Some(0));
    assert_eq!(v.max_deleted_entry_id, Some(b("1-1")));
    assert_eq!(v.first_entry, None);
    assert_eq!(v.last_entry, None);
}

#[test]
fn xinfo_stream_full() {
    let c = cmd::xinfo_stream("st").full(None);
    let (r2, r3) = fixture!("xinfo_stream_full");
    let v = both(&c, r2, r3);
    assert_eq!(v.length, Some(2));
    assert_eq!(v.radix_tree_keys, Some(1));
    assert_eq!(v.radix_tree_nodes, Some(2));
    assert_eq!(v.last_generated_id, Some(b("2-1")));
    assert_eq!(v.max_deleted_entry_id, Some(b("0-0")));
    assert_eq!(v.entries_added, Some(2));
    assert_eq!(v.recorded_first_entry_id, Some(b("1-1")));
    assert_eq!(
        v.entries,
        Some(vec![
            (b("1-1"), bv(&["f", "v"])),
            (b("2-1"), bv(&["g", "w"]))
        ])
    );
    let groups = v.groups.expect("groups");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, Some(b("g")));
    assert_eq!(groups[0].pel_count, Some(1));
}

#[test]
fn xinfo_stream_full_groups_type() {
    // The generated (currently unused) type of XINFO STREAM FULL's `groups` decodes
    // the real groups array of both protocols (cut out of the FULL fixtures).
    let r2: &'static [u8] = b"*1\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n\
        $12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n$9\r\npel-count\r\n:1\r\n\
        $7\r\npending\r\n*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:1795241628683\r\n:1\r\n\
        $9\r\nconsumers\r\n*1\r\n*10\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:1795241628683\r\n\
        $11\r\nactive-time\r\n:1795241628683\r\n$9\r\npel-count\r\n:1\r\n\
        $7\r\npending\r\n*1\r\n*3\r\n$3\r\n1-1\r\n:1795241628683\r\n:1\r\n";
    let r3: &'static [u8] = b"*1\r\n%7\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n\
        $12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n$9\r\npel-count\r\n:1\r\n\
        $7\r\npending\r\n*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:1795241628683\r\n:1\r\n\
        $9\r\nconsumers\r\n*1\r\n%5\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:1795241628683\r\n\
        $11\r\nactive-time\r\n:1795241628683\r\n$9\r\npel-count\r\n:1\r\n\
        $7\r\npending\r\n*1\r\n*3\r\n$3\r\n1-1\r\n:1795241628683\r\n:1\r\n";
    let (full2, full3) = fixture!("xinfo_stream_full");
    assert!(full2.ends_with(r2) && full3.ends_with(r3));
    let groups = both_as::<Vec<XinfoStreamFullReplyGroups>>(r2, r3);
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.name, Some(b("g")));
    assert_eq!(g.last_delivered_id, Some(b("1-1")));
    assert_eq!(g.entries_read, Some(1));
    assert_eq!(g.lag, Some(1));
    assert_eq!(g.pel_count, Some(1));
    assert_eq!(
        g.pending,
        Some(vec![(b("1-1"), b("alice"), 1795241628683, 1)])
    );
    let consumers = g.consumers.as_ref().expect("consumers");
    assert_eq!(consumers.len(), 1);
    assert_eq!(consumers[0].name, Some(b("alice")));
    assert_eq!(consumers[0].seen_time, Some(1795241628683));
    assert_eq!(consumers[0].active_time, Some(1795241628683));
    assert_eq!(consumers[0].pel_count, Some(1));
    assert_eq!(
        consumers[0].pending,
        Some(vec![(b("1-1"), 1795241628683, 1)])
    );
}

#[test]
fn xinfo_groups_structs() {
    let c = cmd::xinfo_groups("st");
    output_is::<Vec<XinfoGroupsReply>, _>(&c);
    let v = both(
        &c,
        b"*2\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n\
          $17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:1\r\n\
          *12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n\
          $17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n",
        b"*2\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n\
          $17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:1\r\n\
          %6\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n\
          $17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:0\r\n",
    );
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].name, Some(b("g")));
    assert_eq!(v[0].consumers, Some(0));
    assert_eq!(v[0].pending, Some(0));
    assert_eq!(v[0].last_delivered_id, Some(b("0-0")));
    assert_eq!(v[0].entries_read, None);
    assert_eq!(v[0].lag, Some(1));
    assert_eq!(v[1].name, Some(b("g2")));
    assert_eq!(v[1].last_delivered_id, Some(b("1-1")));
    assert_eq!(v[1].lag, Some(0));
}

#[test]
fn xinfo_consumers_structs() {
    let c = cmd::xinfo_consumers("st", "g");
    let v = both(
        &c,
        b"*1\r\n*8\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:2\r\n$4\r\nidle\r\n:0\r\n\
          $8\r\ninactive\r\n:0\r\n",
        b"*1\r\n%4\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:2\r\n$4\r\nidle\r\n:0\r\n\
          $8\r\ninactive\r\n:0\r\n",
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].name, Some(b("alice")));
    assert_eq!(v[0].pending, Some(2));
    assert_eq!(v[0].idle, Some(0));
    assert_eq!(v[0].inactive, Some(0));
}

#[test]
fn xpending_summary() {
    let c = cmd::xpending("st", "g");
    output_is::<(i64, Option<Bytes>, Option<Bytes>, Option<Vec<(Bytes, i64)>>), _>(&c);
    // The per-consumer count is a bulk string in both protocols.
    let r: &'static [u8] =
        b"*4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n2-1\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n";
    assert_eq!(
        both(&c, r, r),
        (
            2,
            Some(b("1-1")),
            Some(b("2-1")),
            Some(vec![(b("alice"), 2)])
        )
    );
    assert_eq!(
        both(
            &c,
            b"*4\r\n:3\r\n$3\r\n1-1\r\n$3\r\n3-1\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n\
              *2\r\n$3\r\nbob\r\n$1\r\n1\r\n",
            b"*4\r\n:3\r\n$3\r\n1-1\r\n$3\r\n3-1\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n\
              *2\r\n$3\r\nbob\r\n$1\r\n1\r\n",
        ),
        (
            3,
            Some(b("1-1")),
            Some(b("3-1")),
            Some(vec![(b("alice"), 2), (b("bob"), 1)])
        )
    );
    // Nothing pending.
    assert_eq!(
        both(
            &c,
            b"*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n",
            b"*4\r\n:0\r\n_\r\n_\r\n_\r\n"
        ),
        (0, None, None, None)
    );
}

#[test]
fn xpending_extended() {
    let c = cmd::xpending("st", "g").filters(None, "-", "+", 10, None);
    output_is::<Vec<(Bytes, Bytes, i64, i64)>, _>(&c);
    let r: &'static [u8] = b"*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:0\r\n:1\r\n";
    assert_eq!(both(&c, r, r), vec![(b("1-1"), b("alice"), 0, 1)]);
}

#[test]
fn xautoclaim() {
    let c = cmd::xautoclaim("st", "g", "bob", "0", "0-0");
    output_is::<(Bytes, Vec<StreamEntry>, Vec<Bytes>), _>(&c);
    let r: &'static [u8] =
        b"*3\r\n$3\r\n0-0\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
        *1\r\n$3\r\n2-1\r\n";
    assert_eq!(
        both(&c, r, r),
        (
            b("0-0"),
            vec![StreamEntry {
                id: b("1-1"),
                fields: vec![(b("f"), b("v"))]
            }],
            bv(&["2-1"])
        )
    );
    let c = cmd::xautoclaim("st", "g", "bob", "0", "0-0").justid();
    output_is::<(Bytes, Vec<Bytes>, Vec<Bytes>), _>(&c);
    let r: &'static [u8] = b"*3\r\n$3\r\n0-0\r\n*1\r\n$3\r\n1-1\r\n*1\r\n$3\r\n2-1\r\n";
    assert_eq!(both(&c, r, r), (b("0-0"), bv(&["1-1"]), bv(&["2-1"])));
}

#[test]
fn xclaim() {
    let c = cmd::xclaim("st", "g", "bob", "0", ["1-1"]);
    output_is::<Vec<StreamEntry>, _>(&c);
    let r: &'static [u8] = b"*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
    assert_eq!(
        both(&c, r, r),
        vec![StreamEntry {
            id: b("1-1"),
            fields: vec![(b("f"), b("v"))]
        }]
    );
    let c = cmd::xclaim("st", "g", "bob", "0", ["1-1"]).justid();
    output_is::<Vec<Bytes>, _>(&c);
    assert_eq!(
        both(&c, b"*1\r\n$3\r\n1-1\r\n", b"*1\r\n$3\r\n1-1\r\n"),
        bv(&["1-1"])
    );
}

// ---------------------------------------------------------------------------------
// Geo
// ---------------------------------------------------------------------------------

#[test]
fn geopos() {
    let c = cmd::geopos("Sicily").member(["Palermo", "Nowhere"]);
    output_is::<Vec<Option<(f64, f64)>>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n",
            b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
        ),
        vec![Some((13.361389338970184, 38.1155563954963)), None]
    );
}

#[test]
fn geosearch_withdist_withcoord() {
    let by = GeosearchBy::Byradius {
        radius: 200.0,
        unit: GeoUnit::Km,
    };
    let c = cmd::geosearch("Sicily", by.clone())
        .fromlonlat(15, 37)
        .asc()
        .withdist()
        .withcoord();
    output_is::<Vec<GeoMatch>, _>(&c);
    // Distances are bulk strings in both protocols; coordinates are doubles in RESP3.
    let v = both(
        &c,
        b"*2\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n\
          *2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n\
          *3\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n\
          *2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n",
        b"*2\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n\
          *2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n\
          *3\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n\
          *2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n",
    );
    assert_eq!(
        v,
        vec![
            GeoMatch {
                member: b("Catania"),
                dist: Some(56.4413),
                hash: None,
                coord: Some((15.087267458438873, 37.50266842333162)),
            },
            GeoMatch {
                member: b("Palermo"),
                dist: Some(190.4424),
                hash: None,
                coord: Some((13.361389338970184, 38.1155563954963)),
            },
        ]
    );
    let c = cmd::geosearch("Sicily", by.clone())
        .fromlonlat(15, 37)
        .withhash();
    let r: &'static [u8] = b"*1\r\n*2\r\n$7\r\nPalermo\r\n:3479099956230698\r\n";
    assert_eq!(
        both(&c, r, r),
        vec![GeoMatch {
            member: b("Palermo"),
            dist: None,
            hash: Some(3479099956230698),
            coord: None,
        }]
    );
    let c = cmd::geosearch("Sicily", by).fromlonlat(15, 37);
    output_is::<Vec<Bytes>, _>(&c);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n",
            b"*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n"
        ),
        bv(&["Catania", "Palermo"])
    );
}

#[test]
fn geodist() {
    // A bulk string in both protocols.
    let c = cmd::geodist("Sicily", "Palermo", "Catania");
    output_is::<Option<f64>, _>(&c);
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
    let c = cmd::geodist("Sicily", "Palermo", "Catania").decode::<Option<f64>>();
    assert_eq!(
        both(&c, b"$11\r\n166274.1516\r\n", b"$11\r\n166274.1516\r\n"),
        Some(166274.1516)
    );
}

// ---------------------------------------------------------------------------------
// RESP3-only types: DEBUG PROTOCOL <type> through .decode::<T>()
// ---------------------------------------------------------------------------------

fn debug_protocol(kind: &str) -> respec::command::Raw {
    raw_cmd("DEBUG").arg("PROTOCOL").arg(kind)
}

#[test]
#[allow(clippy::approx_constant)]
fn debug_protocol_double() {
    let c = debug_protocol("double").decode::<f64>();
    assert_eq!(both(&c, b"$5\r\n3.141\r\n", b",3.141\r\n"), 3.141);
    let c = debug_protocol("double").decode::<String>();
    assert_eq!(both(&c, b"$5\r\n3.141\r\n", b",3.141\r\n"), "3.141");
}

#[test]
fn debug_protocol_bignum() {
    let r2: &'static [u8] = b"$37\r\n1234567999999999999999999999999999999\r\n";
    let r3: &'static [u8] = b"(1234567999999999999999999999999999999\r\n";
    let c = debug_protocol("bignum").decode::<i128>();
    assert_eq!(both(&c, r2, r3), 1234567999999999999999999999999999999);
    let c = debug_protocol("bignum").decode::<Bytes>();
    assert_eq!(both(&c, r2, r3), b("1234567999999999999999999999999999999"));
    // Does not fit an i64: a decode error, not a panic or a wrapped value.
    let c = debug_protocol("bignum").decode::<i64>();
    let (e2, e3) = both_err(&c, r2, r3);
    assert!(e2.is_decode() && e3.is_decode());
}

#[test]
fn debug_protocol_booleans() {
    let c = debug_protocol("true").decode::<bool>();
    assert!(both(&c, b":1\r\n", b"#t\r\n"));
    let c = debug_protocol("false").decode::<bool>();
    assert!(!both(&c, b":0\r\n", b"#f\r\n"));
    let c = debug_protocol("true").decode::<i64>();
    assert_eq!(both(&c, b":1\r\n", b"#t\r\n"), 1);
}

#[test]
fn debug_protocol_null() {
    let c = debug_protocol("null").decode::<Option<Bytes>>();
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
    let c = debug_protocol("null").decode::<Option<i64>>();
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
}

#[test]
fn debug_protocol_map_and_set() {
    // %3 {0: #f, 1: #t, 2: #f} vs *6 [0, 0, 1, 1, 2, 0].
    let r2: &'static [u8] = b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n";
    let r3: &'static [u8] = b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n";
    let c = debug_protocol("map").decode::<BTreeMap<i64, bool>>();
    assert_eq!(
        both(&c, r2, r3),
        BTreeMap::from([(0, false), (1, true), (2, false)])
    );
    let c = debug_protocol("map").decode::<HashMap<u16, bool>>();
    assert_eq!(
        both(&c, r2, r3),
        HashMap::from([(0, false), (1, true), (2, false)])
    );
    let c = debug_protocol("map").decode::<Vec<(i64, bool)>>();
    assert_eq!(both(&c, r2, r3), vec![(0, false), (1, true), (2, false)]);

    let r2: &'static [u8] = b"*3\r\n:0\r\n:1\r\n:2\r\n";
    let r3: &'static [u8] = b"~3\r\n:0\r\n:1\r\n:2\r\n";
    let c = debug_protocol("set").decode::<HashSet<i64>>();
    assert_eq!(both(&c, r2, r3), HashSet::from([0, 1, 2]));
    let c = debug_protocol("set").decode::<BTreeSet<u32>>();
    assert_eq!(both(&c, r2, r3), BTreeSet::from([0, 1, 2]));
    let c = debug_protocol("set").decode::<Vec<i64>>();
    assert_eq!(both(&c, r2, r3), vec![0, 1, 2]);
}

#[test]
fn debug_protocol_attribute_is_skipped() {
    let r2: &'static [u8] = b"$39\r\nSome real reply following the attribute\r\n";
    let r3: &'static [u8] = b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n\
        $39\r\nSome real reply following the attribute\r\n";
    let c = debug_protocol("attrib").decode::<String>();
    assert_eq!(both(&c, r2, r3), "Some real reply following the attribute");
    let c = debug_protocol("attrib");
    assert_eq!(
        both(&c, r2, r3),
        Value::Bulk(b("Some real reply following the attribute"))
    );
}

#[test]
fn debug_protocol_verbatim() {
    let r2: &'static [u8] = b"$25\r\nThis is a verbatim\nstring\r\n";
    let r3: &'static [u8] = b"=29\r\ntxt:This is a verbatim\nstring\r\n";
    let c = debug_protocol("verbatim").decode::<String>();
    assert_eq!(both(&c, r2, r3), "This is a verbatim\nstring");
    // Value keeps the protocol's shape.
    assert_eq!(
        decode::<Value>(r3).unwrap(),
        Value::Verbatim {
            format: b("txt"),
            text: b("This is a verbatim\nstring")
        }
    );
    assert_eq!(
        decode::<Value>(r2).unwrap(),
        Value::Bulk(b("This is a verbatim\nstring"))
    );
}

#[test]
fn attributes_inside_aggregates_are_skipped() {
    // Hand-written after the RESP3 specification's example: an attribute before the
    // reply, and one before an element of an aggregate.
    let v: Vec<i64> = decode(
        b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n\
          *2\r\n:2039123\r\n:9543892\r\n",
    )
    .unwrap();
    assert_eq!(v, vec![2039123, 9543892]);
    let v: Vec<(Bytes, f64)> = decode(
        b"*2\r\n|1\r\n+ttl\r\n:3600\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n|1\r\n+x\r\n_\r\n,2.5\r\n",
    )
    .unwrap();
    assert_eq!(v, vec![(b("a"), 1.0), (b("b"), 2.5)]);
    let v: Value = decode(b"*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n").unwrap();
    assert_eq!(v, Value::Array(vec![Value::Int(1), Value::Int(2)]));
}

// ---------------------------------------------------------------------------------
// Error replies
// ---------------------------------------------------------------------------------

#[test]
fn wrongtype_is_a_server_error() {
    let r: &'static [u8] =
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    let (e2, e3) = both_err(&cmd::get("l"), r, r);
    for e in [&e2, &e3] {
        assert_server_error(
            e,
            "WRONGTYPE",
            "Operation against a key holding the wrong kind of value",
        );
        assert_eq!(
            e.server_error().unwrap().text(),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
    }
    // Every reply type turns an error reply into a server error.
    let (e, _) = both_err(&cmd::hgetall("l"), r, r);
    assert_server_error(
        &e,
        "WRONGTYPE",
        "Operation against a key holding the wrong kind of value",
    );
    let (e, _) = both_err(&cmd::zrange("l", 0, -1).withscores(), r, r);
    assert!(e.is_server());
    let (e, _) = both_err(&cmd::xinfo_stream("l"), r, r);
    assert!(e.is_server());
    let (e, _) = both_err(&cmd::memory_stats(), r, r);
    assert!(e.is_server());
    let (e, _) = both_err(&cmd::set("k", "v"), r, r);
    assert!(e.is_server());
    let e = decode::<()>(r).unwrap_err();
    assert!(e.is_server());
}

#[test]
fn other_server_errors() {
    // As sent by redis-server 7.0 for ZRANK ... WITHSCORE.
    let r: &'static [u8] = b"-ERR wrong number of arguments for 'zrank' command\r\n";
    let (e, _) = both_err(&cmd::zrank("z", "b").withscore(), r, r);
    assert_server_error(&e, "ERR", "wrong number of arguments for 'zrank' command");
    let e = decode::<Bytes>(b"-MOVED 3999 127.0.0.1:6381\r\n").unwrap_err();
    let moved = e.server_error().unwrap().moved().expect("a MOVED redirect");
    assert_eq!(moved.slot, 3999);
    assert_eq!(moved.address, "127.0.0.1:6381");
}

#[test]
fn blob_error() {
    // Hand-written: the RESP3 specification's blob error.
    let r3: &'static [u8] = b"!21\r\nSYNTAX invalid syntax\r\n";
    let r2: &'static [u8] = b"-SYNTAX invalid syntax\r\n";
    let (e2, e3) = both_err(&cmd::get("k"), r2, r3);
    for e in [&e2, &e3] {
        assert_server_error(e, "SYNTAX", "invalid syntax");
    }
    assert_eq!(e2.server_error(), e3.server_error());
    assert_eq!(
        decode::<Value>(r3).unwrap(),
        Value::Error(ServerError::new(b("SYNTAX invalid syntax")))
    );
}

#[test]
fn error_nested_in_an_array() {
    let r: &'static [u8] = b"*3\r\n$1\r\na\r\n-ERR nested\r\n:1\r\n";
    let v: Vec<Value> = decode(r).unwrap();
    assert_eq!(
        v,
        vec![
            Value::Bulk(b("a")),
            Value::Error(ServerError::new(b("ERR nested"))),
            Value::Int(1)
        ]
    );
    // Decoded as a typed Vec, the nested error is the decode's error.
    let e = decode::<Vec<Bytes>>(r).unwrap_err();
    assert_server_error(&e, "ERR", "nested");
    let e = decode::<Vec<Option<Bytes>>>(b"*2\r\n$1\r\na\r\n!10\r\nERR nested\r\n").unwrap_err();
    assert_server_error(&e, "ERR", "nested");
}

// ---------------------------------------------------------------------------------
// The untyped Value
// ---------------------------------------------------------------------------------

#[test]
#[allow(clippy::approx_constant)] // DEBUG PROTOCOL double sends 3.141
fn value_keeps_the_protocol_shape() {
    let hgetall2: &'static [u8] = b"*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n";
    let hgetall3: &'static [u8] = b"%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n";
    assert_eq!(
        decode::<Value>(hgetall2).unwrap(),
        Value::Array(vec![
            Value::Bulk(b("f1")),
            Value::Bulk(b("v1")),
            Value::Bulk(b("f2")),
            Value::Bulk(b("v2"))
        ])
    );
    assert_eq!(
        decode::<Value>(hgetall3).unwrap(),
        Value::Map(vec![
            (Value::Bulk(b("f1")), Value::Bulk(b("v1"))),
            (Value::Bulk(b("f2")), Value::Bulk(b("v2")))
        ])
    );
    assert_eq!(
        decode::<Value>(b"~2\r\n$1\r\na\r\n:1\r\n").unwrap(),
        Value::Set(vec![Value::Bulk(b("a")), Value::Int(1)])
    );
    assert_eq!(
        decode::<Value>(b",3.141\r\n").unwrap(),
        Value::Double(3.141)
    );
    assert_eq!(
        decode::<Value>(b",inf\r\n").unwrap(),
        Value::Double(f64::INFINITY)
    );
    assert!(matches!(decode::<Value>(b",nan\r\n").unwrap(), Value::Double(d) if d.is_nan()));
    assert_eq!(decode::<Value>(b"#t\r\n").unwrap(), Value::Bool(true));
    assert_eq!(decode::<Value>(b"_\r\n").unwrap(), Value::Nil);
    assert_eq!(decode::<Value>(b"$-1\r\n").unwrap(), Value::Nil);
    assert_eq!(decode::<Value>(b"*-1\r\n").unwrap(), Value::Nil);
    assert_eq!(decode::<Value>(b"+OK\r\n").unwrap(), Value::Simple(b("OK")));
    assert_eq!(
        decode::<Value>(b"(1234567999999999999999999999999999999\r\n").unwrap(),
        Value::BigNumber(b("1234567999999999999999999999999999999"))
    );
    assert_eq!(
        decode::<Value>(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n").unwrap(),
        Value::Push(vec![
            Value::Bulk(b("message")),
            Value::Bulk(b("ch")),
            Value::Bulk(b("hi"))
        ])
    );
    assert_eq!(decode::<Value>(b"*0\r\n").unwrap(), Value::Array(vec![]));
    // Accessors.
    let v = decode::<Value>(b"=9\r\ntxt:hello\r\n").unwrap();
    assert_eq!(v.as_bytes(), Some(&b("hello")));
    assert_eq!(decode::<Value>(b":7\r\n").unwrap().as_int(), Some(7));
    assert!(decode::<Value>(b"_\r\n").unwrap().is_nil());
    // EVAL / FCALL reply an untyped Value.
    let c = cmd::eval("return {1, 'a'}");
    output_is::<Value, _>(&c);
    let r: &'static [u8] = b"*2\r\n:1\r\n$1\r\na\r\n";
    assert_eq!(
        both(&c, r, r),
        Value::Array(vec![Value::Int(1), Value::Bulk(b("a"))])
    );
}

// ---------------------------------------------------------------------------------
// FromReply for std types
// ---------------------------------------------------------------------------------

#[test]
fn std_strings_and_bytes() {
    assert_eq!(decode::<String>(b"$5\r\nhello\r\n").unwrap(), "hello");
    assert_eq!(decode::<String>(b"+OK\r\n").unwrap(), "OK");
    assert_eq!(decode::<String>(b"=9\r\ntxt:hello\r\n").unwrap(), "hello");
    assert_eq!(decode::<String>(b":-5\r\n").unwrap(), "-5");
    assert_eq!(decode::<String>(b",2.5\r\n").unwrap(), "2.5");
    assert_eq!(decode::<String>(b",3\r\n").unwrap(), "3");
    assert_eq!(decode::<String>(b",-inf\r\n").unwrap(), "-inf");
    assert_eq!(decode::<Bytes>(b"$0\r\n\r\n").unwrap(), Bytes::new());
    // Binary-safe.
    assert_eq!(
        decode::<Bytes>(b"$4\r\n\x00\r\n\xff\r\n").unwrap(),
        Bytes::from_static(b"\x00\r\n\xff")
    );
    assert_eq!(decode::<Vec<u8>>(b"$2\r\nhi\r\n").unwrap(), b"hi".to_vec());
    assert_eq!(
        decode::<Option<String>>(b"$2\r\nhi\r\n").unwrap(),
        Some("hi".to_owned())
    );
}

#[test]
fn std_integers() {
    assert_eq!(decode::<i64>(b":42\r\n").unwrap(), 42);
    assert_eq!(decode::<i64>(b"$2\r\n42\r\n").unwrap(), 42);
    assert_eq!(decode::<i64>(b"+42\r\n").unwrap(), 42);
    assert_eq!(decode::<i64>(b",3\r\n").unwrap(), 3);
    assert_eq!(decode::<i64>(b"#t\r\n").unwrap(), 1);
    assert_eq!(
        decode::<u64>(b"(18446744073709551615\r\n").unwrap(),
        u64::MAX
    );
    assert_eq!(decode::<i32>(b":-7\r\n").unwrap(), -7);
    assert_eq!(decode::<u16>(b":65535\r\n").unwrap(), u16::MAX);
    assert_eq!(decode::<usize>(b"$1\r\n0\r\n").unwrap(), 0);
    assert_eq!(decode::<i8>(b":-128\r\n").unwrap(), i8::MIN);
    assert_eq!(decode::<isize>(b":9\r\n").unwrap(), 9);
    assert_eq!(decode::<u32>(b":4294967295\r\n").unwrap(), u32::MAX);
    assert_eq!(decode::<i16>(b":-2\r\n").unwrap(), -2);
    // Out of range or not a number: decode errors.
    assert!(decode::<u16>(b":65536\r\n").unwrap_err().is_decode());
    assert!(decode::<u64>(b":-1\r\n").unwrap_err().is_decode());
    assert!(decode::<i8>(b":128\r\n").unwrap_err().is_decode());
    assert!(decode::<i64>(b"$3\r\nabc\r\n").unwrap_err().is_decode());
    assert!(decode::<i64>(b",2.5\r\n").unwrap_err().is_decode());
    assert!(decode::<i64>(b"(99999999999999999999\r\n")
        .unwrap_err()
        .is_decode());
}

#[test]
fn std_floats_and_bools() {
    assert_eq!(decode::<f64>(b",1.5\r\n").unwrap(), 1.5);
    assert_eq!(decode::<f64>(b"$3\r\n1.5\r\n").unwrap(), 1.5);
    assert_eq!(decode::<f64>(b":2\r\n").unwrap(), 2.0);
    assert_eq!(decode::<f64>(b"$3\r\ninf\r\n").unwrap(), f64::INFINITY);
    assert_eq!(decode::<f64>(b"$4\r\n-inf\r\n").unwrap(), f64::NEG_INFINITY);
    assert_eq!(decode::<f64>(b",1e-300\r\n").unwrap(), 1e-300);
    assert!(decode::<f64>(b",nan\r\n").unwrap().is_nan());
    assert_eq!(decode::<f32>(b",0.5\r\n").unwrap(), 0.5);
    assert!(decode::<f64>(b"$3\r\nabc\r\n").unwrap_err().is_decode());
    assert!(decode::<f64>(b"$8\r\ninfinity\r\n")
        .unwrap_err()
        .is_decode());
    assert!(decode::<f64>(b"#t\r\n").unwrap_err().is_decode());

    assert!(decode::<bool>(b"#t\r\n").unwrap());
    assert!(!decode::<bool>(b"#f\r\n").unwrap());
    assert!(decode::<bool>(b":1\r\n").unwrap());
    assert!(!decode::<bool>(b":0\r\n").unwrap());
    assert!(decode::<bool>(b"+OK\r\n").unwrap());
    assert!(!decode::<bool>(b"_\r\n").unwrap());
    assert!(!decode::<bool>(b"$-1\r\n").unwrap());
    assert!(decode::<bool>(b"$1\r\n1\r\n").unwrap());
    assert!(decode::<bool>(b"$3\r\nabc\r\n").unwrap_err().is_decode());
    assert!(decode::<bool>(b"*0\r\n").unwrap_err().is_decode());
}

#[test]
fn std_option_and_unit() {
    assert_eq!(decode::<Option<Bytes>>(b"_\r\n").unwrap(), None);
    assert_eq!(decode::<Option<Bytes>>(b"$-1\r\n").unwrap(), None);
    assert_eq!(decode::<Option<Vec<Bytes>>>(b"*-1\r\n").unwrap(), None);
    assert_eq!(
        decode::<Option<Vec<Bytes>>>(b"*0\r\n").unwrap(),
        Some(vec![])
    );
    assert_eq!(decode::<Option<(Bytes, f64)>>(b"*0\r\n").unwrap(), None);
    assert_eq!(decode::<Option<Option<i64>>>(b"_\r\n").unwrap(), None);
    assert_eq!(decode::<Option<i64>>(b":0\r\n").unwrap(), Some(0));
    assert_eq!(decode::<Box<i64>>(b":3\r\n").unwrap(), Box::new(3));
    decode::<()>(b"+OK\r\n").unwrap();
    decode::<()>(b"*2\r\n:1\r\n%1\r\n:1\r\n:2\r\n").unwrap();
    assert!(decode::<()>(b"-ERR no\r\n").unwrap_err().is_server());
}

#[test]
fn std_collections() {
    assert_eq!(
        decode::<Vec<Bytes>>(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n").unwrap(),
        bv(&["a", "b"])
    );
    assert_eq!(
        decode::<Vec<Bytes>>(b"~2\r\n$1\r\na\r\n$1\r\nb\r\n").unwrap(),
        bv(&["a", "b"])
    );
    // A map as a Vec of single values: keys and values in order.
    assert_eq!(
        decode::<Vec<Bytes>>(b"%1\r\n$1\r\nk\r\n$1\r\nv\r\n").unwrap(),
        bv(&["k", "v"])
    );
    assert_eq!(
        decode::<VecDeque<i64>>(b"*2\r\n:1\r\n:2\r\n").unwrap(),
        VecDeque::from([1, 2])
    );
    // Pairs from a map, a flat array and an array of pairs.
    let frames: [&'static [u8]; 3] = [
        &b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n"[..],
        &b"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n"[..],
        &b"*2\r\n*2\r\n$1\r\na\r\n:1\r\n*2\r\n$1\r\nb\r\n:2\r\n"[..],
    ];
    for frame in frames {
        assert_eq!(
            decode::<Vec<(String, i64)>>(frame).unwrap(),
            vec![("a".to_owned(), 1), ("b".to_owned(), 2)]
        );
        assert_eq!(
            decode::<HashMap<String, i64>>(frame).unwrap(),
            HashMap::from([("a".to_owned(), 1), ("b".to_owned(), 2)])
        );
        assert_eq!(
            decode::<BTreeMap<Bytes, u16>>(frame).unwrap(),
            BTreeMap::from([(b("a"), 1), (b("b"), 2)])
        );
    }
    // Nested maps.
    let v: HashMap<String, HashMap<String, i64>> =
        decode(b"%1\r\n$4\r\ndb.0\r\n%2\r\n$4\r\nmain\r\n:288\r\n$7\r\nexpires\r\n:112\r\n")
            .unwrap();
    assert_eq!(v["db.0"]["main"], 288);
    assert_eq!(v["db.0"]["expires"], 112);
    let v: HashMap<String, HashMap<String, i64>> =
        decode(b"*2\r\n$4\r\ndb.0\r\n*4\r\n$4\r\nmain\r\n:288\r\n$7\r\nexpires\r\n:112\r\n")
            .unwrap();
    assert_eq!(v["db.0"]["expires"], 112);
    // Sets.
    assert_eq!(
        decode::<HashSet<Bytes>>(b"~2\r\n$1\r\na\r\n$1\r\nb\r\n").unwrap(),
        HashSet::from([b("a"), b("b")])
    );
    assert_eq!(
        decode::<BTreeSet<String>>(b"*2\r\n$1\r\nb\r\n$1\r\na\r\n").unwrap(),
        BTreeSet::from(["a".to_owned(), "b".to_owned()])
    );
}

#[test]
fn std_tuples() {
    assert_eq!(
        decode::<(i64, String, f64)>(b"*3\r\n:1\r\n$1\r\na\r\n,2.5\r\n").unwrap(),
        (1, "a".to_owned(), 2.5)
    );
    assert_eq!(
        decode::<(Bytes, Bytes)>(b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n").unwrap(),
        (b("k"), b("v"))
    );
    // A one-entry map is a pair too.
    assert_eq!(
        decode::<(Bytes, i64)>(b"%1\r\n$1\r\nk\r\n:1\r\n").unwrap(),
        (b("k"), 1)
    );
    assert_eq!(decode::<(i64,)>(b"*1\r\n:1\r\n").unwrap(), (1,));
    assert_eq!(
        decode::<(i64, i64, i64, i64)>(b"*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n").unwrap(),
        (1, 2, 3, 4)
    );
    assert_eq!(
        decode::<(Option<Bytes>, Vec<i64>)>(b"*2\r\n_\r\n*1\r\n:1\r\n").unwrap(),
        (None, vec![1])
    );
}

// ---------------------------------------------------------------------------------
// Replies that do not fit
// ---------------------------------------------------------------------------------

#[test]
fn mismatches_are_decode_errors() {
    let map: &'static [u8] = b"%1\r\n$1\r\nk\r\n$1\r\nv\r\n";
    let e = decode::<i64>(map).unwrap_err();
    assert!(e.is_decode() && !e.is_server() && !e.is_protocol());
    assert!(e.to_string().contains("map"), "{e}");
    assert!(decode::<Bytes>(b"*1\r\n$1\r\na\r\n")
        .unwrap_err()
        .is_decode());
    assert!(decode::<String>(b"_\r\n").unwrap_err().is_decode());
    assert!(decode::<String>(b"$2\r\n\xff\xfe\r\n")
        .unwrap_err()
        .is_decode());
    assert!(
        decode::<(Bytes, Bytes)>(b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
            .unwrap_err()
            .is_decode()
    );
    assert!(decode::<(i64, i64, i64)>(b"*2\r\n:1\r\n:2\r\n")
        .unwrap_err()
        .is_decode());
    assert!(
        decode::<Vec<(Bytes, Bytes)>>(b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
            .unwrap_err()
            .is_decode()
    );
    assert!(decode::<HashMap<Bytes, Bytes>>(b":1\r\n")
        .unwrap_err()
        .is_decode());
    assert!(decode::<Vec<Bytes>>(b"$1\r\na\r\n")
        .unwrap_err()
        .is_decode());
    assert!(decode::<LcsMatches>(b"%0\r\n").unwrap_err().is_decode());
    assert!(decode::<StreamEntry>(b"*3\r\n$1\r\na\r\n*0\r\n:1\r\n")
        .unwrap_err()
        .is_decode());
    assert!(decode::<GeoMatch>(b"*0\r\n").unwrap_err().is_decode());
    assert!(decode::<MemoryStatsReply>(b"$2\r\nhi\r\n")
        .unwrap_err()
        .is_decode());

    // Through a command's reply type.
    let (e2, e3) = both_err(&cmd::get("k").decode::<String>(), b"$-1\r\n", b"_\r\n");
    assert!(e2.is_decode() && e3.is_decode());
    let (e2, e3) = both_err(
        &cmd::incr("n"),
        b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        b"%1\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    assert!(e2.is_decode() && e3.is_decode());
    let (e2, e3) = both_err(&cmd::zscore("z", "a"), b"$3\r\nabc\r\n", b"$3\r\nabc\r\n");
    assert!(e2.is_decode() && e3.is_decode());
    let (e2, e3) = both_err(
        &cmd::xinfo_stream("st"),
        b"*2\r\n$6\r\nlength\r\n$3\r\nabc\r\n",
        b"%1\r\n$6\r\nlength\r\n$3\r\nabc\r\n",
    );
    assert!(e2.is_decode() && e3.is_decode());
}

#[test]
fn malformed_frames_are_protocol_errors() {
    // Hand-written broken frames (a decoder may meet them only behind a buggy proxy).
    let truncated = Bytes::from_static(b"*2\r\n$1\r\na\r\n");
    assert!(Vec::<Bytes>::from_frame(truncated)
        .unwrap_err()
        .is_protocol());
    assert!(Value::from_frame(Bytes::from_static(b"?\r\n"))
        .unwrap_err()
        .is_protocol());
    assert!(i64::from_frame(Bytes::from_static(b":12a\r\n"))
        .unwrap_err()
        .is_protocol());
    assert!(Bytes::from_frame(Bytes::from_static(b"$5\r\nab\r\n"))
        .unwrap_err()
        .is_protocol());
    assert!(Value::from_frame(Bytes::from_static(b"=2\r\nab\r\n"))
        .unwrap_err()
        .is_protocol());
    assert!(Value::from_frame(Bytes::new()).unwrap_err().is_protocol());
}

/// Frames to throw at every decoder: the fixtures above, and hostile ones.
const CORPUS: &[&[u8]] = &[
    b"$5\r\nhello\r\n",
    b"$-1\r\n",
    b"*-1\r\n",
    b"_\r\n",
    b"+OK\r\n",
    b":42\r\n",
    b",3.5\r\n",
    b",-inf\r\n",
    b",nan\r\n",
    b"#t\r\n",
    b"(1234567999999999999999999999999999999\r\n",
    b"=29\r\ntxt:This is a verbatim\nstring\r\n",
    b"!21\r\nSYNTAX invalid syntax\r\n",
    b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    b"*0\r\n",
    b"%0\r\n",
    b"~0\r\n",
    b"*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n",
    b"%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
    b"*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n",
    b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
    b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
    b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,1\r\n",
    b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
    b"*4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n2-1\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n",
    b"*4\r\n:0\r\n_\r\n_\r\n_\r\n",
    b"*3\r\n$3\r\n0-0\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*1\r\n$3\r\n2-1\r\n",
    b"%2\r\n$2\r\nst\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$2\r\ns2\r\n*1\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n",
    b"*2\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n*3\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n",
    b"%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n",
    b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
    b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    b"*3\r\n+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\nv\r\n",
    // Hostile: lengths that lie, negative or huge counts, odd pair lists.
    b"*1000000000\r\n:1\r\n",
    b"%1000000000\r\n:1\r\n",
    b"$1000000000\r\nab\r\n",
    b"*-2\r\n",
    b"$-2\r\n",
    b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
    b"*2\r\n*2\r\n:1\r\n",
    b"=2\r\nab\r\n",
    b"|1\r\n",
    b"|2\r\n:1\r\n:2\r\n",
    b":99999999999999999999999\r\n",
    b"#x\r\n",
    b",\r\n",
    b"\r\n",
    b"*1\n:1\n",
];

macro_rules! decode_all {
    ($frame:expr; $($t:ty),* $(,)?) => {$(
        let _ = <$t as FromReply>::from_frame(Bytes::copy_from_slice($frame));
    )*};
}

/// Decodes `frame` into many types, ignoring the results: only a panic fails.
fn decode_everything(frame: &[u8]) {
    decode_all!(frame;
        Value, Bytes, String, Vec<u8>, i64, u16, i128, f64, bool, (),
        Option<Bytes>, Option<i64>, Option<f64>, Option<(Bytes, f64)>, Option<Vec<Bytes>>,
        Vec<Bytes>, Vec<Option<Bytes>>, Vec<Value>, Vec<bool>, Vec<(Bytes, f64)>,
        Vec<(Bytes, Vec<Bytes>)>, HashMap<Bytes, Bytes>, BTreeMap<i64, bool>, HashSet<Bytes>,
        (Bytes, Vec<Bytes>), (i64, Option<Bytes>, Option<Bytes>, Option<Vec<(Bytes, i64)>>),
        Option<Vec<(Bytes, Vec<StreamEntry>)>>, Option<HashMap<Bytes, Vec<StreamEntry>>>,
        (Bytes, Vec<StreamEntry>, Vec<Bytes>),
        Vec<GeoMatch>, Vec<Option<(f64, f64)>>, LcsMatches, StreamEntry,
        XinfoStreamReply, MemoryStatsReply, Vec<FunctionListReply>,
        HashMap<Bytes, CommandDocsReplyValue>, ClientTrackinginfoReply,
        Vec<XinfoStreamFullReplyGroups>, Option<(Bytes, Vec<(Bytes, f64)>)>,
    );
}

#[test]
fn type_mismatches_never_panic() {
    let files = [
        fixture!("client_info"),
        fixture!("command_docs_getex"),
        fixture!("memory_stats_valkey9"),
        fixture!("memory_stats_redis7"),
        fixture!("xinfo_stream_full"),
    ];
    let mut frames: Vec<&[u8]> = CORPUS.to_vec();
    for (r2, r3) in files {
        frames.push(r2);
        frames.push(r3);
    }
    let mut count = 0usize;
    for frame in frames {
        // The whole frame, every truncation of it, and single-byte corruptions.
        decode_everything(frame);
        for end in 0..frame.len() {
            decode_everything(&frame[..end]);
        }
        for at in (0..frame.len()).step_by(3) {
            for byte in [b'*', b'%', b'$', b':', b'-', b'9', b'\n'] {
                let mut bad = frame.to_vec();
                bad[at] = byte;
                decode_everything(&bad);
                count += 1;
            }
        }
    }
    assert!(count > 1000);
}

#[test]
fn decode_changes_the_reply_type() {
    output_is::<String, _>(&cmd::get("k").decode::<String>());
    output_is::<Option<String>, _>(&cmd::get("k").decode::<Option<String>>());
    output_is::<Vec<(String, f64)>, _>(
        &cmd::zrange("z", 0, -1)
            .withscores()
            .decode::<Vec<(String, f64)>>(),
    );
    output_is::<Value, _>(&cmd::hgetall("h").decode::<Value>());
    // The generic helper goes through `<T as FromReply>::from_frame`.
    let c = cmd::get("k").decode::<String>();
    assert_eq!(both(&c, b"$5\r\nhello\r\n", b"$5\r\nhello\r\n"), "hello");
    let c = cmd::get("k").decode::<Option<String>>();
    assert_eq!(both(&c, b"$-1\r\n", b"_\r\n"), None);
    let c = cmd::get("k").decode::<i64>();
    assert_eq!(both(&c, b"$2\r\n42\r\n", b"$2\r\n42\r\n"), 42);
    let _: cmd::Get<Detached, String> = cmd::get("k").decode();
}

// ---------------------------------------------------------------------------------
// Reply fixes found against real servers (issue 4)
// ---------------------------------------------------------------------------------

#[test]
fn geohash_missing_member_is_none() {
    // The schema says string; a member that does not exist is null in both protocols.
    let c = cmd::geohash("sicily").member(["Palermo", "Atlantis"]);
    assert_eq!(
        both(
            &c,
            b"*2\r\n$11\r\nsqc8b49rny0\r\n$-1\r\n",
            b"*2\r\n$11\r\nsqc8b49rny0\r\n_\r\n"
        ),
        vec![Some(b("sqc8b49rny0")), None]
    );
}

#[test]
fn acl_log_entries_are_typed_in_both_protocols() {
    // RESP2: a flat array per entry, the age as a bulk string; RESP3: a map, the age as
    // a double.
    let c = cmd::acl_log();
    let v = both(
        &c,
        b"*1\r\n*20\r\n$5\r\ncount\r\n:1\r\n$6\r\nreason\r\n$4\r\nauth\r\n$7\r\ncontext\r\n$8\r\ntoplevel\r\n\
          $6\r\nobject\r\n$4\r\nAUTH\r\n$8\r\nusername\r\n$3\r\neve\r\n$11\r\nage-seconds\r\n$5\r\n0.125\r\n\
          $11\r\nclient-info\r\n$2\r\nid\r\n$8\r\nentry-id\r\n:0\r\n$17\r\ntimestamp-created\r\n:1700000000000\r\n\
          $22\r\ntimestamp-last-updated\r\n:1700000000000\r\n",
        b"*1\r\n%10\r\n$5\r\ncount\r\n:1\r\n$6\r\nreason\r\n$4\r\nauth\r\n$7\r\ncontext\r\n$8\r\ntoplevel\r\n\
          $6\r\nobject\r\n$4\r\nAUTH\r\n$8\r\nusername\r\n$3\r\neve\r\n$11\r\nage-seconds\r\n,0.125\r\n\
          $11\r\nclient-info\r\n$2\r\nid\r\n$8\r\nentry-id\r\n:0\r\n$17\r\ntimestamp-created\r\n:1700000000000\r\n\
          $22\r\ntimestamp-last-updated\r\n:1700000000000\r\n",
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].reason, Some(b("auth")));
    assert_eq!(v[0].username, Some(b("eve")));
    assert_eq!(v[0].age_seconds, Some(0.125));
    assert_eq!(v[0].timestamp_created, Some(1_700_000_000_000));
    // RESET replies OK.
    let reset = cmd::acl_log().reset();
    both(&reset, b"+OK\r\n", b"+OK\r\n");
}
