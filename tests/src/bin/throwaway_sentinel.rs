//! A throwaway sentinel group for `cargo xtask demo`: starts a primary, two replicas
//! and three sentinels on loopback (the harness's [`SentinelGroup`]), prints its
//! `redis+sentinel://HOST:PORT,HOST:PORT,HOST:PORT/SERVICE` URL on one line of standard
//! output, and keeps it running until standard input closes; then every process is
//! killed.

use respec_tests::SentinelGroup;

fn main() {
    let group = match SentinelGroup::builder().start() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("throwaway sentinel group: {e}");
            std::process::exit(1);
        }
    };
    println!("{}", group.sentinel_service_url());
    respec_tests::hold_until_stdin_closes();
    drop(group);
}
