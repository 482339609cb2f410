//! The lab on real loopback sockets: no mocks on the kernel path.

mod common;

use std::net::SocketAddr;

use common::{collect_until, core_sysctl, drain, level};
use sockscope::lab::{LabConfig, Rate, ReaderState, Sample, Session, Size};

const KIB: u64 = 1024;

fn paused_reader_config() -> LabConfig {
    LabConfig {
        // A paced writer with small send() calls, so the story unfolds in
        // order: the receive buffer fills, the window closes, then the send
        // buffer fills and send() blocks. (An unlimited writer whose one
        // send() is larger than the send buffer blocks at once, before the
        // window has had time to close.)
        sndbuf: Some(Size(64 * KIB)),
        rcvbuf: Some(Size(16 * KIB)),
        write_rate: Rate::BytesPerSec(2 << 20),
        write_chunk: Size(4 * KIB),
        read_rate: Rate::Paused,
        sample_hz: 1000,
        ..LabConfig::default()
    }
}

fn first_time(history: &[Sample], pred: impl Fn(&Sample) -> bool) -> Option<u64> {
    history.iter().find(|s| pred(s)).map(|s| s.t_ns)
}

#[test]
fn paused_reader_fills_the_buffers_and_blocks_the_writer_then_resume_drains() {
    let session = Session::start(paused_reader_config()).unwrap();
    let mut history = Vec::new();
    collect_until(
        &session,
        &mut history,
        "queues level off with the writer blocked",
        |h| {
            h.last()
                .is_some_and(|s| s.writer_blocked() && s.zero_window && s.reader_paused())
                && level(h, 50, |s| s.recv_queue).is_some_and(|q| q > 0)
                && level(h, 50, |s| s.send_queue).is_some_and(|q| q > 0)
        },
    );
    let plateau = *history.last().unwrap();
    let first_recv = first_time(&history, |s| s.recv_queue > 0).unwrap();
    let first_zero = first_time(&history, |s| s.zero_window).unwrap();
    let first_blocked = first_time(&history, |s| s.writer_blocked()).unwrap();
    assert!(
        first_recv <= first_zero,
        "window closed before anything was queued"
    );
    assert!(
        first_recv <= first_blocked,
        "writer blocked before the receiver held anything"
    );
    // Not asserted: that the window reads 0 before send() blocks. Measured
    // here, the window can be used up by bytes in flight that the reader's
    // kernel holds but has not acknowledged yet; send() blocks while
    // tcpi_snd_wnd still reads a few KiB, and the ACK that brings window 0
    // comes tens of milliseconds later.
    // The reader never read, so everything written sits in the two queues.
    assert_eq!(plateau.read, 0);
    assert_eq!(
        u64::from(plateau.send_queue) + u64::from(plateau.recv_queue),
        plateau.written,
        "bytes written = send queue + receive queue while nothing is read"
    );
    assert_eq!(plateau.sender.snd_wnd, 0);
    // The queues count payload, the limits count memory: the receive queue
    // stays below the effective SO_RCVBUF.
    assert!(u64::from(plateau.recv_queue) < session.info().rcvbuf.effective);

    // Resume without reconnecting: the same sockets drain.
    session.set_read_rate(Rate::Unlimited);
    let written_before = plateau.written;
    collect_until(&session, &mut history, "the reader catches up", |h| {
        h.last()
            .is_some_and(|s| s.read > written_before && !s.zero_window && !s.reader_paused())
    });
    session.finish();
    let mut rest = drain(&session);
    let report = session.join();
    assert!(report.integrity_ok(), "{report:?}");
    assert_eq!(report.bytes_read, report.bytes_written);
    assert!(report.stall_count >= 1);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // Samples come from the reader while it runs and from the sampler
    // thread otherwise (paused, draining, ended): one schedule, in order.
    history.extend_from_slice(&rest);
    assert!(
        history.windows(2).all(|w| w[0].t_ns < w[1].t_ns),
        "sample times strictly increase across the hand-overs"
    );
    let last = rest.pop().expect("a final sample");
    assert_eq!(last.read, report.bytes_read);
    assert_eq!(last.reader_state, ReaderState::PeerClosed);
    // Everything was sent and read. The send queue itself may still hold a
    // few bytes and the FIN: SIOCOUTQ counts sent-but-unacknowledged bytes,
    // and on a busy machine the last ACK can lag behind the reader
    // (measured: 1 and 6145 bytes).
    assert_eq!((last.unsent, last.recv_queue), (0, 0));
}

/// The order the captions tell, where they tell it. With a send buffer far
/// bigger than the receive buffer, the zero-window caption says "send()
/// still copies into the send buffer until that fills" and the draining
/// caption that "Linux keeps it at 0" while the free space is under a
/// segment: both checked here against what the kernel did.
#[test]
fn with_room_in_the_send_buffer_the_window_closes_first_and_send_keeps_copying() {
    let session = Session::start(LabConfig {
        sndbuf: Some(Size(256 * KIB)),
        rcvbuf: Some(Size(16 * KIB)),
        ..paused_reader_config()
    })
    .unwrap();
    let mut history = Vec::new();
    collect_until(&session, &mut history, "send() blocks", |h| {
        h.last().is_some_and(|s| s.writer_blocked())
    });
    // A zero window from a fresh TCP_INFO reading (a stale one may lag).
    let first_zero = history
        .iter()
        .position(|s| s.zero_window && s.sender_info_age_us == 0)
        .expect("the window closed before send() blocked");
    let closed = history[first_zero];
    let blocked = *history.last().unwrap();
    assert!(
        !closed.writer_blocked(),
        "send() blocked before the window closed: {closed:?}"
    );
    assert!(closed.t_ns < blocked.t_ns);
    // After the window closed, send() went on copying into the send
    // buffer, which grew, with nothing more reaching the receiver.
    assert!(
        blocked.written >= closed.written + 64 * KIB,
        "send() copied only {} bytes after the window closed",
        blocked.written - closed.written
    );
    assert!(blocked.send_queue >= closed.send_queue + 64 * KIB as u32);
    // While the window read 0 the kernel's free space was under what it
    // needs to reopen: the rule the draining caption states.
    for s in history[first_zero..].iter().filter(|s| s.zero_window) {
        if let Some(room) = s.window_room() {
            assert!(
                room.too_little(),
                "window 0 with room to reopen: {room:?} in {s:?}"
            );
        }
    }
    session.finish();
    drain(&session);
    assert!(session.join().errors.is_empty());
}

#[test]
fn effective_buffers_are_twice_the_request_below_the_caps() {
    let wmem_max = core_sysctl("wmem_max");
    let rmem_max = core_sysctl("rmem_max");
    for kib in [8, 16, 64, 256] {
        let request = kib * KIB;
        if request > wmem_max || request > rmem_max {
            continue;
        }
        let session = Session::start(LabConfig {
            sndbuf: Some(Size(request)),
            rcvbuf: Some(Size(request)),
            write_rate: Rate::Paused,
            ..LabConfig::default()
        })
        .unwrap();
        let info = session.info();
        assert_eq!(info.sndbuf.effective, 2 * request, "SO_SNDBUF {kib}K");
        assert_eq!(info.rcvbuf.effective, 2 * request, "SO_RCVBUF {kib}K");
        assert!(!info.sndbuf.clamped() && !info.sndbuf.raised());
        assert!(info.sndbuf.adjustment_note("--sndbuf").is_none());
    }
}

#[test]
fn requests_above_the_cap_are_clamped_and_below_the_minimum_raised() {
    let wmem_max = core_sysctl("wmem_max");
    let session = Session::start(LabConfig {
        sndbuf: Some(Size(wmem_max * 4)),
        rcvbuf: Some(Size(1)),
        write_rate: Rate::Paused,
        ..LabConfig::default()
    })
    .unwrap();
    let info = session.info();
    assert!(info.sndbuf.clamped());
    assert_eq!(info.sndbuf.effective, 2 * wmem_max);
    assert!(
        info.sndbuf
            .adjustment_note("--sndbuf")
            .unwrap()
            .contains("net.core.wmem_max")
    );
    assert!(info.rcvbuf.raised());
    assert!(info.rcvbuf.effective > 2, "the kernel has a minimum");
}

/// tx_queue and rx_queue of the connection from `local` to `remote`, from
/// /proc/net/tcp: the kernel's other view of the same queues. (Matching the
/// local address alone could find another test's old connection in
/// TIME_WAIT on the same port.)
fn proc_net_tcp_queues(local: SocketAddr, remote: SocketAddr) -> Option<(u32, u32)> {
    let hex = |addr: SocketAddr| match addr {
        SocketAddr::V4(v4) => Some(format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(v4.ip().octets()),
            v4.port()
        )),
        SocketAddr::V6(_) => None,
    };
    let (local, remote) = (hex(local)?, hex(remote)?);
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1) == Some(&local.as_str()) && fields.get(2) == Some(&remote.as_str())).then(
            || {
                let (tx, rx) = fields[4].split_once(':').unwrap();
                (
                    u32::from_str_radix(tx, 16).unwrap(),
                    u32::from_str_radix(rx, 16).unwrap(),
                )
            },
        )
    })
}

#[test]
fn sampled_queues_are_the_kernels_own_numbers() {
    let session = Session::start(paused_reader_config()).unwrap();
    let mut history = Vec::new();
    collect_until(
        &session,
        &mut history,
        "a stable zero-window plateau",
        |h| {
            level(h, 50, |s| s.recv_queue).is_some_and(|q| q > 0)
                && level(h, 50, |s| s.send_queue).is_some_and(|q| q > 0)
                && h.last()
                    .is_some_and(|s| s.writer_blocked() && s.zero_window)
        },
    );
    let plateau = *history.last().unwrap();
    let info = session.info().clone();
    let (tx_queue, _) =
        proc_net_tcp_queues(info.writer_addr, info.reader_addr).expect("writer in /proc/net/tcp");
    let (_, rx_queue) =
        proc_net_tcp_queues(info.reader_addr, info.writer_addr).expect("reader in /proc/net/tcp");
    // A sample taken after /proc was read shows the same plateau, so the
    // numbers compared are current.
    let read_at = session.elapsed().as_nanos() as u64;
    let mut after = Vec::new();
    collect_until(&session, &mut after, "a sample after reading /proc", |h| {
        h.last().is_some_and(|s| s.t_ns > read_at)
    });
    let after = after.last().unwrap();
    assert_eq!(
        (after.send_queue, after.recv_queue),
        (plateau.send_queue, plateau.recv_queue)
    );
    assert_eq!(
        tx_queue, plateau.send_queue,
        "SIOCOUTQ = /proc/net/tcp tx_queue"
    );
    assert_eq!(
        rx_queue, plateau.recv_queue,
        "FIONREAD = /proc/net/tcp rx_queue"
    );
    // With the window at 0 everything sent has been acknowledged: nothing is
    // in flight and the whole send queue is unsent.
    assert_eq!(plateau.in_flight(), 0);
    assert_eq!(plateau.unsent, plateau.send_queue);
}

#[test]
fn a_reader_paced_at_1_mib_per_second_reads_1_mib_per_second() {
    let session = Session::start(LabConfig {
        read_rate: Rate::BytesPerSec(1 << 20),
        read_chunk: Size(16 * KIB),
        sample_hz: 100,
        ..LabConfig::default()
    })
    .unwrap();
    let mut history = Vec::new();
    // Warm up, then measure over three seconds of the samples' own clock.
    collect_until(&session, &mut history, "half a second", |h| {
        h.last().is_some_and(|s| s.t_ns >= 500_000_000)
    });
    let start = *history.last().unwrap();
    collect_until(&session, &mut history, "three more seconds", |h| {
        h.last()
            .is_some_and(|s| s.t_ns >= start.t_ns + 3_000_000_000)
    });
    let end = *history.last().unwrap();
    let rate = (end.read - start.read) as f64 / ((end.t_ns - start.t_ns) as f64 / 1e9);
    let ratio = rate / f64::from(1 << 20);
    assert!(
        (0.9..=1.1).contains(&ratio),
        "read {rate:.0} B/s, {ratio:.3} of 1 MiB/s"
    );
    // The writer is unlimited, so it is the reader that holds the pace: the
    // buffers are full.
    assert!(end.written > end.read);
    session.finish();
    drain(&session);
    assert!(session.join().integrity_ok());
}

#[test]
fn live_controls_change_rates_and_sizes_without_reconnecting() {
    let session = Session::start(LabConfig {
        write_rate: Rate::Paused,
        sample_hz: 500,
        ..LabConfig::default()
    })
    .unwrap();
    let addr = session.info().writer_addr;
    let mut history = Vec::new();
    collect_until(&session, &mut history, "a paused writer", |h| h.len() >= 10);
    assert!(
        history.iter().all(|s| s.written == 0),
        "a paused writer sends nothing"
    );
    session.set_write_chunk(Size(1000)).unwrap();
    session.set_write_rate(Rate::BytesPerSec(100_000));
    session.set_read_chunk(Size(10)).unwrap();
    let paused_samples = history.len();
    collect_until(&session, &mut history, "paced writing", |h| {
        h.last().is_some_and(|s| s.read >= 20_000)
    });
    // Whole 1000-byte send() calls: with room in the buffers, the kernel
    // takes each one entirely, so the total moves in steps of 1000.
    assert!(
        history[paused_samples..]
            .iter()
            .all(|s| s.written % 1000 == 0),
        "the new chunk size applies"
    );
    session.set_write_rate(Rate::Paused);
    session.finish();
    drain(&session);
    assert_eq!(session.info().writer_addr, addr);
    let report = session.join();
    assert!(report.integrity_ok(), "{report:?}");
}

/// Each sample carries both sockets' memory: with the reader paused and
/// the writer blocked, the send queue's memory (overhead included) leaves
/// the socket unwritable by the kernel's rule, which is what keeps send()
/// blocked, and the receive queue's memory is more than its payload.
#[test]
fn a_blocked_writers_send_queue_memory_leaves_no_room_to_write() {
    let session = Session::start(paused_reader_config()).unwrap();
    let mut history = Vec::new();
    collect_until(
        &session,
        &mut history,
        "the writer blocked on a zero window",
        |h| {
            h.last()
                .is_some_and(|s| s.writer_blocked() && s.zero_window)
                && level(h, 50, |s| s.send_queue).is_some_and(|q| q > 0)
        },
    );
    let plateau = *history.last().unwrap();
    let sndbuf = session.info().sndbuf.effective;
    assert_eq!(u64::from(plateau.sender_memory.sndbuf), sndbuf);
    assert!(
        !plateau.sender_memory.writable(),
        "{:?} with SO_SNDBUF {sndbuf}",
        plateau.sender_memory
    );
    assert!(plateau.sender_memory.wmem_queued >= plateau.send_queue);
    assert!(plateau.receiver_memory.rmem_alloc > plateau.recv_queue);
}
