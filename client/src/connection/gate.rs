//! The gate: a caller writes its request to the socket itself when the connection
//! is idle, rather than queueing it for the driver task.
//!
//! A lone caller's request otherwise crosses two tasks (the caller wakes the driver,
//! which writes; the reply wakes the driver, which wakes the caller). Through the
//! gate it crosses one: the caller writes, and the reply wakes the driver, which
//! wakes the caller. Under load the gate stays shut and requests are queued and
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
//! TLS streams have no gate (their writes go through the session's state).

use super::driver::{Payload, Request, Sink};
use super::transport::Writer;
use crate::command::Encoded;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use tokio::time::Instant;

/// The most slices one vectored write hands the socket.
pub(super) const MAX_SLICES: usize = 64;

/// A connection's gate, shared by its handles and its driver.
pub(crate) struct Gate {
    /// Open (read without the lock, to skip it when shut).
    open: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The socket's writing half, while connected (none for TLS).
    writer: Option<Writer>,
    /// Shut for good: the connection was closed.
    closed: bool,
    /// The sink of the request a caller wrote, until the driver takes it.
    written: Option<Sink>,
    /// What of it the socket did not take (the driver writes it first); else an
    /// empty buffer kept for the next caller.
    rest: Encoded,
    /// When it was written: the health check's sign of life (the connection was
    /// idle, so the wait for an answer starts then).
    at: Option<Instant>,
    /// Woken when a caller leaves bytes unwritten.
    driver: Option<Waker>,
}

/// What the driver finds when it shuts the gate.
pub(crate) struct Passed {
    /// The sink of the request a caller wrote: the oldest in flight.
    pub(crate) sink: Option<Sink>,
    /// When it was written.
    pub(crate) at: Option<Instant>,
    /// The connection was closed ([`Gate::close`]).
    pub(crate) closed: bool,
}

impl Gate {
    /// A shut gate.
    pub(crate) fn new() -> Self {
        Gate {
            open: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A caller writes `req` itself if the gate is open (`None`); otherwise (or
    /// when it is not worth it) `req` comes back, to be queued. The caller has
    /// checked that nothing is queued before it.
    pub(crate) fn pass(&self, req: Request) -> Option<Request> {
        if !self.open.load(Ordering::Acquire) || req.sink.expects() == 0 {
            return Some(req);
        }
        let mut guard = self.lock();
        let st = &mut *guard;
        let (true, Some(writer)) = (self.open.load(Ordering::Relaxed), &st.writer) else {
            return Some(req);
        };
        // One request per opening.
        self.open.store(false, Ordering::Relaxed);
        let Request { payload, sink } = req;
        if !sink.take() {
            // Given up already (it was never queued: cannot happen); never written.
            return None;
        }
        match payload {
            // Written from the command's own buffers; only what the socket does
            // not take is copied (to be written by the driver).
            Payload::One(cmd) => {
                let header = cmd.header();
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                match cmd.io_slices(&header, &mut slices) {
                    Some((n, bytes)) => {
                        let written = writer.try_write_vectored(&slices[..n]).unwrap_or(0);
                        if written < bytes {
                            cmd.encode_into(&mut st.rest);
                            st.rest.advance(written);
                        }
                    }
                    None => cmd.encode_into(&mut st.rest),
                }
            }
            Payload::Encoded(cmds) => st.rest.append(cmds),
        }
        // What the socket does not take now (full, or failing: the driver then
        // meets the error itself) is the driver's to write.
        while !st.rest.is_empty() {
            match write_some(writer, &st.rest) {
                Ok(0) | Err(_) => break,
                Ok(n) => st.rest.advance(n),
            }
        }
        st.written = Some(sink);
        st.at = Some(Instant::now());
        if st.rest.is_empty() {
            st.rest.clear();
        } else if let Some(driver) = &st.driver {
            driver.wake_by_ref();
        }
        None
    }

    /// The driver runs: shuts the gate, and takes what a caller wrote through it.
    /// Bytes the socket did not take go into `wbuf` (empty: the gate opened only
    /// with nothing to write). `waker` is woken when a caller leaves bytes later.
    pub(crate) fn shut(&self, wbuf: &mut Encoded, waker: &Waker) -> Passed {
        let mut st = self.lock();
        self.open.store(false, Ordering::Relaxed);
        if !st.driver.as_ref().is_some_and(|w| w.will_wake(waker)) {
            st.driver = Some(waker.clone());
        }
        if !st.rest.is_empty() {
            debug_assert!(wbuf.is_empty());
            std::mem::swap(wbuf, &mut st.rest);
        }
        Passed {
            sink: st.written.take(),
            at: st.at.take(),
            closed: st.closed,
        }
    }

    /// The driver parks with nothing in flight, nothing to write and its queue
    /// drained: the next caller may write itself.
    pub(crate) fn open(&self) {
        let st = self.lock();
        if st.writer.is_some() && !st.closed && st.written.is_none() {
            self.open.store(true, Ordering::Release);
        }
    }

    /// A new session: its writing half (none: callers always queue). Shut.
    pub(crate) fn connect(&self, writer: Option<Writer>) {
        let mut st = self.lock();
        self.open.store(false, Ordering::Relaxed);
        st.writer = writer;
        st.rest.clear();
    }

    /// The session ended: shuts the gate, lets go of the socket, and returns the
    /// sink of what a caller wrote since the driver last ran (it may have run).
    pub(crate) fn disconnect(&self) -> Option<Sink> {
        let mut st = self.lock();
        self.open.store(false, Ordering::Relaxed);
        st.writer = None;
        st.rest.clear();
        st.at = None;
        st.written.take()
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
