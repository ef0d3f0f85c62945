//! Integration tests of the generated API for the scripting, transactions, connection,
//! server and pub/sub introspection command groups (plus what cluster/sentinel
//! introspection a standalone server answers), each under RESP2 and RESP3.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::replies::{FunctionListReply, FunctionStatsReply};
use respec::types::{
    ClientPauseMode, ClientSetinfoAttr, CommandlogGetType, FlushType, OnOff, RestorePolicy, YesNo,
};
use respec::{cmd, Client, Commands, Value};
use respec_tests::protocols::{self, Deployment};
use respec_tests::Server;
use std::time::Duration;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn simple(s: &str) -> Value {
    Value::Simple(b(s))
}

fn bulk(s: &str) -> Value {
    Value::Bulk(b(s))
}

/// Asserts `r` is an error reply from the server, and returns its text.
fn server_err<T: std::fmt::Debug>(r: respec::Result<T>) -> String {
    let e = r.expect_err("expected an error reply");
    assert!(e.is_server(), "expected a server error, got {e}");
    e.server_error().unwrap().text().to_owned()
}

/// `rdb_saves` of `INFO persistence`: how many RDB saves the server completed.
async fn rdb_saves(c: &Client) -> (i64, bool) {
    let info = text(&c.info().section(["persistence"]).await.unwrap());
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} in {info}"))
            .trim()
            .parse::<i64>()
            .unwrap()
    };
    (field("rdb_saves:"), field("rdb_bgsave_in_progress:") == 1)
}

/// Polls (a condition, not a fixed delay) until `saves` RDB saves completed and no
/// background save runs.
async fn wait_saves(c: &Client, saves: i64) {
    for _ in 0..4000 {
        let (done, running) = rdb_saves(c).await;
        if done >= saves && !running {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the background save did not finish");
}

// ---------------------------------------------------------------------------------
// Scripting
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn eval_and_evalsha() {
    eval_and_evalsha_on(&Server::start()).await;
}

pub(crate) async fn eval_and_evalsha_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let one = c.eval("return 1").decode::<i64>().await.unwrap();
        let echoed = c
            .eval("return {KEYS[1], ARGV[1], ARGV[2]}")
            .key(["k1"])
            .arg(["a1", "a2"])
            .decode::<Vec<String>>()
            .await
            .unwrap();
        let set = c
            .eval("return redis.call('SET', KEYS[1], ARGV[1])")
            .key(["k"])
            .arg(["v"])
            .await
            .unwrap();
        let get = c
            .eval("return redis.call('GET', KEYS[1])")
            .key(["k"])
            .await
            .unwrap();
        let nil = c
            .eval("return redis.call('GET', KEYS[1])")
            .key(["missing"])
            .await
            .unwrap();
        let table = c.eval("return {1, 'two', {3}}").await.unwrap();
        let err = server_err(c.eval("return redis.error_reply('MYERR boom')").await);
        assert!(err.starts_with("MYERR boom"), "{err}");

        let sha = c.script_load("return ARGV[1] .. 'x'").await.unwrap();
        assert_eq!(sha.len(), 40);
        let exists = c
            .script_exists([sha.clone(), b("0000000000000000000000000000000000000000")])
            .await
            .unwrap();
        let by_sha = c
            .evalsha(sha.clone())
            .arg(["y"])
            .decode::<String>()
            .await
            .unwrap();
        c.script_flush().sync().await.unwrap();
        let after_flush = c.script_exists([sha.clone()]).await.unwrap();
        let noscript = server_err(c.evalsha(sha.clone()).arg(["y"]).await);
        assert!(noscript.starts_with("NOSCRIPT"), "{noscript}");
        c.script_flush().flush_type(FlushType::Async).await.unwrap();
        let notbusy = server_err(c.script_kill().await);
        assert!(notbusy.starts_with("NOTBUSY"), "{notbusy}");
        (
            one,
            echoed,
            set,
            get,
            nil,
            table,
            sha,
            exists,
            by_sha,
            after_flush,
        )
    })
    .await;
    assert_eq!(got.0, 1);
    assert_eq!(got.1, ["k1", "a1", "a2"]);
    assert_eq!(got.2, simple("OK"));
    assert_eq!(got.3, bulk("v"));
    assert_eq!(got.4, Value::Nil);
    assert_eq!(
        got.5,
        Value::Array(vec![
            Value::Int(1),
            bulk("two"),
            Value::Array(vec![Value::Int(3)])
        ])
    );
    assert!(got.6.iter().all(u8::is_ascii_hexdigit));
    assert_eq!(got.7, [true, false]);
    assert_eq!(got.8, "yx");
    assert_eq!(got.9, [false]);
}

#[tokio::test]
async fn eval_ro_and_evalsha_ro() {
    eval_ro_and_evalsha_ro_on(&Server::start()).await;
}

pub(crate) async fn eval_ro_and_evalsha_ro_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 0, 0), "EVAL_RO") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.set("k", "v").await.unwrap();
        let read = c
            .eval_ro("return redis.call('GET', KEYS[1])")
            .key(["k"])
            .decode::<Option<String>>()
            .await
            .unwrap();
        let write = server_err(
            c.eval_ro("return redis.call('SET', KEYS[1], 'w')")
                .key(["k"])
                .await,
        );
        assert!(write.contains("Write commands are not allowed"), "{write}");
        let sha = c
            .script_load("return redis.call('STRLEN', KEYS[1])")
            .await
            .unwrap();
        let len = c.evalsha_ro(sha).key(["k"]).decode::<i64>().await.unwrap();
        (read, len)
    })
    .await;
    assert_eq!(got, (Some("v".to_owned()), 1));
}

#[tokio::test]
async fn script_show() {
    let server = Server::start();
    if !protocols::since(&server, (8, 0, 0), "SCRIPT SHOW") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        let sha = c.script_load("return 42").await.unwrap();
        let body = c.script_show(sha).await.unwrap();
        let missing = server_err(
            c.script_show("0000000000000000000000000000000000000000")
                .await,
        );
        assert!(missing.starts_with("NOSCRIPT"), "{missing}");
        body
    })
    .await;
    assert_eq!(got, b("return 42"));
}

const LIBRARY: &str = "#!lua name=mylib
redis.register_function('myset', function(keys, args)
  return redis.call('SET', keys[1], args[1])
end)
redis.register_function{
  function_name = 'myget',
  callback = function(keys, args) return redis.call('GET', keys[1]) end,
  flags = { 'no-writes' },
  description = 'reads a key'
}";

fn function_names(lib: &FunctionListReply) -> Vec<(String, Vec<Bytes>, Option<Bytes>)> {
    let mut names: Vec<_> = lib
        .functions
        .as_ref()
        .expect("functions")
        .iter()
        .map(|f| {
            (
                text(f.name.as_ref().expect("name")),
                f.flags.clone().expect("flags"),
                f.description.clone(),
            )
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn functions() {
    functions_on(&Server::start()).await;
}

pub(crate) async fn functions_on(server: &impl Deployment) {
    if !protocols::since(server, (7, 0, 0), "FUNCTION") {
        return;
    }
    let got = protocols::both(server, |c| async move {
        c.function_flush().sync().await.unwrap();
        let loaded = c.function_load(LIBRARY).await.unwrap();
        let again = server_err(c.function_load(LIBRARY).await);
        assert!(again.contains("already exists"), "{again}");
        let replaced = c.function_load(LIBRARY).replace().await.unwrap();

        let set = c.fcall("myset").key(["k"]).arg(["v"]).await.unwrap();
        let get = c.fcall_ro("myget").key(["k"]).await.unwrap();
        let ro_write = server_err(c.fcall_ro("myset").key(["k"]).arg(["w"]).await);
        assert!(ro_write.contains("_ro"), "{ro_write}");

        let list = c.function_list().await.unwrap();
        assert_eq!(list.len(), 1);
        let lib = &list[0];
        let summary = (
            lib.library_name.clone(),
            lib.engine.clone(),
            lib.library_code.clone(),
            function_names(lib),
        );
        let with_code = c
            .function_list()
            .libraryname("my*")
            .withcode()
            .await
            .unwrap();
        assert_eq!(with_code.len(), 1);
        let code = with_code[0].library_code.clone();
        let none = c.function_list().libraryname("nomatch*").await.unwrap();

        let stats: FunctionStatsReply = c.function_stats().await.unwrap();
        assert!(stats.running_script.is_none());
        let engines = stats.engines.expect("engines");
        let lua = engines.get(&b("LUA")).expect("LUA engine");
        let counts = (lua.libraries_count, lua.functions_count);

        let dump = c.function_dump().await.unwrap();
        assert!(!dump.is_empty());
        let exists = server_err(c.function_restore(dump.clone()).await);
        assert!(exists.contains("already exists"), "{exists}");
        c.function_restore(dump.clone())
            .policy(RestorePolicy::Replace)
            .await
            .unwrap();
        c.function_flush().async_().await.unwrap();
        let empty = c.function_list().await.unwrap().len();
        c.function_restore(dump.clone()).append().await.unwrap();
        let restored = c.function_list().await.unwrap().len();
        c.function_restore(dump).flush().await.unwrap();
        c.function_delete("mylib").await.unwrap();
        let gone = server_err(c.function_delete("mylib").await);
        assert!(gone.contains("not found"), "{gone}");
        let notbusy = server_err(c.function_kill().await);
        assert!(notbusy.starts_with("NOTBUSY"), "{notbusy}");
        (
            loaded, replaced, set, get, summary, code, none, counts, empty, restored,
        )
    })
    .await;
    assert_eq!(got.0, b("mylib"));
    assert_eq!(got.1, b("mylib"));
    assert_eq!(got.2, simple("OK"));
    assert_eq!(got.3, bulk("v"));
    assert_eq!(
        got.4,
        (
            Some(b("mylib")),
            Some(b("LUA")),
            None,
            vec![
                (
                    "myget".to_owned(),
                    vec![b("no-writes")],
                    Some(b("reads a key"))
                ),
                ("myset".to_owned(), vec![], None),
            ]
        )
    );
    assert_eq!(got.5, Some(b(LIBRARY)));
    assert!(got.6.is_empty());
    assert_eq!(got.7, (Some(1), Some(2)));
    assert_eq!(got.8, 0);
    assert_eq!(got.9, 1);
}

// ---------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn multi_exec_discard() {
    multi_exec_discard_on(&Server::start()).await;
}

pub(crate) async fn multi_exec_discard_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        // MULTI ... EXEC as one transaction pipeline; a command that fails at run time
        // is one of EXEC's results.
        let (set, incr, get, lpush) = c
            .pipeline()
            .transaction()
            .add(cmd::set("a", "1"))
            .add(cmd::incr("a"))
            .add(cmd::get("a"))
            .add(cmd::lpush("a", ["x"]))
            .execute_each()
            .await
            .unwrap();
        let lpush = lpush.unwrap_err();
        assert_eq!(lpush.server_error().map(|e| e.code()), Some("WRONGTYPE"));

        // Discarded: nothing reaches the server.
        c.pipeline()
            .transaction()
            .add(cmd::set("a", "discarded"))
            .discard()
            .await
            .unwrap();
        let after_discard = c.get("a").await.unwrap();

        // MULTI, EXEC, DISCARD, WATCH and UNWATCH never run on the shared connection.
        let refused = c.unwatch().await.unwrap_err();
        assert!(refused.is_refused(), "{refused}");
        assert!(refused.to_string().contains("UNWATCH"), "{refused}");
        (set.unwrap(), incr.unwrap(), get.unwrap(), after_discard)
    })
    .await;
    assert_eq!(got, (true, 2, Some(b("2")), Some(b("2"))));
}

#[tokio::test]
async fn watch_and_unwatch() {
    watch_and_unwatch_on(&Server::start()).await;
}

pub(crate) async fn watch_and_unwatch_on(server: &impl Deployment) {
    let server_ref = server;
    let got = protocols::both(server, |c| async move {
        let other = server_ref.connect(Protocol::Resp3).await;
        c.set("{t}w", "0").await.unwrap();

        // A watched key changed by another client aborts the transaction.
        let tx = c.watch(["{t}w"]).await.unwrap();
        other.set("{t}w", "changed").await.unwrap();
        let aborted = tx
            .multi()
            .add(cmd::set("{t}w", "mine"))
            .execute()
            .await
            .unwrap_err();
        assert!(aborted.is_watch_conflict(), "{aborted}");
        assert!(!tx.is_watching());
        let value_after_abort = c.get("{t}w").await.unwrap();

        // WATCH adds keys on the same connection; UNWATCH forgets them.
        tx.watch(["{t}w", "{t}w2"]).await.unwrap();
        assert!(tx.is_watching());
        tx.unwatch().await.unwrap();
        other.set("{t}w", "again").await.unwrap();
        let (ran,) = tx
            .multi()
            .add(cmd::set("{t}w", "mine"))
            .execute()
            .await
            .unwrap();
        (value_after_abort, ran, c.get("{t}w").await.unwrap())
    })
    .await;
    assert_eq!(got, (Some(b("changed")), true, Some(b("mine"))));
}

// ---------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn ping_echo_select() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let pong = c.ping().await.unwrap();
        let hello = c.ping().message("hello").await.unwrap();
        let echo = c.echo("e c h o").await.unwrap();
        c.set("in0", "x").await.unwrap();
        // SELECT runs on a connection of its own (refused on the shared one).
        let w = c.watch(["in0"]).await.unwrap();
        w.select(1).await.unwrap();
        let db1 = (w.dbsize().await.unwrap(), w.get("in0").await.unwrap());
        w.set("in1", "y").await.unwrap();
        w.select(0).await.unwrap();
        let db0 = w.dbsize().await.unwrap();
        let bad = server_err(w.select(100_000).await);
        assert!(bad.contains("out of range"), "{bad}");
        (pong, hello, echo, db1, db0)
    })
    .await;
    assert_eq!(got, (b("PONG"), b("hello"), b("e c h o"), (0, None), 1));
}

#[tokio::test]
async fn client_id_info_list_names() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let id = c.client_id().await.unwrap();
        assert!(id > 0);
        let info = text(&c.client_info().await.unwrap());
        assert!(info.starts_with(&format!("id={id} ")), "{info}");
        let fields: Vec<&str> = info.split_whitespace().collect();
        assert!(
            fields.contains(&"resp=2") || fields.contains(&"resp=3"),
            "{info}"
        );

        let unnamed = c.client_getname().await.unwrap();
        c.client_setname("respec-conn").await.unwrap();
        let named = c.client_getname().await.unwrap();
        let bad = server_err(c.client_setname("has space").await);
        assert!(bad.contains("spaces"), "{bad}");

        let list = text(&c.client_list().await.unwrap());
        assert!(list.contains(&format!("id={id} ")), "{list}");
        assert!(list.contains("name=respec-conn "), "{list}");
        let mine = text(&c.client_list().id([id]).await.unwrap());
        assert_eq!(mine.trim_end().lines().count(), 1, "{mine}");
        assert!(mine.contains("name=respec-conn "), "{mine}");
        let normal = text(&c.client_list().normal().await.unwrap());
        assert!(normal.contains(&format!("id={id} ")), "{normal}");
        let pubsub = c.client_list().pubsub().await.unwrap();
        assert!(pubsub.is_empty(), "{pubsub:?}");

        let mut lib = None;
        if server_version_at_least(&c, 7, 2).await {
            c.client_setinfo(ClientSetinfoAttr::LibName(b("respec-tests")))
                .await
                .unwrap();
            c.client_setinfo(ClientSetinfoAttr::LibVer(b("1.2.3")))
                .await
                .unwrap();
            let info = text(&c.client_info().await.unwrap());
            lib = Some((
                info.contains("lib-name=respec-tests "),
                info.contains("lib-ver=1.2.3 "),
            ));
        }
        (unnamed, named, lib.unwrap_or((true, true)))
    })
    .await;
    assert_eq!(got, (None, Some(b("respec-conn")), (true, true)));
}

async fn server_version_at_least(c: &Client, major: u32, minor: u32) -> bool {
    let info = text(&c.info().section(["server"]).await.unwrap());
    let line = info
        .lines()
        .find(|l| l.starts_with("redis_version:"))
        .expect("redis_version");
    let mut parts = line["redis_version:".len()..]
        .trim()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (ma, mi) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (ma, mi) >= (major, minor)
}

#[tokio::test]
async fn client_flags_pause_and_help() {
    let server = Server::start();
    if !protocols::since(&server, (7, 2, 0), "CLIENT NO-TOUCH") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.client_no_evict(OnOff::On).await.unwrap();
        let flags_on = text(&c.client_info().await.unwrap());
        c.client_no_evict(OnOff::Off).await.unwrap();
        c.client_no_touch(OnOff::On).await.unwrap();
        let touch_on = text(&c.client_info().await.unwrap());
        c.client_no_touch(OnOff::Off).await.unwrap();
        let flags_off = text(&c.client_info().await.unwrap());
        let flags = |info: &str| {
            info.split(' ')
                .find_map(|kv| kv.strip_prefix("flags="))
                .unwrap_or_default()
                .to_owned()
        };

        c.client_pause(60_000u64).write().await.unwrap();
        // Reads still run while writes are paused.
        let read = c.get("k").await.unwrap();
        c.client_unpause().await.unwrap();
        // (Not `ALL`: it would hold this client's own UNPAUSE until the timeout.)
        c.client_pause(Duration::from_secs(60))
            .mode(ClientPauseMode::Write)
            .await
            .unwrap();
        c.client_unpause().await.unwrap();
        let write = c.set("k", "v").await.unwrap();

        let help = c.client_help().await.unwrap();
        assert!(help.len() > 10);
        (
            flags(&flags_on),
            flags(&touch_on),
            flags(&flags_off),
            read,
            write,
        )
    })
    .await;
    assert_eq!(
        got,
        ("e".to_owned(), "T".to_owned(), "N".to_owned(), None, true)
    );
}

#[tokio::test]
async fn client_tracking_info_caching_getredir() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let off = c.client_trackinginfo().await.unwrap();
        let redir_off = c.client_getredir().await.unwrap();
        let other = c.client_id().await.unwrap();
        c.client_tracking(OnOff::On)
            .optin()
            .redirect(other)
            .await
            .unwrap();
        let on = c.client_trackinginfo().await.unwrap();
        assert_eq!(on.redirect, Some(other));
        let redir_on = c.client_getredir().await.unwrap();
        assert_eq!(redir_on, other);
        c.client_caching(YesNo::Yes).await.unwrap();
        c.client_tracking(OnOff::Off).await.unwrap();
        let not_optin = server_err(c.client_caching(YesNo::Yes).await);
        assert!(not_optin.contains("CLIENT CACHING"), "{not_optin}");
        (off, redir_off, on.flags, on.prefixes)
    })
    .await;
    assert_eq!(got.0.flags, Some(vec![b("off")]));
    assert_eq!(got.0.redirect, Some(-1));
    assert_eq!(got.0.prefixes, Some(vec![]));
    assert_eq!(got.1, -1);
    assert_eq!(got.2, Some(vec![b("on"), b("optin")]));
    assert_eq!(got.3, Some(vec![]));
}

#[tokio::test]
async fn client_kill_and_unblock() {
    let server = Server::start();
    let server_ref = &server;
    let got = protocols::both(&server, |c| async move {
        let victim = protocols::client(server_ref, Protocol::Resp2).await;
        let victim_id = victim.client_id().await.unwrap();
        let unblocked = c.client_unblock(victim_id).await.unwrap();
        let killed = c.client_kill().id([victim_id]).await.unwrap();
        let none = c.client_kill().id([victim_id]).await.unwrap();
        let skip = c
            .client_kill()
            .id([c.client_id().await.unwrap()])
            .skipme(YesNo::Yes)
            .await
            .unwrap();
        let old = server_err(c.client_kill().old_format("127.0.0.1:1").await);
        assert!(old.contains("No such client"), "{old}");
        (unblocked, killed, none, skip)
    })
    .await;
    assert_eq!(got, (false, Value::Int(1), Value::Int(0), Value::Int(0)));
}

#[tokio::test]
async fn auth_and_acl_whoami() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        // AUTH runs on a connection of its own (refused on the shared one).
        let w = c.watch(["k"]).await.unwrap();
        let no_password = server_err(w.auth("nopass").await);
        assert!(no_password.contains("AUTH"), "{no_password}");
        c.acl_setuser("tester")
            .rule(["reset", "on", ">secret", "~*", "&*", "+@all"])
            .await
            .unwrap();
        let wrong = server_err(w.auth("wrong").username("tester").await);
        assert!(wrong.starts_with("WRONGPASS"), "{wrong}");
        let before = w.acl_whoami().await.unwrap();
        w.auth("secret").username("tester").await.unwrap();
        let after = w.acl_whoami().await.unwrap();
        w.auth("anything").username("default").await.unwrap();
        (before, after, w.acl_whoami().await.unwrap())
    })
    .await;
    assert_eq!(got, (b("default"), b("tester"), b("default")));
}

// ---------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn config_get_set_resetstat_rewrite() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.config_set([("maxmemory-policy", "allkeys-lru")])
            .await
            .unwrap();
        let one = c.config_get(["maxmemory-policy"]).await.unwrap();
        c.config_set([("maxmemory-policy", "noeviction"), ("hz", "11")])
            .await
            .unwrap();
        let two = c.config_get(["maxmemory-policy", "hz"]).await.unwrap();
        let glob = c.config_get(["maxmemory*"]).await.unwrap();
        assert!(glob.contains_key(&b("maxmemory-samples")), "{glob:?}");
        let bad = server_err(c.config_set([("no-such-parameter", "1")]).await);
        assert!(bad.contains("no-such-parameter"), "{bad}");
        let missing = c.config_get(["no-such-parameter"]).await.unwrap();

        c.set("k", "v").await.unwrap();
        c.config_resetstat().await.unwrap();
        let stats = text(&c.info().section(["stats"]).await.unwrap());
        assert!(stats.contains("keyspace_hits:0"), "{stats}");
        c.config_rewrite().await.unwrap();
        let help = c.config_help().await.unwrap();
        assert!(!help.is_empty());
        (one, two, missing.len())
    })
    .await;
    let map = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (b(k), b(v))).collect();
    assert_eq!(got.0, map(&[("maxmemory-policy", "allkeys-lru")]));
    assert_eq!(
        got.1,
        map(&[("maxmemory-policy", "noeviction"), ("hz", "11")])
    );
    assert_eq!(got.2, 0);
    let file = std::fs::read_to_string(server.config_path()).unwrap();
    assert!(file.contains("hz 11"), "{file}");
}

#[tokio::test]
async fn info_dbsize_flush_time_lastsave() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let all = text(&c.info().await.unwrap());
        assert!(all.contains("# Server"), "{all}");
        let section = text(&c.info().section(["server", "clients"]).await.unwrap());
        assert!(section.contains("# Server") && section.contains("# Clients"));
        assert!(!section.contains("# Memory"), "{section}");
        let everything = text(&c.info().section(["everything"]).await.unwrap());
        assert!(everything.contains("# Commandstats"));

        for k in ["a", "b", "c"] {
            c.set(k, "1").await.unwrap();
        }
        let three = c.dbsize().await.unwrap();
        c.flushdb().async_().await.unwrap();
        let after_flushdb = c.dbsize().await.unwrap();
        c.set("a", "1").await.unwrap();
        c.flushdb().await.unwrap();
        c.set("a", "1").await.unwrap();
        c.flushall().sync().await.unwrap();
        let after_flushall = c.dbsize().await.unwrap();
        c.set("a", "1").await.unwrap();
        c.flushall().flush_type(FlushType::Async).await.unwrap();
        let after_async = c.dbsize().await.unwrap();

        let time = c.time().await.unwrap();
        assert_eq!(time.len(), 2);
        let secs: i64 = text(&time[0]).parse().unwrap();
        let micros: i64 = text(&time[1]).parse().unwrap();
        assert!(secs > 1_600_000_000);
        assert!((0..1_000_000).contains(&micros));
        let lastsave = c.lastsave().await.unwrap();
        assert!(lastsave > 1_600_000_000 && lastsave <= secs + 1);
        (three, after_flushdb, after_flushall, after_async)
    })
    .await;
    assert_eq!(got, (3, 0, 0, 0));
}

#[tokio::test]
async fn save_and_bgsave() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let (n0, running) = rdb_saves(&c).await;
        assert!(!running);
        c.set("k", "v").await.unwrap();
        c.save().await.unwrap();
        let before = c.lastsave().await.unwrap();
        let started = text(&c.bgsave().await.unwrap());
        wait_saves(&c, n0 + 2).await;
        // With no save running, SCHEDULE starts one at once.
        let scheduled = text(&c.bgsave().schedule().await.unwrap());
        wait_saves(&c, n0 + 3).await;
        assert!(c.lastsave().await.unwrap() >= before);
        (started, scheduled)
    })
    .await;
    assert_eq!(
        got,
        (
            "Background saving started".to_owned(),
            "Background saving started".to_owned()
        )
    );
    assert!(server.dir().join("dump.rdb").exists());
}

#[tokio::test]
async fn memory_commands() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.set("k", "a value of some length").await.unwrap();
        let usage = c.memory_usage("k").await.unwrap();
        assert!(usage.is_some_and(|n| n > 20), "{usage:?}");
        let sampled = c.memory_usage("k").samples(5).await.unwrap();
        assert!(sampled.is_some());
        let missing = c.memory_usage("missing").await.unwrap();

        let stats = c.memory_stats().await.unwrap();
        assert!(stats.total_allocated.is_some_and(|n| n > 0));
        assert!(stats.peak_allocated.is_some_and(|n| n > 0));
        assert!(stats.fragmentation.is_some());
        let doctor = c.memory_doctor().await.unwrap();
        assert!(!doctor.is_empty());
        let malloc = c.memory_malloc_stats().await.unwrap();
        assert!(!malloc.is_empty());
        c.memory_purge().await.unwrap();
        let help = c.memory_help().await.unwrap();
        assert!(!help.is_empty());
        (missing, stats.keys_count)
    })
    .await;
    assert_eq!(got, (None, Some(1)));
}

/// A script that runs for at least `ms` milliseconds: it spins until `os.clock()` (the
/// server's CPU time, which never runs ahead of the wall clock) advanced that much.
/// (`TIME` cannot be used: inside a script it is frozen at the script's start.)
fn busy_script(ms: u32) -> String {
    format!(
        "local start = os.clock()
         while os.clock() - start < {} do end
         return 1",
        f64::from(ms) / 1000.0
    )
}

#[tokio::test]
async fn latency_monitor() {
    let server = Server::start();
    if !protocols::since(&server, (8, 0, 0), "os.clock() in scripts") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.latency_reset().await.unwrap();
        let empty = c.latency_latest().await.unwrap();
        c.config_set([("latency-monitor-threshold", "1")])
            .await
            .unwrap();
        c.eval(busy_script(5)).decode::<i64>().await.unwrap();
        // Other events (`fast-command`) may show up too: look for the script's.
        let latest = c.latency_latest().await.unwrap();
        let event = latest
            .iter()
            .find(|e| e.first() == Some(&bulk("command")))
            .unwrap_or_else(|| panic!("no `command` event: {latest:?}"));
        assert!(event.len() >= 4, "{event:?}");
        assert!(
            event[1..4].iter().all(|v| v.as_int().is_some()),
            "{event:?}"
        );
        assert!(event[3].as_int().unwrap() >= 5, "{event:?}");
        let history = c.latency_history("command").await.unwrap();
        assert!(!history.is_empty());
        assert!(history.iter().any(|(_, ms)| *ms >= 5), "{history:?}");
        let doctor = c.latency_doctor().await.unwrap();
        assert!(!doctor.is_empty());
        let graph = c.latency_graph("command").await.unwrap();
        assert!(!graph.is_empty());
        let help = c.latency_help().await.unwrap();
        assert!(!help.is_empty());
        let reset_one = c.latency_reset().event(["command"]).await.unwrap();
        let reset_rest = c.latency_reset().await.unwrap();
        assert!(reset_rest >= 0);
        c.config_set([("latency-monitor-threshold", "0")])
            .await
            .unwrap();
        (empty, reset_one, c.latency_latest().await.unwrap())
    })
    .await;
    assert_eq!(got, (vec![], 1, vec![]));
}

#[tokio::test]
async fn latency_histogram() {
    let server = Server::start();
    if !protocols::since(&server, (7, 0, 0), "LATENCY HISTOGRAM") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.config_resetstat().await.unwrap();
        c.set("k", "v").await.unwrap();
        c.set("k", "v").await.unwrap();
        let hist = c.latency_histogram().command(["set"]).await.unwrap();
        let set = hist.get(&b("set")).expect("set");
        let buckets = set.histogram_usec.as_ref().expect("histogram");
        assert!(!buckets.is_empty());
        assert_eq!(buckets.values().max().copied(), Some(2));
        (hist.len(), set.calls)
    })
    .await;
    assert_eq!(got, (1, Some(2)));
}

#[tokio::test]
async fn slowlog() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.config_set([("slowlog-log-slower-than", "0")])
            .await
            .unwrap();
        c.slowlog_reset().await.unwrap();
        c.client_setname("slowpoke").await.unwrap();
        c.set("slow", "value").await.unwrap();
        let len = c.slowlog_len().await.unwrap();
        assert!(len >= 2, "{len}");
        let entries = c.slowlog_get().count(2).await.unwrap();
        let all = c.slowlog_get().count(-1).await.unwrap();
        // SLOWLOG LEN and SLOWLOG GET 2 were logged after answering.
        assert_eq!(all.len() as i64, len + 2);
        // Newest first: SLOWLOG LEN, then SET.
        let (_, ts, dur, args, addr, name) = entries[1].clone();
        assert!(ts > 1_600_000_000 && dur >= 0);
        assert!(text(&addr).starts_with("127.0.0.1:"), "{addr:?}");
        let one = c.slowlog_get().await.unwrap();
        assert!(!one.is_empty());
        c.config_set([("slowlog-log-slower-than", "10000")])
            .await
            .unwrap();
        c.slowlog_reset().await.unwrap();
        let help = c.slowlog_help().await.unwrap();
        assert!(!help.is_empty());
        (
            args,
            name,
            entries[0].3.clone(),
            c.slowlog_len().await.unwrap(),
        )
    })
    .await;
    assert_eq!(
        got,
        (
            vec![b("SET"), b("slow"), b("value")],
            b("slowpoke"),
            vec![b("SLOWLOG"), b("LEN")],
            0
        )
    );
}

#[tokio::test]
async fn commandlog() {
    let server = Server::start();
    if !protocols::since(&server, (8, 1, 0), "COMMANDLOG") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.config_set([("commandlog-execution-slower-than", "0")])
            .await
            .unwrap();
        c.commandlog_reset(CommandlogGetType::Slow).await.unwrap();
        c.set("slow", "value").await.unwrap();
        let len = c.commandlog_len(CommandlogGetType::Slow).await.unwrap();
        assert!(len >= 1);
        let entries = c.commandlog_get(2, CommandlogGetType::Slow).await.unwrap();
        assert!(!entries.is_empty());
        let set = entries
            .iter()
            .find(|e| e.3.first() == Some(&b("SET")))
            .unwrap_or_else(|| panic!("the SET entry: {entries:?}"))
            .3
            .clone();
        let large = c
            .commandlog_len(CommandlogGetType::LargeRequest)
            .await
            .unwrap();
        let reply = c
            .commandlog_get(-1, CommandlogGetType::LargeReply)
            .await
            .unwrap();
        c.config_set([("commandlog-execution-slower-than", "10000")])
            .await
            .unwrap();
        c.commandlog_reset(CommandlogGetType::Slow).await.unwrap();
        let help = c.commandlog_help().await.unwrap();
        assert!(!help.is_empty());
        (
            set,
            large,
            reply.len(),
            c.commandlog_len(CommandlogGetType::Slow).await.unwrap(),
        )
    })
    .await;
    assert_eq!(got, (vec![b("SET"), b("slow"), b("value")], 0, 0, 0));
}

#[tokio::test]
async fn command_introspection() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let count = c.command_count().await.unwrap();
        assert!(count > 200, "{count}");
        let list = c.command_list().await.unwrap();
        // Subcommands (`client|id`) are listed too, COMMAND COUNT counts containers.
        assert!(list.len() as i64 >= count, "{} < {count}", list.len());
        assert!(list.contains(&b("get")));
        let mut pattern = c.command_list().pattern("xa*").await.unwrap();
        pattern.sort();
        let mut cat = c.command_list().aclcat("hyperloglog").await.unwrap();
        cat.sort();

        let getkeys = c
            .command_getkeys("mset")
            .arg(["k1", "v1", "k2", "v2"])
            .await
            .unwrap();
        let nokeys = server_err(c.command_getkeys("ping").await);
        assert!(nokeys.contains("key"), "{nokeys}");
        let flags = c
            .command_getkeysandflags("lmove")
            .arg(["src", "dst", "LEFT", "RIGHT"])
            .await
            .unwrap();

        let info = c
            .command_info()
            .command_name(["get", "nosuchcommand"])
            .await
            .unwrap();
        assert_eq!(info.len(), 2);
        let get = info[0].clone().expect("GET's info");
        let help = c.command_help().await.unwrap();
        assert!(!help.is_empty());
        (
            pattern,
            cat,
            getkeys,
            flags,
            (
                get.0,
                get.1,
                get.2.contains(&b("readonly")),
                get.3,
                get.4,
                get.5,
            ),
            info[1].is_none(),
        )
    })
    .await;
    // The X* commands starting with `xa` vary by version (XACKDEL is Redis 8.2).
    assert!(got.0.contains(&b("xack")) && got.0.contains(&b("xadd")));
    assert!(got.0.iter().all(|n| n.starts_with(b"xa")), "{:?}", got.0);
    assert_eq!(
        got.1,
        [
            b("pfadd"),
            b("pfcount"),
            b("pfdebug"),
            b("pfmerge"),
            b("pfselftest")
        ]
    );
    assert_eq!(got.2, [b("k1"), b("k2")]);
    assert_eq!(
        got.3,
        [
            (b("src"), vec![b("RW"), b("access"), b("delete")]),
            (b("dst"), vec![b("RW"), b("insert")])
        ]
    );
    assert_eq!(got.4, (b("get"), 2, true, 1, 1, 1));
    assert!(got.5);
}

#[tokio::test]
async fn command_docs() {
    let server = Server::start();
    if !protocols::since(&server, (7, 0, 0), "COMMAND DOCS") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        let docs = c
            .command_docs()
            .command_name(["get", "client"])
            .await
            .unwrap();
        let get = docs.get(&b("get")).expect("get");
        let client = docs.get(&b("client")).expect("client");
        let subs = client.subcommands.as_ref().expect("subcommands");
        let args = get.arguments.as_ref().expect("arguments");
        (
            docs.len(),
            get.summary.clone(),
            get.since.clone(),
            get.group.clone(),
            args.iter()
                .map(|a| (a.name.clone(), a.type_.clone()))
                .collect::<Vec<_>>(),
            subs.contains_key(&b("client|id")),
        )
    })
    .await;
    assert_eq!(
        got,
        (
            2,
            got.1.clone(),
            Some(b("1.0.0")),
            Some(b("string")),
            vec![(Some(b("key")), Some(b("key")))],
            true
        )
    );
    // The wording varies by server ("Returns the string value of a key.").
    let summary = text(got.1.as_ref().expect("summary"));
    assert!(summary.contains("value of a key"), "{summary}");
}

#[tokio::test]
async fn acl_commands() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let cats = c.acl_cat().await.unwrap();
        assert!(cats.contains(&b("keyspace")) && cats.contains(&b("scripting")));
        let scripting = c.acl_cat().category("scripting").await.unwrap();
        assert!(scripting.contains(&b("eval")), "{scripting:?}");

        c.acl_setuser("alice")
            .rule(["reset", "on", ">pw", "~key*", "+get", "+@hash"])
            .await
            .unwrap();
        c.acl_setuser("bob").await.unwrap();
        let alice = c.acl_getuser("alice").await.unwrap().expect("alice");
        let nobody = c.acl_getuser("nobody").await.unwrap();
        let users = c.acl_users().await.unwrap();
        let list = c.acl_list().await.unwrap();
        assert_eq!(list.len(), 3);
        assert!(text(&list[0]).starts_with("user alice on "), "{list:?}");
        let whoami = c.acl_whoami().await.unwrap();

        let pass = c.acl_genpass().await.unwrap();
        assert_eq!(pass.len(), 64);
        let short = c.acl_genpass().bits(32).await.unwrap();
        assert_eq!(short.len(), 8);

        let allowed = c.acl_dryrun("alice", "get").arg(["key1"]).await.unwrap();
        let denied = text(
            &c.acl_dryrun("alice", "set")
                .arg(["key1", "v"])
                .await
                .unwrap(),
        );
        assert!(denied.contains("no permissions"), "{denied}");

        let deleted = c.acl_deluser(["alice", "bob", "nobody"]).await.unwrap();
        let bad = server_err(c.acl_setuser("x").rule(["nosuchrule"]).await);
        assert!(
            bad.contains("Syntax error") || bad.contains("Error"),
            "{bad}"
        );
        let help = c.acl_help().await.unwrap();
        assert!(!help.is_empty());
        let no_file = server_err(c.acl_load().await);
        assert!(no_file.contains("ACL file"), "{no_file}");
        let no_file = server_err(c.acl_save().await);
        assert!(no_file.contains("ACL file"), "{no_file}");
        (
            (
                alice.flags.is_some_and(|f| f.contains(&b("on"))),
                alice.keys,
                alice.passwords.map(|p| p.len()),
            ),
            nobody.is_none(),
            users,
            whoami,
            allowed,
            deleted,
        )
    })
    .await;
    assert_eq!(
        got,
        (
            (true, Some(b("~key*")), Some(1)),
            true,
            vec![b("alice"), b("bob"), b("default")],
            b("default"),
            b("OK"),
            2,
        )
    );
}

/// Creates the user `eve` and fails to authenticate as her (on a connection of its
/// own: AUTH is refused on the shared one), which the ACL log records.
async fn fail_auth_as_eve(c: &Client) {
    c.acl_setuser("eve")
        .rule(["reset", "on", ">pw", "~*", "+get"])
        .await
        .unwrap();
    let w = c.watch(["k"]).await.unwrap();
    server_err(w.auth("wrong").username("eve").await);
}

#[tokio::test]
async fn acl_log() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let reset: () = c.acl_log().reset().await.unwrap();
        let empty = c.acl_log().await.unwrap();
        fail_auth_as_eve(&c).await;
        let one = c.acl_log().count(1).await.unwrap();
        c.acl_log().reset().await.unwrap();
        c.acl_deluser(["eve"]).await.unwrap();
        // The entry carries timestamps and a client id: keep the reason and user only.
        let reduced: Vec<_> = one
            .iter()
            .map(|e| (e.reason.clone(), e.username.clone()))
            .collect();
        (reset, empty.len(), reduced)
    })
    .await;
    assert_eq!(got, ((), 0, vec![(Some(b("auth")), Some(b("eve")))]));
}

/// ACL LOG entries decode into the same typed struct under RESP2 (flat arrays, the
/// age as a bulk string) and RESP3 (maps, the age as a double).
#[tokio::test]
async fn acl_log_entries_typed() {
    let server = Server::start();
    if !protocols::since(&server, (7, 2, 0), "ACL LOG entry-id and timestamps") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        c.acl_log().reset().await.unwrap();
        fail_auth_as_eve(&c).await;
        let log = c.acl_log().count(1).await.unwrap();
        c.acl_log().reset().await.unwrap();
        assert_eq!(log.len(), 1);
        let e = &log[0];
        let age = e.age_seconds.expect("age-seconds");
        assert!((0.0..60.0).contains(&age), "{age}");
        assert!(e.entry_id.is_some() && e.timestamp_created.is_some());
        // What does not change between the two runs.
        (
            e.count,
            e.reason.clone(),
            e.context.clone(),
            e.object.clone(),
            e.username.clone(),
        )
    })
    .await;
    assert_eq!(
        got,
        (
            Some(1),
            Some(Bytes::from("auth")),
            Some(Bytes::from("toplevel")),
            Some(Bytes::from("AUTH")),
            Some(Bytes::from("eve"))
        )
    );
}

#[tokio::test]
async fn lolwut_swapdb_role_module_list() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let art = text(&c.lolwut().await.unwrap());
        assert!(art.contains("ver"), "{art}");
        let v5 = text(&c.lolwut().version(5).await.unwrap());
        assert!(!v5.is_empty());

        c.set("k0", "zero").await.unwrap();
        c.swapdb(0, 1).await.unwrap();
        let db0 = c.dbsize().await.unwrap();
        let w = c.watch(["k0"]).await.unwrap();
        w.select(1).await.unwrap();
        let db1 = w.get("k0").await.unwrap();
        drop(w);
        let bad = server_err(c.swapdb(0, 100_000).await);
        assert!(bad.contains("DB index"), "{bad}");

        let role = c.role().await.unwrap();
        // Valkey 9 loads its Lua engine as a module named `lua`.
        let modules: Vec<_> = c
            .module_list()
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.name.expect("module name"))
            .collect();
        let waited = c.wait(0, 0u64).await.unwrap();
        (db0, db1, role, modules, waited)
    })
    .await;
    assert_eq!(
        got,
        (
            0,
            Some(b("zero")),
            Value::Array(vec![bulk("master"), Value::Int(0), Value::Array(vec![])]),
            got.3.clone(),
            0
        )
    );
    // Valkey 9 lists its Lua engine as a module; Redis 8 has built-in modules of its
    // own (vectorset) and Redis 7 none.
    if server.flavor() == respec_tests::Flavor::Valkey {
        assert!(got.3.iter().all(|m| m == "lua"), "{:?}", got.3);
    }
}

// ---------------------------------------------------------------------------------
// Pub/sub introspection
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn pubsub_introspection() {
    let server = Server::start();
    if !protocols::since(&server, (7, 0, 0), "SPUBLISH") {
        return;
    }
    let server_ref = &server;
    let got = protocols::both(&server, |c| async move {
        // The previous run's subscriber connection is closed, but the server may not
        // have noticed yet: wait until it has (its subscriptions are gone).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while c.pubsub_numpat().await.unwrap() != 0
            || !c.pubsub_channels().await.unwrap().is_empty()
            || !c.pubsub_shardchannels().await.unwrap().is_empty()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "subscriptions left over"
            );
            tokio::task::yield_now().await;
        }
        let nobody = (
            c.publish("news", "m").await.unwrap(),
            c.spublish("shard", "m").await.unwrap(),
            c.pubsub_channels().await.unwrap(),
            c.pubsub_numpat().await.unwrap(),
            c.pubsub_shardchannels().await.unwrap(),
        );

        // A subscriber on a plain RESP2 connection of the harness.
        let mut sub = server_ref.raw().unwrap();
        sub.command(&["SUBSCRIBE", "news", "sports"]).unwrap();
        sub.read_reply().unwrap();
        sub.command(&["PSUBSCRIBE", "n*"]).unwrap();
        sub.command(&["SSUBSCRIBE", "shard"]).unwrap();

        let delivered = c.publish("news", "hello").await.unwrap();
        let sdelivered = c.spublish("shard", "hello").await.unwrap();
        let mut channels = c.pubsub_channels().await.unwrap();
        channels.sort();
        let matching = c.pubsub_channels().pattern("s*").await.unwrap();
        let numsub = c
            .pubsub_numsub()
            .channel(["news", "sports", "none"])
            .await
            .unwrap();
        let numpat = c.pubsub_numpat().await.unwrap();
        let shardchannels = c.pubsub_shardchannels().await.unwrap();
        let shardmatching = c.pubsub_shardchannels().pattern("x*").await.unwrap();
        let shardnumsub = c
            .pubsub_shardnumsub()
            .shardchannel(["shard", "none"])
            .await
            .unwrap();
        let help = c.pubsub_help().await.unwrap();
        assert!(!help.is_empty());
        let empty_numsub = c.pubsub_numsub().await.unwrap();
        drop(sub);
        (
            nobody,
            (delivered, sdelivered),
            channels,
            matching,
            numsub,
            numpat,
            shardchannels,
            shardmatching,
            shardnumsub,
            empty_numsub,
        )
    })
    .await;
    assert_eq!(got.0, (0, 0, vec![], 0, vec![]));
    assert_eq!(got.1, (2, 1));
    assert_eq!(got.2, [b("news"), b("sports")]);
    assert_eq!(got.3, [b("sports")]);
    assert_eq!(got.4, [(b("news"), 1), (b("sports"), 1), (b("none"), 0)]);
    assert_eq!(got.5, 1);
    assert_eq!(got.6, [b("shard")]);
    assert!(got.7.is_empty());
    assert_eq!(got.8, [(b("shard"), 1), (b("none"), 0)]);
    assert!(got.9.is_empty());
}

// ---------------------------------------------------------------------------------
// Cluster and sentinel introspection on a standalone server
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn cluster_and_sentinel_on_standalone() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let errors = [
            server_err(c.cluster_info().await),
            server_err(c.cluster_myid().await),
            server_err(c.cluster_nodes().await),
            server_err(c.cluster_shards().await),
            server_err(c.cluster_slots().await),
        ];
        // Valkey answers READONLY/READWRITE with OK outside cluster mode.
        for r in [c.readonly().await, c.readwrite().await] {
            if let Err(e) = r {
                assert!(e.is_server(), "{e}");
            }
        }
        for e in &errors {
            assert!(e.contains("cluster support disabled"), "{e}");
        }
        // Keyslot is answered from the key alone on some servers.
        let keyslot = c.cluster_keyslot("foo").await;
        match &keyslot {
            Ok(slot) => assert_eq!(*slot, 12182),
            Err(e) => assert!(e.is_server(), "{e}"),
        }
        let sentinel = server_err(c.sentinel_myid().await);
        assert!(sentinel.contains("unknown command"), "{sentinel}");
        errors.len()
    })
    .await;
    assert_eq!(got, 5);
}
