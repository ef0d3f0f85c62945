//! Property tests of the URL and option parsers: no input a user can give panics.
//!
//! [`Config::from_url`] gets arbitrary strings, arbitrary strings behind each known
//! scheme, query strings built from the known option names with arbitrary values
//! (numbers of every size and notation, units, signs, text), and URLs assembled from
//! arbitrary parts. The property: it returns, and every error is a configuration
//! error with a message. [`ClientBuilder::build`] gets the same treatment for the
//! options it checks.

use proptest::prelude::*;
use respec::connection::Config;
use respec::Client;
use std::time::Duration;

/// Every option name the URL parser knows, aliases included.
const OPTIONS: &[&str] = &[
    "db",
    "protocol",
    "resp",
    "client_name",
    "name",
    "username",
    "user",
    "password",
    "connect_timeout",
    "timeout",
    "request_timeout",
    "response_timeout",
    "keepalive",
    "pool_size",
    "max_connections",
    "pool_timeout",
    "pool_idle_timeout",
    "health_check_interval",
    "liveness_timeout",
    "queue_size",
    "max_queued_requests",
    "queue_full",
    "ca",
    "ca_file",
    "tls_ca",
    "cert",
    "cert_file",
    "tls_cert",
    "key",
    "key_file",
    "tls_key",
    "insecure",
    "tls_insecure",
    "server_name",
    "sni",
];

const SCHEMES: &[&str] = &[
    "redis",
    "rediss",
    "valkey",
    "valkeys",
    "unix",
    "redis+unix",
    "valkey+unix",
    "http",
    "",
];

/// `from_url` returned (it did not panic), and an error is a configuration error
/// that says something.
fn check(input: &str) -> Result<(), TestCaseError> {
    if let Err(e) = Config::from_url(input) {
        prop_assert!(e.is_config(), "{input:?}: not a config error: {e}");
        let text = e.to_string();
        let message = text.strip_prefix("configuration error: ").unwrap_or("");
        prop_assert!(
            !message.trim().is_empty(),
            "{input:?}: empty message: {text}"
        );
    }
    Ok(())
}

/// Percent-encodes every byte but ASCII letters and digits.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Values an option might be given: numbers of every size and notation (the
/// duration options parse `f64`), with and without units, signs, words, text.
fn value() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<f64>().prop_map(|f| f.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        (0u32..400).prop_map(|e| format!("1e{e}")),
        (0u32..400).prop_map(|e| format!("-1e-{e}")),
        any::<u128>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (0u64..100_000).prop_map(|n| n.to_string()),
        (0u64..100_000, 0u32..1000).prop_map(|(n, f)| format!("{n}.{f}")),
        Just("nan".to_owned()),
        Just("inf".to_owned()),
        Just("-0".to_owned()),
        Just("".to_owned()),
    ];
    let unit = prop_oneof![Just(""), Just("s"), Just("ms"), Just("msms"), Just("x")];
    prop_oneof![
        4 => (number, unit).prop_map(|(n, u)| format!("{n}{u}")),
        1 => prop_oneof![
            Just("none".to_owned()),
            Just("never".to_owned()),
            Just("true".to_owned()),
            Just("off".to_owned()),
            Just("2".to_owned()),
            Just("3".to_owned()),
        ],
        1 => any::<String>(),
    ]
}

/// `key=value&...` from the known option names (and now and then an unknown one),
/// values percent-encoded or raw.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        9 => proptest::sample::select(OPTIONS).prop_map(str::to_owned),
        1 => "[a-z_]{0,12}",
    ];
    let pair = (name, value(), any::<bool>()).prop_map(|(k, v, raw)| {
        let v = if raw { v } else { encode(&v) };
        format!("{k}={v}")
    });
    proptest::collection::vec(pair, 0..6).prop_map(|pairs| pairs.join("&"))
}

/// A URL assembled from arbitrary parts: scheme, user info, host, port, path, query.
fn url() -> impl Strategy<Value = String> {
    let scheme = proptest::sample::select(SCHEMES);
    let userinfo = prop_oneof![
        Just(String::new()),
        (
            any::<String>(),
            proptest::option::of(any::<String>()),
            any::<bool>()
        )
            .prop_map(|(u, p, raw)| {
                let enc = |s: &str| if raw { s.to_owned() } else { encode(s) };
                match p {
                    Some(p) => format!("{}:{}@", enc(&u), enc(&p)),
                    None => format!("{}@", enc(&u)),
                }
            }),
        "[%+0-9a-fA-F:@]{0,8}@",
    ];
    let host = prop_oneof![
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
        Just(String::new()),
        "[a-z0-9.-]{1,20}",
        "\\[[0-9a-f:]{0,20}\\]",
        any::<String>(),
    ];
    let port = prop_oneof![
        Just(String::new()),
        any::<u16>().prop_map(|p| format!(":{p}")),
        any::<u64>().prop_map(|p| format!(":{p}")),
        "(:-?[0-9]{0,25})",
    ];
    let path = prop_oneof![
        Just(String::new()),
        any::<i64>().prop_map(|n| format!("/{n}")),
        any::<u128>().prop_map(|n| format!("/{n}")),
        "/[%0-9a-z/.+-]{0,20}",
        any::<String>().prop_map(|s| format!("/{s}")),
    ];
    (scheme, userinfo, host, port, path, query()).prop_map(|(s, ui, h, p, path, q)| {
        let q = if q.is_empty() { q } else { format!("?{q}") };
        format!("{s}://{ui}{h}{p}{path}{q}")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_do_not_panic(s in any::<String>()) {
        check(&s)?;
    }

    #[test]
    fn arbitrary_text_behind_a_scheme_does_not_panic(
        scheme in proptest::sample::select(SCHEMES),
        rest in any::<String>(),
    ) {
        check(&format!("{scheme}://{rest}"))?;
    }

    #[test]
    fn known_options_with_arbitrary_values_do_not_panic(
        scheme in proptest::sample::select(&["redis", "rediss", "unix"][..]),
        q in query(),
    ) {
        let host = if scheme == "unix" { "/tmp/s.sock" } else { "h:6379" };
        check(&format!("{scheme}://{host}?{q}"))?;
    }

    #[test]
    fn every_duration_option_with_any_number_does_not_panic(
        key in proptest::sample::select(OPTIONS),
        v in value(),
    ) {
        check(&format!("redis://h?{key}={}", encode(&v)))?;
    }

    #[test]
    fn arbitrary_urls_do_not_panic(u in url()) {
        check(&u)?;
    }

    #[test]
    fn builder_options_do_not_panic(
        secs in any::<u64>(),
        nanos in 0u32..1_000_000_000,
        db in any::<i64>(),
    ) {
        let d = Duration::new(secs, nanos);
        let built = Client::builder()
            .keepalive(Some(d))
            .connect_timeout(Some(d))
            .request_timeout(Some(d))
            .pool_timeout(Some(d))
            .pool_idle_timeout(Some(d))
            .health_check_interval(d)
            .database(db)
            .build();
        let in_range = (Duration::from_nanos(1)..=Duration::from_secs(32767)).contains(&d);
        match built {
            Ok(c) => prop_assert!(in_range && db >= 0, "{c:?}"),
            Err(e) => {
                prop_assert!(e.is_config(), "{e}");
                prop_assert!(!in_range || db < 0, "{e}");
            }
        }
    }
}

#[test]
fn builder_keepalive_out_of_range_is_a_config_error_naming_it() {
    for d in [
        Duration::ZERO,
        Duration::from_secs(32768),
        Duration::from_secs(10_000_000_000),
    ] {
        let e = Client::builder().keepalive(Some(d)).build().unwrap_err();
        assert!(e.is_config(), "{e}");
        let text = e.to_string();
        println!("keepalive({d:?}) -> {text}");
        assert!(
            text.contains("`keepalive` must be between 1 and 32767 seconds"),
            "{text}"
        );
    }
    for ok in [Duration::from_millis(1), Duration::from_secs(32767)] {
        Client::builder().keepalive(Some(ok)).build().unwrap();
    }
    let e = Client::builder().database(-1).build().unwrap_err();
    println!("database(-1) -> {e}");
    assert!(e.is_config() && e.to_string().contains("`database`"), "{e}");
}
