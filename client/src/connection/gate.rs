//! The gate: a caller writes its request to the socket itself when the connection
//! is idle, rather than queueing it for the driver task, and reads its reply itself
//! too while the driver stays parked.
//!
//! A lone caller's request otherwise crosses two tasks each way (the caller wakes
//! the driver, which writes; the reply wakes the driver, which wakes the caller).
//! Through the gate it crosses none: the caller writes, the reply wakes the caller,
//! which reads it. Under load the gate stays shut and requests are queued and
//! written together (auto-pipelining), as before.
//!
//! The rules that keep the reply FIFO in the order of the bytes on the wire:
//!
//! - The driver opens the gate only when it parks with nothing in flight, nothing
//!   to write, and its request queue drained; it shuts it when it runs again,
//!   before it takes anything from the queue.
//! - A caller goes through only when the request queue is empty, and no operation
//!   of the demultiplexer (a subscriber's clean-up) is queued either, so nothing
//!   sent before is overtaken; and one request per opening: the gate shuts behind
//!   it, and the driver takes that request's sink before any other when it runs.
//! - What the socket does not take at once stays here, and the driver, woken, writes
//!   it before anything else.
//!
//! The rules of reading, where the caller reads its own reply:
//!
//! - The parked driver lends its frame reader (empty: nothing in flight) when no
//!   push frame is expected (no subscription, no client-side caching), and a caller
//!   whose request went out whole reads with it, in its own poll, under the gate's
//!   lock. The first reply on the wire is its own (nothing else was in flight).
//! - A caller reading its own reply has no slot (`slot.rs`): it takes its whole
//!   reply straight from the gate. A slot is made only when the reading goes back
//!   to the driver (below): the request's sink for the driver, the slot's other
//!   end kept here for the caller, by its ticket.
//! - Whenever the driver runs (another request queued, a timer, a close), it takes
//!   its reader back and the reading with it, and wakes the caller, which then
//!   waits for its reply in that slot as any other. So a caller that stops polling
//!   holds up nobody else.
//! - A frame the caller should not take (a push, an error reply where a locator
//!   watches them, a malformed one), the end of the stream, or a caller that gives
//!   up hands the reading back: the driver is woken and finds the bytes as read.
//! - A caller done with its reply leaves the connection as the parked driver did:
//!   the read waker registered for what comes next (it wakes the driver when no
//!   caller reads), and the gate open.
//!
//! TLS streams have no gate (their writes go through the session's state).

use super::driver::{Expect, Own, Payload, Receiver, Sink, Want};
use super::frames::FrameReader;
use super::transport::{Reader, Writer};
use crate::command::Encoded;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

/// The most slices one vectored write hands the socket.
pub(super) const MAX_SLICES: usize = 64;

/// The slices of one command a caller writes through the gate: the header, the
/// name and the arguments around one large value (a command with more is copied
/// into the gate's buffer, its large values not, and written from there).
const CALLER_SLICES: usize = 5;

/// A connection's gate, shared by its handles and its driver.
pub(crate) struct Gate {
    /// Open (read without the lock, to skip it when shut).
    open: AtomicBool,
    state: Mutex<State>,
    /// What waits for the socket to have something to read, whoever reads: it
    /// wakes the caller reading its own reply, else the driver ([`Route`]).
    read_waker: Waker,
}

/// The waker registered for reading a gated socket: wakes the caller that reads
/// its own reply once it has polled, otherwise the driver. Registered once, it
/// serves both, so a caller does not register one of its own (nor the driver its
/// own again) on every request.
struct Route(Weak<Gate>);

impl Wake for Route {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let Some(gate) = self.0.upgrade() else {
            return;
        };
        let to = {
            let mut st = gate.lock();
            st.armed = false;
            match (&st.reading, &st.reader_waker) {
                (Some(_), Some(caller)) => caller.clone(),
                _ => match &st.driver {
                    Some(driver) => driver.clone(),
                    None => return,
                },
            }
        };
        // Outside the lock: the caller's waker is its executor's, whatever that
        // does when woken.
        to.wake();
    }
}

struct State {
    /// The socket's writing half, while connected (none for TLS).
    writer: Option<Writer>,
    /// The socket's reading half, while connected (none for TLS).
    reader: Option<Reader>,
    /// Shut for good: the connection was closed.
    closed: bool,
    /// The sink of the request a caller wrote and does not read the reply of
    /// (or whose reading went back to the driver), until the driver takes it.
    written: Option<Sink>,
    /// What of it the socket did not take (the driver writes it first); else an
    /// empty buffer kept for the next caller.
    rest: Encoded,
    /// When it was written: the health check's sign of life (the connection was
    /// idle, so the wait for an answer starts then).
    at: Option<Instant>,
    /// Woken when a caller leaves bytes unwritten, or hands the reading back.
    driver: Option<Waker>,
    /// The driver's frame reader while it is lent (`lent`), else a stand-in.
    frames: FrameReader,
    /// The parked driver lent its frame reader (only ever with `reader` set).
    lent: bool,
    /// The caller reading its own reply, if one is: its ticket, and the replies it
    /// waits for (its request has no slot while it reads).
    reading: Option<(u64, Expect)>,
    /// The slots made for callers whose reading went back to the driver, until
    /// they take them (by ticket).
    taken_back: Vec<(u64, Receiver)>,
    /// That caller's waker, once it polled. Kept when it is done: the next caller
    /// is most often the same task, which then does not store its waker anew (a
    /// caller that has not polled yet may find another's here: woken for nothing
    /// at worst, and it reads itself when it polls).
    reader_waker: Option<Waker>,
    /// The read waker is registered with the reactor, and has not fired since.
    armed: bool,
    /// The last ticket given.
    tickets: u64,
    /// A caller read its reply since the driver last ran (the connection served).
    served: bool,
    /// Error replies are the driver's to read (a locator watches them).
    errors_to_driver: bool,
}

/// How a request went through [`Gate::pass`].
pub(crate) enum Pass {
    /// It did not (the gate is shut): it is to be queued.
    Queue(Payload),
    /// Written; the driver reads its reply, into this slot.
    Written(Receiver),
    /// Written, and its caller reads the reply itself with this ticket
    /// ([`Gate::poll_read`]).
    Reads(u64),
}

/// What a caller reading its own reply gets ([`Gate::poll_read`]).
pub(crate) enum Read {
    /// Its whole reply.
    Own(Own),
    /// The reading went back to the driver, which delivers the reply to this
    /// slot (none: the caller's slot is lost, which cannot happen).
    Slot(Option<Receiver>),
}

/// What the driver finds when it shuts the gate.
pub(crate) struct Passed {
    /// The sink of the request a caller wrote: the oldest in flight.
    pub(crate) sink: Option<Sink>,
    /// When it was written.
    pub(crate) at: Option<Instant>,
    /// The connection was closed ([`Gate::close`]).
    pub(crate) closed: bool,
    /// A caller read its own reply since the driver last ran.
    pub(crate) served: bool,
    /// The frame reader came back with bytes a caller read and did not take.
    pub(crate) frames_read: bool,
}

impl Gate {
    /// A shut gate.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new_cyclic(|gate| Gate {
            read_waker: Waker::from(Arc::new(Route(gate.clone()))),
            open: AtomicBool::new(false),
            state: Mutex::new(State {
                writer: None,
                reader: None,
                closed: false,
                written: None,
                rest: Encoded::default(),
                at: None,
                driver: None,
                frames: FrameReader::detached(),
                lent: false,
                reading: None,
                taken_back: Vec::new(),
                reader_waker: None,
                armed: false,
                tickets: 0,
                served: false,
                errors_to_driver: false,
            }),
        })
    }

    /// The waker the driver reads a gated socket with (see [`Route`]).
    pub(crate) fn read_waker(&self) -> &Waker {
        &self.read_waker
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the gate is open now (a caller may try [`pass`](Self::pass); it
    /// may be shut by then). Under load it is shut, and checking first saves the
    /// call and the moves of the request in and out of it.
    #[inline]
    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// A caller writes `payload` itself if the gate is open; otherwise (or when it
    /// is not worth it) `payload` comes back, to be queued. The caller has checked
    /// that nothing is queued before it. `want` says what replies it waits for.
    pub(crate) fn pass(&self, payload: Payload, want: Want) -> Pass {
        if !self.open.load(Ordering::Acquire) || want == Want::Many(0) {
            return Pass::Queue(payload);
        }
        let mut guard = self.lock();
        let st = &mut *guard;
        let (true, Some(writer)) = (self.open.load(Ordering::Relaxed), &st.writer) else {
            return Pass::Queue(payload);
        };
        // One request per opening.
        self.open.store(false, Ordering::Relaxed);
        // Whether anything is left for `rest` (copied there).
        let left = match payload {
            // Written from the command's own buffers; only what the socket does
            // not take is copied (to be written by the driver).
            Payload::One(cmd) => {
                let header = cmd.header();
                let mut slices = [IoSlice::new(&[]); CALLER_SLICES];
                let left = match cmd.io_slices(&header, &mut slices) {
                    Some((n, bytes)) => {
                        let written = writer.try_write_vectored(&slices[..n]).unwrap_or(0);
                        if written < bytes {
                            cmd.encode_into(&mut st.rest);
                            st.rest.advance(written);
                        }
                        written < bytes
                    }
                    None => {
                        cmd.encode_into(&mut st.rest);
                        true
                    }
                };
                cmd.discard();
                left
            }
            Payload::Encoded(cmds) => {
                st.rest.append(cmds);
                true
            }
        };
        // What the socket does not take now (full, or failing: the driver then
        // meets the error itself) is the driver's to write.
        while left && !st.rest.is_empty() {
            match write_some(writer, &st.rest) {
                Ok(0) | Err(_) => break,
                Ok(n) => st.rest.advance(n),
            }
        }
        st.at = Some(Instant::now());
        // (Untouched, it is still empty and cleared.)
        if left {
            if st.rest.is_empty() {
                st.rest.clear();
            } else if let Some(driver) = &st.driver {
                driver.wake_by_ref();
            }
        }
        // Its caller reads the reply when it went out whole and the driver lent
        // its reader (a `WAIT` waits long: the driver watches it).
        let expect = if st.lent && st.rest.is_empty() {
            want.expect()
        } else {
            None
        };
        match expect {
            Some(expect) => {
                st.tickets += 1;
                st.reading = Some((st.tickets, expect));
                Pass::Reads(st.tickets)
            }
            None => {
                // Taken for writing: it was written.
                let (sink, rx) = want.sink();
                sink.take();
                st.written = Some(sink);
                Pass::Written(rx)
            }
        }
    }

    /// The caller with `ticket` reads its reply ([`Pass::Reads`]). Ready when it
    /// is no longer reading: with its whole reply, handed straight over, or with
    /// the slot made when the reading went back to the driver (which then
    /// delivers the reply there). Pending: `cx` is woken when more arrives, or
    /// when the driver takes the reading back.
    pub(crate) fn poll_read(&self, ticket: u64, cx: &mut Context<'_>) -> Poll<Read> {
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.reading.as_ref().is_none_or(|(t, _)| *t != ticket) {
            // The driver took the reading back.
            return Poll::Ready(Read::Slot(taken_back(st, ticket)));
        }
        if !st
            .reader_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            st.reader_waker = Some(cx.waker().clone());
        }
        if st.armed && st.frames.is_empty() {
            // Nothing came since the socket was last found empty: the read
            // waker, registered, wakes this caller when something does.
            return Poll::Pending;
        }
        let mut heard = false;
        loop {
            if let Some(kind) = st.frames.next_type() {
                if kind == b'>' || (kind == b'-' && st.errors_to_driver) {
                    return hand_back(st);
                }
                match st.frames.next_buffered() {
                    Ok(Some(frame)) => {
                        let Some((_, expect)) = &mut st.reading else {
                            return hand_back(st);
                        };
                        match expect.own(frame) {
                            Some(own) => {
                                self.done_reading(st);
                                return Poll::Ready(Read::Own(own));
                            }
                            // A pipeline's next reply.
                            None => continue,
                        }
                    }
                    Ok(None) => {}
                    // The driver meets it itself, and ends the connection.
                    Err(_) => return hand_back(st),
                }
            }
            let Some(reader) = &mut st.reader else {
                return hand_back(st);
            };
            match st
                .frames
                .poll_fill(reader, &mut Context::from_waker(&self.read_waker))
            {
                Poll::Pending => {
                    st.armed = true;
                    if heard {
                        // Part of the reply came: for the liveness rule, the wait
                        // for the rest starts now.
                        st.at = Some(Instant::now());
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Ok(1..)) => heard = true,
                // The end of the stream, or an error: the driver's to meet.
                Poll::Ready(_) => return hand_back(st),
            }
        }
    }

    /// The caller with `ticket` gives up (timed out, or dropped its future) while
    /// it reads: the driver reads the reply (and drops it). If the reading had gone
    /// back to the driver already, the slot made then is returned (it tells whether
    /// the reply came).
    pub(crate) fn stop_reading(&self, ticket: u64) -> Option<Receiver> {
        let mut st = self.lock();
        if st.reading.as_ref().is_some_and(|(t, _)| *t == ticket) {
            // Its end of the slot is dropped: the reply is dropped when it comes.
            let _ = hand_back(&mut st);
            return None;
        }
        taken_back(&mut st, ticket)
    }

    /// A caller has its reply: the connection is left as the parked driver left
    /// it, the driver's waker registered for what comes next and the gate open;
    /// unless more was read already, which is the driver's.
    fn done_reading(&self, st: &mut State) {
        st.reading = None;
        st.at = None;
        st.served = true;
        let (Some(reader), Some(driver)) = (&mut st.reader, &st.driver) else {
            return;
        };
        if st.frames.is_empty() {
            match st
                .frames
                .poll_fill(reader, &mut Context::from_waker(&self.read_waker))
            {
                Poll::Pending => {
                    st.armed = true;
                    if st.writer.is_some() && !st.closed {
                        self.open.store(true, Ordering::Release);
                    }
                    return;
                }
                // Something came (a push frame, the end of the stream, an error).
                Poll::Ready(_) => {}
            }
        }
        driver.wake_by_ref();
    }

    /// The driver runs: shuts the gate, and takes what a caller wrote through it
    /// and its frame reader back (with what a caller read into it, and the reading:
    /// the driver reads from now on). Bytes the socket did not take go into `wbuf`
    /// (empty: the gate opened only with nothing to write). `waker` is woken when a
    /// caller leaves bytes later, or hands the reading back.
    pub(crate) fn shut(
        &self,
        wbuf: &mut Encoded,
        frames: &mut FrameReader,
        waker: &Waker,
    ) -> Passed {
        let mut guard = self.lock();
        let st = &mut *guard;
        self.open.store(false, Ordering::Relaxed);
        if !st.driver.as_ref().is_some_and(|w| w.will_wake(waker)) {
            st.driver = Some(waker.clone());
        }
        if !st.rest.is_empty() {
            debug_assert!(wbuf.is_empty());
            std::mem::swap(wbuf, &mut st.rest);
        }
        let frames_read = st.lent && {
            std::mem::swap(frames, &mut st.frames);
            st.lent = false;
            !frames.is_empty()
        };
        let reader = take_reading(st);
        let passed = Passed {
            sink: st.written.take(),
            at: st.at.take(),
            closed: st.closed,
            served: std::mem::take(&mut st.served),
            frames_read,
        };
        drop(guard);
        wake(reader);
        passed
    }

    /// The driver parks with nothing in flight, nothing to write and its queue
    /// drained: the next caller may write itself, and read its reply with
    /// `frames` (lent when `lend`: no push frame is expected, and nothing is read
    /// and not yet taken).
    pub(crate) fn open(&self, frames: &mut FrameReader, lend: bool) {
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.writer.is_some() && !st.closed && st.written.is_none() {
            if lend && st.reader.is_some() && frames.is_empty() {
                std::mem::swap(frames, &mut st.frames);
                st.lent = true;
                // Its last read found the socket empty and registered the read
                // waker. (Should that waker have fired since, the driver is
                // woken already, and takes the reading back when it runs.)
                st.armed = true;
            }
            self.open.store(true, Ordering::Release);
        }
    }

    /// A new session: its shared halves (none: callers always queue), and whether
    /// error replies are the driver's to read. Shut.
    pub(crate) fn connect(&self, halves: Option<(Reader, Writer)>, errors_to_driver: bool) {
        let mut st = self.lock();
        self.open.store(false, Ordering::Relaxed);
        (st.reader, st.writer) = halves.unzip();
        st.errors_to_driver = errors_to_driver;
        st.rest.clear();
    }

    /// The session ended: shuts the gate, lets go of the socket, and returns the
    /// sink of what a caller wrote since the driver last ran (it may have run).
    pub(crate) fn disconnect(&self) -> Option<Sink> {
        let mut st = self.lock();
        self.open.store(false, Ordering::Relaxed);
        st.writer = None;
        st.reader = None;
        st.rest.clear();
        st.at = None;
        let reader = take_reading(&mut st);
        st.armed = false;
        if st.lent {
            st.frames = FrameReader::detached();
            st.lent = false;
        }
        let written = st.written.take();
        drop(st);
        wake(reader);
        written
    }

    /// The connection is closed: nothing more goes through, and the driver, woken,
    /// ends it (it learns so when it shuts the gate, without polling a queue of its
    /// own for it on every turn).
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        self.open.store(false, Ordering::Relaxed);
        st.closed = true;
        if let Some(driver) = &st.driver {
            driver.wake_by_ref();
        }
    }
}

/// The caller reading hands the reading back to the driver, which it wakes: the
/// gate stays shut, and the driver finds what was read when it takes its reader,
/// and the request's sink. The caller waits on the slot made for it next.
fn hand_back(st: &mut State) -> Poll<Read> {
    let rx = st.reading.take().map(|(_, expect)| slotted(st, expect));
    st.reader_waker = None;
    if let Some(driver) = &st.driver {
        driver.wake_by_ref();
    }
    Poll::Ready(Read::Slot(rx))
}

/// The reading goes back to the driver: the request gets a slot, its sink for
/// the driver to take; the caller's end is returned.
fn slotted(st: &mut State, expect: Expect) -> Receiver {
    let (sink, rx) = expect.sink();
    debug_assert!(st.written.is_none());
    st.written = Some(sink);
    rx
}

/// The driver takes the reading back from a caller: the slot made for it waits
/// for the caller, and the caller's waker is returned, to be woken once the
/// gate's lock is let go of (it learns so, and waits on its slot).
fn take_reading(st: &mut State) -> Option<Waker> {
    let (ticket, expect) = st.reading.take()?;
    let rx = slotted(st, expect);
    st.taken_back.push((ticket, rx));
    st.reader_waker.take()
}

/// The slot made for the caller with `ticket` when its reading was taken back.
fn taken_back(st: &mut State, ticket: u64) -> Option<Receiver> {
    let i = st.taken_back.iter().position(|(t, _)| *t == ticket)?;
    Some(st.taken_back.swap_remove(i).1)
}

/// Wakes the caller whose reading was taken back, if it had polled.
fn wake(reader: Option<Waker>) {
    if let Some(waker) = reader {
        waker.wake();
    }
}

/// One write of what `out` holds, without waiting.
fn write_some(writer: &Writer, out: &Encoded) -> io::Result<usize> {
    if out.is_contiguous() {
        writer.try_write(out.chunk())
    } else {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let n = out.io_slices(&mut slices);
        writer.try_write_vectored(&slices[..n])
    }
}
