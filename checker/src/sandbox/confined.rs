//! One node process's sandbox: its private temp folder, its control group, its rules and
//! limits, a watchdog that stops it when it reaches a limit only its group counts, and the
//! words for a limit it reached.

use super::cgroup::NodeCgroup;
use super::child::ChildSteps;
use super::landlock::{self, Coverage};
use super::{size_words, ResourceLimits, Sandbox};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the watchdog reads a group's counters.
const WATCH_EVERY: Duration = Duration::from_millis(50);
/// Seconds of CPU a process may go on using after `SIGXCPU` before `SIGKILL`.
const CPU_GRACE_SECONDS: u64 = 5;

/// A limit a node reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reached {
    Memory,
    /// The kernel's out-of-memory killer killed a member while the group was well under
    /// its limit: the machine (or a group above) ran out. Told, never stopped for.
    MachineMemory,
    Processes,
    /// Its files took more disk than its limit.
    Disk,
    /// Its files could not all be added up (more than [`MAX_ENTRIES`], or a folder eddy
    /// cannot read), which counts as over the disk limit.
    DiskUncounted,
}

/// The watchdog adds up a node's folders at most every this many reads of its counters (a
/// quarter of a second), and less often when that takes long.
const DISK_EVERY: u32 = 5;
/// Entries beneath a node's folders beyond which they count as over the disk limit (many
/// empty files use up a disk's inodes, not its bytes).
const MAX_ENTRIES: usize = 20_000;

/// How a node ended, in words, and whether its sandbox stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEnd {
    /// In words: "exceeded its 512 MiB memory limit".
    pub words: String,
    /// True when the sandbox stopped the node (a limit it enforces); false when it only
    /// tells why the node ended (the machine ran out of memory; a write failed at the
    /// file size limit and the node gave up).
    pub stopped: bool,
}

/// The sandbox of one node process.
#[derive(Debug)]
pub struct Confined {
    limits: ResourceLimits,
    steps: ChildSteps,
    env: Vec<(String, String)>,
    tmp: PathBuf,
    /// Its data folder, if it has one.
    data: Option<PathBuf>,
    group: Option<Arc<NodeCgroup>>,
    /// Kept open until the child has enforced it.
    _ruleset: Option<OwnedFd>,
    reached: Arc<Mutex<Option<Reached>>>,
    stop_watching: Arc<AtomicBool>,
    /// The watchdog's thread, woken and joined on drop.
    watchdog: Option<std::thread::JoinHandle<()>>,
    /// When the node started (its watchdog with it).
    started: Option<std::time::SystemTime>,
}

impl Confined {
    /// Makes the folder, group and rules of one process of `sandbox`.
    pub(super) fn new(
        sandbox: &Sandbox,
        label: &str,
        tmp: PathBuf,
        data: Option<&Path>,
    ) -> io::Result<Confined> {
        let limits = sandbox.limits;
        let m = &sandbox.mechanisms;
        std::fs::create_dir_all(&tmp)?;
        let mut writable: Vec<&Path> = vec![&tmp];
        writable.extend(data);
        let writable_c: Vec<std::ffi::CString> = if m.own_mounts {
            writable
                .iter()
                .map(|p| c_path(p))
                .collect::<io::Result<_>>()?
        } else {
            Vec::new()
        };
        let made = (|| -> io::Result<_> {
            let ruleset = match m.landlock {
                Some(abi) => Some(landlock::ruleset(
                    abi,
                    &writable,
                    Coverage::of(abi, !m.own_network),
                )?),
                None => None,
            };
            // Last, so that nothing fails after the group exists (`Drop` removes it).
            let group = match &m.cgroups {
                Ok(parent) => Some(Arc::new(parent.node(
                    label,
                    limits.memory_bytes,
                    limits.processes,
                )?)),
                Err(_) => None,
            };
            Ok((ruleset, group))
        })();
        let (ruleset, group) = made.inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&tmp);
        })?;
        let cpu = limits.cpu_seconds;
        let mut rlimits = vec![
            (libc::RLIMIT_CPU, cpu, cpu + CPU_GRACE_SECONDS),
            (
                libc::RLIMIT_FSIZE,
                limits.file_size_bytes,
                limits.file_size_bytes,
            ),
            (libc::RLIMIT_NOFILE, limits.open_files, limits.open_files),
            (libc::RLIMIT_CORE, 0, 0),
        ];
        if group.is_none() {
            rlimits.push((libc::RLIMIT_DATA, limits.memory_bytes, limits.memory_bytes));
            if !m.privileged && m.namespace_flags & libc::CLONE_NEWUSER != 0 {
                rlimits.push((libc::RLIMIT_NPROC, limits.processes, limits.processes));
            }
        }
        // Never above what this process may set itself.
        for (resource, soft, hard) in &mut rlimits {
            let now = current_hard_limit(*resource);
            *hard = (*hard).min(now);
            *soft = (*soft).min(*hard);
        }
        let steps = ChildSteps {
            join: group.as_ref().map(|g| g.join_files()).unwrap_or_default(),
            rlimits,
            ruleset: ruleset.as_ref().map(AsRawFd::as_raw_fd),
            drop_capabilities: m.privileged || m.namespace_flags & libc::CLONE_NEWUSER != 0,
            lock_root: m.can_lock_root,
            clone_flags: m.namespace_flags,
            writable: writable_c,
            filter_sockets: m.seccomp,
        };
        let confined = Confined {
            limits,
            steps,
            env: sandbox
                .environment()
                .iter()
                .cloned()
                .chain([("TMPDIR".into(), tmp.display().to_string())])
                .collect(),
            tmp,
            data: data.map(Path::to_path_buf),
            group,
            _ruleset: ruleset,
            reached: Arc::new(Mutex::new(None)),
            stop_watching: Arc::new(AtomicBool::new(false)),
            watchdog: None,
            started: None,
        };
        Ok(confined)
    }

    /// The disk its files may take, in bytes (its stderr log in the run folder is held to
    /// it too).
    pub fn disk_limit(&self) -> u64 {
        self.limits.disk_bytes
    }

    /// What the child does to itself before `execve`.
    pub fn steps(&self) -> &ChildSteps {
        &self.steps
    }

    /// The node's environment (before the variables eddy gives every node): the variables
    /// of eddy's that the sandbox passes on, and `TMPDIR`, its private temp folder.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// Kills every process of the node's control group, even those that left its process
    /// group. (Without a control group there is nothing more to kill here: the node's own
    /// process namespace, if it has one, dies with the node.)
    pub fn kill_all(&self) {
        if let Some(group) = &self.group {
            group.kill_all();
        }
    }

    /// How the node's end came from its sandbox, when it did: the limit it reached, in
    /// words ("exceeded its 512 MiB memory limit"), from the group's counters, `SIGXCPU`
    /// or a `SIGKILL` after using up its CPU time, `SIGXFSZ`; or, not stopped by the
    /// sandbox, a failure after ignoring `SIGXFSZ` (Python does, and gets `EFBIG`), told
    /// by a file of its folders at the limit, or a kill by the kernel when the machine ran
    /// out of memory.
    pub fn limit_reached(&self, status: ExitStatus, cpu: Option<Duration>) -> Option<NodeEnd> {
        let l = &self.limits;
        let recorded = *self.reached.lock().unwrap_or_else(|e| e.into_inner());
        let reached = recorded.or_else(|| {
            let group = self.group.as_deref()?;
            reached_now(group, l.memory_bytes).or_else(|| {
                machine_ran_out(group, l.memory_bytes).then_some(Reached::MachineMemory)
            })
        });
        let used_cpu = cpu.is_some_and(|c| c.as_secs() >= l.cpu_seconds);
        let cpu_words = || format!("exceeded its CPU time limit of {} s", l.cpu_seconds);
        let file_words = || {
            format!(
                "exceeded its {} file size limit",
                size_words(l.file_size_bytes)
            )
        };
        let stopped = |words: String| NodeEnd {
            words,
            stopped: true,
        };
        let told = |words: String| NodeEnd {
            words,
            stopped: false,
        };
        match (reached, status.signal()) {
            (Some(Reached::Memory), _) => Some(stopped(format!(
                "exceeded its {} memory limit",
                size_words(l.memory_bytes)
            ))),
            (Some(Reached::MachineMemory), _) => Some(told(
                "was killed by the kernel's out-of-memory killer while under its memory limit: the machine ran out of memory".into(),
            )),
            (Some(Reached::Processes), _) => Some(stopped(format!(
                "exceeded its limit of {} processes and threads",
                l.processes
            ))),
            (Some(Reached::Disk), _) => Some(stopped(format!(
                "exceeded its {} disk limit (its files beneath its data and temp folders)",
                size_words(l.disk_bytes)
            ))),
            (Some(Reached::DiskUncounted), _) => Some(stopped(format!(
                "exceeded its {} disk limit: its files beneath its data and temp folders could not be added up (more than {MAX_ENTRIES}, or in a folder eddy cannot read)",
                size_words(l.disk_bytes)
            ))),
            (None, Some(libc::SIGXCPU)) => Some(stopped(cpu_words())),
            (None, Some(libc::SIGKILL)) if used_cpu => Some(stopped(cpu_words())),
            (None, Some(libc::SIGXFSZ)) => Some(stopped(file_words())),
            _ if !status.success() && self.has_file_at_limit() => Some(told(format!(
                "failed after a write reached its {} file size limit",
                size_words(l.file_size_bytes)
            ))),
            _ => None,
        }
    }

    /// True when a file beneath the node's folders (its temp folder, its data folder),
    /// written since the node started, takes as much disk as the file size limit lets it
    /// (its blocks: a sparse file of that length does not count).
    fn has_file_at_limit(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Some(started) = self.started else {
            return false;
        };
        let mut at_limit = false;
        for_each_file(&self.folders(), |meta| {
            at_limit |= meta.is_file()
                && meta.blocks() * 512 >= self.limits.file_size_bytes
                && meta.modified().is_ok_and(|m| m >= started);
            !at_limit
        });
        at_limit
    }

    /// The node's folders: its temp folder, and its data folder if it has one.
    fn folders(&self) -> Vec<PathBuf> {
        let mut folders = vec![self.tmp.clone()];
        folders.extend(self.data.clone());
        folders
    }

    /// Starts the watchdog of the node whose process group is `process_group`: a limit
    /// that does not end the node by itself (the process limit; the memory limit when the
    /// kernel killed a child of the node's; the disk limit, added up four times a second) stops
    /// every process of its group and its control group.
    pub fn watch(&mut self, process_group: libc::pid_t) {
        let group = self.group.clone();
        let reached = Arc::clone(&self.reached);
        let stop = Arc::clone(&self.stop_watching);
        let folders = self.folders();
        let disk_limit = self.limits.disk_bytes;
        let memory = self.limits.memory_bytes;
        self.started = Some(std::time::SystemTime::now());
        self.watchdog = Some(std::thread::spawn(move || {
            let mut next_walk = std::time::Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let mut disk = || {
                    let now = std::time::Instant::now();
                    if now < next_walk {
                        return None;
                    }
                    let pids = group
                        .as_deref()
                        .map_or_else(|| vec![process_group], NodeCgroup::members);
                    let over = over_disk(&folders, disk_limit, &pids);
                    // A big folder is walked less often, so that the walks take no more
                    // than a tenth of a core.
                    next_walk = now + (now.elapsed() * 10).max(WATCH_EVERY * DISK_EVERY);
                    over
                };
                let hit = group
                    .as_deref()
                    .and_then(|g| reached_now(g, memory))
                    .or_else(&mut disk);
                if let Some(hit) = hit {
                    *reached.lock().unwrap_or_else(|e| e.into_inner()) = Some(hit);
                    // SAFETY: kill(2) has no memory-safety preconditions; a negative pid
                    // names the node's process group.
                    unsafe {
                        libc::kill(-process_group, libc::SIGKILL);
                    }
                    if let Some(group) = &group {
                        group.kill_all();
                    }
                    return;
                }
                std::thread::park_timeout(WATCH_EVERY);
            }
        }));
    }
}

/// How a walk of a node's folders ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Every entry was visited.
    Whole,
    /// The visitor stopped it.
    Stopped,
    /// It could not be finished: more than [`MAX_ENTRIES`], or a folder beneath them
    /// could not be read (a node may hide its files in a folder eddy may not open, or nest
    /// them deeper than a path can name).
    Unfinished,
}

/// Calls `visit` with the metadata of every file and folder beneath `folders` until it
/// returns false. A folder of `folders` that is not there is empty.
fn for_each_file(folders: &[PathBuf], mut visit: impl FnMut(&std::fs::Metadata) -> bool) -> Walk {
    let mut folders = folders.to_vec();
    let mut seen = 0;
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            // Not made yet, or removed since its parent was read.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(_) => return Walk::Unfinished,
        };
        for entry in entries {
            let Ok(entry) = entry else {
                return Walk::Unfinished;
            };
            seen += 1;
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                // Removed since the folder was read.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(_) => return Walk::Unfinished,
            };
            if seen > MAX_ENTRIES {
                return Walk::Unfinished;
            }
            if !visit(&meta) {
                return Walk::Stopped;
            }
            if meta.is_dir() {
                folders.push(entry.path());
            }
        }
    }
    Walk::Whole
}

/// Whether the files of a node take more than `limit` bytes of disk: those beneath
/// `folders` (their blocks, so a sparse file counts what it uses), and those its processes
/// `pids` hold open after removing them (which no folder shows, and which take their
/// space until closed). What cannot be added up counts as too much.
fn over_disk(folders: &[PathBuf], limit: u64, pids: &[i32]) -> Option<Reached> {
    use std::os::unix::fs::MetadataExt;
    let mut used = removed_but_open(pids);
    match for_each_file(folders, |meta| {
        used += meta.blocks() * 512;
        used <= limit
    }) {
        Walk::Whole if used <= limit => None,
        Walk::Whole | Walk::Stopped => Some(Reached::Disk),
        Walk::Unfinished => Some(Reached::DiskUncounted),
    }
}

/// The bytes of disk taken by the removed files the processes `pids` hold open (each file
/// once).
fn removed_but_open(pids: &[i32]) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut files = std::collections::BTreeMap::new();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(meta) = std::fs::metadata(fd.path()) {
                if meta.is_file() && meta.nlink() == 0 {
                    files.insert((meta.dev(), meta.ino()), meta.blocks() * 512);
                }
            }
        }
    }
    files.values().sum()
}

/// Removes `folder` and everything beneath it, first giving its owner back every folder
/// a node made unreadable or unwritable (as an unprivileged eddy, it could not otherwise).
fn remove_tree(folder: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut folders = vec![folder.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let _ = std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700));
        if let Ok(entries) = std::fs::read_dir(&folder) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    folders.push(entry.path());
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(folder);
}

impl Drop for Confined {
    fn drop(&mut self) {
        self.stop_watching.store(true, Ordering::Relaxed);
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.thread().unpark();
            let _ = watchdog.join();
        }
        if let Some(group) = &self.group {
            group.remove();
        }
        remove_tree(&self.tmp);
    }
}

/// The limit of its own the group's counters say a member reached, if any: its memory
/// limit (an out-of-memory kill while its peak came near the limit) or its process limit.
fn reached_now(group: &NodeCgroup, memory_limit: u64) -> Option<Reached> {
    if group.oom_kills() > 0 && !machine_ran_out(group, memory_limit) {
        Some(Reached::Memory)
    } else if group.process_limit_hits() > 0 {
        Some(Reached::Processes)
    } else {
        None
    }
}

/// True when the kernel's out-of-memory killer killed a member while the group's peak
/// stayed under 90% of its limit: the kernel also kills in a group when the machine, or a
/// group above, runs out, and that is no fault of the node.
fn machine_ran_out(group: &NodeCgroup, memory_limit: u64) -> bool {
    group.oom_kills() > 0
        && group
            .peak_memory()
            .is_some_and(|peak| peak < memory_limit / 10 * 9)
}

/// `path` for a system call.
fn c_path(path: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a path"))
}

/// The hard limit of `resource` now.
fn current_hard_limit(resource: libc::__rlimit_resource_t) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes only `limit`.
    if unsafe { libc::getrlimit(resource, &mut limit) } != 0 {
        return u64::MAX;
    }
    limit.rlim_max
}
