//! What eddy cannot write is an I/O failure, exit status 74 (sysexits' `EX_IOERR`), not
//! bad usage (64): a store, or a report file, under a regular file. Each says so in one line
//! on stderr, after `eddy <command>: `, and leaves no node running.

mod support;

use std::path::PathBuf;
use std::process::Output;
use support::{eddy, fixture, leftovers, marker, text};

/// A regular file in a fresh folder: nothing can be created under it.
fn regular_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder\n").unwrap();
    (dir, file)
}

/// Exit 74, and stderr is the one line `prefix...`.
fn assert_io_failure(out: &Output, prefix: &str) {
    assert_eq!(out.status.code(), Some(74), "{}", text(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {}", text(out));
    assert!(stderr.starts_with(prefix), "{prefix:?} in: {}", text(out));
}

#[test]
fn a_store_that_cannot_be_written_exits_74_and_leaves_no_node() {
    let (_dir, file) = regular_file();
    let store = file.join("store");
    let mark = marker("unwritable-store");
    let bin = format!("python3 {} {mark}", fixture("python_counter.py"));
    for count in ["1", "2"] {
        let out = eddy(&[
            "test",
            "-w",
            "pn-counter",
            "--bin",
            &bin,
            "--time-limit",
            "1",
            "--seed",
            "1",
            "--test-count",
            count,
            "--store",
            store.to_str().unwrap(),
        ]);
        assert_io_failure(&out, "eddy test: cannot write the store: ");
        assert_eq!(leftovers(&mark), Vec::<u32>::new(), "--test-count {count}");
    }
    assert!(file.is_file() && !store.exists());
}

#[test]
fn a_report_that_cannot_be_written_exits_74() {
    let (_dir, file) = regular_file();
    let report = file.join("r.xml");
    let out = eddy(&[
        "cases",
        "--junit",
        report.to_str().unwrap(),
        "cases/seed/000-lease-1.case",
    ]);
    assert_io_failure(
        &out,
        &format!("eddy cases: cannot write {}: ", report.display()),
    );
}
