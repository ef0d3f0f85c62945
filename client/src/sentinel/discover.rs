//! Asking one sentinel about a service: its primary, its replicas, the other
//! sentinels. The replies are read from [`Value`]s, so they are the same under RESP2
//! (flat field lists) and RESP3 (maps).

use crate::client::Client;
use crate::config::Address;
use crate::error::{Error, Result};
use crate::reply::Value;

/// What the sentinels say about a service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// The primary (`None` before the first answer).
    pub(crate) primary: Option<Address>,
    /// The replicas the sentinels do not flag as down or disconnected.
    pub(crate) replicas: Vec<Address>,
    /// The primary is the replica the sentinels selected for a failover, whose
    /// promotion they have not confirmed yet (see `Service::selected`).
    pub(crate) promoting: bool,
}

/// Asks `sentinel` for the primary of `service` (and, with `replicas`, its usable
/// replicas), with the `PRIMARY` spellings first and the `MASTER` ones on servers
/// that lack them.
pub(crate) async fn ask(sentinel: &Client, service: &str, replicas: bool) -> Result<Snapshot> {
    let reply = modern_or_legacy(
        sentinel,
        ["GET-PRIMARY-ADDR-BY-NAME", "GET-MASTER-ADDR-BY-NAME"],
        service,
    )
    .await?;
    let primary = match reply {
        Value::Nil => {
            return Err(Error::config(format!(
                "the sentinels do not know the service `{service}` (SENTINEL GET-PRIMARY-ADDR-BY-NAME answered nil)"
            )))
        }
        Value::Array(items) => address_of(&items).ok_or_else(|| unexpected("an address", &items))?,
        other => return Err(unexpected("an address", &[other])),
    };
    let replicas = if replicas {
        let Value::Array(entries) =
            modern_or_legacy(sentinel, ["REPLICAS", "SLAVES"], service).await?
        else {
            return Err(Error::decode("a list of replicas", "another reply"));
        };
        entries.iter().filter_map(usable_replica).collect()
    } else {
        Vec::new()
    };
    Ok(Snapshot {
        primary: Some(primary),
        replicas,
        promoting: false,
    })
}

/// The other sentinels watching `service`, as `SENTINEL SENTINELS` lists them.
pub(crate) async fn sentinels(sentinel: &Client, service: &str) -> Result<Vec<Address>> {
    let reply: Value = sentinel
        .cmd("SENTINEL")
        .arg("SENTINELS")
        .arg(service)
        .decode()
        .await?;
    let Value::Array(entries) = reply else {
        return Ok(Vec::new());
    };
    Ok(entries
        .iter()
        .filter_map(|e| {
            let fields = Fields::of(e)?;
            (!fields.flagged_down()).then(|| fields.address())?
        })
        .collect())
}

/// `SENTINEL <modern> <service>`, or `SENTINEL <legacy> <service>` when the server
/// does not know the modern spelling (Redis, and Valkey before the rename).
async fn modern_or_legacy(
    sentinel: &Client,
    [modern, legacy]: [&'static str; 2],
    service: &str,
) -> Result<Value> {
    let ask = |sub: &'static str| {
        sentinel
            .cmd("SENTINEL")
            .arg(sub)
            .arg(service)
            .decode::<Value>()
    };
    match ask(modern).await {
        Err(e) if is_unknown_subcommand(&e) => ask(legacy).await,
        other => other,
    }
}

fn is_unknown_subcommand(e: &Error) -> bool {
    e.server_error().is_some_and(|s| {
        let text = s.text().to_ascii_lowercase();
        text.contains("unknown") || text.contains("syntax")
    })
}

fn unexpected(what: &'static str, got: &[Value]) -> Error {
    Error::decode(what, format!("{got:?}"))
}

/// `[ip, port]`.
fn address_of(items: &[Value]) -> Option<Address> {
    let [host, port] = items else { return None };
    Some(Address::Tcp {
        host: text(host)?.to_owned(),
        port: text(port)?.parse().ok()?,
    })
}

fn text(v: &Value) -> Option<&str> {
    std::str::from_utf8(v.as_bytes()?).ok()
}

/// A replica entry of `SENTINEL REPLICAS` that is neither flagged down nor
/// disconnected: its address.
fn usable_replica(entry: &Value) -> Option<Address> {
    let fields = Fields::of(entry)?;
    if fields.flagged_down() {
        return None;
    }
    fields.address()
}

/// The fields of one entry of `SENTINEL REPLICAS` / `SENTINELS` (a map under RESP3,
/// a flat name/value list under RESP2).
struct Fields<'a>(Vec<(&'a Value, &'a Value)>);

impl<'a> Fields<'a> {
    fn of(entry: &'a Value) -> Option<Self> {
        match entry {
            Value::Map(pairs) => Some(Fields(pairs.iter().map(|(k, v)| (k, v)).collect())),
            Value::Array(items) => Some(Fields(
                items.chunks_exact(2).map(|p| (&p[0], &p[1])).collect(),
            )),
            _ => None,
        }
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(k, _)| text(k) == Some(name))
            .and_then(|(_, v)| text(v))
    }

    fn address(&self) -> Option<Address> {
        Some(Address::Tcp {
            host: self.get("ip")?.to_owned(),
            port: self.get("port")?.parse().ok()?,
        })
    }

    /// Flagged down (subjectively or objectively) or disconnected.
    fn flagged_down(&self) -> bool {
        self.get("flags").is_some_and(|flags| {
            flags
                .split(',')
                .any(|f| matches!(f, "s_down" | "o_down" | "disconnected"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn bulk(s: &str) -> Value {
        Value::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn replicas_flagged_down_or_disconnected_are_left_out_under_both_protocols() {
        for (port, flags, usable) in [
            ("1", "slave", true),
            ("2", "s_down,slave", false),
            ("3", "slave,disconnected", false),
            ("4", "o_down,slave", false),
        ] {
            let fields = [("ip", "127.0.0.1"), ("port", port), ("flags", flags)];
            let resp2 = Value::Array(
                fields
                    .iter()
                    .flat_map(|(k, v)| [bulk(k), bulk(v)])
                    .collect(),
            );
            let resp3 = Value::Map(fields.iter().map(|(k, v)| (bulk(k), bulk(v))).collect());
            let want = usable.then(|| Address::Tcp {
                host: "127.0.0.1".into(),
                port: port.parse().unwrap(),
            });
            assert_eq!(usable_replica(&resp2), want, "{flags}");
            assert_eq!(usable_replica(&resp3), want, "{flags}");
        }
        assert_eq!(usable_replica(&Value::Int(1)), None);
        assert_eq!(usable_replica(&Value::Array(vec![bulk("ip")])), None);
    }

    #[test]
    fn an_address_reply_is_two_fields() {
        assert_eq!(
            address_of(&[bulk("10.0.0.1"), bulk("6380")]),
            Some(Address::Tcp {
                host: "10.0.0.1".into(),
                port: 6380
            })
        );
        assert_eq!(address_of(&[bulk("10.0.0.1"), bulk("x")]), None);
        assert_eq!(address_of(&[bulk("10.0.0.1")]), None);
    }
}
