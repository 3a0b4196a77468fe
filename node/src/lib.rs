//! `eddy-node`: the reference node for eddy's five workloads (leases under clock drift,
//! leader lease reads, Raft, a GFS master's heartbeats, and a gossiped PN-counter).
//!
//! The node speaks Maelstrom's protocol: one JSON message per line on stdin and stdout,
//! logs on stderr. [`run`] is the whole program; the modules are its parts. Each workload
//! is a [`service::Service`] in [`workloads`], listed once in the registry, [`services`].

pub mod bug;
pub mod clock;
pub mod dispatch;
pub mod message;
pub mod outbox;
pub mod persist;
pub mod service;
pub mod services;
pub mod workloads;

pub use bug::Bug;
pub use dispatch::Node;

use std::io::{BufRead, BufWriter, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Instant;

/// How the node behaves: the flags of `eddy-node` and of `eddy node`.
#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    /// Serve only this workload's messages (others get error 10).
    // `auto` or a name of `services::names()`; see `services` for who owns a message.
    #[arg(long, default_value = services::AUTO, value_parser = services::workload_values())]
    pub workload: String,
    /// Misbehave on purpose, to prove that eddy's checks catch it.
    #[arg(long, value_enum)]
    pub bug: Option<Bug>,
    /// lease: how much clock drift (ms) a lease grant absorbs; safe while, during one lease,
    /// a granter's clock gains plus the holder's clock loses no more than this.
    #[arg(long, default_value_t = workloads::lease::DEFAULT_GUARD_MS, value_parser = clap::value_parser!(i64).range(0..=3_600_000))]
    pub lease_guard_ms: i64,
}

/// Runs a node on the process's stdin and stdout until stdin closes.
///
/// A reader thread feeds lines to the main loop, which sleeps until the next line or the
/// next timer deadline, so an idle node uses no CPU between ticks.
pub fn run(options: &Options) -> std::io::Result<()> {
    let mut node = Node::new(&options.workload, BufWriter::new(std::io::stdout().lock()))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let (lines, inbox) = mpsc::channel::<String>();
    std::thread::spawn(move || read_lines(std::io::stdin().lock(), lines));
    node.set_bug(options.bug);
    node.set_lease_guard_ms(options.lease_guard_ms);
    node.set_data_dir(persist::DataDir::from_env());
    loop {
        let next = match node.next_deadline() {
            Some(deadline) => {
                inbox.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            }
            None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok(line) => {
                node.handle_line(&line);
                // Serve everything already waiting before paying for a flush.
                while let Ok(line) = inbox.try_recv() {
                    node.handle_line(&line);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return node.flush(),
        }
        node.tick(Instant::now());
        node.flush()?;
    }
}

/// Reads newline-terminated lines; a line that is not UTF-8 is logged and skipped.
fn read_lines(mut input: impl BufRead, lines: mpsc::Sender<String>) {
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match input.read_until(b'\n', &mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(_) => match String::from_utf8(std::mem::take(&mut buffer)) {
                Ok(line) => {
                    if lines.send(line).is_err() {
                        return;
                    }
                }
                Err(_) => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "eddy-node: ignoring an input line that is not UTF-8"
                    );
                }
            },
        }
    }
}
