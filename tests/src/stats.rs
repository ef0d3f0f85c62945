//! The server's own counts, read through respec: how many times it ran a command.

use respec::{Client, Commands};

/// How many times the server ran `name` (`cmdstat_<name>` of `INFO commandstats`, in
/// lower case, `script|load` for a subcommand; 0 before its first call). Panics, with
/// the section, when the count does not parse.
pub async fn calls(c: &Client, name: &str) -> u64 {
    let info = c
        .info()
        .section(["commandstats"])
        .await
        .unwrap_or_else(|e| panic!("INFO commandstats: {e}"));
    let info = String::from_utf8_lossy(&info);
    let prefix = format!("cmdstat_{name}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            let n = rest.split(',').next().unwrap_or_default();
            n.parse()
                .unwrap_or_else(|_| panic!("cmdstat_{name} of {info}"))
        })
        .unwrap_or(0)
}
