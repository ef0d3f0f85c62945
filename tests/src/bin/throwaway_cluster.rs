//! A throwaway cluster for `cargo xtask demo`: starts three primaries on loopback
//! (the harness's [`Cluster`]), prints its `redis+cluster://` URL on one line of
//! standard output, and keeps it running until standard input closes; then every
//! node is killed.

use respec_tests::Cluster;

fn main() {
    let cluster = match Cluster::builder().replicas(0).start() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("throwaway cluster: {e}");
            std::process::exit(1);
        }
    };
    let hosts: Vec<String> = cluster
        .seed_addrs()
        .iter()
        .map(ToString::to_string)
        .collect();
    println!("redis+cluster://{}", hosts.join(","));
    respec_tests::hold_until_stdin_closes();
    drop(cluster);
}
