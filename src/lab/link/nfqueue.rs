//! A propagation delay where the kernel has no netem: an nf_tables rule
//! (nft.rs) hands every packet arriving at the namespace's lo to netfilter
//! queue 0, and a thread of sockscope's own, bound to that queue over a
//! `NETLINK_NETFILTER` socket made in the namespace, lets each one go when
//! its time has come. Built by hand from the kernel's
//! include/uapi/linux/netfilter/nfnetlink_queue.h.
//!
//! The kernel keeps the packets; the thread keeps only their ids and due
//! times, and accepts every id up to the newest due one in a single
//! `NFQNL_MSG_VERDICT_BATCH`, in arrival order. A packet's due time is
//! max(arrival + delay, the previous one's), so a change of the delay never
//! lets a packet overtake another. The queue fails open: a full queue or a
//! full socket lets packets through undelayed (`NFQA_CFG_F_FAIL_OPEN`), and
//! once the socket is closed the rule's bypass flag lets them all through
//! (nft.rs), so traffic is never black-holed if the thread ends.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};
use std::thread::JoinHandle;
use std::time::Instant;

use super::netlink::{Message, NLM_F_ACK, attribute, attributes, transact};

const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_CONFIG: u16 = 2;
const NFQNL_MSG_VERDICT_BATCH: u16 = 3;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_COPY_META: u8 = 1;
const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
const NFQA_CFG_MASK: u16 = 4;
const NFQA_CFG_FLAGS: u16 = 5;
const NFQA_CFG_F_FAIL_OPEN: u32 = 1;
const NFQA_CFG_F_GSO: u32 = 4;
const NF_ACCEPT: u32 = 1;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_NO_ENOBUFS: libc::c_int = 5;
const NLMSG_HEADER: usize = 16;

/// Set (to anything) in the environment, the queue takes each wire
/// segment alone rather than GSO super-packets: for the benchmark.
pub const PER_SEGMENT_ENV: &str = "SOCKSCOPE_DELAY_PER_SEGMENT";
/// The queue the rule sends packets to (the namespace is the lab's own).
pub(super) const QUEUE_NUM: u16 = 0;
/// How many packets the kernel may hold for the thread: 1024 by default,
/// under a second of a fast link's full-sized packets.
const QUEUE_MAXLEN: u32 = 100_000;
/// Messages taken per recvmmsg call, and each one's room: a packet's
/// message without its payload (COPY_META) is a few hundred bytes.
const BATCH: usize = 128;
const MESSAGE_ROOM: usize = 1024;

/// Binds `socket` to the queue: metadata only (the payload stays in the
/// kernel), GSO super-packets whole, fail open, a long queue. An error
/// means this kernel has no nfnetlink_queue.
pub(super) fn bind(socket: &OwnedFd) -> io::Result<()> {
    // Without it a burst that overflows the socket ends every recv with
    // ENOBUFS; the packets it lost passed undelayed (fail open) anyway.
    set_int(socket, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)?;
    // As much room as the machine allows (SO_RCVBUFFORCE needs the first
    // namespace's CAP_NET_ADMIN); rmem_max clamps it.
    let _ = set_int(socket, libc::SOL_SOCKET, libc::SO_RCVBUF, 16 << 20);
    let mut command = vec![NFQNL_CFG_CMD_BIND, 0];
    command.extend_from_slice(&0u16.to_be_bytes()); // pf: unused by bind
    let mut params = 0u32.to_be_bytes().to_vec(); // copy_range
    params.push(NFQNL_COPY_META);
    // GSO super-packets whole: one id for up to 64 KiB. The benchmark
    // (bench/delay-cost.sh) can ask for every wire segment alone instead,
    // as a network card without offload would hand them, to measure the
    // thread per MTU-sized packet.
    let gso = if std::env::var_os(PER_SEGMENT_ENV).is_some() {
        0
    } else {
        NFQA_CFG_F_GSO
    };
    let flags = NFQA_CFG_F_FAIL_OPEN | gso;
    let mut body = nfgenmsg();
    body.extend(attribute(NFQA_CFG_CMD, &command));
    body.extend(attribute(NFQA_CFG_PARAMS, &params));
    body.extend(attribute(
        NFQA_CFG_QUEUE_MAXLEN,
        &QUEUE_MAXLEN.to_be_bytes(),
    ));
    body.extend(attribute(
        NFQA_CFG_MASK,
        &(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO).to_be_bytes(),
    ));
    body.extend(attribute(NFQA_CFG_FLAGS, &flags.to_be_bytes()));
    transact(
        socket,
        &[Message {
            kind: (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG,
            flags: NLM_F_ACK,
            body,
        }],
    )
}

/// struct nfgenmsg for queue 0: AF_UNSPEC, version 0, the queue number.
fn nfgenmsg() -> Vec<u8> {
    let mut header = vec![libc::AF_UNSPEC as u8, 0];
    header.extend_from_slice(&QUEUE_NUM.to_be_bytes());
    header
}

fn set_int(socket: &OwnedFd, level: libc::c_int, name: libc::c_int, value: i32) -> io::Result<()> {
    // SAFETY: a valid int for the length given, for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// What the delaying thread and the rest of sockscope share: the delay it
/// applies (changed live) and what it reports.
#[derive(Debug, Default)]
pub(super) struct DelayGauge {
    /// The one-way delay in force, in ms.
    pub delay_ms: AtomicU32,
    /// Packets the kernel holds for the thread now.
    pub held: AtomicU32,
    /// Packets delayed so far.
    pub delayed: AtomicU64,
    /// Packets that went through undelayed because the thread fell behind
    /// (its socket overflowed and the queue failed open): gaps in the ids.
    pub undelayed: AtomicU64,
    /// The thread has ended: packets pass undelayed from then on.
    pub stopped: AtomicBool,
    /// CPU time the thread has used, in ns (its cost per packet).
    pub cpu_ns: AtomicU64,
}

/// The running delaying thread.
#[derive(Debug)]
pub(super) struct Delayer {
    thread: Option<JoinHandle<()>>,
    /// Written to ask the thread to end: 1 to let its packets go first, 2
    /// to drop its socket at once, as if it had died.
    wake: OwnedFd,
}

/// How the thread is asked to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Accept every packet held, then close the socket.
    Release,
    /// Close the socket as it is: the kernel drops what it held (TCP sends
    /// it again) and lets every later packet through.
    Abandon,
}

impl Delayer {
    /// Starts the thread on a bound queue socket.
    pub(super) fn start(socket: OwnedFd, gauge: Arc<DelayGauge>) -> io::Result<Delayer> {
        // SAFETY: plain eventfd(2); the descriptor is owned at once.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just returned by eventfd(2) and no one else owns it.
        let wake = unsafe { OwnedFd::from_raw_fd(fd) };
        let theirs = wake.try_clone()?;
        let thread = std::thread::Builder::new()
            .name("link-delay".into())
            .spawn(move || {
                // Set however the loop ends, a panic included.
                struct Stopped(Arc<DelayGauge>);
                impl Drop for Stopped {
                    fn drop(&mut self) {
                        self.0.held.store(0, Relaxed);
                        self.0.stopped.store(true, Relaxed);
                    }
                }
                let _stopped = Stopped(gauge.clone());
                run(&socket, &theirs, &gauge);
            })?;
        Ok(Delayer {
            thread: Some(thread),
            wake,
        })
    }

    /// Asks the thread to end and waits for it.
    pub(super) fn stop(&mut self, ending: Ending) {
        let value: u64 = match ending {
            Ending::Release => 1,
            Ending::Abandon => 2,
        };
        // SAFETY: eventfd takes an 8-byte count; `value` lives for the call.
        unsafe { libc::write(self.wake.as_raw_fd(), (&value as *const u64).cast(), 8) };
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Delayer {
    fn drop(&mut self) {
        self.stop(Ending::Release);
    }
}

/// The packets held, by id, with the time each is due: the thread's whole
/// state.
#[derive(Debug, Default)]
struct Schedule {
    /// (due, id), in arrival order, which is also due order.
    held: VecDeque<(u64, u32)>,
    last_due: u64,
    next_id: Option<u32>,
}

impl Schedule {
    /// A packet arrived at `now` (ns) with `delay` (ns) in force: it is due
    /// after the delay, and never before the one ahead of it, so that a
    /// shorter delay cannot let it overtake. Returns how many ids the
    /// kernel skipped before it: packets it could not hand over (the
    /// socket was full) and let through undelayed.
    fn arrive(&mut self, id: u32, now: u64, delay: u64) -> u64 {
        let skipped = self
            .next_id
            .map_or(0, |expected| u64::from(id.wrapping_sub(expected)));
        self.next_id = Some(id.wrapping_add(1));
        self.last_due = (now + delay).max(self.last_due);
        self.held.push_back((self.last_due, id));
        skipped
    }

    /// Takes every packet due by `now`: the newest one's id, whose batch
    /// verdict lets them all go in order.
    fn due_by(&mut self, now: u64) -> Option<u32> {
        let mut newest = None;
        while let Some(&(due, id)) = self.held.front() {
            if due > now {
                break;
            }
            newest = Some(id);
            self.held.pop_front();
        }
        newest
    }

    /// When the oldest packet is due.
    fn next_due(&self) -> Option<u64> {
        self.held.front().map(|&(due, _)| due)
    }

    /// The newest packet held.
    fn newest(&self) -> Option<u32> {
        self.held.back().map(|&(_, id)| id)
    }
}

/// The thread: take packets' ids as they arrive, let them go when due.
fn run(socket: &OwnedFd, wake: &OwnedFd, gauge: &DelayGauge) {
    let start = Instant::now();
    let now_ns = || start.elapsed().as_nanos() as u64;
    let mut schedule = Schedule::default();
    let mut buffers = vec![[0u8; MESSAGE_ROOM]; BATCH];
    loop {
        let timeout = schedule.next_due().map(|due| due.saturating_sub(now_ns()));
        let (readable, woken) = wait(socket, wake, timeout);
        if woken {
            let mut value = 0u64;
            // SAFETY: eventfd reads an 8-byte count into `value`.
            unsafe { libc::read(wake.as_raw_fd(), (&mut value as *mut u64).cast(), 8) };
            if value >= 2 {
                return;
            }
            if let Some(id) = schedule.newest() {
                let _ = accept_up_to(socket, id);
            }
            return;
        }
        if readable {
            // Everything the socket holds now, in as few calls as it takes.
            loop {
                let got = match receive_batch(socket, &mut buffers) {
                    Ok(got) => got,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    // ENOBUFS (set aside by NETLINK_NO_ENOBUFS, but the
                    // kernel may still say so once): keep going.
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
                    Err(_) => return,
                };
                let delay_ns = u64::from(gauge.delay_ms.load(Relaxed)) * 1_000_000;
                let arrived = now_ns();
                for (buffer, len) in buffers.iter().zip(&got) {
                    for id in packet_ids(&buffer[..*len]) {
                        let skipped = schedule.arrive(id, arrived, delay_ns);
                        if skipped > 0 {
                            gauge.undelayed.fetch_add(skipped, Relaxed);
                        }
                        gauge.delayed.fetch_add(1, Relaxed);
                    }
                }
                if got.len() < BATCH {
                    break;
                }
            }
        }
        if let Some(id) = schedule.due_by(now_ns())
            && accept_up_to(socket, id).is_err()
        {
            return;
        }
        gauge.held.store(schedule.held.len() as u32, Relaxed);
        gauge.cpu_ns.store(thread_cpu_ns(), Relaxed);
    }
}

/// This thread's CPU time (a vDSO call, no syscall).
fn thread_cpu_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// Waits for the queue socket or the wake descriptor, at most `timeout`
/// ns (None: without end).
fn wait(socket: &OwnedFd, wake: &OwnedFd, timeout: Option<u64>) -> (bool, bool) {
    let mut fds = [
        libc::pollfd {
            fd: socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let spec = timeout.map(|ns| libc::timespec {
        tv_sec: (ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as libc::c_long,
    });
    let spec_ptr = spec
        .as_ref()
        .map_or(std::ptr::null(), |s| s as *const libc::timespec);
    // SAFETY: two valid pollfds and a timespec (or null) for the call;
    // a null signal mask leaves the mask as it is.
    let ready = unsafe { libc::ppoll(fds.as_mut_ptr(), 2, spec_ptr, std::ptr::null()) };
    if ready <= 0 {
        return (false, false);
    }
    (fds[0].revents != 0, fds[1].revents != 0)
}

/// Up to BATCH datagrams at once, without waiting: each one's length.
fn receive_batch(socket: &OwnedFd, buffers: &mut [[u8; MESSAGE_ROOM]]) -> io::Result<Vec<usize>> {
    let mut iovecs: Vec<libc::iovec> = buffers
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    // SAFETY: mmsghdr is plain old data; all-zero is a valid value.
    let mut headers: Vec<libc::mmsghdr> = (0..iovecs.len())
        .map(|_| unsafe { std::mem::zeroed() })
        .collect();
    for (header, iovec) in headers.iter_mut().zip(iovecs.iter_mut()) {
        header.msg_hdr.msg_iov = iovec;
        header.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: each header points at one iovec over a live buffer of the
    // stated length, for the duration of the call.
    let got = unsafe {
        libc::recvmmsg(
            socket.as_raw_fd(),
            headers.as_mut_ptr(),
            headers.len() as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    if got < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(headers[..got as usize]
        .iter()
        .map(|h| (h.msg_len as usize).min(MESSAGE_ROOM))
        .collect())
}

/// The packet ids in one datagram's NFQNL_MSG_PACKET messages.
fn packet_ids(mut bytes: &[u8]) -> Vec<u32> {
    let mut ids = Vec::new();
    while bytes.len() >= NLMSG_HEADER {
        let len = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let kind = u16::from_ne_bytes([bytes[4], bytes[5]]);
        if len < NLMSG_HEADER || len > bytes.len() {
            // A message cut short by its room still has its header first.
            if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET {
                ids.extend(packet_id(&bytes[NLMSG_HEADER..]));
            }
            break;
        }
        if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET {
            ids.extend(packet_id(&bytes[NLMSG_HEADER..len]));
        }
        bytes = &bytes[len.next_multiple_of(4).min(bytes.len())..];
    }
    ids
}

/// struct nfqnl_msg_packet_hdr's id (big-endian), after the nfgenmsg.
fn packet_id(body: &[u8]) -> Option<u32> {
    attributes(body.get(4..)?)
        .find(|&(kind, _)| kind == NFQA_PACKET_HDR)
        .and_then(|(_, header)| Some(u32::from_be_bytes(header.get(..4)?.try_into().ok()?)))
}

/// Accepts every packet up to `id` (struct nfqnl_msg_verdict_hdr:
/// verdict, id, both big-endian), without asking for an answer.
fn accept_up_to(socket: &OwnedFd, id: u32) -> io::Result<()> {
    let mut verdict = NF_ACCEPT.to_be_bytes().to_vec();
    verdict.extend_from_slice(&id.to_be_bytes());
    let mut body = nfgenmsg();
    body.extend(attribute(NFQA_VERDICT_HDR, &verdict));
    let len = NLMSG_HEADER + body.len();
    let mut datagram = Vec::with_capacity(len);
    datagram.extend_from_slice(&(len as u32).to_ne_bytes());
    datagram.extend_from_slice(&((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH).to_ne_bytes());
    datagram.extend_from_slice(&1u16.to_ne_bytes()); // NLM_F_REQUEST
    datagram.extend_from_slice(&0u32.to_ne_bytes()); // seq
    datagram.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel's
    datagram.extend_from_slice(&body);
    loop {
        // SAFETY: `datagram` is valid for its length for the duration of send.
        let sent = unsafe {
            libc::send(
                socket.as_raw_fd(),
                datagram.as_ptr().cast(),
                datagram.len(),
                0,
            )
        };
        if sent >= 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet_message(id: u32) -> Vec<u8> {
        let mut header = id.to_be_bytes().to_vec();
        header.extend_from_slice(&0x0800u16.to_be_bytes());
        header.push(0); // hook
        let mut body = nfgenmsg();
        body.extend(attribute(NFQA_PACKET_HDR, &header));
        let len = NLMSG_HEADER + body.len();
        let mut message = (len as u32).to_ne_bytes().to_vec();
        message.extend_from_slice(&((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET).to_ne_bytes());
        message.extend_from_slice(&[0u8; 10]);
        message.extend(body);
        message
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn a_shorter_delay_never_lets_a_packet_overtake_the_one_before() {
        let mut schedule = Schedule::default();
        schedule.arrive(1, 0, 50 * MS);
        schedule.arrive(2, MS, 50 * MS);
        // The delay drops to 5 ms: the next packets wait for those ahead.
        schedule.arrive(3, 2 * MS, 5 * MS);
        schedule.arrive(4, 60 * MS, 5 * MS);
        let dues: Vec<u64> = schedule.held.iter().map(|&(due, _)| due).collect();
        assert_eq!(dues, [50 * MS, 51 * MS, 51 * MS, 65 * MS]);
        assert_eq!(schedule.due_by(49 * MS), None);
        assert_eq!(schedule.due_by(50 * MS), Some(1));
        // One verdict lets 2 and 3 go together, in order.
        assert_eq!(schedule.due_by(64 * MS), Some(3));
        assert_eq!(schedule.next_due(), Some(65 * MS));
        assert_eq!(schedule.newest(), Some(4));
    }

    #[test]
    fn ids_the_kernel_skipped_are_counted_as_undelayed_even_across_the_wrap() {
        let mut schedule = Schedule::default();
        assert_eq!(schedule.arrive(u32::MAX - 1, 0, MS), 0);
        assert_eq!(schedule.arrive(u32::MAX, 0, MS), 0);
        assert_eq!(schedule.arrive(3, 0, MS), 3); // 0, 1 and 2 passed by
        assert_eq!(schedule.arrive(4, 0, MS), 0);
    }

    #[test]
    fn packet_ids_are_read_from_the_packet_header_in_network_order() {
        let mut datagram = packet_message(7);
        datagram.extend(packet_message(0x0102_0304));
        assert_eq!(packet_ids(&datagram), vec![7, 0x0102_0304]);
        // Cut short: the header, first, is still read.
        let cut = packet_message(9);
        assert_eq!(packet_ids(&cut[..NLMSG_HEADER + 16]), vec![9]);
        assert!(packet_ids(&[0u8; 8]).is_empty());
    }
}
