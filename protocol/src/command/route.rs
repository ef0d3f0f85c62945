//! The one routing decision: which connection runs a command, or why it may not run,
//! from its generated [`Route`]. The client, pipelines and watched connections all
//! ask [`decide`]; none of them matches command names. A cluster adds "which node"
//! here.

use super::meta::{CommandMeta, Route};

/// The connection a command is about to be sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// The client's shared, multiplexed connection (also a pipeline sent there).
    Shared,
    /// A connection of the caller's own (a `Watched`
    /// handle and its pipelines).
    Own,
}

/// What the runtime does with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it on the connection asked for. `waits`: it may rightly wait long (a
    /// blocking command, `WAIT`): no request timeout, and no liveness rule while it
    /// waits.
    Send {
        /// It may rightly wait long.
        waits: bool,
    },
    /// It would block the shared connection: run it on a dedicated pooled one.
    Dedicated,
    /// Send it; it leaves state on this connection of one's own, which is then
    /// closed rather than pooled.
    Taint,
    /// Send it on this watched connection, which then watches keys (`WATCH`: true)
    /// or none (`UNWATCH`: false). In a pipeline it is refused with `instead`.
    Watching {
        /// `WATCH` rather than `UNWATCH`.
        watch: bool,
        /// The advice when it is refused (in a pipeline).
        instead: &'static str,
    },
    /// Refused before anything is sent: why, and what to use instead.
    Refuse(&'static str),
}

/// Decides where a command with metadata `meta` (`None`: a command the spec does not
/// know) and `argc` words (its name included) runs when sent `on` a connection.
pub fn decide(meta: Option<&CommandMeta>, argc: usize, on: On) -> Decision {
    let Some(meta) = meta else {
        return Decision::Send { waits: false };
    };
    match (meta.route, on) {
        (
            Route::Runtime {
                instead,
                with_arguments,
            },
            _,
        ) if !with_arguments || argc > 1 => Decision::Refuse(instead),
        (Route::Runtime { .. } | Route::Shared, _) => Decision::Send { waits: false },
        (Route::Stateful { .. }, On::Shared) => Decision::Send { waits: false },
        (Route::SharedWaiting, _) | (Route::Dedicated, On::Own) => Decision::Send { waits: true },
        (Route::Dedicated, On::Shared) => Decision::Dedicated,
        (
            Route::OwnConnection { instead }
            | Route::Watch { instead }
            | Route::Unwatch { instead },
            On::Shared,
        ) => Decision::Refuse(instead),
        (Route::OwnConnection { .. } | Route::Stateful { .. }, On::Own) => Decision::Taint,
        (Route::Watch { instead }, On::Own) => Decision::Watching {
            watch: true,
            instead,
        },
        (Route::Unwatch { instead }, On::Own) => Decision::Watching {
            watch: false,
            instead,
        },
    }
}

/// Why a command is refused on a cluster client, and what to use instead: state
/// that would reach only the connections open when it runs (`CLIENT SETNAME`,
/// `CLIENT TRACKING`, `NO-EVICT`, `NO-TOUCH`) or that the cluster client keeps
/// itself (`READONLY`, `READWRITE`); the `on_cluster` of its `[[route]]` in
/// `spec/overrides.toml`. Checked with
/// [`decide`] by the cluster client and its pipelines.
pub fn refused_on_cluster(meta: Option<&CommandMeta>) -> Option<&'static str> {
    match meta?.route {
        Route::Stateful { on_cluster } => on_cluster,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::meta::lookup;

    fn on(name: &str, argc: usize, on: On) -> Decision {
        decide(lookup(name), argc, on)
    }

    #[test]
    fn every_route_on_both_kinds_of_connection() {
        use Decision::*;
        assert_eq!(on("GET", 2, On::Shared), Send { waits: false });
        assert_eq!(on("GET", 2, On::Own), Send { waits: false });
        assert_eq!(on("BLPOP", 3, On::Shared), Dedicated);
        assert_eq!(on("BLPOP", 3, On::Own), Send { waits: true });
        assert_eq!(on("WAIT", 3, On::Shared), Send { waits: true });
        assert!(
            matches!(on("SELECT", 2, On::Shared), Refuse(i) if i.contains("ClientBuilder::database"))
        );
        assert_eq!(on("SELECT", 2, On::Own), Taint);
        assert_eq!(on("CLIENT SETNAME", 3, On::Shared), Send { waits: false });
        assert_eq!(on("CLIENT SETNAME", 3, On::Own), Taint);
        assert!(matches!(on("WATCH", 2, On::Shared), Refuse(_)));
        assert!(matches!(
            on("WATCH", 2, On::Own),
            Watching { watch: true, .. }
        ));
        assert!(matches!(
            on("UNWATCH", 1, On::Own),
            Watching { watch: false, .. }
        ));
        for name in [
            "MULTI",
            "EXEC",
            "SUBSCRIBE",
            "MONITOR",
            "RESET",
            "QUIT",
            "SYNC",
        ] {
            for place in [On::Shared, On::Own] {
                assert!(matches!(on(name, 1, place), Refuse(_)), "{name} {place:?}");
            }
        }
        // HELLO alone only reports; with arguments it would change the protocol.
        assert_eq!(on("HELLO", 1, On::Shared), Send { waits: false });
        assert!(matches!(on("HELLO", 2, On::Shared), Refuse(_)));
        // A command the spec does not know runs where it is sent.
        assert_eq!(decide(None, 3, On::Shared), Send { waits: false });
    }

    #[test]
    fn connection_modes_are_refused_on_a_cluster_with_advice() {
        for (name, advice) in [
            ("CLIENT SETNAME", "client_name"),
            ("CLIENT TRACKING", "Client of your own"),
            ("CLIENT NO-EVICT", "Client of your own"),
            ("CLIENT NO-TOUCH", "Client of your own"),
            ("READONLY", "read_from"),
            ("READWRITE", "read_from"),
        ] {
            let refused = refused_on_cluster(lookup(name));
            assert!(
                refused.is_some_and(|r| r.contains(advice)),
                "{name}: {refused:?}"
            );
        }
        // Sent to every node (request_policy:all_nodes), or stateless.
        for name in ["CLIENT SETINFO", "CLIENT ID", "GET"] {
            assert_eq!(refused_on_cluster(lookup(name)), None, "{name}");
        }
    }
}
