//! Nothing sockscope opens on its own listens beyond this machine: every
//! listening socket of the process, read from the kernel's own table
//! (/proc/net/tcp, matched to /proc/self/fd by inode), is on 127.0.0.1.
//! Only `--listen ADDR` may change that, and only because the user named it.

use std::collections::HashSet;

use sockscope::lab::lifecycle::{Call, Lifecycle};
use sockscope::lab::messages::MessagePair;
use sockscope::lab::server::Server;
use sockscope::lab::{LabConfig, Session};

/// Inodes of this process's sockets.
fn our_socket_inodes() -> HashSet<u64> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let text = target.to_string_lossy().into_owned();
            text.strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// (local address as hex, inode) of every IPv4 and IPv6 LISTEN socket.
fn listening() -> Vec<(String, u64)> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if fields.len() > 9 && fields[3] == "0A" {
                let local = fields[1].split(':').next().unwrap_or("").to_string();
                found.push((local, fields[9].parse().unwrap_or(0)));
            }
        }
    }
    found
}

#[test]
fn every_socket_sockscope_listens_on_by_itself_is_loopback() {
    // Everything that listens: the lab, the thread-per-client server,
    // the Messages connection and step mode's server.
    let session = Session::start(LabConfig::default()).unwrap();
    let server = Server::start(LabConfig::default(), None).unwrap();
    let messages = MessagePair::connect().unwrap();
    let mut steps = Lifecycle::new(0);
    for call in [
        Call::ServerSocket,
        Call::ServerReuse,
        Call::ServerBind,
        Call::ServerListen,
    ] {
        steps.call(call, b"");
    }
    let ours = our_socket_inodes();
    let listeners: Vec<_> = listening()
        .into_iter()
        .filter(|(_, inode)| ours.contains(inode))
        .collect();
    // At least the server's and step mode's listeners are still open.
    assert!(listeners.len() >= 2, "{listeners:?}");
    for (local, inode) in &listeners {
        // 127.0.0.1 in /proc/net/tcp's little-endian hex.
        assert_eq!(local, "0100007F", "socket {inode} listens on {local}");
    }
    drop((session, server, messages, steps));
}
