//! Connecting: transport, then `HELLO 3` (with `AUTH` and `SETNAME`), `CLIENT SETINFO`
//! and `SELECT`, falling back to RESP2 and `AUTH` when the server does not know `HELLO`.

use super::frames::FrameReader;
use super::transport::{self, Deadline, Transport};
use crate::command::CommandBuf;
use crate::config::{Address, Config, Protocol};
use crate::error::{Error, Result, ServerError};
use crate::reply::{decode_frame, frame_server_error, Value};
use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;

/// The library name sent with `CLIENT SETINFO`.
pub const LIB_NAME: &str = "respec";
/// The library version sent with `CLIENT SETINFO`.
pub const LIB_VER: &str = env!("CARGO_PKG_VERSION");

/// A connected, handshaken transport and what the handshake learned.
#[derive(Debug)]
pub struct Session {
    /// The byte stream.
    pub transport: Transport,
    /// The protocol the server agreed to.
    pub protocol: Protocol,
    /// The server's `proto-max-bulk-len` (the longest argument it accepts), when it
    /// told (`CONFIG GET` may be refused by an ACL).
    pub max_arg_len: Option<u64>,
    /// Where it is connected (with a locator, the node it found).
    pub address: Address,
}

/// Opens a transport and runs the handshake, within the connect timeout.
///
/// The connect timeout is one deadline for the TCP connection, the TLS handshake and
/// the RESP handshake; a timeout says which of them ran out of time, the address and
/// the limit, and so does an I/O error. With a locator (a service behind sentinels),
/// the address is the one it finds now, and the node's `ROLE` must be what it wants.
pub async fn connect(config: &Config) -> Result<Session> {
    let located = locate(config).await?;
    connect_to(&located).await
}

/// The options to connect with now: `config`, with a locator the address it finds.
/// An error says the node to use could not be found (no sentinel answered).
pub(crate) async fn locate(config: &Config) -> Result<std::borrow::Cow<'_, Config>> {
    match &config.locator {
        None => Ok(std::borrow::Cow::Borrowed(config)),
        Some(locator) => {
            let mut located = config.clone();
            located.address = locator.locate().await?;
            Ok(std::borrow::Cow::Owned(located))
        }
    }
}

/// [`connect`] to `config.address`, as it is (no locator asked).
pub(crate) async fn connect_to(config: &Config) -> Result<Session> {
    let deadline = Deadline::after(config.connect_timeout);
    let mut transport = transport::connect(config, deadline).await?;
    let address = &config.address;
    let (protocol, max_arg_len) = deadline
        .run(
            || format!("the RESP handshake (HELLO, AUTH, SELECT) with {address}"),
            None,
            async {
                handshake(&mut transport, config).await.map_err(|e| {
                    let io = std::error::Error::source(&e)
                        .and_then(|s| s.downcast_ref::<std::io::Error>());
                    match io {
                        Some(io) => Error::io_while(
                            format!("the RESP handshake with {address} failed"),
                            std::io::Error::new(io.kind(), e),
                        ),
                        None => e,
                    }
                })
            },
        )
        .await?;
    Ok(Session {
        transport,
        protocol,
        max_arg_len,
        address: address.clone(),
    })
}

/// Writes `cmds` in one write and reads one reply per command.
async fn exchange(
    t: &mut Transport,
    frames: &mut FrameReader,
    cmds: &[CommandBuf],
) -> Result<Vec<Bytes>> {
    let mut out = BytesMut::new();
    for c in cmds {
        c.encode(&mut out);
    }
    t.write_all(&out).await?;
    t.flush().await?;
    let mut replies = Vec::with_capacity(cmds.len());
    while replies.len() < cmds.len() {
        let frame = frames.expect(t, "during the handshake").await?;
        // Push frames cannot arrive before the handshake is done; skip any anyway.
        if frame.first() != Some(&b'>') {
            replies.push(frame);
        }
    }
    Ok(replies)
}

/// What to authenticate with, if anything: the user name (`None`: `default`) and the
/// password. A user name without a password authenticates as that user with an empty
/// password, rather than being ignored: an ACL user created with `nopass` accepts
/// it, any other fails the connect with `WRONGPASS` naming `AUTH`.
fn credentials(config: &Config) -> Option<(Option<&str>, &str)> {
    match (config.username.as_deref(), config.password.as_deref()) {
        (None, None) => None,
        (user, pass) => Some((user, pass.unwrap_or(""))),
    }
}

fn auth_error(e: ServerError) -> Error {
    Error::server(e).with_command("AUTH")
}

async fn handshake(t: &mut Transport, config: &Config) -> Result<(Protocol, Option<u64>)> {
    // One reader for the whole handshake (the server sends nothing unasked, so
    // nothing is left in it for the driver).
    let frames = &mut FrameReader::new(config.limits.clone());
    if config.protocol == Protocol::Resp3 {
        let mut hello: Vec<&[u8]> = vec![b"HELLO", b"3"];
        if let Some((user, pass)) = credentials(config) {
            let user = user.unwrap_or("default");
            hello.extend([&b"AUTH"[..], user.as_bytes(), pass.as_bytes()]);
        }
        if let Some(name) = &config.client_name {
            hello.extend([&b"SETNAME"[..], name.as_bytes()]);
        }
        let replies = exchange(t, frames, &[CommandBuf::from_words(&hello)]).await?;
        match frame_server_error(&replies[0]) {
            None => return Ok((Protocol::Resp3, finish(t, frames, config).await?)),
            Some(e) if is_unknown_command(&e) => {
                tracing::debug!("server does not know HELLO: falling back to RESP2");
            }
            // No credentials for a server that wants them: stay on RESP2 so the
            // connection exists and commands fail with NOAUTH, naming the problem.
            Some(e) if e.code() == "NOAUTH" && credentials(config).is_none() => {
                tracing::debug!("server requires authentication and none is configured");
            }
            Some(e) => return Err(auth_error(e)),
        }
    }
    // RESP2: AUTH and SETNAME as separate commands.
    let mut cmds = Vec::new();
    if let Some((user, pass)) = credentials(config) {
        match user {
            Some(user) => cmds.push(CommandBuf::from_words(&[
                b"AUTH",
                user.as_bytes(),
                pass.as_bytes(),
            ])),
            None => cmds.push(CommandBuf::from_words(&[b"AUTH", pass.as_bytes()])),
        }
    }
    if !cmds.is_empty() {
        let replies = exchange(t, frames, &cmds).await?;
        if let Some(e) = frame_server_error(&replies[0]) {
            return Err(auth_error(e));
        }
    }
    if let Some(name) = &config.client_name {
        let replies = exchange(
            t,
            frames,
            &[CommandBuf::from_words(&[
                b"CLIENT",
                b"SETNAME",
                name.as_bytes(),
            ])],
        )
        .await?;
        if let Some(e) = frame_server_error(&replies[0]) {
            return Err(Error::server(e).with_command("CLIENT SETNAME"));
        }
    }
    Ok((Protocol::Resp2, finish(t, frames, config).await?))
}

/// `CLIENT SETINFO` (errors ignored: older servers lack it), `CONFIG GET
/// proto-max-bulk-len` (errors ignored: an ACL may refuse it), `SELECT`, on a
/// cluster replica's connection `READONLY`, and with a locator `ROLE` (checked by
/// it), in one round trip. Returns the server's
/// `proto-max-bulk-len`.
async fn finish(
    t: &mut Transport,
    frames: &mut FrameReader,
    config: &Config,
) -> Result<Option<u64>> {
    let mut cmds = vec![
        CommandBuf::from_words(&[b"CLIENT", b"SETINFO", b"LIB-NAME", LIB_NAME.as_bytes()]),
        CommandBuf::from_words(&[b"CLIENT", b"SETINFO", b"LIB-VER", LIB_VER.as_bytes()]),
        CommandBuf::from_words(&[b"CONFIG", b"GET", b"proto-max-bulk-len"]),
    ];
    let db = config.database.to_string();
    if config.database != 0 {
        cmds.push(CommandBuf::from_words(&[b"SELECT", db.as_bytes()]));
    }
    if config.replica_reads {
        cmds.push(CommandBuf::from_words(&[b"READONLY"]));
    }
    if config.locator.is_some() {
        cmds.push(CommandBuf::from_words(&[b"ROLE"]));
    }
    let replies = exchange(t, frames, &cmds).await?;
    if let Some(locator) = &config.locator {
        let reply = replies.last().expect("ROLE was sent");
        if let Some(e) = frame_server_error(reply) {
            return Err(Error::server(e).with_command("ROLE"));
        }
        let role = match decode_frame::<Value>(reply.clone())? {
            Value::Array(items) => items.into_iter().next(),
            _ => None,
        };
        let role = role
            .as_ref()
            .and_then(Value::as_bytes)
            .map_or(&b""[..], |b| &b[..]);
        locator.check_role(&config.address, role)?;
    }
    if config.database != 0 {
        if let Some(e) = frame_server_error(&replies[3]) {
            return Err(Error::server(e).with_command("SELECT"));
        }
    }
    if config.replica_reads {
        let at = 3 + usize::from(config.database != 0);
        if let Some(e) = replies.get(at).and_then(frame_server_error) {
            return Err(Error::server(e).with_command("READONLY"));
        }
    }
    Ok(config_value(&replies[2]))
}

/// The value in a `CONFIG GET` reply for one parameter (a map under RESP3, a pair
/// under RESP2), as a number.
fn config_value(frame: &Bytes) -> Option<u64> {
    let value = match decode_frame::<Value>(frame.clone()).ok()? {
        Value::Map(pairs) => pairs.into_iter().next()?.1,
        Value::Array(items) => items.into_iter().nth(1)?,
        _ => return None,
    };
    std::str::from_utf8(value.as_bytes()?).ok()?.parse().ok()
}

fn is_unknown_command(e: &ServerError) -> bool {
    let text = e.text().to_ascii_lowercase();
    text.contains("unknown command") || e.code() == "NOPROTO"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_name_without_a_password_is_not_ignored() {
        let with = |user: Option<&str>, pass: Option<&str>| Config {
            username: user.map(str::to_owned),
            password: pass.map(str::to_owned),
            ..Config::default()
        };
        assert_eq!(credentials(&with(None, None)), None);
        assert_eq!(credentials(&with(Some("u"), None)), Some((Some("u"), "")));
        assert_eq!(credentials(&with(None, Some("p"))), Some((None, "p")));
        assert_eq!(
            credentials(&with(Some("u"), Some("p"))),
            Some((Some("u"), "p"))
        );
    }
}
