//! Pipelines against a real server: typed tuples, per-command results, runtime-sized
//! batches and mixed pipelines, under RESP2 and RESP3.

use bytes::Bytes;
use respec::{cmd, Commands, Value};
use respec_tests::protocols::{self, Deployment};
use respec_tests::Server;

#[tokio::test]
async fn typed_pipeline_infers_its_tuple() {
    typed_pipeline_infers_its_tuple_on(&Server::start()).await;
}

pub(crate) async fn typed_pipeline_infers_its_tuple_on(server: &impl Deployment) {
    let got = protocols::both(server, |c| async move {
        let (ok, n, v) = c
            .pipeline()
            .add(cmd::set("a", 1))
            .add(cmd::incr("a"))
            .add(cmd::get("a"))
            .execute()
            .await
            .unwrap();
        (ok, n, v)
    })
    .await;
    assert_eq!(got, (true, 2, Some(Bytes::from("2"))));
}

#[tokio::test]
async fn one_failing_command_keeps_the_others_results() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.set("s", "text").await.unwrap();
        let (a, b, d) = c
            .pipeline()
            .add(cmd::incr("n"))
            .add(cmd::incr("s")) // not an integer
            .add(cmd::get("s"))
            .execute_each()
            .await
            .unwrap();
        let err = b.unwrap_err();
        assert!(err.is_server() && err.to_string().contains("INCR"), "{err}");
        // The plain form reports the first error, naming the command.
        let first = c
            .pipeline()
            .add(cmd::incr("s"))
            .add(cmd::get("s"))
            .execute()
            .await
            .unwrap_err();
        (
            a.unwrap(),
            d.unwrap(),
            first.server_error().map(|e| e.code().to_owned()),
        )
    })
    .await;
    assert_eq!(got, (1, Some(Bytes::from("text")), Some("ERR".to_owned())));
}

#[tokio::test]
async fn ten_thousand_mixed_commands_in_one_pipeline() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let mut p = c.pipeline_dyn();
        for i in 0..10_000 {
            match i % 4 {
                0 => p.push(cmd::set(format!("k{i}"), i)),
                1 => p.push(cmd::incr("counter")),
                2 => p.push(cmd::rpush("list", [i])),
                _ => p.push(cmd::get(format!("k{}", i - 3))),
            };
        }
        assert_eq!(p.len(), 10_000);
        let replies = p.execute().await.unwrap();
        assert_eq!(replies.len(), 10_000);
        let errors = replies.iter().filter(|r| r.is_err()).count();
        let last_get = replies[9_999].as_ref().unwrap().clone();
        let counter: i64 = c.get("counter").decode().await.unwrap();
        let list_len = c.llen("list").await.unwrap();
        // A homogeneous batch of a runtime size keeps its type.
        let lens = c
            .batch((0..100).map(|i| cmd::strlen(format!("k{}", i * 4))))
            .await
            .unwrap();
        (
            errors,
            last_get,
            counter,
            list_len,
            lens.iter().sum::<i64>(),
        )
    })
    .await;
    let expected_len: i64 = (0..100).map(|i| (i * 4).to_string().len() as i64).sum();
    assert_eq!(
        got,
        (
            0,
            Value::Bulk(Bytes::from("9996")),
            2_500,
            2_500,
            expected_len
        )
    );
}

#[tokio::test]
async fn bad_arguments_fail_the_pipeline_before_sending() {
    let server = Server::start();
    let client = protocols::client(&server, respec::connection::Protocol::Resp3).await;
    let err = client
        .pipeline()
        .add(cmd::set("x", 1))
        .add(cmd::zadd("z", [(f64::NAN, "m")]))
        .execute()
        .await
        .unwrap_err();
    assert!(
        err.is_invalid_argument() && err.to_string().contains("ZADD"),
        "{err}"
    );
    // Nothing was sent: the SET before it did not run either.
    assert_eq!(client.exists(["x"]).await.unwrap(), 0);
}
