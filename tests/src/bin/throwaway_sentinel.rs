//! A throwaway sentinel group for `cargo xtask demo`: starts a primary, two replicas
//! and three sentinels on loopback (the harness's [`SentinelGroup`]), prints its
//! `redis+sentinel://HOST:PORT,HOST:PORT,HOST:PORT/SERVICE` URL on one line of standard
//! output, and keeps it running until standard input closes; then every process is
//! killed.

use respec_tests::SentinelGroup;
use std::io::{BufRead, Write};

fn main() {
    let group = match SentinelGroup::builder().start() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("throwaway sentinel group: {e}");
            std::process::exit(1);
        }
    };
    println!("{}", group.sentinel_service_url());
    let _ = std::io::stdout().flush();
    // Until the parent closes our stdin (or exits).
    let mut line = String::new();
    while std::io::stdin()
        .lock()
        .read_line(&mut line)
        .is_ok_and(|n| n > 0)
    {
        line.clear();
    }
    drop(group);
}
