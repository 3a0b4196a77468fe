//! `eddy cases` end to end: the seed suite, the seed skeletons, generated cases, an
//! independent Python node, reports, and usage errors.

mod support;

use support::{eddy, eddy_cases_on_fixture, text};

#[test]
fn seed_cases_pass_on_the_reference_node() {
    let out = eddy(&["cases", "cases/seed"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("8 passed, 0 failed"), "{all}");
}

#[test]
fn the_seed_000_skeleton_fails_each_case_with_its_reason_and_credit() {
    let out = eddy_cases_on_fixture(
        "seed_000_main.py",
        &[
            "--timeout",
            "1000",
            "cases/seed/000-lease-1.case",
            "cases/seed/000-lease-2.case",
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("Acquire lease returns expires_at  [1/1 lines"),
        "credit for init_ok: {all}"
    );
    assert!(
        all.contains("request on input line 3 (`check_lease`, msg_id 3 from c1) got no reply"),
        "{all}"
    );
    assert!(all.contains("0 passed, 2 failed"), "{all}");
}

#[test]
fn the_echo_skeletons_never_answer_init_and_cannot_run() {
    let out = eddy_cases_on_fixture(
        "seed_echo_main.py",
        &[
            "--timeout",
            "500",
            "cases/seed/001-lease-read-2.case",
            "cases/seed/004-pn-counter-2.case",
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("the node never answered init"), "{all}");
    assert!(
        all.contains(r#"output line 1: {"src":"c0","dest":"n1","body":{"type":"init""#),
        "shows what came: {all}"
    );
}

#[test]
fn thousands_of_generated_cases_pass_on_the_reference_node() {
    let out = eddy(&["cases", "--generate", "300", "--seed", "7"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("1500 passed, 0 failed"), "{all}");
}

#[test]
fn an_independent_python_node_passes_generated_counter_cases() {
    let out = eddy_cases_on_fixture(
        "python_counter.py",
        &[
            "--generate",
            "25",
            "--seed",
            "3",
            "--workload",
            "pn-counter",
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("25 passed, 0 failed"), "{all}");
}

#[test]
fn junit_and_json_reports_describe_every_case() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let json = dir.path().join("r.json");
    let out = eddy_cases_on_fixture(
        "seed_000_main.py",
        &[
            "--timeout",
            "500",
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "cases/seed/000-lease-1.case",
            "cases/seed/001-lease-read-2.case",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    assert_eq!(report.tests, 2);
    assert_eq!(report.failures, 2);
    assert!(xml.contains("got no reply"), "{xml}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(record["summary"]["failed"], 2);
    assert_eq!(record["cases"][0]["failures"][0]["rule"], "one-reply");
    assert_eq!(record["cases"][1]["matched"], 1);
}

#[test]
fn usage_errors_exit_64_with_one_line() {
    for args in [
        vec!["cases", "--no-such-flag"],
        vec!["cases", "no/such/path"],
        vec!["cases", "--bin", "python3 'unclosed"],
        vec!["cases", "--seed", "3"],
        vec!["frobnicate"],
        vec!["test", "-w", "lease-read", "--lease-ms", "0"],
        vec!["test", "-w", "lease-read", "--election-ms", "0"],
        vec!["test", "-w", "lease", "--max-drift-ms", "3600001"],
    ] {
        let out = eddy(&args);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", text(&out));
        assert!(!out.stderr.is_empty(), "{args:?} says why");
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.case");
    std::fs::write(&bad, "case: x\ninput:\n{}\nexpected:\n{not json\n").unwrap();
    let out = eddy(&["cases", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        text(&out).contains("bad.case:5: expected line is not JSON"),
        "{}",
        text(&out)
    );
}

#[test]
fn generated_cases_can_be_saved_and_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().to_str().unwrap();
    let out = eddy(&[
        "cases",
        "--generate",
        "3",
        "--seed",
        "11",
        "--workload",
        "heartbeat",
        "--save-generated",
        saved,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let again = eddy(&["cases", &format!("{saved}/heartbeat.case")]);
    assert!(
        text(&again).contains("3 passed, 0 failed"),
        "{}",
        text(&again)
    );
}
