//! `sockscope connections`: every TCP connection on this machine, as a
//! table or JSON.

use std::process::ExitCode;

use clap::Args;

use sockscope::gui::Lang;
use sockscope::lab::probe::TcpState;
use sockscope::lab::units;

use super::CliError;
use super::parse::{parse_ip, parse_port, parse_state};

#[derive(Args, Debug)]
pub(super) struct ConnectionsArgs {
    /// One JSON array instead of a table.
    #[arg(long)]
    json: bool,
    /// Only connections with this port at either end.
    #[arg(long, value_name = "N", value_parser = parse_port, allow_hyphen_values = true)]
    port: Option<u16>,
    /// Only connections in this state (ss's names: established, listen,
    /// time-wait, close-wait, syn-sent, ...).
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    state: Option<TcpState>,
    /// Only connections with this IP address at either end (IPv4 or IPv6;
    /// an IPv4 address also finds it on dual-stack sockets, ::ffff:...).
    #[arg(long, value_name = "IP", value_parser = parse_ip)]
    address: Option<std::net::IpAddr>,
}

pub(super) fn run(args: &ConnectionsArgs) -> Result<ExitCode, CliError> {
    let all = sockscope::lab::diag::connections().map_err(|e| {
        CliError::Failed(format!(
            "connections: the kernel's socket list (sock_diag) could not be read: {e}"
        ))
    })?;
    let shown: Vec<_> = all
        .into_iter()
        .filter(|c| {
            args.port
                .is_none_or(|p| c.local.port() == p || c.peer.port() == p)
        })
        .filter(|c| args.state.is_none_or(|s| c.tcp_state == s))
        .filter(|c| {
            args.address.is_none_or(|ip| {
                let ip = ip.to_canonical();
                c.local.ip().to_canonical() == ip || c.peer.ip().to_canonical() == ip
            })
        })
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_else(|_| "[]".into())
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<12} {:<47} {:<47} {:>9} {:>9} {:>19} {:>19} {:>10}  OWNER",
        "STATE", "LOCAL", "PEER", "RECV-Q", "SEND-Q", "RMEM/RCVBUF", "WMEM/SNDBUF", "WINDOW"
    );
    for c in &shown {
        let memory = |pick: fn(&sockscope::lab::diag::SocketMemory) -> (u32, u32)| {
            c.memory.map_or_else(String::new, |m| {
                let (used, limit) = pick(&m);
                format!(
                    "{}/{}",
                    units::format_bytes(u64::from(used)),
                    units::format_bytes(u64::from(limit))
                )
            })
        };
        let window = c
            .snd_wnd
            .map_or_else(String::new, |w| units::format_bytes(u64::from(w)));
        let owner = c.owner_text(Lang::En);
        // A listener's queues count connections: the accept queue, and
        // its backlog in brackets.
        let (recv_q, send_q) = if c.tcp_state == TcpState::Listen {
            (c.recv_q.to_string(), format!("({})", c.send_q))
        } else {
            (c.recv_q.to_string(), c.send_q.to_string())
        };
        println!(
            "{:<12} {:<47} {:<47} {:>9} {:>9} {:>19} {:>19} {:>10}  {owner}",
            c.state,
            c.local.to_string(),
            c.peer.to_string(),
            recv_q,
            send_q,
            memory(|m| (m.rmem_alloc, m.rcvbuf)),
            memory(|m| (m.wmem_queued, m.sndbuf)),
            window,
        );
    }
    Ok(ExitCode::SUCCESS)
}
