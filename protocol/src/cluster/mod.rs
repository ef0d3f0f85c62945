//! The sans-IO half of the cluster client: which slot a key hashes to
//! ([`slot()`]), which node or nodes a command goes to ([`target()`]), how a multi-key
//! command is split by slot ([`split()`]) and its replies put back together
//! ([`aggregate`]), and the cluster's shape as the server reports it ([`topology`]).
//! Everything here is decided from the generated [`CommandMeta`](crate::command::CommandMeta):
//! key specifications and the spec's request and response policy tips, with no
//! per-command tables.

pub mod aggregate;
pub mod slot;
pub mod split;
pub mod target;
pub mod topology;

pub use slot::{slot, SLOTS};
pub use split::{split, Part};
pub use target::{target, Target};
pub use topology::{Node, Shard, Topology};
