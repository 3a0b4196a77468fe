//! Spawning and supervising node processes.
//!
//! Every node runs in its own process group, so that killing it also kills whatever it
//! started. A writer thread feeds stdin, a reader thread splits stdout into lines capped at
//! [`MAX_LINE_BYTES`], and another keeps the tail of stderr (and, when asked, a full log),
//! so a node that stops reading or floods its output never blocks the harness. Dropping a
//! [`NodeProcess`] kills and reaps the group; [`kill_all`] does it for every live node
//! (the Ctrl-C handler calls it).

use std::collections::{BTreeSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest output line a node may write; longer ones are reported, not parsed.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Lines that may wait in a node's stdin queue; beyond this, [`NodeProcess::send`] drops
/// the line, so a node that reads slower than others write cannot grow eddy's memory.
pub const MAX_QUEUED_LINES: usize = 100_000;
/// How many stderr lines are kept for error messages.
pub const STDERR_TAIL_LINES: usize = 20;

/// Set when Ctrl-C or SIGTERM arrives while a simulated run wants to stop gracefully.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Set while a simulated run is going: an interrupt then lets it write its results.
static GRACEFUL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Handles Ctrl-C or SIGTERM: kills every node; returns true when a simulated run will
/// finish its record and exit, false when the caller should exit at once.
pub fn on_interrupt() -> bool {
    use std::sync::atomic::Ordering;
    INTERRUPTED.store(true, Ordering::SeqCst);
    kill_all();
    GRACEFUL.load(Ordering::SeqCst)
}

/// True once an interrupt arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Says that a run will stop gracefully on an interrupt (see [`on_interrupt`]).
pub fn stop_gracefully_on_interrupt() {
    GRACEFUL.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Process groups of nodes that are running now.
static LIVE_GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Kills every node process group this process started and has not yet reaped.
pub fn kill_all() {
    let groups = LIVE_GROUPS.lock().unwrap_or_else(|e| e.into_inner());
    for &group in groups.iter() {
        kill_group(group);
    }
}

fn kill_group(group: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; a negative pid names the group.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// A node's command line, split the way a shell splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCommand {
    /// The program to run.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

impl NodeCommand {
    /// Splits `line` like a POSIX shell (quotes and backslashes), without running a shell.
    pub fn parse(line: &str) -> Result<NodeCommand, String> {
        let words =
            shell_words::split(line).map_err(|e| format!("cannot split --bin {line:?}: {e}"))?;
        let (program, args) = words.split_first().ok_or("--bin is empty")?;
        Ok(NodeCommand {
            program: program.clone(),
            args: args.to_vec(),
        })
    }

    /// The bundled reference node: this executable's `node` subcommand.
    pub fn reference() -> NodeCommand {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "eddy".into());
        NodeCommand {
            program: exe,
            args: vec!["node".into()],
        }
    }

    /// The command line, quoted so that it can be pasted into a shell.
    pub fn display(&self) -> String {
        let mut words = vec![self.program.as_str()];
        words.extend(self.args.iter().map(String::as_str));
        shell_words::join(words)
    }
}

/// One line of a node's stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawLine {
    /// A UTF-8 line without its newline.
    Text(String),
    /// A line that is not UTF-8, with its length in bytes.
    NotUtf8(usize),
    /// A line longer than [`MAX_LINE_BYTES`], with its length in bytes.
    TooLong(usize),
}

/// What the stdout reader reports.
#[derive(Debug)]
pub enum OutputEvent {
    /// A line, with the moment it was read.
    Line(Instant, RawLine),
    /// Stdout closed (the node exited or closed it).
    Closed,
}

/// Why a node could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start `{program}`: {reason}")]
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
    child: Child,
    group: i32,
    input: Option<Sender<Vec<u8>>>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
    output: Receiver<OutputEvent>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_done: Receiver<()>,
    exit: Option<ExitStatus>,
}

impl NodeProcess {
    /// Starts `command` in a new process group with piped stdin, stdout and stderr.
    pub fn spawn(command: &NodeCommand, options: SpawnOptions) -> Result<NodeProcess, SpawnError> {
        let mut child = Command::new(&command.program);
        // SAFETY: the closure runs in the child between fork and exec and only calls
        // prctl(2), which is async-signal-safe. It asks the kernel to kill the node if the
        // thread that started it dies, so not even a SIGKILL of eddy leaves it running.
        unsafe {
            child.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = child
            .args(&command.args)
            .envs(options.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| SpawnError {
                program: command.program.clone(),
                reason: describe_spawn_error(&e),
            })?;
        let group = child.id() as i32;
        LIVE_GROUPS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(group);
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
        thread::spawn(move || {
            read_stderr(stderr, tail, options.stderr_log);
            let _ = done.send(());
        });
        Ok(NodeProcess {
            child,
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
            self.exit = self.child.try_wait().ok().flatten();
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
        let signal = if paused { libc::SIGSTOP } else { libc::SIGCONT };
        // SAFETY: kill(2) has no memory-safety preconditions; a negative pid names the group.
        unsafe {
            libc::kill(-self.group, signal);
        }
    }

    /// Kills the whole process group and reaps the node.
    pub fn kill(&mut self) {
        // The group may outlive its leader (a child the node started), so kill it even
        // when the node itself has exited.
        kill_group(self.group);
        if self.exit.is_none() {
            self.exit = self.child.wait().ok();
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
        LIVE_GROUPS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.group);
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// "exited with code 3", "killed by signal 9 (SIGKILL)".
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}{}", signal_name(signal)),
        _ => "exited".into(),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => " (SIGKILL)",
        libc::SIGSEGV => " (SIGSEGV)",
        libc::SIGABRT => " (SIGABRT)",
        libc::SIGTERM => " (SIGTERM)",
        libc::SIGPIPE => " (SIGPIPE)",
        _ => "",
    }
}

fn describe_spawn_error(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "command not found".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied (is it executable?)".into(),
        _ => error.to_string(),
    }
}

fn write_input(
    mut stdin: ChildStdin,
    lines: Receiver<Vec<u8>>,
    queued: &std::sync::atomic::AtomicUsize,
) {
    use std::sync::atomic::Ordering;
    while let Ok(line) = lines.recv() {
        queued.fetch_sub(1, Ordering::Relaxed);
        if stdin.write_all(&line).is_err() {
            return;
        }
        while let Ok(more) = lines.try_recv() {
            queued.fetch_sub(1, Ordering::Relaxed);
            if stdin.write_all(&more).is_err() {
                return;
            }
        }
        if stdin.flush().is_err() {
            return;
        }
    }
}

/// Reads stdout line by line into `emit` until the pipe closes or `emit` refuses.
fn read_output(stdout: impl Read, emit: impl Fn(OutputEvent) -> bool) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut line = Vec::new();
    while let Ok(Some(raw)) = read_capped_line(&mut reader, &mut line, MAX_LINE_BYTES) {
        if !emit(OutputEvent::Line(Instant::now(), raw)) {
            return;
        }
    }
    emit(OutputEvent::Closed);
}

/// Reads one line, keeping at most `max` bytes of it; `None` at end of input.
pub fn read_capped_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<RawLine>> {
    line.clear();
    let mut total = 0usize;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            if total == 0 {
                return Ok(None);
            }
            break;
        }
        let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..at], true),
            None => (available, false),
        };
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        total += chunk.len();
        let used = chunk.len() + usize::from(found_newline);
        reader.consume(used);
        if found_newline {
            break;
        }
    }
    if total > max {
        return Ok(Some(RawLine::TooLong(total)));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(match String::from_utf8(std::mem::take(line)) {
        Ok(text) => RawLine::Text(text),
        Err(e) => RawLine::NotUtf8(e.as_bytes().len()),
    }))
}

fn read_stderr(stderr: impl Read, tail: Arc<Mutex<VecDeque<String>>>, mut log: Option<File>) {
    const MAX_KEPT_CHARS: usize = 500;
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    while let Ok(Some(raw)) = read_capped_line(&mut reader, &mut line, MAX_LINE_BYTES) {
        let text = match raw {
            RawLine::Text(text) => text,
            RawLine::NotUtf8(len) => format!("<{len} bytes that are not UTF-8>"),
            RawLine::TooLong(len) => format!("<a line of {len} bytes>"),
        };
        if let Some(file) = &mut log {
            if writeln!(file, "{text}").is_err() {
                log = None;
            }
        }
        let kept: String = text.chars().take(MAX_KEPT_CHARS).collect();
        let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
        if tail.len() == STDERR_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_lines_report_long_and_binary_lines() {
        let data = b"short\r\nxxxxxxxxxx\n\xff\xfe\nlast".to_vec();
        let mut reader = BufReader::with_capacity(3, &data[..]);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        while let Some(line) = read_capped_line(&mut reader, &mut buf, 8).unwrap() {
            lines.push(line);
        }
        assert_eq!(
            lines,
            vec![
                RawLine::Text("short".into()),
                RawLine::TooLong(10),
                RawLine::NotUtf8(2),
                RawLine::Text("last".into())
            ]
        );
    }

    #[test]
    fn command_lines_split_like_a_shell() {
        let cmd = NodeCommand::parse(r#"python3 "my node.py" --x 'a b'"#).unwrap();
        assert_eq!(cmd.program, "python3");
        assert_eq!(cmd.args, vec!["my node.py", "--x", "a b"]);
        assert_eq!(cmd.display(), "python3 'my node.py' --x 'a b'");
        assert!(NodeCommand::parse("").is_err());
        assert!(NodeCommand::parse("python3 'unclosed").is_err());
    }
}
