//! [`Proxy`]: a TCP relay in front of a real server that can black-hole the
//! connections going through it, as a broken network path does (the server keeps
//! answering, nothing arrives). Not a mock of the server: every byte comes from the
//! real one; only the path between them fails.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One relayed connection: both sockets (for shutting down) and its black-hole flag.
struct Link {
    frozen: Arc<AtomicBool>,
    sockets: [TcpStream; 2],
}

#[derive(Default)]
struct Shared {
    links: Mutex<Vec<Link>>,
    accepted: AtomicUsize,
    stop: AtomicBool,
    /// Connections accepted from now on are black-holed from the start.
    freeze_new: AtomicBool,
}

/// A relay on a free loopback port to `target`; stopped when dropped.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts relaying connections to `target`.
    pub fn start(target: SocketAddr) -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        thread::spawn(move || accept_loop(listener, target, s));
        Ok(Proxy { addr, shared })
    }

    /// `redis://` URL of the proxy.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Black-holes every connection open now, in both directions: bytes already
    /// relayed stay delivered, nothing more is, and the sockets stay open (no FIN,
    /// no reset). Connections made later are relayed normally.
    pub fn freeze(&self) {
        for link in self.shared.links().iter() {
            link.frozen.store(true, Ordering::SeqCst);
        }
    }

    /// Black-holes the connection accepted last, as [`freeze`](Self::freeze) does,
    /// and every connection accepted from now on (a client connecting again finds
    /// the path as broken), leaving the others open now as they are.
    pub fn freeze_newest_and_later(&self) {
        self.shared.freeze_new.store(true, Ordering::SeqCst);
        if let Some(link) = self.shared.links().last() {
            link.frozen.store(true, Ordering::SeqCst);
        }
    }
}

impl Shared {
    fn links(&self) -> std::sync::MutexGuard<'_, Vec<Link>> {
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for link in self.shared.links().iter() {
            for s in &link.sockets {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

fn accept_loop(listener: TcpListener, target: SocketAddr, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                if let Err(e) = relay(client, target, &shared) {
                    eprintln!("proxy: cannot relay to {target}: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(_) => return,
        }
    }
}

fn relay(client: TcpStream, target: SocketAddr, shared: &Arc<Shared>) -> io::Result<()> {
    client.set_nonblocking(false)?;
    let server = TcpStream::connect(target)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let frozen = Arc::new(AtomicBool::new(shared.freeze_new.load(Ordering::SeqCst)));
    shared
        .links
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Link {
            frozen: frozen.clone(),
            sockets: [client.try_clone()?, server.try_clone()?],
        });
    for (from, to) in [(client.try_clone()?, server.try_clone()?), (server, client)] {
        let frozen = frozen.clone();
        let shared = shared.clone();
        thread::spawn(move || pump(from, to, &frozen, &shared));
    }
    Ok(())
}

/// Copies `from` to `to` until either closes; once frozen, holds everything and
/// waits for the proxy to stop.
fn pump(mut from: TcpStream, mut to: TcpStream, frozen: &AtomicBool, shared: &Shared) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        if frozen.load(Ordering::SeqCst) {
            while !shared.stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(10));
            }
            return;
        }
        if to.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}
