//! Byte-exact RESP encoding of the generated command API.
//!
//! Every expected value below is written from the command's syntax in the Redis /
//! Valkey command specification (`spec/commands/*.json`, the syntax line quoted in the
//! comment above each assertion), never copied from the encoder's output: these tests
//! exist to catch generator bugs (wrong order, missing token, wrong count).
//!
//! Groups:
//! - raw bytes on the wire (`*N\r\n$len\r\n...`);
//! - argument kinds: key / string / pattern, integer (plain, seconds, milliseconds,
//!   `Duration`), double (`f64`, integers, `ScoreBound`, `LexBound`), blocking
//!   timeouts, unix time (`SystemTime`);
//! - pure-token flags and pure-token oneofs (per-alternative methods and enums);
//! - oneofs with data, blocks, multiple arguments, multiple blocks as tuples;
//! - computed counts (`numkeys`, `numfields`, `num-vertices`);
//! - required arguments after optional ones, builders called out of spec order, an
//!   option set twice, repeated `multiple_token` options;
//! - nested oneofs and blocks (GEOSEARCH, BITFIELD, CLIENT KILL, XADD, MIGRATE, ...);
//! - subcommands, keyword names, the raw escape hatch;
//! - argument validation and key positions (`Command::keys`).

use bytes::Bytes;
use respec::cmd;
use respec::command::BitOffset;
use respec::types::{
    Aggregate, BitUnit, BitfieldOperation, BitfieldOverflow, BitfieldWriteOperation,
    ClientKillClientType, ClientKillNewFormat, ClientPauseMode, ClientSetinfoAttr,
    ClusterSlotStatsFilter, Comparison, ExistenceCondition, Expiration, ExpireCondition,
    FieldsCondition, FlushType, GeoUnit, GeosearchBy, GeosearchFrom, LexBound, ListSide,
    MigrateAuthentication, MigrateKeySelector, MinMax, OnOff, RangeBy, ScoreBound, SetCondition,
    SetExpiration, SortOrder, Where, YesNo,
};
use respec::{raw_cmd, Command};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Reads `\r\n`-terminated decimal after a one-byte type marker.
fn read_len(bytes: &[u8], pos: &mut usize, marker: u8) -> usize {
    assert_eq!(
        bytes.get(*pos),
        Some(&marker),
        "expected {:?} at byte {} of {:?}",
        marker as char,
        *pos,
        String::from_utf8_lossy(bytes)
    );
    *pos += 1;
    let end = *pos
        + bytes[*pos..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("length line without CRLF");
    let n: usize = std::str::from_utf8(&bytes[*pos..end])
        .expect("length is ASCII")
        .parse()
        .expect("length is a decimal number");
    *pos = end + 2;
    n
}

/// Decodes one RESP array of bulk strings, checking its framing strictly.
fn decode_array(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut pos = 0;
    let n = read_len(bytes, &mut pos, b'*');
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = read_len(bytes, &mut pos, b'$');
        let body = bytes
            .get(pos..pos + len)
            .expect("bulk string shorter than its length");
        out.push(body.to_vec());
        pos += len;
        assert_eq!(
            bytes.get(pos..pos + 2),
            Some(&b"\r\n"[..]),
            "bulk string not followed by CRLF"
        );
        pos += 2;
    }
    assert_eq!(pos, bytes.len(), "trailing bytes after the array");
    out
}

/// The command's words as sent on the wire (name words first).
///
/// Also checks that the encoded array agrees with `CommandBuf::len` and
/// `CommandBuf::iter`, which the runtime uses for routing.
fn words(c: &impl Command) -> Vec<String> {
    let bytes = c.buf().to_bytes();
    let decoded = decode_array(&bytes);
    assert_eq!(
        decoded.len(),
        c.buf().len(),
        "array header vs CommandBuf::len"
    );
    let iterated: Vec<Vec<u8>> = c.buf().iter().map(<[u8]>::to_vec).collect();
    assert_eq!(decoded, iterated, "to_bytes vs CommandBuf::iter");
    decoded
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}

/// The keys found by the spec's key specifications, as strings.
fn keys(c: &impl Command) -> Vec<String> {
    c.keys()
        .into_iter()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect()
}

/// 2023-11-14T22:13:20.123Z: 1_700_000_000 s, 1_700_000_000_123 ms.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

// ---------------------------------------------------------------------------------------
// Raw bytes on the wire
// ---------------------------------------------------------------------------------------

#[test]
fn raw_bytes_set_nx_ex() {
    // SET key value [NX | XX | IFEQ comparison-value] [GET] [EX seconds | ...]
    let c = cmd::set("key", "value").nx().ex(10);
    assert_eq!(
        &c.buf().to_bytes()[..],
        b"*6\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n$2\r\nNX\r\n$2\r\nEX\r\n$2\r\n10\r\n"
    );
    assert_eq!(words(&c), ["SET", "key", "value", "NX", "EX", "10"]);
}

#[test]
fn raw_bytes_get() {
    // GET key
    let c = cmd::get("foo");
    assert_eq!(&c.buf().to_bytes()[..], b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
}

#[test]
fn raw_bytes_binary_safe_arguments() {
    // Bulk strings are length-prefixed: CR, LF, NUL and non-UTF-8 bytes pass unchanged.
    let c = cmd::set(&b"bin\r\nkey"[..], vec![0u8, 0xff, b'\r', b'\n']);
    assert_eq!(
        &c.buf().to_bytes()[..],
        b"*3\r\n$3\r\nSET\r\n$8\r\nbin\r\nkey\r\n$4\r\n\x00\xff\r\n\r\n"
    );
    let mut out = bytes::BytesMut::new();
    c.buf().encode(&mut out);
    assert_eq!(out.freeze(), c.buf().to_bytes());
}

#[test]
fn raw_bytes_two_word_command_name() {
    // CLIENT KILL <ip:port | ...>
    let c = cmd::client_kill().old_format("127.0.0.1:6379");
    assert_eq!(
        &c.buf().to_bytes()[..],
        b"*3\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$14\r\n127.0.0.1:6379\r\n"
    );
    // OBJECT ENCODING key
    let c = cmd::object_encoding("k");
    assert_eq!(
        &c.buf().to_bytes()[..],
        b"*3\r\n$6\r\nOBJECT\r\n$8\r\nENCODING\r\n$1\r\nk\r\n"
    );
}

#[test]
fn raw_bytes_migrate_empty_string_key() {
    // MIGRATE host port <key | ""> destination-db timeout ... [KEYS key [key ...]]
    let c = cmd::migrate("h", 6379, MigrateKeySelector::EmptyString, 0, 5000).keys(["a", "b"]);
    assert_eq!(
        &c.buf().to_bytes()[..],
        &b"*9\r\n$7\r\nMIGRATE\r\n$1\r\nh\r\n$4\r\n6379\r\n$0\r\n\r\n$1\r\n0\r\n\
           $4\r\n5000\r\n$4\r\nKEYS\r\n$1\r\na\r\n$1\r\nb\r\n"[..]
    );
}

#[test]
fn raw_bytes_raw_command() {
    let c = raw_cmd("JSON.GET").arg("doc").arg("$");
    assert_eq!(
        &c.buf().to_bytes()[..],
        b"*3\r\n$8\r\nJSON.GET\r\n$3\r\ndoc\r\n$1\r\n$\r\n"
    );
    assert_eq!(words(&c), ["JSON.GET", "doc", "$"]);
}

#[test]
fn raw_bytes_out_of_order_zadd() {
    // ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
    let c = cmd::zadd("z", [(1.5, "a")]).ch().xx();
    assert_eq!(
        &c.buf().to_bytes()[..],
        b"*6\r\n$4\r\nZADD\r\n$1\r\nz\r\n$2\r\nXX\r\n$2\r\nCH\r\n$3\r\n1.5\r\n$1\r\na\r\n"
    );
}

// ---------------------------------------------------------------------------------------
// Keys, strings, patterns
// ---------------------------------------------------------------------------------------

#[test]
fn key_and_string_arguments() {
    // GET key
    assert_eq!(words(&cmd::get(String::from("user:1"))), ["GET", "user:1"]);
    // SET key value: numbers and chars are strings too.
    assert_eq!(words(&cmd::set("counter", 42)), ["SET", "counter", "42"]);
    assert_eq!(words(&cmd::set("pi", 3.25)), ["SET", "pi", "3.25"]);
    assert_eq!(words(&cmd::set("c", 'x')), ["SET", "c", "x"]);
    assert_eq!(
        words(&cmd::set(b("k"), Bytes::from(vec![b'v', b'1']))),
        ["SET", "k", "v1"]
    );
}

#[test]
fn pattern_arguments() {
    // KEYS pattern
    assert_eq!(words(&cmd::keys("user:*")), ["KEYS", "user:*"]);
    // SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
    assert_eq!(
        words(&cmd::scan(0).match_("user:[ab]?").count(100)),
        ["SCAN", "0", "MATCH", "user:[ab]?", "COUNT", "100"]
    );
}

#[test]
fn multiple_keys_del() {
    // DEL key [key ...]
    assert_eq!(words(&cmd::del(["a", "b", "c"])), ["DEL", "a", "b", "c"]);
    let owned: Vec<String> = vec!["x".into(), "y".into()];
    assert_eq!(words(&cmd::del(&owned)), ["DEL", "x", "y"]);
    assert_eq!(words(&cmd::del(owned)), ["DEL", "x", "y"]);
}

// ---------------------------------------------------------------------------------------
// Integers: plain, seconds, milliseconds
// ---------------------------------------------------------------------------------------

#[test]
fn integer_plain() {
    // MOVE key db
    assert_eq!(words(&cmd::move_("k", 2u8)), ["MOVE", "k", "2"]);
    // LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
    assert_eq!(
        words(&cmd::lpos("l", "e").rank(-1i64).maxlen(1000usize)),
        ["LPOS", "l", "e", "RANK", "-1", "MAXLEN", "1000"]
    );
    // COPY source destination [DB destination-db] [REPLACE]
    assert_eq!(
        words(&cmd::copy("a", "b").replace().db(3)),
        ["COPY", "a", "b", "DB", "3", "REPLACE"]
    );
}

#[test]
fn integer_seconds_plain_and_duration() {
    // SETEX key seconds value
    assert_eq!(words(&cmd::setex("k", 10, "v")), ["SETEX", "k", "10", "v"]);
    assert_eq!(
        words(&cmd::setex("k", Duration::from_secs(90), "v")),
        ["SETEX", "k", "90", "v"]
    );
    // A fraction of a second is refused (see `sub_unit_durations_are_refused`).
    assert!(cmd::setex("k", Duration::from_millis(2999), "v")
        .validate()
        .is_err());
    // EXPIRE key seconds [NX | XX | GT | LT]
    assert_eq!(
        words(&cmd::expire("k", Duration::from_secs(120))),
        ["EXPIRE", "k", "120"]
    );
    // SET ... EX seconds
    assert_eq!(
        words(&cmd::set("k", "v").ex(Duration::from_secs(3600))),
        ["SET", "k", "v", "EX", "3600"]
    );
}

#[test]
fn integer_milliseconds_plain_and_duration() {
    // PSETEX key milliseconds value
    assert_eq!(
        words(&cmd::psetex("k", Duration::from_millis(1500), "v")),
        ["PSETEX", "k", "1500", "v"]
    );
    assert_eq!(
        words(&cmd::psetex("k", 250, "v")),
        ["PSETEX", "k", "250", "v"]
    );
    // PEXPIRE key milliseconds [NX | XX | GT | LT]
    assert_eq!(
        words(&cmd::pexpire("k", Duration::from_secs(2)).xx()),
        ["PEXPIRE", "k", "2000", "XX"]
    );
    // SET ... PX milliseconds
    assert_eq!(
        words(&cmd::set("k", "v").px(Duration::from_millis(30_000))),
        ["SET", "k", "v", "PX", "30000"]
    );
}

// ---------------------------------------------------------------------------------------
// Doubles
// ---------------------------------------------------------------------------------------

#[test]
fn double_floats_and_integers() {
    // INCRBYFLOAT key increment
    assert_eq!(
        words(&cmd::incrbyfloat("k", 0.1)),
        ["INCRBYFLOAT", "k", "0.1"]
    );
    assert_eq!(
        words(&cmd::incrbyfloat("k", -5)),
        ["INCRBYFLOAT", "k", "-5"]
    );
    assert_eq!(
        words(&cmd::incrbyfloat("k", 2.0e3)),
        ["INCRBYFLOAT", "k", "2000"]
    );
    assert_eq!(
        words(&cmd::incrbyfloat("k", 1.5f32)),
        ["INCRBYFLOAT", "k", "1.5"]
    );
    assert_eq!(
        words(&cmd::incrbyfloat("k", -0.000125)),
        ["INCRBYFLOAT", "k", "-0.000125"]
    );
}

#[test]
fn double_score_bounds() {
    // ZCOUNT key min max
    assert_eq!(
        words(&cmd::zcount(
            "z",
            ScoreBound::Exclusive(1.5),
            ScoreBound::PosInf
        )),
        ["ZCOUNT", "z", "(1.5", "+inf"]
    );
    assert_eq!(
        words(&cmd::zcount(
            "z",
            ScoreBound::NegInf,
            ScoreBound::Inclusive(2.0)
        )),
        ["ZCOUNT", "z", "-inf", "2"]
    );
    assert_eq!(
        words(&cmd::zcount("z", 1, ScoreBound::Exclusive(5.0))),
        ["ZCOUNT", "z", "1", "(5"]
    );
    // Plain infinities are written the way the server parses them.
    assert_eq!(
        words(&cmd::zcount("z", f64::NEG_INFINITY, f64::INFINITY)),
        ["ZCOUNT", "z", "-inf", "+inf"]
    );
}

#[test]
fn double_zrangebyscore_with_limit_block() {
    // ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
    let c = cmd::zrangebyscore("z", ScoreBound::Exclusive(1.5), ScoreBound::PosInf)
        .limit(0, 10)
        .withscores();
    assert_eq!(
        words(&c),
        [
            "ZRANGEBYSCORE",
            "z",
            "(1.5",
            "+inf",
            "WITHSCORES",
            "LIMIT",
            "0",
            "10"
        ]
    );
}

#[test]
fn lex_bounds() {
    // ZRANGEBYLEX key min max [LIMIT offset count]
    assert_eq!(
        words(&cmd::zrangebylex("z", LexBound::Inclusive("a"), LexBound::<&str>::Max).limit(0, 2)),
        ["ZRANGEBYLEX", "z", "[a", "+", "LIMIT", "0", "2"]
    );
    assert_eq!(
        words(&cmd::zrangebylex(
            "z",
            LexBound::<&str>::Min,
            LexBound::Exclusive("c")
        )),
        ["ZRANGEBYLEX", "z", "-", "(c"]
    );
}

// ---------------------------------------------------------------------------------------
// Blocking timeouts
// ---------------------------------------------------------------------------------------

#[test]
fn timeout_f64_integer_and_duration() {
    // BLPOP key [key ...] timeout
    assert_eq!(
        words(&cmd::blpop(["a", "b"], 1.5)),
        ["BLPOP", "a", "b", "1.5"]
    );
    assert_eq!(words(&cmd::blpop(["a"], 0)), ["BLPOP", "a", "0"]);
    // BZPOPMIN key [key ...] timeout
    assert_eq!(
        words(&cmd::bzpopmin(["z"], Duration::from_millis(2500))),
        ["BZPOPMIN", "z", "2.5"]
    );
    assert_eq!(
        words(&cmd::bzpopmin(["z1", "z2"], Duration::from_secs(3))),
        ["BZPOPMIN", "z1", "z2", "3"]
    );
    // BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout
    assert_eq!(
        words(&cmd::blmove(
            "src",
            "dst",
            ListSide::Right,
            ListSide::Left,
            0.25
        )),
        ["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0.25"]
    );
}

// ---------------------------------------------------------------------------------------
// Unix time
// ---------------------------------------------------------------------------------------

#[test]
fn unix_time_integer_and_system_time() {
    // EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
    assert_eq!(
        words(&cmd::expireat("k", 1_700_000_000)),
        ["EXPIREAT", "k", "1700000000"]
    );
    // A SystemTime between whole seconds is rounded up, never into the past.
    assert_eq!(
        words(&cmd::expireat("k", t0()).nx()),
        ["EXPIREAT", "k", "1700000001", "NX"]
    );
    assert_eq!(
        words(&cmd::expireat(
            "k",
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        )),
        ["EXPIREAT", "k", "1700000000"]
    );
    assert_eq!(
        words(&cmd::pexpireat(
            "k",
            UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_000_001)
        )),
        ["PEXPIREAT", "k", "1700000000124"]
    );
    // PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
    assert_eq!(
        words(&cmd::pexpireat("k", t0())),
        ["PEXPIREAT", "k", "1700000000123"]
    );
    assert_eq!(
        words(&cmd::pexpireat("k", 1_700_000_000_123u64)),
        ["PEXPIREAT", "k", "1700000000123"]
    );
}

#[test]
fn unix_time_in_set_and_getex() {
    // SET ... EXAT unix-time-seconds | PXAT unix-time-milliseconds
    assert_eq!(
        words(&cmd::set("k", "v").exat(t0())),
        ["SET", "k", "v", "EXAT", "1700000001"]
    );
    assert_eq!(
        words(&cmd::set("k", "v").pxat(t0())),
        ["SET", "k", "v", "PXAT", "1700000000123"]
    );
    // GETEX key [EX seconds | PX milliseconds | EXAT ... | PXAT ... | PERSIST]
    assert_eq!(
        words(&cmd::getex("k").pxat(t0())),
        ["GETEX", "k", "PXAT", "1700000000123"]
    );
    assert_eq!(
        words(&cmd::getex("k").exat(1_700_000_000)),
        ["GETEX", "k", "EXAT", "1700000000"]
    );
}

// ---------------------------------------------------------------------------------------
// Pure-token flags
// ---------------------------------------------------------------------------------------

#[test]
fn pure_token_flags() {
    // ZADD key ... [CH] [INCR] score member
    assert_eq!(
        words(&cmd::zadd("z", [(1, "one")]).incr()),
        ["ZADD", "z", "INCR", "1", "one"]
    );
    // SET ... [GET] ... | KEEPTTL
    assert_eq!(words(&cmd::set("k", "v").get()), ["SET", "k", "v", "GET"]);
    assert_eq!(
        words(&cmd::set("k", "v").keepttl()),
        ["SET", "k", "v", "KEEPTTL"]
    );
    // RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
    assert_eq!(
        words(
            &cmd::restore("k", 0, b("\x00\x01payload"))
                .freq(5)
                .idletime(Duration::from_secs(100))
                .absttl()
                .replace()
        ),
        [
            "RESTORE",
            "k",
            "0",
            "\x00\x01payload",
            "REPLACE",
            "ABSTTL",
            "IDLETIME",
            "100",
            "FREQ",
            "5"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Pure-token oneofs: per-alternative methods and enums
// ---------------------------------------------------------------------------------------

#[test]
fn oneof_methods_and_enums_zadd() {
    // ZADD key [NX | XX] [GT | LT] ...
    let by_method = cmd::zadd("z", [(1, "m")]).nx().lt();
    let by_enum = cmd::zadd("z", [(1, "m")])
        .condition(ExistenceCondition::Nx)
        .comparison(Comparison::Lt);
    assert_eq!(words(&by_method), ["ZADD", "z", "NX", "LT", "1", "m"]);
    assert_eq!(words(&by_enum), words(&by_method));
    assert_eq!(
        words(
            &cmd::zadd("z", [(1, "m")])
                .condition(ExistenceCondition::Xx)
                .comparison(Comparison::Gt)
        ),
        ["ZADD", "z", "XX", "GT", "1", "m"]
    );
}

#[test]
fn oneof_methods_and_enums_expire() {
    // EXPIRE key seconds [NX | XX | GT | LT]
    assert_eq!(
        words(&cmd::expire("k", 60).gt()),
        ["EXPIRE", "k", "60", "GT"]
    );
    assert_eq!(
        words(&cmd::expire("k", 60).condition(ExpireCondition::Gt)),
        ["EXPIRE", "k", "60", "GT"]
    );
    assert_eq!(
        words(&cmd::expire("k", 60).condition(ExpireCondition::Lt)),
        ["EXPIRE", "k", "60", "LT"]
    );
    assert_eq!(
        words(&cmd::pexpireat("k", 5).condition(ExpireCondition::Xx)),
        ["PEXPIREAT", "k", "5", "XX"]
    );
}

#[test]
fn oneof_methods_and_enums_misc() {
    // FLUSHALL [ASYNC | SYNC]
    assert_eq!(words(&cmd::flushall()), ["FLUSHALL"]);
    assert_eq!(words(&cmd::flushall().async_()), ["FLUSHALL", "ASYNC"]);
    assert_eq!(
        words(&cmd::flushall().flush_type(FlushType::Sync)),
        ["FLUSHALL", "SYNC"]
    );
    // SORT key ... [ASC | DESC]
    assert_eq!(words(&cmd::sort("l").desc()), ["SORT", "l", "DESC"]);
    assert_eq!(
        words(&cmd::sort("l").order(SortOrder::Asc)),
        ["SORT", "l", "ASC"]
    );
    // LINSERT key <BEFORE | AFTER> pivot element
    assert_eq!(
        words(&cmd::linsert("l", Where::Before, "p", "x")),
        ["LINSERT", "l", "BEFORE", "p", "x"]
    );
    assert_eq!(
        words(&cmd::linsert("l", Where::After, "p", "x")),
        ["LINSERT", "l", "AFTER", "p", "x"]
    );
}

#[test]
fn oneof_with_token_aggregate() {
    // ZUNIONSTORE ... [AGGREGATE SUM | MIN | MAX]
    assert_eq!(
        words(&cmd::zunionstore("d", ["a"]).max()),
        ["ZUNIONSTORE", "d", "1", "a", "AGGREGATE", "MAX"]
    );
    assert_eq!(
        words(&cmd::zunionstore("d", ["a"]).aggregate(Aggregate::Sum)),
        ["ZUNIONSTORE", "d", "1", "a", "AGGREGATE", "SUM"]
    );
}

#[test]
fn zrange_sortby_methods_and_enum() {
    // ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
    assert_eq!(
        words(&cmd::zrange("z", 0, -1).byscore()),
        ["ZRANGE", "z", "0", "-1", "BYSCORE"]
    );
    assert_eq!(
        words(
            &cmd::zrange("z", LexBound::Inclusive("a"), LexBound::Exclusive("m"))
                .sortby(RangeBy::Bylex)
        ),
        ["ZRANGE", "z", "[a", "(m", "BYLEX"]
    );
}

// ---------------------------------------------------------------------------------------
// Oneofs with data
// ---------------------------------------------------------------------------------------

#[test]
fn set_condition_and_expiration_enums() {
    // SET key value [NX | XX | IFEQ comparison-value] [GET] [EX ... | PX ... | KEEPTTL]
    assert_eq!(
        words(
            &cmd::set("k", "v")
                .condition(SetCondition::Xx)
                .expiration(SetExpiration::Px(250))
        ),
        ["SET", "k", "v", "XX", "PX", "250"]
    );
    assert_eq!(
        words(&cmd::set("k", "v").expiration(SetExpiration::Ex(10))),
        ["SET", "k", "v", "EX", "10"]
    );
    assert_eq!(
        words(&cmd::set("k", "v").expiration(SetExpiration::Exat(1_700_000_000))),
        ["SET", "k", "v", "EXAT", "1700000000"]
    );
    assert_eq!(
        words(&cmd::set("k", "v").expiration(SetExpiration::Keepttl)),
        ["SET", "k", "v", "KEEPTTL"]
    );
}

#[test]
fn set_ifeq_method_and_enum() {
    // SET key value [NX | XX | IFEQ comparison-value]
    let by_method = cmd::set("k", "new").ifeq("old");
    let by_enum = cmd::set("k", "new").condition(SetCondition::Ifeq(b("old")));
    assert_eq!(words(&by_method), ["SET", "k", "new", "IFEQ", "old"]);
    assert_eq!(words(&by_enum), words(&by_method));
}

#[test]
fn getex_expiration_enum_and_methods() {
    // GETEX key [EX seconds | PX milliseconds | EXAT ... | PXAT ... | PERSIST]
    assert_eq!(words(&cmd::getex("k")), ["GETEX", "k"]);
    assert_eq!(words(&cmd::getex("k").persist()), ["GETEX", "k", "PERSIST"]);
    assert_eq!(
        words(&cmd::getex("k").expiration(Expiration::Persist)),
        ["GETEX", "k", "PERSIST"]
    );
    assert_eq!(
        words(&cmd::getex("k").expiration(Expiration::Px(1500))),
        ["GETEX", "k", "PX", "1500"]
    );
    assert_eq!(
        words(&cmd::getex("k").ex(Duration::from_secs(7))),
        ["GETEX", "k", "EX", "7"]
    );
}

#[test]
fn migrate_authentication_enum_and_methods() {
    // MIGRATE host port <key | ""> destination-db timeout [COPY] [REPLACE]
    //   [AUTH password | AUTH2 username password] [KEYS key [key ...]]
    let by_method =
        cmd::migrate("h", 6379, MigrateKeySelector::Key(b("k")), 0, 1000).auth2("u", "pw");
    let by_enum = cmd::migrate("h", 6379, MigrateKeySelector::Key(b("k")), 0, 1000).authentication(
        MigrateAuthentication::Auth2 {
            username: b("u"),
            password: b("pw"),
        },
    );
    assert_eq!(
        words(&by_method),
        ["MIGRATE", "h", "6379", "k", "0", "1000", "AUTH2", "u", "pw"]
    );
    assert_eq!(words(&by_enum), words(&by_method));
    assert_eq!(
        words(
            &cmd::migrate(
                "h",
                6379,
                MigrateKeySelector::Key(b("k")),
                0,
                Duration::from_secs(2)
            )
            .auth("pw")
        ),
        ["MIGRATE", "h", "6379", "k", "0", "2000", "AUTH", "pw"]
    );
}

#[test]
fn id_selector_oneofs() {
    // XADD key ... <* | id> field value [field value ...]
    assert_eq!(
        words(&cmd::xadd("s", "1-0", [("f", "v"), ("g", "w")])),
        ["XADD", "s", "1-0", "f", "v", "g", "w"]
    );
    // XGROUP CREATE key group <id | $> [MKSTREAM] [ENTRIESREAD entries-read]
    assert_eq!(
        words(&cmd::xgroup_create("s", "g", "$").entriesread(5).mkstream()),
        [
            "XGROUP",
            "CREATE",
            "s",
            "g",
            "$",
            "MKSTREAM",
            "ENTRIESREAD",
            "5"
        ]
    );
    assert_eq!(
        words(&cmd::xgroup_create("s", "g", "0")),
        ["XGROUP", "CREATE", "s", "g", "0"]
    );
}

#[test]
fn shutdown_nested_oneof_block() {
    // SHUTDOWN [[NOSAVE | SAVE] [NOW] [FORCE] [SAFE] [FAILOVER] | ABORT]
    assert_eq!(words(&cmd::shutdown()), ["SHUTDOWN"]);
    assert_eq!(words(&cmd::shutdown().abort()), ["SHUTDOWN", "ABORT"]);
    assert_eq!(
        words(&cmd::shutdown().failover().now().nosave()),
        ["SHUTDOWN", "NOSAVE", "NOW", "FAILOVER"]
    );
    assert_eq!(
        words(&cmd::shutdown().safe().force()),
        ["SHUTDOWN", "FORCE", "SAFE"]
    );
}

// ---------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------

#[test]
fn blocks_limit_count_full() {
    // SORT key [BY pattern] [LIMIT offset count] ...
    assert_eq!(
        words(&cmd::sort("l").limit(0, 10)),
        ["SORT", "l", "LIMIT", "0", "10"]
    );
    // XINFO STREAM key [FULL [COUNT count]]
    assert_eq!(
        words(&cmd::xinfo_stream("s").full(Some(10))),
        ["XINFO", "STREAM", "s", "FULL", "COUNT", "10"]
    );
    assert_eq!(
        words(&cmd::xinfo_stream("s").full(None)),
        ["XINFO", "STREAM", "s", "FULL"]
    );
    assert_eq!(words(&cmd::xinfo_stream("s")), ["XINFO", "STREAM", "s"]);
}

#[test]
fn nested_optional_block_in_oneof() {
    // CLUSTER SLOT-STATS <SLOTSRANGE start-slot end-slot | ORDERBY metric [LIMIT limit] [ASC | DESC]>
    assert_eq!(
        words(&cmd::cluster_slot_stats(
            ClusterSlotStatsFilter::Slotsrange {
                start_slot: 0,
                end_slot: 16383,
            }
        )),
        ["CLUSTER", "SLOT-STATS", "SLOTSRANGE", "0", "16383"]
    );
    assert_eq!(
        words(&cmd::cluster_slot_stats(ClusterSlotStatsFilter::Orderby {
            metric: b("key-count"),
            limit: Some(10),
            order: Some(SortOrder::Desc),
        })),
        [
            "CLUSTER",
            "SLOT-STATS",
            "ORDERBY",
            "key-count",
            "LIMIT",
            "10",
            "DESC"
        ]
    );
    assert_eq!(
        words(&cmd::cluster_slot_stats(ClusterSlotStatsFilter::Orderby {
            metric: b("cpu-usec"),
            limit: None,
            order: Some(SortOrder::Asc),
        })),
        ["CLUSTER", "SLOT-STATS", "ORDERBY", "cpu-usec", "ASC"]
    );
}

// ---------------------------------------------------------------------------------------
// Multiple args and multiple blocks as tuples
// ---------------------------------------------------------------------------------------

#[test]
fn multiple_blocks_mset_hset_config_set() {
    // MSET key value [key value ...]
    assert_eq!(
        words(&cmd::mset([("a", "1"), ("b", "2")])),
        ["MSET", "a", "1", "b", "2"]
    );
    // HSET key field value [field value ...]
    let fields = vec![("f1".to_string(), 1), ("f2".to_string(), 2)];
    assert_eq!(
        words(&cmd::hset("h", fields)),
        ["HSET", "h", "f1", "1", "f2", "2"]
    );
    // CONFIG SET parameter value [parameter value ...]
    assert_eq!(
        words(&cmd::config_set([
            ("maxmemory", "100mb"),
            ("maxmemory-policy", "allkeys-lru")
        ])),
        [
            "CONFIG",
            "SET",
            "maxmemory",
            "100mb",
            "maxmemory-policy",
            "allkeys-lru"
        ]
    );
}

#[test]
fn multiple_blocks_zadd_geoadd() {
    // ZADD key ... score member [score member ...]
    assert_eq!(
        words(&cmd::zadd("z", [(1.5, "a"), (2.0, "b"), (-3.25, "c")])),
        ["ZADD", "z", "1.5", "a", "2", "b", "-3.25", "c"]
    );
    assert_eq!(
        words(&cmd::zadd(
            "z",
            [(ScoreBound::PosInf, "top"), (ScoreBound::NegInf, "bottom")]
        )),
        ["ZADD", "z", "+inf", "top", "-inf", "bottom"]
    );
    // GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]
    assert_eq!(
        words(&cmd::geoadd(
            "Sicily",
            [
                (13.361389, 38.115556, "Palermo"),
                (15.087269, 37.502669, "Catania")
            ]
        )),
        [
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania"
        ]
    );
}

#[test]
fn multiple_args_acl_setuser() {
    // ACL SETUSER username [rule [rule ...]]
    assert_eq!(
        words(&cmd::acl_setuser("alice")),
        ["ACL", "SETUSER", "alice"]
    );
    assert_eq!(
        words(&cmd::acl_setuser("alice").rule(["on", ">pass", "~keys:*", "+get"])),
        ["ACL", "SETUSER", "alice", "on", ">pass", "~keys:*", "+get"]
    );
}

// ---------------------------------------------------------------------------------------
// Computed counts
// ---------------------------------------------------------------------------------------

#[test]
fn numkeys_zunionstore() {
    // ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]]
    //   [AGGREGATE SUM | MIN | MAX]
    assert_eq!(
        words(
            &cmd::zunionstore("out", ["zset1", "zset2"])
                .weights([2, 3])
                .max()
        ),
        [
            "ZUNIONSTORE",
            "out",
            "2",
            "zset1",
            "zset2",
            "WEIGHTS",
            "2",
            "3",
            "AGGREGATE",
            "MAX"
        ]
    );
    let many: Vec<String> = (0..12).map(|i| format!("k{i}")).collect();
    let w = words(&cmd::zunionstore("out", &many));
    assert_eq!(&w[..4], ["ZUNIONSTORE", "out", "12", "k0"]);
    assert_eq!(w.len(), 3 + 12);
}

#[test]
fn numkeys_eval() {
    // EVAL script numkeys [key [key ...]] [arg [arg ...]]
    assert_eq!(words(&cmd::eval("return 1")), ["EVAL", "return 1", "0"]);
    assert_eq!(
        words(&cmd::eval("return KEYS[1]").key(["k1", "k2"]).arg(["a1"])),
        ["EVAL", "return KEYS[1]", "2", "k1", "k2", "a1"]
    );
    assert_eq!(
        words(&cmd::eval("return ARGV[1]").arg(["a1", "a2"])),
        ["EVAL", "return ARGV[1]", "0", "a1", "a2"]
    );
}

#[test]
fn numkeys_lmpop_sintercard() {
    // LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]
    assert_eq!(
        words(&cmd::lmpop(["l1", "l2"], ListSide::Left).count(3)),
        ["LMPOP", "2", "l1", "l2", "LEFT", "COUNT", "3"]
    );
    assert_eq!(
        words(&cmd::lmpop(["l"], ListSide::Right)),
        ["LMPOP", "1", "l", "RIGHT"]
    );
    // SINTERCARD numkeys key [key ...] [LIMIT limit]
    assert_eq!(
        words(&cmd::sintercard(["a", "b", "c"]).limit(5)),
        ["SINTERCARD", "3", "a", "b", "c", "LIMIT", "5"]
    );
}

#[test]
fn numfields_hexpire_hgetex_hsetex() {
    // HEXPIRE key seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
    assert_eq!(
        words(&cmd::hexpire("h", Duration::from_secs(60), ["f1", "f2"]).nx()),
        ["HEXPIRE", "h", "60", "NX", "FIELDS", "2", "f1", "f2"]
    );
    assert_eq!(
        words(&cmd::hexpire("h", 60, ["f1"])),
        ["HEXPIRE", "h", "60", "FIELDS", "1", "f1"]
    );
    // HGETEX key [EX ... | PERSIST] FIELDS numfields field [field ...]
    assert_eq!(
        words(&cmd::hgetex("h", ["a", "b", "c"]).persist()),
        ["HGETEX", "h", "PERSIST", "FIELDS", "3", "a", "b", "c"]
    );
    // HSETEX key [NX | XX] [FNX | FXX] [EX ... | KEEPTTL] FIELDS numfields field value
    //   [field value ...]: numfields counts fields, not words.
    assert_eq!(
        words(
            &cmd::hsetex("h", [("f1", "v1"), ("f2", "v2")])
                .px(1500)
                .fnx()
                .xx()
        ),
        ["HSETEX", "h", "XX", "FNX", "PX", "1500", "FIELDS", "2", "f1", "v1", "f2", "v2"]
    );
    assert_eq!(
        words(
            &cmd::hsetex("h", [("f", "v")])
                .expiration(SetExpiration::Keepttl)
                .fields_condition(FieldsCondition::Fxx)
                .key_condition(ExistenceCondition::Nx)
        ),
        ["HSETEX", "h", "NX", "FXX", "KEEPTTL", "FIELDS", "1", "f", "v"]
    );
}

#[test]
fn num_vertices_geosearch_bypolygon() {
    // GEOSEARCH key ... BYPOLYGON num-vertices longitude latitude [longitude latitude ...]
    let by = GeosearchBy::Bypolygon {
        vertices: vec![(12.0, 37.0), (16.0, 37.0), (14.5, 39.25)],
    };
    assert_eq!(
        words(&cmd::geosearch("Sicily", by)),
        [
            "GEOSEARCH",
            "Sicily",
            "BYPOLYGON",
            "3",
            "12",
            "37",
            "16",
            "37",
            "14.5",
            "39.25"
        ]
    );
}

#[test]
fn numkeys_after_timeout_bzmpop_blmpop_zmpop() {
    // BZMPOP timeout numkeys key [key ...] <MIN | MAX> [COUNT count]
    assert_eq!(
        words(&cmd::bzmpop(1.5, ["z1", "z2"], MinMax::Min).count(10)),
        ["BZMPOP", "1.5", "2", "z1", "z2", "MIN", "COUNT", "10"]
    );
    // BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]
    assert_eq!(
        words(&cmd::blmpop(
            Duration::from_millis(100),
            ["l"],
            ListSide::Right
        )),
        ["BLMPOP", "0.1", "1", "l", "RIGHT"]
    );
    // ZMPOP numkeys key [key ...] <MIN | MAX> [COUNT count]
    assert_eq!(
        words(&cmd::zmpop(["z"], MinMax::Max)),
        ["ZMPOP", "1", "z", "MAX"]
    );
}

#[test]
fn numkeys_fcall_msetex() {
    // FCALL function numkeys [key [key ...]] [arg [arg ...]]
    assert_eq!(
        words(&cmd::fcall("myfunc").arg(["a"]).key(["k1", "k2"])),
        ["FCALL", "myfunc", "2", "k1", "k2", "a"]
    );
    assert_eq!(words(&cmd::fcall("myfunc")), ["FCALL", "myfunc", "0"]);
    // MSETEX numkeys key value [key value ...] [NX | XX] [EX seconds | ... | KEEPTTL]:
    // numkeys counts keys, not words.
    assert_eq!(
        words(&cmd::msetex([("a", "1"), ("b", "2")]).ex(10).xx()),
        ["MSETEX", "2", "a", "1", "b", "2", "XX", "EX", "10"]
    );
}

// ---------------------------------------------------------------------------------------
// Required arguments after optional ones
// ---------------------------------------------------------------------------------------

#[test]
fn required_after_optional_zadd_geoadd() {
    // ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
    assert_eq!(
        words(&cmd::zadd("z", [(1.5, "a"), (2.0, "b")]).xx().gt().ch()),
        ["ZADD", "z", "XX", "GT", "CH", "1.5", "a", "2", "b"]
    );
    // GEOADD key [NX | XX] [CH] longitude latitude member [...]
    assert_eq!(
        words(&cmd::geoadd("g", [(13.5, 38.25, "m")]).ch().nx()),
        ["GEOADD", "g", "NX", "CH", "13.5", "38.25", "m"]
    );
    assert_eq!(
        words(&cmd::geoadd("g", [(1, 2, "m")]).condition(ExistenceCondition::Xx)),
        ["GEOADD", "g", "XX", "1", "2", "m"]
    );
}

#[test]
fn required_after_optional_xadd() {
    // XADD key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id>
    //   field value [field value ...]
    assert_eq!(
        words(
            &cmd::xadd("s", "*", [("f", "v")])
                .limit(100)
                .approx()
                .maxlen(1000)
                .nomkstream()
        ),
        [
            "XADD",
            "s",
            "NOMKSTREAM",
            "MAXLEN",
            "~",
            "1000",
            "LIMIT",
            "100",
            "*",
            "f",
            "v"
        ]
    );
    assert_eq!(
        words(&cmd::xadd("s", "*", [("f", "v")]).minid("0-1").equal()),
        ["XADD", "s", "MINID", "=", "0-1", "*", "f", "v"]
    );
    assert_eq!(
        words(&cmd::xadd("s", "*", [("f", "v")]).maxlen(10)),
        ["XADD", "s", "MAXLEN", "10", "*", "f", "v"]
    );
    // XTRIM key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]
    assert_eq!(
        words(&cmd::xtrim("s").equal().minid("1700000000000-0")),
        ["XTRIM", "s", "MINID", "=", "1700000000000-0"]
    );
}

#[test]
fn required_after_optional_xread_xreadgroup() {
    // XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] ID [ID ...]
    assert_eq!(
        words(
            &cmd::xread(["s1", "s2"], ["0-0", "$"])
                .block(Duration::from_secs(5))
                .count(10)
        ),
        ["XREAD", "COUNT", "10", "BLOCK", "5000", "STREAMS", "s1", "s2", "0-0", "$"]
    );
    assert_eq!(
        words(&cmd::xread(["s"], ["0"])),
        ["XREAD", "STREAMS", "s", "0"]
    );
    // XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK]
    //   STREAMS key [key ...] ID [ID ...]
    assert_eq!(
        words(
            &cmd::xreadgroup("g", "c", ["s"], [">"])
                .noack()
                .block(100)
                .count(1)
        ),
        [
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            "1",
            "BLOCK",
            "100",
            "NOACK",
            "STREAMS",
            "s",
            ">"
        ]
    );
}

#[test]
fn required_after_optional_auth_function_load() {
    // AUTH [username] password
    assert_eq!(words(&cmd::auth("secret")), ["AUTH", "secret"]);
    assert_eq!(
        words(&cmd::auth("secret").username("alice")),
        ["AUTH", "alice", "secret"]
    );
    // FUNCTION LOAD [REPLACE] function-code
    let code = "#!lua name=mylib\nserver.register_function('f', function() return 1 end)";
    assert_eq!(
        words(&cmd::function_load(code).replace()),
        ["FUNCTION", "LOAD", "REPLACE", code]
    );
    assert_eq!(words(&cmd::function_load(code)), ["FUNCTION", "LOAD", code]);
}

// ---------------------------------------------------------------------------------------
// Builders called out of spec order
// ---------------------------------------------------------------------------------------

#[test]
fn out_of_order_set() {
    // SET key value [NX | XX | IFEQ comparison-value] [GET] [EX seconds | ...]
    assert_eq!(
        words(&cmd::set("k", "v").ex(10).get().nx()),
        ["SET", "k", "v", "NX", "GET", "EX", "10"]
    );
}

#[test]
fn out_of_order_sort() {
    // SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
    //   [ASC | DESC] [ALPHA] [STORE destination]
    let c = cmd::sort("list")
        .store("dst")
        .alpha()
        .desc()
        .get(["#", "obj_*->field"])
        .limit(0, 10)
        .by("weight_*");
    assert_eq!(
        words(&c),
        [
            "SORT",
            "list",
            "BY",
            "weight_*",
            "LIMIT",
            "0",
            "10",
            "GET",
            "#",
            "GET",
            "obj_*->field",
            "DESC",
            "ALPHA",
            "STORE",
            "dst"
        ]
    );
}

#[test]
fn out_of_order_zrange_lpos_scan() {
    // ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
    assert_eq!(
        words(
            &cmd::zrange("z", 0, -1)
                .withscores()
                .limit(0, 5)
                .rev()
                .byscore()
        ),
        [
            "ZRANGE",
            "z",
            "0",
            "-1",
            "BYSCORE",
            "REV",
            "LIMIT",
            "0",
            "5",
            "WITHSCORES"
        ]
    );
    // LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
    assert_eq!(
        words(&cmd::lpos("l", "e").maxlen(100).count(0).rank(-1)),
        ["LPOS", "l", "e", "RANK", "-1", "COUNT", "0", "MAXLEN", "100"]
    );
    // SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
    assert_eq!(
        words(&cmd::scan(17).type_("string").count(100).match_("user:*")),
        ["SCAN", "17", "MATCH", "user:*", "COUNT", "100", "TYPE", "string"]
    );
}

#[test]
fn out_of_order_eval_keys_after_args() {
    // EVAL script numkeys [key [key ...]] [arg [arg ...]]
    assert_eq!(
        words(&cmd::eval("s").arg(["a1", "a2"]).key(["k1"])),
        ["EVAL", "s", "1", "k1", "a1", "a2"]
    );
}

#[test]
fn out_of_order_client_tracking() {
    // CLIENT TRACKING <ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]]
    //   [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
    assert_eq!(
        words(
            &cmd::client_tracking(OnOff::On)
                .noloop()
                .prefix(["a:", "b:"])
                .bcast()
                .redirect(7)
        ),
        [
            "CLIENT", "TRACKING", "ON", "REDIRECT", "7", "PREFIX", "a:", "PREFIX", "b:", "BCAST",
            "NOLOOP"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// An option set twice: the last one wins
// ---------------------------------------------------------------------------------------

#[test]
fn set_twice_last_wins_set() {
    // SET key value [NX | XX | IFEQ comparison-value] [GET] [EX seconds | PX milliseconds ...]
    assert_eq!(
        words(&cmd::set("k", "v").ex(10).px(500)),
        ["SET", "k", "v", "PX", "500"]
    );
    assert_eq!(
        words(&cmd::set("k", "v").nx().xx()),
        ["SET", "k", "v", "XX"]
    );
    assert_eq!(
        words(&cmd::set("k", "v").condition(SetCondition::Nx).ifeq("x")),
        ["SET", "k", "v", "IFEQ", "x"]
    );
    assert_eq!(
        words(
            &cmd::set("k", "v")
                .px(1)
                .expiration(SetExpiration::Keepttl)
                .nx()
        ),
        ["SET", "k", "v", "NX", "KEEPTTL"]
    );
    // Replaced, then other options: still one run per option, in spec order.
    assert_eq!(
        words(&cmd::set("k", "v").ex(1).nx().ex(2).xx().get().ex(3)),
        ["SET", "k", "v", "XX", "GET", "EX", "3"]
    );
}

#[test]
fn set_twice_last_wins_blocks_and_oneofs() {
    // ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
    assert_eq!(
        words(&cmd::zrangebyscore("z", 0, 1).limit(0, 10).limit(20, 5)),
        ["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "20", "5"]
    );
    // GEOSEARCH key [FROMMEMBER member | FROMLONLAT longitude latitude] ...
    let by = GeosearchBy::Byradius {
        radius: 1.0,
        unit: GeoUnit::M,
    };
    assert_eq!(
        words(&cmd::geosearch("g", by).fromlonlat(1, 2).frommember("m")),
        ["GEOSEARCH", "g", "FROMMEMBER", "m", "BYRADIUS", "1", "m"]
    );
    // EVAL: a second key list replaces the first, numkeys follows it.
    assert_eq!(
        words(&cmd::eval("s").key(["a", "b"]).key(["c"])),
        ["EVAL", "s", "1", "c"]
    );
    // XINFO STREAM key [FULL [COUNT count]]
    assert_eq!(
        words(&cmd::xinfo_stream("s").full(Some(1)).full(None)),
        ["XINFO", "STREAM", "s", "FULL"]
    );
}

#[test]

fn set_twice_last_wins_weights() {
    // ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] ...
    // WEIGHTS is a single option holding a list (not `multiple_token`): one WEIGHTS token.
    assert_eq!(
        words(
            &cmd::zunionstore("d", ["a", "b"])
                .weights([2, 3])
                .weights([5, 7])
        ),
        ["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "5", "7"]
    );
}

#[test]

fn set_twice_last_wins_migrate_keys() {
    // MIGRATE ... [KEYS key [key ...]]: the server takes every word after KEYS as a key,
    // so a second KEYS token would itself be migrated as a key named "KEYS".
    let c = cmd::migrate("h", 6379, MigrateKeySelector::EmptyString, 0, 5000)
        .keys(["a"])
        .keys(["b", "c"]);
    assert_eq!(
        words(&c),
        ["MIGRATE", "h", "6379", "", "0", "5000", "KEYS", "b", "c"]
    );
}

#[test]

fn set_twice_last_wins_client_list_id() {
    // CLIENT LIST [TYPE ...] [ID client-id [client-id ...]] ... [NOT-ID not-client-id [...]]
    assert_eq!(
        words(&cmd::client_list().id([1, 2]).id([3])),
        ["CLIENT", "LIST", "ID", "3"]
    );
}

#[test]

fn set_twice_last_wins_module_loadex_args() {
    // MODULE LOADEX path [CONFIG name value [CONFIG name value ...]] [ARGS args [args ...]]
    assert_eq!(
        words(&cmd::module_loadex("/m.so").args(["a"]).args(["b", "c"])),
        ["MODULE", "LOADEX", "/m.so", "ARGS", "b", "c"]
    );
}

#[test]
fn multiple_token_module_loadex_config() {
    // MODULE LOADEX path [CONFIG name value [CONFIG name value ...]] [ARGS args [args ...]]
    // CONFIG is `multiple_token`: every call adds one CONFIG name value.
    assert_eq!(
        words(
            &cmd::module_loadex("/m.so")
                .args(["x"])
                .config("a", "1")
                .config("b", "2")
        ),
        ["MODULE", "LOADEX", "/m.so", "CONFIG", "a", "1", "CONFIG", "b", "2", "ARGS", "x"]
    );
}

// ---------------------------------------------------------------------------------------
// Repeated multiple_token options
// ---------------------------------------------------------------------------------------

#[test]
fn multiple_token_sort_get() {
    // SORT key ... [GET pattern [GET pattern ...]]: GET before every pattern.
    assert_eq!(
        words(&cmd::sort("l").get(["#", "a_*", "b_*->f"])),
        ["SORT", "l", "GET", "#", "GET", "a_*", "GET", "b_*->f"]
    );
    // Repeated calls add patterns, even with other options in between.
    assert_eq!(
        words(&cmd::sort("l").get(["a_*"]).desc().get(["b_*"]).by("w_*")),
        ["SORT", "l", "BY", "w_*", "GET", "a_*", "GET", "b_*", "DESC"]
    );
}

// ---------------------------------------------------------------------------------------
// Nested oneofs and blocks
// ---------------------------------------------------------------------------------------

#[test]
fn nested_geosearch() {
    // GEOSEARCH key [FROMMEMBER member | FROMLONLAT longitude latitude]
    //   <BYRADIUS radius <m | km | ft | mi> | BYBOX width height <m | km | ft | mi> | ...>
    //   [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]
    let c = cmd::geosearch(
        "Sicily",
        GeosearchBy::Byradius {
            radius: 200.0,
            unit: GeoUnit::Km,
        },
    )
    .withcoord()
    .count(3, true)
    .asc()
    .fromlonlat(15, 37);
    assert_eq!(
        words(&c),
        [
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "ASC",
            "COUNT",
            "3",
            "ANY",
            "WITHCOORD"
        ]
    );
    let c = cmd::geosearch(
        "Sicily",
        GeosearchBy::Bybox {
            width: 400.0,
            height: 300.5,
            unit: GeoUnit::Mi,
        },
    )
    .order(SortOrder::Desc)
    .from(GeosearchFrom::Frommember(b("Palermo")))
    .count(5, false)
    .withdist()
    .withhash();
    assert_eq!(
        words(&c),
        [
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYBOX",
            "400",
            "300.5",
            "mi",
            "DESC",
            "COUNT",
            "5",
            "WITHDIST",
            "WITHHASH"
        ]
    );
    let c = cmd::geosearch(
        "g",
        GeosearchBy::Byradius {
            radius: 0.5,
            unit: GeoUnit::Ft,
        },
    )
    .from(GeosearchFrom::Fromlonlat {
        longitude: -122.25,
        latitude: 37.75,
    });
    assert_eq!(
        words(&c),
        [
            "GEOSEARCH",
            "g",
            "FROMLONLAT",
            "-122.25",
            "37.75",
            "BYRADIUS",
            "0.5",
            "ft"
        ]
    );
}

#[test]
fn nested_georadius_store() {
    // GEORADIUS key longitude latitude radius <m | km | ft | mi> [WITHCOORD] [WITHDIST]
    //   [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]
    assert_eq!(
        words(
            &cmd::georadius("Sicily", 15, 37, 200, GeoUnit::Km)
                .store_store("dst")
                .desc()
                .count(5, false)
        ),
        [
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "COUNT",
            "5",
            "DESC",
            "STORE",
            "dst"
        ]
    );
    assert_eq!(
        words(&cmd::georadius("Sicily", 15, 37, 200, GeoUnit::M).storedist("dst")),
        [
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "m",
            "STOREDIST",
            "dst"
        ]
    );
}

#[test]
fn nested_bitfield_operations() {
    // BITFIELD key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL]
    //   <SET encoding offset value | INCRBY encoding offset increment> ...]
    // Operations are sent in call order.
    let c = cmd::bitfield("bf")
        .get("u8", 0)
        .overflow(BitfieldOverflow::Sat)
        .incrby("i5", 100, 1)
        .set("u4", 0, 7)
        .get("u4", 0);
    assert_eq!(
        words(&c),
        [
            "BITFIELD", "bf", "GET", "u8", "0", "OVERFLOW", "SAT", "INCRBY", "i5", "100", "1",
            "SET", "u4", "0", "7", "GET", "u4", "0"
        ]
    );
    let c = cmd::bitfield("bf")
        .operation(BitfieldOperation::Write {
            overflow_block: Some(BitfieldOverflow::Fail),
            write_operation: BitfieldWriteOperation::Set {
                encoding: b("i8"),
                offset: BitOffset::Bits(8),
                value: -1,
            },
        })
        .operation(BitfieldOperation::Get {
            encoding: b("i8"),
            offset: BitOffset::Nth(1),
        })
        .operation(BitfieldOperation::Write {
            overflow_block: None,
            write_operation: BitfieldWriteOperation::Incrby {
                encoding: b("u2"),
                offset: BitOffset::Bits(102),
                increment: 1,
            },
        });
    assert_eq!(
        words(&c),
        [
            "BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "i8", "8", "-1", "GET", "i8", "#1",
            "INCRBY", "u2", "102", "1"
        ]
    );
    assert_eq!(words(&cmd::bitfield("bf")), ["BITFIELD", "bf"]);
}

#[test]
fn nested_client_kill_filters() {
    // CLIENT KILL <ip:port | <[ID client-id [client-id ...]] | [TYPE normal | ...]
    //   | [USER username] | [ADDR ip:port] | [SKIPME YES | NO] | [MAXAGE maxage] | ...
    //   | [NOT-USER not-username] | ...> [...]>
    // Filters are a repeated oneof: sent in call order, each with its token.
    let c = cmd::client_kill()
        .id([1, 2])
        .type_(ClientKillClientType::Normal)
        .skipme(YesNo::No)
        .maxage(60)
        .not_user("bob")
        .addr("10.0.0.1:5000");
    assert_eq!(
        words(&c),
        [
            "CLIENT",
            "KILL",
            "ID",
            "1",
            "2",
            "TYPE",
            "normal",
            "SKIPME",
            "NO",
            "MAXAGE",
            "60",
            "NOT-USER",
            "bob",
            "ADDR",
            "10.0.0.1:5000"
        ]
    );
    let c = cmd::client_kill()
        .user("alice")
        .not_type(ClientKillClientType::Pubsub)
        .new_format(ClientKillNewFormat::NotId(vec![9]))
        .new_format(ClientKillNewFormat::Skipme(YesNo::Yes));
    assert_eq!(
        words(&c),
        ["CLIENT", "KILL", "USER", "alice", "NOT-TYPE", "pubsub", "NOT-ID", "9", "SKIPME", "YES"]
    );
    assert_eq!(
        words(&cmd::client_kill().old_format("1.2.3.4:5")),
        ["CLIENT", "KILL", "1.2.3.4:5"]
    );
}

#[test]
fn nested_migrate_keys_with_empty_key() {
    // MIGRATE host port <key | ""> destination-db timeout [COPY] [REPLACE]
    //   [AUTH password | AUTH2 username password] [KEYS key [key ...]]
    let c = cmd::migrate(
        "10.0.0.2",
        6379,
        MigrateKeySelector::EmptyString,
        0,
        Duration::from_secs(5),
    )
    .keys(["a", "b"])
    .auth2("user", "pw")
    .replace()
    .copy();
    assert_eq!(
        words(&c),
        [
            "MIGRATE", "10.0.0.2", "6379", "", "0", "5000", "COPY", "REPLACE", "AUTH2", "user",
            "pw", "KEYS", "a", "b"
        ]
    );
}

#[test]
fn nested_optional_blocks_bitcount_bitpos() {
    // BITCOUNT key [start end [BYTE | BIT]]
    assert_eq!(words(&cmd::bitcount("k")), ["BITCOUNT", "k"]);
    assert_eq!(
        words(&cmd::bitcount("k").start(0, Some((-1, Some(BitUnit::Bit))))),
        ["BITCOUNT", "k", "0", "-1", "BIT"]
    );
    assert_eq!(
        words(&cmd::bitcount("k").start(1, Some((2, None)))),
        ["BITCOUNT", "k", "1", "2"]
    );
    // BITPOS key bit [start [end [BYTE | BIT]]]
    assert_eq!(
        words(&cmd::bitpos("k", 1).start(2, None)),
        ["BITPOS", "k", "1", "2"]
    );
    assert_eq!(
        words(&cmd::bitpos("k", 0).start(2, Some((10, Some(BitUnit::Byte))))),
        ["BITPOS", "k", "0", "2", "10", "BYTE"]
    );
}

#[test]
fn nested_optional_block_xpending() {
    // XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
    assert_eq!(words(&cmd::xpending("s", "g")), ["XPENDING", "s", "g"]);
    assert_eq!(
        words(&cmd::xpending("s", "g").filters(Some(60_000), "-", "+", 10, Some(b("c1")))),
        ["XPENDING", "s", "g", "IDLE", "60000", "-", "+", "10", "c1"]
    );
    assert_eq!(
        words(&cmd::xpending("s", "g").filters(None, "-", "+", 5, None)),
        ["XPENDING", "s", "g", "-", "+", "5"]
    );
}

#[test]
fn many_options_out_of_order_xclaim_lcs_failover() {
    // XCLAIM key group consumer min-idle-time ID [ID ...] [IDLE ms]
    //   [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
    let c = cmd::xclaim("s", "g", "c", "3600000", ["1-0", "2-0"])
        .lastid("2-0")
        .justid()
        .force()
        .retrycount(3)
        .time(t0())
        .idle(5000);
    assert_eq!(
        words(&c),
        [
            "XCLAIM",
            "s",
            "g",
            "c",
            "3600000",
            "1-0",
            "2-0",
            "IDLE",
            "5000",
            "TIME",
            "1700000000123",
            "RETRYCOUNT",
            "3",
            "FORCE",
            "JUSTID",
            "LASTID",
            "2-0"
        ]
    );
    // LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
    assert_eq!(
        words(&cmd::lcs("a", "b").withmatchlen().minmatchlen(4).idx()),
        ["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]
    );
    // FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]
    assert_eq!(
        words(
            &cmd::failover()
                .timeout(Duration::from_secs(1))
                .to("h", 6380, true)
        ),
        ["FAILOVER", "TO", "h", "6380", "FORCE", "TIMEOUT", "1000"]
    );
    assert_eq!(
        words(&cmd::failover().to("h", 6380, false)),
        ["FAILOVER", "TO", "h", "6380"]
    );
    // CLIENT PAUSE timeout [WRITE | ALL]
    assert_eq!(
        words(&cmd::client_pause(Duration::from_millis(500)).write()),
        ["CLIENT", "PAUSE", "500", "WRITE"]
    );
    assert_eq!(
        words(&cmd::client_pause(500).mode(ClientPauseMode::All)),
        ["CLIENT", "PAUSE", "500", "ALL"]
    );
    // MEMORY USAGE key [SAMPLES count]
    assert_eq!(
        words(&cmd::memory_usage("k").samples(0)),
        ["MEMORY", "USAGE", "k", "SAMPLES", "0"]
    );
}

// ---------------------------------------------------------------------------------------
// Subcommands and keyword names
// ---------------------------------------------------------------------------------------

#[test]
fn subcommands() {
    // OBJECT ENCODING key
    assert_eq!(
        words(&cmd::object_encoding("k")),
        ["OBJECT", "ENCODING", "k"]
    );
    // CLIENT SETINFO <LIB-NAME libname | LIB-VER libver> (tokens are lower case in the spec)
    assert_eq!(
        words(&cmd::client_setinfo(ClientSetinfoAttr::LibName(b(
            "respec"
        )))),
        ["CLIENT", "SETINFO", "lib-name", "respec"]
    );
    assert_eq!(
        words(&cmd::client_setinfo(ClientSetinfoAttr::LibVer(b("0.1.0")))),
        ["CLIENT", "SETINFO", "lib-ver", "0.1.0"]
    );
    // CONFIG SET parameter value [parameter value ...]
    assert_eq!(
        words(&cmd::config_set([("appendonly", "yes")])),
        ["CONFIG", "SET", "appendonly", "yes"]
    );
    // CLIENT LIST [TYPE normal | master | replica | pubsub] ...
    assert_eq!(
        words(&cmd::client_list().normal()),
        ["CLIENT", "LIST", "TYPE", "normal"]
    );
}

#[test]
fn keyword_names() {
    // TYPE key
    assert_eq!(words(&cmd::type_("k")), ["TYPE", "k"]);
    // MOVE key db
    assert_eq!(words(&cmd::move_("k", 1)), ["MOVE", "k", "1"]);
    // SCAN ... [MATCH pattern] [TYPE type]
    assert_eq!(
        words(&cmd::scan(0).type_("zset")),
        ["SCAN", "0", "TYPE", "zset"]
    );
}

// ---------------------------------------------------------------------------------------
// The raw escape hatch
// ---------------------------------------------------------------------------------------

#[test]
fn raw_commands() {
    assert_eq!(
        words(&raw_cmd("JSON.GET").arg("doc").arg("$")),
        ["JSON.GET", "doc", "$"]
    );
    assert_eq!(
        words(&raw_cmd("CLIENT").arg("LIST").args(["TYPE", "normal"])),
        ["CLIENT", "LIST", "TYPE", "normal"]
    );
    assert_eq!(words(&raw_cmd("PING")), ["PING"]);
    assert_eq!(
        words(&raw_cmd("INCRBY").arg("k").arg(5)),
        ["INCRBY", "k", "5"]
    );
    assert!(raw_cmd("JSON.GET").arg("doc").validate().is_ok());
}

// ---------------------------------------------------------------------------------------
// Argument validation
// ---------------------------------------------------------------------------------------

#[test]
fn validate_ok() {
    assert!(cmd::set("k", "v").nx().ex(10).validate().is_ok());
    assert!(cmd::zadd("z", [(1.5, "a")]).validate().is_ok());
    assert!(cmd::del(["a"]).validate().is_ok());
    assert!(cmd::zcount("z", ScoreBound::NegInf, ScoreBound::PosInf)
        .validate()
        .is_ok());
    assert!(cmd::blpop(["l"], 0).validate().is_ok());
    assert!(cmd::eval("return 1").validate().is_ok());
}

/// Issue 13: `expire(k, 500 ms)` was sent as `EXPIRE k 0`, deleting the key. A
/// Duration the argument's unit cannot carry is refused before sending, naming the
/// command and the argument; whole units still go through.
#[test]
fn sub_unit_durations_are_refused() {
    let cases: Vec<(respec::Result<()>, &str, &str)> = vec![
        (
            cmd::expire("k", Duration::from_millis(500)).validate(),
            "EXPIRE",
            "seconds",
        ),
        (
            cmd::setex("k", Duration::from_millis(1500), "v").validate(),
            "SETEX",
            "seconds",
        ),
        (
            cmd::set("k", "v").ex(Duration::from_millis(999)).validate(),
            "SET",
            "expiration",
        ),
        (
            cmd::getex("k").ex(Duration::from_nanos(1)).validate(),
            "GETEX",
            "expiration",
        ),
        (
            cmd::pexpire("k", Duration::from_micros(1500)).validate(),
            "PEXPIRE",
            "milliseconds",
        ),
        (
            cmd::set("k", "v").px(Duration::from_micros(10)).validate(),
            "SET",
            "expiration",
        ),
        (
            cmd::expire("k", Duration::from_secs(u64::MAX)).validate(),
            "EXPIRE",
            "seconds",
        ),
        (
            cmd::pexpire("k", Duration::from_secs(u64::MAX)).validate(),
            "PEXPIRE",
            "milliseconds",
        ),
    ];
    for (result, command, arg) in cases {
        let err = result.unwrap_err();
        println!("{err}");
        assert!(err.is_invalid_argument(), "{err}");
        assert!(err.is_unsent(), "{err}");
        assert_eq!(err.command(), Some(command), "{err}");
        assert!(err.to_string().contains(&format!("`{arg}`")), "{err}");
    }
    // Whole units are fine.
    assert!(cmd::expire("k", Duration::from_secs(1)).validate().is_ok());
    assert!(cmd::pexpire("k", Duration::from_millis(500))
        .validate()
        .is_ok());
    assert_eq!(
        words(&cmd::pexpire("k", Duration::from_millis(500))),
        ["PEXPIRE", "k", "500"]
    );
}

#[test]

fn validate_nan_score() {
    let c = cmd::zadd("z", [(f64::NAN, "m")]);
    let err = c.validate().unwrap_err();
    assert!(err.is_invalid_argument(), "{err:?}");
    assert_eq!(err.command(), Some("ZADD"));
    let msg = err.to_string();
    assert!(msg.contains("ZADD"), "{msg}");
    assert!(msg.contains("score"), "{msg}");
}

#[test]

fn validate_nan_longitude_names_field() {
    // GEOADD key [NX | XX] [CH] longitude latitude member [...]
    let err = cmd::geoadd("g", [(f64::NAN, 1.0, "m")])
        .validate()
        .unwrap_err();
    assert!(err.is_invalid_argument());
    let msg = err.to_string();
    assert!(msg.contains("GEOADD") && msg.contains("longitude"), "{msg}");
}

#[test]
fn validate_empty_required_list() {
    let err = cmd::del(Vec::<&str>::new()).validate().unwrap_err();
    assert!(err.is_invalid_argument(), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("DEL"), "{msg}");
    assert!(msg.contains("key"), "{msg}");
}

#[test]
fn validate_other_bad_numbers() {
    // A NaN bound names the bound.
    let err = cmd::zcount("z", f64::NAN, 1).validate().unwrap_err();
    assert!(err.is_invalid_argument());
    let msg = err.to_string();
    assert!(msg.contains("ZCOUNT") && msg.contains("min"), "{msg}");
    let err = cmd::zcount("z", 1, ScoreBound::Exclusive(f64::NAN))
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("max"), "{err}");
    // A negative blocking timeout.
    let err = cmd::blpop(["l"], -1.0).validate().unwrap_err();
    assert!(err.is_invalid_argument());
    let msg = err.to_string();
    assert!(msg.contains("BLPOP") && msg.contains("timeout"), "{msg}");
    // A time before the Unix epoch.
    let err = cmd::expireat("k", UNIX_EPOCH - Duration::from_secs(1))
        .validate()
        .unwrap_err();
    assert!(err.is_invalid_argument());
    assert!(err.to_string().contains("EXPIREAT"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Key positions from the spec's key specifications
// ---------------------------------------------------------------------------------------

#[test]
fn keys_mset_returns_keys_not_values() {
    assert_eq!(
        keys(&cmd::mset([("a", "1"), ("b", "2"), ("c", "3")])),
        ["a", "b", "c"]
    );
}

#[test]
fn keys_zunionstore_destination_and_numkeys_keys() {
    assert_eq!(
        keys(&cmd::zunionstore("dst", ["z1", "z2"]).weights([1, 2]).sum()),
        ["dst", "z1", "z2"]
    );
}

#[test]
fn keys_xread_streams() {
    assert_eq!(
        keys(&cmd::xread(["s1", "s2"], ["0", "0"]).count(1).block(0)),
        ["s1", "s2"]
    );
    assert_eq!(
        keys(&cmd::xreadgroup("g", "c", ["s1", "s2"], [">", ">"]).count(5)),
        ["s1", "s2"]
    );
}

#[test]
fn keys_eval_get_and_raw() {
    assert_eq!(
        keys(&cmd::eval("return 1").key(["k1", "k2"]).arg(["a"])),
        ["k1", "k2"]
    );
    assert!(keys(&cmd::eval("return 1").arg(["a"])).is_empty());
    assert_eq!(keys(&cmd::get("k")), ["k"]);
    assert_eq!(keys(&raw_cmd("GET").arg("k")), ["k"]);
    assert_eq!(keys(&raw_cmd("get").arg("k")), ["k"]);
    assert!(keys(&raw_cmd("JSON.GET").arg("doc")).is_empty());
}

#[test]
fn keys_other_commands() {
    assert_eq!(keys(&cmd::zadd("z", [(1, "m")]).nx()), ["z"]);
    assert_eq!(
        keys(&cmd::lmpop(["l1", "l2"], ListSide::Left)),
        ["l1", "l2"]
    );
    assert_eq!(keys(&cmd::blpop(["a", "b"], 1)), ["a", "b"]);
    assert_eq!(keys(&cmd::object_encoding("k")), ["k"]);
}

#[test]
fn keys_numkeys_after_timeout_and_pairs() {
    assert_eq!(
        keys(&cmd::bzmpop(0, ["z1", "z2"], MinMax::Max).count(2)),
        ["z1", "z2"]
    );
    assert_eq!(
        keys(&cmd::blmpop(0, ["l1", "l2", "l3"], ListSide::Left)),
        ["l1", "l2", "l3"]
    );
    assert_eq!(
        keys(&cmd::msetex([("a", "1"), ("b", "2")]).nx()),
        ["a", "b"]
    );
    assert_eq!(keys(&cmd::fcall("f").key(["k"]).arg(["x"])), ["k"]);
}

#[test]
fn keys_migrate_follow_the_key_specs_and_flag_custom_lookup() {
    // MIGRATE host port <key | ""> ... KEYS key [key ...]: the key specs point at the
    // key selector and at the words after KEYS. With the empty-string selector the
    // spec's first key is "" (not a real key): the server finds MIGRATE's keys with
    // its own code, which the metadata says, so routing asks COMMAND GETKEYS.
    let c = cmd::migrate("h", 6379, MigrateKeySelector::EmptyString, 0, 5000).keys(["a", "b"]);
    assert_eq!(keys(&c), ["", "a", "b"]);
    assert!(c.meta().is_some_and(|m| m.custom_key_lookup));
    let c = cmd::migrate("h", 6379, MigrateKeySelector::Key(b("k")), 0, 5000);
    assert_eq!(keys(&c), ["k"]);
    assert!(!cmd::get("k").meta().is_some_and(|m| m.custom_key_lookup));
}

#[test]
fn flattened_required_choice_needs_one_option() {
    // CLIENT KILL's filter is required: its alternatives are builder methods, and
    // building the command without any of them is rejected before sending.
    let err = cmd::client_kill().validate().unwrap_err();
    assert!(err.is_invalid_argument());
    let msg = err.to_string();
    assert!(
        msg.contains("CLIENT KILL") && msg.contains("filter"),
        "{msg}"
    );
    assert!(cmd::client_kill().id([7]).validate().is_ok());
    assert_eq!(
        words(&cmd::client_kill().id([7]).skipme(respec::types::YesNo::No)),
        ["CLIENT", "KILL", "ID", "7", "SKIPME", "NO"]
    );
}

#[test]
fn float_arguments_the_spec_types_as_integers() {
    assert_eq!(
        words(&cmd::zincrby("z", 2.5, "m")),
        ["ZINCRBY", "z", "2.5", "m"]
    );
    assert_eq!(
        words(&cmd::zunionstore("d", ["a", "b"]).weights([0.5, 2.0])),
        ["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "0.5", "2"]
    );
}

#[test]
fn an_empty_optional_list_sends_nothing() {
    // `.arg([])` on EVALSHA: no arguments, no error; a token-led list drops its token.
    let c = cmd::evalsha("abc").arg(Vec::<&str>::new());
    assert!(c.validate().is_ok());
    assert_eq!(words(&c), ["EVALSHA", "abc", "0"]);
    let c = cmd::zunionstore("d", ["a"]).weights(Vec::<f64>::new());
    assert_eq!(words(&c), ["ZUNIONSTORE", "d", "1", "a"]);
}

// ---------------------------------------------------------------------------------------
// The forms a new user writes (issue 19 item 5)
// ---------------------------------------------------------------------------------------

#[test]
fn a_list_parameter_takes_one_value_or_many() {
    let names = vec!["a".to_owned(), "b".to_owned()];
    let ids: std::collections::BTreeMap<u32, &str> = [(1, "x"), (2, "y")].into();
    let cases: Vec<(Vec<String>, &[&str])> = vec![
        (words(&cmd::del("k")), &["DEL", "k"]),
        (words(&cmd::del(String::from("k"))), &["DEL", "k"]),
        (words(&cmd::del(&names[0])), &["DEL", "a"]),
        (words(&cmd::del(Bytes::from_static(b"k"))), &["DEL", "k"]),
        (words(&cmd::del(7)), &["DEL", "7"]),
        (words(&cmd::del(["a", "b"])), &["DEL", "a", "b"]),
        (words(&cmd::del(vec!["a", "b"])), &["DEL", "a", "b"]),
        (words(&cmd::del(&names)), &["DEL", "a", "b"]),
        (words(&cmd::del(&names[..])), &["DEL", "a", "b"]),
        (words(&cmd::del(names.clone())), &["DEL", "a", "b"]),
        (
            words(&cmd::del(names.iter().map(|n| format!("user:{n}")))),
            &["DEL", "user:a", "user:b"],
        ),
        (words(&cmd::del(ids.values())), &["DEL", "x", "y"]),
        (words(&cmd::del(ids.keys())), &["DEL", "1", "2"]),
        // Text is never split into characters, bytes never into numbers.
        (words(&cmd::exists("foo")), &["EXISTS", "foo"]),
        (words(&cmd::exists(b"foo")), &["EXISTS", "foo"]),
        (words(&cmd::exists(&b"foo"[..])), &["EXISTS", "foo"]),
        (words(&cmd::exists(b"foo".to_vec())), &["EXISTS", "foo"]),
        (words(&cmd::exists([b"a", b"b"])), &["EXISTS", "a", "b"]),
        // A count before the list counts its arguments.
        (words(&cmd::sintercard("s")), &["SINTERCARD", "1", "s"]),
        (
            words(&cmd::sintercard(["s", "t"]).limit(5)),
            &["SINTERCARD", "2", "s", "t", "LIMIT", "5"],
        ),
        (
            words(&cmd::sintercard(b"s".to_vec())),
            &["SINTERCARD", "1", "s"],
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
    let err = cmd::del(Vec::<&str>::new()).validate().unwrap_err();
    assert!(err.to_string().contains("`key`"), "{err}");
}

#[test]
fn stream_ids_are_the_strings_users_write() {
    assert_eq!(
        words(&cmd::xadd("s", "*", [("f", "v")])),
        ["XADD", "s", "*", "f", "v"]
    );
    assert_eq!(
        words(&cmd::xadd("s", "5-*", [("f", "v")])),
        ["XADD", "s", "5-*", "f", "v"]
    );
    assert_eq!(
        words(&cmd::xgroup_create("s", "g", "$")),
        ["XGROUP", "CREATE", "s", "g", "$"]
    );
    assert_eq!(
        words(&cmd::xgroup_setid("s", "g", "0")),
        ["XGROUP", "SETID", "s", "g", "0"]
    );
    assert_eq!(
        words(&cmd::xread(["a", "b"], ["0", "$"])),
        ["XREAD", "STREAMS", "a", "b", "0", "$"]
    );
    assert_eq!(
        words(&cmd::xreadgroup("g", "c", "s", ">")),
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]
    );
    assert_eq!(
        words(&cmd::xrange("s", "(1-0", "+")),
        ["XRANGE", "s", "(1-0", "+"]
    );
    assert_eq!(
        words(&cmd::xack("s", "g", "1-0")),
        ["XACK", "s", "g", "1-0"]
    );
    assert!(cmd::xautoclaim("s", "g", "c", 0, "-").validate().is_ok());
    assert!(cmd::xautoclaim("s", "g", "c", 0, "(1-0").validate().is_ok());
    assert!(cmd::xread("s", "+").validate().is_ok());
    let entry_id = Bytes::from_static(b"1700000000000-3");
    assert_eq!(
        words(&cmd::xdel("s", [&entry_id])),
        ["XDEL", "s", "1700000000000-3"]
    );
    // What the argument does not take fails before sending, naming it.
    let bad = [
        (
            cmd::xadd("s", "$", [("f", "v")]).validate(),
            "XADD",
            "id",
            "`*`",
        ),
        (
            cmd::xgroup_create("s", "g", ">").validate(),
            "XGROUP CREATE",
            "id",
            "`$`",
        ),
        (cmd::xread("s", "0-").validate(), "XREAD", "ID", "`$`"),
        (
            cmd::xreadgroup("g", "c", "s", "$").validate(),
            "XREADGROUP",
            "ID",
            "`>`",
        ),
        (
            cmd::xrange("s", "first", "+").validate(),
            "XRANGE",
            "start",
            "exclusive",
        ),
        (
            cmd::xack("s", "g", ["1-0", "1-x"]).validate(),
            "XACK",
            "ID",
            "1700000000000-0",
        ),
        (cmd::xdel("s", "*").validate(), "XDEL", "ID", "ms-seq"),
    ];
    for (result, command, arg, form) in bad {
        let err = result.unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
        assert_eq!(err.command(), Some(command), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("`{arg}`")), "{msg}");
        assert!(
            msg.contains("stream entry ID") && msg.contains(form),
            "{msg}"
        );
    }
}

#[test]
fn trimming_reads_as_options() {
    assert_eq!(
        words(&cmd::xadd("s", "*", [("f", "v")]).maxlen(1000).approx()),
        ["XADD", "s", "MAXLEN", "~", "1000", "*", "f", "v"]
    );
    assert_eq!(
        words(
            &cmd::xadd("s", "*", [("f", "v")])
                .minid("5-0")
                .limit(10)
                .approx()
        ),
        ["XADD", "s", "MINID", "~", "5-0", "LIMIT", "10", "*", "f", "v"]
    );
    // The last strategy given wins, as with any single-valued option.
    assert_eq!(
        words(&cmd::xtrim("s").maxlen(5).minid("7-0")),
        ["XTRIM", "s", "MINID", "7-0"]
    );
    // `.approx()` or `.limit(n)` alone, and XTRIM without a strategy, fail before sending.
    for (result, command) in [
        (
            cmd::xadd("s", "*", [("f", "v")]).approx().validate(),
            "XADD",
        ),
        (
            cmd::xadd("s", "*", [("f", "v")]).limit(5).validate(),
            "XADD",
        ),
        (cmd::xtrim("s").validate(), "XTRIM"),
        (cmd::xtrim("s").approx().validate(), "XTRIM"),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.command(), Some(command), "{err}");
        assert!(err.to_string().contains("`trim`"), "{err}");
    }
    assert!(cmd::xtrim("s").approx().maxlen(3).validate().is_ok());
}

#[test]
fn bitfield_takes_positional_offsets() {
    assert_eq!(
        words(
            &cmd::bitfield("b")
                .get("u8", "#1")
                .set("i4", 3, -1)
                .incrby("u2", "#0", 1)
        ),
        ["BITFIELD", "b", "GET", "u8", "#1", "SET", "i4", "3", "-1", "INCRBY", "u2", "#0", "1"]
    );
    assert_eq!(
        words(&cmd::bitfield_ro("b").get("u8", BitOffset::Nth(2))),
        ["BITFIELD_RO", "b", "GET", "u8", "#2"]
    );
    for bad in ["#", "#-1", "x", "", "+1", "#1.5"] {
        let err = cmd::bitfield("b").get("u8", bad).validate().unwrap_err();
        assert_eq!(err.command(), Some("BITFIELD"), "{err}");
        assert!(err.to_string().contains("`offset`"), "{bad}: {err}");
    }
}

#[test]
fn shutdown_flags_are_methods() {
    assert_eq!(
        words(&cmd::shutdown().force().now().nosave()),
        ["SHUTDOWN", "NOSAVE", "NOW", "FORCE"]
    );
    assert_eq!(words(&cmd::shutdown().save()), ["SHUTDOWN", "SAVE"]);
    assert_eq!(words(&cmd::shutdown().abort()), ["SHUTDOWN", "ABORT"]);
}
