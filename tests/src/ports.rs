//! Free loopback ports for servers.
//!
//! A port is chosen by binding `127.0.0.1:0` and dropping the listener; another process
//! may take it before the server binds it, so [`crate::ServerBuilder::start`] retries
//! with fresh ports when a server reports "Address already in use". Within this
//! process, [`reserve_ports`] never hands out a port that a live [`crate::Server`]
//! holds (also while it is stopped for a restart), so parallel tests cannot collide.

use std::collections::BTreeSet;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, PoisonError};

/// The ports handed out by [`reserve_ports`] and not yet released.
static RESERVED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// How many ports [`reserve_ports`] binds at most before giving up.
const MAX_PROBES: usize = 256;

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// `count` distinct ports that were free a moment ago and that no other caller in this
/// process holds; they stay reserved until [`release_ports`]. All listeners are held
/// until every port is chosen, so the ports differ from one another.
pub fn reserve_ports(count: usize) -> io::Result<Vec<u16>> {
    let mut reserved = RESERVED.lock().unwrap_or_else(PoisonError::into_inner);
    let mut listeners = Vec::with_capacity(count);
    let mut ports = Vec::with_capacity(count);
    for _ in 0..MAX_PROBES {
        if ports.len() == count {
            break;
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        if !reserved.contains(&port) {
            ports.push(port);
        }
        listeners.push(listener);
    }
    if ports.len() < count {
        return Err(io::Error::other(format!(
            "found {} of {count} free ports in {MAX_PROBES} tries",
            ports.len()
        )));
    }
    reserved.extend(&ports);
    Ok(ports)
}

/// Gives reserved ports back, for [`reserve_ports`] to hand out again.
pub fn release_ports(ports: impl IntoIterator<Item = u16>) {
    let mut reserved = RESERVED.lock().unwrap_or_else(PoisonError::into_inner);
    for port in ports {
        reserved.remove(&port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_reserved(port: u16) -> bool {
        RESERVED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&port)
    }

    #[test]
    fn reserved_ports_are_distinct_and_held_until_released() {
        let ports = reserve_ports(3).unwrap();
        let distinct: BTreeSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), 3, "{ports:?}");
        assert!(ports.iter().all(|&p| is_reserved(p)), "{ports:?}");
        // Held ports are never handed out again while reserved.
        for _ in 0..50 {
            let more = reserve_ports(2).unwrap();
            assert!(
                more.iter().all(|p| !ports.contains(p)),
                "{more:?} {ports:?}"
            );
            release_ports(more);
        }
        release_ports(ports.clone());
        assert!(ports.iter().all(|&p| !is_reserved(p)), "{ports:?}");
    }
}
