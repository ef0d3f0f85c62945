//! Check-then-parse framing: find where one complete RESP2/RESP3 frame ends, without
//! allocating and without re-scanning what an earlier call already checked.

use super::{Limits, ProtocolError};
use smallvec::SmallVec;

/// Finds complete frames in a growing read buffer.
///
/// The scanner remembers how far it got in a partial frame (the offset of the next
/// unchecked element and how many elements each open aggregate still expects), so a
/// frame that arrives in many small reads is checked once, not once per read.
///
/// Call [`Scanner::scan`] with the buffer that starts at the frame; when it returns
/// `Some(len)`, the first `len` bytes are one complete, well-formed frame and the
/// scanner is ready for the next frame (which starts at `len`, so the caller splits
/// the buffer there).
#[derive(Debug, Clone)]
pub struct Scanner {
    limits: Limits,
    /// Offset of the next element header to check.
    pos: usize,
    /// Elements still expected by each open aggregate, innermost last.
    stack: SmallVec<[u64; 8]>,
    /// How long the buffer must be for the element at `pos` to complete (a bulk
    /// string whose header arrived), or 0 when unknown.
    wanted: usize,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Scanner {
    /// A scanner enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Scanner {
            limits,
            pos: 0,
            stack: SmallVec::new(),
            wanted: 0,
        }
    }

    /// The limits this scanner enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Forgets any partial progress (after the caller dropped its buffer).
    pub fn reset(&mut self) {
        self.pos = 0;
        self.stack.clear();
        self.wanted = 0;
    }

    /// After [`scan`](Self::scan) returned `Ok(None)`: the buffer length the frame
    /// needs at least (known once a bulk string's header has arrived; 0 otherwise).
    /// Lets a reader grow its buffer once for a large reply instead of doubling it.
    pub fn wanted(&self) -> usize {
        self.wanted
    }

    /// Checks `buf` (which starts at the current frame) as far as it goes.
    ///
    /// Returns `Ok(Some(len))` when a complete frame of `len` bytes is at the start of
    /// `buf`, `Ok(None)` when more bytes are needed, and an error for a malformed frame
    /// or one that breaks a limit (the connection cannot continue after that).
    #[inline]
    pub fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        // Most replies are one small frame (`+OK`, `$3 bar`, `:1`, a null) whole in
        // the buffer: checked in one pass, without the general path's state.
        if self.pos == 0 && self.stack.is_empty() {
            if let Some(len) = whole_simple_frame(buf, &self.limits) {
                self.wanted = 0;
                return Ok(Some(len));
            }
        }
        self.scan_general(buf)
    }

    /// Checks every whole frame at the start of `buf` in one go, as calls of
    /// [`scan`](Self::scan) one frame after the other would: calls `found` with the
    /// length of each, in order, and returns where the last one ends, with the error
    /// met after them, if any. The rest of `buf` (from that offset) is a partial
    /// frame, which a later call resumes when given the buffer from there on.
    #[inline]
    pub fn scan_frames(
        &mut self,
        buf: &[u8],
        mut found: impl FnMut(usize),
    ) -> (usize, Option<ProtocolError>) {
        let mut end = 0;
        loop {
            let rest = &buf[end..];
            let n = match self.scan(rest) {
                Ok(Some(n)) => n,
                Ok(None) => return (end, None),
                Err(e) => return (end, Some(e)),
            };
            end += n;
            found(n);
            if end == buf.len() {
                return (end, None);
            }
        }
    }

    /// [`scan`](Self::scan) for any frame, resuming where an earlier call stopped.
    fn scan_general(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        loop {
            // The bulk strings of an aggregate (most of a big reply) in a tight loop,
            // all but its last element (which may close it: the general path).
            if let Some(remaining) = self.stack.last_mut() {
                while *remaining > 1 {
                    let Some(end) = plain_bulk_end(buf, self.pos, &self.limits) else {
                        break;
                    };
                    self.pos = end;
                    self.wanted = 0;
                    *remaining -= 1;
                }
            }
            let Some((next, children)) = element(buf, self.pos, &self.limits, &mut self.wanted)?
            else {
                return Ok(None);
            };
            self.wanted = 0;
            self.pos = next;
            if children > 0 {
                if self.stack.len() >= self.limits.max_depth {
                    return Err(ProtocolError::TooDeep {
                        limit: self.limits.max_depth,
                    });
                }
                self.stack.push(children);
                continue;
            }
            // A leaf (or an empty aggregate) completed: close every aggregate it filled.
            loop {
                match self.stack.last_mut() {
                    None => {
                        let len = self.pos;
                        self.pos = 0;
                        return Ok(Some(len));
                    }
                    Some(remaining) => {
                        *remaining -= 1;
                        if *remaining > 0 {
                            break;
                        }
                        self.stack.pop();
                    }
                }
            }
        }
    }
}

/// The length of the frame at the start of `buf` when it is a whole simple string,
/// integer, null or bulk string (plain length digits, within the limits) that the
/// general path would accept as it is; `None` for anything else (another type, a
/// partial frame, a malformed one, a long line), which the general path then checks
/// and reports. Never accepts what the general path refuses.
#[inline]
pub(crate) fn whole_simple_frame(buf: &[u8], limits: &Limits) -> Option<usize> {
    if limits.max_line_len < SHORT_LINE {
        return None;
    }
    match *buf.first()? {
        b'$' => {
            if buf.get(1) == Some(&b'-') {
                return buf.starts_with(b"$-1\r\n").then_some(5);
            }
            plain_bulk_end(buf, 0, limits)
        }
        b'_' => buf.starts_with(b"_\r\n").then_some(3),
        kind @ (b'+' | b':') => {
            // A short line only: a long one (or none yet) is the general path's.
            let window = &buf[..buf.len().min(SHORT_LINE)];
            let nl = window.iter().position(|&b| b == b'\n')?;
            if nl < 2 || buf[nl - 1] != b'\r' {
                return None;
            }
            if kind == b':' {
                parse_int(&buf[1..nl - 1])?;
            }
            Some(nl + 1)
        }
        _ => None,
    }
}

/// The longest simple line (type byte and CR included) [`whole_simple_frame`] looks
/// for: `+OK`, `+QUEUED`, any 64-bit integer.
const SHORT_LINE: usize = 32;

/// Finds the end of the line starting at `from`; returns the offset of `\r`.
fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let i = rest.iter().position(|&b| b == b'\n')?;
    Some(from + i)
}

/// The non-negative length on the line starting at `from` (just after an element's
/// type byte) when the line is 1 to 18 plain digits and CRLF, with the offset after
/// the line; `None` for anything else (a sign, more digits, another byte, the buffer
/// ending first), which the general path then reads and reports. The lengths of bulk
/// strings and aggregates, most of the lines of a big reply, take this path: one pass
/// instead of finding the line's end and then parsing it.
#[inline]
pub(crate) fn plain_length(buf: &[u8], from: usize) -> Option<(u64, usize)> {
    let digits = buf.get(from..)?;
    let mut n: u64 = 0;
    let mut i = 0;
    while i < 18 {
        match digits.get(i) {
            Some(&d) if d.is_ascii_digit() => n = n * 10 + u64::from(d - b'0'),
            _ => break,
        }
        i += 1;
    }
    match digits.get(i..i + 2) {
        Some(b"\r\n") if i > 0 => Some((n, from + i + 2)),
        _ => None,
    }
}

/// The end of the bulk string at `at` when its length is plain digits, within the
/// limits, and the whole string and its CRLF are in `buf`; `None` for anything else,
/// which [`element`] then checks (and reports).
#[inline]
fn plain_bulk_end(buf: &[u8], at: usize, limits: &Limits) -> Option<usize> {
    if buf.get(at) != Some(&b'$') {
        return None;
    }
    let (n, after) = plain_length(buf, at + 1)?;
    if after - 1 - at > limits.max_line_len || n > limits.max_bulk_len {
        return None;
    }
    let end = after
        .checked_add(usize::try_from(n).ok()?)?
        .checked_add(2)?;
    (buf.get(end - 2..end)? == b"\r\n").then_some(end)
}

/// Parses a signed decimal integer line (without the CRLF).
pub(crate) fn parse_int(line: &[u8]) -> Option<i64> {
    let (neg, digits) = match line.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, line),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(i64::from(d - b'0'))?
        } else {
            v.checked_add(i64::from(d - b'0'))?
        };
    }
    Some(v)
}

/// Checks one element header (and a whole blob for blob types) at `at`.
///
/// Returns the offset after it and how many child elements follow (0 for leaves and
/// empty aggregates), or `None` when the buffer ends first.
fn element(
    buf: &[u8],
    at: usize,
    limits: &Limits,
    wanted: &mut usize,
) -> Result<Option<(usize, u64)>, ProtocolError> {
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    if matches!(kind, b'$' | b'*' | b'%') {
        if let Some((n, after)) = plain_length(buf, at + 1) {
            // The general path's checks that can fail for such a line.
            if after - 1 - at <= limits.max_line_len {
                return match kind {
                    b'$' => blob(buf, kind, after, n, limits, wanted),
                    _ => aggregate(kind, after, n, limits),
                };
            }
        }
    }
    let Some(nl) = line_end(buf, at + 1) else {
        if buf.len() - at > limits.max_line_len {
            return Err(ProtocolError::LineTooLong {
                limit: limits.max_line_len,
            });
        }
        return Ok(None);
    };
    if nl == at + 1 || buf[nl - 1] != b'\r' {
        return Err(ProtocolError::Malformed {
            what: "line not terminated by CRLF",
        });
    }
    if nl - at > limits.max_line_len {
        return Err(ProtocolError::LineTooLong {
            limit: limits.max_line_len,
        });
    }
    let line = &buf[at + 1..nl - 1];
    let after = nl + 1;
    let len = || parse_int(line).ok_or(ProtocolError::Malformed { what: "bad length" });
    match kind {
        b'+' | b'-' => Ok(Some((after, 0))),
        b':' => {
            parse_int(line).ok_or(ProtocolError::Malformed {
                what: "bad integer",
            })?;
            Ok(Some((after, 0)))
        }
        b'_' => {
            if !line.is_empty() {
                return Err(ProtocolError::Malformed { what: "bad null" });
            }
            Ok(Some((after, 0)))
        }
        b'#' => {
            if line != b"t" && line != b"f" {
                return Err(ProtocolError::Malformed {
                    what: "bad boolean",
                });
            }
            Ok(Some((after, 0)))
        }
        b',' => {
            super::reader::parse_double(line)
                .ok_or(ProtocolError::Malformed { what: "bad double" })?;
            Ok(Some((after, 0)))
        }
        b'(' => {
            let digits = line.strip_prefix(b"-").unwrap_or(line);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(ProtocolError::Malformed {
                    what: "bad big number",
                });
            }
            Ok(Some((after, 0)))
        }
        b'$' | b'!' | b'=' => {
            let n = len()?;
            if n == -1 && kind == b'$' {
                return Ok(Some((after, 0)));
            }
            let n = u64::try_from(n).map_err(|_| ProtocolError::Malformed {
                what: "negative length",
            })?;
            blob(buf, kind, after, n, limits, wanted)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = len()?;
            if n == -1 && kind == b'*' {
                return Ok(Some((after, 0)));
            }
            let n = u64::try_from(n).map_err(|_| ProtocolError::Malformed {
                what: "negative length",
            })?;
            aggregate(kind, after, n, limits)
        }
        other => Err(ProtocolError::UnknownType { byte: other }),
    }
}

/// A blob element (`$`, `!`, `=`) of `n` bytes whose header line ends at `after`.
fn blob(
    buf: &[u8],
    kind: u8,
    after: usize,
    n: u64,
    limits: &Limits,
    wanted: &mut usize,
) -> Result<Option<(usize, u64)>, ProtocolError> {
    if n > limits.max_bulk_len {
        return Err(ProtocolError::BulkTooLong {
            len: n,
            limit: limits.max_bulk_len,
        });
    }
    if kind == b'=' && n < 4 {
        return Err(ProtocolError::Malformed {
            what: "verbatim string without format",
        });
    }
    let end = after as u64 + n + 2;
    if (buf.len() as u64) < end {
        *wanted = end as usize;
        return Ok(None);
    }
    let end = end as usize;
    if kind == b'=' && buf[after + 3] != b':' {
        return Err(ProtocolError::Malformed {
            what: "verbatim string without format",
        });
    }
    if &buf[end - 2..end] != b"\r\n" {
        return Err(ProtocolError::Malformed {
            what: "blob not terminated by CRLF",
        });
    }
    Ok(Some((end, 0)))
}

/// An aggregate header (`*`, `~`, `>`, `%`, `|`) of `n` elements (pairs for `%` and
/// `|`) whose line ends at `after`.
fn aggregate(
    kind: u8,
    after: usize,
    n: u64,
    limits: &Limits,
) -> Result<Option<(usize, u64)>, ProtocolError> {
    if n > limits.max_aggregate_len {
        return Err(ProtocolError::AggregateTooLong {
            len: n,
            limit: limits.max_aggregate_len,
        });
    }
    let children = if kind == b'%' || kind == b'|' {
        n * 2
    } else {
        n
    };
    if kind == b'|' {
        // An attribute is followed by the element it annotates: one more child.
        return Ok(Some((after, children + 1)));
    }
    Ok(Some((after, children)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAMES: &[&[u8]] = &[
        b"+OK\r\n",
        b"-ERR unknown\r\n",
        b":-42\r\n",
        b"$5\r\nhello\r\n",
        b"$-1\r\n",
        b"*-1\r\n",
        b"*0\r\n",
        b"_\r\n",
        b"#t\r\n",
        b",-inf\r\n",
        b",1.5e3\r\n",
        b"(12345678901234567890\r\n",
        b"!10\r\nERR boom!!\r\n",
        b"=8\r\ntxt:abcd\r\n",
        b"*3\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n%1\r\n+k\r\n~2\r\n#f\r\n_\r\n",
        b"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n",
        b"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n",
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n",
    ];

    #[test]
    fn complete_frames_have_their_length() {
        for f in FRAMES {
            let mut s = Scanner::default();
            assert_eq!(
                s.scan(f),
                Ok(Some(f.len())),
                "{}",
                String::from_utf8_lossy(f)
            );
        }
    }

    #[test]
    fn frames_split_at_every_point_are_found_once_complete() {
        for f in FRAMES {
            for cut in 0..f.len() {
                let mut s = Scanner::default();
                assert_eq!(s.scan(&f[..cut]), Ok(None), "cut {cut} of {:?}", f);
                assert_eq!(s.scan(f), Ok(Some(f.len())), "after cut {cut} of {:?}", f);
            }
        }
    }

    #[test]
    fn back_to_back_frames_are_separated() {
        let all: Vec<u8> = FRAMES.concat();
        let mut s = Scanner::default();
        let mut at = 0;
        for f in FRAMES {
            let n = s.scan(&all[at..]).unwrap().unwrap();
            assert_eq!(&all[at..at + n], *f);
            at += n;
        }
        assert_eq!(at, all.len());
    }

    #[test]
    fn wanted_tells_the_size_of_a_partial_bulk_string() {
        let mut s = Scanner::default();
        assert_eq!(s.scan(b"*2\r\n$1000000\r\nab"), Ok(None));
        assert_eq!(s.wanted(), 4 + 10 + 1_000_000 + 2);
        let mut s = Scanner::default();
        assert_eq!(s.scan(b"*2\r\n:1"), Ok(None));
        assert_eq!(s.wanted(), 0);
    }

    #[test]
    fn malformed_frames_are_errors() {
        let bad: &[&[u8]] = &[
            b"?\r\n",
            b":12a\r\n",
            b"$3\r\nabcd\r\n",
            b"$-2\r\n",
            b"#x\r\n",
            b",1.2.3\r\n",
            b"+OK\n",
            b"=2\r\nab\r\n",
        ];
        for f in bad {
            let mut s = Scanner::default();
            assert!(s.scan(f).is_err(), "{:?}", String::from_utf8_lossy(f));
        }
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_depth: 2,
            max_bulk_len: 4,
            max_aggregate_len: 3,
            max_line_len: 16,
        };
        let mut s = Scanner::new(limits.clone());
        assert!(matches!(
            s.scan(b"*1\r\n*1\r\n*1\r\n:1\r\n"),
            Err(ProtocolError::TooDeep { .. })
        ));
        let mut s = Scanner::new(limits.clone());
        assert!(matches!(
            s.scan(b"$5\r\n"),
            Err(ProtocolError::BulkTooLong { .. })
        ));
        let mut s = Scanner::new(limits.clone());
        assert!(matches!(
            s.scan(b"*4\r\n"),
            Err(ProtocolError::AggregateTooLong { .. })
        ));
        let mut s = Scanner::new(limits);
        assert!(matches!(
            s.scan(b"+aaaaaaaaaaaaaaaaaaaaaaaa"),
            Err(ProtocolError::LineTooLong { .. })
        ));
    }

    /// The lengths read in one pass (`plain_length`) and those left to the general
    /// path (a sign, 19 digits, a bare LF, a line over the limit) give the same frames,
    /// elements and errors as before the fast path.
    #[test]
    fn plain_and_general_length_lines_agree() {
        use crate::resp::{Head, Reader};
        assert_eq!(plain_length(b"$12\r\n", 1), Some((12, 5)));
        assert_eq!(plain_length(b"*007\r\n", 1), Some((7, 6)));
        for line in [
            &b"$\r\n"[..],
            b"$-1\r\n",
            b"$+3\r\n",
            b"$3\n",
            b"$3",
            b"$1234567890123456789\r\n",
        ] {
            assert_eq!(
                plain_length(line, 1),
                None,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        let read_all = |frame: &'static [u8]| {
            let mut r = Reader::new(bytes::Bytes::from_static(frame));
            let mut heads = Vec::new();
            while !r.is_empty() {
                heads.push(r.next().unwrap());
            }
            heads
        };
        let frame = b"*3\r\n$+3\r\nabc\r\n%1\r\n$0003\r\nkey\r\n$-1\r\n*-1\r\n";
        assert_eq!(Scanner::default().scan(frame), Ok(Some(frame.len())));
        assert_eq!(
            read_all(frame),
            [
                Head::Array(3),
                Head::Bulk("abc".into()),
                Head::Map(1),
                Head::Bulk("key".into()),
                Head::Null,
                Head::Null,
            ]
        );
        // 19 digits: the general path parses them, and the limit refuses them.
        assert!(matches!(
            Scanner::default().scan(b"$1000000000000000000\r\n"),
            Err(ProtocolError::BulkTooLong { .. })
        ));
        // A line of plain digits longer than the line limit is still refused.
        let limits = Limits {
            max_line_len: 3,
            ..Limits::default()
        };
        assert!(matches!(
            Scanner::new(limits.clone()).scan(b"$100\r\n"),
            Err(ProtocolError::LineTooLong { .. })
        ));
        assert_eq!(Scanner::new(limits).scan(b"$1\r\na\r\n"), Ok(Some(7)));
        // Inside an aggregate (the scanner's tight loop), the same errors.
        let limits = Limits {
            max_bulk_len: 4,
            ..Limits::default()
        };
        assert!(matches!(
            Scanner::new(limits).scan(b"*3\r\n$1\r\na\r\n$5\r\nabcde\r\n$1\r\nb\r\n"),
            Err(ProtocolError::BulkTooLong { .. })
        ));
        assert!(Scanner::default()
            .scan(b"*3\r\n$1\r\na\r\n$1\r\nbc\r\n$1\r\nb\r\n")
            .is_err());
        let mut s = Scanner::default();
        assert_eq!(s.scan(b"*3\r\n$1\r\na\r\n$100\r\nab"), Ok(None));
        assert_eq!(s.wanted(), 4 + 7 + 6 + 100 + 2);
    }

    /// The common frames take the one-pass path, and what it leaves (other types,
    /// long lines, partial or malformed frames) the general path.
    #[test]
    fn whole_simple_frames_take_the_short_path() {
        let limits = Limits::default();
        for f in [
            &b"+OK\r\n"[..],
            b"+\r\n",
            b":0\r\n",
            b":-9223372036854775808\r\n",
            b"$3\r\nbar\r\n",
            b"$0\r\n\r\n",
            b"$-1\r\n",
            b"_\r\n",
        ] {
            assert_eq!(whole_simple_frame(f, &limits), Some(f.len()), "{f:?}");
            let mut more = f.to_vec();
            more.extend_from_slice(b"+OK\r\n");
            assert_eq!(whole_simple_frame(&more, &limits), Some(f.len()), "{f:?}");
        }
        for f in [
            &b"+OK\n"[..],
            b"+OK\r",
            b"+a long simple string, longer than the short line\r\n",
            b":1a\r\n",
            b":\r\n",
            b"$3\r\nbar",
            b"$3\r\nbarr\n",
            b"$+3\r\nbar\r\n",
            b"$-01\r\n",
            b"_x\r\n",
            b"*1\r\n:1\r\n",
            b"-ERR\r\n",
            b"",
        ] {
            assert_eq!(whole_simple_frame(f, &limits), None, "{f:?}");
        }
        let small = Limits {
            max_bulk_len: 2,
            ..Limits::default()
        };
        assert_eq!(whole_simple_frame(b"$3\r\nbar\r\n", &small), None);
        let short_lines = Limits {
            max_line_len: 4,
            ..Limits::default()
        };
        assert_eq!(whole_simple_frame(b"$-1\r\n", &short_lines), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// Whatever the short path accepts (of any bytes, under the default and
        /// under small limits, whole or cut short) the general path accepts with the
        /// same length; a scanner says the same of the bytes given whole or one byte
        /// at a time (the same frame, or an error); and `scan_frames` finds the frames
        /// and the error that one `scan` after the other finds.
        #[test]
        fn short_and_general_paths_agree(
            bytes in proptest::prop_oneof![
                crate::resp::simple_frames(),
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..48),
            ],
        ) {
            let small = Limits {
                max_depth: 2,
                max_bulk_len: 8,
                max_aggregate_len: 4,
                max_line_len: 32,
            };
            for limits in [Limits::default(), small] {
                for cut in 0..=bytes.len() {
                    let part = &bytes[..cut];
                    if let Some(n) = whole_simple_frame(part, &limits) {
                        let general = Scanner::new(limits.clone()).scan_general(part);
                        proptest::prop_assert_eq!(general, Ok(Some(n)), "{:?}", part);
                    }
                }
                let whole = Scanner::new(limits.clone()).scan(&bytes);
                let mut s = Scanner::new(limits.clone());
                let mut bytewise = Ok(None);
                for cut in 0..=bytes.len() {
                    bytewise = s.scan(&bytes[..cut]);
                    if !matches!(bytewise, Ok(None)) {
                        break;
                    }
                }
                // All the whole frames at once, as one after the other.
                let mut one_by_one = Vec::new();
                let mut s = Scanner::new(limits.clone());
                let mut end = 0;
                let error = loop {
                    match s.scan(&bytes[end..]) {
                        Ok(Some(n)) => {
                            one_by_one.push(n);
                            end += n;
                        }
                        Ok(None) => break None,
                        Err(e) => break Some(e),
                    }
                    if end == bytes.len() {
                        break None;
                    }
                };
                let mut at_once = Vec::new();
                let got = Scanner::new(limits.clone()).scan_frames(&bytes, |n| at_once.push(n));
                proptest::prop_assert_eq!(got, (end, error), "{:?}", bytes);
                proptest::prop_assert_eq!(at_once, one_by_one);
                // A line both too long and badly terminated may be reported as either.
                if !(whole.is_err() && bytewise.is_err()) {
                    proptest::prop_assert_eq!(whole, bytewise, "{:?}", bytes);
                }
            }
        }
    }
}
