//! `sockscope run --out DIR`: every TCP connection the programs on a
//! private link make, each followed as `record --attach` follows one (its
//! samples to `connection-N.csv`, its summary to `connection-N.json`), and
//! the run's own account in `run.json`: the command and its status, the
//! link, and each connection's ends, state at the end, bytes each way and
//! retransmissions.
//!
//! sock_diag answers for the network namespace its socket was made in, so
//! every socket here comes from the link's serving helper. One dump per
//! tick finds the new connections and keeps each end's counts; each
//! connection found is then followed by an `AttachSource` of its own.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

use super::{AttachSource, Phase, Run, Target};
use crate::export::csv::SampleCsv;
use crate::export::summary::{RunFigures, Summary};
use crate::export::{AtomicFile, OutputPathError};
use crate::lab::diag::{Connection, DiagSocket, OwnerCache};
use crate::lab::link::{LinkSpec, SocketFactory};
use crate::lab::probe::{TcpInfo, TcpState};
use crate::lab::{Endpoint, LabConfig};

/// How often the link's sockets are dumped for new connections and each
/// end's counts: a connection that begins and ends within one tick is
/// missed, and an end's last counts are those of the last dump that still
/// held its socket. A dump walks the kernel's whole TCP hash table, which
/// every namespace shares (about 1 ms of system time here, idle): every
/// 5 ms that was 40 % of a core; every 20 ms it is about a tenth.
pub const DUMP_EVERY: Duration = Duration::from_millis(20);

/// The longest a followed connection is waited for once the command ended
/// (its follower takes one more sample and stops).
const FINISH_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Error)]
pub enum OutError {
    #[error("'{0}' is not a folder; give a folder, new or existing, for the run's files")]
    NotAFolder(String),
    #[error("cannot make the folder '{path}' ({source}); give a folder in a writable place")]
    CannotMake {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    NotWritable(#[from] OutputPathError),
}

/// The folder checked and its `run.json` claimed, before anything runs.
pub struct OutDir {
    dir: PathBuf,
    run_json: AtomicFile,
}

impl OutDir {
    /// Makes `dir` if it is not there, and checks that files can be
    /// written in it.
    pub fn claim(dir: &Path) -> Result<OutDir, OutError> {
        let shown = dir.display().to_string();
        if dir.exists() && !dir.is_dir() {
            return Err(OutError::NotAFolder(shown));
        }
        std::fs::create_dir_all(dir).map_err(|source| OutError::CannotMake {
            path: shown,
            source: without_os_code(source),
        })?;
        let run_json = AtomicFile::create(&dir.join("run.json"))?;
        Ok(OutDir {
            dir: dir.to_owned(),
            run_json,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// An io error in words, without the "(os error N)" tail.
fn without_os_code(error: io::Error) -> io::Error {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(cut) => io::Error::new(error.kind(), text[..cut].to_string()),
        None => error,
    }
}

/// The link's connections as they come and go.
pub struct LinkRecorder {
    out: OutDir,
    /// The link's own sock_diag socket, for the dumps.
    diag: DiagSocket,
    spec: LinkSpec,
    congestion: Option<String>,
    hz: u32,
    started: Instant,
    owners: OwnerCache,
    connections: Vec<Recorded>,
    written: Written,
}

/// One connection, in the order it was seen established.
struct Recorded {
    seen_at: Duration,
    /// The end that connected, and the one that accepted (or the two ends
    /// as found, when neither was a listener's).
    client: End,
    server: End,
    follow: Option<Followed>,
    /// Why it could not be followed, if it could not.
    unfollowed: Option<String>,
    /// Its CSV and JSON are written.
    files: bool,
    /// The retransmissions its samples counted.
    sampled_retransmits: u32,
}

impl Recorded {
    /// Ends its follower, if it has one still, and writes its files.
    fn write(&mut self, config: &LabConfig, spec: LinkSpec, written: &mut Written) {
        if let Some(followed) = self.follow.take() {
            (self.files, self.sampled_retransmits) =
                write_followed(followed, config, spec, written);
        }
    }
}

/// One end as the dumps saw it.
#[derive(Debug, Clone)]
struct End {
    address: SocketAddr,
    owner: Option<crate::lab::diag::Owner>,
    /// The socket's inode when its owner was last looked for.
    looked_up: u32,
    /// Its state in the last dump that held it.
    state: TcpState,
    /// Gone from the dumps (closed and freed).
    gone: bool,
    /// It was accepted from a listener (else it connected).
    accepted: bool,
    /// The last look's send queue and acknowledged count.
    last_reading: Option<(u32, u64)>,
    /// Data bytes its program had handed to the kernel (acknowledged and
    /// queued), by the last two looks that agreed.
    handed: u64,
    /// Bytes of data its kernel had sent and had acknowledged, and had
    /// received, by the last TCP_INFO read.
    acked: u64,
    received: u64,
    retransmits: u32,
}

impl End {
    fn of(socket: &Connection, accepted: bool) -> End {
        let mut end = End {
            address: socket.local,
            owner: socket.owner.clone(),
            looked_up: socket.inode,
            accepted,
            state: socket.tcp_state,
            gone: false,
            acked: 0,
            received: 0,
            retransmits: 0,
            last_reading: None,
            handed: 0,
        };
        end.update(socket);
        end
    }

    /// Takes a dump's reading; the counts never run backwards.
    fn update(&mut self, socket: &Connection) {
        self.state = socket.tcp_state;
        self.gone = false;
        let Some(info) = &socket.info else {
            return;
        };
        let (acked, received) = data_counts(info, self.accepted);
        self.acked = self.acked.max(acked);
        self.received = self.received.max(received);
        self.retransmits = self.retransmits.max(info.total_retrans);
        // The send queue is read before TCP_INFO, without the lock: an ACK
        // between the two would count its bytes twice. Two looks in a row
        // that agree had none.
        let reading = (socket.send_q, info.bytes_acked.unwrap_or(0));
        if self.last_reading == Some(reading) {
            let fin_queued = matches!(
                socket.tcp_state,
                TcpState::FinWait1 | TcpState::Closing | TcpState::LastAck
            );
            let queued = u64::from(socket.send_q).saturating_sub(u64::from(fin_queued));
            self.handed = self.handed.max(acked + queued);
        }
        self.last_reading = Some(reading);
    }

    /// The data bytes this end sent to `peer`, as far as seen: those
    /// acknowledged, and those it had queued once they all arrived: the
    /// peer received its FIN, which comes after them, or it was freed
    /// after its FIN (once everything was acknowledged).
    fn sent(&self, peer: &End) -> u64 {
        use TcpState::*;
        let fin_sent = matches!(self.state, LastAck | Closing | FinWait1 | FinWait2);
        let fin_arrived = matches!(peer.state, CloseWait | LastAck | Closing | TimeWait);
        let freed = self.gone && matches!(self.state, LastAck | Closing);
        if freed || (fin_sent && fin_arrived) {
            self.acked.max(self.handed)
        } else {
            self.acked
        }
    }
}

/// The data bytes a TCP_INFO counts as acknowledged and as received. The
/// kernel's counts are sequence numbers: the SYN's is acknowledged with the
/// handshake (on the connecting end), and a FIN's once it is acknowledged
/// or received, which the state read with them (under the same lock)
/// tells.
fn data_counts(info: &TcpInfo, accepted: bool) -> (u64, u64) {
    use TcpState::*;
    let fin_acked = matches!(info.state, FinWait2 | TimeWait);
    let fin_received = matches!(info.state, CloseWait | LastAck | Closing | TimeWait);
    // An accepted socket is made with its SYN acknowledged already (the
    // request it came from had that ACK): its count never holds the SYN.
    let syn = u64::from(!accepted);
    let acked = info
        .bytes_acked
        .unwrap_or(0)
        .saturating_sub(syn + u64::from(fin_acked));
    let received = info
        .bytes_received
        .unwrap_or(0)
        .saturating_sub(u64::from(fin_received));
    (acked, received)
}

/// A connection being followed: its run and its CSV so far.
struct Followed {
    run: Run,
    csv_file: AtomicFile,
    csv: Option<SampleCsv<std::fs::File>>,
    csv_error: Option<io::Error>,
}

impl Followed {
    fn pump(&mut self) {
        let Followed {
            run,
            csv,
            csv_error,
            ..
        } = self;
        run.pump_with(|sample| {
            if let Some(csv) = csv.as_mut()
                && csv_error.is_none()
                && let Err(e) = csv.write(sample)
            {
                *csv_error = Some(io::Error::other(e));
            }
        });
    }
}

/// What `LinkRecorder::finish` wrote, and what it could not.
#[derive(Debug, Default)]
pub struct Written {
    pub folder: PathBuf,
    /// The connections seen, and those of them whose files were written.
    pub connections: usize,
    pub with_files: usize,
    pub files: Vec<PathBuf>,
    pub errors: Vec<String>,
}

impl Written {
    /// The line at the end of a run, on stderr.
    pub fn line(&self) -> String {
        let mut line = format!(
            "sockscope: wrote {} in {}",
            match (self.with_files, self.connections) {
                (_, 0) => "run.json (no TCP connection was seen on the link)".to_string(),
                (1, 1) => "run.json and connection-1.csv, .json".to_string(),
                (k, n) if k == n => format!("run.json and connection-1 to {n} (.csv, .json)"),
                (k, n) => format!(
                    "run.json and the .csv and .json of {k} of its {n} connections (run.json says why the others have none)"
                ),
            },
            self.folder.display()
        );
        for error in &self.errors {
            line.push_str(&format!("\nsockscope: {error}"));
        }
        line
    }
}

/// The command that ran, for `run.json`.
#[derive(Debug, Clone)]
pub struct Finished {
    pub command: Vec<String>,
    /// Its status as a shell gives it (128+N for a signal N).
    pub exit_status: i32,
}

impl LinkRecorder {
    /// Starts recording the link `factory` serves, at `hz` samples a second
    /// per connection.
    pub fn start(
        out: OutDir,
        factory: &SocketFactory,
        spec: LinkSpec,
        congestion: Option<String>,
        hz: u32,
    ) -> io::Result<LinkRecorder> {
        Ok(LinkRecorder {
            diag: DiagSocket::from_fd(factory.sock_diag()?),
            spec,
            congestion,
            hz,
            started: Instant::now(),
            owners: OwnerCache::default(),
            written: Written {
                folder: out.dir.clone(),
                ..Written::default()
            },
            out,
            connections: Vec::new(),
        })
    }

    /// One look at the link: new connections are followed, every end's
    /// counts updated, and what the followers sampled written. Call it
    /// every `DUMP_EVERY`.
    pub fn tick(&mut self, factory: &SocketFactory) {
        // A dump that fails leaves the followers going, and the ends as
        // they were; the next may succeed.
        if let Ok(all) = self.diag.dump() {
            self.note(&all, factory);
        }
        let config = self.config();
        for connection in &mut self.connections {
            if let Some(followed) = &mut connection.follow {
                followed.pump();
                // Written as soon as it closed: a busy server's thousandth
                // connection holds no file or memory of the first.
                if followed.run.phase() == Phase::Ended {
                    connection.write(&config, self.spec, &mut self.written);
                }
            }
        }
    }

    fn note(&mut self, all: &[Connection], factory: &SocketFactory) {
        let mut unowned = Vec::new();
        for connection in &mut self.connections {
            let (client, server) = (connection.client.address, connection.server.address);
            for (end, peer) in [
                (&mut connection.client, server),
                (&mut connection.server, client),
            ] {
                match all
                    .iter()
                    .find(|c| c.local == end.address && c.peer == peer)
                {
                    Some(socket) => {
                        end.update(socket);
                        // An accepted socket has a file (and so an owner)
                        // only once its program took it with accept().
                        if end.owner.is_none() && socket.inode != 0 && socket.inode != end.looked_up
                        {
                            end.looked_up = socket.inode;
                            unowned.push(socket.clone());
                        }
                    }
                    None => end.gone = true,
                }
            }
        }
        if !unowned.is_empty() {
            self.owners.fill(&mut unowned);
            for socket in unowned {
                for connection in &mut self.connections {
                    for end in [&mut connection.client, &mut connection.server] {
                        if end.address == socket.local && end.looked_up == socket.inode {
                            end.owner = end.owner.take().or(socket.owner.clone());
                        }
                    }
                }
            }
        }
        let listening: Vec<SocketAddr> = all
            .iter()
            .filter(|c| c.tcp_state == TcpState::Listen)
            .map(|c| c.local)
            .collect();
        let serves = |address: SocketAddr| {
            listening.iter().any(|l| {
                l.port() == address.port() && (l.ip().is_unspecified() || l.ip() == address.ip())
            })
        };
        let mut new: Vec<(Connection, Option<Connection>)> = Vec::new();
        for socket in all {
            let established = !matches!(
                socket.tcp_state,
                TcpState::Listen | TcpState::SynSent | TcpState::SynRecv | TcpState::NewSynRecv
            );
            let known = |a: SocketAddr, b: SocketAddr| {
                (a == socket.local && b == socket.peer) || (a == socket.peer && b == socket.local)
            };
            if !established
                || self
                    .connections
                    .iter()
                    .any(|c| known(c.client.address, c.server.address))
                || new.iter().any(|(a, _)| known(a.local, a.peer))
            {
                continue;
            }
            let other = all
                .iter()
                .find(|c| c.local == socket.peer && c.peer == socket.local)
                .cloned();
            // The connecting end is established a one-way delay before the
            // accepting one, which is a request (no socket, no buffers)
            // until the handshake's last ACK arrives: a later dump has it.
            if other
                .as_ref()
                .is_some_and(|o| matches!(o.tcp_state, TcpState::SynRecv | TcpState::NewSynRecv))
            {
                continue;
            }
            // The connecting end first: the one not on a listener's port.
            let (client, server) = match other {
                Some(other) if serves(socket.local) && !serves(other.local) => {
                    (other, Some(socket.clone()))
                }
                other => (socket.clone(), other),
            };
            new.push((client, server));
        }
        if new.is_empty() {
            return;
        }
        let mut ends: Vec<Connection> = new
            .iter()
            .flat_map(|(a, b)| std::iter::once(a.clone()).chain(b.clone()))
            .collect();
        self.owners.fill(&mut ends);
        let owned = |socket: &Connection| {
            ends.iter()
                .find(|e| e.local == socket.local && e.peer == socket.peer)
                .cloned()
                .unwrap_or_else(|| socket.clone())
        };
        for (client, server) in new {
            let client = owned(&client);
            let server = server.map(|s| owned(&s));
            let seen_at = self.started.elapsed();
            let client_end = End::of(&client, false);
            let server_end = match &server {
                Some(server) => End::of(server, true),
                // The other end is not on the link's dump (gone already).
                None => End {
                    address: client.peer,
                    owner: None,
                    looked_up: 0,
                    accepted: true,
                    state: TcpState::Close,
                    gone: true,
                    last_reading: None,
                    handed: 0,
                    acked: 0,
                    received: 0,
                    retransmits: 0,
                },
            };
            let number = self.connections.len() + 1;
            let (follow, unfollowed) = if client.orphaned() {
                (
                    None,
                    Some("its program had closed it before it was seen".to_string()),
                )
            } else {
                match self.follow(number, client, server, factory) {
                    Ok(followed) => (Some(followed), None),
                    Err(why) => (None, Some(why)),
                }
            };
            self.connections.push(Recorded {
                seen_at,
                client: client_end,
                server: server_end,
                follow,
                unfollowed,
                files: false,
                sampled_retransmits: 0,
            });
        }
    }

    /// Starts following connection `number`, sampled from the client's
    /// side (the lesson's client sends), and its CSV.
    fn follow(
        &self,
        number: usize,
        client: Connection,
        server: Option<Connection>,
        factory: &SocketFactory,
    ) -> Result<Followed, String> {
        let csv_path = self.out.dir.join(format!("connection-{number}.csv"));
        let mut csv_file = AtomicFile::create(&csv_path).map_err(|e| e.to_string())?;
        let handle = csv_file.file_handle().map_err(|e| e.to_string())?;
        let diag = factory
            .sock_diag()
            .map_err(|e| format!("could not read the link's sockets: {e}"))?;
        let target = Target {
            followed: client,
            other: server,
            followed_accepted: false,
            other_accepted: true,
        };
        let source = AttachSource::start_with(target, self.hz, None, DiagSocket::from_fd(diag))
            .map_err(|e| e.to_string())?;
        let mut run = Run::new(self.config(), None);
        run.watch(Box::new(source));
        Ok(Followed {
            run,
            csv_file,
            csv: Some(SampleCsv::new(handle)),
            csv_error: None,
        })
    }

    fn config(&self) -> LabConfig {
        LabConfig {
            sample_hz: self.hz,
            endpoint: Endpoint::Link(self.spec),
            ..LabConfig::default()
        }
    }

    /// Ends every follower and writes the files whole: each connection's
    /// CSV and JSON, then `run.json`. A file that cannot be written is
    /// named in `Written::errors`; the others are written all the same.
    pub fn finish(mut self, factory: &SocketFactory, finished: &Finished) -> Written {
        // A last look: the counts as the command left them.
        self.tick(factory);
        let elapsed = self.started.elapsed();
        let mut written = std::mem::take(&mut self.written);
        written.connections = self.connections.len();
        let config = self.config();
        let mut accounts = Vec::new();
        for (index, connection) in self.connections.iter_mut().enumerate() {
            let number = index + 1;
            connection.write(&config, self.spec, &mut written);
            let mut account = ConnectionAccount::of(number, connection);
            account.retransmits = account.retransmits.max(connection.sampled_retransmits);
            if connection.files {
                account.csv = Some(format!("connection-{number}.csv"));
                account.json = Some(format!("connection-{number}.json"));
            }
            accounts.push(account);
        }
        written.with_files = self.connections.iter().filter(|c| c.files).count();
        let account = RunAccount {
            command: finished.command.clone(),
            exit_status: finished.exit_status,
            elapsed_s: elapsed.as_secs_f64(),
            link: LinkAccount {
                rate: self.spec.rate.to_string(),
                delay_ms: self.spec.delay_ms,
                loss_percent: self.spec.loss.percent(),
                mtu: self.spec.mtu,
                congestion_control: self.congestion.clone(),
            },
            dump_every_ms: DUMP_EVERY.as_secs_f64() * 1e3,
            connections: accounts,
        };
        let mut file = self.out.run_json;
        let done = serde_json::to_writer_pretty(file.writer(), &account)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(file.writer()));
        commit(file, done, &mut written);
        written
    }
}

/// Ends a follower and writes its CSV and JSON; says whether both were
/// written, and the retransmissions its samples counted.
fn write_followed(
    mut followed: Followed,
    config: &LabConfig,
    spec: LinkSpec,
    written: &mut Written,
) -> (bool, u32) {
    followed.run.finish();
    let began = Instant::now();
    while followed.run.phase() != Phase::Ended && began.elapsed() < FINISH_WAIT {
        followed.pump();
        std::thread::sleep(Duration::from_millis(1));
    }
    followed.pump();
    let json_path = followed
        .csv_file
        .path()
        .with_extension("json")
        .to_path_buf();
    let retransmits = followed
        .run
        .timeline()
        .last()
        .map_or(0, |s| s.sender.total_retrans);
    let Some(report) = followed.run.report().cloned() else {
        written.errors.push(format!(
            "{} was not written: its connection's follower did not end",
            followed.csv_file.path().display()
        ));
        return (false, retransmits);
    };
    let Some(mut info) = followed.run.info().cloned() else {
        return (false, retransmits);
    };
    // The link the connection crossed, for `open` to show.
    info.link = Some(spec);
    let figures = followed.run.figures();
    let summary = Summary::new(
        config,
        &info,
        &report,
        followed.run.timeline(),
        RunFigures {
            duration_s: report.elapsed.as_secs_f64(),
            interrupted: false,
            zero_window_ns: figures.zero_window_ns,
            drain_cut: None,
        },
    );
    let csv_done = match (followed.csv_error.take(), followed.csv.take()) {
        (Some(error), _) => Err(error),
        (None, Some(csv)) => csv.finish().map(drop),
        (None, None) => Ok(()),
    };
    let csv_ok = commit(followed.csv_file, csv_done, written);
    let json_ok = match AtomicFile::create(&json_path) {
        Ok(mut file) => {
            let done = serde_json::to_writer_pretty(file.writer(), &summary)
                .map_err(io::Error::other)
                .and_then(|()| writeln!(file.writer()));
            commit(file, done, written)
        }
        Err(error) => {
            written.errors.push(error.to_string());
            false
        }
    };
    (csv_ok && json_ok, retransmits)
}

/// Puts `file` in place if everything was written to it.
fn commit(file: AtomicFile, done: io::Result<()>, written: &mut Written) -> bool {
    let path = file.path().to_owned();
    match done.and_then(|()| file.commit()) {
        Ok(path) => {
            written.files.push(path);
            true
        }
        Err(error) => {
            written
                .errors
                .push(format!("writing {} failed: {error}", path.display()));
            false
        }
    }
}

/// `run.json`.
#[derive(Debug, Serialize)]
struct RunAccount {
    /// The command line, as given after `--`.
    command: Vec<String>,
    /// Its status as a shell gives it: 128+N when a signal N ended it, 127
    /// not found, 126 could not be run. sockscope exits with it too.
    exit_status: i32,
    elapsed_s: f64,
    link: LinkAccount,
    /// How often the link's sockets were looked at: a connection shorter
    /// than this may be missed.
    dump_every_ms: f64,
    connections: Vec<ConnectionAccount>,
}

#[derive(Debug, Serialize)]
struct LinkAccount {
    /// The bottleneck's rate, "max" when unshaped.
    rate: String,
    delay_ms: u32,
    loss_percent: f64,
    mtu: u32,
    /// The link's default congestion control (`--congestion`); null for
    /// the kernel's.
    congestion_control: Option<String>,
}

#[derive(Debug, Serialize)]
struct ConnectionAccount {
    /// N in connection-N.csv: the order they were seen established.
    number: usize,
    /// When it was first seen, in s since the run began.
    seen_at_s: f64,
    /// The end that connected, and the end that accepted.
    client: EndAccount,
    server: EndAccount,
    /// Data bytes each way, by the kernels' counts (what the receiving
    /// kernel got, or the sending one had acknowledged, whichever is more).
    bytes_client_to_server: u64,
    bytes_server_to_client: u64,
    /// Segments retransmitted, both ends together.
    retransmits: u32,
    /// The files of its samples and summary; null where it was not
    /// followed (or they could not be written).
    csv: Option<String>,
    json: Option<String>,
    /// Why it was not followed, if it was not.
    not_followed: Option<String>,
}

#[derive(Debug, Serialize)]
struct EndAccount {
    address: String,
    /// The program holding the socket when it was seen; null where this
    /// user may not see it.
    program: Option<String>,
    pid: Option<u32>,
    /// Its TCP state at the end: CLOSE once the kernel freed it.
    state_at_end: &'static str,
    bytes_sent: u64,
    bytes_received: u64,
    retransmits: u32,
}

impl EndAccount {
    fn of(end: &End, other: &End) -> EndAccount {
        EndAccount {
            address: end.address.to_string(),
            program: end.owner.as_ref().map(|o| o.command.clone()),
            pid: end.owner.as_ref().map(|o| o.pid),
            state_at_end: if end.gone {
                TcpState::Close.name()
            } else {
                end.state.name()
            },
            bytes_sent: end.sent(other).max(other.received),
            bytes_received: end.received.max(other.sent(end)),
            retransmits: end.retransmits,
        }
    }
}

impl ConnectionAccount {
    fn of(number: usize, connection: &Recorded) -> ConnectionAccount {
        let client = EndAccount::of(&connection.client, &connection.server);
        let server = EndAccount::of(&connection.server, &connection.client);
        ConnectionAccount {
            number,
            seen_at_s: connection.seen_at.as_secs_f64(),
            bytes_client_to_server: client.bytes_sent,
            bytes_server_to_client: server.bytes_sent,
            retransmits: client.retransmits + server.retransmits,
            client,
            server,
            csv: None,
            json: None,
            not_followed: connection.unfollowed.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(state: TcpState, acked: u64, received: u64) -> TcpInfo {
        TcpInfo {
            state,
            bytes_acked: Some(acked),
            bytes_received: Some(received),
            ..TcpInfo::default()
        }
    }

    /// The SYN's sequence number is never data, nor is a FIN's once the
    /// state says it was acknowledged or received.
    #[test]
    fn data_counts_leave_out_the_syn_and_the_fin() {
        use TcpState::*;
        let client = |i| data_counts(&i, false);
        assert_eq!(client(info(Established, 1 + 1000, 500)), (1000, 500));
        assert_eq!(client(info(FinWait2, 1 + 1000 + 1, 500)), (1000, 500));
        assert_eq!(client(info(Established, 0, 0)), (0, 0));
        // An accepted socket's count starts after the SYN.
        let server = |i| data_counts(&i, true);
        assert_eq!(server(info(CloseWait, 20, 1000 + 1)), (20, 1000));
        assert_eq!(server(info(LastAck, 20, 1000 + 1)), (20, 1000));
    }

    #[test]
    fn an_out_folder_that_is_a_file_is_refused_in_one_sentence() {
        let dir = std::env::temp_dir().join(format!("sockscope-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a-file");
        std::fs::write(&file, "x").unwrap();
        let error = OutDir::claim(&file).err().unwrap().to_string();
        assert!(error.contains("is not a folder"), "{error}");
        let inside = OutDir::claim(&file.join("sub")).err().unwrap().to_string();
        assert!(inside.starts_with("cannot make the folder"), "{inside}");
        assert!(!inside.contains("os error"), "{inside}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
