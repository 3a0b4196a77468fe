//! What a sandboxed node's process does to itself between `clone` and `execve`: join its
//! control groups, set its resource limits, enforce its Landlock ruleset, refuse itself
//! every socket but internet and netlink ones, and `io_uring` (a seccomp filter), and drop
//! every capability. Everything here is prepared by eddy beforehand; [`ChildSteps::apply`] only
//! makes system calls (the child shares eddy's memory and must not allocate).

use std::ffi::CString;
use std::os::fd::RawFd;

/// The steps, prepared by the parent.
#[derive(Debug, Default)]
pub struct ChildSteps {
    /// `cgroup.procs` files to write `0` to.
    pub join: Vec<CString>,
    /// `setrlimit` calls: (resource, soft, hard).
    pub rlimits: Vec<(libc::__rlimit_resource_t, u64, u64)>,
    /// A Landlock ruleset to enforce.
    pub ruleset: Option<RawFd>,
    /// Drop every capability.
    pub drop_capabilities: bool,
    /// Also empty the bounding set and lock `SECBIT_NOROOT`, so that a node run as uid 0
    /// does not regain capabilities at `execve` (needs `CAP_SETPCAP`).
    pub lock_root: bool,
    /// Namespaces for `clone` to make (`CLONE_NEWNET` and the like).
    pub clone_flags: libc::c_int,
    /// When not empty (the node has a mount namespace of its own): every mount read-only
    /// but these folders, bound writable over themselves.
    pub writable: Vec<CString>,
    /// Install [`SECCOMP_FILTER`]: a network namespace parts neither Unix sockets named by
    /// a path (a daemon's control socket) nor `AF_VSOCK` (a virtual machine's host), and
    /// Landlock cannot refuse connecting to them.
    pub filter_sockets: bool,
}

/// Where a system call's number, architecture and first argument are in `seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0: u32 = 16;
const ARG1: u32 = 24;
/// `ioprio_set`'s `which` for one process.
const IOPRIO_WHO_PROCESS: u32 = 1;
/// `fcntl`'s command to take a lease.
const F_SETLEASE: u32 = 1024;
/// A socket's type without `SOCK_NONBLOCK` and `SOCK_CLOEXEC`.
const SOCKET_TYPE_MASK: u32 = 0xf;
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;
/// The x32 system calls' numbers have this bit.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// A BPF statement without jumps.
const fn statement(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// A conditional jump (`BPF_JEQ`, `BPF_JGE`) on the loaded word against `k`, forward
/// `jt` statements when true, `jf` when false.
const fn jump(test: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_JMP | test | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    }
}

const LOAD: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
const RETURN: u32 = libc::BPF_RET | libc::BPF_K;
const REFUSED: u32 = libc::SECCOMP_RET_ERRNO | libc::EACCES as u32;

/// The seccomp filter (made by hand as BPF: a static array, as the child may not
/// allocate). `socket` makes only internet sockets (which reach nothing in the node's own
/// network namespace) and netlink ones (which runtimes use to list interfaces); any other
/// family (`AF_UNIX`, whose sockets named by a path no network namespace parts; `AF_VSOCK`,
/// which reaches a virtual machine's host; and the rest) fails with `EACCES`. `socketpair`,
/// which runtimes use for their own wake-ups, makes stream and seqpacket pairs only (a
/// datagram one could `sendto` a daemon's socket by its path). The calls that act on
/// another process by its pid and need no capability against one of the same user
/// (`prlimit64`, the `sched_set*` calls, `setpriority`, `ioprio_set`: a node run as root
/// could lower eddy's limits, or any root process's) act on the caller only. Refused too:
/// `io_uring_setup` (its rings could make sockets past this filter), the kernel keyring
/// calls (a key would outlive the node, in its user's keyring), `F_SETLEASE` (a lease on
/// someone else's file stalls its writers) and the x32 system calls. A call of another
/// architecture than eddy's (`int 0x80`) kills the process.
pub static SECCOMP_FILTER: [libc::sock_filter; 41] = [
    /* 0 */ statement(LOAD, ARCH),
    /* 1 */ jump(libc::BPF_JEQ, AUDIT_ARCH, 0, 38),
    /* 2 */ statement(LOAD, NR),
    /* 3 */ jump(libc::BPF_JGE, X32_SYSCALL_BIT, 35, 0),
    /* 4 */ jump(libc::BPF_JEQ, libc::SYS_io_uring_setup as u32, 34, 0),
    /* 5 */ jump(libc::BPF_JEQ, libc::SYS_add_key as u32, 33, 0),
    /* 6 */ jump(libc::BPF_JEQ, libc::SYS_keyctl as u32, 32, 0),
    /* 7 */ jump(libc::BPF_JEQ, libc::SYS_request_key as u32, 31, 0),
    /* 8 */ jump(libc::BPF_JEQ, libc::SYS_socket as u32, 9, 0),
    /* 9 */ jump(libc::BPF_JEQ, libc::SYS_socketpair as u32, 12, 0),
    /* 10 */ jump(libc::BPF_JEQ, libc::SYS_prlimit64 as u32, 15, 0),
    /* 11 */ jump(libc::BPF_JEQ, libc::SYS_sched_setscheduler as u32, 14, 0),
    /* 12 */ jump(libc::BPF_JEQ, libc::SYS_sched_setparam as u32, 13, 0),
    /* 13 */ jump(libc::BPF_JEQ, libc::SYS_sched_setattr as u32, 12, 0),
    /* 14 */ jump(libc::BPF_JEQ, libc::SYS_sched_setaffinity as u32, 11, 0),
    /* 15 */ jump(libc::BPF_JEQ, libc::SYS_setpriority as u32, 12, 0),
    /* 16 */ jump(libc::BPF_JEQ, libc::SYS_ioprio_set as u32, 15, 0),
    /* 17 */ jump(libc::BPF_JEQ, libc::SYS_fcntl as u32, 18, 20),
    /* 18 */ statement(LOAD, ARG0),
    /* 19 */ jump(libc::BPF_JEQ, libc::AF_INET as u32, 18, 0),
    /* 20 */ jump(libc::BPF_JEQ, libc::AF_INET6 as u32, 17, 0),
    /* 21 */ jump(libc::BPF_JEQ, libc::AF_NETLINK as u32, 16, 17),
    /* 22 */ statement(LOAD, ARG1),
    /* 23 */
    statement(
        libc::BPF_ALU | libc::BPF_AND | libc::BPF_K,
        SOCKET_TYPE_MASK,
    ),
    /* 24 */ jump(libc::BPF_JEQ, libc::SOCK_STREAM as u32, 13, 0),
    /* 25 */ jump(libc::BPF_JEQ, libc::SOCK_SEQPACKET as u32, 12, 13),
    /* 26 */ statement(LOAD, ARG0),
    /* 27 */ jump(libc::BPF_JEQ, 0, 10, 11),
    /* 28 */ statement(LOAD, ARG0),
    /* 29 */ jump(libc::BPF_JEQ, libc::PRIO_PROCESS, 0, 9),
    /* 30 */ statement(LOAD, ARG1),
    /* 31 */ jump(libc::BPF_JEQ, 0, 6, 7),
    /* 32 */ statement(LOAD, ARG0),
    /* 33 */ jump(libc::BPF_JEQ, IOPRIO_WHO_PROCESS, 0, 5),
    /* 34 */ statement(LOAD, ARG1),
    /* 35 */ jump(libc::BPF_JEQ, 0, 2, 3),
    /* 36 */ statement(LOAD, ARG1),
    /* 37 */ jump(libc::BPF_JEQ, F_SETLEASE, 1, 0),
    /* 38 */ statement(RETURN, libc::SECCOMP_RET_ALLOW),
    /* 39 */ statement(RETURN, REFUSED),
    /* 40 */ statement(RETURN, libc::SECCOMP_RET_KILL_PROCESS),
];

const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

impl ChildSteps {
    /// Applies every step to the calling process; on failure, the step's `errno`.
    ///
    /// # Safety
    /// To be called only in a freshly cloned child before `execve`: it changes the calling
    /// process's groups, limits and privileges for good.
    pub unsafe fn apply(&self) -> Result<(), libc::c_int> {
        let errno = || *libc::__errno_location();
        for file in &self.join {
            let fd = libc::open(file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(errno());
            }
            let written = libc::write(fd, b"0".as_ptr().cast(), 1);
            let error = errno();
            libc::close(fd);
            if written != 1 {
                return Err(error);
            }
        }
        if !self.writable.is_empty() {
            read_only_except(&self.writable)?;
        }
        for &(resource, soft, hard) in &self.rlimits {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(resource, &limit) != 0 {
                return Err(errno());
            }
        }
        if (self.ruleset.is_some() || self.filter_sockets)
            && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
        {
            return Err(errno());
        }
        if let Some(ruleset) = self.ruleset {
            if libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0u32) != 0 {
                return Err(errno());
            }
        }
        if self.filter_sockets {
            let program = libc::sock_fprog {
                len: SECCOMP_FILTER.len() as u16,
                filter: SECCOMP_FILTER.as_ptr().cast_mut(),
            };
            if libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                &program as *const libc::sock_fprog,
            ) != 0
            {
                return Err(errno());
            }
        }
        if self.drop_capabilities {
            drop_capabilities(self.lock_root)?;
        }
        Ok(())
    }
}

/// `mount_setattr`'s attribute (`struct mount_attr`).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_RDONLY: u64 = 1;
const AT_RECURSIVE: libc::c_int = 0x8000;

/// Sets (or clears) read-only on the mount at `path` and every mount beneath it.
unsafe fn set_read_only(path: *const libc::c_char, read_only: bool) -> libc::c_long {
    let attr = MountAttr {
        attr_set: if read_only { MOUNT_ATTR_RDONLY } else { 0 },
        attr_clr: if read_only { 0 } else { MOUNT_ATTR_RDONLY },
        propagation: 0,
        userns_fd: 0,
    };
    libc::syscall(
        libc::SYS_mount_setattr,
        libc::AT_FDCWD,
        path,
        AT_RECURSIVE,
        &attr as *const MountAttr,
        std::mem::size_of::<MountAttr>(),
    )
}

/// In a mount namespace of the caller's own: nothing it does propagates out, every mount
/// is read-only (no write, and no change of mode, owner, times or attributes of any file,
/// whoever owns it), no terminal is in reach (`/dev/pts` and `/dev/console` hidden), and
/// each of `writable` is bound over itself, writable.
///
/// # Safety
/// Only in a child that has a mount namespace of its own (`CLONE_NEWNS`).
pub unsafe fn read_only_except(writable: &[CString]) -> Result<(), libc::c_int> {
    let errno = || *libc::__errno_location();
    let root = c"/".as_ptr();
    if libc::mount(
        std::ptr::null(),
        root,
        std::ptr::null(),
        libc::MS_REC | libc::MS_PRIVATE,
        std::ptr::null(),
    ) != 0
        || set_read_only(root, true) != 0
    {
        return Err(errno());
    }
    // The terminals: a node could read what is typed into eddy's, or change its modes. An
    // empty read-only file system over /dev/pts, /dev/null over the console.
    let hidden = libc::mount(
        c"tmpfs".as_ptr(),
        c"/dev/pts".as_ptr(),
        c"tmpfs".as_ptr(),
        libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        c"size=4k,mode=555".as_ptr().cast(),
    );
    if hidden != 0 && errno() != libc::ENOENT {
        return Err(errno());
    }
    let hidden = libc::mount(
        c"/dev/null".as_ptr(),
        c"/dev/console".as_ptr(),
        std::ptr::null(),
        libc::MS_BIND,
        std::ptr::null(),
    );
    if hidden != 0 && errno() != libc::ENOENT {
        return Err(errno());
    }
    for folder in writable {
        let path = folder.as_ptr();
        if libc::mount(
            path,
            path,
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REC,
            std::ptr::null(),
        ) != 0
            || set_read_only(path, false) != 0
        {
            return Err(errno());
        }
    }
    Ok(())
}

/// Empties the ambient, effective, permitted and inheritable sets; with `lock_root`, the
/// bounding set too, and sets `SECBIT_NOROOT` so that `execve` does not give uid 0 its
/// capabilities back.
unsafe fn drop_capabilities(lock_root: bool) -> Result<(), libc::c_int> {
    let errno = || *libc::__errno_location();
    if lock_root {
        if libc::prctl(
            libc::PR_SET_SECUREBITS,
            SECBIT_NOROOT | SECBIT_NOROOT_LOCKED,
            0,
            0,
            0,
        ) != 0
        {
            return Err(errno());
        }
        // Capabilities are numbered from 0 without gaps: the first unknown one ends them.
        for capability in 0..64 {
            if libc::prctl(libc::PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 {
                if errno() == libc::EINVAL {
                    break;
                }
                return Err(errno());
            }
        }
    }
    libc::prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL,
        0,
        0,
        0,
    );
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let none = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    if libc::syscall(libc::SYS_capset, &header, none.as_ptr()) != 0 {
        return Err(errno());
    }
    Ok(())
}
