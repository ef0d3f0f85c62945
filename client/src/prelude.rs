//! What a program using respec needs, in one import: `use respec::prelude::*;`.
//!
//! ```no_run
//! use respec::prelude::*;
//!
//! # async fn demo() -> respec::Result<()> {
//! let client = Client::connect("redis://127.0.0.1:6379/0").await?;
//! client.set("foo", 1).await?;
//! let n: i64 = client.incrby("foo", 100).await?;
//! let v: Option<Bytes> = client.get("foo").await?;
//! let s: Option<String> = client.strings().get("foo").await?;
//! let (ok, n2, v2) = client
//!     .pipeline()
//!     .add(cmd::set("a", 1))
//!     .add(cmd::incr("a"))
//!     .add(cmd::get("a"))
//!     .execute()
//!     .await?;
//! # let _ = (n, v, s, ok, n2, v2);
//! # Ok(()) }
//! ```
//!
//! It brings the [`Commands`] trait (every command as a method of [`Client`],
//! [`Strings`], [`Dedicated`], pipelines' executors), [`Command`] (`cmd::set(..)`
//! values' `.decode::<T>()`, `.buf()`), [`FromReply`] (for your own reply types),
//! the client and its builder, [`Config`], the error types, [`Value`],
//! [`Subscriber`] and its [`Message`], the [`cmd`] and [`types`] modules, and
//! [`Bytes`]. Its [`Result`] has a default error type (`Result<T>` is
//! `Result<T, respec::Error>`), so it does not get in the way of `Result<T, E>`.

#[doc(no_inline)]
pub use crate::connection::Config;
#[doc(no_inline)]
pub use crate::pool::Dedicated;
#[doc(no_inline)]
pub use crate::pubsub::{Message, Subscriber};
#[doc(no_inline)]
pub use crate::{cmd, types};
#[doc(no_inline)]
pub use crate::{Client, ClientBuilder, Command, Commands, FromReply, Strings};
#[doc(no_inline)]
pub use crate::{Error, Result, ServerError, Value};
#[doc(no_inline)]
pub use bytes::Bytes;
