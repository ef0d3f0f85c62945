//! Typed-reply tests of the generated API for the string, bitmap, hyperloglog and
//! generic (keyspace) command groups, each run under RESP2 and RESP3.

use bytes::Bytes;
use respec::types::{
    BitUnit, BitfieldOverflow, BitopOperation, ExistenceCondition, Expiration, ExpireCondition,
    MigrateKeySelector, SetCondition, SetExpiration, SortOrder,
};
use respec::{Client, Commands, Value};
use respec_tests::protocols::{self, Deployment};
use respec_tests::Server;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A client of the same server speaking the same protocol as `c`, on database `db`.
async fn on_db(url: &str, db: u32) -> Client {
    Client::builder()
        .url(&format!("{url}/{db}"))
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn string_counters_and_multi_keys() {
    string_counters_and_multi_keys_on(&Server::start()).await;
}

pub(crate) async fn string_counters_and_multi_keys_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let appended = (
            c.append("s", "Hello").await.unwrap(),
            c.append("s", " World").await.unwrap(),
        );
        let strlen = (
            c.strlen("s").await.unwrap(),
            c.strlen("nope").await.unwrap(),
        );
        let counters = (
            c.incr("n").await.unwrap(),
            c.incrby("n", 10).await.unwrap(),
            c.decr("n").await.unwrap(),
            c.decrby("n", 5).await.unwrap(),
            c.incrby("n", -10).await.unwrap(),
        );
        let not_int = c.incr("s").await.is_err();
        let float = (
            c.incrbyfloat("f", 10.5).await.unwrap(),
            c.incrbyfloat("f", 0.1).await.unwrap(),
            c.incrbyfloat("f", -5).await.unwrap(),
        );
        c.mset([("{t}a", "1"), ("b", "2")]).await.unwrap();
        let mget = c.mget(["{t}a", "nope", "b"]).await.unwrap();
        let msetnx = (
            c.msetnx([("{t}a", "x"), ("{t}c", "3")]).await.unwrap(),
            c.msetnx([("{t}c", "3"), ("{t}d", "4")]).await.unwrap(),
        );
        let getset = (
            c.getset("{t}a", "11").await.unwrap(),
            c.getset("fresh", "v").await.unwrap(),
        );
        let getdel = (
            c.getdel("{t}a").await.unwrap(),
            c.getdel("{t}a").await.unwrap(),
            c.get("{t}a").await.unwrap(),
        );
        let setnx = (
            c.setnx("nx", "first").await.unwrap(),
            c.setnx("nx", "second").await.unwrap(),
            c.get("nx").await.unwrap(),
        );
        (
            appended, strlen, counters, not_int, float, mget, msetnx, getset, getdel, setnx,
        )
    })
    .await;
    let (appended, strlen, counters, not_int, float, mget, msetnx, getset, getdel, setnx) = got;
    assert_eq!(appended, (5, 11));
    assert_eq!(strlen, (11, 0));
    assert_eq!(counters, (1, 11, 10, 5, -5));
    assert!(not_int);
    assert!((float.0 - 10.5).abs() < 1e-9);
    assert!((float.1 - 10.6).abs() < 1e-9);
    assert!((float.2 - 5.6).abs() < 1e-9);
    assert_eq!(mget, vec![Some(b("1")), None, Some(b("2"))]);
    assert_eq!(msetnx, (false, true));
    assert_eq!(getset, (Some(b("1")), None));
    assert_eq!(getdel, (Some(b("11")), None, None));
    assert_eq!(setnx, (true, false, Some(b("first"))));
}

#[tokio::test]
async fn string_ranges() {
    string_ranges_on(&Server::start()).await;
}

pub(crate) async fn string_ranges_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.set("s", "Hello World").await.unwrap();
        let setrange = (
            c.setrange("s", 6, "Redis").await.unwrap(),
            c.setrange("pad", 5, "x").await.unwrap(),
        );
        let values = (c.get("s").await.unwrap(), c.get("pad").await.unwrap());
        let getrange = (
            c.getrange("s", 0, 4).await.unwrap(),
            c.getrange("s", -5, -1).await.unwrap(),
            c.getrange("s", 100, 200).await.unwrap(),
            c.getrange("nope", 0, -1).await.unwrap(),
        );
        let substr = (
            c.substr("s", 0, 4).await.unwrap(),
            c.substr("s", 6, -1).await.unwrap(),
        );
        (setrange, values, getrange, substr)
    })
    .await;
    assert_eq!(got.0, (11, 6));
    assert_eq!(got.1, (Some(b("Hello Redis")), Some(b("\0\0\0\0\0x"))));
    assert_eq!(got.2, (b("Hello"), b("Redis"), b(""), b("")));
    assert_eq!(got.3, (b("Hello"), b("Redis")));
}

#[tokio::test]
async fn set_options_and_expiring_setters() {
    set_options_and_expiring_setters_on(&Server::start()).await;
}

pub(crate) async fn set_options_and_expiring_setters_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let nx = (
            c.set("k", "1").nx().await.unwrap(),
            c.set("k", "2").nx().await.unwrap(),
            c.set("k", "3").condition(SetCondition::Nx).await.unwrap(),
        );
        let xx = (
            c.set("k", "4").xx().await.unwrap(),
            c.set("missing", "4").xx().await.unwrap(),
            c.set("missing", "4")
                .condition(SetCondition::Xx)
                .await
                .unwrap(),
            c.get("missing").await.unwrap(),
        );
        let get = (
            c.set("k", "5").get().await.unwrap(),
            c.set("new", "v").get().await.unwrap(),
            c.set("k", "6").nx().get().await.unwrap(),
            c.get("k").await.unwrap(),
        );
        // Expirations.
        assert!(c.set("ex", "v").ex(100).await.unwrap());
        let ex_ttl = c.ttl("ex").await.unwrap();
        assert!(c.set("px", "v").px(100_000).await.unwrap());
        let px_pttl = c.pttl("px").await.unwrap();
        assert!(c.set("dur", "v").ex(Duration::from_secs(50)).await.unwrap());
        let dur_ttl = c.ttl("dur").await.unwrap();
        let at = now_secs() + 1000;
        assert!(c.set("exat", "v").exat(at).await.unwrap());
        let exat = c.expiretime("exat").await.unwrap();
        let at_ms = now_millis() + 1_000_000;
        assert!(c.set("pxat", "v").pxat(at_ms).await.unwrap());
        let pxat = c.pexpiretime("pxat").await.unwrap();
        assert!(c
            .set("st", "v")
            .exat(SystemTime::now() + Duration::from_secs(500))
            .await
            .unwrap());
        let st_ttl = c.ttl("st").await.unwrap();
        // KEEPTTL keeps the TTL, a plain SET drops it.
        assert!(c.set("ex", "w").keepttl().await.unwrap());
        let kept = c.ttl("ex").await.unwrap();
        assert!(c
            .set("ex", "w2")
            .expiration(SetExpiration::Keepttl)
            .await
            .unwrap());
        let kept2 = c.ttl("ex").await.unwrap();
        assert!(c.set("ex", "x").await.unwrap());
        let dropped = c.ttl("ex").await.unwrap();
        assert!(c
            .set("enum", "v")
            .expiration(SetExpiration::Px(20_000))
            .await
            .unwrap());
        let enum_pttl = c.pttl("enum").await.unwrap();
        // get + expiration together.
        let get_ex = c.set("k", "7").get().ex(30).await.unwrap();
        let k_ttl = c.ttl("k").await.unwrap();
        // SETEX / PSETEX.
        c.setex("se", 60, "v").await.unwrap();
        let se = (c.get("se").await.unwrap(), c.ttl("se").await.unwrap());
        c.psetex("pse", 60_000, "v").await.unwrap();
        let pse = (c.get("pse").await.unwrap(), c.pttl("pse").await.unwrap());
        let bad = c.setex("se", 0, "v").await.is_err();
        (
            nx,
            xx,
            get,
            [
                0 < ex_ttl && ex_ttl <= 100,
                0 < px_pttl && px_pttl <= 100_000,
                0 < dur_ttl && dur_ttl <= 50,
                exat == at,
                pxat == at_ms,
                // A SystemTime is rounded up to the next whole second (never into
                // the past), so the TTL may read one more than asked.
                490 < st_ttl && st_ttl <= 501,
            ],
            (
                0 < kept && kept <= 100 && 0 < kept2 && kept2 <= 100,
                dropped,
            ),
            (0 < enum_pttl && enum_pttl <= 20_000),
            (get_ex, 0 < k_ttl && k_ttl <= 30),
            (
                (se.0, 0 < se.1 && se.1 <= 60),
                (pse.0, 0 < pse.1 && pse.1 <= 60_000),
                bad,
            ),
        )
    })
    .await;
    assert_eq!(got.0, (true, false, false));
    assert_eq!(got.1, (true, false, false, None));
    assert_eq!(got.2, (Some(b("4")), None, Some(b("5")), Some(b("5"))));
    assert_eq!(got.3, [true; 6]);
    assert_eq!(got.4, (true, -1));
    assert!(got.5);
    assert_eq!(got.6, (Some(b("5")), true));
    assert_eq!(got.7 .0, (Some(b("v")), true));
    assert_eq!(got.7 .1, (Some(b("v")), true));
    assert!(got.7 .2);
}

#[tokio::test]
async fn getex_options() {
    getex_options_on(&Server::start()).await;
}

pub(crate) async fn getex_options_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.set("k", "v").await.unwrap();
        let plain = (c.getex("k").await.unwrap(), c.ttl("k").await.unwrap());
        let missing = c.getex("nope").ex(10).await.unwrap();
        let ex = (
            c.getex("k").ex(10).await.unwrap(),
            c.ttl("k").await.unwrap(),
        );
        let px = c.getex("k").px(50_000).await.unwrap();
        let px_ttl = c.pttl("k").await.unwrap();
        let at = now_secs() + 3000;
        let exat = c.getex("k").exat(at).await.unwrap();
        let exat_t = c.expiretime("k").await.unwrap();
        let at_ms = now_millis() + 4_000_000;
        let pxat = c.getex("k").pxat(at_ms).await.unwrap();
        let pxat_t = c.pexpiretime("k").await.unwrap();
        let persist = c.getex("k").persist().await.unwrap();
        let persisted = c.ttl("k").await.unwrap();
        let via_enum = c.getex("k").expiration(Expiration::Ex(70)).await.unwrap();
        let enum_ttl = c.ttl("k").await.unwrap();
        let persist_enum = c.getex("k").expiration(Expiration::Persist).await.unwrap();
        let persisted2 = c.ttl("k").await.unwrap();
        (
            plain,
            missing,
            (ex.0, 0 < ex.1 && ex.1 <= 10),
            (px, 10_000 < px_ttl && px_ttl <= 50_000),
            (exat, exat_t == at),
            (pxat, pxat_t == at_ms),
            (persist, persisted),
            (via_enum, 0 < enum_ttl && enum_ttl <= 70),
            (persist_enum, persisted2),
        )
    })
    .await;
    let v = Some(b("v"));
    assert_eq!(got.0, (v.clone(), -1));
    assert_eq!(got.1, None);
    assert_eq!(got.2, (v.clone(), true));
    assert_eq!(got.3, (v.clone(), true));
    assert_eq!(got.4, (v.clone(), true));
    assert_eq!(got.5, (v.clone(), true));
    assert_eq!(got.6, (v.clone(), -1));
    assert_eq!(got.7, (v.clone(), true));
    assert_eq!(got.8, (v, -1));
}

#[tokio::test]
async fn set_ifeq() {
    set_ifeq_on(&Server::start()).await;
}

pub(crate) async fn set_ifeq_on(server: &impl Deployment) {
    if !protocols::since(server, (8, 1, 0), "SET IFEQ") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.set("k", "v1").await.unwrap();
        (
            c.set("k", "v2").ifeq("other").await.unwrap(),
            c.set("k", "v2").ifeq("v1").await.unwrap(),
            c.set("k", "v3")
                .condition(SetCondition::Ifeq(b("v2")))
                .get()
                .await
                .unwrap(),
            c.set("missing", "x").ifeq("x").await.unwrap(),
            c.get("k").await.unwrap(),
        )
    })
    .await;
    assert_eq!(got, (false, true, Some(b("v2")), false, Some(b("v3"))));
}

#[tokio::test]
async fn delifeq() {
    delifeq_on(&Server::start()).await;
}

pub(crate) async fn delifeq_on(server: &impl Deployment) {
    if !protocols::since(server, (9, 0, 0), "DELIFEQ") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.set("k", "v").await.unwrap();
        (
            c.delifeq("k", "other").await.unwrap(),
            c.exists(["k"]).await.unwrap(),
            c.delifeq("k", "v").await.unwrap(),
            c.exists(["k"]).await.unwrap(),
            c.delifeq("missing", "v").await.unwrap(),
        )
    })
    .await;
    assert_eq!(got, (false, 1, true, 0, false));
}

#[tokio::test]
async fn msetex() {
    msetex_on(&Server::start()).await;
}

pub(crate) async fn msetex_on(server: &impl Deployment) {
    if !protocols::since(server, (9, 1, 0), "MSETEX") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        let plain = c.msetex([("{t}a", "1"), ("{t}b", "2")]).await.unwrap();
        let nx_fail = c.msetex([("{t}a", "x"), ("{t}c", "3")]).nx().await.unwrap();
        let nx_ok = c
            .msetex([("{t}c", "3"), ("{t}d", "4")])
            .nx()
            .ex(100)
            .await
            .unwrap();
        let c_ttl = c.ttl("{t}c").await.unwrap();
        let xx_fail = c
            .msetex([("{t}a", "y"), ("{t}zz", "3")])
            .xx()
            .await
            .unwrap();
        let xx_ok = c
            .msetex([("{t}a", "y"), ("{t}b", "z")])
            .condition(ExistenceCondition::Xx)
            .px(100_000)
            .await
            .unwrap();
        let a_pttl = c.pttl("{t}a").await.unwrap();
        let keep = c.msetex([("{t}a", "k")]).keepttl().await.unwrap();
        let a_kept = c.pttl("{t}a").await.unwrap();
        let at = now_secs() + 1000;
        let exat = c
            .msetex([("{t}e", "1")])
            .expiration(SetExpiration::Exat(at))
            .await
            .unwrap();
        let at_ms = now_millis() + 2_000_000;
        let pxat = c.msetex([("{t}p", "1")]).pxat(at_ms).await.unwrap();
        let exat2 = c.msetex([("{t}e2", "1")]).exat(at).await.unwrap();
        (
            (plain, nx_fail, nx_ok, 0 < c_ttl && c_ttl <= 100),
            (xx_fail, xx_ok, 0 < a_pttl && a_pttl <= 100_000),
            (keep, 0 < a_kept && a_kept <= 100_000),
            (exat, c.expiretime("{t}e").await.unwrap() == at),
            (pxat, c.pexpiretime("{t}p").await.unwrap() == at_ms),
            (exat2, c.expiretime("{t}e2").await.unwrap() == at),
            c.mget(["{t}a", "{t}b", "{t}c", "{t}d", "{t}zz"])
                .await
                .unwrap(),
        )
    })
    .await;
    assert_eq!(got.0, (true, false, true, true));
    assert_eq!(got.1, (false, true, true));
    assert_eq!(got.2, (true, true));
    assert_eq!(got.3, (true, true));
    assert_eq!(got.4, (true, true));
    assert_eq!(got.5, (true, true));
    assert_eq!(
        got.6,
        vec![Some(b("k")), Some(b("z")), Some(b("3")), Some(b("4")), None]
    );
}

#[tokio::test]
async fn lcs() {
    lcs_on(&Server::start()).await;
}

pub(crate) async fn lcs_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 0, 0), "LCS") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.mset([("{t}key1", "ohmytext"), ("{t}key2", "mynewtext")])
            .await
            .unwrap();
        (
            c.lcs("{t}key1", "{t}key2").await.unwrap(),
            c.lcs("{t}key1", "{t}key2").len().await.unwrap(),
            c.lcs("{t}key1", "{t}key2").idx().await.unwrap(),
            c.lcs("{t}key1", "{t}key2")
                .idx()
                .minmatchlen(4)
                .withmatchlen()
                .await
                .unwrap(),
            c.lcs("{t}nope1", "{t}nope2").await.unwrap(),
        )
    })
    .await;
    assert_eq!(got.0, b("mytext"));
    assert_eq!(got.1, 6);
    let idx = got.2;
    assert_eq!(idx.len, 6);
    assert_eq!(idx.matches.len(), 2);
    assert_eq!((idx.matches[0].a, idx.matches[0].b), ((4, 7), (5, 8)));
    assert_eq!((idx.matches[1].a, idx.matches[1].b), ((2, 3), (0, 1)));
    assert_eq!(idx.matches[0].len, None);
    let long = got.3;
    assert_eq!(long.len, 6);
    assert_eq!(long.matches.len(), 1);
    assert_eq!(long.matches[0].a, (4, 7));
    assert_eq!(long.matches[0].b, (5, 8));
    assert_eq!(long.matches[0].len, Some(4));
    assert_eq!(got.4, b(""));
}

#[tokio::test]
async fn bitmap_bits_counts_positions_and_ops() {
    bitmap_bits_counts_positions_and_ops_on(&Server::start()).await;
}

pub(crate) async fn bitmap_bits_counts_positions_and_ops_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let setbit = (
            c.setbit("bm", 7, 1).await.unwrap(),
            c.setbit("bm", 7, 1).await.unwrap(),
            c.setbit("bm", 7, 0).await.unwrap(),
            c.setbit("bm", 7, 1).await.unwrap(),
        );
        let getbit = (
            c.getbit("bm", 7).await.unwrap(),
            c.getbit("bm", 6).await.unwrap(),
            c.getbit("bm", 1000).await.unwrap(),
            c.getbit("nope", 0).await.unwrap(),
        );
        c.set("s", "foobar").await.unwrap();
        let bitcount = (
            c.bitcount("s").await.unwrap(),
            c.bitcount("s").start(0, Some((0, None))).await.unwrap(),
            c.bitcount("s").start(1, Some((1, None))).await.unwrap(),
            c.bitcount("s")
                .start(1, Some((1, Some(BitUnit::Byte))))
                .await
                .unwrap(),
            c.bitcount("s")
                .start(5, Some((30, Some(BitUnit::Bit))))
                .await
                .unwrap(),
            c.bitcount("nope").await.unwrap(),
        );
        c.set("p", Bytes::from_static(b"\xff\xf0\x00"))
            .await
            .unwrap();
        c.set("z", Bytes::from_static(b"\x00\xff\xf0"))
            .await
            .unwrap();
        let bitpos = (
            c.bitpos("p", 0).await.unwrap(),
            c.bitpos("z", 1).await.unwrap(),
            c.bitpos("z", 1).start(2, None).await.unwrap(),
            c.bitpos("z", 1)
                .start(2, Some((-1, Some(BitUnit::Byte))))
                .await
                .unwrap(),
            c.bitpos("z", 1)
                .start(7, Some((15, Some(BitUnit::Bit))))
                .await
                .unwrap(),
            c.bitpos("z", 1)
                .start(7, Some((7, Some(BitUnit::Bit))))
                .await
                .unwrap(),
            c.bitpos("nope", 1).await.unwrap(),
        );
        c.set("{t}a", "abc").await.unwrap();
        c.set("{t}b", "a").await.unwrap();
        let bitop = (
            c.bitop(BitopOperation::And, "{t}and", ["{t}a", "{t}b"])
                .await
                .unwrap(),
            c.get("{t}and").await.unwrap(),
            c.bitop(BitopOperation::Or, "{t}or", ["{t}a", "{t}b"])
                .await
                .unwrap(),
            c.get("{t}or").await.unwrap(),
            c.bitop(BitopOperation::Xor, "{t}xor", ["{t}a", "{t}a"])
                .await
                .unwrap(),
            c.get("{t}xor").await.unwrap(),
            c.bitop(BitopOperation::Not, "{t}not", ["{t}b"])
                .await
                .unwrap(),
            c.get("{t}not").await.unwrap(),
        );
        (setbit, getbit, bitcount, bitpos, bitop)
    })
    .await;
    assert_eq!(got.0, (false, true, true, false));
    assert_eq!(got.1, (true, false, false, false));
    assert_eq!(got.2, (26, 4, 6, 6, 17, 0));
    assert_eq!(got.3, (12, 8, 16, 16, 8, -1, -1));
    assert_eq!(
        got.4,
        (
            3,
            Some(Bytes::from_static(b"a\0\0")),
            3,
            Some(b("abc")),
            3,
            Some(Bytes::from_static(b"\0\0\0")),
            1,
            Some(Bytes::from_static(&[!b'a'])),
        )
    );
}

#[tokio::test]
async fn bitcount_without_end() {
    let server = Server::start();
    if !protocols::since(&server, (8, 0, 0), "BITCOUNT without end") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.set("s", "foobar").await.unwrap();
        (
            c.bitcount("s").start(1, None).await.unwrap(),
            c.bitcount("s").start(-1, None).await.unwrap(),
        )
    })
    .await;
    // "foobar" has 26 bits set, 'f' 4 of them, 'r' 4.
    assert_eq!(got, (22, 4));
}

#[tokio::test]
async fn bitfield_and_bitfield_ro() {
    bitfield_and_bitfield_ro_on(&Server::start()).await;
}

pub(crate) async fn bitfield_and_bitfield_ro_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let first = c
            .bitfield("bf")
            .set("i8", 0, 100)
            .incrby("i8", 0, 1)
            .get("u4", 0)
            .await
            .unwrap();
        let overflow = c
            .bitfield("bf")
            .incrby("i8", 0, 100)
            .overflow(BitfieldOverflow::Sat)
            .incrby("i8", 0, 100)
            .overflow(BitfieldOverflow::Fail)
            .incrby("i8", 0, 1)
            .overflow(BitfieldOverflow::Wrap)
            .incrby("i8", 0, 1)
            .await
            .unwrap();
        let positional = c
            .bitfield("bf")
            .set("u8", 8, 255)
            .get("u8", 8)
            .await
            .unwrap();
        let ro = c
            .bitfield_ro("bf")
            .get("i8", 0)
            .get("u8", 8)
            .get("u16", 100)
            .await
            .unwrap();
        let ro_missing = c.bitfield_ro("nope").get("u8", 0).await.unwrap();
        let empty = c.bitfield("bf").await.unwrap();
        (first, overflow, positional, ro, ro_missing, empty)
    })
    .await;
    // 101 = 0b0110_0101: the top 4 bits are 6.
    assert_eq!(got.0, vec![Some(0), Some(101), Some(6)]);
    // WRAP: 101 + 100 wraps to -55; SAT: -55 + 100 = 45; FAIL and WRAP: +1 each.
    assert_eq!(got.1, vec![Some(-55), Some(45), Some(46), Some(47)]);
    assert_eq!(got.2, vec![Some(0), Some(255)]);
    assert_eq!(got.3, vec![47, 255, 0]);
    assert_eq!(got.4, vec![0]);
    assert_eq!(got.5, Vec::<Option<i64>>::new());
}

#[tokio::test]
async fn bitfield_overflow_fail_gives_nil() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.bitfield("bf")
            .set("u8", 0, 250)
            .overflow(BitfieldOverflow::Fail)
            .incrby("u8", 0, 10)
            .overflow(BitfieldOverflow::Sat)
            .incrby("u8", 0, 10)
            .get("u8", 0)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(got, vec![Some(0), None, Some(255), Some(255)]);
}

#[tokio::test]
async fn hyperloglog() {
    hyperloglog_on(&Server::start()).await;
}

pub(crate) async fn hyperloglog_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let add = (
            c.pfadd("{t}h1")
                .element(["a", "b", "c", "d"])
                .await
                .unwrap(),
            c.pfadd("{t}h1").element(["a", "b"]).await.unwrap(),
            c.pfadd("{t}h2").element(["c", "d", "e"]).await.unwrap(),
            c.pfadd("empty").await.unwrap(),
            c.pfadd("empty").await.unwrap(),
        );
        let count = (
            c.pfcount(["{t}h1"]).await.unwrap(),
            c.pfcount(["{t}h1", "{t}h2"]).await.unwrap(),
            c.pfcount(["nope"]).await.unwrap(),
            c.pfcount(["empty"]).await.unwrap(),
        );
        c.pfmerge("{t}m")
            .sourcekey(["{t}h1", "{t}h2"])
            .await
            .unwrap();
        let merged = c.pfcount(["{t}m"]).await.unwrap();
        c.pfmerge("m2").await.unwrap();
        let m2 = (
            c.exists(["m2"]).await.unwrap(),
            c.pfcount(["m2"]).await.unwrap(),
        );
        let wrong = c.pfadd("{t}h1").element(["x"]).await.is_ok() && {
            c.set("str", "x").await.unwrap();
            c.pfcount(["str"]).await.is_err()
        };
        let encoding = c.pfdebug("encoding", "{t}h1").await.unwrap();
        let registers = match c.pfdebug("getreg", "{t}h1").await.unwrap() {
            Value::Array(regs) => regs.len(),
            other => panic!("PFDEBUG GETREG: {other:?}"),
        };
        c.pfselftest().await.unwrap();
        (add, count, merged, m2, wrong, encoding, registers)
    })
    .await;
    assert_eq!(got.0, (true, false, true, true, false));
    assert_eq!(got.1, (4, 5, 0, 0));
    assert_eq!(got.2, 5);
    assert_eq!(got.3, (1, 0));
    assert!(got.4);
    assert_eq!(got.5, Value::Simple(b("sparse")));
    assert_eq!(got.6, 16384);
}

#[tokio::test]
async fn keyspace_basics() {
    let server = Server::start();
    let url = server.url();
    let got = protocols::both(&server, |c| {
        let url = url.clone();
        async move {
            c.mset([("a", "1"), ("b", "2"), ("c", "3")]).await.unwrap();
            c.cmd("RPUSH")
                .arg("l")
                .arg("x")
                .decode::<i64>()
                .await
                .unwrap();
            let exists = (
                c.exists(["a", "b", "nope"]).await.unwrap(),
                c.exists(["a", "a"]).await.unwrap(),
            );
            let types = (
                c.type_("a").await.unwrap(),
                c.type_("l").await.unwrap(),
                c.type_("nope").await.unwrap(),
            );
            let mut keys = c.keys("*").await.unwrap();
            keys.sort();
            let mut some = c.keys("[ab]").await.unwrap();
            some.sort();
            let touch = c.touch(["a", "b", "nope"]).await.unwrap();
            let random = c.randomkey().await.unwrap();
            let random_ok = random.is_some_and(|k| keys.contains(&k));
            let del = (
                c.del(["a", "nope"]).await.unwrap(),
                c.unlink(["b", "c", "nope"]).await.unwrap(),
                c.exists(["a", "b", "c"]).await.unwrap(),
            );
            c.set("r", "v").await.unwrap();
            c.rename("r", "r2").await.unwrap();
            let rename_missing = c.rename("nope", "x").await.is_err();
            c.set("taken", "t").await.unwrap();
            let renamenx = (
                c.renamenx("r2", "taken").await.unwrap(),
                c.renamenx("r2", "r3").await.unwrap(),
                c.get("r3").await.unwrap(),
                c.get("taken").await.unwrap(),
            );
            let copy = (
                c.copy("r3", "taken").await.unwrap(),
                c.copy("r3", "taken").replace().await.unwrap(),
                c.get("taken").await.unwrap(),
                c.copy("nope", "x").await.unwrap(),
                c.copy("r3", "other").db(1).await.unwrap(),
            );
            let db1 = on_db(&url, 1).await;
            let other_in_1 = db1.get("other").await.unwrap();
            c.set("mv", "m").await.unwrap();
            let moved = (
                c.move_("mv", 1).await.unwrap(),
                c.exists(["mv"]).await.unwrap(),
                db1.get("mv").await.unwrap(),
                c.move_("nope", 1).await.unwrap(),
            );
            c.set("mv", "again").await.unwrap();
            let move_conflict = c.move_("mv", 1).await.unwrap();
            db1.cmd("FLUSHDB").decode::<()>().await.unwrap();
            c.del(["l", "r3", "taken", "mv"]).await.unwrap();
            let random_empty = c.randomkey().await.unwrap();
            (
                exists,
                types,
                keys,
                some,
                touch,
                random_ok,
                del,
                rename_missing,
                renamenx,
                copy,
                other_in_1,
                (moved, move_conflict, random_empty),
            )
        }
    })
    .await;
    assert_eq!(got.0, (2, 2));
    assert_eq!(got.1, (b("string"), b("list"), b("none")));
    assert_eq!(got.2, vec![b("a"), b("b"), b("c"), b("l")]);
    assert_eq!(got.3, vec![b("a"), b("b")]);
    assert_eq!(got.4, 2);
    assert!(got.5);
    assert_eq!(got.6, (1, 2, 0));
    assert!(got.7);
    assert_eq!(got.8, (false, true, Some(b("v")), Some(b("t"))));
    assert_eq!(got.9, (false, true, Some(b("v")), false, true));
    assert_eq!(got.10, Some(b("v")));
    assert_eq!(got.11 .0, (true, 0, Some(b("m")), false));
    assert!(!got.11 .1);
    assert_eq!(got.11 .2, None);
}

#[tokio::test]
async fn expire_family() {
    expire_family_on(&Server::start()).await;
}

pub(crate) async fn expire_family_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.set("k", "v").await.unwrap();
        let ttl_none = (
            c.ttl("k").await.unwrap(),
            c.pttl("k").await.unwrap(),
            c.expiretime("k").await.unwrap(),
            c.pexpiretime("k").await.unwrap(),
            c.ttl("nope").await.unwrap(),
            c.pttl("nope").await.unwrap(),
            c.expiretime("nope").await.unwrap(),
            c.pexpiretime("nope").await.unwrap(),
        );
        let expire = (
            c.expire("k", 100).xx().await.unwrap(),
            c.expire("k", 100).nx().await.unwrap(),
            c.expire("k", 200).nx().await.unwrap(),
            c.expire("k", 50).gt().await.unwrap(),
            c.expire("k", 300).gt().await.unwrap(),
            c.expire("k", 400).lt().await.unwrap(),
            c.expire("k", 150).lt().await.unwrap(),
            c.expire("k", 160).xx().await.unwrap(),
            c.expire("k", 170)
                .condition(ExpireCondition::Gt)
                .await
                .unwrap(),
            c.expire("nope", 100).await.unwrap(),
        );
        let ttl = c.ttl("k").await.unwrap();
        let persist = (
            c.persist("k").await.unwrap(),
            c.persist("k").await.unwrap(),
            c.persist("nope").await.unwrap(),
            c.ttl("k").await.unwrap(),
        );
        let at = now_secs() + 1000;
        let expireat = (
            c.expireat("k", at).await.unwrap(),
            c.expiretime("k").await.unwrap() == at,
            c.expireat("k", at + 10).lt().await.unwrap(),
            c.expireat("k", at + 10).gt().await.unwrap(),
            c.expiretime("k").await.unwrap() == at + 10,
            c.expireat("k", at).nx().await.unwrap(),
            c.expireat("k", at)
                .condition(ExpireCondition::Xx)
                .await
                .unwrap(),
        );
        let pexpire = (
            c.pexpire("k", 5_000_000).await.unwrap(),
            c.pexpire("k", 6_000_000).lt().await.unwrap(),
            c.pexpire("k", 6_000_000).gt().await.unwrap(),
            c.pexpire("k", 7_000_000).nx().await.unwrap(),
            c.pexpire("k", 7_000_000).xx().await.unwrap(),
            c.pexpire("k", Duration::from_secs(7100)).await.unwrap(),
        );
        let pttl = c.pttl("k").await.unwrap();
        let at_ms = now_millis() + 9_000_000;
        let pexpireat = (
            c.pexpireat("k", at_ms).await.unwrap(),
            c.pexpiretime("k").await.unwrap() == at_ms,
            c.expiretime("k").await.unwrap() == at_ms / 1000
                || c.expiretime("k").await.unwrap() == at_ms / 1000 + 1,
            c.pexpireat("k", at_ms - 1).gt().await.unwrap(),
            c.pexpireat("k", at_ms - 1).lt().await.unwrap(),
            c.pexpireat("k", at_ms).nx().await.unwrap(),
            c.pexpireat("k", at_ms).xx().await.unwrap(),
            c.pexpireat("k", at_ms)
                .condition(ExpireCondition::Nx)
                .await
                .unwrap(),
        );
        // An expiry in the past deletes the key.
        let past = (
            c.pexpireat("k", 1).await.unwrap(),
            c.exists(["k"]).await.unwrap(),
        );
        c.set("k2", "v").await.unwrap();
        let neg = (
            c.expire("k2", -1).await.unwrap(),
            c.exists(["k2"]).await.unwrap(),
        );
        (
            ttl_none,
            expire,
            (160 < ttl && ttl <= 170),
            persist,
            expireat,
            pexpire,
            (7_000_000 < pttl && pttl <= 7_100_000),
            pexpireat,
            past,
            neg,
        )
    })
    .await;
    assert_eq!(got.0, (-1, -1, -1, -1, -2, -2, -2, -2));
    assert_eq!(
        got.1,
        (false, true, false, false, true, false, true, true, true, false)
    );
    assert!(got.2);
    assert_eq!(got.3, (true, false, false, -1));
    assert_eq!(got.4, (true, true, false, true, true, false, true));
    assert_eq!(got.5, (true, false, true, false, true, true));
    assert!(got.6);
    assert_eq!(got.7, (true, true, true, false, true, false, true, false));
    assert_eq!(got.8, (true, 0));
    assert_eq!(got.9, (true, 0));
}

#[tokio::test]
async fn dump_and_restore() {
    dump_and_restore_on(&Server::start()).await;
}

pub(crate) async fn dump_and_restore_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.set("k", "hello").await.unwrap();
        let dump = c.dump("k").await.unwrap().expect("DUMP of an existing key");
        let missing = c.dump("nope").await.unwrap();
        c.restore("copy", 0, dump.clone()).await.unwrap();
        let plain = (c.get("copy").await.unwrap(), c.ttl("copy").await.unwrap());
        let busy = c.restore("copy", 0, dump.clone()).await.is_err();
        c.set("copy", "other").await.unwrap();
        c.restore("copy", 100_000, dump.clone())
            .replace()
            .await
            .unwrap();
        let replaced = c.get("copy").await.unwrap();
        let pttl = c.pttl("copy").await.unwrap();
        let at_ms = now_millis() + 500_000;
        c.restore("abs", at_ms, dump.clone())
            .absttl()
            .await
            .unwrap();
        let abs = c.pexpiretime("abs").await.unwrap() == at_ms;
        c.restore("idle", 0, dump.clone())
            .idletime(1000)
            .await
            .unwrap();
        let idle = c.object_idletime("idle").await.unwrap();
        let bad_payload = c.restore("bad", 0, "garbage").await.is_err();
        (
            missing,
            plain,
            busy,
            replaced,
            (0 < pttl && pttl <= 100_000),
            abs,
            (1000..1100).contains(&idle),
            bad_payload,
        )
    })
    .await;
    assert_eq!(got.0, None);
    assert_eq!(got.1, (Some(b("hello")), -1));
    assert!(got.2);
    assert_eq!(got.3, Some(b("hello")));
    assert!(got.4 && got.5 && got.6 && got.7);
}

#[tokio::test]
async fn restore_freq_and_object_freq() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.config_set([("maxmemory-policy", "allkeys-lfu")])
            .await
            .unwrap();
        c.set("k", "v").await.unwrap();
        let dump = c.dump("k").await.unwrap().unwrap();
        c.restore("f", 0, dump).freq(100).await.unwrap();
        let freq = c.object_freq("f").await.unwrap();
        let idletime_refused = c.object_idletime("f").await.is_err();
        let missing = c.object_freq("nope").await.is_err();
        c.config_set([("maxmemory-policy", "noeviction")])
            .await
            .unwrap();
        let freq_refused = c.object_freq("f").await.is_err();
        (freq, idletime_refused, missing, freq_refused)
    })
    .await;
    // The counter decays, but not within the few milliseconds of the test.
    assert!((90..=100).contains(&got.0), "{}", got.0);
    assert!(got.1 && got.2 && got.3);
}

#[tokio::test]
async fn object_subcommands() {
    object_subcommands_on(&Server::start()).await;
}

pub(crate) async fn object_subcommands_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 2, 0), "listpack-encoded lists") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.set("int", 12345).await.unwrap();
        c.set("emb", "short").await.unwrap();
        // APPEND turns an embedded string into a raw one.
        c.set("raw", "x").await.unwrap();
        c.append("raw", "y".repeat(100)).await.unwrap();
        c.cmd("RPUSH")
            .arg("l")
            .arg("x")
            .decode::<i64>()
            .await
            .unwrap();
        let encodings = (
            c.object_encoding("int").await.unwrap(),
            c.object_encoding("emb").await.unwrap(),
            c.object_encoding("raw").await.unwrap(),
            c.object_encoding("l").await.unwrap(),
            c.object_encoding("nope").await.unwrap(),
        );
        let refcount = (
            c.object_refcount("emb").await.unwrap(),
            c.object_refcount("nope").await.is_err(),
        );
        let idle = c.object_idletime("emb").await.unwrap();
        let idle_missing = c.object_idletime("nope").await.is_err();
        let help = c.object_help().await.unwrap();
        let help_ok = help.len() > 5
            && help.iter().any(|l| l.starts_with(b"ENCODING"))
            && help.iter().any(|l| l.starts_with(b"FREQ"));
        (encodings, refcount, idle < 10, idle_missing, help_ok)
    })
    .await;
    assert_eq!(
        got.0,
        (
            Some(b("int")),
            Some(b("embstr")),
            Some(b("raw")),
            Some(b("listpack")),
            None,
        )
    );
    assert_eq!(got.1, (1, true));
    assert!(got.2 && got.3 && got.4);
}

#[tokio::test]
async fn scan_with_options() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        for i in 0..30 {
            c.set(format!("str:{i}"), i).await.unwrap();
        }
        c.cmd("RPUSH")
            .arg("list:1")
            .arg("x")
            .decode::<i64>()
            .await
            .unwrap();
        let mut all = Vec::new();
        let mut cursor = 0u64;
        let mut rounds = 0;
        loop {
            let (next, keys) = c.scan(cursor).count(5).await.unwrap();
            all.extend(keys);
            rounds += 1;
            cursor = std::str::from_utf8(&next).unwrap().parse().unwrap();
            if cursor == 0 {
                break;
            }
        }
        all.sort();
        all.dedup();
        let mut matched = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, keys) = c.scan(cursor).match_("str:1*").count(100).await.unwrap();
            matched.extend(keys);
            cursor = std::str::from_utf8(&next).unwrap().parse().unwrap();
            if cursor == 0 {
                break;
            }
        }
        matched.sort();
        let (next, lists) = c.scan(0).type_("list").count(1000).await.unwrap();
        let (next2, none) = c
            .scan(0)
            .match_("nomatch*")
            .type_("string")
            .count(1000)
            .await
            .unwrap();
        (all.len(), rounds > 1, matched, (next, lists), (next2, none))
    })
    .await;
    assert_eq!(got.0, 31);
    assert!(got.1);
    let expected: Vec<Bytes> = {
        let mut v: Vec<Bytes> = std::iter::once(1)
            .chain(10..20)
            .map(|i| Bytes::from(format!("str:{i}")))
            .collect();
        v.sort();
        v
    };
    assert_eq!(got.2, expected);
    assert_eq!(got.3, (b("0"), vec![b("list:1")]));
    assert_eq!(got.4, (b("0"), Vec::<Bytes>::new()));
}

#[tokio::test]
async fn sort_and_sort_ro() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.cmd("RPUSH")
            .arg("nums")
            .arg("3")
            .arg("1")
            .arg("2")
            .decode::<i64>()
            .await
            .unwrap();
        c.cmd("RPUSH")
            .arg("names")
            .arg("bob")
            .arg("alice")
            .arg("carol")
            .decode::<i64>()
            .await
            .unwrap();
        c.mset([
            ("w_bob", "2"),
            ("w_alice", "3"),
            ("w_carol", "1"),
            ("n_bob", "Bob"),
            ("n_alice", "Alice"),
        ])
        .await
        .unwrap();
        let plain = c.sort("nums").await.unwrap();
        let desc = c.sort("nums").desc().await.unwrap();
        let limit = c.sort("nums").limit(0, 2).await.unwrap();
        let alpha = c.sort("names").alpha().await.unwrap();
        let alpha_limit = c
            .sort("names")
            .limit(1, 2)
            .alpha()
            .order(SortOrder::Desc)
            .await
            .unwrap();
        let not_numbers = c.sort("names").await.is_err();
        let by = c.sort("names").by("w_*").await.unwrap();
        let get = c.sort("names").by("w_*").get(["#", "n_*"]).await.unwrap();
        let nosort = c.sort("names").by("nosort").asc().await.unwrap();
        let stored = c.sort("nums").desc().store("dst").await.unwrap();
        let dst = c.sort("dst").await.unwrap();
        let dst_type = c.type_("dst").await.unwrap();
        let ro = (
            c.sort_ro("nums").await.unwrap(),
            c.sort_ro("names").alpha().desc().limit(0, 2).await.unwrap(),
            c.sort_ro("names")
                .by("w_*")
                .get(["n_*"])
                .order(SortOrder::Asc)
                .await
                .unwrap(),
            c.sort_ro("nope").await.unwrap(),
        );
        (
            plain,
            desc,
            limit,
            alpha,
            alpha_limit,
            not_numbers,
            by,
            get,
            nosort,
            (stored, dst, dst_type, ro),
        )
    })
    .await;
    let s = |v: &[&str]| v.iter().map(|x| Some(b(x))).collect::<Vec<_>>();
    assert_eq!(got.0, s(&["1", "2", "3"]));
    assert_eq!(got.1, s(&["3", "2", "1"]));
    assert_eq!(got.2, s(&["1", "2"]));
    assert_eq!(got.3, s(&["alice", "bob", "carol"]));
    assert_eq!(got.4, s(&["bob", "alice"]));
    assert!(got.5);
    assert_eq!(got.6, s(&["carol", "bob", "alice"]));
    assert_eq!(
        got.7,
        vec![
            Some(b("carol")),
            None,
            Some(b("bob")),
            Some(b("Bob")),
            Some(b("alice")),
            Some(b("Alice")),
        ]
    );
    assert_eq!(got.8, s(&["bob", "alice", "carol"]));
    let (stored, dst, dst_type, ro) = got.9;
    assert_eq!(stored, 3);
    assert_eq!(dst, s(&["1", "2", "3"]));
    assert_eq!(dst_type, b("list"));
    assert_eq!(
        ro,
        (
            s(&["1", "2", "3"]),
            s(&["carol", "bob"]),
            vec![None, Some(b("Bob")), Some(b("Alice"))],
            vec![],
        )
    );
}

#[tokio::test]
async fn wait_and_waitaof() {
    let server = Server::start();
    if !protocols::since(&server, (7, 2, 0), "WAITAOF") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.set("k", "v").await.unwrap();
        let wait = c.wait(0, 100).await.unwrap();
        let wait_one = c.wait(1, 50).await.unwrap();
        // With appendonly off, only numlocal = 0 is allowed.
        let aof_off = c.waitaof(0, 0, 100).await.unwrap();
        let local_refused = c.waitaof(1, 0, 100).await.is_err();
        (wait, wait_one, aof_off, local_refused)
    })
    .await;
    assert_eq!(got, (0, 0, (0, 0), true));
}

#[tokio::test]
async fn waitaof_with_appendonly() {
    let server = Server::start();
    if !protocols::since(&server, (7, 2, 0), "WAITAOF") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.config_set([("appendonly", "yes")]).await.unwrap();
        // The rewrite that turns AOF on runs in the background; wait until it is done.
        for _ in 0..200 {
            let info = c
                .cmd("INFO")
                .arg("persistence")
                .decode::<String>()
                .await
                .unwrap();
            if info.contains("aof_enabled:1")
                && info.contains("aof_rewrite_in_progress:0")
                && info.contains("aof_rewrite_scheduled:0")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        c.set("k", "v").await.unwrap();
        c.waitaof(1, 0, 5000).await.unwrap()
    })
    .await;
    assert_eq!(got, (1, 0));
}

#[tokio::test]
async fn migrate_to_a_second_server() {
    let server = Server::start();
    let target = Server::start();
    let target_port = target.port();
    let target_url = target.url();
    let got = protocols::both(&server, |c| {
        let target_url = target_url.clone();
        async move {
            let t = on_db(&target_url, 0).await;
            t.cmd("FLUSHALL").decode::<()>().await.unwrap();
            c.mset([("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")])
                .await
                .unwrap();
            let single = c
                .migrate(
                    "127.0.0.1",
                    target_port,
                    MigrateKeySelector::Key(b("a")),
                    0,
                    5000,
                )
                .await
                .unwrap();
            let missing = c
                .migrate(
                    "127.0.0.1",
                    target_port,
                    MigrateKeySelector::Key(b("nope")),
                    0,
                    5000,
                )
                .await
                .unwrap();
            let multi = c
                .migrate(
                    "127.0.0.1",
                    target_port,
                    MigrateKeySelector::EmptyString,
                    0,
                    5000,
                )
                .copy()
                .keys(["b", "c"])
                .await
                .unwrap();
            t.set("d", "old").await.unwrap();
            let busy = c
                .migrate(
                    "127.0.0.1",
                    target_port,
                    MigrateKeySelector::Key(b("d")),
                    0,
                    5000,
                )
                .await
                .is_err();
            let replaced = c
                .migrate(
                    "127.0.0.1",
                    target_port,
                    MigrateKeySelector::Key(b("d")),
                    0,
                    5000,
                )
                .replace()
                .await
                .unwrap();
            // The target has no password: AUTH is refused there and the error comes back.
            let auth_refused = c
                .migrate(
                    "127.0.0.1",
                    target_port,
                    MigrateKeySelector::Key(b("b")),
                    0,
                    5000,
                )
                .auth("secret")
                .await
                .is_err();
            let auth2_refused = c
                .migrate(
                    "127.0.0.1",
                    target_port,
                    MigrateKeySelector::Key(b("b")),
                    0,
                    5000,
                )
                .auth2("user", "secret")
                .await
                .is_err();
            (
                (single, missing, multi, busy, replaced),
                (auth_refused, auth2_refused),
                c.mget(["a", "b", "c", "d"]).await.unwrap(),
                t.mget(["a", "b", "c", "d"]).await.unwrap(),
            )
        }
    })
    .await;
    assert_eq!(got.0, (b("OK"), b("NOKEY"), b("OK"), true, b("OK")));
    assert_eq!(got.1, (true, true));
    assert_eq!(got.2, vec![None, Some(b("2")), Some(b("3")), None]);
    assert_eq!(
        got.3,
        vec![Some(b("1")), Some(b("2")), Some(b("3")), Some(b("4"))]
    );
}
