//! Static facts about every command, from the spec: flags, ACL categories, key
//! specifications and cluster routing tips. The generator writes one [`CommandMeta`]
//! per command; the runtime looks them up to route and to decide how to send.

use bitflags::bitflags;
use std::fmt;

/// A server version, as in the spec's `since` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
    /// Patch.
    pub patch: u16,
}

impl Version {
    /// `major.minor.patch`.
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parses `7.2.4` (missing parts are zero; anything after a `-` is ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.split(['-', ' ']).next()?;
        let mut parts = s.split('.').map(|p| p.parse::<u16>());
        let major = parts.next()?.ok()?;
        let minor = parts.next().transpose().ok()?.unwrap_or(0);
        let patch = parts.next().transpose().ok()?.unwrap_or(0);
        Some(Version::new(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The documentation group of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Group {
    Bitmap,
    Cluster,
    Connection,
    Generic,
    Geo,
    Hash,
    Hyperloglog,
    List,
    /// A module's command (the group servers give every module command).
    Module,
    Pubsub,
    Scripting,
    Sentinel,
    Server,
    Set,
    SortedSet,
    Stream,
    String,
    Transactions,
    /// A group this version of respec does not know (a newer server's).
    Other,
}

bitflags! {
    /// Command flags (`command_flags` in the spec).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct CommandFlags: u32 {
        /// Administrative command.
        const ADMIN = 1 << 0;
        /// Acts on every database.
        const ALL_DBS = 1 << 1;
        /// Allowed while the server is busy running a script.
        const ALLOW_BUSY = 1 << 2;
        /// Accepted on a cluster node that is importing the slot after `ASKING`.
        const ASKING = 1 << 3;
        /// May block the connection until data arrives.
        const BLOCKING = 1 << 4;
        /// May grow memory use: refused when out of memory.
        const DENYOOM = 1 << 5;
        /// O(1) or O(log N).
        const FAST = 1 << 6;
        /// Allowed while the dataset is loading.
        const LOADING = 1 << 7;
        /// May be replicated.
        const MAY_REPLICATE = 1 << 8;
        /// Refused during async loading.
        const NO_ASYNC_LOADING = 1 << 9;
        /// Allowed before authentication.
        const NO_AUTH = 1 << 10;
        /// Keys are optional.
        const NO_MANDATORY_KEYS = 1 << 11;
        /// Not allowed inside MULTI.
        const NO_MULTI = 1 << 12;
        /// Not allowed in scripts.
        const NOSCRIPT = 1 << 13;
        /// Only on sentinel.
        const ONLY_SENTINEL = 1 << 14;
        /// Protected (needs `enable-*-command`).
        const PROTECTED = 1 << 15;
        /// Pub/sub command.
        const PUBSUB = 1 << 16;
        /// Reads data only.
        const READONLY = 1 << 17;
        /// Also on sentinel.
        const SENTINEL = 1 << 18;
        /// Not shown by MONITOR.
        const SKIP_MONITOR = 1 << 19;
        /// Not recorded in the slow log.
        const SKIP_SLOWLOG = 1 << 20;
        /// Allowed on a stale replica.
        const STALE = 1 << 21;
        /// May touch keys it does not name.
        const TOUCHES_ARBITRARY_KEYS = 1 << 22;
        /// Writes data.
        const WRITE = 1 << 23;
        /// Not recorded in the command log (Valkey 8.1+).
        const SKIP_COMMANDLOG = 1 << 24;
        /// One or more flags this version of respec does not know (a newer server's;
        /// the generator names them in its warnings).
        const OTHER = 1 << 31;
    }
}

bitflags! {
    /// ACL categories, explicit and implicit (implied by the command flags).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AclCategories: u32 {
        /// `@admin`.
        const ADMIN = 1 << 0;
        /// `@bitmap`.
        const BITMAP = 1 << 1;
        /// `@blocking`.
        const BLOCKING = 1 << 2;
        /// `@connection`.
        const CONNECTION = 1 << 3;
        /// `@dangerous`.
        const DANGEROUS = 1 << 4;
        /// `@fast`.
        const FAST = 1 << 5;
        /// `@geo`.
        const GEO = 1 << 6;
        /// `@hash`.
        const HASH = 1 << 7;
        /// `@hyperloglog`.
        const HYPERLOGLOG = 1 << 8;
        /// `@keyspace`.
        const KEYSPACE = 1 << 9;
        /// `@list`.
        const LIST = 1 << 10;
        /// `@pubsub`.
        const PUBSUB = 1 << 11;
        /// `@read`.
        const READ = 1 << 12;
        /// `@scripting`.
        const SCRIPTING = 1 << 13;
        /// `@set`.
        const SET = 1 << 14;
        /// `@slow`.
        const SLOW = 1 << 15;
        /// `@sortedset`.
        const SORTEDSET = 1 << 16;
        /// `@stream`.
        const STREAM = 1 << 17;
        /// `@string`.
        const STRING = 1 << 18;
        /// `@transaction`.
        const TRANSACTION = 1 << 19;
        /// `@write`.
        const WRITE = 1 << 20;
        /// One or more categories this version of respec does not know (a newer
        /// server's; the generator names them in its warnings).
        const OTHER = 1 << 31;
    }
}

bitflags! {
    /// How a command uses the keys of one key specification.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct KeySpecFlags: u16 {
        /// Read-only.
        const RO = 1 << 0;
        /// Read-write.
        const RW = 1 << 1;
        /// Overwrite.
        const OW = 1 << 2;
        /// Remove.
        const RM = 1 << 3;
        /// Returns or copies user data.
        const ACCESS = 1 << 4;
        /// Inserts data.
        const INSERT = 1 << 5;
        /// Updates data.
        const UPDATE = 1 << 6;
        /// Deletes data.
        const DELETE = 1 << 7;
        /// Not a key (but hashed like one, e.g. a shard channel).
        const NOT_KEY = 1 << 8;
        /// The specification may miss keys.
        const INCOMPLETE = 1 << 9;
        /// The flags depend on other arguments.
        const VARIABLE_FLAGS = 1 << 10;
        /// One or more flags this version of respec does not know (a newer server's;
        /// the generator names them in its warnings).
        const OTHER = 1 << 15;
    }
}

bitflags! {
    /// Command tips that are not routing policies.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Tips: u8 {
        /// The reply may differ between calls with the same arguments and data.
        const NONDETERMINISTIC_OUTPUT = 1 << 0;
        /// The order of the reply's elements may differ between calls.
        const NONDETERMINISTIC_OUTPUT_ORDER = 1 << 1;
        /// One or more tips this version of respec does not know (a newer server's;
        /// the generator names them in its warnings).
        const OTHER = 1 << 7;
    }
}

/// Where a cluster client sends a command (`REQUEST_POLICY` tip); a policy this
/// version of respec does not know is [`Special`](RequestPolicy::Special).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestPolicy {
    /// To every node, primaries and replicas.
    AllNodes,
    /// To every primary.
    AllShards,
    /// Split by the slot of each key.
    MultiShard,
    /// Needs command-specific handling.
    Special,
}

/// How a cluster client merges replies from several nodes (`RESPONSE_POLICY` tip); a
/// policy this version of respec does not know is
/// [`Special`](ResponsePolicy::Special).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponsePolicy {
    /// Logical AND of the integer replies.
    AggLogicalAnd,
    /// Logical OR of the integer replies.
    AggLogicalOr,
    /// Minimum of the integer replies.
    AggMin,
    /// Maximum of the integer replies.
    AggMax,
    /// Sum of the integer replies.
    AggSum,
    /// Succeeds when every node succeeds.
    AllSucceeded,
    /// Succeeds when one node succeeds.
    OneSucceeded,
    /// Needs command-specific handling.
    Special,
}

/// Where the first key of a key specification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument index (0 is the command name).
    Index(usize),
    /// After the first occurrence of `keyword`, searched from `startfrom` (negative:
    /// from the end, backwards).
    Keyword {
        /// The keyword (`STREAMS`).
        keyword: &'static str,
        /// Where the search starts.
        startfrom: i32,
    },
    /// Too complex to describe.
    Unknown,
}

/// Where the remaining keys of a key specification are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// A range of keys from the first one.
    Range {
        /// Index of the last key relative to the first (negative: from the end).
        lastkey: i32,
        /// Arguments between keys.
        step: usize,
        /// With a negative `lastkey`: only the first 1/limit of the rest (0 and 1: all).
        limit: usize,
    },
    /// A count argument says how many keys follow.
    Keynum {
        /// Index of the count relative to the first key search result.
        keynumidx: usize,
        /// Index of the first key relative to the same.
        firstkey: usize,
        /// Arguments between keys.
        step: usize,
    },
    /// Too complex to describe.
    Unknown,
}

/// One key specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// How the keys are used.
    pub flags: KeySpecFlags,
    /// Where the first key is.
    pub begin_search: BeginSearch,
    /// Where the others are.
    pub find_keys: FindKeys,
}

/// One argument as the spec names it (and the server's `COMMAND DOCS` does): what
/// [`compat`](crate::command::compat) compares with a server's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgMeta {
    /// The spec's name (`expiration`, `unix-time-seconds`).
    pub name: &'static str,
    /// The word sent before the value, or the word itself for a pure token (`EX`).
    pub token: Option<&'static str>,
    /// The server version that added the argument, when it came after the command.
    pub since: Option<Version>,
    /// The members of a block or a choice.
    pub args: &'static [ArgMeta],
}

/// Everything the spec says about a command, except its documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandMeta {
    /// Full name in upper case, subcommands with their container: `CLIENT KILL`.
    pub name: &'static str,
    /// The container of a subcommand (`CLIENT`).
    pub container: Option<&'static str>,
    /// Documentation group.
    pub group: Group,
    /// First server version with the command.
    pub since: Version,
    /// Number of words including the name; negative: at least that many.
    pub arity: i32,
    /// Command flags.
    pub flags: CommandFlags,
    /// ACL categories (explicit and implicit).
    pub acl_categories: AclCategories,
    /// Key specifications.
    pub key_specs: &'static [KeySpec],
    /// The server finds this command's keys with command-specific code (MIGRATE, SORT,
    /// EVAL, ...): the key specifications may then list a word that is not a key
    /// (MIGRATE's empty-string key) or miss one; `COMMAND GETKEYS` is authoritative.
    pub custom_key_lookup: bool,
    /// Cluster request policy.
    pub request_policy: Option<RequestPolicy>,
    /// Cluster response policy.
    pub response_policy: Option<ResponsePolicy>,
    /// Tokens that make a `request_policy:multi_shard` command unsplittable when
    /// given after its keys (`MSETEX`'s `NX` / `XX`: a condition on every key at
    /// once, which parts run on several nodes could not honour), from
    /// `spec/overrides.toml` (`[[no_split]]`). With one of them, keys in several
    /// slots are refused like those of a command the spec does not let a client split.
    pub no_split_with: &'static [&'static str],
    /// Other tips.
    pub tips: Tips,
    /// Deprecated since this version.
    pub deprecated_since: Option<Version>,
    /// What to use instead of a deprecated command.
    pub replaced_by: Option<&'static str>,
    /// Where the runtime runs the command (decided by
    /// [`route::decide`](crate::command::route::decide)).
    pub route: Route,
    /// The arguments as the spec names them, before respec's overrides reshape them
    /// into builder methods.
    pub args: &'static [ArgMeta],
}

/// Where the runtime runs a command, generated from its flags and
/// `spec/overrides.toml` (`[[route]]`): the one source of the decision that
/// [`route::decide`](crate::command::route::decide) makes for the client, pipelines
/// and watched connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The shared connection (or whatever connection it is sent on).
    Shared,
    /// The shared connection, waiting as long as it takes (`WAIT`, `WAITAOF`: flagged
    /// `BLOCKING`, but about the writes made on their own connection): no request
    /// timeout, and the liveness rule is suspended while it waits.
    SharedWaiting,
    /// A dedicated pooled connection, so it never stalls the shared one (the spec's
    /// `BLOCKING` commands).
    Dedicated,
    /// Refused on the shared connection (it would change it under every task);
    /// runs on a connection of one's own, which it leaves changed (`SELECT`, `AUTH`).
    OwnConnection {
        /// Why, and what to use instead.
        instead: &'static str,
    },
    /// Runs anywhere, but leaves state on its connection that a later user of a
    /// pooled one would inherit (`CLIENT SETNAME`, `READONLY`, ...).
    Stateful {
        /// Refused on a cluster client, with this advice, when the state would
        /// reach only the connections open at that moment (`CLIENT SETNAME`: not
        /// those opened later to new nodes, after a reconnect, in a pool).
        on_cluster: Option<&'static str>,
    },
    /// `WATCH`: refused on the shared connection; on a watched one, its keys are
    /// tracked.
    Watch {
        /// Why, and what to use instead.
        instead: &'static str,
    },
    /// `UNWATCH`: like [`Watch`](Route::Watch); on a watched connection, nothing is
    /// watched any more.
    Unwatch {
        /// Why, and what to use instead.
        instead: &'static str,
    },
    /// The runtime owns it (transactions, subscriptions, `MONITOR`, `HELLO` with
    /// arguments, `RESET`, `QUIT`, `CLIENT REPLY`, the replication protocol): refused
    /// as a plain command and in pipelines on every connection, even through
    /// [`cmd`](crate::raw_cmd).
    Runtime {
        /// Why, and what to use instead.
        instead: &'static str,
        /// Refused only with arguments (`HELLO` alone only reports, and may run).
        with_arguments: bool,
    },
}

impl CommandMeta {
    /// True when the command may block the connection (`BLPOP`, `XREAD BLOCK`, ...).
    pub fn is_blocking(&self) -> bool {
        self.flags.contains(CommandFlags::BLOCKING)
    }

    /// True when the command only reads data.
    pub fn is_readonly(&self) -> bool {
        self.flags.contains(CommandFlags::READONLY)
    }

    /// The indices in `args` (the whole command, name words first) of the keys that
    /// the key specifications locate. Keys flagged `NOT_KEY` are included: they hash
    /// to a slot like keys do.
    pub fn key_indices(&self, args: &[&[u8]]) -> Vec<usize> {
        let mut out = Vec::new();
        for spec in self.key_specs {
            spec_keys(spec, args, &mut out);
        }
        out
    }
}

fn spec_keys(spec: &KeySpec, args: &[&[u8]], out: &mut Vec<usize>) {
    let argc = args.len() as i64;
    let start = match spec.begin_search {
        BeginSearch::Index(i) => i as i64,
        BeginSearch::Keyword { keyword, startfrom } => {
            let hit = if startfrom >= 0 {
                (startfrom as i64..argc)
                    .find(|&i| args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()))
            } else {
                (1..=argc + startfrom as i64)
                    .rev()
                    .find(|&i| args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()))
            };
            match hit {
                Some(i) => i + 1,
                None => return,
            }
        }
        BeginSearch::Unknown => return,
    };
    if start >= argc {
        return;
    }
    let (first, last, step) = match spec.find_keys {
        FindKeys::Range {
            lastkey,
            step,
            limit,
        } => {
            let last = if lastkey >= 0 {
                start + lastkey as i64
            } else if limit <= 1 {
                argc + lastkey as i64
            } else {
                start + (argc - start) / limit as i64 + lastkey as i64
            };
            (start, last, step.max(1) as i64)
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            step,
        } => {
            let Some(n) = args
                .get((start + keynumidx as i64) as usize)
                .and_then(|a| std::str::from_utf8(a).ok())
                .and_then(|s| s.parse::<i64>().ok())
            else {
                return;
            };
            let first = start + firstkey as i64;
            let step = step.max(1) as i64;
            (first, first + (n - 1) * step, step)
        }
        FindKeys::Unknown => return,
    };
    let mut i = first;
    while i <= last && i < argc {
        out.push(i as usize);
        i += step;
    }
}

/// Every command's metadata, sorted by name: the commands respec has (those the
/// runtime owns too).
pub fn all() -> &'static [&'static CommandMeta] {
    &crate::generated::meta::COMMANDS
}

/// Finds a command's metadata by name, case-insensitively: `"get"`, `"CLIENT KILL"`,
/// `"client kill"`.
pub fn lookup(name: &str) -> Option<&'static CommandMeta> {
    let table = &crate::generated::meta::COMMANDS;
    table
        .binary_search_by(|m| cmp_ignore_case(m.name, name))
        .ok()
        .map(|i| table[i])
}

/// Finds the metadata of the command that `args` (name words first) calls: the
/// subcommand when the first word is a container.
pub fn lookup_args(args: &[&[u8]]) -> Option<&'static CommandMeta> {
    let first = std::str::from_utf8(args.first()?).ok()?;
    if let Some(sub) = args.get(1).and_then(|s| std::str::from_utf8(s).ok()) {
        let mut full = String::with_capacity(first.len() + sub.len() + 1);
        full.push_str(first);
        full.push(' ');
        full.push_str(sub);
        if let Some(m) = lookup(&full) {
            return Some(m);
        }
    }
    lookup(first)
}

fn cmp_ignore_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_uppercase())
        .cmp(b.bytes().map(|c| c.to_ascii_uppercase()))
}
