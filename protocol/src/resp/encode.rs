//! Writing RESP: the array header and bulk strings a command is made of.

use bytes::{BufMut, BytesMut};

/// Appends `*n\r\n`.
pub fn write_array_header(out: &mut BytesMut, n: usize) {
    let mut b = itoa::Buffer::new();
    let s = b.format(n);
    out.reserve(s.len() + 3);
    out.put_u8(b'*');
    out.put_slice(s.as_bytes());
    out.put_slice(b"\r\n");
}

/// Appends `data` as a bulk string: `$len\r\ndata\r\n`.
pub fn write_bulk(out: &mut BytesMut, data: &[u8]) {
    let mut b = itoa::Buffer::new();
    let len = b.format(data.len());
    // Exactly what is written: `$`, the length, CRLF, the data, CRLF.
    out.reserve(len.len() + data.len() + 5);
    out.put_u8(b'$');
    out.put_slice(len.as_bytes());
    out.put_slice(b"\r\n");
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// Appends the header of a bulk string of `len` bytes: `$len\r\n`.
pub fn write_bulk_header(out: &mut BytesMut, len: usize) {
    let mut b = itoa::Buffer::new();
    let s = b.format(len);
    out.reserve(s.len() + 3);
    out.put_u8(b'$');
    out.put_slice(s.as_bytes());
    out.put_slice(b"\r\n");
}
