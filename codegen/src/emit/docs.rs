//! Doc text for generated items.

use super::types::{variant_names, TypeNames};
use crate::model::{child_path, Arg, ArgKind, Command};
use crate::reply::ReplyTy;

/// Escapes text from the spec for rustdoc (brackets would become broken links,
/// angle brackets HTML).
/// Only text outside backtick code spans is escaped.
pub fn escape(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                part.to_owned()
            } else {
                part.replace('[', "\\[")
                    .replace(']', "\\]")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('*', "\\*")
                    .replace('_', "\\_")
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// The syntax line: `SET key value [NX | XX] ...`.
pub fn syntax(c: &Command) -> String {
    let mut s = c.name.clone();
    for a in &c.args {
        s.push(' ');
        s.push_str(&a.syntax());
    }
    s
}

/// Docs of one argument: its syntax, summary and version.
pub fn arg_doc(a: &Arg) -> String {
    let mut s = format!("`{}`", a.syntax());
    if let Some(sum) = &a.summary {
        s.push_str(": ");
        s.push_str(&escape(sum));
    }
    if let Some(also) = &a.stream_id {
        s.push_str(": a stream entry ID (`1700000000000-0`, `0`)");
        for w in also {
            s.push_str(&format!(", `{w}`"));
        }
    }
    if let Some(v) = &a.since {
        s.push_str(&format!(" (since {v})"));
    }
    if let Some(v) = &a.deprecated_since {
        s.push_str(&format!(" (deprecated since {v})"));
    }
    s
}

/// The reply section from the schema's descriptions.
pub fn reply_doc(c: &Command, ty: &ReplyTy) -> String {
    let mut s = format!("**Reply** (`{}`)", ty.to_string().replace(' ', ""));
    let mut descs = Vec::new();
    if let Some(schema) = &c.reply_schema {
        collect_descriptions(schema, &mut descs);
    }
    match descs.len() {
        0 => s.push('.'),
        1 => {
            s.push_str(": ");
            s.push_str(&escape(&descs[0]));
        }
        _ => {
            s.push(':');
            for d in descs {
                s.push_str("\n- ");
                s.push_str(&escape(&d));
            }
        }
    }
    s
}

fn collect_descriptions(schema: &serde_json::Value, out: &mut Vec<String>) {
    if let Some(d) = schema.get("description").and_then(|d| d.as_str()) {
        out.push(d.to_owned());
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(|a| a.as_array()) {
            for a in alts {
                collect_descriptions(a, out);
            }
        }
    }
}

/// The syntax line with each choice that is an option enum linked to it:
/// `` `SET key value` [`[NX | XX]`](enum@crate::types::ExistenceCondition) ...``.
pub fn linked_syntax(c: &Command, types: &TypeNames) -> String {
    let mut out = String::new();
    let mut plain = c.name.clone();
    for a in &c.args {
        match types.get(&c.name, &a.name).filter(|_| a.flat.is_none()) {
            Some(name) => {
                if !plain.is_empty() {
                    out.push_str(&format!("`{plain}` "));
                    plain.clear();
                }
                out.push_str(&format!("[`{}`](enum@crate::types::{name}) ", a.syntax()));
            }
            None => {
                if !plain.is_empty() {
                    plain.push(' ');
                }
                plain.push_str(&a.syntax());
            }
        }
    }
    if !plain.is_empty() {
        out.push_str(&format!("`{plain}`"));
    }
    out.trim_end().to_owned()
}

/// The option enums the command's methods take, each with its variants (what it
/// writes), as a list; empty when it takes none.
pub fn options_doc(c: &Command, types: &TypeNames) -> String {
    fn visit(
        c: &Command,
        types: &TypeNames,
        path: &str,
        args: &[Arg],
        seen: &mut Vec<String>,
        out: &mut String,
    ) {
        for a in args {
            let p = child_path(path, a);
            if a.flat.is_some() {
                continue;
            }
            if let (ArgKind::OneOf(alts), Some(name)) = (&a.kind, types.get(&c.name, &p)) {
                if !seen.iter().any(|s| s == name) {
                    seen.push(name.to_owned());
                    let variants: Vec<String> = variant_names(alts)
                        .iter()
                        .zip(alts)
                        .map(|(v, alt)| format!("`{v}` (`{}`)", alt.syntax()))
                        .collect();
                    out.push_str(&format!(
                        "\n- [`{name}`](enum@crate::types::{name}) for `{}`: {}",
                        a.syntax(),
                        variants.join(", ")
                    ));
                }
            }
            visit(c, types, &p, a.children(), seen, out);
        }
    }
    let mut out = String::new();
    visit(c, types, "", &c.args, &mut Vec::new(), &mut out);
    if out.is_empty() {
        out
    } else {
        format!("**Options**:{out}")
    }
}

/// The full doc of a command struct.
pub fn command_doc(c: &Command, reply_ty: &ReplyTy, types: &TypeNames) -> String {
    let mut s = escape(&c.summary);
    s.push_str("\n\n");
    s.push_str(&linked_syntax(c, types));
    s.push_str("\n\n");
    let options = options_doc(c, types);
    if !options.is_empty() {
        s.push_str(&options);
        s.push_str("\n\n");
    }
    s.push_str(&reply_doc(c, reply_ty));
    s.push_str("\n\n");
    s.push_str(&format!("**Since**: {}", c.since));
    if let Some(cx) = &c.complexity {
        s.push_str(&format!(" · **Complexity**: {}", escape(cx)));
    }
    let acl: Vec<String> = c
        .acl_categories
        .iter()
        .map(|a| format!("`@{}`", a.to_lowercase()))
        .collect();
    s.push_str(&format!(" · **ACL categories**: {}", acl.join(" ")));
    if !c.flags.is_empty() {
        let flags: Vec<String> = c.flags.iter().map(|f| format!("`{f}`")).collect();
        s.push_str(&format!(" · **Flags**: {}", flags.join(" ")));
    }
    if let Some(note) = &c.doc_note {
        s.push_str(&format!("\n\n**Note**: {note}"));
    }
    if let Some(d) = &c.deprecated_since {
        s.push_str(&format!("\n\n**Deprecated** since {d}"));
        if let Some(r) = &c.replaced_by {
            s.push_str(&format!(": {}", escape(r)));
        }
        s.push('.');
    }
    if !c.history.is_empty() {
        s.push_str("\n\n**History**:");
        for (v, what) in &c.history {
            s.push_str(&format!("\n- {v}: {}", escape(what)));
        }
    }
    s
}
