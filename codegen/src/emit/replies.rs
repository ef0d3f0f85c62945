//! `replies.rs`: structs for object-shaped replies, decoded from RESP3 maps or RESP2
//! flat arrays alike.

use crate::reply::StructDef;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// One reply struct with its `FromReply` impl.
pub fn emit(s: &StructDef, command: &str) -> TokenStream {
    let name = format_ident!("{}", s.name);
    let doc = if s.doc.is_empty() {
        format!("A reply of `{command}`.")
    } else {
        format!("A reply of `{command}`: {}", super::docs::escape(&s.doc))
    };
    let mut fields = Vec::new();
    let mut locals = Vec::new();
    let mut arms = Vec::new();
    let mut inits = Vec::new();
    for f in &s.fields {
        let id = format_ident!("{}", f.name);
        let ty = &f.ty;
        let fdoc = if f.doc.is_empty() {
            format!("`{}`.", f.wire)
        } else {
            format!("`{}`: {}", f.wire, super::docs::escape(&f.doc))
        };
        let wire = proc_macro2::Literal::byte_string(f.wire.as_bytes());
        // Every field is optional (servers add fields over time); a nullable field is
        // not wrapped twice.
        if ty.is_option() {
            fields.push(quote!(#[doc = #fdoc] pub #id: #ty));
            arms.push(quote!(#wire => #id = FromReply::from_reply(r)?,));
        } else {
            fields.push(quote!(#[doc = #fdoc] pub #id: Option<#ty>));
            arms.push(quote!(#wire => #id = Some(FromReply::from_reply(r)?),));
        }
        locals.push(quote!(let mut #id = None;));
        inits.push(quote!(#id));
    }
    let expected = format!("a {} reply", command);
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, Default)]
        #[non_exhaustive]
        pub struct #name { #(#fields),* }

        impl TextReply for #name {
            type Text = Self;
        }

        impl FromReply for #name {
            fn from_reply(r: &mut Reader) -> Result<Self> {
                #(#locals)*
                read_fields(r, #expected, |key, r| {
                    match key {
                        #(#arms)*
                        _ => r.skip()?,
                    }
                    Ok(())
                })?;
                Ok(#name { #(#inits),* })
            }
        }
    }
}
