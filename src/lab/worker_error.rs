//! Why a session's writer, reader or sampler thread ended badly, as values
//! a frontend can match on and still print as the one sentence a user
//! reads.

use std::fmt;
use std::io;

use thiserror::Error;

/// A failed system call: what kind of error, the OS's number for it, and
/// the words it came with. Kept instead of the `io::Error` so a report can
/// be cloned and compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoFailure {
    pub kind: io::ErrorKind,
    pub os_error: Option<i32>,
    /// The error as `io::Error` prints it, e.g. "Broken pipe (os error 32)".
    pub text: String,
}

impl From<&io::Error> for IoFailure {
    fn from(error: &io::Error) -> Self {
        IoFailure {
            kind: error.kind(),
            os_error: error.raw_os_error(),
            text: error.to_string(),
        }
    }
}

impl fmt::Display for IoFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One of a session's three threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabThread {
    Writer,
    Reader,
    Sampler,
}

impl fmt::Display for LabThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LabThread::Writer => "writer",
            LabThread::Reader => "reader",
            LabThread::Sampler => "sampler",
        })
    }
}

/// What went wrong in a session's thread. The words are the ones the
/// report, the summary and the window show.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WorkerError {
    #[error("send() accepted 0 bytes")]
    SendAcceptedNothing,
    /// send() failed with EPIPE, ECONNRESET or ECONNABORTED.
    #[error("send() failed, the peer is gone: {0}")]
    PeerGone(IoFailure),
    #[error("send() failed: {0}")]
    Send(IoFailure),
    /// recv() failed with ECONNRESET.
    #[error("recv() failed: the peer reset the connection")]
    PeerReset,
    #[error("recv() failed: {0}")]
    Recv(IoFailure),
    /// The probe's ioctl() or getsockopt(TCP_INFO) failed.
    #[error("sampling the sockets failed: {0}")]
    Sampling(IoFailure),
    #[error("the {0} thread panicked")]
    Panicked(LabThread),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_the_ones_users_have_always_read() {
        let broken = io::Error::from_raw_os_error(libc::EPIPE);
        let failure = IoFailure::from(&broken);
        assert_eq!(failure.kind, io::ErrorKind::BrokenPipe);
        assert_eq!(failure.os_error, Some(libc::EPIPE));
        let cases = [
            (
                WorkerError::SendAcceptedNothing,
                "send() accepted 0 bytes".to_string(),
            ),
            (
                WorkerError::PeerGone(failure.clone()),
                format!("send() failed, the peer is gone: {broken}"),
            ),
            (
                WorkerError::Send(failure.clone()),
                format!("send() failed: {broken}"),
            ),
            (
                WorkerError::PeerReset,
                "recv() failed: the peer reset the connection".to_string(),
            ),
            (
                WorkerError::Recv(failure.clone()),
                format!("recv() failed: {broken}"),
            ),
            (
                WorkerError::Sampling(failure),
                format!("sampling the sockets failed: {broken}"),
            ),
            (
                WorkerError::Panicked(LabThread::Reader),
                "the reader thread panicked".to_string(),
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
