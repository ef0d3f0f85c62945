//! The application cache (`respec::cache`) against real servers: a struct through
//! get/set/exists/delete/ttl, `set_many`, TTLs, the herd cache's single recomputation
//! under 20 concurrent callers, a compression hook, undecodable values, options
//! refused before anything is sent, and a cluster client.

use bytes::Bytes;
use respec::cache::{BoxError, Cache, CacheError, Compression, HerdCache};
use respec::{Client, Commands};
use respec_tests::pubsub::await_value;
use respec_tests::{calls, protocols, Cluster, Server};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
    tags: Vec<String>,
}

fn profile(id: u64) -> Profile {
    Profile {
        id,
        name: format!("user {id}"),
        tags: vec!["a".into(), "b".into()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_struct_round_trips_through_get_set_exists_delete_and_ttl() {
    let server = Server::start();
    let seen = protocols::both(&server, |c| async move {
        let cache = c.cache("profiles").default_ttl(Duration::from_secs(60));
        let missing: Option<Profile> = cache.get((1, "en")).await.unwrap();
        assert_eq!(missing, None);
        assert!(!cache.exists((1, "en")).await.unwrap());
        assert_eq!(cache.ttl((1, "en")).await.unwrap(), None);
        cache.set((1, "en"), profile(1)).await.unwrap();
        let got: Option<Profile> = cache.get((1, "en")).await.unwrap();
        // Other arguments are another entry; so is the same one in another cache.
        let other: Option<Profile> = cache.get((1, "fr")).await.unwrap();
        let elsewhere: Option<Profile> = c.cache("others").get((1, "en")).await.unwrap();
        let exists = cache.exists((1, "en")).await.unwrap();
        let ttl = cache.ttl((1, "en")).await.unwrap().unwrap();
        assert!(
            ttl > Duration::from_secs(55) && ttl <= Duration::from_secs(60),
            "{ttl:?}"
        );
        // The key: the name and the SHA-1 of the arguments' JSON, as a hash tag.
        let key = cache.key((1, "en")).unwrap();
        let raw: Option<Bytes> = c.get(&key).await.unwrap();
        let deleted = (
            cache.delete((1, "en")).await.unwrap(),
            cache.delete((1, "en")).await.unwrap(),
        );
        let after: Option<Profile> = cache.get((1, "en")).await.unwrap();
        (got, other, elsewhere, exists, key, raw, deleted, after)
    })
    .await;
    let (got, other, elsewhere, exists, key, raw, deleted, after) = seen;
    assert_eq!(got, Some(profile(1)));
    assert_eq!((other, elsewhere), (None, None));
    assert!(exists);
    // Stable across processes and versions: SHA-1 of `[1,"en"]` (sha1sum agrees).
    assert_eq!(key, "profiles:{c445ca6fc6035acbb305586dc27d2901aaf243b3}");
    assert_eq!(
        raw.as_deref(),
        Some(&br#"{"id":1,"name":"user 1","tags":["a","b"]}"#[..])
    );
    assert_eq!(deleted, (true, false));
    assert_eq!(after, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_many_writes_every_entry_with_the_default_ttl_in_one_pipeline() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let cache = c.cache("many").default_ttl(Duration::from_secs(30));
    cache
        .set_many((0..100u64).map(|i| (i, profile(i))))
        .await
        .unwrap();
    cache.set_many(Vec::<(u64, Profile)>::new()).await.unwrap();
    for i in 0..100u64 {
        let got: Option<Profile> = cache.get(i).await.unwrap();
        assert_eq!(got, Some(profile(i)));
        let ttl = cache.ttl(i).await.unwrap().unwrap();
        assert!(
            ttl > Duration::from_secs(25) && ttl <= Duration::from_secs(30),
            "{ttl:?}"
        );
    }
    assert_eq!(calls(&c, "set").await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_expires_at_its_ttl() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let cache = c.cache("short").default_ttl(Duration::from_millis(300));
    cache.set("k", 1).await.unwrap();
    let ttl = cache.ttl("k").await.unwrap().unwrap();
    assert!(
        ttl > Duration::from_millis(100) && ttl <= Duration::from_millis(300),
        "{ttl:?}"
    );
    let key = cache.key("k").unwrap();
    await_value("the entry expired", 0, || c.exists([&key])).await;
    assert_eq!(cache.get::<i32>("k").await.unwrap(), None);
}

/// A compression that is easy to check: a marker byte, then every byte inverted.
#[derive(Debug)]
struct Invert;

impl Compression for Invert {
    fn compress(&self, data: &[u8]) -> Result<Vec<u8>, BoxError> {
        Ok(std::iter::once(0xC5)
            .chain(data.iter().map(|b| !b))
            .collect())
    }
    fn decompress(&self, data: &[u8]) -> Result<Vec<u8>, BoxError> {
        match data.split_first() {
            Some((0xC5, rest)) => Ok(rest.iter().map(|b| !b).collect()),
            _ => Err("not written by Invert (no marker byte)".into()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compression_hook_round_trips_and_a_cache_without_it_cannot_read_its_values() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let packed = c.cache("packed").compression(Invert);
    packed.set(7, profile(7)).await.unwrap();
    assert_eq!(packed.get::<Profile>(7).await.unwrap(), Some(profile(7)));
    let raw: Bytes = c.get(packed.key(7).unwrap()).await.unwrap().unwrap();
    let json = serde_json::to_vec(&profile(7)).unwrap();
    assert_eq!(raw[0], 0xC5);
    assert_eq!(raw[1..].iter().map(|b| !b).collect::<Vec<_>>(), json);
    // The same entry read without the hook, and a plain entry read with it.
    let err = c.cache("packed").get::<Profile>(7).await.unwrap_err();
    assert!(err.is_decode(), "{err}");
    c.cache("packed").set(8, profile(8)).await.unwrap();
    let err = packed.get::<Profile>(8).await.unwrap_err();
    assert!(err.is_decode(), "{err}");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("no marker byte"), "{source}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_cannot_be_deserialized_is_an_error_naming_the_cache_and_key() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let cache = c.cache("typed");
    cache.set("n", "not a profile").await.unwrap();
    let key = cache.key("n").unwrap();
    c.set(cache.key("garbage").unwrap(), "{not json")
        .await
        .unwrap();
    for (args, k) in [("n", key), ("garbage", cache.key("garbage").unwrap())] {
        let err: CacheError = cache.get::<Profile>(args).await.unwrap_err();
        assert!(err.is_decode() && !err.is_invalid_argument(), "{err}");
        assert_eq!((err.cache_name(), err.key()), ("typed", Some(k.as_str())));
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "cache `typed`, key `{k}`: the stored value could not be decoded"
            )),
            "{text}"
        );
        // One level: serde_json's message is the source, not in the text.
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(!text.contains(&source), "{text} / {source}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_are_refused_before_anything_is_sent() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let ms = Duration::from_millis;
    let plain = |cache: Cache| cache.herd(ms(1000));
    let cases: Vec<(HerdCache, &str)> = vec![
        (
            plain(c.cache("x").default_ttl(Duration::ZERO)),
            "`ttl` is zero",
        ),
        (
            plain(c.cache("x").default_ttl(Duration::from_micros(1500))),
            "`ttl` has a fraction of a millisecond",
        ),
        (plain(c.cache("")), "`name` is empty"),
        (c.cache("x").herd(Duration::ZERO), "`grace` is zero"),
        (
            c.cache("x").herd(ms(10)).recompute_lease(Duration::ZERO),
            "`recompute_lease` is zero",
        ),
        (
            c.cache("x{}").herd(ms(10)),
            "`name` holds an empty hash tag",
        ),
    ];
    for (herd, message) in cases {
        let mut errors = vec![
            herd.set(1, 1).await.err(),
            herd.get::<i32>(1).await.err(),
            herd.get_or_compute(1, || async { Ok::<_, BoxError>(1) })
                .await
                .err(),
            herd.ttl(1).await.err(),
        ];
        if !message.contains("grace") && !message.contains("lease") && !message.contains("hash tag")
        {
            let cache = herd.cache();
            errors.extend([
                cache.set(1, 1).await.err(),
                cache.set_many([(1, 1)]).await.err(),
                cache.get::<i32>(1).await.err(),
                cache.exists(1).await.err(),
                cache.delete(1).await.err(),
                cache.ttl(1).await.err(),
            ]);
        }
        for err in errors {
            let err = err.unwrap_or_else(|| panic!("refused: {message}"));
            assert!(err.is_invalid_argument(), "{err}");
            let text = err.to_string();
            assert!(text.contains(message), "{text} (want {message})");
            assert!(text.contains("nothing was sent"), "{text}");
        }
    }
    for command in ["set", "get", "exists", "del", "pttl", "evalsha", "eval"] {
        assert_eq!(calls(&c, command).await, 0, "{command}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_callers_of_a_stale_entry_get_the_old_value_while_one_recomputes_it() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let grace = Duration::from_secs(60);
    let herd = c
        .cache("herd")
        .default_ttl(Duration::from_millis(50))
        .herd(grace);
    herd.set("report", "old").await.unwrap();
    let key = herd.cache().key("report").unwrap();
    // Stale once no more than the grace is left of the key (by the server's clock).
    await_value("the entry is stale", true, || {
        let (c, key) = (c.clone(), key.clone());
        async move { Ok::<_, respec::Error>(c.pttl(&key).await? <= grace.as_millis() as i64) }
    })
    .await;
    assert_eq!(herd.ttl("report").await.unwrap(), Some(Duration::ZERO));
    assert_eq!(
        herd.get::<String>("report").await.unwrap().as_deref(),
        Some("old")
    );

    // The computation waits until the 19 others have returned (with the old value):
    // they are not held up by it.
    let computed = Arc::new(AtomicUsize::new(0));
    let returned_old = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let (herd, computed, returned_old) =
                (herd.clone(), computed.clone(), returned_old.clone());
            tokio::spawn(async move {
                let got: String = herd
                    .get_or_compute("report", || async {
                        computed.fetch_add(1, Ordering::SeqCst);
                        while returned_old.load(Ordering::SeqCst) < 19 {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Ok::<_, BoxError>("new".to_owned())
                    })
                    .await
                    .unwrap();
                if got == "old" {
                    returned_old.fetch_add(1, Ordering::SeqCst);
                }
                got
            })
        })
        .collect();
    let mut got = Vec::new();
    for caller in callers {
        let value = tokio::time::timeout(Duration::from_secs(30), caller)
            .await
            .expect("every caller returns")
            .unwrap();
        got.push(value);
    }
    got.sort();
    assert_eq!(computed.load(Ordering::SeqCst), 1);
    assert_eq!(got.iter().filter(|v| *v == "new").count(), 1, "{got:?}");
    assert_eq!(got.iter().filter(|v| *v == "old").count(), 19, "{got:?}");
    // Then the new value, fresh, without computing; the claim is gone.
    let next: String = herd
        .get_or_compute("report", || async {
            Err::<String, BoxError>("not again".into())
        })
        .await
        .unwrap();
    assert_eq!(next, "new");
    let ttl = c.pttl(&key).await.unwrap();
    assert!(ttl > grace.as_millis() as i64, "{ttl}");
    assert_eq!(c.exists([format!("{key}:claim")]).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_entry_is_computed_and_a_failed_computation_gives_its_claim_up() {
    let server = Server::start();
    let seen = protocols::both(&server, |c| async move {
        let grace = Duration::from_secs(60);
        let herd = c
            .cache("h")
            .default_ttl(Duration::from_millis(20))
            .herd(grace);
        let first: u32 = herd
            .get_or_compute(1, || async { Ok::<_, BoxError>(10) })
            .await
            .unwrap();
        let ttl = herd.cache().ttl(1).await.unwrap().unwrap();
        assert!(
            ttl > Duration::from_secs(59) && ttl <= grace + Duration::from_millis(20),
            "{ttl:?}"
        );
        let key = herd.cache().key(1).unwrap();
        await_value("the entry is stale", Some(Duration::ZERO), || {
            let herd = herd.clone();
            async move { Ok::<_, respec::Error>(herd.ttl(1).await.unwrap()) }
        })
        .await;
        let err = herd
            .get_or_compute(1, || async {
                Err::<u32, _>(std::io::Error::other("backend down"))
            })
            .await
            .unwrap_err();
        assert!(err.is_compute() && err.key() == Some(key.as_str()), "{err}");
        let source = std::error::Error::source(&err).unwrap().to_string();
        // The claim was given up: the next caller recomputes at once.
        let next: u32 = herd
            .get_or_compute(1, || async { Ok::<_, BoxError>(11) })
            .await
            .unwrap();
        (first, source, next)
    })
    .await;
    assert_eq!(seen, (10, "backend down".to_owned(), 11));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimant_that_gives_up_holds_its_claim_until_the_recompute_lease_ends() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let herd = c
        .cache("dropped")
        .default_ttl(Duration::from_millis(20))
        .herd(Duration::from_secs(60))
        .recompute_lease(Duration::from_millis(500));
    herd.set("k", 1u32).await.unwrap();
    await_value("the entry is stale", Some(Duration::ZERO), || {
        let herd = herd.clone();
        async move { Ok::<_, respec::Error>(herd.ttl("k").await.unwrap()) }
    })
    .await;
    // The claimant's future is dropped while it computes (never finishing).
    let (started, computing) = tokio::sync::oneshot::channel();
    let claimant = herd.get_or_compute("k", || async move {
        started.send(()).unwrap();
        std::future::pending::<Result<u32, BoxError>>().await
    });
    tokio::select! {
        _ = claimant => unreachable!("it never finishes"),
        _ = computing => {}
    }
    let key = herd.cache().key("k").unwrap();
    let claim = format!("{key}:claim");
    let lease = c.pttl(&claim).await.unwrap();
    assert!(lease > 0 && lease <= 500, "{lease}");
    // While the claim lasts, others get the old value without computing.
    let old: u32 = herd
        .get_or_compute("k", || async { Err::<u32, BoxError>("claimed".into()) })
        .await
        .unwrap();
    assert_eq!(old, 1);
    // Once it ends, the next caller claims and recomputes.
    await_value("the claim expired", 0, || c.exists([&claim])).await;
    let new: u32 = herd
        .get_or_compute("k", || async { Ok::<_, BoxError>(2) })
        .await
        .unwrap();
    assert_eq!(new, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_entries_spread_over_slots_and_the_herd_works() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let c = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let cache = c.cache("spread").default_ttl(Duration::from_secs(30));
    cache
        .set_many((0..50u64).map(|i| (i, profile(i))))
        .await
        .unwrap();
    let mut slots = std::collections::BTreeSet::new();
    for i in 0..50u64 {
        assert_eq!(cache.get::<Profile>(i).await.unwrap(), Some(profile(i)));
        slots.insert(respec::cluster::slot(cache.key(i).unwrap().as_bytes()));
    }
    assert!(slots.len() > 40, "{} slots", slots.len());
    let herd = cache.clone().herd(Duration::from_secs(60));
    let computed = AtomicUsize::new(0);
    for _ in 0..3 {
        let v: u64 = herd
            .get_or_compute("answer", || async {
                computed.fetch_add(1, Ordering::SeqCst);
                Ok::<_, BoxError>(42)
            })
            .await
            .unwrap();
        assert_eq!(v, 42);
    }
    assert_eq!(computed.load(Ordering::SeqCst), 1);
}
