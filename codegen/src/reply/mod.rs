//! `reply_schema` (JSON Schema, RESP3) -> a Rust reply type.
//!
//! | schema | Rust |
//! |--------|------|
//! | `"const": "OK"` | `()` |
//! | `string` | `Bytes` |
//! | `integer` | `i64` |
//! | `number` | `f64` |
//! | `boolean`, or a oneOf of the constants 0 and 1 | `bool` |
//! | `null` among alternatives | `Option<T>` |
//! | `null` or `"OK"` | `bool` (did it happen) |
//! | `array` of `items` | `Vec<T>` |
//! | `array` of fixed `items` | a tuple |
//! | `object` with `additionalProperties` | `HashMap<Bytes, T>` |
//! | `object` with `properties` | a generated struct, every field optional |
//! | anything else | `Value` |

mod ty;

pub use ty::{ReplyTy, RUNTIME_TYPES};

use crate::names;
use serde_json::Value as Json;

/// A generated reply struct.
#[derive(Debug, Clone, PartialEq)]
pub struct StructDef {
    /// Rust name.
    pub name: String,
    /// Doc text.
    pub doc: String,
    /// Fields: (rust name, wire name, rust type, doc).
    pub fields: Vec<Field>,
}

/// One field of a reply struct.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Rust name.
    pub name: String,
    /// The key in the reply.
    pub wire: String,
    /// Rust type (without the `Option` every field gets).
    pub ty: ReplyTy,
    /// Doc text.
    pub doc: String,
}

/// The Rust type of a reply, with the structs it needs.
#[derive(Debug, Clone)]
pub struct ReplyType {
    /// The type.
    pub ty: ReplyTy,
    /// Structs to generate.
    pub structs: Vec<StructDef>,
}

thread_local! {
    /// The type of the schema being mapped, for `"$ref": "#"` (recursive schemas).
    static ROOT: std::cell::RefCell<ReplyTy> = const { std::cell::RefCell::new(ReplyTy::Value) };
}

/// Maps a command's schema to a Rust type; `hint` names generated structs.
pub fn reply_type(schema: &Json, hint: &str) -> ReplyType {
    // First pass: the root's own type (a recursive reference reads as `Value`), then
    // the real pass, where `"$ref": "#"` is that type.
    ROOT.with(|r| *r.borrow_mut() = ReplyTy::Value);
    let root = ty(schema, hint, &mut Vec::new());
    ROOT.with(|r| *r.borrow_mut() = root);
    let mut structs = Vec::new();
    let ty = ty(schema, hint, &mut structs);
    ReplyType { ty, structs }
}

/// Types each alternative of a `oneOf`/`anyOf` schema separately, named `names[i]`;
/// the first alternative's type is returned as the reply type.
pub fn alternatives_named(schema: &Json, names: &[String]) -> Option<ReplyType> {
    let alts = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))?
        .as_array()?;
    if alts.len() != names.len() {
        return None;
    }
    let mut structs = Vec::new();
    let mut first = None;
    for (alt, name) in alts.iter().zip(names) {
        let t = ty(alt, name, &mut structs);
        first.get_or_insert(t);
    }
    Some(ReplyType {
        ty: first?,
        structs,
    })
}

fn ty(s: &Json, hint: &str, structs: &mut Vec<StructDef>) -> ReplyTy {
    let Some(obj) = s.as_object() else {
        return ReplyTy::Value;
    };
    if obj.get("$ref").and_then(Json::as_str) == Some("#") {
        return ROOT.with(|r| r.borrow().clone());
    }
    if let Some(c) = obj.get("const") {
        return match c {
            Json::String(t) if t == "OK" => ReplyTy::Unit,
            Json::String(_) => ReplyTy::Bytes,
            Json::Number(_) => ReplyTy::Int,
            _ => ReplyTy::Value,
        };
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Json::Array(alts)) = obj.get(key) {
            return alternatives(alts, hint, structs);
        }
    }
    match obj.get("type").and_then(Json::as_str) {
        Some("string") => ReplyTy::Bytes,
        Some("integer") => ReplyTy::Int,
        Some("number") => ReplyTy::Double,
        Some("boolean") => ReplyTy::Bool,
        Some("null") => ReplyTy::Unit,
        Some("array") => array(obj, hint, structs),
        Some("object") => object(obj, hint, structs),
        _ => ReplyTy::Value,
    }
}

fn array(obj: &serde_json::Map<String, Json>, hint: &str, structs: &mut Vec<StructDef>) -> ReplyTy {
    match obj.get("items") {
        Some(Json::Array(items)) => {
            let fixed = obj.get("minItems").and_then(Json::as_u64) == Some(items.len() as u64)
                && obj.get("maxItems").and_then(Json::as_u64) == Some(items.len() as u64);
            if !fixed || items.is_empty() || items.len() > 12 {
                return ReplyTy::vec(ReplyTy::Value);
            }
            ReplyTy::Tuple(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| ty(it, &format!("{hint}{}", i + 1), structs))
                    .collect(),
            )
        }
        Some(item) => ReplyTy::vec(ty(item, hint, structs)),
        None => ReplyTy::vec(ReplyTy::Value),
    }
}

fn object(
    obj: &serde_json::Map<String, Json>,
    hint: &str,
    structs: &mut Vec<StructDef>,
) -> ReplyTy {
    if let Some(Json::Object(props)) = obj.get("properties") {
        if props.is_empty() {
            return ReplyTy::Value;
        }
        let mut fields = Vec::new();
        let mut used = std::collections::BTreeSet::new();
        for (wire, schema) in props {
            let mut name = names::snake(wire);
            while !used.insert(name.clone()) {
                name.push('_');
            }
            let field_ty = ty(schema, &format!("{hint}{}", names::camel(wire)), structs);
            let doc = schema
                .get("description")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_owned();
            fields.push(Field {
                name,
                wire: wire.clone(),
                ty: field_ty,
                doc,
            });
        }
        let doc = obj
            .get("description")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();
        structs.push(StructDef {
            name: hint.to_owned(),
            doc,
            fields,
        });
        return ReplyTy::Named(hint.to_owned());
    }
    let value_schema = match obj.get("additionalProperties") {
        Some(Json::Object(_)) => obj.get("additionalProperties"),
        _ => match obj.get("patternProperties") {
            Some(Json::Object(p)) if p.len() == 1 => p.values().next(),
            _ => None,
        },
    };
    match value_schema {
        Some(v) => ReplyTy::map(ty(v, &format!("{hint}Value"), structs)),
        None => ReplyTy::Value,
    }
}

fn alternatives(alts: &[Json], hint: &str, structs: &mut Vec<StructDef>) -> ReplyTy {
    let is_null = |a: &Json| a.get("type").and_then(Json::as_str) == Some("null");
    let has_null = alts.iter().any(is_null);
    let rest: Vec<&Json> = alts.iter().filter(|a| !is_null(a)).collect();
    if rest.is_empty() {
        return ReplyTy::Unit;
    }
    // 0 / 1 constants: a boolean.
    let int_consts: Vec<i64> = rest
        .iter()
        .filter_map(|a| a.get("const").and_then(Json::as_i64))
        .collect();
    if int_consts.len() == rest.len() && int_consts.iter().all(|c| *c == 0 || *c == 1) {
        return if has_null {
            ReplyTy::option(ReplyTy::Bool)
        } else {
            ReplyTy::Bool
        };
    }
    let mut scratch = Vec::new();
    let types: Vec<ReplyTy> = rest.iter().map(|a| ty(a, hint, &mut scratch)).collect();
    let first = &types[0];
    let same = types.iter().all(|t| t == first);
    let inner = if same {
        structs.extend(dedup(scratch));
        first.clone()
    } else {
        return ReplyTy::Value;
    };
    match (has_null, inner) {
        (false, inner) => inner,
        (true, ReplyTy::Unit) => ReplyTy::Bool,
        (true, inner) => ReplyTy::option(inner),
    }
}

/// Structs generated once per alternative that produced the same type: merged into
/// one with the union of their fields (every field is optional anyway); a field whose
/// type differs between the alternatives becomes `Value`.
fn dedup(structs: Vec<StructDef>) -> Vec<StructDef> {
    let mut out: Vec<StructDef> = Vec::new();
    for s in structs {
        match out.iter_mut().find(|o| o.name == s.name) {
            None => out.push(s),
            Some(o) => {
                for f in s.fields {
                    match o.fields.iter_mut().find(|x| x.wire == f.wire) {
                        None => o.fields.push(f),
                        Some(x) if x.ty != f.ty => x.ty = ReplyTy::Value,
                        Some(_) => {}
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: Json) -> String {
        reply_type(&s, "X").ty.to_string()
    }

    #[test]
    fn scalars() {
        assert_eq!(t(json!({"const": "OK"})), "()");
        assert_eq!(t(json!({"type": "string"})), "Bytes");
        assert_eq!(t(json!({"type": "integer"})), "i64");
        assert_eq!(t(json!({"type": "number"})), "f64");
        assert_eq!(t(json!({"description": "anything"})), "Value");
    }

    #[test]
    fn nulls_and_booleans() {
        assert_eq!(
            t(json!({"oneOf": [{"type": "null"}, {"type": "string"}]})),
            "Option<Bytes>"
        );
        assert_eq!(
            t(json!({"anyOf": [{"type": "null"}, {"const": "OK"}]})),
            "bool"
        );
        assert_eq!(t(json!({"oneOf": [{"const": 0}, {"const": 1}]})), "bool");
        assert_eq!(
            t(json!({"oneOf": [{"type": "integer"}, {"type": "string"}]})),
            "Value"
        );
    }

    #[test]
    fn aggregates() {
        assert_eq!(
            t(json!({"type": "array", "items": {"type": "string"}})),
            "Vec<Bytes>"
        );
        assert_eq!(
            t(json!({"type": "array", "minItems": 2, "maxItems": 2,
                     "items": [{"type": "string"}, {"type": "number"}]})),
            "(Bytes, f64)"
        );
        assert_eq!(
            t(json!({"type": "object", "additionalProperties": {"type": "integer"}})),
            "HashMap<Bytes, i64>"
        );
        let r = reply_type(
            &json!({"type": "object", "properties": {"max-len": {"type": "integer"}}}),
            "Foo",
        );
        assert_eq!(r.ty, ReplyTy::Named("Foo".into()));
        assert_eq!(r.structs[0].fields[0].name, "max_len");
    }
}
