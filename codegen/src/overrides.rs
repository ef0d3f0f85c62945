//! `spec/overrides.toml`: what the spec cannot say. Every entry carries a reason, and
//! an entry that no longer matches anything is an error (for the vendored spec) so
//! that fixes disappear when upstream fixes the spec.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The parsed overrides file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Where the runtime runs a command, when not where its flags say (the shared
    /// connection; a dedicated one for `BLOCKING` commands). Commands the runtime
    /// owns (`route = "runtime"`) are not generated (they still get metadata).
    #[serde(default)]
    pub route: Vec<Route>,
    /// Tips the spec lacks (cluster routing: `RESPONSE_POLICY:SPECIAL` for a reply
    /// that no policy merges as one server would answer).
    #[serde(default)]
    pub tip: Vec<Tip>,
    /// Options that make a `request_policy:multi_shard` command unsplittable by slot
    /// when given (a condition on all its keys at once).
    #[serde(default)]
    pub no_split: Vec<NoSplit>,
    /// Fixes to arguments the spec gets wrong.
    #[serde(default)]
    pub fix_arg: Vec<FixArg>,
    /// Names of shared pure-token enums, by their tokens joined with spaces.
    #[serde(default)]
    pub token_type: BTreeMap<String, TokenType>,
    /// Names of enums with data, by their first user (`"SET expiration"`).
    #[serde(default)]
    pub data_type: BTreeMap<String, TokenType>,
    /// Required oneofs whose alternatives become separate options (`CLIENT KILL`'s
    /// filters are builder methods, not one enum).
    #[serde(default)]
    pub flatten: Vec<Flatten>,
    /// Arguments that are stream entry IDs (`XADD`'s `<* | id>`, `XREAD`'s IDs):
    /// written as given and checked before sending.
    #[serde(default)]
    pub stream_id: Vec<StreamId>,
    /// Notes on a command's docs: how the runtime treats it (`SELECT` is refused on a
    /// client's shared connection).
    #[serde(default)]
    pub doc_note: Vec<DocNote>,
    /// Reply types the schema cannot express.
    #[serde(default)]
    pub reply: Vec<Reply>,
    /// Options that change the reply type.
    #[serde(default)]
    pub reply_option: Vec<ReplyOption>,
    /// Types of reply struct fields the schema leaves untyped (recursive or generic
    /// objects).
    #[serde(default)]
    pub reply_field: Vec<ReplyField>,
    /// Replies whose schema alternatives (one per option set) each get their own type.
    #[serde(default)]
    pub reply_alternatives: Vec<ReplyAlternatives>,
    /// Reply schemas the runtime relies on (the types it names), for the trees
    /// without them.
    #[serde(default)]
    pub reply_schema: Vec<ReplySchema>,
    /// Keys (`kind:index`) of the entries that matched something.
    #[serde(skip)]
    used: RefCell<BTreeSet<String>>,
}

/// Where the runtime runs a command: the one place this is decided (the client,
/// pipelines and watched connections all follow the generated `CommandMeta::route`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Full command name.
    pub command: String,
    /// One of [`ROUTES`].
    pub route: String,
    /// What to use instead, for the routes that refuse the command somewhere
    /// (`runtime`, `own-connection`, `watch`, `unwatch`): the error message's advice.
    #[serde(default)]
    pub instead: Option<String>,
    /// For `runtime`: refused only when it has arguments (`HELLO` alone only
    /// reports, and may run).
    #[serde(default)]
    pub with_arguments: bool,
    /// For `stateful`: refused on a cluster client with this advice (the state
    /// would reach only the connections open at that moment).
    #[serde(default)]
    pub on_cluster: Option<String>,
    /// Why.
    pub reason: String,
}

/// The routes an override may name (the runtime's `Route` variants, kebab-case).
pub const ROUTES: &[&str] = &[
    "runtime",
    "own-connection",
    "stateful",
    "shared-waiting",
    "watch",
    "unwatch",
];

impl Route {
    /// Why the command gets no generated API, when the runtime owns it (the
    /// `runtime` route).
    pub fn excludes(&self) -> Option<&str> {
        (self.route == "runtime").then_some(self.reason.as_str())
    }

    /// The route is one of [`ROUTES`], `instead` is given exactly where it is used,
    /// and `with_arguments` only with `runtime`.
    fn check(&self) -> Result<()> {
        let c = &self.command;
        if !ROUTES.contains(&self.route.as_str()) {
            bail!(
                "route {c}: unknown route {:?} (known: {})",
                self.route,
                ROUTES.join(", ")
            );
        }
        let refuses = matches!(
            self.route.as_str(),
            "runtime" | "own-connection" | "watch" | "unwatch"
        );
        if refuses
            != self
                .instead
                .as_deref()
                .is_some_and(|i| !i.trim().is_empty())
        {
            bail!("route {c}: `instead` is required for the routes that refuse the command somewhere (runtime, own-connection, watch, unwatch), and only there");
        }
        if self.with_arguments && self.route != "runtime" {
            bail!("route {c}: `with_arguments` only applies to the runtime route");
        }
        if self.on_cluster.is_some() && self.route != "stateful" {
            bail!("route {c}: `on_cluster` only applies to the stateful route");
        }
        Ok(())
    }
}

/// A tip added to a command where the spec lacks it: a routing tip
/// (`REQUEST_POLICY:...` or `RESPONSE_POLICY:...`, where the spec has none of that
/// kind) or one of the known others (`NONDETERMINISTIC_OUTPUT`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tip {
    /// Full command name.
    pub command: String,
    /// The tip, as the spec writes them (`RESPONSE_POLICY:SPECIAL`).
    pub tip: String,
    /// Why.
    pub reason: String,
}

/// An option of a `request_policy:multi_shard` command that a cluster client must
/// not split by slot: with it, the command's keys must share one slot
/// (`MSETEX ... NX`: sets every key or none, which parts on several nodes cannot
/// promise).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSplit {
    /// Full command name.
    pub command: String,
    /// Path of the argument: a token, or a choice of pure tokens (`condition`).
    pub arg: String,
    /// Why.
    pub reason: String,
}

/// A fix to one argument, found by its path of names from the top level
/// (`expiration/keepttl`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixArg {
    /// Full command name.
    pub command: String,
    /// Path of argument names, `/`-separated.
    pub arg: String,
    /// Replace the token (`""` for an empty-string argument).
    pub token: Option<String>,
    /// Replace the unit: `seconds`, `millis`, `timeout-seconds`, `plain`.
    pub unit: Option<String>,
    /// Replace whether the argument may be left out: `false` makes one the spec
    /// marks optional required (the command's arity says it is).
    pub optional: Option<bool>,
    /// Replace the type: `double`.
    pub kind: Option<String>,
    /// Why.
    pub reason: String,
}

/// The name of a shared pure-token enum.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenType {
    /// Rust type name.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// A oneof turned into its alternatives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flatten {
    /// Full command name.
    pub command: String,
    /// Top-level argument name: a oneof (its alternatives become options), or a
    /// block (its children become options: a leading choice of tokens takes the
    /// block's value, `.maxlen(n)`); `oneof/alternative` for a block alternative of a
    /// flattened oneof.
    pub arg: String,
    /// Method names in place of the children's own (`approximately = "approx"`).
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Why.
    pub reason: String,
}

/// An argument that is a stream entry ID.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamId {
    /// Full command name.
    pub command: String,
    /// Path of the argument: a string (or a list of them), or a choice of one string
    /// and pure tokens (which becomes one string argument).
    pub arg: String,
    /// What the argument takes besides an ID (`ms` or `ms-seq`): words (`$`, `>`,
    /// `+`, `-`, `*`), `(` for an exclusive ID (`(1-0`), `ms-*` for an ID whose
    /// sequence the server picks.
    #[serde(default)]
    pub also: Vec<String>,
    /// Why.
    pub reason: String,
}

/// A paragraph added to a command's docs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocNote {
    /// Full command name.
    pub command: String,
    /// The paragraph (Markdown), shown under **Note**.
    pub note: String,
    /// Why the docs need it.
    pub reason: String,
}

/// A command's default reply type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// Full command name.
    pub command: String,
    /// Rust type, with paths relative to the generated module's imports.
    #[serde(rename = "type")]
    pub ty: String,
    /// Why.
    pub reason: String,
}

/// Names for the types of each alternative of a reply schema; the first is the
/// default reply type, options pick the others through `reply_option`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyAlternatives {
    /// Full command name.
    pub command: String,
    /// One type name per alternative of the schema's `oneOf`/`anyOf`.
    pub names: Vec<String>,
    /// Why.
    pub reason: String,
}

/// The type of one field of a generated reply struct.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyField {
    /// The generated struct's name.
    #[serde(rename = "struct")]
    pub name: String,
    /// The field's key in the reply.
    pub field: String,
    /// Rust type (the struct makes it optional).
    #[serde(rename = "type")]
    pub ty: String,
    /// Why.
    pub reason: String,
}

/// A reply schema the runtime relies on: the reply struct it names (the runtime's
/// `Library::info` returns `FunctionListReply`) is generated from it when a tree has
/// no schema for the command (Redis 7.0) or lacks the command. It is the vendored
/// spec's schema, copied: with the vendored spec, one that differs is an error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplySchema {
    /// Full command name.
    pub command: String,
    /// The schema, as JSON text.
    pub schema: String,
    /// Why.
    pub reason: String,
}

/// An option that changes the reply type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyOption {
    /// Full command name.
    pub command: String,
    /// Path of the argument (`withscores`, `count`).
    pub arg: String,
    /// Rust reply type once the option is given.
    #[serde(rename = "type")]
    pub ty: String,
    /// Why.
    pub reason: String,
}

impl Overrides {
    /// Reads and parses the file.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Parses overrides text.
    pub fn parse(text: &str) -> Result<Self> {
        let o: Overrides = toml::from_str(text)?;
        let mut reasons: Vec<(String, &str)> = Vec::new();
        o.each_entry(|kind, _, e| reasons.push((format!("{kind} {}", e.describe()), e.reason())));
        for (what, reason) in reasons {
            if reason.trim().is_empty() {
                bail!("{what} has no reason");
            }
        }
        for r in &o.route {
            r.check()?;
        }
        for r in &o.reply_schema {
            serde_json::from_str::<serde_json::Value>(&r.schema)
                .with_context(|| format!("reply_schema {}: the schema is not JSON", r.command))?;
        }
        Ok(o)
    }

    /// Calls `f` with every entry (kind, index, entry).
    fn each_entry<'a>(&'a self, mut f: impl FnMut(&str, usize, &'a dyn Entry)) {
        fn list<'a, T: Entry>(
            kind: &str,
            l: &'a [T],
            f: &mut impl FnMut(&str, usize, &'a dyn Entry),
        ) {
            for (i, e) in l.iter().enumerate() {
                f(kind, i, e);
            }
        }
        list("route", &self.route, &mut f);
        list("tip", &self.tip, &mut f);
        list("no_split", &self.no_split, &mut f);
        list("fix_arg", &self.fix_arg, &mut f);
        list("flatten", &self.flatten, &mut f);
        list("stream_id", &self.stream_id, &mut f);
        list("doc_note", &self.doc_note, &mut f);
        list("reply", &self.reply, &mut f);
        list("reply_alternatives", &self.reply_alternatives, &mut f);
        list("reply_field", &self.reply_field, &mut f);
        list("reply_option", &self.reply_option, &mut f);
        list("reply_schema", &self.reply_schema, &mut f);
        for (kind, map) in [
            ("token_type", &self.token_type),
            ("data_type", &self.data_type),
        ] {
            for (i, e) in map.values().enumerate() {
                f(kind, i, e);
            }
        }
    }

    /// The entry of `list` for `command` (and `arg`), marked as used.
    fn find<'a, T: Entry>(
        &self,
        kind: &str,
        list: &'a [T],
        command: &str,
        arg: &str,
    ) -> Option<&'a T> {
        let (i, e) = list
            .iter()
            .enumerate()
            .find(|(_, e)| e.key() == (command, arg))?;
        self.mark(format!("{kind}:{i}"));
        Some(e)
    }

    /// The entry of a named map, marked as used.
    fn find_named<'a>(
        &self,
        kind: &str,
        map: &'a BTreeMap<String, TokenType>,
        key: &str,
    ) -> Option<&'a str> {
        let i = map.keys().position(|k| k == key)?;
        self.mark(format!("{kind}:{i}"));
        Some(&map[key].name)
    }

    /// The route override of a command, if it has one.
    pub fn route(&self, command: &str) -> Option<&Route> {
        self.find("route", &self.route, command, "")
    }

    /// The routing tips added to `command`.
    pub fn tips(&self, command: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for (i, t) in self.tip.iter().enumerate() {
            if t.command == command {
                self.mark(format!("tip:{i}"));
                out.push(t.tip.as_str());
            }
        }
        out
    }

    /// The options of `command` that make it unsplittable by slot (argument paths).
    pub fn no_split(&self, command: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for (i, n) in self.no_split.iter().enumerate() {
            if n.command == command {
                self.mark(format!("no_split:{i}"));
                out.push(n.arg.as_str());
            }
        }
        out
    }

    /// The fix for the argument at `path` of `command`.
    pub fn fix_arg(&self, command: &str, path: &str) -> Option<&FixArg> {
        self.find("fix_arg", &self.fix_arg, command, path)
    }

    /// The type name for a pure-token choice.
    pub fn token_type(&self, tokens: &str) -> Option<&str> {
        self.find_named("token_type", &self.token_type, tokens)
    }

    /// The name of the enum with data first used at `"COMMAND path"`.
    pub fn data_type(&self, first_user: &str) -> Option<&str> {
        self.find_named("data_type", &self.data_type, first_user)
    }

    /// Whether top-level argument `arg` of `command` is flattened.
    pub fn flatten(&self, command: &str, arg: &str) -> Option<&Flatten> {
        self.find("flatten", &self.flatten, command, arg)
    }

    /// What the stream ID argument at `path` of `command` also takes, if it is one.
    pub fn stream_id(&self, command: &str, path: &str) -> Option<&[String]> {
        self.find("stream_id", &self.stream_id, command, path)
            .map(|s| s.also.as_slice())
    }

    /// The note on a command's docs, if it has one.
    pub fn doc_note(&self, command: &str) -> Option<&str> {
        self.find("doc_note", &self.doc_note, command, "")
            .map(|n| n.note.as_str())
    }

    /// The default reply type of a command.
    pub fn reply(&self, command: &str) -> Option<&str> {
        self.find("reply", &self.reply, command, "")
            .map(|r| r.ty.as_str())
    }

    /// The type names of the alternatives of `command`'s reply schema.
    pub fn reply_alternatives(&self, command: &str) -> Option<&[String]> {
        self.find("reply_alternatives", &self.reply_alternatives, command, "")
            .map(|r| r.names.as_slice())
    }

    /// The reply schema the runtime relies on for `command`, if it has one.
    pub fn reply_schema(&self, command: &str) -> Option<serde_json::Value> {
        let r = self.find("reply_schema", &self.reply_schema, command, "")?;
        serde_json::from_str(&r.schema).ok()
    }

    /// The commands with a reply schema the runtime relies on.
    pub fn reply_schema_commands(&self) -> impl Iterator<Item = &str> {
        self.reply_schema.iter().map(|r| r.command.as_str())
    }

    /// The type of field `field` of the generated reply struct `name`.
    pub fn reply_field(&self, name: &str, field: &str) -> Option<&str> {
        self.find("reply_field", &self.reply_field, name, field)
            .map(|r| r.ty.as_str())
    }

    /// The reply types of `command` once one of its options is given, by argument
    /// path (`withscores`, `count/withscores`): those whose path `exists`.
    pub fn reply_options(&self, command: &str, exists: impl Fn(&str) -> bool) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        for (i, r) in self.reply_option.iter().enumerate() {
            if r.command == command && exists(&r.arg) {
                self.mark(format!("reply_option:{i}"));
                out.push((r.arg.as_str(), r.ty.as_str()));
            }
        }
        out
    }

    /// Entries that matched nothing, described.
    pub fn unused(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.each_entry(|kind, i, e| {
            if !self.is_marked(&format!("{kind}:{i}")) {
                out.push(format!("{kind} {}", e.describe()));
            }
        });
        out
    }
}

/// What every override entry has: what it applies to, and why.
trait Entry {
    /// (command, argument path); empty strings where they do not apply.
    fn key(&self) -> (&str, &str);
    /// The reason.
    fn reason(&self) -> &str;
    /// For messages.
    fn describe(&self) -> String {
        let (c, a) = self.key();
        format!("{c} {a}").trim().to_owned()
    }
}

macro_rules! entry {
    ($t:ty, $cmd:ident, $arg:tt) => {
        impl Entry for $t {
            fn key(&self) -> (&str, &str) {
                (&self.$cmd, entry!(@arg self $arg))
            }
            fn reason(&self) -> &str {
                &self.reason
            }
        }
    };
    (@arg $s:ident -) => { "" };
    (@arg $s:ident $f:ident) => { &$s.$f };
}

entry!(Route, command, -);
entry!(Tip, command, tip);
entry!(NoSplit, command, arg);
entry!(FixArg, command, arg);
entry!(Flatten, command, arg);
entry!(StreamId, command, arg);
entry!(DocNote, command, -);
entry!(Reply, command, -);
entry!(ReplyAlternatives, command, -);
entry!(ReplyOption, command, arg);
entry!(ReplyField, name, field);
entry!(ReplySchema, command, -);
entry!(TokenType, name, -);

impl Overrides {
    fn mark(&self, key: String) {
        self.used.borrow_mut().insert(key);
    }

    fn is_marked(&self, key: &str) -> bool {
        self.used.borrow().contains(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_without_a_reason_is_an_error() {
        let err = Overrides::parse(
            "[[route]]\ncommand = \"SYNC\"\nroute = \"stateful\"\nreason = \" \"\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("route SYNC has no reason"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(Overrides::parse(
            "[[route]]\ncommand = \"A\"\nroute = \"stateful\"\nreason = \"r\"\nextra = 1\n"
        )
        .is_err());
        assert!(Overrides::parse("[[nonsense]]\n").is_err());
    }

    #[test]
    fn entries_that_match_nothing_are_reported() {
        let o = Overrides::parse(
            "[[route]]\ncommand = \"SYNC\"\nroute = \"runtime\"\ninstead = \"i\"\nreason = \"r\"\n\
             [[reply_option]]\ncommand = \"SET\"\narg = \"get\"\ntype = \"Bytes\"\nreason = \"r\"\n\
             [token_type.\"NX XX\"]\nname = \"ExistenceCondition\"\nreason = \"r\"\n",
        )
        .unwrap();
        assert_eq!(o.route("SYNC").and_then(Route::excludes), Some("r"));
        assert!(o.reply_options("SET", |path| path == "nx").is_empty());
        assert_eq!(
            o.unused(),
            ["reply_option SET get", "token_type ExistenceCondition"]
        );
        assert_eq!(o.token_type("NX XX"), Some("ExistenceCondition"));
        assert_eq!(o.unused(), ["reply_option SET get"]);
    }

    #[test]
    fn routes_are_checked() {
        let parse = |body: &str| {
            Overrides::parse(&format!(
                "[[route]]\ncommand = \"X\"\nreason = \"r\"\n{body}"
            ))
        };
        assert!(parse("route = \"runtime\"\ninstead = \"use y\"\n").is_ok());
        assert!(parse("route = \"stateful\"\n").is_ok());
        for (bad, needle) in [
            ("route = \"elsewhere\"\n", "unknown route"),
            ("route = \"runtime\"\n", "`instead` is required"),
            (
                "route = \"stateful\"\ninstead = \"y\"\n",
                "`instead` is required",
            ),
            (
                "route = \"stateful\"\nwith_arguments = true\n",
                "with_arguments",
            ),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.to_string().contains(needle), "{bad}: {err}");
        }
        let o = parse("route = \"own-connection\"\ninstead = \"y\"\n").unwrap();
        assert_eq!(
            o.route("X").and_then(Route::excludes),
            None,
            "only the runtime route excludes"
        );
    }

    #[test]
    fn doc_notes_belong_to_their_command() {
        let o = Overrides::parse(
            "[[doc_note]]\ncommand = \"SELECT\"\nnote = \"refused here\"\nreason = \"r\"\n",
        )
        .unwrap();
        assert_eq!(o.unused(), ["doc_note SELECT"]);
        assert_eq!(o.doc_note("GET"), None);
        assert_eq!(o.doc_note("SELECT"), Some("refused here"));
        assert!(o.unused().is_empty());
        let no_note = Overrides::parse("[[doc_note]]\ncommand = \"SELECT\"\nreason = \"r\"\n");
        assert!(no_note.is_err());
    }
}
