// Subscriptions are run by a subscriber, not sent as commands.
use respec::Client;

async fn run(client: &Client) -> respec::Result<()> {
    client.subscribe("news").await?;
    Ok(())
}

fn main() {}
