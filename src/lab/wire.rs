//! The wire: every packet of the lab's connection on its private link,
//! captured inside the link's namespace with an AF_PACKET socket the helper
//! made there (outside a namespace of its own an unprivileged process may
//! not open one).
//!
//! A classic BPF filter on the socket keeps only the IPv4 TCP frames that
//! arrive at the namespace's `lo` (each frame passes `lo` twice, once going
//! out and once coming in; the outgoing copy is dropped, as tcpdump does on
//! loopback) and truncates them to their headers, so no payload is copied.
//! A thread of its own reads them with their kernel timestamps and sends
//! them in batches, like the sampler's.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::time::Duration;

use crossbeam_channel::Sender;

/// Bytes kept of each frame: Ethernet (14), the longest IPv4 header (60)
/// and the longest TCP header (60).
pub const SNAPLEN: u32 = 14 + 60 + 60;
/// How long the capture thread sleeps after reading what the ring held.
const GATHER: Duration = Duration::from_millis(2);
/// How long a batch collects before it is sent.
const BATCH_INTERVAL: Duration = Duration::from_millis(20);
/// A new network namespace's loopback is always interface 1.
const LO_INDEX: i32 = 1;

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WirePacket {
    /// On the session's clock; negative before the session's clock started
    /// (the handshake, made while the session was being set up).
    pub t_ns: i64,
    /// The kernel's timestamp, ns since the Unix epoch (for pcap files).
    pub unix_ns: u64,
    /// The frame's full length.
    pub wire_len: u32,
    /// Its headers (at most SNAPLEN bytes).
    pub bytes: Vec<u8>,
    /// For a super-segment (lo keeps segmentation offload on and passes up
    /// to 64 KiB whole), the payload size the kernel cuts it into segments
    /// at for a wire, and counts it by (tcpi_segs_out); 0 for a frame that
    /// is one segment.
    pub gso_size: u16,
}

/// TCP's flags, as in the header's 13th byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;

    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }
}

/// A captured frame's TCP segment, as the headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub t_ns: i64,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// The window field as sent (scaled by the sender's window scale,
    /// except in SYNs).
    pub window: u16,
    /// The window scale a SYN offers.
    pub window_scale: Option<u8>,
    pub payload_len: u32,
}

impl WirePacket {
    /// The TCP segment in the frame; None for anything else.
    pub fn segment(&self) -> Option<Segment> {
        let b = &self.bytes;
        // Ethernet: IPv4 only.
        if b.len() < 14 + 20 || u16::from_be_bytes([b[12], b[13]]) != 0x0800 {
            return None;
        }
        let ip = &b[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        if ip[0] >> 4 != 4 || ip[9] != 6 || ihl < 20 || ip.len() < ihl + 20 {
            return None;
        }
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let tcp = &ip[ihl..];
        let data_offset = usize::from(tcp[12] >> 4) * 4;
        if data_offset < 20 {
            return None;
        }
        let flags = TcpFlags(tcp[13]);
        let window_scale = if flags.has(TcpFlags::SYN) && tcp.len() >= data_offset {
            window_scale_option(&tcp[20..data_offset])
        } else {
            None
        };
        Some(Segment {
            t_ns: self.t_ns,
            src_port: u16::from_be_bytes([tcp[0], tcp[1]]),
            dst_port: u16::from_be_bytes([tcp[2], tcp[3]]),
            seq: u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]),
            ack: u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]),
            flags,
            window: u16::from_be_bytes([tcp[14], tcp[15]]),
            window_scale,
            payload_len: total.saturating_sub(ihl + data_offset) as u32,
        })
    }
}

impl WirePacket {
    /// The segments a super-segment stands for, cut at `gso_size` bytes of
    /// payload as the kernel's segmentation (skb_segment) cuts it before a
    /// wire, all at the frame's time: sequence numbers step by the size,
    /// IP ids by one, FIN and PSH stay on the last and CWR on the first,
    /// and each IP header gets its length and checksum. A frame that is
    /// one segment already (gso_size 0, or no more payload) is itself.
    pub fn segments(&self) -> Vec<WirePacket> {
        let mut out = Vec::new();
        self.each_segment(|bytes, wire_len| {
            out.push(WirePacket {
                t_ns: self.t_ns,
                unix_ns: self.unix_ns,
                wire_len,
                bytes: bytes.to_vec(),
                gso_size: 0,
            });
        });
        out
    }

    /// Hands each segment's headers and full length to `each`, made in
    /// one buffer (no copy of the frame a segment): `segments` without
    /// the allocations, for a pcap written at full speed.
    pub fn each_segment(&self, mut each: impl FnMut(&[u8], u32)) {
        let b = &self.bytes;
        let size = u32::from(self.gso_size);
        let Some(segment) = self.segment().filter(|s| size > 0 && s.payload_len > size) else {
            each(b, self.wire_len);
            return;
        };
        let ihl = usize::from(b[14] & 0x0f) * 4;
        let tcp = 14 + ihl;
        let headers = ihl + usize::from(b[tcp + 12] >> 4) * 4;
        let count = segment.payload_len.div_ceil(size);
        let id = u16::from_be_bytes([b[18], b[19]]);
        let mut bytes = self.bytes.clone();
        for i in 0..count {
            let payload = size.min(segment.payload_len - i * size);
            let total = headers as u32 + payload;
            bytes[16..18].copy_from_slice(&(total as u16).to_be_bytes());
            bytes[18..20].copy_from_slice(&id.wrapping_add(i as u16).to_be_bytes());
            let seq = segment.seq.wrapping_add(i * size);
            bytes[tcp + 4..tcp + 8].copy_from_slice(&seq.to_be_bytes());
            let mut flags = segment.flags.0;
            if i + 1 < count {
                flags &= !(TcpFlags::FIN | TcpFlags::PSH);
            }
            if i > 0 {
                flags &= !0x80; // CWR
            }
            bytes[tcp + 13] = flags;
            bytes[24..26].copy_from_slice(&[0, 0]);
            let checksum = ipv4_checksum(&bytes[14..14 + ihl]);
            bytes[24..26].copy_from_slice(&checksum.to_be_bytes());
            each(&bytes, 14 + total);
        }
    }

    /// How many segments the frame stands for.
    pub fn segment_count(&self) -> u64 {
        let size = u32::from(self.gso_size);
        match self.segment() {
            Some(s) if size > 0 && s.payload_len > size => u64::from(s.payload_len.div_ceil(size)),
            _ => 1,
        }
    }

    /// The segments a super-segment stands for, as `segments` cuts it, read
    /// as headers only (no frame is copied): what the wire log takes.
    pub fn segment_headers(&self) -> impl Iterator<Item = Segment> {
        let first = self.segment();
        let size = u32::from(self.gso_size);
        let count = first.map_or(0, |s| {
            if size > 0 && s.payload_len > size {
                s.payload_len.div_ceil(size)
            } else {
                1
            }
        });
        (0..count).filter_map(move |i| {
            let whole = first?;
            if count == 1 {
                return Some(whole);
            }
            let mut flags = whole.flags.0;
            if i + 1 < count {
                flags &= !(TcpFlags::FIN | TcpFlags::PSH);
            }
            if i > 0 {
                flags &= !0x80; // CWR
            }
            Some(Segment {
                seq: whole.seq.wrapping_add(i * size),
                flags: TcpFlags(flags),
                payload_len: size.min(whole.payload_len - i * size),
                ..whole
            })
        })
    }
}

/// The IPv4 header checksum (RFC 791) of `header`, its checksum field 0.
fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The window scale option (kind 3) among TCP options, if there.
fn window_scale_option(mut options: &[u8]) -> Option<u8> {
    while let [kind, rest @ ..] = options {
        match kind {
            0 => return None,
            1 => options = rest,
            _ => {
                let len = usize::from(*rest.first()?);
                if len < 2 || len > options.len() {
                    return None;
                }
                if *kind == 3 && len == 3 {
                    return Some(options[2]);
                }
                options = &options[len..];
            }
        }
    }
    None
}

/// What the capture thread sends.
#[derive(Debug, Clone)]
pub struct PacketBatch {
    pub session_id: u64,
    pub packets: Vec<WirePacket>,
}

/// The capture's own counts, read by anyone.
#[derive(Debug, Default)]
pub struct CaptureCounters {
    /// Segments read from the socket (a super-segment counts as the
    /// segments it stands for).
    pub captured: AtomicU64,
    /// Frames read from the socket: segments, and super-segments whole.
    pub frames: AtomicU64,
    /// Frames the socket dropped for want of room (PACKET_STATISTICS).
    pub dropped: AtomicU64,
}

/// Turns a link's (unbound) packet socket into the capture: the filter, a
/// ring of frames shared with the kernel (PACKET_MMAP, TPACKET_V2: the
/// kernel writes each frame's headers straight into it, no system call a
/// frame), and then the binding to lo, from which on it receives. Call
/// before the connection is made, to catch its handshake.
pub fn arm(socket: OwnedFd) -> io::Result<Tap> {
    attach_filter(&socket)?;
    let ring = Ring::new(&socket)?;
    // SAFETY: sockaddr_ll is plain old data; all-zero is valid, and bind
    // reads only its size.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    address.sll_ifindex = LO_INDEX;
    // SAFETY: `address` is a valid sockaddr_ll for the call's duration.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&address as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Tap { socket, ring })
}

/// An armed capture: the packet socket and its ring.
#[derive(Debug)]
pub struct Tap {
    socket: OwnedFd,
    ring: Ring,
}

impl Tap {
    /// Waits up to `ms` for a frame; whether one is there.
    fn wait(&self, ms: i32) -> io::Result<bool> {
        if self.ring.ready() {
            return Ok(true);
        }
        let mut poll = libc::pollfd {
            fd: self.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the call's duration.
        let ready = unsafe { libc::poll(&mut poll, 1, ms) };
        if ready < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            };
        }
        Ok(ready > 0 || self.ring.ready())
    }

    /// The next frame in the ring, if the kernel has filled it; `offset`
    /// (ns) takes the session's clock from the kernel's.
    fn next(&mut self, offset: i128) -> Option<WirePacket> {
        let (unix_ns, bytes, gso_size) = self.ring.take()?;
        // The IPv4 total length gives the frame's full length, which the
        // filter's cut took away.
        let wire_len = if bytes.len() >= 18 {
            14 + u32::from(u16::from_be_bytes([bytes[16], bytes[17]]))
        } else {
            bytes.len() as u32
        };
        Some(WirePacket {
            t_ns: (i128::from(unix_ns) - offset) as i64,
            unix_ns,
            wire_len,
            bytes,
            gso_size,
        })
    }

    /// Every frame captured so far, without waiting, timed from the Unix
    /// epoch.
    pub fn read_queued(&mut self) -> Vec<WirePacket> {
        std::iter::from_fn(|| self.next(0)).collect()
    }

    /// Frames the capture dropped since the last call, the ring being full
    /// (the kernel resets its counts when they are read).
    fn dropped_since(&self) -> u64 {
        dropped_since(&self.socket)
    }
}

// From include/uapi/linux/if_packet.h.
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_VNET_HDR: libc::c_int = 15;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// struct virtio_net_hdr, which the kernel writes before each frame once
/// PACKET_VNET_HDR is on: its gso_type and gso_size say how a
/// super-segment is cut into segments.
const VNET_HDR_LEN: usize = 10;
const VIRTIO_NET_HDR_GSO_TCPV4: u8 = 1;
const PACKET_VERSION: libc::c_int = 10;
const TPACKET_V2: libc::c_int = 1;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
/// Each frame: struct tpacket2_hdr, the link address, then the headers the
/// filter kept (at most SNAPLEN), in a power of two.
const FRAME_SIZE: usize = 256;
const BLOCK_SIZE: usize = 1 << 16;
/// 8 MiB: 32,768 frames, a burst at full speed or seconds of a slow link
/// while the thread sleeps.
const BLOCKS: usize = 128;

/// struct tpacket2_hdr.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct FrameHeader {
    status: u32,
    len: u32,
    snaplen: u32,
    mac: u16,
    net: u16,
    sec: u32,
    nsec: u32,
    vlan_tci: u16,
    vlan_tpid: u16,
    padding: [u8; 4],
}

/// The kernel's ring of frames, mapped into this process.
#[derive(Debug)]
struct Ring {
    base: std::ptr::NonNull<u8>,
    frames: usize,
    /// The next frame to read.
    next: usize,
}

// SAFETY: the mapping belongs to the ring alone; each frame passes between
// the kernel and the one reader through its status word.
unsafe impl Send for Ring {}

impl Ring {
    fn new(socket: &OwnedFd) -> io::Result<Ring> {
        let set = |option: libc::c_int, value: *const libc::c_void, len: usize| {
            // SAFETY: `value` points at `len` readable bytes for the call.
            let rc = unsafe {
                libc::setsockopt(
                    socket.as_raw_fd(),
                    libc::SOL_PACKET,
                    option,
                    value,
                    len as libc::socklen_t,
                )
            };
            if rc < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        };
        let version = TPACKET_V2;
        set(
            PACKET_VERSION,
            (&raw const version).cast(),
            std::mem::size_of::<libc::c_int>(),
        )?;
        // Before the ring: each frame then comes with its segmentation.
        let on: libc::c_int = 1;
        set(
            PACKET_VNET_HDR,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>(),
        )?;
        // lo's outgoing copies are not wanted (each frame comes back in as
        // it arrives): with this the kernel does not even clone them for
        // the filter to drop (bench/capture-cost.sh, capture / off, 9
        // rounds: median 0.879 before, 0.929 after). Linux 4.20 and later;
        // before, the filter drops them.
        let _ = set(
            PACKET_IGNORE_OUTGOING,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>(),
        );
        let frames = BLOCK_SIZE / FRAME_SIZE * BLOCKS;
        // struct tpacket_req: block size, blocks, frame size, frames.
        let request: [u32; 4] = [
            BLOCK_SIZE as u32,
            BLOCKS as u32,
            FRAME_SIZE as u32,
            frames as u32,
        ];
        set(
            PACKET_RX_RING,
            request.as_ptr().cast(),
            std::mem::size_of_val(&request),
        )?;
        // SAFETY: a fresh shared mapping of the ring the kernel just made
        // for this socket, of exactly its size.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                BLOCK_SIZE * BLOCKS,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                socket.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = std::ptr::NonNull::new(base.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap gave no address"))?;
        Ok(Ring {
            base,
            frames,
            next: 0,
        })
    }

    fn status(&self, frame: usize) -> &AtomicU32 {
        // SAFETY: `frame` < frames, so it lies inside the mapping, which
        // lives as long as `self`; its first word is the status, aligned
        // (frames start at multiples of 256).
        unsafe {
            &*self
                .base
                .as_ptr()
                .add(frame * FRAME_SIZE)
                .cast::<AtomicU32>()
        }
    }

    /// Whether the next frame is the reader's.
    fn ready(&self) -> bool {
        self.status(self.next).load(Acquire) & TP_STATUS_USER != 0
    }

    /// The next frame's timestamp (ns since the Unix epoch), bytes and TCP
    /// segment size if the kernel left it to be segmented (0: a segment
    /// already), the frame handed back to the kernel; None until the kernel
    /// fills it.
    fn take(&mut self) -> Option<(u64, Vec<u8>, u16)> {
        if !self.ready() {
            return None;
        }
        let frame = self.next;
        // SAFETY: the status says the kernel is done with this frame, and
        // the Acquire load orders these reads after its writes; the header
        // is at the frame's start and the bytes read stay inside it.
        let (header, bytes, vnet) = unsafe {
            let start = self.base.as_ptr().add(frame * FRAME_SIZE);
            let header = std::ptr::read_unaligned(start.cast::<FrameHeader>());
            let offset = usize::from(header.mac).min(FRAME_SIZE);
            let len = (header.snaplen as usize).min(FRAME_SIZE - offset);
            let bytes = std::slice::from_raw_parts(start.add(offset), len).to_vec();
            let mut vnet = [0u8; VNET_HDR_LEN];
            if offset >= size_of::<FrameHeader>() + VNET_HDR_LEN {
                std::ptr::copy_nonoverlapping(
                    start.add(offset - VNET_HDR_LEN),
                    vnet.as_mut_ptr(),
                    VNET_HDR_LEN,
                );
            }
            (header, bytes, vnet)
        };
        // gso_size, in the host's order (a legacy virtio header).
        let gso_size = if vnet[1] & 0x7f == VIRTIO_NET_HDR_GSO_TCPV4 {
            u16::from_ne_bytes([vnet[4], vnet[5]])
        } else {
            0
        };
        let unix_ns = u64::from(header.sec) * 1_000_000_000 + u64::from(header.nsec);
        self.status(frame).store(TP_STATUS_KERNEL, Release);
        self.next = (frame + 1) % self.frames;
        Some((unix_ns, bytes, gso_size))
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, of that size, unmapped once.
        unsafe { libc::munmap(self.base.as_ptr().cast(), BLOCK_SIZE * BLOCKS) };
    }
}

/// The classic BPF program: incoming IPv4 TCP frames, cut after their TCP
/// header (at most SNAPLEN).
fn filter_program() -> [libc::sock_filter; 14] {
    const LD_W_ABS: u16 = 0x20;
    const LD_H_ABS: u16 = 0x28;
    const LD_B_ABS: u16 = 0x30;
    const LD_B_IND: u16 = 0x50;
    const LDX_B_MSH: u16 = 0xb1;
    const AND_K: u16 = 0x54;
    const RSH_K: u16 = 0x74;
    const ADD_X: u16 = 0x0c;
    const ADD_K: u16 = 0x04;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    const RET_A: u16 = 0x16;
    // SKF_AD_OFF + SKF_AD_PKTTYPE: the packet's type, as an offset.
    const PKTTYPE: u32 = (-0x1000i32) as u32 + 4;
    const PACKET_OUTGOING: u32 = 4;
    let op = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    [
        op(LD_W_ABS, 0, 0, PKTTYPE),
        op(JEQ_K, 11, 0, PACKET_OUTGOING), // the outgoing copy: drop
        op(LD_H_ABS, 0, 0, 12),            // EtherType
        op(JEQ_K, 0, 9, 0x0800),           // not IPv4: drop
        op(LD_B_ABS, 0, 0, 14 + 9),        // IP protocol
        op(JEQ_K, 0, 7, 6),                // not TCP: drop
        // Keep the headers and not a byte of payload: Ethernet, the IP
        // header (X = its length) and the TCP header with its options.
        op(LDX_B_MSH, 0, 0, 14),
        op(LD_B_IND, 0, 0, 14 + 12), // TCP data offset, high nibble
        op(AND_K, 0, 0, 0xf0),
        op(RSH_K, 0, 0, 2), // in bytes
        op(ADD_X, 0, 0, 0),
        op(ADD_K, 0, 0, 14),
        op(RET_A, 0, 0, 0),
        op(RET_K, 0, 0, 0),
    ]
}

fn attach_filter(socket: &OwnedFd) -> io::Result<()> {
    let mut program = filter_program();
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `program`, alive for the call; the kernel
    // copies the program.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Frames the socket dropped since the last call (the kernel resets its
/// counts when they are read).
fn dropped_since(socket: &OwnedFd) -> u64 {
    // struct tpacket_stats: tp_packets, tp_drops.
    let mut stats = [0u32; 2];
    let mut len = std::mem::size_of_val(&stats) as libc::socklen_t;
    // SAFETY: `stats` and `len` are valid for the call; the kernel writes
    // at most `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            stats.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc < 0 { 0 } else { u64::from(stats[1]) }
}

/// The capture thread.
pub(crate) struct Capturer {
    pub session_id: u64,
    pub tap: Tap,
    /// The clock's start: packets are timed from it.
    pub epoch: std::time::Instant,
    pub counters: Arc<CaptureCounters>,
    pub stop: Arc<AtomicBool>,
    pub out: Sender<PacketBatch>,
}

impl Capturer {
    /// Reads until told to stop, then drains what is queued. Returns the
    /// error that ended it early, if one did.
    pub fn run(mut self) -> Option<io::Error> {
        // The session's clock against the kernel's timestamps (the
        // realtime clock): measured once, at the start.
        let now_unix = unix_now_ns();
        let offset = now_unix as i128 - self.epoch.elapsed().as_nanos() as i128;
        let mut batch = Vec::new();
        let mut last_send = std::time::Instant::now();
        let mut failed = None;
        loop {
            let stopping = self.stop.load(Relaxed);
            match self.tap.wait(if stopping { 0 } else { 10 }) {
                Ok(true) => {
                    while let Some(packet) = self.tap.next(offset) {
                        batch.push(packet);
                    }
                    // Let frames gather in the ring (their times are the
                    // kernel's): at full speed a wake-up for each frame
                    // cost a third of a core; the ring holds 32,768.
                    if !stopping {
                        std::thread::sleep(GATHER);
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
            // The drops are read with each batch (one getsockopt), not on
            // every wake-up.
            if stopping || last_send.elapsed() >= BATCH_INTERVAL {
                self.send(&mut batch);
                self.counters
                    .dropped
                    .fetch_add(self.tap.dropped_since(), Relaxed);
                last_send = std::time::Instant::now();
            }
            if stopping {
                break;
            }
        }
        self.send(&mut batch);
        failed
    }

    fn send(&self, batch: &mut Vec<WirePacket>) {
        if batch.is_empty() {
            return;
        }
        let segments: u64 = batch.iter().map(WirePacket::segment_count).sum();
        self.counters.captured.fetch_add(segments, Relaxed);
        self.counters.frames.fetch_add(batch.len() as u64, Relaxed);
        let _ = self.out.send(PacketBatch {
            session_id: self.session_id,
            packets: std::mem::take(batch),
        });
    }
}

fn unix_now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet + IPv4 + TCP frame's headers.
    fn frame(flags: u8, payload: u16, options: &[u8]) -> WirePacket {
        let tcp_len = 20 + options.len();
        let mut b = vec![0u8; 12];
        b.extend_from_slice(&0x0800u16.to_be_bytes());
        let total = 20 + tcp_len as u16 + payload;
        b.extend_from_slice(&[0x45, 0]);
        b.extend_from_slice(&total.to_be_bytes());
        b.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        b.extend_from_slice(&40000u16.to_be_bytes());
        b.extend_from_slice(&5201u16.to_be_bytes());
        b.extend_from_slice(&1000u32.to_be_bytes());
        b.extend_from_slice(&2000u32.to_be_bytes());
        b.push(((tcp_len / 4) as u8) << 4);
        b.push(flags);
        b.extend_from_slice(&512u16.to_be_bytes());
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(options);
        WirePacket {
            t_ns: 5,
            unix_ns: 5,
            wire_len: 14 + u32::from(total),
            bytes: b,
            gso_size: 0,
        }
    }

    #[test]
    fn a_super_segment_is_cut_into_its_segments_as_for_a_wire() {
        let whole = WirePacket {
            gso_size: 1448,
            ..frame(TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN, 4000, &[])
        };
        let cut = whole.segments();
        let parsed: Vec<Segment> = cut.iter().map(|p| p.segment().unwrap()).collect();
        // 1448 + 1448 + 1104: sequence numbers follow on, PSH and FIN last.
        assert_eq!(
            parsed
                .iter()
                .map(|s| (s.seq, s.payload_len))
                .collect::<Vec<_>>(),
            [(1000, 1448), (2448, 1448), (3896, 1104)]
        );
        assert!(!parsed[0].flags.has(TcpFlags::FIN) && !parsed[1].flags.has(TcpFlags::PSH));
        assert!(parsed[2].flags.has(TcpFlags::FIN) && parsed[2].flags.has(TcpFlags::PSH));
        assert!(parsed.iter().all(|s| s.flags.has(TcpFlags::ACK)));
        // Each IP header has its length, and a checksum that verifies.
        for packet in &cut {
            assert_eq!(
                packet.wire_len,
                14 + 40 + packet.segment().unwrap().payload_len
            );
            assert_eq!(ipv4_checksum(&packet.bytes[14..34]), 0);
        }
        // The headers alone read the same, without copying frames.
        assert_eq!(whole.segment_headers().collect::<Vec<_>>(), parsed);
        // A frame that is one segment is itself.
        let one = frame(TcpFlags::ACK, 1000, &[]);
        assert_eq!(one.segments(), std::slice::from_ref(&one));
        assert_eq!(one.segment_headers().count(), 1);
    }

    #[test]
    fn a_segment_reads_its_header_and_its_payload_length() {
        let segment = frame(TcpFlags::ACK | TcpFlags::PSH, 1448, &[])
            .segment()
            .unwrap();
        assert_eq!((segment.src_port, segment.dst_port), (40000, 5201));
        assert_eq!(
            (segment.seq, segment.ack, segment.window),
            (1000, 2000, 512)
        );
        assert_eq!(segment.payload_len, 1448);
        assert!(segment.flags.has(TcpFlags::ACK) && !segment.flags.has(TcpFlags::SYN));
        assert_eq!(segment.window_scale, None);
    }

    #[test]
    fn a_syn_offers_its_window_scale() {
        // MSS 1460, NOP, window scale 7, NOP, NOP, SACK permitted... as
        // Linux sends them.
        let options = [2, 4, 5, 180, 1, 3, 3, 7, 4, 2, 1, 1];
        let syn = frame(TcpFlags::SYN, 0, &options).segment().unwrap();
        assert_eq!(syn.window_scale, Some(7));
        assert_eq!(syn.payload_len, 0);
    }

    #[test]
    fn anything_but_ipv4_tcp_is_no_segment() {
        let mut arp = frame(TcpFlags::ACK, 0, &[]);
        arp.bytes[12] = 0x08;
        arp.bytes[13] = 0x06;
        assert_eq!(arp.segment(), None);
        let mut udp = frame(TcpFlags::ACK, 0, &[]);
        udp.bytes[14 + 9] = 17;
        assert_eq!(udp.segment(), None);
    }

    #[test]
    fn the_filter_jumps_land_on_its_drop() {
        let program = filter_program();
        let drop = program.len() - 1;
        assert_eq!((program[drop].code, program[drop].k), (0x06, 0));
        for (i, op) in program.iter().enumerate() {
            if op.code == 0x15 {
                for jump in [op.jt, op.jf] {
                    let to = i + 1 + usize::from(jump);
                    assert!(to < program.len(), "{i} jumps past the end");
                }
                assert_eq!(i + 1 + usize::from(op.jt.max(op.jf)), drop, "op {i}");
            }
        }
    }
}
