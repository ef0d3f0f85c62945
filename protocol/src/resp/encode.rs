//! Writing RESP: the array header and bulk strings a command is made of.
//!
//! Every piece is written with as few appends as possible (a header is one append of
//! a few bytes formatted on the stack): each append to a `BytesMut` checks its room
//! and calls `memcpy`, which costs more than formatting the header does, and a
//! pipeline of a thousand commands makes thousands of them.

use bytes::BytesMut;

/// Where RESP is written: a `BytesMut` (a pipeline's buffer, a frame being
/// built) or a command's own small buffer, kept inline.
pub trait Out {
    /// Makes room for `n` more bytes.
    fn reserve(&mut self, n: usize);
    /// Appends `bytes`.
    fn extend_from_slice(&mut self, bytes: &[u8]);
}

impl Out for BytesMut {
    #[inline]
    fn reserve(&mut self, n: usize) {
        BytesMut::reserve(self, n);
    }

    #[inline]
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        BytesMut::extend_from_slice(self, bytes);
    }
}

/// The longest header: a prefix byte, the 20 digits of `u64::MAX` and CRLF.
pub(crate) const HEADER_LEN: usize = 24;

/// `00` to `99`, two bytes each.
const TWO_DIGITS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// The two digits of `n` (10 to 99), read from a table rather than divided out.
#[inline(always)]
pub(crate) fn two_digits(n: usize) -> [u8; 2] {
    [TWO_DIGITS[2 * n], TWO_DIGITS[2 * n + 1]]
}

/// A header line `<prefix><n>\r\n` formatted on the stack.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Header {
    buf: [u8; HEADER_LEN],
    start: usize,
}

impl Header {
    /// `<prefix><n>\r\n` (`*3\r\n`, `$5\r\n`).
    #[inline]
    pub fn new(prefix: u8, mut n: usize) -> Header {
        let mut buf = [0; HEADER_LEN];
        if n < 10 {
            // A command's word count, most often: four stores, no division.
            buf[HEADER_LEN - 4..].copy_from_slice(&[prefix, b'0' + n as u8, b'\r', b'\n']);
            return Header {
                buf,
                start: HEADER_LEN - 4,
            };
        }
        buf[HEADER_LEN - 2] = b'\r';
        buf[HEADER_LEN - 1] = b'\n';
        let mut start = HEADER_LEN - 2;
        loop {
            start -= 1;
            buf[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        start -= 1;
        buf[start] = prefix;
        Header { buf, start }
    }

    /// Its bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// Appends `*n\r\n`.
pub fn write_array_header(out: &mut impl Out, n: usize) {
    write_header(out, b'*', n);
}

/// Appends `data` as a bulk string: `$len\r\ndata\r\n`.
pub fn write_bulk(out: &mut impl Out, data: &[u8]) {
    // Exactly what is written (no more: a command's buffer starts small and would
    // move): the header, the data, CRLF.
    let len = data.len();
    let header = match len {
        0..=9 => 4,
        10..=99 => 5,
        100..=999 => 6,
        _ => 3 + len.ilog10() as usize + 1,
    };
    out.reserve(header + len + 2);
    write_header(out, b'$', len);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the header of a bulk string of `len` bytes: `$len\r\n`.
pub fn write_bulk_header(out: &mut impl Out, len: usize) {
    write_header(out, b'$', len);
}

/// Appends `<prefix><n>\r\n`. The lengths of keys, small values and argument
/// counts (under 1,000) are appended as a fixed number of bytes, which compiles to
/// a store or two rather than a loop and a call to `memcpy`.
#[inline(always)]
fn write_header(out: &mut impl Out, prefix: u8, n: usize) {
    let digit = |d: usize| b'0' + d as u8;
    match n {
        0..=9 => out.extend_from_slice(&[prefix, digit(n), b'\r', b'\n']),
        10..=99 => {
            let [tens, ones] = two_digits(n);
            out.extend_from_slice(&[prefix, tens, ones, b'\r', b'\n'])
        }
        100..=999 => out.extend_from_slice(&[
            prefix,
            digit(n / 100),
            digit(n / 10 % 10),
            digit(n % 10),
            b'\r',
            b'\n',
        ]),
        _ => out.extend_from_slice(Header::new(prefix, n).as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_bulks() {
        let mut out = BytesMut::new();
        write_array_header(&mut out, 0);
        write_array_header(&mut out, 12);
        write_bulk(&mut out, b"");
        write_bulk(&mut out, b"hello");
        write_bulk_header(&mut out, usize::MAX);
        let max = format!("${}\r\n", usize::MAX);
        let want = format!("*0\r\n*12\r\n$0\r\n\r\n$5\r\nhello\r\n{max}");
        assert_eq!(&out[..], want.as_bytes());
        // Every length around the fixed-width forms matches the general one.
        for n in (0..1_200).chain([9_999, 10_000, 123_456_789]) {
            let mut out = BytesMut::new();
            write_bulk_header(&mut out, n);
            write_array_header(&mut out, n);
            assert_eq!(&out[..], format!("${n}\r\n*{n}\r\n").as_bytes(), "{n}");
            assert_eq!(
                Header::new(b'*', n).as_bytes(),
                format!("*{n}\r\n").as_bytes()
            );
        }
    }

    /// A bulk string asks for no more room than it takes: in a buffer with exactly
    /// that much it stays where it is (a command's buffer starts small).
    #[test]
    fn a_bulk_asks_for_the_room_it_takes() {
        for len in [0, 1, 9, 10, 99, 100, 999, 1_000, 12_345] {
            let data = vec![b'x'; len];
            let exact = format!("${len}\r\n").len() + len + 2;
            let mut out = BytesMut::with_capacity(exact);
            let at = out.as_ptr();
            write_bulk(&mut out, &data);
            assert_eq!((out.len(), out.as_ptr()), (exact, at), "{len}");
        }
        let mut out = BytesMut::new();
        write_bulk(&mut out, &[b'x'; 1234]);
        assert_eq!(&out[..7], b"$1234\r\n");
        assert_eq!(out.len(), 7 + 1234 + 2);
    }
}
