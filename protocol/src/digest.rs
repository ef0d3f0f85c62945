//! The two checksums the protocol needs: SHA-1, the digest `EVALSHA` names a script
//! by (and the application cache its keys), and CRC-16/XMODEM, which Redis Cluster
//! hashes keys with. Both come from small crates without dependencies (`sha1_smol`,
//! `crc16`): the RustCrypto `sha1` (with `digest`, `generic-array`, `typenum`, ...)
//! and `crc` would add eight crates to every user's clean build for two small
//! functions. The tests compare both with those crates, and with the published
//! check values.

/// The SHA-1 digest of `data`, as 40 lowercase hex digits.
#[doc(hidden)]
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// CRC-16/XMODEM of `data` (initial value 0, no reflection, no final xor).
pub(crate) fn crc16(data: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(data)
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
        // Every length across one, two and three blocks (the padding's one or two
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
