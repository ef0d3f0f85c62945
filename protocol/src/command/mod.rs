//! What a command is to the runtime: encoded arguments ([`CommandBuf`]), a reply type
//! ([`FromReply`]), static metadata ([`CommandMeta`]), and something that runs it
//! ([`Executor`]).
//!
//! Every generated command is a struct `Name<X = Detached, R = DefaultReply>`: `X` is
//! what will execute it (nothing yet for a [`Detached`] command, or a client), `R` the
//! type its reply decodes into. Builder methods that change what the server replies
//! change `R`; [`decode`](crate::cmd::Get::decode) picks any other [`FromReply`] type.

mod arg;
mod args;
mod bit_offset;
mod buf;
pub mod compat;
mod encoded;
mod list;
pub mod meta;
mod raw;
pub mod route;
mod stream_id;

/// The stride of the generated builders' argument positions (defined by the
/// generator).
#[doc(hidden)]
pub use crate::generated::meta::ARG_POS_STRIDE;
#[doc(hidden)]
pub use arg::arg_bytes;
#[doc(hidden)]
pub use arg::flag;
pub use arg::{
    DoubleArg, IntArg, LexBound, MillisArg, ScoreBound, SecondsArg, TimeoutArg, ToArg, UnixTimeArg,
};
pub use bit_offset::{BitOffset, BitOffsetArg};
pub use buf::{ArgProblem, CommandBuf, Wire};
pub use compat::Compatibility;
#[doc(hidden)]
pub use encoded::Encoded;
pub use encoded::LARGE_ARG;
pub use list::ToArgs;
pub use meta::{AclCategories, ArgMeta, CommandMeta, Route};
pub use raw::{cmd, Raw};

use crate::error::{Error, Result};
use crate::reply::FromReply;
use std::borrow::Cow;
use std::future::Future;

/// A command ready to be sent: its encoded words, its metadata and its reply type.
pub trait Command {
    /// The Rust type the reply decodes into.
    type Output: FromReply;

    /// The command's static metadata (`None` for a raw command the spec does not know).
    fn meta(&self) -> Option<&'static CommandMeta>;

    /// The encoded words.
    fn buf(&self) -> &CommandBuf;

    /// Takes the encoded words out.
    fn into_buf(self) -> CommandBuf;

    /// The command's name for messages (`CLIENT KILL`); a command the spec does not
    /// know (a module's) by its first word, in upper case.
    fn name(&self) -> Cow<'static, str> {
        match self.meta() {
            Some(m) => Cow::Borrowed(m.name),
            None => self.buf().raw_name(),
        }
    }

    /// The keys this command touches, located by the spec's key specifications (for
    /// hashing to a cluster slot).
    fn keys(&self) -> Vec<&[u8]> {
        let args = self.buf().words();
        let Some(meta) = self.meta().or_else(|| meta::lookup_args(&args)) else {
            return Vec::new();
        };
        meta.key_indices(&args)
            .into_iter()
            .map(|i| args[i])
            .collect()
    }

    /// The script this command runs by digest (a [`Script`](crate::script::Script)
    /// call): pipelines load it before they are sent.
    #[doc(hidden)]
    fn script(&self) -> Option<&crate::script::Script> {
        None
    }

    /// Checks the arguments: the error names the command and the argument.
    fn validate(&self) -> Result<()> {
        match self.buf().problem() {
            None => Ok(()),
            Some(p) => Err(Error::invalid_argument(p.arg, p.problem).with_command(self.name())),
        }
    }
}

/// A command that is not bound to a client: build it now, send it or queue it later.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Detached;

/// A detached command's reply is the generated type.
impl crate::reply::ReplyMode for Detached {
    type Out<T: crate::reply::TextReply> = T;
}

/// A command on its way to an [`Executor`]: its arguments, lent, and its metadata.
///
/// The arguments are lent rather than moved (a command's builder state is a few
/// hundred bytes, and each move of it is a copy): the executor takes what it sends
/// out of them ([`CommandBuf::take`], [`CommandBuf::take_wire`]), leaving the
/// command empty.
#[derive(Debug)]
pub struct Request<'a> {
    /// The encoded words.
    pub buf: &'a mut CommandBuf,
    /// Static metadata, when the spec knows the command.
    pub meta: Option<&'static CommandMeta>,
}

impl Request<'_> {
    /// The command's name for messages (see [`Command::name`]).
    pub fn name(&self) -> Cow<'static, str> {
        match self.meta {
            Some(m) => Cow::Borrowed(m.name),
            None => self.buf.raw_name(),
        }
    }
}

/// Something that runs commands and decodes their replies: a client, a pooled
/// connection. Awaiting a bound command calls [`Executor::execute`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run commands, so this command cannot be awaited",
    label = "not something that runs commands",
    note = "a detached command (`cmd::get(\"k\")`) is not bound to a client: build it from the client (`client.get(\"k\").await`), send it (`client.send(cmd).await`), or queue it in a pipeline (`client.pipeline().add(cmd)`)"
)]
pub trait Executor {
    /// The future of one command's reply.
    type Future<T: FromReply + Send + 'static>: Future<Output = Result<T>> + Send;

    /// Sends `request` and decodes its reply into `T`. The future does not borrow
    /// `request`: what it needs is taken out of `request.buf`.
    fn execute<T: FromReply + Send + 'static>(self, request: Request<'_>) -> Self::Future<T>;
}

/// Shared impls of every generated command struct (an extension's too: `cargo xtask
/// ext` writes them into a user's crate).
#[doc(hidden)]
#[macro_export]
macro_rules! command_impls {
    ($name:ident, $meta:expr) => {
        impl<X, R> $name<X, R> {
            /// Decodes the reply into `T` instead of the default type (`String`, an
            /// integer, a `Vec`, a map, [`Value`](crate::Value), your own
            /// [`FromReply`](crate::FromReply) type).
            ///
            /// Call it last: options that change the reply reset the reply type.
            pub fn decode<T: $crate::reply::FromReply>(self) -> $name<X, T> {
                $name {
                    buf: self.buf,
                    exec: self.exec,
                    _reply: ::std::marker::PhantomData,
                }
            }

            /// Decodes the reply as it would be, together with the RESP3 attributes
            /// the server sent in front of it (skipped otherwise):
            /// [`WithAttributes`](crate::reply::WithAttributes).
            ///
            /// Call it last: options that change the reply reset the reply type.
            pub fn with_attributes(self) -> $name<X, $crate::reply::WithAttributes<R>> {
                $name {
                    buf: self.buf,
                    exec: self.exec,
                    _reply: ::std::marker::PhantomData,
                }
            }

            /// The same command, not bound to a client: send it or queue it later.
            pub fn detach(self) -> $name<$crate::command::Detached, R> {
                $name {
                    buf: self.buf,
                    exec: $crate::command::Detached,
                    _reply: ::std::marker::PhantomData,
                }
            }
        }

        impl<X, R: $crate::reply::FromReply> $crate::command::Command for $name<X, R> {
            type Output = R;

            fn meta(&self) -> Option<&'static $crate::command::CommandMeta> {
                Some(&$meta)
            }

            fn buf(&self) -> &$crate::command::CommandBuf {
                &self.buf
            }

            fn into_buf(self) -> $crate::command::CommandBuf {
                self.buf
            }
        }

        impl<X: $crate::command::Executor, R: $crate::reply::FromReply + Send + 'static>
            $name<X, R>
        {
            /// Sends the command and returns the future of its reply: what `.await`
            /// does, as a value, for where a [`Future`](::std::future::Future) is
            /// expected (`futures::future::join_all`, `tokio::spawn`; `tokio::select!`
            /// and `tokio::join!` take the command itself).
            ///
            /// The command is handed to its client now, so commands turned into
            /// futures one after another are pipelined in that order. A client's
            /// future owns everything it needs: it is `Send` and `'static`, so it can
            /// be spawned while the client stays where it is. (The same as
            /// [`IntoFuture::into_future`](::std::future::IntoFuture::into_future),
            /// callable without importing the trait.)
            pub fn into_future(self) -> X::Future<R> {
                ::std::future::IntoFuture::into_future(self)
            }
        }

        impl<X: $crate::command::Executor, R: $crate::reply::FromReply + Send + 'static>
            ::std::future::IntoFuture for $name<X, R>
        {
            type Output = $crate::error::Result<R>;
            type IntoFuture = X::Future<R>;

            fn into_future(mut self) -> Self::IntoFuture {
                // The arguments are lent, not moved (see `Request`).
                self.exec.execute($crate::command::Request {
                    buf: &mut self.buf,
                    meta: Some(&$meta),
                })
            }
        }

        impl<X, R> ::std::fmt::Debug for $name<X, R> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&self.buf, f)
            }
        }

        impl<X: Clone, R> Clone for $name<X, R> {
            fn clone(&self) -> Self {
                $name {
                    buf: self.buf.clone(),
                    exec: self.exec.clone(),
                    _reply: ::std::marker::PhantomData,
                }
            }
        }
    };
}
#[doc(hidden)]
pub use crate::command_impls;

/// Arguments that encode as one or more words: the generated option enums and blocks.
pub trait WriteArgs {
    /// Appends the words.
    fn write_args(&self, out: &mut CommandBuf);
}

impl<T: WriteArgs + ?Sized> WriteArgs for &T {
    fn write_args(&self, out: &mut CommandBuf) {
        (**self).write_args(out)
    }
}
