//! Reading a running server's command tree (`COMMAND DOCS` and `COMMAND INFO`) for
//! `regen --from-server`, `ext --from-server` and the live trees of `regen-check`.
//!
//! xtask cannot use respec itself (it must run while the generated code does not
//! compile), so this is a tiny blocking RESP3 connection: `HELLO 3` (with `AUTH`
//! when the URL has a password), then the two commands, each reply read into JSON
//! (maps as objects); `respec_codegen::live` turns them into spec files. Plain TCP
//! only: `redis://[[user]:password@]host[:port]` (or `valkey://`).

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};
use respec_codegen::live::{self, LiveCommand};
use serde_json::{Map, Value};

/// A server's command tree and what the server said it is.
pub struct Capture {
    /// `redis 8.2.3`, from `HELLO`.
    pub server: String,
    /// The spec files, sorted by file name.
    pub commands: Vec<LiveCommand>,
}

impl Capture {
    /// Reads the tree of the server at `url`.
    pub fn read(url: &str) -> Result<Self> {
        let mut conn = Conn::open(url)?;
        let hello = conn.hello(url)?;
        let field = |k: &str| hello.get(k).and_then(Value::as_str).unwrap_or("?");
        let server = format!("{} {}", field("server"), field("version"));
        let docs = conn.call(&["COMMAND", "DOCS"])?;
        let info = conn.call(&["COMMAND", "INFO"])?;
        let commands = live::tree(&docs, &info)
            .with_context(|| format!("reading the command tree of {server} at {url}"))?;
        Ok(Capture { server, commands })
    }

    /// Keeps only the commands of the modules named in `modules` (all when empty).
    pub fn only_modules(&mut self, modules: &[String]) {
        if !modules.is_empty() {
            self.commands
                .retain(|c| c.module.as_ref().is_some_and(|m| modules.contains(m)));
        }
    }

    /// Writes the files into `dir`, which it empties of `*.json` files first.
    pub fn write(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json") {
                fs::remove_file(&path)?;
            }
        }
        for c in &self.commands {
            let mut text = serde_json::to_string_pretty(&c.json)?;
            text.push('\n');
            fs::write(dir.join(&c.file), text)
                .with_context(|| format!("writing {}", dir.join(&c.file).display()))?;
        }
        Ok(())
    }

    /// One line: how many commands, of which modules, how many with arguments made
    /// from `COMMAND INFO`.
    pub fn summary(&self) -> String {
        let mut modules: Vec<(String, usize)> = Vec::new();
        for m in self.commands.iter().filter_map(|c| c.module.clone()) {
            match modules.iter_mut().find(|(n, _)| *n == m) {
                Some((_, count)) => *count += 1,
                None => modules.push((m, 1)),
            }
        }
        let modules: Vec<String> = modules.iter().map(|(m, n)| format!("{m}: {n}")).collect();
        let made = self.commands.iter().filter(|c| c.synthesized).count();
        format!(
            "{}: {} command files (modules: {}), {made} with arguments made from COMMAND INFO",
            self.server,
            self.commands.len(),
            if modules.is_empty() {
                "none".to_owned()
            } else {
                modules.join(", ")
            }
        )
    }
}

/// A blocking RESP3 connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(url: &str) -> Result<Self> {
        let addr = Address::parse(url)?;
        let stream = TcpStream::connect((addr.host.as_str(), addr.port))
            .with_context(|| format!("connecting to {}:{}", addr.host, addr.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            reader: BufReader::new(stream),
        })
    }

    /// `HELLO 3`, with `AUTH` when `url` has a password; the reply map.
    fn hello(&mut self, url: &str) -> Result<Map<String, Value>> {
        let addr = Address::parse(url)?;
        let mut words = vec!["HELLO", "3"];
        if let Some(password) = &addr.password {
            words.extend(["AUTH", addr.user.as_deref().unwrap_or("default"), password]);
        }
        match self.call(&words)? {
            Value::Object(map) => Ok(map),
            other => bail!("HELLO 3 answered {other}"),
        }
    }

    /// Sends one command and reads its reply; an error reply is an error.
    fn call(&mut self, words: &[&str]) -> Result<Value> {
        let mut out = format!("*{}\r\n", words.len());
        for w in words {
            out.push_str(&format!("${}\r\n{w}\r\n", w.len()));
        }
        self.reader.get_mut().write_all(out.as_bytes())?;
        let what = || format!("reading the reply to {}", words.join(" "));
        match self.read().with_context(what)? {
            Reply::Error(e) => bail!("{} failed: {e}", words.join(" ")),
            Reply::Value(v) => Ok(v),
        }
    }

    fn line(&mut self) -> Result<String> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        ensure!(line.ends_with("\r\n"), "connection closed or a bad line");
        line.truncate(line.len() - 2);
        Ok(line)
    }

    fn read(&mut self) -> Result<Reply> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(1);
        let len = || rest.parse::<i64>().context("a bad length");
        Ok(Reply::Value(match kind {
            "+" => Value::String(rest.to_owned()),
            "-" | "!" => return Ok(Reply::Error(rest.to_owned())),
            ":" => Value::from(len()?),
            "," | "(" => Value::String(rest.to_owned()),
            "#" => Value::Bool(rest == "t"),
            "_" => Value::Null,
            "$" | "=" => {
                let n = len()?;
                if n < 0 {
                    return Ok(Reply::Value(Value::Null));
                }
                let mut buf = vec![0; n as usize + 2];
                self.reader.read_exact(&mut buf)?;
                buf.truncate(n as usize);
                Value::String(String::from_utf8_lossy(&buf).into_owned())
            }
            "*" | "~" | ">" => {
                let n = len()?;
                if n < 0 {
                    return Ok(Reply::Value(Value::Null));
                }
                let mut items = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    items.push(self.value()?);
                }
                Value::Array(items)
            }
            "%" | "|" => {
                let mut map = Map::new();
                for _ in 0..len()? {
                    let key = match self.value()? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    map.insert(key, self.value()?);
                }
                if kind == "|" {
                    // An attribute: skipped, the reply follows.
                    return self.read();
                }
                Value::Object(map)
            }
            _ => bail!("an unknown RESP type in {line:?}"),
        }))
    }

    /// A nested value (an error inside an aggregate is kept as its text).
    fn value(&mut self) -> Result<Value> {
        Ok(match self.read()? {
            Reply::Value(v) => v,
            Reply::Error(e) => Value::String(e),
        })
    }
}

enum Reply {
    Value(Value),
    Error(String),
}

/// The parts of a URL this connection uses.
struct Address {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
}

impl Address {
    fn parse(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("redis://")
            .or_else(|| url.strip_prefix("valkey://"))
            .with_context(|| {
                format!("{url}: only redis:// and valkey:// URLs (plain TCP) are read")
            })?;
        let rest = rest.split(['/', '?']).next().unwrap_or_default();
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (user, password) = match auth.map(|a| a.split_once(':')) {
            Some(Some((u, p))) => ((!u.is_empty()).then(|| u.to_owned()), Some(p.to_owned())),
            Some(None) => (None, auth.map(str::to_owned)),
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().with_context(|| format!("{url}: bad port"))?),
            None => (hostport, 6379),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        ensure!(!host.is_empty(), "{url}: no host");
        Ok(Address {
            host: host.to_owned(),
            port,
            user,
            password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Address;

    #[test]
    fn urls_are_read() {
        let a = Address::parse("redis://u:p@127.0.0.1:7000/0").unwrap();
        assert_eq!(
            (
                a.host.as_str(),
                a.port,
                a.user.as_deref(),
                a.password.as_deref()
            ),
            ("127.0.0.1", 7000, Some("u"), Some("p"))
        );
        let a = Address::parse("valkey://:secret@localhost").unwrap();
        assert_eq!(
            (a.port, a.user, a.password.as_deref()),
            (6379, None, Some("secret"))
        );
        assert!(Address::parse("rediss://h:1").is_err());
    }
}
