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
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
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
    child: spawn::Child,
    group: i32,
    input: Option<Sender<Vec<u8>>>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
    output: Receiver<OutputEvent>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_done: Receiver<()>,
    exit: Option<ExitStatus>,
}

impl NodeProcess {
    /// Starts `command` in a new process group with piped stdin, stdout and stderr, with
    /// `SIGKILL` as its parent-death signal, without copying eddy (see the `spawn` module).
    pub fn spawn(command: &NodeCommand, options: SpawnOptions) -> Result<NodeProcess, SpawnError> {
        let mut child =
            spawn::spawn(&command.program, &command.args, &options.env).map_err(|e| {
                SpawnError {
                    program: command.program.clone(),
                    reason: describe_spawn_error(&e),
                }
            })?;
        let group = child.pid;
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

fn write_input(mut stdin: File, lines: Receiver<Vec<u8>>, queued: &std::sync::atomic::AtomicUsize) {
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

/// Starting a node without copying eddy.
///
/// `fork` copies the parent's page tables and makes every page of it copy-on-write, so
/// its cost grows with eddy's memory and every thread of eddy then pays page faults for
/// the pages it writes; `std::process::Command` avoids that with `posix_spawn` (a
/// `vfork`-like clone that shares memory until `exec`), but only when no `pre_exec`
/// closure is set, and setting the parent-death signal needs one. So this does what
/// `posix_spawn` does itself: `clone(CLONE_VM | CLONE_VFORK)` onto a small stack of its
/// own, with every signal blocked so that no handler of eddy's runs in the child; the
/// child, which must not allocate (it shares eddy's heap), resets handled signals and
/// `SIGPIPE` to their defaults, sets its parent-death signal (`SIGKILL`: not even a
/// `SIGKILL` of eddy leaves a node running), makes its own process group, moves the pipes
/// to 0, 1 and 2, clears its signal mask and runs `execve` on each candidate of the
/// `PATH` search in turn (`execvp`'s rules). A failure is handed back through the shared
/// memory, and the child exits 127.
mod spawn {
    use std::ffi::{CString, OsString};
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// Bytes of stack for the child between `clone` and `execve`.
    const STACK_BYTES: usize = 64 * 1024;

    /// A started child: its pid and the parent's ends of its pipes.
    pub(super) struct Child {
        pub pid: libc::pid_t,
        pub stdin: Option<File>,
        pub stdout: Option<File>,
        pub stderr: Option<File>,
    }

    impl Child {
        /// The exit status, if the child has exited (reaps it).
        pub fn try_wait(&mut self) -> Option<ExitStatus> {
            let mut status = 0;
            // SAFETY: waitpid(2) writes only `status`.
            let reaped = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            (reaped == self.pid).then(|| ExitStatus::from_raw(status))
        }

        /// Waits for the child to exit and reaps it.
        pub fn wait(&mut self) -> Option<ExitStatus> {
            loop {
                let mut status = 0;
                // SAFETY: waitpid(2) writes only `status`.
                let reaped = unsafe { libc::waitpid(self.pid, &mut status, 0) };
                if reaped == self.pid {
                    return Some(ExitStatus::from_raw(status));
                }
                if reaped < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return None;
            }
        }
    }

    /// What the child needs, prepared by the parent (the child must not allocate).
    struct Setup {
        /// Paths to try, in order (the `PATH` search, or the program itself).
        candidates: Vec<*const libc::c_char>,
        /// Arguments, null-terminated.
        argv: Vec<*const libc::c_char>,
        /// Environment, null-terminated.
        envp: Vec<*const libc::c_char>,
        /// The child's ends of the stdin, stdout and stderr pipes.
        fds: [RawFd; 3],
        /// An empty signal set, the child's mask.
        empty: libc::sigset_t,
        /// The child's `errno` when it could not start the program, else 0.
        error: AtomicI32,
    }

    /// Starts `program` with `args` and eddy's environment plus `env`.
    pub(super) fn spawn(
        program: &str,
        args: &[String],
        env: &[(String, String)],
    ) -> io::Result<Child> {
        let c_string = |bytes: Vec<u8>| {
            CString::new(bytes).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a NUL byte in an argument or the environment",
                )
            })
        };
        // The environment: eddy's, each of `env` replacing a variable of the same name.
        let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        for (key, value) in env {
            vars.retain(|(k, _)| k.as_bytes() != key.as_bytes());
            vars.push((key.into(), value.into()));
        }
        let path = vars
            .iter()
            .find(|(k, _)| k.as_bytes() == b"PATH")
            .map(|(_, v)| v.as_bytes().to_vec());
        let env_strings = vars
            .iter()
            .map(|(k, v)| c_string([k.as_bytes(), b"=", v.as_bytes()].concat()))
            .collect::<io::Result<Vec<CString>>>()?;
        let arg_strings = std::iter::once(program)
            .chain(args.iter().map(String::as_str))
            .map(|a| c_string(a.as_bytes().to_vec()))
            .collect::<io::Result<Vec<CString>>>()?;
        let candidate_strings = candidates(program, path.as_deref())
            .into_iter()
            .map(c_string)
            .collect::<io::Result<Vec<CString>>>()?;
        let null_terminated = |strings: &[CString]| {
            let mut pointers: Vec<*const libc::c_char> =
                strings.iter().map(|s| s.as_ptr()).collect();
            pointers.push(std::ptr::null());
            pointers
        };
        let (child_stdin, parent_stdin) = pipe()?;
        let (parent_stdout, child_stdout) = pipe()?;
        let (parent_stderr, child_stderr) = pipe()?;
        // SAFETY: sigemptyset(3) initializes the set it is given.
        let empty = unsafe {
            let mut set = std::mem::zeroed::<libc::sigset_t>();
            libc::sigemptyset(&mut set);
            set
        };
        let setup = Setup {
            candidates: candidate_strings.iter().map(|s| s.as_ptr()).collect(),
            argv: null_terminated(&arg_strings),
            envp: null_terminated(&env_strings),
            fds: [
                child_stdin.as_raw_fd(),
                child_stdout.as_raw_fd(),
                child_stderr.as_raw_fd(),
            ],
            empty,
            error: AtomicI32::new(0),
        };
        let mut stack = vec![0u128; STACK_BYTES / 16];
        // SAFETY: the child runs `child_main` on `stack` (which outlives it: with
        // CLONE_VFORK this thread waits until the child has called execve or exited), and
        // only reads `setup` (all of whose pointers point into strings alive here) and
        // stores into its atomic. Signals are blocked around the clone so that none of
        // eddy's handlers runs in the child, which shares eddy's memory.
        let pid = unsafe {
            let mut all = std::mem::zeroed::<libc::sigset_t>();
            libc::sigfillset(&mut all);
            let mut old = std::mem::zeroed::<libc::sigset_t>();
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            let top = stack.as_mut_ptr().add(stack.len()).cast::<libc::c_void>();
            let pid = libc::clone(
                child_main,
                top,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                std::ptr::from_ref(&setup).cast_mut().cast::<libc::c_void>(),
            );
            let clone_error = io::Error::last_os_error();
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            if pid < 0 {
                return Err(clone_error);
            }
            pid
        };
        drop((child_stdin, child_stdout, child_stderr));
        let mut child = Child {
            pid,
            stdin: Some(File::from(parent_stdin)),
            stdout: Some(File::from(parent_stdout)),
            stderr: Some(File::from(parent_stderr)),
        };
        match setup.error.load(Ordering::SeqCst) {
            0 => Ok(child),
            error => {
                child.wait();
                Err(io::Error::from_raw_os_error(error))
            }
        }
    }

    /// The paths `execvp` would try for `program`: itself when it names a path, else each
    /// folder of `PATH` (an empty entry is the current folder; no `PATH`, `/bin:/usr/bin`).
    fn candidates(program: &str, path: Option<&[u8]>) -> Vec<Vec<u8>> {
        if program.contains('/') {
            return vec![program.as_bytes().to_vec()];
        }
        path.unwrap_or(b"/bin:/usr/bin")
            .split(|&c| c == b':')
            .map(|dir| {
                let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
                [dir, b"/", program.as_bytes()].concat()
            })
            .collect()
    }

    /// A pipe, both ends close-on-exec: (read end, write end).
    fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
        let mut fds = [0; 2];
        // SAFETY: pipe2(2) writes two descriptors into `fds`, which we then own.
        unsafe {
            if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
        }
    }

    /// The child, between `clone` and `execve`: async-signal-safe calls only, no
    /// allocation, no panics.
    extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the parent's `Setup`, alive and unchanged until this child
        // calls execve or exits; everything called is async-signal-safe.
        unsafe {
            let setup = &*arg.cast_const().cast::<Setup>();
            let fail = |setup: &Setup| -> ! {
                setup
                    .error
                    .store((*libc::__errno_location()).max(1), Ordering::SeqCst);
                libc::_exit(127)
            };
            for signal in 1..=64 {
                if signal == libc::SIGKILL || signal == libc::SIGSTOP {
                    continue;
                }
                let mut action = std::mem::zeroed::<libc::sigaction>();
                if libc::sigaction(signal, std::ptr::null(), &mut action) != 0 {
                    continue;
                }
                let handled =
                    action.sa_sigaction != libc::SIG_DFL && action.sa_sigaction != libc::SIG_IGN;
                if handled || signal == libc::SIGPIPE {
                    let mut default = std::mem::zeroed::<libc::sigaction>();
                    default.sa_sigaction = libc::SIG_DFL;
                    libc::sigaction(signal, &default, std::ptr::null_mut());
                }
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                fail(setup);
            }
            if libc::setpgid(0, 0) != 0 {
                fail(setup);
            }
            for (target, &fd) in setup.fds.iter().enumerate() {
                let target = target as RawFd;
                let moved = if fd == target {
                    libc::fcntl(fd, libc::F_SETFD, 0)
                } else {
                    libc::dup2(fd, target)
                };
                if moved < 0 {
                    fail(setup);
                }
            }
            libc::pthread_sigmask(libc::SIG_SETMASK, &setup.empty, std::ptr::null_mut());
            // execvp's rules: go on past a candidate that is missing or not executable;
            // stop at any other error; report EACCES if any candidate gave it.
            let mut denied = false;
            for &candidate in &setup.candidates {
                libc::execve(candidate, setup.argv.as_ptr(), setup.envp.as_ptr());
                match *libc::__errno_location() {
                    libc::EACCES => denied = true,
                    libc::ENOENT
                    | libc::ENOTDIR
                    | libc::ESTALE
                    | libc::ENODEV
                    | libc::ETIMEDOUT => {}
                    _ => fail(setup),
                }
            }
            if denied {
                *libc::__errno_location() = libc::EACCES;
            }
            fail(setup)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::io::{Read, Write};

        #[test]
        fn candidates_follow_the_path_search() {
            assert_eq!(candidates("./node", Some(b"/x")), [b"./node".to_vec()]);
            assert_eq!(
                candidates("node", Some(b"/a::/b")),
                [b"/a/node".to_vec(), b"./node".to_vec(), b"/b/node".to_vec()]
            );
            assert_eq!(candidates("sh", None).len(), 2);
        }

        #[test]
        fn a_child_gets_its_pipes_environment_group_and_signal_state() {
            // The shell reads its own signal state with builtins first: while it forks a
            // command (the `cut` below) dash blocks every signal for a moment, so a `grep`
            // of its status could catch it mid-fork.
            let script = "while read -r l; do case $l in SigBlk*|SigIgn*) echo \"$l\" >&2;; esac; \
                          done < /proc/$$/status; \
                          read line; echo \"got $line $EDDY_SPAWN_TEST\"; \
                          echo \"pgid $(cut -d' ' -f5 /proc/$$/stat)\" >&2";
            let env = [("EDDY_SPAWN_TEST".to_owned(), "yes".to_owned())];
            let mut child = spawn("sh", &["-c".into(), script.into()], &env).unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"hello\n").unwrap();
            drop(stdin);
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            let status = child.wait().unwrap();
            assert!(status.success(), "{status:?} {err}");
            assert_eq!(out, "got hello yes\n");
            assert!(err.contains(&format!("pgid {}\n", child.pid)), "{err}");
            assert!(
                err.contains("SigBlk:\t0000000000000000")
                    || err.contains("SigBlk: 0000000000000000"),
                "{err}"
            );
            // SIGPIPE (bit 13) is back to its default, not ignored as in eddy.
            let ignored = err.lines().find(|l| l.starts_with("SigIgn")).unwrap();
            let mask = u64::from_str_radix(ignored.trim_start_matches("SigIgn:").trim(), 16);
            assert_eq!(mask.unwrap() & (1 << (libc::SIGPIPE - 1)), 0, "{err}");
        }

        #[test]
        fn a_child_dies_with_the_thread_that_started_it() {
            let child = std::thread::spawn(|| spawn("sleep", &["30".into()], &[]).unwrap())
                .join()
                .unwrap();
            let mut child = child;
            let status = child.wait().unwrap();
            assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
        }

        #[test]
        fn failures_say_why() {
            let missing = spawn("no-such-program-eddy-spawn", &[], &[]).err().unwrap();
            assert_eq!(missing.kind(), io::ErrorKind::NotFound);
            let dir = std::env::temp_dir().join(format!("eddy-spawn-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let script = dir.join("not-executable");
            std::fs::write(&script, "#!/bin/sh\n").unwrap();
            let denied = spawn(script.to_str().unwrap(), &[], &[]).err().unwrap();
            assert_eq!(denied.kind(), io::ErrorKind::PermissionDenied);
            std::fs::remove_dir_all(&dir).unwrap();
        }
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
