//! Server-side functions (`FUNCTION LOAD`, `FCALL`, `FCALL_RO`, Redis 7+ and Valkey),
//! and the pattern for using a library from Rust: a small typed wrapper struct that
//! holds one typed `Function<T>` handle per function and has one method per function.
//!
//! - `Library::new` and `load` (`FUNCTION LOAD REPLACE`), `info` (`FUNCTION LIST`);
//! - `Function<T>` handles: the reply type is part of the handle, `read_only()` calls
//!   with `FCALL_RO`;
//! - a call reloads the library when the server lost it (here: `FUNCTION DELETE`);
//! - calls queued in a pipeline and a transaction with `.command()`.
//!
//! Run it with `cargo xtask demo` (a throwaway server), or against your own:
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example functions`.
//! Every key it touches starts with `example:functions:`; it loads the library
//! `example_counters` (function names are server-wide, so they carry its prefix).

use respec::function::{FcallCommand, Function, Library};
use respec::prelude::*;

const PREFIX: &str = "example:functions:";

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

/// The library's code: the shebang line names it.
const COUNTERS_CODE: &str = r#"#!lua name=example_counters

-- Adds `by` to the counter and returns its new value.
redis.register_function('example_counters_bump', function(keys, args)
  return redis.call('INCRBY', keys[1], args[1])
end)

-- Reads the counter without writing: callable with FCALL_RO (and on replicas).
redis.register_function{
  function_name = 'example_counters_peek',
  callback = function(keys) return redis.call('GET', keys[1]) end,
  flags = { 'no-writes' },
}
"#;

/// A typed wrapper for the `example_counters` library: what the rest of a program
/// sees, with the function names, key and argument order and reply types in one place.
struct Counters {
    library: Library,
    bump: Function<i64>,
    peek: Function<Option<String>>,
}

impl Counters {
    fn new() -> Result<Self> {
        let library = Library::new(COUNTERS_CODE)?;
        Ok(Counters {
            bump: library.function("example_counters_bump"),
            peek: library.function("example_counters_peek").read_only(),
            library,
        })
    }

    /// Loads (or replaces) the library on the server. Calls also load it when the
    /// server does not have it, so this is only needed to fail early.
    async fn load(&self, client: &Client) -> Result<()> {
        self.library.load(client).await
    }

    /// Adds `by` to the counter at `key`; returns the new value.
    async fn bump(&self, client: &Client, key: &str, by: i64) -> Result<i64> {
        self.bump.call().key(key).arg(by).invoke(client).await
    }

    /// The counter's value, `None` when it does not exist (`FCALL_RO`).
    async fn peek(&self, client: &Client, key: &str) -> Result<Option<String>> {
        self.peek.call().key(key).invoke(client).await
    }

    /// `bump` as a command to queue in a pipeline or transaction (a pipeline does
    /// not load libraries: load it first).
    fn bump_command(&self, key: &str, by: i64) -> FcallCommand<i64> {
        self.bump.call().key(key).arg(by).command()
    }

    /// `peek` as a command to queue.
    fn peek_command(&self, key: &str) -> FcallCommand<Option<String>> {
        self.peek.call().key(key).command()
    }
}

/// Deletes the keys a previous run left, so the example can run again.
async fn clean(client: &Client) -> Result<()> {
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
async fn main() -> Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;
    clean(&client).await?;

    // 1. Load the library and look at what the server has of it.
    let counters = Counters::new()?;
    counters.load(&client).await?;
    let info = counters
        .library
        .info(&client)
        .await?
        .expect("the library is loaded");
    let mut functions: Vec<(String, Vec<String>)> = info
        .functions
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            let text = |b: Bytes| String::from_utf8_lossy(&b).into_owned();
            let name = f.name.map(text).unwrap_or_default();
            let flags = f.flags.unwrap_or_default().into_iter().map(text).collect();
            (name, flags)
        })
        .collect();
    functions.sort();
    println!(
        "FUNCTION LOAD {} -> functions {functions:?}",
        counters.library.name()
    );
    assert_eq!(
        functions,
        [
            ("example_counters_bump".to_owned(), vec![]),
            (
                "example_counters_peek".to_owned(),
                vec!["no-writes".to_owned()]
            ),
        ]
    );

    // 2. The typed wrapper: plain async methods with typed replies.
    let hits = key("hits");
    let before = counters.peek(&client, &hits).await?;
    let n = counters.bump(&client, &hits, 5).await?;
    let n2 = counters.bump(&client, &hits, 2).await?;
    let after = counters.peek(&client, &hits).await?;
    println!("peek {before:?}, bump 5 -> {n}, bump 2 -> {n2}, peek {after:?}");
    assert_eq!((before, n, n2, after.as_deref()), (None, 5, 7, Some("7")));

    // 3. The server loses the library: the next call loads it again and retries.
    counters.library.delete(&client).await?;
    assert!(counters.library.info(&client).await?.is_none());
    let n = counters.bump(&client, &hits, 3).await?;
    println!("after FUNCTION DELETE: bump 3 -> {n} (the library was reloaded)");
    assert_eq!(n, 10);
    assert!(counters.library.info(&client).await?.is_some());

    // 4. Queued in a pipeline and in a MULTI/EXEC transaction.
    let (a, b, seen) = client
        .pipeline()
        .add(counters.bump_command(&hits, 1))
        .add(counters.bump_command(&key("other"), 100))
        .add(counters.peek_command(&hits))
        .execute()
        .await?;
    println!("pipeline: bump, bump, peek -> ({a}, {b}, {seen:?})");
    assert_eq!((a, b, seen.as_deref()), (11, 100, Some("11")));
    let (a, b) = client
        .pipeline()
        .transaction()
        .add(counters.bump_command(&hits, 10))
        .add(counters.bump_command(&hits, -21))
        .execute()
        .await?;
    println!("transaction: bump 10, bump -21 -> ({a}, {b})");
    assert_eq!((a, b), (21, 0));

    // An untyped call, for exploring: the reply is a Value.
    let v = counters
        .library
        .call("example_counters_peek")
        .key(&hits)
        .invoke(&client)
        .await?;
    println!("untyped call -> {v:?}");
    assert_eq!(v.as_bytes().map(|b| &b[..]), Some(&b"0"[..]));

    clean(&client).await?;
    println!("functions example complete");
    Ok(())
}
