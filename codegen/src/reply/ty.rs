//! [`ReplyTy`]: a reply's Rust type as a value, not as text. Types from the reply
//! schemas and from `spec/overrides.toml` both become one; an override that names no
//! type respec can decode is an error naming the command, never a silent `Value`.

use anyhow::{anyhow, bail, Result};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use std::fmt;

/// The reply types respec's runtime provides besides the generated reply structs.
pub const RUNTIME_TYPES: &[&str] = &["GeoMatch", "LcsMatches", "StreamEntry"];

/// The Rust type of a reply (or of a field of a reply struct).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReplyTy {
    /// `()`: `OK`, or nothing worth keeping.
    Unit,
    /// `bool`.
    Bool,
    /// `i64`.
    Int,
    /// `f64`.
    Double,
    /// `Bytes`.
    Bytes,
    /// `Value`: any reply, untyped.
    Value,
    /// `Option<T>`: a null is possible.
    Option(Box<ReplyTy>),
    /// `Vec<T>`.
    Vec(Box<ReplyTy>),
    /// `HashMap<Bytes, T>`.
    Map(Box<ReplyTy>),
    /// A tuple of one or more types.
    Tuple(Vec<ReplyTy>),
    /// A generated reply struct, or one of the runtime's [`RUNTIME_TYPES`].
    Named(String),
}

impl ReplyTy {
    /// `Option<T>`.
    pub fn option(inner: ReplyTy) -> ReplyTy {
        ReplyTy::Option(Box::new(inner))
    }

    /// `Vec<T>`.
    pub fn vec(inner: ReplyTy) -> ReplyTy {
        ReplyTy::Vec(Box::new(inner))
    }

    /// `HashMap<Bytes, T>`.
    pub fn map(inner: ReplyTy) -> ReplyTy {
        ReplyTy::Map(Box::new(inner))
    }

    /// Reads a type written in Rust (`Vec<(Bytes, f64)>`): the forms above only.
    pub fn parse(text: &str) -> Result<ReplyTy> {
        let ty = syn::parse_str::<syn::Type>(text)
            .map_err(|e| anyhow!("`{text}` is not a Rust type: {e}"))?;
        from_syn(&ty).map_err(|e| anyhow!("`{text}`: {e}"))
    }

    /// Whether this is the untyped `Value`.
    pub fn is_value(&self) -> bool {
        matches!(self, ReplyTy::Value)
    }

    /// Whether this is an `Option`.
    pub fn is_option(&self) -> bool {
        matches!(self, ReplyTy::Option(_))
    }

    /// Every named type this one uses (structs and runtime types).
    pub fn named(&self, out: &mut Vec<String>) {
        match self {
            ReplyTy::Option(t) | ReplyTy::Vec(t) | ReplyTy::Map(t) => t.named(out),
            ReplyTy::Tuple(ts) => ts.iter().for_each(|t| t.named(out)),
            ReplyTy::Named(n) => out.push(n.clone()),
            _ => {}
        }
    }
}

fn from_syn(ty: &syn::Type) -> Result<ReplyTy> {
    match ty {
        syn::Type::Tuple(t) if t.elems.is_empty() => Ok(ReplyTy::Unit),
        syn::Type::Tuple(t) => Ok(ReplyTy::Tuple(
            t.elems.iter().map(from_syn).collect::<Result<_>>()?,
        )),
        syn::Type::Paren(p) => from_syn(&p.elem),
        syn::Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let seg = &p.path.segments[0];
            let args: Vec<&syn::Type> = match &seg.arguments {
                syn::PathArguments::None => Vec::new(),
                syn::PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .map(|g| match g {
                        syn::GenericArgument::Type(t) => Ok(t),
                        _ => Err(anyhow!("only type arguments are allowed")),
                    })
                    .collect::<Result<_>>()?,
                syn::PathArguments::Parenthesized(_) => bail!("not a reply type"),
            };
            let name = seg.ident.to_string();
            let one = |make: fn(ReplyTy) -> ReplyTy| -> Result<ReplyTy> {
                match args.as_slice() {
                    [t] => Ok(make(from_syn(t)?)),
                    _ => bail!("`{name}` takes one type argument"),
                }
            };
            match (name.as_str(), args.len()) {
                ("bool", 0) => Ok(ReplyTy::Bool),
                ("i64", 0) => Ok(ReplyTy::Int),
                ("f64", 0) => Ok(ReplyTy::Double),
                ("Bytes", 0) => Ok(ReplyTy::Bytes),
                ("Value", 0) => Ok(ReplyTy::Value),
                ("Option", _) => one(ReplyTy::option),
                ("Vec", _) => one(ReplyTy::vec),
                ("HashMap", 2) => match from_syn(args[0])? {
                    ReplyTy::Bytes => Ok(ReplyTy::map(from_syn(args[1])?)),
                    _ => bail!("a map's keys are `Bytes`"),
                },
                (_, 0) if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    Ok(ReplyTy::Named(name))
                }
                _ => bail!("`{name}` is not a reply type respec decodes"),
            }
        }
        _ => bail!("not a reply type respec decodes"),
    }
}

impl fmt::Display for ReplyTy {
    /// As Rust source, the way the generated code spells it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyTy::Unit => f.write_str("()"),
            ReplyTy::Bool => f.write_str("bool"),
            ReplyTy::Int => f.write_str("i64"),
            ReplyTy::Double => f.write_str("f64"),
            ReplyTy::Bytes => f.write_str("Bytes"),
            ReplyTy::Value => f.write_str("Value"),
            ReplyTy::Option(t) => write!(f, "Option<{t}>"),
            ReplyTy::Vec(t) => write!(f, "Vec<{t}>"),
            ReplyTy::Map(t) => write!(f, "HashMap<Bytes, {t}>"),
            ReplyTy::Tuple(ts) if ts.len() == 1 => write!(f, "({},)", ts[0]),
            ReplyTy::Tuple(ts) => {
                f.write_str("(")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(")")
            }
            ReplyTy::Named(n) => f.write_str(n),
        }
    }
}

impl ToTokens for ReplyTy {
    fn to_tokens(&self, out: &mut TokenStream) {
        out.extend(match self {
            ReplyTy::Unit => quote!(()),
            ReplyTy::Bool => quote!(bool),
            ReplyTy::Int => quote!(i64),
            ReplyTy::Double => quote!(f64),
            ReplyTy::Bytes => quote!(Bytes),
            ReplyTy::Value => quote!(Value),
            ReplyTy::Option(t) => quote!(Option<#t>),
            ReplyTy::Vec(t) => quote!(Vec<#t>),
            ReplyTy::Map(t) => quote!(HashMap<Bytes, #t>),
            ReplyTy::Tuple(ts) if ts.len() == 1 => {
                let t = &ts[0];
                quote!((#t,))
            }
            ReplyTy::Tuple(ts) => quote!((#(#ts),*)),
            ReplyTy::Named(n) => {
                let id = format_ident!("{}", n);
                quote!(#id)
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_prints() {
        for text in [
            "()",
            "bool",
            "Option<Bytes>",
            "Vec<(Bytes, f64)>",
            "HashMap<Bytes, Value>",
            "(i64, Option<Bytes>, Option<Bytes>, Option<Vec<(Bytes, i64)>>)",
            "(Bytes,)",
            "Vec<StreamEntry>",
        ] {
            assert_eq!(ReplyTy::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn refuses_what_respec_cannot_decode() {
        for (text, why) in [
            ("Option<Bytes", "not a Rust type"),
            ("HashMap<i64, Bytes>", "keys are `Bytes`"),
            ("u32", "not a reply type"),
            ("Vec<Bytes, Bytes>", "one type argument"),
            ("&str", "not a reply type"),
        ] {
            let err = ReplyTy::parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
