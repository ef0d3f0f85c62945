//! [`Client::compatibility`]: how well respec's generated commands fit the server.

use crate::client::Client;
use crate::command::Compatibility;
use crate::error::Result;
use crate::reply::Value;

impl Client {
    /// Compares the server's `COMMAND DOCS` with respec's generated metadata: the
    /// commands respec has that the server lacks (newer than the server, or the
    /// other server's: Valkey's `CLUSTERSCAN` on Redis, say), the server's commands
    /// respec lacks (send them with [`Client::cmd`]), the commands of its modules
    /// (with their module's name) and the arguments respec can send that the
    /// server's documentation of a command lacks (`SET`'s `IFEQ` on a server older
    /// than it). Each is matched by name; an argument by its spec name or its token,
    /// within its block.
    ///
    /// It sends `COMMAND DOCS` (and `HELLO`, without arguments, for the server's
    /// name and version: left out of the report where `HELLO` fails). On a cluster
    /// client both go to one node, as any keyless command does: the report is that
    /// node's (a cluster whose nodes run different versions during an upgrade is
    /// reported as the node asked); behind sentinels, it is the primary's (or the
    /// replica's, with `role=replica`). The report's
    /// [`Display`](std::fmt::Display) prints it, a section per list; `cargo xtask
    /// compat --url URL` prints it for a server.
    ///
    /// ```no_run
    /// # async fn demo() -> respec::Result<()> {
    /// let client = respec::Client::connect("redis://127.0.0.1:6379").await?;
    /// let report = client.compatibility().await?;
    /// println!("{report}");
    /// for m in &report.missing_commands {
    ///     println!("{} needs {} or later", m.name, m.since);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn compatibility(&self) -> Result<Compatibility> {
        let docs: Value = self.cmd("COMMAND").arg("DOCS").await?;
        let hello: Option<Value> = self.cmd("HELLO").await.ok();
        Compatibility::compare(&docs, hello.as_ref()).map_err(|e| e.with_command("COMMAND DOCS"))
    }
}
