//! Explicit pipelines and `MULTI`/`EXEC` transactions: many commands sent in one
//! write, their replies typed.
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> respec::Result<()> {
//! use respec::cmd;
//! let (ok, n, v) = client
//!     .pipeline()
//!     .add(cmd::set("a", 1))
//!     .add(cmd::incr("a"))
//!     .add(cmd::get("a"))
//!     .execute()
//!     .await?; // (bool, i64, Option<Bytes>), inferred
//!
//! // The same commands as one MULTI/EXEC transaction: all or nothing.
//! let (ok, n) = client
//!     .pipeline()
//!     .transaction()
//!     .add(cmd::set("a", 1))
//!     .add(cmd::incr("a"))
//!     .execute()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! A transaction built on the shared connection is atomic on it as well: the driver
//! writes `MULTI`, the commands and `EXEC` as one unit that no other task's command
//! can split. Optimistic locking with `WATCH` needs a connection of its own: see
//! [`Client::watch`] and [`Client::transaction`] in [`watch`].

mod replies;
pub mod watch;

pub use replies::{Name, Replies, TooManyCommands};

use crate::client::Client;
use crate::command::route::{self, Decision, On};
use crate::command::Encoded;
use crate::command::{Command, CommandBuf};
use crate::connection::LongestArg;
use crate::error::{Error, Result, ServerError};
use crate::pool::Dedicated;
use crate::reply::{decode_frame, frame_error};
use crate::reply::{unexpected, Value};
use crate::resp::{Head, Reader};
use crate::script::Script;
use bytes::Bytes;
use std::marker::PhantomData;

/// The connection a pipeline goes to.
#[derive(Clone, Copy)]
enum Target<'c> {
    /// The client's shared connection.
    Shared(&'c Client),
    /// A dedicated connection from the client's pool, for a pipeline with a blocking
    /// command (which would stall the shared one).
    Pooled(&'c Client),
    /// A dedicated connection with watched keys.
    Dedicated(&'c Dedicated),
}

impl Target<'_> {
    /// The kind of connection, for routing decisions.
    fn on(self) -> On {
        match self {
            Target::Shared(_) | Target::Pooled(_) => On::Shared,
            Target::Dedicated(_) => On::Own,
        }
    }

    async fn send(
        self,
        cmds: Encoded,
        n: usize,
        longest: Option<LongestArg>,
    ) -> Result<Vec<Bytes>> {
        match self {
            Target::Shared(c) => c.send_frames(cmds, n, longest).await,
            Target::Pooled(c) => c.pool().get().await?.send_many(cmds, n, longest).await,
            Target::Dedicated(w) => w.send_frames(cmds, n, longest).await,
        }
    }

    /// Sends one command and returns its reply frame (an error frame as an error).
    async fn send_one(self, cmd: impl Command) -> Result<Bytes> {
        let name = cmd.name();
        let mut out = Encoded::new();
        cmd.buf().encode_into(&mut out);
        let mut longest = None;
        LongestArg::keep(&mut longest, || name.clone(), cmd.buf());
        let frame = self.send(out, 1, longest).await?.pop().unwrap_or_default();
        match frame_error(&frame) {
            Some(e) => Err(e.with_command(name)),
            None => Ok(frame),
        }
    }

    /// Loads the scripts the server does not have: `SCRIPT EXISTS`, then `SCRIPT
    /// LOAD` for the missing ones.
    async fn load_scripts(self, scripts: &[Script]) -> Result<()> {
        if scripts.is_empty() {
            return Ok(());
        }
        let frame = self
            .send_one(
                crate::raw_cmd("SCRIPT")
                    .arg("EXISTS")
                    .args(scripts.iter().map(Script::sha1)),
            )
            .await?;
        let exists: Vec<bool> = decode_frame(frame).map_err(|e| e.with_command("SCRIPT EXISTS"))?;
        for (script, _) in scripts.iter().zip(exists).filter(|(_, e)| !e) {
            self.send_one(script_load(script)).await?;
        }
        Ok(())
    }
}

/// `SCRIPT LOAD` of `script`, built from its words like the runtime's other own
/// commands, so that the runtime compiles against any command tree.
fn script_load(script: &Script) -> crate::command::Raw<crate::Detached, Bytes> {
    crate::raw_cmd("SCRIPT")
        .arg("LOAD")
        .arg(script.code())
        .decode()
}

/// Encoded commands waiting to be sent, with what sending them needs: the state
/// shared by [`Pipeline`], [`DynPipeline`] and [`Client::batch`].
struct Queue {
    /// The kind of connection the commands are for (routing decisions).
    on: On,
    /// The commands, encoded as they are added (after `MULTI` in a transaction).
    cmds: Encoded,
    names: Vec<Name>,
    /// The first bad argument or unqueueable command.
    problem: Option<Error>,
    /// Scripts called by digest, loaded before the commands are sent.
    scripts: Vec<Script>,
    transaction: bool,
    /// A command blocks (`BLPOP`): outside a transaction, the pipeline takes a pooled
    /// connection.
    blocking: bool,
    /// A command changes the connection's state (`SELECT`).
    changes_state: bool,
    /// The longest argument, checked against the server's limit before sending.
    longest: Option<LongestArg>,
    /// On a cluster client: each command on its own, to be sent to its node (then
    /// `cmds` holds only the `MULTI` of a transaction).
    each: Option<Vec<crate::cluster::Queued>>,
    /// On a watched connection of a cluster: the slot it is bound to.
    slot: Option<u16>,
}

impl Queue {
    /// An empty queue for the connection `target` sends to.
    fn new(target: Target<'_>) -> Self {
        Queue {
            on: target.on(),
            cmds: Encoded::new(),
            names: Vec::new(),
            problem: None,
            scripts: Vec::new(),
            transaction: false,
            blocking: false,
            changes_state: false,
            longest: None,
            each: match target {
                Target::Shared(c) if c.is_cluster() => Some(Vec::new()),
                _ => None,
            },
            slot: match target {
                Target::Dedicated(w) => w.slot(),
                _ => None,
            },
        }
    }

    /// Checks and encodes a command; where it runs is [`route::decide`]'s call.
    fn push(&mut self, cmd: &impl Command) {
        if self.problem.is_none() {
            if let Err(e) = cmd.validate() {
                self.problem = Some(e);
            }
        }
        if let Err(e) = watch::refuse_other_slot(self.slot, cmd.buf(), cmd.meta()) {
            self.problem.get_or_insert(e.with_command(cmd.name()));
        }
        if let Some(instead) = self
            .each
            .as_ref()
            .and(route::refused_on_cluster(cmd.meta()))
        {
            self.problem
                .get_or_insert(Error::refused(instead).with_command(cmd.name()));
        }
        match route::decide(cmd.meta(), cmd.buf().len(), self.on) {
            Decision::Send { .. } => {}
            Decision::Dedicated => self.blocking = true,
            Decision::Taint => self.changes_state = true,
            // WATCH and UNWATCH belong to the watched connection, not its pipelines.
            Decision::Refuse(instead) | Decision::Watching { instead, .. } => {
                if self.problem.is_none() {
                    self.problem = Some(Error::refused(instead).with_command(cmd.name()));
                }
            }
        }
        if let Some(s) = cmd.script() {
            if !self.scripts.iter().any(|k| k.sha1() == s.sha1()) {
                self.scripts.push(s.clone());
            }
        }
        let name = cmd.name();
        LongestArg::keep(&mut self.longest, || name.clone(), cmd.buf());
        self.names.push(name);
        match &mut self.each {
            // Encoded per node when sent.
            Some(each) => each.push((cmd.buf().clone(), cmd.meta())),
            None => cmd.buf().encode_into(&mut self.cmds),
        }
    }

    /// After the first command: makes room for `more` commands whose small parts
    /// are as long as its and a quarter more (a batch of commands of one type, their
    /// keys and values a little longer further on: `key:9` then `key:10`), so that
    /// the buffer is not grown by doubling, copying what it holds each time. At
    /// most 16 MiB: the room is only a guess.
    fn reserve_like_first(&mut self, more: usize) {
        if self.each.is_none() {
            let tail = self.cmds.buf_mut();
            let like = tail.len().saturating_mul(more);
            tail.reserve(like.saturating_add(like / 4).min(16 << 20));
        }
    }

    /// Wraps the commands in `MULTI` ... `EXEC`.
    fn transaction(&mut self) {
        if !self.transaction {
            self.transaction = true;
            let mut cmds = Encoded::new();
            CommandBuf::raw(b"MULTI").encode_into(&mut cmds);
            cmds.append(std::mem::take(&mut self.cmds));
            self.cmds = cmds;
        }
    }

    /// Loads the scripts, sends every command in one write, and returns one reply
    /// frame per queued command (for a transaction, the elements of `EXEC`'s reply)
    /// with the commands' names.
    async fn send(mut self, target: Target<'_>) -> Result<(Vec<Bytes>, Vec<Name>)> {
        if let Some(e) = self.problem {
            return Err(e);
        }
        #[cfg(feature = "cluster")]
        if let (Some(each), Target::Shared(client)) = (self.each.take(), target) {
            return self.send_to_cluster(client, each).await;
        }
        let target = match target {
            // Blocking commands do not block inside MULTI.
            Target::Shared(c) if self.blocking && !self.transaction => Target::Pooled(c),
            Target::Dedicated(w) if self.changes_state => {
                w.taint();
                target
            }
            other => other,
        };
        target.load_scripts(&self.scripts).await?;
        let n = self.names.len();
        if !self.transaction {
            let frames = target.send(self.cmds, n, self.longest.take()).await?;
            return Ok((frames, self.names));
        }
        CommandBuf::raw(b"EXEC").encode_into(&mut self.cmds);
        let sent = target.send(self.cmds, n + 2, self.longest.take()).await;
        if let Target::Dedicated(w) = target {
            // EXEC unwatches every key, whether the transaction ran or not.
            w.exec_done();
        }
        let frames = exec_replies(sent?, &self.names)?;
        Ok((frames, self.names))
    }
}

#[cfg(feature = "cluster")]
impl Queue {
    /// [`send`](Self::send) on a cluster client: each command to its node (a
    /// transaction to the node of its one slot); scripts are loaded on every primary
    /// first.
    async fn send_to_cluster(
        mut self,
        client: &Client,
        each: Vec<crate::cluster::Queued>,
    ) -> Result<(Vec<Bytes>, Vec<Name>)> {
        let cluster = client.cluster().ok_or_else(Error::closed)?;
        if self.blocking && !self.transaction {
            return Err(Error::refused(
                "a pipeline with a blocking command is not supported on a cluster client yet: run the blocking command on its own",
            ));
        }
        for script in &self.scripts {
            client.send(script_load(script)).await?;
        }
        if !self.transaction {
            let frames = cluster.run_pipeline(each).await?;
            return Ok((frames, self.names));
        }
        // `MULTI` is in `cmds` already (`transaction`).
        for (buf, _) in &each {
            buf.encode_into(&mut self.cmds);
        }
        CommandBuf::raw(b"EXEC").encode_into(&mut self.cmds);
        let sent = cluster.run_transaction(self.cmds, &each).await;
        let frames = exec_replies(sent?, &self.names)?;
        Ok((frames, self.names))
    }
}

/// Commands queued to be sent together; `T` is the tuple of their reply types.
#[must_use = "a pipeline does nothing until executed"]
pub struct Pipeline<'c, T = ()> {
    target: Target<'c>,
    queue: Queue,
    _replies: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Pipeline<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("transaction", &self.queue.transaction)
            .field("commands", &self.queue.names)
            .finish()
    }
}

impl<'c> Pipeline<'c, ()> {
    fn new(target: Target<'c>) -> Self {
        Pipeline {
            target,
            queue: Queue::new(target),
            _replies: PhantomData,
        }
    }
}

impl<'c, T: Replies> Pipeline<'c, T> {
    /// Queues a command; its reply type joins the tuple.
    #[allow(clippy::should_implement_trait)]
    pub fn add<C: Command>(mut self, cmd: C) -> Pipeline<'c, T::Push<C::Output>> {
        self.queue.push(&cmd);
        Pipeline {
            target: self.target,
            queue: self.queue,
            _replies: PhantomData,
        }
    }

    /// Makes this a `MULTI`/`EXEC` transaction: the commands run together, with no
    /// other client's command between them, and the replies are those of `EXEC`.
    ///
    /// If the server refuses a command while queueing it (an unknown command, a wrong
    /// number of arguments) it discards the whole transaction (`EXECABORT`) and
    /// [`execute`](Self::execute) returns that command's error. A command that fails
    /// while running (`WRONGTYPE`) does not stop the others: see
    /// [`execute_each`](Self::execute_each).
    pub fn transaction(mut self) -> Self {
        self.queue.transaction();
        self
    }

    /// How many commands are queued.
    pub fn len(&self) -> usize {
        self.queue.names.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.names.is_empty()
    }

    /// Sends every command in one write and decodes the replies. A server error in
    /// any command is returned as the error (naming that command); in a transaction on
    /// watched keys, a conflict is an error for which
    /// [`Error::is_watch_conflict`] is true.
    pub async fn execute(self) -> Result<T> {
        let (frames, names) = self.queue.send(self.target).await?;
        T::decode(&mut frames.into_iter(), &names)
    }

    /// Like [`execute`](Self::execute), but each command gets its own result: a server
    /// error in one (`WRONGTYPE`) is reported for that command, and the others' replies
    /// are still there. The outer error is for the pipeline as a whole (bad arguments,
    /// a lost connection, a transaction that did not run).
    pub async fn execute_each(self) -> Result<T::Each> {
        let (frames, names) = self.queue.send(self.target).await?;
        Ok(T::decode_each(&mut frames.into_iter(), &names))
    }

    /// Drops the queued commands without sending them (they are only sent by
    /// `execute`); on a [`Dedicated`] connection also unwatches its keys, which is what
    /// `DISCARD` does on the server.
    pub async fn discard(self) -> Result<()> {
        match self.target {
            Target::Dedicated(w) => w.unwatch().await,
            Target::Shared(_) | Target::Pooled(_) => Ok(()),
        }
    }
}

/// The replies of the commands of a transaction: the elements of `EXEC`'s reply.
/// `frames` holds the replies of `MULTI`, of each queued command, and of `EXEC`.
fn exec_replies(frames: Vec<Bytes>, names: &[Name]) -> Result<Vec<Bytes>> {
    let missing = || Error::decode("a reply per command", "fewer replies");
    let mut frames = frames.into_iter();
    let multi = frames.next().ok_or_else(missing)?;
    if let Some(e) = frame_error(&multi) {
        return Err(e.with_command("MULTI"));
    }
    // `+QUEUED`, or the error that makes the server discard the transaction.
    let mut queue_error = None;
    for name in names {
        let queued = frames.next().ok_or_else(missing)?;
        if queue_error.is_none() {
            queue_error = frame_error(&queued).map(|e| e.with_command(name.clone()));
        }
    }
    let exec = frames.next().ok_or_else(missing)?;
    let mut r = Reader::new(exec);
    match r.next()? {
        Head::Null => Err(Error::watch_conflict().with_command("EXEC")),
        Head::Error(text) => Err(queue_error
            .unwrap_or_else(|| Error::server(ServerError::new(text)).with_command("EXEC"))),
        Head::Array(n) if n == names.len() => (0..n).map(|_| Ok(r.next_frame()?)).collect(),
        Head::Array(_) => Err(Error::decode(
            "one EXEC reply per queued command",
            "a different count",
        )
        .with_command("EXEC")),
        other => Err(unexpected("the array of EXEC", other).with_command("EXEC")),
    }
}

/// A pipeline of commands of any types, whose number is known at run time: replies
/// are [`Value`]s (or errors), in order.
#[must_use = "a pipeline does nothing until executed"]
pub struct DynPipeline<'c> {
    target: Target<'c>,
    queue: Queue,
}

impl std::fmt::Debug for DynPipeline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynPipeline")
            .field("transaction", &self.queue.transaction)
            .field("commands", &self.queue.names)
            .finish()
    }
}

impl<'c> DynPipeline<'c> {
    fn new(target: Target<'c>) -> Self {
        DynPipeline {
            target,
            queue: Queue::new(target),
        }
    }

    /// Makes this a `MULTI`/`EXEC` transaction, as [`Pipeline::transaction`] does.
    pub fn transaction(&mut self) -> &mut Self {
        self.queue.transaction();
        self
    }

    /// Queues a command of any type.
    pub fn push(&mut self, cmd: impl Command) -> &mut Self {
        self.queue.push(&cmd);
        self
    }

    /// How many commands are queued.
    pub fn len(&self) -> usize {
        self.queue.names.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.names.is_empty()
    }

    /// Sends every command in one write; each reply is a [`Value`], or the server error
    /// of that command. The outer error is for the pipeline as a whole (bad
    /// arguments, a lost connection, a transaction that did not run).
    pub async fn execute(self) -> Result<Vec<Result<Value>>> {
        let (frames, names) = self.queue.send(self.target).await?;
        Ok(frames
            .into_iter()
            .zip(names)
            .map(|(f, name)| decode_frame::<Value>(f).map_err(|e| e.with_command(name)))
            .collect())
    }
}

impl Client {
    /// Starts a pipeline of commands of any types (replies as [`Value`]s); add
    /// `.transaction()` for `MULTI`/`EXEC`.
    pub fn pipeline_dyn(&self) -> DynPipeline<'_> {
        DynPipeline::new(Target::Shared(self))
    }

    /// Starts a typed pipeline: `.add(cmd)` commands, then `.execute().await`; add
    /// `.transaction()` for `MULTI`/`EXEC`.
    pub fn pipeline(&self) -> Pipeline<'_, ()> {
        Pipeline::new(Target::Shared(self))
    }

    /// Sends a run of commands of one type in one write: a pipeline whose size is
    /// known at run time.
    pub async fn batch<C: Command>(
        &self,
        cmds: impl IntoIterator<Item = C>,
    ) -> Result<Vec<C::Output>> {
        let queue = self.batch_queue(cmds);
        let (frames, names) = queue.send(Target::Shared(self)).await?;
        frames
            .into_iter()
            .zip(names)
            .map(|(f, name)| decode_frame::<C::Output>(f).map_err(|e| e.with_command(name)))
            .collect()
    }

    /// The queue of [`batch`](Self::batch) (a function of its own: the iterator is
    /// not held across the `await`).
    fn batch_queue<C: Command>(&self, cmds: impl IntoIterator<Item = C>) -> Queue {
        let mut queue = Queue::new(Target::Shared(self));
        let mut cmds = cmds.into_iter();
        let expected = cmds.size_hint().0;
        queue.names.reserve(expected);
        if let Some(first) = cmds.next() {
            queue.push(&first);
            queue.reserve_like_first(expected.saturating_sub(1));
        }
        for c in cmds {
            queue.push(&c);
        }
        queue
    }
}
