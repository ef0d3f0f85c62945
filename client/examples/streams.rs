//! Stream consumers (`respec::streams`):
//!
//! - a reader of two streams (`XREAD BLOCK`) following a writer, every entry in
//!   order per stream, then a second reader going on from the first one's place;
//! - a group of three workers sharing 300 orders (`XREADGROUP`, `run` acknowledging
//!   what the handler accepts), one poison order sent to a dead-letter stream after
//!   3 failed deliveries;
//! - a worker that dies holding entries, whose entries another worker claims
//!   (`XAUTOCLAIM`) once they have been idle long enough;
//! - on a cluster (`REDIS_CLUSTER_URL`): a reader of two streams sharing a hash tag,
//!   and a refusal for two streams of different slots;
//! - behind sentinels (`REDIS_SENTINEL_URL`): a worker on the primary.
//!
//! Run it with `cargo xtask demo` (a throwaway server, cluster and sentinel group),
//! or against your own: `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example streams`.
//! Every key it touches starts with `example:streams:`.

use respec::prelude::*;
use respec::streams::{Entry, Start};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PREFIX: &str = "example:streams:";

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Deletes the keys a previous run left, so the example can run again.
async fn clean(client: &Client) -> respec::Result<()> {
    let keys: Vec<Bytes> = client
        .scan_stream(cmd::scan(0).match_(format!("{PREFIX}*")).count(1000))
        .collect()
        .await?;
    if !keys.is_empty() {
        client.del(keys).await?;
    }
    Ok(())
}

/// Appends `n` entries (`n`, and `kind`) to `key`; their IDs.
async fn add(client: &Client, key: &str, kind: &str, n: usize) -> respec::Result<Vec<Bytes>> {
    let ids = client
        .batch(
            (0..n).map(|i| cmd::xadd(key, "*", [("n", i.to_string()), ("kind", kind.to_owned())])),
        )
        .await?;
    Ok(ids.into_iter().flatten().collect())
}

/// Waits up to 20 s for `check` to hold, asking every 10 ms.
async fn until<F, Fut>(what: &str, mut check: F) -> Res<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = respec::Result<bool>>,
{
    let started = Instant::now();
    while !check().await? {
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!("{what}: not within 20 s").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;
    clean(&client).await?;

    reader(&client).await?;
    workers(&client).await?;
    claims(&client).await?;
    clean(&client).await?;

    if let Ok(url) = std::env::var("REDIS_CLUSTER_URL") {
        on_a_cluster(&Client::connect(&url).await?).await?;
    }
    if let Ok(url) = std::env::var("REDIS_SENTINEL_URL") {
        behind_sentinels(&Client::connect(&url).await?).await?;
    }
    println!("streams example complete");
    Ok(())
}

/// Two streams followed by one reader while a writer appends to them.
async fn reader(client: &Client) -> Res<()> {
    let (orders, refunds) = ("example:streams:orders", "example:streams:refunds");
    add(client, orders, "old", 5).await?;
    let mut reader = client
        .stream_reader()
        .stream(orders, Start::Beginning) // the 5 old orders too
        .stream(refunds, Start::New) // only what comes after `start`
        .block(Duration::from_millis(500))
        .start()
        .await?;
    let writer = {
        let client = client.clone();
        tokio::spawn(async move {
            let o = add(&client, orders, "new", 20).await?;
            let r = add(&client, refunds, "new", 10).await?;
            Ok::<_, respec::Error>((o, r))
        })
    };
    let mut got: HashMap<Bytes, Vec<Entry>> = HashMap::new();
    for _ in 0..35 {
        let e = reader.next().await?;
        got.entry(e.stream.clone()).or_default().push(e);
    }
    let (o, r) = writer.await??;
    let order_ids: Vec<&Bytes> = got[orders.as_bytes()].iter().map(|e| &e.id).collect();
    assert_eq!(order_ids.len(), 25);
    assert_eq!(
        &order_ids[5..],
        o.iter().collect::<Vec<_>>(),
        "orders in order"
    );
    let refund_ids: Vec<&Bytes> = got[refunds.as_bytes()].iter().map(|e| &e.id).collect();
    assert_eq!(refund_ids, r.iter().collect::<Vec<_>>(), "refunds in order");
    println!(
        "reader: 25 orders and 10 refunds in order; the first order's n = {:?}",
        got[orders.as_bytes()][0].field("n")
    );
    // Its place, given to a new reader: it goes on from there.
    let places = reader.last_ids().to_vec();
    let after = add(client, refunds, "later", 1).await?;
    let mut next = client
        .stream_reader()
        .stream(orders, Start::After(places[0].1.clone()))
        .stream(refunds, Start::After(places[1].1.clone()))
        .start()
        .await?;
    let e = next.next().await?;
    assert_eq!(e.id, after[0]);
    println!("a new reader from the last IDs: {:?}", e.id);
    Ok(())
}

/// Three workers of one group, and a poison order that goes to a dead-letter stream.
async fn workers(client: &Client) -> Res<()> {
    let (jobs, dead) = ("example:streams:jobs", "example:streams:dead");
    let ids = add(client, jobs, "order", 300).await?;
    let poison: Option<Bytes> = client.xadd(jobs, "*", [("kind", "poison")]).await?;
    let handled: Arc<Mutex<HashMap<Bytes, usize>>> = Arc::default();
    let letters = client.clone();
    let group = client
        .stream_group(jobs, "billing", "worker-0")
        .create(Start::Beginning)
        .count(20)
        .block(Duration::from_millis(200))
        // A failed entry is tried again once idle for 100 ms, 3 times at most.
        .claim_idle(Some(Duration::from_millis(100)))
        .claim_interval(Duration::from_millis(50))
        .dead_letter(3, move |entry| {
            let letters = letters.clone();
            async move {
                let fields = entry.fields.clone();
                letters.xadd(dead, "*", fields).await?;
                Ok::<_, respec::Error>(())
            }
        });
    let mut tasks = Vec::new();
    for w in 0..3 {
        let handled = handled.clone();
        let worker = group
            .clone()
            .consumer(format!("worker-{w}"))
            .start()
            .await?;
        tasks.push(tokio::spawn(worker.run(move |entry| {
            let handled = handled.clone();
            async move {
                if entry.field("kind").map(|k| &k[..]) == Some(b"poison") {
                    return Err(format!("cannot bill {:?}", entry.id));
                }
                *handled.lock().unwrap().entry(entry.id).or_default() += 1;
                Ok(())
            }
        })));
    }
    let started = Instant::now();
    until("300 orders billed", || {
        let n = handled.lock().unwrap().len();
        async move { Ok(n == 300) }
    })
    .await?;
    until("a dead letter", || async {
        Ok(client.xlen(dead).await? == 1)
    })
    .await?;
    // The poison entry is acknowledged once its dead letter is written.
    until("nothing pending", || async {
        Ok(client.xpending(jobs, "billing").await?.0 == 0)
    })
    .await?;
    for t in &tasks {
        t.abort();
    }
    let once = {
        let handled = handled.lock().unwrap();
        ids.iter().all(|id| handled[id] == 1)
    };
    assert!(once, "each order billed once");
    let letter = client.xrange(dead, "-", "+").await?;
    assert_eq!(letter.len(), 1);
    println!(
        "workers: 300 orders billed once each in {:?}; poison {:?} moved to {dead}: {:?}",
        started.elapsed(),
        poison,
        letter[0].fields
    );
    Ok(())
}

/// A worker dies holding entries; another claims them once they are idle.
async fn claims(client: &Client) -> Res<()> {
    let jobs = "example:streams:claims";
    add(client, jobs, "job", 10).await?;
    let group = client
        .stream_group(jobs, "workers", "doomed")
        .create(Start::Beginning)
        .count(10)
        .claim_idle(Some(Duration::from_millis(100)))
        .claim_interval(Duration::from_millis(50));
    let mut doomed = group.clone().start().await?;
    let taken = doomed.next_batch().await?;
    assert_eq!(taken.len(), 10);
    drop(doomed); // dies without acknowledging
    let mut survivor = group.consumer("survivor").start().await?;
    let mut claimed = Vec::new();
    while claimed.len() < 10 {
        let e = survivor.next().await?;
        assert_eq!(
            e.deliveries, 2,
            "delivered once to the doomed worker, then claimed"
        );
        survivor.ack(&e).await?;
        claimed.push(e.id);
    }
    assert_eq!(
        claimed,
        taken.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(client.xpending(jobs, "workers").await?.0, 0);
    println!("claims: the survivor claimed and acknowledged the 10 entries the doomed worker held");
    Ok(())
}

/// On a cluster, one reader reads streams of one slot.
async fn on_a_cluster(client: &Client) -> Res<()> {
    let keys = ["example:streams:{cluster}:a", "example:streams:{cluster}:b"];
    client.del(keys).await?;
    let err = client
        .stream_reader()
        .stream("example:streams:a", Start::New)
        .stream("example:streams:b", Start::New)
        .start()
        .await
        .unwrap_err();
    assert!(err.is_invalid_argument());
    println!("cluster: {err}");
    let mut reader = client
        .stream_reader()
        .stream(keys[0], Start::New)
        .stream(keys[1], Start::New)
        .start()
        .await?;
    let a = add(client, keys[0], "x", 2).await?;
    let b = add(client, keys[1], "y", 2).await?;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(reader.next().await?.id);
    }
    got.sort();
    let mut want: Vec<Bytes> = a.into_iter().chain(b).collect();
    want.sort();
    assert_eq!(got, want);
    println!("cluster: a reader of two streams sharing a hash tag read 4 entries");
    client.del(keys).await?;
    Ok(())
}

/// Behind sentinels, a worker on the primary.
async fn behind_sentinels(client: &Client) -> Res<()> {
    let jobs = "example:streams:sentinel";
    client.del([jobs]).await?;
    let ids = add(client, jobs, "job", 50).await?;
    let mut worker = client
        .stream_group(jobs, "workers", "w")
        .create(Start::Beginning)
        .start()
        .await?;
    let mut seen = Vec::new();
    while seen.len() < 50 {
        for e in worker.next_batch().await? {
            worker.ack(&e).await?;
            seen.push(e.id);
        }
    }
    assert_eq!(seen, ids);
    println!("sentinels: a worker handled and acknowledged 50 entries on the primary");
    client.del([jobs]).await?;
    Ok(())
}
