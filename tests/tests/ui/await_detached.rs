// A detached command (`cmd::get`) has no client to run it.
use respec::cmd;

async fn run() -> respec::Result<()> {
    let _v = cmd::get("k").await?;
    Ok(())
}

fn main() {}
