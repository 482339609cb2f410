//! The zero-window rule sockscope's captions teach, checked against the
//! kernel on a real loopback connection: a receiver filled until its window
//! reads 0 is drained 1 KiB at a time, and after every recv() the rule's
//! verdict from the kernel's own numbers (FIONREAD, SO_MEMINFO, tcpi_rcv_mss)
//! is compared with the window the sender's kernel then sees.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use socket2::SockRef;
use sockscope::lab::Sample;
use sockscope::lab::probe;
use sockscope::lab::sample::{ReceiverInfo, ReceiverMemory};

mod common;

const KIB: usize = 1024;

/// The reader's side of a sample, as the sampler reads it.
fn reader_sample(reader: &TcpStream) -> Sample {
    let memory = probe::meminfo(reader).unwrap();
    let info = probe::tcp_info(reader).unwrap();
    Sample {
        recv_queue: probe::recv_queue(reader).unwrap(),
        receiver: ReceiverInfo {
            state: info.state,
            rcv_space: info.rcv_space,
            rcv_mss: info.rcv_mss,
            rcv_wnd: info.rcv_wnd.unwrap_or(0),
        },
        receiver_memory: ReceiverMemory {
            rmem_alloc: memory.rmem_alloc,
            rcvbuf: memory.rcvbuf,
            backlog: memory.backlog,
            drops: memory.drops,
        },
        ..Sample::default()
    }
}

fn snd_wnd(writer: &TcpStream) -> u32 {
    probe::tcp_info(writer)
        .unwrap()
        .snd_wnd
        .expect("Linux >= 5.4 reports tcpi_snd_wnd")
}

/// Waits until the sender has nothing unsent that the window would let it
/// send: everything it has is sent, or the window reads 0.
fn settle(writer: &TcpStream) -> u32 {
    let deadline = Instant::now() + common::DEADLINE;
    loop {
        let window = snd_wnd(writer);
        if window == 0 || probe::unsent(writer).unwrap() == 0 {
            return window;
        }
        assert!(Instant::now() < deadline, "the sender never settled");
        std::thread::yield_now();
    }
}

#[test]
fn the_window_reopens_when_the_kernels_numbers_say_it_does() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut writer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut reader, _) = listener.accept().unwrap();
    // A fixed receive buffer (no autotuning moves it), set after accept()
    // like the lab's sockets are.
    SockRef::from(&reader)
        .set_recv_buffer_size(32 * KIB)
        .unwrap();
    writer.set_nodelay(true).unwrap();
    writer.set_nonblocking(true).unwrap();

    // Fill: 1 KiB at a time until the window reads 0, so that at most one
    // write's bytes wait unsent and a reopened window stays open.
    let chunk = [0x5au8; KIB];
    let deadline = Instant::now() + common::DEADLINE;
    while settle(&writer) > 0 {
        assert!(Instant::now() < deadline, "the window never closed");
        match writer.write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) => panic!("send(): {e}"),
        }
    }
    assert!(probe::recv_queue(&reader).unwrap() > 0);
    let filled = reader_sample(&reader);
    let room = filled.window_room().expect("bytes are queued");
    assert!(
        room.too_little(),
        "window 0, yet the rule sees room: {room:?}"
    );

    // Drain 1 KiB at a time. The kernel decides on a window update inside
    // recv() itself, so after each one the sender's window is the verdict.
    let mut buf = [0u8; KIB];
    let mut steps = Vec::new();
    while probe::recv_queue(&reader).unwrap() > 0 {
        reader.read_exact(&mut buf).unwrap();
        let sample = reader_sample(&reader);
        let open = settle(&writer) > 0;
        steps.push((sample.window_room(), open, sample.recv_queue));
        if open {
            break;
        }
    }
    let (last_room, reopened, queued) = *steps.last().unwrap();
    assert!(reopened, "the window stayed 0 until the queue was empty");
    assert!(queued > 0, "reopened only once nothing was left: {steps:?}");
    // Every step before the reopening: the rule said "too little". One
    // segment's memory is an estimate (the kernel's payload share of
    // memory is not exported), so one step may disagree.
    let closed_steps = &steps[..steps.len() - 1];
    let disagree = closed_steps
        .iter()
        .filter(|(room, _, _)| room.is_some_and(|r| !r.too_little()))
        .count();
    assert!(
        disagree <= 1,
        "the rule saw room while the window stayed 0: {steps:?}"
    );
    // At the reopening the rule sees room.
    let room = last_room.expect("bytes are still queued");
    assert!(
        !room.too_little(),
        "the window reopened while the rule saw too little: {room:?}"
    );
    // The threshold is the kernel's, not a fraction of our own: one
    // segment's worth, at least 1/16 and at most half of the buffer.
    assert!(room.needed >= room.buffer / 16);
    assert!(room.needed <= room.buffer / 2);
}
