// join_all wants futures: a command becomes one with `.into_future()`.
use respec::{Client, Commands};

async fn run(client: &Client) {
    let _all = futures_util::future::join_all(vec![client.get("a"), client.get("b")]).await;
}

fn main() {}
