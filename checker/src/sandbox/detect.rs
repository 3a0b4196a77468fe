//! What this machine lets eddy use to confine a node, found by trying each mechanism once
//! at the start of a run.

use super::cgroup::CgroupParent;
use super::landlock;

/// The confinement mechanisms available to this process.
#[derive(Debug)]
pub struct Mechanisms {
    /// eddy runs with capabilities (as root): it may create namespaces without a user
    /// namespace, and the node must drop them.
    pub privileged: bool,
    /// Control groups with memory and process limits, or why there are none.
    pub cgroups: Result<CgroupParent, String>,
    /// The `clone` flags that give a node its own namespaces (0 when none can be made),
    /// among them a network namespace when `own_network`.
    pub namespace_flags: libc::c_int,
    /// The node gets a network namespace of its own (no interface but a loopback that is
    /// down: it can reach nothing).
    pub own_network: bool,
    /// The node gets a process namespace of its own, of which it is the first process
    /// (used only when no control group can contain it).
    pub own_processes: bool,
    /// The Landlock ABI, when Landlock is available.
    pub landlock: Option<u32>,
    /// Seccomp filters can be installed (to refuse Unix sockets).
    pub seccomp: bool,
}

impl Mechanisms {
    /// Tries each mechanism; eddy's control groups go in folders called `name`.
    pub fn detect(name: &str) -> Mechanisms {
        // SAFETY: geteuid(2) cannot fail.
        let privileged = unsafe { libc::geteuid() } == 0;
        let cgroups = CgroupParent::create(name);
        let user = if privileged { 0 } else { libc::CLONE_NEWUSER };
        let own_network = can_clone(user | libc::CLONE_NEWNET);
        // A process namespace is only needed when no control group holds the node.
        let own_processes = cgroups.is_err() && can_clone(user | libc::CLONE_NEWPID);
        let mut namespace_flags = 0;
        if own_network {
            namespace_flags |= user | libc::CLONE_NEWNET;
        }
        if own_processes {
            namespace_flags |= user | libc::CLONE_NEWPID;
        }
        Mechanisms {
            privileged,
            cgroups,
            namespace_flags,
            own_network,
            own_processes,
            landlock: landlock::abi(),
            // SAFETY: PR_GET_SECCOMP only reads this thread's mode (-1 without seccomp).
            seccomp: unsafe { libc::prctl(libc::PR_GET_SECCOMP) } >= 0,
        }
    }
}

/// True when a child can be cloned with `flags` (namespaces this process may create).
fn can_clone(flags: libc::c_int) -> bool {
    extern "C" fn exit_at_once(_: *mut libc::c_void) -> libc::c_int {
        0
    }
    let mut stack = vec![0u128; 1024];
    // SAFETY: the child runs `exit_at_once` on `stack`, which outlives it (CLONE_VFORK
    // waits for the child to exit); it touches nothing. Signals are blocked around the
    // clone, so that no handler of eddy's runs in the child, which shares eddy's memory.
    unsafe {
        let mut all = std::mem::zeroed::<libc::sigset_t>();
        libc::sigfillset(&mut all);
        let mut old = std::mem::zeroed::<libc::sigset_t>();
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let top = stack.as_mut_ptr().add(stack.len()).cast::<libc::c_void>();
        let pid = libc::clone(
            exit_at_once,
            top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD | flags,
            std::ptr::null_mut(),
        );
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid < 0 {
            return false;
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }
}
