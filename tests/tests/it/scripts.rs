//! Scripts called by digest, reloaded after SCRIPT FLUSH, under RESP2 and RESP3.

use bytes::Bytes;
use respec::script::Script;
use respec::{cmd, Commands};
use respec_tests::{protocols, Server};

#[tokio::test]
async fn script_loads_on_noscript_and_survives_script_flush() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let incr_by = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
        // The digest is the server's own.
        let sha: Bytes = c.send(cmd::script_load(incr_by.code())).await.unwrap();
        assert_eq!(&sha[..], incr_by.sha1().as_bytes());
        c.script_flush().await.unwrap();
        // Not on the server: loaded and run.
        let a: i64 = incr_by.prepare().key("n").arg(5).invoke(&c).await.unwrap();
        let b: i64 = incr_by.prepare().key("n").arg(2).invoke(&c).await.unwrap();
        // Flushed again: loaded again.
        c.script_flush().await.unwrap();
        let d: i64 = incr_by.prepare().key("n").arg(1).invoke(&c).await.unwrap();
        let exists = c.script_exists([incr_by.sha1()]).await.unwrap();
        // Read-only scripts run with EVALSHA_RO; a write inside one is refused.
        let get = Script::new("return redis.call('GET', KEYS[1])");
        let v: Option<String> = get.prepare().key("n").read_only().invoke(&c).await.unwrap();
        let err = incr_by
            .prepare()
            .key("n")
            .arg(1)
            .read_only()
            .invoke::<i64>(&c)
            .await
            .unwrap_err();
        assert!(err.is_server(), "{err}");
        (a, b, d, exists, v)
    })
    .await;
    assert_eq!(got, (5, 7, 8, vec![true], Some("8".to_owned())));
}
