//! Connecting with bad input or to the wrong place, against real servers: every
//! error names what failed, the address and the option, and says so quickly.
//!
//! Each test prints the messages it checks (`--nocapture` shows them).

use respec::connection::{Config, Protocol};
use respec::{Client, Commands};
use respec_tests::{ports, Server};
use std::time::{Duration, Instant};

/// Connects to `url`, expecting an error; prints and returns it.
async fn refused(url: &str) -> respec::Error {
    let err = Client::connect(url).await.unwrap_err();
    println!("{url}\n    -> {err}");
    err
}

#[tokio::test]
async fn tls_against_a_plain_port_names_tls_the_address_and_the_cause() {
    let server = Server::start();
    let addr = server.addr();
    // Several tries: whether the server answers the ClientHello at once (when its
    // random bytes hold a newline, ending an inline command) or waits for more
    // depends on the hello.
    for _ in 0..5 {
        let started = Instant::now();
        let err = refused(&format!("rediss://{addr}?insecure=true&connect_timeout=5")).await;
        let took = started.elapsed();
        let text = err.to_string();
        assert!(text.contains("TLS handshake"), "{text}");
        assert!(text.contains(&addr.to_string()), "{text}");
        assert!(text.contains("use redis:// instead of rediss://"), "{text}");
        // The plain-RESP probe fails it well before the connect timeout (the bound
        // leaves room for a loaded machine: 900 ms of a 1 s timeout was once too
        // little).
        assert!(!err.is_timeout(), "{text}");
        assert!(took < Duration::from_secs(3), "took {took:?}: {text}");
    }
}

#[tokio::test]
async fn a_connect_timeout_says_which_phase_timed_out_where_and_the_limit() {
    let mut server = Server::start();
    let addr = server.addr();
    // A frozen process: the kernel still accepts the TCP connection, nothing answers.
    server.pause();
    let tls = refused(&format!(
        "rediss://{addr}?insecure=true&connect_timeout=0.5"
    ))
    .await;
    let resp = refused(&format!("redis://{addr}?connect_timeout=500ms")).await;
    server.resume();
    assert!(tls.is_timeout(), "{tls}");
    assert_eq!(
        tls.to_string(),
        format!(
            "connect: timed out: the TLS handshake with {addr} did not complete within the connect timeout (500ms); the server may not speak TLS on this port: use redis:// instead of rediss://"
        )
    );
    assert!(resp.is_timeout(), "{resp}");
    assert_eq!(
        resp.to_string(),
        format!(
            "connect: timed out: the RESP handshake (HELLO, AUTH, SELECT) with {addr} did not complete within the connect timeout (500ms)"
        )
    );
}

#[tokio::test]
async fn a_closed_port_names_the_address() {
    let port = ports::free_port().unwrap();
    for scheme in ["redis", "rediss"] {
        let err = refused(&format!("{scheme}://127.0.0.1:{port}?connect_timeout=2")).await;
        assert!(err.is_io(), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("cannot connect to 127.0.0.1:{port}")),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_user_without_a_password_authenticates_as_that_user() {
    let server = Server::builder()
        .acl_user("user u on nopass ~* &* +@all")
        .acl_user("user alice on >wonderland ~* &* +@all")
        .start()
        .unwrap();
    let addr = server.addr();
    for protocol in ["2", "3"] {
        let client = Client::connect(&format!("redis://u@{addr}?protocol={protocol}"))
            .await
            .unwrap();
        assert_eq!(client.acl_whoami().await.unwrap(), "u", "RESP{protocol}");
    }
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = Client::builder()
            .host("127.0.0.1", addr.port())
            .username("u")
            .protocol(protocol)
            .connect()
            .await
            .unwrap();
        assert_eq!(client.acl_whoami().await.unwrap(), "u", "{protocol:?}");
    }
    // A user with a password: the connect fails, naming AUTH and WRONGPASS.
    for protocol in ["2", "3"] {
        let err = refused(&format!("redis://alice@{addr}?protocol={protocol}")).await;
        assert!(err.is_server(), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("AUTH") && text.contains("WRONGPASS"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn keepalive_out_of_range_is_a_config_error_naming_it() {
    let server = Server::start();
    let addr = server.addr();
    let expected = "`keepalive` must be between 1 and 32767 seconds";
    for v in ["1e10", "32768"] {
        let err = refused(&format!("redis://{addr}?keepalive={v}")).await;
        assert!(err.is_config(), "{err}");
        assert!(err.to_string().contains(expected), "{err}");
    }
    let err = Client::builder()
        .host("127.0.0.1", addr.port())
        .keepalive(Some(Duration::from_secs(10_000_000_000)))
        .connect()
        .await
        .unwrap_err();
    println!("ClientBuilder::keepalive(1e10 s)\n    -> {err}");
    assert!(
        err.is_config() && err.to_string().contains(expected),
        "{err}"
    );
    // A Config built by hand is checked when connecting, before the socket options.
    let mut config = Config::from_url(&server.url()).unwrap();
    config.keepalive = Some(Duration::from_secs(40_000));
    let err = Client::from_config(config).await.unwrap_err();
    println!("Config {{ keepalive: 40000 s }}\n    -> {err}");
    assert!(
        err.is_config() && err.to_string().contains(expected),
        "{err}"
    );
    // In range: connects.
    let client = Client::connect(&format!("{}?keepalive=32767", server.url()))
        .await
        .unwrap();
    client.ping().await.unwrap();
}

#[tokio::test]
async fn tls_errors_name_the_address() {
    let Some(server) = Server::builder().tls().start_or_skip() else {
        return;
    };
    // The server's certificate is signed by a CA the client does not trust.
    let err = refused(&server.tls_url()).await;
    assert!(err.is_io(), "{err}");
    let text = err.to_string();
    let addr = format!("127.0.0.1:{}", server.tls_port());
    assert!(
        text.contains(&format!("the TLS handshake with {addr} failed")),
        "{text}"
    );
    assert!(
        !text.contains("rediss://"),
        "no not-TLS hint for a TLS server: {text}"
    );
}
