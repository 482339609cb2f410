//! The accept queue, for real: a listener that never calls accept(), a
//! small backlog, and more clients than the queue holds, on a private link
//! whose packets are captured. The kernel finishes the handshake of as many
//! clients as the queue holds (one more than the backlog, on Linux: the
//! queue is full only once it holds more than the backlog); it drops the
//! SYNs of the rest, which send them again and again, unanswered.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::link::{Link, LinkSpec};
use super::probe::{self, TcpState};
use super::wire::{self, TcpFlags};

/// What became of one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFate {
    pub port: u16,
    pub state: TcpState,
    /// SYNs it sent, and SYN-ACKs it got back, on the wire.
    pub syns: u32,
    pub syn_acks: u32,
}

/// The experiment's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklogTrial {
    /// What listen() was given.
    pub backlog: u32,
    /// The listener's TCP_INFO: connections waiting for accept(), and the
    /// backlog it keeps.
    pub queued: u32,
    pub max_backlog: u32,
    pub clients: Vec<ClientFate>,
}

/// listen(`backlog`) on a private link, `clients` non-blocking connect()s,
/// no accept(); after `wait`, what the listener, the clients and the wire
/// say. The error is one sentence.
fn step(what: &'static str) -> impl Fn(std::io::Error) -> String {
    move |e| format!("{what}: {e}")
}

pub fn run(backlog: u32, clients: usize, wait: Duration) -> Result<BacklogTrial, String> {
    let (made, factory) = Link::open_serving(LinkSpec::default()).map_err(|e| e.to_string())?;
    let mut capture = made
        .link
        .capture_socket()
        .map_err(|e| format!("no capture of the wire: {e}"))?;
    let listener = factory.tcp().map_err(step("socket()"))?;
    listener
        .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .map_err(step("bind()"))?;
    listener.listen(backlog as i32).map_err(step("listen()"))?;
    let address = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .ok_or("the listener has no address")?;
    let mut sockets = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = factory.tcp().map_err(step("socket()"))?;
        client.set_nonblocking(true).map_err(step("fcntl()"))?;
        match client.connect(&address.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(format!("connect(): {e}")),
        }
        sockets.push(client);
    }
    std::thread::sleep(wait);
    let info = probe::tcp_info(&listener).map_err(step("TCP_INFO"))?;
    let segments: Vec<_> = capture
        .read_queued()
        .iter()
        .filter_map(wire::WirePacket::segment)
        .collect();
    let mut fates = Vec::with_capacity(clients);
    for client in &sockets {
        let port = client
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port());
        let count = |from_client: bool, flags: u8| {
            segments
                .iter()
                .filter(|s| {
                    let ours = if from_client { s.src_port } else { s.dst_port } == port;
                    ours && s.flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == flags
                })
                .count() as u32
        };
        fates.push(ClientFate {
            port,
            state: probe::tcp_info(client).map_err(step("TCP_INFO"))?.state,
            syns: count(true, TcpFlags::SYN),
            syn_acks: count(false, TcpFlags::SYN | TcpFlags::ACK),
        });
    }
    Ok(BacklogTrial {
        backlog,
        queued: info.accept_queue.0,
        max_backlog: info.accept_queue.1,
        clients: fates,
    })
}
