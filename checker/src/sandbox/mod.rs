//! The sandbox for untrusted nodes (`--sandbox`): limits on memory, processes, CPU time,
//! file size and open files; no network; writes only beneath the node's data folder and a
//! private temp folder; nothing the node starts outlives it; and no privileges.
//!
//! Mechanisms differ between machines, so eddy finds out at the start of a run what it may
//! use ([`detect`]), applies the strongest set and says which protections are in force
//! ([`Sandbox::protections`], in the summary and `results.json`). A protection the user
//! demanded (`--sandbox-require`, or a limit flag given explicitly) that cannot be had
//! stops eddy before any node starts.
//!
//! One job a module: `limits.rs` (the limits and their defaults), `detect.rs` (what this
//! machine allows), `cgroup.rs` (control groups: memory and process limits, their
//! counters, killing every member), `landlock.rs` (write and signal rules), `child.rs`
//! (what the node's process does to itself before `execve`) and `confined.rs` (one node
//! process's sandbox: its folders, group and rules, and how a limit it hit is told).

mod cgroup;
mod child;
mod confined;
mod detect;
mod landlock;
mod limits;

pub use cgroup::kill_every_group;
pub use child::ChildSteps;
pub use confined::Confined;
pub use limits::{parse_size, size_words, ResourceLimits};

use detect::Mechanisms;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One protection the sandbox can give a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Protection {
    /// A memory limit for the node and everything it starts.
    Memory,
    /// A limit on the processes and threads of the node and everything it starts.
    Processes,
    /// A CPU-time limit per process.
    Cpu,
    /// A limit on the size of a file a process writes.
    FileSize,
    /// A limit on a process's open files.
    OpenFiles,
    /// No network beyond the node's pipes.
    Network,
    /// Writes only beneath the node's data folder and its private temp folder.
    Filesystem,
    /// Nothing the node starts outlives it.
    Containment,
    /// The node cannot signal processes outside its sandbox.
    Signals,
    /// The node runs without capabilities.
    Privileges,
}

impl Protection {
    /// Every protection, in the order the summary lists them.
    pub const ALL: [Protection; 10] = [
        Protection::Memory,
        Protection::Processes,
        Protection::Cpu,
        Protection::FileSize,
        Protection::OpenFiles,
        Protection::Network,
        Protection::Filesystem,
        Protection::Containment,
        Protection::Signals,
        Protection::Privileges,
    ];

    /// The protection's name on the command line and in `results.json`.
    pub fn name(self) -> &'static str {
        match self {
            Protection::Memory => "memory",
            Protection::Processes => "processes",
            Protection::Cpu => "cpu",
            Protection::FileSize => "file-size",
            Protection::OpenFiles => "open-files",
            Protection::Network => "network",
            Protection::Filesystem => "filesystem",
            Protection::Containment => "containment",
            Protection::Signals => "signals",
            Protection::Privileges => "privileges",
        }
    }
}

/// How far a protection is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// As the protection's name promises.
    Full,
    /// A weaker stand-in (the `how` says what it leaves open).
    Partial,
    /// Not at all.
    None,
}

impl Level {
    fn word(self) -> &'static str {
        match self {
            Level::Full => "full",
            Level::Partial => "partial",
            Level::None => "none",
        }
    }
}

/// One protection as this run has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce {
    /// Which protection.
    pub protection: Protection,
    /// How far it holds.
    pub level: Level,
    /// By what means, or why not, in words.
    pub how: String,
}

/// The sandbox of a run: what every node process gets, and the folders and groups that
/// give it.
#[derive(Debug)]
pub struct Sandbox {
    limits: ResourceLimits,
    demanded: Vec<Protection>,
    mechanisms: Mechanisms,
    protections: Vec<InForce>,
    /// Private temp folders, one per node process, beneath this folder (removed on drop).
    scratch: PathBuf,
    next: AtomicU64,
}

impl Sandbox {
    /// The sandbox this machine allows with `limits`; an error (one line, for exit 64)
    /// when a protection in `demanded` cannot be had in full.
    pub fn new(limits: ResourceLimits, demanded: &[Protection]) -> Result<Sandbox, String> {
        let mechanisms = Mechanisms::detect();
        let protections = in_force(&limits, &mechanisms);
        for wanted in demanded {
            let state = protections
                .iter()
                .find(|p| p.protection == *wanted)
                .expect("every protection is listed");
            if state.level != Level::Full {
                return Err(format!(
                    "--sandbox cannot give the {} protection on this machine: {}",
                    wanted.name(),
                    state.how
                ));
            }
        }
        let scratch = std::env::temp_dir().join(format!("eddy-sandbox-{}", std::process::id()));
        std::fs::create_dir_all(&scratch)
            .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        Ok(Sandbox {
            limits,
            demanded: demanded.to_vec(),
            mechanisms,
            protections,
            scratch,
            next: AtomicU64::new(0),
        })
    }

    /// Every protection and how far it is in force.
    pub fn protections(&self) -> &[InForce] {
        &self.protections
    }

    /// The limits every node process gets.
    pub fn limits(&self) -> ResourceLimits {
        self.limits
    }

    /// The flags that ask for this sandbox again, for a reproduce command: `--sandbox`,
    /// each limit that is not the default, and the protections demanded.
    pub fn flags(&self) -> Vec<String> {
        let mut words = vec!["--sandbox".to_owned()];
        let (l, d) = (&self.limits, ResourceLimits::default());
        for (flag, value, default) in [
            ("--memory-limit", l.memory_bytes, d.memory_bytes),
            ("--process-limit", l.processes, d.processes),
            ("--cpu-limit", l.cpu_seconds, d.cpu_seconds),
            ("--file-size-limit", l.file_size_bytes, d.file_size_bytes),
            ("--open-files-limit", l.open_files, d.open_files),
        ] {
            if value != default {
                words.extend([flag.to_owned(), value.to_string()]);
            }
        }
        if !self.demanded.is_empty() {
            let names: Vec<&str> = self.demanded.iter().map(|p| p.name()).collect();
            words.extend(["--sandbox-require".to_owned(), names.join(",")]);
        }
        words
    }

    /// The summary's line (see [`summary_line`]).
    pub fn summary_line(&self) -> String {
        summary_line(&self.to_json()).unwrap_or_default()
    }

    /// The `sandbox` object of `results.json` and `--json`: the limits and, for each
    /// protection, its level and how.
    pub fn to_json(&self) -> Value {
        let protections: serde_json::Map<String, Value> = self
            .protections
            .iter()
            .map(|p| {
                (
                    p.protection.name().to_owned(),
                    json!({"level": p.level.word(), "how": p.how}),
                )
            })
            .collect();
        json!({"limits": self.limits, "protections": protections})
    }

    /// Prepares the sandbox of one node process: its private temp folder, its control
    /// group and rules. `label` names it (`n1`, `case`); `data` is its data folder, if it
    /// has one (it may write there too).
    pub fn confine(&self, label: &str, data: Option<&Path>) -> std::io::Result<Confined> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let tmp = self.scratch.join(format!("{label}-{n}"));
        Confined::new(self, label, tmp, data)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// The summary's line for a stored `sandbox` object ([`Sandbox::to_json`]): "sandbox:
/// memory 1 GiB, 256 processes, ..., no network, ...; partly: ... (how); not in force:
/// ... (why)"; `None` when the run had no sandbox.
pub fn summary_line(sandbox: &Value) -> Option<String> {
    let protections = sandbox["protections"].as_object()?;
    let l = &sandbox["limits"];
    let number = |key: &str| l[key].as_u64().unwrap_or(0);
    let mut held = Vec::new();
    let mut partial = Vec::new();
    let mut missing = Vec::new();
    for (name, state) in protections {
        let words = match name.as_str() {
            "memory" => format!("memory {}", size_words(number("memory_bytes"))),
            "processes" => format!("{} processes", number("processes")),
            "cpu" => format!("cpu {} s", number("cpu_seconds")),
            "file-size" => format!("files {}", size_words(number("file_size_bytes"))),
            "open-files" => format!("{} open files", number("open_files")),
            "network" => "no network".into(),
            "filesystem" => "writes to its own folders only".into(),
            "containment" => "contained".into(),
            "signals" => "signals scoped".into(),
            "privileges" => "no capabilities".into(),
            other => other.to_owned(),
        };
        let how = state["how"].as_str().unwrap_or("");
        match state["level"].as_str() {
            Some("full") => held.push(words),
            Some("partial") => partial.push(format!("{name}: {how}")),
            _ => missing.push(format!("{name}: {how}")),
        }
    }
    let mut line = format!("sandbox: {}", held.join(", "));
    if !partial.is_empty() {
        line.push_str(&format!("; partly: {}", partial.join("; ")));
    }
    if !missing.is_empty() {
        line.push_str(&format!("; not in force: {}", missing.join("; ")));
    }
    Some(line)
}

/// Each protection's level and how, given the mechanisms found.
fn in_force(limits: &ResourceLimits, m: &Mechanisms) -> Vec<InForce> {
    let cgroup_words = match &m.cgroups {
        Ok(parent) => format!("cgroup {:?}", parent.version()).to_lowercase(),
        Err(_) => String::new(),
    };
    let no_cgroup = m.cgroups.as_ref().err().cloned().unwrap_or_default();
    let landlock = m.landlock.unwrap_or(0);
    let state = |protection, level, how: String| InForce {
        protection,
        level,
        how,
    };
    Protection::ALL
        .iter()
        .map(|&p| match p {
            Protection::Memory => match &m.cgroups {
                Ok(_) => state(p, Level::Full, format!("{cgroup_words}, for the node and its children")),
                Err(_) => state(
                    p,
                    Level::Partial,
                    format!(
                        "{} of data per process (RLIMIT_DATA): allocations beyond it fail, and eddy cannot tell; no control group ({no_cgroup})",
                        size_words(limits.memory_bytes)
                    ),
                ),
            },
            Protection::Processes => match &m.cgroups {
                Ok(_) => state(p, Level::Full, format!("{cgroup_words} pids.max, for the node and its children")),
                Err(_) if !m.privileged && m.namespace_flags & libc::CLONE_NEWUSER != 0 => state(
                    p,
                    Level::Partial,
                    format!("RLIMIT_NPROC in the node's own user namespace: a fork beyond it fails, and eddy cannot tell; no control group ({no_cgroup})"),
                ),
                Err(_) => state(p, Level::None, format!("no control group ({no_cgroup})")),
            },
            Protection::Cpu => state(p, Level::Full, "RLIMIT_CPU, per process".into()),
            Protection::FileSize => state(p, Level::Full, "RLIMIT_FSIZE, per process".into()),
            Protection::OpenFiles => state(
                p,
                Level::Full,
                "RLIMIT_NOFILE, per process (an open beyond it fails; the node is not stopped)".into(),
            ),
            Protection::Network => match (m.own_network, landlock >= 4) {
                (true, _) => state(p, Level::Full, "its own network namespace, with no interface up".into()),
                (false, true) => state(
                    p,
                    Level::Partial,
                    format!("TCP denied by Landlock ABI {landlock}; UDP is not (no network namespace could be made)"),
                ),
                (false, false) => state(p, Level::None, "no network namespace could be made, and Landlock cannot deny TCP".into()),
            },
            Protection::Filesystem => match m.landlock {
                Some(abi) => state(p, Level::Full, format!("Landlock ABI {abi}: writes only beneath its data folder and its private temp folder")),
                None => state(p, Level::None, "Landlock is not available (kernel older than 5.13, or off)".into()),
            },
            Protection::Containment => match (&m.cgroups, m.own_processes) {
                (Ok(_), _) => state(p, Level::Full, format!("{cgroup_words}: every process of its group is killed with it")),
                (Err(_), true) => state(p, Level::Full, "its own process namespace, which dies with it".into()),
                (Err(_), false) => state(
                    p,
                    Level::Partial,
                    format!("its process group only: a process that leaves it can outlive the run; no control group ({no_cgroup}) and no process namespace"),
                ),
            },
            Protection::Signals => match (landlock >= 6, m.own_processes) {
                (true, _) => state(p, Level::Full, format!("Landlock ABI {landlock} scopes signals and abstract sockets to the sandbox")),
                (false, true) => state(p, Level::Full, "its own process namespace: no process outside it is visible".into()),
                (false, false) => state(p, Level::None, format!("Landlock ABI {landlock} cannot scope signals (6 can), and no process namespace")),
            },
            Protection::Privileges => match m.privileged {
                true => state(p, Level::Full, "every capability dropped, and uid 0 cannot regain them at exec".into()),
                false => state(p, Level::Full, "an unprivileged user, with no capabilities".into()),
            },
        })
        .collect()
}
