//! `BITFIELD` offsets: a bit offset (`100`) or a positional one (`#3`).

use super::{CommandBuf, IntArg};

/// A `BITFIELD` offset, as a value of its own: in bits from the start of the string,
/// or positional (`#N`: N times the width of the operation's encoding, so `#2` of
/// `u8` is bit 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BitOffset {
    /// Bits from the start.
    Bits(u64),
    /// The `N`th field of the encoding's width (`#N`).
    Nth(u64),
}

/// A `BITFIELD` offset: an integer (in bits), a [`BitOffset`], or the text the
/// server reads (`"100"`, `"#3"`), checked before sending.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a BITFIELD offset",
    note = "an offset is an integer (bits from the start), a `BitOffset`, or text such as \"#3\" (positional: 3 times the encoding's width)"
)]
pub trait BitOffsetArg {
    /// Appends the offset.
    fn write_bit_offset(&self, out: &mut CommandBuf);
}

impl<T: IntArg> BitOffsetArg for T {
    fn write_bit_offset(&self, out: &mut CommandBuf) {
        self.write_int(out)
    }
}

impl BitOffsetArg for BitOffset {
    fn write_bit_offset(&self, out: &mut CommandBuf) {
        let mut digits = itoa::Buffer::new();
        match *self {
            BitOffset::Bits(n) => out.push(digits.format(n).as_bytes()),
            BitOffset::Nth(n) => out.push_parts(&[b"#", digits.format(n).as_bytes()]),
        }
    }
}

impl BitOffsetArg for str {
    fn write_bit_offset(&self, out: &mut CommandBuf) {
        let digits = self.strip_prefix('#').unwrap_or(self);
        if digits.parse::<u64>().is_err() || digits.starts_with('+') {
            out.fail("must be a bit offset (`100`) or a positional offset (`#3`: 3 times the encoding's width)");
        }
        out.push(self.as_bytes())
    }
}

impl BitOffsetArg for String {
    fn write_bit_offset(&self, out: &mut CommandBuf) {
        self.as_str().write_bit_offset(out)
    }
}

impl BitOffsetArg for &str {
    fn write_bit_offset(&self, out: &mut CommandBuf) {
        (**self).write_bit_offset(out)
    }
}

impl BitOffsetArg for &String {
    fn write_bit_offset(&self, out: &mut CommandBuf) {
        self.as_str().write_bit_offset(out)
    }
}
