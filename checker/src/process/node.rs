//! A running node: starting it in its own process group with the threads that serve its
//! pipes, sending it lines, reading its output, pausing, killing and reaping it.

use super::groups::{forget, kill_group, register, signal_group};
use super::pipes::{read_output, read_stderr, write_input, OutputEvent};
use super::{spawn, NodeCommand, MAX_QUEUED_LINES};
use crate::sandbox::{Confined, NodeEnd};
use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Why a node could not be started.
#[derive(Debug, thiserror::Error)]
#[error("the node `{program}` did not start: {reason}")]
pub struct SpawnError {
    /// The program that was to run.
    pub program: String,
    /// The operating system's reason, in words.
    pub reason: String,
}

/// How to start a node beyond its command line.
#[derive(Debug, Default)]
pub struct SpawnOptions {
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// A file that receives everything the node writes to stderr.
    pub stderr_log: Option<File>,
    /// When set, every line the node writes to stderr is also written to eddy's own
    /// stderr after this prefix (`--log-stderr`).
    pub echo_stderr: Option<String>,
    /// Who the process is, for the names of its sandbox's group and folders (`n1`; `node`
    /// when empty).
    pub label: String,
    /// The node's data folder (`NODE_DATA_DIR`), which its sandbox lets it write to.
    pub data_dir: Option<std::path::PathBuf>,
    /// Where stdout events go: by default a channel of this process's own, read with
    /// [`NodeProcess::next_output`]; for a cluster, one channel shared by every node, each
    /// event tagged so the reader knows which node (and which incarnation) wrote it.
    pub shared_output: Option<(mpsc::SyncSender<TaggedOutput>, OutputTag)>,
}

/// Which node process wrote an output event: its index and how many times it was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputTag {
    /// The node's index in its cluster.
    pub node: usize,
    /// 0 for the first start, 1 after the first restart, ...
    pub incarnation: u32,
}

/// An output event on a channel shared by several nodes.
#[derive(Debug)]
pub struct TaggedOutput {
    /// Who wrote it.
    pub tag: OutputTag,
    /// What happened.
    pub event: OutputEvent,
}

/// A running node and the threads that serve its pipes.
pub struct NodeProcess {
    child: spawn::Child,
    /// Its sandbox (`--sandbox`), dropped after the process is reaped.
    confined: Option<Confined>,
    group: i32,
    input: Option<Sender<Vec<u8>>>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
    output: Receiver<OutputEvent>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_done: Receiver<()>,
    exit: Option<ExitStatus>,
}

impl NodeProcess {
    /// Starts `command` in a session (and process group) of its own with piped stdin,
    /// stdout and stderr, with `SIGKILL` as its parent-death signal, without copying eddy
    /// (see the `spawn` module), confined by the command's sandbox if it has one.
    pub fn spawn(command: &NodeCommand, options: SpawnOptions) -> Result<NodeProcess, SpawnError> {
        let failed = |e: std::io::Error| SpawnError {
            program: command.program.clone(),
            reason: describe_spawn_error(&e),
        };
        let label = if options.label.is_empty() {
            "node"
        } else {
            &options.label
        };
        let mut confined = match &command.sandbox {
            Some(sandbox) => Some(
                sandbox
                    .confine(label, options.data_dir.as_deref())
                    .map_err(|e| {
                        failed(std::io::Error::other(format!(
                            "the sandbox could not be prepared: {e}"
                        )))
                    })?,
            ),
            None => None,
        };
        // A sandboxed node gets its sandbox's environment, not eddy's, and then `env`.
        let env: Vec<(String, String)> = confined
            .iter()
            .flat_map(|c| c.env().iter().cloned())
            .chain(options.env.iter().cloned())
            .collect();
        let environment = match confined {
            Some(_) => spawn::Environment::Only(&env),
            None => spawn::Environment::Inherited(&env),
        };
        let mut child = spawn::spawn(
            &command.program,
            &command.args,
            environment,
            confined.as_ref().map(Confined::steps),
        )
        .map_err(failed)?;
        if let Some(confined) = &mut confined {
            confined.watch(child.pid);
        }
        let group = child.pid;
        register(group);
        let (input, input_rx) = mpsc::channel();
        let stdin = child.stdin.take().expect("stdin is piped");
        let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let written = Arc::clone(&queued);
        thread::spawn(move || write_input(stdin, input_rx, &written));
        let (output_tx, output) = mpsc::sync_channel(4096);
        let stdout = child.stdout.take().expect("stdout is piped");
        match options.shared_output {
            None => {
                thread::spawn(move || read_output(stdout, |event| output_tx.send(event).is_ok()))
            }
            Some((shared, tag)) => thread::spawn(move || {
                read_output(stdout, |event| {
                    shared.send(TaggedOutput { tag, event }).is_ok()
                })
            }),
        };
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let tail = Arc::clone(&stderr_tail);
        let (done, stderr_done) = mpsc::channel();
        // A sandboxed node's log takes no more disk than its own files may.
        let log_cap = confined.as_ref().map_or(u64::MAX, Confined::disk_limit);
        thread::spawn(move || {
            read_stderr(
                stderr,
                tail,
                options.stderr_log,
                log_cap,
                options.echo_stderr,
            );
            let _ = done.send(());
        });
        Ok(NodeProcess {
            child,
            confined,
            group,
            input: Some(input),
            queued,
            output,
            stderr_tail,
            stderr_done,
            exit: None,
        })
    }

    /// The node's process id (also its process group's).
    pub fn pid(&self) -> u32 {
        self.group as u32
    }

    /// Queues one line (a newline is added) for the node's stdin; never blocks. False when
    /// the line was dropped: stdin is closed, or [`MAX_QUEUED_LINES`] already wait.
    pub fn send(&self, line: &str) -> bool {
        use std::sync::atomic::Ordering;
        let Some(input) = &self.input else {
            return false;
        };
        if self.queued.load(Ordering::Relaxed) >= MAX_QUEUED_LINES {
            return false;
        }
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.queued.fetch_add(1, Ordering::Relaxed);
        input.send(bytes).is_ok()
    }

    /// Closes stdin once everything queued has been written.
    pub fn close_stdin(&mut self) {
        self.input = None;
    }

    /// Waits up to `timeout` for the next stdout event.
    pub fn next_output(&self, timeout: Duration) -> Option<OutputEvent> {
        self.output.recv_timeout(timeout).ok()
    }

    /// The exit status, if the node has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait();
            if self.exit.is_some() {
                self.forget_group();
            }
        }
        self.exit
    }

    /// Waits up to `timeout` for the node to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Stops (`SIGSTOP`) or continues (`SIGCONT`) the whole process group.
    pub fn set_paused(&self, paused: bool) {
        signal_group(
            self.group,
            if paused { libc::SIGSTOP } else { libc::SIGCONT },
        );
    }

    /// How the node ended: what its sandbox says of it (the limit it reached, with
    /// whether the sandbox stopped it), else [`describe_exit`] (not the sandbox's doing).
    pub fn describe_end(&self, status: ExitStatus) -> NodeEnd {
        self.confined
            .as_ref()
            .and_then(|c| c.limit_reached(status, self.child.cpu_time))
            .unwrap_or_else(|| NodeEnd {
                words: describe_exit(status),
                stopped: false,
            })
    }

    /// Kills the whole process group (and, in a sandbox, every process the node started,
    /// in its group or not) and reaps the node.
    pub fn kill(&mut self) {
        // The group may outlive its leader (a child the node started), so kill it even
        // when the node itself has exited.
        kill_group(self.group);
        if let Some(confined) = &self.confined {
            confined.kill_all();
        }
        if self.exit.is_none() {
            self.exit = self.child.wait();
        }
        self.forget_group();
    }

    /// The last lines the node wrote to stderr. After an exit or [`NodeProcess::kill`],
    /// waits briefly for the reader to drain the pipe.
    pub fn stderr_tail(&self) -> Vec<String> {
        if self.exit.is_some() {
            let _ = self.stderr_done.recv_timeout(Duration::from_millis(200));
        }
        self.stderr_tail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    fn forget_group(&self) {
        forget(self.group);
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// "exited with code 3", "was killed by signal 9 (SIGKILL)", "was killed by signal 11 (SIGSEGV: a
/// segmentation fault)".
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => match signal_name(signal) {
            Some(name) => format!("was killed by signal {signal} ({name})"),
            None => format!("was killed by signal {signal}"),
        },
        _ => "exited".into(),
    }
}

/// A signal's name, with what it usually means where that is not plain from the name.
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL: an illegal instruction",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT: the program aborted, as on a failed assertion or panic",
        libc::SIGBUS => "SIGBUS: a bad memory access",
        libc::SIGFPE => "SIGFPE: an arithmetic error",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV: a segmentation fault",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE: it wrote to a closed pipe",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU: CPU time limit exceeded",
        libc::SIGXFSZ => "SIGXFSZ: file size limit exceeded",
        libc::SIGSYS => "SIGSYS: a bad system call",
        _ => return None,
    })
}

fn describe_spawn_error(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "command not found".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied (is it executable?)".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_exit;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    #[test]
    fn exits_are_told_in_words() {
        // A wait status: the exit code in the second byte, or the signal in the first.
        assert_eq!(
            describe_exit(ExitStatus::from_raw(1 << 8)),
            "exited with code 1"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(libc::SIGSEGV)),
            "was killed by signal 11 (SIGSEGV: a segmentation fault)"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(9)),
            "was killed by signal 9 (SIGKILL)"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(60)),
            "was killed by signal 60"
        );
    }
}
