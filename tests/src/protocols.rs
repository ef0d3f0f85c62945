//! Running the same test body under RESP2 and RESP3 and asserting the same result,
//! on one server or on a cluster ([`Deployment`]).

use crate::cluster::Cluster;
use crate::server::Server;
use respec::connection::Protocol;
use respec::Client;
use std::fmt::Debug;
use std::future::Future;

/// A client of `server` speaking `protocol`.
pub async fn client(server: &Server, protocol: Protocol) -> Client {
    Client::builder()
        .url(&server.url())
        .protocol(protocol)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connecting to {} with {protocol:?}: {e}", server.url()))
}

/// What a command test runs against: one server, or a cluster through a cluster
/// client (the same test body on both: its keys share a hash tag where a command
/// takes several).
pub trait Deployment: Sync {
    /// A server of it, whose version and flavor say what a test skips.
    fn server(&self) -> &Server;

    /// A client of it speaking `protocol`.
    fn connect(&self, protocol: Protocol) -> impl Future<Output = Client> + Send;
}

impl Deployment for Server {
    fn server(&self) -> &Server {
        self
    }

    fn connect(&self, protocol: Protocol) -> impl Future<Output = Client> + Send {
        client(self, protocol)
    }
}

impl Deployment for Cluster {
    fn server(&self) -> &Server {
        self.node(0).server()
    }

    fn connect(&self, protocol: Protocol) -> impl Future<Output = Client> + Send {
        let resp = match protocol {
            Protocol::Resp2 => 2,
            _ => 3,
        };
        let seeds: Vec<String> = self
            .seed_urls()
            .into_iter()
            .map(|url| format!("{url}?protocol={resp}"))
            .collect();
        async move {
            Client::connect_cluster(&seeds)
                .await
                .unwrap_or_else(|e| panic!("connecting to the cluster {seeds:?}: {e}"))
        }
    }
}

/// Runs `body` once with a RESP2 client and once with a RESP3 client (each after
/// `FLUSHALL`, so both start from an empty server or cluster), asserts both runs
/// returned the same value, and returns it for further assertions.
pub async fn both<T, F, Fut>(on: &impl Deployment, mut body: F) -> T
where
    T: PartialEq + Debug,
    F: FnMut(Client) -> Fut,
    Fut: Future<Output = T>,
{
    let mut results = Vec::with_capacity(2);
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let c = on.connect(protocol).await;
        c.cmd("FLUSHALL").decode::<()>().await.expect("FLUSHALL");
        results.push(body(c).await);
    }
    let resp3 = results.pop().expect("two runs");
    let resp2 = results.pop().expect("two runs");
    assert_eq!(resp2, resp3, "RESP2 and RESP3 gave different results");
    resp3
}

/// Whether the server has a feature the spec dates `major.minor.patch`; prints why the
/// caller skips otherwise (`if !since(&server, (7, 4, 0), "HEXPIRE") { return; }`).
///
/// The vendored spec is Valkey's: versions from 8.0 on are Valkey releases, whose
/// features Redis (a separate line since 7.2) may lack or have under other versions,
/// so a Redis server skips them.
pub fn since(on: &impl Deployment, (major, minor, patch): (u32, u32, u32), what: &str) -> bool {
    let server = on.server();
    let v = server.version();
    if major >= 8 && server.flavor() == crate::Flavor::Redis {
        crate::skip(format_args!(
            "{what} is dated Valkey {major}.{minor}.{patch} by the spec; the server is Redis {v}"
        ));
        return false;
    }
    if v.at_least(major, minor, patch) {
        true
    } else {
        crate::skip(format_args!(
            "{what} needs {major}.{minor}.{patch}, the server is {v}"
        ));
        false
    }
}
