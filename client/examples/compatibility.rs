//! The compatibility report: which of respec's commands and arguments the server
//! lacks, and which of its commands (and its modules') respec has no builder for,
//! from the server's `COMMAND DOCS` ([`Client::compatibility`]).
//!
//! Run it with `cargo xtask compat --url URL`, with `cargo xtask demo` (a throwaway
//! server), or: `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example
//! compatibility`. It only reads.

use respec::Client;

#[tokio::main]
async fn main() -> respec::Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;
    let report = client.compatibility().await?;
    print!("{report}");
    // Every server has GET.
    assert!(report.missing_commands.iter().all(|m| m.name != "GET"));
    Ok(())
}
