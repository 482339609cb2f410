//! A private link between the lab's writer and reader: the loopback of a
//! network namespace of their own, where the link can be shaped and
//! unplugged without touching the machine's network.
//!
//! A process with threads cannot make a user namespace (`unshare` fails
//! with EINVAL), so a small helper does it: sockscope runs itself again
//! with a hidden first argument (`HELPER_ARG`), before that process starts
//! any thread. The helper makes a private user and network namespace,
//! brings its `lo` up with the asked MTU, makes the sockets the session
//! needs there, hands them back over a Unix socket (SCM_RIGHTS) and exits.
//! A socket keeps the namespace it was made in, and the namespace lives as
//! long as one of its sockets does: nothing is left behind when the session
//! ends or sockscope is killed. The control socket it hands back (a UDP
//! socket made inside) takes the interface ioctls that unplug and plug the
//! cable: the kernel grants them because sockscope's user owns the
//! namespace.

#![allow(unsafe_code)]

pub mod guest;
pub(crate) mod netlink;
mod nfqueue;
mod nft;
mod tc;

use std::ffi::OsString;
use std::io::{self, IoSlice, IoSliceMut, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg, sendmsg, socketpair,
};
use serde::{Deserialize, Serialize};
use socket2::Socket;

use super::units::Rate;

/// The first argument that makes sockscope the link helper.
pub const HELPER_ARG: &str = "__link-helper";
/// The helper's last argument when it is to stay and make sockets.
const SERVE_ARG: &str = "serve";
/// Like Ethernet's; TBF (the rate limit to come) drops larger packets.
pub const DEFAULT_MTU: u32 = 1500;
/// IPv4's minimum datagram every host must take, and loopback's maximum.
pub const MIN_MTU: u32 = 576;
pub const MAX_MTU: u32 = 65536;
/// How long the helper may take to hand the sockets over.
const HELPER_TIMEOUT: Duration = Duration::from_secs(10);
/// The descriptor the helper finds its end of the Unix socket on.
const HELPER_FD: RawFd = 3;
/// Descriptors the helper hands over: the control socket, two rtnetlink
/// sockets (changes; the sampler's queue readings), two netfilter netlink
/// sockets (rules; the delay's queue), a packet socket (unbound: it
/// receives nothing until a capture binds it), the lab's listener and its
/// client, and the namespace's net.ipv4.tcp_rmem and tcp_wmem files (the
/// owner of a namespace may write its sysctls through them).
const SOCKETS: usize = 10;
/// The slowest link rate: below it a test run would move next to nothing.
pub const MIN_LINK_RATE: u64 = 8 * 1024;
/// The longest one-way delay, in ms: beyond it a handshake's timeouts
/// (1 s and more) are what the class would watch.
pub const MAX_DELAY_MS: u32 = 5_000;
/// What the window says where the kernel has neither netem nor a
/// netfilter queue to delay with.
pub const NO_NETEM: &str = "this kernel has no netem and no netfilter queue: delay is unavailable; \
     the rate, loss and the cable work";
/// What the record run and the window say once the delaying thread has
/// ended: the queue fails open.
pub const DELAY_STOPPED: &str = "the link's delay stopped: sockscope's delaying thread ended, \
     and packets now cross the link undelayed";
/// The most the namespace's TCP buffers may grow to for a long link.
const MAX_TCP_MEM: u64 = 64 << 20;

/// How the link delays its packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DelayMethod {
    /// The kernel's netem qdisc on lo (with the rate).
    Netem,
    /// A netfilter queue on lo's way in, and a thread of sockscope's that
    /// lets each packet go when due (kernels without netem).
    Queue,
}

impl DelayMethod {
    /// "netem" or "queue", as the JSON summary says it.
    pub fn name(self) -> &'static str {
        match self {
            DelayMethod::Netem => "netem",
            DelayMethod::Queue => "queue",
        }
    }
}

/// The delay as it stands at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DelayReading {
    /// The one-way delay in force, in ms.
    pub delay_ms: u32,
    /// Packets held by the delay now (the queue's; 0 under netem, whose
    /// packets are in the bottleneck's backlog).
    pub held_packets: u32,
    /// The delaying thread has ended: packets pass undelayed.
    pub stopped: bool,
    /// Packets that went through undelayed because the thread fell behind.
    pub undelayed_packets: u64,
    /// Packets the thread delayed so far.
    pub delayed_packets: u64,
    /// CPU time the thread used so far, in ns.
    pub thread_cpu_ns: u64,
}

/// The share of packets the link drops at random, in hundredths of a
/// percent (0 to 10 000).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loss(u32);

impl Loss {
    pub const NONE: Loss = Loss(0);

    /// From a percentage, rounded to a hundredth; None outside 0 to 100,
    /// and for a loss too small to be one (below 0.005 %, which would
    /// round to none at all, silently).
    pub fn from_percent(percent: f64) -> Option<Loss> {
        let hundredths = (percent * 100.0).round();
        ((0.0..=100.0).contains(&percent) && (hundredths > 0.0 || percent == 0.0))
            .then_some(Loss(hundredths as u32))
    }

    /// "2", "0.5", "2.5%": a percentage from 0 to 100.
    pub fn parse(text: &str) -> Result<Loss, LinkError> {
        let trimmed = text.trim();
        let number = trimmed.strip_suffix('%').unwrap_or(trimmed).trim();
        number
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite())
            .and_then(Loss::from_percent)
            .ok_or_else(|| LinkError::Loss(text.to_string()))
    }

    pub fn percent(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    fn in_steps(self) -> u32 {
        self.0 * nft::LOSS_STEPS / 10_000
    }
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.percent())
    }
}

impl Serialize for Loss {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.percent())
    }
}

impl<'de> Deserialize<'de> for Loss {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let percent = f64::deserialize(deserializer)?;
        Loss::from_percent(percent).ok_or_else(|| serde::de::Error::custom("a loss is 0 to 100 %"))
    }
}

/// The link's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSpec {
    /// The namespace loopback's MTU, in bytes.
    pub mtu: u32,
    /// The bottleneck's rate (a token bucket filter on lo), or unlimited.
    pub rate: Rate,
    /// Every packet's one-way delay, in ms (netem or the queue, as
    /// `DelayMethod` says; 0 for none).
    #[serde(default)]
    pub delay_ms: u32,
    /// The share of packets dropped at random (nf_tables).
    #[serde(default)]
    pub loss: Loss,
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            mtu: DEFAULT_MTU,
            rate: Rate::Unlimited,
            delay_ms: 0,
            loss: Loss::NONE,
        }
    }
}

/// Why a link could not be made, in one sentence for the user.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the MTU must be {MIN_MTU} to {MAX_MTU} bytes, not {0}")]
    Mtu(u32),
    /// The system refused the namespace: the helper's sentence says how to
    /// allow it.
    #[error("{0}")]
    Namespace(String),
    #[error("could not start the link helper ({program}): {source}")]
    Helper {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("the link helper did not hand over its sockets: {0}")]
    Handover(String),
    #[error("a link rate is 8K/s to max (unlimited), not {0}")]
    Rate(Rate),
    #[error("a link delay is 0 to {MAX_DELAY_MS} ms, not {0}")]
    Delay(String),
    #[error("a link loss is a percentage from 0 to 100 in steps of 0.01, like 2 or 0.5, not '{0}'")]
    Loss(String),
    /// The kernel has no netem, which a delay needs.
    #[error("{NO_NETEM}")]
    NoDelay,
    /// The kernel has no nf_tables, which loss needs: the sentence says so.
    #[error("{0}")]
    NoLoss(String),
    /// The kernel lacks what a setting needs: the sentence says which.
    #[error("{0}")]
    Unavailable(String),
    #[error("could not set the link's {what}: {source}")]
    Shaping {
        what: String,
        #[source]
        source: io::Error,
    },
}

impl LinkError {
    /// Whether the error is in what was asked (exit 2 for `record`) rather
    /// than in the system.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            LinkError::Mtu(_)
                | LinkError::Rate(_)
                | LinkError::Delay(_)
                | LinkError::Loss(_)
                | LinkError::NoDelay
                | LinkError::NoLoss(_)
                | LinkError::Unavailable(_)
        )
    }
}

/// How many bytes may wait at the bottleneck before it drops: the token
/// bucket's limit, or netem's packet limit in full-sized packets; 0 when
/// lo is unshaped (it has no queue).
pub fn queue_limit(spec: LinkSpec) -> u64 {
    queue_limit_with(spec, Some(DelayMethod::Netem))
}

/// `queue_limit` for a link that delays by `method`: only netem's delay
/// puts its own queue at the bottleneck.
pub fn queue_limit_with(spec: LinkSpec, method: Option<DelayMethod>) -> u64 {
    match spec.rate {
        _ if spec.delay_ms > 0 && method == Some(DelayMethod::Netem) => {
            tc::netem_limit_bytes(spec.mtu)
        }
        Rate::BytesPerSec(rate) => u64::from(tc::tbf_sizes(rate, spec.mtu).1),
        _ => 0,
    }
}

/// Checks a one-way delay in ms.
pub fn check_delay(delay_ms: u32) -> Result<u32, LinkError> {
    if delay_ms <= MAX_DELAY_MS {
        Ok(delay_ms)
    } else {
        Err(LinkError::Delay(delay_ms.to_string()))
    }
}

/// Checks a link rate: at least `MIN_LINK_RATE`, or unlimited.
pub fn check_link_rate(rate: Rate) -> Result<Rate, LinkError> {
    match rate {
        Rate::Unlimited => Ok(rate),
        Rate::BytesPerSec(n) if n >= MIN_LINK_RATE => Ok(rate),
        _ => Err(LinkError::Rate(rate)),
    }
}

/// Checks an MTU against the accepted range.
pub fn check_mtu(mtu: u32) -> Result<u32, LinkError> {
    if (MIN_MTU..=MAX_MTU).contains(&mtu) {
        Ok(mtu)
    } else {
        Err(LinkError::Mtu(mtu))
    }
}

static HELPER_PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// The program run as the helper: the running sockscope by default. Tests
/// of the library, which run in a test binary, point it at sockscope's.
pub fn set_helper_program(program: impl Into<PathBuf>) {
    let _ = HELPER_PROGRAM.set(program.into());
}

pub fn helper_program() -> io::Result<PathBuf> {
    match HELPER_PROGRAM.get() {
        Some(program) => Ok(program.clone()),
        None => std::env::current_exe(),
    }
}

/// An open private link: the namespace's control sockets. Dropping it (and
/// the connection's sockets) frees the namespace.
#[derive(Debug)]
pub struct Link {
    control: OwnedFd,
    /// rtnetlink, for the qdisc that shapes lo.
    netlink: OwnedFd,
    /// rtnetlink, lent to the sampler for the bottleneck's queue.
    stats: Mutex<Option<OwnedFd>>,
    /// Netfilter's netlink, for the loss and delay rules.
    netfilter: OwnedFd,
    /// Netfilter's netlink bound to the delay's queue, until the delaying
    /// thread takes it.
    queue: Mutex<Option<OwnedFd>>,
    /// The namespace's net.ipv4.tcp_rmem and tcp_wmem.
    tcp_rmem: std::fs::File,
    tcp_wmem: std::fs::File,
    /// How this kernel delays, if it can.
    delay_method: Option<DelayMethod>,
    /// The delay in force and the delaying thread's report.
    gauge: Arc<nfqueue::DelayGauge>,
    /// The delaying thread, once a delay needs it.
    delayer: Mutex<Option<nfqueue::Delayer>>,
    /// The packet socket a capture of the wire takes (once).
    packet: Mutex<Option<OwnedFd>>,
    /// The settings in force (changed live).
    spec: Mutex<LinkSpec>,
    /// Why loss is unavailable, if it is (no nf_tables).
    no_loss: Option<String>,
}

/// The link controls this kernel cannot apply, each with the one sentence
/// that says so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkLacks {
    /// Neither netem nor a netfilter queue: no delay.
    pub delay: Option<String>,
    /// No nf_tables: no loss.
    pub loss: Option<String>,
    /// How the delay is made where it can be.
    pub delay_method: Option<DelayMethod>,
}

/// What `Link::open` hands back: the link, and two fresh TCP sockets inside
/// it for the lab's listener and client.
#[derive(Debug)]
pub struct LinkSockets {
    pub link: Link,
    pub listener: Socket,
    pub client: Socket,
}

impl Link {
    /// Makes a private namespace with `spec`'s loopback through the helper.
    pub fn open(spec: LinkSpec) -> Result<LinkSockets, LinkError> {
        Link::start(spec, false).map(|(sockets, _)| sockets)
    }

    /// Like `open`, and the helper stays in the namespace to make more
    /// sockets there on request (step mode's `socket()` calls), until the
    /// factory is dropped.
    pub fn open_serving(spec: LinkSpec) -> Result<(LinkSockets, SocketFactory), LinkError> {
        let (sockets, factory) = Link::start(spec, true)?;
        let factory = factory.ok_or_else(|| LinkError::Handover("no socket factory".into()))?;
        Ok((sockets, factory))
    }

    fn start(
        spec: LinkSpec,
        serve: bool,
    ) -> Result<(LinkSockets, Option<SocketFactory>), LinkError> {
        check_mtu(spec.mtu)?;
        check_link_rate(spec.rate)?;
        check_delay(spec.delay_ms)?;
        let program = helper_program().map_err(|source| LinkError::Helper {
            program: "sockscope".into(),
            source,
        })?;
        let (ours, theirs) = socketpair(
            nix::sys::socket::AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| LinkError::Handover(e.to_string()))?;
        let theirs_fd = theirs.as_raw_fd();
        let mut command = Command::new(&program);
        command
            .arg(HELPER_ARG)
            .arg(spec.mtu.to_string())
            .args(serve.then_some(SERVE_ARG))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec the closure makes only
        // async-signal-safe calls (dup2, fcntl) on descriptors it owns.
        unsafe {
            command.pre_exec(move || {
                if theirs_fd == HELPER_FD {
                    // dup2 onto itself keeps FD_CLOEXEC: clear it instead.
                    if libc::fcntl(HELPER_FD, libc::F_SETFD, 0) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                } else if libc::dup2(theirs_fd, HELPER_FD) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|source| LinkError::Helper {
            program: program.display().to_string(),
            source,
        })?;
        drop(theirs);
        let received = receive(&ours);
        // The helper exits once it has answered (or failed), unless it
        // serves: then it is reaped when its factory is dropped.
        let factory = match (&received, serve) {
            (Ok((message, _)), true) if message == "ok" => Some(SocketFactory {
                pid: child.id(),
                socket: ours,
                child,
            }),
            _ => {
                drop(ours);
                let _ = child.wait();
                None
            }
        };
        let (message, fds) = received.map_err(|e| LinkError::Handover(e.to_string()))?;
        if let Some(sentence) = message.strip_prefix("err:") {
            return Err(LinkError::Namespace(sentence.to_string()));
        }
        let Ok(
            [
                control,
                netlink,
                stats,
                netfilter,
                queue,
                packet,
                listener,
                client,
                tcp_rmem,
                tcp_wmem,
            ],
        ) = <[OwnedFd; SOCKETS]>::try_from(fds).map_err(|fds| fds.len())
        else {
            return Err(LinkError::Handover(format!(
                "it answered {message:?} without its {SOCKETS} sockets"
            )));
        };
        if message != "ok" {
            return Err(LinkError::Handover(format!("it answered {message:?}")));
        }
        // Asked before any qdisc is on lo, so the probe changes nothing.
        let netem = tc::has_qdisc(&netlink, "netem").unwrap_or(false);
        // Else the queue: binding it and putting the rule on (and off
        // again) is the test that the kernel has both.
        let delay_method = if netem {
            Some(DelayMethod::Netem)
        } else if nfqueue::bind(&queue).is_ok()
            && nft::set_delay_rule(&netfilter, true)
                .and_then(|()| nft::set_delay_rule(&netfilter, false))
                .is_ok()
        {
            Some(DelayMethod::Queue)
        } else {
            None
        };
        // Making the (empty) loss chain is the test that nf_tables is there.
        let no_loss = nft::set_loss(&netfilter, 0).err().map(|e| {
            format!(
                "this kernel has no nf_tables for sockscope's private link ({e}): loss is \
                 unavailable; the rate and the cable work"
            )
        });
        // lo starts as it is made: unshaped and lossless.
        let link = Link {
            control,
            netlink,
            stats: Mutex::new(Some(stats)),
            netfilter,
            queue: Mutex::new(Some(queue)),
            tcp_rmem: tcp_rmem.into(),
            tcp_wmem: tcp_wmem.into(),
            delay_method,
            gauge: Arc::default(),
            delayer: Mutex::new(None),
            packet: Mutex::new(Some(packet)),
            spec: Mutex::new(LinkSpec {
                rate: Rate::Unlimited,
                delay_ms: 0,
                loss: Loss::NONE,
                ..spec
            }),
            no_loss,
        };
        link.shape(spec.rate, spec.delay_ms)?;
        link.set_loss(spec.loss)?;
        Ok((
            LinkSockets {
                link,
                listener: Socket::from(listener),
                client: Socket::from(client),
            },
            factory,
        ))
    }

    /// The settings in force.
    pub fn spec(&self) -> LinkSpec {
        *self.lock_spec()
    }

    fn lock_spec(&self) -> std::sync::MutexGuard<'_, LinkSpec> {
        self.spec.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this kernel has netem.
    pub fn has_netem(&self) -> bool {
        self.delay_method == Some(DelayMethod::Netem)
    }

    /// How this link delays: netem, the queue, or not at all.
    pub fn delay_method(&self) -> Option<DelayMethod> {
        self.delay_method
    }

    /// What the kernel lacks for the link's controls.
    pub fn lacks(&self) -> LinkLacks {
        LinkLacks {
            delay: self.delay_method.is_none().then(|| NO_NETEM.to_string()),
            loss: self.no_loss.clone(),
            delay_method: self.delay_method,
        }
    }

    /// The delay in force and what the delaying thread reports.
    pub fn delay(&self) -> DelayReading {
        reading(&self.gauge)
    }

    /// Ends the delaying thread at once, as if it had died, without
    /// letting its packets go: the kernel drops them (TCP sends them
    /// again) and lets every later packet through undelayed. The failure
    /// the queue is made to survive, on demand (tests, a class's demo).
    pub fn stop_delaying_thread(&self) {
        if let Some(mut delayer) = self
            .delayer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            delayer.stop(nfqueue::Ending::Abandon);
        }
    }

    /// Sets the bottleneck's rate: a token bucket filter on the link's lo,
    /// or none for unlimited. Bytes already queued at the bottleneck when
    /// it changes are dropped, and TCP sends them again.
    pub fn set_rate(&self, rate: Rate) -> Result<(), LinkError> {
        let delay = self.spec().delay_ms;
        self.shape(rate, delay)
    }

    /// Sets every packet's one-way delay (netem, with the rate).
    pub fn set_delay(&self, delay_ms: u32) -> Result<(), LinkError> {
        let rate = self.spec().rate;
        self.shape(rate, delay_ms)
    }

    /// Puts the qdisc for `rate` and `delay_ms` on lo: netem for a delay
    /// (pacing to the rate as well), a token bucket for a rate alone,
    /// nothing for neither.
    fn shape(&self, rate: Rate, delay_ms: u32) -> Result<(), LinkError> {
        check_link_rate(rate)?;
        check_delay(delay_ms)?;
        if delay_ms > 0 && self.delay_method.is_none() {
            return Err(LinkError::NoDelay);
        }
        let netem = self.delay_method == Some(DelayMethod::Netem);
        // One change at a time: the netlink socket answers in order.
        let mut spec = self.lock_spec();
        let shaped = spec.rate != Rate::Unlimited || (netem && spec.delay_ms > 0);
        let paced = match rate {
            Rate::BytesPerSec(n) => Some(n),
            _ => None,
        };
        if !netem && delay_ms != spec.delay_ms {
            self.queue_delay(delay_ms, rate)?;
        }
        let applied = match paced {
            _ if netem && delay_ms > 0 => tc::set_netem(&self.netlink, delay_ms, paced),
            Some(n) => tc::set_rate(&self.netlink, n, spec.mtu),
            // Unshaped already: lo has no qdisc to take off.
            None if !shaped => Ok(()),
            None => tc::clear(&self.netlink),
        };
        applied.map_err(|source| LinkError::Shaping {
            what: if delay_ms > 0 {
                format!("delay to {delay_ms} ms at {rate}")
            } else {
                format!("rate to {rate}")
            },
            source,
        })?;
        spec.rate = rate;
        spec.delay_ms = delay_ms;
        self.gauge.delay_ms.store(delay_ms, Relaxed);
        Ok(())
    }

    /// Delays with the queue: the first delay starts the delaying thread
    /// and puts the rule on. Once on, the rule stays, even at 0 ms: taking
    /// it off while packets are held would let new ones overtake them.
    fn queue_delay(&self, delay_ms: u32, rate: Rate) -> Result<(), LinkError> {
        let failed = |source| LinkError::Shaping {
            what: format!("delay to {delay_ms} ms"),
            source,
        };
        if delay_ms > 0 && self.gauge.stopped.load(Relaxed) {
            return Err(LinkError::Unavailable(DELAY_STOPPED.to_string()));
        }
        if delay_ms > 0 {
            self.raise_tcp_memory(rate, delay_ms);
        }
        self.gauge.delay_ms.store(delay_ms, Relaxed);
        let mut delayer = self.delayer.lock().unwrap_or_else(|p| p.into_inner());
        if delay_ms > 0
            && delayer.is_none()
            && let Some(queue) = self.queue.lock().unwrap_or_else(|p| p.into_inner()).take()
        {
            *delayer = Some(nfqueue::Delayer::start(queue, self.gauge.clone()).map_err(failed)?);
            nft::set_delay_rule(&self.netfilter, true).map_err(failed)?;
        }
        Ok(())
    }

    /// Raises the namespace's TCP buffer maxima (autotuning's ceilings) to
    /// cover the bandwidth-delay product, with room for the kernel's
    /// per-segment overhead; never lowers them. Best effort: a read-only
    /// /proc/sys leaves the defaults.
    fn raise_tcp_memory(&self, rate: Rate, delay_ms: u32) {
        let rtt_ms = 2 * u64::from(delay_ms);
        let needed = match rate {
            Rate::BytesPerSec(n) => (4 * n).saturating_mul(rtt_ms) / 1000,
            Rate::Unlimited | Rate::Paused => MAX_TCP_MEM,
        }
        .min(MAX_TCP_MEM);
        for file in [&self.tcp_rmem, &self.tcp_wmem] {
            let _ = raise_maximum(file, needed);
        }
    }

    /// Sets the share of packets the link drops at random.
    pub fn set_loss(&self, loss: Loss) -> Result<(), LinkError> {
        let mut spec = self.lock_spec();
        if spec.loss == loss {
            return Ok(());
        }
        if let Some(sentence) = &self.no_loss {
            return Err(LinkError::NoLoss(sentence.clone()));
        }
        nft::set_loss(&self.netfilter, loss.in_steps()).map_err(|source| LinkError::Shaping {
            what: format!("loss to {loss}"),
            source,
        })?;
        spec.loss = loss;
        Ok(())
    }

    /// Plugs (lo up) or unplugs (lo down) the link's cable. Connections on
    /// it stay open; while unplugged their segments are lost and the
    /// sender retransmits on timeout.
    pub fn set_cable(&self, plugged: bool) -> io::Result<()> {
        set_lo_up(self.control.as_fd(), plugged)
    }

    /// Whether the cable is plugged in (lo is up).
    pub fn cable_plugged(&self) -> io::Result<bool> {
        lo_is_up(self.control.as_fd())
    }

    /// The link's packet socket, armed to capture the wire (filter, ring,
    /// bound to lo); only the first call gets it.
    pub fn capture_socket(&self) -> io::Result<super::wire::Tap> {
        let socket = self
            .packet
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| io::Error::other("the link's capture is taken"))?;
        // lo keeps its segmentation offload and passes super-segments of up
        // to 64 KiB whole; the capture cuts each into the segments the
        // kernel counts (tcpi_segs_out), by the size it gives with the
        // frame, as a network card would for a wire. (Turning the offload
        // off instead cost three quarters of the throughput at full speed.)
        super::wire::arm(socket)
    }

    /// A handle the sampler reads the cable's state and the bottleneck's
    /// queue through (the queue only for the first one taken).
    pub fn probe(&self) -> io::Result<LinkProbe> {
        Ok(LinkProbe {
            control: self.control.try_clone()?,
            stats: self.stats.lock().unwrap_or_else(|p| p.into_inner()).take(),
            gauge: self.gauge.clone(),
        })
    }
}

fn reading(gauge: &nfqueue::DelayGauge) -> DelayReading {
    let stopped = gauge.stopped.load(Relaxed);
    DelayReading {
        // Once the thread has ended, packets cross undelayed, whatever
        // was asked.
        delay_ms: if stopped {
            0
        } else {
            gauge.delay_ms.load(Relaxed)
        },
        held_packets: gauge.held.load(Relaxed),
        stopped,
        undelayed_packets: gauge.undelayed.load(Relaxed),
        delayed_packets: gauge.delayed.load(Relaxed),
        thread_cpu_ns: gauge.cpu_ns.load(Relaxed),
    }
}

/// Sets a "min default max" sysctl's max to at least `bytes`.
fn raise_maximum(file: &std::fs::File, bytes: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let mut text = [0u8; 128];
    let got = file.read_at(&mut text, 0)?;
    let values: Vec<u64> = String::from_utf8_lossy(&text[..got])
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let [min, default, max] = values[..] else {
        return Err(io::Error::other("not three numbers"));
    };
    if max >= bytes {
        return Ok(());
    }
    file.write_at(format!("{min} {default} {bytes}\n").as_bytes(), 0)?;
    Ok(())
}

/// Reads a link's cable (one SIOCGIFFLAGS ioctl) and its bottleneck's
/// queue (one rtnetlink dump).
#[derive(Debug)]
pub struct LinkProbe {
    control: OwnedFd,
    stats: Option<OwnedFd>,
    gauge: Arc<nfqueue::DelayGauge>,
}

impl LinkProbe {
    pub fn plugged(&self) -> io::Result<bool> {
        lo_is_up(self.control.as_fd())
    }

    /// What waits at the bottleneck now; None without a queue to read.
    pub fn queue(&self) -> Option<crate::lab::sample::Bottleneck> {
        tc::queue_stats(self.stats.as_ref()?).ok()
    }

    /// The delay in force and the packets it holds (a few atomic loads).
    pub fn delay(&self) -> DelayReading {
        reading(&self.gauge)
    }
}

/// A helper that stayed in the link's namespace to make TCP sockets there
/// on request: each `socket()` is a real call, made when asked, in the
/// namespace. Dropping it ends the helper and reaps it.
#[derive(Debug)]
pub struct SocketFactory {
    socket: OwnedFd,
    child: std::process::Child,
    pid: u32,
}

impl SocketFactory {
    /// The helper's process, in the namespace: where `guest` enters it.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// A new TCP socket in the namespace (the helper calls socket()).
    pub fn tcp(&self) -> io::Result<Socket> {
        self.ask(b"tcp").map(Socket::from)
    }

    /// A new sock_diag netlink socket made in the namespace: it reads the
    /// namespace's TCP sockets wherever it is used (a netlink socket keeps
    /// the network namespace it was made in).
    pub fn sock_diag(&self) -> io::Result<OwnedFd> {
        self.ask(b"diag")
    }

    fn ask(&self, request: &[u8]) -> io::Result<OwnedFd> {
        sendmsg::<()>(
            self.socket.as_raw_fd(),
            &[IoSlice::new(request)],
            &[],
            MsgFlags::empty(),
            None,
        )
        .map_err(io::Error::from)?;
        let (message, mut fds) = receive(&self.socket)?;
        match (message.strip_prefix("err:"), fds.pop()) {
            (Some(error), _) => Err(io::Error::other(error.to_string())),
            (None, Some(fd)) => Ok(fd),
            (None, None) => Err(io::Error::other("the link helper sent no socket")),
        }
    }

    /// The namespace's `/proc/net/tcp`, as its helper sees it: sockets
    /// without a descriptor (TIME_WAIT) are listed there.
    pub fn proc_net_tcp(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/net/tcp", self.pid))
    }
}

impl Drop for SocketFactory {
    fn drop(&mut self) {
        // The helper reads end of file and exits.
        let _ =
            nix::sys::socket::shutdown(self.socket.as_raw_fd(), nix::sys::socket::Shutdown::Both);
        let _ = self.child.wait();
    }
}

/// Receives the helper's answer: a short text and any descriptors.
fn receive(socket: &OwnedFd) -> io::Result<(String, Vec<OwnedFd>)> {
    let timeout = libc::timeval {
        tv_sec: HELPER_TIMEOUT.as_secs() as libc::time_t,
        tv_usec: 0,
    };
    nix::sys::socket::setsockopt(
        socket,
        nix::sys::socket::sockopt::ReceiveTimeout,
        &timeout.into(),
    )
    .map_err(io::Error::from)?;
    let mut text = [0u8; 1024];
    let mut iov = [IoSliceMut::new(&mut text)];
    let mut space = nix::cmsg_space!([RawFd; SOCKETS]);
    let message = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(io::Error::from)?;
    let mut fds = Vec::new();
    for cmsg in message.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(received) = cmsg {
            // SAFETY: SCM_RIGHTS just installed these descriptors in this
            // process; nothing else owns them.
            fds.extend(
                received
                    .into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    let len = message.bytes;
    if len == 0 && fds.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "it exited without an answer",
        ));
    }
    Ok((String::from_utf8_lossy(&text[..len]).into_owned(), fds))
}

/// The helper's whole life (sockscope's `main` calls this first thing when
/// its first argument is `HELPER_ARG`, before any thread starts). Returns
/// the exit code.
pub fn helper_main(args: &[OsString]) -> i32 {
    // SAFETY: descriptor 3 was set up for this process by `Link::open`.
    let answer = unsafe { OwnedFd::from_raw_fd(HELPER_FD) };
    let mtu = args
        .first()
        .and_then(|a| a.to_str())
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_MTU);
    // A helper whose parent died mid-handover does not linger.
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    let serve = args.get(1).is_some_and(|a| a == SERVE_ARG);
    match make_namespace(mtu) {
        Ok(sockets) => {
            let fds: Vec<RawFd> = sockets.iter().map(AsRawFd::as_raw_fd).collect();
            let sent = sendmsg::<()>(
                answer.as_raw_fd(),
                &[IoSlice::new(b"ok")],
                &[ControlMessage::ScmRights(&fds)],
                MsgFlags::empty(),
                None,
            );
            drop(sockets);
            if sent.is_ok() && serve {
                serve_sockets(&answer);
            }
            i32::from(sent.is_err())
        }
        Err(sentence) => {
            let text = format!("err:{sentence}");
            let _ = sendmsg::<()>(
                answer.as_raw_fd(),
                &[IoSlice::new(text.as_bytes())],
                &[],
                MsgFlags::empty(),
                None,
            );
            1
        }
    }
}

/// In a serving helper: answers each "tcp" with a new TCP socket made in
/// the namespace, and each "diag" with a sock_diag netlink socket, until
/// the other end closes.
fn serve_sockets(answer: &OwnedFd) {
    loop {
        let mut request = [0u8; 16];
        let mut iov = [IoSliceMut::new(&mut request)];
        let got = match recvmsg::<()>(answer.as_raw_fd(), &mut iov, None, MsgFlags::empty()) {
            Ok(message) => message.bytes,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        };
        if got == 0 {
            return;
        }
        let reply = if &request[..got] == b"diag" {
            new_socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_SOCK_DIAG)
        } else {
            new_socket(libc::AF_INET, libc::SOCK_STREAM, 0)
        };
        let sent = match &reply {
            Ok(socket) => sendmsg::<()>(
                answer.as_raw_fd(),
                &[IoSlice::new(b"ok")],
                &[ControlMessage::ScmRights(&[socket.as_raw_fd()])],
                MsgFlags::empty(),
                None,
            ),
            Err(e) => sendmsg::<()>(
                answer.as_raw_fd(),
                &[IoSlice::new(format!("err:socket(): {e}").as_bytes())],
                &[],
                MsgFlags::empty(),
                None,
            ),
        };
        if sent.is_err() {
            return;
        }
    }
}

/// In the helper: the namespace, its lo, and the sockets made in it.
fn make_namespace(mtu: u32) -> Result<[OwnedFd; SOCKETS], String> {
    use nix::sched::{CloneFlags, unshare};
    // SAFETY: getuid and getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    // Which setting refuses, read now: inside, /proc/sys/user is the new
    // namespace's.
    let setting = refusing_setting();
    let refused = |step: &str, error: &dyn std::fmt::Display| refused(setting, step, error);
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET)
        .map_err(|errno| refused("unshare", &io::Error::from(errno)))?;
    // Map our user to root inside, so the namespace's lo is ours to set.
    let write = |path: &str, text: String| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .map_err(|e| refused(&format!("writing {path}"), &e))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1"))?;
    let control = new_socket(libc::AF_INET, libc::SOCK_DGRAM, 0)
        .map_err(|e| format!("could not make the link's control socket: {e}"))?;
    set_lo_mtu(control.as_fd(), mtu)
        .map_err(|e| format!("could not set the private link's MTU to {mtu}: {e}"))?;
    set_lo_up(control.as_fd(), true).map_err(|e| match setting {
        // AppArmor lets the namespace be made but takes its capabilities.
        Some(RefusingSetting::AppArmor) => refused("bringing its lo up", &e),
        _ => format!("could not bring the private link up: {e}"),
    })?;
    let netlink = |protocol| {
        new_socket(libc::AF_NETLINK, libc::SOCK_RAW, protocol)
            .map_err(|e| format!("could not make the link's netlink socket: {e}"))
    };
    let tcp =
        || new_socket(libc::AF_INET, libc::SOCK_STREAM, 0).map_err(|e| format!("socket(): {e}"));
    // /proc/sys/net is this process's namespace's now. Read-only where
    // /proc/sys is mounted so (some containers): the maxima then stay.
    let sysctl = |name: &str| -> Result<OwnedFd, String> {
        let path = format!("/proc/sys/net/ipv4/{name}");
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .or_else(|_| std::fs::File::open(&path))
            .map(OwnedFd::from)
            .map_err(|e| format!("could not open {path} in the private namespace: {e}"))
    };
    Ok([
        control,
        netlink(libc::NETLINK_ROUTE)?,
        netlink(libc::NETLINK_ROUTE)?,
        netlink(libc::NETLINK_NETFILTER)?,
        netlink(libc::NETLINK_NETFILTER)?,
        // Protocol 0: no frames until a capture binds it to lo.
        new_socket(libc::AF_PACKET, libc::SOCK_RAW, 0)
            .map_err(|e| format!("could not make the link's packet socket: {e}"))?,
        tcp()?,
        tcp()?,
        sysctl("tcp_rmem")?,
        sysctl("tcp_wmem")?,
    ])
}

/// A system setting that refuses an unprivileged user namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefusingSetting {
    /// Ubuntu 23.10 and later: the namespace is made without capabilities.
    AppArmor,
    /// `user.max_user_namespaces` is 0.
    NoneAllowed,
    /// Debian before 11: `kernel.unprivileged_userns_clone` is 0.
    DebianClone,
}

/// The setting that would refuse the namespace on this system, if any.
fn refusing_setting() -> Option<RefusingSetting> {
    let reads = |path: &str, value: &str| {
        std::fs::read_to_string(path).is_ok_and(|text| text.trim() == value)
    };
    if reads(
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        "1",
    ) {
        Some(RefusingSetting::AppArmor)
    } else if reads("/proc/sys/user/max_user_namespaces", "0") {
        Some(RefusingSetting::NoneAllowed)
    } else if reads("/proc/sys/kernel/unprivileged_userns_clone", "0") {
        Some(RefusingSetting::DebianClone)
    } else {
        None
    }
}

/// One sentence: the namespace was refused at `step`, by which setting,
/// and how to allow it.
fn refused(setting: Option<RefusingSetting>, step: &str, error: &dyn std::fmt::Display) -> String {
    let (why, allow) = match setting {
        Some(RefusingSetting::AppArmor) => (
            "AppArmor restricts unprivileged user namespaces here \
             (kernel.apparmor_restrict_unprivileged_userns = 1)",
            "allow them with 'sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0', \
             or for sockscope alone with an AppArmor profile that grants it 'userns,'",
        ),
        Some(RefusingSetting::NoneAllowed) => (
            "this system allows no user namespaces (user.max_user_namespaces = 0)",
            "allow them with 'sudo sysctl user.max_user_namespaces=15000'",
        ),
        Some(RefusingSetting::DebianClone) => (
            "this system keeps user namespaces for root \
             (kernel.unprivileged_userns_clone = 0)",
            "allow them with 'sudo sysctl kernel.unprivileged_userns_clone=1'",
        ),
        None => (
            "this system does not let sockscope make a private network namespace",
            "allow unprivileged user namespaces, or run as root",
        ),
    };
    format!("{why}, so the private link cannot be made ({step}: {error}); {allow}")
}

/// A socket in this process's network namespace.
fn new_socket(
    family: libc::c_int,
    kind: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the descriptor is owned at once.
    let fd = unsafe { libc::socket(family, kind | libc::SOCK_CLOEXEC, protocol) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just returned by socket(2) and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An `ifreq` naming the namespace's loopback.
fn lo_request() -> libc::ifreq {
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    request
}

fn interface_ioctl(fd: impl AsFd, call: libc::Ioctl, request: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: `request` is a valid ifreq for this interface ioctl, which
    // reads and writes only within it.
    let rc = unsafe { libc::ioctl(fd.as_fd().as_raw_fd(), call, request as *mut libc::ifreq) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn lo_flags(fd: impl AsFd) -> io::Result<libc::c_short> {
    let mut request = lo_request();
    interface_ioctl(fd, libc::SIOCGIFFLAGS, &mut request)?;
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    Ok(unsafe { request.ifr_ifru.ifru_flags })
}

fn lo_is_up(fd: impl AsFd) -> io::Result<bool> {
    Ok(lo_flags(fd)? & libc::IFF_UP as libc::c_short != 0)
}

fn set_lo_up(fd: impl AsFd, up: bool) -> io::Result<()> {
    let flags = lo_flags(fd.as_fd())?;
    let up_flag = libc::IFF_UP as libc::c_short;
    let mut request = lo_request();
    request.ifr_ifru.ifru_flags = if up {
        flags | up_flag
    } else {
        flags & !up_flag
    };
    interface_ioctl(fd, libc::SIOCSIFFLAGS, &mut request)
}

fn set_lo_mtu(fd: impl AsFd, mtu: u32) -> io::Result<()> {
    let mut request = lo_request();
    request.ifr_ifru.ifru_mtu = mtu as libc::c_int;
    interface_ioctl(fd, libc::SIOCSIFMTU, &mut request)
}
