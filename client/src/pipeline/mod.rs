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
use crate::reply::FromReply;
use bytes::{Bytes, BytesMut};
use std::marker::PhantomData;

/// A typed tuple of pipeline replies, growing by one type per queued command.
pub trait Replies: Sized {
    /// The tuple with `X` appended.
    type Push<X: FromReply>;

    /// Decodes one reply per element, in order.
    fn decode(frames: &mut std::vec::IntoIter<Bytes>, names: &[&'static str]) -> Result<Self>;
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

    fn decode(_: &mut std::vec::IntoIter<Bytes>, _: &[&'static str]) -> Result<Self> {
        Ok(())
    }
}

macro_rules! replies {
    ($( ($($t:ident $i:tt),+) );* ; last ($($lt:ident $li:tt),+)) => {
        $(
            impl<$($t: FromReply),+> Replies for ($($t,)+) {
                type Push<X: FromReply> = ($($t,)+ X);

                fn decode(frames: &mut std::vec::IntoIter<Bytes>, names: &[&'static str]) -> Result<Self> {
                    Ok(($(next::<$t>(frames, names, $i)?,)+))
                }
            }
        )*
        impl<$($lt: FromReply),+> Replies for ($($lt,)+) {
            type Push<X: FromReply> = TooManyCommands;

            fn decode(frames: &mut std::vec::IntoIter<Bytes>, names: &[&'static str]) -> Result<Self> {
                Ok(($(next::<$lt>(frames, names, $li)?,)+))
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
        if let Some(e) = self.problem {
            return Err(e);
        }
        let n = self.names.len();
        let frames = self.client.send_frames(self.cmds, n).await?;
        T::decode(&mut frames.into_iter(), &self.names)
    }
}

impl Client {
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
