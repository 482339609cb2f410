//! The connections table's cost, as figures (no pass/fail): with 10,000
//! TCP sockets open on loopback (5,000 connected pairs this benchmark
//! opens, its descriptor limit raised), side by side:
//! - a refresh of a live table: one full dump of every socket, owners from
//!   the cache (`diag::dump_all` + `OwnerCache::fill`, warm);
//! - the first dump with every owner looked up (`diag::connections`, which
//!   walks every process's descriptors, as `ss -p` does);
//! - `ss -tmi` on the same sockets.
//!
//! Goal: a refresh at 1 Hz under 5 % of one core, and faster than
//! `ss -tmi`.
//!
//! Run: `cargo bench --bench connections`.

#![allow(unsafe_code)]

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Instant;

use sockscope::lab::diag;

const PAIRS: usize = 5_000;
const ROUNDS: usize = 7;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // Room for the sockets: 10,000 plus the listener and some to spare.
    let wanted = (2 * PAIRS + 1024) as libc::rlim_t;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write one rlimit we own.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = wanted.min(limit.rlim_max);
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let mut pairs = Vec::with_capacity(PAIRS);
    for _ in 0..PAIRS {
        let Ok(client) = TcpStream::connect(address) else {
            break;
        };
        let (server, _) = listener.accept().unwrap();
        pairs.push((client, server));
    }
    let sockets = diag::connections().unwrap().len();
    println!(
        "connections: {} pairs open; the table lists {sockets} TCP sockets",
        pairs.len()
    );
    let mut ours = Vec::new();
    let mut cold = Vec::new();
    let mut ss = Vec::new();
    let mut cache = diag::OwnerCache::default();
    let mut warm = diag::dump_all().unwrap();
    cache.fill(&mut warm);
    for round in 0..ROUNDS {
        let start = Instant::now();
        let listed = diag::connections().unwrap();
        cold.push(start.elapsed().as_secs_f64() * 1e3);
        assert!(listed.len() >= pairs.len() * 2);
        // Alternate which goes first.
        for first in [round % 2 == 0, round % 2 != 0] {
            if first {
                let start = Instant::now();
                let mut listed = diag::dump_all().unwrap();
                cache.fill(&mut listed);
                cache.keep_only(&listed);
                ours.push(start.elapsed().as_secs_f64() * 1e3);
                assert!(listed.iter().filter(|c| c.owner.is_some()).count() >= pairs.len() * 2);
            } else {
                let start = Instant::now();
                let status = Command::new("ss")
                    .arg("-tmi")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .expect("ss runs");
                ss.push(start.elapsed().as_secs_f64() * 1e3);
                assert!(status.success());
            }
        }
    }
    let (ours, cold, ss) = (median(ours), median(cold), median(ss));
    println!("  a live refresh (every socket, owners cached): median {ours:.1} ms");
    println!("  the first dump (every owner looked up):       median {cold:.1} ms");
    println!("  ss -tmi on the same sockets:                  median {ss:.1} ms");
    println!("  refresh / ss: {:.2}", ours / ss);
    println!(
        "  a refresh at 1 Hz: {:.1} % of one core (goal: under 5 %)",
        ours / 10.0
    );
}
