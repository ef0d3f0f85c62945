//! Spec -> model: full names, implicit ACL categories, argument units, computed
//! counts (`numkeys`), and the argument fixes from the overrides.

use crate::model::{Arg, ArgKind, Command, DoubleUnit, IntUnit};
use crate::overrides::Overrides;
use crate::reply::ReplyTy;
use crate::spec::{ArgSpec, ArgType, CommandSpec, DocFlag};
use anyhow::{bail, Context as _, Result};
use std::collections::BTreeMap;

/// Lowers one parsed spec entry.
pub fn lower(file: &str, word: &str, spec: &CommandSpec, ov: &Overrides) -> Result<Command> {
    let name = match &spec.container {
        Some(c) => format!("{} {}", c.to_uppercase(), word.to_uppercase()),
        None => word.to_uppercase(),
    };
    let mut flags: Vec<String> = spec
        .command_flags
        .iter()
        .map(|f| f.to_uppercase())
        .collect();
    flags.sort();
    flags.dedup();
    let acl_categories = implicit_acl(&flags, &spec.acl_categories);
    let blocking = flags.iter().any(|f| f == "BLOCKING");
    let mut args = match &spec.arguments {
        Some(list) => lower_args(&name, "", list, blocking, ov)?,
        None => Vec::new(),
    };
    flatten(&name, &mut args, ov);
    let doc_note = ov.doc_note(&name).map(str::to_owned);
    let route = ov.route(&name).cloned();
    let mut tips: Vec<String> = spec.command_tips.iter().map(|t| t.to_uppercase()).collect();
    for tip in ov.tips(&name) {
        let kind = match tip.split_once(':') {
            Some((kind @ ("REQUEST_POLICY" | "RESPONSE_POLICY"), _)) => kind,
            None if crate::vocab::knows(crate::vocab::TIPS, tip) => tip,
            _ => bail!("tip {name} {tip}: only REQUEST_POLICY:..., RESPONSE_POLICY:... and the tips of vocab::TIPS can be added"),
        };
        if tips.iter().any(|t| t.starts_with(kind)) {
            if kind == tip {
                // A newer tree already has the tip this one lacked.
                continue;
            }
            bail!("tip {name} {tip}: the spec already gives it a {kind}");
        }
        tips.push(tip.to_owned());
    }
    let mut c = Command {
        name,
        container: spec.container.as_ref().map(|c| c.to_uppercase()),
        file: file.to_owned(),
        summary: spec.summary.clone(),
        complexity: spec.complexity.clone(),
        group: spec.group.clone(),
        since: spec.since.clone(),
        arity: spec.arity,
        history: spec.history.clone(),
        flags,
        acl_categories,
        tips,
        key_specs: spec.key_specs.clone(),
        deprecated_since: spec.deprecated_since.clone(),
        replaced_by: spec.replaced_by.clone(),
        custom_keys: spec.get_keys_function.is_some(),
        syscmd: spec.doc_flags.contains(&DocFlag::Syscmd),
        args,
        spec_args: spec.arguments.clone().unwrap_or_default(),
        reply_schema: spec.reply_schema.clone(),
        doc_note,
        route,
        no_split_with: Vec::new(),
        reply_options: BTreeMap::new(),
    };
    c.no_split_with = no_split_tokens(&c, ov)?;
    let paths = c.arg_paths();
    for (path, ty) in ov.reply_options(&c.name, |p| paths.iter().any(|x| x == p)) {
        let ty = ReplyTy::parse(ty)
            .with_context(|| format!("{}: the reply type with option `{path}`", c.name))?;
        c.reply_options.insert(path.to_owned(), ty);
    }
    Ok(c)
}

/// The tokens of the options that make `c` unsplittable by slot (`[[no_split]]`):
/// each names an argument of a `request_policy:multi_shard` command that is a token
/// or a choice of pure tokens.
fn no_split_tokens(c: &Command, ov: &Overrides) -> Result<Vec<String>> {
    fn find<'a>(path: &str, args: &'a [Arg], want: &str) -> Option<&'a Arg> {
        args.iter().find_map(|a| {
            let p = crate::model::child_path(path, a);
            if p == want {
                Some(a)
            } else {
                find(&p, a.children(), want)
            }
        })
    }
    let mut out = Vec::new();
    for path in ov.no_split(&c.name) {
        if !c.tips.iter().any(|t| t == "REQUEST_POLICY:MULTI_SHARD") {
            bail!("no_split {} {path}: the command is not request_policy:multi_shard, so it is never split", c.name);
        }
        let Some(arg) = find("", &c.args, path) else {
            bail!("no_split {} {path}: no such argument", c.name);
        };
        match &arg.token {
            Some(token) => out.push(token.to_uppercase()),
            None if arg.is_token_choice() => {
                out.extend(arg.choice_tokens().iter().map(|t| t.to_uppercase()))
            }
            None => bail!(
                "no_split {} {path}: neither a token nor a choice of pure tokens",
                c.name
            ),
        }
    }
    Ok(out)
}

/// Replaces each flattened top-level oneof by its alternatives, as options, and
/// marks each flattened block (top-level, or an alternative of a flattened oneof),
/// whose children become options of their own.
fn flatten(command: &str, args: &mut Vec<Arg>, ov: &Overrides) {
    let mut out = Vec::with_capacity(args.len());
    for mut a in args.drain(..) {
        let Some(f) = ov.flatten(command, &a.name) else {
            out.push(a);
            continue;
        };
        match a.kind {
            ArgKind::OneOf(_) => {
                for mut alt in a.children().to_vec() {
                    alt.optional = true;
                    if !a.optional {
                        alt.group = Some(a.name.clone());
                    }
                    let path = format!("{}/{}", a.name, alt.name);
                    if let (ArgKind::Block(_), Some(inner)) =
                        (&alt.kind, ov.flatten(command, &path))
                    {
                        alt.flat = Some(inner.rename.clone());
                    }
                    out.push(alt);
                }
            }
            ArgKind::Block(_) => {
                if !a.optional {
                    a.optional = true;
                    a.group = Some(a.name.clone());
                }
                a.flat = Some(f.rename.clone());
                out.push(a);
            }
            _ => out.push(a),
        }
    }
    *args = out;
}

/// The ACL categories of a command: the explicit ones plus those its flags imply
/// (the rules of the spec's README).
pub fn implicit_acl(flags: &[String], explicit: &[String]) -> Vec<String> {
    let mut acl: Vec<String> = explicit.iter().map(|c| c.to_uppercase()).collect();
    let has = |f: &str| flags.iter().any(|x| x == f);
    if has("WRITE") {
        acl.push("WRITE".into());
    }
    if has("READONLY") && !acl.iter().any(|c| c == "SCRIPTING") {
        acl.push("READ".into());
    }
    if has("ADMIN") {
        acl.push("ADMIN".into());
        acl.push("DANGEROUS".into());
    }
    if has("PUBSUB") {
        acl.push("PUBSUB".into());
    }
    if has("FAST") {
        acl.push("FAST".into());
    }
    if has("BLOCKING") {
        acl.push("BLOCKING".into());
    }
    if !acl.iter().any(|c| c == "FAST") {
        acl.push("SLOW".into());
    }
    acl.sort();
    acl.dedup();
    acl
}

fn lower_args(
    command: &str,
    prefix: &str,
    list: &[ArgSpec],
    blocking: bool,
    ov: &Overrides,
) -> Result<Vec<Arg>> {
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let path = if prefix.is_empty() {
            a.name.clone()
        } else {
            format!("{prefix}/{}", a.name)
        };
        let fix = ov.fix_arg(command, &path);
        let token = match fix.and_then(|f| f.token.clone()) {
            Some(t) => Some(t),
            None => a.token.clone(),
        };
        let lower_name = a.name.to_lowercase();
        let unit_fix = fix.and_then(|f| f.unit.as_deref());
        let spec_kind = match fix.and_then(|f| f.kind.as_deref()) {
            None => a.kind.clone(),
            Some("double") => ArgType::Double,
            Some(other) => bail!("{command} {path}: unknown kind override {other}"),
        };
        let kind = match spec_kind {
            ArgType::Key => ArgKind::Key,
            ArgType::String => ArgKind::String,
            ArgType::Pattern => ArgKind::Pattern,
            ArgType::Integer => {
                let next_multiple = list.get(i + 1).is_some_and(|n| n.multiple);
                if lower_name.starts_with("num") && next_multiple && !a.optional {
                    ArgKind::NumItems
                } else if lower_name.starts_with("unix-time") {
                    ArgKind::UnixTime {
                        millis: lower_name.contains("milli"),
                    }
                } else {
                    ArgKind::Integer(int_unit(unit_fix, &lower_name)?)
                }
            }
            ArgType::Double => {
                let unit = match unit_fix {
                    Some("timeout-seconds") => DoubleUnit::TimeoutSeconds,
                    Some("plain") => DoubleUnit::Plain,
                    Some(other) => bail!("{command} {path}: unit {other} does not fit a double"),
                    None if blocking && lower_name == "timeout" => DoubleUnit::TimeoutSeconds,
                    None => DoubleUnit::Plain,
                };
                ArgKind::Double(unit)
            }
            ArgType::UnixTime => ArgKind::UnixTime {
                millis: lower_name.contains("milli")
                    || token.as_deref().is_some_and(|t| t.starts_with("PX")),
            },
            ArgType::PureToken => {
                if token.is_none() {
                    bail!("{command}: pure token `{path}` has no token (add a fix_arg override)");
                }
                ArgKind::PureToken
            }
            ArgType::Oneof => {
                ArgKind::OneOf(lower_args(command, &path, &a.arguments, blocking, ov)?)
            }
            ArgType::Block => {
                ArgKind::Block(lower_args(command, &path, &a.arguments, blocking, ov)?)
            }
            // A newer server's type (reported by `vocab::unknown_words`): its value is
            // written as given.
            ArgType::Other(_) if a.arguments.is_empty() => ArgKind::String,
            ArgType::Other(_) => {
                ArgKind::Block(lower_args(command, &path, &a.arguments, blocking, ov)?)
            }
        };
        if matches!(kind, ArgKind::OneOf(ref c) | ArgKind::Block(ref c) if c.is_empty()) {
            bail!("{command}: `{path}` has no arguments");
        }
        let optional = match fix.and_then(|f| f.optional) {
            None => a.optional,
            Some(o) if o == a.optional => {
                bail!("{command} {path}: the fix_arg's `optional = {o}` is what the spec says")
            }
            Some(o) => o,
        };
        out.push(Arg {
            name: a.name.clone(),
            kind,
            token,
            optional,
            multiple: a.multiple,
            multiple_token: a.multiple_token,
            since: a.since.clone(),
            deprecated_since: a.deprecated_since.clone(),
            summary: a.summary.clone().or_else(|| a.description.clone()),
            display: a.display.clone(),
            group: None,
            stream_id: None,
            flat: None,
        });
        if let Some(also) = ov.stream_id(command, &path) {
            let last = out.len() - 1;
            out[last] = stream_id(command, &path, out[last].clone(), also)?;
        }
    }
    Ok(out)
}

/// Marks `a` as a stream ID that also takes `also`; a choice of one string and pure
/// tokens (`<* | id>`) becomes that string, its tokens among `also`.
fn stream_id(command: &str, path: &str, a: Arg, also: &[String]) -> Result<Arg> {
    let mut id = match &a.kind {
        ArgKind::String => a.clone(),
        ArgKind::OneOf(alts) => {
            let mut strings = alts.iter().filter(|x| matches!(x.kind, ArgKind::String));
            let (Some(s), None) = (strings.next(), strings.next()) else {
                bail!("stream_id {command} {path}: a choice needs exactly one string");
            };
            for t in alts.iter().filter(|x| !matches!(x.kind, ArgKind::String)) {
                let token = t.token.as_deref().unwrap_or_default();
                if !matches!(t.kind, ArgKind::PureToken) || !also.iter().any(|w| w == token) {
                    bail!(
                        "stream_id {command} {path}: `{}` is not a pure token listed in `also`",
                        t.name
                    );
                }
            }
            Arg {
                optional: a.optional,
                multiple: a.multiple,
                ..s.clone()
            }
        }
        _ => bail!("stream_id {command} {path}: neither a string nor a choice of one"),
    };
    id.stream_id = Some(also.to_vec());
    Ok(id)
}

/// The unit of an integer argument: from an override, else from its name
/// (`seconds`, `milliseconds`; a `timeout` integer is in milliseconds in every
/// command that has one).
fn int_unit(fix: Option<&str>, name: &str) -> Result<IntUnit> {
    Ok(match fix {
        Some("seconds") => IntUnit::Seconds,
        Some("millis") => IntUnit::Millis,
        Some("plain") => IntUnit::Plain,
        Some("bit-offset") => IntUnit::BitOffset,
        Some(other) => bail!("unknown integer unit {other}"),
        None if name == "seconds" => IntUnit::Seconds,
        None if name == "milliseconds" || name == "timeout" => IntUnit::Millis,
        None => IntUnit::Plain,
    })
}
