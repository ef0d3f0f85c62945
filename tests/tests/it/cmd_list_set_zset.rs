//! The generated API of the list, set and sorted-set command groups against a real
//! server: every test body runs under RESP2 and RESP3 (`protocols::both`), the two runs
//! must return the same typed values, and those values are then asserted.
//!
//! Random replies (SPOP, SRANDMEMBER, ZRANDMEMBER) are normalized (sorted, counted,
//! checked for membership) before they are returned, so both runs agree.

use bytes::Bytes;
use respec::types::{Aggregate, Comparison, ExistenceCondition, LexBound, ListSide, MinMax};
use respec::types::{RangeBy, ScoreBound, Where};
use respec::Commands;
use respec_tests::protocols::{self, Deployment};
use respec_tests::{Flavor, Server};
use std::time::Duration;

/// A lexicographic bound over string literals.
type Lex = LexBound<&'static str>;

/// A short timeout for blocking commands expected to time out.
const SHORT: f64 = 0.1;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn bs(items: &[&str]) -> Vec<Bytes> {
    items.iter().map(|s| b(s)).collect()
}

fn scored(items: &[(&str, f64)]) -> Vec<(Bytes, f64)> {
    items.iter().map(|&(m, s)| (b(m), s)).collect()
}

fn sorted(mut v: Vec<Bytes>) -> Vec<Bytes> {
    v.sort();
    v
}

fn sorted_scored(mut v: Vec<(Bytes, f64)>) -> Vec<(Bytes, f64)> {
    v.sort_by(|x, y| x.0.cmp(&y.0));
    v
}

/// A SCAN-family cursor as the integer the next call takes.
fn cursor(c: &Bytes) -> u64 {
    std::str::from_utf8(c)
        .expect("cursor is ASCII")
        .parse()
        .expect("cursor is an integer")
}

// ---------------------------------------------------------------------------- lists

#[tokio::test]
async fn list_push_index_insert_set_rem_trim() {
    list_push_index_insert_set_rem_trim_on(&Server::start()).await;
}

pub(crate) async fn list_push_index_insert_set_rem_trim_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let pushx_missing = (
            c.lpushx("l", ["x"]).await.unwrap(),
            c.rpushx("l", ["x"]).await.unwrap(),
        );
        let pushes = (
            c.rpush("l", ["b", "c"]).await.unwrap(),
            c.lpush("l", ["a", "z"]).await.unwrap(),
            c.lpushx("l", ["y"]).await.unwrap(),
            c.rpushx("l", ["d", "e"]).await.unwrap(),
        );
        let all = c.lrange("l", 0, -1).await.unwrap();
        let idx = (
            c.lindex("l", 2).await.unwrap(),
            c.lindex("l", -1).await.unwrap(),
            c.lindex("l", 100).await.unwrap(),
            c.lindex("missing", 0).await.unwrap(),
        );
        let ins = (
            c.linsert("l", Where::Before, "b", "b0").await.unwrap(),
            c.linsert("l", Where::After, "b", "b1").await.unwrap(),
            c.linsert("l", Where::After, "nope", "q").await.unwrap(),
            c.linsert("missing", Where::After, "b", "q").await.unwrap(),
        );
        let () = c.lset("l", 0, "Y").await.unwrap();
        c.rpush("l", ["a", "a"]).await.unwrap();
        let rem = (
            c.lrem("l", 2, "a").await.unwrap(),
            c.lrem("l", 0, "a").await.unwrap(),
            c.lrem("l", 0, "nope").await.unwrap(),
        );
        let before_trim = c.lrange("l", 0, -1).await.unwrap();
        let () = c.ltrim("l", 1, -2).await.unwrap();
        let after_trim = c.lrange("l", 0, -1).await.unwrap();
        let partial = c.lrange("l", 1, 2).await.unwrap();
        let lens = (c.llen("l").await.unwrap(), c.llen("missing").await.unwrap());
        (
            pushx_missing,
            pushes,
            all,
            idx,
            ins,
            rem,
            before_trim,
            after_trim,
            partial,
            lens,
        )
    })
    .await;
    assert_eq!(got.0, (0, 0));
    assert_eq!(got.1, (2, 4, 5, 7));
    assert_eq!(got.2, bs(&["y", "z", "a", "b", "c", "d", "e"]));
    assert_eq!(got.3, (Some(b("a")), Some(b("e")), None, None));
    assert_eq!(got.4, (8, 9, -1, 0));
    assert_eq!(got.5, (2, 1, 0));
    assert_eq!(got.6, bs(&["Y", "z", "b0", "b", "b1", "c", "d", "e"]));
    assert_eq!(got.7, bs(&["z", "b0", "b", "b1", "c", "d"]));
    assert_eq!(got.8, bs(&["b0", "b"]));
    assert_eq!(got.9, (6, 0));
}

#[tokio::test]
async fn list_lpop_rpop_with_and_without_count() {
    list_lpop_rpop_with_and_without_count_on(&Server::start()).await;
}

pub(crate) async fn list_lpop_rpop_with_and_without_count_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.rpush("l", ["a", "b", "c", "d", "e", "f"]).await.unwrap();
        let single = (c.lpop("l").await.unwrap(), c.rpop("l").await.unwrap());
        let counted = (
            c.lpop("l").count(2).await.unwrap(),
            c.rpop("l").count(5).await.unwrap(),
        );
        let missing = (
            c.lpop("l").await.unwrap(),
            c.rpop("l").await.unwrap(),
            c.lpop("l").count(2).await.unwrap(),
            c.rpop("l").count(2).await.unwrap(),
        );
        (single, counted, missing)
    })
    .await;
    assert_eq!(got.0, (Some(b("a")), Some(b("f"))));
    assert_eq!(got.1, (Some(bs(&["b", "c"])), Some(bs(&["e", "d"]))));
    assert_eq!(got.2, (None, None, None, None));
}

#[tokio::test]
async fn list_lpos_rank_count_maxlen() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.rpush("l", ["a", "b", "c", "a", "b", "c", "a"])
            .await
            .unwrap();
        let single = (
            c.lpos("l", "a").await.unwrap(),
            c.lpos("l", "a").rank(2).await.unwrap(),
            c.lpos("l", "a").rank(-1).await.unwrap(),
            c.lpos("l", "c").maxlen(2).await.unwrap(),
            c.lpos("l", "zz").await.unwrap(),
            c.lpos("missing", "a").await.unwrap(),
        );
        let many = (
            c.lpos("l", "a").count(0).await.unwrap(),
            c.lpos("l", "a").count(2).rank(2).await.unwrap(),
            c.lpos("l", "a").count(0).maxlen(4).await.unwrap(),
            c.lpos("l", "a").count(0).rank(-1).await.unwrap(),
            c.lpos("l", "zz").count(0).await.unwrap(),
            c.lpos("missing", "a").count(0).await.unwrap(),
        );
        (single, many)
    })
    .await;
    assert_eq!(got.0, (Some(0), Some(3), Some(6), None, None, None));
    assert_eq!(
        got.1,
        (
            vec![0, 3, 6],
            vec![3, 6],
            vec![0, 3],
            vec![6, 3, 0],
            vec![],
            vec![]
        )
    );
}

#[tokio::test]
async fn list_lmove_rpoplpush() {
    list_lmove_rpoplpush_on(&Server::start()).await;
}

pub(crate) async fn list_lmove_rpoplpush_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.rpush("{t}src", ["1", "2", "3"]).await.unwrap();
        let moved = (
            c.lmove("{t}src", "{t}dst", ListSide::Left, ListSide::Right)
                .await
                .unwrap(),
            c.lmove("{t}src", "{t}dst", ListSide::Right, ListSide::Left)
                .await
                .unwrap(),
            c.rpoplpush("{t}src", "{t}dst").await.unwrap(),
        );
        let dst = c.lrange("{t}dst", 0, -1).await.unwrap();
        let empty = (
            c.lmove("{t}src", "{t}dst", ListSide::Left, ListSide::Left)
                .await
                .unwrap(),
            c.rpoplpush("{t}src", "{t}dst").await.unwrap(),
            c.llen("{t}src").await.unwrap(),
        );
        // Rotating a list onto itself.
        let rotated = c.rpoplpush("{t}dst", "{t}dst").await.unwrap();
        let dst_after = c.lrange("{t}dst", 0, -1).await.unwrap();
        (moved, dst, empty, rotated, dst_after)
    })
    .await;
    assert_eq!(got.0, (Some(b("1")), Some(b("3")), Some(b("2"))));
    assert_eq!(got.1, bs(&["2", "3", "1"]));
    assert_eq!(got.2, (None, None, 0));
    assert_eq!(got.3, Some(b("1")));
    assert_eq!(got.4, bs(&["1", "2", "3"]));
}

#[tokio::test]
async fn list_lmpop_blmpop() {
    list_lmpop_blmpop_on(&Server::start()).await;
}

pub(crate) async fn list_lmpop_blmpop_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 0, 0), "LMPOP/BLMPOP") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        let none = c.lmpop(["{t}m1", "{t}m2"], ListSide::Left).await.unwrap();
        c.rpush("{t}m2", ["a", "b", "c"]).await.unwrap();
        let one = c.lmpop(["{t}m1", "{t}m2"], ListSide::Left).await.unwrap();
        let counted = c
            .lmpop(["{t}m1", "{t}m2"], ListSide::Right)
            .count(5)
            .await
            .unwrap();
        let timed_out = c
            .blmpop(SHORT, ["{t}m1", "{t}m2"], ListSide::Left)
            .await
            .unwrap();
        c.rpush("{t}m1", ["x", "y"]).await.unwrap();
        let blocked = c
            .blmpop(SHORT, ["{t}m1", "{t}m2"], ListSide::Right)
            .count(1)
            .await
            .unwrap();
        let blocked_default = c
            .blmpop(
                Duration::from_millis(100),
                ["{t}m2", "{t}m1"],
                ListSide::Left,
            )
            .await
            .unwrap();
        (none, one, counted, timed_out, blocked, blocked_default)
    })
    .await;
    assert_eq!(got.0, None);
    assert_eq!(got.1, Some((b("{t}m2"), bs(&["a"]))));
    assert_eq!(got.2, Some((b("{t}m2"), bs(&["c", "b"]))));
    assert_eq!(got.3, None);
    assert_eq!(got.4, Some((b("{t}m1"), bs(&["y"]))));
    assert_eq!(got.5, Some((b("{t}m1"), bs(&["x"]))));
}

#[tokio::test]
async fn list_blocking_pops_with_data_and_timeout() {
    list_blocking_pops_with_data_and_timeout_on(&Server::start()).await;
}

pub(crate) async fn list_blocking_pops_with_data_and_timeout_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let timeouts = (
            c.blpop(["{t}k1", "{t}k2"], SHORT).await.unwrap(),
            c.brpop(["{t}k1", "{t}k2"], SHORT).await.unwrap(),
            c.blmove("{t}src", "{t}dst", ListSide::Left, ListSide::Left, SHORT)
                .await
                .unwrap(),
            c.brpoplpush("{t}src", "{t}dst", SHORT).await.unwrap(),
        );
        c.rpush("{t}k2", ["a", "b", "c"]).await.unwrap();
        let pops = (
            c.blpop(["{t}k1", "{t}k2"], SHORT).await.unwrap(),
            c.brpop(["{t}k1", "{t}k2"], 1).await.unwrap(),
        );
        c.rpush("{t}src", ["x", "y"]).await.unwrap();
        let moves = (
            c.blmove("{t}src", "{t}dst", ListSide::Left, ListSide::Left, SHORT)
                .await
                .unwrap(),
            c.brpoplpush("{t}src", "{t}dst", SHORT).await.unwrap(),
            c.brpoplpush("{t}src", "{t}dst", SHORT).await.unwrap(),
        );
        let dst = c.lrange("{t}dst", 0, -1).await.unwrap();
        (timeouts, pops, moves, dst)
    })
    .await;
    assert_eq!(got.0, (None, None, None, None));
    assert_eq!(
        got.1,
        (Some((b("{t}k2"), b("a"))), Some((b("{t}k2"), b("c"))))
    );
    assert_eq!(got.2, (Some(b("x")), Some(b("y")), None));
    assert_eq!(got.3, bs(&["y", "x"]));
}

#[tokio::test]
async fn list_blpop_wakes_up_when_another_client_pushes() {
    list_blpop_wakes_up_when_another_client_pushes_on(&Server::start()).await;
}

pub(crate) async fn list_blpop_wakes_up_when_another_client_pushes_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let pusher = c.clone();
        let push = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            pusher.rpush("late", ["v"]).await.unwrap()
        });
        let popped = c.blpop(["late"], 5).await.unwrap();
        (popped, push.await.unwrap())
    })
    .await;
    assert_eq!(got, (Some((b("late"), b("v"))), 1));
}

// ----------------------------------------------------------------------------- sets

#[tokio::test]
async fn set_add_rem_members_move() {
    set_add_rem_members_move_on(&Server::start()).await;
}

pub(crate) async fn set_add_rem_members_move_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let adds = (
            c.sadd("{t}s", ["a", "b", "c"]).await.unwrap(),
            c.sadd("{t}s", ["c", "d"]).await.unwrap(),
        );
        let cards = (
            c.scard("{t}s").await.unwrap(),
            c.scard("{t}missing").await.unwrap(),
        );
        let rem = c.srem("{t}s", ["d", "zz"]).await.unwrap();
        let is = (
            c.sismember("{t}s", "a").await.unwrap(),
            c.sismember("{t}s", "zz").await.unwrap(),
            c.sismember("{t}missing", "a").await.unwrap(),
        );
        let members = sorted(c.smembers("{t}s").await.unwrap());
        let missing_members = c.smembers("{t}missing").await.unwrap();
        let mis = (
            c.smismember("{t}s", ["a", "zz", "c"]).await.unwrap(),
            c.smismember("{t}missing", ["a"]).await.unwrap(),
        );
        let moves = (
            c.smove("{t}s", "{t}t", "a").await.unwrap(),
            c.smove("{t}s", "{t}t", "zz").await.unwrap(),
            c.smove("{t}missing", "{t}t", "a").await.unwrap(),
        );
        let after = (
            sorted(c.smembers("{t}s").await.unwrap()),
            c.smembers("{t}t").await.unwrap(),
        );
        (
            adds,
            cards,
            rem,
            is,
            members,
            missing_members,
            mis,
            moves,
            after,
        )
    })
    .await;
    assert_eq!(got.0, (3, 1));
    assert_eq!(got.1, (4, 0));
    assert_eq!(got.2, 1);
    assert_eq!(got.3, (true, false, false));
    assert_eq!(got.4, bs(&["a", "b", "c"]));
    assert_eq!(got.5, Vec::<Bytes>::new());
    assert_eq!(got.6, (vec![true, false, true], vec![false]));
    assert_eq!(got.7, (true, false, false));
    assert_eq!(got.8, (bs(&["b", "c"]), bs(&["a"])));
}

#[tokio::test]
async fn set_diff_inter_union_and_stores() {
    set_diff_inter_union_and_stores_on(&Server::start()).await;
}

pub(crate) async fn set_diff_inter_union_and_stores_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.sadd("{t}s1", ["a", "b", "c", "d"]).await.unwrap();
        c.sadd("{t}s2", ["c", "d", "e"]).await.unwrap();
        c.sadd("{t}s3", ["d", "f"]).await.unwrap();
        let reads = (
            sorted(c.sdiff(["{t}s1", "{t}s2"]).await.unwrap()),
            sorted(c.sinter(["{t}s1", "{t}s2", "{t}s3"]).await.unwrap()),
            sorted(c.sunion(["{t}s2", "{t}s3"]).await.unwrap()),
            c.sinter(["{t}s1", "{t}missing"]).await.unwrap(),
            sorted(c.sdiff(["{t}s1"]).await.unwrap()),
        );
        let stores = (
            c.sdiffstore("{t}d1", ["{t}s1", "{t}s2"]).await.unwrap(),
            c.sinterstore("{t}d2", ["{t}s1", "{t}s2"]).await.unwrap(),
            c.sunionstore("{t}d3", ["{t}s1", "{t}s3"]).await.unwrap(),
            c.sinterstore("{t}d4", ["{t}s1", "{t}missing"])
                .await
                .unwrap(),
        );
        let stored = (
            sorted(c.smembers("{t}d1").await.unwrap()),
            sorted(c.smembers("{t}d2").await.unwrap()),
            sorted(c.smembers("{t}d3").await.unwrap()),
            c.scard("{t}d4").await.unwrap(),
        );
        (reads, stores, stored)
    })
    .await;
    assert_eq!(
        got.0,
        (
            bs(&["a", "b"]),
            bs(&["d"]),
            bs(&["c", "d", "e", "f"]),
            vec![],
            bs(&["a", "b", "c", "d"]),
        )
    );
    assert_eq!(got.1, (2, 2, 5, 0));
    assert_eq!(
        got.2,
        (
            bs(&["a", "b"]),
            bs(&["c", "d"]),
            bs(&["a", "b", "c", "d", "f"]),
            0
        )
    );
}

#[tokio::test]
async fn set_sintercard_limit() {
    set_sintercard_limit_on(&Server::start()).await;
}

pub(crate) async fn set_sintercard_limit_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 0, 0), "SINTERCARD") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.sadd("{t}s1", ["a", "b", "c", "d"]).await.unwrap();
        c.sadd("{t}s2", ["b", "c", "d", "e"]).await.unwrap();
        (
            c.sintercard(["{t}s1", "{t}s2"]).await.unwrap(),
            c.sintercard(["{t}s1", "{t}s2"]).limit(2).await.unwrap(),
            c.sintercard(["{t}s1", "{t}s2"]).limit(0).await.unwrap(),
            c.sintercard(["{t}s1", "{t}missing"]).await.unwrap(),
        )
    })
    .await;
    assert_eq!(got, (3, 2, 3, 0));
}

#[tokio::test]
async fn set_spop_srandmember_with_and_without_count() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let all = bs(&["a", "b", "c", "d", "e"]);
        c.sadd("r", ["a", "b", "c", "d", "e"]).await.unwrap();
        let one = c.srandmember("r").await.unwrap().expect("a member");
        let distinct = sorted(c.srandmember("r").count(3).await.unwrap());
        let mut distinct_dedup = distinct.clone();
        distinct_dedup.dedup();
        let more_than_card = sorted(c.srandmember("r").count(10).await.unwrap());
        let repeated = c.srandmember("r").count(-8).await.unwrap();
        let srand = (
            all.contains(&one),
            distinct.len(),
            distinct_dedup.len(),
            distinct.iter().all(|m| all.contains(m)),
            more_than_card,
            repeated.len(),
            repeated.iter().all(|m| all.contains(m)),
            c.srandmember("missing").await.unwrap(),
            c.srandmember("missing").count(3).await.unwrap(),
            c.srandmember("missing").count(-3).await.unwrap(),
        );
        let popped = c.spop("r").await.unwrap().expect("a member");
        let popped2 = sorted(c.spop("r").count(2).await.unwrap());
        let left = c.scard("r").await.unwrap();
        let rest = sorted(c.spop("r").count(10).await.unwrap());
        let mut everything = vec![popped.clone()];
        everything.extend(popped2.iter().cloned());
        everything.extend(rest.iter().cloned());
        let spop = (
            all.contains(&popped),
            popped2.len(),
            left,
            rest.len(),
            sorted(everything),
            c.spop("r").await.unwrap(),
            c.spop("r").count(2).await.unwrap(),
        );
        (srand, spop)
    })
    .await;
    let all = bs(&["a", "b", "c", "d", "e"]);
    assert_eq!(
        got.0,
        (true, 3, 3, true, all.clone(), 8, true, None, vec![], vec![])
    );
    assert_eq!(got.1, (true, 2, 2, 2, all, None, vec![]));
}

#[tokio::test]
async fn set_sscan_match_count() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let members: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
        c.sadd("big", &members).await.unwrap();
        c.sadd("big", ["x1", "x2", "x3"]).await.unwrap();
        let mut seen = Vec::new();
        let mut cur = 0u64;
        let mut calls = 0;
        loop {
            let (next, batch) = c.sscan("big", cur).match_("m*").count(10).await.unwrap();
            seen.extend(batch);
            calls += 1;
            cur = cursor(&next);
            if cur == 0 {
                break;
            }
            assert!(calls < 1000, "SSCAN did not terminate");
        }
        seen.sort();
        seen.dedup();
        let missing = c.sscan("missing", 0).await.unwrap();
        // A small set is one listpack: one call returns everything.
        c.sadd("small", ["p", "q"]).await.unwrap();
        let (small_cursor, small) = c.sscan("small", 0).await.unwrap();
        (seen, missing, small_cursor, sorted(small))
    })
    .await;
    let mut want: Vec<Bytes> = (0..40).map(|i| b(&format!("m{i}"))).collect();
    want.sort();
    assert_eq!(got.0, want);
    assert_eq!(got.1, (b("0"), vec![]));
    assert_eq!(got.2, b("0"));
    assert_eq!(got.3, bs(&["p", "q"]));
}

// ---------------------------------------------------------------------- sorted sets

#[tokio::test]
async fn zset_zadd_options_and_scores() {
    zset_zadd_options_and_scores_on(&Server::start()).await;
}

pub(crate) async fn zset_zadd_options_and_scores_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let adds = (
            c.zadd("z", [(1.0, "a"), (2.0, "b")]).await.unwrap(),
            c.zadd("z", [(3.0, "a")]).nx().await.unwrap(),
            c.zadd("z", [(5.0, "c")]).xx().await.unwrap(),
            c.zadd("z", [(10.0, "a")]).xx().ch().await.unwrap(),
            c.zadd("z", [(5.0, "a")]).gt().ch().await.unwrap(),
            c.zadd("z", [(5.0, "a")]).lt().ch().await.unwrap(),
            c.zadd("z", [(1.5, "a"), (7.0, "d")]).ch().await.unwrap(),
            c.zadd("z", [(100.0, "a")])
                .condition(ExistenceCondition::Xx)
                .comparison(Comparison::Lt)
                .await
                .unwrap(),
            c.zadd("z", [(3, "e")]).await.unwrap(),
        );
        let incr = (
            c.zadd("z", [(2.5, "b")]).incr().await.unwrap(),
            c.zadd("z", [(1.0, "b")]).nx().incr().await.unwrap(),
            c.zadd("z", [(1.0, "b")]).gt().incr().await.unwrap(),
            c.zadd("z", [(-100.0, "b")]).gt().incr().await.unwrap(),
            c.zadd("z", [(1.0, "nope")]).xx().incr().await.unwrap(),
            c.zadd("z", [(0.5, "f")]).nx().incr().await.unwrap(),
        );
        let scores = (
            c.zscore("z", "a").await.unwrap(),
            c.zscore("z", "zz").await.unwrap(),
            c.zscore("missing", "a").await.unwrap(),
            c.zmscore("z", ["a", "zz", "d"]).await.unwrap(),
            c.zmscore("missing", ["a"]).await.unwrap(),
        );
        let incrby = (
            c.zincrby("z", 0.25, "a").await.unwrap(),
            c.zincrby("z", 2, "new").await.unwrap(),
            c.zincrby("z", -0.5, "new").await.unwrap(),
        );
        let cards = (
            c.zcard("z").await.unwrap(),
            c.zcard("missing").await.unwrap(),
        );
        (adds, incr, scores, incrby, cards)
    })
    .await;
    assert_eq!(got.0, (2, 0, 0, 1, 0, 1, 2, 0, 1));
    assert_eq!(got.1, (Some(4.5), None, Some(5.5), None, None, Some(0.5)));
    assert_eq!(
        got.2,
        (
            Some(1.5),
            None,
            None,
            vec![Some(1.5), None, Some(7.0)],
            vec![None]
        )
    );
    assert_eq!(got.3, (1.75, 2.0, 1.5));
    assert_eq!(got.4, (6, 0));
}

#[tokio::test]
async fn zset_zrange_variants() {
    zset_zrange_variants_on(&Server::start()).await;
}

pub(crate) async fn zset_zrange_variants_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.zadd("r", [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")])
            .await
            .unwrap();
        c.zadd("lex", [(0, "a"), (0, "b"), (0, "c"), (0, "d"), (0, "e")])
            .await
            .unwrap();
        let by_index = (
            c.zrange("r", 0, -1).await.unwrap(),
            c.zrange("r", 0, 1).withscores().await.unwrap(),
            c.zrange("r", 0, 1).rev().withscores().await.unwrap(),
            c.zrange("missing", 0, -1).await.unwrap(),
        );
        let by_score = (
            c.zrange("r", ScoreBound::Exclusive(1.0), ScoreBound::Inclusive(4.0))
                .byscore()
                .await
                .unwrap(),
            c.zrange("r", ScoreBound::PosInf, ScoreBound::NegInf)
                .byscore()
                .rev()
                .limit(1, 2)
                .await
                .unwrap(),
            c.zrange("r", 2, 3)
                .sortby(RangeBy::Byscore)
                .withscores()
                .await
                .unwrap(),
        );
        let by_lex = (
            c.zrange("lex", LexBound::Inclusive("b"), LexBound::Exclusive("e"))
                .bylex()
                .await
                .unwrap(),
            c.zrange("lex", Lex::Max, Lex::Min)
                .bylex()
                .rev()
                .limit(0, 2)
                .await
                .unwrap(),
            c.zrange("lex", Lex::Min, Lex::Max)
                .sortby(RangeBy::Bylex)
                .limit(3, 10)
                .await
                .unwrap(),
        );
        (by_index, by_score, by_lex)
    })
    .await;
    assert_eq!(
        got.0,
        (
            bs(&["a", "b", "c", "d", "e"]),
            scored(&[("a", 1.0), ("b", 2.0)]),
            scored(&[("e", 5.0), ("d", 4.0)]),
            vec![]
        )
    );
    assert_eq!(
        got.1,
        (
            bs(&["b", "c", "d"]),
            bs(&["d", "c"]),
            scored(&[("b", 2.0), ("c", 3.0)])
        )
    );
    assert_eq!(
        got.2,
        (bs(&["b", "c", "d"]), bs(&["e", "d"]), bs(&["d", "e"]))
    );
}

#[tokio::test]
async fn zset_legacy_range_commands_and_counts() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.zadd("r", [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")])
            .await
            .unwrap();
        c.zadd("lex", [(0, "a"), (0, "b"), (0, "c"), (0, "d"), (0, "e")])
            .await
            .unwrap();
        let by_score = (
            c.zrangebyscore("r", ScoreBound::NegInf, ScoreBound::PosInf)
                .await
                .unwrap(),
            c.zrangebyscore("r", 2, 4)
                .withscores()
                .limit(1, 1)
                .await
                .unwrap(),
            c.zrangebyscore("r", ScoreBound::Exclusive(2.0), 4.0)
                .await
                .unwrap(),
            c.zrevrangebyscore("r", ScoreBound::PosInf, ScoreBound::Exclusive(3.0))
                .await
                .unwrap(),
            c.zrevrangebyscore("r", 5, 1)
                .withscores()
                .limit(0, 1)
                .await
                .unwrap(),
            c.zrevrangebyscore("r", 5, 1).limit(1, 2).await.unwrap(),
        );
        let by_lex = (
            c.zrangebylex("lex", Lex::Min, LexBound::Exclusive("c"))
                .await
                .unwrap(),
            c.zrangebylex("lex", Lex::Min, Lex::Max)
                .limit(1, 10)
                .await
                .unwrap(),
            c.zrevrangebylex("lex", Lex::Max, LexBound::Inclusive("d"))
                .await
                .unwrap(),
            c.zrevrangebylex("lex", Lex::Max, LexBound::Inclusive("d"))
                .limit(1, 1)
                .await
                .unwrap(),
        );
        let rev = (
            c.zrevrange("r", 0, 1).await.unwrap(),
            c.zrevrange("r", 0, 0).withscores().await.unwrap(),
        );
        let counts = (
            c.zlexcount("lex", Lex::Min, Lex::Max).await.unwrap(),
            c.zlexcount("lex", LexBound::Inclusive("b"), LexBound::Inclusive("d"))
                .await
                .unwrap(),
            c.zlexcount("lex", "(b", "[d").await.unwrap(),
            c.zcount("r", ScoreBound::NegInf, ScoreBound::PosInf)
                .await
                .unwrap(),
            c.zcount("r", ScoreBound::Exclusive(1.0), 3).await.unwrap(),
            c.zcount("missing", 0, 10).await.unwrap(),
        );
        (by_score, by_lex, rev, counts)
    })
    .await;
    assert_eq!(
        got.0,
        (
            bs(&["a", "b", "c", "d", "e"]),
            scored(&[("c", 3.0)]),
            bs(&["c", "d"]),
            bs(&["e", "d"]),
            scored(&[("e", 5.0)]),
            bs(&["d", "c"]),
        )
    );
    assert_eq!(
        got.1,
        (
            bs(&["a", "b"]),
            bs(&["b", "c", "d", "e"]),
            bs(&["e", "d"]),
            bs(&["d"])
        )
    );
    assert_eq!(got.2, (bs(&["e", "d"]), scored(&[("e", 5.0)])));
    assert_eq!(got.3, (5, 3, 2, 5, 2, 0));
}

#[tokio::test]
async fn zset_zrank_zrevrank() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.zadd("r", [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")])
            .await
            .unwrap();
        (
            c.zrank("r", "c").await.unwrap(),
            c.zrank("r", "a").await.unwrap(),
            c.zrevrank("r", "a").await.unwrap(),
            c.zrank("r", "zz").await.unwrap(),
            c.zrevrank("r", "zz").await.unwrap(),
            c.zrank("missing", "a").await.unwrap(),
        )
    })
    .await;
    assert_eq!(got, (Some(2), Some(0), Some(4), None, None, None));
}

#[tokio::test]
async fn zset_zrank_zrevrank_withscore() {
    let server = Server::start();
    if !protocols::since(&server, (7, 2, 0), "ZRANK/ZREVRANK WITHSCORE") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.zadd("r", [(1.5, "a"), (2.0, "b"), (3.25, "c")])
            .await
            .unwrap();
        (
            c.zrank("r", "c").withscore().await.unwrap(),
            c.zrevrank("r", "c").withscore().await.unwrap(),
            c.zrank("r", "zz").withscore().await.unwrap(),
            c.zrevrank("missing", "a").withscore().await.unwrap(),
        )
    })
    .await;
    assert_eq!(got, (Some((2, 3.25)), Some((0, 3.25)), None, None));
}

#[tokio::test]
async fn zset_zpopmin_zpopmax_with_and_without_count() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.zadd("p", [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")])
            .await
            .unwrap();
        let single = (c.zpopmin("p").await.unwrap(), c.zpopmax("p").await.unwrap());
        let counted = (
            c.zpopmin("p").count(2).await.unwrap(),
            c.zpopmax("p").count(5).await.unwrap(),
        );
        let missing = (
            c.zpopmin("p").await.unwrap(),
            c.zpopmax("p").await.unwrap(),
            c.zpopmin("p").count(2).await.unwrap(),
            c.zpopmax("p").count(2).await.unwrap(),
        );
        (single, counted, missing)
    })
    .await;
    assert_eq!(got.0, (Some((b("a"), 1.0)), Some((b("e"), 5.0))));
    assert_eq!(
        got.1,
        (scored(&[("b", 2.0), ("c", 3.0)]), scored(&[("d", 4.0)]))
    );
    assert_eq!(got.2, (None, None, vec![], vec![]));
}

#[tokio::test]
async fn zset_bzpopmin_bzpopmax() {
    zset_bzpopmin_bzpopmax_on(&Server::start()).await;
}

pub(crate) async fn zset_bzpopmin_bzpopmax_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let timeouts = (
            c.bzpopmin(["{t}k1", "{t}k2"], SHORT).await.unwrap(),
            c.bzpopmax(["{t}k1", "{t}k2"], SHORT).await.unwrap(),
        );
        c.zadd("{t}k2", [(1.5, "a"), (2.0, "b"), (3.0, "c")])
            .await
            .unwrap();
        let pops = (
            c.bzpopmin(["{t}k1", "{t}k2"], SHORT).await.unwrap(),
            c.bzpopmax(["{t}k1", "{t}k2"], 1).await.unwrap(),
            c.bzpopmax(["{t}k2"], Duration::from_millis(100))
                .await
                .unwrap(),
            c.bzpopmin(["{t}k2"], SHORT).await.unwrap(),
        );
        (timeouts, pops)
    })
    .await;
    assert_eq!(got.0, (None, None));
    assert_eq!(
        got.1,
        (
            Some((b("{t}k2"), b("a"), 1.5)),
            Some((b("{t}k2"), b("c"), 3.0)),
            Some((b("{t}k2"), b("b"), 2.0)),
            None
        )
    );
}

#[tokio::test]
async fn zset_zmpop_bzmpop() {
    zset_zmpop_bzmpop_on(&Server::start()).await;
}

pub(crate) async fn zset_zmpop_bzmpop_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 0, 0), "ZMPOP/BZMPOP") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        let none = c.zmpop(["{t}m1", "{t}m2"], MinMax::Min).await.unwrap();
        c.zadd("{t}m2", [(1, "a"), (2, "b"), (3, "c")])
            .await
            .unwrap();
        let one = c.zmpop(["{t}m1", "{t}m2"], MinMax::Min).await.unwrap();
        let counted = c
            .zmpop(["{t}m1", "{t}m2"], MinMax::Max)
            .count(5)
            .await
            .unwrap();
        let timed_out = c
            .bzmpop(SHORT, ["{t}m1", "{t}m2"], MinMax::Min)
            .await
            .unwrap();
        c.zadd("{t}m1", [(1.5, "x"), (2.5, "y")]).await.unwrap();
        let blocked = c
            .bzmpop(SHORT, ["{t}m1", "{t}m2"], MinMax::Max)
            .count(1)
            .await
            .unwrap();
        let blocked_default = c.bzmpop(1, ["{t}m2", "{t}m1"], MinMax::Min).await.unwrap();
        (none, one, counted, timed_out, blocked, blocked_default)
    })
    .await;
    assert_eq!(got.0, None);
    assert_eq!(got.1, Some((b("{t}m2"), scored(&[("a", 1.0)]))));
    assert_eq!(got.2, Some((b("{t}m2"), scored(&[("c", 3.0), ("b", 2.0)]))));
    assert_eq!(got.3, None);
    assert_eq!(got.4, Some((b("{t}m1"), scored(&[("y", 2.5)]))));
    assert_eq!(got.5, Some((b("{t}m1"), scored(&[("x", 1.5)]))));
}

#[tokio::test]
async fn zset_zrandmember_count_and_withscores() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let all = bs(&["a", "b", "c"]);
        let table = scored(&[("a", 1.0), ("b", 2.5), ("c", 3.0)]);
        c.zadd("q", [(1.0, "a"), (2.5, "b"), (3.0, "c")])
            .await
            .unwrap();
        let one = c.zrandmember("q").await.unwrap().expect("a member");
        let two = sorted(c.zrandmember("q").count(2).await.unwrap());
        let mut two_dedup = two.clone();
        two_dedup.dedup();
        let repeated = c.zrandmember("q").count(-5).await.unwrap();
        let with_scores = sorted_scored(c.zrandmember("q").count_withscores(3).await.unwrap());
        let repeated_scores = c.zrandmember("q").count_withscores(-4).await.unwrap();
        (
            (
                all.contains(&one),
                two.len(),
                two_dedup.len(),
                two.iter().all(|m| all.contains(m)),
                repeated.len(),
                repeated.iter().all(|m| all.contains(m)),
            ),
            with_scores,
            (
                repeated_scores.len(),
                repeated_scores.iter().all(|p| table.contains(p)),
            ),
            (
                c.zrandmember("missing").await.unwrap(),
                c.zrandmember("missing").count(3).await.unwrap(),
                c.zrandmember("missing").count_withscores(3).await.unwrap(),
            ),
        )
    })
    .await;
    assert_eq!(got.0, (true, 2, 2, true, 5, true));
    assert_eq!(got.1, scored(&[("a", 1.0), ("b", 2.5), ("c", 3.0)]));
    assert_eq!(got.2, (4, true));
    assert_eq!(got.3, (None, vec![], vec![]));
}

#[tokio::test]
async fn zset_union_inter_diff_and_stores() {
    zset_union_inter_diff_and_stores_on(&Server::start()).await;
}

pub(crate) async fn zset_union_inter_diff_and_stores_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.zadd("{t}z1", [(1, "a"), (2, "b"), (3, "c")])
            .await
            .unwrap();
        c.zadd("{t}z2", [(10, "b"), (20, "c"), (30, "d")])
            .await
            .unwrap();
        let union = (
            c.zunion(["{t}z1", "{t}z2"]).await.unwrap(),
            c.zunion(["{t}z1", "{t}z2"]).withscores().await.unwrap(),
            c.zunion(["{t}z1", "{t}z2"])
                .weights([2.0, 1.0])
                .aggregate(Aggregate::Max)
                .withscores()
                .await
                .unwrap(),
            c.zunion(["{t}z1", "{t}missing"])
                .sum()
                .withscores()
                .await
                .unwrap(),
        );
        let inter = (
            c.zinter(["{t}z1", "{t}z2"]).await.unwrap(),
            c.zinter(["{t}z1", "{t}z2"])
                .min()
                .withscores()
                .await
                .unwrap(),
            c.zinter(["{t}z1", "{t}z2"])
                .weights([1.0, 0.5])
                .withscores()
                .await
                .unwrap(),
            c.zinter(["{t}z1", "{t}missing"]).await.unwrap(),
        );
        let diff = (
            c.zdiff(["{t}z1", "{t}z2"]).await.unwrap(),
            c.zdiff(["{t}z2", "{t}z1"]).withscores().await.unwrap(),
            c.zdiff(["{t}missing", "{t}z1"]).await.unwrap(),
        );
        let stores = (
            c.zunionstore("{t}u", ["{t}z1", "{t}z2"])
                .aggregate(Aggregate::Min)
                .await
                .unwrap(),
            c.zinterstore("{t}i", ["{t}z1", "{t}z2"])
                .weights([1, 1])
                .max()
                .await
                .unwrap(),
            c.zdiffstore("{t}d", ["{t}z2", "{t}z1"]).await.unwrap(),
            c.zunionstore("{t}u2", ["{t}z1", "{t}z2"])
                .weights([1, 2])
                .sum()
                .await
                .unwrap(),
            c.zinterstore("{t}i2", ["{t}z1", "{t}z2"])
                .aggregate(Aggregate::Sum)
                .await
                .unwrap(),
        );
        let stored = (
            c.zrange("{t}u", 0, -1).withscores().await.unwrap(),
            c.zrange("{t}i", 0, -1).withscores().await.unwrap(),
            c.zrange("{t}d", 0, -1).withscores().await.unwrap(),
            c.zrange("{t}u2", 0, -1).withscores().await.unwrap(),
            c.zrange("{t}i2", 0, -1).withscores().await.unwrap(),
        );
        (union, inter, diff, stores, stored)
    })
    .await;
    assert_eq!(
        got.0,
        (
            bs(&["a", "b", "c", "d"]),
            scored(&[("a", 1.0), ("b", 12.0), ("c", 23.0), ("d", 30.0)]),
            scored(&[("a", 2.0), ("b", 10.0), ("c", 20.0), ("d", 30.0)]),
            scored(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]),
        )
    );
    assert_eq!(
        got.1,
        (
            bs(&["b", "c"]),
            scored(&[("b", 2.0), ("c", 3.0)]),
            scored(&[("b", 7.0), ("c", 13.0)]),
            vec![],
        )
    );
    assert_eq!(got.2, (bs(&["a"]), scored(&[("d", 30.0)]), vec![]));
    assert_eq!(got.3, (4, 2, 1, 4, 2));
    assert_eq!(
        got.4,
        (
            scored(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 30.0)]),
            scored(&[("b", 10.0), ("c", 20.0)]),
            scored(&[("d", 30.0)]),
            scored(&[("a", 1.0), ("b", 22.0), ("c", 43.0), ("d", 60.0)]),
            scored(&[("b", 12.0), ("c", 23.0)]),
        )
    );
}

#[tokio::test]
async fn zset_zintercard_limit() {
    zset_zintercard_limit_on(&Server::start()).await;
}

pub(crate) async fn zset_zintercard_limit_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 0, 0), "ZINTERCARD") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.zadd("{t}z1", [(1, "a"), (2, "b"), (3, "c")])
            .await
            .unwrap();
        c.zadd("{t}z2", [(10, "b"), (20, "c"), (30, "d")])
            .await
            .unwrap();
        (
            c.zintercard(["{t}z1", "{t}z2"]).await.unwrap(),
            c.zintercard(["{t}z1", "{t}z2"]).limit(1).await.unwrap(),
            c.zintercard(["{t}z1", "{t}z2"]).limit(0).await.unwrap(),
            c.zintercard(["{t}z1", "{t}missing"]).await.unwrap(),
        )
    })
    .await;
    assert_eq!(got, (2, 1, 2, 0));
}

#[tokio::test]
async fn zset_zrem_and_zremrangeby() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.zadd(
            "r",
            [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e"), (6, "f")],
        )
        .await
        .unwrap();
        c.zadd("lx", [(0, "a"), (0, "b"), (0, "c"), (0, "d"), (0, "e")])
            .await
            .unwrap();
        let removed = (
            c.zrem("r", ["a", "zz"]).await.unwrap(),
            c.zremrangebyrank("r", 0, 0).await.unwrap(),
            c.zremrangebyscore("r", ScoreBound::Exclusive(3.0), 4)
                .await
                .unwrap(),
            c.zremrangebyscore("r", ScoreBound::NegInf, ScoreBound::Inclusive(3.0))
                .await
                .unwrap(),
            c.zremrangebyrank("r", -1, -1).await.unwrap(),
            c.zremrangebylex("lx", LexBound::Inclusive("b"), LexBound::Exclusive("d"))
                .await
                .unwrap(),
            c.zremrangebylex("lx", "[zz", "+").await.unwrap(),
            c.zrem("missing", ["a"]).await.unwrap(),
        );
        let left = (
            c.zrange("r", 0, -1).withscores().await.unwrap(),
            c.zrange("lx", 0, -1).await.unwrap(),
        );
        (removed, left)
    })
    .await;
    assert_eq!(got.0, (1, 1, 1, 1, 1, 2, 0, 0));
    assert_eq!(got.1, (scored(&[("e", 5.0)]), bs(&["a", "d", "e"])));
}

#[tokio::test]
async fn zset_zrangestore() {
    zset_zrangestore_on(&Server::start()).await;
}

pub(crate) async fn zset_zrangestore_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        c.zadd("{t}src", [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")])
            .await
            .unwrap();
        c.zadd("{t}lex", [(0, "a"), (0, "b"), (0, "c"), (0, "d"), (0, "e")])
            .await
            .unwrap();
        let counts = (
            c.zrangestore("{t}d1", "{t}src", 1, 2).await.unwrap(),
            c.zrangestore(
                "{t}d2",
                "{t}src",
                ScoreBound::PosInf,
                ScoreBound::Inclusive(2.0),
            )
            .byscore()
            .rev()
            .limit(0, 2)
            .await
            .unwrap(),
            c.zrangestore("{t}d3", "{t}lex", LexBound::Inclusive("b"), Lex::Max)
                .bylex()
                .await
                .unwrap(),
            c.zrangestore("{t}d4", "{t}src", 0, 10)
                .sortby(RangeBy::Byscore)
                .limit(1, 1)
                .await
                .unwrap(),
            c.zrangestore("{t}d5", "{t}missing", 0, -1).await.unwrap(),
        );
        let stored = (
            c.zrange("{t}d1", 0, -1).withscores().await.unwrap(),
            c.zrange("{t}d2", 0, -1).withscores().await.unwrap(),
            c.zrange("{t}d3", 0, -1).await.unwrap(),
            c.zrange("{t}d4", 0, -1).withscores().await.unwrap(),
            c.zcard("{t}d5").await.unwrap(),
        );
        (counts, stored)
    })
    .await;
    assert_eq!(got.0, (2, 2, 4, 1, 0));
    assert_eq!(
        got.1,
        (
            scored(&[("b", 2.0), ("c", 3.0)]),
            scored(&[("d", 4.0), ("e", 5.0)]),
            bs(&["b", "c", "d", "e"]),
            scored(&[("b", 2.0)]),
            0
        )
    );
}

#[tokio::test]
async fn zset_zscan_match_count() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let data: Vec<(f64, String)> = (0..40).map(|i| (f64::from(i), format!("m{i}"))).collect();
        c.zadd("big", data).await.unwrap();
        c.zadd("big", [(0.5, "x1"), (1.5, "x2")]).await.unwrap();
        let mut seen = Vec::new();
        let mut cur = 0u64;
        let mut calls = 0;
        loop {
            let (next, batch) = c.zscan("big", cur).match_("m*").count(10).await.unwrap();
            seen.extend(batch);
            calls += 1;
            cur = cursor(&next);
            if cur == 0 {
                break;
            }
            assert!(calls < 1000, "ZSCAN did not terminate");
        }
        seen.sort_by(|x, y| x.0.cmp(&y.0));
        seen.dedup();
        c.zadd("small", [(1.5, "p"), (2.0, "q")]).await.unwrap();
        let small = c.zscan("small", 0).await.unwrap();
        let missing = c.zscan("missing", 0).await.unwrap();
        (seen, small, missing)
    })
    .await;
    let mut want: Vec<(Bytes, f64)> = (0..40)
        .map(|i| (b(&format!("m{i}")), f64::from(i)))
        .collect();
    want.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(got.0, want);
    assert_eq!(got.1, (b("0"), scored(&[("p", 1.5), ("q", 2.0)])));
    assert_eq!(got.2, (b("0"), vec![]));
}

#[tokio::test]
async fn zset_zscan_noscores() {
    let server = Server::start();
    // NOSCORES is Valkey's (8.0.0); Redis has no such option at any version.
    if server.flavor() != Flavor::Valkey {
        eprintln!(
            "skipped: ZSCAN NOSCORES is Valkey-only, the server is {:?}",
            server.flavor()
        );
        return;
    }
    if !protocols::since(&server, (8, 0, 0), "ZSCAN NOSCORES") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.zadd("small", [(1.5, "p"), (2.0, "q"), (3.0, "r")])
            .await
            .unwrap();
        (
            c.zscan("small", 0).noscores().await.unwrap(),
            c.zscan("small", 0)
                .match_("[pq]")
                .count(100)
                .noscores()
                .await
                .unwrap(),
        )
    })
    .await;
    assert_eq!(got.0, (b("0"), bs(&["p", "q", "r"])));
    assert_eq!(got.1, (b("0"), bs(&["p", "q"])));
}

#[tokio::test]
async fn zset_infinite_scores() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.zadd(
            "inf",
            [
                (f64::INFINITY, "top"),
                (f64::NEG_INFINITY, "bottom"),
                (0.0, "mid"),
            ],
        )
        .await
        .unwrap();
        (
            c.zscore("inf", "top").await.unwrap(),
            c.zmscore("inf", ["bottom", "mid"]).await.unwrap(),
            c.zrange("inf", 0, -1).withscores().await.unwrap(),
            c.zrange("inf", ScoreBound::PosInf, ScoreBound::NegInf)
                .byscore()
                .rev()
                .limit(0, 2)
                .withscores()
                .await
                .unwrap(),
            c.zincrby("inf", 1.5, "top").await.unwrap(),
            c.zpopmin("inf").await.unwrap(),
            c.zcount("inf", ScoreBound::Exclusive(0.0), ScoreBound::PosInf)
                .await
                .unwrap(),
        )
    })
    .await;
    assert_eq!(got.0, Some(f64::INFINITY));
    assert_eq!(got.1, vec![Some(f64::NEG_INFINITY), Some(0.0)]);
    assert_eq!(
        got.2,
        scored(&[
            ("bottom", f64::NEG_INFINITY),
            ("mid", 0.0),
            ("top", f64::INFINITY)
        ])
    );
    assert_eq!(got.3, scored(&[("top", f64::INFINITY), ("mid", 0.0)]));
    assert_eq!(got.4, f64::INFINITY);
    assert_eq!(got.5, Some((b("bottom"), f64::NEG_INFINITY)));
    assert_eq!(got.6, 1);
}
