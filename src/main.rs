//! sockscope: see what send() and recv() really do to a TCP connection's
//! kernel buffers. The command line is in `cli`; everything else is the
//! library's.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
