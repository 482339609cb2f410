//! Messages by hand on a real loopback connection: a byte stream has no
//! message boundaries, and recv() returns 0 after the peer closes.

use std::time::{Duration, Instant};

use sockscope::lab::messages::{Encoding, MessagePair, Received};

/// recv(n) until it returns something other than "nothing yet".
fn recv(pair: &mut MessagePair, n: usize) -> Received {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match pair.recv(n).expect("recv") {
            Received::WouldBlock if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

#[test]
fn two_sends_come_out_in_pieces_and_then_recv_returns_0() {
    let mut pair = MessagePair::connect().expect("connect");
    assert_eq!(
        pair.recv(16).unwrap(),
        Received::WouldBlock,
        "nothing sent yet"
    );
    let hello = Encoding::Utf8.encode("你好");
    let world = Encoding::Gbk.encode("世界");
    assert_eq!(pair.send(&hello).unwrap(), 6);
    assert_eq!(pair.send(&world).unwrap(), 4);
    // recv(4) takes 4 of the 10 bytes: the UTF-8 你 plus a third of 好.
    assert_eq!(recv(&mut pair, 4), Received::Bytes(hello[..4].to_vec()));
    // The rest of both sends arrives as one piece: no message boundaries.
    let mut rest = Vec::new();
    while rest.len() < 6 {
        match recv(&mut pair, 64) {
            Received::Bytes(bytes) => rest.extend(bytes),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(rest, [&hello[4..], &world[..]].concat());
    pair.close_client();
    assert_eq!(recv(&mut pair, 64), Received::PeerClosed);
}
