//! eddy's sandbox (`--sandbox`, issue 17) holds hostile nodes (`fixtures/hostile.py`): a
//! bounded fork bomb, a memory hog, a node that connects to a listener on the loopback, one
//! that writes outside its folders, one that ignores SIGTERM and daemonizes a child, and
//! one that sends SIGKILL to eddy. Each is contained; a limit reached is told in words;
//! `results.json` and the summary say which protections were in force; and nothing is left
//! behind (no process, no control group, no temp folder). As root, as CI runs, and as an
//! unprivileged user (`nobody`, when the tests run as root). Without `--sandbox` the same
//! nodes do escape, so that what the sandboxed runs show means something.

mod support;

use serde_json::Value;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{fixture, is_gone, leftovers, marker, text};

/// The uid and gid of `nobody`, as which a test running as root runs eddy unprivileged.
const NOBODY: u32 = 65534;

/// Every protection `results.json` lists.
const PROTECTIONS: [&str; 11] = [
    "memory",
    "processes",
    "cpu",
    "file-size",
    "open-files",
    "disk",
    "network",
    "filesystem",
    "containment",
    "signals",
    "privileges",
];

/// Who runs eddy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum User {
    /// The test's own user.
    Own,
    /// `nobody`, switched to from root.
    Nobody,
}

/// True when the tests run as root.
fn root() -> bool {
    // SAFETY: geteuid(2) cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The user of the tests that need root (control groups, as CI has them), or `None` (said
/// on stderr) when the tests do not run as root.
fn as_root(test: &str) -> Option<User> {
    if root() {
        return Some(User::Own);
    }
    eprintln!("{test}: skipped: it needs root (as CI runs), to use control groups");
    None
}

/// The user of the unprivileged tests: `nobody` when the tests run as root, else their own
/// user (unprivileged already). `None` (said on stderr) when `nobody` cannot read and run
/// eddy or the fixture, a limit of where they were built, not of the sandbox.
fn unprivileged(test: &str) -> Option<User> {
    if !root() {
        return Some(User::Own);
    }
    let files = [
        (PathBuf::from(env!("CARGO_BIN_EXE_eddy")), 0o005),
        (PathBuf::from(fixture("hostile.py")), 0o004),
    ];
    for (file, mode) in files {
        if let Some(closed) = closed_to_others(&file, mode) {
            eprintln!("{test}: skipped: nobody cannot reach {}", closed.display());
            return None;
        }
    }
    Some(User::Nobody)
}

/// The first of `file` (which others need `mode` on) and its folders (which they need to
/// search) that others cannot use so.
fn closed_to_others(file: &Path, mode: u32) -> Option<PathBuf> {
    let allows = |path: &Path, bits: u32| {
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & bits == bits)
    };
    if !allows(file, mode) {
        return Some(file.to_owned());
    }
    file.ancestors()
        .skip(1)
        .find(|folder| !allows(folder, 0o001))
        .map(Path::to_owned)
}

/// A fresh folder for a run; open to everyone when `nobody` is to write in it.
fn folder(user: User) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if user == User::Nobody {
        open_to_all(dir.path());
    }
    dir
}

/// Lets everyone read, write and enter folder `path`.
fn open_to_all(path: &Path) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
}

/// One finished run of eddy.
struct Run {
    out: Output,
    /// eddy's pid, which names its control groups (`eddy-<pid>`) and its temp folder
    /// (`eddy-sandbox-<pid>`).
    pid: u32,
    /// The run's folder (`--store`, or the case file's), its working folder too.
    dir: tempfile::TempDir,
}

impl Run {
    /// Runs eddy as `user` with `args`, in `dir`.
    fn eddy(user: User, dir: tempfile::TempDir, args: &[&str]) -> Run {
        Run::eddy_with_env(user, dir, args, &[])
    }

    /// [`Run::eddy`] with `env` added to eddy's environment.
    fn eddy_with_env(
        user: User,
        dir: tempfile::TempDir,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_eddy"));
        command
            .args(args)
            .envs(env.iter().copied())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if user == User::Nobody {
            command.uid(NOBODY).gid(NOBODY);
        }
        let child = command.spawn().expect("eddy starts");
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        Run { out, pid, dir }
    }

    /// `eddy test -w echo` for a second on one node, `python3 hostile.py MODE MARK`
    /// (`mode` with its arguments), with `flags`.
    fn sim(user: User, mode: &str, mark: &str, flags: &[&str]) -> Run {
        Run::sim_with_env(user, mode, mark, flags, &[])
    }

    /// [`Run::sim`] with `env` added to eddy's environment.
    fn sim_with_env(
        user: User,
        mode: &str,
        mark: &str,
        flags: &[&str],
        env: &[(&str, &str)],
    ) -> Run {
        let dir = folder(user);
        let store = dir.path().display().to_string();
        let bin = format!("python3 {} {mode} {mark}", fixture("hostile.py"));
        let mut args = vec![
            "test",
            "-w",
            "echo",
            "--node-count",
            "1",
            "--time-limit",
            "1",
            "--bin",
            &bin,
            "--store",
            &store,
        ];
        args.extend_from_slice(flags);
        Run::eddy_with_env(user, dir, &args, env)
    }

    /// eddy's exit code (`None` when a signal ended it).
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    /// What eddy printed on stdout (the summary).
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    /// Stdout and stderr, for failure messages.
    fn all(&self) -> String {
        text(&self.out)
    }

    /// The `results.json` of an `eddy test` run.
    fn results(&self) -> Value {
        let file = self.dir.path().join("latest/results.json");
        let json = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", file.display(), self.all()));
        serde_json::from_str(&json).unwrap()
    }

    /// The node's stderr in an `eddy test` run.
    fn node_log(&self) -> String {
        let file = self.dir.path().join("latest/node-logs/n0.log");
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", file.display(), self.all()))
    }

    /// The `why` of the first witness of the `crashes` check.
    fn crash(&self) -> String {
        let results = self.results();
        support::first_why(&results, "crashes")
    }
}

/// Asserts that a run's `sandbox` object lists every protection with a level and how,
/// with the limits `limits` (`(key, value)`) and the levels `levels` (`(protection,
/// level)`), and that the summary's `sandbox:` line says the same.
fn assert_reported(
    sandbox: &Value,
    summary: &str,
    limits: &[(&str, u64)],
    levels: &[(&str, &str)],
) {
    for name in PROTECTIONS {
        let state = &sandbox["protections"][name];
        assert!(
            ["full", "partial", "none"].contains(&state["level"].as_str().unwrap_or("")),
            "{name}: {sandbox}"
        );
        assert!(
            !state["how"].as_str().unwrap_or("").is_empty(),
            "{name}: {sandbox}"
        );
    }
    for (key, value) in limits {
        assert_eq!(sandbox["limits"][key], *value, "{key}: {sandbox}");
    }
    for (name, level) in levels {
        let state = &sandbox["protections"][name];
        assert_eq!(state["level"], *level, "{name}: {sandbox}");
    }
    let line = summary
        .lines()
        .map(|l| l.trim_start())
        .map(|l| l.strip_prefix("eddy cases: ").unwrap_or(l))
        .find(|l| l.starts_with("sandbox: "))
        .unwrap_or_else(|| panic!("no sandbox line in:\n{summary}"));
    let (held, _) = line.split_once("; ").unwrap_or((line, ""));
    let told_in = |section: &str, words: &str| {
        line.split_once(section)
            .is_some_and(|(_, rest)| rest.contains(words))
    };
    for (name, level) in levels {
        let told = match *level {
            "full" => held.contains(&held_words(name, sandbox)),
            "partial" => told_in("; only partly: ", &format!("{name} (")),
            _ => told_in("; not in force: ", name),
        };
        assert!(told, "{name} not told as {level} in: {line}");
    }
}

/// How the summary's line words protection `name` when it is in force.
fn held_words(name: &str, sandbox: &Value) -> String {
    let limit = |key: &str| sandbox["limits"][key].as_u64().unwrap();
    match name {
        "memory" => match limit("memory_bytes") {
            bytes if bytes % (1 << 30) == 0 => format!("memory {} GiB", bytes >> 30),
            bytes => format!("memory {} MiB", bytes >> 20),
        },
        "processes" => format!("{} processes", limit("processes")),
        "network" => "no network".into(),
        "filesystem" => "writes to its own folders only".into(),
        "containment" => "contained".into(),
        "signals" => "signals scoped".into(),
        "privileges" => "no capabilities".into(),
        other => panic!("no words for {other}"),
    }
}

/// Asserts that a run left nothing behind: no process carrying `mark`, no control group
/// `eddy-<pid>` where eddy makes them, no temp folder `eddy-sandbox-<pid>`; and, for an
/// `eddy test` run, that those are where the node found itself (its log's `hostile:`
/// lines), so that the checks look in the right places.
fn assert_nothing_left(run: &Run, mark: &str) {
    assert_eq!(
        leftovers(mark),
        Vec::<u32>::new(),
        "processes left running:\n{}",
        run.all()
    );
    let group = format!("eddy-{}", run.pid);
    for parent in cgroup_parents() {
        let left = eddys_in(&parent, &group);
        assert!(left.is_empty(), "left behind: {left:?}");
    }
    let temp = std::env::temp_dir();
    let scratch = format!("eddy-sandbox-{}", run.pid);
    let left = eddys_in(&temp, &scratch);
    assert!(left.is_empty(), "left behind: {left:?}");
    if !run.dir.path().join("latest").exists() || run.results()["sandbox"].is_null() {
        return;
    }
    let log = run.node_log();
    let tmpdir = log
        .lines()
        .find_map(|l| l.strip_prefix("hostile: tmpdir "))
        .unwrap_or_else(|| panic!("no tmpdir line in the node's log:\n{log}"));
    let first = Path::new(tmpdir)
        .strip_prefix(&temp)
        .ok()
        .and_then(|p| p.iter().next());
    assert!(
        first.is_some_and(|name| is_eddys(name, &scratch)),
        "the node's TMPDIR {tmpdir} is not beneath {}/{scratch}",
        temp.display()
    );
    // The hierarchies the report says the node's groups are in: v1's memory and pids, or
    // the v2 one; none without control groups.
    let how = run.results()["sandbox"]["protections"]["memory"]["how"].clone();
    let how = how.as_str().unwrap_or_default();
    let grouped: &[&str] = match how {
        _ if how.starts_with("cgroup v1") => &["memory", "pids"],
        _ if how.starts_with("cgroup v2") => &[""],
        _ => &[],
    };
    for (controller, path) in node_groups(&log) {
        let folder = cgroup_folder(controller, &path)
            .unwrap_or_else(|| panic!("no {controller} hierarchy for {path}"));
        if grouped.contains(&controller) {
            let parent = folder.parent().and_then(Path::file_name);
            assert!(
                parent.is_some_and(|name| is_eddys(name, &group)),
                "the node's {controller} group {path} is not in eddy's {group}"
            );
            assert!(!folder.exists(), "{} left behind", folder.display());
        } else {
            assert!(
                !path.contains("/eddy-"),
                "the node's {controller} group is {path}, yet its memory is held by {how}"
            );
        }
    }
}

/// Whether folder `name` is one of the run's named `prefix`: eddy names its folders by
/// its pid, `eddy-<pid>` and, for each further sandbox of the process, `eddy-<pid>-<n>`.
fn is_eddys(name: &std::ffi::OsStr, prefix: &str) -> bool {
    let name = name.to_string_lossy();
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

/// The run's folders named `prefix` in `folder`.
fn eddys_in(folder: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| is_eddys(&entry.file_name(), prefix))
        .map(|entry| entry.path())
        .collect()
}

/// Where the node was, by its log: its groups, from its `hostile: cgroup` lines.
fn node_groups(log: &str) -> Vec<(&'static str, String)> {
    groups(
        log.lines()
            .filter_map(|l| l.strip_prefix("hostile: cgroup ")),
    )
}

/// The groups in the `memory` and `pids` hierarchies (and the v2 one, controller `""`) of
/// `/proc/<pid>/cgroup` lines, as (controller, path) pairs.
fn groups<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<(&'static str, String)> {
    lines
        .filter_map(|line| {
            let mut fields = line.splitn(3, ':').skip(1);
            let (controllers, path) = (fields.next()?, fields.next()?);
            let controller = ["memory", "pids", ""]
                .into_iter()
                .find(|c| controllers.split(',').any(|k| k == *c))?;
            Some((controller, path.to_owned()))
        })
        .collect()
}

/// The folders eddy (started by this process, so in its groups) makes its `eddy-<pid>`
/// folder in: this process's group in the v1 `memory` and `pids` hierarchies, and its
/// group and the root of the v2 hierarchy.
fn cgroup_parents() -> Vec<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut parents: Vec<PathBuf> = groups(own.lines())
        .into_iter()
        .filter_map(|(controller, path)| cgroup_folder(controller, &path))
        .collect();
    parents.extend(cgroup_folder("", "/"));
    parents
}

/// The folder of group `path` in the hierarchy of `controller` (`""`: the v2 hierarchy),
/// by `/proc/self/mountinfo`; `None` when it is not mounted.
fn cgroup_folder(controller: &str, path: &str) -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mounts.lines().find_map(|line| {
        let (before, after) = line.split_once(" - ")?;
        let fields: Vec<&str> = before.split(' ').collect();
        let after: Vec<&str> = after.split(' ').collect();
        let holds = match controller {
            "" => after.first() == Some(&"cgroup2"),
            c => after.first() == Some(&"cgroup") && after.get(2)?.split(',').any(|o| o == c),
        };
        let (root, mount_point) = (fields.get(3)?, fields.get(4)?);
        let relative = path.strip_prefix(root).unwrap_or(path);
        holds.then(|| Path::new(mount_point).join(relative.trim_start_matches('/')))
    })
}

/// A listener on the loopback for a node to try to reach.
fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    (listener, port)
}

/// Whether a connection reached `listener` (it is queued even if never accepted).
fn connected(listener: &TcpListener) -> bool {
    match listener.accept() {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(e) => panic!("accept: {e}"),
    }
}

/// The pid the daemonizing node's grandchild said it has.
fn daemon_pid(log: &str) -> u32 {
    log.lines()
        .find_map(|l| l.strip_prefix("hostile: daemon pid "))
        .and_then(|pid| pid.trim().parse().ok())
        .unwrap_or_else(|| panic!("no daemon pid in the node's log:\n{log}"))
}

/// Asserts that process `pid` is gone (or a zombie) within a few seconds.
fn assert_dies(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !is_gone(pid) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(Instant::now() < deadline, "process {pid} lives on: {stat}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The counts in the node's "fork failed after N" lines.
fn forks_before_failing(log: &str) -> Vec<u64> {
    log.lines()
        .filter_map(|l| l.strip_prefix("hostile: fork failed after "))
        .filter_map(|rest| rest.split(':').next()?.parse().ok())
        .collect()
}

/// Asserts that the sandbox stopped the run's node at a limit: the run is invalid, and the
/// summary and the crash's witness say `words`, stopped by the sandbox.
fn assert_stopped(run: &Run, words: &str) {
    let stdout = run.stdout();
    assert_eq!(run.code(), Some(1), "{}", run.all());
    assert!(
        stdout.contains(&format!("{words} at ")) && stdout.contains("(stopped by eddy's sandbox)"),
        "{stdout}"
    );
    assert!(run.crash().starts_with(words), "{}", run.crash());
}

#[test]
fn a_fork_bomb_is_stopped_at_the_process_limit() {
    let Some(user) = as_root("fork bomb") else {
        return;
    };
    let mark = marker("fork-bomb");
    let flags = ["--sandbox", "--process-limit", "32"];
    let run = Run::sim(user, "fork-bomb 100", &mark, &flags);
    let stdout = run.stdout();
    assert_stopped(&run, "n0 exceeded its limit of 32 processes and threads");
    let log = run.node_log();
    // The node asked for 100 processes; the kernel refused a fork below 32 (with the node
    // itself), whenever it said so before the watchdog stopped it.
    assert!(forks_before_failing(&log).iter().all(|&n| n < 32), "{log}");
    assert_reported(
        &run.results()["sandbox"],
        &stdout,
        &[("processes", 32)],
        &[("processes", "full"), ("containment", "full")],
    );
    assert_nothing_left(&run, &mark);
}

#[test]
fn a_memory_hog_is_stopped_at_the_memory_limit() {
    let Some(user) = as_root("memory hog") else {
        return;
    };
    let mark = marker("memory-hog");
    let flags = ["--sandbox", "--memory-limit", "64M"];
    let run = Run::sim(user, "memory-hog", &mark, &flags);
    let stdout = run.stdout();
    assert_stopped(&run, "n0 exceeded its 64 MiB memory limit");
    assert_reported(
        &run.results()["sandbox"],
        &stdout,
        &[("memory_bytes", 64 << 20)],
        &[("memory", "full"), ("containment", "full")],
    );
    assert_nothing_left(&run, &mark);
}

/// A node that tries to reach a listener on the loopback, run by `user`: no connection
/// arrives, the node says its connect failed, and it goes on serving. Returns the run.
fn connect_is_cut(user: User, test: &str) -> Run {
    let (listener, port) = listener();
    let mark = marker(test);
    let run = Run::sim(user, &format!("connect {port}"), &mark, &["--sandbox"]);
    assert!(!connected(&listener), "the node reached the listener");
    let log = run.node_log();
    assert!(log.contains("hostile: connect failed: "), "{log}");
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_nothing_left(&run, &mark);
    run
}

#[test]
fn a_node_killed_because_the_machine_ran_out_is_not_said_to_exceed_its_limit() {
    // eddy and its node in a group of 160 MiB, the node's own limit the default 1 GiB: the
    // kernel kills the hog when the group above runs out, which is not the node's limit.
    let Some(user) = as_root("machine out of memory") else {
        return;
    };
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let own_memory = own
        .lines()
        .find_map(|l| {
            let mut f = l.splitn(3, ':').skip(1);
            (f.next()?.split(',').any(|c| c == "memory")).then(|| f.next().unwrap().to_owned())
        })
        .expect("a memory hierarchy");
    let Some(parent) = cgroup_folder("memory", &own_memory) else {
        eprintln!("skipped: no cgroup v1 memory hierarchy here");
        return;
    };
    let small = parent.join(format!("eddy-test-small-{}", std::process::id()));
    std::fs::create_dir(&small).unwrap();
    std::fs::write(
        small.join("memory.limit_in_bytes"),
        (160u64 << 20).to_string(),
    )
    .unwrap();
    let procs = std::ffi::CString::new(
        small
            .join("cgroup.procs")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    let mark = marker("machine-oom");
    let dir = folder(user);
    let store = dir.path().display().to_string();
    let bin = format!("python3 {} memory-hog {mark}", fixture("hostile.py"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_eddy"));
    command
        .args([
            "test",
            "-w",
            "echo",
            "--node-count",
            "1",
            "--time-limit",
            "1",
        ])
        .args(["--bin", &bin, "--store", &store, "--sandbox"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec the closure makes system calls only (no allocation:
    // the test's other threads may hold the allocator's lock).
    unsafe {
        command.pre_exec(move || {
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
            let joined = fd >= 0 && libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
            libc::close(fd);
            if joined {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let out = command.output().unwrap();
    let run = Run { out, pid: 0, dir };
    let crash = run.crash();
    let _ = std::fs::remove_dir(&small);
    assert!(
        crash.starts_with(
            "n0 was killed by the kernel's out-of-memory killer while under its memory limit"
        ),
        "{crash}\n{}",
        run.all()
    );
    assert!(crash.contains("(not killed by eddy)"), "{crash}");
    assert!(leftovers(&mark).is_empty(), "{:?}", leftovers(&mark));
}

#[test]
fn a_connection_to_the_loopback_does_not_get_through() {
    let Some(user) = as_root("connect") else {
        return;
    };
    let run = connect_is_cut(user, "connect");
    assert_reported(
        &run.results()["sandbox"],
        &run.stdout(),
        &[],
        &[
            ("network", "full"),
            ("memory", "full"),
            ("processes", "full"),
            ("filesystem", "full"),
            ("containment", "full"),
            ("signals", "full"),
            ("privileges", "full"),
        ],
    );
}

/// A node that writes to a file outside its folders (in a folder `user` may write to), run
/// by `user`: the file is not written, the node's own temp folder is writable, and its
/// folders are gone afterwards.
fn writes_outside_are_denied(user: User, test: &str) {
    let outside = tempfile::tempdir().unwrap();
    open_to_all(outside.path());
    let file = outside.path().join("escaped");
    let mark = marker(test);
    let mode = format!("write-outside {}", file.display());
    let run = Run::sim(user, &mode, &mark, &["--sandbox"]);
    assert!(!file.exists(), "the node wrote {}", file.display());
    let log = run.node_log();
    assert!(log.contains("hostile: write failed: "), "{log}");
    assert!(
        log.contains("hostile: wrote inside its temp folder"),
        "{log}"
    );
    assert_eq!(run.code(), Some(0), "{}", run.all());
    let sandbox = run.results()["sandbox"].clone();
    assert_reported(&sandbox, &run.stdout(), &[], &[("filesystem", "full")]);
    assert_nothing_left(&run, &mark);
}

#[test]
fn a_write_outside_its_folders_is_denied() {
    if let Some(user) = as_root("write outside") {
        writes_outside_are_denied(user, "write-outside");
    }
}

/// A node that ignores SIGTERM and starts a grandchild that leaves its process group and
/// ignores SIGTERM too, run by `user`: the grandchild is dead after eddy exits.
fn a_daemon_dies_with_its_node(user: User, test: &str) -> Run {
    let mark = marker(test);
    let run = Run::sim(user, "daemonize", &mark, &["--sandbox"]);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_dies(daemon_pid(&run.node_log()));
    assert_nothing_left(&run, &mark);
    run
}

#[test]
fn a_daemonized_child_that_ignores_sigterm_dies_with_its_node() {
    let Some(user) = as_root("daemonize") else {
        return;
    };
    let run = a_daemon_dies_with_its_node(user, "daemonize");
    assert_reported(
        &run.results()["sandbox"],
        &run.stdout(),
        &[],
        &[("containment", "full")],
    );
}

/// A node that sends SIGKILL to its parent, run by `user`: eddy lives on to finish the
/// run, and the node says its kill failed.
fn eddy_outlives_a_node_that_kills_it(user: User, test: &str) {
    let mark = marker(test);
    let run = Run::sim(user, "kill-parent", &mark, &["--sandbox"]);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    let log = run.node_log();
    assert!(log.contains("hostile: kill failed: "), "{log}");
    let sandbox = run.results()["sandbox"].clone();
    assert_reported(&sandbox, &run.stdout(), &[], &[("signals", "full")]);
    assert_nothing_left(&run, &mark);
}

#[test]
fn a_unix_socket_named_by_a_path_and_vsock_are_out_of_reach() {
    // A network namespace parts neither Unix sockets named by a path (a daemon's control
    // socket) nor vsock (a virtual machine's host): the seccomp filter refuses the node
    // those sockets, and leaves it its socketpairs.
    let Some(user) = as_root("unix socket") else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("daemon.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let mode = format!("connect-unix {}", path.display());
    let mark = marker("connect-unix");
    let run = Run::sim(user, &mode, &mark, &["--sandbox"]);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    let log = run.node_log();
    assert!(log.contains("hostile: connect failed: [Errno 13]"), "{log}");
    assert!(
        log.contains("hostile: vsock socket refused: [Errno 13]"),
        "{log}"
    );
    assert!(log.contains("hostile: socketpair works: True"), "{log}");
    assert!(listener.accept().is_err(), "the node reached the socket");
    assert_nothing_left(&run, &mark);
    // Unconfined, the same node gets through.
    let run = Run::sim(User::Own, &mode, &mark, &[]);
    assert!(
        run.node_log().contains("hostile: connected"),
        "{}",
        run.node_log()
    );
    assert!(listener.accept().is_ok(), "{}", run.node_log());
}

#[test]
fn cpu_time_file_size_and_disk_limits_stop_a_node_and_are_told() {
    let Some(user) = as_root("cpu and file size") else {
        return;
    };
    // CPython ignores SIGXFSZ: its write fails with EFBIG and it exits by itself, which
    // eddy tells from its file at the limit, not as a stop of its own.
    for (mode, flags, words, by) in [
        (
            "cpu-hog",
            ["--sandbox", "--cpu-limit", "1"],
            "n0 exceeded its CPU time limit of 1 s",
            "(stopped by eddy's sandbox)",
        ),
        (
            "big-file",
            ["--sandbox", "--file-size-limit", "1M"],
            "n0 failed after a write reached its 1 MiB file size limit",
            "(not killed by eddy)",
        ),
        (
            "fill-disk",
            ["--sandbox", "--disk-limit", "8M"],
            "n0 exceeded its 8 MiB disk limit (its files",
            "(stopped by eddy's sandbox)",
        ),
        (
            "hide-files",
            ["--sandbox", "--disk-limit", "8M"],
            "n0 exceeded its 8 MiB disk limit: its files beneath its data and temp folders could not be added up",
            "(stopped by eddy's sandbox)",
        ),
    ] {
        let mark = marker(mode);
        let run = Run::sim(user, mode, &mark, &flags);
        assert_eq!(run.code(), Some(1), "{mode}: {}", run.all());
        assert!(run.crash().starts_with(words), "{mode}: {}", run.crash());
        assert!(run.stdout().contains(by), "{mode}: {}", run.stdout());
        assert_nothing_left(&run, &mark);
    }
}

/// The System V shared memory keys of the host's IPC namespace.
fn shm_keys() -> Vec<i64> {
    std::fs::read_to_string("/proc/sysvipc/shm")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn a_root_node_can_change_no_file_keep_no_ipc_object_and_see_no_secret() {
    // A node run as root, its capabilities dropped, still owns root's files: only
    // read-only mounts keep it from their mode and times. Its shared memory must die with
    // it, its keyring calls and datagram socketpairs are refused, and eddy's environment
    // stays eddy's.
    let Some(user) = as_root("escapes") else {
        return;
    };
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("roots-file");
    std::fs::write(&target, "mine\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let key = 0x4564_0000 + (std::process::id() as i64 & 0xffff);
    let mode = format!("escapes {} {key}", target.display());
    let mark = marker("escapes");
    let secret = [("EDDY_TEST_SECRET", "hunter2")];
    let run = Run::sim_with_env(user, &mode, &mark, &["--sandbox"], &secret);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    let log = run.node_log();
    for refused in ["chmod", "utime", "add_key", "dgram-socketpair"] {
        assert!(
            log.contains(&format!("hostile: {refused} refused: ")),
            "{refused}: {log}"
        );
    }
    assert!(log.contains("hostile: secret unseen"), "{log}");
    // It made its segment, in an IPC namespace of its own, gone with it.
    assert!(log.contains("hostile: shmget done"), "{log}");
    assert!(!shm_keys().contains(&key), "the node's segment outlived it");
    let meta = std::fs::metadata(&target).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o644);
    assert!(meta.modified().unwrap() > std::time::UNIX_EPOCH);
    assert_nothing_left(&run, &mark);
    // A variable named with --sandbox-env does reach it.
    let flags = ["--sandbox", "--sandbox-env", "EDDY_TEST_SECRET"];
    let run = Run::sim_with_env(user, &mode, &mark, &flags, &secret);
    assert!(
        run.node_log().contains("hostile: secret seen"),
        "{}",
        run.node_log()
    );
    // Unconfined, the same node changes the file, leaves its segment and sees the secret.
    let run = Run::sim_with_env(User::Own, &mode, &mark, &[], &secret);
    let log = run.node_log();
    let left = shm_keys().contains(&key);
    let _ = Command::new("ipcrm")
        .args(["-M", &key.to_string()])
        .status();
    assert!(log.contains("hostile: chmod done"), "{log}");
    assert!(log.contains("hostile: secret seen"), "{log}");
    assert!(left, "{log}");
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777,
        0o4777
    );
}

#[test]
fn a_node_cannot_kill_eddy() {
    if let Some(user) = as_root("kill parent") {
        eddy_outlives_a_node_that_kills_it(user, "kill-parent");
    }
}

#[test]
fn without_the_sandbox_the_same_nodes_escape() {
    // What the sandboxed runs show (no file, no connection) is the sandbox's doing: the
    // same nodes, unconfined, write the file and reach the listener.
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("escaped");
    let mark = marker("unconfined");
    let mode = format!("write-outside {}", file.display());
    let run = Run::sim(User::Own, &mode, &mark, &[]);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_eq!(
        std::fs::read_to_string(&file).ok().as_deref(),
        Some("escaped\n"),
        "{}",
        run.node_log()
    );
    assert!(run.results()["sandbox"].is_null());
    assert!(!run.stdout().contains("sandbox:"), "{}", run.stdout());
    let (listener, port) = listener();
    let run = Run::sim(User::Own, &format!("connect {port}"), &mark, &[]);
    assert!(
        run.node_log().contains("hostile: connected"),
        "{}",
        run.node_log()
    );
    assert!(connected(&listener), "{}", run.node_log());
    assert_nothing_left(&run, &mark);
}

#[test]
fn cases_stops_a_fork_bomb_and_says_so() {
    let Some(user) = as_root("cases fork bomb") else {
        return;
    };
    let dir = folder(user);
    let case = dir.path().join("bomb.case");
    std::fs::write(
        &case,
        r#"case: a fork bomb
input:
{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}
{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":2,"echo":"hi"}}
expected:
{"src": "n1", "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1}}
{"src": "n1", "dest": "c1", "body": {"type": "echo_ok", "in_reply_to": 2, "echo": "hi"}}
"#,
    )
    .unwrap();
    let json = dir.path().join("cases.json");
    let mark = marker("cases-fork-bomb");
    let bin = format!("python3 {} fork-bomb 100 {mark}", fixture("hostile.py"));
    let args = [
        "cases",
        "--sandbox",
        "--process-limit",
        "32",
        "--json",
        json.to_str().unwrap(),
        "--bin",
        &bin,
        case.to_str().unwrap(),
    ];
    let run = Run::eddy(user, dir, &args);
    let stdout = run.stdout();
    assert_eq!(run.code(), Some(1), "{}", run.all());
    let words =
        "the node exceeded its limit of 32 processes and threads before answering every request";
    assert!(stdout.contains(&format!("node: {words}")), "{stdout}");
    assert!(stdout.contains("0 passed, 1 failed, 0 skipped"), "{stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["cases"][0]["status"], "fail", "{report}");
    assert_eq!(report["cases"][0]["failures"][0]["summary"], words);
    assert_reported(
        &report["sandbox"],
        &stdout,
        &[("processes", 32)],
        &[("processes", "full"), ("containment", "full")],
    );
    assert_nothing_left(&run, &mark);
}

#[test]
fn limits_need_the_sandbox_and_protections_are_known_words() {
    let case = "cases/seed/000-lease-1.case";
    let runs: [(&[&str], &str); 4] = [
        (
            &["test", "-w", "echo", "--memory-limit", "64M"],
            "--sandbox",
        ),
        (&["cases", "--memory-limit", "64M", case], "--sandbox"),
        (&["cases", "--process-limit", "32", case], "--sandbox"),
        (
            &[
                "test",
                "-w",
                "echo",
                "--sandbox",
                "--sandbox-require",
                "bogus",
            ],
            "invalid value 'bogus' for '--sandbox-require <LIST>'",
        ),
    ];
    for (args, says) in runs {
        let out = support::eddy(args);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
    }
}

/// The levels an unprivileged run has: without control groups (none for `nobody`) memory
/// and processes are only held per process, and the node's own user, network and process
/// namespaces give the rest; an own user may have control groups delegated to it, so only
/// the namespaces' part is expected of it.
fn unprivileged_levels(user: User) -> Vec<(&'static str, &'static str)> {
    let mut levels = vec![
        ("network", "full"),
        ("filesystem", "full"),
        ("containment", "full"),
        ("signals", "full"),
        ("privileges", "full"),
    ];
    if user == User::Nobody {
        levels.extend([("memory", "partial"), ("processes", "partial")]);
    }
    levels
}

#[test]
fn unprivileged_the_network_is_cut_and_the_report_says_what_holds() {
    let Some(user) = unprivileged("unprivileged connect") else {
        return;
    };
    let run = connect_is_cut(user, "nobody-connect");
    let sandbox = run.results()["sandbox"].clone();
    assert_reported(&sandbox, &run.stdout(), &[], &unprivileged_levels(user));
    let how = |name: &str| {
        sandbox["protections"][name]["how"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(how("network").contains("network namespace"), "{sandbox}");
    assert!(how("privileges").contains("unprivileged user"), "{sandbox}");
    if user == User::Nobody {
        assert!(
            how("containment").contains("process namespace"),
            "{sandbox}"
        );
        assert!(how("memory").contains("RLIMIT_DATA"), "{sandbox}");
        assert!(how("processes").contains("RLIMIT_NPROC"), "{sandbox}");
    }
}

#[test]
fn unprivileged_writes_outside_are_denied() {
    if let Some(user) = unprivileged("unprivileged write outside") {
        writes_outside_are_denied(user, "nobody-write-outside");
    }
}

#[test]
fn unprivileged_a_daemonized_child_dies_with_its_node() {
    let Some(user) = unprivileged("unprivileged daemonize") else {
        return;
    };
    let run = a_daemon_dies_with_its_node(user, "nobody-daemonize");
    let sandbox = run.results()["sandbox"].clone();
    assert_reported(&sandbox, &run.stdout(), &[], &unprivileged_levels(user));
}

#[test]
fn unprivileged_a_node_cannot_kill_eddy() {
    if let Some(user) = unprivileged("unprivileged kill parent") {
        eddy_outlives_a_node_that_kills_it(user, "nobody-kill-parent");
    }
}

/// The hostile node in `mode` run sandboxed by `user`, when `protection` is held by its
/// per-process stand-in there (`partial`); `None`, said on stderr, when it is not.
fn with_stand_in(user: User, mode: &str, mark: &str, protection: &str) -> Option<Run> {
    let run = Run::sim(user, mode, mark, &["--sandbox"]);
    let sandbox = run.results()["sandbox"].clone();
    if sandbox["protections"][protection]["level"] != "partial" {
        eprintln!("{mode}: skipped: {protection} is not held by a stand-in here: {sandbox}");
        return None;
    }
    Some(run)
}

#[test]
fn unprivileged_a_fork_bomb_is_bounded_and_killed_with_its_node() {
    // Without control groups the process limit cannot be lowered (giving it demands it in
    // full), so the bomb meets the default 256 (RLIMIT_NPROC in the node's own user
    // namespace): forks fail there, and the node's process namespace takes every one of
    // them down with it.
    let Some(user) = unprivileged("unprivileged fork bomb") else {
        return;
    };
    let mark = marker("nobody-fork-bomb");
    let Some(run) = with_stand_in(user, "fork-bomb 300", &mark, "processes") else {
        return;
    };
    let log = run.node_log();
    let failed = forks_before_failing(&log);
    assert!(!failed.is_empty(), "no fork failed:\n{log}");
    assert!(failed.iter().all(|&n| n < 256), "{log}");
    assert_nothing_left(&run, &mark);
}

#[test]
fn unprivileged_a_memory_hog_fails_its_allocations() {
    // The memory limit cannot be lowered either: the hog meets the default 1 GiB
    // (RLIMIT_DATA), its allocation fails, and it exits on its own.
    let Some(user) = unprivileged("unprivileged memory hog") else {
        return;
    };
    let mark = marker("nobody-memory-hog");
    let Some(run) = with_stand_in(user, "memory-hog", &mark, "memory") else {
        return;
    };
    assert_eq!(run.code(), Some(1), "{}", run.all());
    assert!(run.node_log().contains("MemoryError"), "{}", run.node_log());
    assert!(
        run.crash().starts_with("n0 exited with code 1"),
        "{}",
        run.crash()
    );
    assert_nothing_left(&run, &mark);
}

#[test]
fn unprivileged_a_demanded_protection_that_cannot_be_had_is_exit_64() {
    let Some(user) = unprivileged("unprivileged sandbox-require") else {
        return;
    };
    if user != User::Nobody {
        eprintln!("unprivileged sandbox-require: skipped: needs root, to run as nobody (whom no control group is delegated to)");
        return;
    }
    let mark = marker("nobody-require");
    let run = Run::sim(
        user,
        "benign",
        &mark,
        &["--sandbox", "--sandbox-require", "memory"],
    );
    assert_eq!(run.code(), Some(64), "{}", run.all());
    let stderr = String::from_utf8_lossy(&run.out.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "eddy test: --sandbox cannot give the memory protection on this machine: "
        ),
        "{stderr}"
    );
    assert!(
        !run.dir.path().join("latest").exists(),
        "a node was run:\n{}",
        run.all()
    );
    assert_nothing_left(&run, &mark);
}
