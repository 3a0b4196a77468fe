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
pub use confined::{Confined, NodeEnd};
pub use limits::{parse_size, size_words, ResourceLimits};

use detect::Mechanisms;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The variables of eddy's environment a sandboxed node gets (besides `LC_*` and those
/// named with `--sandbox-env`): where it is, who, the locale and terminal, and where the
/// common runtimes find themselves.
pub const PASSED_ENV: [&str; 22] = [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TERM",
    "LD_LIBRARY_PATH",
    "JAVA_HOME",
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "NODE_PATH",
    "GOPATH",
    "GOROOT",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
];

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
    /// A limit on the disk its files take.
    Disk,
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
    pub const ALL: [Protection; 11] = [
        Protection::Memory,
        Protection::Processes,
        Protection::Cpu,
        Protection::FileSize,
        Protection::OpenFiles,
        Protection::Disk,
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
            Protection::Disk => "disk",
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
enum Level {
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
struct InForce {
    /// Which protection.
    protection: Protection,
    /// How far it holds.
    level: Level,
    /// By what means (for a partial one, what stands in), in words; empty when none.
    how: String,
    /// Why it is not in force in full, when it is not.
    why: Option<String>,
}

/// The sandbox of a run: what every node process gets, and the folders and groups that
/// give it.
#[derive(Debug)]
pub struct Sandbox {
    limits: ResourceLimits,
    /// The limits a run gets without limit flags (the reproduce command names the rest).
    defaults: ResourceLimits,
    demanded: Vec<Protection>,
    /// Variables of eddy's environment passed on besides [`PASSED_ENV`].
    passed_env: Vec<String>,
    /// See [`Sandbox::environment`].
    environment: Vec<(String, String)>,
    mechanisms: Mechanisms,
    protections: Vec<InForce>,
    /// Private temp folders, one per node process, beneath this folder (removed on drop).
    scratch: PathBuf,
    next: AtomicU64,
}

impl Sandbox {
    /// The sandbox this machine allows with `limits` (`defaults` being what they would
    /// be without limit flags); an error (one line, for exit 64)
    /// when a protection in `demanded` cannot be had in full.
    pub fn new(
        limits: ResourceLimits,
        defaults: ResourceLimits,
        demanded: &[Protection],
        passed_env: &[String],
    ) -> Result<Sandbox, String> {
        // Each sandbox of this process gets folders of its own.
        static SANDBOXES: AtomicU64 = AtomicU64::new(0);
        let name = match SANDBOXES.fetch_add(1, Ordering::Relaxed) {
            0 => format!("eddy-{}", std::process::id()),
            n => format!("eddy-{}-{n}", std::process::id()),
        };
        let mechanisms = Mechanisms::detect(&name);
        let protections = in_force(&limits, &mechanisms);
        refuse_missing(&protections, demanded)?;
        let temp = std::env::temp_dir();
        remove_stale_scratch(&temp);
        let scratch = temp.join(name.replace("eddy-", "eddy-sandbox-"));
        // Only eddy's, and new: a folder of that name made beforehand by someone else could
        // hold a link that turns a node's writable folder into one of theirs.
        std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
            .create(&scratch)
            .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        Ok(Sandbox {
            limits,
            defaults,
            demanded: demanded.to_vec(),
            passed_env: passed_env.to_vec(),
            environment: std::env::vars()
                .filter(|(name, _)| {
                    PASSED_ENV.contains(&name.as_str())
                        || name.starts_with("LC_")
                        || passed_env.contains(name)
                })
                .collect(),
            mechanisms,
            protections,
            scratch,
            next: AtomicU64::new(0),
        })
    }

    /// The variables of eddy's environment every node gets, read once at the start: those
    /// of [`PASSED_ENV`], the `LC_` ones, and those named with `--sandbox-env`. The rest (a
    /// grader's tokens) stay with eddy, where a node cannot print them into its verdict.
    pub fn environment(&self) -> &[(String, String)] {
        &self.environment
    }

    /// The flags that ask for this sandbox again, for a reproduce command: `--sandbox`,
    /// each limit that is not the default, and the protections demanded.
    pub fn flags(&self) -> Vec<String> {
        let mut words = vec!["--sandbox".to_owned()];
        let (l, d) = (&self.limits, &self.defaults);
        for (flag, value, default) in [
            ("--memory-limit", l.memory_bytes, d.memory_bytes),
            ("--process-limit", l.processes, d.processes),
            ("--cpu-limit", l.cpu_seconds, d.cpu_seconds),
            ("--file-size-limit", l.file_size_bytes, d.file_size_bytes),
            ("--open-files-limit", l.open_files, d.open_files),
            ("--disk-limit", l.disk_bytes, d.disk_bytes),
        ] {
            if value != default {
                words.extend([flag.to_owned(), value.to_string()]);
            }
        }
        if !self.demanded.is_empty() {
            let names: Vec<&str> = self.demanded.iter().map(|p| p.name()).collect();
            words.extend(["--sandbox-require".to_owned(), names.join(",")]);
        }
        if !self.passed_env.is_empty() {
            words.extend(["--sandbox-env".to_owned(), self.passed_env.join(",")]);
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
                    json!({"level": p.level.word(), "how": p.how, "why": p.why}),
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
/// memory 1 GiB, 256 processes, ..., no network, ...; only partly: NAME (how), ...; not in
/// force: NAME, ... (because why; ...)"; `None` when the run had no sandbox.
pub fn summary_line(sandbox: &Value) -> Option<String> {
    let protections = sandbox["protections"].as_object()?;
    let l = &sandbox["limits"];
    let number = |key: &str| l[key].as_u64().unwrap_or(0);
    let mut held = Vec::new();
    let mut partial = Vec::new();
    let mut missing = Vec::new();
    let mut whys: Vec<String> = Vec::new();
    for (name, state) in protections {
        let words = match name.as_str() {
            "memory" => format!("memory {}", size_words(number("memory_bytes"))),
            "processes" => format!("{} processes", number("processes")),
            "cpu" => format!("cpu {} s", number("cpu_seconds")),
            "file-size" => format!("files {}", size_words(number("file_size_bytes"))),
            "open-files" => format!("{} open files", number("open_files")),
            "disk" => format!("disk {}", size_words(number("disk_bytes"))),
            "network" => "no network".into(),
            "filesystem" => "writes to its own folders only".into(),
            "containment" => "contained".into(),
            "signals" => "signals scoped".into(),
            "privileges" => "no capabilities".into(),
            other => other.to_owned(),
        };
        let how = state["how"].as_str().unwrap_or("");
        if let Some(why) = state["why"].as_str() {
            if !whys.iter().any(|w| w == why) {
                whys.push(why.to_owned());
            }
        }
        match state["level"].as_str() {
            Some("full") => held.push(words),
            Some("partial") => partial.push(format!("{name} ({how})")),
            _ => missing.push(name.clone()),
        }
    }
    let mut line = format!("sandbox: {}", held.join(", "));
    if !partial.is_empty() {
        line.push_str(&format!("; only partly: {}", partial.join(", ")));
    }
    if !missing.is_empty() {
        line.push_str(&format!("; not in force: {}", missing.join(", ")));
    }
    if !whys.is_empty() {
        line.push_str(&format!(" (because {})", whys.join("; ")));
    }
    Some(line)
}

/// Removes the temp folders (`eddy-sandbox-<pid>`, `eddy-sandbox-<pid>-<n>`) in `temp`
/// of sandboxes whose eddy is gone (killed by `SIGKILL`, which leaves no time to clean).
fn remove_stale_scratch(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("eddy-sandbox-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The error for the first protection of `demanded` that is not in force in full.
fn refuse_missing(protections: &[InForce], demanded: &[Protection]) -> Result<(), String> {
    for wanted in demanded {
        let state = protections
            .iter()
            .find(|p| p.protection == *wanted)
            .expect("every protection is listed");
        if state.level != Level::Full {
            return Err(format!(
                "--sandbox cannot give the {} protection on this machine: {}",
                wanted.name(),
                state.why.as_deref().unwrap_or("")
            ));
        }
    }
    Ok(())
}

/// Each protection's level, how and why not, given the mechanisms found.
fn in_force(limits: &ResourceLimits, m: &Mechanisms) -> Vec<InForce> {
    let group = match &m.cgroups {
        Ok(parent) => format!("cgroup {:?}", parent.version()).to_lowercase(),
        Err(why) => format!("no control group ({why})"),
    };
    let landlock = m.landlock.unwrap_or(0);
    let own_users = !m.privileged && m.namespace_flags & libc::CLONE_NEWUSER != 0;
    let full = |p, how: &str| InForce {
        protection: p,
        level: Level::Full,
        how: how.to_owned(),
        why: None,
    };
    let partial = |p, how: &str, why: &str| InForce {
        protection: p,
        level: Level::Partial,
        how: how.to_owned(),
        why: Some(why.to_owned()),
    };
    let none = |p, why: &str| InForce {
        protection: p,
        level: Level::None,
        how: String::new(),
        why: Some(why.to_owned()),
    };
    let no_namespace = "no network namespace could be made";
    Protection::ALL
        .iter()
        .map(|&p| match p {
            Protection::Memory if m.cgroups.is_ok() => {
                full(p, &format!("{group} memory limit, for the node and its children"))
            }
            Protection::Memory => partial(
                p,
                &format!(
                    "{} of private memory per process (RLIMIT_DATA): allocations beyond it fail, unseen by eddy; shared mappings are not counted",
                    size_words(limits.memory_bytes)
                ),
                &group,
            ),
            Protection::Processes if m.cgroups.is_ok() => {
                full(p, &format!("{group} pids.max, for the node and its children"))
            }
            Protection::Processes if own_users => partial(
                p,
                "RLIMIT_NPROC in its own user namespace: forks beyond it fail, unseen by eddy",
                &group,
            ),
            Protection::Processes => none(p, &group),
            Protection::Cpu => full(p, "RLIMIT_CPU, per process"),
            Protection::FileSize => full(p, "RLIMIT_FSIZE, per process"),
            Protection::OpenFiles => full(
                p,
                "RLIMIT_NOFILE, per process (an open beyond it fails; the node is not stopped)",
            ),
            Protection::Disk => full(
                p,
                "eddy adds up the files beneath its data and temp folders four times a second, and stops it beyond",
            ),
            Protection::Network if m.own_network && m.seccomp => full(
                p,
                "its own network namespace, with no interface up; sockets of every other family (Unix, vsock, ...) refused (seccomp)",
            ),
            Protection::Network if m.own_network => partial(
                p,
                "its own network namespace, with no interface up; Unix sockets named by a path and vsock are not refused",
                "seccomp filters cannot be installed",
            ),
            Protection::Network if landlock >= 4 => partial(
                p,
                &format!("TCP denied by Landlock ABI {landlock}; UDP is not"),
                no_namespace,
            ),
            Protection::Network => none(p, &format!("{no_namespace}, and Landlock cannot deny TCP")),
            Protection::Filesystem if m.own_mounts => full(
                p,
                &match m.landlock {
                    Some(abi) => format!("its own mount namespace, every mount read-only but its data and temp folders; and Landlock ABI {abi}"),
                    None => "its own mount namespace, every mount read-only but its data and temp folders".into(),
                },
            ),
            Protection::Filesystem => match m.landlock {
                Some(abi) => partial(
                    p,
                    &format!("Landlock ABI {abi}: writes only beneath its data and temp folders, but the mode, times and extended attributes of files its user owns can change"),
                    "no mount namespace could be made",
                ),
                None => none(p, "no mount namespace could be made, and Landlock is not available (a kernel before 5.13, or turned off)"),
            },
            Protection::Containment if !m.own_ipc && (m.cgroups.is_ok() || m.own_processes) => partial(
                p,
                "every process it starts dies with it, but shared memory, semaphores and message queues it makes can outlive it",
                "no IPC namespace could be made",
            ),
            Protection::Containment if m.cgroups.is_ok() => full(
                p,
                &format!("{group}: every process of its group is killed with it; its own IPC namespace"),
            ),
            Protection::Containment if m.own_processes => full(
                p,
                "its own process namespace, which dies with it; its own IPC namespace",
            ),
            Protection::Containment => partial(
                p,
                "its process group: a process that leaves it can outlive the run",
                &format!("{group}, and no process namespace could be made"),
            ),
            Protection::Signals if landlock >= 6 => full(
                p,
                &format!("Landlock ABI {landlock} scopes signals and abstract sockets to the sandbox"),
            ),
            Protection::Signals if m.own_processes => {
                full(p, "its own process namespace: no process outside it is visible")
            }
            Protection::Signals => none(
                p,
                &format!("Landlock ABI {landlock} cannot scope signals (6 can), and no process namespace could be made"),
            ),
            Protection::Privileges if m.privileged && m.can_lock_root => full(
                p,
                "every capability dropped, and uid 0 cannot regain them at exec",
            ),
            Protection::Privileges if m.privileged => partial(
                p,
                "its capabilities dropped, but as uid 0 it regains those of its bounding set at exec",
                "eddy lacks CAP_SETPCAP to empty the bounding set",
            ),
            Protection::Privileges => full(p, "an unprivileged user, with no capabilities"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A machine with nothing but Landlock `landlock` (0: none), unprivileged.
    fn bare(landlock: u32) -> Mechanisms {
        Mechanisms {
            privileged: false,
            can_lock_root: false,
            cgroups: Err("not delegated".into()),
            namespace_flags: 0,
            own_network: false,
            own_mounts: false,
            own_ipc: false,
            own_processes: false,
            landlock: (landlock > 0).then_some(landlock),
            seccomp: false,
        }
    }

    fn level(protections: &[InForce], p: Protection) -> Level {
        protections
            .iter()
            .find(|s| s.protection == p)
            .unwrap()
            .level
    }

    #[test]
    fn what_is_missing_is_said_and_refused_when_demanded() {
        let limits = ResourceLimits::default();
        let protections = in_force(&limits, &bare(0));
        assert_eq!(level(&protections, Protection::Memory), Level::Partial);
        assert_eq!(level(&protections, Protection::Processes), Level::None);
        assert_eq!(level(&protections, Protection::Network), Level::None);
        assert_eq!(level(&protections, Protection::Filesystem), Level::None);
        assert_eq!(level(&protections, Protection::Containment), Level::Partial);
        assert_eq!(level(&protections, Protection::Cpu), Level::Full);
        let error = refuse_missing(&protections, &[Protection::Cpu, Protection::Memory]);
        assert_eq!(
            error.unwrap_err(),
            "--sandbox cannot give the memory protection on this machine: no control group (not delegated)"
        );
        assert!(refuse_missing(&protections, &[Protection::Cpu, Protection::FileSize]).is_ok());
        // Landlock 4 stands in for the network namespace (TCP only), 6 scopes signals.
        let protections = in_force(&limits, &bare(6));
        assert_eq!(level(&protections, Protection::Network), Level::Partial);
        assert_eq!(level(&protections, Protection::Filesystem), Level::Partial);
        assert_eq!(level(&protections, Protection::Signals), Level::Full);
        assert!(refuse_missing(&protections, &[Protection::Network]).is_err());
    }

    #[test]
    fn the_summary_line_names_what_holds_what_stands_in_and_why() {
        let limits = ResourceLimits::default();
        let protections = in_force(&limits, &bare(6));
        let document = json!({
            "limits": limits,
            "protections": protections
                .iter()
                .map(|p| (p.protection.name().to_owned(), json!({"level": p.level.word(), "how": p.how, "why": p.why})))
                .collect::<serde_json::Map<String, Value>>(),
        });
        let line = summary_line(&document).unwrap();
        assert!(
            line.starts_with(
                "sandbox: cpu 600 s, files 1 GiB, 1024 open files, disk 1 GiB, signals scoped"
            ),
            "{line}"
        );
        assert!(
            line.contains("only partly: memory (1 GiB of private memory per process"),
            "{line}"
        );
        assert!(line.contains("not in force: processes"), "{line}");
        assert!(
            line.contains(", filesystem (Landlock ABI 6: writes only beneath"),
            "{line}"
        );
        assert!(line.ends_with("(because no control group (not delegated); no network namespace could be made; no mount namespace could be made; no control group (not delegated), and no process namespace could be made)"), "{line}");
        assert_eq!(summary_line(&Value::Null), None);
    }
}
