//! The SO_REUSEADDR experiment of the lesson, with real sockets: a server
//! closes a connection first, so its side waits in TIME_WAIT, and a
//! restarted server then binds the same port, with or without
//! SO_REUSEADDR.
//!
//! Measured on Linux (6.18): the bind succeeds only if both the old server
//! and the new one set SO_REUSEADDR. The TIME_WAIT entry keeps the old
//! socket's setting, so a server that never set it blocks its own restart
//! for the TIME_WAIT period (60 s) whatever the new one does.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

/// One trial's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReuseTrial {
    pub old_reuse: bool,
    pub new_reuse: bool,
    pub port: u16,
    /// The kernel listed the old connection in TIME_WAIT when the new
    /// server called bind().
    pub time_wait_seen: bool,
    /// None: bind() succeeded. Some: the kernel's error, e.g. "Address
    /// already in use (os error 98)".
    pub bind_error: Option<String>,
    /// The error was EADDRINUSE.
    pub addr_in_use: bool,
}

fn listener(reuse: bool, port: u16) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    if reuse {
        socket.set_reuse_address(true)?;
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    socket.bind(&addr.into())?;
    socket.listen(1)?;
    Ok(socket)
}

/// Connections on `port` in TIME_WAIT, from /proc/net/tcp (state 06).
fn time_wait_on(port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let local = format!(":{port:04X}");
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.len() > 3 && fields[1].ends_with(&local) && fields[3] == "06"
    })
}

/// Runs one trial. An error is a failure to set the scene (not the bind
/// under test, which is the result).
pub fn trial(old_reuse: bool, new_reuse: bool) -> io::Result<ReuseTrial> {
    let old = listener(old_reuse, 0)?;
    let port = old
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("the listener has no IPv4 address"))?;
    let client = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    let (served, _) = old.accept()?;
    // The server closes first, so its side is the one that waits in
    // TIME_WAIT; then the client closes, and the old server exits.
    drop(served);
    drop(client);
    drop(old);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut time_wait_seen = time_wait_on(port);
    while !time_wait_seen && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
        time_wait_seen = time_wait_on(port);
    }
    let (bind_error, addr_in_use) = match listener(new_reuse, port) {
        Ok(_) => (None, false),
        Err(error) => (
            Some(error.to_string()),
            error.kind() == io::ErrorKind::AddrInUse,
        ),
    };
    Ok(ReuseTrial {
        old_reuse,
        new_reuse,
        port,
        time_wait_seen,
        bind_error,
        addr_in_use,
    })
}

/// All four combinations, old server without and with, new server without
/// and with SO_REUSEADDR.
pub fn all_trials() -> io::Result<Vec<ReuseTrial>> {
    [(false, false), (false, true), (true, false), (true, true)]
        .into_iter()
        .map(|(old, new)| trial(old, new))
        .collect()
}
