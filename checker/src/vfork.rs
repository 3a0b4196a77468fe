//! `clone(CLONE_VM | CLONE_VFORK)`: a child that shares eddy's memory and runs a function
//! on a stack of its own until it calls `execve` or exits, while the calling thread waits.
//! Used to start nodes without copying eddy (`process/spawn.rs`) and to try which
//! namespaces this machine allows (`sandbox/detect.rs`).

use std::io;

/// Runs `child(arg)` in a new process made by `clone(CLONE_VM | CLONE_VFORK | SIGCHLD |
/// flags)` on `stack`, with every signal blocked around the clone so that none of eddy's
/// handlers runs in the child; returns its pid once it has called `execve` or exited.
///
/// # Safety
/// `child` must only make async-signal-safe calls and must not allocate (it shares eddy's
/// heap); `arg` must stay valid until this returns; the child must not return into
/// anything of eddy's (returning from `child` ends it).
pub unsafe fn clone_vfork(
    child: extern "C" fn(*mut libc::c_void) -> libc::c_int,
    stack: &mut [u128],
    flags: libc::c_int,
    arg: *mut libc::c_void,
) -> io::Result<libc::pid_t> {
    let mut all = std::mem::zeroed::<libc::sigset_t>();
    libc::sigfillset(&mut all);
    let mut old = std::mem::zeroed::<libc::sigset_t>();
    libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
    let top = stack.as_mut_ptr().add(stack.len()).cast::<libc::c_void>();
    let pid = libc::clone(
        child,
        top,
        libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD | flags,
        arg,
    );
    let clone_error = io::Error::last_os_error();
    libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    if pid < 0 {
        return Err(clone_error);
    }
    Ok(pid)
}
