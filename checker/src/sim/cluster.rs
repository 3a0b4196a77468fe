//! The node processes of a simulated cluster: starting (with `NODE_DATA_DIR` and a stderr
//! log that survives restarts), pausing, killing, restarting, and shutting down.

use crate::process::{NodeCommand, NodeProcess, OutputTag, SpawnError, SpawnOptions, TaggedOutput};
use crate::sandbox::NodeEnd;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

/// One node's place in the cluster.
struct Slot {
    process: Option<NodeProcess>,
    incarnation: u32,
    paused: bool,
}

/// The cluster's processes, by node index.
pub struct Cluster {
    command: NodeCommand,
    ids: Vec<String>,
    slots: Vec<Slot>,
    output: SyncSender<TaggedOutput>,
    logs: PathBuf,
    data: PathBuf,
    /// Whether node stderr is echoed to eddy's own (`--log-stderr`).
    echo_stderr: bool,
}

impl Cluster {
    /// A cluster of `ids`, none started yet; output goes to `output`, stderr logs to
    /// `logs/<id>.log`, and each node's `NODE_DATA_DIR` is `data/<id>`.
    pub fn new(
        command: NodeCommand,
        ids: Vec<String>,
        output: SyncSender<TaggedOutput>,
        logs: PathBuf,
        data: PathBuf,
    ) -> Cluster {
        let slots = ids
            .iter()
            .map(|_| Slot {
                process: None,
                incarnation: 0,
                paused: false,
            })
            .collect();
        Cluster {
            command,
            ids,
            slots,
            output,
            logs,
            data,
            echo_stderr: false,
        }
    }

    /// Echoes every line a node writes to stderr to eddy's own stderr, after the node's id
    /// (`--log-stderr`); the node logs in the store keep them either way.
    pub fn echo_stderr(mut self, on: bool) -> Cluster {
        self.echo_stderr = on;
        self
    }

    /// Node ids, `n1`.. (or `n0`..)
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Starts node `i` (again) and sends it `init_line` first.
    pub fn start(&mut self, i: usize, init_line: &str) -> Result<(), SpawnError> {
        let id = &self.ids[i];
        let data = self.data.join(id);
        let _ = std::fs::create_dir_all(&data);
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("{id}.log")))
            .ok();
        let slot = &mut self.slots[i];
        let incarnation = if slot.process.is_some() || slot.incarnation > 0 {
            slot.incarnation + 1
        } else {
            0
        };
        if let Some(log) = &mut log {
            let _ = writeln!(log, "--- eddy: start {} of {id}", incarnation + 1);
        }
        let options = SpawnOptions {
            env: vec![("NODE_DATA_DIR".into(), data.display().to_string())],
            label: id.clone(),
            data_dir: Some(data.clone()),
            stderr_log: log,
            echo_stderr: self.echo_stderr.then(|| format!("{id}:")),
            shared_output: Some((
                self.output.clone(),
                OutputTag {
                    node: i,
                    incarnation,
                },
            )),
        };
        let process = NodeProcess::spawn(&self.command, options)?;
        let _ = process.send(init_line);
        *slot = Slot {
            process: Some(process),
            incarnation,
            paused: false,
        };
        Ok(())
    }

    /// Queues a line for node `i`'s stdin; false when the node is down or its queue is full.
    pub fn send(&self, i: usize, line: &str) -> bool {
        self.slots[i]
            .process
            .as_ref()
            .is_some_and(|process| process.send(line))
    }

    /// True when node `i` has a running (possibly paused) process.
    pub fn is_up(&self, i: usize) -> bool {
        self.slots[i].process.is_some()
    }

    /// Node `i`'s process id, while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.slots[i].process.as_ref().map(NodeProcess::pid)
    }

    /// The incarnation whose output counts for node `i`; output from older ones is stale.
    pub fn incarnation(&self, i: usize) -> u32 {
        self.slots[i].incarnation
    }

    /// Stops or continues node `i`.
    pub fn set_paused(&mut self, i: usize, paused: bool) {
        if let Some(process) = &self.slots[i].process {
            process.set_paused(paused);
            self.slots[i].paused = paused;
        }
    }

    /// True when node `i` is stopped.
    pub fn is_paused(&self, i: usize) -> bool {
        self.slots[i].paused
    }

    /// Kills node `i`'s process group (on purpose); it stays down until [`Cluster::start`].
    pub fn kill(&mut self, i: usize) {
        if let Some(mut process) = self.slots[i].process.take() {
            process.kill();
        }
        self.slots[i].paused = false;
    }

    /// Node `i` closed its stdout without being killed: reaps it and says how it ended
    /// (and whether its sandbox stopped it), with its last stderr lines.
    pub fn reap(&mut self, i: usize) -> Option<(NodeEnd, Vec<String>)> {
        let mut process = self.slots[i].process.take()?;
        let exit = process.wait_exit(Duration::from_millis(500)).map_or(
            NodeEnd {
                words: "closed its stdout".into(),
                stopped: false,
            },
            |status| process.describe_end(status),
        );
        process.kill();
        Some((exit, process.stderr_tail()))
    }

    /// Kills every node.
    pub fn shutdown(&mut self) {
        for i in 0..self.slots.len() {
            self.kill(i);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}
