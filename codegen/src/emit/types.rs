//! Option enums: pure-token choices shared across commands (`ExistenceCondition`),
//! and per-command enums with data (`SetExpiration`).

use super::args::{arg_word, is_valued, ArgGen};
use super::docs;
use crate::model::{child_path, Arg, ArgKind, Command};
use crate::names;
use crate::overrides::Overrides;
use anyhow::{bail, Result};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::{BTreeMap, BTreeSet};

/// A pure-token choice shared by every argument with the same tokens.
#[derive(Debug, Clone)]
struct TokenEnum {
    name: String,
    tokens: Vec<String>,
    variants: Vec<String>,
    users: BTreeSet<String>,
}

/// An enum with data, for a oneof argument; commands whose oneofs have the same
/// structure share one enum.
#[derive(Debug, Clone)]
struct DataEnum {
    name: String,
    /// The first command that takes it (its nested types are named from there).
    command: String,
    path: String,
    arg: Arg,
    users: BTreeSet<String>,
}

/// The structure of a oneof, without documentation: equal signatures share a type.
fn signature(a: &Arg) -> String {
    fn strip(a: &Arg) -> Arg {
        let mut a = a.clone();
        a.since = None;
        a.deprecated_since = None;
        a.summary = None;
        a.display = None;
        a.optional = false;
        a.multiple = false;
        a.name = String::new();
        a.kind = match a.kind {
            ArgKind::OneOf(c) => ArgKind::OneOf(c.iter().map(strip_child).collect()),
            ArgKind::Block(c) => ArgKind::Block(c.iter().map(strip_child).collect()),
            k => k,
        };
        a
    }
    fn strip_child(a: &Arg) -> Arg {
        let name = a.name.clone();
        let (optional, multiple) = (a.optional, a.multiple);
        let mut s = strip(a);
        s.name = name;
        s.optional = optional;
        s.multiple = multiple;
        s
    }
    format!("{:?}", strip(a))
}

/// Names of every option enum, decided once for the whole spec.
#[derive(Debug, Default)]
pub struct TypeNames {
    token_enums: BTreeMap<String, TokenEnum>,
    data_enums: Vec<DataEnum>,
    by_path: BTreeMap<(String, String), String>,
}

fn token_key(a: &Arg) -> String {
    a.choice_tokens().join(" ")
}

impl TypeNames {
    /// Walks every command and names every oneof. Two token choices given the same
    /// name are an error when `strict` (the vendored spec: add a `token_type`
    /// override); otherwise (another tree) the second gets a `_` appended, with a
    /// warning in `warnings`.
    pub fn build(
        commands: &[&Command],
        ov: &Overrides,
        strict: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Self> {
        let mut t = TypeNames::default();
        // Pass 1: token choices, grouped by their token list.
        type Choice = (Vec<String>, BTreeSet<String>, BTreeSet<String>, Vec<String>);
        let mut choices: BTreeMap<String, Choice> = BTreeMap::new();
        for c in commands {
            walk(&c.args, "", &mut |path, a| {
                if a.is_token_choice() {
                    let e = choices.entry(token_key(a)).or_default();
                    e.0 = a.choice_tokens();
                    e.3 = variant_names(a.children());
                    e.1.insert(names::camel(&a.name));
                    e.2.insert(format!("{}\u{0}{}", c.name, path));
                }
            });
        }
        // Candidate names: the override, else the argument name when all users agree
        // and no other token list claims it, else command + argument.
        let mut candidates: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, (_, arg_names, _, _)) in &choices {
            if ov.token_type(key).is_none() && arg_names.len() == 1 {
                let n = arg_names.iter().next().cloned().unwrap_or_default();
                candidates.entry(n).or_default().push(key.clone());
            }
        }
        // Command structs share the namespace of the docs: never reuse their names.
        let mut taken: BTreeSet<String> = commands.iter().map(|c| names::camel(&c.name)).collect();
        for (key, (tokens, arg_names, users, variants)) in &choices {
            let name = if let Some(n) = ov.token_type(key) {
                n.to_owned()
            } else {
                let n = arg_names.iter().next().cloned().unwrap_or_default();
                if arg_names.len() == 1
                    && candidates.get(&n).is_some_and(|v| v.len() == 1)
                    && !taken.contains(&n)
                {
                    n
                } else {
                    let first = users.iter().next().cloned().unwrap_or_default();
                    let (cmd, path) = first.split_once('\u{0}').unwrap_or_default();
                    let arg = path.rsplit('/').next().unwrap_or(path);
                    format!("{}{}", names::camel(cmd), names::camel(arg))
                }
            };
            let mut name = name;
            if !taken.insert(name.clone()) {
                if strict {
                    bail!("two token choices are both named {name}: add token_type overrides");
                }
                warnings.push(format!(
                    "two token choices are both named {name}: the one of {key:?} gets `_` appended (a token_type override names it)"
                ));
                while !taken.insert(name.clone()) {
                    name.push('_');
                }
            }
            let variants = variants.clone();
            for u in users {
                let (cmd, path) = u.split_once('\u{0}').unwrap_or_default();
                t.by_path
                    .insert((cmd.to_owned(), path.to_owned()), name.clone());
            }
            t.token_enums.insert(
                key.clone(),
                TokenEnum {
                    name,
                    tokens: tokens.clone(),
                    variants,
                    users: users
                        .iter()
                        .map(|u| u.split('\u{0}').next().unwrap_or_default().to_owned())
                        .collect(),
                },
            );
        }
        // Pass 2: other oneofs, one enum per structure.
        let mut by_signature: BTreeMap<String, usize> = BTreeMap::new();
        for c in commands {
            let mut found = Vec::new();
            walk(&c.args, "", &mut |path, a| {
                if matches!(a.kind, ArgKind::OneOf(_)) && !a.is_token_choice() {
                    found.push((path.to_owned(), a.clone()));
                }
            });
            for (path, a) in found {
                let sig = signature(&a);
                if let Some(&i) = by_signature.get(&sig) {
                    let e = &mut t.data_enums[i];
                    e.users.insert(c.name.clone());
                    t.by_path.insert((c.name.clone(), path), e.name.clone());
                    continue;
                }
                let first_user = format!("{} {}", c.name, path);
                let mut name = match ov.data_type(&first_user) {
                    Some(n) => n.to_owned(),
                    None => format!("{}{}", names::camel(&c.name), names::camel(&a.name)),
                };
                while !taken.insert(name.clone()) {
                    name.push('_');
                }
                t.by_path
                    .insert((c.name.clone(), path.clone()), name.clone());
                by_signature.insert(sig, t.data_enums.len());
                t.data_enums.push(DataEnum {
                    name,
                    command: c.name.clone(),
                    path,
                    arg: a,
                    users: BTreeSet::from([c.name.clone()]),
                });
            }
        }
        Ok(t)
    }

    /// The Rust name of the enum for the oneof `a` at `path` of `command`.
    pub fn name_of(&self, command: &str, path: &str, a: &Arg) -> String {
        self.by_path
            .get(&(command.to_owned(), path.to_owned()))
            .cloned()
            .unwrap_or_else(|| format!("Unknown{}", names::camel(&a.name)))
    }

    /// The name of the enum of the oneof at `path` of `command`, if it has one.
    pub fn get(&self, command: &str, path: &str) -> Option<&str> {
        self.by_path
            .get(&(command.to_owned(), path.to_owned()))
            .map(String::as_str)
    }

    /// The enums `command` takes (for snapshots).
    pub fn emit_for(&self, command: &str) -> TokenStream {
        let mut out = TokenStream::new();
        for e in self
            .token_enums
            .values()
            .filter(|e| e.users.contains(command))
        {
            out.extend(emit_token_enum(e));
        }
        for e in self.data_enums.iter().filter(|e| e.users.contains(command)) {
            out.extend(self.emit_data_enum(e));
        }
        out
    }

    /// Emits `types.rs`.
    pub fn emit(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for e in self.token_enums.values() {
            out.extend(emit_token_enum(e));
        }
        for e in &self.data_enums {
            out.extend(self.emit_data_enum(e));
        }
        out
    }

    fn emit_data_enum(&self, e: &DataEnum) -> TokenStream {
        let gen = ArgGen {
            command: &e.command,
            types: self,
        };
        let name = format_ident!("{}", e.name);
        let mut variants = Vec::new();
        let mut arms = Vec::new();
        let vnames = variant_names(e.arg.children());
        for (alt, vname) in e.arg.children().iter().zip(&vnames) {
            let v = format_ident!("{}", vname);
            let path = child_path(&e.path, alt);
            let doc = docs::arg_doc(alt);
            let token = alt.token.as_ref().map(|t| quote!(buf.token(#t);));
            match &alt.kind {
                ArgKind::PureToken if !alt.multiple => {
                    let t = super::args::token_lit(alt);
                    variants.push(quote!(#[doc = #doc] #v));
                    arms.push(quote!(Self::#v => { buf.token(#t); }));
                }
                ArgKind::Block(children) if !alt.multiple => {
                    let mut fields = Vec::new();
                    let mut vars = Vec::new();
                    let mut fused = BTreeSet::new();
                    for c in children.iter().filter(|c| is_valued(c)) {
                        let mut f = names::snake(&c.name);
                        while !fused.insert(f.clone()) {
                            f.push('_');
                        }
                        let fi = format_ident!("{}", f);
                        let ty = gen.owned_field(&child_path(&path, c), c);
                        let fdoc = docs::arg_doc(c);
                        fields.push(quote!(#[doc = #fdoc] #fi: #ty));
                        vars.push(fi);
                    }
                    let body = gen.write_children(&path, children, &vars);
                    if fields.is_empty() {
                        variants.push(quote!(#[doc = #doc] #v));
                        arms.push(quote!(Self::#v => { #token #body }));
                    } else {
                        variants.push(quote!(#[doc = #doc] #v { #(#fields),* }));
                        arms.push(quote!(Self::#v { #(#vars),* } => { #token #body }));
                    }
                }
                _ => {
                    // An alternative is never "optional": it is there when chosen.
                    let mut inner = alt.clone();
                    inner.optional = false;
                    let ty = gen.owned_field(&path, &inner);
                    let body = gen.write_field(&path, &inner, quote!(value), false);
                    variants.push(quote!(#[doc = #doc] #v(#ty)));
                    arms.push(quote!(Self::#v(value) => { #body }));
                }
            }
        }
        let doc = format!(
            "`{}` of [`{}`](struct@crate::cmd::{}): {}",
            e.arg.syntax(),
            e.command,
            names::camel(&e.command),
            e.arg
                .summary
                .clone()
                .unwrap_or_else(|| format!("one of its `{}` choices.", e.arg.name))
        );
        quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, PartialEq)]
            pub enum #name { #(#variants),* }

            impl WriteArgs for #name {
                fn write_args(&self, buf: &mut CommandBuf) {
                    match self { #(#arms)* }
                }
            }
        }
    }
}

fn emit_token_enum(e: &TokenEnum) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let users: Vec<String> = e
        .users
        .iter()
        .map(|u| format!("[`{u}`](struct@crate::cmd::{})", names::camel(u)))
        .collect();
    let doc = format!(
        "One of `{}`, taken by {}.",
        e.tokens.join(" | "),
        users.join(", ")
    );
    let variants: Vec<_> = e.variants.iter().map(|v| format_ident!("{}", v)).collect();
    let tokens = &e.tokens;
    let vdocs: Vec<String> = e.tokens.iter().map(|t| format!("`{t}`")).collect();
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum #name { #(#[doc = #vdocs] #variants),* }

        impl #name {
            /// The token sent for this choice.
            pub fn as_str(self) -> &'static str {
                match self { #(Self::#variants => #tokens),* }
            }
        }

        impl WriteArgs for #name {
            fn write_args(&self, buf: &mut CommandBuf) {
                buf.token(self.as_str());
            }
        }

        impl ToArg for #name {
            fn write_arg(&self, buf: &mut CommandBuf) {
                buf.token(self.as_str());
            }
        }
    }
}

/// The variant names of an enum whose alternatives are `alts` (unique: a repeated
/// name gets a `_` appended).
pub fn variant_names(alts: &[Arg]) -> Vec<String> {
    let mut used = BTreeSet::new();
    alts.iter()
        .map(|alt| {
            let mut v = names::camel(&arg_word(alt));
            while !used.insert(v.clone()) {
                v.push('_');
            }
            v
        })
        .collect()
}

/// Calls `f` with every argument (at any depth) and its path.
pub fn walk(args: &[Arg], prefix: &str, f: &mut impl FnMut(&str, &Arg)) {
    for a in args {
        let path = child_path(prefix, a);
        f(&path, a);
        walk(a.children(), &path, f);
    }
}
