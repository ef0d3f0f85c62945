//! The clients under comparison, behind one small trait.
//!
//! Each implementation is what a user of that library would write: its typed command
//! methods, its pipeline API, and the reply type that costs it least (`Bytes` for
//! respec and fred, whose replies are `Bytes` already; `Vec<u8>` for redis-rs, whose
//! parser produces `Vec<u8>` and would copy into `Bytes`). Every method returns a
//! number derived from the reply (a length, a count) so that nothing is optimized away.

use std::collections::HashMap;
use std::future::Future;

use anyhow::{ensure, Result};
use bytes::Bytes;

/// One client library, connected to the benchmark server by one multiplexed
/// connection. Clones share the connection (the concurrent workloads give each task a
/// clone).
pub trait Peer: Clone + Send + Sync + 'static {
    /// Which peer this is.
    const ID: PeerId;

    /// `GET key`: the value's length, 0 when the key does not exist.
    fn get(&mut self, key: &str) -> impl Future<Output = Result<usize>> + Send;

    /// `SET key value`.
    fn set(&mut self, key: &str, value: &Bytes) -> impl Future<Output = Result<()>> + Send;

    /// One explicit pipeline of `SET key value` for every key.
    fn pipeline_set(
        &mut self,
        keys: &[String],
        value: &Bytes,
    ) -> impl Future<Output = Result<()>> + Send;

    /// One explicit pipeline of `GET key` for every key: the total length of the values.
    fn pipeline_get(&mut self, keys: &[String]) -> impl Future<Output = Result<usize>> + Send;

    /// One `MULTI`/`EXEC` transaction of `SET key value` for every key, through the
    /// library's transaction API: the number of `OK` replies among `EXEC`'s.
    fn transaction_set(
        &mut self,
        keys: &[String],
        value: &Bytes,
    ) -> impl Future<Output = Result<usize>> + Send;

    /// `LRANGE key 0 -1` as a list of byte strings: the number of elements.
    fn lrange(&mut self, key: &str) -> impl Future<Output = Result<usize>> + Send;

    /// `HGETALL key` as a hash map of byte strings: the number of fields.
    fn hgetall(&mut self, key: &str) -> impl Future<Output = Result<usize>> + Send;
}

/// Names a peer (a column of the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerId {
    /// This project.
    Respec,
    /// The `redis` crate, `MultiplexedConnection`.
    RedisRs,
    /// The `fred` crate, one `Client`.
    Fred,
}

impl PeerId {
    /// Every peer, in the report's column order.
    pub const ALL: [PeerId; 3] = [PeerId::Respec, PeerId::RedisRs, PeerId::Fred];

    /// The column name.
    pub fn name(self) -> &'static str {
        match self {
            PeerId::Respec => "respec",
            PeerId::RedisRs => "redis-rs",
            PeerId::Fred => "fred",
        }
    }
}

/// One connected client of each library.
#[derive(Clone)]
pub struct Peers {
    /// respec.
    pub respec: Respec,
    /// redis-rs.
    pub redis: RedisRs,
    /// fred.
    pub fred: Fred,
}

impl Peers {
    /// Connects all three to `url` (on the current tokio runtime, which then runs
    /// their background tasks).
    pub async fn connect(url: &str) -> Result<Peers> {
        Ok(Peers {
            respec: Respec::connect(url).await?,
            redis: RedisRs::connect(url).await?,
            fred: Fred::connect(url).await?,
        })
    }
}

/// Checks that a pipeline, batch or transaction returned one reply per command.
fn check_replies(got: usize, sent: usize) -> Result<()> {
    ensure!(got == sent, "{sent} commands sent, {got} replies");
    Ok(())
}

/// respec: one [`respec::Client`] (its shared multiplexed connection), explicit
/// pipelines through [`respec::Client::batch`], transactions through
/// [`respec::Client::pipeline_dyn`] made transactional (the typed
/// `pipeline().transaction()` holds at most 16 commands).
#[derive(Clone, Debug)]
pub struct Respec(pub respec::Client);

impl Respec {
    /// Connects with respec's defaults (RESP3).
    pub async fn connect(url: &str) -> Result<Respec> {
        Ok(Respec(respec::Client::connect(url).await?))
    }
}

impl Peer for Respec {
    const ID: PeerId = PeerId::Respec;

    async fn get(&mut self, key: &str) -> Result<usize> {
        use respec::Commands as _;
        let value: Option<Bytes> = self.0.get(key).await?;
        Ok(value.map_or(0, |v| v.len()))
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> Result<()> {
        use respec::Commands as _;
        self.0.set(key, value).await?;
        Ok(())
    }

    async fn pipeline_set(&mut self, keys: &[String], value: &Bytes) -> Result<()> {
        let replies: Vec<bool> = self
            .0
            .batch(keys.iter().map(|key| respec::cmd::set(key, value)))
            .await?;
        check_replies(replies.len(), keys.len())
    }

    async fn pipeline_get(&mut self, keys: &[String]) -> Result<usize> {
        let values: Vec<Option<Bytes>> = self.0.batch(keys.iter().map(respec::cmd::get)).await?;
        check_replies(values.len(), keys.len())?;
        Ok(values.iter().flatten().map(Bytes::len).sum())
    }

    async fn transaction_set(&mut self, keys: &[String], value: &Bytes) -> Result<usize> {
        let mut tx = self.0.pipeline_dyn();
        tx.transaction();
        for key in keys {
            tx.push(respec::cmd::set(key, value));
        }
        let replies = tx.execute().await?;
        check_replies(replies.len(), keys.len())?;
        Ok(replies
            .iter()
            .filter(|r| matches!(r, Ok(respec::Value::Simple(s)) if s == "OK"))
            .count())
    }

    async fn lrange(&mut self, key: &str) -> Result<usize> {
        use respec::Commands as _;
        let items: Vec<Bytes> = self.0.lrange(key, 0, -1).await?;
        Ok(items.len())
    }

    async fn hgetall(&mut self, key: &str) -> Result<usize> {
        use respec::Commands as _;
        let map: HashMap<Bytes, Bytes> = self.0.hgetall(key).await?;
        Ok(map.len())
    }
}

/// redis-rs: one `MultiplexedConnection`, explicit pipelines through `redis::pipe()`,
/// transactions through `redis::pipe().atomic()`.
#[derive(Clone)]
pub struct RedisRs(pub redis::aio::MultiplexedConnection);

impl std::fmt::Debug for RedisRs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisRs")
    }
}

impl RedisRs {
    /// Connects with redis-rs' defaults (RESP2) except TCP_NODELAY on and no response
    /// timeout (see the crate docs).
    pub async fn connect(url: &str) -> Result<RedisRs> {
        use redis::IntoConnectionInfo as _;
        let info = url
            .into_connection_info()?
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info)?;
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(RedisRs(conn))
    }
}

impl Peer for RedisRs {
    const ID: PeerId = PeerId::RedisRs;

    async fn get(&mut self, key: &str) -> Result<usize> {
        use redis::AsyncCommands as _;
        let value: Option<Vec<u8>> = self.0.get(key).await?;
        Ok(value.map_or(0, |v| v.len()))
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> Result<()> {
        use redis::AsyncCommands as _;
        let () = self.0.set(key, value.as_ref()).await?;
        Ok(())
    }

    async fn pipeline_set(&mut self, keys: &[String], value: &Bytes) -> Result<()> {
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.set(key, value.as_ref());
        }
        let replies: Vec<redis::Value> = pipe.query_async(&mut self.0).await?;
        check_replies(replies.len(), keys.len())
    }

    async fn pipeline_get(&mut self, keys: &[String]) -> Result<usize> {
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.get(key);
        }
        let values: Vec<Option<Vec<u8>>> = pipe.query_async(&mut self.0).await?;
        check_replies(values.len(), keys.len())?;
        Ok(values.iter().flatten().map(Vec::len).sum())
    }

    async fn transaction_set(&mut self, keys: &[String], value: &Bytes) -> Result<usize> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            pipe.set(key, value.as_ref());
        }
        // An atomic pipeline's reply is EXEC's: one value per queued command.
        let replies: Vec<redis::Value> = pipe.query_async(&mut self.0).await?;
        check_replies(replies.len(), keys.len())?;
        Ok(replies
            .iter()
            .filter(|v| matches!(v, redis::Value::Okay))
            .count())
    }

    async fn lrange(&mut self, key: &str) -> Result<usize> {
        use redis::AsyncCommands as _;
        let items: Vec<Vec<u8>> = self.0.lrange(key, 0, -1).await?;
        Ok(items.len())
    }

    async fn hgetall(&mut self, key: &str) -> Result<usize> {
        use redis::AsyncCommands as _;
        let map: HashMap<Vec<u8>, Vec<u8>> = self.0.hgetall(key).await?;
        Ok(map.len())
    }
}

/// fred: one `Client` (a single connection, commands pipelined automatically),
/// explicit pipelines through `Client::pipeline`, transactions through `Client::multi`.
#[derive(Clone)]
pub struct Fred(pub fred::clients::Client);

impl std::fmt::Debug for Fred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fred")
    }
}

impl Fred {
    /// Connects with fred's defaults (RESP2) except TCP_NODELAY on (see the crate docs).
    pub async fn connect(url: &str) -> Result<Fred> {
        use fred::prelude::{Builder, ClientLike as _, Config, TcpConfig};
        let client = Builder::from_config(Config::from_url(url)?)
            .with_connection_config(|config| {
                config.tcp = TcpConfig {
                    nodelay: Some(true),
                    ..TcpConfig::default()
                };
            })
            .build()?;
        // The connection task runs on the runtime until the client is dropped; its
        // handle is not needed.
        let _task = client.init().await?;
        Ok(Fred(client))
    }
}

impl Peer for Fred {
    const ID: PeerId = PeerId::Fred;

    async fn get(&mut self, key: &str) -> Result<usize> {
        use fred::prelude::KeysInterface as _;
        let value: Option<Bytes> = self.0.get(key).await?;
        Ok(value.map_or(0, |v| v.len()))
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> Result<()> {
        use fred::prelude::KeysInterface as _;
        let () = self.0.set(key, value.clone(), None, None, false).await?;
        Ok(())
    }

    async fn pipeline_set(&mut self, keys: &[String], value: &Bytes) -> Result<()> {
        use fred::prelude::KeysInterface as _;
        let pipe = self.0.pipeline();
        for key in keys {
            let () = pipe
                .set(key.as_str(), value.clone(), None, None, false)
                .await?;
        }
        let replies: Vec<fred::prelude::Value> = pipe.all().await?;
        check_replies(replies.len(), keys.len())
    }

    async fn pipeline_get(&mut self, keys: &[String]) -> Result<usize> {
        use fred::prelude::KeysInterface as _;
        let pipe = self.0.pipeline();
        for key in keys {
            let () = pipe.get(key.as_str()).await?;
        }
        let values: Vec<Option<Bytes>> = pipe.all().await?;
        check_replies(values.len(), keys.len())?;
        Ok(values.iter().flatten().map(Bytes::len).sum())
    }

    async fn transaction_set(&mut self, keys: &[String], value: &Bytes) -> Result<usize> {
        use fred::prelude::{KeysInterface as _, TransactionInterface as _};
        let tx = self.0.multi();
        for key in keys {
            // Queued locally: the reply is fred's own `QUEUED`.
            let () = tx
                .set(key.as_str(), value.clone(), None, None, false)
                .await?;
        }
        // `true`: DISCARD if a command is refused while queueing.
        let replies: Vec<fred::prelude::Value> = tx.exec(true).await?;
        check_replies(replies.len(), keys.len())?;
        Ok(replies.iter().filter(|v| v.is_ok()).count())
    }

    async fn lrange(&mut self, key: &str) -> Result<usize> {
        use fred::prelude::ListInterface as _;
        let items: Vec<Bytes> = self.0.lrange(key, 0, -1).await?;
        Ok(items.len())
    }

    async fn hgetall(&mut self, key: &str) -> Result<usize> {
        use fred::prelude::HashesInterface as _;
        let map: HashMap<Bytes, Bytes> = self.0.hgetall(key).await?;
        Ok(map.len())
    }
}
