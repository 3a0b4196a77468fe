//! Control groups for sandboxed nodes: one group per node process, under a folder of
//! eddy's own, with a memory limit and a limit on processes and threads, the counters that
//! say a limit was reached, and a kill of every member (so nothing a node starts, even a
//! process that left its process group, outlives it).
//!
//! **Decision**: the cgroup files are written directly rather than through a crate: the
//! few files eddy needs (`cgroup.procs`, `memory.limit_in_bytes` or `memory.max`,
//! `pids.max`, the events files, `cgroup.kill`) are the kernel's stable interface, and the
//! node joins its group itself, by writing `0` to `cgroup.procs` between `clone` and
//! `execve`, where no crate's code may run. Both hierarchies are supported: cgroup v1 (a
//! `memory` and a `pids` hierarchy, as on this project's machine) and cgroup v2 (a group
//! whose `memory` and `pids` controllers eddy may enable: the root, as root).

use std::ffi::CString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Which cgroup hierarchy the groups live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Separate `memory` and `pids` hierarchies.
    V1,
    /// One unified hierarchy.
    V2,
}

/// eddy's own folder of node groups (`eddy-<pid>`, in each hierarchy used), removed when
/// dropped.
#[derive(Debug)]
pub struct CgroupParent {
    version: Version,
    /// `eddy-<pid>` in the memory hierarchy and the pids hierarchy (the same folder twice
    /// under v2).
    memory: PathBuf,
    pids: PathBuf,
    next: AtomicU64,
}

/// The groups of node processes now running, so that an interrupt can kill every
/// process in them (a node's own process group does not hold what left it).
static LIVE: Mutex<Vec<NodeCgroup>> = Mutex::new(Vec::new());

/// Kills every process of every node group now live (on Ctrl-C or SIGTERM).
pub fn kill_every_group() {
    for group in LIVE.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        group.kill_all();
    }
}

/// One node process's group (under v1, one in each hierarchy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCgroup {
    version: Version,
    memory: PathBuf,
    pids: PathBuf,
}

impl CgroupParent {
    /// Makes eddy's folder of node groups where this process may: under its own group in
    /// the v1 `memory` and `pids` hierarchies, else in a v2 group (its own, or the root)
    /// whose `memory` and `pids` controllers can be enabled for children. The error says
    /// why neither works. The folder is called `name`.
    pub fn create(name: &str) -> Result<CgroupParent, String> {
        let mounts = fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
        let own = fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
        let v1 = (|| {
            let memory = v1_dir(&mounts, &own, "memory")?.join(name);
            let pids = v1_dir(&mounts, &own, "pids")?.join(name);
            for hierarchy in [&memory, &pids] {
                remove_stale(
                    hierarchy.parent().expect("a group folder has a parent"),
                    Version::V1,
                );
            }
            fs::create_dir_all(&memory).map_err(|e| cannot("create", &memory, e))?;
            if let Err(e) = fs::create_dir_all(&pids) {
                let _ = fs::remove_dir(&memory);
                return Err(cannot("create", &pids, e));
            }
            Ok(CgroupParent {
                version: Version::V1,
                memory,
                pids,
                next: AtomicU64::new(0),
            })
        })();
        let v1_error = match v1 {
            Ok(parent) => return Ok(parent),
            Err(e) => e,
        };
        let v2_error = match v2_parent(&mounts, &own, name) {
            Ok(dir) => {
                return Ok(CgroupParent {
                    version: Version::V2,
                    memory: dir.clone(),
                    pids: dir,
                    next: AtomicU64::new(0),
                })
            }
            Err(e) => e,
        };
        Err(format!("cgroup v1: {v1_error}; cgroup v2: {v2_error}"))
    }

    /// The hierarchy in use.
    pub fn version(&self) -> Version {
        self.version
    }

    /// A new group for one node process, with its limits set (nothing is left behind
    /// when that fails).
    pub fn node(&self, label: &str, memory_bytes: u64, processes: u64) -> io::Result<NodeCgroup> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let leaf = format!("{label}-{n}");
        let group = NodeCgroup {
            version: self.version,
            memory: self.memory.join(&leaf),
            pids: self.pids.join(&leaf),
        };
        if let Err(e) = group.make(memory_bytes, processes) {
            let _ = fs::remove_dir(&group.memory);
            let _ = fs::remove_dir(&group.pids);
            return Err(e);
        }
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(group.clone());
        Ok(group)
    }
}

impl Drop for CgroupParent {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.memory);
        let _ = fs::remove_dir(&self.pids);
    }
}

impl NodeCgroup {
    /// Makes the group's folders and sets its limits.
    fn make(&self, memory_bytes: u64, processes: u64) -> io::Result<()> {
        fs::create_dir(&self.memory)?;
        if self.pids != self.memory {
            fs::create_dir(&self.pids)?;
        }
        match self.version {
            Version::V1 => {
                write(&self.memory, "memory.limit_in_bytes", memory_bytes)?;
                // Swap counts too where the kernel accounts it, so that a node cannot
                // swap its way past the limit.
                let swap = self.memory.join("memory.memsw.limit_in_bytes");
                if swap.exists() {
                    fs::write(swap, memory_bytes.to_string())?;
                }
            }
            Version::V2 => {
                write(&self.memory, "memory.max", memory_bytes)?;
                let swap = self.memory.join("memory.swap.max");
                if swap.exists() {
                    fs::write(swap, "0")?;
                }
            }
        }
        write(&self.pids, "pids.max", processes)
    }

    /// The `cgroup.procs` files the node writes `0` to, to join its group.
    pub fn join_files(&self) -> Vec<CString> {
        let mut dirs = vec![&self.memory];
        if self.pids != self.memory {
            dirs.push(&self.pids);
        }
        dirs.into_iter()
            .map(|dir| {
                CString::new(
                    dir.join("cgroup.procs")
                        .into_os_string()
                        .into_encoded_bytes(),
                )
                .expect("a cgroup path has no NUL byte")
            })
            .collect()
    }

    /// How many times the kernel's out-of-memory killer killed a member.
    pub fn oom_kills(&self) -> u64 {
        let file = match self.version {
            Version::V1 => "memory.oom_control",
            Version::V2 => "memory.events",
        };
        counter(&self.memory.join(file), "oom_kill")
    }

    /// The most memory the group has used, in bytes (`memory.max_usage_in_bytes` under v1,
    /// `memory.peak` under v2); `None` when the kernel does not say.
    pub fn peak_memory(&self) -> Option<u64> {
        let file = match self.version {
            Version::V1 => "memory.max_usage_in_bytes",
            Version::V2 => "memory.peak",
        };
        fs::read_to_string(self.memory.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// How many times a member could not start a process or thread because of the limit.
    pub fn process_limit_hits(&self) -> u64 {
        counter(&self.pids.join("pids.events"), "max")
    }

    /// The pids of the group's members.
    pub fn members(&self) -> Vec<i32> {
        fs::read_to_string(self.pids.join("cgroup.procs"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Kills every member, again and again until none is left (a member may be forking
    /// while it is killed; the process limit bounds how often). Gives up after a second.
    pub fn kill_all(&self) {
        let kill_file = self.pids.join("cgroup.kill");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            let members = fs::read_to_string(self.pids.join("cgroup.procs")).unwrap_or_default();
            if members.trim().is_empty() || std::time::Instant::now() > deadline {
                return;
            }
            if self.version == Version::V2 && fs::write(&kill_file, "1").is_ok() {
                std::thread::sleep(std::time::Duration::from_millis(1));
                continue;
            }
            for pid in members
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

impl NodeCgroup {
    /// Kills every member and removes the group's folders.
    pub fn remove(&self) {
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|live| live != self);
        self.kill_all();
        // A member killed a moment ago may still be leaving the group.
        for _ in 0..50 {
            let removed = fs::remove_dir(&self.memory).is_ok() || !self.memory.exists();
            let pids_removed = self.pids == self.memory
                || fs::remove_dir(&self.pids).is_ok()
                || !self.pids.exists();
            if removed && pids_removed {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

/// Removes the group folders an eddy killed by `SIGKILL` left in `dir`, a folder of the
/// `version` hierarchy: every `eddy-<pid>` (or `eddy-<pid>-<n>`) whose process is gone,
/// with its node groups, after killing whatever still runs in them (a node's daemon, which
/// its parent-death signal did not reach).
fn remove_stale(dir: &Path, version: Version) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("eddy-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let folder = entry.path();
        if let Ok(groups) = fs::read_dir(&folder) {
            for group in groups.flatten().filter(|g| g.path().is_dir()) {
                // One folder stands for the group (under v1, the hierarchy's own).
                let group = NodeCgroup {
                    version,
                    memory: group.path(),
                    pids: group.path(),
                };
                group.remove();
            }
        }
        let _ = fs::remove_dir(&folder);
    }
}

/// The value after `key` in a file of `key value` lines; 0 when missing.
fn counter(file: &Path, key: &str) -> u64 {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

fn write(dir: &Path, file: &str, value: u64) -> io::Result<()> {
    fs::write(dir.join(file), value.to_string())
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.join(file).display())))
}

fn cannot(what: &str, path: &Path, error: io::Error) -> String {
    format!("cannot {what} {}: {error}", path.display())
}

/// This process's group folder in the v1 hierarchy of `controller`.
fn v1_dir(mountinfo: &str, own: &str, controller: &str) -> Result<PathBuf, String> {
    let (root, mount_point) = mountinfo
        .lines()
        .filter_map(parse_mount)
        .find(|m| m.fstype == "cgroup" && m.super_options.split(',').any(|o| o == controller))
        .map(|m| (m.root, m.mount_point))
        .ok_or_else(|| format!("no {controller} hierarchy is mounted"))?;
    let path = own
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ':').skip(1);
            fields.next().zip(fields.next())
        })
        .find(|(controllers, _)| controllers.split(',').any(|c| c == controller))
        .map(|(_, path)| path)
        .ok_or_else(|| format!("this process is in no {controller} group"))?;
    Ok(under(&mount_point, &root, path))
}

/// Makes `name` in a v2 group with the `memory` and `pids` controllers enabled for its
/// children: this process's own group when it may enable them there (it must then hold no
/// process, which only the root group may), else the root group.
fn v2_parent(mountinfo: &str, own: &str, name: &str) -> Result<PathBuf, String> {
    let mount = mountinfo
        .lines()
        .filter_map(parse_mount)
        .find(|m| m.fstype == "cgroup2")
        .ok_or("no cgroup2 hierarchy is mounted")?;
    let own_path = own
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .unwrap_or("/");
    let own_group = under(&mount.mount_point, &mount.root, own_path);
    let root = PathBuf::from(&mount.mount_point);
    match v2_parent_in(&own_group, name) {
        Ok(dir) => Ok(dir),
        // eddy's own group holds processes (eddy's), so it may enable no controller for
        // children (cgroup v2's rule of no process in an inner group): the root may.
        Err(_) if root != own_group => v2_parent_in(&root, name),
        Err(e) => Err(e),
    }
}

/// Makes `name` in the v2 group `group`, with the memory and pids controllers enabled
/// for its children.
fn v2_parent_in(group: &Path, name: &str) -> Result<PathBuf, String> {
    let controllers = fs::read_to_string(group.join("cgroup.controllers")).unwrap_or_default();
    for needed in ["memory", "pids"] {
        if !controllers.split_whitespace().any(|c| c == needed) {
            return Err(format!(
                "the {needed} controller is not available in {}",
                group.display()
            ));
        }
    }
    let enable = |dir: &Path| {
        fs::write(dir.join("cgroup.subtree_control"), "+memory +pids")
            .map_err(|e| cannot("enable memory and pids in", dir, e))
    };
    enable(group)?;
    remove_stale(group, Version::V2);
    let dir = group.join(name);
    fs::create_dir_all(&dir).map_err(|e| cannot("create", &dir, e))?;
    if let Err(e) = enable(&dir) {
        let _ = fs::remove_dir(&dir);
        return Err(e);
    }
    Ok(dir)
}

/// A group's folder: its path in the hierarchy, under the mount point of the hierarchy's
/// subtree `root`.
fn under(mount_point: &str, root: &str, path: &str) -> PathBuf {
    let relative = path
        .strip_prefix(root)
        .unwrap_or(path)
        .trim_start_matches('/');
    Path::new(mount_point).join(relative)
}

/// The fields of a `/proc/self/mountinfo` line eddy needs.
struct Mount {
    root: String,
    mount_point: String,
    fstype: String,
    super_options: String,
}

fn parse_mount(line: &str) -> Option<Mount> {
    let (before, after) = line.split_once(" - ")?;
    let fields: Vec<&str> = before.split(' ').collect();
    let mut after = after.split(' ');
    let fstype = after.next()?.to_owned();
    let _source = after.next()?;
    Some(Mount {
        root: fields.get(3)?.to_string(),
        mount_point: fields.get(4)?.to_string(),
        fstype,
        super_options: after.next().unwrap_or("").to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
30 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
31 25 0:27 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
32 25 0:28 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn v1_groups_are_found_under_their_mount_points() {
        let own = "8:pids:/\n4:memory:/process_api/abc\n0::/\n";
        assert_eq!(
            v1_dir(MOUNTINFO, own, "memory").unwrap(),
            Path::new("/sys/fs/cgroup/memory/process_api/abc")
        );
        assert_eq!(
            v1_dir(MOUNTINFO, own, "pids").unwrap(),
            Path::new("/sys/fs/cgroup/pids")
        );
        assert!(v1_dir(MOUNTINFO, own, "cpu").is_err());
        assert_eq!(
            under("/sys/fs/cgroup", "/docker/x", "/docker/x/inner"),
            Path::new("/sys/fs/cgroup/inner")
        );
    }

    #[test]
    fn counters_are_read_by_key() {
        let dir = std::env::temp_dir().join(format!("eddy-counter-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("memory.events");
        fs::write(&file, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
        assert_eq!(counter(&file, "oom_kill"), 1);
        assert_eq!(counter(&file, "max"), 3);
        assert_eq!(counter(&file, "missing"), 0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
