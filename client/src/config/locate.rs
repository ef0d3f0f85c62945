//! Where the server is, for a client whose server can move: the primary (or a
//! replica) of a service that sentinels watch. The connection layer asks a
//! [`Locate`] at every connect and drops a connection the locator says was left
//! behind; `sentinel/` implements it.

use crate::config::Address;
use crate::error::Result;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, as the locator's methods return them.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Finds the server a connection should talk to now, and says when a connected one
/// should be left.
pub(crate) trait Locate: Send + Sync + 'static {
    /// The address to connect to now (asking the sentinels).
    fn locate(&self) -> BoxFuture<'_, Result<Address>>;

    /// After the handshake with `address`: whether the node is what is wanted, from
    /// the first element of its `ROLE` reply (`master`, `slave`, `sentinel`); an
    /// error fails the connect (and has the locator look again).
    fn check_role(&self, address: &Address, role: &[u8]) -> Result<()>;

    /// Resolves once a connection to `address` should be given up (a failover made
    /// another node the primary); never resolves otherwise.
    fn left(&self, address: &Address) -> BoxFuture<'static, ()>;

    /// Resolves the next time the locator learns something new (a reconnect that
    /// waits out its backoff tries at once then).
    fn changed(&self) -> BoxFuture<'static, ()>;

    /// A reply suggested that the node changed role (`READONLY`, `MASTERDOWN`):
    /// look again now.
    fn suspect(&self);

    /// What is located, for messages ("the primary of `mymaster`").
    fn name(&self) -> String;
}

/// A shared locator, as configurations hold it.
pub(crate) type Locator = Arc<dyn Locate>;
