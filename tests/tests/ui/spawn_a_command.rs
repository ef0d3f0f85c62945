// tokio::spawn wants a future: a command becomes one with `.into_future()`.
use respec::{Client, Commands};

fn run(client: &Client) {
    let _task = tokio::spawn(client.get("k"));
}

fn main() {}
