//! What this machine lets eddy use to confine a node, found by trying each mechanism once
//! at the start of a run.

use super::cgroup::CgroupParent;
use super::landlock;

/// The confinement mechanisms available to this process.
#[derive(Debug)]
pub struct Mechanisms {
    /// eddy runs as root (or with capabilities): the node must drop them.
    pub privileged: bool,
    /// eddy may empty the bounding set and lock `SECBIT_NOROOT` (it has `CAP_SETPCAP`, or
    /// the node gets a user namespace of its own), so that a node run as uid 0 cannot
    /// regain capabilities at `execve`.
    pub can_lock_root: bool,
    /// Control groups with memory and process limits, or why there are none.
    pub cgroups: Result<CgroupParent, String>,
    /// The `clone` flags that give a node its own namespaces (0 when none can be made),
    /// among them a network namespace when `own_network`.
    pub namespace_flags: libc::c_int,
    /// The node gets a network namespace of its own (no interface but a loopback that is
    /// down: it can reach nothing).
    pub own_network: bool,
    /// The node gets a mount namespace of its own, where every mount is read-only but its
    /// data and temp folders.
    pub own_mounts: bool,
    /// The node gets an IPC namespace of its own: System V and POSIX message queue objects
    /// it makes die with it, and it cannot reach the host's.
    pub own_ipc: bool,
    /// The node gets a process namespace of its own, of which it is the first process
    /// (used only when no control group can contain it).
    pub own_processes: bool,
    /// The Landlock ABI, when Landlock is available.
    pub landlock: Option<u32>,
    /// Seccomp filters can be installed (to refuse every socket but internet and netlink
    /// ones).
    pub seccomp: bool,
}

impl Mechanisms {
    /// Tries each mechanism; eddy's control groups go in folders called `name`.
    pub fn detect(name: &str) -> Mechanisms {
        let capabilities = effective_capabilities();
        // SAFETY: geteuid(2) cannot fail.
        let privileged = unsafe { libc::geteuid() } == 0 || capabilities != 0;
        let cgroups = CgroupParent::create(name);
        // Network, mount (which must also allow read-only mounts: `mount_setattr`, Linux
        // 5.12) and IPC namespaces; a process namespace only when no control group holds
        // the node. Each without a user namespace when this process may, else in one
        // (which, once needed, the rest share).
        let mut wanted = vec![libc::CLONE_NEWNET, libc::CLONE_NEWNS, libc::CLONE_NEWIPC];
        if cgroups.is_err() {
            wanted.push(libc::CLONE_NEWPID);
        }
        let mut namespace_flags = 0;
        for namespace in wanted {
            for user in [0, libc::CLONE_NEWUSER] {
                let flags = namespace_flags | user | namespace;
                let probe = if namespace == libc::CLONE_NEWNS {
                    mounts_read_only
                } else {
                    exit_at_once
                };
                if can_clone(flags, probe) {
                    namespace_flags = flags;
                    break;
                }
            }
        }
        let own_users = namespace_flags & libc::CLONE_NEWUSER != 0;
        const CAP_SETPCAP: u32 = 8;
        Mechanisms {
            privileged,
            can_lock_root: own_users || capabilities & (1 << CAP_SETPCAP) != 0,
            own_network: namespace_flags & libc::CLONE_NEWNET != 0,
            own_mounts: namespace_flags & libc::CLONE_NEWNS != 0,
            own_ipc: namespace_flags & libc::CLONE_NEWIPC != 0,
            own_processes: namespace_flags & libc::CLONE_NEWPID != 0,
            cgroups,
            namespace_flags,
            landlock: landlock::abi(),
            // SAFETY: PR_GET_SECCOMP only reads this thread's mode (-1 without seccomp).
            seccomp: unsafe { libc::prctl(libc::PR_GET_SECCOMP) } >= 0,
        }
    }
}

/// This process's effective capabilities (`CapEff` of `/proc/self/status`); 0 when it
/// cannot be read.
fn effective_capabilities() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0)
}

/// A probe that only exits, 0.
extern "C" fn exit_at_once(_: *mut libc::c_void) -> libc::c_int {
    0
}

/// A probe, in a mount namespace of its own, that makes every mount read-only: 0 when it
/// could.
extern "C" fn mounts_read_only(_: *mut libc::c_void) -> libc::c_int {
    // SAFETY: the probe has a mount namespace of its own (CLONE_NEWNS); nothing it does
    // reaches eddy's.
    match unsafe { super::child::read_only_except(&[]) } {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// True when a child can be cloned with `flags` (namespaces this process may create) and
/// `probe` then exits 0 in it.
fn can_clone(flags: libc::c_int, probe: extern "C" fn(*mut libc::c_void) -> libc::c_int) -> bool {
    let mut stack = vec![0u128; 1024];
    // SAFETY: the child runs `probe` on `stack`, which outlives it (CLONE_VFORK waits for
    // the child to exit); a probe only makes system calls.
    unsafe {
        let Ok(pid) = crate::vfork::clone_vfork(probe, &mut stack, flags, std::ptr::null_mut())
        else {
            return false;
        };
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }
}
