//! Reply frames as they come off a connection: the server error in one, and decoding
//! one into a Rust type. Used by every layer above the connection.

use super::FromReply;
use crate::error::{Error, Result, ServerError};
use crate::resp::{Head, Reader};
use bytes::Bytes;

/// The server error in a reply frame, if the frame is an error.
#[doc(hidden)]
pub fn frame_error(frame: &Bytes) -> Option<Error> {
    match frame.first() {
        Some(b'-') | Some(b'!') => match Reader::new(frame.clone()).next() {
            Ok(Head::Error(text)) => Some(Error::server(ServerError::new(text))),
            Ok(_) => None,
            Err(e) => Some(Error::protocol(e)),
        },
        _ => None,
    }
}

/// The server error of a reply frame, if it is one (the handshake's view).
#[doc(hidden)]
pub fn frame_server_error(frame: &Bytes) -> Option<ServerError> {
    frame_error(frame)?.server_error().cloned()
}

/// Decodes a reply frame into `T`: an error frame becomes [`Error::server`].
#[doc(hidden)]
#[inline]
pub fn decode_frame<T: FromReply>(frame: Bytes) -> Result<T> {
    // (The type byte is looked at here: most frames are not errors, and the call
    // that reads one is then not made.)
    if let Some(b'-' | b'!') = frame.first() {
        if let Some(e) = frame_error(&frame) {
            return Err(e);
        }
    }
    T::from_frame(frame)
}
