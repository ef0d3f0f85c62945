//! Pipelines: many commands in one write, their replies typed.
//!
//! - a typed pipeline whose reply tuple is inferred from the commands;
//! - `execute_each`, where one failing command does not hide the others' replies;
//! - `batch`, a run of one command whose length is only known at run time;
//! - `pipeline_dyn`, any mix of commands, replies as `Value`s.
//!
//! Run it with `cargo xtask demo` (a throwaway server), or against your own:
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example pipelines`.
//! Every key it touches starts with `example:pipelines:`.

use respec::prelude::*;

const PREFIX: &str = "example:pipelines:";

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

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

#[tokio::main]
async fn main() -> respec::Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;
    clean(&client).await?;

    // 1. A typed pipeline: the tuple's types come from the commands (SET -> bool,
    //    INCRBY -> i64, GET decoded as Option<String>, RPUSH -> i64).
    let (ok, n, text, len) = client
        .pipeline()
        .add(cmd::set(key("a"), 1))
        .add(cmd::incrby(key("a"), 41))
        .add(cmd::get(key("a")).decode::<Option<String>>())
        .add(cmd::rpush(key("list"), ["x", "y", "z"]))
        .execute()
        .await?;
    println!("typed pipeline         -> ({ok}, {n}, {text:?}, {len})");
    assert!(ok);
    assert_eq!(n, 42);
    assert_eq!(text.as_deref(), Some("42"));
    assert_eq!(len, 3);

    // 2. execute_each: every command gets its own Result. INCR on text fails alone.
    client.set(key("text"), "not a number").await?;
    let (first, bad, last) = client
        .pipeline()
        .add(cmd::incr(key("n")))
        .add(cmd::incr(key("text")))
        .add(cmd::get(key("text")))
        .execute_each()
        .await?;
    let err = bad.expect_err("INCR on a string is an error");
    let (first, last) = (first?, last?);
    println!("execute_each           -> INCR n = {first}, INCR text = error, GET text = {last:?}");
    println!("                          the error: {err}");
    assert!(err.is_server());
    assert_eq!(err.server_error().map(|e| e.code()), Some("ERR"));
    assert_eq!(first, 1);
    assert_eq!(last, Some(Bytes::from("not a number")));
    // The same commands with `execute`: the first error is the pipeline's error.
    let err = client
        .pipeline()
        .add(cmd::incr(key("n")))
        .add(cmd::incr(key("text")))
        .execute()
        .await
        .expect_err("the pipeline has a failing command");
    println!("execute                -> error: {err}");
    assert_eq!(err.command(), Some("INCR"));

    // 3. batch: 1000 INCRBYs in one write; the replies are a Vec<i64> of running sums.
    let sums = client
        .batch((1..=1000).map(|i| cmd::incrby(key("sum"), i)))
        .await?;
    println!(
        "batch of {} INCRBYs  -> running sums {}, {}, ..., {}",
        sums.len(),
        sums[0],
        sums[1],
        sums[999]
    );
    assert_eq!(sums.len(), 1000);
    for (i, sum) in (1..=1000i64).zip(&sums) {
        assert_eq!(*sum, i * (i + 1) / 2);
    }

    // 4. pipeline_dyn: mixed commands, as many as the program decides, replies as
    //    Values; one command's error (LPOP on a string) is that command's result.
    let mut p = client.pipeline_dyn();
    p.push(cmd::set(key("dyn:str"), "hello"))
        .push(cmd::hset(key("dyn:hash"), [("field", "value")]));
    for member in ["a", "b", "c"] {
        p.push(cmd::sadd(key("dyn:set"), [member]));
    }
    p.push(cmd::get(key("dyn:str")))
        .push(cmd::lpop(key("dyn:str")))
        .push(cmd::scard(key("dyn:set")));
    println!("pipeline_dyn of {} commands:", p.len());
    let replies = p.execute().await?;
    for reply in &replies {
        match reply {
            Ok(value) => println!("  {value:?}"),
            Err(e) => println!("  error: {e}"),
        }
    }
    assert_eq!(replies.len(), 8);
    assert!(matches!(replies[0], Ok(Value::Simple(_))));
    assert_eq!(replies[1].as_ref().ok(), Some(&Value::Int(1)));
    assert_eq!(
        replies[5].as_ref().ok(),
        Some(&Value::Bulk(Bytes::from("hello")))
    );
    let wrongtype = replies[6].as_ref().expect_err("LPOP on a string");
    assert_eq!(
        wrongtype.server_error().map(|e| e.code()),
        Some("WRONGTYPE")
    );
    assert_eq!(replies[7].as_ref().ok(), Some(&Value::Int(3)));

    clean(&client).await?;
    println!("pipelines example complete");
    Ok(())
}
