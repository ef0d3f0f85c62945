//! A pull reader over one complete frame: yields element headers in order and hands
//! out bulk payloads as zero-copy `Bytes` slices of the frame.

use super::scan::{parse_int, plain_length};
use super::ProtocolError;
use bytes::{Buf, Bytes};

/// One RESP element as the reader meets it.
///
/// Aggregates give their element count; their children follow as further calls to
/// [`Reader::next`]. Attributes (`|`) never appear: the reader skips them
/// ([`Reader::attribute`] reads them).
#[derive(Debug, Clone, PartialEq)]
pub enum Head {
    /// `+` simple string.
    Simple(Bytes),
    /// `-` simple error or `!` blob error: the whole error text.
    Error(Bytes),
    /// `:` integer.
    Int(i64),
    /// `$` bulk string.
    Bulk(Bytes),
    /// `=` verbatim string: the three-letter format and the text.
    Verbatim(Bytes, Bytes),
    /// `_` null, or RESP2's `$-1` / `*-1`.
    Null,
    /// `#` boolean.
    Bool(bool),
    /// `,` double (including `inf`, `-inf` and `nan`).
    Double(f64),
    /// `(` big number, as its decimal digits.
    BigNumber(Bytes),
    /// `*` array of this many elements.
    Array(usize),
    /// `~` set of this many elements.
    Set(usize),
    /// `%` map of this many key/value pairs (twice as many elements follow).
    Map(usize),
    /// `>` push of this many elements.
    Push(usize),
}

impl Head {
    /// A short name of the element's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Head::Simple(_) => "simple string",
            Head::Error(_) => "error",
            Head::Int(_) => "integer",
            Head::Bulk(_) => "bulk string",
            Head::Verbatim(..) => "verbatim string",
            Head::Null => "null",
            Head::Bool(_) => "boolean",
            Head::Double(_) => "double",
            Head::BigNumber(_) => "big number",
            Head::Array(_) => "array",
            Head::Set(_) => "set",
            Head::Map(_) => "map",
            Head::Push(_) => "push",
        }
    }

    /// The number of child elements that follow this header.
    pub fn children(&self) -> usize {
        match *self {
            Head::Array(n) | Head::Set(n) | Head::Push(n) => n,
            Head::Map(n) => n.saturating_mul(2),
            _ => 0,
        }
    }
}

/// Parses a RESP double (`1.5`, `-2`, `inf`, `-inf`, `nan`, `1e10`).
pub(crate) fn parse_double(line: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(line).ok()?;
    match s {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" | "-nan" => Some(f64::NAN),
        _ => {
            // Rust's parser also accepts "infinity" and "NaN"; servers never send those.
            if s.is_empty()
                || s.bytes()
                    .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
            {
                return None;
            }
            s.parse().ok()
        }
    }
}

/// Where the payload of the bulk string at `at` starts and its length, when the
/// length is plain digits (all but null); not checked against the frame's end.
#[inline]
fn plain_bulk(frame: &[u8], at: usize) -> Option<(usize, usize)> {
    if frame.get(at) != Some(&b'$') {
        return None;
    }
    let (n, after) = plain_length(frame, at + 1)?;
    Some((after, usize::try_from(n).ok()?))
}

/// Reads the elements of one complete frame in order.
///
/// The frame must have been accepted by [`Scanner`](super::Scanner); the reader still
/// checks every length it uses and reports [`ProtocolError`] instead of panicking on
/// bytes that are not a frame.
#[derive(Debug, Clone)]
pub struct Reader {
    frame: Bytes,
    pos: usize,
}

impl Reader {
    /// A reader at the start of `frame`.
    pub fn new(frame: Bytes) -> Self {
        Reader { frame, pos: 0 }
    }

    /// True when every element has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.frame.len()
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.frame.len().saturating_sub(self.pos)
    }

    /// The frame this reader reads.
    pub fn frame(&self) -> &Bytes {
        &self.frame
    }

    fn line(&mut self) -> Result<(u8, usize, usize), ProtocolError> {
        let at = self.pos;
        let kind = *self.frame.get(at).ok_or(ProtocolError::Truncated)?;
        let rest = &self.frame[at + 1..];
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(ProtocolError::Truncated)?;
        if nl == 0 || rest[nl - 1] != b'\r' {
            return Err(ProtocolError::Malformed {
                what: "line not terminated by CRLF",
            });
        }
        self.pos = at + 1 + nl + 1;
        Ok((kind, at + 1, at + nl))
    }

    fn blob(&mut self, len: i64) -> Result<Bytes, ProtocolError> {
        let len = usize::try_from(len).map_err(|_| ProtocolError::Malformed {
            what: "negative length",
        })?;
        self.blob_of(len)
    }

    fn blob_of(&mut self, len: usize) -> Result<Bytes, ProtocolError> {
        let start = self.pos;
        let end = start.checked_add(len).ok_or(ProtocolError::Truncated)?;
        if self.frame.len() < end + 2 {
            return Err(ProtocolError::Truncated);
        }
        self.pos = end + 2;
        Ok(self.frame.slice(start..end))
    }

    /// Reads the next element header, skipping attributes.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Head, ProtocolError> {
        // The lengths of bulk strings and aggregates, most of the elements of a big
        // reply, in one pass; any other line (a sign, `-1`) takes the general path.
        if let Some(bulk) = self.next_bulk() {
            return bulk.map(Head::Bulk);
        }
        if let Some(&kind @ (b'*' | b'%')) = self.frame.get(self.pos) {
            if let Some((n, after)) = self.plain_length() {
                self.pos = after;
                return Ok(match kind {
                    b'*' => Head::Array(n),
                    _ => Head::Map(n),
                });
            }
        }
        loop {
            let (kind, s, e) = self.line()?;
            let line = &self.frame[s..e];
            let int = |what| parse_int(line).ok_or(ProtocolError::Malformed { what });
            let count = |what| -> Result<usize, ProtocolError> {
                usize::try_from(parse_int(line).ok_or(ProtocolError::Malformed { what })?)
                    .map_err(|_| ProtocolError::Malformed { what })
            };
            return Ok(match kind {
                b'+' => Head::Simple(self.frame.slice(s..e)),
                b'-' => Head::Error(self.frame.slice(s..e)),
                b':' => Head::Int(int("bad integer")?),
                b'_' => Head::Null,
                b'#' => Head::Bool(line == b"t"),
                b',' => Head::Double(
                    parse_double(line).ok_or(ProtocolError::Malformed { what: "bad double" })?,
                ),
                b'(' => Head::BigNumber(self.frame.slice(s..e)),
                b'$' => {
                    let n = int("bad length")?;
                    if n == -1 {
                        Head::Null
                    } else {
                        Head::Bulk(self.blob(n)?)
                    }
                }
                b'!' => {
                    let n = int("bad length")?;
                    Head::Error(self.blob(n)?)
                }
                b'=' => {
                    let n = int("bad length")?;
                    let all = self.blob(n)?;
                    if all.len() < 4 || all[3] != b':' {
                        return Err(ProtocolError::Malformed {
                            what: "verbatim string without format",
                        });
                    }
                    Head::Verbatim(all.slice(..3), all.slice(4..))
                }
                // The length is read as the scanner reads it (`-01` is -1 too).
                b'*' => match int("bad length")? {
                    -1 => Head::Null,
                    _ => Head::Array(count("bad length")?),
                },
                b'~' => Head::Set(count("bad length")?),
                b'%' => Head::Map(count("bad length")?),
                b'>' => Head::Push(count("bad length")?),
                b'|' => {
                    let n = count("bad length")?;
                    for _ in 0..n.saturating_mul(2) {
                        self.skip()?;
                    }
                    continue;
                }
                other => return Err(ProtocolError::UnknownType { byte: other }),
            });
        }
    }

    /// Reads the header of an attribute (`|`) when the next element is one, and
    /// returns how many key/value pairs follow it (read them as elements); `None`,
    /// reading nothing, when the next element is not an attribute.
    /// [`next`](Self::next) skips attributes: this is the way to read them.
    pub fn attribute(&mut self) -> Result<Option<usize>, ProtocolError> {
        if self.frame.get(self.pos) != Some(&b'|') {
            return Ok(None);
        }
        let (_, s, e) = self.line()?;
        let n = parse_int(&self.frame[s..e])
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(ProtocolError::Malformed { what: "bad length" })?;
        Ok(Some(n))
    }

    /// The length on the line of the next element when it is plain digits, and the
    /// offset after the line.
    fn plain_length(&self) -> Option<(usize, usize)> {
        let (n, after) = plain_length(&self.frame, self.pos + 1)?;
        Some((usize::try_from(n).ok()?, after))
    }

    /// The next element when it is a bulk string whose length is plain digits (all
    /// but null); `None`, reading nothing, otherwise. What [`next`](Self::next) does
    /// first, without the [`Head`] around it.
    pub(crate) fn next_bulk(&mut self) -> Option<Result<Bytes, ProtocolError>> {
        let (start, n) = plain_bulk(&self.frame, self.pos)?;
        self.pos = start;
        Some(self.blob_of(n))
    }

    /// The payload of `frame` when it starts with a bulk string whose length is plain
    /// digits and that it holds whole: what [`next_bulk`](Self::next_bulk) reads at
    /// the frame's start, taken from the frame itself (trimmed, no slice: no
    /// reference count taken and dropped). Anything else gives the frame back.
    #[inline]
    pub(crate) fn whole_bulk(mut frame: Bytes) -> Result<Bytes, Bytes> {
        let Some((start, n)) = plain_bulk(&frame, 0) else {
            return Err(frame);
        };
        match start.checked_add(n) {
            Some(end) if end.checked_add(2).is_some_and(|e| e <= frame.len()) => {
                frame.truncate(end);
                frame.advance(start);
                Ok(frame)
            }
            _ => Err(frame),
        }
    }

    /// Consumes the next element when it is exactly `element` (a whole element, its
    /// CRLF included: `+OK\r\n`) and says so; reads nothing otherwise. A cheap test
    /// for the common replies, which makes no slice of the frame.
    pub(crate) fn next_is(&mut self, element: &[u8]) -> bool {
        let found = self.frame[self.pos.min(self.frame.len())..].starts_with(element);
        if found {
            self.pos += element.len();
        }
        found
    }

    /// The type byte of the next element, without reading it (an attribute's `|`
    /// when one comes first).
    pub(crate) fn next_type(&self) -> Option<u8> {
        self.frame.get(self.pos).copied()
    }

    /// The byte after the next element's type byte.
    pub(crate) fn next_type_arg(&self) -> Option<u8> {
        self.frame.get(self.pos + 1).copied()
    }

    /// Looks at the next element header without consuming it.
    pub fn peek(&self) -> Result<Head, ProtocolError> {
        self.clone().next()
    }

    /// Takes the next whole element (with all its children) as a frame of its own: a
    /// zero-copy slice (the elements of an `EXEC` reply, decoded one by one).
    pub fn next_frame(&mut self) -> Result<Bytes, ProtocolError> {
        let start = self.pos;
        self.skip()?;
        Ok(self.frame.slice(start..self.pos))
    }

    /// Skips one whole element (with all its children).
    pub fn skip(&mut self) -> Result<(), ProtocolError> {
        let mut pending: usize = 1;
        while pending > 0 {
            let head = self.next()?;
            pending = (pending - 1).saturating_add(head.children());
        }
        Ok(())
    }
}
