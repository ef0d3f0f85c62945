//! The sentinel tests, as a test binary of their own: each starts a sentinel group
//! (three data nodes, three sentinels) and most fail one over, so they run apart from
//! the cluster tests of `it` (test binaries run one after the other), and the two
//! kinds of topology do not compete for this machine's two cores.

mod abandoned;
mod client;
mod commands;
mod harness;
mod load;
mod lock;
mod polling;
mod streams;
mod tls;
