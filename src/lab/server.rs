//! The lesson's thread-per-client server, for real: one listening socket on
//! loopback, one thread blocked in accept() in a loop, and for every client
//! it accepts a server thread of its own that recv()s from that client.
//!
//! ```python
//! while True:
//!     service_client_socket, ip_port = tcp_server_socket.accept()
//!     sub_thread = threading.Thread(target=handle_client_request, ...)
//!     sub_thread.start()
//! ```
//!
//! Each client is a [`Session`]: a writer thread on the client's socket, the
//! server thread on the accepted socket (it verifies every byte), and a
//! sampler watching both, so each connection has its own buffers, its own
//! numbers and its own throttle.
//!
//! `Server`'s calls block (a connect() waits for its accept(), a client
//! leaving waits for its threads): a window drives it through
//! `server_owner::ServerHandle`, which runs it on a thread of its own.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};
use socket2::Socket;
use thiserror::Error;

use super::config::{Endpoint, LabConfig, LabError};
use super::connect::{connect_client, loopback_listener, step};
use super::sample::{RATE_WINDOW, Sample, rates_over};
use super::sampler::Waker;
use super::session::{Session, SessionReport};
use super::units::Rate;

/// The grid's size, and the listen() backlog.
pub const MAX_CLIENTS: usize = 8;

/// How long a connect() may wait for the accept() thread to hand over the
/// accepted socket. On loopback it takes microseconds; this only stops a
/// wedged accept() thread from hanging the caller.
const ACCEPT_WAIT: Duration = Duration::from_secs(10);

/// Why the server could not start, or take one more client.
#[derive(Debug, Error)]
pub enum ServerError {
    #[error("the server takes 1 to {MAX_CLIENTS} clients; it already has {MAX_CLIENTS}")]
    Full,
    #[error("the server's accept() did not return the new client within {0:?}")]
    AcceptTimeout(Duration),
    #[error("the server's accept() thread has ended: {0}")]
    AcceptEnded(String),
    #[error("could not start the {0} thread: {1}")]
    Thread(&'static str, #[source] io::Error),
    #[error(transparent)]
    Lab(#[from] LabError),
}

/// What the accept() thread hands over: a connection, or why it stopped.
type Accepted = io::Result<(TcpStream, SocketAddr)>;

/// One connected client and the server thread serving it.
pub struct Client {
    /// 1, 2, 3… in the order the server accepted them; never reused while
    /// the server runs, so "client 3" keeps its name after client 2 leaves.
    pub number: usize,
    pub session: Session,
    /// The newest sample, and the samples of the last `RATE_WINDOW`.
    latest: Option<Sample>,
    recent: Vec<Sample>,
    /// What the server thread's read rate is set to.
    read_limit: Rate,
}

impl Client {
    pub fn latest(&self) -> Option<&Sample> {
        self.latest.as_ref()
    }

    /// Bytes per second written and read over the last `RATE_WINDOW`.
    pub fn rates(&self) -> (f64, f64) {
        rates_over(&self.recent, RATE_WINDOW)
    }

    /// What the server thread's read rate is set to.
    pub fn read_limit(&self) -> Rate {
        self.read_limit
    }

    /// The client closes its socket; its server thread reads the rest until
    /// recv() returns 0 and ends. Blocks until all three threads have ended.
    pub fn leave(self) -> Departure {
        Departure {
            number: self.number,
            report: self.session.join(),
        }
    }

    /// Takes the samples that arrived since the last call: whether any did,
    /// and whether the session has ended (its channel closed).
    fn pump(&mut self) -> (bool, bool) {
        let mut any = false;
        let mut ended = false;
        loop {
            match self.session.samples().try_recv() {
                Ok(batch) => {
                    if let Some(last) = batch.samples.last() {
                        self.latest = Some(*last);
                        any = true;
                    }
                    self.recent.extend(batch.samples);
                }
                Err(crossbeam_channel::TryRecvError::Empty) => break,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    ended = true;
                    break;
                }
            }
        }
        if let Some(last) = self.latest {
            let from = last.t_ns.saturating_sub(RATE_WINDOW.as_nanos() as u64);
            self.recent.retain(|s| s.t_ns >= from);
        }
        (any, ended)
    }
}

/// A client that left, and how its connection went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    pub number: usize,
    pub report: SessionReport,
}

pub struct Server {
    listener: Arc<Socket>,
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    accepted: Receiver<Accepted>,
    accept_thread: Option<JoinHandle<()>>,
    clients: Vec<Client>,
    config: LabConfig,
    waker: Option<Waker>,
    next_number: usize,
    /// Clients that ended by themselves, until `departures()` takes them.
    ended: Vec<Departure>,
}

impl Server {
    /// socket() → setsockopt(SO_REUSEADDR) → bind(127.0.0.1:0) →
    /// listen(8), and the accept() loop on its own thread. Every client
    /// gets `config`'s buffers, writer and reader settings.
    pub fn start(config: LabConfig, waker: Option<Waker>) -> Result<Server, ServerError> {
        config.check()?;
        let (listener, addr) = loopback_listener(&config, MAX_CLIENTS as i32)?;
        let listener = Arc::new(listener);
        let stopping = Arc::new(AtomicBool::new(false));
        let (tx, accepted) = unbounded();
        let accept_thread = std::thread::Builder::new()
            .name("sockscope-accept".into())
            .spawn({
                let listener = Arc::clone(&listener);
                let stopping = Arc::clone(&stopping);
                move || accept_loop(&listener, &stopping, &tx)
            })
            .map_err(|e| ServerError::Thread("accept", e))?;
        Ok(Server {
            listener,
            addr,
            stopping,
            accepted,
            accept_thread: Some(accept_thread),
            clients: Vec::new(),
            config: LabConfig {
                endpoint: Endpoint::Loopback,
                // Up to 8 writers and 8 server threads: let the scheduler
                // spread them rather than pile them on two CPUs.
                pin_workers: false,
                ..config
            },
            waker,
            next_number: 1,
            ended: Vec::new(),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    pub fn config(&self) -> &LabConfig {
        &self.config
    }

    /// A new client connect()s; the accept() thread accepts it and the
    /// connection gets its own server thread. Returns the client's number.
    pub fn add_client(&mut self) -> Result<usize, ServerError> {
        self.add_client_reading_at(self.config.read_rate)
    }

    /// `add_client`, with the new client's server thread reading at
    /// `read_rate` from the start.
    pub fn add_client_reading_at(&mut self, read_rate: Rate) -> Result<usize, ServerError> {
        if self.clients.len() >= MAX_CLIENTS {
            return Err(ServerError::Full);
        }
        let client = connect_client(&self.config, self.addr)?;
        let local = client
            .local_addr()
            .map_err(step("read the client address"))?
            .as_socket();
        let accepted = self.take_accepted(local)?;
        let writer: TcpStream = client.into();
        writer
            .set_nonblocking(true)
            .map_err(step("make the client non-blocking"))?;
        accepted
            .set_nonblocking(true)
            .map_err(step("make the server's socket non-blocking"))?;
        let config = LabConfig {
            read_rate,
            ..self.config
        };
        let session = Session::start_on(config, writer, accepted, None, self.waker.clone(), None)?;
        let number = self.next_number;
        self.next_number += 1;
        self.clients.push(Client {
            number,
            session,
            latest: None,
            recent: Vec::new(),
            read_limit: read_rate,
        });
        Ok(number)
    }

    /// Waits for the accept() thread to hand over the connection whose peer
    /// is `local`. Anything else that connected to the port is not one of
    /// ours: it is closed.
    fn take_accepted(&self, local: Option<SocketAddr>) -> Result<TcpStream, ServerError> {
        let deadline = Instant::now() + ACCEPT_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.accepted.recv_timeout(left) {
                Ok(Ok((stream, peer))) if Some(peer) == local => return Ok(stream),
                Ok(Ok(_stranger)) => continue,
                Ok(Err(error)) => return Err(ServerError::AcceptEnded(error.to_string())),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(ServerError::AcceptTimeout(ACCEPT_WAIT));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(ServerError::AcceptEnded("it stopped".into()));
                }
            }
        }
    }

    /// The client closes its socket (the writer finishes); its server
    /// thread reads what is left until recv() returns 0 and ends. Returns
    /// how the connection went; None if there is no such client.
    pub fn remove_client(&mut self, number: usize) -> Option<Departure> {
        self.take_client(number).map(Client::leave)
    }

    /// Takes a client off the server without waiting for it to end, so a
    /// window can `leave()` it on another thread.
    pub fn take_client(&mut self, number: usize) -> Option<Client> {
        let index = self.clients.iter().position(|c| c.number == number)?;
        Some(self.clients.remove(index))
    }

    /// The newest client leaves (see `remove_client`).
    pub fn remove_last(&mut self) -> Option<Departure> {
        let number = self.clients.last()?.number;
        self.remove_client(number)
    }

    /// Throttles one client's server thread.
    pub fn set_read_rate(&mut self, number: usize, rate: Rate) {
        if let Some(client) = self.clients.iter_mut().find(|c| c.number == number) {
            client.session.set_read_rate(rate);
            client.read_limit = rate;
        }
    }

    /// Takes every client's new samples; true if any arrived. A client
    /// whose session ended by itself (a failed worker) leaves the server;
    /// `departures()` says how it went. Connections from other programs
    /// waiting in the hand-over channel are closed (`add_client` takes its
    /// own at once, so anything queued between calls is a stranger's).
    pub fn pump(&mut self) -> bool {
        let mut any = false;
        let mut ended = Vec::new();
        for client in &mut self.clients {
            let (new, gone) = client.pump();
            any |= new;
            if gone {
                ended.push(client.number);
            }
        }
        for number in ended {
            if let Some(departure) = self.remove_client(number) {
                self.ended.push(departure);
            }
        }
        for stranger in self.accepted.try_iter() {
            drop(stranger);
        }
        any
    }

    /// Clients whose sessions ended by themselves since the last call.
    pub fn departures(&mut self) -> Vec<Departure> {
        std::mem::take(&mut self.ended)
    }

    /// Every client leaves, then the server stops accepting; returns how
    /// each connection went, in client order.
    pub fn shutdown(mut self) -> Vec<Departure> {
        let numbers: Vec<usize> = self.clients.iter().map(|c| c.number).collect();
        numbers
            .into_iter()
            .filter_map(|number| self.remove_client(number))
            .collect()
    }
}

/// The server's main loop: accept(), hand the connection over, repeat,
/// until the server stops (shutdown() on the listening socket makes a
/// blocked accept() return EINVAL on Linux).
fn accept_loop(listener: &Socket, stopping: &AtomicBool, out: &Sender<Accepted>) {
    loop {
        match listener.accept() {
            Ok((socket, peer)) => {
                let Some(peer) = peer.as_socket() else {
                    continue;
                };
                if out.send(Ok((socket.into(), peer))).is_err() {
                    return;
                }
            }
            Err(_) if stopping.load(Relaxed) => return,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // Out of descriptors or memory, or a client gone before it was
            // accepted: the server goes on, as a real one would.
            Err(error)
                if matches!(
                    error.raw_os_error(),
                    Some(
                        libc::EMFILE
                            | libc::ENFILE
                            | libc::ENOBUFS
                            | libc::ENOMEM
                            | libc::ECONNABORTED
                    )
                ) =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(error) => {
                let _ = out.send(Err(error));
                return;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Clients first (each Session aborts and joins its threads when
        // dropped), then the accept() loop.
        self.clients.clear();
        self.stopping.store(true, Relaxed);
        let _ = self.listener.shutdown(std::net::Shutdown::Both);
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}
