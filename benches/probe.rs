//! What one sample costs: `take_sample` (three queue ioctls, the reader's
//! getsockopt(SO_MEMINFO) and two getsockopt(TCP_INFO) calls on a real
//! loopback connection), and each of the six calls on its own, timed call
//! by call. Prints figures; asserts
//! nothing about time.
//!
//! States: an idle connection; a paused reader (both queues full); and a
//! connection under full load (a writer and a reader thread that behave like
//! sockscope's own: non-blocking, poll() on EAGAIN, 128 KiB calls, pattern
//! fill and verify), probed back to back and then at 1 kHz like the sampler.
//!
//! Run with `cargo bench --bench probe`. Env: PROBE_CALLS (default 200000)
//! back-to-back calls per figure; PROBE_PACED_SECS (default 4) for the 1 kHz
//! pass.

use std::hint::black_box;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, poll};
use sockscope::lab::sampler::take_sample;
use sockscope::lab::{pattern, probe};

/// The budget for one sample: 1 kHz sampling should cost well under 1 % of a core.
const GOAL_MEDIAN: Duration = Duration::from_micros(5);
const WARMUP: usize = 10_000;
const CHUNK: usize = 128 * 1024;
const GIB: f64 = (1u64 << 30) as f64;

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let writer = TcpStream::connect(listener.local_addr().expect("local addr")).expect("connect");
    let (reader, _) = listener.accept().expect("accept");
    (writer, reader)
}

struct Stats {
    median: u64,
    p90: u64,
    p99: u64,
    max: u64,
    mean: f64,
}

impl Stats {
    fn of(mut ns: Vec<u64>) -> Stats {
        ns.sort_unstable();
        let at = |q: f64| ns[((ns.len() - 1) as f64 * q).round() as usize];
        Stats {
            median: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: *ns.last().expect("at least one call"),
            mean: ns.iter().sum::<u64>() as f64 / ns.len() as f64,
        }
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn header() {
    println!(
        "  {:<26} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "call", "median", "p90", "p99", "mean", "max"
    );
}

fn row(name: &str, s: &Stats) {
    println!(
        "  {name:<26} {:>9} {:>9} {:>9} {:>9} {:>9}",
        fmt_ns(s.median as f64),
        fmt_ns(s.p90 as f64),
        fmt_ns(s.p99 as f64),
        fmt_ns(s.mean),
        fmt_ns(s.max as f64),
    );
}

/// Times one call, returning nanoseconds.
fn time_one<T>(f: impl FnOnce() -> io::Result<T>) -> u64 {
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    black_box(out.expect("probe call failed"));
    elapsed.as_nanos() as u64
}

/// Times `calls` calls of `f` one by one, back to back (after a warm-up).
fn time_calls<T>(calls: usize, mut f: impl FnMut() -> io::Result<T>) -> Stats {
    for _ in 0..WARMUP.min(calls) {
        black_box(f().expect("probe call failed"));
    }
    Stats::of((0..calls).map(|_| time_one(&mut f)).collect())
}

const PART_NAMES: [&str; 6] = [
    "SIOCOUTQNSD writer",
    "SIOCOUTQ    writer",
    "FIONREAD    reader",
    "SO_MEMINFO  reader",
    "TCP_INFO    writer",
    "TCP_INFO    reader",
];

/// The six calls of take_sample, in its order, each timed.
fn time_parts(writer: &TcpStream, reader: &TcpStream) -> [u64; 6] {
    [
        time_one(|| probe::unsent(writer)),
        time_one(|| probe::send_queue(writer)),
        time_one(|| probe::recv_queue(reader)),
        time_one(|| probe::meminfo(reader)),
        time_one(|| probe::tcp_info(writer)),
        time_one(|| probe::tcp_info(reader)),
    ]
}

fn describe(state: &str, writer: &TcpStream, reader: &TcpStream) {
    let s = take_sample(writer, reader, 0).expect("take_sample");
    println!(
        "\n{state}\n  (now: send queue {} B, unsent {} B, recv queue {} B, snd_wnd {} B)",
        s.send_queue, s.unsent, s.recv_queue, s.sender.snd_wnd
    );
}

/// Times take_sample and each of its six calls back to back on this
/// connection. Returns take_sample's median.
fn measure(writer: &TcpStream, reader: &TcpStream, calls: usize) -> u64 {
    header();
    let epoch = Instant::now();
    let whole = time_calls(calls, || {
        take_sample(writer, reader, epoch.elapsed().as_nanos() as u64)
    });
    row("take_sample (all six)", &whole);
    let parts = [
        time_calls(calls, || probe::unsent(writer)),
        time_calls(calls, || probe::send_queue(writer)),
        time_calls(calls, || probe::recv_queue(reader)),
        time_calls(calls, || probe::meminfo(reader)),
        time_calls(calls, || probe::tcp_info(writer)),
        time_calls(calls, || probe::tcp_info(reader)),
    ];
    for (name, stats) in PART_NAMES.iter().zip(&parts) {
        row(name, stats);
    }
    let sum: u64 = parts.iter().map(|s| s.median).sum();
    println!(
        "  {:<26} {:>9}",
        "sum of the six medians",
        fmt_ns(sum as f64)
    );
    whole.median
}

/// Voluntary and involuntary context switches of the calling thread so far.
fn context_switches() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (
        field("voluntary_ctxt_switches:"),
        field("nonvoluntary_ctxt_switches:"),
    )
}

/// Probes at 1 kHz for `secs`, the way the sampler does (sleep to the next
/// tick, timer slack 1 µs). Even ticks time take_sample, odd ticks its six
/// calls one by one. Returns take_sample's median.
fn measure_paced(writer: &TcpStream, reader: &TcpStream, secs: f64) -> u64 {
    let _ = nix::sys::prctl::set_timerslack(1_000);
    let period = Duration::from_millis(1);
    let epoch = Instant::now();
    let end = epoch + Duration::from_secs_f64(secs);
    let (vol0, invol0) = context_switches();
    let mut whole = Vec::new();
    let mut parts: [Vec<u64>; 6] = Default::default();
    let mut next = epoch;
    let mut ticks = 0u64;
    while Instant::now() < end {
        if ticks.is_multiple_of(2) {
            whole.push(time_one(|| {
                take_sample(writer, reader, epoch.elapsed().as_nanos() as u64)
            }));
        } else {
            for (all, ns) in parts.iter_mut().zip(time_parts(writer, reader)) {
                all.push(ns);
            }
        }
        ticks += 1;
        // The sampler's schedule: skip missed ticks rather than burst.
        next += period;
        let now = Instant::now();
        if next + period < now {
            next = now + period;
        }
        std::thread::sleep(next.saturating_duration_since(now));
    }
    let elapsed = epoch.elapsed().as_secs_f64();
    let (vol1, invol1) = context_switches();
    println!(
        "  {ticks} ticks in {elapsed:.1} s = {:.0} Hz achieved (asked 1000); per tick {:.1} voluntary + {:.1} involuntary context switches",
        ticks as f64 / elapsed,
        (vol1 - vol0) as f64 / ticks as f64,
        (invol1 - invol0) as f64 / ticks as f64
    );
    header();
    let whole = Stats::of(whole);
    row("take_sample (all six)", &whole);
    for (name, ns) in PART_NAMES.iter().zip(parts) {
        row(name, &Stats::of(ns));
    }
    whole.median
}

/// Fills the writer's send queue and the reader's receive queue: a
/// non-blocking writer sends until the kernel would block, nobody reads.
fn fill_queues(writer: &mut TcpStream) {
    writer.set_nonblocking(true).expect("set_nonblocking");
    let chunk = vec![0x5au8; CHUNK];
    // Twice, with a pause: loopback delivery and window updates settle.
    for _ in 0..2 {
        loop {
            match writer.write(&chunk) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("send failed: {e}"),
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A writer and a reader thread streaming flat out on clones of the two
/// sockets, shaped like an unthrottled `sockscope record`: non-blocking
/// sockets, poll() on EAGAIN, 128 KiB send and recv, the stream pattern
/// filled and verified.
struct Load {
    stop: Arc<AtomicBool>,
    read: Arc<AtomicU64>,
    writer: TcpStream,
    threads: Vec<JoinHandle<u64>>,
}

fn wait_for(stream: &TcpStream, flags: PollFlags) {
    let mut fds = [PollFd::new(stream.as_fd(), flags)];
    let _ = poll(&mut fds, 10u16);
}

impl Load {
    fn start(writer: &TcpStream, reader: &TcpStream) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let read = Arc::new(AtomicU64::new(0));
        let mut w = writer.try_clone().expect("clone writer");
        let mut r = reader.try_clone().expect("clone reader");
        w.set_nonblocking(true).expect("set_nonblocking");
        r.set_nonblocking(true).expect("set_nonblocking");
        let flag = Arc::clone(&stop);
        let write_thread = std::thread::Builder::new()
            .name("probe-bench-writer".into())
            .spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                let mut position = 0u64;
                let mut pending = 0..0;
                while !flag.load(Relaxed) {
                    if pending.is_empty() {
                        pattern::fill(&mut buf, position);
                        pending = 0..CHUNK;
                    }
                    match w.write(&buf[pending.clone()]) {
                        Ok(n) => {
                            pending.start += n;
                            position += n as u64;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            wait_for(&w, PollFlags::POLLOUT);
                        }
                        Err(e) => panic!("load: send failed: {e}"),
                    }
                }
                position
            })
            .expect("spawn writer");
        let counter = Arc::clone(&read);
        let read_thread = std::thread::Builder::new()
            .name("probe-bench-reader".into())
            .spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                let mut position = 0u64;
                loop {
                    match r.read(&mut buf) {
                        Ok(0) => return position,
                        Ok(n) => {
                            assert_eq!(
                                pattern::verify(&buf[..n], position),
                                None,
                                "load: wrong byte"
                            );
                            position += n as u64;
                            counter.store(position, Relaxed);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            wait_for(&r, PollFlags::POLLIN);
                        }
                        Err(e) => panic!("load: recv failed: {e}"),
                    }
                }
            })
            .expect("spawn reader");
        Load {
            stop,
            read,
            writer: writer.try_clone().expect("clone writer"),
            threads: vec![write_thread, read_thread],
        }
    }

    /// Runs `f`, returning its result and the load's throughput meanwhile (GiB/s).
    fn during<T>(&self, f: impl FnOnce() -> T) -> (T, f64) {
        let (start, bytes) = (Instant::now(), self.read.load(Relaxed));
        let out = f();
        let moved = self.read.load(Relaxed) - bytes;
        (out, moved as f64 / start.elapsed().as_secs_f64() / GIB)
    }

    fn stop(self) {
        self.stop.store(true, Relaxed);
        let mut threads = self.threads.into_iter();
        let sent = threads
            .next()
            .expect("writer")
            .join()
            .expect("writer thread");
        let _ = self.writer.shutdown(Shutdown::Write);
        let got = threads
            .next()
            .expect("reader")
            .join()
            .expect("reader thread");
        assert_eq!(sent, got, "the load lost bytes");
    }
}

fn verdict(median: u64) -> &'static str {
    if Duration::from_nanos(median) < GOAL_MEDIAN {
        "met"
    } else {
        "MISSED"
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not, and
    // then this only checks that it runs.
    let full = std::env::args().any(|a| a == "--bench");
    let calls: usize = if full {
        env_or("PROBE_CALLS", 200_000)
    } else {
        1000
    };
    let paced_secs: f64 = if full {
        env_or("PROBE_PACED_SECS", 4.0)
    } else {
        0.2
    };
    let timer = time_calls(calls, || Ok::<_, io::Error>(Instant::now()));
    println!(
        "probe cost: {calls} back-to-back calls per figure, each timed on its own \
         (an Instant::now() pair costs median {}); {} CPUs",
        fmt_ns(timer.median as f64),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let (writer, reader) = pair();
    describe("idle connection (empty queues)", &writer, &reader);
    let idle = measure(&writer, &reader, calls);

    let (mut writer, reader) = pair();
    fill_queues(&mut writer);
    describe(
        "paused reader (nobody reads; send and receive queues full)",
        &writer,
        &reader,
    );
    let full_queues = measure(&writer, &reader, calls);
    drop((writer, reader));

    let (writer, reader) = pair();
    let load = Load::start(&writer, &reader);
    let ((), alone) = load.during(|| std::thread::sleep(Duration::from_secs(1)));
    describe(
        "under load (writer and reader threads streaming flat out), probed back to back",
        &writer,
        &reader,
    );
    let (busy, busy_rate) = load.during(|| measure(&writer, &reader, calls));
    println!(
        "\nunder load, probed at 1 kHz like the sampler (sleep between ticks) for {paced_secs} s"
    );
    let (paced, paced_rate) = load.during(|| measure_paced(&writer, &reader, paced_secs));
    let ((), after) = load.during(|| std::thread::sleep(Duration::from_secs(1)));
    load.stop();
    println!(
        "  load throughput: {alone:.2} GiB/s unprobed (1 s before), {busy_rate:.2} probed back to back, \
         {paced_rate:.2} probed at 1 kHz, {after:.2} unprobed (1 s after)"
    );

    println!(
        "\ngoal: take_sample median < {} µs",
        GOAL_MEDIAN.as_micros()
    );
    for (state, median) in [
        ("idle", idle),
        ("paused reader", full_queues),
        ("load, back to back", busy),
        ("load, 1 kHz", paced),
    ] {
        println!(
            "  {state:<20} {:>9}  {}",
            fmt_ns(median as f64),
            verdict(median)
        );
    }
}
