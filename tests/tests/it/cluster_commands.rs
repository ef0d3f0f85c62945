//! The command tests on a cluster, and what only a cluster has: the typed commands
//! of every group run through a cluster client (the same test bodies as on one
//! server, `*_on`, their multi-key commands on keys with a shared hash tag), every
//! command with a request or response policy tip is checked for its aggregated
//! result against each node's own, and the cluster-only commands run on a node.

use crate::{
    cmd_hash_stream_geo, cmd_list_set_zset, cmd_scripting_server_connection,
    cmd_string_bitmap_hll_generic, pipelines, scripts_functions,
};
use respec_tests::Cluster;
use std::sync::Arc;

/// One 3-primary cluster (no replicas).
fn three_primaries() -> Option<Cluster> {
    Cluster::builder().replicas(0).start_or_skip()
}

/// Runs each test body (`module::body_on`) on the cluster, one after the other (each
/// flushes the cluster first), and returns the names of those that panicked (their
/// messages are printed as they happen).
macro_rules! run_each {
    ($cluster:expr; $($module:ident::$body:ident),* $(,)?) => {{
        let mut failed: Vec<&str> = Vec::new();
        $(
            let cluster = Arc::clone(&$cluster);
            if tokio::spawn(async move { $module::$body(&*cluster).await }).await.is_err() {
                failed.push(concat!(stringify!($module), "::", stringify!($body)));
            }
        )*
        failed
    }};
}

/// The standalone command tests' bodies, run through a cluster client under RESP2
/// and RESP3, give the same typed results as on one server (their assertions are
/// the same ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_tests_pass_on_a_cluster() {
    let Some(cluster) = three_primaries() else {
        return;
    };
    let cluster = Arc::new(cluster);
    let started = std::time::Instant::now();
    let failed = run_each!(cluster;
        cmd_string_bitmap_hll_generic::string_counters_and_multi_keys_on,
        cmd_string_bitmap_hll_generic::string_ranges_on,
        cmd_string_bitmap_hll_generic::set_options_and_expiring_setters_on,
        cmd_string_bitmap_hll_generic::getex_options_on,
        cmd_string_bitmap_hll_generic::set_ifeq_on,
        cmd_string_bitmap_hll_generic::delifeq_on,
        cmd_string_bitmap_hll_generic::msetex_on,
        cmd_string_bitmap_hll_generic::lcs_on,
        cmd_string_bitmap_hll_generic::bitmap_bits_counts_positions_and_ops_on,
        cmd_string_bitmap_hll_generic::bitfield_and_bitfield_ro_on,
        cmd_string_bitmap_hll_generic::hyperloglog_on,
        cmd_string_bitmap_hll_generic::expire_family_on,
        cmd_string_bitmap_hll_generic::dump_and_restore_on,
        cmd_string_bitmap_hll_generic::object_subcommands_on,
        cmd_list_set_zset::list_push_index_insert_set_rem_trim_on,
        cmd_list_set_zset::list_lpop_rpop_with_and_without_count_on,
        cmd_list_set_zset::list_lmove_rpoplpush_on,
        cmd_list_set_zset::list_lmpop_blmpop_on,
        cmd_list_set_zset::list_blocking_pops_with_data_and_timeout_on,
        cmd_list_set_zset::list_blpop_wakes_up_when_another_client_pushes_on,
        cmd_list_set_zset::set_add_rem_members_move_on,
        cmd_list_set_zset::set_diff_inter_union_and_stores_on,
        cmd_list_set_zset::set_sintercard_limit_on,
        cmd_list_set_zset::zset_zadd_options_and_scores_on,
        cmd_list_set_zset::zset_zrange_variants_on,
        cmd_list_set_zset::zset_bzpopmin_bzpopmax_on,
        cmd_list_set_zset::zset_zmpop_bzmpop_on,
        cmd_list_set_zset::zset_union_inter_diff_and_stores_on,
        cmd_list_set_zset::zset_zintercard_limit_on,
        cmd_list_set_zset::zset_zrangestore_on,
        cmd_hash_stream_geo::hash_basic_commands_on,
        cmd_hash_stream_geo::hash_field_expiration_on,
        cmd_hash_stream_geo::hash_hgetex_on,
        cmd_hash_stream_geo::hash_hsetex_on,
        cmd_hash_stream_geo::hash_hgetdel_on,
        cmd_hash_stream_geo::stream_xadd_range_len_del_on,
        cmd_hash_stream_geo::stream_xread_on,
        cmd_hash_stream_geo::stream_consumer_groups_on,
        cmd_hash_stream_geo::stream_group_management_and_info_on,
        cmd_hash_stream_geo::geo_add_dist_hash_pos_on,
        cmd_hash_stream_geo::geo_geosearch_on,
        cmd_hash_stream_geo::geo_geosearchstore_on,
        cmd_hash_stream_geo::geo_georadius_family_on,
        cmd_scripting_server_connection::eval_and_evalsha_on,
        cmd_scripting_server_connection::eval_ro_and_evalsha_ro_on,
        cmd_scripting_server_connection::functions_on,
        cmd_scripting_server_connection::multi_exec_discard_on,
        cmd_scripting_server_connection::watch_and_unwatch_on,
        pipelines::typed_pipeline_infers_its_tuple_on,
        scripts_functions::typed_functions_and_read_only_calls_on,
        scripts_functions::function_calls_queued_in_a_pipeline_and_a_transaction_on,
    );
    eprintln!("the command tests on a cluster: {:?}", started.elapsed());
    assert!(failed.is_empty(), "failed on a cluster: {failed:#?}");
}
