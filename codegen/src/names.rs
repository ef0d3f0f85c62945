//! Rust identifiers from spec names. The rules are pinned by the tests below: a change
//! here renames public API.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Words Rust reserves (strict, reserved and edition-2024 keywords).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Turns spec text into words: separators are space, `-`, `_`, `|`, `:` and `.`;
/// other non-alphanumeric characters are dropped.
fn clean(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c
            } else if " -_|:.".contains(c) {
                ' '
            } else {
                '\0'
            }
        })
        .filter(|&c| c != '\0')
        .collect::<String>()
}

/// A function, method, field or module name: `CLIENT KILL` -> `client_kill`,
/// `unix-time-seconds` -> `unix_time_seconds`, `TYPE` -> `type_`, `GEORADIUS_RO` ->
/// `georadius_ro`. A leading digit gets a leading `_`.
pub fn snake(name: &str) -> String {
    let s = clean(&name.to_lowercase()).to_snake_case();
    escape(s)
}

/// A type or variant name: `CLIENT KILL` -> `ClientKill`, `nx` -> `Nx`,
/// `GEORADIUS_RO` -> `GeoradiusRo`.
pub fn camel(name: &str) -> String {
    let s = clean(&name.to_lowercase()).to_upper_camel_case();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{s}")
    } else if s == "Self" {
        "Self_".to_owned()
    } else {
        s
    }
}

fn escape(s: String) -> String {
    if s.is_empty() {
        "arg".to_owned()
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{s}")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("{s}_")
    } else {
        s
    }
}

/// True when a token can name a method (letters, digits, `-`, `_`): `WITHSCORES` can,
/// `~` and `*` cannot.
pub fn token_is_nameable(token: &str) -> bool {
    !token.is_empty()
        && token.chars().any(|c| c.is_ascii_alphabetic())
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names() {
        assert_eq!(snake("CLIENT KILL"), "client_kill");
        assert_eq!(camel("CLIENT KILL"), "ClientKill");
        assert_eq!(snake("GEORADIUS_RO"), "georadius_ro");
        assert_eq!(camel("GEORADIUS_RO"), "GeoradiusRo");
        assert_eq!(snake("RESTORE-ASKING"), "restore_asking");
        assert_eq!(camel("CLUSTER SLOT-STATS"), "ClusterSlotStats");
        assert_eq!(
            snake("SENTINEL IS-MASTER-DOWN-BY-ADDR"),
            "sentinel_is_master_down_by_addr"
        );
    }

    #[test]
    fn keywords_get_a_trailing_underscore() {
        assert_eq!(snake("TYPE"), "type_");
        assert_eq!(snake("MOVE"), "move_");
        assert_eq!(snake("ASYNC"), "async_");
        assert_eq!(snake("ref"), "ref_");
        assert_eq!(camel("self"), "Self_");
        assert_eq!(snake("GET"), "get");
    }

    #[test]
    fn argument_names() {
        assert_eq!(snake("unix-time-seconds"), "unix_time_seconds");
        assert_eq!(snake("ip:port"), "ip_port");
        assert_eq!(snake("1st"), "_1st");
        assert_eq!(camel("1st"), "V1st");
        assert_eq!(camel("nx"), "Nx");
        assert_eq!(camel("BYLEX"), "Bylex");
        assert_eq!(snake("new-id"), "new_id");
    }

    #[test]
    fn tokens() {
        assert!(token_is_nameable("WITHSCORES"));
        assert!(token_is_nameable("CRASH-AFTER-ELECTION"));
        assert!(!token_is_nameable("~"));
        assert!(!token_is_nameable("*"));
        assert!(!token_is_nameable("$"));
        assert!(!token_is_nameable(""));
    }
}
