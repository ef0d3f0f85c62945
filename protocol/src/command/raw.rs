//! Raw commands: any name, any arguments, for modules and commands newer than the spec.

use super::{meta, CommandBuf, CommandMeta, Detached, Executor, Request, ToArg};
use crate::reply::{FromReply, Value};
use std::marker::PhantomData;

/// A command built word by word: `cmd("JSON.GET").arg("doc").arg("$")`.
///
/// Its reply decodes into [`Value`] unless [`decode`](Raw::decode) picks a type.
/// When the name is one the spec knows, its metadata (blocking, key positions) is
/// found and used like for a generated command.
pub struct Raw<X = Detached, R = Value> {
    buf: CommandBuf,
    exec: X,
    _reply: PhantomData<fn() -> R>,
}

/// Starts a raw command named `name` (which may be several words: `"CLIENT"` then
/// `.arg("LIST")`, or a module command such as `"JSON.GET"`).
pub fn cmd(name: impl ToArg) -> Raw {
    Raw::new_in(Detached, name)
}

impl<X> Raw<X> {
    /// A raw command bound to `exec`.
    pub fn new_in(exec: X, name: impl ToArg) -> Self {
        let mut buf = CommandBuf::new(b"", 0);
        buf.multi(0, "command");
        name.write_arg(&mut buf);
        Raw {
            buf,
            exec,
            _reply: PhantomData,
        }
    }
}

impl<X, R> Raw<X, R> {
    /// Appends one argument.
    pub fn arg(mut self, arg: impl ToArg) -> Self {
        arg.write_arg(&mut self.buf);
        self
    }

    /// Appends several arguments.
    pub fn args<T: ToArg>(mut self, args: impl IntoIterator<Item = T>) -> Self {
        for a in args {
            a.write_arg(&mut self.buf);
        }
        self
    }

    /// Decodes the reply into `T` instead of [`Value`].
    pub fn decode<T: FromReply>(self) -> Raw<X, T> {
        Raw {
            buf: self.buf,
            exec: self.exec,
            _reply: PhantomData,
        }
    }

    /// Decodes the reply as it would be, together with the RESP3 attributes the
    /// server sent in front of it ([`WithAttributes`](crate::reply::WithAttributes)).
    pub fn with_attributes(self) -> Raw<X, crate::reply::WithAttributes<R>> {
        Raw {
            buf: self.buf,
            exec: self.exec,
            _reply: PhantomData,
        }
    }

    /// The same command, not bound to a client.
    pub fn detach(self) -> Raw<Detached, R> {
        Raw {
            buf: self.buf,
            exec: Detached,
            _reply: PhantomData,
        }
    }

    fn lookup(&self) -> Option<&'static CommandMeta> {
        let mut words = self.buf.iter();
        let first = words.next()?;
        match words.next() {
            Some(second) => meta::lookup_args(&[first, second]),
            None => meta::lookup_args(&[first]),
        }
    }
}

impl<X, R: FromReply> super::Command for Raw<X, R> {
    type Output = R;

    fn meta(&self) -> Option<&'static CommandMeta> {
        self.lookup()
    }

    fn buf(&self) -> &CommandBuf {
        &self.buf
    }

    fn into_buf(self) -> CommandBuf {
        self.buf
    }
}

impl<X: Executor, R: FromReply + Send + 'static> Raw<X, R> {
    /// Sends the command and returns the future of its reply, for where a `Future`
    /// is expected (`join_all`, `tokio::spawn`), as the generated commands'
    /// `into_future` does ([`Get::into_future`](crate::cmd::Get::into_future)).
    pub fn into_future(self) -> X::Future<R> {
        std::future::IntoFuture::into_future(self)
    }
}

impl<X: Executor, R: FromReply + Send + 'static> std::future::IntoFuture for Raw<X, R> {
    type Output = crate::error::Result<R>;
    type IntoFuture = X::Future<R>;

    fn into_future(mut self) -> Self::IntoFuture {
        let meta = self.lookup();
        self.exec.execute(Request {
            buf: &mut self.buf,
            meta,
        })
    }
}

impl<X, R> std::fmt::Debug for Raw<X, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.buf, f)
    }
}
