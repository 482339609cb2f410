//! Traffic control on the private link's loopback over rtnetlink: the
//! messages `tc qdisc replace dev lo root tbf ...`, `... root netem ...`,
//! `tc qdisc del dev lo root` and `tc -s qdisc show dev lo` send, built by
//! hand from the kernel's uapi structs (pkt_sched.h, gen_stats.h).

use std::io;
use std::os::fd::OwnedFd;

use crate::lab::sample::Bottleneck;

use super::netlink::{Message, NLM_F_ACK, attribute, attributes, dump, string, transact};

// From include/uapi/linux/rtnetlink.h, pkt_sched.h and gen_stats.h.
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_CREATE: u16 = 0x400;
const RTM_NEWQDISC: u16 = 36;
const RTM_DELQDISC: u16 = 37;
const RTM_GETQDISC: u16 = 38;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_STATS2: u16 = 7;
const TCA_STATS_QUEUE: u16 = 3;
const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_BURST: u16 = 6;
const TCA_NETEM_RATE: u16 = 6;
const TCA_NETEM_RATE64: u16 = 8;
const TCA_NETEM_LATENCY64: u16 = 10;
const TC_H_ROOT: u32 = 0xFFFF_FFFF;
const TC_LINKLAYER_ETHERNET: u8 = 1;
/// A new network namespace's loopback is always interface 1.
const LO_INDEX: i32 = 1;
/// The root qdisc's handle, 1:.
const ROOT_HANDLE: u32 = 1 << 16;
/// How many packets netem holds while they wait out the delay: enough for
/// a second of a fast link's full-sized packets.
const NETEM_LIMIT: u32 = 100_000;

/// The token bucket: how many bytes may pass at once (at least two full
/// packets, since TBF drops a packet larger than its bucket, else 10 ms
/// at the rate) and how many may wait (200 ms at the rate, like `tc ...
/// latency 200ms`).
pub(super) fn tbf_sizes(rate: u64, mtu: u32) -> (u32, u32) {
    let packet = u64::from(mtu) + 14; // loopback's frames carry an Ethernet header
    let burst = (2 * packet).max(rate / 100).min(u64::from(u32::MAX));
    let limit = (rate / 5 + burst).min(u64::from(u32::MAX));
    (burst as u32, limit as u32)
}

/// netem's queue limit in bytes of full-sized packets.
pub(super) fn netem_limit_bytes(mtu: u32) -> u64 {
    u64::from(NETEM_LIMIT) * (u64::from(mtu) + 14)
}

/// struct tc_tbf_qopt's (and netem's) struct tc_ratespec for `rate`.
fn ratespec(rate: u64) -> Vec<u8> {
    // cell_log, linklayer, overhead, cell_align, mpu, rate.
    let mut spec = vec![0, TC_LINKLAYER_ETHERNET];
    spec.extend_from_slice(&0u16.to_ne_bytes());
    spec.extend_from_slice(&0i16.to_ne_bytes());
    spec.extend_from_slice(&0u16.to_ne_bytes());
    spec.extend_from_slice(&(rate.min(u64::from(u32::MAX)) as u32).to_ne_bytes());
    spec
}

/// Puts a token bucket of `rate` bytes a second on lo (replacing any).
pub(super) fn set_rate(netlink: &OwnedFd, rate: u64, mtu: u32) -> io::Result<()> {
    let (burst, limit) = tbf_sizes(rate, mtu);
    // struct tc_tbf_qopt: rate and peakrate (struct tc_ratespec, 12 bytes
    // each), limit, buffer, mtu. The bucket is given in bytes by
    // TCA_TBF_BURST, which the kernel prefers to `buffer`'s time.
    let mut qopt = ratespec(rate);
    qopt.extend_from_slice(&[0u8; 12]); // no peak rate
    qopt.extend_from_slice(&limit.to_ne_bytes());
    qopt.extend_from_slice(&0u32.to_ne_bytes()); // buffer: see TCA_TBF_BURST
    qopt.extend_from_slice(&0u32.to_ne_bytes()); // mtu: no peak rate
    let mut options = attribute(TCA_TBF_PARMS, &qopt);
    if rate > u64::from(u32::MAX) {
        options.extend(attribute(TCA_TBF_RATE64, &rate.to_ne_bytes()));
    }
    options.extend(attribute(TCA_TBF_BURST, &burst.to_ne_bytes()));
    replace_root("tbf", &options, netlink)
}

/// Puts netem on lo (replacing any qdisc): every packet waits `delay_ms`,
/// and with a rate, netem also paces them to it.
pub(super) fn set_netem(netlink: &OwnedFd, delay_ms: u32, rate: Option<u64>) -> io::Result<()> {
    replace_root("netem", &netem_options(delay_ms, rate), netlink)
}

/// netem's TCA_OPTIONS. The layout is iproute2's: `tc qdisc add dev lo
/// root netem delay 50ms rate 1mbit limit 100000` (iproute2 6.1, under
/// strace) sends the 24-byte struct with limit 100000, then a 20-byte
/// TCA_NETEM_RATE whose first word is 125000; it gives the delay in the
/// struct's ticks, where this gives it as TCA_NETEM_LATENCY64 in ns (which
/// the kernel prefers since 4.15, and which needs no tick rate).
fn netem_options(delay_ms: u32, rate: Option<u64>) -> Vec<u8> {
    // struct tc_netem_qopt: latency (in the old ticks; LATENCY64 below
    // gives it in ns and wins), limit, loss, gap, duplicate, jitter; then
    // netem's own attributes, not nested.
    let mut options = Vec::with_capacity(64);
    options.extend_from_slice(&0u32.to_ne_bytes());
    options.extend_from_slice(&NETEM_LIMIT.to_ne_bytes());
    options.extend_from_slice(&[0u8; 16]);
    let ns = i64::from(delay_ms) * 1_000_000;
    options.extend(attribute(TCA_NETEM_LATENCY64, &ns.to_ne_bytes()));
    if let Some(rate) = rate {
        // struct tc_netem_rate: rate, packet_overhead, cell_size,
        // cell_overhead; RATE64 carries rates that do not fit.
        let mut spec = (rate.min(u64::from(u32::MAX)) as u32)
            .to_ne_bytes()
            .to_vec();
        spec.extend_from_slice(&[0u8; 12]);
        options.extend(attribute(TCA_NETEM_RATE, &spec));
        if rate >= u64::from(u32::MAX) {
            options.extend(attribute(TCA_NETEM_RATE64, &rate.to_ne_bytes()));
        }
    }
    options
}

fn replace_root(kind: &str, options: &[u8], netlink: &OwnedFd) -> io::Result<()> {
    let mut attributes = string(TCA_KIND, kind);
    attributes.extend(attribute(TCA_OPTIONS, options));
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
    // A request the kernel turns down before it touches lo: "create" with
    // no options.
    match request(netlink, RTM_NEWQDISC, NLM_F_CREATE, &string(TCA_KIND, kind)) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(_) => Ok(true),
        Ok(()) => {
            clear(netlink)?;
            Ok(true)
        }
    }
}

/// Reads lo's root qdisc's queue (one netlink dump, like `tc -s qdisc`).
pub(super) fn queue_stats(netlink: &OwnedFd) -> io::Result<Bottleneck> {
    let mut found = Bottleneck::default();
    dump(
        netlink,
        Message {
            kind: RTM_GETQDISC,
            flags: 0,
            body: tcmsg(0, 0),
        },
        |body| {
            if body.len() < 20 {
                return;
            }
            let ifindex = i32::from_ne_bytes([body[4], body[5], body[6], body[7]]);
            let parent = u32::from_ne_bytes([body[12], body[13], body[14], body[15]]);
            if ifindex != LO_INDEX || parent != TC_H_ROOT {
                return;
            }
            for (kind, payload) in attributes(&body[20..]) {
                if kind != TCA_STATS2 {
                    continue;
                }
                for (kind, queue) in attributes(payload) {
                    // struct gnet_stats_queue: qlen, backlog, drops,
                    // requeues, overlimits.
                    if kind == TCA_STATS_QUEUE && queue.len() >= 12 {
                        let word = |i: usize| {
                            u32::from_ne_bytes([queue[i], queue[i + 1], queue[i + 2], queue[i + 3]])
                        };
                        found = Bottleneck {
                            backlog_bytes: word(4),
                            drops: word(8),
                        };
                    }
                }
            }
        },
    )?;
    Ok(found)
}

/// struct tcmsg: family, 3 bytes of padding, ifindex, handle, parent, info.
fn tcmsg(handle: u32, parent: u32) -> Vec<u8> {
    let mut tcmsg = vec![0u8; 4];
    tcmsg.extend_from_slice(&LO_INDEX.to_ne_bytes());
    tcmsg.extend_from_slice(&handle.to_ne_bytes());
    tcmsg.extend_from_slice(&parent.to_ne_bytes());
    tcmsg.extend_from_slice(&0u32.to_ne_bytes());
    tcmsg
}

/// Sends one request for lo's root qdisc and waits for the kernel's
/// acknowledgement.
fn request(netlink: &OwnedFd, kind: u16, flags: u16, attributes: &[u8]) -> io::Result<()> {
    let mut body = tcmsg(ROOT_HANDLE, TC_H_ROOT);
    body.extend_from_slice(attributes);
    transact(
        netlink,
        &[Message {
            kind,
            flags: NLM_F_ACK | flags,
            body,
        }],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_holds_two_packets_at_the_slowest_rate() {
        let (burst, limit) = tbf_sizes(8 * 1024, 1500);
        assert_eq!(burst, 2 * 1514);
        assert!(limit > burst);
        let (burst, _) = tbf_sizes(100 << 20, 1500);
        assert_eq!(burst as u64, (100 << 20) / 100);
    }

    #[test]
    fn netem_options_are_laid_out_as_iproute2_lays_them_out() {
        let options = netem_options(50, Some(125_000));
        let word = |i: usize| u32::from_ne_bytes(options[i..i + 4].try_into().unwrap());
        assert_eq!(word(4), NETEM_LIMIT);
        assert!(
            (8..24).step_by(4).all(|i| word(i) == 0),
            "no loss, gap, duplicate or jitter"
        );
        let found: Vec<(u16, Vec<u8>)> = attributes(&options[24..])
            .map(|(kind, payload)| (kind, payload.to_vec()))
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, TCA_NETEM_LATENCY64);
        assert_eq!(found[0].1, 50_000_000i64.to_ne_bytes());
        // As tc's: a 16-byte struct tc_netem_rate, the rate first.
        assert_eq!(found[1].0, TCA_NETEM_RATE);
        assert_eq!(found[1].1.len(), 16);
        assert_eq!(found[1].1[..4], 125_000u32.to_ne_bytes());
        // No rate: the delay alone.
        assert_eq!(attributes(&netem_options(5, None)[24..]).count(), 1);
    }

    #[test]
    fn a_ratespec_is_twelve_bytes_with_the_rate_last() {
        let spec = ratespec(65_536);
        assert_eq!(spec.len(), 12);
        assert_eq!(u32::from_ne_bytes(spec[8..12].try_into().unwrap()), 65_536);
        let capped = ratespec(u64::MAX);
        assert_eq!(
            u32::from_ne_bytes(capped[8..12].try_into().unwrap()),
            u32::MAX
        );
    }
}
