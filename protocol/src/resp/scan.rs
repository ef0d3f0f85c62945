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
    pub fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        loop {
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

/// Finds the end of the line starting at `from`; returns the offset of `\r`.
fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let i = rest.iter().position(|&b| b == b'\n')?;
    Some(from + i)
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
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = len()?;
            if n == -1 && kind == b'*' {
                return Ok(Some((after, 0)));
            }
            let n = u64::try_from(n).map_err(|_| ProtocolError::Malformed {
                what: "negative length",
            })?;
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
        other => Err(ProtocolError::UnknownType { byte: other }),
    }
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
}
