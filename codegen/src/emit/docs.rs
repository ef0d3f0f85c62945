//! Doc text for generated items.

use crate::model::{Arg, Command};
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

/// The full doc of a command struct.
pub fn command_doc(c: &Command, reply_ty: &ReplyTy) -> String {
    let mut s = escape(&c.summary);
    s.push_str("\n\n```text\n");
    s.push_str(&syntax(c));
    s.push_str("\n```\n\n");
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
