//! The little of netlink the link needs: attributes, requests that the
//! kernel acknowledges, and dumps. Messages are built by hand from the
//! kernel's uapi layouts (include/uapi/linux/netlink.h), so no program and
//! no crate is needed. The sockets were made inside the link's namespace by
//! the helper and keep their rights there.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const NLM_F_REQUEST: u16 = 0x1;
pub(crate) const NLM_F_ACK: u16 = 0x4;
pub(crate) const NLM_F_DUMP: u16 = 0x300;
const NLA_F_NESTED: u16 = 0x8000;
const HEADER: usize = 16;

/// One netlink attribute (struct nlattr / rtattr), padded to 4 bytes.
pub(crate) fn attribute(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut out = Vec::with_capacity(len.next_multiple_of(4));
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(len.next_multiple_of(4), 0);
    out
}

/// An attribute holding attributes.
pub(crate) fn nested(kind: u16, attributes: &[u8]) -> Vec<u8> {
    attribute(kind | NLA_F_NESTED, attributes)
}

/// A NUL-terminated string attribute.
pub(crate) fn string(kind: u16, text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    attribute(kind, &bytes)
}

/// A big-endian u32 attribute, as netfilter's are.
pub(crate) fn be32(kind: u16, value: u32) -> Vec<u8> {
    attribute(kind, &value.to_be_bytes())
}

/// The attributes in `bytes`, as (kind without flags, payload).
pub(crate) fn attributes(mut bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if bytes.len() < 4 {
            return None;
        }
        let len = usize::from(u16::from_ne_bytes([bytes[0], bytes[1]]));
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]) & 0x3FFF;
        if len < 4 || len > bytes.len() {
            return None;
        }
        let payload = &bytes[4..len];
        bytes = &bytes[len.next_multiple_of(4).min(bytes.len())..];
        Some((kind, payload))
    })
}

/// One message of a request: its type, flags beyond NLM_F_REQUEST, and
/// its body (the family header and the attributes).
pub(crate) struct Message {
    pub kind: u16,
    pub flags: u16,
    pub body: Vec<u8>,
}

/// Sends `messages` in one datagram and waits until the kernel has
/// acknowledged every one flagged NLM_F_ACK, or refused one.
pub(crate) fn transact(netlink: &OwnedFd, messages: &[Message]) -> io::Result<()> {
    drain(netlink);
    let mut datagram = Vec::new();
    let mut waiting = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let seq = index as u32 + 1;
        if message.flags & NLM_F_ACK != 0 {
            waiting.push(seq);
        }
        push_message(&mut datagram, message, seq);
    }
    send(netlink, &datagram)?;
    let mut buffer = vec![0u8; 16 * 1024];
    while !waiting.is_empty() {
        let got = receive(netlink, &mut buffer)?;
        for (kind, seq, body) in messages_in(&buffer[..got]) {
            if kind != NLMSG_ERROR || body.len() < 4 {
                continue;
            }
            let code = i32::from_ne_bytes([body[0], body[1], body[2], body[3]]);
            if code != 0 {
                drain(netlink);
                return Err(io::Error::from_raw_os_error(-code));
            }
            waiting.retain(|&s| s != seq);
        }
    }
    Ok(())
}

/// Sends a dump request and hands each answer's body to `each` until the
/// kernel says it is done.
pub(crate) fn dump(
    netlink: &OwnedFd,
    message: Message,
    mut each: impl FnMut(&[u8]),
) -> io::Result<()> {
    request(
        netlink,
        &Message {
            flags: message.flags | NLM_F_DUMP,
            ..message
        },
    )?;
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        let got = receive(netlink, &mut buffer)?;
        for (kind, _, body) in messages_in(&buffer[..got]) {
            match kind {
                NLMSG_DONE => return Ok(()),
                NLMSG_ERROR if body.len() >= 4 => {
                    let code = i32::from_ne_bytes([body[0], body[1], body[2], body[3]]);
                    return if code == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(-code))
                    };
                }
                _ => each(body),
            }
        }
    }
}

/// Sends a request for one object (no dump) and hands its answer's body
/// to `each`; the kernel's refusal (say ENOENT: no such object) is the
/// error.
pub(crate) fn ask(
    netlink: &OwnedFd,
    message: Message,
    mut each: impl FnMut(&[u8]),
) -> io::Result<()> {
    request(netlink, &message)?;
    let mut buffer = [0u8; 4096];
    let got = receive(netlink, &mut buffer)?;
    for (kind, _, body) in messages_in(&buffer[..got]) {
        match kind {
            NLMSG_ERROR if body.len() >= 4 => {
                let code = i32::from_ne_bytes([body[0], body[1], body[2], body[3]]);
                if code != 0 {
                    return Err(io::Error::from_raw_os_error(-code));
                }
            }
            NLMSG_DONE => {}
            _ => each(body),
        }
    }
    Ok(())
}

/// Sends one message alone (sequence number 1), after throwing away any
/// answers left from an earlier request.
fn request(netlink: &OwnedFd, message: &Message) -> io::Result<()> {
    drain(netlink);
    let mut datagram = Vec::new();
    push_message(&mut datagram, message, 1);
    send(netlink, &datagram)
}

fn push_message(datagram: &mut Vec<u8>, message: &Message, seq: u32) {
    let len = HEADER + message.body.len();
    datagram.extend_from_slice(&(len as u32).to_ne_bytes());
    datagram.extend_from_slice(&message.kind.to_ne_bytes());
    datagram.extend_from_slice(&(NLM_F_REQUEST | message.flags).to_ne_bytes());
    datagram.extend_from_slice(&seq.to_ne_bytes());
    datagram.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel's
    datagram.extend_from_slice(&message.body);
    datagram.resize(datagram.len().next_multiple_of(4), 0);
}

/// The messages in one datagram, as (type, sequence number, body).
fn messages_in(mut bytes: &[u8]) -> impl Iterator<Item = (u16, u32, &[u8])> {
    std::iter::from_fn(move || {
        if bytes.len() < HEADER {
            return None;
        }
        let len = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        if len < HEADER || len > bytes.len() {
            return None;
        }
        let kind = u16::from_ne_bytes([bytes[4], bytes[5]]);
        let seq = u32::from_ne_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let body = &bytes[HEADER..len];
        bytes = &bytes[len.next_multiple_of(4).min(bytes.len())..];
        Some((kind, seq, body))
    })
}

fn send(netlink: &OwnedFd, datagram: &[u8]) -> io::Result<()> {
    // SAFETY: `datagram` is valid for its length for the duration of send.
    let sent = unsafe {
        libc::send(
            netlink.as_raw_fd(),
            datagram.as_ptr().cast(),
            datagram.len(),
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One datagram from the kernel, waiting at most two seconds: the kernel
/// answers at once, so a longer wait means it never will.
fn receive(netlink: &OwnedFd, buffer: &mut [u8]) -> io::Result<usize> {
    let mut poll = libc::pollfd {
        fd: netlink.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut poll, 1, 2000) };
    if ready < 0 {
        return Err(io::Error::last_os_error());
    }
    if ready == 0 {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the kernel did not answer a netlink request",
        ));
    }
    // SAFETY: `buffer` is valid for its length for the duration of recv.
    let got = unsafe {
        libc::recv(
            netlink.as_raw_fd(),
            buffer.as_mut_ptr().cast(),
            buffer.len(),
            0,
        )
    };
    if got < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(got as usize)
}

/// Throws away answers left from an earlier request that failed midway.
fn drain(netlink: &OwnedFd) {
    let mut buffer = [0u8; 4096];
    // SAFETY: `buffer` is valid for its length for the duration of recv.
    while unsafe {
        libc::recv(
            netlink.as_raw_fd(),
            buffer.as_mut_ptr().cast(),
            buffer.len(),
            libc::MSG_DONTWAIT,
        )
    } > 0
    {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_to_four_bytes() {
        let kind = string(1, "tbf");
        assert_eq!(kind.len(), 8);
        assert_eq!(u16::from_ne_bytes([kind[0], kind[1]]), 8);
        let odd = string(1, "netem");
        assert_eq!(odd.len(), 12);
        assert_eq!(u16::from_ne_bytes([odd[0], odd[1]]), 10);
    }

    #[test]
    fn attributes_read_back_as_written_with_the_nested_flag_cleared() {
        let mut bytes = string(1, "netem");
        bytes.extend(nested(2, &be32(3, 7)));
        let read: Vec<(u16, Vec<u8>)> = attributes(&bytes).map(|(k, p)| (k, p.to_vec())).collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0], (1, b"netem\0".to_vec()));
        assert_eq!(read[1].0, 2);
        let inner: Vec<_> = attributes(&read[1].1).collect();
        assert_eq!(inner, vec![(3, &7u32.to_be_bytes()[..])]);
    }
}
