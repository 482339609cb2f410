//! The thread-per-client server on a thread of its own, so that a window
//! never waits for it. Starting the server, a client's connect() and the
//! wait for its accept(), and joining threads all happen on the owner
//! thread ("sockscope-server"), which owns the [`Server`]. A frontend holds
//! a [`ServerHandle`]: it sends commands, takes the events (in order) and
//! the newest snapshot, and is woken through a [`Waker`] whenever there is
//! something new, as the lab's sampler wakes it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded, select, unbounded};

use super::config::LabConfig;
use super::sample::Sample;
use super::sampler::Waker;
use super::server::{Client, Departure, Server, ServerError};
use super::session::SessionInfo;
use super::units::Rate;

/// What a frontend asks of the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServerCommand {
    /// A new client connect()s; its server thread reads at `read_rate`.
    AddClient { read_rate: Rate },
    /// The newest client close()s; its server thread reads the rest and ends.
    RemoveLast,
    /// Throttles one client's server thread.
    SetReadRate { number: usize, rate: Rate },
    /// Every client leaves and the server stops; the owner thread ends.
    Shutdown,
}

/// One client as a grid shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientView {
    pub number: usize,
    pub info: SessionInfo,
    pub latest: Option<Sample>,
    /// What the server thread's read rate is set to.
    pub read_limit: Rate,
    /// Bytes per second written and read over the last `RATE_WINDOW`.
    pub write_rate: f64,
    pub read_rate: f64,
}

impl ClientView {
    fn of(client: &Client) -> Self {
        let (write_rate, read_rate) = client.rates();
        ClientView {
            number: client.number,
            info: client.session.info().clone(),
            latest: client.latest().copied(),
            read_limit: client.read_limit(),
            write_rate,
            read_rate,
        }
    }
}

/// The server as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSnapshot {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// Every client's settings.
    pub config: LabConfig,
    /// In the order the server accepted them.
    pub clients: Vec<ClientView>,
    /// AddClient commands answered so far (accepted or refused), counted
    /// with `clients`, so the two always agree.
    pub adds_answered: u64,
}

/// What happened, for a log.
#[derive(Debug)]
pub enum ServerEvent {
    /// The server could not start; the owner thread has ended.
    StartFailed(ServerError),
    /// accept() returned client `number`, connected from `from`, and its
    /// server thread runs.
    Accepted { number: usize, from: SocketAddr },
    /// A client could not be added.
    AddFailed(ServerError),
    /// A client left (removed, or its session ended by itself).
    Left(Departure),
    /// A removed client could not be given a thread to leave on; it was
    /// stopped without reading what was left.
    LeaveFailed { number: usize, error: ServerError },
}

/// A frontend's end of the owner thread. Never blocks, except `shutdown`.
/// Dropping it tells the owner to shut down and returns at once: the owner
/// joins every thread it started, then ends by itself.
pub struct ServerHandle {
    commands: Sender<ServerCommand>,
    events: Receiver<ServerEvent>,
    snapshots: Receiver<ServerSnapshot>,
    snapshot: Option<ServerSnapshot>,
    /// AddClient commands sent.
    adds_sent: u64,
    owner: Option<JoinHandle<Vec<Departure>>>,
}

impl ServerHandle {
    /// Starts the owner thread, which starts the server with `config` (see
    /// `Server::start`). Fails only if the thread cannot start; the
    /// server's own failure comes as `ServerEvent::StartFailed`. `waker` is
    /// called whenever an event or a snapshot is waiting.
    pub fn start(config: LabConfig, waker: Option<Waker>) -> Result<ServerHandle, ServerError> {
        let (commands, command_rx) = unbounded();
        // Events are few (one per click or departure); snapshots come with
        // every batch of samples, and only the newest matters.
        let (event_tx, events) = unbounded();
        let (snapshot_tx, snapshots) = bounded(1);
        let (wake_tx, wake) = bounded(1);
        let owner = Owner {
            commands: command_rx,
            wake,
            events: event_tx,
            snapshots: snapshot_tx,
            stale: snapshots.clone(),
            waker,
            leaving: Vec::new(),
            adds_answered: 0,
        };
        let thread = std::thread::Builder::new()
            .name("sockscope-server".into())
            .spawn(move || owner.run(config, wake_tx))
            .map_err(|e| ServerError::Thread("server", e))?;
        Ok(ServerHandle {
            commands,
            events,
            snapshots,
            snapshot: None,
            adds_sent: 0,
            owner: Some(thread),
        })
    }

    /// Sends a command; the owner carries it out in order.
    pub fn send(&mut self, command: ServerCommand) {
        if matches!(command, ServerCommand::AddClient { .. }) {
            self.adds_sent += 1;
        }
        let _ = self.commands.send(command);
    }

    /// Takes what the owner sent since the last call: returns the events
    /// in order, and keeps the newest snapshot (see `snapshot`). A snapshot
    /// taken after an `Accepted` event shows that client.
    pub fn update(&mut self) -> Vec<ServerEvent> {
        let events: Vec<ServerEvent> = self.events.try_iter().collect();
        if let Some(snapshot) = self.snapshots.try_iter().last() {
            self.snapshot = Some(snapshot);
        }
        events
    }

    /// The newest snapshot; None until the server listens.
    pub fn snapshot(&self) -> Option<&ServerSnapshot> {
        self.snapshot.as_ref()
    }

    /// Clients asked for and not yet accepted or refused: a frontend adds
    /// them to the snapshot's count before it offers one more.
    pub fn pending_adds(&self) -> usize {
        // Both counts come from one snapshot, so a client is never counted
        // twice (in the grid and as pending) or not at all.
        let answered = self.snapshot.as_ref().map_or(0, |s| s.adds_answered);
        self.adds_sent.saturating_sub(answered) as usize
    }

    /// Shuts the server down and waits for the owner thread: returns how
    /// each client still connected went, in client order. Blocks (while
    /// each server thread reads what is left): not for a UI thread.
    pub fn shutdown(mut self) -> Vec<Departure> {
        let _ = self.commands.send(ServerCommand::Shutdown);
        self.owner
            .take()
            .and_then(|owner| owner.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        // The owner ends by itself; nothing here waits for it.
        let _ = self.commands.send(ServerCommand::Shutdown);
    }
}

/// How often the owner looks at the server when nothing wakes it: a
/// connection from another program waiting in the hand-over channel is
/// closed within this.
const IDLE_TICK: Duration = Duration::from_millis(100);

/// What wakes the owner.
enum Turn {
    Command(ServerCommand),
    /// Samples arrived, or the idle tick passed.
    Look,
    Stop,
}

struct Owner {
    commands: Receiver<ServerCommand>,
    /// Signalled by the clients' samplers after each batch.
    wake: Receiver<()>,
    events: Sender<ServerEvent>,
    snapshots: Sender<ServerSnapshot>,
    /// The owner's own end of `snapshots`, to drop one not yet taken.
    stale: Receiver<ServerSnapshot>,
    waker: Option<Waker>,
    /// Clients leaving on threads of their own.
    leaving: Vec<JoinHandle<()>>,
    /// AddClient commands carried out (see `ServerSnapshot::adds_answered`).
    adds_answered: u64,
}

impl Owner {
    fn run(mut self, config: LabConfig, wake_tx: Sender<()>) -> Vec<Departure> {
        // A full wake channel already says "look": wakes coalesce.
        let wake_owner: Waker = Arc::new(move || {
            let _ = wake_tx.try_send(());
        });
        let mut server = match Server::start(config, Some(wake_owner)) {
            Ok(server) => server,
            Err(error) => {
                self.emit(ServerEvent::StartFailed(error));
                return Vec::new();
            }
        };
        self.publish(&server);
        loop {
            let mut changed = match self.next_turn() {
                Turn::Stop => break,
                Turn::Command(command) => self.apply(&mut server, command),
                Turn::Look => false,
            };
            changed |= server.pump();
            for departure in server.departures() {
                self.emit(ServerEvent::Left(departure));
                changed = true;
            }
            self.join_departed();
            if changed {
                self.publish(&server);
            }
        }
        let departures = server.shutdown();
        for thread in self.leaving.drain(..) {
            let _ = thread.join();
        }
        departures
    }

    fn next_turn(&self) -> Turn {
        select! {
            recv(self.commands) -> command => match command {
                Ok(ServerCommand::Shutdown) | Err(_) => Turn::Stop,
                Ok(command) => Turn::Command(command),
            },
            recv(self.wake) -> _ => Turn::Look,
            default(IDLE_TICK) => Turn::Look,
        }
    }

    /// Carries out one command; true if a new snapshot is due.
    fn apply(&mut self, server: &mut Server, command: ServerCommand) -> bool {
        match command {
            ServerCommand::AddClient { read_rate } => {
                let added = server.add_client_reading_at(read_rate);
                self.adds_answered += 1;
                // The snapshot with the client (and the answered count)
                // goes first, so a log line never names a client the grid
                // does not show yet.
                self.publish(server);
                match added {
                    Ok(number) => {
                        if let Some(client) = server.clients().iter().find(|c| c.number == number) {
                            let from = client.session.info().writer_addr;
                            self.emit(ServerEvent::Accepted { number, from });
                        }
                    }
                    Err(error) => self.emit(ServerEvent::AddFailed(error)),
                }
                false
            }
            ServerCommand::RemoveLast => {
                let newest = server.clients().last().map(|c| c.number);
                match newest.and_then(|number| server.take_client(number)) {
                    Some(client) => {
                        self.leave(client);
                        true
                    }
                    None => false,
                }
            }
            ServerCommand::SetReadRate { number, rate } => {
                server.set_read_rate(number, rate);
                true
            }
            ServerCommand::Shutdown => false,
        }
    }

    /// The client leaves on a thread of its own (its server thread first
    /// reads what is left), so the others go on being sampled meanwhile.
    fn leave(&mut self, client: Client) {
        let number = client.number;
        let events = self.events.clone();
        let waker = self.waker.clone();
        let spawned = std::thread::Builder::new()
            .name("sockscope-leave".into())
            .spawn(move || {
                let _ = events.send(ServerEvent::Left(client.leave()));
                if let Some(wake) = waker {
                    wake();
                }
            });
        match spawned {
            Ok(thread) => self.leaving.push(thread),
            Err(error) => self.emit(ServerEvent::LeaveFailed {
                number,
                error: ServerError::Thread("leave", error),
            }),
        }
    }

    /// Joins the leave threads that have ended (at once: they are done).
    fn join_departed(&mut self) {
        let (ended, running) = std::mem::take(&mut self.leaving)
            .into_iter()
            .partition(|thread| thread.is_finished());
        self.leaving = running;
        for thread in ended {
            let _ = thread.join();
        }
    }

    fn emit(&self, event: ServerEvent) {
        let _ = self.events.send(event);
        self.wake_frontend();
    }

    /// Replaces the snapshot the frontend has not taken yet, if any.
    fn publish(&self, server: &Server) {
        let snapshot = ServerSnapshot {
            addr: server.addr(),
            config: *server.config(),
            clients: server.clients().iter().map(ClientView::of).collect(),
            adds_answered: self.adds_answered,
        };
        let _ = self.stale.try_recv();
        let _ = self.snapshots.try_send(snapshot);
        self.wake_frontend();
    }

    fn wake_frontend(&self) {
        if let Some(wake) = &self.waker {
            wake();
        }
    }
}
