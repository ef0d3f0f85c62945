//! `meta.rs`: one static `CommandMeta` per command and the sorted lookup table.

use crate::model::Command;
use crate::names;
use crate::spec::{BeginSearch, FindKeys};
use crate::vocab::{self, Tip};
use anyhow::{bail, Result};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// `Version::new(a, b, c)` from `a.b.c` (missing parts are zero; a part's suffix
/// after its digits, as in `8.0.0-rc1`, is ignored).
fn version(v: &str) -> Result<TokenStream> {
    let mut parts = v.split('.').map(|p| {
        let digits = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
        p[..digits].parse::<u16>()
    });
    let mut next = || -> Result<u16> {
        match parts.next() {
            None => Ok(0),
            Some(Ok(n)) => Ok(n),
            Some(Err(_)) => bail!("bad version {v}"),
        }
    };
    let (a, b, c) = (next()?, next()?, next()?);
    Ok(quote!(Version::new(#a, #b, #c)))
}

/// A set of flags: the bits of the words `known` has, and the type's `OTHER` bit
/// for any other word (a newer server's, reported by `vocab::unknown_words`).
fn flags(ty: &str, list: &[String], known: &[&str]) -> TokenStream {
    let ty = format_ident!("{}", ty);
    if list.is_empty() {
        return quote!(#ty::empty());
    }
    let mut items = Vec::new();
    let mut other = false;
    for f in list {
        if vocab::knows(known, f) {
            let id = format_ident!("{}", f);
            items.push(quote!(#ty::#id.bits()));
        } else if !other {
            other = true;
            items.push(quote!(#ty::OTHER.bits()));
        }
    }
    quote!(#ty::from_bits_retain(#(#items)|*))
}

/// The group's variant; `Group::Other` for a group `vocab::GROUPS` lacks.
fn group(g: &str) -> TokenStream {
    let id = if vocab::knows(vocab::GROUPS, g) {
        format_ident!("{}", names::camel(g))
    } else {
        format_ident!("Other")
    };
    quote!(Group::#id)
}

/// Where the runtime runs the command: the override's route, or what its flags say
/// (`BLOCKING`: a dedicated connection; otherwise the shared one).
fn route(c: &Command) -> Result<TokenStream> {
    let Some(r) = &c.route else {
        return Ok(if c.flags.iter().any(|f| f == "BLOCKING") {
            quote!(Route::Dedicated)
        } else {
            quote!(Route::Shared)
        });
    };
    let instead = r.instead.as_deref().unwrap_or_default();
    Ok(match r.route.as_str() {
        "runtime" => {
            let with_arguments = r.with_arguments;
            quote!(Route::Runtime { instead: #instead, with_arguments: #with_arguments })
        }
        "own-connection" => quote!(Route::OwnConnection { instead: #instead }),
        "stateful" => match r.on_cluster.as_deref() {
            Some(advice) => quote!(Route::Stateful { on_cluster: Some(#advice) }),
            None => quote!(Route::Stateful { on_cluster: None }),
        },
        "shared-waiting" => quote!(Route::SharedWaiting),
        "watch" => quote!(Route::Watch { instead: #instead }),
        "unwatch" => quote!(Route::Unwatch { instead: #instead }),
        other => bail!("{}: unknown route {other}", c.name),
    })
}

/// The arguments as the spec names them (`ArgMeta`), nested blocks and choices with
/// their members, for comparing with a server's `COMMAND DOCS`.
fn args(list: &[crate::spec::ArgSpec]) -> Result<TokenStream> {
    let mut items = Vec::with_capacity(list.len());
    for a in list {
        let name = &a.name;
        let token = match &a.token {
            Some(t) => quote!(Some(#t)),
            None => quote!(None),
        };
        let since = match &a.since {
            Some(v) => {
                let v = version(v)?;
                quote!(Some(#v))
            }
            None => quote!(None),
        };
        let children = args(&a.arguments)?;
        items.push(quote!(ArgMeta { name: #name, token: #token, since: #since, args: #children }));
    }
    Ok(quote!(&[#(#items),*]))
}

/// The static metadata of one command.
pub fn entry(c: &Command) -> Result<TokenStream> {
    let route = route(c)?;
    let id = format_ident!("{}", names::snake(&c.name).to_uppercase());
    let name = &c.name;
    let container = match &c.container {
        Some(x) => quote!(Some(#x)),
        None => quote!(None),
    };
    let group = group(&c.group);
    let since = version(&c.since)?;
    let arity = c.arity as i32;
    let cflags = flags("CommandFlags", &c.flags, vocab::COMMAND_FLAGS);
    let acl = flags("AclCategories", &c.acl_categories, vocab::ACL_CATEGORIES);
    let mut specs = Vec::new();
    for ks in &c.key_specs {
        let kf: Vec<String> = ks.flags.iter().map(|f| f.to_uppercase()).collect();
        let kflags = flags("KeySpecFlags", &kf, vocab::KEY_SPEC_FLAGS);
        let bs = match &ks.begin_search {
            BeginSearch::Index { pos } => quote!(BeginSearch::Index(#pos)),
            BeginSearch::Keyword { keyword, startfrom } => {
                let s = *startfrom as i32;
                quote!(BeginSearch::Keyword { keyword: #keyword, startfrom: #s })
            }
            BeginSearch::Unknown | BeginSearch::Other(_) => quote!(BeginSearch::Unknown),
        };
        let fk = match &ks.find_keys {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let l = *lastkey as i32;
                quote!(FindKeys::Range { lastkey: #l, step: #step, limit: #limit })
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                quote!(FindKeys::Keynum { keynumidx: #keynumidx, firstkey: #firstkey, step: #step })
            }
            FindKeys::Unknown | FindKeys::Other(_) => quote!(FindKeys::Unknown),
        };
        specs.push(quote!(KeySpec { flags: #kflags, begin_search: #bs, find_keys: #fk }));
    }
    let mut request = quote!(None);
    let mut response = quote!(None);
    let mut tips = Vec::new();
    let mut other = false;
    // A policy the runtime does not know is `Special`: the cluster client never
    // guesses where such a command goes.
    let policy = |p: Option<&str>| format_ident!("{}", names::camel(p.unwrap_or("SPECIAL")));
    for t in &c.tips {
        match vocab::tip(t) {
            Tip::Request(p) => {
                let v = policy(p);
                request = quote!(Some(RequestPolicy::#v));
            }
            Tip::Response(p) => {
                let v = policy(p);
                response = quote!(Some(ResponsePolicy::#v));
            }
            Tip::Known(t) => {
                let v = format_ident!("{}", t);
                tips.push(quote!(Tips::#v.bits()));
            }
            Tip::Other if !other => {
                other = true;
                tips.push(quote!(Tips::OTHER.bits()));
            }
            Tip::Other => {}
        }
    }
    let tips = if tips.is_empty() {
        quote!(Tips::empty())
    } else {
        quote!(Tips::from_bits_retain(#(#tips)|*))
    };
    let deprecated = match &c.deprecated_since {
        Some(v) => {
            let v = version(v)?;
            quote!(Some(#v))
        }
        None => quote!(None),
    };
    let replaced = match &c.replaced_by {
        Some(r) => quote!(Some(#r)),
        None => quote!(None),
    };
    let custom_keys = c.custom_keys;
    let no_split = &c.no_split_with;
    let arg_metas = args(&c.spec_args)?;
    let doc = format!("Metadata of `{name}`.");
    Ok(quote! {
        #[doc = #doc]
        pub static #id: CommandMeta = CommandMeta {
            name: #name,
            container: #container,
            group: #group,
            since: #since,
            arity: #arity,
            flags: #cflags,
            acl_categories: #acl,
            key_specs: &[#(#specs),*],
            custom_key_lookup: #custom_keys,
            request_policy: #request,
            response_policy: #response,
            no_split_with: &[#(#no_split),*],
            tips: #tips,
            deprecated_since: #deprecated,
            replaced_by: #replaced,
            route: #route,
            args: #arg_metas,
        };
    })
}

/// The lookup table: every command's metadata, sorted by name.
pub fn table(commands: &[&Command]) -> TokenStream {
    let mut sorted: Vec<&&Command> = commands.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let ids: Vec<_> = sorted
        .iter()
        .map(|c| format_ident!("{}", names::snake(&c.name).to_uppercase()))
        .collect();
    let n = ids.len();
    let stride = super::command::ARG_POS_STRIDE;
    quote! {
        /// Every command's metadata, sorted by name (see [`lookup`](crate::command::meta::lookup)).
        pub static COMMANDS: [&CommandMeta; #n] = [#(&#ids),*];

        /// The spec position of top-level argument `i` is `i * ARG_POS_STRIDE` in the
        /// generated builders (the room between is for the fields of flattened
        /// blocks).
        #[doc(hidden)]
        pub const ARG_POS_STRIDE: u16 = #stride;
    }
}

#[cfg(test)]
mod tests {
    use super::version;

    #[test]
    fn versions_with_suffixes_or_missing_parts_are_read() {
        let v = |s: &str| version(s).unwrap().to_string();
        assert_eq!(v("7.2.4"), "Version :: new (7u16 , 2u16 , 4u16)");
        assert_eq!(v("8.0.0-rc1"), "Version :: new (8u16 , 0u16 , 0u16)");
        assert_eq!(v("2.6"), "Version :: new (2u16 , 6u16 , 0u16)");
        assert!(version("seven").is_err());
    }
}
