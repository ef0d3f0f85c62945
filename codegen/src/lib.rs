//! `respec-codegen`: the generator behind respec's typed command API.
//!
//! A pure library: command spec files (`spec/commands/*.json`) in, Rust source out.
//! `cargo xtask regen` drives it; nothing here touches the network or a server.
//!
//! The pipeline is `spec/*.json` -> [`spec`] (strict serde mirror) -> [`lower`]
//! (the [`model`], with [`overrides`] applied) -> [`reply`] types -> [`emit`].

pub mod emit;
pub mod lower;
pub mod model;
pub mod names;
pub mod overrides;
pub mod reply;
pub mod spec;

use anyhow::{bail, Context, Result};
use model::Command;
use overrides::Overrides;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What to generate from.
#[derive(Debug, Clone)]
pub struct Options {
    /// Directory of `*.json` command files.
    pub spec_dir: PathBuf,
    /// `spec/overrides.toml`.
    pub overrides: Option<PathBuf>,
    /// An override that matches nothing is an error (the vendored spec) rather than
    /// skipped (another tree).
    pub strict_overrides: bool,
}

/// The generated files and what they cover.
#[derive(Debug, Clone)]
pub struct Output {
    /// Path relative to the output directory -> file text.
    pub files: BTreeMap<String, String>,
    /// Coverage figures.
    pub coverage: Coverage,
    /// Non-fatal remarks (overrides that did not apply to a foreign tree).
    pub warnings: Vec<String>,
    /// Per generated command: its items and the option enums it takes.
    commands: BTreeMap<String, TokenStream>,
}

impl Output {
    /// The generated code of one command (struct, impls, constructor, trait method and
    /// the option enums it takes), formatted: what the golden snapshots pin.
    pub fn command_code(&self, name: &str) -> Result<String> {
        let code = self
            .commands
            .get(name)
            .with_context(|| format!("no generated command {name}"))?;
        let parsed: syn::File = syn::parse2(code.clone())?;
        Ok(prettyplease::unparse(&parsed))
    }
}

/// How much of the spec is generated and typed.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Top-level commands (containers such as `CLIENT` are not commands).
    pub top_level: usize,
    /// Subcommands.
    pub subcommands: usize,
    /// Commands with generated API.
    pub generated: usize,
    /// Excluded commands with their reasons.
    pub excluded: Vec<(String, String)>,
    /// Generated commands whose reply type is not `Value`.
    pub typed: usize,
    /// Generated commands and their reply types.
    pub replies: BTreeMap<String, String>,
    /// Generated commands and their documentation groups.
    pub groups: BTreeMap<String, String>,
}

impl Coverage {
    /// The four coverage lines.
    pub fn lines(&self) -> Vec<String> {
        let names: Vec<&str> = self.excluded.iter().map(|(n, _)| n.as_str()).collect();
        vec![
            format!(
                "spec: {} commands ({} top-level, {} subcommands)",
                self.top_level + self.subcommands,
                self.top_level,
                self.subcommands
            ),
            format!("generated: {} commands", self.generated),
            format!("excluded: {} ({})", self.excluded.len(), names.join(", ")),
            format!("typed replies: {} of {}", self.typed, self.generated),
        ]
    }
}

/// Generates every file: load, lower (the argument fixes of the overrides applied),
/// select what is generated, resolve every reply type, then emit each file from the
/// resolved model.
pub fn generate(opts: &Options) -> Result<Output> {
    let (specs, ov) = load(opts)?;
    let all = lower_all(&specs, &ov)?;
    let (generated, mut coverage) = select(&all, &ov);
    let replies = resolve_replies(&generated, &ov, &mut coverage)?;
    let types = emit::types::TypeNames::build(&generated, &ov)?;
    let (commands, per_command) = emit_commands(&generated, &replies.of, &types, &ov)?;
    let mut files = commands;
    files.insert("types.rs".into(), emit_types(&types)?);
    files.insert("replies.rs".into(), emit_replies(replies.structs)?);
    files.insert("meta.rs".into(), emit_meta(&all, &ov)?);
    files.insert("mod.rs".into(), emit_mod()?);
    let warnings = unused_overrides(&ov, opts.strict_overrides)?;
    Ok(Output {
        files,
        coverage,
        warnings,
        commands: per_command,
    })
}

/// The spec's command files: file name, command word, parsed content.
type SpecFiles = Vec<(String, String, spec::CommandSpec)>;

/// The spec files and the overrides.
fn load(opts: &Options) -> Result<(SpecFiles, Overrides)> {
    let specs = spec::load_dir(&opts.spec_dir)?;
    let ov = match &opts.overrides {
        Some(p) => Overrides::load(p)?,
        None => Overrides::default(),
    };
    Ok((specs, ov))
}

/// Every command of the spec in the model, sorted by name (a container's own entry
/// is left out: its subcommands are the commands).
fn lower_all(
    specs: &[(String, String, spec::CommandSpec)],
    ov: &Overrides,
) -> Result<Vec<Command>> {
    let containers: BTreeSet<String> = specs
        .iter()
        .filter_map(|(_, _, s)| s.container.as_ref().map(|c| c.to_uppercase()))
        .collect();
    let mut all = Vec::new();
    for (file, word, s) in specs {
        if s.container.is_none() && containers.contains(&word.to_uppercase()) {
            continue;
        }
        all.push(lower::lower(file, word, s, ov).with_context(|| format!("lowering {file}"))?);
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// The commands that get a typed API (every one the runtime does not own), and the
/// counts of the coverage report.
fn select<'a>(all: &'a [Command], ov: &Overrides) -> (Vec<&'a Command>, Coverage) {
    let mut coverage = Coverage::default();
    let mut generated = Vec::new();
    for c in all {
        if c.container.is_some() {
            coverage.subcommands += 1;
        } else {
            coverage.top_level += 1;
        }
        match ov.excluded(&c.name) {
            Some(reason) => coverage.excluded.push((c.name.clone(), reason.to_owned())),
            None => generated.push(c),
        }
    }
    coverage.generated = generated.len();
    (generated, coverage)
}

/// Every command's reply type, and the reply structs they need.
struct Replies {
    /// The reply type of each command, as Rust source.
    of: BTreeMap<String, String>,
    /// The reply structs.
    structs: TokenStream,
}

/// Resolves each command's reply type: the override's alternatives or type, or the
/// type of its reply schema, or `Value` without one.
fn resolve_replies(
    generated: &[&Command],
    ov: &Overrides,
    coverage: &mut Coverage,
) -> Result<Replies> {
    let mut structs_out = TokenStream::new();
    let mut struct_names = BTreeSet::new();
    let mut of = BTreeMap::new();
    for c in generated {
        let hint = format!("{}Reply", names::camel(&c.name));
        let named = match (ov.reply_alternatives(&c.name), &c.reply_schema) {
            (Some(names), Some(schema)) => {
                Some(reply::alternatives_named(schema, names).with_context(|| {
                    format!("{}: reply_alternatives do not match the schema", c.name)
                })?)
            }
            _ => None,
        };
        let (ty, structs) = match (ov.reply(&c.name), &c.reply_schema) {
            _ if named.is_some() => {
                let r = named.unwrap_or_default();
                (r.ty, r.structs)
            }
            (Some(t), _) => (t.to_owned(), Vec::new()),
            (None, Some(schema)) => {
                let r = reply::reply_type(schema, &hint);
                (r.ty, r.structs)
            }
            (None, None) => ("Value".to_owned(), Vec::new()),
        };
        for s in &structs {
            if !struct_names.insert(s.name.clone()) {
                bail!("reply struct {} generated twice", s.name);
            }
            structs_out.extend(emit::replies::emit(s, &c.name, ov));
        }
        if ty != "Value" {
            coverage.typed += 1;
        }
        coverage.replies.insert(c.name.clone(), ty.clone());
        coverage.groups.insert(c.name.clone(), c.group.clone());
        of.insert(c.name.clone(), ty);
    }
    Ok(Replies {
        of,
        structs: structs_out,
    })
}

/// The command files (one per documentation group, and their `mod.rs`), the
/// `Commands` trait, and each command's code alone (for the golden snapshots).
fn emit_commands(
    generated: &[&Command],
    reply_of: &BTreeMap<String, String>,
    types: &emit::types::TypeNames,
    ov: &Overrides,
) -> Result<(BTreeMap<String, String>, BTreeMap<String, TokenStream>)> {
    // Commands, grouped by documentation group.
    let mut groups: BTreeMap<String, TokenStream> = BTreeMap::new();
    let mut trait_methods = TokenStream::new();
    let mut per_command = BTreeMap::new();
    for c in generated {
        let e = emit::command::emit(c, &reply_of[&c.name], types, ov)?;
        let (item, method, enums) = (&e.item, &e.trait_method, types.emit_for(&c.name));
        per_command.insert(
            c.name.clone(),
            quote!(#item trait Commands { #method } #enums),
        );
        groups.entry(c.group.clone()).or_default().extend(e.item);
        trait_methods.extend(e.trait_method);
    }

    let mut files = BTreeMap::new();
    let command_imports = quote! {
        use crate::command::{
            command_impls, flag, CommandBuf, Detached, DoubleArg, IntArg, MillisArg, SecondsArg,
            TimeoutArg, ToArg, UnixTimeArg, WriteArgs,
        };
        use crate::generated::meta;
        use crate::generated::replies::*;
        use crate::generated::types::*;
        use crate::reply::{FromReply, GeoMatch, LcsMatches, ReplyMode, StreamEntry, Value};
        use bytes::Bytes;
        use std::collections::HashMap;
        use std::marker::PhantomData;
    };
    let mut group_mods = Vec::new();
    for (g, body) in groups {
        let m = names::snake(&g);
        files.insert(
            format!("commands/{m}.rs"),
            emit::file(command_imports.clone(), body)?,
        );
        group_mods.push(format_ident!("{}", m));
    }
    let group_docs: Vec<String> = group_mods
        .iter()
        .map(|m| format!("Commands of the `{m}` group."))
        .collect();
    files.insert(
        "commands/mod.rs".into(),
        emit::file(
            quote!(),
            quote! {
                #(#[doc = #group_docs] mod #group_mods; pub use #group_mods::*;)*
            },
        )?,
    );
    files.insert(
        "commands_trait.rs".into(),
        emit::file(
            quote! {
                use crate::command::{DoubleArg, Executor, IntArg, MillisArg, SecondsArg, TimeoutArg, ToArg, UnixTimeArg};
                use crate::generated::commands::*;
                use crate::generated::replies::*;
                use crate::reply::{FromReply, GeoMatch, LcsMatches, ReplyMode, StreamEntry, TextReply, Value};
                use std::collections::HashMap;
                use crate::generated::types::*;
                use bytes::Bytes;
            },
            quote! {
                /// Every command as a method, for anything that executes commands.
                ///
                /// Each method returns the command's struct bound to
                /// [`executor`](Commands::executor): chain its options, then `.await` it.
                pub trait Commands {
                    /// What runs the commands this trait builds.
                    type Exec<'a>: Executor + ReplyMode where Self: 'a;

                    /// The reply type of a command whose generated reply type is `T`:
                    /// `T` itself, or with `String`s for the string view
                    /// (`Client::strings`).
                    type Out<T: TextReply>: FromReply + Send + 'static;

                    /// The executor for one command.
                    fn executor(&self) -> Self::Exec<'_>;

                    #trait_methods
                }
            },
        )?,
    );
    Ok((files, per_command))
}

/// `types.rs`: the option enums and blocks.
fn emit_types(types: &emit::types::TypeNames) -> Result<String> {
    emit::file(
        quote! {
            use crate::command::{
                flag, CommandBuf, DoubleArg, IntArg, MillisArg, SecondsArg, TimeoutArg, ToArg,
                UnixTimeArg, WriteArgs,
            };
            use bytes::Bytes;
        },
        types.emit(),
    )
}

/// `replies.rs`: the reply structs.
fn emit_replies(structs: TokenStream) -> Result<String> {
    emit::file(
        quote! {
            use crate::error::Result;
            use crate::reply::{read_fields, FromReply, TextReply, Value};
            use crate::resp::Reader;
            use bytes::Bytes;
            use std::collections::HashMap;
        },
        structs,
    )
}

/// `meta.rs`: every command's metadata (the excluded ones too) and the lookup table.
fn emit_meta(all: &[Command], ov: &Overrides) -> Result<String> {
    let mut metas = TokenStream::new();
    for c in all {
        metas.extend(
            emit::meta::entry(c, ov.route(&c.name))
                .with_context(|| format!("metadata of {}", c.name))?,
        );
    }
    let all_refs: Vec<&Command> = all.iter().collect();
    metas.extend(emit::meta::table(&all_refs));
    emit::file(
        quote! {
            use crate::command::meta::{
                AclCategories, BeginSearch, CommandFlags, CommandMeta, FindKeys, Group, KeySpec,
                KeySpecFlags, RequestPolicy, ResponsePolicy, Route, Tips, Version,
            };
        },
        metas,
    )
}

/// `mod.rs`: the generated modules.
fn emit_mod() -> Result<String> {
    emit::file(
        quote!(),
        quote! {
            //! Generated from the command spec by `cargo xtask regen`.
            /// Command structs and constructors.
            pub mod commands;
            /// The `Commands` trait.
            pub mod commands_trait;
            /// Command metadata.
            pub mod meta;
            /// Reply structs.
            pub mod replies;
            /// Option enums.
            pub mod types;
        },
    )
}

/// The overrides that no longer apply: an error when `strict`, otherwise warnings.
fn unused_overrides(ov: &Overrides, strict: bool) -> Result<Vec<String>> {
    let unused = ov.unused();
    let mut warnings = Vec::new();
    if !unused.is_empty() {
        if strict {
            bail!(
                "overrides that no longer apply (remove or fix them): {}",
                unused.join("; ")
            );
        }
        warnings.extend(
            unused
                .into_iter()
                .map(|u| format!("override not applied: {u}")),
        );
    }
    Ok(warnings)
}
