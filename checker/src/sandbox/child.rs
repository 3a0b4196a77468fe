//! What a sandboxed node's process does to itself between `clone` and `execve`: join its
//! control groups, set its resource limits, enforce its Landlock ruleset and drop every
//! capability. Everything here is prepared by eddy beforehand; [`ChildSteps::apply`] only
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
    /// Drop every capability (and keep a root node from regaining them at `execve`).
    pub drop_capabilities: bool,
    /// Namespaces for `clone` to make (`CLONE_NEWNET` and the like).
    pub clone_flags: libc::c_int,
}

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
        for &(resource, soft, hard) in &self.rlimits {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(resource, &limit) != 0 {
                return Err(errno());
            }
        }
        if let Some(ruleset) = self.ruleset {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(errno());
            }
            if libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0u32) != 0 {
                return Err(errno());
            }
        }
        if self.drop_capabilities {
            drop_capabilities()?;
        }
        Ok(())
    }
}

/// Empties the bounding, ambient, effective, permitted and inheritable sets, and (as
/// root) sets `SECBIT_NOROOT` so that `execve` does not give uid 0 its capabilities back.
unsafe fn drop_capabilities() -> Result<(), libc::c_int> {
    let errno = || *libc::__errno_location();
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
    for capability in 0..64 {
        if libc::prctl(libc::PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno() != libc::EINVAL {
            return Err(errno());
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
