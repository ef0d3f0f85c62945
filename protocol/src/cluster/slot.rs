//! Hash slots: `CRC16(key) mod 16384`, over the hash tag when the key has one.

/// How many hash slots a cluster has.
pub const SLOTS: u16 = 16384;

/// The hash slot of `key`. When the key holds a hash tag (the bytes between the first
/// `{` and the next `}`, if there are any), only the tag is hashed, so `{user1}:name`
/// and `{user1}:age` share a slot.
pub fn slot(key: &[u8]) -> u16 {
    crate::digest::crc16(hash_tag(key)) % SLOTS
}

/// The part of `key` that is hashed: its hash tag when it has one (non-empty), else
/// the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    match key[open + 1..].iter().position(|&b| b == b'}') {
        Some(0) | None => key,
        Some(len) => &key[open + 1..open + 1 + len],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_slots() {
        // Values from the cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(slot(b"123456789"), 0x31C3 % SLOTS);
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b""), 0);
    }

    #[test]
    fn hash_tags() {
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_eq!(slot(b"{user1000}.followers"), slot(b"user1000"));
        // An empty tag, or no closing brace: the whole key.
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{bar"), b"foo{bar");
        // Only the first tag counts.
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
    }
}
