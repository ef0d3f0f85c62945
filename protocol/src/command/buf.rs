//! [`CommandBuf`]: the encoded arguments of one command, kept in spec order.

use crate::resp::{write_array_header, write_bulk, write_bulk_header};
use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;

/// A run of arguments that one builder call wrote, at one position of the spec.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Position in the command's argument list (the spec's order).
    pos: u16,
    /// Where the segment's bytes start in `args`.
    start: u32,
    /// Arguments in the segment.
    argc: u32,
    /// A later call replaced this segment: it is not sent.
    dead: bool,
}

/// Argument problem found while building a command, reported before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgProblem {
    /// The argument's name in the spec (for example `score`).
    pub arg: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

/// The arguments of one command, encoded as RESP bulk strings as they are given.
///
/// Builders may be called in any order, but the server needs arguments in the order of
/// the command's syntax (ZADD's flags come before its required score/member pairs).
/// Each builder call therefore writes its arguments into one buffer, tagged with the
/// position of its argument in the spec; [`CommandBuf::encode`] emits the runs sorted
/// by position. Setting a single-valued option twice keeps the last value. Nothing is
/// allocated per argument: numbers are formatted on the stack and strings are copied
/// once into the buffer.
#[derive(Clone)]
pub struct CommandBuf {
    /// The command's name words, pre-encoded as bulk strings (`$3\r\nSET\r\n`).
    name: &'static [u8],
    /// How many words `name` holds.
    name_argc: u8,
    args: BytesMut,
    argc: u32,
    segments: SmallVec<[Segment; 6]>,
    /// Segments are in position order and none is dead.
    in_order: bool,
    /// The spec name of the argument being written, for error messages.
    current: &'static str,
    problem: Option<ArgProblem>,
    /// A required choice none of whose options has been given yet.
    missing: Option<&'static str>,
    /// The longest argument written so far: its length and spec name.
    longest: (usize, &'static str),
}

impl std::fmt::Debug for CommandBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for arg in self.iter() {
            list.entry(&String::from_utf8_lossy(arg));
        }
        list.finish()
    }
}

impl CommandBuf {
    /// A command whose name words are pre-encoded in `name` (`name_argc` words).
    ///
    /// Generated code passes literals such as `b"$6\r\nCLIENT\r\n$4\r\nKILL\r\n"`.
    pub(crate) fn new(name: &'static [u8], name_argc: u8) -> Self {
        CommandBuf {
            name,
            name_argc,
            // Room for a typical command, so that small ones allocate once.
            args: BytesMut::with_capacity(64),
            argc: 0,
            segments: SmallVec::new(),
            in_order: true,
            current: "",
            problem: None,
            missing: None,
            longest: (0, ""),
        }
    }

    /// A command whose name is only known at run time (modules, newer servers):
    /// the name is written as the first argument.
    pub fn raw(name: &[u8]) -> Self {
        let mut buf = CommandBuf::new(b"", 0);
        buf.multi(0, "command");
        buf.push(name);
        buf
    }

    /// Starts writing the argument at spec position `pos`, replacing whatever an
    /// earlier call wrote there (single-valued options: the last call wins).
    #[doc(hidden)]
    pub fn single(&mut self, pos: u16, arg: &'static str) {
        for seg in self.segments.iter_mut() {
            if seg.pos == pos && !seg.dead {
                seg.dead = true;
                self.argc -= seg.argc;
                self.in_order = false;
            }
        }
        self.begin(pos, arg);
    }

    /// Starts writing at spec position `pos`, after whatever earlier calls wrote there
    /// (repeatable arguments).
    pub(crate) fn multi(&mut self, pos: u16, arg: &'static str) {
        if let Some(last) = self.segments.last() {
            if last.pos == pos && !last.dead {
                self.current = arg;
                return;
            }
        }
        self.begin(pos, arg);
    }

    fn begin(&mut self, pos: u16, arg: &'static str) {
        if let Some(last) = self.segments.last() {
            if last.pos > pos {
                self.in_order = false;
            }
        }
        self.current = arg;
        self.segments.push(Segment {
            pos,
            start: self.args.len() as u32,
            argc: 0,
            dead: false,
        });
    }

    /// Appends one argument to the current run.
    pub fn push(&mut self, arg: &[u8]) {
        write_bulk(&mut self.args, arg);
        self.count(arg.len());
    }

    /// Appends one argument made of `parts` joined together (`(1.5`, `[member`).
    pub fn push_parts(&mut self, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        write_bulk_header(&mut self.args, len);
        for p in parts {
            self.args.extend_from_slice(p);
        }
        self.args.extend_from_slice(b"\r\n");
        self.count(len);
    }

    /// Appends a pure token (`NX`, `WITHSCORES`): the same as [`push`](Self::push).
    pub(crate) fn token(&mut self, token: &'static str) {
        self.push(token.as_bytes());
    }

    fn count(&mut self, len: usize) {
        if len > self.longest.0 {
            self.longest = (len, self.current);
        }
        self.argc += 1;
        match self.segments.last_mut() {
            Some(seg) => seg.argc += 1,
            None => {
                // Written without a position: treat as position 0.
                self.segments.push(Segment {
                    pos: 0,
                    start: 0,
                    argc: 1,
                    dead: false,
                });
            }
        }
    }

    /// Records that the argument being written is invalid; the command will fail with
    /// an error naming the command and this argument, before anything is sent. The
    /// first problem wins.
    pub fn fail(&mut self, problem: &'static str) {
        if self.problem.is_none() {
            self.problem = Some(ArgProblem {
                arg: self.current,
                problem,
            });
        }
    }

    /// Names the argument being written (a field inside a block), for error messages.
    pub(crate) fn arg_name(&mut self, arg: &'static str) {
        self.current = arg;
    }

    /// Records that one option of the required choice `group` must still be given
    /// (a choice whose alternatives are builder methods).
    pub(crate) fn require(&mut self, group: &'static str) {
        self.missing = Some(group);
    }

    /// One option of the required choice was given.
    pub(crate) fn satisfy(&mut self) {
        self.missing = None;
    }

    /// The first argument problem, if any (a missing required choice comes last).
    pub fn problem(&self) -> Option<ArgProblem> {
        self.problem.clone().or(self.missing.map(|arg| ArgProblem {
            arg,
            problem: "is required: give one of its options",
        }))
    }

    /// The length and spec name of the longest argument, checked against the
    /// server's limit before sending. An argument a later call replaced still
    /// counts, unless [`exact_longest_arg`](Self::exact_longest_arg) is asked.
    #[doc(hidden)]
    pub fn longest_arg(&self) -> (usize, &'static str) {
        self.longest
    }

    /// The length of the longest argument that will be sent (slower than
    /// [`longest_arg`](Self::longest_arg): it walks the arguments).
    #[doc(hidden)]
    pub fn exact_longest_arg(&self) -> usize {
        self.iter().map(<[u8]>::len).max().unwrap_or(0)
    }

    /// The first word, in upper case: the name of a command the spec does not know
    /// (a module's `JSON.GET`), for messages.
    #[doc(hidden)]
    pub fn raw_name(&self) -> std::borrow::Cow<'static, str> {
        let word = self.iter().next().unwrap_or_default();
        match std::str::from_utf8(word) {
            Ok(w) if !w.is_empty() => std::borrow::Cow::Owned(w.to_ascii_uppercase()),
            _ => std::borrow::Cow::Borrowed("command"),
        }
    }

    /// The number of words on the wire, including the command name.
    pub fn len(&self) -> usize {
        self.name_argc as usize + self.argc as usize
    }

    /// True when the command has no words at all (never for a generated command).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the whole command as a RESP array to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        write_array_header(out, self.len());
        out.extend_from_slice(self.name);
        if self.in_order {
            out.extend_from_slice(&self.args);
            return;
        }
        let mut order: SmallVec<[usize; 8]> = (0..self.segments.len())
            .filter(|&i| !self.segments[i].dead)
            .collect();
        // Stable: runs at the same position keep their call order.
        order.sort_by_key(|&i| self.segments[i].pos);
        for i in order {
            out.extend_from_slice(&self.args[self.segment_range(i)]);
        }
    }

    /// The command as one RESP array.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.name.len() + self.args.len() + 16);
        self.encode(&mut out);
        out.freeze()
    }

    fn segment_range(&self, i: usize) -> std::ops::Range<usize> {
        let start = self.segments[i].start as usize;
        let end = self
            .segments
            .get(i + 1)
            .map_or(self.args.len(), |s| s.start as usize);
        start..end
    }

    /// Every word of the command (name words first), in wire order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut order: SmallVec<[usize; 8]> = (0..self.segments.len())
            .filter(|&i| !self.segments[i].dead)
            .collect();
        order.sort_by_key(|&i| self.segments[i].pos);
        let name = Bulks(self.name);
        name.chain(
            order
                .into_iter()
                .flat_map(move |i| Bulks(&self.args[self.segment_range(i)])),
        )
    }
}

/// Iterates over the payloads of consecutive bulk strings written by `write_bulk`.
struct Bulks<'a>(&'a [u8]);

impl<'a> Iterator for Bulks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.0.strip_prefix(b"$")?;
        let nl = rest.iter().position(|&b| b == b'\r')?;
        let len: usize = std::str::from_utf8(&rest[..nl]).ok()?.parse().ok()?;
        let body = rest.get(nl + 2..nl + 2 + len)?;
        self.0 = rest.get(nl + 2 + len + 2..).unwrap_or_default();
        Some(body)
    }
}
