//! Writing RESP: the array header and bulk strings a command is made of.
//!
//! Every piece is written with as few appends as possible (a header is one append of
//! a few bytes formatted on the stack): each append to a `BytesMut` checks its room
//! and calls `memcpy`, which costs more than formatting the header does, and a
//! pipeline of a thousand commands makes thousands of them.

use bytes::BytesMut;

/// The longest header: a prefix byte, the 20 digits of `u64::MAX` and CRLF.
const HEADER_LEN: usize = 24;

/// A header line `<prefix><n>\r\n` formatted on the stack.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Header {
    buf: [u8; HEADER_LEN],
    start: usize,
}

impl Header {
    /// `<prefix><n>\r\n` (`*3\r\n`, `$5\r\n`).
    pub fn new(prefix: u8, mut n: usize) -> Header {
        let mut buf = [0; HEADER_LEN];
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
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// Appends `*n\r\n`.
pub fn write_array_header(out: &mut BytesMut, n: usize) {
    out.extend_from_slice(Header::new(b'*', n).as_bytes());
}

/// Appends `data` as a bulk string: `$len\r\ndata\r\n`.
pub fn write_bulk(out: &mut BytesMut, data: &[u8]) {
    let header = Header::new(b'$', data.len());
    let header = header.as_bytes();
    // Exactly what is written: the header, the data, CRLF.
    out.reserve(header.len() + data.len() + 2);
    out.extend_from_slice(header);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the header of a bulk string of `len` bytes: `$len\r\n`.
pub fn write_bulk_header(out: &mut BytesMut, len: usize) {
    out.extend_from_slice(Header::new(b'$', len).as_bytes());
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
        let mut out = BytesMut::new();
        write_bulk(&mut out, &[b'x'; 1234]);
        assert_eq!(&out[..7], b"$1234\r\n");
        assert_eq!(out.len(), 7 + 1234 + 2);
    }
}
