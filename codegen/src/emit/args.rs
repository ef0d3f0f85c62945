//! Arguments -> Rust parameter types, owned field types, and the code that writes them.
//!
//! Two contexts: *parameters* (constructor and builder arguments: generic `impl ToArg`
//! and friends, so callers pass `&str`, `String`, numbers, `Duration`s) and *owned*
//! values (fields of option enums: `Bytes`, `i64`, `f64`, `Vec`, `Option`).

use super::types::TypeNames;
use crate::model::{child_path, Arg, ArgKind, DoubleUnit, IntUnit};
use crate::names;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Generates code for the arguments of one command.
pub struct ArgGen<'a> {
    /// The command's full name.
    pub command: &'a str,
    /// Names of the option enums.
    pub types: &'a TypeNames,
}

/// Whether a block child becomes a field/parameter (required pure tokens and computed
/// counts do not).
pub fn is_valued(a: &Arg) -> bool {
    match a.kind {
        ArgKind::NumItems => false,
        ArgKind::PureToken => a.optional || a.multiple,
        _ => true,
    }
}

impl ArgGen<'_> {
    fn enum_type(&self, path: &str, a: &Arg) -> TokenStream {
        let name = self.types.name_of(self.command, path, a);
        let ident = format_ident!("{}", name);
        quote!(#ident)
    }

    /// The type of one item of `a` as a parameter.
    pub fn param_item(&self, path: &str, a: &Arg) -> TokenStream {
        match &a.kind {
            ArgKind::Key | ArgKind::String | ArgKind::Pattern => quote!(impl ToArg),
            ArgKind::Integer(IntUnit::Plain) | ArgKind::NumItems => quote!(impl IntArg),
            ArgKind::Integer(IntUnit::Seconds) => quote!(impl SecondsArg),
            ArgKind::Integer(IntUnit::Millis) => quote!(impl MillisArg),
            ArgKind::Integer(IntUnit::BitOffset) => quote!(impl BitOffsetArg),
            ArgKind::Double(DoubleUnit::Plain) => quote!(impl DoubleArg),
            ArgKind::Double(DoubleUnit::TimeoutSeconds) => quote!(impl TimeoutArg),
            ArgKind::UnixTime { .. } => quote!(impl UnixTimeArg),
            ArgKind::PureToken => quote!(bool),
            ArgKind::OneOf(_) => self.enum_type(path, a),
            ArgKind::Block(children) => {
                let parts: Vec<TokenStream> = children
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| is_valued(c))
                    .map(|(i, c)| self.param_field(&child_path(path, c), c, counted(children, i)))
                    .collect();
                tuple(parts)
            }
        }
    }

    /// The type of `a` as a parameter, with its optional/multiple wrappers.
    /// `counted`: a count precedes it, so the iterator must know its length.
    pub fn param_field(&self, path: &str, a: &Arg, counted: bool) -> TokenStream {
        if a.multiple {
            return if a.optional {
                let item = self.owned_item(path, a);
                quote!(Option<Vec<#item>>)
            } else {
                self.list_param(path, a, counted)
            };
        }
        if matches!(a.kind, ArgKind::PureToken) {
            return quote!(bool);
        }
        if a.optional {
            let item = self.owned_item(path, a);
            return quote!(Option<#item>);
        }
        self.param_item(path, a)
    }

    /// The parameter type of the repeatable `a`: [`ToArgs`] for strings (one value or
    /// many), else an iterator of its items (`counted`: of known length).
    pub fn list_param(&self, path: &str, a: &Arg, counted: bool) -> TokenStream {
        if is_text(a) {
            return quote!(impl ToArgs);
        }
        let item = self.param_item(path, a);
        if counted {
            quote!(impl IntoIterator<Item = #item, IntoIter: ExactSizeIterator>)
        } else {
            quote!(impl IntoIterator<Item = #item>)
        }
    }

    /// The owned type of one item of `a`.
    pub fn owned_item(&self, path: &str, a: &Arg) -> TokenStream {
        match &a.kind {
            ArgKind::Key | ArgKind::String | ArgKind::Pattern => quote!(Bytes),
            ArgKind::Integer(IntUnit::BitOffset) => quote!(BitOffset),
            ArgKind::Integer(_) | ArgKind::NumItems | ArgKind::UnixTime { .. } => quote!(i64),
            ArgKind::Double(_) => quote!(f64),
            ArgKind::PureToken => quote!(bool),
            ArgKind::OneOf(_) => self.enum_type(path, a),
            ArgKind::Block(children) => {
                let parts: Vec<TokenStream> = children
                    .iter()
                    .filter(|c| is_valued(c))
                    .map(|c| self.owned_field(&child_path(path, c), c))
                    .collect();
                tuple(parts)
            }
        }
    }

    /// The owned type of `a` with its wrappers.
    pub fn owned_field(&self, path: &str, a: &Arg) -> TokenStream {
        let item = self.owned_item(path, a);
        if matches!(a.kind, ArgKind::PureToken) && !a.multiple {
            return quote!(bool);
        }
        let item = if a.multiple { quote!(Vec<#item>) } else { item };
        if a.optional && !a.multiple {
            quote!(Option<#item>)
        } else {
            item
        }
    }

    /// Code writing `a`, whose value (with wrappers) is `expr`, into `buf`.
    /// `count`: a computed count (`numkeys`) must be written before the items.
    pub fn write_field(&self, path: &str, a: &Arg, expr: TokenStream, count: bool) -> TokenStream {
        if matches!(a.kind, ArgKind::PureToken) && !a.multiple {
            let token = token_lit(a);
            return if a.optional || is_valued(a) {
                quote!(if flag(#expr) { buf.token(#token); })
            } else {
                quote!(buf.token(#token);)
            };
        }
        if a.optional {
            let inner = self.write_present(path, a, quote!(v), count);
            quote!(if let Some(v) = #expr { #inner })
        } else {
            self.write_present(path, a, expr, count)
        }
    }

    fn write_present(&self, path: &str, a: &Arg, expr: TokenStream, count: bool) -> TokenStream {
        if a.multiple {
            return self.write_list(path, a, expr, count, a.optional);
        }
        let token = a.token.as_ref().map(|_| token_lit(a));
        let item = self.write_item(path, a, expr);
        match token {
            Some(t) => quote!(buf.token(#t); #item),
            None => item,
        }
    }

    /// Code writing the items of the repeatable `a`, from the iterable `expr`. When
    /// `optional`, an empty list writes nothing (not even its token); otherwise it is
    /// an argument problem. `count`: the item count is written first.
    pub fn write_list(
        &self,
        path: &str,
        a: &Arg,
        expr: TokenStream,
        count: bool,
        optional: bool,
    ) -> TokenStream {
        if is_text(a) {
            return text_list(a, expr, count, optional);
        }
        let token = a.token.as_ref().map(|_| token_lit(a));
        let item = self.write_item(path, a, quote!(item));
        let per_item = match (&token, a.multiple_token) {
            (Some(t), true) => quote!(buf.token(#t);),
            _ => quote!(),
        };
        let (before, first) = match (&token, a.multiple_token, optional) {
            (Some(t), false, false) => (quote!(buf.token(#t);), quote!()),
            (Some(t), false, true) => (quote!(), quote!(if n == 0 { buf.token(#t); })),
            _ => (quote!(), quote!()),
        };
        let count_code = if count {
            quote!(items.len().write_int(buf);)
        } else {
            quote!()
        };
        let check = if optional {
            quote!()
        } else {
            quote!(if n == 0 {
                buf.fail("needs at least one value");
            })
        };
        // Counting is only needed for the emptiness check or a token before the first.
        if check.is_empty() && first.is_empty() {
            return quote! {
                #before
                let items = #expr.into_iter();
                #count_code
                for item in items {
                    #per_item
                    #item
                }
            };
        }
        quote! {
            #before
            let items = #expr.into_iter();
            #count_code
            let mut n = 0usize;
            for item in items {
                #first
                n += 1;
                #per_item
                #item
            }
            #check
        }
    }

    /// Code writing one item of `a` (no wrappers, no token).
    pub fn write_item(&self, path: &str, a: &Arg, expr: TokenStream) -> TokenStream {
        match &a.kind {
            ArgKind::Key | ArgKind::String | ArgKind::Pattern => {
                let check = stream_id_check(a, quote!(1));
                quote!(#expr.write_arg(buf); #check)
            }
            ArgKind::Integer(IntUnit::Plain) | ArgKind::NumItems => quote!(#expr.write_int(buf);),
            ArgKind::Integer(IntUnit::Seconds) => quote!(#expr.write_seconds(buf);),
            ArgKind::Integer(IntUnit::Millis) => quote!(#expr.write_millis(buf);),
            ArgKind::Integer(IntUnit::BitOffset) => quote!(#expr.write_bit_offset(buf);),
            ArgKind::Double(DoubleUnit::Plain) => quote!(#expr.write_double(buf);),
            ArgKind::Double(DoubleUnit::TimeoutSeconds) => quote!(#expr.write_timeout(buf);),
            ArgKind::UnixTime { millis } => quote!(#expr.write_unix_time(#millis, buf);),
            ArgKind::PureToken => {
                let t = token_lit(a);
                quote!(if flag(#expr) { buf.token(#t); })
            }
            ArgKind::OneOf(_) => quote!(#expr.write_args(buf);),
            ArgKind::Block(children) => {
                let valued: Vec<&Arg> = children.iter().filter(|c| is_valued(c)).collect();
                let vars: Vec<_> = (0..valued.len()).map(|i| format_ident!("f{}", i)).collect();
                let bind = if vars.len() == 1 {
                    let v = &vars[0];
                    quote!(let #v = #expr;)
                } else {
                    quote!(let (#(#vars),*) = #expr;)
                };
                let body = self.write_children(path, children, &vars);
                quote!({ #bind #body })
            }
        }
    }

    /// Code writing the children of a block, whose valued children are bound to `vars`.
    pub fn write_children(
        &self,
        path: &str,
        children: &[Arg],
        vars: &[proc_macro2::Ident],
    ) -> TokenStream {
        let mut out = TokenStream::new();
        let mut vi = 0;
        for (i, c) in children.iter().enumerate() {
            let p = child_path(path, c);
            if matches!(c.kind, ArgKind::NumItems) {
                // Written by the next (multiple) sibling, which knows its length.
                if let Some(t) = c.token.as_ref().map(|_| token_lit(c)) {
                    out.extend(quote!(buf.token(#t);));
                }
                continue;
            }
            if !is_valued(c) {
                out.extend(self.write_field(&p, c, quote!(()), false));
                continue;
            }
            let v = &vars[vi];
            vi += 1;
            if can_fail(c) {
                // Errors name the field, not the block.
                let n = &c.name;
                out.extend(quote!(buf.arg_name(#n);));
            }
            out.extend(self.write_field(&p, c, quote!(#v), counted(children, i)));
        }
        out
    }
}

/// Whether the items of `a` are strings (keys, strings, patterns): a list of them is
/// one parameter of [`ToArgs`], which also takes a single value.
pub fn is_text(a: &Arg) -> bool {
    matches!(a.kind, ArgKind::Key | ArgKind::String | ArgKind::Pattern)
}

/// Code writing the `ToArgs` list `expr` of `a` (see [`ArgGen::write_list`]).
fn text_list(a: &Arg, expr: TokenStream, count: bool, optional: bool) -> TokenStream {
    let token = a.token.as_ref().map(|_| token_lit(a));
    let each = match (&token, a.multiple_token) {
        (Some(t), true) => quote!(Some(#t)),
        _ => quote!(None),
    };
    let mut out = quote!(let items = #expr;);
    let first_token = token.is_some() && !a.multiple_token && optional;
    if count || first_token || !optional || a.stream_id.is_some() {
        out.extend(quote!(let n = items.arg_count();));
    }
    match (&token, a.multiple_token, optional) {
        (Some(t), false, false) => out.extend(quote!(buf.token(#t);)),
        (Some(t), false, true) => out.extend(quote!(if n > 0 { buf.token(#t); })),
        _ => {}
    }
    if count {
        out.extend(quote!(n.write_int(buf);));
    }
    if !optional {
        out.extend(quote!(if n == 0 {
            buf.fail("needs at least one value");
        }));
    }
    out.extend(quote!(items.write_each(#each, buf);));
    out.extend(stream_id_check(a, quote!(n)));
    out
}

/// Code checking the last `n` arguments written for the stream ID argument `a`
/// (nothing for any other argument).
fn stream_id_check(a: &Arg, n: TokenStream) -> TokenStream {
    let Some(also) = &a.stream_id else {
        return quote!();
    };
    let mut forms = vec!["an ID (`ms-seq` such as `1700000000000-0`, or `ms`)".to_owned()];
    for w in also {
        forms.push(match w.as_str() {
            "(" => "an exclusive ID (`(1-0`)".to_owned(),
            "ms-*" => "`ms-*` (the server picks the sequence)".to_owned(),
            w => format!("`{w}`"),
        });
    }
    let problem = match forms.split_last() {
        Some((last, [])) => format!("must be a stream entry ID: {last}"),
        Some((last, rest)) => format!("must be a stream entry ID: {} or {last}", rest.join(", ")),
        None => String::new(),
    };
    quote!(buf.stream_ids(#n, &[#(#also),*], #problem);)
}

/// Whether writing a value of `a` can record an argument problem (NaN, negative
/// timeout, a time before the epoch).
fn can_fail(a: &Arg) -> bool {
    matches!(
        a.kind,
        ArgKind::Double(_) | ArgKind::UnixTime { .. } | ArgKind::Integer(IntUnit::BitOffset)
    ) || a.stream_id.is_some()
}

/// Whether child `i` is counted by a preceding computed count.
pub fn counted(children: &[Arg], i: usize) -> bool {
    i > 0 && matches!(children[i - 1].kind, ArgKind::NumItems)
}

/// A tuple type (or the single type itself).
pub fn tuple(parts: Vec<TokenStream>) -> TokenStream {
    match parts.len() {
        0 => quote!(()),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ => quote!((#(#parts),*)),
    }
}

/// The token of an argument as a string literal.
pub fn token_lit(a: &Arg) -> proc_macro2::Literal {
    proc_macro2::Literal::string(a.token.as_deref().unwrap_or(""))
}

/// The method or variant base name of an argument: its token when that can name
/// something, else its name.
pub fn arg_word(a: &Arg) -> String {
    match &a.token {
        Some(t) if names::token_is_nameable(t) => t.clone(),
        _ => {
            // A token-less block is named after its first child when that one is
            // required: its token (`COUNT n [ANY]`) or, for a plain value, its name
            // (`count [WITHSCORES]`).
            if let ArgKind::Block(children) = &a.kind {
                if let Some(first) = children.first().filter(|f| !f.optional) {
                    match &first.token {
                        Some(t) if names::token_is_nameable(t) => return t.clone(),
                        None if first.children().is_empty() => return first.name.clone(),
                        _ => {}
                    }
                }
            }
            a.name.clone()
        }
    }
}
