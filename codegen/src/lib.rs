//! `respec-codegen`: the generator behind respec's typed command API.
//!
//! A pure library: command spec files (`spec/commands/*.json`) in, Rust source out.
//! `cargo xtask regen` drives it; nothing here touches the network or a server.
//!
//! The pipeline is load -> resolve -> emit: `spec/*.json` -> [`spec`] (strict serde
//! mirror) -> [`lower`] (the [`model`], with the argument and route [`overrides`]
//! applied) -> [`reply`] types (a [`reply::ReplyTy`] each, reply overrides applied) and
//! type names -> [`emit`], whose functions read the resolved model only.

pub mod emit;
pub mod ext;
pub mod live;
pub mod lower;
pub mod model;
pub mod names;
pub mod overrides;
pub mod reply;
pub mod spec;
pub mod vocab;

use anyhow::{bail, Context, Result};
use model::Command;
use overrides::Overrides;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use reply::{ReplyTy, StructDef};
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

/// Generates every file: load, resolve (lower the spec with the argument fixes, select
/// what is generated, decide every reply type and type name: every override applied
/// once), then emit each file from the resolved model alone.
pub fn generate(opts: &Options) -> Result<Output> {
    let (specs, ov) = load(opts)?;
    let mut model = resolve(&specs, &ov, opts.strict_overrides)?;
    let mut warnings = std::mem::take(&mut model.warnings);
    warnings.extend(unused_overrides(&ov, opts.strict_overrides)?);
    let (mut files, per_command) = emit_commands(&model)?;
    files.insert("types.rs".into(), emit_types(&model.types)?);
    files.insert("replies.rs".into(), emit_replies(&model.structs)?);
    files.insert("meta.rs".into(), emit_meta(&model.all)?);
    files.insert("mod.rs".into(), emit_mod()?);
    Ok(Output {
        files,
        coverage: model.coverage,
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

/// The fully resolved model: what the emitters read, with every override applied.
struct Model {
    /// Every command of the spec, sorted by name, with its route and reply options.
    all: Vec<Command>,
    /// The reply type of each generated command.
    replies: BTreeMap<String, ReplyTy>,
    /// The reply structs, each with the command it was made for.
    structs: Vec<(String, StructDef)>,
    /// The option enums' names and shapes.
    types: emit::types::TypeNames,
    /// The coverage figures.
    coverage: Coverage,
    /// What a foreign tree made the generator leave out or fall back on.
    warnings: Vec<String>,
}

impl Model {
    /// The commands that get a typed API (every one the runtime does not own).
    fn generated(&self) -> impl Iterator<Item = &Command> {
        self.all.iter().filter(|c| c.excluded().is_none())
    }
}

/// Lowers the spec and applies every override, once. With `strict` (the vendored
/// spec), a reply type naming a struct that does not exist is an error; otherwise
/// (a tree without the reply schema that would make it) it falls back to `Value`
/// with a warning.
fn resolve(specs: &SpecFiles, ov: &Overrides, strict: bool) -> Result<Model> {
    let mut warnings = vocab::unknown_words(specs);
    let mut all = lower_all(specs, ov, strict, &mut warnings)?;
    pin_reply_schemas(&mut all, ov, strict)?;
    let mut coverage = count(&all);
    let generated: Vec<&Command> = all.iter().filter(|c| c.excluded().is_none()).collect();
    let (mut replies, mut structs) = resolve_replies(&generated, ov, &mut coverage)?;
    warnings.extend(absent_pinned(&all, ov, strict, &mut structs)?);
    warnings.extend(dangling_types(
        &mut all,
        &mut replies,
        &mut structs,
        &mut coverage,
        strict,
    )?);
    let generated: Vec<&Command> = all.iter().filter(|c| c.excluded().is_none()).collect();
    let types = emit::types::TypeNames::build(&generated, ov, strict, &mut warnings)?;
    Ok(Model {
        all,
        replies,
        structs,
        types,
        coverage,
        warnings,
    })
}

/// Every command of the spec in the model, sorted by name (a container's own entry
/// is left out: its subcommands are the commands). A command that cannot be lowered
/// (a slip of the spec, such as a pure token without its token, or an override made
/// for another shape of it) is an error when `strict` (the vendored spec); otherwise
/// it is left out, with a warning in `warnings`.
fn lower_all(
    specs: &SpecFiles,
    ov: &Overrides,
    strict: bool,
    warnings: &mut Vec<String>,
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
        match lower::lower(file, word, s, ov).with_context(|| format!("lowering {file}")) {
            Ok(c) => all.push(c),
            Err(e) if !strict => warnings.push(format!("{file}: not generated: {e:#}")),
            Err(e) => return Err(e),
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// Gives each command with a `[[reply_schema]]` override (a reply type the runtime
/// relies on) that schema: the tree's must equal it when `strict` (the vendored
/// spec); otherwise it replaces the tree's, or stands in for a missing one.
fn pin_reply_schemas(all: &mut [Command], ov: &Overrides, strict: bool) -> Result<()> {
    for c in all.iter_mut() {
        let Some(pinned) = ov.reply_schema(&c.name) else {
            continue;
        };
        if strict && c.reply_schema.as_ref() != Some(&pinned) {
            bail!("reply_schema {}: differs from the spec's reply schema (copy the spec's into spec/overrides.toml, and adapt the runtime if the type changed)", c.name);
        }
        c.reply_schema = Some(pinned);
    }
    Ok(())
}

/// The reply structs of the `[[reply_schema]]` overrides whose command the tree
/// lacks (the runtime names them still), with a warning each; none when `strict`
/// (the override then matches nothing, an error).
fn absent_pinned(
    all: &[Command],
    ov: &Overrides,
    strict: bool,
    structs: &mut Vec<(String, StructDef)>,
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    for command in ov.reply_schema_commands() {
        if strict
            || all
                .iter()
                .any(|c| c.name == command && c.excluded().is_none())
        {
            continue;
        }
        let Some(schema) = ov.reply_schema(command) else {
            continue;
        };
        let hint = format!("{}Reply", names::camel(command));
        let r = reply::reply_type(&schema, &hint);
        warnings.push(format!(
            "{command}: not in this tree; the reply type the runtime names (`{}`) is generated from spec/overrides.toml",
            r.ty
        ));
        add_structs(command, r.structs, ov, structs)?;
    }
    Ok(warnings)
}

/// The counts of the coverage report: commands, subcommands, generated, excluded.
fn count(all: &[Command]) -> Coverage {
    let mut coverage = Coverage::default();
    for c in all {
        if c.container.is_some() {
            coverage.subcommands += 1;
        } else {
            coverage.top_level += 1;
        }
        match c.excluded() {
            Some(reason) => coverage.excluded.push((c.name.clone(), reason.to_owned())),
            None => coverage.generated += 1,
        }
    }
    coverage
}

/// The reply types of the generated commands and the reply structs they need.
type Replies = (BTreeMap<String, ReplyTy>, Vec<(String, StructDef)>);

/// Resolves each command's reply type: the override's alternatives or type, or the
/// type of its reply schema, or `Value` without one; then the struct fields the
/// overrides retype. A type that names neither a generated struct nor a runtime
/// reply type is an error naming the command.
fn resolve_replies(
    generated: &[&Command],
    ov: &Overrides,
    coverage: &mut Coverage,
) -> Result<Replies> {
    let mut structs: Vec<(String, StructDef)> = Vec::new();
    let mut of = BTreeMap::new();
    for c in generated {
        let hint = format!("{}Reply", names::camel(&c.name));
        let r = match (
            ov.reply_alternatives(&c.name),
            ov.reply(&c.name),
            &c.reply_schema,
        ) {
            (Some(names), _, Some(schema)) => reply::alternatives_named(schema, names)
                .with_context(|| {
                    format!("{}: reply_alternatives do not match the schema", c.name)
                })?,
            (_, Some(t), _) => reply::ReplyType {
                ty: ReplyTy::parse(t).with_context(|| format!("{}: the reply type", c.name))?,
                structs: Vec::new(),
            },
            (_, None, Some(schema)) => reply::reply_type(schema, &hint),
            (_, None, None) => reply::ReplyType {
                ty: ReplyTy::Value,
                structs: Vec::new(),
            },
        };
        add_structs(&c.name, r.structs, ov, &mut structs)?;
        if !r.ty.is_value() {
            coverage.typed += 1;
        }
        coverage.replies.insert(c.name.clone(), r.ty.to_string());
        coverage.groups.insert(c.name.clone(), c.group.clone());
        of.insert(c.name.clone(), r.ty);
    }
    Ok((of, structs))
}

/// Adds the reply structs made for `command` to `structs`, with the field types the
/// overrides give; a struct made twice is an error.
fn add_structs(
    command: &str,
    new: Vec<StructDef>,
    ov: &Overrides,
    structs: &mut Vec<(String, StructDef)>,
) -> Result<()> {
    for mut s in new {
        if structs.iter().any(|(_, x)| x.name == s.name) {
            bail!("reply struct {} generated twice", s.name);
        }
        for f in &mut s.fields {
            if let Some(t) = ov.reply_field(&s.name, &f.wire) {
                f.ty = ReplyTy::parse(t).with_context(|| {
                    format!("{command}: the type of field `{}` of {}", f.wire, s.name)
                })?;
            }
        }
        structs.push((command.to_owned(), s));
    }
    Ok(())
}

/// Checks that every type a reply names exists (a generated reply struct or one of
/// the runtime's): when `strict`, one that does not is an error naming the command;
/// otherwise (an override made for a reply schema this tree lacks) the type becomes
/// `Value`, with a warning.
fn dangling_types(
    all: &mut [Command],
    of: &mut BTreeMap<String, ReplyTy>,
    structs: &mut [(String, StructDef)],
    coverage: &mut Coverage,
    strict: bool,
) -> Result<Vec<String>> {
    let known: BTreeSet<String> = structs
        .iter()
        .map(|(_, s)| s.name.clone())
        .chain(reply::RUNTIME_TYPES.iter().map(|t| (*t).to_owned()))
        .collect();
    let mut warnings = Vec::new();
    let mut check = |command: &str, ty: &mut ReplyTy| -> Result<()> {
        let mut named = Vec::new();
        ty.named(&mut named);
        let Some(unknown) = named.iter().find(|n| !known.contains(n.as_str())) else {
            return Ok(());
        };
        if strict {
            bail!("{command}: the reply type `{ty}` names `{unknown}`, which is neither a generated reply struct nor one of the runtime's ({})", reply::RUNTIME_TYPES.join(", "));
        }
        warnings.push(format!(
            "{command}: the reply type `{ty}` names `{unknown}`, which this tree's reply schemas do not make: `Value` instead"
        ));
        *ty = ReplyTy::Value;
        Ok(())
    };
    for (command, ty) in of.iter_mut() {
        check(command, ty)?;
        if ty.is_value() && coverage.replies.get(command).is_some_and(|t| t != "Value") {
            coverage.typed -= 1;
            coverage.replies.insert(command.clone(), ty.to_string());
        }
    }
    for (command, s) in structs.iter_mut() {
        for f in &mut s.fields {
            check(command, &mut f.ty)?;
        }
    }
    for c in all.iter_mut().filter(|c| c.excluded().is_none()) {
        for ty in c.reply_options.values_mut() {
            check(&c.name, ty)?;
        }
    }
    Ok(warnings)
}

/// The command files (one per documentation group, and their `mod.rs`), the
/// `Commands` trait, and each command's code alone (for the golden snapshots).
fn emit_commands(
    model: &Model,
) -> Result<(BTreeMap<String, String>, BTreeMap<String, TokenStream>)> {
    let types = &model.types;
    // Commands, grouped by documentation group.
    let mut groups: BTreeMap<String, TokenStream> = BTreeMap::new();
    let mut trait_methods = TokenStream::new();
    let mut per_command = BTreeMap::new();
    for c in model.generated() {
        let e = emit::command::emit(c, &model.replies[&c.name], types)?;
        let (item, method, enums) = (&e.item, &e.trait_method, types.emit_for(&c.name));
        per_command.insert(
            c.name.clone(),
            quote!(#item trait Commands { #method } #enums),
        );
        groups.entry(c.group.clone()).or_default().extend(e.item);
        trait_methods.extend(e.trait_method);
    }

    let mut files = BTreeMap::new();
    let layer = emit::command_layer_use(&quote!(crate));
    let command_imports = quote! {
        #layer
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
                use crate::command::{BitOffsetArg, DoubleArg, Executor, IntArg, MillisArg, SecondsArg, TimeoutArg, ToArg, ToArgs, UnixTimeArg};
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
                flag, BitOffset, BitOffsetArg, CommandBuf, DoubleArg, IntArg, MillisArg, SecondsArg,
                TimeoutArg, ToArg, ToArgs, UnixTimeArg, WriteArgs,
            };
            use bytes::Bytes;
        },
        types.emit(),
    )
}

/// `replies.rs`: the reply structs.
fn emit_replies(structs: &[(String, StructDef)]) -> Result<String> {
    let structs: TokenStream = structs
        .iter()
        .map(|(command, s)| emit::replies::emit(s, command))
        .collect();
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
fn emit_meta(all: &[Command]) -> Result<String> {
    let mut metas = TokenStream::new();
    for c in all {
        metas.extend(emit::meta::entry(c).with_context(|| format!("metadata of {}", c.name))?);
    }
    let all_refs: Vec<&Command> = all.iter().collect();
    metas.extend(emit::meta::table(&all_refs));
    emit::file(
        quote! {
            use crate::command::meta::{
                AclCategories, ArgMeta, BeginSearch, CommandFlags, CommandMeta, FindKeys, Group,
                KeySpec, KeySpecFlags, RequestPolicy, ResponsePolicy, Route, Tips, Version,
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
