//! Starting a node without copying eddy.
//!
//! `fork` copies the parent's page tables and makes every page of it copy-on-write, so
//! its cost grows with eddy's memory and every thread of eddy then pays page faults for
//! the pages it writes; `std::process::Command` avoids that with `posix_spawn` (a
//! `vfork`-like clone that shares memory until `exec`), but only when no `pre_exec`
//! closure is set, and setting the parent-death signal needs one. So this does what
//! `posix_spawn` does itself: `clone(CLONE_VM | CLONE_VFORK)` onto a small stack of its
//! own, with every signal blocked so that no handler of eddy's runs in the child; the
//! child, which must not allocate (it shares eddy's heap), resets handled signals and
//! `SIGPIPE` to their defaults, sets its parent-death signal (`SIGKILL`: not even a
//! `SIGKILL` of eddy leaves a node running), makes its own session (and so its own process
//! group, without a controlling terminal), marks every inherited descriptor past 2
//! close-on-exec, moves the pipes to 0, 1 and 2, clears its signal mask and runs `execve` on each candidate of the
//! `PATH` search in turn (`execvp`'s rules). A failure is handed back through the shared
//! memory, and the child exits 127. A sandboxed node's child also makes its namespaces
//! (`clone` flags) and confines itself ([`ChildSteps`]) before `execve`.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use crate::sandbox::ChildSteps;

/// Bytes of stack for the child between `clone` and `execve`.
const STACK_BYTES: usize = 64 * 1024;

/// A started child: its pid and the parent's ends of its pipes.
pub(super) struct Child {
    pub pid: libc::pid_t,
    pub stdin: Option<File>,
    pub stdout: Option<File>,
    pub stderr: Option<File>,
    /// The CPU time (user and system) it used, once reaped.
    pub cpu_time: Option<Duration>,
}

impl Child {
    /// The exit status, if the child has exited (reaps it).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.reap(libc::WNOHANG)
    }

    /// Waits for the child to exit and reaps it.
    pub fn wait(&mut self) -> Option<ExitStatus> {
        loop {
            if let Some(status) = self.reap(0) {
                return Some(status);
            }
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return None;
        }
    }

    /// One `wait4` with `options`: the status, and the CPU time kept, when it reaped.
    fn reap(&mut self, options: libc::c_int) -> Option<ExitStatus> {
        let mut status = 0;
        // SAFETY: wait4(2) writes only `status` and `usage`.
        let (reaped, usage) = unsafe {
            let mut usage = std::mem::zeroed::<libc::rusage>();
            let reaped = libc::wait4(self.pid, &mut status, options, &mut usage);
            (reaped, usage)
        };
        if reaped != self.pid {
            return None;
        }
        let seconds = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        self.cpu_time = Some(seconds(usage.ru_utime) + seconds(usage.ru_stime));
        Some(ExitStatus::from_raw(status))
    }
}

/// What the child needs, prepared by the parent (the child must not allocate).
struct Setup<'a> {
    /// Paths to try, in order (the `PATH` search, or the program itself).
    candidates: Vec<*const libc::c_char>,
    /// Arguments, null-terminated.
    argv: Vec<*const libc::c_char>,
    /// Environment, null-terminated.
    envp: Vec<*const libc::c_char>,
    /// The child's ends of the stdin, stdout and stderr pipes.
    fds: [RawFd; 3],
    /// An empty signal set, the child's mask.
    empty: libc::sigset_t,
    /// A sandboxed node's confinement.
    confine: Option<&'a ChildSteps>,
    /// The child's `errno` when it could not start the program, else 0.
    error: AtomicI32,
    /// Set when the failure was in confining the child, not in starting the program.
    confining_failed: std::sync::atomic::AtomicBool,
}

/// The environment a node starts with.
pub(super) enum Environment<'a> {
    /// eddy's, each of these replacing a variable of the same name.
    Inherited(&'a [(String, String)]),
    /// Only these (a sandboxed node's).
    Only(&'a [(String, String)]),
}

/// Starts `program` with `args` and the environment `env`, confined by `confine` when it
/// is set.
pub(super) fn spawn(
    program: &str,
    args: &[String],
    env: Environment<'_>,
    confine: Option<&ChildSteps>,
) -> io::Result<Child> {
    let c_string = |bytes: Vec<u8>| {
        CString::new(bytes).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a NUL byte in an argument or the environment",
            )
        })
    };
    let (mut vars, env): (Vec<(OsString, OsString)>, _) = match env {
        Environment::Inherited(extra) => (std::env::vars_os().collect(), extra),
        Environment::Only(all) => (Vec::new(), all),
    };
    for (key, value) in env {
        vars.retain(|(k, _)| k.as_bytes() != key.as_bytes());
        vars.push((key.into(), value.into()));
    }
    let path = vars
        .iter()
        .find(|(k, _)| k.as_bytes() == b"PATH")
        .map(|(_, v)| v.as_bytes().to_vec());
    let env_strings = vars
        .iter()
        .map(|(k, v)| c_string([k.as_bytes(), b"=", v.as_bytes()].concat()))
        .collect::<io::Result<Vec<CString>>>()?;
    let arg_strings = std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(|a| c_string(a.as_bytes().to_vec()))
        .collect::<io::Result<Vec<CString>>>()?;
    let candidate_strings = candidates(program, path.as_deref())
        .into_iter()
        .map(c_string)
        .collect::<io::Result<Vec<CString>>>()?;
    let null_terminated = |strings: &[CString]| {
        let mut pointers: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        pointers.push(std::ptr::null());
        pointers
    };
    let (child_stdin, parent_stdin) = pipe()?;
    let (parent_stdout, child_stdout) = pipe()?;
    let (parent_stderr, child_stderr) = pipe()?;
    // SAFETY: sigemptyset(3) initializes the set it is given.
    let empty = unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        set
    };
    let setup = Setup {
        candidates: candidate_strings.iter().map(|s| s.as_ptr()).collect(),
        argv: null_terminated(&arg_strings),
        envp: null_terminated(&env_strings),
        fds: [
            child_stdin.as_raw_fd(),
            child_stdout.as_raw_fd(),
            child_stderr.as_raw_fd(),
        ],
        empty,
        confine,
        error: AtomicI32::new(0),
        confining_failed: std::sync::atomic::AtomicBool::new(false),
    };
    let namespaces = confine.map_or(0, |steps| steps.clone_flags);
    let mut stack = vec![0u128; STACK_BYTES / 16];
    // SAFETY: the child runs `child_main` on `stack` (which outlives it: with
    // CLONE_VFORK this thread waits until the child has called execve or exited), and
    // only reads `setup` (all of whose pointers point into strings alive here) and
    // stores into its atomic.
    let pid = unsafe {
        crate::vfork::clone_vfork(
            child_main,
            &mut stack,
            namespaces,
            std::ptr::from_ref(&setup).cast_mut().cast::<libc::c_void>(),
        )?
    };
    drop((child_stdin, child_stdout, child_stderr));
    let mut child = Child {
        pid,
        stdin: Some(File::from(parent_stdin)),
        stdout: Some(File::from(parent_stdout)),
        stderr: Some(File::from(parent_stderr)),
        cpu_time: None,
    };
    match setup.error.load(Ordering::SeqCst) {
        0 => Ok(child),
        error => {
            child.wait();
            let error = io::Error::from_raw_os_error(error);
            if setup.confining_failed.load(Ordering::SeqCst) {
                return Err(io::Error::other(format!(
                    "the sandbox could not confine it: {error}"
                )));
            }
            Err(error)
        }
    }
}

/// The paths `execvp` would try for `program`: itself when it names a path, else each
/// folder of `PATH` (an empty entry is the current folder; no `PATH`, `/bin:/usr/bin`).
fn candidates(program: &str, path: Option<&[u8]>) -> Vec<Vec<u8>> {
    if program.contains('/') {
        return vec![program.as_bytes().to_vec()];
    }
    path.unwrap_or(b"/bin:/usr/bin")
        .split(|&c| c == b':')
        .map(|dir| {
            let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
            [dir, b"/", program.as_bytes()].concat()
        })
        .collect()
}

/// A pipe, both ends close-on-exec: (read end, write end).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) writes two descriptors into `fds`, which we then own.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// The child, between `clone` and `execve`: async-signal-safe calls only, no
/// allocation, no panics.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the parent's `Setup`, alive and unchanged until this child
    // calls execve or exits; everything called is async-signal-safe.
    unsafe {
        let setup = &*arg.cast_const().cast::<Setup>();
        let fail = |setup: &Setup| -> ! {
            setup
                .error
                .store((*libc::__errno_location()).max(1), Ordering::SeqCst);
            libc::_exit(127)
        };
        for signal in 1..=64 {
            if signal == libc::SIGKILL || signal == libc::SIGSTOP {
                continue;
            }
            let mut action = std::mem::zeroed::<libc::sigaction>();
            if libc::sigaction(signal, std::ptr::null(), &mut action) != 0 {
                continue;
            }
            let handled =
                action.sa_sigaction != libc::SIG_DFL && action.sa_sigaction != libc::SIG_IGN;
            if handled || signal == libc::SIGPIPE {
                let mut default = std::mem::zeroed::<libc::sigaction>();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(signal, &default, std::ptr::null_mut());
            }
        }
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
            fail(setup);
        }
        // A session of its own, not only a process group: no controlling terminal, so a
        // node cannot type into the terminal eddy runs in (TIOCSTI on /dev/tty).
        if libc::setsid() < 0 {
            fail(setup);
        }
        // Nothing eddy inherited beyond 0, 1 and 2 (a jobserver pipe, a socket) reaches
        // the node: every other descriptor closes at execve. (Before 5.11, without
        // CLOSE_RANGE_CLOEXEC, eddy's own are close-on-exec anyway.)
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_uint,
        );
        if let Some(steps) = setup.confine {
            if let Err(error) = steps.apply() {
                setup.confining_failed.store(true, Ordering::SeqCst);
                *libc::__errno_location() = error;
                fail(setup);
            }
        }
        for (target, &fd) in setup.fds.iter().enumerate() {
            let target = target as RawFd;
            let moved = if fd == target {
                libc::fcntl(fd, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, target)
            };
            if moved < 0 {
                fail(setup);
            }
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &setup.empty, std::ptr::null_mut());
        // execvp's rules: go on past a candidate that is missing or not executable;
        // stop at any other error; report EACCES if any candidate gave it.
        let mut denied = false;
        for &candidate in &setup.candidates {
            libc::execve(candidate, setup.argv.as_ptr(), setup.envp.as_ptr());
            match *libc::__errno_location() {
                libc::EACCES => denied = true,
                libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
                _ => fail(setup),
            }
        }
        if denied {
            *libc::__errno_location() = libc::EACCES;
        }
        fail(setup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn candidates_follow_the_path_search() {
        assert_eq!(candidates("./node", Some(b"/x")), [b"./node".to_vec()]);
        assert_eq!(
            candidates("node", Some(b"/a::/b")),
            [b"/a/node".to_vec(), b"./node".to_vec(), b"/b/node".to_vec()]
        );
        assert_eq!(candidates("sh", None).len(), 2);
    }

    #[test]
    fn a_child_gets_its_pipes_environment_session_descriptors_and_signal_state() {
        // The shell reads its own signal state with builtins first: while it forks a
        // command (the `cut` below) dash blocks every signal for a moment, so a `grep`
        // of its status could catch it mid-fork.
        let script = "while read -r l; do case $l in SigBlk*|SigIgn*) echo \"$l\" >&2;; esac; \
                      done < /proc/$$/status; \
                      read line; echo \"got $line $EDDY_SPAWN_TEST\"; \
                      echo \"pgid $(cut -d' ' -f5 /proc/$$/stat)\" >&2; \
                      echo \"sid $(cut -d' ' -f6 /proc/$$/stat)\" >&2; \
                      echo \"fds $(ls /proc/$$/fd | tr '\\n' ' ')\" >&2";
        let env = [("EDDY_SPAWN_TEST".to_owned(), "yes".to_owned())];
        // A descriptor eddy inherited without close-on-exec must not reach the child.
        // (A number no test of this binary holds, so that the shell cannot own it.)
        let inherited = unsafe { libc::dup2(2, 917) };
        assert_eq!(inherited, 917);
        let mut child = spawn(
            "sh",
            &["-c".into(), script.into()],
            Environment::Inherited(&env),
            None,
        )
        .unwrap();
        unsafe { libc::close(inherited) };
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"hello\n").unwrap();
        drop(stdin);
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "{status:?} {err}");
        assert_eq!(out, "got hello yes\n");
        assert!(err.contains(&format!("pgid {}\n", child.pid)), "{err}");
        // Its own session: no controlling terminal to type into.
        assert!(err.contains(&format!("sid {}\n", child.pid)), "{err}");
        // 0, 1, 2 and the descriptor `ls` reads the folder with.
        let fds = err.lines().find_map(|l| l.strip_prefix("fds ")).unwrap();
        assert!(
            !fds.split_whitespace().any(|fd| fd == inherited.to_string()),
            "{err}"
        );
        assert!(
            err.contains("SigBlk:\t0000000000000000") || err.contains("SigBlk: 0000000000000000"),
            "{err}"
        );
        // SIGPIPE (bit 13) is back to its default, not ignored as in eddy.
        let ignored = err.lines().find(|l| l.starts_with("SigIgn")).unwrap();
        let mask = u64::from_str_radix(ignored.trim_start_matches("SigIgn:").trim(), 16);
        assert_eq!(mask.unwrap() & (1 << (libc::SIGPIPE - 1)), 0, "{err}");
    }

    #[test]
    fn a_child_dies_with_the_thread_that_started_it() {
        let child = std::thread::spawn(|| {
            spawn("sleep", &["30".into()], Environment::Inherited(&[]), None).unwrap()
        })
        .join()
        .unwrap();
        let mut child = child;
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    }

    #[test]
    fn failures_say_why() {
        let missing = spawn(
            "no-such-program-eddy-spawn",
            &[],
            Environment::Inherited(&[]),
            None,
        )
        .err()
        .unwrap();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        let dir = std::env::temp_dir().join(format!("eddy-spawn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("not-executable");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        let denied = spawn(
            script.to_str().unwrap(),
            &[],
            Environment::Inherited(&[]),
            None,
        )
        .err()
        .unwrap();
        assert_eq!(denied.kind(), io::ErrorKind::PermissionDenied);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
