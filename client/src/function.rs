//! Server-side function libraries (`FUNCTION LOAD`, `FCALL`, `FCALL_RO`): a
//! [`Library`] loads its code, and its [`Function`]s are typed handles whose calls
//! load the library again when the server has lost it (a restart, `FUNCTION FLUSH`).
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> respec::Result<()> {
//! use respec::function::{Function, Library};
//! let lib = Library::new(
//!     "#!lua name=counters\n\
//!      redis.register_function('bump', function(keys, args)\n\
//!        return redis.call('INCRBY', keys[1], args[1])\n\
//!      end)\n\
//!      redis.register_function{function_name='peek', callback=function(keys)\n\
//!        return redis.call('GET', keys[1])\n\
//!      end, flags={'no-writes'}}",
//! )?;
//! lib.load(&client).await?; // FUNCTION LOAD REPLACE
//!
//! // Typed handles: the reply type is part of the function.
//! let bump: Function<i64> = lib.function("bump");
//! let peek: Function<Option<String>> = lib.function("peek").read_only();
//! let n = bump.call().key("hits").arg(5).invoke(&client).await?;
//! let s = peek.call().key("hits").invoke(&client).await?;
//! # Ok(()) }
//! ```
//!
//! A typed wrapper for a whole library is a struct of such handles with one method
//! per function; see `client/examples/functions.rs`.

use crate::command::arg_bytes;
use crate::command::{Command, CommandBuf, CommandMeta, Executor, Request, ToArg};
use crate::error::{Error, Result};
use crate::replies::FunctionListReply;
use crate::reply::{FromReply, Value};
use bytes::Bytes;
use std::marker::PhantomData;
use std::sync::Arc;

/// A library of functions: its name and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    inner: Arc<LibraryInner>,
}

#[derive(Debug, PartialEq, Eq)]
struct LibraryInner {
    name: String,
    code: Bytes,
}

/// Sends one detached command through `on`.
fn run<T, E, C>(on: E, cmd: C) -> E::Future<T>
where
    T: FromReply + Send + 'static,
    E: Executor,
    C: Command,
{
    let meta = cmd.meta();
    on.execute(Request {
        buf: &mut cmd.into_buf(),
        meta,
    })
}

impl Library {
    /// A library from its code, which starts with the shebang line naming it:
    /// `#!lua name=<library>`.
    pub fn new(code: impl Into<Bytes>) -> Result<Self> {
        let code = code.into();
        let bad = || {
            Error::invalid_argument(
                "function_code",
                "the code must start with `#!<engine> name=<library>`",
            )
            .with_command("FUNCTION LOAD")
        };
        let first = code.split(|&b| b == b'\n').next().unwrap_or_default();
        let first = std::str::from_utf8(first).map_err(|_| bad())?;
        let rest = first.trim_end().strip_prefix("#!").ok_or_else(bad)?;
        let name = rest
            .split_whitespace()
            .skip(1)
            .find_map(|opt| opt.strip_prefix("name="))
            .filter(|n| !n.is_empty())
            .ok_or_else(bad)?;
        Ok(Library {
            inner: Arc::new(LibraryInner {
                name: name.to_owned(),
                code,
            }),
        })
    }

    /// The library's name, from its shebang line.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The code.
    pub fn code(&self) -> &Bytes {
        &self.inner.code
    }

    /// Loads the library, replacing any library of the same name
    /// (`FUNCTION LOAD REPLACE`).
    pub async fn load<E: Executor>(&self, on: E) -> Result<()> {
        let load = crate::raw_cmd("FUNCTION")
            .args(["LOAD", "REPLACE"])
            .arg(&self.inner.code);
        let name: Bytes = run(on, load).await?;
        if name != self.inner.name.as_bytes() {
            return Err(Error::decode(
                "the library name of the shebang line",
                format!("`{}`", String::from_utf8_lossy(&name)),
            )
            .with_command("FUNCTION LOAD"));
        }
        Ok(())
    }

    /// Deletes the library (`FUNCTION DELETE`).
    pub async fn delete<E: Executor>(&self, on: E) -> Result<()> {
        run(
            on,
            crate::raw_cmd("FUNCTION")
                .arg("DELETE")
                .arg(&self.inner.name),
        )
        .await
    }

    /// What the server has of this library (`FUNCTION LIST LIBRARYNAME`): its engine
    /// and functions with their flags; `None` when it is not loaded.
    pub async fn info<E: Executor>(&self, on: E) -> Result<Option<FunctionListReply>> {
        let list = crate::raw_cmd("FUNCTION")
            .args(["LIST", "LIBRARYNAME"])
            .arg(&self.inner.name);
        let all: Vec<FunctionListReply> = run(on, list).await?;
        // LIBRARYNAME is a pattern: keep the exact match.
        Ok(all
            .into_iter()
            .find(|l| l.library_name.as_deref() == Some(self.inner.name.as_bytes())))
    }

    /// A typed handle on one of the library's functions; its replies decode into `T`.
    pub fn function<T: FromReply>(&self, name: &str) -> Function<T> {
        Function {
            library: self.clone(),
            name: Bytes::copy_from_slice(name.as_bytes()),
            read_only: false,
            _reply: PhantomData,
        }
    }

    /// Starts a call of a function whose reply is untyped ([`Value`]).
    pub fn call(&self, function: &str) -> FunctionCall<'static, Value> {
        FunctionCall::owned(self.function(function))
    }
}

/// A function of a [`Library`]: call it with [`call`](Function::call); its reply
/// decodes into `T`.
pub struct Function<T> {
    library: Library,
    name: Bytes,
    read_only: bool,
    _reply: PhantomData<fn() -> T>,
}

impl<T> Clone for Function<T> {
    fn clone(&self) -> Self {
        Function {
            library: self.library.clone(),
            name: self.name.clone(),
            read_only: self.read_only,
            _reply: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Function<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("library", &self.library.name())
            .field("name", &self.name)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl<T: FromReply> Function<T> {
    /// Calls it with `FCALL_RO` (allowed on replicas; the function must be registered
    /// with the `no-writes` flag).
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// The function's name.
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// Starts a call: add keys and arguments, then
    /// [`invoke`](FunctionCall::invoke) it or queue its
    /// [`command`](FunctionCall::command).
    pub fn call(&self) -> FunctionCall<'_, T> {
        FunctionCall {
            function: FunctionRef::Borrowed(self),
            keys: Vec::new(),
            args: Vec::new(),
            read_only: self.read_only,
        }
    }
}

enum FunctionRef<'f, T> {
    Borrowed(&'f Function<T>),
    Owned(Function<T>),
}

/// One call of a [`Function`].
#[must_use = "a call does nothing until invoked"]
pub struct FunctionCall<'f, T> {
    function: FunctionRef<'f, T>,
    keys: Vec<Bytes>,
    args: Vec<Bytes>,
    read_only: bool,
}

impl<T> std::fmt::Debug for FunctionCall<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionCall")
            .field("function", self.function())
            .field("keys", &self.keys)
            .field("args", &self.args)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl<T> FunctionCall<'static, T> {
    fn owned(function: Function<T>) -> Self {
        FunctionCall {
            read_only: function.read_only,
            function: FunctionRef::Owned(function),
            keys: Vec::new(),
            args: Vec::new(),
        }
    }
}

impl<T> FunctionCall<'_, T> {
    fn function(&self) -> &Function<T> {
        match &self.function {
            FunctionRef::Borrowed(f) => f,
            FunctionRef::Owned(f) => f,
        }
    }

    /// Calls with `FCALL_RO` (see [`Function::read_only`]).
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Adds a key (`keys[n]` in the function).
    pub fn key(mut self, key: impl ToArg) -> Self {
        self.keys.push(arg_bytes(key));
        self
    }

    /// Adds an argument (`args[n]` in the function).
    pub fn arg(mut self, arg: impl ToArg) -> Self {
        self.args.push(arg_bytes(arg));
        self
    }

    /// The call as a command whose reply decodes into `T`, to queue in a pipeline or
    /// transaction (load the library first: a pipeline does not).
    pub fn command(&self) -> FcallCommand<T>
    where
        T: FromReply,
    {
        let f = self.function();
        let name = if self.read_only { "FCALL_RO" } else { "FCALL" };
        let target = ("function", &f.name[..]);
        let (meta, buf) = crate::script::numkeys_call(name, target, &self.keys, &self.args);
        FcallCommand {
            buf,
            meta,
            _reply: PhantomData,
        }
    }

    /// Calls the function; when the server does not know it (`Function not found`:
    /// after a restart or `FUNCTION FLUSH`), loads the library and calls it again.
    ///
    /// `on` is anything that runs commands: `&client`, `client.strings()`, a
    /// [`Watched`](crate::pipeline::watch::Watched) connection.
    pub async fn invoke(self, on: impl Executor + Copy) -> Result<T>
    where
        T: FromReply + Send + 'static,
    {
        let call = self.command();
        match run(on, call.clone()).await {
            Err(e) if is_not_found(&e) => {
                self.function().library.load(on).await?;
                run(on, call).await
            }
            other => other,
        }
    }
}

fn is_not_found(e: &Error) -> bool {
    e.server_error()
        .is_some_and(|s| s.code() == "ERR" && s.message().contains("Function not found"))
}

/// An `FCALL` or `FCALL_RO` command (from [`FunctionCall::command`]); its reply
/// decodes into `T`.
#[must_use = "a command does nothing until sent or queued"]
pub struct FcallCommand<T> {
    buf: CommandBuf,
    meta: Option<&'static CommandMeta>,
    _reply: PhantomData<fn() -> T>,
}

impl<T> Clone for FcallCommand<T> {
    fn clone(&self) -> Self {
        FcallCommand {
            buf: self.buf.clone(),
            meta: self.meta,
            _reply: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for FcallCommand<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.buf, f)
    }
}

impl<T: FromReply> Command for FcallCommand<T> {
    type Output = T;

    fn meta(&self) -> Option<&'static CommandMeta> {
        self.meta
    }

    fn buf(&self) -> &CommandBuf {
        &self.buf
    }

    fn into_buf(self) -> CommandBuf {
        self.buf
    }
}
