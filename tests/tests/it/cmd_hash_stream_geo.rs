//! The hash (with field expiration), stream and geo command groups, each test run
//! under RESP2 and RESP3 (`protocols::both`) with typed results asserted.

use bytes::Bytes;
use respec::reply::{GeoMatch, StreamEntry};
use respec::types::{
    ExistenceCondition, Expiration, ExpireCondition, FieldsCondition, GeoUnit, GeosearchBy,
    GeosearchFrom, SetExpiration,
};
use respec::Commands;
use respec_tests::protocols::{self, Deployment};
use respec_tests::Server;
use std::collections::HashMap;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn id(s: &str) -> Bytes {
    b(s)
}

fn entry(id: &str, fields: &[(&str, &str)]) -> StreamEntry {
    StreamEntry {
        id: b(id),
        fields: fields.iter().map(|(f, v)| (b(f), b(v))).collect(),
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-3
}

// ---------------------------------------------------------------------------------
// Hash
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn hash_basic_commands() {
    hash_basic_commands_on(&Server::start()).await;
}

pub(crate) async fn hash_basic_commands_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let added = c.hset("h", [("a", "1"), ("b", "hello")]).await.unwrap();
        let re_added = c.hset("h", [("a", "2"), ("c", "x")]).await.unwrap();
        let nx_new = c.hsetnx("h", "d", "4").await.unwrap();
        let nx_old = c.hsetnx("h", "d", "5").await.unwrap();
        let get = c.hget("h", "a").await.unwrap();
        let get_missing = c.hget("h", "zz").await.unwrap();
        let get_no_key = c.hget("nokey", "a").await.unwrap();
        let exists = (
            c.hexists("h", "a").await.unwrap(),
            c.hexists("h", "zz").await.unwrap(),
        );
        let mget = c.hmget("h", ["a", "zz", "b"]).await.unwrap();
        let len = (c.hlen("h").await.unwrap(), c.hlen("nokey").await.unwrap());
        let strlen = (
            c.hstrlen("h", "b").await.unwrap(),
            c.hstrlen("h", "zz").await.unwrap(),
        );
        let incr = (
            c.hincrby("h", "a", 10).await.unwrap(),
            c.hincrby("h", "n", -3).await.unwrap(),
        );
        let incr_float = (
            c.hincrbyfloat("h", "f", 10.5).await.unwrap(),
            c.hincrbyfloat("h", "f", 0.1).await.unwrap(),
            c.hincrbyfloat("h", "f", -20).await.unwrap(),
        );
        c.hmset("h", [("m1", "v1"), ("m2", "v2")]).await.unwrap();
        let keys = sorted(c.hkeys("h").await.unwrap());
        let vals = sorted(c.hvals("h").await.unwrap());
        let all = c.hgetall("h").await.unwrap();
        let all_missing = c.hgetall("nokey").await.unwrap();
        let del = (
            c.hdel("h", ["m1", "m2", "zz"]).await.unwrap(),
            c.hdel("h", ["nothing"]).await.unwrap(),
        );
        let len_after = c.hlen("h").await.unwrap();
        (
            (added, re_added, nx_new, nx_old),
            (get, get_missing, get_no_key, exists),
            (mget, len, strlen, incr, incr_float),
            (keys, vals, all, all_missing, del, len_after),
        )
    })
    .await;
    let (first, second, third, fourth) = got;
    assert_eq!(first, (2, 1, true, false));
    assert_eq!(second, (Some(b("2")), None, None, (true, false)));
    let (mget, len, strlen, incr, incr_float) = third;
    assert_eq!(mget, vec![Some(b("2")), None, Some(b("hello"))]);
    assert_eq!(len, (4, 0));
    assert_eq!(strlen, (5, 0));
    assert_eq!(incr, (12, -3));
    assert!(close(incr_float.0, 10.5), "{incr_float:?}");
    assert!(close(incr_float.1, 10.6), "{incr_float:?}");
    assert!(close(incr_float.2, -9.4), "{incr_float:?}");
    let (keys, vals, all, all_missing, del, len_after) = fourth;
    assert_eq!(
        keys,
        ["a", "b", "c", "d", "f", "m1", "m2", "n"].map(b).to_vec()
    );
    assert_eq!(vals.len(), 8);
    assert!(vals.contains(&b("hello")) && vals.contains(&b("v2")));
    assert_eq!(all.len(), 8);
    assert_eq!(all.get(&b("a")), Some(&b("12")));
    assert_eq!(all.get(&b("m1")), Some(&b("v1")));
    assert_eq!(all_missing, HashMap::new());
    assert_eq!(del, (2, 0));
    assert_eq!(len_after, 6);
}

#[tokio::test]
async fn hash_hrandfield() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let missing = c.hrandfield("nokey").await.unwrap();
        c.hset("one", [("only", "v")]).await.unwrap();
        let single = c.hrandfield("one").await.unwrap();
        c.hset("h", [("a", "1"), ("b", "2"), ("c", "3")])
            .await
            .unwrap();
        let distinct = sorted(c.hrandfield("h").count(5).await.unwrap());
        let repeated = c.hrandfield("h").count(-7).await.unwrap();
        let repeated_ok = repeated.len() == 7
            && repeated
                .iter()
                .all(|f| [b("a"), b("b"), b("c")].contains(f));
        let with_values = sorted(c.hrandfield("h").count_withvalues(3).await.unwrap());
        let with_values_neg = c.hrandfield("one").count_withvalues(-2).await.unwrap();
        let missing_count = c.hrandfield("nokey").count(3).await.unwrap();
        (
            missing,
            single,
            distinct,
            repeated_ok,
            with_values,
            with_values_neg,
            missing_count,
        )
    })
    .await;
    assert_eq!(got.0, None);
    assert_eq!(got.1, Some(b("only")));
    assert_eq!(got.2, vec![b("a"), b("b"), b("c")]);
    assert!(got.3);
    assert_eq!(
        got.4,
        vec![(b("a"), b("1")), (b("b"), b("2")), (b("c"), b("3"))]
    );
    assert_eq!(got.5, vec![(b("only"), b("v")), (b("only"), b("v"))]);
    assert_eq!(got.6, Vec::<Bytes>::new());
}

#[tokio::test]
async fn hash_hscan() {
    let server = Server::start();
    if !protocols::since(&server, (8, 0, 0), "HSCAN NOVALUES") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.hset("h", [("f1", "v1"), ("f2", "v2"), ("g1", "w1")])
            .await
            .unwrap();
        let (cursor, pairs) = c.hscan("h", 0).count(100).await.unwrap();
        let (m_cursor, m_pairs) = c.hscan("h", 0).match_("f*").await.unwrap();
        let (n_cursor, names) = c.hscan("h", 0).novalues().await.unwrap();
        let (e_cursor, empty) = c.hscan("nokey", 0).await.unwrap();
        (
            (cursor, sorted(pairs)),
            (m_cursor, sorted(m_pairs)),
            (n_cursor, sorted(names)),
            (e_cursor, empty),
        )
    })
    .await;
    assert_eq!(
        got.0,
        (
            b("0"),
            vec![(b("f1"), b("v1")), (b("f2"), b("v2")), (b("g1"), b("w1"))]
        )
    );
    assert_eq!(
        got.1,
        (b("0"), vec![(b("f1"), b("v1")), (b("f2"), b("v2"))])
    );
    assert_eq!(got.2, (b("0"), vec![b("f1"), b("f2"), b("g1")]));
    assert_eq!(got.3, (b("0"), vec![]));
}

/// Far-future expiration times, so both protocol runs see the same values.
const AT_SECS: i64 = 4_000_000_000;
const AT_MILLIS: i64 = 4_000_000_000_123;

#[tokio::test]
async fn hash_field_expiration() {
    hash_field_expiration_on(&Server::start()).await;
}

pub(crate) async fn hash_field_expiration_on(server: &impl Deployment) {
    if !protocols::since(server, (9, 0, 0), "HEXPIRE") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.hset(
            "h",
            [("f1", "v1"), ("f2", "v2"), ("f3", "v3"), ("f4", "v4")],
        )
        .await
        .unwrap();
        let expire = c.hexpire("h", 100, ["f1", "nofield"]).await.unwrap();
        let expire_nx = c.hexpire("h", 200, ["f1", "f2"]).nx().await.unwrap();
        let expire_xx = c.hexpire("h", 300, ["f1", "f3"]).xx().await.unwrap();
        let expire_gt = c.hexpire("h", 10, ["f1"]).gt().await.unwrap();
        let expire_lt = c.hexpire("h", 50, ["f1"]).lt().await.unwrap();
        let ttl = c.httl("h", ["f1", "f3", "nofield"]).await.unwrap();
        let ttl_f1_ok = (45..=50).contains(&ttl[0]);
        let pexpire = c.hpexpire("h", 60_000, ["f3"]).await.unwrap();
        let pttl = c.hpttl("h", ["f3", "f4"]).await.unwrap();
        let pttl_ok = (59_000..=60_000).contains(&pttl[0]);
        let expireat = c.hexpireat("h", AT_SECS, ["f4"]).await.unwrap();
        let expiretime = c.hexpiretime("h", ["f4", "nofield"]).await.unwrap();
        let pexpireat = c.hpexpireat("h", AT_MILLIS, ["f2"]).await.unwrap();
        let pexpiretime = c.hpexpiretime("h", ["f2", "f4"]).await.unwrap();
        let expiretime_f2 = c.hexpiretime("h", ["f2"]).await.unwrap();
        let persist = c.hpersist("h", ["f1", "f1", "nofield"]).await.unwrap();
        let persist_again = c.hpersist("h", ["f1"]).await.unwrap();
        let ttl_after = c.httl("h", ["f1"]).await.unwrap();
        // An expiration time in the past deletes the field at once.
        let expire_past = c.hexpireat("h", 1, ["f3"]).await.unwrap();
        let pexpire_zero = c.hpexpire("h", 0, ["f4"]).await.unwrap();
        let left = sorted(c.hkeys("h").await.unwrap());
        (
            (expire, expire_nx, expire_xx, expire_gt, expire_lt),
            (ttl[1..].to_vec(), ttl_f1_ok, pexpire, pttl[1], pttl_ok),
            (expireat, expiretime, pexpireat, pexpiretime, expiretime_f2),
            (persist, persist_again, ttl_after),
            (expire_past, pexpire_zero, left),
        )
    })
    .await;
    assert_eq!(
        got.0,
        (vec![1, -2], vec![0, 1], vec![1, 0], vec![0], vec![1])
    );
    assert_eq!(got.1, (vec![-1, -2], true, vec![1], -1, true));
    assert_eq!(
        got.2,
        (
            vec![1],
            vec![AT_SECS, -2],
            vec![1],
            vec![AT_MILLIS, AT_SECS * 1000],
            vec![AT_MILLIS / 1000]
        )
    );
    assert_eq!(got.3, (vec![1, -1, -2], vec![-1], vec![-1]));
    assert_eq!(got.4, (vec![2], vec![2], vec![b("f1"), b("f2")]));
}

#[tokio::test]
async fn hash_field_expiration_on_missing_key() {
    let server = Server::start();
    if !protocols::since(&server, (9, 0, 0), "HTTL") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        (
            c.httl("nokey", ["a", "b"]).await.unwrap(),
            c.hpttl("nokey", ["a"]).await.unwrap(),
            c.hexpiretime("nokey", ["a"]).await.unwrap(),
            c.hpexpiretime("nokey", ["a"]).await.unwrap(),
            c.hpersist("nokey", ["a"]).await.unwrap(),
            c.hexpire("nokey", 10, ["a"]).await.unwrap(),
        )
    })
    .await;
    assert_eq!(
        got,
        (
            vec![-2, -2],
            vec![-2],
            vec![-2],
            vec![-2],
            vec![-2],
            vec![-2]
        )
    );
}

#[tokio::test]
async fn hash_hgetex() {
    hash_hgetex_on(&Server::start()).await;
}

pub(crate) async fn hash_hgetex_on(server: &impl Deployment) {
    if !protocols::since(server, (9, 0, 0), "HGETEX") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.hset("h", [("a", "1"), ("b", "2"), ("c", "3")])
            .await
            .unwrap();
        let plain = c.hgetex("h", ["a", "nofield"]).await.unwrap();
        let ex = c.hgetex("h", ["a", "b"]).ex(100).await.unwrap();
        let ttl = c.httl("h", ["a", "b", "c"]).await.unwrap();
        let ttl_ok = (99..=100).contains(&ttl[0]) && (99..=100).contains(&ttl[1]);
        let px = c.hgetex("h", ["c"]).px(50_000).await.unwrap();
        let px_ttl = c.httl("h", ["c"]).await.unwrap();
        let exat = c.hgetex("h", ["a"]).exat(AT_SECS).await.unwrap();
        let pxat = c.hgetex("h", ["b"]).pxat(AT_MILLIS).await.unwrap();
        let times = c.hpexpiretime("h", ["a", "b"]).await.unwrap();
        let persist = c.hgetex("h", ["a", "b"]).persist().await.unwrap();
        let after = c.httl("h", ["a", "b"]).await.unwrap();
        let missing = c.hgetex("nokey", ["a"]).await.unwrap();
        (
            (plain, ex, ttl[2], ttl_ok),
            (px, (49..=50).contains(&px_ttl[0])),
            (exat, pxat, times),
            (persist, after, missing),
        )
    })
    .await;
    assert_eq!(
        got.0,
        (
            vec![Some(b("1")), None],
            vec![Some(b("1")), Some(b("2"))],
            -1,
            true
        )
    );
    assert_eq!(got.1, (vec![Some(b("3"))], true));
    assert_eq!(
        got.2,
        (
            vec![Some(b("1"))],
            vec![Some(b("2"))],
            vec![AT_SECS * 1000, AT_MILLIS]
        )
    );
    assert_eq!(
        got.3,
        (vec![Some(b("1")), Some(b("2"))], vec![-1, -1], vec![None])
    );
}

#[tokio::test]
async fn hash_hsetex() {
    hash_hsetex_on(&Server::start()).await;
}

pub(crate) async fn hash_hsetex_on(server: &impl Deployment) {
    if !protocols::since(server, (9, 0, 0), "HSETEX") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        let plain = c.hsetex("h", [("a", "1"), ("b", "2")]).await.unwrap();
        let ex = c.hsetex("h", [("a", "10")]).ex(100).await.unwrap();
        let ttl = c.httl("h", ["a", "b"]).await.unwrap();
        let keepttl = c.hsetex("h", [("a", "11")]).keepttl().await.unwrap();
        let ttl_kept = c.httl("h", ["a"]).await.unwrap();
        let px = c.hsetex("h", [("c", "3")]).px(50_000).await.unwrap();
        let exat = c.hsetex("h", [("d", "4")]).exat(AT_SECS).await.unwrap();
        let pxat = c.hsetex("h", [("e", "5")]).pxat(AT_MILLIS).await.unwrap();
        let times = c.hpexpiretime("h", ["d", "e"]).await.unwrap();
        let fnx_fail = c.hsetex("h", [("a", "x"), ("z", "y")]).fnx().await.unwrap();
        let fnx_ok = c.hsetex("h", [("y", "x"), ("z", "y")]).fnx().await.unwrap();
        let fxx_fail = c.hsetex("h", [("a", "x"), ("q", "y")]).fxx().await.unwrap();
        let fxx_ok = c
            .hsetex("h", [("a", "12"), ("b", "22")])
            .fxx()
            .await
            .unwrap();
        let nx_fail = c.hsetex("h", [("a", "x")]).nx().await.unwrap();
        let nx_ok = c.hsetex("h2", [("a", "x")]).nx().await.unwrap();
        let xx_fail = c.hsetex("h3", [("a", "x")]).xx().await.unwrap();
        let xx_ok = c.hsetex("h2", [("a", "y")]).xx().await.unwrap();
        let vals = c.hmget("h", ["a", "b", "c", "z", "q"]).await.unwrap();
        let h2 = c.hget("h2", "a").await.unwrap();
        (
            (plain, ex, (99..=100).contains(&ttl[0]), ttl[1]),
            (keepttl, (99..=100).contains(&ttl_kept[0])),
            (px, exat, pxat, times),
            (fnx_fail, fnx_ok, fxx_fail, fxx_ok),
            (nx_fail, nx_ok, xx_fail, xx_ok),
            (vals, h2),
        )
    })
    .await;
    assert_eq!(got.0, (true, true, true, -1));
    assert_eq!(got.1, (true, true));
    assert_eq!(got.2, (true, true, true, vec![AT_SECS * 1000, AT_MILLIS]));
    assert_eq!(got.3, (false, true, false, true));
    assert_eq!(got.4, (false, true, false, true));
    assert_eq!(
        got.5,
        (
            vec![
                Some(b("12")),
                Some(b("22")),
                Some(b("3")),
                Some(b("y")),
                None
            ],
            Some(b("y"))
        )
    );
}

#[tokio::test]
async fn hash_hgetdel() {
    hash_hgetdel_on(&Server::start()).await;
}

pub(crate) async fn hash_hgetdel_on(server: &impl Deployment) {
    if !protocols::since(server, (9, 1, 0), "HGETDEL") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.hset("h", [("a", "1"), ("b", "2"), ("c", "3")])
            .await
            .unwrap();
        let first = c.hgetdel("h", ["a", "nofield"]).await.unwrap();
        let again = c.hgetdel("h", ["a"]).await.unwrap();
        let left = sorted(c.hkeys("h").await.unwrap());
        let rest = c.hgetdel("h", ["b", "c"]).await.unwrap();
        let exists = c.exists(["h"]).await.unwrap();
        let missing = c.hgetdel("nokey", ["a", "b"]).await.unwrap();
        (first, again, left, rest, exists, missing)
    })
    .await;
    assert_eq!(
        got,
        (
            vec![Some(b("1")), None],
            vec![None],
            vec![b("b"), b("c")],
            vec![Some(b("2")), Some(b("3"))],
            0,
            vec![None, None]
        )
    );
}

// ---------------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn stream_xadd_range_len_del() {
    stream_xadd_range_len_del_on(&Server::start()).await;
}

pub(crate) async fn stream_xadd_range_len_del_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let a1 = c.xadd("s", id("1-1"), [("f", "v1")]).await.unwrap();
        let a2 = c
            .xadd("s", id("2-1"), [("f", "v2"), ("g", "w2")])
            .await
            .unwrap();
        let a3 = c.xadd("s", id("3-*"), [("f", "v3")]).await.unwrap();
        let nomk = c
            .xadd("nostream", id("1-1"), [("f", "v")])
            .nomkstream()
            .await
            .unwrap();
        let nomk_existing = c
            .xadd("s", id("4-1"), [("f", "v4")])
            .nomkstream()
            .await
            .unwrap();
        let len = (
            c.xlen("s").await.unwrap(),
            c.xlen("nostream").await.unwrap(),
        );
        let all = c.xrange("s", "-", "+").await.unwrap();
        let counted = c.xrange("s", "2", "+").count(2).await.unwrap();
        let rev = c.xrevrange("s", "+", "-").count(2).await.unwrap();
        let rev_bounded = c.xrevrange("s", "2-1", "(1-1").await.unwrap();
        let empty = c.xrange("nostream", "-", "+").await.unwrap();
        let del = c.xdel("s", ["2-1", "9-9"]).await.unwrap();
        let after_del = c.xrange("s", "-", "+").await.unwrap();
        (
            (a1, a2, a3, nomk, nomk_existing, len),
            (all, counted, rev, rev_bounded, empty),
            (del, after_del),
        )
    })
    .await;
    assert_eq!(
        got.0,
        (
            Some(b("1-1")),
            Some(b("2-1")),
            Some(b("3-0")),
            None,
            Some(b("4-1")),
            (4, 0)
        )
    );
    let e1 = entry("1-1", &[("f", "v1")]);
    let e2 = entry("2-1", &[("f", "v2"), ("g", "w2")]);
    let e3 = entry("3-0", &[("f", "v3")]);
    let e4 = entry("4-1", &[("f", "v4")]);
    assert_eq!(
        got.1,
        (
            vec![e1.clone(), e2.clone(), e3.clone(), e4.clone()],
            vec![e2.clone(), e3.clone()],
            vec![e4.clone(), e3.clone()],
            vec![e2],
            vec![]
        )
    );
    assert_eq!(got.2, (1, vec![e1, e3, e4]));
}

#[tokio::test]
async fn stream_auto_id_and_xsetid() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.xadd("s", id("1-1"), [("f", "v")]).await.unwrap();
        // Move the last ID far into the future so `*` is deterministic.
        c.xsetid("s", "99999999999999-5").await.unwrap();
        let auto = c.xadd("s", "*", [("f", "auto")]).await.unwrap();
        let too_small = c.xsetid("s", "1-0").await.is_err();
        c.xsetid("s", "99999999999999-9")
            .entriesadded(10)
            .maxdeletedid("5-0")
            .await
            .unwrap();
        let info = c.xinfo_stream("s").await.unwrap();
        (
            auto,
            too_small,
            info.length,
            info.entries_added,
            info.last_generated_id,
            info.max_deleted_entry_id,
        )
    })
    .await;
    assert_eq!(
        got,
        (
            Some(b("99999999999999-6")),
            true,
            Some(2),
            Some(10),
            Some(b("99999999999999-9")),
            Some(b("5-0"))
        )
    );
}

#[tokio::test]
async fn stream_trimming() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        for i in 1..=5 {
            c.xadd("s", id(&format!("{i}-0")), [("n", i)])
                .await
                .unwrap();
        }
        let maxlen = c
            .xadd("s", id("6-0"), [("n", "6")])
            .maxlen(4)
            .await
            .unwrap();
        let after_maxlen = c.xlen("s").await.unwrap();
        let minid = c
            .xadd("s", id("7-0"), [("n", "7")])
            .minid("5-0")
            .equal()
            .await
            .unwrap();
        let first = c.xrange("s", "-", "+").count(1).await.unwrap();
        // Approximate trimming with LIMIT leaves a small stream alone.
        let approx = c
            .xadd("s", id("8-0"), [("n", "8")])
            .maxlen(1)
            .approx()
            .limit(10)
            .await
            .unwrap();
        let after_approx = c.xlen("s").await.unwrap();
        let xtrim_maxlen = c.xtrim("s").maxlen(2).equal().await.unwrap();
        let xtrim_minid = c.xtrim("s").minid("8-0").await.unwrap();
        let xtrim_approx = c.xtrim("s").maxlen(0).approx().limit(100).await.unwrap();
        let left = c.xrange("s", "-", "+").await.unwrap();
        (
            (maxlen, after_maxlen, minid, first, approx, after_approx),
            (xtrim_maxlen, xtrim_minid, xtrim_approx, left),
        )
    })
    .await;
    assert_eq!(
        got.0,
        (
            Some(b("6-0")),
            4,
            Some(b("7-0")),
            vec![entry("5-0", &[("n", "5")])],
            Some(b("8-0")),
            4
        )
    );
    assert_eq!(got.1, (2, 1, 1, vec![]));
}

#[tokio::test]
async fn stream_xread() {
    stream_xread_on(&Server::start()).await;
}

pub(crate) async fn stream_xread_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.xadd("{t}s1", id("1-1"), [("a", "1")]).await.unwrap();
        c.xadd("{t}s1", id("2-1"), [("a", "2")]).await.unwrap();
        c.xadd("{t}s2", id("5-1"), [("b", "5")]).await.unwrap();
        let all = c.xread(["{t}s1", "{t}s2"], ["0", "0"]).await.unwrap();
        let counted = c
            .xread(["{t}s1", "{t}s2"], ["0", "0"])
            .count(1)
            .await
            .unwrap();
        let after = c.xread(["{t}s1"], ["1-1"]).await.unwrap();
        let nothing = c.xread(["{t}s1"], ["2-1"]).await.unwrap();
        let missing = c.xread(["{t}nostream"], ["0"]).await.unwrap();
        let blocked = c.xread(["{t}s1"], ["$"]).block(50).count(1).await.unwrap();
        let blocked_missing = c.xread(["{t}nostream"], ["$"]).block(20).await.unwrap();
        (
            all,
            counted,
            after,
            nothing,
            missing,
            blocked,
            blocked_missing,
        )
    })
    .await;
    let e11 = entry("1-1", &[("a", "1")]);
    let e21 = entry("2-1", &[("a", "2")]);
    let e51 = entry("5-1", &[("b", "5")]);
    assert_eq!(
        got.0,
        Some(vec![
            (b("{t}s1"), vec![e11.clone(), e21.clone()]),
            (b("{t}s2"), vec![e51.clone()])
        ])
    );
    assert_eq!(
        got.1,
        Some(vec![(b("{t}s1"), vec![e11]), (b("{t}s2"), vec![e51])])
    );
    assert_eq!(got.2, Some(vec![(b("{t}s1"), vec![e21])]));
    assert_eq!(got.3, None);
    assert_eq!(got.4, None);
    assert_eq!(got.5, None);
    assert_eq!(got.6, None);
}

#[tokio::test]
async fn stream_consumer_groups() {
    stream_consumer_groups_on(&Server::start()).await;
}

pub(crate) async fn stream_consumer_groups_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        for (i, v) in [(1, "a"), (2, "b"), (3, "c"), (4, "d")] {
            c.xadd("s", id(&format!("{i}-1")), [("v", v)])
                .await
                .unwrap();
        }
        c.xgroup_create("s", "g", "0").await.unwrap();
        let dup_group = c.xgroup_create("s", "g", "$").await.is_err();
        c.xgroup_create("new", "g2", "$")
            .mkstream()
            .entriesread(0)
            .await
            .unwrap();
        let new_len = c.xlen("new").await.unwrap();
        let created = c.xgroup_createconsumer("s", "g", "c1").await.unwrap();
        let created_again = c.xgroup_createconsumer("s", "g", "c1").await.unwrap();

        let read = c
            .xreadgroup("g", "c1", ["s"], [">"])
            .count(2)
            .await
            .unwrap();
        let history = c.xreadgroup("g", "c1", ["s"], ["0"]).await.unwrap();
        let summary = c.xpending("s", "g").await.unwrap();
        let extended: Vec<_> = c
            .xpending("s", "g")
            .filters(None, "-", "+", 10, None)
            .await
            .unwrap()
            .into_iter()
            .map(|(id, consumer, _idle, delivered)| (id, consumer, delivered))
            .collect();
        let extended_filtered = c
            .xpending("s", "g")
            .filters(Some(0), "-", "+", 10, Some(b("nobody")))
            .await
            .unwrap();
        let acked = c.xack("s", "g", ["1-1", "9-9"]).await.unwrap();

        let claimed = c
            .xclaim("s", "g", "c2", 0, ["2-1"])
            .retrycount(5)
            .lastid("2-1")
            .await
            .unwrap();
        let claimed_ids = c
            .xclaim("s", "g", "c1", 0, ["2-1"])
            .idle(0)
            .justid()
            .await
            .unwrap();
        let forced = c
            .xclaim("s", "g", "c3", 0, ["3-1"])
            .time(1)
            .force()
            .justid()
            .await
            .unwrap();
        let pending_c1: Vec<_> = c
            .xpending("s", "g")
            .filters(None, "-", "+", 10, Some(b("c1")))
            .await
            .unwrap()
            .into_iter()
            .map(|(id, consumer, _idle, delivered)| (id, consumer, delivered))
            .collect();

        let autoclaimed = c
            .xautoclaim("s", "g", "c4", 0, "0-0")
            .count(1)
            .await
            .unwrap();
        let autoclaimed_ids = c
            .xautoclaim("s", "g", "c4", 0, autoclaimed.0.clone())
            .justid()
            .await
            .unwrap();
        // A pending entry deleted from the stream is reported in the third element.
        c.xdel("s", ["2-1"]).await.unwrap();
        let autoclaim_deleted = c
            .xautoclaim("s", "g", "c1", 0, "0-0")
            .count(10)
            .justid()
            .await
            .unwrap();

        let noack = c.xreadgroup("g", "c5", ["s"], [">"]).noack().await.unwrap();
        let empty = c
            .xreadgroup("g", "c5", ["s"], [">"])
            .block(20)
            .await
            .unwrap();
        let summary_after = c.xpending("s", "g").await.unwrap();
        let empty_summary = c.xpending("new", "g2").await.unwrap();

        (
            (dup_group, new_len, created, created_again),
            (read, history, summary, extended, extended_filtered, acked),
            (claimed, claimed_ids, forced, pending_c1),
            (autoclaimed, autoclaimed_ids, autoclaim_deleted),
            (noack, empty, summary_after, empty_summary),
        )
    })
    .await;
    let e1 = entry("1-1", &[("v", "a")]);
    let e2 = entry("2-1", &[("v", "b")]);
    let e3 = entry("3-1", &[("v", "c")]);
    let e4 = entry("4-1", &[("v", "d")]);
    assert_eq!(got.0, (true, 0, true, false));
    let (read, history, summary, extended, extended_filtered, acked) = got.1;
    assert_eq!(read, Some(vec![(b("s"), vec![e1.clone(), e2.clone()])]));
    assert_eq!(history, Some(vec![(b("s"), vec![e1, e2.clone()])]));
    assert_eq!(
        summary,
        (2, Some(b("1-1")), Some(b("2-1")), Some(vec![(b("c1"), 2)]))
    );
    assert_eq!(
        extended,
        vec![(b("1-1"), b("c1"), 2), (b("2-1"), b("c1"), 2)]
    );
    assert_eq!(extended_filtered, vec![]);
    assert_eq!(acked, 1);
    let (claimed, claimed_ids, forced, pending_c1) = got.2;
    assert_eq!(claimed, vec![e2]);
    assert_eq!(claimed_ids, vec![b("2-1")]);
    assert_eq!(forced, vec![b("3-1")]);
    assert_eq!(pending_c1, vec![(b("2-1"), b("c1"), 5)]);
    let (autoclaimed, autoclaimed_ids, autoclaim_deleted) = got.3;
    assert_eq!(
        autoclaimed,
        (b("3-1"), vec![entry("2-1", &[("v", "b")])], vec![])
    );
    assert_eq!(autoclaimed_ids, (b("0-0"), vec![b("3-1")], vec![]));
    assert_eq!(
        autoclaim_deleted,
        (b("0-0"), vec![b("3-1")], vec![b("2-1")])
    );
    let (noack, empty, summary_after, empty_summary) = got.4;
    // FORCE put 3-1 in the PEL without delivering it, so `>` still returns it.
    assert_eq!(noack, Some(vec![(b("s"), vec![e3, e4])]));
    assert_eq!(empty, None);
    assert_eq!(
        summary_after,
        (1, Some(b("3-1")), Some(b("3-1")), Some(vec![(b("c1"), 1)]))
    );
    assert_eq!(empty_summary, (0, None, None, None));
}

#[tokio::test]
async fn stream_group_management_and_info() {
    stream_group_management_and_info_on(&Server::start()).await;
}

pub(crate) async fn stream_group_management_and_info_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 2, 0), "XINFO CONSUMERS active-time") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        for i in 1..=3 {
            c.xadd("s", id(&format!("{i}-1")), [("n", i)])
                .await
                .unwrap();
        }
        c.xgroup_create("s", "g", "0").await.unwrap();
        c.xgroup_create("s", "other", "$").await.unwrap();
        c.xreadgroup("g", "alice", ["s"], [">"])
            .count(2)
            .await
            .unwrap();
        c.xgroup_createconsumer("s", "g", "bob").await.unwrap();

        let groups: Vec<_> = c
            .xinfo_groups("s")
            .await
            .unwrap()
            .into_iter()
            .map(|g| {
                (
                    g.name,
                    g.consumers,
                    g.pending,
                    g.last_delivered_id,
                    g.entries_read,
                    g.lag,
                )
            })
            .collect();
        let consumers: Vec<_> = c
            .xinfo_consumers("s", "g")
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.name,
                    c.pending,
                    c.idle.is_some(),
                    c.inactive.map(|i| i >= 0),
                )
            })
            .collect();
        let stream = c.xinfo_stream("s").await.unwrap();
        let stream = (
            stream.length,
            stream.groups,
            stream.last_generated_id,
            stream.first_entry,
            stream.last_entry,
            stream.entries_added,
            stream.recorded_first_entry_id,
            stream.radix_tree_keys.is_some(),
        );
        let full = c.xinfo_stream("s").full(None).await.unwrap();
        let full_groups: Vec<_> = full
            .groups
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|g| {
                let consumers: Vec<_> = g
                    .consumers
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| {
                        let pending: Vec<_> = c
                            .pending
                            .unwrap_or_default()
                            .into_iter()
                            .map(|p| p.0)
                            .collect();
                        (c.name, c.pel_count, pending)
                    })
                    .collect();
                let pending: Vec<_> = g
                    .pending
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| (p.0, p.1, p.3))
                    .collect();
                (g.name, g.pel_count, g.last_delivered_id, pending, consumers)
            })
            .collect();
        let full = (
            full.length,
            full.entries,
            full.last_generated_id,
            full_groups,
        );
        let full_count = c.xinfo_stream("s").full(Some(1)).await.unwrap().entries;

        c.xgroup_setid("s", "g", "1-1").await.unwrap();
        c.xgroup_setid("s", "other", "$")
            .entriesread(3)
            .await
            .unwrap();
        let after_setid: Vec<_> = c
            .xinfo_groups("s")
            .await
            .unwrap()
            .into_iter()
            .map(|g| (g.name, g.last_delivered_id, g.entries_read))
            .collect();
        let delconsumer = c.xgroup_delconsumer("s", "g", "alice").await.unwrap();
        let delconsumer_missing = c.xgroup_delconsumer("s", "g", "nobody").await.unwrap();
        let destroyed = c.xgroup_destroy("s", "other").await.unwrap();
        let destroyed_again = c.xgroup_destroy("s", "other").await.unwrap();
        let groups_left = c.xinfo_groups("s").await.unwrap().len();
        let group_help = !c.xgroup_help().await.unwrap().is_empty();
        let info_help = !c.xinfo_help().await.unwrap().is_empty();
        (
            (groups, consumers, stream),
            full,
            full_count,
            after_setid,
            (delconsumer, delconsumer_missing, destroyed, destroyed_again),
            (groups_left, group_help, info_help),
        )
    })
    .await;
    let (groups, consumers, stream) = got.0;
    assert_eq!(
        groups,
        vec![
            (
                Some(b("g")),
                Some(2),
                Some(2),
                Some(b("2-1")),
                Some(2),
                Some(1)
            ),
            (
                Some(b("other")),
                Some(0),
                Some(0),
                Some(b("3-1")),
                None,
                Some(0)
            ),
        ]
    );
    assert_eq!(
        consumers,
        vec![
            (Some(b("alice")), Some(2), true, Some(true)),
            (Some(b("bob")), Some(0), true, Some(false)),
        ]
    );
    assert_eq!(
        stream,
        (
            Some(3),
            Some(2),
            Some(b("3-1")),
            Some((b("1-1"), vec![b("n"), b("1")])),
            Some((b("3-1"), vec![b("n"), b("3")])),
            Some(3),
            Some(b("1-1")),
            true
        )
    );
    let (length, entries, last_id, full_groups) = got.1;
    assert_eq!(length, Some(3));
    assert_eq!(
        entries,
        Some(vec![
            (b("1-1"), vec![b("n"), b("1")]),
            (b("2-1"), vec![b("n"), b("2")]),
            (b("3-1"), vec![b("n"), b("3")]),
        ])
    );
    assert_eq!(last_id, Some(b("3-1")));
    assert_eq!(
        full_groups,
        vec![
            (
                Some(b("g")),
                Some(2),
                Some(b("2-1")),
                vec![(b("1-1"), b("alice"), 1), (b("2-1"), b("alice"), 1)],
                vec![
                    (Some(b("alice")), Some(2), vec![b("1-1"), b("2-1")]),
                    (Some(b("bob")), Some(0), vec![]),
                ]
            ),
            (Some(b("other")), Some(0), Some(b("3-1")), vec![], vec![]),
        ]
    );
    assert_eq!(got.2, Some(vec![(b("1-1"), vec![b("n"), b("1")])]));
    assert_eq!(
        got.3,
        vec![
            (Some(b("g")), Some(b("1-1")), None),
            (Some(b("other")), Some(b("3-1")), Some(3)),
        ]
    );
    assert_eq!(got.4, (2, 0, true, false));
    assert_eq!(got.5, (1, true, true));
}

// ---------------------------------------------------------------------------------
// Geo
// ---------------------------------------------------------------------------------

const PALERMO: (f64, f64) = (13.361389, 38.115556);
const CATANIA: (f64, f64) = (15.087269, 37.502669);
const PALERMO_HASH: i64 = 3479099956230698;
const CATANIA_HASH: i64 = 3479447370796909;

async fn add_sicily(c: &respec::Client) {
    let added = c
        .geoadd(
            "{t}sicily",
            [
                (PALERMO.0, PALERMO.1, "Palermo"),
                (CATANIA.0, CATANIA.1, "Catania"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(added, 2);
}

fn close_coord(got: Option<(f64, f64)>, want: (f64, f64)) -> bool {
    got.is_some_and(|(lon, lat)| close(lon, want.0) && close(lat, want.1))
}

/// `(member, dist rounded to metres or 0.1 units, hash, coord present)`
fn summarize(matches: Vec<GeoMatch>) -> Vec<(Bytes, Option<i64>, Option<i64>, bool)> {
    matches
        .into_iter()
        .map(|m| {
            (
                m.member,
                m.dist.map(|d| (d * 10.0).round() as i64),
                m.hash,
                m.coord.is_some(),
            )
        })
        .collect()
}

#[tokio::test]
async fn geo_add_dist_hash_pos() {
    geo_add_dist_hash_pos_on(&Server::start()).await;
}

pub(crate) async fn geo_add_dist_hash_pos_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        add_sicily(&c).await;
        let again = c
            .geoadd("{t}sicily", [(PALERMO.0, PALERMO.1, "Palermo")])
            .await
            .unwrap();
        let nx = c
            .geoadd(
                "{t}sicily",
                [(1.0, 1.0, "Palermo"), (2.0, 2.0, "Null Island")],
            )
            .nx()
            .await
            .unwrap();
        let xx_ch = c
            .geoadd(
                "{t}sicily",
                [(3.0, 3.0, "Null Island"), (4.0, 4.0, "Nowhere")],
            )
            .xx()
            .ch()
            .await
            .unwrap();
        let ch = c
            .geoadd(
                "{t}sicily",
                [(5.0, 5.0, "Null Island"), (6.0, 6.0, "Elsewhere")],
            )
            .ch()
            .await
            .unwrap();
        let card = c.zcard("{t}sicily").await.unwrap();
        let dist_m = c.geodist("{t}sicily", "Palermo", "Catania").await.unwrap();
        let dist_km = c
            .geodist("{t}sicily", "Palermo", "Catania")
            .km()
            .await
            .unwrap();
        let dist_mi = c
            .geodist("{t}sicily", "Palermo", "Catania")
            .unit(GeoUnit::Mi)
            .await
            .unwrap();
        let dist_ft = c
            .geodist("{t}sicily", "Palermo", "Catania")
            .ft()
            .await
            .unwrap();
        let dist_m2 = c
            .geodist("{t}sicily", "Palermo", "Catania")
            .m()
            .await
            .unwrap();
        let dist_missing = c.geodist("{t}sicily", "Palermo", "Atlantis").await.unwrap();
        let hash = c
            .geohash("{t}sicily")
            .member(["Palermo", "Catania"])
            .await
            .unwrap();
        let hash_none = c.geohash("{t}sicily").await.unwrap();
        let pos = c
            .geopos("{t}sicily")
            .member(["Palermo", "Atlantis", "Catania"])
            .await
            .unwrap();
        let pos_none = c.geopos("{t}sicily").await.unwrap();
        (
            (again, nx, xx_ch, ch, card),
            (dist_m, dist_km, dist_mi, dist_ft, dist_m2, dist_missing),
            (hash, hash_none),
            (pos, pos_none),
        )
    })
    .await;
    assert_eq!(got.0, (0, 1, 1, 2, 4));
    let (m, km, mi, ft, m2, missing) = got.1;
    assert!(close(m.unwrap(), 166274.1516), "{m:?}");
    assert!(close(km.unwrap(), 166.2742), "{km:?}");
    assert!(close(mi.unwrap(), 103.3182), "{mi:?}");
    assert!(close(ft.unwrap(), 545518.8700), "{ft:?}");
    assert_eq!(m, m2);
    assert_eq!(missing, None);
    assert_eq!(
        got.2,
        (vec![Some(b("sqc8b49rny0")), Some(b("sqdtr74hyu0"))], vec![])
    );
    let (pos, pos_none) = got.3;
    assert_eq!(pos.len(), 3);
    assert!(close_coord(pos[0], PALERMO), "{pos:?}");
    assert_eq!(pos[1], None);
    assert!(close_coord(pos[2], CATANIA), "{pos:?}");
    assert_eq!(pos_none, vec![]);
}

#[tokio::test]
async fn geo_geohash_missing_member() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        add_sicily(&c).await;
        // A member that does not exist is null (GEOHASH's override in spec/overrides.toml).
        c.geohash("{t}sicily")
            .member(["Palermo", "Atlantis"])
            .await
            .unwrap()
    })
    .await;
    assert_eq!(got, vec![Some(b("sqc8b49rny0")), None]);
}

#[tokio::test]
async fn geo_geosearch() {
    geo_geosearch_on(&Server::start()).await;
}

pub(crate) async fn geo_geosearch_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        add_sicily(&c).await;
        let by_radius = GeosearchBy::Byradius {
            radius: 200.0,
            unit: GeoUnit::Km,
        };
        let from_member = c
            .geosearch("{t}sicily", by_radius.clone())
            .frommember("Palermo")
            .asc()
            .await
            .unwrap();
        let from_lonlat = c
            .geosearch("{t}sicily", by_radius.clone())
            .fromlonlat(15, 37)
            .desc()
            .await
            .unwrap();
        let counted = c
            .geosearch("{t}sicily", by_radius.clone())
            .fromlonlat(15, 37)
            .asc()
            .count(1, false)
            .await
            .unwrap();
        let counted_any = c
            .geosearch("{t}sicily", by_radius.clone())
            .fromlonlat(15, 37)
            .count(5, true)
            .await
            .unwrap();
        let with_all = c
            .geosearch("{t}sicily", by_radius.clone())
            .fromlonlat(15, 37)
            .asc()
            .withcoord()
            .withdist()
            .withhash()
            .await
            .unwrap();
        let coords: Vec<_> = with_all.iter().map(|m| m.coord).collect();
        let with_dist = c
            .geosearch("{t}sicily", by_radius.clone())
            .fromlonlat(15, 37)
            .asc()
            .withdist()
            .await
            .unwrap();
        let with_hash = c
            .geosearch("{t}sicily", by_radius.clone())
            .frommember("Catania")
            .order(respec::types::SortOrder::Asc)
            .withhash()
            .await
            .unwrap();
        let with_coord = c
            .geosearch(
                "{t}sicily",
                GeosearchBy::Bybox {
                    width: 400.0,
                    height: 400.0,
                    unit: GeoUnit::Km,
                },
            )
            .fromlonlat(14, 38)
            .asc()
            .withcoord()
            .await
            .unwrap();
        let box_small = c
            .geosearch(
                "{t}sicily",
                GeosearchBy::Bybox {
                    width: 50.0,
                    height: 50.0,
                    unit: GeoUnit::Km,
                },
            )
            .frommember("Palermo")
            .await
            .unwrap();
        let missing_key = c
            .geosearch("nokey", by_radius.clone())
            .fromlonlat(15, 37)
            .await
            .unwrap();
        (
            (from_member, from_lonlat, counted, sorted(counted_any)),
            (summarize(with_all), coords),
            (summarize(with_dist), summarize(with_hash)),
            (summarize(with_coord.clone()), with_coord[0].coord),
            (box_small, missing_key),
        )
    })
    .await;
    assert_eq!(
        got.0,
        (
            vec![b("Palermo"), b("Catania")],
            vec![b("Palermo"), b("Catania")],
            vec![b("Catania")],
            vec![b("Catania"), b("Palermo")]
        )
    );
    let (with_all, coords) = got.1;
    assert_eq!(
        with_all,
        vec![
            (b("Catania"), Some(564), Some(CATANIA_HASH), true),
            (b("Palermo"), Some(1904), Some(PALERMO_HASH), true),
        ]
    );
    assert!(close_coord(coords[0], CATANIA), "{coords:?}");
    assert!(close_coord(coords[1], PALERMO), "{coords:?}");
    assert_eq!(
        got.2,
        (
            vec![
                (b("Catania"), Some(564), None, false),
                (b("Palermo"), Some(1904), None, false),
            ],
            vec![
                (b("Catania"), None, Some(CATANIA_HASH), false),
                (b("Palermo"), None, Some(PALERMO_HASH), false),
            ]
        )
    );
    let (with_coord, first_coord) = got.3;
    assert_eq!(
        with_coord,
        vec![
            (b("Palermo"), None, None, true),
            (b("Catania"), None, None, true),
        ]
    );
    assert!(close_coord(first_coord, PALERMO));
    assert_eq!(got.4, (vec![b("Palermo")], vec![]));
}

#[tokio::test]
async fn geo_geosearch_bypolygon() {
    let server = Server::start();
    if !protocols::since(&server, (9, 0, 0), "GEOSEARCH BYPOLYGON") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        add_sicily(&c).await;
        // A triangle around Catania only.
        let polygon = GeosearchBy::Bypolygon {
            vertices: vec![(14.5, 37.0), (15.5, 37.0), (15.0, 38.0)],
        };
        let members = c.geosearch("{t}sicily", polygon.clone()).await.unwrap();
        let stored = c
            .geosearchstore("dest", "{t}sicily", polygon)
            .await
            .unwrap();
        (members, stored)
    })
    .await;
    assert_eq!(got, (vec![b("Catania")], 1));
}

#[tokio::test]
async fn geo_geosearchstore() {
    geo_geosearchstore_on(&Server::start()).await;
}

pub(crate) async fn geo_geosearchstore_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        add_sicily(&c).await;
        let by_radius = GeosearchBy::Byradius {
            radius: 200.0,
            unit: GeoUnit::Km,
        };
        let stored = c
            .geosearchstore("{t}dest", "{t}sicily", by_radius.clone())
            .fromlonlat(15, 37)
            .asc()
            .count(1, false)
            .await
            .unwrap();
        let dest = c.zrange("{t}dest", 0, -1).await.unwrap();
        let pos = c.geopos("{t}dest").member(["Catania"]).await.unwrap();
        let stored_dist = c
            .geosearchstore("{t}distdest", "{t}sicily", by_radius.clone())
            .frommember("Palermo")
            .storedist()
            .await
            .unwrap();
        let dist_palermo = c.zscore("{t}distdest", "Palermo").await.unwrap();
        let dist_catania = c.zscore("{t}distdest", "Catania").await.unwrap();
        let stored_box = c
            .geosearchstore(
                "{t}boxdest",
                "{t}sicily",
                GeosearchBy::Bybox {
                    width: 10.0,
                    height: 10.0,
                    unit: GeoUnit::Km,
                },
            )
            .frommember("Palermo")
            .desc()
            .await
            .unwrap();
        let stored_none = c
            .geosearchstore("{t}nodest", "{t}sicily", by_radius)
            .fromlonlat(0, 0)
            .await
            .unwrap();
        let nodest = c.exists(["{t}nodest"]).await.unwrap();
        (
            (stored, dest, close_coord(pos[0], CATANIA)),
            (stored_dist, dist_palermo, dist_catania.map(|d| d.round())),
            (stored_box, stored_none, nodest),
        )
    })
    .await;
    assert_eq!(got.0, (1, vec![b("Catania")], true));
    assert_eq!(got.1, (2, Some(0.0), Some(166.0)));
    assert_eq!(got.2, (1, 0, 0));
}

#[tokio::test]
#[allow(deprecated)]
async fn geo_georadius_family() {
    geo_georadius_family_on(&Server::start()).await;
}

pub(crate) async fn geo_georadius_family_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        add_sicily(&c).await;
        let radius = c
            .georadius("{t}sicily", 15, 37, 200, GeoUnit::Km)
            .asc()
            .await
            .unwrap();
        let radius_all = c
            .georadius("{t}sicily", 15, 37, 200, GeoUnit::Km)
            .withdist()
            .withcoord()
            .withhash()
            .count(1, false)
            .order(respec::types::SortOrder::Desc)
            .await
            .unwrap();
        let radius_ro = c
            .georadius_ro("{t}sicily", 15, 37, 100, GeoUnit::Km)
            .await
            .unwrap();
        let radius_ro_dist = c
            .georadius_ro("{t}sicily", 15, 37, 200, GeoUnit::Km)
            .desc()
            .withdist()
            .await
            .unwrap();
        let stored = c
            .georadius("{t}sicily", 15, 37, 200, GeoUnit::Km)
            .store_store("{t}store")
            .await
            .unwrap();
        let store_card = c.zcard("{t}store").await.unwrap();
        let stored_dist = c
            .georadius("{t}sicily", 15, 37, 100, GeoUnit::Km)
            .storedist("{t}storedist")
            .await
            .unwrap();
        let catania_dist = c.zscore("{t}storedist", "Catania").await.unwrap();
        let by_member = c
            .georadiusbymember("{t}sicily", "Palermo", 200, GeoUnit::Km)
            .asc()
            .await
            .unwrap();
        let by_member_hash = c
            .georadiusbymember("{t}sicily", "Palermo", 100, GeoUnit::Km)
            .withhash()
            .await
            .unwrap();
        let by_member_store = c
            .georadiusbymember("{t}sicily", "Palermo", 200, GeoUnit::Km)
            .store(respec::types::GeoradiusStore::Store(b("{t}store2")))
            .await
            .unwrap();
        let by_member_ro = c
            .georadiusbymember_ro("{t}sicily", "Catania", 200, GeoUnit::Km)
            .desc()
            .await
            .unwrap();
        let by_member_ro_coord = c
            .georadiusbymember_ro("{t}sicily", "Catania", 10, GeoUnit::Km)
            .withcoord()
            .await
            .unwrap();
        (
            (
                radius,
                summarize(radius_all),
                radius_ro,
                summarize(radius_ro_dist),
            ),
            (
                stored,
                store_card,
                stored_dist,
                catania_dist.map(|d| d.round()),
            ),
            (by_member, summarize(by_member_hash), by_member_store),
            (
                by_member_ro,
                close_coord(by_member_ro_coord[0].coord, CATANIA),
            ),
        )
    })
    .await;
    assert_eq!(
        got.0,
        (
            vec![b("Catania"), b("Palermo")],
            vec![(b("Palermo"), Some(1904), Some(PALERMO_HASH), true)],
            vec![b("Catania")],
            vec![
                (b("Palermo"), Some(1904), None, false),
                (b("Catania"), Some(564), None, false),
            ]
        )
    );
    assert_eq!(got.1, (2, 2, 1, Some(56.0)));
    assert_eq!(
        got.2,
        (
            vec![b("Palermo"), b("Catania")],
            vec![(b("Palermo"), None, Some(PALERMO_HASH), false)],
            2
        )
    );
    assert_eq!(got.3, (vec![b("Palermo"), b("Catania")], true));
}

#[tokio::test]
async fn stream_deleted_pending_entry_in_history() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.xadd("s", id("1-1"), [("f", "v")]).await.unwrap();
        c.xadd("s", id("2-1"), [("f", "w")]).await.unwrap();
        c.xgroup_create("s", "g", "0").await.unwrap();
        c.xreadgroup("g", "c", ["s"], [">"]).await.unwrap();
        c.xdel("s", ["1-1"]).await.unwrap();
        // The history of a consumer shows a deleted entry with no fields.
        let history = c.xreadgroup("g", "c", ["s"], ["0"]).await.unwrap();
        let claimed = c.xclaim("s", "g", "d", 0, ["1-1", "2-1"]).await.unwrap();
        (history, claimed)
    })
    .await;
    assert_eq!(
        got,
        (
            Some(vec![(
                b("s"),
                vec![entry("1-1", &[]), entry("2-1", &[("f", "w")])]
            )]),
            vec![entry("2-1", &[("f", "w")])]
        )
    );
}

#[tokio::test]
async fn option_enums_as_values() {
    let server = Server::start();
    if !protocols::since(&server, (9, 0, 0), "HSETEX") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        let set = c
            .hsetex("h", [("a", "1"), ("b", "2")])
            .key_condition(ExistenceCondition::Nx)
            .fields_condition(FieldsCondition::Fnx)
            .expiration(SetExpiration::Pxat(AT_MILLIS))
            .await
            .unwrap();
        let keep = c
            .hsetex("h", [("a", "3")])
            .key_condition(ExistenceCondition::Xx)
            .fields_condition(FieldsCondition::Fxx)
            .expiration(SetExpiration::Keepttl)
            .await
            .unwrap();
        let expire = c
            .hexpire("h", 100, ["a", "b"])
            .condition(ExpireCondition::Gt)
            .await
            .unwrap();
        let pexpireat = c
            .hpexpireat("h", AT_MILLIS + 1, ["a"])
            .condition(ExpireCondition::Gt)
            .await
            .unwrap();
        let getex = c
            .hgetex("h", ["a", "b"])
            .expiration(Expiration::Exat(AT_SECS))
            .await
            .unwrap();
        let times = c.hexpiretime("h", ["a", "b"]).await.unwrap();
        let persisted = c
            .hgetex("h", ["b"])
            .expiration(Expiration::Persist)
            .await
            .unwrap();
        let ttl = c.httl("h", ["b"]).await.unwrap();
        c.geoadd("g", [(PALERMO.0, PALERMO.1, "Palermo")])
            .await
            .unwrap();
        let geo_xx = c
            .geoadd("g", [(CATANIA.0, CATANIA.1, "Catania")])
            .condition(ExistenceCondition::Xx)
            .await
            .unwrap();
        let from = c
            .geosearch(
                "g",
                GeosearchBy::Byradius {
                    radius: 1.0,
                    unit: GeoUnit::M,
                },
            )
            .from(GeosearchFrom::Frommember(b("Palermo")))
            .await
            .unwrap();
        (
            (set, keep, expire, pexpireat),
            (getex, times, persisted, ttl),
            (geo_xx, from),
        )
    })
    .await;
    assert_eq!(got.0, (true, true, vec![0, 0], vec![1]));
    assert_eq!(
        got.1,
        (
            vec![Some(b("3")), Some(b("2"))],
            vec![AT_SECS, AT_SECS],
            vec![Some(b("2"))],
            vec![-1]
        )
    );
    assert_eq!(got.2, (0, vec![b("Palermo")]));
}
