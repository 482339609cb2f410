//! The server's owner thread on real loopback sockets, driven the way the
//! window drives it: commands in, events and snapshots out, nothing that
//! blocks but `shutdown`. One test on purpose: it counts the process's
//! threads and descriptors, which another test beside it would disturb.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use common::{DEADLINE, fd_count, thread_names, threads_named, wait_for};
use sockscope::lab::server::{Departure, MAX_CLIENTS, ServerError};
use sockscope::lab::server_owner::{
    ClientView, ServerCommand, ServerEvent, ServerHandle, ServerSnapshot,
};
use sockscope::lab::{LabConfig, Rate};

fn config() -> LabConfig {
    common::small_paced_config()
}

/// Takes the handle's updates until `done` holds for the newest snapshot
/// and every event so far; panics with `what` if it never does.
fn update_until(
    handle: &mut ServerHandle,
    events: &mut Vec<ServerEvent>,
    what: &str,
    mut done: impl FnMut(&ServerSnapshot, &[ServerEvent]) -> bool,
) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        events.extend(handle.update());
        if let Some(snapshot) = handle.snapshot()
            && done(snapshot, events)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what} ({events:?})"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn client(snapshot: &ServerSnapshot, number: usize) -> Option<&ClientView> {
    snapshot.clients.iter().find(|c| c.number == number)
}

fn accepted(events: &[ServerEvent]) -> Vec<usize> {
    events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Accepted { number, .. } => Some(*number),
            _ => None,
        })
        .collect()
}

fn left(events: &[ServerEvent], number: usize) -> Option<&Departure> {
    events.iter().find_map(|e| match e {
        ServerEvent::Left(departure) if departure.number == number => Some(departure),
        _ => None,
    })
}

#[test]
fn the_owner_thread_runs_the_server_from_commands_alone() {
    let threads_before = thread_names().len();
    let fds_before = fd_count();
    let wakes = Arc::new(AtomicUsize::new(0));
    let waker = {
        let wakes = Arc::clone(&wakes);
        Arc::new(move || {
            wakes.fetch_add(1, Relaxed);
        })
    };
    let mut handle = ServerHandle::start(config(), Some(waker)).unwrap();
    let mut events = Vec::new();

    // Three clients, asked for at once: each accepted, in order, from a
    // port of its own, and shown with its own server thread.
    for _ in 0..3 {
        handle.send(ServerCommand::AddClient {
            read_rate: Rate::Unlimited,
        });
    }
    assert_eq!(handle.pending_adds(), 3);
    // At every update a client is either in the grid or pending, never
    // both (a window would grey its "+ client" button out) nor neither.
    let deadline = Instant::now() + DEADLINE;
    loop {
        events.extend(handle.update());
        let shown = handle.snapshot().map_or(0, |s| s.clients.len());
        assert_eq!(shown + handle.pending_adds(), 3, "{events:?}");
        if shown == 3 && accepted(&events).len() == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for three clients"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(accepted(&events), [1, 2, 3]);
    assert_eq!(handle.pending_adds(), 0);
    let snapshot = handle.snapshot().unwrap().clone();
    assert!(snapshot.addr.ip().is_loopback());
    assert_eq!(snapshot.config.write_rate, config().write_rate);
    for view in &snapshot.clients {
        assert_eq!(view.info.reader_addr, snapshot.addr);
        assert!(events.iter().any(|e| matches!(
            e,
            ServerEvent::Accepted { number, from }
                if *number == view.number && *from == view.info.writer_addr
        )));
    }
    wait_for("the owner, accept() and server threads", || {
        threads_named("sockscope-server") == 1
            && threads_named("sockscope-accept") == 1
            && threads_named("sockscope-reader") == 3
    });

    // Pause client 1's server thread: its send() blocks while client 2
    // goes on being served.
    handle.send(ServerCommand::SetReadRate {
        number: 1,
        rate: Rate::Paused,
    });
    update_until(&mut handle, &mut events, "client 1 blocked", |s, _| {
        client(s, 1).is_some_and(|c| {
            c.read_limit == Rate::Paused
                && c.latest
                    .is_some_and(|l| l.reader_paused() && l.writer_blocked())
        })
    });
    update_until(&mut handle, &mut events, "client 2 reading", |s, _| {
        client(s, 2).is_some_and(|c| c.read_rate > 0.0 && c.write_rate > 0.0)
    });

    // The newest client leaves: its server thread reads up to recv() == 0.
    handle.send(ServerCommand::RemoveLast);
    update_until(&mut handle, &mut events, "client 3 leaving", |s, e| {
        client(s, 3).is_none() && left(e, 3).is_some()
    });
    let gone = left(&events, 3).unwrap();
    assert!(
        gone.report.drained && gone.report.integrity_ok(),
        "{gone:?}"
    );

    // Asked for more than fit: the server fills up and refuses the rest.
    for _ in 0..MAX_CLIENTS - 1 {
        handle.send(ServerCommand::AddClient {
            read_rate: Rate::Unlimited,
        });
    }
    update_until(&mut handle, &mut events, "a full server", |s, e| {
        s.clients.len() == MAX_CLIENTS
            && e.iter()
                .any(|e| matches!(e, ServerEvent::AddFailed(ServerError::Full)))
    });
    // Numbers are not reused.
    assert_eq!(accepted(&events), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(handle.pending_adds(), 0);
    assert!(wakes.load(Relaxed) > 0, "the frontend was never woken");

    // Shutting down: every client leaves and every thread is joined.
    handle.send(ServerCommand::SetReadRate {
        number: 1,
        rate: Rate::Unlimited,
    });
    let departures = handle.shutdown();
    let numbers: Vec<usize> = departures.iter().map(|d| d.number).collect();
    assert_eq!(numbers, [1, 2, 4, 5, 6, 7, 8, 9]);
    for departure in &departures {
        let report = &departure.report;
        assert!(
            report.integrity_ok() && report.errors.is_empty(),
            "client {}: {report:?}",
            departure.number
        );
    }
    wait_for("the starting thread and descriptor counts", || {
        thread_names().len() == threads_before && fd_count() == fds_before
    });

    // Dropping a handle waits for nothing; the owner ends by itself.
    let mut handle = ServerHandle::start(config(), None).unwrap();
    for _ in 0..2 {
        handle.send(ServerCommand::AddClient {
            read_rate: Rate::Paused,
        });
    }
    let mut events = Vec::new();
    update_until(&mut handle, &mut events, "two paused clients", |s, _| {
        s.clients.len() == 2
            && s.clients
                .iter()
                .all(|c| c.latest.is_some_and(|l| l.writer_blocked()))
    });
    drop(handle);
    wait_for("the owner to shut down by itself", || {
        thread_names().len() == threads_before && fd_count() == fds_before
    });
}
