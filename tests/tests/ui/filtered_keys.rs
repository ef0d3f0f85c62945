// A list parameter takes an iterator of known length; collect a filtered one first.
use respec::{Client, Commands};

async fn run(client: &Client, keys: &[String]) -> respec::Result<i64> {
    client.del(keys.iter().filter(|k| k.starts_with("tmp:"))).await
}

fn main() {}
