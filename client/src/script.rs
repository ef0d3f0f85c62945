//! Lua scripts registered once and called by digest: `EVALSHA`, loading the script
//! and retrying when the server answers `NOSCRIPT` (after a restart or a
//! `SCRIPT FLUSH`).
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> respec::Result<()> {
//! use respec::script::Script;
//! let incr_by = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
//! let n: i64 = incr_by.prepare().key("counter").arg(5).invoke(&client).await?;
//! # Ok(()) }
//! ```

use crate::client::Client;
use crate::command::{CommandBuf, ToArg};
use crate::error::Result;
use crate::reply::FromReply;
use crate::{cmd, Commands};
use bytes::Bytes;
use sha1::{Digest, Sha1};

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
        let digest = Sha1::digest(&code);
        let mut sha1 = String::with_capacity(40);
        for b in digest {
            sha1.push_str(&format!("{b:02x}"));
        }
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

fn to_bytes(value: impl ToArg) -> Bytes {
    let mut buf = CommandBuf::raw(b"");
    value.write_arg(&mut buf);
    let bytes = buf.iter().nth(1).map(Bytes::copy_from_slice);
    bytes.unwrap_or_default()
}

impl Invocation<'_> {
    /// Adds a key (`KEYS[n]`).
    pub fn key(mut self, key: impl ToArg) -> Self {
        self.keys.push(to_bytes(key));
        self
    }

    /// Adds an argument (`ARGV[n]`).
    pub fn arg(mut self, arg: impl ToArg) -> Self {
        self.args.push(to_bytes(arg));
        self
    }

    /// Runs the script with `EVALSHA_RO` (allowed on replicas; the script must not
    /// write).
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    async fn evalsha<T: FromReply + Send + 'static>(&self, client: &Client) -> Result<T> {
        let sha = self.script.sha1.as_str();
        if self.read_only {
            client
                .evalsha_ro(sha)
                .key(&self.keys)
                .arg(&self.args)
                .decode::<T>()
                .await
        } else {
            client
                .evalsha(sha)
                .key(&self.keys)
                .arg(&self.args)
                .decode::<T>()
                .await
        }
    }

    /// Runs the script by digest; when the server does not have it (`NOSCRIPT`), loads
    /// it with `SCRIPT LOAD` and runs it again. The reply decodes into `T`.
    pub async fn invoke<T: FromReply + Send + 'static>(self, client: &Client) -> Result<T> {
        match self.evalsha(client).await {
            Err(e) if e.server_error().is_some_and(|s| s.code() == "NOSCRIPT") => {
                client.send(cmd::script_load(&self.script.code)).await?;
                self.evalsha(client).await
            }
            other => other,
        }
    }
}
