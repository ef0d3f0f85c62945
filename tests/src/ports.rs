//! Free loopback ports for servers.
//!
//! A port is chosen by binding `127.0.0.1:0` and dropping the listener; another process
//! may take it before the server binds it, so [`crate::ServerBuilder::start`] retries
//! with fresh ports when a server reports "Address already in use".

use std::io;
use std::net::{Ipv4Addr, TcpListener};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// `count` distinct free ports: all listeners are held until every port is chosen, so
/// the ports differ from one another.
pub fn free_ports(count: usize) -> io::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|listener| Ok(listener.local_addr()?.port()))
        .collect()
}
