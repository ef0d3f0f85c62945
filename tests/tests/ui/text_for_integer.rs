// An integer argument does not take text.
use respec::{Client, Commands};

async fn run(client: &Client) -> respec::Result<i64> {
    client.incrby("counter", "5").await
}

fn main() {}
