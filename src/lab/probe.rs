//! The one seam to the kernel's view of a TCP socket, and the only `unsafe`
//! code in sockscope: three queue ioctls, getsockopt(TCP_INFO) and
//! getsockopt(SO_MEMINFO).

#![allow(unsafe_code)]

use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsFd, AsRawFd};

// FIONREAD (= SIOCINQ): bytes received and not yet read by the application.
nix::ioctl_read_bad!(ioctl_inq, libc::FIONREAD, libc::c_int);
// TIOCOUTQ (= SIOCOUTQ): write_seq - snd_una, i.e. unsent *plus* sent but
// not yet acknowledged, although tcp(7) calls it "unsent".
nix::ioctl_read_bad!(ioctl_outq, libc::TIOCOUTQ, libc::c_int);
// SIOCOUTQNSD: write_seq - snd_nxt, unsent only.
nix::ioctl_read_bad!(ioctl_outq_nsd, libc::SIOCOUTQNSD, libc::c_int);

fn read_int_ioctl(
    fd: impl AsFd,
    call: unsafe fn(libc::c_int, *mut libc::c_int) -> nix::Result<libc::c_int>,
) -> io::Result<u32> {
    let mut value: libc::c_int = 0;
    // SAFETY: the fd is borrowed for the call and `value` is a valid c_int
    // that the kernel writes (these three ioctls write one int).
    unsafe { call(fd.as_fd().as_raw_fd(), &mut value) }.map_err(io::Error::from)?;
    Ok(value.max(0) as u32)
}

/// Bytes waiting in the receive queue (FIONREAD).
pub fn recv_queue(fd: impl AsFd) -> io::Result<u32> {
    read_int_ioctl(fd, ioctl_inq)
}

/// Bytes in the send queue: unsent plus in flight (SIOCOUTQ).
pub fn send_queue(fd: impl AsFd) -> io::Result<u32> {
    read_int_ioctl(fd, ioctl_outq)
}

/// Bytes in the send queue not yet sent (SIOCOUTQNSD).
pub fn unsent(fd: impl AsFd) -> io::Result<u32> {
    read_int_ioctl(fd, ioctl_outq_nsd)
}

/// TCP states as numbered in the kernel's `include/net/tcp_states.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum TcpState {
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynRecv = 12,
    #[default]
    Unknown = 0,
}

impl TcpState {
    /// The states a user picks from (a connections filter), as ss and
    /// netstat name them, the common ones first.
    pub const NAMED: [TcpState; 11] = [
        TcpState::Established,
        TcpState::Listen,
        TcpState::TimeWait,
        TcpState::CloseWait,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::LastAck,
        TcpState::Closing,
        TcpState::Close,
    ];

    /// The state a user names as ss does ("time-wait") or netstat does
    /// ("TIME_WAIT"), in any case.
    pub fn from_user(text: &str) -> Option<Self> {
        let wanted = text.trim().to_ascii_uppercase().replace('-', "_");
        Self::NAMED.into_iter().find(|state| state.name() == wanted)
    }

    /// ss's spelling: "time-wait".
    pub fn ss_name(self) -> String {
        self.name().to_ascii_lowercase().replace('_', "-")
    }

    /// The state `name()` calls `name` (a recording's column).
    pub fn from_name(name: &str) -> Option<Self> {
        (0..=12u8)
            .map(TcpState::from_kernel)
            .find(|state| state.name() == name)
    }

    pub fn from_kernel(value: u8) -> Self {
        use TcpState::*;
        match value {
            1 => Established,
            2 => SynSent,
            3 => SynRecv,
            4 => FinWait1,
            5 => FinWait2,
            6 => TimeWait,
            7 => Close,
            8 => CloseWait,
            9 => LastAck,
            10 => Listen,
            11 => Closing,
            12 => NewSynRecv,
            _ => Unknown,
        }
    }

    /// The name netstat and ss print.
    pub fn name(self) -> &'static str {
        use TcpState::*;
        match self {
            Established => "ESTABLISHED",
            SynSent => "SYN_SENT",
            SynRecv => "SYN_RECV",
            FinWait1 => "FIN_WAIT1",
            FinWait2 => "FIN_WAIT2",
            TimeWait => "TIME_WAIT",
            Close => "CLOSE",
            CloseWait => "CLOSE_WAIT",
            LastAck => "LAST_ACK",
            Listen => "LISTEN",
            Closing => "CLOSING",
            NewSynRecv => "NEW_SYN_RECV",
            Unknown => "UNKNOWN",
        }
    }
}

/// The TCP_INFO fields sockscope uses. Fields the running kernel did not
/// fill (it returned a shorter struct) are None.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpInfo {
    pub state: TcpState,
    /// Unanswered zero-window probes (Linux sends zero-length probes).
    pub probes: u8,
    pub snd_mss: u32,
    /// Congestion window in segments (x snd_mss for bytes).
    pub snd_cwnd: u32,
    /// Smoothed RTT in microseconds.
    pub rtt_us: u32,
    /// Receive-side autotuning estimate, not free space.
    pub rcv_space: u32,
    /// The receiver's estimate of the peer's segment size; Linux keeps its
    /// window at 0 until at least this much room is free (SWS avoidance).
    pub rcv_mss: u32,
    /// Unsent bytes (= SIOCOUTQNSD), Linux >= 4.6.
    pub notsent_bytes: Option<u32>,
    /// Cumulative microseconds busy sending / held back by the peer's
    /// window / held back by our own send buffer, Linux >= 4.10.
    pub busy_us: Option<u64>,
    pub rwnd_limited_us: Option<u64>,
    pub sndbuf_limited_us: Option<u64>,
    /// The peer's advertised window as this sender sees it; 0 = zero
    /// window. Linux >= 5.4.
    pub snd_wnd: Option<u32>,
    /// The window this socket advertises, Linux >= 6.2.
    pub rcv_wnd: Option<u32>,
    /// Segments retransmitted over the connection's life.
    pub total_retrans: u32,
    /// The retransmission timeout now, in microseconds.
    pub rto_us: u32,
    /// Segments sent and received over the connection's life, Linux >= 4.2.
    pub segs_out: u32,
    pub segs_in: u32,
    /// On a listening socket, the accept queue: connections waiting for
    /// accept() (tcpi_unacked) and the backlog listen() set (tcpi_sacked).
    pub accept_queue: (u32, u32),
    /// Slow-start threshold in segments (a huge number until the first
    /// loss ends slow start).
    pub snd_ssthresh: u32,
    /// Bytes the peer acknowledged and bytes received in order, over the
    /// connection's life (each counts the FIN's one sequence number once
    /// it is acknowledged or received), Linux >= 4.1.
    pub bytes_acked: Option<u64>,
    pub bytes_received: Option<u64>,
    /// How many bytes of `struct tcp_info` the kernel filled.
    pub filled_len: usize,
}

/// getsockopt(IPPROTO_TCP, TCP_INFO), checking how much the kernel filled:
/// older kernels return a shorter struct.
pub fn tcp_info(fd: impl AsFd) -> io::Result<TcpInfo> {
    // SAFETY: tcp_info is plain old data; all-zero is a valid value.
    let mut raw: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `raw` is valid for `len` bytes and outlives the call; the
    // kernel writes at most `len` bytes and stores the count in `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_fd().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut raw).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(TcpInfo::from_raw(&raw, len as usize))
}

impl TcpInfo {
    /// From a `struct tcp_info` as the kernel sent it in a sock_diag
    /// answer (INET_DIAG_INFO): as long as the kernel's own, which may be
    /// shorter or longer than libc's.
    pub fn from_bytes(bytes: &[u8]) -> TcpInfo {
        // SAFETY: tcp_info is plain old data; all-zero is a valid value.
        let mut raw: libc::tcp_info = unsafe { std::mem::zeroed() };
        let filled = bytes.len().min(size_of::<libc::tcp_info>());
        // SAFETY: `raw` is valid for size_of::<tcp_info>() >= `filled`
        // bytes, `bytes` for `filled`, and the two do not overlap; every
        // bit pattern is a valid tcp_info.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), (&raw mut raw).cast::<u8>(), filled);
        }
        TcpInfo::from_raw(&raw, filled)
    }

    /// The fields of `raw` of which the kernel filled the first `filled`
    /// bytes.
    fn from_raw(raw: &libc::tcp_info, filled: usize) -> TcpInfo {
        let has = |end: usize| filled >= end;
        macro_rules! field {
            ($name:ident) => {
                has(offset_of!(libc::tcp_info, $name) + size_of_val(&raw.$name))
                    .then_some(raw.$name)
            };
        }
        TcpInfo {
            state: TcpState::from_kernel(raw.tcpi_state),
            probes: raw.tcpi_probes,
            snd_mss: field!(tcpi_snd_mss).unwrap_or(0),
            snd_cwnd: field!(tcpi_snd_cwnd).unwrap_or(0),
            rtt_us: field!(tcpi_rtt).unwrap_or(0),
            rcv_space: field!(tcpi_rcv_space).unwrap_or(0),
            rcv_mss: field!(tcpi_rcv_mss).unwrap_or(0),
            notsent_bytes: field!(tcpi_notsent_bytes),
            busy_us: field!(tcpi_busy_time),
            rwnd_limited_us: field!(tcpi_rwnd_limited),
            sndbuf_limited_us: field!(tcpi_sndbuf_limited),
            snd_wnd: field!(tcpi_snd_wnd),
            rcv_wnd: field!(tcpi_rcv_wnd),
            total_retrans: field!(tcpi_total_retrans).unwrap_or(0),
            rto_us: raw.tcpi_rto,
            segs_out: field!(tcpi_segs_out).unwrap_or(0),
            segs_in: field!(tcpi_segs_in).unwrap_or(0),
            accept_queue: (raw.tcpi_unacked, raw.tcpi_sacked),
            snd_ssthresh: field!(tcpi_snd_ssthresh).unwrap_or(0),
            bytes_acked: field!(tcpi_bytes_acked),
            bytes_received: field!(tcpi_bytes_received),
            filled_len: filled,
        }
    }
}

/// A socket's memory as the kernel accounts it (getsockopt SO_MEMINFO,
/// Linux >= 4.12): bytes of memory, which include each segment's overhead,
/// not bytes of payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemInfo {
    /// Memory the receive queue's segments take (sk_rmem_alloc).
    pub rmem_alloc: u32,
    /// The receive buffer's limit now (sk_rcvbuf; autotuning moves it).
    pub rcvbuf: u32,
    /// Memory the send queue's segments take (sk_wmem_queued).
    pub wmem_queued: u32,
    /// The send buffer's limit now (sk_sndbuf).
    pub sndbuf: u32,
    /// Segments that arrived while the application held the socket lock,
    /// waiting to be processed (sk_backlog.len).
    pub backlog: u32,
    /// Packets the socket dropped (sk_drops).
    pub drops: u32,
}

/// getsockopt(SOL_SOCKET, SO_MEMINFO). Takes no socket lock, so it is
/// cheap to read while another thread is inside send() or recv().
pub fn meminfo(fd: impl AsFd) -> io::Result<MemInfo> {
    let mut raw = [0u32; libc::SK_MEMINFO_DROPS as usize + 1];
    let mut len = size_of_val(&raw) as libc::socklen_t;
    // SAFETY: `raw` is valid for `len` bytes and outlives the call; the
    // kernel writes at most `len` bytes and stores the count in `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            SO_MEMINFO,
            raw.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let at = |index: libc::c_int| raw[index as usize];
    Ok(MemInfo {
        rmem_alloc: at(libc::SK_MEMINFO_RMEM_ALLOC),
        rcvbuf: at(libc::SK_MEMINFO_RCVBUF),
        wmem_queued: at(libc::SK_MEMINFO_WMEM_QUEUED),
        sndbuf: at(libc::SK_MEMINFO_SNDBUF),
        backlog: at(libc::SK_MEMINFO_BACKLOG),
        drops: at(libc::SK_MEMINFO_DROPS),
    })
}

// SO_MEMINFO, from the kernel's asm/socket.h (libc's Linux module does not
// export it): 55 everywhere but SPARC.
#[cfg(not(target_arch = "sparc64"))]
const SO_MEMINFO: libc::c_int = 55;
#[cfg(target_arch = "sparc64")]
const SO_MEMINFO: libc::c_int = 0x39;

#[cfg(test)]
mod tests {

    #[test]
    fn a_state_named_as_ss_or_netstat_names_it_is_found() {
        assert_eq!(TcpState::from_user("time-wait"), Some(TcpState::TimeWait));
        assert_eq!(TcpState::from_user(" TIME_WAIT "), Some(TcpState::TimeWait));
        assert_eq!(
            TcpState::from_user("Established"),
            Some(TcpState::Established)
        );
        assert_eq!(TcpState::from_user("unknown"), None);
        assert_eq!(
            TcpState::from_user("new-syn-recv"),
            None,
            "not one a user picks"
        );
        for state in TcpState::NAMED {
            assert_eq!(TcpState::from_user(&state.ss_name()), Some(state));
        }
    }

    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn probes_a_real_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(&[7u8; 1000]).unwrap();
        // The bytes reach the peer's receive queue without anyone reading;
        // wait for them (no fixed sleep: poll the kernel's own counter).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while recv_queue(&server).unwrap() < 1000 {
            assert!(std::time::Instant::now() < deadline, "bytes never arrived");
            std::thread::yield_now();
        }
        assert_eq!(recv_queue(&server).unwrap(), 1000);
        // Loopback ACKs at once, so nothing stays unsent.
        assert_eq!(unsent(&client).unwrap(), 0);
        let info = tcp_info(&client).unwrap();
        assert_eq!(info.state, TcpState::Established);
        assert!(info.snd_mss > 0);
        assert!(info.filled_len > offset_of!(libc::tcp_info, tcpi_total_retrans));
        assert!(info.snd_wnd.unwrap_or(1) > 0);
        assert_eq!(tcp_info(&listener).unwrap().state, TcpState::Listen);
        // The 1000 queued bytes take memory, with overhead: more than their
        // payload, and within the buffer's limit.
        let memory = meminfo(&server).unwrap();
        assert!(memory.rmem_alloc > 1000, "{memory:?}");
        assert!(memory.rmem_alloc <= memory.rcvbuf, "{memory:?}");
        assert_eq!(
            memory.rcvbuf as usize,
            socket2::SockRef::from(&server).recv_buffer_size().unwrap()
        );
        assert_eq!(memory.backlog, 0);
        // Queue ioctls on a listening socket fail with EINVAL.
        assert_eq!(
            recv_queue(&listener).unwrap_err().raw_os_error(),
            Some(libc::EINVAL)
        );
    }
}
