//! Messages by hand: one loopback connection where each send() and recv()
//! is a button press, so a class sees that a byte stream has no message
//! boundaries: recv(N) takes at most N bytes, two sends can come out as
//! one recv, and recv() returns 0 once the peer has closed.
//!
//! Both sockets are non-blocking: a recv() with nothing to read says so
//! instead of freezing the window.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};

use super::probe;

/// The text encodings the lesson compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf8,
    Gbk,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gbk => "GBK",
        }
    }

    /// The bytes `text` becomes; characters GBK cannot hold become `?`.
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8 => text.as_bytes().to_vec(),
            Encoding::Gbk => encoding_rs::GBK.encode(text).0.into_owned(),
        }
    }

    /// Text from bytes; a split character shows as U+FFFD.
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Encoding::Gbk => encoding_rs::GBK.decode(bytes).0.into_owned(),
        }
    }
}

/// Bytes as hex pairs: `e4 bd a0`.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What one recv() call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Bytes(Vec<u8>),
    /// recv() returned 0: the peer closed its side.
    PeerClosed,
    /// Nothing to read yet (EAGAIN): a blocking recv() would wait here.
    WouldBlock,
}

/// A client and the server's accepted socket, on loopback.
#[derive(Debug)]
pub struct MessagePair {
    client: Option<TcpStream>,
    server: TcpStream,
}

impl MessagePair {
    pub fn connect() -> io::Result<MessagePair> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let client = TcpStream::connect(listener.local_addr()?)?;
        let (server, _) = listener.accept()?;
        client.set_nonblocking(true)?;
        server.set_nonblocking(true)?;
        Ok(MessagePair {
            client: Some(client),
            server,
        })
    }

    /// The client's send(data): returns how many bytes the kernel took.
    pub fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.client {
            Some(client) => match client.write(data) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                other => other,
            },
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the client is closed",
            )),
        }
    }

    /// The server's recv(bufsize).
    pub fn recv(&mut self, bufsize: usize) -> io::Result<Received> {
        let mut buf = vec![0u8; bufsize.max(1)];
        match self.server.read(&mut buf) {
            Ok(0) => Ok(Received::PeerClosed),
            Ok(n) => {
                buf.truncate(n);
                Ok(Received::Bytes(buf))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Received::WouldBlock),
            Err(e) => Err(e),
        }
    }

    /// The client's close(): its FIN makes the server's recv() return 0
    /// once the bytes before it are read.
    pub fn close_client(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.shutdown(Shutdown::Write);
        }
    }

    pub fn client_closed(&self) -> bool {
        self.client.is_none()
    }

    /// (the client's send queue, the server's receive queue), in bytes.
    pub fn queues(&self) -> (u32, u32) {
        let send = self
            .client
            .as_ref()
            .and_then(|c| probe::send_queue(c).ok())
            .unwrap_or(0);
        let recv = probe::recv_queue(&self.server).unwrap_or(0);
        (send, recv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lessons_byte_counts() {
        assert_eq!(Encoding::Utf8.encode("你好").len(), 6);
        assert_eq!(Encoding::Gbk.encode("你好").len(), 4);
        assert_eq!(hex(&Encoding::Gbk.encode("你好")), "c4 e3 ba c3");
        assert_eq!(Encoding::Gbk.decode(&[0xc4, 0xe3, 0xba, 0xc3]), "你好");
    }
}
