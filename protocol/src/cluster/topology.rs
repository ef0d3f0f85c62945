//! The cluster's shape as one node reports it: `CLUSTER SHARDS` (Redis 7+, Valkey),
//! or `CLUSTER SLOTS` on servers without it, in RESP2 or RESP3 alike. Endpoints
//! follow the node's announced preference (`endpoint`: IP, hostname or the
//! configured one); an unknown endpoint (`?`, or empty) means "the node you asked".

use super::slot::SLOTS;
use crate::error::{Error, Result};
use crate::reply::{decode_frame, Value};
use bytes::Bytes;

/// One node as the topology lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its node id (40 hex characters), when the reply gives it.
    pub id: Option<String>,
    /// `host:port` to connect to.
    pub address: String,
    /// Whether it serves its shard's slots (rather than replicating them).
    pub primary: bool,
    /// Whether it is usable: not `failed` or `loading` (`CLUSTER SHARDS` `health`).
    pub healthy: bool,
    /// Its availability zone, when the server reports one (Valkey's
    /// `availability-zone`).
    pub zone: Option<String>,
}

/// One shard: slot ranges, the primary serving them and its replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// Inclusive slot ranges.
    pub slots: Vec<(u16, u16)>,
    /// The primary.
    pub primary: Node,
    /// The replicas.
    pub replicas: Vec<Node>,
}

/// The shards of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// Every shard that serves slots, in the order the node listed them.
    pub shards: Vec<Shard>,
    /// The node listed replicas it does not count yet: not `online` (loading, or
    /// their offset not yet gossiped), or in a shard of their own without a primary
    /// (just attached, their shard id not yet gossiped). A client asks again soon
    /// rather than at its periodic refresh, to use them once they count.
    pub settling: bool,
}

/// The shard index of each slot ([`Topology::slot_table`]); `NONE` for a slot no
/// shard serves.
pub const NONE: u16 = u16::MAX;

impl Topology {
    /// Reads a `CLUSTER SHARDS` reply from the node at `asked` (`host:port`; its host
    /// stands for an unknown endpoint).
    pub fn from_shards(frame: Bytes, asked: &str) -> Result<Topology> {
        let bad = |what: &str| Error::decode("a CLUSTER SHARDS reply", what.to_owned());
        let shards = match decode_frame::<Value>(frame)? {
            Value::Array(items) | Value::Set(items) => items,
            other => return Err(bad(&format!("{other:?}"))),
        };
        let mut out = Vec::new();
        let mut settling = false;
        for shard in shards {
            let mut slots = Vec::new();
            let mut nodes = Vec::new();
            for (key, value) in fields(shard) {
                match &key[..] {
                    b"slots" => {
                        let bounds: Vec<i64> =
                            items(value).into_iter().filter_map(|v| int(&v)).collect();
                        for pair in bounds.chunks(2) {
                            if let [start, end] = *pair {
                                slots.push((slot_number(start)?, slot_number(end)?));
                            }
                        }
                    }
                    b"nodes" => {
                        for node in items(value) {
                            nodes.push(shard_node(node, asked)?);
                        }
                    }
                    _ => {}
                }
            }
            settling |= nodes.iter().any(|n| !n.primary && !n.healthy);
            if slots.is_empty() {
                // Replicas without a primary: attached, but not yet known as such.
                settling |= !nodes.is_empty() && nodes.iter().all(|n| !n.primary);
                continue;
            }
            // After a failover the old primary may still be listed as one: failed
            // (the healthy primary serves the slots), or, just after a manual
            // failover, online, until the node asked hears that it stepped down. The
            // node asked knows whether it serves the slots itself (a refresh after a
            // `MOVED` asks the node it names first), so it is taken when it is one of
            // the shard's primaries.
            let Some(at) = nodes
                .iter()
                .position(|n| n.primary && n.healthy && n.address == asked)
                .or_else(|| nodes.iter().position(|n| n.primary && n.healthy))
                .or_else(|| nodes.iter().position(|n| n.primary))
            else {
                continue;
            };
            let primary = nodes.remove(at);
            out.push(Shard {
                slots,
                primary,
                replicas: nodes,
            });
        }
        Ok(Topology {
            shards: out,
            settling,
        })
    }

    /// Reads a `CLUSTER SLOTS` reply from the node at `asked`.
    pub fn from_slots(frame: Bytes, asked: &str) -> Result<Topology> {
        let bad = |what: &str| Error::decode("a CLUSTER SLOTS reply", what.to_owned());
        let ranges = match decode_frame::<Value>(frame)? {
            Value::Array(items) => items,
            other => return Err(bad(&format!("{other:?}"))),
        };
        let mut shards: Vec<Shard> = Vec::new();
        for range in ranges {
            let mut parts = items(range).into_iter();
            let (Some(start), Some(end)) = (parts.next(), parts.next()) else {
                return Err(bad("a range without bounds"));
            };
            let (start, end) = match (int(&start), int(&end)) {
                (Some(s), Some(e)) => (slot_number(s)?, slot_number(e)?),
                _ => return Err(bad("non-integer bounds")),
            };
            let mut nodes = parts
                .map(|n| slots_node(n, asked))
                .collect::<Result<Vec<_>>>()?;
            if nodes.is_empty() {
                return Err(bad("a range without nodes"));
            }
            let mut primary = nodes.remove(0);
            primary.primary = true;
            match shards
                .iter_mut()
                .find(|s| s.primary.address == primary.address)
            {
                Some(s) => s.slots.push((start, end)),
                None => shards.push(Shard {
                    slots: vec![(start, end)],
                    primary,
                    replicas: nodes,
                }),
            }
        }
        Ok(Topology {
            shards,
            settling: false,
        })
    }

    /// For each slot, the index of the shard serving it ([`NONE`]: none does).
    pub fn slot_table(&self) -> Vec<u16> {
        let mut table = vec![NONE; SLOTS as usize];
        for (i, shard) in self.shards.iter().enumerate() {
            for &(start, end) in &shard.slots {
                for s in start..=end.min(SLOTS - 1) {
                    table[s as usize] = i as u16;
                }
            }
        }
        table
    }

    /// How many slots some shard serves.
    pub fn covered(&self) -> usize {
        self.slot_table().iter().filter(|&&s| s != NONE).count()
    }
}

fn slot_number(n: i64) -> Result<u16> {
    u16::try_from(n)
        .ok()
        .filter(|&s| s < SLOTS)
        .ok_or_else(|| Error::decode("a slot number (0 to 16383)", n.to_string()))
}

/// The key/value pairs of a map, or of a RESP2 flat array of alternating keys and
/// values.
fn fields(v: Value) -> Vec<(Bytes, Value)> {
    match v {
        Value::Map(pairs) => pairs
            .into_iter()
            .filter_map(|(k, v)| text(&k).map(|k| (k, v)))
            .collect(),
        Value::Array(items) => {
            let mut out = Vec::new();
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                if let Some(k) = text(&k) {
                    out.push((k, v));
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) | Value::Set(items) => items,
        _ => Vec::new(),
    }
}

fn text(v: &Value) -> Option<Bytes> {
    match v {
        Value::Bulk(b) | Value::Simple(b) => Some(b.clone()),
        Value::Verbatim { text, .. } => Some(text.clone()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        other => text(other)?.as_ref().iter().try_fold(0i64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + (b - b'0') as i64)
        }),
    }
}

/// `host:port`, the host of `asked` standing in for an unknown one.
fn address(host: Option<Bytes>, port: i64, asked: &str) -> String {
    let host = host
        .map(|h| String::from_utf8_lossy(&h).into_owned())
        .filter(|h| !h.is_empty() && h != "?");
    let host = host.unwrap_or_else(|| match asked.rsplit_once(':') {
        Some((h, _)) => h.to_owned(),
        None => asked.to_owned(),
    });
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn shard_node(v: Value, asked: &str) -> Result<Node> {
    let (mut id, mut endpoint, mut ip, mut port, mut tls_port) = (None, None, None, None, None);
    let (mut primary, mut healthy, mut zone) = (false, true, None);
    for (key, value) in fields(v) {
        match &key[..] {
            b"id" => id = text(&value).map(|t| String::from_utf8_lossy(&t).into_owned()),
            b"endpoint" => endpoint = text(&value),
            b"ip" => ip = text(&value),
            b"port" => port = int(&value),
            b"tls-port" => tls_port = int(&value),
            b"role" => primary = matches!(text(&value).as_deref(), Some(b"master" | b"primary")),
            b"health" => healthy = text(&value).as_deref() == Some(b"online"),
            b"availability-zone" => {
                zone = text(&value)
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .filter(|z| !z.is_empty())
            }
            _ => {}
        }
    }
    let Some(port) = port.or(tls_port) else {
        return Err(Error::decode("a node with a port", "none"));
    };
    Ok(Node {
        id,
        address: address(endpoint.or(ip), port, asked),
        primary,
        healthy,
        zone,
    })
}

fn slots_node(v: Value, asked: &str) -> Result<Node> {
    let parts = items(v);
    let host = parts.first().and_then(text);
    let Some(port) = parts.get(1).and_then(int) else {
        return Err(Error::decode("a node with a port", "none"));
    };
    Ok(Node {
        id: parts
            .get(2)
            .and_then(text)
            .map(|t| String::from_utf8_lossy(&t).into_owned()),
        address: address(host, port, asked),
        primary: false,
        healthy: true,
        zone: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn shards_in_resp2_and_resp3() {
        let node = |role: &str, port: u16, endpoint: &str| {
            format!("*10\r\n$2\r\nid\r\n$3\r\nabc\r\n$4\r\nport\r\n:{port}\r\n$8\r\nendpoint\r\n${}\r\n{endpoint}\r\n$4\r\nrole\r\n${}\r\n{role}\r\n$6\r\nhealth\r\n$6\r\nonline\r\n", endpoint.len(), role.len())
        };
        let resp2 = format!(
            "*1\r\n*4\r\n$5\r\nslots\r\n*4\r\n:0\r\n:99\r\n:200\r\n:300\r\n$5\r\nnodes\r\n*2\r\n{}{}",
            node("replica", 7001, "10.0.0.2"),
            node("master", 7000, "?")
        );
        let t = Topology::from_shards(b(&resp2), "seed.example:7000").unwrap();
        assert_eq!(t.shards.len(), 1);
        assert_eq!(t.shards[0].slots, [(0, 99), (200, 300)]);
        assert_eq!(t.shards[0].primary.address, "seed.example:7000");
        assert_eq!(t.shards[0].replicas[0].address, "10.0.0.2:7001");
        assert_eq!(t.covered(), 201);
        let resp3 = "*1\r\n%2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n%3\r\n$4\r\nport\r\n:6379\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n";
        let t = Topology::from_shards(b(resp3), "x:1").unwrap();
        assert_eq!(t.shards[0].primary.address, "127.0.0.1:6379");
        assert_eq!(t.covered(), 16384);
    }

    #[test]
    fn the_healthy_primary_serves_after_a_failover() {
        let node = |role: &str, port: u16, health: &str| {
            format!("*8\r\n$4\r\nport\r\n:{port}\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n${}\r\n{role}\r\n$6\r\nhealth\r\n${}\r\n{health}\r\n", role.len(), health.len())
        };
        let reply = format!(
            "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*2\r\n{}{}",
            node("master", 7000, "failed"),
            node("master", 7001, "online")
        );
        let t = Topology::from_shards(b(&reply), "x:1").unwrap();
        assert_eq!(t.shards[0].primary.address, "127.0.0.1:7001");
        assert!(!t.shards[0].replicas[0].healthy);
    }

    #[test]
    fn the_node_asked_serves_when_two_online_primaries_share_a_shard() {
        // Just after a manual failover, the promoted replica lists its old primary
        // as a primary still, online, and first.
        let node = |port: u16| {
            format!("*8\r\n$4\r\nport\r\n:{port}\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$6\r\nhealth\r\n$6\r\nonline\r\n")
        };
        let reply = format!(
            "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*2\r\n{}{}",
            node(7000),
            node(7001)
        );
        let asked = |address: &str| {
            Topology::from_shards(b(&reply), address).unwrap().shards[0]
                .primary
                .address
                .clone()
        };
        assert_eq!(asked("127.0.0.1:7001"), "127.0.0.1:7001");
        assert_eq!(asked("127.0.0.1:7000"), "127.0.0.1:7000");
        // Asked elsewhere: the first listed.
        assert_eq!(asked("127.0.0.1:7002"), "127.0.0.1:7000");
    }

    #[test]
    fn replicas_not_counted_yet_make_the_map_settling() {
        let node = |role: &str, port: u16, health: &str| {
            format!("*8\r\n$4\r\nport\r\n:{port}\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n${}\r\n{role}\r\n$6\r\nhealth\r\n${}\r\n{health}\r\n", role.len(), health.len())
        };
        let shard = |slots: &str, nodes: &[String]| {
            format!(
                "*4\r\n$5\r\nslots\r\n{slots}$5\r\nnodes\r\n*{}\r\n{}",
                nodes.len(),
                nodes.concat()
            )
        };
        let all = "*2\r\n:0\r\n:16383\r\n";
        let settled = format!(
            "*1\r\n{}",
            shard(
                all,
                &[node("master", 1, "online"), node("replica", 2, "online")]
            )
        );
        assert!(!Topology::from_shards(b(&settled), "x:1").unwrap().settling);
        let loading = format!(
            "*1\r\n{}",
            shard(
                all,
                &[node("master", 1, "online"), node("replica", 2, "loading")]
            )
        );
        assert!(Topology::from_shards(b(&loading), "x:1").unwrap().settling);
        // A replica just attached, listed in a shard of its own.
        let stray = format!(
            "*2\r\n{}{}",
            shard(all, &[node("master", 1, "online")]),
            shard("*0\r\n", &[node("replica", 2, "online")])
        );
        let t = Topology::from_shards(b(&stray), "x:1").unwrap();
        assert!(t.settling);
        assert_eq!(t.shards.len(), 1);
        // An empty primary (a node added, no slots yet) is not a reason.
        let empty = format!(
            "*2\r\n{}{}",
            shard(all, &[node("master", 1, "online")]),
            shard("*0\r\n", &[node("master", 2, "online")])
        );
        assert!(!Topology::from_shards(b(&empty), "x:1").unwrap().settling);
    }

    #[test]
    fn slots_fallback() {
        let reply = "*2\r\n*4\r\n:0\r\n:8191\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n*2\r\n$0\r\n\r\n:7001\r\n*3\r\n:8192\r\n:16383\r\n*2\r\n$1\r\n?\r\n:7002\r\n";
        let t = Topology::from_slots(b(reply), "10.1.1.1:7000").unwrap();
        assert_eq!(t.shards.len(), 2);
        assert_eq!(t.shards[0].primary.address, "127.0.0.1:7000");
        assert_eq!(t.shards[0].replicas[0].address, "10.1.1.1:7001");
        assert_eq!(t.shards[1].primary.address, "10.1.1.1:7002");
        assert_eq!(t.slot_table()[8192], 1);
    }

    #[test]
    fn bad_replies_are_errors_not_panics() {
        for reply in [
            "+OK\r\n",
            "*1\r\n*2\r\n:0\r\n:99999\r\n",
            "*1\r\n*3\r\n:0\r\n:1\r\n*0\r\n",
        ] {
            assert!(Topology::from_slots(b(reply), "h:1").is_err(), "{reply}");
        }
        assert!(Topology::from_shards(b(":1\r\n"), "h:1").is_err());
    }
}
