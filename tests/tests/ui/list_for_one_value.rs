// GET takes one key, not a list.
use respec::{Client, Commands};

async fn run(client: &Client) -> respec::Result<()> {
    let keys = vec!["a".to_owned(), "b".to_owned()];
    let _v = client.get(keys).await?;
    Ok(())
}

fn main() {}
