//! URL parsing: `redis://`, `rediss://`, `valkey://`, `valkeys://`, `unix://`,
//! `redis+unix://`, `valkey+unix://`, and the `+cluster` and `+sentinel` forms.

use super::url_syntax::{percent_decode, query_pairs, split};
use super::{keepalive_time, Address, Config, HoldUnsent, Protocol, QueueFull, TlsOptions};
use crate::error::{Error, Result};
use crate::sentinel::{SentinelOptions, SentinelRole};
use std::path::PathBuf;
use std::time::Duration;

fn bad(msg: impl Into<String>) -> Error {
    Error::config(msg)
}

fn duration(key: &str, v: &str) -> Result<Duration> {
    // Seconds, fractions allowed ("0.5"), or with a unit suffix ("250ms", "2s").
    let (num, scale) = if let Some(ms) = v.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(s) = v.strip_suffix('s') {
        (s, 1.0)
    } else {
        (v, 1.0)
    };
    let secs: f64 = num
        .parse()
        .map_err(|_| bad(format!("`{key}` must be a duration in seconds, got `{v}`")))?;
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad(format!(
            "`{key}` must be a non-negative duration, got `{v}`"
        )));
    }
    // The checked conversion: `from_secs_f64` panics past ~1.8e19 seconds.
    Duration::try_from_secs_f64(secs * scale).map_err(|_| {
        bad(format!(
            "`{key}` is too large, got `{v}` (at most {} seconds)",
            Duration::MAX.as_secs()
        ))
    })
}

/// A positive number.
fn positive(key: &str, v: &str) -> Result<usize> {
    match v.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(bad(format!("`{key}` must be a positive number, got `{v}`"))),
    }
}

/// A duration, or `none` for no limit.
fn optional(key: &str, v: &str) -> Result<Option<Duration>> {
    match v {
        "none" | "never" => Ok(None),
        _ => duration(key, v).map(Some),
    }
}

/// A database number: digits, at most `i64::MAX`.
fn database(v: &str) -> std::result::Result<i64, ()> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    v.parse().map_err(|_| ())
}

fn boolean(key: &str, v: &str) -> Result<bool> {
    match v {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(bad(format!("`{key}` must be true or false, got `{v}`"))),
    }
}

/// A cluster URL, `redis+cluster://[user:password@]host1:port1,host2:port2[?options]`
/// (`rediss+cluster`, `valkey+cluster`, `valkeys+cluster` alike): the connection
/// options every node gets, and the seed nodes as `host:port`. `None` for any other
/// URL.
pub fn parse_cluster(input: &str) -> Result<Option<(Config, Vec<String>)>> {
    let Some((scheme, rest)) = input.split_once("://") else {
        return Ok(None);
    };
    let Some(base) = scheme.strip_suffix("+cluster") else {
        return Ok(None);
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    let mut template = None;
    let mut seeds = Vec::new();
    for host in hosts.split(',').filter(|h| !h.is_empty()) {
        let config = parse(&format!("{base}://{userinfo}{host}{tail}"))?;
        match &config.address {
            Address::Tcp { .. } => seeds.push(config.address.to_string()),
            Address::Unix(_) => return Err(bad("a cluster URL needs TCP hosts")),
        }
        template.get_or_insert(config);
    }
    match template {
        Some(t) => Ok(Some((t, seeds))),
        None => Err(bad(format!("cluster URL `{input}` has no host"))),
    }
}

/// What the `cluster=` option of a single-server URL asks [`Client::connect`] for.
///
/// [`Client::connect`]: crate::Client::connect
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterOption {
    /// `cluster=false` (or no option): one server.
    Off,
    /// `cluster=auto`: a cluster client when the server reports `cluster_enabled:1`
    /// in `INFO cluster`, else one server.
    Auto,
    /// `cluster=true`: a cluster client, the URL's node as its seed.
    On,
}

/// Takes the `cluster=auto|true|false` option out of a URL's query: the URL without
/// it (the other options left byte for byte), and what it asks. A `+cluster` or
/// `+sentinel` URL, which says what it connects to, refuses it.
pub fn take_cluster_option(input: &str) -> Result<(String, ClusterOption)> {
    let Some((base, query)) = input.split_once('?') else {
        return Ok((input.to_owned(), ClusterOption::Off));
    };
    let mut option = ClusterOption::Off;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("cluster", value)) => {
                option = match value {
                    "auto" => ClusterOption::Auto,
                    v => match boolean("cluster", v) {
                        Ok(true) => ClusterOption::On,
                        Ok(false) => ClusterOption::Off,
                        Err(_) => {
                            return Err(bad(format!(
                                "`cluster` must be auto, true or false, got `{v}`"
                            )))
                        }
                    },
                };
            }
            _ => kept.push(pair),
        }
    }
    if option != ClusterOption::Off {
        let scheme = base.split_once("://").map_or("", |(scheme, _)| scheme);
        if scheme.ends_with("+cluster") || scheme.ends_with("+sentinel") {
            return Err(bad(format!(
                "the `cluster` option is for a single-server URL, not a `{scheme}://` one"
            )));
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, option))
}

/// A sentinel URL,
/// `redis+sentinel://[user:password@]host1:port1,host2:port2/service[/db][?options]`
/// (`rediss+sentinel`, `valkey+sentinel`, `valkeys+sentinel` alike; a sentinel's
/// port defaults to 26379): the data nodes' options (credentials included), the
/// sentinels, the service name and the sentinel options (`role=primary|replica`,
/// `sentinel_username`, `sentinel_password`; TLS, when on, applies to both). `None`
/// for any other URL.
pub fn parse_sentinel(input: &str) -> Result<Option<SentinelUrl>> {
    let Some((scheme, rest)) = input.split_once("://") else {
        return Ok(None);
    };
    let Some(base) = scheme.strip_suffix("+sentinel") else {
        return Ok(None);
    };
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let service = segments.next().ok_or_else(|| {
        bad(format!(
            "sentinel URL `{input}` names no service: add /<service name>"
        ))
    })?;
    let service = percent_decode(service, false)
        .ok_or_else(|| bad("invalid percent-encoding in the service name"))?
        .into_owned();
    let db = segments.next().unwrap_or("0");
    if let Some(extra) = segments.next() {
        return Err(bad(format!(
            "unexpected `/{extra}` after the database in sentinel URL `{input}`"
        )));
    }
    let mut options = SentinelOptions::default();
    let mut node_query = Vec::new();
    for pair in query_pairs(query) {
        let pair = pair?;
        let value = pair.value;
        match pair.key.as_ref() {
            "role" => {
                options.role = match value.as_ref() {
                    "primary" | "master" => SentinelRole::Primary,
                    "replica" | "slave" => SentinelRole::Replica,
                    v => return Err(bad(format!("`role` must be primary or replica, got `{v}`"))),
                }
            }
            "sentinel_username" => options.username = Some(value.into_owned()),
            "sentinel_password" => options.password = Some(value.into_owned()),
            _ => node_query.push(pair.raw),
        }
    }
    let node_query = node_query.join("&");
    let mut sentinels = Vec::new();
    let mut node = None;
    for host in hosts.split(',').filter(|h| !h.is_empty()) {
        let with_port = match host.rsplit_once(':') {
            Some((_, port)) if !host.ends_with(']') && !port.is_empty() => host.to_owned(),
            _ => format!("{host}:26379"),
        };
        let config = parse(&format!("{base}://{userinfo}{with_port}/{db}?{node_query}"))?;
        match &config.address {
            Address::Tcp { .. } => sentinels.push(config.address.clone()),
            Address::Unix(_) => return Err(bad("a sentinel URL needs TCP hosts")),
        }
        node.get_or_insert(config);
    }
    let node = node.ok_or_else(|| bad(format!("sentinel URL `{input}` has no host")))?;
    options.tls = node.tls.clone();
    Ok(Some(SentinelUrl {
        node,
        sentinels,
        service,
        options,
    }))
}

/// What a sentinel URL says.
pub struct SentinelUrl {
    /// The data nodes' options.
    pub node: Config,
    /// The sentinels.
    pub sentinels: Vec<Address>,
    /// The service name.
    pub service: String,
    /// The sentinel options.
    pub options: SentinelOptions,
}

/// Parses a connection URL into a [`Config`].
pub fn parse(input: &str) -> Result<Config> {
    let url = split(input)?;
    let mut cfg = Config::default();
    let (tls, unix) = match url.scheme.as_str() {
        "redis" | "valkey" => (false, false),
        "rediss" | "valkeys" => (true, false),
        "unix" | "redis+unix" | "valkey+unix" => (false, true),
        other => {
            return Err(bad(format!(
                "unsupported URL scheme `{other}` (use redis, rediss, valkey, valkeys, unix, redis+unix)"
            )))
        }
    };
    let decode = |s: &str| -> Result<String> {
        percent_decode(s, false)
            .map(|s| s.into_owned())
            .ok_or_else(|| bad("invalid percent-encoding in the URL credentials"))
    };
    if !url.username.is_empty() {
        cfg.username = Some(decode(url.username)?);
    }
    if let Some(p) = url.password {
        cfg.password = Some(decode(p)?);
    }
    if unix {
        if !url.host.is_empty() || url.port.is_some() {
            return Err(bad(format!(
                "a unix URL names no host (`{input}`): unix:///path/to/socket"
            )));
        }
        if url.path.is_empty() || url.path == "/" {
            return Err(bad(
                "a unix URL needs a socket path: unix:///path/to/socket",
            ));
        }
        let path = percent_decode(url.path, false)
            .ok_or_else(|| bad("invalid percent-encoding in the socket path"))?;
        cfg.address = Address::Unix(PathBuf::from(path.as_ref()));
    } else {
        if url.host.is_empty() {
            return Err(bad(format!("URL `{input}` has no host")));
        }
        cfg.address = Address::Tcp {
            host: url.host.to_owned(),
            port: url.port.unwrap_or(6379),
        };
        let db = url.path.trim_start_matches('/');
        if !db.is_empty() {
            cfg.database = database(db).map_err(|_| {
                bad(format!(
                    "the URL path must be a database number, got `/{db}`"
                ))
            })?;
        }
    }
    let mut tls_opts = TlsOptions::default();
    // `client_cache=false` turns it off whatever other `client_cache_*` say.
    let mut client_cache = None;
    for pair in query_pairs(url.query) {
        let pair = pair?;
        let (key, v) = (pair.key, pair.value.as_ref());
        match key.as_ref() {
            "db" => {
                cfg.database = database(v).map_err(|_| {
                    bad(format!("`db` must be a non-negative number, got `{v}`"))
                })?
            }
            "protocol" | "resp" => {
                cfg.protocol = match v {
                    "2" | "resp2" => Protocol::Resp2,
                    "3" | "resp3" => Protocol::Resp3,
                    _ => return Err(bad(format!("`protocol` must be 2 or 3, got `{v}`"))),
                }
            }
            "client_name" | "name" => cfg.client_name = Some(v.to_owned()),
            "username" | "user" => cfg.username = Some(v.to_owned()),
            "password" => cfg.password = Some(v.to_owned()),
            "connect_timeout" => cfg.connect_timeout = Some(duration(&key, v)?),
            "timeout" | "request_timeout" | "response_timeout" => {
                cfg.request_timeout = Some(duration(&key, v)?)
            }
            "keepalive" => {
                let d = duration(&key, v)?;
                cfg.keepalive = match d.is_zero() {
                    true => None,
                    false => Some(keepalive_time(d, &format_args!("`{v}`"))?),
                };
            }
            "pool_size" | "max_connections" => cfg.pool.max_size = positive(&key, v)?,
            "pool_timeout" => cfg.pool.wait_timeout = optional(&key, v)?,
            "pool_idle_timeout" => cfg.pool.idle_timeout = optional(&key, v)?,
            "health_check_interval" => cfg.pool.health_check_interval = duration(&key, v)?,
            "liveness_timeout" => cfg.liveness_timeout = optional(&key, v)?,
            "hold_unsent" => {
                cfg.hold_unsent = match v {
                    "auto" => HoldUnsent::Auto,
                    "no" | "false" | "off" => HoldUnsent::No,
                    _ => match duration(&key, v) {
                        Ok(d) if d.is_zero() => HoldUnsent::No,
                        Ok(d) => HoldUnsent::For(d),
                        Err(_) => {
                            return Err(bad(format!(
                                "`hold_unsent` must be auto, no or a duration in seconds, got `{v}`"
                            )))
                        }
                    },
                }
            }
            "queue_size" | "max_queued_requests" => cfg.queue.capacity = positive(&key, v)?,
            "client_cache" => client_cache = Some(boolean(&key, v)?),
            "client_cache_entries" => {
                cfg.tracking.get_or_insert_default().max_entries = positive(&key, v)?
            }
            "client_cache_bytes" => {
                cfg.tracking.get_or_insert_default().max_bytes = positive(&key, v)?
            }
            "client_cache_ttl" => cfg.tracking.get_or_insert_default().ttl = optional(&key, v)?,
            "client_cache_bcast" => {
                let prefixes = v.split(',').filter(|p| !p.is_empty()).map(|p| p.to_owned());
                let options = cfg.tracking.take().unwrap_or_default().broadcast(prefixes);
                cfg.tracking = Some(options);
            }
            "queue_full" => {
                cfg.queue.when_full = match v {
                    "wait" => QueueFull::Wait,
                    "fail" => QueueFull::Fail,
                    _ => return Err(bad(format!("`queue_full` must be wait or fail, got `{v}`"))),
                }
            }
            "ca" | "ca_file" | "tls_ca" => tls_opts.ca_file = Some(PathBuf::from(v)),
            "cert" | "cert_file" | "tls_cert" => tls_opts.cert_file = Some(PathBuf::from(v)),
            "key" | "key_file" | "tls_key" => tls_opts.key_file = Some(PathBuf::from(v)),
            "insecure" | "tls_insecure" => tls_opts.insecure = boolean(&key, v)?,
            "server_name" | "sni" => tls_opts.server_name = Some(v.to_owned()),
            other => {
                return Err(bad(format!(
                    "unknown URL option `{other}` (known: db, protocol, client_name, username, password, connect_timeout, timeout, keepalive, pool_size, pool_timeout, pool_idle_timeout, health_check_interval, liveness_timeout, hold_unsent, queue_size, queue_full, client_cache, client_cache_entries, client_cache_bytes, client_cache_ttl, client_cache_bcast, ca, cert, key, insecure, server_name)"
                )))
            }
        }
    }
    match client_cache {
        Some(true) => drop(cfg.tracking.get_or_insert_default()),
        Some(false) => cfg.tracking = None,
        None => {}
    }
    if tls {
        #[cfg(not(feature = "tls"))]
        return Err(super::tls_unavailable());
        #[cfg(feature = "tls")]
        {
            cfg.tls = Some(tls_opts);
        }
    } else if tls_opts != TlsOptions::default() {
        return Err(bad("TLS options need a rediss:// or valkeys:// URL"));
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_urls_give_every_seed_and_the_shared_options() {
        let (c, seeds) = parse_cluster("redis+cluster://u:p@h1:7000,h2,[::1]:7002/?protocol=2")
            .unwrap()
            .unwrap();
        assert_eq!(seeds, ["h1:7000", "h2:6379", "[::1]:7002"]);
        assert_eq!(c.username.as_deref(), Some("u"));
        assert_eq!(c.password.as_deref(), Some("p"));
        assert_eq!(c.protocol, crate::config::Protocol::Resp2);
        assert!(parse_cluster("redis://h").unwrap().is_none());
        assert!(parse_cluster("redis+cluster://").is_err());
        assert!(parse_cluster("redis+cluster://h?bogus=1").is_err());
    }

    #[test]
    fn tcp_urls() {
        let c = parse("redis://127.0.0.1:7000/3").unwrap();
        assert_eq!(
            c.address,
            Address::Tcp {
                host: "127.0.0.1".into(),
                port: 7000
            }
        );
        assert_eq!(c.database, 3);
        assert!(c.tls.is_none());
        let c = parse("valkey://localhost").unwrap();
        assert_eq!(c.address.to_string(), "localhost:6379");
        let c = parse("redis://[::1]:6380").unwrap();
        assert_eq!(c.address.to_string(), "[::1]:6380");
    }

    #[test]
    fn credentials_and_options() {
        let c = parse(
            "redis://alice:p%40ss@h:1/0?protocol=2&client_name=app&timeout=250ms&connect_timeout=2",
        )
        .unwrap();
        assert_eq!(c.username.as_deref(), Some("alice"));
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        assert_eq!(c.protocol, Protocol::Resp2);
        assert_eq!(c.client_name.as_deref(), Some("app"));
        assert_eq!(c.request_timeout, Some(Duration::from_millis(250)));
        assert_eq!(c.connect_timeout, Some(Duration::from_secs(2)));
        let c = parse("redis://:secret@h").unwrap();
        assert_eq!(c.username, None);
        assert_eq!(c.password.as_deref(), Some("secret"));
    }

    #[test]
    fn pool_options() {
        let c = parse(
            "redis://h?pool_size=4&pool_timeout=250ms&pool_idle_timeout=none&health_check_interval=0",
        )
        .unwrap();
        assert_eq!(c.pool.max_size, 4);
        assert_eq!(c.pool.wait_timeout, Some(Duration::from_millis(250)));
        assert_eq!(c.pool.idle_timeout, None);
        assert_eq!(c.pool.health_check_interval, Duration::ZERO);
        let d = parse("redis://h").unwrap();
        assert_eq!(d.pool, crate::config::PoolOptions::default());
        rejected_naming_the_option(&["pool_size=0", "pool_size=x", "pool_timeout=soon"]);
    }

    /// Each `key=value` is a configuration error naming `key`.
    fn rejected_naming_the_option(options: &[&str]) {
        for bad in options {
            let e = parse(&format!("redis://h?{bad}")).unwrap_err();
            assert!(e.is_config(), "{bad}");
            assert!(
                e.to_string().contains(bad.split('=').next().unwrap()),
                "{e}"
            );
        }
    }

    #[test]
    fn queue_and_liveness_options() {
        let c = parse("redis://h?queue_size=16&queue_full=fail&liveness_timeout=2.5").unwrap();
        assert_eq!(c.queue.capacity, 16);
        assert_eq!(c.queue.when_full, QueueFull::Fail);
        assert_eq!(c.liveness_timeout, Some(Duration::from_millis(2500)));
        let c = parse("redis://h?liveness_timeout=none").unwrap();
        assert_eq!(c.liveness_timeout, None);
        rejected_naming_the_option(&["queue_size=0", "queue_full=maybe", "liveness_timeout=soon"]);
    }

    #[test]
    fn hold_unsent_is_auto_no_or_a_duration() {
        let hold = |q: &str| {
            parse(&format!("redis://h?hold_unsent={q}"))
                .unwrap()
                .hold_unsent
        };
        assert_eq!(parse("redis://h").unwrap().hold_unsent, HoldUnsent::Auto);
        assert_eq!(hold("auto"), HoldUnsent::Auto);
        assert_eq!(hold("no"), HoldUnsent::No);
        assert_eq!(hold("0"), HoldUnsent::No);
        assert_eq!(hold("2.5"), HoldUnsent::For(Duration::from_millis(2500)));
        assert_eq!(hold("300ms"), HoldUnsent::For(Duration::from_millis(300)));
        rejected_naming_the_option(&["hold_unsent=maybe", "hold_unsent=-1"]);
        // Auto holds only where a new node is expected (sentinels).
        assert_eq!(HoldUnsent::Auto.limit(false), None);
        assert_eq!(
            HoldUnsent::Auto.limit(true),
            Some(super::super::DEFAULT_HOLD_UNSENT)
        );
        assert_eq!(HoldUnsent::For(Duration::ZERO).limit(true), None);
    }

    #[test]
    #[cfg(feature = "tls")]
    fn tls() {
        let c = parse("rediss://h:6380?ca=/tmp/ca.pem&insecure=true").unwrap();
        let t = c.tls.unwrap();
        assert_eq!(t.ca_file, Some(PathBuf::from("/tmp/ca.pem")));
        assert!(t.insecure);
        assert!(parse("valkeys://h").unwrap().tls.is_some());
    }

    /// Without the `tls` feature, a TLS URL or TLS options are a configuration
    /// error naming the feature, never a panic.
    #[test]
    #[cfg(not(feature = "tls"))]
    fn tls_without_the_feature_names_it() {
        for url in ["rediss://h:6380", "valkeys://h?insecure=true"] {
            let e = parse(url).unwrap_err();
            assert!(e.is_config(), "{url}: {e}");
            assert!(e.to_string().contains("`tls` feature"), "{url}: {e}");
        }
        let e = crate::Client::builder()
            .url("redis://h")
            .tls(crate::connection::TlsOptions::default())
            .build()
            .unwrap_err();
        assert!(
            e.is_config() && e.to_string().contains("`tls` feature"),
            "{e}"
        );
    }

    #[test]
    fn unix() {
        let c = parse("unix:///tmp/redis.sock?db=2").unwrap();
        assert_eq!(c.address, Address::Unix("/tmp/redis.sock".into()));
        assert_eq!(c.database, 2);
        assert!(matches!(
            parse("redis+unix:///var/run/v.sock").unwrap().address,
            Address::Unix(_)
        ));
    }

    #[test]
    fn errors_name_the_problem() {
        for (url, needle) in [
            ("http://h", "scheme"),
            ("redis://h/x", "database"),
            ("redis://h?protocol=4", "protocol"),
            ("redis://h?bogus=1", "unknown URL option `bogus`"),
            ("redis://h?ca=/x", "rediss"),
            ("redis://h?timeout=-1", "timeout"),
            ("unix://", "socket path"),
        ] {
            let e = parse(url).unwrap_err();
            assert!(e.is_config(), "{url}");
            assert!(e.to_string().contains(needle), "{url}: {e}");
        }
    }

    /// Prints the message a bad input gets (run with `--nocapture` to read them).
    fn rejected(url: &str) -> String {
        let e = parse(url).unwrap_err();
        assert!(e.is_config(), "{url}: {e}");
        let text = e.to_string();
        println!("{url}\n    -> {text}");
        text
    }

    #[test]
    fn durations_too_large_for_a_duration_are_errors_naming_the_option() {
        // Every duration option at and above the value that used to panic
        // (`Duration::from_secs_f64` past ~1.8e19 seconds).
        for key in [
            "timeout",
            "request_timeout",
            "connect_timeout",
            "pool_timeout",
            "pool_idle_timeout",
            "health_check_interval",
            "liveness_timeout",
        ] {
            for v in ["1e20", "1e30", "1e300", "18446744073709551616", "1e30ms"] {
                let text = rejected(&format!("redis://h:6379?{key}={v}"));
                assert!(text.contains(&format!("`{key}` is too large")), "{text}");
                assert!(text.contains(v), "{text}");
            }
            // The largest that fits is accepted.
            parse(&format!("redis://h?{key}=1e19")).unwrap();
        }
        for v in ["1e20", "1e30", "1e300"] {
            let text = rejected(&format!("redis://h:6379?keepalive={v}"));
            assert!(text.contains("`keepalive` is too large"), "{text}");
        }
    }

    #[test]
    fn keepalive_outside_the_tcp_range_is_an_error_naming_it() {
        for v in ["1e10", "32768", "40000s", "1e19"] {
            let text = rejected(&format!("redis://h?keepalive={v}"));
            assert!(
                text.contains("`keepalive` must be between 1 and 32767 seconds"),
                "{text}"
            );
            assert!(text.contains(&format!("`{v}`")), "{text}");
        }
        // Whole seconds, rounded up: a positive value never becomes 0.
        for (v, secs) in [
            ("32767", 32767),
            ("1", 1),
            ("0.5", 1),
            ("1ms", 1),
            ("1.5", 2),
        ] {
            let c = parse(&format!("redis://h?keepalive={v}")).unwrap();
            assert_eq!(c.keepalive, Some(Duration::from_secs(secs)), "{v}");
        }
        assert_eq!(parse("redis://h?keepalive=0").unwrap().keepalive, None);
    }

    #[test]
    fn other_bad_input_is_an_error_not_a_panic() {
        for (url, needle) in [
            // `%+1` was decoded as byte 1 (`from_str_radix` takes a sign).
            ("redis://%+1:p@h", "percent-encoding"),
            ("redis://u:%2@h", "percent-encoding"),
            ("redis://u:%ff@h", "percent-encoding"),
            ("redis://h/-1", "database number"),
            ("redis://h/+1", "database number"),
            ("redis://h/99999999999999999999", "database number"),
            ("redis://h?db=-1", "`db` must be a non-negative number"),
            ("redis://h:65536", "invalid URL"),
            ("redis://h:-1", "invalid URL"),
            ("redis://", "has no host"),
            ("redis://:p@", "has no host"),
            ("unix://h/tmp/s.sock", "names no host"),
            ("redis://h?timeout=nan", "`timeout`"),
            ("redis://h?timeout=inf", "`timeout`"),
            ("redis://h?pool_size=99999999999999999999999", "`pool_size`"),
        ] {
            let text = rejected(url);
            assert!(text.contains(needle), "{url}: {text}");
        }
        assert_eq!(
            parse("redis://u%3A:p%40@h").unwrap().username.as_deref(),
            Some("u:")
        );
    }
}

#[cfg(test)]
mod sentinel_tests {
    use super::*;

    #[test]
    fn a_sentinel_url_gives_the_sentinels_the_service_and_both_credentials() {
        let s = parse_sentinel(
            "redis+sentinel://u:p@s1:1,s2,[::1]:3/my%20service/2?role=replica&sentinel_password=sp&timeout=5",
        )
        .unwrap()
        .unwrap();
        let ports: Vec<String> = s.sentinels.iter().map(|a| a.to_string()).collect();
        assert_eq!(ports, ["s1:1", "s2:26379", "[::1]:3"]);
        assert_eq!(s.service, "my service");
        assert_eq!(s.node.database, 2);
        assert_eq!(s.node.username.as_deref(), Some("u"));
        assert_eq!(s.node.password.as_deref(), Some("p"));
        assert_eq!(s.node.request_timeout, Some(Duration::from_secs(5)));
        assert_eq!(s.options.role, SentinelRole::Replica);
        assert_eq!(s.options.password.as_deref(), Some("sp"));
        assert_eq!(s.options.username, None);
        assert!(parse_sentinel("redis://h:1").unwrap().is_none());
    }

    #[test]
    fn a_bad_sentinel_url_says_what_is_wrong() {
        for (url, says) in [
            ("redis+sentinel://s1:1", "names no service"),
            ("redis+sentinel://s1:1/m?role=boss", "`role`"),
            ("redis+sentinel://s1:1/m/x", "database"),
            ("redis+sentinel://s1:1/m/0/extra", "unexpected `/extra`"),
            ("redis+sentinel:///m", "no host"),
            (
                "redis+sentinel://s1:1/m?bogus=1",
                "unknown URL option `bogus`",
            ),
        ] {
            let err = parse_sentinel(url)
                .err()
                .unwrap_or_else(|| panic!("{url} parsed"));
            assert!(err.to_string().contains(says), "{url}: {err}");
        }
    }

    /// `cluster=` is taken out of the query, the other options left as they were.
    #[test]
    fn cluster_option_is_taken_out_of_the_query() {
        let take = |url: &str| take_cluster_option(url).map_err(|e| e.to_string());
        assert_eq!(
            take("redis://h:1?cluster=auto&client_name=a%20b").unwrap(),
            (
                "redis://h:1?client_name=a%20b".to_owned(),
                ClusterOption::Auto
            )
        );
        assert_eq!(
            take("redis://h?protocol=2&cluster=yes").unwrap(),
            ("redis://h?protocol=2".to_owned(), ClusterOption::On)
        );
        assert_eq!(
            take("redis://h?cluster=false").unwrap(),
            ("redis://h".to_owned(), ClusterOption::Off)
        );
        assert_eq!(
            take("redis://h/0").unwrap(),
            ("redis://h/0".to_owned(), ClusterOption::Off)
        );
        assert!(take("redis://h?cluster=maybe")
            .unwrap_err()
            .contains("`cluster` must be auto, true or false"));
        assert!(take("redis+cluster://h?cluster=auto")
            .unwrap_err()
            .contains("single-server URL"));
        // Off says nothing about the scheme.
        assert!(take("redis+cluster://h?cluster=false").is_ok());
    }
}
