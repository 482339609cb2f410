//! Making the sockets a session watches: sized before listen()/connect()
//! (the window scale is agreed in the handshake), connected, and handed to
//! the threads non-blocking. The lab's own pair, one socket to or from an
//! outside peer, and the thread-per-client server's clients all come from
//! here.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::config::{LabConfig, LabError};
use super::units::Size;

/// Turns an io::Error into a `LabError` naming the step that failed.
pub(crate) fn step(step: &'static str) -> impl FnOnce(io::Error) -> LabError {
    move |source| LabError::Socket { step, source }
}

/// The kernel takes an int; anything larger is clamped by it anyway.
pub(crate) fn as_sockopt(size: Size) -> usize {
    size.bytes().min(i32::MAX as u64) as usize
}

/// A socket for `addr`'s family with the requested buffer sizes, set
/// before listen()/connect() because the window scale is agreed then.
fn sized_socket(config: &LabConfig, addr: SocketAddr) -> Result<Socket, LabError> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(step("create the socket"))?;
    if let Some(size) = config.sndbuf {
        socket
            .set_send_buffer_size(as_sockopt(size))
            .map_err(step("set SO_SNDBUF"))?;
    }
    if let Some(size) = config.rcvbuf {
        socket
            .set_recv_buffer_size(as_sockopt(size))
            .map_err(step("set SO_RCVBUF"))?;
    }
    set_congestion(config, &socket)?;
    Ok(socket)
}

/// The requested congestion control, before connect() or listen().
fn set_congestion(config: &LabConfig, socket: &Socket) -> Result<(), LabError> {
    match config.congestion {
        Some(congestion) => {
            super::congestion::set(socket, congestion).map_err(step("set TCP_CONGESTION"))
        }
        None => Ok(()),
    }
}

/// How often a waiting accept() looks at its cancel flag.
const ACCEPT_POLL: Duration = Duration::from_millis(100);

/// Waits for one outside client, until `cancel` is set. The accepted
/// socket inherits both sizes from the listener.
pub(crate) fn accept_one(
    config: &LabConfig,
    addr: SocketAddr,
    cancel: Option<&AtomicBool>,
) -> Result<(Socket, SocketAddr), LabError> {
    let listener = sized_socket(config, addr)?;
    listener
        .set_reuse_address(true)
        .map_err(step("set SO_REUSEADDR"))?;
    listener.bind(&addr.into()).map_err(step("bind"))?;
    listener.listen(1).map_err(step("listen"))?;
    // On Linux SO_RCVTIMEO bounds accept() too: it returns EAGAIN after
    // the timeout, and the loop looks at the cancel flag.
    if cancel.is_some() {
        listener
            .set_read_timeout(Some(ACCEPT_POLL))
            .map_err(step("set SO_RCVTIMEO"))?;
    }
    loop {
        match listener.accept() {
            // A client that came as the wait was cancelled is dropped
            // with the listener.
            Ok(_) if cancel.is_some_and(|c| c.load(Relaxed)) => return Err(LabError::Cancelled),
            // The peer's address as accept() returned it: a peer that
            // resets at once leaves getpeername() nothing to say.
            Ok((accepted, peer)) => return Ok((accepted, peer.as_socket().unwrap_or(addr))),
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                if cancel.is_some_and(|c| c.load(Relaxed)) {
                    return Err(LabError::Cancelled);
                }
            }
            Err(error) => return Err(step("accept")(error)),
        }
    }
}

/// How long a connect() to an outside server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to an outside server, until `cancel` is set (looked at every
/// 100 ms) or `CONNECT_TIMEOUT` passes.
pub(crate) fn connect_one(
    config: &LabConfig,
    addr: SocketAddr,
    cancel: Option<&AtomicBool>,
) -> Result<(Socket, SocketAddr), LabError> {
    use nix::errno::Errno;
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;

    let socket = sized_socket(config, addr)?;
    socket
        .set_nonblocking(true)
        .map_err(step("make the socket non-blocking"))?;
    match socket.connect(&addr.into()) {
        Ok(()) => return Ok((socket, addr)),
        Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(error) => return Err(step("connect")(error)),
    }
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    loop {
        if cancel.is_some_and(|c| c.load(Relaxed)) {
            return Err(LabError::Cancelled);
        }
        if Instant::now() >= deadline {
            return Err(step("connect")(io::Error::from(io::ErrorKind::TimedOut)));
        }
        let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLOUT)];
        match poll(&mut fds, PollTimeout::from(100u16)) {
            Ok(0) | Err(Errno::EINTR) => {}
            Ok(_) => break,
            Err(errno) => return Err(step("connect")(errno.into())),
        }
    }
    // Writable: the handshake ended, one way or the other.
    if let Some(error) = socket.take_error().map_err(step("connect"))? {
        return Err(step("connect")(error));
    }
    Ok((socket, addr))
}

/// One socket as the writer's and the reader's handles (two descriptors of
/// the same socket), both non-blocking.
pub(crate) fn split(
    (socket, peer): (Socket, SocketAddr),
) -> Result<(TcpStream, TcpStream, Option<SocketAddr>), LabError> {
    let stream: TcpStream = socket.into();
    stream
        .set_nonblocking(true)
        .map_err(step("make the socket non-blocking"))?;
    let writer = stream.try_clone().map_err(step("duplicate the socket"))?;
    Ok((writer, stream, Some(peer)))
}

/// A server socket on 127.0.0.1 (a port the kernel picks) with
/// SO_REUSEADDR and the requested receive buffer, listening; and the
/// address it got.
pub(crate) fn loopback_listener(
    config: &LabConfig,
    backlog: i32,
) -> Result<(Socket, SocketAddr), LabError> {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .map_err(step("create the server socket"))?;
    listen_on_loopback(config, listener, backlog)
}

/// `listener` (a fresh IPv4 TCP socket, from this process's network
/// namespace or a private link's) made a loopback server socket.
fn listen_on_loopback(
    config: &LabConfig,
    listener: Socket,
    backlog: i32,
) -> Result<(Socket, SocketAddr), LabError> {
    // Accepted sockets inherit it, so both ends use the same.
    set_congestion(config, &listener)?;
    listener
        .set_reuse_address(true)
        .map_err(step("set SO_REUSEADDR"))?;
    if let Some(size) = config.rcvbuf {
        // Accepted sockets inherit the listener's receive buffer, and the
        // window scale it implies goes out in the SYN-ACK.
        listener
            .set_recv_buffer_size(as_sockopt(size))
            .map_err(step("set SO_RCVBUF"))?;
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    listener
        .bind(&addr.into())
        .map_err(step("bind 127.0.0.1"))?;
    listener.listen(backlog).map_err(step("listen"))?;
    let bound = listener
        .local_addr()
        .map_err(step("read the server address"))?
        .as_socket()
        .unwrap_or(addr);
    Ok((listener, bound))
}

/// A client socket with the requested send buffer, connected to
/// `server`. The lab's pair and the server's clients both connect this
/// way. A loopback connect() is done at once unless the server's backlog
/// is full; then a blocking one would retry its SYN for minutes, so it
/// gives up after `CONNECT_TIMEOUT`.
pub(crate) fn connect_client(config: &LabConfig, server: SocketAddr) -> Result<Socket, LabError> {
    let client = Socket::new(
        Domain::for_address(server),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .map_err(step("create the client socket"))?;
    connect_socket(config, client, server)
}

/// Sizes `client`'s send buffer and connects it to `server`.
fn connect_socket(
    config: &LabConfig,
    client: Socket,
    server: SocketAddr,
) -> Result<Socket, LabError> {
    set_congestion(config, &client)?;
    if let Some(size) = config.sndbuf {
        client
            .set_send_buffer_size(as_sockopt(size))
            .map_err(step("set SO_SNDBUF"))?;
    }
    client
        .connect_timeout(&server.into(), CONNECT_TIMEOUT)
        .map_err(step("connect"))?;
    Ok(client)
}

/// Two fresh IPv4 TCP sockets in this process's network namespace: the
/// lab pair's listener and client on the machine's loopback.
pub(crate) fn fresh_sockets() -> Result<(Socket, Socket), LabError> {
    let new = || Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP));
    Ok((
        new().map_err(step("create the server socket"))?,
        new().map_err(step("create the client socket"))?,
    ))
}

/// The listening socket, the client socket and the accepted socket, with
/// the requested buffers set before listen()/connect(). The two sockets
/// come fresh from the network namespace the pair runs in.
pub(crate) fn connect_pair(
    config: &LabConfig,
    (listener, client): (Socket, Socket),
) -> Result<(TcpStream, TcpStream), LabError> {
    let (listener, server_addr) = listen_on_loopback(config, listener, 1)?;
    let client = connect_socket(config, client, server_addr)?;
    let (accepted, _) = listener.accept().map_err(step("accept"))?;
    let writer: TcpStream = client.into();
    let reader: TcpStream = accepted.into();
    writer
        .set_nonblocking(true)
        .map_err(step("make the writer non-blocking"))?;
    reader
        .set_nonblocking(true)
        .map_err(step("make the reader non-blocking"))?;
    Ok((writer, reader))
}
