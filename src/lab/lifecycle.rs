//! Step mode: the lesson's call sequences, one real system call per step.
//!
//! Server: socket() → setsockopt(SO_REUSEADDR) → bind(port) → listen() →
//! accept() → recv()/send() → close().
//! Client: socket() → connect() → send() → recv() → close().
//!
//! The sockets are non-blocking, so accept() with no client and recv() with
//! no data do not freeze anything: they report that they would block, and
//! `poll_waiting` retries them until they complete, which is what a
//! blocking call would have waited for.

use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddr};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, unbounded};
use socket2::{Domain, Socket, Type};

use super::link::{Link, LinkError, LinkSpec, SocketFactory};
use super::probe::{self, TcpState};
use super::wire::{CaptureCounters, Capturer, PacketBatch};
use super::wire_log::WireLog;

/// One step of the lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Call {
    ServerSocket,
    ServerReuse,
    ServerBind,
    ServerListen,
    ServerAccept,
    ServerRecv,
    ServerSend,
    ServerClose,
    ClientSocket,
    ClientConnect,
    ClientSend,
    ClientRecv,
    ClientClose,
}

impl Call {
    pub const SERVER: [Call; 8] = [
        Call::ServerSocket,
        Call::ServerReuse,
        Call::ServerBind,
        Call::ServerListen,
        Call::ServerAccept,
        Call::ServerRecv,
        Call::ServerSend,
        Call::ServerClose,
    ];
    pub const CLIENT: [Call; 5] = [
        Call::ClientSocket,
        Call::ClientConnect,
        Call::ClientSend,
        Call::ClientRecv,
        Call::ClientClose,
    ];

    /// The call as written in the lesson's Python, and in Rust.
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            Call::ServerSocket => (
                "tcp_server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
                "let server = Socket::new(Domain::IPV4, Type::STREAM, None)?;",
            ),
            Call::ServerReuse => (
                "tcp_server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)",
                "server.set_reuse_address(true)?;",
            ),
            Call::ServerBind => (
                "tcp_server_socket.bind((\"\", port))",
                "server.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into())?;",
            ),
            Call::ServerListen => ("tcp_server_socket.listen(128)", "server.listen(128)?;"),
            Call::ServerAccept => (
                "new_client, ip_port = tcp_server_socket.accept()",
                "let (new_client, ip_port) = server.accept()?;",
            ),
            Call::ServerRecv => (
                "recv_data = new_client.recv(1024)",
                "let n = new_client.recv(&mut buf)?;",
            ),
            Call::ServerSend => ("new_client.send(send_data)", "new_client.send(data)?;"),
            Call::ServerClose => ("new_client.close()", "drop(new_client);"),
            Call::ClientSocket => (
                "tcp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
                "let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;",
            ),
            Call::ClientConnect => (
                "tcp_client_socket.connect((\"127.0.0.1\", port))",
                "client.connect(&server_addr.into())?;",
            ),
            Call::ClientSend => ("tcp_client_socket.send(send_data)", "client.send(data)?;"),
            Call::ClientRecv => (
                "recv_data = tcp_client_socket.recv(1024)",
                "let n = client.recv(&mut buf)?;",
            ),
            Call::ClientClose => ("tcp_client_socket.close()", "drop(client);"),
        }
    }

    /// The name on the button: the call itself.
    pub fn label(self) -> &'static str {
        match self {
            Call::ServerSocket | Call::ClientSocket => "socket()",
            Call::ServerReuse => "setsockopt(SO_REUSEADDR)",
            Call::ServerBind => "bind(port)",
            Call::ServerListen => "listen(128)",
            Call::ServerAccept => "accept()",
            Call::ServerRecv | Call::ClientRecv => "recv(1024)",
            Call::ServerSend | Call::ClientSend => "send(data)",
            Call::ServerClose | Call::ClientClose => "close()",
            Call::ClientConnect => "connect()",
        }
    }

    pub fn is_server(self) -> bool {
        Call::SERVER.contains(&self)
    }
}

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// accept() returned a connection from this address.
    Accepted(SocketAddr),
    Sent(usize),
    Received(Vec<u8>),
    /// recv() returned 0: the peer closed its side.
    PeerClosed,
    /// The call would block: it waits (and is retried) until it completes.
    Waiting,
    /// The kernel refused the call.
    Failed(String),
}

/// One side's socket, as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketView {
    pub state: Option<TcpState>,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
}

#[derive(Debug, Default)]
pub struct Lifecycle {
    port: u16,
    listener: Option<Socket>,
    reuse: bool,
    bound: bool,
    listening: bool,
    conn: Option<Socket>,
    server_closed: bool,
    client: Option<Socket>,
    connected: bool,
    client_closed: bool,
    /// Both ends of each connection, kept after close(): the kernel keeps
    /// the socket a while (FIN_WAIT2, TIME_WAIT, LAST_ACK) and
    /// /proc/net/tcp still lists it.
    client_ends: Option<(SocketAddr, SocketAddr)>,
    server_ends: Option<(SocketAddr, SocketAddr)>,
    /// Calls waiting to complete (accept or recv): one per side.
    server_waiting: Option<Call>,
    client_waiting: Option<Call>,
    /// On a private link: where the sockets are made, and the wire.
    link: Option<StepLink>,
}

/// Step mode on a private link: its sockets are made in the link's
/// namespace (by its helper, when socket() is clicked), and every packet
/// between them is captured.
#[derive(Debug)]
struct StepLink {
    factory: SocketFactory,
    capture: Option<StepCapture>,
    packets: Receiver<PacketBatch>,
    log: Option<WireLog>,
    /// Held for its namespace (and its netlink and packet sockets).
    _link: Link,
}

#[derive(Debug)]
struct StepCapture {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Option<io::Error>>>,
}

impl Drop for StepCapture {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const RECV_SIZE: usize = 1024;

fn failed(error: io::Error) -> Outcome {
    Outcome::Failed(error.to_string())
}

fn view_of(socket: Option<&Socket>) -> SocketView {
    match socket {
        None => SocketView {
            state: None,
            local: None,
            peer: None,
        },
        Some(socket) => SocketView {
            state: probe::tcp_info(socket).ok().map(|info| info.state),
            local: socket.local_addr().ok().and_then(|a| a.as_socket()),
            peer: socket.peer_addr().ok().and_then(|a| a.as_socket()),
        },
    }
}

impl Lifecycle {
    /// `port`: where bind() goes (0 lets the kernel choose).
    pub fn new(port: u16) -> Self {
        Lifecycle {
            port,
            ..Lifecycle::default()
        }
    }

    /// Step mode on a private link of its own: the same calls, made in the
    /// link's namespace, with every packet captured (see `wire`).
    pub fn on_link() -> Result<Self, LinkError> {
        let (made, factory) = Link::open_serving(LinkSpec::default())?;
        let (tx, packets) = unbounded();
        let capture = match made.link.capture_socket() {
            Ok(socket) => {
                let stop = Arc::new(AtomicBool::new(false));
                let capturer = Capturer {
                    session_id: 0,
                    tap: socket,
                    epoch: Instant::now(),
                    counters: Arc::new(CaptureCounters::default()),
                    stop: Arc::clone(&stop),
                    out: tx,
                };
                std::thread::Builder::new()
                    .name("sockscope-step-capture".into())
                    .spawn(move || capturer.run())
                    .ok()
                    .map(|thread| StepCapture {
                        stop,
                        thread: Some(thread),
                    })
            }
            Err(_) => None,
        };
        Ok(Lifecycle {
            link: Some(StepLink {
                factory,
                capture,
                packets,
                log: None,
                _link: made.link,
            }),
            ..Lifecycle::default()
        })
    }

    /// Whether the calls run on a private link.
    pub fn on_a_link(&self) -> bool {
        self.link.is_some()
    }

    /// The packets between the two step sockets so far (on a private link,
    /// once the client has an address); None otherwise.
    pub fn wire(&mut self) -> Option<&WireLog> {
        let writer_port = self.client_ends.map(|(local, _)| local.port());
        let link = self.link.as_mut()?;
        link.capture.as_ref()?;
        if link.log.is_none() {
            link.log = Some(WireLog::new(writer_port?));
        }
        let log = link.log.as_mut()?;
        while let Ok(batch) = link.packets.try_recv() {
            for packet in &batch.packets {
                log.push(packet);
            }
        }
        Some(log)
    }

    /// A new TCP socket: on the link, made in its namespace.
    fn new_socket(&self) -> io::Result<Socket> {
        match &self.link {
            Some(link) => link.factory.tcp(),
            None => Socket::new(Domain::IPV4, Type::STREAM, None),
        }
    }

    /// Where the kernel lists this lesson's sockets, those without a
    /// descriptor (TIME_WAIT) included.
    fn proc_net_tcp(&self) -> std::path::PathBuf {
        match &self.link {
            Some(link) => link.factory.proc_net_tcp(),
            None => "/proc/net/tcp".into(),
        }
    }

    /// Whether the call makes sense now, in the lesson's order.
    pub fn enabled(&self, call: Call) -> bool {
        // Each side's calls wait for that side's blocked call, not the
        // other's: the client must be able to send to a server in recv().
        let server_free = self.server_waiting.is_none();
        let client_free = self.client_waiting.is_none();
        let server = self.listener.is_some();
        match call {
            Call::ServerSocket => !server && self.conn.is_none() && !self.server_closed,
            Call::ServerReuse => server && !self.bound && !self.reuse,
            Call::ServerBind => server && !self.bound,
            Call::ServerListen => self.bound && !self.listening,
            Call::ServerAccept => self.listening && self.conn.is_none() && server_free,
            Call::ServerRecv | Call::ServerSend | Call::ServerClose => {
                self.conn.is_some() && server_free
            }
            Call::ClientSocket => self.client.is_none() && !self.client_closed,
            Call::ClientConnect => self.client.is_some() && !self.connected,
            Call::ClientSend | Call::ClientRecv | Call::ClientClose => {
                self.connected && self.client.is_some() && client_free
            }
        }
    }

    /// The calls that are waiting (server's, client's).
    pub fn waiting(&self) -> [Option<Call>; 2] {
        [self.server_waiting, self.client_waiting]
    }

    fn slot(&mut self, call: Call) -> &mut Option<Call> {
        if call.is_server() {
            &mut self.server_waiting
        } else {
            &mut self.client_waiting
        }
    }

    /// Makes the call.
    pub fn call(&mut self, call: Call, data: &[u8]) -> Outcome {
        let outcome = self.try_call(call, data);
        *self.slot(call) = (outcome == Outcome::Waiting).then_some(call);
        outcome
    }

    /// Retries the calls that were waiting; returns those that completed.
    pub fn poll_waiting(&mut self) -> Vec<(Call, Outcome)> {
        let mut done = Vec::new();
        for call in [self.server_waiting, self.client_waiting]
            .into_iter()
            .flatten()
        {
            match self.try_call(call, &[]) {
                Outcome::Waiting => {}
                outcome => {
                    *self.slot(call) = None;
                    done.push((call, outcome));
                }
            }
        }
        done
    }

    fn try_call(&mut self, call: Call, data: &[u8]) -> Outcome {
        match call {
            Call::ServerSocket => match self.new_socket() {
                Ok(socket) => {
                    self.listener = Some(socket);
                    Outcome::Done
                }
                Err(e) => failed(e),
            },
            Call::ServerReuse => match self.listener.as_ref().map(|s| s.set_reuse_address(true)) {
                Some(Ok(())) => {
                    self.reuse = true;
                    Outcome::Done
                }
                Some(Err(e)) => failed(e),
                None => Outcome::Failed("no server socket".into()),
            },
            Call::ServerBind => {
                let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
                match self.listener.as_ref().map(|s| s.bind(&addr.into())) {
                    Some(Ok(())) => {
                        self.bound = true;
                        Outcome::Done
                    }
                    Some(Err(e)) => failed(e),
                    None => Outcome::Failed("no server socket".into()),
                }
            }
            Call::ServerListen => {
                let listened = self.listener.as_ref().map(|s| {
                    s.listen(128)?;
                    // accept() is retried instead of blocking the window.
                    s.set_nonblocking(true)
                });
                match listened {
                    Some(Ok(())) => {
                        self.listening = true;
                        Outcome::Done
                    }
                    Some(Err(e)) => failed(e),
                    None => Outcome::Failed("no server socket".into()),
                }
            }
            Call::ServerAccept => match self.listener.as_ref().map(Socket::accept) {
                Some(Ok((conn, addr))) => {
                    let _ = conn.set_nonblocking(true);
                    self.server_ends = ends(&conn);
                    self.conn = Some(conn);
                    match addr.as_socket() {
                        Some(addr) => Outcome::Accepted(addr),
                        None => Outcome::Done,
                    }
                }
                Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => Outcome::Waiting,
                Some(Err(e)) => failed(e),
                None => Outcome::Failed("no server socket".into()),
            },
            Call::ServerRecv => recv(self.conn.as_ref()),
            Call::ClientRecv => recv(self.client.as_ref()),
            Call::ServerSend => send(self.conn.as_ref(), data),
            Call::ClientSend => send(self.client.as_ref(), data),
            Call::ServerClose => {
                self.conn = None;
                self.server_closed = true;
                Outcome::Done
            }
            Call::ClientSocket => match self.new_socket() {
                Ok(socket) => {
                    self.client = Some(socket);
                    Outcome::Done
                }
                Err(e) => failed(e),
            },
            Call::ClientConnect => {
                let target = self
                    .listener
                    .as_ref()
                    .and_then(|l| l.local_addr().ok())
                    .and_then(|a| a.as_socket())
                    .filter(|a| a.port() != 0)
                    .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)));
                // On loopback the handshake completes at once (into the
                // listener's queue), even before accept().
                match self.client.as_ref().map(|c| c.connect(&target.into())) {
                    Some(Ok(())) => {
                        if let Some(client) = &self.client {
                            let _ = client.set_nonblocking(true);
                            self.client_ends = ends(client);
                        }
                        self.connected = true;
                        Outcome::Done
                    }
                    Some(Err(e)) => failed(e),
                    None => Outcome::Failed("no client socket".into()),
                }
            }
            Call::ClientClose => {
                if let Some(client) = self.client.take() {
                    let _ = client.shutdown(Shutdown::Both);
                }
                self.client_closed = true;
                Outcome::Done
            }
        }
    }

    /// The server's socket: the accepted connection once there is one,
    /// else the listener.
    pub fn server_view(&self) -> SocketView {
        match self.conn.as_ref().or(self.listener.as_ref()) {
            Some(socket) => view_of(Some(socket)),
            None => closed_view(self.server_ends, &self.proc_net_tcp()),
        }
    }

    pub fn client_view(&self) -> SocketView {
        match &self.client {
            Some(socket) => view_of(Some(socket)),
            None => closed_view(self.client_ends, &self.proc_net_tcp()),
        }
    }

    pub fn client_closed(&self) -> bool {
        self.client_closed
    }

    pub fn server_closed(&self) -> bool {
        self.server_closed
    }
}

fn ends(socket: &Socket) -> Option<(SocketAddr, SocketAddr)> {
    let local = socket.local_addr().ok()?.as_socket()?;
    let peer = socket.peer_addr().ok()?.as_socket()?;
    Some((local, peer))
}

/// A closed socket as the kernel still lists it, from /proc/net/tcp.
fn closed_view(ends: Option<(SocketAddr, SocketAddr)>, table: &std::path::Path) -> SocketView {
    let Some((local, peer)) = ends else {
        return view_of(None);
    };
    SocketView {
        state: kernel_state(local, peer, table),
        local: Some(local),
        peer: Some(peer),
    }
}

/// The state of the IPv4 connection local -> peer in /proc/net/tcp, if
/// the kernel still has it.
fn kernel_state(local: SocketAddr, peer: SocketAddr, table: &std::path::Path) -> Option<TcpState> {
    let table = std::fs::read_to_string(table).ok()?;
    let port = |field: &str| {
        field
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
    };
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() > 3
            && port(fields[1]) == Some(local.port())
            && port(fields[2]) == Some(peer.port())
        {
            u8::from_str_radix(fields[3], 16)
                .ok()
                .map(TcpState::from_kernel)
        } else {
            None
        }
    })
}

fn recv(socket: Option<&Socket>) -> Outcome {
    use std::io::Read;
    let Some(mut socket) = socket else {
        return Outcome::Failed("no connection".into());
    };
    let mut buf = [0u8; RECV_SIZE];
    match socket.read(&mut buf) {
        Ok(0) => Outcome::PeerClosed,
        Ok(n) => Outcome::Received(buf[..n].to_vec()),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Outcome::Waiting,
        Err(e) => failed(e),
    }
}

fn send(socket: Option<&Socket>, data: &[u8]) -> Outcome {
    match socket.map(|s| s.send(data)) {
        Some(Ok(n)) => Outcome::Sent(n),
        Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => Outcome::Sent(0),
        Some(Err(e)) => failed(e),
        None => Outcome::Failed("no connection".into()),
    }
}
