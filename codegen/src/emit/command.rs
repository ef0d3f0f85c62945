//! One command: its struct, constructor, builder methods and trait method.

use super::args::{arg_word, counted, is_text, is_valued, token_lit, ArgGen};
use super::docs;
use super::types::TypeNames;
use crate::model::{child_path, Arg, ArgKind, Command};
use crate::names;
use crate::reply::ReplyTy;
use anyhow::Result;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use std::collections::{BTreeMap, BTreeSet};

/// Method names the shared impls already use.
/// (Methods of the `Command` trait may be shadowed: it stays callable as a trait.)
const RESERVED: &[&str] = &["decode", "detach", "new_in", "into_future", "clone", "fmt"];

/// What the emitter produced for one command.
pub struct Emitted {
    /// Struct, impls and constructor function.
    pub item: TokenStream,
    /// The `Commands` trait method.
    pub trait_method: TokenStream,
}

/// Emits one command.
pub fn emit(c: &Command, reply: &ReplyTy, types: &TypeNames) -> Result<Emitted> {
    let gen = ArgGen {
        command: &c.name,
        types,
    };
    let ty = format_ident!("{}", names::camel(&c.name));
    let func = format_ident!("{}", names::snake(&c.name));
    let meta_ident = format_ident!("{}", names::snake(&c.name).to_uppercase());
    let alias = &c.name;
    let doc = docs::command_doc(c, reply, types);
    let deprecated = c.deprecated_since.as_ref().map(|v| {
        let note = c
            .replaced_by
            .as_deref()
            .map(|r| format!("replaced by {r}"))
            .unwrap_or_else(|| "deprecated by the server".into());
        quote!(#[deprecated(since = #v, note = #note)])
    });

    // Name words, pre-encoded.
    let words = c.words();
    let mut name_resp = String::new();
    for w in &words {
        name_resp.push_str(&format!("${}\r\n{}\r\n", w.len(), w));
    }
    let name_lit = proc_macro2::Literal::byte_string(name_resp.as_bytes());
    let name_argc = words.len() as u8;

    // Constructor.
    let mut params: Vec<(Ident, TokenStream)> = Vec::new();
    // Locals of `new_in` are not available as parameter names.
    let mut used_params: BTreeSet<String> = ["exec", "cmd", "buf"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut body = TokenStream::new();
    let mut param_doc = String::new();
    for (i, a) in c.args.iter().enumerate() {
        if a.optional {
            // Computed count before an optional list: zero unless the list is given.
            continue;
        }
        let pos = pos_of(i);
        let an = &a.name;
        body.extend(quote!(buf.single(#pos, #an);));
        let path = a.name.clone();
        match &a.kind {
            ArgKind::NumItems => {
                if let Some(t) = a.token.as_ref().map(|_| token_lit(a)) {
                    body.extend(quote!(buf.token(#t);));
                }
                if c.args.get(i + 1).is_some_and(|n| n.optional) {
                    body.extend(quote!(0usize.write_int(buf);));
                }
            }
            ArgKind::PureToken if !a.multiple => {
                let t = token_lit(a);
                body.extend(quote!(buf.token(#t);));
            }
            ArgKind::Block(children) if !a.multiple => {
                if let Some(t) = a.token.as_ref().map(|_| token_lit(a)) {
                    body.extend(quote!(buf.token(#t);));
                }
                let mut vars = Vec::new();
                for (j, ch) in children.iter().enumerate() {
                    if !is_valued(ch) {
                        continue;
                    }
                    let id = unique(&names::snake(&ch.name), &mut used_params);
                    let t = gen.param_field(&child_path(&path, ch), ch, counted(children, j));
                    param_doc.push_str(&format!("\n- `{id}`: {}", docs::arg_doc(ch)));
                    params.push((id.clone(), t));
                    vars.push(id);
                }
                body.extend(gen.write_children(&path, children, &vars));
            }
            _ => {
                let id = unique(&names::snake(&a.name), &mut used_params);
                let t = gen.param_field(&path, a, counted(&c.args, i));
                param_doc.push_str(&format!("\n- `{id}`: {}", docs::arg_doc(a)));
                params.push((id.clone(), t));
                body.extend(gen.write_field(&path, a, quote!(#id), counted(&c.args, i)));
            }
        }
    }
    // Choices flattened into options still need one of them.
    let groups: BTreeSet<&String> = c.args.iter().filter_map(|a| a.group.as_ref()).collect();
    for g in groups {
        body.extend(quote!(buf.require(#g);));
    }
    let bind = if body.is_empty() {
        quote!(let cmd = CommandBuf::new(#name_lit, #name_argc);)
    } else {
        quote!(let mut cmd = CommandBuf::new(#name_lit, #name_argc); let buf = &mut cmd;)
    };
    let param_decls: Vec<TokenStream> = params.iter().map(|(n, t)| quote!(#n: #t)).collect();
    let param_names: Vec<&Ident> = params.iter().map(|(n, _)| n).collect();

    // Builder methods.
    let mut used_methods: BTreeSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    let mut methods = TokenStream::new();
    for (i, a) in c.args.iter().enumerate() {
        if !a.optional {
            continue;
        }
        methods.extend(optional_methods(&gen, c, i, &ty, &mut used_methods));
    }

    // The free function builds a detached command, the trait method one bound to
    // whatever executes it; the rest of their docs is the same.
    let doc_with = |builds: &str, how: &str| {
        format!(
            "`{}`: {}\n\n{builds} [`{}`](struct@crate::cmd::{}){how}; see it for the options and the reply.{}{}",
            c.name,
            docs::escape(&c.summary),
            ty,
            ty,
            c.doc_note
                .as_ref()
                .map(|note| format!("\n\n**Note**: {note}"))
                .unwrap_or_default(),
            if param_doc.is_empty() {
                String::new()
            } else {
                format!("\n\nArguments:{param_doc}")
            }
        )
    };
    let fn_doc = doc_with(
        "Builds a detached",
        " (queue it in a pipeline, or send it later)",
    );
    let method_doc = doc_with(
        "Builds a",
        " bound to this client or pipeline (await it to run it; its `.into_future()` is the future of its reply, for where a `Future` is expected: `join_all`, `tokio::spawn`)",
    );
    let new_doc = format!("Builds `{}` bound to `exec`.", c.name);
    let item = quote! {
        #[doc = #doc]
        #[doc(alias = #alias)]
        #deprecated
        #[must_use = "a command does nothing until it is awaited or queued"]
        pub struct #ty<X = Detached, R = #reply> {
            buf: CommandBuf,
            exec: X,
            _reply: PhantomData<fn() -> R>,
        }

        command_impls!(#ty, meta::#meta_ident);

        impl<X: ReplyMode> #ty<X, <X as ReplyMode>::Out<#reply>> {
            #[doc = #new_doc]
            pub fn new_in(exec: X, #(#param_decls),*) -> Self {
                #bind
                #body
                #ty { buf: cmd, exec, _reply: PhantomData }
            }
        }

        impl<X, R> #ty<X, R> {
            #methods
        }

        #[doc = #fn_doc]
        #[doc(alias = #alias)]
        #deprecated
        pub fn #func(#(#param_decls),*) -> #ty {
            #ty::new_in(Detached, #(#param_names),*)
        }
    };
    let trait_method = quote! {
        #[doc = #method_doc]
        #[doc(alias = #alias)]
        #deprecated
        fn #func(&self, #(#param_decls),*) -> #ty<Self::Exec<'_>, Self::Out<#reply>> {
            #ty::new_in(self.executor(), #(#param_names),*).decode()
        }
    };
    Ok(Emitted { item, trait_method })
}

/// The room between the spec positions of two top-level arguments (positions in
/// between are for the fields of flattened blocks). Emitted into the generated
/// metadata as `ARG_POS_STRIDE`, the one definition the client uses.
pub const ARG_POS_STRIDE: u16 = 16;

/// Position of top-level argument `i`.
fn pos_of(i: usize) -> u16 {
    i as u16 * ARG_POS_STRIDE
}

/// The parameter of a one-value method: the argument's name (`seconds`).
fn param_ident(a: &Arg) -> Ident {
    let n = names::snake(&a.name);
    if n == "self_" || n == "buf" {
        format_ident!("value")
    } else {
        format_ident!("{}", n)
    }
}

fn unique(base: &str, used: &mut BTreeSet<String>) -> Ident {
    let mut n = base.to_owned();
    while !used.insert(n.clone()) {
        n.push('_');
    }
    format_ident!("{}", n)
}

/// A builder method.
struct Method {
    name: String,
    doc: String,
    params: Vec<(Ident, TokenStream)>,
    body: TokenStream,
    /// Path for a reply-changing override.
    path: String,
}

/// The builder methods of optional argument `i` of `c`: one per way to give it
/// (the whole value, each alternative of a choice, with and without a flag that
/// changes the reply), each named uniquely among `used`.
fn optional_methods(
    gen: &ArgGen<'_>,
    c: &Command,
    i: usize,
    ty: &Ident,
    used: &mut BTreeSet<String>,
) -> TokenStream {
    let a = &c.args[i];
    let o = Optional::new(gen, c, i);
    let methods = match &a.kind {
        ArgKind::PureToken => vec![o.token_method()],
        ArgKind::OneOf(alts) => o.choice_methods(alts),
        ArgKind::Block(children) => match &a.flat {
            Some(rename) => o.flat_methods(children, rename),
            None => o.block_methods(children),
        },
        _ => vec![o.value_method()],
    };
    render_methods(c, a, ty, methods, used)
}

/// What the methods of one optional argument share.
struct Optional<'a, 'g> {
    gen: &'a ArgGen<'g>,
    c: &'a Command,
    /// Its index among the top-level arguments.
    i: usize,
    a: &'a Arg,
    /// Code marking the argument's position: accumulating (a repeatable option that
    /// is self-contained per call: a token before each item, or no token) or
    /// replacing (one token, then a list).
    start: TokenStream,
    /// Code writing the argument's own token, if it has one.
    own_token: Option<TokenStream>,
    /// The argument's doc.
    doc: String,
}

impl<'a, 'g> Optional<'a, 'g> {
    fn new(gen: &'a ArgGen<'g>, c: &'a Command, i: usize) -> Self {
        let a = &c.args[i];
        let pos = pos_of(i);
        let an = &a.name;
        let start = if a.multiple && (a.multiple_token || a.token.is_none()) {
            quote!(buf.multi(#pos, #an);)
        } else {
            quote!(buf.single(#pos, #an);)
        };
        let own_token = a.token.as_ref().map(|_| {
            let t = token_lit(a);
            quote!(buf.token(#t);)
        });
        Optional {
            gen,
            c,
            i,
            a,
            start,
            own_token,
            doc: docs::arg_doc(a),
        }
    }

    /// A pure token: a method without parameters.
    fn token_method(&self) -> Method {
        let (a, start) = (self.a, &self.start);
        let t = token_lit(a);
        Method {
            name: arg_word(a),
            doc: self.doc.clone(),
            params: vec![],
            body: quote!(#start buf.token(#t);),
            path: a.name.clone(),
        }
    }

    /// A choice: the whole choice as one value, then one method per alternative.
    fn choice_methods(&self, alts: &[Arg]) -> Vec<Method> {
        let (a, start, own_token) = (self.a, &self.start, &self.own_token);
        let path = &a.name;
        let ety = self.gen.owned_item(path, a);
        let mut out = vec![Method {
            name: a.name.clone(),
            doc: self.doc.clone(),
            params: vec![(format_ident!("value"), ety)],
            body: quote!(#start #own_token value.write_args(buf);),
            path: a.name.clone(),
        }];
        for alt in alts {
            if let Some(lifted) = self.lifted_methods(alt) {
                out.extend(lifted);
                continue;
            }
            let alt_path = child_path(path, alt);
            let alt_doc = format!("{} (one of {})", docs::arg_doc(alt), self.doc);
            let (params, write) = alt_params(self.gen, &alt_path, alt);
            out.push(Method {
                name: arg_word(alt),
                doc: alt_doc,
                params,
                body: quote!(#start #own_token #write),
                path: alt_path,
            });
        }
        out
    }

    /// In a repeatable choice, an alternative that is a token-less block of choices
    /// (BITFIELD's `[OVERFLOW ..] <SET .. | INCRBY ..>`) is lifted: each inner choice
    /// gets its own methods, and the call order gives the wire order. `None` for any
    /// other alternative.
    fn lifted_methods(&self, alt: &Arg) -> Option<Vec<Method>> {
        let (a, start, own_token) = (self.a, &self.start, &self.own_token);
        let ArgKind::Block(inner) = &alt.kind else {
            return None;
        };
        if !a.multiple
            || alt.token.is_some()
            || !inner.iter().all(|i| matches!(i.kind, ArgKind::OneOf(_)))
        {
            return None;
        }
        let block_path = child_path(&a.name, alt);
        let mut out = Vec::new();
        for choice in inner {
            let cpath = child_path(&block_path, choice);
            let ctoken = choice.token.as_ref().map(|_| {
                let t = token_lit(choice);
                quote!(buf.token(#t);)
            });
            if choice.optional {
                let ety = self.gen.owned_item(&cpath, choice);
                let pid = param_ident(choice);
                out.push(Method {
                    name: arg_word(choice),
                    doc: docs::arg_doc(choice),
                    params: vec![(pid.clone(), ety)],
                    body: quote!(#start #own_token #ctoken #pid.write_args(buf);),
                    path: cpath,
                });
                continue;
            }
            for leaf in choice.children() {
                let lpath = child_path(&cpath, leaf);
                let (params, write) = alt_params(self.gen, &lpath, leaf);
                out.push(Method {
                    name: arg_word(leaf),
                    doc: format!("{} (one of {})", docs::arg_doc(leaf), docs::arg_doc(choice)),
                    params,
                    body: quote!(#start #own_token #ctoken #write),
                    path: lpath,
                });
            }
        }
        Some(out)
    }

    /// A block: one method taking its values. An optional flag inside the block that
    /// changes the reply (`count [WITHSCORES]`) splits the method in two: without it
    /// and with it.
    fn block_methods(&self, children: &[Arg]) -> Vec<Method> {
        let (a, start, own_token, doc) = (self.a, &self.start, &self.own_token, &self.doc);
        let path = &a.name;
        let split = children.iter().position(|ch| {
            matches!(ch.kind, ArgKind::PureToken)
                && ch.optional
                && self.c.reply_options.contains_key(&child_path(path, ch))
        });
        let variants: Vec<Option<bool>> = match split {
            Some(_) => vec![Some(false), Some(true)],
            None => vec![None],
        };
        let mut out = Vec::new();
        for flag_value in variants {
            let fixed_flag = split.map(|j| (j, flag_value == Some(true)));
            let (params, vars, fixed) = block_params(self.gen, path, children, fixed_flag);
            let write = self.gen.write_children(path, children, &vars);
            let (name, mpath, mdoc) = match (split, flag_value) {
                (Some(j), Some(true)) => (
                    format!("{}_{}", arg_word(a), arg_word(&children[j])),
                    child_path(path, &children[j]),
                    format!(
                        "{doc} with `{}`",
                        children[j].token.clone().unwrap_or_default()
                    ),
                ),
                (Some(j), _) => (
                    arg_word(a),
                    a.name.clone(),
                    format!(
                        "{doc} without `{}`",
                        children[j].token.clone().unwrap_or_default()
                    ),
                ),
                _ => (arg_word(a), a.name.clone(), doc.clone()),
            };
            out.push(Method {
                name,
                doc: mdoc,
                params,
                body: quote!(#start #own_token #fixed #write),
                path: mpath,
            });
        }
        out
    }

    /// A flattened block: its children are options of their own, each at its place
    /// inside the block. A leading required choice of pure tokens takes the block's
    /// first required value (`<MAXLEN | MINID> [= | ~] threshold`: `.maxlen(n)`,
    /// `.minid(id)`); the other options then need one of it (`.approx()` alone is
    /// an argument problem). `rename` gives method names in place of the
    /// children's.
    fn flat_methods(&self, children: &[Arg], rename: &BTreeMap<String, String>) -> Vec<Method> {
        let (gen, a) = (self.gen, self.a);
        let base = pos_of(self.i);
        let block = &a.name;
        let at = |j: usize| base + 1 + j as u16;
        let named = |x: &Arg| rename.get(&x.name).cloned().unwrap_or_else(|| arg_word(x));
        let lead = children
            .first()
            .filter(|f| f.is_token_choice() && !f.optional)
            .and_then(|_| {
                children
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|(_, c)| !c.optional && is_valued(c))
            });
        let mut out = Vec::new();
        if let Some((v, value)) = lead {
            let vpath = child_path(block, value);
            let (p0, pv, vn) = (at(0), at(v), &value.name);
            let pid = param_ident(value);
            let write = gen.write_item(&vpath, value, quote!(#pid));
            for alt in children[0].children() {
                let t = token_lit(alt);
                out.push(Method {
                    name: named(alt),
                    doc: format!(
                        "`{} {}` (one of {})",
                        alt.token.as_deref().unwrap_or_default(),
                        value.syntax(),
                        self.doc
                    ),
                    params: vec![(pid.clone(), gen.param_item(&vpath, value))],
                    body: quote! {
                        buf.single(#p0, #block);
                        buf.token(#t);
                        buf.single(#pv, #vn);
                        #write
                        buf.satisfy();
                    },
                    path: child_path(block, alt),
                });
            }
        }
        let needs = lead.map(|_| {
            let p0 = at(0);
            quote!(buf.needs(#p0, #block);)
        });
        for (j, c) in children.iter().enumerate() {
            if j == 0 && lead.is_some() || lead.is_some_and(|(v, _)| v == j) {
                continue;
            }
            let cpath = child_path(block, c);
            let (pj, cn) = (at(j), &c.name);
            let start = quote!(buf.single(#pj, #cn););
            let ctoken = c.token.as_ref().map(|_| {
                let t = token_lit(c);
                quote!(buf.token(#t);)
            });
            if let ArgKind::OneOf(alts) = &c.kind {
                for alt in alts {
                    let (params, write) = alt_params(gen, &child_path(&cpath, alt), alt);
                    out.push(Method {
                        name: named(alt),
                        doc: format!("{} (one of {})", docs::arg_doc(alt), docs::arg_doc(c)),
                        params,
                        body: quote!(#start #ctoken #write #needs),
                        path: child_path(&cpath, alt),
                    });
                }
                continue;
            }
            let (params, write) = alt_params(gen, &cpath, c);
            out.push(Method {
                name: named(c),
                doc: docs::arg_doc(c),
                params,
                body: quote!(#start #write #needs),
                path: cpath,
            });
        }
        out
    }

    /// A value or a list of values: one method taking it. A list after its count
    /// (`numkeys`) rewrites the count with the list's length.
    fn value_method(&self) -> Method {
        let (gen, c, i, a, start) = (self.gen, self.c, self.i, self.a, &self.start);
        let path = &a.name;
        let (pos, an) = (pos_of(i), &a.name);
        let mut inner = a.clone();
        inner.optional = false;
        let pid = param_ident(a);
        let after_count = i > 0 && matches!(c.args[i - 1].kind, ArgKind::NumItems);
        let (pty, write) = if a.multiple && after_count {
            let prev = &c.args[i - 1];
            let ppos = pos_of(i - 1);
            let pn = &prev.name;
            let ptoken = prev.token.as_ref().map(|_| {
                let t = token_lit(prev);
                quote!(buf.token(#t);)
            });
            let (items, len, each) = if is_text(a) {
                (
                    quote!(#pid),
                    quote!(items.arg_count()),
                    quote!(items.write_each(None, buf);),
                )
            } else {
                let wi = gen.write_item(path, a, quote!(item));
                (
                    quote!(#pid.into_iter()),
                    quote!(items.len()),
                    quote!(for item in items { #wi }),
                )
            };
            (
                gen.list_param(path, a, true),
                quote! {
                    let items = #items;
                    buf.single(#ppos, #pn);
                    #ptoken
                    #len.write_int(buf);
                    buf.single(#pos, #an);
                    #each
                },
            )
        } else if a.multiple {
            // An empty list for an optional argument sends nothing.
            let w = gen.write_list(path, a, quote!(#pid), false, true);
            (gen.list_param(path, a, false), quote!(#start #w))
        } else {
            let item = gen.param_item(path, a);
            let w = gen.write_field(path, &inner, quote!(#pid), false);
            (item, quote!(#start #w))
        };
        Method {
            name: arg_word(a),
            doc: self.doc.clone(),
            params: vec![(pid, pty)],
            body: write,
            path: a.name.clone(),
        }
    }
}

/// The methods as code, each named uniquely among `used`; a method whose option
/// changes the reply (a reply option) returns the command with that reply type.
fn render_methods(
    c: &Command,
    a: &Arg,
    ty: &Ident,
    methods: Vec<Method>,
    used: &mut BTreeSet<String>,
) -> TokenStream {
    // An alternative of a required choice the overrides flattened into options (a
    // flattened block's own methods say which of them satisfy it).
    let satisfy = a
        .group
        .as_ref()
        .filter(|_| a.flat.is_none())
        .map(|_| quote!(buf.satisfy();));
    let mut ts = TokenStream::new();
    for m in methods {
        let mut name = names::snake(&m.name);
        if used.contains(&name) {
            name = names::snake(&format!("{}_{}", a.name, m.name));
        }
        while !used.insert(name.clone()) {
            name.push('_');
        }
        let ident = format_ident!("{}", name);
        let decls: Vec<TokenStream> = m.params.iter().map(|(n, t)| quote!(#n: #t)).collect();
        let body = &m.body;
        let body = quote!(#satisfy #body);
        let mdoc = &m.doc;
        match c.reply_options.get(&m.path) {
            Some(rt) => {
                let note = format!(
                    "\n\nChanges the reply to `{}`.",
                    rt.to_string().replace(' ', "")
                );
                ts.extend(quote! {
                    #[doc = #mdoc]
                    #[doc = #note]
                    pub fn #ident(mut self, #(#decls),*) -> #ty<X, <X as ReplyMode>::Out<#rt>>
                    where
                        X: ReplyMode,
                    {
                        let buf = &mut self.buf;
                        #body
                        self.decode()
                    }
                });
            }
            None => ts.extend(quote! {
                #[doc = #mdoc]
                pub fn #ident(mut self, #(#decls),*) -> Self {
                    let buf = &mut self.buf;
                    #body
                    self
                }
            }),
        }
    }
    ts
}

/// The parameters of a block's valued children (flattened into a method), the
/// variables the write code uses for them, and code binding `fixed` (a flag child
/// given a constant value instead of a parameter).
fn block_params(
    gen: &ArgGen<'_>,
    path: &str,
    children: &[Arg],
    fixed: Option<(usize, bool)>,
) -> (Vec<(Ident, TokenStream)>, Vec<Ident>, TokenStream) {
    let mut used = BTreeSet::new();
    let mut params = Vec::new();
    let mut vars = Vec::new();
    let mut fixed_code = TokenStream::new();
    for (j, ch) in children.iter().enumerate() {
        if !is_valued(ch) {
            continue;
        }
        let id = unique(&names::snake(&ch.name), &mut used);
        match fixed {
            Some((k, value)) if k == j => fixed_code.extend(quote!(let #id = #value;)),
            _ => params.push((
                id.clone(),
                gen.param_field(&child_path(path, ch), ch, counted(children, j)),
            )),
        }
        vars.push(id);
    }
    (params, vars, fixed_code)
}

/// Parameters and write code for one alternative of an optional oneof.
fn alt_params(gen: &ArgGen<'_>, path: &str, alt: &Arg) -> (Vec<(Ident, TokenStream)>, TokenStream) {
    match &alt.kind {
        ArgKind::PureToken if !alt.multiple => {
            let t = token_lit(alt);
            (vec![], quote!(buf.token(#t);))
        }
        ArgKind::Block(children) if !alt.multiple => {
            let (params, vars, _) = block_params(gen, path, children, None);
            let token = alt.token.as_ref().map(|_| {
                let t = token_lit(alt);
                quote!(buf.token(#t);)
            });
            let body = gen.write_children(path, children, &vars);
            (params, quote!(#token #body))
        }
        _ => {
            let mut inner = alt.clone();
            inner.optional = false;
            let pty = if alt.multiple {
                gen.list_param(path, alt, false)
            } else {
                gen.param_item(path, alt)
            };
            let pid = param_ident(alt);
            let w = gen.write_field(path, &inner, quote!(#pid), false);
            (vec![(pid, pty)], w)
        }
    }
}
