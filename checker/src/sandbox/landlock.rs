//! Landlock rulesets: a node may write only beneath its own folders, and (where the kernel
//! can scope them) may not signal or reach through abstract Unix sockets any process
//! outside its sandbox.
//!
//! **Decision**: the three system calls are made directly rather than through the
//! `landlock` crate. The ruleset is built here, in eddy, and only enforced in the child
//! between `clone` and `execve` (`prctl(PR_SET_NO_NEW_PRIVS)` and
//! `landlock_restrict_self(fd)`), where no allocating code may run; the crate builds and
//! enforces in one thread. Reading and running files stays allowed everywhere (a node
//! needs its interpreter and libraries); every kind of write is handled, so only the rules'
//! folders allow it.

use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const WRITE_FILE: u64 = 1 << 1;
const REMOVE_DIR: u64 = 1 << 4;
const REMOVE_FILE: u64 = 1 << 5;
const MAKE_CHAR: u64 = 1 << 6;
const MAKE_DIR: u64 = 1 << 7;
const MAKE_REG: u64 = 1 << 8;
const MAKE_SOCK: u64 = 1 << 9;
const MAKE_FIFO: u64 = 1 << 10;
const MAKE_BLOCK: u64 = 1 << 11;
const MAKE_SYM: u64 = 1 << 12;
/// ABI 2: linking or renaming a file into another folder.
const REFER: u64 = 1 << 13;
/// ABI 3: truncating a file.
const TRUNCATE: u64 = 1 << 14;
/// ABI 5: `ioctl` on a device file (a terminal's modes, for one).
const IOCTL_DEV: u64 = 1 << 15;
/// ABI 4: binding and connecting TCP sockets.
const NET_BIND_TCP: u64 = 1 << 0;
const NET_CONNECT_TCP: u64 = 1 << 1;
/// ABI 6: abstract Unix sockets and signals, scoped to the sandbox.
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

const RULE_PATH_BENEATH: libc::c_int = 1;
const CREATE_RULESET_VERSION: u32 = 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// The Landlock ABI version the kernel offers, or `None` when Landlock is not available
/// (an old kernel, or not enabled at boot).
pub fn abi() -> Option<u32> {
    // SAFETY: with a null attribute and size 0 the call only returns the version.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    (version > 0).then_some(version as u32)
}

/// What a ruleset of this ABI restricts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// TCP bind and connect are denied (ABI 4), for a node without its own network
    /// namespace.
    pub tcp: bool,
    /// Signals and abstract Unix sockets stay inside the sandbox (ABI 6).
    pub scoped: bool,
}

impl Coverage {
    /// What ABI `abi` can restrict; TCP only when `deny_tcp` (the node has no network
    /// namespace of its own).
    pub fn of(abi: u32, deny_tcp: bool) -> Coverage {
        Coverage {
            tcp: deny_tcp && abi >= 4,
            scoped: abi >= 6,
        }
    }
}

/// A ruleset for ABI `abi`: writes allowed only beneath `writable` folders (and to the
/// harmless devices `/dev/null`, `/dev/zero`, `/dev/full`), TCP denied and signals scoped
/// as `coverage` says. The descriptor is close-on-exec: the child enforces it before
/// `execve`.
pub fn ruleset(abi: u32, writable: &[&Path], coverage: Coverage) -> io::Result<OwnedFd> {
    let mut fs = WRITE_FILE
        | REMOVE_DIR
        | REMOVE_FILE
        | MAKE_CHAR
        | MAKE_DIR
        | MAKE_REG
        | MAKE_SOCK
        | MAKE_FIFO
        | MAKE_BLOCK
        | MAKE_SYM;
    if abi >= 2 {
        fs |= REFER;
    }
    if abi >= 3 {
        fs |= TRUNCATE;
    }
    if abi >= 5 {
        fs |= IOCTL_DEV;
    }
    let attr = RulesetAttr {
        handled_access_fs: fs,
        handled_access_net: if coverage.tcp {
            NET_BIND_TCP | NET_CONNECT_TCP
        } else {
            0
        },
        scoped: if coverage.scoped {
            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        } else {
            0
        },
    };
    // The kernel reads as much of the attribute as its ABI knows.
    let size = match abi {
        0..=3 => 8,
        4..=5 => 16,
        _ => std::mem::size_of::<RulesetAttr>(),
    };
    // SAFETY: `attr` is a valid ruleset attribute of at least `size` bytes.
    let fd = unsafe { libc::syscall(libc::SYS_landlock_create_ruleset, &attr, size, 0u32) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new descriptor (close-on-exec), now owned here.
    let ruleset = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let file_rights = WRITE_FILE | if abi >= 3 { TRUNCATE } else { 0 };
    for dir in writable {
        allow(&ruleset, dir, fs)?;
    }
    for device in ["/dev/null", "/dev/zero", "/dev/full"] {
        if Path::new(device).exists() {
            allow(&ruleset, Path::new(device), file_rights)?;
        }
    }
    Ok(ruleset)
}

/// Adds a rule: `access` allowed beneath `path`.
fn allow(ruleset: &OwnedFd, path: &Path, access: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a path"))?;
    // SAFETY: open(2) with a valid C string; the descriptor is owned right after.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        let error = io::Error::last_os_error();
        return Err(io::Error::new(
            error.kind(),
            format!("{}: {error}", path.display()),
        ));
    }
    // SAFETY: `fd` was just opened and is owned here.
    let parent = unsafe { OwnedFd::from_raw_fd(fd) };
    let rule = PathBeneathAttr {
        allowed_access: access,
        parent_fd: parent.as_raw_fd(),
    };
    // SAFETY: `rule` is a valid path-beneath attribute; both descriptors are open.
    let added = unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            RULE_PATH_BENEATH,
            &rule,
            0u32,
        )
    };
    if added != 0 {
        let error = io::Error::last_os_error();
        return Err(io::Error::new(
            error.kind(),
            format!("landlock rule for {}: {error}", path.display()),
        ));
    }
    Ok(())
}
