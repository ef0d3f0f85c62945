//! `cargo xtask coverage --exercised`: which generated commands the servers started
//! by the tests really ran, from their own `INFO commandstats` (saved by the harness
//! under `target/servers/commandstats/` when each server stops).

use crate::servers::servers_dir;
use anyhow::{Context, Result};
use respec_codegen::Coverage;
use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

/// Where the harness saves the statistics.
pub fn stats_dir() -> PathBuf {
    servers_dir().join("commandstats")
}

/// Forgets the statistics of earlier runs (`cargo xtask test` calls this first).
pub fn clear() -> Result<()> {
    let dir = stats_dir();
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}

/// The commands (`GET`, `CLIENT KILL`) with at least one call in the saved statistics.
fn ran() -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let dir = stats_dir();
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(out);
    };
    for entry in entries {
        let path = entry?.path();
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        for line in text.lines() {
            // cmdstat_client|kill:calls=3,usec=...,failed_calls=0
            let Some(rest) = line.strip_prefix("cmdstat_") else {
                continue;
            };
            let Some((name, stats)) = rest.split_once(':') else {
                continue;
            };
            let calls = stats
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0);
            if calls > 0 {
                out.insert(name.replace('|', " ").to_uppercase());
            }
        }
    }
    Ok(out)
}

/// Why a command cannot run meaningfully on the test servers, if it is one of those.
/// The cluster commands and `WAIT` / `WAITAOF` have none: the tests form clusters
/// with replicas (`cluster_commands.rs` runs what no other test does).
fn reason(name: &str, group: &str) -> &'static str {
    match (name, group) {
        ("REPLICAOF" | "SLAVEOF" | "FAILOVER", _) => {
            "replication: needs a replica (cluster/sentinel issues)"
        }
        ("SHUTDOWN", _) => "stops the server",
        ("DEBUG" | "PFDEBUG" | "PFSELFTEST", _) => "debugging internals",
        ("MODULE LOAD" | "MODULE LOADEX" | "MODULE UNLOAD", _) => "needs a module binary",
        _ => "not called by the tests yet",
    }
}

/// The two `exercised` lines.
pub fn lines(coverage: &Coverage) -> Result<Vec<String>> {
    let ran = ran()?;
    let generated: Vec<&String> = coverage.replies.keys().collect();
    let exercised = generated
        .iter()
        .filter(|n| ran.contains(n.as_str()))
        .count();
    let missing: Vec<String> = generated
        .iter()
        .filter(|n| !ran.contains(n.as_str()))
        .map(|n| {
            let group = coverage.groups.get(n.as_str()).map_or("", String::as_str);
            format!("{n} ({})", reason(n, group))
        })
        .collect();
    Ok(vec![
        format!(
            "exercised: {exercised} of {} generated commands",
            generated.len()
        ),
        format!("not exercised: {}", missing.join(", ")),
    ])
}
