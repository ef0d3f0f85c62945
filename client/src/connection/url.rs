//! URL parsing: `redis://`, `rediss://`, `valkey://`, `valkeys://`, `unix://`,
//! `redis+unix://`, `valkey+unix://`.

use super::config::{Address, Config, Protocol, TlsOptions};
use crate::error::{Error, Result};
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
    Ok(Duration::from_secs_f64(secs * scale))
}

/// A duration, or `none` for no limit.
fn optional(key: &str, v: &str) -> Result<Option<Duration>> {
    match v {
        "none" | "never" => Ok(None),
        _ => duration(key, v).map(Some),
    }
}

fn boolean(key: &str, v: &str) -> Result<bool> {
    match v {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(bad(format!("`{key}` must be true or false, got `{v}`"))),
    }
}

/// Parses a connection URL into a [`Config`].
pub fn parse(input: &str) -> Result<Config> {
    let url = url::Url::parse(input).map_err(|e| bad(format!("invalid URL `{input}`: {e}")))?;
    let mut cfg = Config::default();
    let (tls, unix) = match url.scheme() {
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
        percent_decode(s).ok_or_else(|| bad("invalid percent-encoding in the URL credentials"))
    };
    if !url.username().is_empty() {
        cfg.username = Some(decode(url.username())?);
    }
    if let Some(p) = url.password() {
        cfg.password = Some(decode(p)?);
    }
    if unix {
        let path = url.path();
        if path.is_empty() || path == "/" {
            return Err(bad(
                "a unix URL needs a socket path: unix:///path/to/socket",
            ));
        }
        cfg.address = Address::Unix(PathBuf::from(decode(path)?));
    } else {
        let host = url
            .host_str()
            .ok_or_else(|| bad(format!("URL `{input}` has no host")))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        cfg.address = Address::Tcp {
            host,
            port: url.port().unwrap_or(6379),
        };
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() {
            cfg.database = db.parse().map_err(|_| {
                bad(format!(
                    "the URL path must be a database number, got `/{db}`"
                ))
            })?;
        }
    }
    let mut tls_opts = TlsOptions::default();
    for (key, value) in url.query_pairs() {
        let v = value.as_ref();
        match key.as_ref() {
            "db" => {
                cfg.database = v
                    .parse()
                    .map_err(|_| bad(format!("`db` must be a number, got `{v}`")))?
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
                cfg.keepalive = (!d.is_zero()).then_some(d);
            }
"pool_size" | "max_connections" => {
                cfg.pool.max_size = match v.parse() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(bad(format!("`{key}` must be a positive number, got `{v}`"))),
                }
            }
            "pool_timeout" => cfg.pool.wait_timeout = optional(&key, v)?,
            "pool_idle_timeout" => cfg.pool.idle_timeout = optional(&key, v)?,
            "health_check_interval" => cfg.pool.health_check_interval = duration(&key, v)?,
            "ca" | "ca_file" | "tls_ca" => tls_opts.ca_file = Some(PathBuf::from(v)),
            "cert" | "cert_file" | "tls_cert" => tls_opts.cert_file = Some(PathBuf::from(v)),
            "key" | "key_file" | "tls_key" => tls_opts.key_file = Some(PathBuf::from(v)),
            "insecure" | "tls_insecure" => tls_opts.insecure = boolean(&key, v)?,
            "server_name" | "sni" => tls_opts.server_name = Some(v.to_owned()),
            other => {
                return Err(bad(format!(
                    "unknown URL option `{other}` (known: db, protocol, client_name, username, password, connect_timeout, timeout, keepalive, pool_size, pool_timeout, pool_idle_timeout, health_check_interval, ca, cert, key, insecure, server_name)"
                )))
            }
        }
    }
    if tls {
        cfg.tls = Some(tls_opts);
    } else if tls_opts != TlsOptions::default() {
        return Err(bad("TLS options need a rediss:// or valkeys:// URL"));
    }
    Ok(cfg)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(d.pool, crate::pool::PoolOptions::default());
        for bad in ["pool_size=0", "pool_size=x", "pool_timeout=soon"] {
            let e = parse(&format!("redis://h?{bad}")).unwrap_err();
            assert!(e.is_config(), "{bad}");
            assert!(
                e.to_string().contains(bad.split('=').next().unwrap()),
                "{e}"
            );
        }
    }

    #[test]
    fn tls_and_unix() {
        let c = parse("rediss://h:6380?ca=/tmp/ca.pem&insecure=true").unwrap();
        let t = c.tls.unwrap();
        assert_eq!(t.ca_file, Some(PathBuf::from("/tmp/ca.pem")));
        assert!(t.insecure);
        assert!(parse("valkeys://h").unwrap().tls.is_some());
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
}
