// A command is sent by awaiting it once; awaiting it again is a use after move.
use respec::{Client, Commands};

async fn run(client: &Client) -> respec::Result<()> {
    let get = client.get("k");
    let _first = get.await?;
    let _again = get.await?;
    Ok(())
}

fn main() {}
