//! Explicit pipelines: many commands sent in one write, their replies typed.
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
//! # Ok(()) }
//! ```

use crate::client::Client;
use crate::command::Command;
use crate::connection::decode_frame;
use crate::error::{Error, Result};
use crate::reply::{FromReply, Value};
use bytes::{Bytes, BytesMut};
use std::marker::PhantomData;

/// A typed tuple of pipeline replies, growing by one type per queued command.
pub trait Replies: Sized {
    /// The tuple with `X` appended.
    type Push<X: FromReply>;

    /// The tuple of each reply's own result (`(Result<A>, Result<B>, ...)`).
    type Each;

    /// Decodes one reply per element, in order.
    fn decode(frames: &mut std::vec::IntoIter<Bytes>, names: &[&'static str]) -> Result<Self>;

    /// Decodes every reply into its own result: an error in one command does not
    /// hide the others' results.
    fn decode_each(frames: &mut std::vec::IntoIter<Bytes>, names: &[&'static str]) -> Self::Each;
}

/// The tuple after 16 commands: queue more with [`Client::batch`] or a second pipeline.
#[derive(Debug)]
pub enum TooManyCommands {}

fn next<T: FromReply>(
    frames: &mut std::vec::IntoIter<Bytes>,
    names: &[&'static str],
    i: usize,
) -> Result<T> {
    let name = names.get(i).copied().unwrap_or("command");
    let frame = frames
        .next()
        .ok_or_else(|| Error::decode("a reply per command", "fewer replies"))?;
    decode_frame::<T>(frame).map_err(|e| e.with_command(name))
}

impl Replies for () {
    type Push<X: FromReply> = (X,);
    type Each = ();

    fn decode(_: &mut std::vec::IntoIter<Bytes>, _: &[&'static str]) -> Result<Self> {
        Ok(())
    }

    fn decode_each(_: &mut std::vec::IntoIter<Bytes>, _: &[&'static str]) {}
}

macro_rules! replies {
    ($( ($($t:ident $i:tt),+) );* ; last ($($lt:ident $li:tt),+)) => {
        $(
            impl<$($t: FromReply),+> Replies for ($($t,)+) {
                type Push<X: FromReply> = ($($t,)+ X);
                type Each = ($(Result<$t>,)+);

                fn decode(frames: &mut std::vec::IntoIter<Bytes>, names: &[&'static str]) -> Result<Self> {
                    Ok(($(next::<$t>(frames, names, $i)?,)+))
                }

                fn decode_each(frames: &mut std::vec::IntoIter<Bytes>, names: &[&'static str]) -> Self::Each {
                    ($(next::<$t>(frames, names, $i),)+)
                }
            }
        )*
        impl<$($lt: FromReply),+> Replies for ($($lt,)+) {
            type Push<X: FromReply> = TooManyCommands;
            type Each = ($(Result<$lt>,)+);

            fn decode(frames: &mut std::vec::IntoIter<Bytes>, names: &[&'static str]) -> Result<Self> {
                Ok(($(next::<$lt>(frames, names, $li)?,)+))
            }

            fn decode_each(frames: &mut std::vec::IntoIter<Bytes>, names: &[&'static str]) -> Self::Each {
                ($(next::<$lt>(frames, names, $li),)+)
            }
        }
    };
}

replies! {
    (A 0);
    (A 0, B 1);
    (A 0, B 1, C 2);
    (A 0, B 1, C 2, D 3);
    (A 0, B 1, C 2, D 3, E 4);
    (A 0, B 1, C 2, D 3, E 4, F 5);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
    last (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15)
}

/// Commands queued to be sent together; `T` is the tuple of their reply types.
#[must_use = "a pipeline does nothing until executed"]
pub struct Pipeline<'c, T = ()> {
    client: &'c Client,
    /// The commands, encoded as they are added.
    cmds: BytesMut,
    names: Vec<&'static str>,
    problem: Option<Error>,
    _replies: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Pipeline<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("commands", &self.names)
            .finish()
    }
}

/// Checks a command's arguments, keeping the first problem.
fn check(problem: &mut Option<Error>, cmd: &impl Command) {
    if problem.is_none() {
        if let Err(e) = cmd.validate() {
            *problem = Some(e);
        }
    }
}

impl<'c, T: Replies> Pipeline<'c, T> {
    /// Queues a command; its reply type joins the tuple.
    #[allow(clippy::should_implement_trait)]
    pub fn add<C: Command>(mut self, cmd: C) -> Pipeline<'c, T::Push<C::Output>> {
        check(&mut self.problem, &cmd);
        self.names.push(cmd.name());
        cmd.buf().encode(&mut self.cmds);
        Pipeline {
            client: self.client,
            cmds: self.cmds,
            names: self.names,
            problem: self.problem,
            _replies: PhantomData,
        }
    }

    /// Sends every command in one write and decodes the replies. A server error in
    /// any command is returned as the error (naming that command).
    pub async fn execute(self) -> Result<T> {
        let (frames, names) = self.send().await?;
        T::decode(&mut frames.into_iter(), &names)
    }

    /// Like [`execute`](Self::execute), but each command gets its own result: a server
    /// error in one (`WRONGTYPE`) is reported for that command, and the others' replies
    /// are still there. The outer error is for the pipeline as a whole (bad arguments,
    /// a lost connection).
    pub async fn execute_each(self) -> Result<T::Each> {
        let (frames, names) = self.send().await?;
        Ok(T::decode_each(&mut frames.into_iter(), &names))
    }

    async fn send(self) -> Result<(Vec<Bytes>, Vec<&'static str>)> {
        if let Some(e) = self.problem {
            return Err(e);
        }
        let n = self.names.len();
        let frames = self.client.send_frames(self.cmds, n).await?;
        Ok((frames, self.names))
    }
}

/// A pipeline of commands of any types, whose number is known at run time: replies
/// are [`Value`]s (or errors), in order.
#[must_use = "a pipeline does nothing until executed"]
pub struct DynPipeline<'c> {
    client: &'c Client,
    cmds: BytesMut,
    names: Vec<&'static str>,
    problem: Option<Error>,
}

impl std::fmt::Debug for DynPipeline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynPipeline")
            .field("commands", &self.names)
            .finish()
    }
}

impl DynPipeline<'_> {
    /// Queues a command of any type.
    pub fn push(&mut self, cmd: impl Command) -> &mut Self {
        check(&mut self.problem, &cmd);
        self.names.push(cmd.name());
        cmd.buf().encode(&mut self.cmds);
        self
    }

    /// How many commands are queued.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Sends every command in one write; each reply is a [`Value`], or the server error
    /// of that command.
    pub async fn execute(self) -> Result<Vec<Result<Value>>> {
        if let Some(e) = self.problem {
            return Err(e);
        }
        let n = self.names.len();
        let frames = self.client.send_frames(self.cmds, n).await?;
        Ok(frames
            .into_iter()
            .zip(&self.names)
            .map(|(f, name)| decode_frame::<Value>(f).map_err(|e| e.with_command(name)))
            .collect())
    }
}

impl Client {
    /// Starts a pipeline of commands of any types (replies as [`Value`]s).
    pub fn pipeline_dyn(&self) -> DynPipeline<'_> {
        DynPipeline {
            client: self,
            cmds: BytesMut::new(),
            names: Vec::new(),
            problem: None,
        }
    }

    /// Starts a typed pipeline: `.add(cmd)` commands, then `.execute().await`.
    pub fn pipeline(&self) -> Pipeline<'_, ()> {
        Pipeline {
            client: self,
            cmds: BytesMut::new(),
            names: Vec::new(),
            problem: None,
            _replies: PhantomData,
        }
    }

    /// Sends a run of commands of one type in one write: a pipeline whose size is
    /// known at run time.
    pub async fn batch<C: Command>(
        &self,
        cmds: impl IntoIterator<Item = C>,
    ) -> Result<Vec<C::Output>> {
        let mut out = BytesMut::new();
        let mut n = 0;
        let mut name = "command";
        let mut problem = None;
        for c in cmds {
            check(&mut problem, &c);
            name = c.name();
            c.buf().encode(&mut out);
            n += 1;
        }
        if let Some(e) = problem {
            return Err(e);
        }
        let frames = self.send_frames(out, n).await?;
        frames
            .into_iter()
            .map(|f| decode_frame::<C::Output>(f).map_err(|e| e.with_command(name)))
            .collect()
    }
}
