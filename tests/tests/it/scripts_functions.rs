//! Scripts and function libraries in pipelines, transactions and on watched
//! connections, under RESP2 and RESP3.

use bytes::Bytes;
use respec::function::{Function, Library};
use respec::script::Script;
use respec::{cmd, Commands, Error, Value};
use respec_tests::protocols::{self, Deployment};
use respec_tests::{calls, Server};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// The server code of an error reply (`WRONGTYPE`), or a panic naming the error.
fn code(e: &Error) -> String {
    e.server_error()
        .unwrap_or_else(|| panic!("expected a server error, got {e}"))
        .code()
        .to_owned()
}

fn incr_by() -> Script {
    Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])")
}

fn get() -> Script {
    Script::new("return redis.call('GET', KEYS[1])")
}

// ---------------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn scripts_in_a_pipeline_and_a_transaction_are_loaded_first() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let (incr_by, get) = (incr_by(), get());
        c.script_flush().await.unwrap();
        let loads = calls(&c, "script|load").await;
        let (a, read, plain) = c
            .pipeline()
            .add(incr_by.prepare().key("n").arg(5).command::<i64>())
            .add(get.prepare().key("n").command::<Option<String>>())
            .add(cmd::get("n").decode::<i64>())
            .execute()
            .await
            .unwrap();

        // Flushed again: the transaction loads them before MULTI.
        c.script_flush().await.unwrap();
        let (b, read_in_tx) = c
            .pipeline()
            .transaction()
            .add(incr_by.prepare().key("n").arg(2).command::<i64>())
            .add(get.prepare().key("n").command::<Option<String>>())
            .execute()
            .await
            .unwrap();
        let loads = calls(&c, "script|load").await - loads;
        let exists = c.script_exists([incr_by.sha1(), get.sha1()]).await.unwrap();
        (a, read, plain, b, read_in_tx, loads, exists)
    })
    .await;
    assert_eq!(
        got,
        (
            5,
            Some("5".to_owned()),
            5,
            7,
            Some("7".to_owned()),
            4,
            vec![true, true]
        )
    );
}

#[tokio::test]
async fn a_script_queued_many_times_is_loaded_once() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let incr_by = incr_by();
        c.script_flush().await.unwrap();
        let (loads, checks) = (
            calls(&c, "script|load").await,
            calls(&c, "script|exists").await,
        );
        let (a, b2, d) = c
            .pipeline()
            .transaction()
            .add(incr_by.prepare().key("n").arg(1).command::<i64>())
            .add(incr_by.prepare().key("n").arg(1).command::<i64>())
            .add(incr_by.prepare().key("m").arg(1).command::<i64>())
            .execute()
            .await
            .unwrap();
        let first = (
            calls(&c, "script|load").await - loads,
            calls(&c, "script|exists").await - checks,
        );
        // Already there: checked, not loaded.
        let (e,) = c
            .pipeline()
            .add(incr_by.prepare().key("n").arg(1).command::<i64>())
            .execute()
            .await
            .unwrap();
        let second = (
            calls(&c, "script|load").await - loads,
            calls(&c, "script|exists").await - checks,
        );
        // A runtime-sized batch and a mixed pipeline load it too.
        c.script_flush().await.unwrap();
        let batch = c
            .batch((1..=3).map(|i| incr_by.prepare().key("b").arg(i).command::<i64>()))
            .await
            .unwrap();
        c.script_flush().await.unwrap();
        let mut dynamic = c.pipeline_dyn();
        dynamic
            .push(incr_by.prepare().key("d").arg(4).command::<i64>())
            .push(incr_by.prepare().key("d").arg(4).command::<i64>());
        let dynamic: Vec<Value> = dynamic
            .execute()
            .await
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let third = calls(&c, "script|load").await - loads;
        ((a, b2, d, e), first, second, batch, dynamic, third)
    })
    .await;
    assert_eq!(
        got,
        (
            (1, 2, 1, 3),
            (1, 1),
            (1, 2),
            vec![1, 3, 6],
            vec![Value::Int(4), Value::Int(8)],
            3
        )
    );
}

#[tokio::test]
async fn a_script_that_does_not_compile_fails_the_pipeline_before_it_is_sent() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let broken = Script::new("return +");
        let err = c
            .pipeline()
            .transaction()
            .add(cmd::set("k", 1))
            .add(broken.prepare().key("k").command::<i64>())
            .execute()
            .await
            .unwrap_err();
        assert_eq!(err.command(), Some("SCRIPT LOAD"), "{err}");
        (code(&err), c.exists(["k"]).await.unwrap())
    })
    .await;
    assert_eq!(got, ("ERR".to_owned(), 0));
}

#[tokio::test]
async fn read_only_script_calls_in_a_pipeline_use_evalsha_ro() {
    let server = Server::start();
    if !protocols::since(&server, (7, 0, 0), "EVALSHA_RO") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        let (incr_by, get) = (incr_by(), get());
        c.set("k", "41").await.unwrap();
        c.script_flush().await.unwrap();
        let before = (calls(&c, "evalsha_ro").await, calls(&c, "evalsha").await);
        let (read, n, refused) = c
            .pipeline()
            .add(
                get.prepare()
                    .key("k")
                    .read_only()
                    .command::<Option<String>>(),
            )
            .add(incr_by.prepare().key("k").arg(1).command::<i64>())
            .add(
                incr_by
                    .prepare()
                    .key("k")
                    .arg(1)
                    .read_only()
                    .command::<i64>(),
            )
            .execute_each()
            .await
            .unwrap();
        let refused = refused.unwrap_err();
        assert_eq!(refused.command(), Some("EVALSHA_RO"), "{refused}");
        let counts = (
            calls(&c, "evalsha_ro").await - before.0,
            calls(&c, "evalsha").await - before.1,
        );
        (
            read.unwrap(),
            n.unwrap(),
            code(&refused),
            counts,
            c.get("k").await.unwrap(),
        )
    })
    .await;
    assert_eq!(
        got,
        (
            Some("41".to_owned()),
            42,
            "ERR".to_owned(),
            (2, 1),
            Some(b("42"))
        )
    );
}

#[tokio::test]
async fn scripts_through_the_strings_view_and_a_watched_connection() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let (incr_by, get) = (incr_by(), get());
        c.set("k", "7").await.unwrap();
        c.script_flush().await.unwrap();
        let via_strings: Option<String> = get.prepare().key("k").invoke(c.strings()).await.unwrap();
        let n: i64 = incr_by
            .prepare()
            .key("k")
            .arg(1)
            .invoke(c.strings())
            .await
            .unwrap();

        // In the helper, after a flush: the immediate call loads its script on the
        // watched connection, the transaction's script is loaded before MULTI.
        c.script_flush().await.unwrap();
        let (read, incremented) = c
            .transaction(["k"], |tx| {
                let (incr_by, get) = (&incr_by, &get);
                async move {
                    let read: Option<String> = get.prepare().key("k").invoke(&tx).await?;
                    let (n,) = tx
                        .multi()
                        .add(incr_by.prepare().key("k").arg(10).command::<i64>())
                        .execute()
                        .await?;
                    Ok((read, n))
                }
            })
            .await
            .unwrap();
        let status = c.pool_status();
        (
            via_strings,
            n,
            read,
            incremented,
            (status.open, status.idle),
        )
    })
    .await;
    assert_eq!(
        got,
        (Some("7".to_owned()), 8, Some("8".to_owned()), 18, (1, 1))
    );
}

#[tokio::test]
async fn a_script_reading_a_missing_key_is_none() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        get()
            .prepare()
            .key("missing")
            .invoke::<Option<String>>(&c)
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(got, Ok(None));
}

// ---------------------------------------------------------------------------------
// Function libraries
// ---------------------------------------------------------------------------------

const LIBRARY: &str = "#!lua name=respec_fn
redis.register_function('bump', function(keys, args)
  return redis.call('INCRBY', keys[1], args[1])
end)
redis.register_function{
  function_name = 'peek',
  callback = function(keys, args) return redis.call('GET', keys[1]) end,
  flags = {'no-writes'},
}
";

fn library() -> Library {
    Library::new(LIBRARY).unwrap()
}

#[test]
fn a_library_needs_the_shebang_line() {
    for code in [
        "redis.register_function('f', function() return 1 end)",
        "#!lua\nredis.register_function('f', function() return 1 end)",
        "#!lua name=\nredis.register_function('f', function() return 1 end)",
        "\n#!lua name=late\n",
        "#lua name=nobang\n",
    ] {
        let err = Library::new(code).unwrap_err();
        assert!(err.is_invalid_argument(), "{code:?}: {err}");
        assert_eq!(err.command(), Some("FUNCTION LOAD"), "{code:?}: {err}");
        assert!(err.to_string().contains("FUNCTION LOAD"), "{err}");
    }
    assert_eq!(library().name(), "respec_fn");
    assert_eq!(library().code(), &b(LIBRARY));
    let other = Library::new("#!lua engine_opt=1 name=second\nreturn").unwrap();
    assert_eq!(other.name(), "second");
}

#[tokio::test]
async fn typed_functions_and_read_only_calls() {
    typed_functions_and_read_only_calls_on(&Server::start()).await;
}

pub(crate) async fn typed_functions_and_read_only_calls_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 0, 0), "FUNCTION") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.function_flush().await.unwrap();
        let lib = library();
        lib.load(&c).await.unwrap();
        // Loading again replaces it.
        lib.load(&c).await.unwrap();
        let bump: Function<i64> = lib.function("bump");
        let peek: Function<Option<String>> = lib.function("peek").read_only();
        assert_eq!(peek.name(), b"peek");
        let five = bump.call().key("k").arg(5).invoke(&c).await.unwrap();
        let read = peek.call().key("k").invoke(&c).await.unwrap();

        // FCALL_RO of a function that writes: refused by the server, not retried.
        let ro_bump: Function<i64> = lib.function("bump").read_only();
        let refused = ro_bump.call().key("k").arg(1).invoke(&c).await.unwrap_err();
        assert!(
            !refused.to_string().contains("Function not found"),
            "{refused}"
        );

        // Unknown to the server after FUNCTION FLUSH: the call loads the library.
        c.function_flush().await.unwrap();
        let six = bump.call().key("k").arg(1).invoke(&c).await.unwrap();
        let reloaded = lib.info(&c).await.unwrap().is_some();
        c.function_flush().await.unwrap();
        let read_after_flush = peek.call().key("k").invoke(&c).await.unwrap();

        // A function the library does not have: loaded once more, then the error.
        let missing = lib
            .function::<i64>("nosuch")
            .call()
            .invoke(&c)
            .await
            .unwrap_err();
        assert!(
            missing.to_string().contains("Function not found"),
            "{missing}"
        );
        (
            five,
            read,
            code(&refused),
            six,
            reloaded,
            read_after_flush,
            code(&missing),
            c.get("k").await.unwrap(),
        )
    })
    .await;
    assert_eq!(
        got,
        (
            5,
            Some("5".to_owned()),
            "ERR".to_owned(),
            6,
            true,
            Some("6".to_owned()),
            "ERR".to_owned(),
            Some(b("6"))
        )
    );
}

#[tokio::test]
async fn library_info_lists_functions_and_flags_until_deleted() {
    let server = Server::start();
    if !protocols::since(&server, (7, 0, 0), "FUNCTION") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.function_flush().await.unwrap();
        let lib = library();
        let before = lib.info(&c).await.unwrap();
        lib.load(&c).await.unwrap();
        // A library whose name starts the same is not this one.
        let longer = Library::new(
            "#!lua name=respec_fn_more\nredis.register_function('more', function() return 1 end)",
        )
        .unwrap();
        longer.load(&c).await.unwrap();

        let info = lib.info(&c).await.unwrap().expect("loaded");
        let mut functions: Vec<(Bytes, Vec<Bytes>)> = info
            .functions
            .unwrap_or_default()
            .into_iter()
            .map(|f| (f.name.unwrap(), f.flags.unwrap_or_default()))
            .collect();
        functions.sort();
        let summary = (info.library_name, info.engine, functions);

        lib.delete(&c).await.unwrap();
        let after = lib.info(&c).await.unwrap();
        let again = lib.delete(&c).await.unwrap_err();
        let longer_kept = longer.info(&c).await.unwrap().is_some();
        (
            before.is_none(),
            summary,
            after.is_none(),
            code(&again),
            longer_kept,
        )
    })
    .await;
    assert_eq!(
        got,
        (
            true,
            (
                Some(b("respec_fn")),
                Some(b("LUA")),
                vec![(b("bump"), vec![]), (b("peek"), vec![b("no-writes")])]
            ),
            true,
            "ERR".to_owned(),
            true
        )
    );
}

#[tokio::test]
async fn function_calls_queued_in_a_pipeline_and_a_transaction() {
    function_calls_queued_in_a_pipeline_and_a_transaction_on(&Server::start()).await;
}

pub(crate) async fn function_calls_queued_in_a_pipeline_and_a_transaction_on(
    server: &impl Deployment,
) {
    if !protocols::since(server, (7, 0, 0), "FUNCTION") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.function_flush().await.unwrap();
        let lib = library();
        let bump: Function<i64> = lib.function("bump");
        let peek: Function<Option<String>> = lib.function("peek").read_only();

        // A pipeline does not load libraries: the call fails, the others run.
        let (set, missing) = c
            .pipeline()
            .add(cmd::set("k", 10))
            .add(bump.call().key("k").arg(1).command())
            .execute_each()
            .await
            .unwrap();
        let missing = missing.unwrap_err();
        assert!(
            missing.to_string().contains("Function not found"),
            "{missing}"
        );

        lib.load(&c).await.unwrap();
        let (a, read, plain) = c
            .pipeline()
            .add(bump.call().key("k").arg(1).command())
            .add(peek.call().key("k").command())
            .add(cmd::get("k").decode::<i64>())
            .execute()
            .await
            .unwrap();
        let (b2, read_in_tx) = c
            .pipeline()
            .transaction()
            .add(bump.call().key("k").arg(2).command())
            .add(peek.call().key("k").command())
            .execute()
            .await
            .unwrap();
        (set.unwrap(), (a, read, plain), (b2, read_in_tx))
    })
    .await;
    assert_eq!(
        got,
        (
            true,
            (11, Some("11".to_owned()), 11),
            (13, Some("13".to_owned()))
        )
    );
}

#[tokio::test]
async fn untyped_library_calls_reply_values() {
    let server = Server::start();
    if !protocols::since(&server, (7, 0, 0), "FUNCTION") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.function_flush().await.unwrap();
        let lib = library();
        // Not loaded yet: the call loads it.
        let n = lib.call("bump").key("u").arg(3).invoke(&c).await.unwrap();
        let s = lib.call("peek").key("u").invoke(&c).await.unwrap();
        let queued = c
            .pipeline()
            .add(lib.call("bump").key("u").arg(1).command())
            .execute()
            .await
            .unwrap();
        (n, s, queued)
    })
    .await;
    assert_eq!(got, (Value::Int(3), Value::Bulk(b("3")), (Value::Int(4),)));
}

#[tokio::test]
async fn functions_through_the_strings_view_and_a_watched_connection() {
    let server = Server::start();
    if !protocols::since(&server, (7, 0, 0), "FUNCTION") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.function_flush().await.unwrap();
        let lib = library();
        let bump: Function<i64> = lib.function("bump");
        let peek: Function<Option<String>> = lib.function("peek").read_only();
        let n = bump
            .call()
            .key("k")
            .arg(2)
            .invoke(c.strings())
            .await
            .unwrap();
        let read = peek.call().key("k").invoke(c.strings()).await.unwrap();

        // In the helper, after a flush: the immediate call reloads the library on the
        // watched connection, then the transaction calls it.
        c.function_flush().await.unwrap();
        let (read_in_tx, bumped) = c
            .transaction(["k"], |tx| {
                let (bump, peek) = (&bump, &peek);
                async move {
                    let read = peek.call().key("k").invoke(&tx).await?;
                    let (n,) = tx
                        .multi()
                        .add(bump.call().key("k").arg(5).command())
                        .execute()
                        .await?;
                    Ok((read, n))
                }
            })
            .await
            .unwrap();
        let status = c.pool_status();
        (n, read, read_in_tx, bumped, (status.open, status.idle))
    })
    .await;
    assert_eq!(
        got,
        (2, Some("2".to_owned()), Some("2".to_owned()), 7, (1, 1))
    );
}

#[tokio::test]
async fn a_read_only_function_reading_a_missing_key_is_none() {
    let server = Server::start();
    if !protocols::since(&server, (7, 0, 0), "FUNCTION") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        let peek: Function<Option<String>> = library().function("peek").read_only();
        peek.call()
            .key("missing")
            .invoke(&c)
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(got, Ok(None));
}
