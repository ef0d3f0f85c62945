//! Every integration test of respec against real servers, as one test binary (one
//! link instead of one per file), with a module per topic. The tests that measure
//! the whole process (its memory, its CPU time) are in `isolated.rs`, a binary of
//! their own, so that no other test runs beside them.

/// Counts allocations, and the bytes each thread holds (the cluster client's
/// simulated topologies report their memory).
#[global_allocator]
static ALLOCATOR: respec_tests::counting::Counting = respec_tests::counting::Counting;

mod api_forms;
mod cache;
mod client_cache;
mod cluster;
mod cluster_commands;
mod cluster_faults;
mod cluster_harness;
mod cluster_pubsub;
mod cluster_tryagain;
mod cluster_zones;
mod cmd_cluster_admin;
mod cmd_example;
mod cmd_hash_stream_geo;
mod cmd_list_set_zset;
mod cmd_scripting_server_connection;
mod cmd_string_bitmap_hll_generic;
mod compat;
mod connect_errors;
mod connection;
mod fake_server;
mod falkordb;
mod faults;
mod gate;
mod harness;
mod large_values;
mod lock;
mod monitor_push;
mod pipelines;
mod pool;
mod pubsub;
mod pubsub_handlers;
mod pubsub_shared;
mod pubsub_shared_churn;
mod pubsub_slow_consumer;
mod resilience;
mod scan_streams;
mod scripts;
mod scripts_functions;
mod streams;
mod transactions;
mod user_forms;
mod vocabulary;
mod wait;
