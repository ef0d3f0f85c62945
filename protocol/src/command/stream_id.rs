//! Stream entry IDs as users write them (`1700000000000-0`, `0`, `$`, `>`), checked
//! before a command is sent.

/// Whether `id` is a stream entry ID (`ms` or `ms-seq`, each a 64-bit unsigned
/// number) or one of the forms in `also`: a word (`*`, `$`, `>`, `+`, `-`), `(` for
/// an exclusive ID (`(1-0`), `ms-*` for an ID whose sequence the server picks.
pub(crate) fn is_stream_id(id: &[u8], also: &[&str]) -> bool {
    // `(` and `ms-*` are forms, not words.
    let word = |w: &&str| !matches!(*w, "(" | "ms-*") && w.as_bytes() == id;
    if also.iter().any(word) {
        return true;
    }
    let id = match id.strip_prefix(b"(") {
        Some(rest) if also.contains(&"(") => rest,
        _ => id,
    };
    let (ms, seq) = match id.iter().position(|&b| b == b'-') {
        Some(i) => (&id[..i], Some(&id[i + 1..])),
        None => (id, None),
    };
    is_u64(ms)
        && match seq {
            None => true,
            Some(b"*") => also.contains(&"ms-*"),
            Some(seq) => is_u64(seq),
        }
}

fn is_u64(digits: &[u8]) -> bool {
    !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(digits).is_ok_and(|d| d.parse::<u64>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::is_stream_id;

    #[test]
    fn ids_and_the_forms_an_argument_also_takes() {
        for id in [
            "0",
            "1-0",
            "1700000000000-5",
            "18446744073709551615-18446744073709551615",
        ] {
            assert!(is_stream_id(id.as_bytes(), &[]), "{id}");
        }
        for id in [
            "",
            "-",
            "1-",
            "-1",
            "1-2-3",
            "a",
            "1.5",
            "18446744073709551616",
            " 1",
            "$",
            "(1",
        ] {
            assert!(!is_stream_id(id.as_bytes(), &[]), "{id}");
        }
        assert!(is_stream_id(b"$", &["$"]));
        assert!(!is_stream_id(b">", &["$"]));
        assert!(is_stream_id(b"(1-0", &["(", "-", "+"]));
        assert!(!is_stream_id(b"(", &["(", "-", "+"]));
        assert!(is_stream_id(b"5-*", &["*", "ms-*"]));
        assert!(!is_stream_id(b"5-*", &["*"]));
    }
}
