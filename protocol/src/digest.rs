//! The two checksums the protocol needs, written here from their specifications
//! rather than taken from crates: SHA-1 (FIPS 180-4), the digest `EVALSHA` names a
//! script by (and the application cache its keys), and CRC-16/XMODEM, which Redis
//! Cluster hashes keys with. The crates (`sha1` with `digest`, `generic-array`,
//! `typenum`; `crc`) add eight crates to every user's clean build for two small
//! functions; the tests compare both with those crates.

/// The SHA-1 digest of `data`, as 40 lowercase hex digits.
#[doc(hidden)]
pub fn sha1_hex(data: &[u8]) -> String {
    let mut hex = String::with_capacity(40);
    for b in sha1(data) {
        for nibble in [b >> 4, b & 0xf] {
            hex.push(char::from_digit(nibble.into(), 16).unwrap_or('0'));
        }
    }
    hex
}

/// The SHA-1 digest of `data`.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut state: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    // The message, then 0x80, zeros, and its length in bits as a big-endian u64, up
    // to a multiple of 64 bytes: the last one or two blocks are built in `tail`.
    let whole = data.len() - data.len() % 64;
    let rest = &data[whole..];
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let tail_len = if rest.len() < 56 { 64 } else { 128 };
    let bits = (data.len() as u64).wrapping_mul(8);
    tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_be_bytes());
    for block in data[..whole]
        .chunks_exact(64)
        .chain(tail[..tail_len].chunks_exact(64))
    {
        compress(&mut state, block);
    }
    let mut out = [0u8; 20];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// One 64-byte block into the state (FIPS 180-4, 6.1.2).
fn compress(state: &mut [u32; 5], block: &[u8]) {
    let mut w = [0u32; 80];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..80 {
        w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for (t, word) in w.into_iter().enumerate() {
        let (f, k) = match t {
            0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
            20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let temp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(word);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

/// CRC-16/XMODEM's table: polynomial 0x1021, most significant bit first.
const CRC16_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-16/XMODEM of `data` (initial value 0, no reflection, no final xor).
pub(crate) fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0, |crc, &b| {
        (crc << 8) ^ CRC16_TABLE[usize::from((crc >> 8) as u8 ^ b)]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sha1_of_the_fips_examples() {
        for (input, digest) in [
            (&b""[..], "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
            ),
            (
                &[b'a'; 1_000_000][..],
                "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
            ),
        ] {
            assert_eq!(sha1_hex(input), digest, "{} bytes", input.len());
        }
    }

    #[test]
    fn crc16_check_value() {
        // The catalogue's check value: CRC of the ASCII digits 1 to 9.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    fn reference_sha1(data: &[u8]) -> String {
        use ::sha1::Digest;
        ::sha1::Sha1::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn sha1_at_every_padding_boundary() {
        // Every length across one, two and three blocks (the tail's one or two
        // blocks: 55, 56, 63, 64, 119, 120, ...).
        let data: Vec<u8> = (0..=200u8).collect();
        for len in 0..data.len() {
            assert_eq!(
                sha1_hex(&data[..len]),
                reference_sha1(&data[..len]),
                "{len}"
            );
        }
    }

    proptest! {
        #[test]
        fn sha1_matches_the_crate(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            prop_assert_eq!(sha1_hex(&data), reference_sha1(&data));
        }

        #[test]
        fn crc16_matches_the_crate(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let reference = ::crc::Crc::<u16>::new(&::crc::CRC_16_XMODEM);
            prop_assert_eq!(crc16(&data), reference.checksum(&data));
        }
    }
}
