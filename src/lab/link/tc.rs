//! Traffic control on the private link's loopback over rtnetlink: the
//! messages `tc qdisc replace dev lo root tbf ...` and `tc qdisc del dev lo
//! root` send, built by hand (a few structs from the kernel's uapi headers)
//! so that no program and no crate is needed. The netlink socket was made
//! inside the namespace by the helper and keeps its rights there.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

// From include/uapi/linux/netlink.h, rtnetlink.h and pkt_sched.h.
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_CREATE: u16 = 0x400;
const RTM_NEWQDISC: u16 = 36;
const RTM_DELQDISC: u16 = 37;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_BURST: u16 = 6;
const TC_H_ROOT: u32 = 0xFFFF_FFFF;
const TC_LINKLAYER_ETHERNET: u8 = 1;
/// A new network namespace's loopback is always interface 1.
const LO_INDEX: i32 = 1;

/// The token bucket: how many bytes may pass at once (at least two full
/// packets, since TBF drops a packet larger than its bucket, else 10 ms
/// at the rate) and how many may wait (200 ms at the rate, like `tc ...
/// latency 200ms`).
fn tbf_sizes(rate: u64, mtu: u32) -> (u32, u32) {
    let packet = u64::from(mtu) + 14; // loopback's frames carry an Ethernet header
    let burst = (2 * packet).max(rate / 100).min(u64::from(u32::MAX));
    let limit = (rate / 5 + burst).min(u64::from(u32::MAX));
    (burst as u32, limit as u32)
}

/// Puts a token bucket of `rate` bytes a second on lo (replacing any).
pub(super) fn set_rate(netlink: &OwnedFd, rate: u64, mtu: u32) -> io::Result<()> {
    let (burst, limit) = tbf_sizes(rate, mtu);
    // struct tc_tbf_qopt: rate and peakrate (struct tc_ratespec, 12 bytes
    // each: cell_log, linklayer, overhead, cell_align, mpu, rate), limit,
    // buffer, mtu. The bucket is given in bytes by TCA_TBF_BURST, which
    // the kernel prefers to `buffer`'s time.
    let mut qopt = Vec::with_capacity(36);
    qopt.extend_from_slice(&[0, TC_LINKLAYER_ETHERNET]);
    qopt.extend_from_slice(&0u16.to_ne_bytes()); // overhead
    qopt.extend_from_slice(&0i16.to_ne_bytes()); // cell_align
    qopt.extend_from_slice(&0u16.to_ne_bytes()); // mpu
    qopt.extend_from_slice(&(rate.min(u64::from(u32::MAX)) as u32).to_ne_bytes());
    qopt.extend_from_slice(&[0u8; 12]); // no peak rate
    qopt.extend_from_slice(&limit.to_ne_bytes());
    qopt.extend_from_slice(&0u32.to_ne_bytes()); // buffer: see TCA_TBF_BURST
    qopt.extend_from_slice(&0u32.to_ne_bytes()); // mtu: no peak rate
    let mut options = attribute(TCA_TBF_PARMS, &qopt);
    if rate > u64::from(u32::MAX) {
        options.extend(attribute(TCA_TBF_RATE64, &rate.to_ne_bytes()));
    }
    options.extend(attribute(TCA_TBF_BURST, &burst.to_ne_bytes()));
    let mut attributes = attribute(TCA_KIND, b"tbf\0");
    attributes.extend(attribute(TCA_OPTIONS, &options));
    request(
        netlink,
        RTM_NEWQDISC,
        NLM_F_CREATE | NLM_F_REPLACE,
        &attributes,
    )
}

/// Takes any qdisc off lo: the link runs at full speed again.
pub(super) fn clear(netlink: &OwnedFd) -> io::Result<()> {
    match request(netlink, RTM_DELQDISC, 0, &[]) {
        // Nothing to delete is what was wanted.
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        other => other,
    }
}

/// Whether the kernel has a qdisc called `kind`: one that is missing
/// cannot even be asked for (ENOENT), one that is there answers a request
/// without options with EINVAL. Changes nothing either way.
pub(super) fn has_qdisc(netlink: &OwnedFd, kind: &str) -> io::Result<bool> {
    let mut name = kind.as_bytes().to_vec();
    name.push(0);
    // A request the kernel turns down before it touches lo: "create" with
    // no options, on a parent that does not exist.
    match request(
        netlink,
        RTM_NEWQDISC,
        NLM_F_CREATE,
        &attribute(TCA_KIND, &name),
    ) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(_) => Ok(true),
        Ok(()) => {
            clear(netlink)?;
            Ok(true)
        }
    }
}

/// One netlink attribute (struct rtattr), padded to 4 bytes.
fn attribute(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut out = Vec::with_capacity(len.next_multiple_of(4));
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(len.next_multiple_of(4), 0);
    out
}

/// Sends one qdisc request for lo's root and waits for the kernel's
/// acknowledgement.
fn request(netlink: &OwnedFd, kind: u16, flags: u16, attributes: &[u8]) -> io::Result<()> {
    // struct tcmsg: family, 3 bytes of padding, ifindex, handle, parent,
    // info.
    let mut tcmsg = vec![0u8; 4];
    tcmsg.extend_from_slice(&LO_INDEX.to_ne_bytes());
    tcmsg.extend_from_slice(&(1u32 << 16).to_ne_bytes()); // handle 1:
    tcmsg.extend_from_slice(&TC_H_ROOT.to_ne_bytes());
    tcmsg.extend_from_slice(&0u32.to_ne_bytes());
    let len = 16 + tcmsg.len() + attributes.len();
    let mut message = Vec::with_capacity(len);
    message.extend_from_slice(&(len as u32).to_ne_bytes());
    message.extend_from_slice(&kind.to_ne_bytes());
    message.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK | flags).to_ne_bytes());
    message.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
    message.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel's
    message.extend_from_slice(&tcmsg);
    message.extend_from_slice(attributes);
    // SAFETY: `message` is valid for its length for the duration of send.
    let sent = unsafe {
        libc::send(
            netlink.as_raw_fd(),
            message.as_ptr().cast(),
            message.len(),
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut answer = [0u8; 4096];
    // SAFETY: `answer` is valid for its length for the duration of recv.
    let got = unsafe {
        libc::recv(
            netlink.as_raw_fd(),
            answer.as_mut_ptr().cast(),
            answer.len(),
            0,
        )
    };
    if got < 0 {
        return Err(io::Error::last_os_error());
    }
    let got = got as usize;
    // struct nlmsghdr, then for NLMSG_ERROR an int: 0 acknowledges, a
    // negative errno refuses.
    if got < 20 || u16::from_ne_bytes([answer[4], answer[5]]) != NLMSG_ERROR {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the kernel's answer to a qdisc request was not an acknowledgement",
        ));
    }
    let code = i32::from_ne_bytes([answer[16], answer[17], answer[18], answer[19]]);
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(-code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_to_four_bytes() {
        let kind = attribute(TCA_KIND, b"tbf\0");
        assert_eq!(kind.len(), 8);
        assert_eq!(u16::from_ne_bytes([kind[0], kind[1]]), 8);
        let odd = attribute(TCA_KIND, b"netem\0");
        assert_eq!(odd.len(), 12);
        assert_eq!(u16::from_ne_bytes([odd[0], odd[1]]), 10);
    }

    #[test]
    fn the_bucket_holds_two_packets_at_the_slowest_rate() {
        let (burst, limit) = tbf_sizes(8 * 1024, 1500);
        assert_eq!(burst, 2 * 1514);
        assert!(limit > burst);
        let (burst, _) = tbf_sizes(100 << 20, 1500);
        assert_eq!(burst as u64, (100 << 20) / 100);
    }
}
