//! Spawning and supervising node processes.
//!
//! Every node runs in its own process group, so that killing it also kills whatever it
//! started. A writer thread feeds stdin, a reader thread splits stdout into lines capped at
//! [`MAX_LINE_BYTES`], and another keeps the tail of stderr (and, when asked, a full log),
//! so a node that stops reading or floods its output never blocks the harness. Dropping a
//! [`NodeProcess`] kills and reaps the group; [`kill_all`] does it for every live node
//! (the Ctrl-C handler calls it).
//!
//! One job a module: `command.rs` (a node's command line), `node.rs` (a running node:
//! start, send, read, pause, kill, reap), `spawn.rs` (starting it without copying eddy),
//! `pipes.rs` (the writer, stdout and stderr threads and capped lines), `groups.rs` (the
//! registry of live process groups) and `interrupt.rs` (Ctrl-C and SIGTERM).

mod command;
mod groups;
mod interrupt;
mod node;
mod pipes;
mod spawn;

pub use command::NodeCommand;
pub use groups::kill_all;
pub use interrupt::{interrupted, on_interrupt, stop_gracefully_on_interrupt};
pub use node::{describe_exit, NodeProcess, OutputTag, SpawnError, SpawnOptions, TaggedOutput};
pub use pipes::{read_capped_line, OutputEvent, RawLine};

/// The longest output line a node may write; longer ones are reported, not parsed.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Lines that may wait in a node's stdin queue; beyond this, [`NodeProcess::send`] drops
/// the line, so a node that reads slower than others write cannot grow eddy's memory.
pub const MAX_QUEUED_LINES: usize = 100_000;
/// How many stderr lines are kept for error messages.
pub const STDERR_TAIL_LINES: usize = 20;
