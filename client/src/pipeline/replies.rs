//! The typed tuple of a pipeline's replies, one type per queued command.

use crate::error::{Error, Result};
use crate::reply::decode_frame;
use crate::reply::FromReply;
use bytes::Bytes;
use std::borrow::Cow;

/// A typed tuple of pipeline replies, growing by one type per queued command.
pub trait Replies: Sized {
    /// The tuple with `X` appended.
    type Push<X: FromReply>;

    /// The tuple of each reply's own result (`(Result<A>, Result<B>, ...)`).
    type Each;

    /// Decodes one reply per element, in order.
    fn decode(frames: &mut std::vec::IntoIter<Bytes>, names: &[Name]) -> Result<Self>;

    /// Decodes every reply into its own result: an error in one command does not
    /// hide the others' results.
    fn decode_each(frames: &mut std::vec::IntoIter<Bytes>, names: &[Name]) -> Self::Each;
}

/// The tuple after 16 commands: queue more with [`Client::batch`](crate::Client::batch)
/// or a second pipeline.
#[derive(Debug)]
pub enum TooManyCommands {}

fn next<T: FromReply>(
    frames: &mut std::vec::IntoIter<Bytes>,
    names: &[Name],
    i: usize,
) -> Result<T> {
    let name = names.get(i).cloned().unwrap_or(Cow::Borrowed("command"));
    let frame = frames
        .next()
        .ok_or_else(|| Error::decode("a reply per command", "fewer replies"))?;
    decode_frame::<T>(frame).map_err(|e| e.with_command(name))
}

impl Replies for () {
    type Push<X: FromReply> = (X,);
    type Each = ();

    fn decode(_: &mut std::vec::IntoIter<Bytes>, _: &[Name]) -> Result<Self> {
        Ok(())
    }

    fn decode_each(_: &mut std::vec::IntoIter<Bytes>, _: &[Name]) {}
}

macro_rules! replies {
    ($( ($($t:ident $i:tt),+) );* ; last ($($lt:ident $li:tt),+)) => {
        $(
            impl<$($t: FromReply),+> Replies for ($($t,)+) {
                type Push<X: FromReply> = ($($t,)+ X);
                type Each = ($(Result<$t>,)+);

                fn decode(frames: &mut std::vec::IntoIter<Bytes>, names: &[Name]) -> Result<Self> {
                    Ok(($(next::<$t>(frames, names, $i)?,)+))
                }

                fn decode_each(frames: &mut std::vec::IntoIter<Bytes>, names: &[Name]) -> Self::Each {
                    ($(next::<$t>(frames, names, $i),)+)
                }
            }
        )*
        impl<$($lt: FromReply),+> Replies for ($($lt,)+) {
            type Push<X: FromReply> = TooManyCommands;
            type Each = ($(Result<$lt>,)+);

            fn decode(frames: &mut std::vec::IntoIter<Bytes>, names: &[Name]) -> Result<Self> {
                Ok(($(next::<$lt>(frames, names, $li)?,)+))
            }

            fn decode_each(frames: &mut std::vec::IntoIter<Bytes>, names: &[Name]) -> Self::Each {
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

/// A queued command's name, for the errors of its reply.
pub type Name = Cow<'static, str>;
