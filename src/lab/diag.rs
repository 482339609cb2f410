//! Every TCP socket on this machine (this network namespace), as the
//! kernel's sock_diag netlink reports them (what `ss -tmi` reads): state,
//! addresses, queues, the memory the socket takes against its buffer size,
//! the window, and the owning process where this user may see it. No root
//! is needed for sockets in one's own network namespace.

#![allow(unsafe_code)]

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd};

use serde::Serialize;

use super::link::netlink::{Message, ask, attributes, dump};
use super::probe::{TcpInfo, TcpState};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const INET_DIAG_INFO: u16 = 2;
const INET_DIAG_CONG: u16 = 4;
const INET_DIAG_SKMEMINFO: u16 = 7;
/// The size of struct inet_diag_msg.
const DIAG_MSG: usize = 72;

/// A socket's memory (SK_MEMINFO_*), in bytes of kernel memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SocketMemory {
    /// Memory the received, unread segments take.
    pub rmem_alloc: u32,
    pub rcvbuf: u32,
    /// Memory the send queue takes.
    pub wmem_queued: u32,
    pub sndbuf: u32,
    /// Segments waiting for the socket lock (sk_backlog.len).
    pub backlog: u32,
    /// Packets dropped before they reached the socket.
    pub drops: u32,
}

/// Whose socket it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub pid: u32,
    pub command: String,
}

/// One TCP socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub state: &'static str,
    pub local: SocketAddr,
    pub peer: SocketAddr,
    /// Bytes received and not yet read; on a listener, connections waiting
    /// for accept().
    pub recv_q: u32,
    /// Bytes sent and not yet acknowledged (or not yet sent); on a
    /// listener, its backlog.
    pub send_q: u32,
    pub memory: Option<SocketMemory>,
    /// The peer's advertised window as this socket sees it (bytes).
    pub snd_wnd: Option<u32>,
    pub uid: u32,
    pub inode: u32,
    /// None where the process is not this user's to see.
    pub owner: Option<Owner>,
    #[serde(skip)]
    pub tcp_state: TcpState,
    /// The socket's TCP_INFO (not for a listener).
    #[serde(skip)]
    pub info: Option<TcpInfo>,
    /// Its congestion control's name.
    #[serde(skip)]
    pub congestion: Option<String>,
    /// Which socket this is, to ask for it alone again.
    #[serde(skip)]
    key: SocketKey,
}

/// A socket's family and struct inet_diag_sockid as a dump gave it: its
/// ports, addresses, interface and cookie. The cookie makes it this socket
/// and no later one on the same addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SocketKey {
    family: u8,
    id: [u8; 48],
}

#[cfg(test)]
impl Connection {
    /// A connection as sock_diag could report it, for tests of what is
    /// made of its numbers.
    pub(crate) fn example(tcp_state: TcpState, send_q: u32, recv_q: u32, info: TcpInfo) -> Self {
        let address = SocketAddr::from(([127, 0, 0, 1], 40000));
        Connection {
            state: tcp_state.name(),
            tcp_state,
            local: address,
            peer: address,
            recv_q,
            send_q,
            memory: None,
            snd_wnd: None,
            uid: 0,
            inode: 0,
            owner: None,
            info: Some(info),
            congestion: None,
            key: SocketKey {
                family: libc::AF_INET as u8,
                id: [0; 48],
            },
        }
    }
}

impl Connection {
    /// Bytes queued either way, the table's order. A listener queues
    /// connections, not bytes (its queues are the accept queue and the
    /// backlog): none.
    pub fn queued(&self) -> u64 {
        if self.tcp_state == TcpState::Listen {
            return 0;
        }
        u64::from(self.recv_q) + u64::from(self.send_q)
    }

    /// The two queue columns in words: bytes, or on a listener the
    /// connections waiting for accept() and its backlog.
    pub fn queue_columns(&self, lang: crate::i18n::Lang) -> [String; 2] {
        use crate::i18n::S;
        use crate::lab::units::format_bytes;
        if self.tcp_state == TcpState::Listen {
            [
                S::ConnAcceptQueue.fill(lang, &[&self.recv_q]),
                S::ConnBacklog.fill(lang, &[&self.send_q]),
            ]
        } else {
            [
                format_bytes(u64::from(self.recv_q)),
                format_bytes(u64::from(self.send_q)),
            ]
        }
    }

    /// Who holds the socket, in words: the program, nobody (the kernel
    /// finishes it on its own), or a program this user may not see.
    pub fn owner_text(&self, lang: crate::i18n::Lang) -> String {
        use crate::i18n::S;
        match &self.owner {
            Some(owner) => format!("{} ({})", owner.command, owner.pid),
            None if self.orphaned() => S::ConnNoProgram.text(lang).to_string(),
            None => S::ConnNotYours.text(lang).to_string(),
        }
    }

    /// No program holds the socket any more: it was closed and the kernel
    /// finishes the connection on its own (an orphan, or TIME_WAIT). The
    /// kernel reports such a socket with inode 0.
    pub fn orphaned(&self) -> bool {
        self.inode == 0
    }
}

/// A sock_diag netlink socket, for dumps and for asking after one socket
/// again and again (attaching reads its connection up to 1000 times a
/// second: one request and one answer each time, however many sockets
/// the machine has).
pub struct DiagSocket {
    netlink: OwnedFd,
}

impl DiagSocket {
    pub fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2); the descriptor is owned at once.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just returned by socket(2) and is owned by no one
        // else.
        Ok(DiagSocket {
            netlink: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// A sock_diag netlink socket made elsewhere: in a private link's
    /// namespace (`SocketFactory::sock_diag`), whose sockets it then reads.
    pub fn from_fd(netlink: OwnedFd) -> Self {
        DiagSocket { netlink }
    }

    /// Every TCP socket, IPv4 and IPv6, most queued first, owners not
    /// looked up.
    pub fn dump(&self) -> io::Result<Vec<Connection>> {
        let mut found = Vec::new();
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            dump(&self.netlink, request(family, &[0u8; 48]), |body| {
                if let Some(connection) = parse(body) {
                    found.push(connection);
                }
            })?;
        }
        found.sort_by(|a, b| b.queued().cmp(&a.queued()).then(a.local.cmp(&b.local)));
        Ok(found)
    }

    /// The socket `connection` was, now; None once it is gone (closed and
    /// freed, or replaced by another on the same addresses). Without
    /// `with_info` the answer has no TCP_INFO (nor congestion control):
    /// the kernel takes the socket's lock for those, which a busy sender
    /// holds most of the time, while the queues and the memory it reads
    /// without the lock.
    pub fn lookup(
        &self,
        connection: &Connection,
        with_info: bool,
    ) -> io::Result<Option<Connection>> {
        let key = connection.key;
        let mut found = None;
        let mut message = request(key.family, &key.id);
        if !with_info {
            message.body[2] = (1u16 << (INET_DIAG_SKMEMINFO - 1)) as u8;
        }
        match ask(&self.netlink, message, |body| {
            found = parse(body);
        }) {
            Ok(()) => Ok(found.map(|mut now| {
                now.owner = connection.owner.clone();
                now
            })),
            Err(error)
                if matches!(
                    error.raw_os_error(),
                    Some(libc::ENOENT) | Some(libc::ESTALE)
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}

/// Every TCP socket, IPv4 and IPv6, most queued first, each with its owner
/// where this user may see it.
pub fn connections() -> io::Result<Vec<Connection>> {
    let mut all = dump_all()?;
    OwnerCache::default().fill(&mut all);
    Ok(all)
}

/// Every TCP socket, IPv4 and IPv6, most queued first, owners not looked
/// up (see `OwnerCache`): one netlink dump, no walk through /proc.
pub fn dump_all() -> io::Result<Vec<Connection>> {
    DiagSocket::open()?.dump()
}

/// struct inet_diag_req_v2: TCP sockets of `family` in every state, with
/// their TCP_INFO, congestion control and memory; in a dump `id` is all
/// zero (any), in a request for one socket it is that socket's.
fn request(family: u8, id: &[u8; 48]) -> Message {
    let extensions = (1u16 << (INET_DIAG_INFO - 1))
        | (1u16 << (INET_DIAG_CONG - 1))
        | (1u16 << (INET_DIAG_SKMEMINFO - 1));
    let mut body = vec![family, libc::IPPROTO_TCP as u8, extensions as u8, 0];
    body.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    body.extend_from_slice(id); // struct inet_diag_sockid
    Message {
        kind: SOCK_DIAG_BY_FAMILY,
        flags: 0,
        body,
    }
}

/// Sockets' owners, remembered by inode between refreshes: finding one
/// means reading every readable process's descriptors (as `ss -p` does),
/// which costs more than the dump itself with thousands of sockets, so a
/// live table walks /proc only when a socket it shows is new to it.
#[derive(Debug, Default)]
pub struct OwnerCache {
    /// None: looked for and not found (not this user's to see).
    known: HashMap<u32, Option<Owner>>,
}

impl OwnerCache {
    /// Fills in the owners of `rows`, walking /proc once if any is new.
    pub fn fill(&mut self, rows: &mut [Connection]) {
        if rows.iter().any(|c| !self.known.contains_key(&c.inode)) {
            let found = socket_owners();
            for c in rows.iter() {
                self.known.insert(c.inode, found.get(&c.inode).cloned());
            }
        }
        for c in rows.iter_mut() {
            c.owner = self.known.get(&c.inode).cloned().flatten();
        }
    }

    /// Forgets sockets no longer in `rows` (closed ones).
    pub fn keep_only(&mut self, rows: &[Connection]) {
        let live: std::collections::HashSet<u32> = rows.iter().map(|c| c.inode).collect();
        self.known.retain(|inode, _| live.contains(inode));
    }
}

/// One struct inet_diag_msg and its attributes.
fn parse(body: &[u8]) -> Option<Connection> {
    if body.len() < DIAG_MSG {
        return None;
    }
    let family = body[0];
    let state = TcpState::from_kernel(body[1]);
    let id = &body[4..52];
    let port = |at: usize| u16::from_be_bytes([id[at], id[at + 1]]);
    let address = |at: usize| -> IpAddr {
        if family == libc::AF_INET as u8 {
            IpAddr::V4(Ipv4Addr::new(id[at], id[at + 1], id[at + 2], id[at + 3]))
        } else {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&id[at..at + 16]);
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
    };
    let word = |at: usize| u32::from_ne_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
    let mut connection = Connection {
        state: state.name(),
        tcp_state: state,
        local: SocketAddr::new(address(4), port(0)),
        peer: SocketAddr::new(address(20), port(2)),
        recv_q: word(56),
        send_q: word(60),
        memory: None,
        snd_wnd: None,
        uid: word(64),
        inode: word(68),
        owner: None,
        info: None,
        congestion: None,
        key: SocketKey {
            family,
            id: id.try_into().ok()?,
        },
    };
    for (kind, payload) in attributes(&body[DIAG_MSG..]) {
        match kind {
            INET_DIAG_SKMEMINFO if payload.len() >= 36 => {
                let m = |i: usize| {
                    u32::from_ne_bytes([
                        payload[4 * i],
                        payload[4 * i + 1],
                        payload[4 * i + 2],
                        payload[4 * i + 3],
                    ])
                };
                // SK_MEMINFO_RMEM_ALLOC, RCVBUF, WMEM_ALLOC, SNDBUF,
                // FWD_ALLOC, WMEM_QUEUED, OPTMEM, BACKLOG, DROPS.
                connection.memory = Some(SocketMemory {
                    rmem_alloc: m(0),
                    rcvbuf: m(1),
                    wmem_queued: m(5),
                    sndbuf: m(3),
                    backlog: m(7),
                    drops: m(8),
                });
            }
            // A listener has no peer, so no window.
            INET_DIAG_INFO if state != TcpState::Listen => {
                connection.snd_wnd = snd_wnd(payload);
                connection.info = Some(TcpInfo::from_bytes(payload));
            }
            INET_DIAG_CONG => {
                let name = payload.split(|&b| b == 0).next().unwrap_or_default();
                connection.congestion = Some(String::from_utf8_lossy(name).into_owned());
            }
            _ => {}
        }
    }
    Some(connection)
}

/// tcpi_snd_wnd from a struct tcp_info as the kernel sent it (Linux 5.4
/// and later send it).
fn snd_wnd(info: &[u8]) -> Option<u32> {
    let at = std::mem::offset_of!(libc::tcp_info, tcpi_snd_wnd);
    let bytes = info.get(at..at + 4)?;
    Some(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Socket inodes to their processes, for the processes this user may look
/// into (`/proc/PID/fd` of others' is closed to us).
fn socket_owners() -> HashMap<u32, Owner> {
    let mut owners = HashMap::new();
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return owners;
    };
    for process in processes.flatten() {
        let Some(pid) = process
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let command = std::fs::read_to_string(process.path().join("comm"))
            .map(|c| c.trim_end().to_string())
            .unwrap_or_default();
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy();
            if let Some(inode) = target
                .strip_prefix("socket:[")
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u32>().ok())
            {
                owners.entry(inode).or_insert_with(|| Owner {
                    pid,
                    command: command.clone(),
                });
            }
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn a_listener_queues_connections_not_bytes() {
        let listener = Connection::example(TcpState::Listen, 128, 2, TcpInfo::default());
        assert_eq!(listener.queued(), 0, "its backlog is not queued bytes");
        let [waiting, backlog] = listener.queue_columns(Lang::En);
        assert_eq!(waiting, "2 waiting for accept()");
        assert_eq!(backlog, "backlog 128");
        let busy = Connection::example(TcpState::Established, 4096, 1, TcpInfo::default());
        assert_eq!(busy.queued(), 4097);
        assert_eq!(busy.queue_columns(Lang::En), ["1 B", "4 KiB"]);
    }

    #[test]
    fn a_socket_no_program_holds_is_not_called_hidden() {
        let time_wait = Connection::example(TcpState::TimeWait, 0, 0, TcpInfo::default());
        assert!(time_wait.orphaned());
        assert_eq!(
            time_wait.owner_text(Lang::En),
            "no program (the kernel finishes it)"
        );
        let hidden = Connection {
            inode: 4242,
            ..Connection::example(TcpState::Established, 0, 0, TcpInfo::default())
        };
        assert_eq!(hidden.owner_text(Lang::En), "not yours to see");
    }

    #[test]
    fn a_diag_message_reads_its_addresses_queues_and_memory() {
        let mut body = vec![libc::AF_INET as u8, 1, 0, 0];
        body.extend_from_slice(&40000u16.to_be_bytes()); // sport
        body.extend_from_slice(&5201u16.to_be_bytes()); // dport
        body.extend_from_slice(&[127, 0, 0, 1]);
        body.extend_from_slice(&[0; 12]);
        body.extend_from_slice(&[127, 0, 0, 2]);
        body.extend_from_slice(&[0; 12]);
        body.extend_from_slice(&[0; 12]); // interface, cookie
        for word in [0u32, 1000, 2000, 42, 777] {
            body.extend_from_slice(&word.to_ne_bytes());
        }
        assert_eq!(body.len(), DIAG_MSG);
        let memory: Vec<u8> = (0..9u32).flat_map(|i| (i * 100).to_ne_bytes()).collect();
        body.extend(super::super::link::netlink::attribute(
            INET_DIAG_SKMEMINFO,
            &memory,
        ));
        let c = parse(&body).unwrap();
        assert_eq!(c.state, "ESTABLISHED");
        assert_eq!(c.local, "127.0.0.1:40000".parse().unwrap());
        assert_eq!(c.peer, "127.0.0.2:5201".parse().unwrap());
        assert_eq!((c.recv_q, c.send_q, c.uid, c.inode), (1000, 2000, 42, 777));
        let m = c.memory.unwrap();
        assert_eq!(
            (
                m.rmem_alloc,
                m.rcvbuf,
                m.sndbuf,
                m.wmem_queued,
                m.backlog,
                m.drops
            ),
            (0, 100, 300, 500, 700, 800)
        );
        assert_eq!(c.owner, None, "owners are looked up apart");
        assert_eq!(c.queued(), 3000);
    }
}
