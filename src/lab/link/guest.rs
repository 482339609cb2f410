//! Anyone's programs on a private link (`sockscope run -- COMMAND`).
//!
//! The link's serving helper stays in the namespace it made. To put a
//! command there, sockscope runs itself again with a hidden first argument
//! (`ENTER_ARG`): that process has no thread yet, so it may join the
//! helper's user and network namespaces (setns), and it makes a PID
//! namespace of the command's own. Its first child is that namespace's
//! init: it starts the command as its own child, with the caller's
//! terminal, environment and folder unchanged, reaps whatever the command
//! leaves, and exits with the command's status when the command ends, which
//! makes the kernel kill everything else the command left running there.
//! Each process dies with its parent (PR_SET_PDEATHSIG), so `kill -9` of
//! sockscope leaves no process and, with them, no namespace.

#![allow(unsafe_code)]

use std::ffi::{CString, OsString};
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::AtomicI32;
use std::sync::atomic::Ordering::Relaxed;

use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, execvp, fork};

/// sockscope's hidden first argument for the process that enters a link.
pub const ENTER_ARG: &str = "__enter-link";

/// The status a shell gives a command it could not find, and one it could
/// not run (`timeout` and `env` use the same).
pub const NOT_FOUND: i32 = 127;
pub const CANNOT_RUN: i32 = 126;

/// Starts `command` in the namespaces of the helper `helper_pid` (see the
/// module's comment), with this process's standard streams, environment
/// and folder. `congestion` becomes the namespace's default congestion
/// control first. The child's exit status is the command's, as a shell
/// gives it (128+N for a signal N, 127 not found, 126 cannot run).
pub fn spawn(
    program: &std::path::Path,
    helper_pid: u32,
    congestion: Option<&str>,
    command: &[OsString],
) -> io::Result<Child> {
    Command::new(program)
        .arg(ENTER_ARG)
        .arg(helper_pid.to_string())
        .arg(congestion.unwrap_or("-"))
        .arg("--")
        .args(command)
        .spawn()
}

/// The whole life of the process that enters the link (sockscope's `main`
/// calls this first thing when its first argument is `ENTER_ARG`, before
/// any thread starts). Returns its exit code: the command's status.
pub fn enter_main(args: &[OsString]) -> i32 {
    // Dies with sockscope: then the init below dies with it, and with the
    // init everything in the PID namespace.
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    let (helper_pid, congestion, command) = match parse(args) {
        Some(parsed) => parsed,
        None => {
            return say(
                CANNOT_RUN,
                "the hidden link entry was called without its arguments",
            );
        }
    };
    if let Err(sentence) = join(helper_pid) {
        return say(CANNOT_RUN, &sentence);
    }
    if let Some(name) = congestion
        && let Err(e) = std::fs::write("/proc/sys/net/ipv4/tcp_congestion_control", &name)
    {
        return say(
            CANNOT_RUN,
            &format!("the link's congestion control could not be set to {name}: {e}"),
        );
    }
    if let Err(e) = unshare(CloneFlags::CLONE_NEWPID) {
        return say(
            CANNOT_RUN,
            &format!("the link's process namespace could not be made: {e}"),
        );
    }
    // The terminal's Ctrl-C reaches the command (same process group);
    // what sockscope passes on goes to the init, and from it to the command.
    pass_signals_on();
    // SAFETY: this process has one thread (main has started none), so
    // fork is safe; the child only calls async-signal-safe functions and
    // exec or _exit.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => init(&command),
        Ok(ForkResult::Parent { child }) => {
            forward_to(child.as_raw() as u32);
            wait_for(child)
        }
        Err(e) => say(CANNOT_RUN, &format!("fork failed: {e}")),
    }
}

/// PID, congestion control ("-" for the kernel's) and the command.
fn parse(args: &[OsString]) -> Option<(u32, Option<String>, Vec<OsString>)> {
    let pid = args.first()?.to_str()?.parse().ok()?;
    let congestion = args.get(1)?.to_str()?;
    let congestion = (congestion != "-").then(|| congestion.to_string());
    if args.get(2)? != "--" || args.len() < 4 {
        return None;
    }
    Some((pid, congestion, args[3..].to_vec()))
}

/// Joins the helper's user namespace, then its network namespace.
fn join(helper_pid: u32) -> Result<(), String> {
    let open = |kind: &str| -> Result<OwnedFd, String> {
        let path = PathBuf::from(format!("/proc/{helper_pid}/ns/{kind}"));
        std::fs::File::open(&path)
            .map(OwnedFd::from)
            .map_err(|e| format!("the link is gone ({}: {e})", path.display()))
    };
    let (user, net) = (open("user")?, open("net")?);
    setns(&user, CloneFlags::CLONE_NEWUSER)
        .map_err(|e| format!("could not enter the link's user namespace: {e}"))?;
    setns(&net, CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("could not enter the link's network namespace: {e}"))?;
    Ok(())
}

/// Where a signal this process is sent goes on to (0: nowhere yet).
static FORWARD_TO: AtomicI32 = AtomicI32::new(0);
/// A signal that came before there was anywhere to pass it on to.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// Passes a signal another process sent (`kill`) on to `FORWARD_TO`. The
/// terminal's own (Ctrl-C, Ctrl-\) come from the kernel and are left
/// alone: the terminal gave the command its own copy, the whole
/// foreground process group being the terminal's target.
extern "C" fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let code = unsafe { (*info).si_code };
    let target = FORWARD_TO.load(Relaxed);
    if code == libc::SI_KERNEL {
        return;
    }
    if target > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(target, signal) };
    } else {
        PENDING.store(signal, Relaxed);
    }
}

/// The signals a shell passes on to its foreground job.
const PASSED_ON: [libc::c_int; 4] = [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP];

/// From now on, SIGINT, SIGQUIT, SIGTERM and SIGHUP sent to this process
/// by another go on to `target` (set with `forward_to`), and the
/// terminal's are left to the command: this process stays to pass the
/// command's status on, as a shell does. sockscope calls it while a
/// command runs on a link; the processes between them do the same.
pub fn pass_signals_on() {
    for signal in PASSED_ON {
        // SAFETY: a zeroed sigaction is valid; the handler only reads an
        // atomic and calls kill, both async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Where `pass_signals_on` sends them: the next process toward the command.
/// A signal that came before is passed on now.
pub fn forward_to(pid: u32) {
    FORWARD_TO.store(pid as i32, Relaxed);
    let pending = PENDING.swap(0, Relaxed);
    if pid > 0 && pending > 0 {
        // SAFETY: plain kill(2) of the process just started.
        unsafe { libc::kill(pid as i32, pending) };
    }
}

/// PID 1 of the command's namespace: starts the command, reaps every
/// process, and exits with the command's status when it ends.
fn init(command: &[OsString]) -> ! {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    // As PID 1 it gets only the signals it handles: what its parent passes
    // on, which it passes on to the command.
    forward_to(0);
    pass_signals_on();
    // SAFETY: one thread, as above.
    let code = match unsafe { fork() } {
        Ok(ForkResult::Child) => exec(command),
        Ok(ForkResult::Parent { child }) => {
            forward_to(child.as_raw() as u32);
            wait_for(child)
        }
        Err(e) => say(CANNOT_RUN, &format!("fork failed: {e}")),
    };
    // SAFETY: _exit ends this process at once; everything else in the
    // namespace is killed by the kernel as its init goes.
    unsafe { libc::_exit(code) }
}

/// The command itself: its signals as a shell leaves them, then exec.
fn exec(command: &[OsString]) -> ! {
    // SIGPIPE too: Rust's runtime ignores it, a shell's child does not.
    for sig in [
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGPIPE,
    ] {
        // SAFETY: SIG_DFL installs no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    let argv: Result<Vec<CString>, _> = command
        .iter()
        .map(|arg| CString::new(arg.as_bytes()))
        .collect();
    let name = command[0].to_string_lossy().into_owned();
    let code = match argv {
        Ok(argv) => {
            let error = execvp(&argv[0], &argv).unwrap_err();
            match error {
                nix::errno::Errno::ENOENT => {
                    say(NOT_FOUND, &format!("run: '{name}': command not found"))
                }
                other => say(
                    CANNOT_RUN,
                    &format!("run: '{name}' cannot be run: {}", io::Error::from(other)),
                ),
            }
        }
        Err(_) => say(CANNOT_RUN, &format!("run: '{name}' holds a NUL byte")),
    };
    // SAFETY: as in `init`.
    unsafe { libc::_exit(code) }
}

/// Waits for `child`, reaping any other process meanwhile (an init's
/// orphans), and returns its status as a shell gives it.
fn wait_for(child: Pid) -> i32 {
    loop {
        match waitpid(None, Some(WaitPidFlag::empty())) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => return code,
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => return 128 + sig as i32,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return CANNOT_RUN,
        }
    }
}

/// One sentence on stderr; returns `code`.
fn say(code: i32, sentence: &str) -> i32 {
    let _ = writeln!(io::stderr(), "sockscope: {sentence}.");
    code
}
