//! The generic syntax of a connection URL (RFC 3986), split into its parts:
//! `scheme://[user[:password]@]host[:port][/path][?query]`, or `scheme:/path` for a
//! socket path. `url.rs` gives the parts their meaning.
//!
//! respec parses this itself rather than through the `url` crate, whose IDNA
//! support pulls about twenty ICU crates into every user's build (a quarter of a
//! clean build) for no use here: a Redis URL's scheme is not one of the web's, so
//! its host is never IDNA-mapped, only checked. A host is an ASCII name, an IPv4
//! address or an `[IPv6]` address; an internationalized name is given in its
//! `xn--` form.

use crate::error::{Error, Result};
use std::borrow::Cow;

/// A URL split into its parts, each as written (not percent-decoded) except the
/// scheme (lowercased) and the host (brackets removed).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct UrlParts<'a> {
    /// `redis`, `rediss+cluster`, ...: lowercased.
    pub scheme: String,
    /// Before the `:` of the userinfo; empty when there is none.
    pub username: &'a str,
    /// After the `:` of the userinfo, if there is one and it is not empty.
    pub password: Option<&'a str>,
    /// The host, an IPv6 address without its brackets; empty when there is none.
    pub host: &'a str,
    /// The port, if one is written.
    pub port: Option<u16>,
    /// From the `/` after the authority up to the query.
    pub path: &'a str,
    /// After the `?`; empty when there is none.
    pub query: &'a str,
}

fn invalid(input: &str, why: impl std::fmt::Display) -> Error {
    Error::config(format!("invalid URL `{input}`: {why}"))
}

/// Splits `input` into its parts, checking the scheme, host and port.
pub(super) fn split(input: &str) -> Result<UrlParts<'_>> {
    if let Some(c) = input
        .chars()
        .find(|c| c.is_ascii_whitespace() || c.is_control())
    {
        return Err(invalid(
            input,
            format_args!("{c:?} is not allowed in a URL (percent-encode it)"),
        ));
    }
    let (scheme, rest) = input
        .split_once(':')
        .filter(|(s, _)| {
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        })
        .ok_or_else(|| invalid(input, "no scheme (such as redis://)"))?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    if rest.contains('#') || query.contains('#') {
        return Err(invalid(
            input,
            "a fragment (`#`) means nothing here; percent-encode a `#` in a password as %23",
        ));
    }
    let mut parts = UrlParts {
        scheme: scheme.to_ascii_lowercase(),
        username: "",
        password: None,
        host: "",
        port: None,
        path: rest,
        query,
    };
    let Some(rest) = rest.strip_prefix("//") else {
        // `unix:/path`: a path alone.
        return Ok(parts);
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    parts.path = path;
    let host_port = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            parts.username = user;
            parts.password = Some(password).filter(|p| !p.is_empty());
            host_port
        }
        None => authority,
    };
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| invalid(input, "an IPv6 address without its `]`"))?;
            if addr.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(invalid(
                    input,
                    format_args!("`{addr}` is not an IPv6 address"),
                ));
            }
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| {
                    invalid(input, format_args!("`{after}` after an IPv6 address"))
                })?),
            };
            (addr, port)
        }
        None => {
            let (host, port) = match host_port.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            };
            if let Some(bad) = host
                .chars()
                .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
            {
                return Err(invalid(
                input,
                format_args!(
                    "{bad:?} in the host `{host}` (a host is an ASCII name, an IPv4 address or an [IPv6] address; an internationalized name goes in its xn-- form)"
                ),
            ));
            }
            (host, port)
        }
    };
    parts.host = host;
    parts.port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|_| p.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    invalid(
                        input,
                        format_args!("invalid port number `{p}` (0 to 65535)"),
                    )
                })?,
        ),
    };
    Ok(parts)
}

/// `%XX` sequences decoded (and `+` as a space where `plus_is_space`, as in a
/// query); `None` for a `%` not followed by two hex digits or a result that is not
/// UTF-8.
pub(super) fn percent_decode(s: &str, plus_is_space: bool) -> Option<Cow<'_, str>> {
    if !s.contains(['%', '+']) {
        return Some(Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let digit = |b: u8| (b as char).to_digit(16);
                out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

/// One `key=value` pair of a query.
pub(super) struct QueryPair<'a> {
    /// The pair as written.
    pub raw: &'a str,
    /// The key, percent-decoded.
    pub key: Cow<'a, str>,
    /// The value, percent-decoded; empty for a key alone.
    pub value: Cow<'a, str>,
}

/// The `key=value` pairs of a query (empty pieces between `&`s skipped),
/// percent-decoded with `+` as a space; an error naming the key for a bad
/// percent-encoding.
pub(super) fn query_pairs(query: &str) -> impl Iterator<Item = Result<QueryPair<'_>>> {
    query.split('&').filter(|p| !p.is_empty()).map(|raw| {
        let (key, value) = raw.split_once('=').unwrap_or((raw, ""));
        let bad = || {
            Error::config(format!(
                "invalid percent-encoding in the URL option `{key}`"
            ))
        };
        Ok(QueryPair {
            raw,
            key: percent_decode(key, true).ok_or_else(bad)?,
            value: percent_decode(value, true).ok_or_else(bad)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(input: &str) -> UrlParts<'_> {
        split(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    #[test]
    fn every_part_of_a_tcp_url() {
        let p = parts("Redis://alice:p%40ss@h.example:7000/3?protocol=2&client_name=a%20b");
        assert_eq!(
            p,
            UrlParts {
                scheme: "redis".into(),
                username: "alice",
                password: Some("p%40ss"),
                host: "h.example",
                port: Some(7000),
                path: "/3",
                query: "protocol=2&client_name=a%20b",
            }
        );
        let p = parts("redis://[::1]:6380");
        assert_eq!((p.host, p.port, p.path), ("::1", Some(6380), ""));
        let p = parts("redis://[fe80::1]/");
        assert_eq!((p.host, p.port, p.path), ("fe80::1", None, "/"));
        // The last `@` ends the userinfo; an empty port is no port.
        let p = parts("redis://u@x:p@10.0.0.1:?db=1");
        assert_eq!((p.username, p.password), ("u@x", Some("p")));
        assert_eq!((p.host, p.port, p.query), ("10.0.0.1", None, "db=1"));
        let p = parts("redis://:secret@h");
        assert_eq!((p.username, p.password, p.host), ("", Some("secret"), "h"));
        let p = parts("redis://");
        assert_eq!((p.host, p.port, p.path), ("", None, ""));
    }

    #[test]
    fn socket_paths() {
        let p = parts("unix:///tmp/redis.sock?db=2");
        assert_eq!((p.host, p.path, p.query), ("", "/tmp/redis.sock", "db=2"));
        let p = parts("redis+unix:/var/run/v%20x.sock");
        assert_eq!(
            (p.scheme.as_str(), p.path),
            ("redis+unix", "/var/run/v%20x.sock")
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (input, says) in [
            ("//h", "no scheme"),
            ("1redis://h", "no scheme"),
            ("redis://h:65536", "invalid port number `65536`"),
            ("redis://h:-1", "invalid port number `-1`"),
            ("redis://h:+1", "invalid port number `+1`"),
            ("redis://h:x", "invalid port number `x`"),
            ("redis://[::1", "without its `]`"),
            ("redis://[::g]:1", "not an IPv6 address"),
            ("redis://[::1]x", "`x` after an IPv6 address"),
            ("redis://b\u{fc}cher.de", "xn--"),
            ("redis://h,i", "',' in the host"),
            ("redis://h i", "' ' is not allowed"),
            ("redis://h\n", "'\\n' is not allowed"),
            ("redis://:pa#ss@h", "%23"),
        ] {
            let e = split(input).map(|p| format!("{p:?}")).unwrap_err();
            assert!(e.is_config(), "{input}");
            let text = e.to_string();
            assert!(text.contains(says), "{input}: {text}");
            assert!(text.contains("invalid URL"), "{input}: {text}");
        }
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%20b+c", false).unwrap(), "a b+c");
        assert_eq!(percent_decode("a%20b+c", true).unwrap(), "a b c");
        assert_eq!(percent_decode("%C3%BC", false).unwrap(), "\u{fc}");
        assert!(matches!(
            percent_decode("plain", true),
            Some(Cow::Borrowed("plain"))
        ));
        for bad in ["%", "%2", "%+1", "%g0", "%ff"] {
            assert_eq!(percent_decode(bad, false), None, "{bad}");
        }
        let pairs: Vec<_> = query_pairs("a=1&&b&c=x%3Dy+z&=v")
            .map(|p| p.map(|p| (p.raw, p.key.into_owned(), p.value.into_owned())))
            .collect::<Result<_>>()
            .unwrap();
        let own = |s: &str| s.to_owned();
        assert_eq!(
            pairs,
            [
                ("a=1", own("a"), own("1")),
                ("b", own("b"), own("")),
                ("c=x%3Dy+z", own("c"), own("x=y z")),
                ("=v", own(""), own("v")),
            ]
        );
        let e = query_pairs("ca=%zz").next().unwrap().err().unwrap();
        assert!(e.to_string().contains("URL option `ca`"), "{e}");
    }
}
