//! Lua scripts registered once and called by digest: `EVALSHA`, and when the server
//! answers `NOSCRIPT` (after a restart, a failover or a `SCRIPT FLUSH`) the same call
//! again as `EVAL` with the script's body, which the server runs and caches. The
//! retry goes where the call went: on a cluster, to the node of the call's keys
//! only (a `SCRIPT LOAD` would go to every node, and wait on one that is down).
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> respec::Result<()> {
//! use respec::script::Script;
//! let incr_by = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
//! let n: i64 = incr_by.prepare().key("counter").arg(5).invoke(&client).await?;
//!
//! // In a pipeline or transaction: loaded (if needed) before the batch is sent.
//! let (a, b) = client
//!     .pipeline()
//!     .transaction()
//!     .add(incr_by.prepare().key("counter").arg(1).command::<i64>())
//!     .add(incr_by.prepare().key("counter").arg(1).command::<i64>())
//!     .execute()
//!     .await?;
//! # Ok(()) }
//! ```

use crate::command::{arg_bytes, meta, Command, CommandBuf, CommandMeta, Executor, Request, ToArg};
use crate::error::Result;
use crate::reply::FromReply;
use bytes::Bytes;
use std::marker::PhantomData;

/// A Lua script and its SHA1 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    code: Bytes,
    sha1: String,
}

impl Script {
    /// A script; its digest is computed here, the server learns it on first use.
    pub fn new(code: impl Into<Bytes>) -> Self {
        let code = code.into();
        let sha1 = crate::digest::sha1_hex(&code);
        Script { code, sha1 }
    }

    /// The digest `EVALSHA` uses.
    pub fn sha1(&self) -> &str {
        &self.sha1
    }

    /// The source.
    pub fn code(&self) -> &Bytes {
        &self.code
    }

    /// Starts a call: add keys and arguments, then [`invoke`](Invocation::invoke).
    pub fn prepare(&self) -> Invocation<'_> {
        Invocation {
            script: self,
            keys: Vec::new(),
            args: Vec::new(),
            read_only: false,
        }
    }
}

/// One call of a [`Script`].
#[derive(Debug, Clone)]
#[must_use = "an invocation does nothing until invoked"]
pub struct Invocation<'s> {
    script: &'s Script,
    keys: Vec<Bytes>,
    args: Vec<Bytes>,
    read_only: bool,
}

impl<'s> Invocation<'s> {
    /// Adds a key (`KEYS[n]`).
    pub fn key(mut self, key: impl ToArg) -> Self {
        self.keys.push(arg_bytes(key));
        self
    }

    /// Adds an argument (`ARGV[n]`).
    pub fn arg(mut self, arg: impl ToArg) -> Self {
        self.args.push(arg_bytes(arg));
        self
    }

    /// Runs the script with `EVALSHA_RO` (allowed on replicas; the script must not
    /// write).
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// The call as a command whose reply decodes into `T`, to queue in a
    /// pipeline or transaction: the pipeline loads the script
    /// (`SCRIPT EXISTS`, then `SCRIPT LOAD` if needed) before it is sent.
    pub fn command<T: FromReply>(&self) -> ScriptCall<'s, T> {
        let name = if self.read_only {
            "EVALSHA_RO"
        } else {
            "EVALSHA"
        };
        let target = ("sha1", self.script.sha1.as_bytes());
        let (meta, buf) = numkeys_call(name, target, &self.keys, &self.args);
        ScriptCall {
            script: self.script,
            buf,
            meta,
            _reply: PhantomData,
        }
    }

    /// Runs the script by digest; when the server does not have it (`NOSCRIPT`), runs
    /// it again with its body (`EVAL`, or `EVAL_RO`), which the server caches for the
    /// next call. The reply decodes into `T`.
    ///
    /// `on` is anything that runs commands: `&client`, `client.strings()`, a
    /// `Watched` connection.
    pub async fn invoke<T>(self, on: impl Executor + Copy) -> Result<T>
    where
        T: FromReply + Send + 'static,
    {
        match self.command::<T>().run(on).await {
            Err(e) if e.server_error().is_some_and(|s| s.code() == "NOSCRIPT") => {
                let name = if self.read_only { "EVAL_RO" } else { "EVAL" };
                let target = ("script", &self.script.code[..]);
                let (meta, buf) = numkeys_call(name, target, &self.keys, &self.args);
                ScriptCall {
                    script: self.script,
                    buf,
                    meta,
                    _reply: PhantomData,
                }
                .run(on)
                .await
            }
            other => other,
        }
    }
}

/// `NAME target numkeys key... arg...` (`EVALSHA`, `EVAL`, their `_RO` forms,
/// `FCALL`, `FCALL_RO`) with the command's metadata, when the tree has it: built
/// from its words rather than by the generated builders, so that scripts and
/// functions compile against any command tree, even one without these commands.
/// `target` is the name and the value of the argument before the count (the digest,
/// the body, the function's name).
#[doc(hidden)]
pub fn numkeys_call(
    name: &'static str,
    target: (&'static str, &[u8]),
    keys: &[Bytes],
    args: &[Bytes],
) -> (Option<&'static CommandMeta>, CommandBuf) {
    let mut buf = CommandBuf::raw(name.as_bytes());
    buf.multi(1, target.0);
    buf.push(target.1);
    buf.multi(2, "numkeys");
    buf.push(keys.len().to_string().as_bytes());
    for (pos, what, list) in [(3, "key", keys), (4, "arg", args)] {
        buf.multi(pos, what);
        for item in list {
            buf.push_bytes(item.clone());
        }
    }
    (meta::lookup(name), buf)
}

/// A [`Script`] call as a command (from [`Invocation::command`]); its reply decodes
/// into `T`.
#[must_use = "a command does nothing until sent or queued"]
pub struct ScriptCall<'s, T> {
    script: &'s Script,
    buf: CommandBuf,
    meta: Option<&'static CommandMeta>,
    _reply: PhantomData<fn() -> T>,
}

impl<T> Clone for ScriptCall<'_, T> {
    fn clone(&self) -> Self {
        ScriptCall {
            script: self.script,
            buf: self.buf.clone(),
            meta: self.meta,
            _reply: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for ScriptCall<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.buf, f)
    }
}

impl<T: FromReply + Send + 'static> ScriptCall<'_, T> {
    fn run<E: Executor>(mut self, on: E) -> E::Future<T> {
        on.execute(Request {
            buf: &mut self.buf,
            meta: self.meta,
        })
    }
}

impl<T: FromReply> Command for ScriptCall<'_, T> {
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

    fn script(&self) -> Option<&Script> {
        Some(self.script)
    }
}
