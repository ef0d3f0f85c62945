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
    /// Commands not generated (they still get metadata).
    #[serde(default)]
    pub exclude: Vec<Exclude>,
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
    /// Reply types the schema cannot express.
    #[serde(default)]
    pub reply: Vec<Reply>,
    /// Options that change the reply type.
    #[serde(default)]
    pub reply_option: Vec<ReplyOption>,
    /// Replies whose schema alternatives (one per option set) each get their own type.
    #[serde(default)]
    pub reply_alternatives: Vec<ReplyAlternatives>,
    /// Keys (`kind:index`) of the entries that matched something.
    #[serde(skip)]
    used: RefCell<BTreeSet<String>>,
}

/// A command that is not generated.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclude {
    /// Full command name.
    pub command: String,
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
    /// Top-level argument name.
    pub arg: String,
    /// Why.
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
        for e in &o.exclude {
            if e.reason.trim().is_empty() {
                bail!("exclude {} has no reason", e.command);
            }
        }
        for r in &o.reply {
            if r.reason.trim().is_empty() {
                bail!("reply {} has no reason", r.command);
            }
        }
        for r in &o.reply_option {
            if r.reason.trim().is_empty() {
                bail!("reply_option {} {} has no reason", r.command, r.arg);
            }
        }
        for r in o.token_type.values() {
            if r.reason.trim().is_empty() {
                bail!("token_type {} has no reason", r.name);
            }
        }
        for f in &o.fix_arg {
            if f.reason.trim().is_empty() {
                bail!("fix_arg {} {} has no reason", f.command, f.arg);
            }
        }
        Ok(o)
    }

    /// The reason a command is excluded, if it is.
    pub fn excluded(&self, command: &str) -> Option<&str> {
        let (i, e) = self
            .exclude
            .iter()
            .enumerate()
            .find(|(_, e)| e.command == command)?;
        self.mark(format!("exclude:{i}"));
        Some(&e.reason)
    }

    /// The fix for the argument at `path` of `command`.
    pub fn fix_arg(&self, command: &str, path: &str) -> Option<&FixArg> {
        let (i, f) = self
            .fix_arg
            .iter()
            .enumerate()
            .find(|(_, f)| f.command == command && f.arg == path)?;
        self.mark(format!("fix_arg:{i}"));
        Some(f)
    }

    /// The type name for a pure-token choice.
    pub fn token_type(&self, tokens: &str) -> Option<&str> {
        let t = self.token_type.get(tokens)?;
        self.mark(format!("token_type:{tokens}"));
        Some(&t.name)
    }

    /// The name of the enum with data first used at `"COMMAND path"`.
    pub fn data_type(&self, first_user: &str) -> Option<&str> {
        let t = self.data_type.get(first_user)?;
        self.mark(format!("data_type:{first_user}"));
        Some(&t.name)
    }

    /// Whether top-level argument `arg` of `command` is flattened.
    pub fn flatten(&self, command: &str, arg: &str) -> bool {
        match self
            .flatten
            .iter()
            .enumerate()
            .find(|(_, f)| f.command == command && f.arg == arg)
        {
            Some((i, _)) => {
                self.mark(format!("flatten:{i}"));
                true
            }
            None => false,
        }
    }

    /// The default reply type of a command.
    pub fn reply(&self, command: &str) -> Option<&str> {
        let (i, r) = self
            .reply
            .iter()
            .enumerate()
            .find(|(_, r)| r.command == command)?;
        self.mark(format!("reply:{i}"));
        Some(&r.ty)
    }

    /// The type names of the alternatives of `command`'s reply schema.
    pub fn reply_alternatives(&self, command: &str) -> Option<&[String]> {
        let (i, r) = self
            .reply_alternatives
            .iter()
            .enumerate()
            .find(|(_, r)| r.command == command)?;
        self.mark(format!("reply_alternatives:{i}"));
        Some(&r.names)
    }

    /// The reply type once option `path` of `command` is given.
    pub fn reply_option(&self, command: &str, path: &str) -> Option<&str> {
        let (i, r) = self
            .reply_option
            .iter()
            .enumerate()
            .find(|(_, r)| r.command == command && r.arg == path)?;
        self.mark(format!("reply_option:{i}"));
        Some(&r.ty)
    }

    /// Entries that matched nothing, described.
    pub fn unused(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, e) in self.exclude.iter().enumerate() {
            if !self.is_marked(&format!("exclude:{i}")) {
                out.push(format!("exclude {}", e.command));
            }
        }
        for (i, f) in self.fix_arg.iter().enumerate() {
            if !self.is_marked(&format!("fix_arg:{i}")) {
                out.push(format!("fix_arg {} {}", f.command, f.arg));
            }
        }
        for k in self.token_type.keys() {
            if !self.is_marked(&format!("token_type:{k}")) {
                out.push(format!("token_type \"{k}\""));
            }
        }
        for k in self.data_type.keys() {
            if !self.is_marked(&format!("data_type:{k}")) {
                out.push(format!("data_type \"{k}\""));
            }
        }
        for (i, f) in self.flatten.iter().enumerate() {
            if !self.is_marked(&format!("flatten:{i}")) {
                out.push(format!("flatten {} {}", f.command, f.arg));
            }
        }
        for (i, r) in self.reply.iter().enumerate() {
            if !self.is_marked(&format!("reply:{i}")) {
                out.push(format!("reply {}", r.command));
            }
        }
        for (i, r) in self.reply_alternatives.iter().enumerate() {
            if !self.is_marked(&format!("reply_alternatives:{i}")) {
                out.push(format!("reply_alternatives {}", r.command));
            }
        }
        for (i, r) in self.reply_option.iter().enumerate() {
            if !self.is_marked(&format!("reply_option:{i}")) {
                out.push(format!("reply_option {} {}", r.command, r.arg));
            }
        }
        out
    }
}

impl Overrides {
    fn mark(&self, key: String) {
        self.used.borrow_mut().insert(key);
    }

    fn is_marked(&self, key: &str) -> bool {
        self.used.borrow().contains(key)
    }
}
