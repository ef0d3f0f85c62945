//! Extension traits for the commands a server has beyond respec's own (a module's:
//! FalkorDB's `GRAPH.*`), generated into a user's crate: x11rb's per-extension
//! `ConnectionExt`, for Redis modules.
//!
//! [`generate`] reads a command tree (the spec's per-command JSON, such as
//! `cargo xtask ext --from-server URL --module NAME` captures), leaves out the
//! commands respec already has, and writes one Rust file (a module of the user's
//! crate) with, per command, what `cargo xtask regen` writes for respec's own: its
//! metadata (`CommandMeta`: flags, key specs for cluster routing, where it runs),
//! its builder struct with a method per option, a constructor function for a
//! detached command (for pipelines and transactions), and a method of the
//! extension trait, implemented for everything that implements `respec::Commands`
//! (clients, the string view, watched connections). The emitters are respec's own
//! (`emit::command`, `emit::meta`, `emit::types`); only the imports differ (the
//! file names the runtime by its crate's path), so an extension command behaves
//! exactly like a generated one.
//!
//! The generator is a library: a user's `build.rs` may call it on a tree checked in
//! beside it (`respec::command::meta::all()` lists the commands to leave out), or
//! `cargo xtask ext` writes the file once, to be checked in.

use crate::emit;
use crate::model::Command;
use anyhow::{Context as _, Result};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What to generate an extension trait from.
#[derive(Debug, Clone)]
pub struct ExtOptions {
    /// Directory of `*.json` command files.
    pub spec_dir: PathBuf,
    /// Overrides (`spec/overrides.toml`'s format: reply types, routes, argument
    /// fixes); those that match nothing are warnings.
    pub overrides: Option<PathBuf>,
    /// The trait's name (`GraphCommands`).
    pub trait_name: String,
    /// The path of the runtime crate in the user's crate (`respec`).
    pub krate: String,
    /// Full names (`GET`, `CLIENT KILL`) of the commands respec already has: left
    /// out.
    pub known: BTreeSet<String>,
}

/// The generated file and what it covers.
#[derive(Debug, Clone)]
pub struct ExtOutput {
    /// The Rust file.
    pub text: String,
    /// The commands it has, by full name.
    pub commands: Vec<String>,
    /// The generator's warnings (unknown words, overrides that did not apply).
    pub warnings: Vec<String>,
}

/// Generates the extension file (see the module docs).
pub fn generate(opts: &ExtOptions) -> Result<ExtOutput> {
    let mut specs = crate::spec::load_dir(&opts.spec_dir)?;
    specs.retain(|(_, word, s)| {
        let full = match &s.container {
            Some(c) => format!("{} {}", c.to_uppercase(), word.to_uppercase()),
            None => word.to_uppercase(),
        };
        !opts.known.contains(&full)
    });
    anyhow::ensure!(
        !specs.is_empty(),
        "{}: every command is one of respec's own",
        opts.spec_dir.display()
    );
    let ov = match &opts.overrides {
        Some(p) => crate::overrides::Overrides::load(p)?,
        None => crate::overrides::Overrides::default(),
    };
    let mut model = crate::resolve(&specs, &ov, false)?;
    let mut warnings = std::mem::take(&mut model.warnings);
    warnings.extend(crate::unused_overrides(&ov, false)?);

    let mut metas = TokenStream::new();
    let mut items = TokenStream::new();
    let mut methods = TokenStream::new();
    let mut commands = Vec::new();
    for c in model.generated() {
        metas.extend(emit::meta::entry(c).with_context(|| format!("metadata of {}", c.name))?);
        let e = emit::command::emit(c, &model.replies[&c.name], &model.types)?;
        items.extend(e.item);
        methods.extend(e.trait_method);
        commands.push(c.name.clone());
    }
    let structs: TokenStream = model
        .structs
        .iter()
        .map(|(command, s)| emit::replies::emit(s, command))
        .collect();
    let types = model.types.emit();
    let krate = syn::parse_str::<syn::Path>(&opts.krate)
        .with_context(|| format!("the crate path {:?}", opts.krate))?;
    let name = format_ident!("{}", opts.trait_name);
    let trait_doc = format!(
        "The commands of this extension as methods of every respec client (anything \
         that implements [`Commands`]): {}.\n\nEach method returns the command bound \
         to the client; chain its options, then `.await` it. For a pipeline or a \
         transaction, queue the detached command its function builds instead.",
        names_list(&model.all)
    );
    let body = quote! {
        /// The extension's command metadata (flags, key specifications, where the
        /// runtime runs each command).
        pub mod meta {
            use super::*;
            use #krate::command::meta::{
                AclCategories, ArgMeta, BeginSearch, CommandFlags, CommandMeta, FindKeys,
                Group, KeySpec, KeySpecFlags, RequestPolicy, ResponsePolicy, Route, Tips,
                Version,
            };
            #metas
        }
        #types
        #structs
        #items
        #[doc = #trait_doc]
        pub trait #name: #krate::Commands {
            #methods
        }
        impl<T: #krate::Commands + ?Sized> #name for T {}
    };
    let uses_bytes = body.to_string().contains("Bytes");
    let bytes = uses_bytes.then(|| {
        quote!(
            use bytes::Bytes;
        )
    });
    let imports = quote! {
        use #krate::command::{
            command_impls, flag, CommandBuf, Detached, DoubleArg, IntArg, MillisArg,
            SecondsArg, TimeoutArg, ToArg, UnixTimeArg, WriteArgs,
        };
        use #krate::error::Result;
        use #krate::reply::{read_fields, FromReply, ReplyMode, TextReply, Value};
        use #krate::resp::Reader;
        use #krate::Commands;
        use std::collections::HashMap;
        use std::marker::PhantomData;
        #bytes
    };
    let text = emit::file(imports, body)?
        .replacen(
            emit::HEADER,
            "// @generated by `cargo xtask ext` (respec-codegen's `ext::generate`) from a command tree.\n// Do not edit: change the tree or its overrides and regenerate.\n\n",
            1,
        )
        // The docs link each command's struct where the user's module has it.
        .replace("(struct@crate::cmd::", "(struct@");
    Ok(ExtOutput {
        text,
        commands,
        warnings,
    })
}

/// `GRAPH.QUERY`, `GRAPH.LIST`, ... of the generated commands, in backquotes.
fn names_list(all: &[Command]) -> String {
    let names: Vec<String> = all
        .iter()
        .filter(|c| c.excluded().is_none())
        .map(|c| format!("`{}`", c.name))
        .collect();
    names.join(", ")
}
