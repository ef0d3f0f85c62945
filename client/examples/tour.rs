//! A guided tour of respec. Run it with `cargo xtask demo` (which starts a throwaway
//! server), or against your own: `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example tour`.

use respec::prelude::*;
use respec::types::{ExistenceCondition, ScoreBound};
use std::time::Duration;

fn section(title: &str) {
    println!("\n== {title} ==");
}

#[tokio::main]
async fn main() -> respec::Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    section("connect");
    let client = Client::connect(&url).await?;
    let server = client.strings().info().section("server").await?;
    let line = |key: &str| server.lines().find(|l| l.starts_with(key));
    let version = line("valkey_version")
        .or_else(|| line("redis_version"))
        .unwrap_or("unknown version");
    println!("connected to {url} ({version})");
    client.flushdb().await?;

    section("every command is a typed method");
    client.set("greeting", "hello").await?;
    let v: Option<Bytes> = client.get("greeting").await?;
    println!("GET greeting            -> {v:?}");
    let n: i64 = client.incrby("visits", 100).await?;
    println!("INCRBY visits 100       -> {n}");
    let s: Option<String> = client.get("greeting").decode().await?;
    println!("GET ... .decode()       -> {s:?}  (pick any reply type)");

    section("options are builder methods, in any order");
    let was_set: bool = client.set("lock", "me").px(30_000).nx().await?;
    println!("SET lock me NX PX 30000 -> {was_set}");
    let again: bool = client.set("lock", "you").nx().await?;
    println!("SET lock you NX         -> {again}  (already held)");

    section("options that change the reply change the type");
    let old: Option<Bytes> = client.set("greeting", "hi").get().await?;
    println!("SET greeting hi GET     -> {old:?}");
    client
        .zadd("board", [(42.0, "alice"), (17.5, "bob"), (99.0, "carol")])
        .await?;
    let members: Vec<Bytes> = client.zrange("board", 0, -1).await?;
    println!("ZRANGE board 0 -1       -> {members:?}");
    let scored: Vec<(Bytes, f64)> = client.zrange("board", 0, -1).withscores().await?;
    println!("... WITHSCORES          -> {scored:?}");
    let bumped: Option<f64> = client
        .zadd("board", [(1.0, "bob")])
        .condition(ExistenceCondition::Xx)
        .incr()
        .await?;
    println!("ZADD board XX INCR 1 bob -> {bumped:?}");
    let top = client
        .zcount("board", ScoreBound::Exclusive(20.0), ScoreBound::PosInf)
        .await?;
    println!("ZCOUNT board (20 +inf   -> {top}");

    section("the string view (decode_responses by type)");
    let text = client.strings();
    let board: Vec<(String, f64)> = text.zrevrange("board", 0, 1).withscores().await?;
    println!("strings().zrevrange     -> {board:?}");
    text.hset("user:1", [("name", "Ada"), ("lang", "Rust")])
        .await?;
    let user = text.hgetall("user:1").await?;
    println!(
        "strings().hgetall       -> {} fields, name = {:?}",
        user.len(),
        user.get("name")
    );

    section("pipelines: one write, typed results");
    let (ok, count, value) = client
        .pipeline()
        .add(cmd::set("a", 1))
        .add(cmd::incr("a"))
        .add(cmd::get("a"))
        .execute()
        .await?;
    println!("SET, INCR, GET          -> ({ok}, {count}, {value:?})");
    let many = client.batch((1..=5).map(|i| cmd::incrby("sum", i))).await?;
    println!("5 x INCRBY in a batch   -> {many:?}");

    section("concurrency: one connection, automatic pipelining");
    // `.into_future()` hands a command to the client and gives the future of its
    // reply, which owns what it needs: spawn it, or join it with others.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        tasks.spawn(client.incrby("shared", i).into_future());
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task")?;
    }
    // tokio::join! and tokio::select! take commands as they are.
    let (shared, missing) =
        tokio::join!(client.get("shared").decode::<i64>(), client.exists("nope"));
    println!(
        "100 tasks INCRBY shared -> {}, EXISTS nope -> {}",
        shared?, missing?
    );

    section("blocking commands get their own connection");
    let waiter = tokio::spawn(client.blpop("queue", Duration::from_secs(5)).into_future());
    println!("PING while BLPOP waits  -> {:?}", client.ping().await?);
    client.rpush("queue", "job-1").await?;
    println!(
        "BLPOP queue             -> {:?}",
        waiter.await.expect("task")?
    );

    section("one value or many, stream IDs as you write them");
    let gone = client.del(["a", "sum"]).await? + client.del("shared").await?;
    println!("DEL a sum, DEL shared   -> {gone}");
    for i in 0..3 {
        client
            .xadd("events", "*", [("n", i)])
            .maxlen(1000)
            .approx()
            .await?;
    }
    let events = client.xrange("events", "-", "+").await?;
    println!(
        "XADD events MAXLEN ~ 1000 * n i, XRANGE events - + -> {} entries",
        events.len()
    );
    let fields = client
        .bitfield("flags")
        .set("u8", "#1", 7)
        .get("u8", "#1")
        .await?;
    println!("BITFIELD flags SET u8 #1 7 GET u8 #1 -> {fields:?}");

    section("a connection of your own for what the shared one refuses");
    let err = client.select(1).await.unwrap_err();
    println!("SELECT 1 (shared)       -> {err}");
    let conn = client.dedicated().await?;
    let db = client.config().database;
    conn.select(db).await?;
    conn.watch(["greeting"]).await?;
    let (old,): (Option<String>,) = conn
        .multi()
        .add(cmd::set("greeting", "hey").get().decode::<Option<String>>())
        .execute()
        .await?;
    println!("dedicated: SELECT {db}, WATCH, MULTI SET GET EXEC -> {old:?}");
    drop(conn); // back to the pool? no: SELECT changed it, so it is closed

    section("pub/sub: a handler per channel, and one for the rest");
    let sub = client.subscriber().ignore_subscribe_messages().await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let orders = tx.clone();
    sub.subscribe_with("tour:orders", move |msg| {
        let orders = orders.clone();
        async move {
            let _ = orders.send(format!("orders handler: {:?}", msg.payload));
        }
    })
    .await?;
    sub.subscribe(["tour:news"]).await?;
    let task = sub
        .on_error(|e| eprintln!("handler error: {e}"))
        .run(move |msg| {
            let tx = tx.clone();
            async move {
                let text = msg.payload_str()?.to_owned(); // an error would go to on_error
                let _ = tx.send(format!("run's handler: {text:?} on {:?}", msg.channel));
                Ok::<_, respec::Error>(())
            }
        });
    client.publish("tour:orders", "order-1").await?;
    client.publish("tour:news", "hello").await?;
    for _ in 0..2 {
        println!("{}", rx.recv().await.expect("a message"));
    }
    task.abort();

    section("errors are typed");
    let err = client.incr("greeting").await.unwrap_err();
    println!("INCR greeting           -> {err}");
    if let Some(e) = err.server_error() {
        println!("  code = {}, message = {}", e.code(), e.message());
    }
    let bad = client.zadd("board", [(f64::NAN, "x")]).await.unwrap_err();
    println!("ZADD with NaN           -> {bad}  (nothing was sent)");

    section("the escape hatch and the metadata");
    let raw = client.cmd("OBJECT").arg("ENCODING").arg("board").await?;
    println!("raw OBJECT ENCODING     -> {raw:?}");
    let meta = respec::command::meta::lookup("blpop").expect("known");
    println!(
        "BLPOP: since {}, blocking = {}, acl = {:?}",
        meta.since,
        meta.is_blocking(),
        meta.acl_categories
    );
    println!("\ntour complete");
    Ok(())
}
