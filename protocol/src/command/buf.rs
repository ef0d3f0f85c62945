//! [`CommandBuf`]: the encoded arguments of one command, kept in spec order.

use super::args::{Args, Large};
use super::encoded::{Encoded, LARGE_ARG};
use crate::resp::Out;
use crate::resp::{write_array_header, write_bulk, write_bulk_header, Header};
use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;
use std::io::IoSlice;

/// A run of arguments that one builder call wrote, at one position of the spec.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Position in the command's argument list (the spec's order).
    pos: u16,
    /// Where the segment's bytes start in `args` (its arguments are counted when
    /// needed, rarely, so that writing one touches no segment).
    start: u32,
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
    args: Args,
    /// Large values, in the order of `args`: where each value's bytes belong in
    /// `args` (between its bulk header and its CRLF, which `args` holds), and the
    /// value.
    large: Large,
    /// Arguments to send (those of dead segments not counted).
    argc: u32,
    segments: SmallVec<[Segment; 6]>,
    /// Segments are in position order and none is dead.
    in_order: bool,
    /// The spec name of the argument being written, for error messages.
    current: &'static str,
    /// (Boxed: rare, and the command is moved whole.)
    problem: Option<Box<ArgProblem>>,
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
    #[doc(hidden)]
    #[inline]
    pub fn new(name: &'static [u8], name_argc: u8) -> Self {
        CommandBuf {
            name,
            name_argc,
            args: Args::new(),
            large: Large::default(),
            argc: 0,
            segments: SmallVec::new(),
            in_order: true,
            current: "",
            problem: None,
            missing: None,
            longest: (0, ""),
        }
    }

    /// Takes the whole command out of `self`, leaving an empty one (no words).
    pub fn take(&mut self) -> CommandBuf {
        std::mem::replace(self, CommandBuf::new(b"", 0))
    }

    /// A command whose name is only known at run time (modules, newer servers):
    /// the name is written as the first argument.
    pub fn raw(name: &[u8]) -> Self {
        let mut buf = CommandBuf::new(b"", 0);
        buf.multi(0, "command");
        buf.push(name);
        buf
    }

    /// A command from its words, the name first (`["CLUSTER", "SHARDS"]`): the
    /// runtime's own commands (handshake, cluster topology).
    #[doc(hidden)]
    pub fn from_words(words: &[&[u8]]) -> Self {
        let mut buf = CommandBuf::raw(words.first().copied().unwrap_or_default());
        for w in words.iter().skip(1) {
            buf.push(w);
        }
        buf
    }

    /// Starts writing the argument at spec position `pos`, replacing whatever an
    /// earlier call wrote there (single-valued options: the last call wins).
    #[doc(hidden)]
    #[inline]
    pub fn single(&mut self, pos: u16, arg: &'static str) {
        // Written in order so far and past every earlier position (a command's
        // arguments in the spec's order, most often): nothing to replace, and still
        // in order.
        let past_all = match self.segments.last() {
            Some(last) => self.in_order && last.pos < pos,
            None => self.argc == 0,
        };
        if !past_all {
            return self.reposition(pos, arg);
        }
        self.open(pos, arg);
    }

    /// [`single`](Self::single) out of order, or over an earlier value.
    #[inline(never)]
    fn reposition(&mut self, pos: u16, arg: &'static str) {
        self.replace(pos);
        self.begin(pos, arg);
    }

    /// Marks what earlier calls wrote at `pos` dead: it is not sent.
    #[inline(never)]
    fn replace(&mut self, pos: u16) {
        for i in 0..self.segments.len() {
            if self.segments[i].pos == pos && !self.segments[i].dead {
                self.segments[i].dead = true;
                self.argc -= self.segment_words(i).count() as u32;
                self.in_order = false;
            }
        }
    }

    /// Starts writing at spec position `pos`, after whatever earlier calls wrote there
    /// (repeatable arguments).
    #[doc(hidden)]
    pub fn multi(&mut self, pos: u16, arg: &'static str) {
        if let Some(last) = self.segments.last() {
            if last.pos == pos && !last.dead {
                self.current = arg;
                return;
            }
        }
        self.begin(pos, arg);
    }

    #[inline]
    fn begin(&mut self, pos: u16, arg: &'static str) {
        match self.segments.last() {
            Some(last) if last.pos > pos => self.in_order = false,
            Some(_) => {}
            None if self.argc > 0 => self.unpositioned(),
            None => {}
        }
        self.open(pos, arg);
    }

    /// Opens the segment at `pos` where the next argument goes.
    #[inline(always)]
    fn open(&mut self, pos: u16, arg: &'static str) {
        self.current = arg;
        self.segments.push(Segment {
            pos,
            start: self.args.len() as u32,
            dead: false,
        });
    }

    /// Arguments were written without a position: they make a segment at
    /// position 0.
    #[cold]
    #[inline(never)]
    fn unpositioned(&mut self) {
        self.segments.push(Segment {
            pos: 0,
            start: 0,
            dead: false,
        });
    }

    /// Appends one argument to the current run (a large one is copied into a
    /// [`Bytes`] of its own, once).
    #[inline]
    pub fn push(&mut self, arg: &[u8]) {
        if !self.args.push_short_bulk(arg) {
            return self.push_long(arg);
        }
        self.count(arg.len());
    }

    /// [`push`](Self::push) of an argument too long for the inline room.
    #[inline(never)]
    fn push_long(&mut self, arg: &[u8]) {
        if arg.len() >= LARGE_ARG {
            return self.push_large(Bytes::copy_from_slice(arg));
        }
        write_bulk(&mut self.args, arg);
        self.count(arg.len());
    }

    /// Appends one argument to the current run; a large one is kept as it is, never
    /// copied.
    pub fn push_bytes(&mut self, arg: Bytes) {
        if arg.len() < LARGE_ARG {
            return self.push(&arg);
        }
        self.push_large(arg);
    }

    fn push_large(&mut self, arg: Bytes) {
        let len = arg.len();
        write_bulk_header(&mut self.args, len);
        self.large.push(self.args.len() as u32, arg);
        self.args.extend_from_slice(b"\r\n");
        self.count(len);
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
    #[doc(hidden)]
    pub fn token(&mut self, token: &'static str) {
        self.push(token.as_bytes());
    }

    #[inline]
    fn count(&mut self, len: usize) {
        if len > self.longest.0 {
            self.longest = (len, self.current);
        }
        self.argc += 1;
    }

    /// Records that the argument being written is invalid; the command will fail with
    /// an error naming the command and this argument, before anything is sent. The
    /// first problem wins.
    pub fn fail(&mut self, problem: &'static str) {
        if self.problem.is_none() {
            self.problem = Some(Box::new(ArgProblem {
                arg: self.current,
                problem,
            }));
        }
    }

    /// Names the argument being written (a field inside a block), for error messages.
    #[doc(hidden)]
    pub fn arg_name(&mut self, arg: &'static str) {
        self.current = arg;
    }

    /// Records that one option of the required choice `group` must still be given
    /// (a choice whose alternatives are builder methods).
    #[doc(hidden)]
    pub fn require(&mut self, group: &'static str) {
        self.missing = Some(group);
    }

    /// One option of the required choice was given.
    #[doc(hidden)]
    pub fn satisfy(&mut self) {
        self.missing = None;
    }

    /// Records that the option at `pos` (of the choice `group`) must be given: an
    /// option that goes with it was, and it was not yet (`XADD .approx()` without
    /// `.maxlen(n)` or `.minid(id)`).
    pub(crate) fn needs(&mut self, pos: u16, group: &'static str) {
        if !self.segments.iter().any(|s| s.pos == pos && !s.dead) {
            self.missing = Some(group);
        }
    }

    /// Checks that the last `n` arguments written are stream IDs, or forms in `also`
    /// (see `stream_id::is_stream_id`); `problem` says what the argument takes.
    pub(crate) fn stream_ids(&mut self, n: usize, also: &[&str], problem: &'static str) {
        let Some(i) = self.segments.len().checked_sub(1) else {
            return;
        };
        let skip = self.segment_words(i).count().saturating_sub(n);
        let bad = self
            .segment_words(i)
            .skip(skip)
            .any(|id| !super::stream_id::is_stream_id(id, also));
        if bad {
            self.fail(problem);
        }
    }

    /// The first argument problem, if any (a missing required choice comes last).
    pub fn problem(&self) -> Option<ArgProblem> {
        let problem = self.problem.as_deref().cloned();
        problem.or(self.missing.map(|arg| ArgProblem {
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

    /// Appends the whole command as a RESP array to `out` (large values copied).
    pub fn encode(&self, out: &mut BytesMut) {
        write_array_header(out, self.len());
        out.extend_from_slice(self.name);
        self.emit(|part| match part {
            Part::Copy(bytes) => out.extend_from_slice(bytes),
            Part::Large(bytes) => out.extend_from_slice(bytes),
        });
    }

    /// Appends the whole command as a RESP array to `out`: small parts are copied,
    /// large values are handed on as they are (no copy).
    #[inline]
    pub fn encode_into(&self, out: &mut Encoded) {
        if self.in_order && self.large.is_empty() {
            // In order, nothing large (most commands, a pipeline's among them).
            return encode_small(out.buf_mut(), self.len(), self.name, &self.args);
        }
        self.encode_into_sorted(out);
    }

    /// [`encode_into`](Self::encode_into) of a command with large values, or
    /// arguments given out of order.
    #[inline(never)]
    fn encode_into_sorted(&self, out: &mut Encoded) {
        write_array_header(out.buf_mut(), self.len());
        out.extend_from_slice(self.name);
        self.emit(|part| match part {
            Part::Copy(bytes) => out.extend_from_slice(bytes),
            Part::Large(bytes) => out.push_bytes(bytes.clone()),
        });
    }

    /// The command as it goes to a connection: only what writing it needs, in wire
    /// order (a few words, so queues move it cheaply; the builder's bookkeeping is
    /// left behind). Arguments given out of the spec's order are put in order here,
    /// once.
    #[doc(hidden)]
    #[inline]
    pub fn into_wire(mut self) -> Wire {
        self.take_wire()
    }

    /// [`into_wire`](Self::into_wire) through a reference: the words are taken out,
    /// and the command left without any (no copy of the builder's state).
    #[doc(hidden)]
    #[inline]
    pub fn take_wire(&mut self) -> Wire {
        let argc = self.len() as u32;
        let name = std::mem::take(&mut self.name);
        let (args, large) = if self.in_order {
            (
                std::mem::replace(&mut self.args, Args::new()),
                std::mem::take(&mut self.large),
            )
        } else {
            let mut args = Args::with_capacity(self.args.len());
            let mut large = Large::default();
            self.emit(|part| match part {
                Part::Copy(bytes) => args.extend_from_slice(bytes),
                Part::Large(bytes) => large.push(args.len() as u32, bytes.clone()),
            });
            self.args = Args::new();
            self.large = Large::default();
            (args, large)
        };
        self.name_argc = 0;
        self.argc = 0;
        self.segments.clear();
        self.in_order = true;
        Wire {
            name,
            argc,
            args,
            large,
        }
    }

    /// Hands the arguments' bytes, in wire order, to `f`.
    fn emit(&self, mut f: impl FnMut(Part<'_>)) {
        if self.in_order {
            return self.emit_range(0..self.args.len(), &mut f);
        }
        let mut order: SmallVec<[usize; 8]> = (0..self.segments.len())
            .filter(|&i| !self.segments[i].dead)
            .collect();
        // Stable: runs at the same position keep their call order.
        order.sort_by_key(|&i| self.segments[i].pos);
        for i in order {
            self.emit_range(self.segment_range(i), &mut f);
        }
    }

    /// Hands the bytes of `args[range]` to `f`, each large value in its place.
    fn emit_range(&self, range: std::ops::Range<usize>, f: &mut impl FnMut(Part<'_>)) {
        emit_range(&self.args, &self.large, range, f);
    }

    /// The command as one RESP array.
    pub fn to_bytes(&self) -> Bytes {
        let large: usize = self.large.iter().map(|(_, v)| v.len()).sum();
        let mut out = BytesMut::with_capacity(self.name.len() + self.args.len() + large + 16);
        self.encode(&mut out);
        out.freeze()
    }

    /// The words segment `i` wrote.
    fn segment_words(&self, i: usize) -> Bulks<'_> {
        let range = self.segment_range(i);
        Bulks {
            buf: &self.args,
            at: range.start,
            end: range.end,
            large: &self.large,
        }
    }

    fn segment_range(&self, i: usize) -> std::ops::Range<usize> {
        let start = self.segments[i].start as usize;
        let end = self
            .segments
            .get(i + 1)
            .map_or(self.args.len(), |s| s.start as usize);
        start..end
    }

    /// Every word of the command (name words first), in wire order, collected:
    /// without an allocation for up to 8 words (key lookups, routing).
    pub fn words(&self) -> SmallVec<[&[u8]; 8]> {
        self.iter().collect()
    }

    /// Every word of the command (name words first), in wire order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let name = Bulks {
            buf: self.name,
            at: 0,
            end: self.name.len(),
            large: &[],
        };
        // In order (most commands): the arguments as they were written.
        let order = (!self.in_order).then(|| {
            let mut order: SmallVec<[usize; 8]> = (0..self.segments.len())
                .filter(|&i| !self.segments[i].dead)
                .collect();
            order.sort_by_key(|&i| self.segments[i].pos);
            order.into_iter()
        });
        name.chain(Words {
            buf: self,
            order,
            run: Bulks {
                buf: &self.args,
                at: 0,
                end: if self.in_order { self.args.len() } else { 0 },
                large: &self.large,
            },
        })
    }
}

/// The arguments of a [`CommandBuf`] in wire order: run after run, in the order
/// of `order` (`None`: the buffer is in order, one run).
struct Words<'a> {
    buf: &'a CommandBuf,
    order: Option<smallvec::IntoIter<[usize; 8]>>,
    /// The run being read.
    run: Bulks<'a>,
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if let Some(word) = self.run.next() {
                return Some(word);
            }
            let i = self.order.as_mut()?.next()?;
            let range = self.buf.segment_range(i);
            (self.run.at, self.run.end) = (range.start, range.end);
        }
    }
}

/// A command ready to be written ([`CommandBuf::into_wire`]): its pre-encoded name,
/// its word count, and its arguments in wire order, large values kept apart.
#[doc(hidden)]
pub struct Wire {
    name: &'static [u8],
    /// Words on the wire, the name's included.
    argc: u32,
    args: Args,
    /// Large values: where each belongs in `args`, and the value.
    large: Large,
}

impl Wire {
    /// Appends the command as a RESP array to `out`: small parts are copied, large
    /// values are handed on as they are (no copy).
    pub fn encode_into(&self, out: &mut Encoded) {
        if self.large.is_empty() {
            // All of it copied (most commands).
            return encode_small(out.buf_mut(), self.argc as usize, self.name, &self.args);
        }
        write_array_header(out.buf_mut(), self.argc as usize);
        out.extend_from_slice(self.name);
        emit_range(
            &self.args,
            &self.large,
            0..self.args.len(),
            &mut |part| match part {
                Part::Copy(bytes) => out.extend_from_slice(bytes),
                Part::Large(bytes) => out.push_bytes(bytes.clone()),
            },
        );
    }

    /// Drops the command, without running its drop glue when none of it is on the
    /// heap (its arguments inline, no large value): most commands, which then cost a
    /// test or two instead of a call.
    #[inline]
    pub fn discard(self) {
        if matches!(self.args, Args::Inline { .. }) && !self.large.on_heap() {
            // Nothing to free: forgetting it leaks nothing.
            std::mem::forget(self);
        }
    }

    /// The command's RESP array header (`*3\r\n`), for [`io_slices`](Self::io_slices).
    #[inline]
    pub fn header(&self) -> Header {
        Header::new(b'*', self.argc as usize)
    }

    /// The whole command as slices in wire order, for one vectored write without
    /// copying anything: `header`, the name, the small arguments and the large
    /// values in their places. Returns how many slices it filled and their bytes;
    /// `None` when `dst` has too few (many large values).
    pub fn io_slices<'a>(
        &'a self,
        header: &'a Header,
        dst: &mut [IoSlice<'a>],
    ) -> Option<(usize, usize)> {
        if self.large.is_empty() {
            // No large value (most commands): the header, the name and the
            // arguments, three slices (an empty one is written as nothing).
            let [h, name, args, ..] = dst else {
                return None;
            };
            let header = header.as_bytes();
            *h = IoSlice::new(header);
            *name = IoSlice::new(self.name);
            *args = IoSlice::new(&self.args);
            return Some((3, header.len() + self.name.len() + self.args.len()));
        }
        let (mut n, mut bytes) = (0, 0);
        let mut push = |part: &'a [u8]| {
            if part.is_empty() {
                return Some(());
            }
            *dst.get_mut(n)? = IoSlice::new(part);
            n += 1;
            bytes += part.len();
            Some(())
        };
        push(header.as_bytes())?;
        push(self.name)?;
        let mut at = 0;
        for (pos, value) in self.large.iter() {
            let pos = *pos as usize;
            push(&self.args[at..pos])?;
            push(value)?;
            at = pos;
        }
        push(&self.args[at..])?;
        Some((n, bytes))
    }
}

/// Appends a command of `words` words with no large value, its arguments in wire
/// order, as a RESP array: room made once, three copies.
#[inline(always)]
fn encode_small(buf: &mut BytesMut, words: usize, name: &[u8], args: &[u8]) {
    buf.reserve(crate::resp::HEADER_LEN + name.len() + args.len());
    write_array_header(buf, words);
    buf.extend_from_slice(name);
    buf.extend_from_slice(args);
}

/// Hands the bytes of `args[range]` to `f`, each large value (its position in
/// `args`, and the value) in its place.
fn emit_range(
    args: &[u8],
    large: &[(u32, Bytes)],
    range: std::ops::Range<usize>,
    f: &mut impl FnMut(Part<'_>),
) {
    let mut at = range.start;
    let first = large.partition_point(|(pos, _)| (*pos as usize) < at);
    for (pos, value) in &large[first..] {
        let pos = *pos as usize;
        if pos >= range.end {
            break;
        }
        f(Part::Copy(&args[at..pos]));
        f(Part::Large(value));
        at = pos;
    }
    f(Part::Copy(&args[at..range.end]));
}

/// A piece of an encoded command.
enum Part<'a> {
    /// Bytes of the command's buffer.
    Copy(&'a [u8]),
    /// A large value, kept apart.
    Large(&'a Bytes),
}

/// Iterates over the payloads of consecutive bulk strings written by `write_bulk`
/// (or by `push_large`, whose payload is in `large`) in `buf[at..end]`.
struct Bulks<'a> {
    buf: &'a [u8],
    at: usize,
    end: usize,
    large: &'a [(u32, Bytes)],
}

impl<'a> Iterator for Bulks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.buf.get(self.at..self.end)?.strip_prefix(b"$")?;
        // The length's digits, up to the CR (written by this crate: well formed).
        let (mut len, mut nl) = (0usize, 0);
        loop {
            match *rest.get(nl)? {
                b'\r' => break,
                d @ b'0'..=b'9' => len = len.checked_mul(10)?.checked_add(usize::from(d - b'0'))?,
                _ => return None,
            }
            nl += 1;
        }
        if nl == 0 {
            return None;
        }
        let body_at = self.at + 1 + nl + 2;
        if let Ok(i) = self
            .large
            .binary_search_by_key(&body_at, |(pos, _)| *pos as usize)
        {
            self.at = body_at + 2;
            return Some(&self.large[i].1);
        }
        let body = self.buf.get(body_at..body_at + len)?;
        self.at = body_at + len + 2;
        Some(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large values out of spec order, replaced, borrowed and shared: the words and
    /// both encodings agree, and a shared `Bytes` is not copied.
    #[test]
    fn large_values_keep_their_place() {
        let big = Bytes::from(vec![b'x'; LARGE_ARG + 3]);
        let other = vec![b'y'; LARGE_ARG];
        let mut buf = CommandBuf::new(b"$3\r\nSET\r\n", 1);
        buf.single(16, "value");
        buf.push(&other);
        buf.single(0, "key");
        buf.push(b"k");
        buf.single(16, "value");
        buf.push_bytes(big.clone());
        buf.single(32, "tail");
        buf.push(b"t");
        let words: Vec<&[u8]> = buf.iter().collect();
        assert_eq!(words, [&b"SET"[..], b"k", &big[..], b"t"]);
        assert_eq!(buf.exact_longest_arg(), big.len());

        let mut copied = BytesMut::new();
        buf.encode(&mut copied);
        let mut want = format!("*4\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", big.len()).into_bytes();
        want.extend_from_slice(&big);
        want.extend_from_slice(b"\r\n$1\r\nt\r\n");
        assert_eq!(&copied[..], &want[..]);
        assert_eq!(&buf.to_bytes()[..], &want[..]);

        let mut chunks = Encoded::new();
        buf.encode_into(&mut chunks);
        assert_eq!(chunks.to_vec(), want);
        let mut slices = [std::io::IoSlice::new(&[]); 4];
        let n = chunks.io_slices(&mut slices);
        assert_eq!(n, 3);
        assert_eq!(
            slices[1].as_ptr(),
            big.as_ptr(),
            "the shared value was copied"
        );

        // The same out of order command, made ready for the wire: the same bytes,
        // the shared value still not copied.
        let mut wired = Encoded::new();
        buf.clone().into_wire().encode_into(&mut wired);
        assert_eq!(wired.to_vec(), want);
        let n = wired.io_slices(&mut slices);
        assert_eq!(n, 3);
        assert_eq!(slices[1].as_ptr(), big.as_ptr(), "the wire form copied it");

        // Its slices for one vectored write, nothing copied: the same bytes.
        let wire = buf.clone().into_wire();
        let header = wire.header();
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        let (n, bytes) = wire.io_slices(&header, &mut slices).unwrap();
        let joined: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!((joined, bytes), (want.clone(), want.len()));
        assert!(slices[..n].iter().any(|s| s.as_ptr() == big.as_ptr()));
        // Too few slots: none filled in part.
        assert!(wire.io_slices(&header, &mut slices[..3]).is_none());
    }

    /// A command without large values goes out as three slices (header, name,
    /// arguments), whose bytes are the encoded command's; a raw command's empty
    /// name and an argument-less command's empty arguments are empty slices.
    #[test]
    fn small_commands_are_three_slices() {
        let mut set = CommandBuf::new(b"$3\r\nSET\r\n", 1);
        set.single(0, "key");
        set.push(b"k");
        set.single(16, "value");
        set.push(b"v");
        let ping = CommandBuf::new(b"$4\r\nPING\r\n", 1);
        let raw = CommandBuf::from_words(&[b"GET", b"k"]);
        for buf in [set, ping, raw] {
            let mut want = BytesMut::new();
            buf.encode(&mut want);
            let wire = buf.into_wire();
            let header = wire.header();
            let mut slices = [std::io::IoSlice::new(&[]); 3];
            let (n, bytes) = wire.io_slices(&header, &mut slices).unwrap();
            let joined: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
            assert_eq!((n, &joined[..], bytes), (3, &want[..], want.len()));
            assert!(wire.io_slices(&header, &mut slices[..2]).is_none());
        }
    }

    /// A command written in the spec's order goes to the wire as it is.
    #[test]
    fn an_ordered_command_goes_to_the_wire_unchanged() {
        let big = Bytes::from(vec![b'z'; LARGE_ARG]);
        let mut buf = CommandBuf::new(b"$3\r\nSET\r\n", 1);
        buf.single(0, "key");
        buf.push(b"k");
        buf.single(16, "value");
        buf.push_bytes(big.clone());
        buf.single(32, "condition");
        buf.push(b"NX");
        let mut want = Encoded::new();
        buf.encode_into(&mut want);
        let mut got = Encoded::new();
        buf.into_wire().encode_into(&mut got);
        assert_eq!(got.to_vec(), want.to_vec());
        let mut empty = Encoded::new();
        CommandBuf::new(b"$4\r\nPING\r\n", 1)
            .into_wire()
            .encode_into(&mut empty);
        assert_eq!(empty.to_vec(), b"*1\r\n$4\r\nPING\r\n");
    }
}
