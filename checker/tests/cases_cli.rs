//! `eddy cases` end to end: the seed suite, the seed skeletons, generated cases, an
//! independent Python node, a node written the Maelstrom way, the two contracts, how input
//! is fed and matched, reports, and usage and case-file errors.

mod support;

use support::{eddy, eddy_cases_on_fixture, fixture, text};

/// The bundled cases: how many there are, and how many need `--contract seed`.
const BUNDLED: usize = 48;

/// How many workloads `--generate N` generates N cases for: every registered one.
fn workloads() -> usize {
    eddy::workload::Workload::all().count()
}
const SEED_ONLY: usize = 17;

#[test]
fn seed_cases_pass_on_the_reference_node() {
    let out = eddy(&["cases", "cases/seed"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("6 passed, 0 failed, 2 skipped"), "{all}");
    let out = eddy(&["cases", "--contract", "seed", "cases/seed"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("8 passed, 0 failed, 0 skipped"), "{all}");
}

#[test]
fn the_reference_passes_every_bundled_case_under_both_contracts() {
    let out = eddy(&["cases"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let passed = BUNDLED - SEED_ONLY;
    assert!(
        all.contains(&format!("{passed} passed, 0 failed, {SEED_ONLY} skipped")),
        "{all}"
    );
    assert!(
        all.contains("SKIP cases/protocol/envelope.case#3  an unknown message type gets error 10  (needs --contract seed)"),
        "{all}"
    );
    let out = eddy(&["cases", "--contract", "seed"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains(&format!("{BUNDLED} passed, 0 failed, 0 skipped")),
        "{all}"
    );
}

#[test]
fn the_seed_000_skeleton_fails_each_case_with_its_reason_and_credit() {
    let out = eddy_cases_on_fixture(
        "seed_000_main.py",
        &[
            "--timeout",
            "5000",
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
        all.contains("request on input line 2 (`acquire_lease`, msg_id 2 from c1) got no reply"),
        "{all}"
    );
    // A line waits for the replies to earlier requests: check_lease was never written, and
    // is not charged with having no reply.
    assert!(
        all.contains("input line 3 was not written: a line waits for the replies to earlier requests, and input line 2 (`acquire_lease`, msg_id 2 from c1) got none"),
        "{all}"
    );
    assert!(
        !all.contains("(`check_lease`, msg_id 3 from c1) got no reply"),
        "{all}"
    );
    assert!(all.contains("0 passed, 2 failed"), "{all}");
}

#[test]
fn the_echo_skeletons_never_answer_init_and_cannot_run() {
    let out = eddy_cases_on_fixture(
        "seed_echo_main.py",
        &[
            // Python may take seconds to start on a loaded machine: the timeout is generous.
            "--timeout",
            "5000",
            "cases/seed/001-lease-read-2.case",
            "cases/seed/004-pn-counter-2.case",
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("it never answered init"), "{all}");
    assert!(
        all.contains(r#"it wrote: {"src":"c0","dest":"n1","body":{"type":"init""#),
        "shows what came: {all}"
    );
}

#[test]
fn thousands_of_generated_cases_pass_on_the_reference_node() {
    let out = eddy(&[
        "cases",
        "--contract",
        "seed",
        "--generate",
        "80",
        "--seed",
        "7",
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let passed = format!("{} passed, 0 failed, 0 skipped", 80 * workloads());
    assert!(all.contains(&passed), "{all}");
    let out = eddy(&["cases", "--generate", "25", "--seed", "7"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let passed = format!("{} passed, 0 failed, 0 skipped", 25 * workloads());
    assert!(all.contains(&passed), "{all}");
}

#[test]
fn a_maelstrom_workload_gets_generated_cases_that_pass_on_the_reference() {
    // The reference serves broadcast only pinned (its `read` is the counter's in `auto`
    // mode): each generated case pins it to the case's workload.
    let out = eddy(&[
        "cases",
        "--generate",
        "20",
        "--seed",
        "7",
        "-w",
        "broadcast",
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("20 passed, 0 failed, 0 skipped"), "{all}");
}

#[test]
fn an_independent_python_node_passes_generated_counter_cases() {
    let out = eddy_cases_on_fixture(
        "python_counter.py",
        &[
            "--contract",
            "seed",
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
            // Python may take seconds to start on a loaded machine: the timeout is generous.
            "--timeout",
            "5000",
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
    assert_eq!(record["contract"], "maelstrom");
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
        vec!["cases", "--contract", "jepsen"],
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

/// `eddy cases --bin "python3 <fixture> <options>"` followed by `args`.
fn eddy_cases_on(bin: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["cases", "--bin", bin];
    all.extend_from_slice(args);
    eddy(&all)
}

fn maelstrom_node(options: &str) -> String {
    format!("python3 {} {options}", fixture("cases_maelstrom_node.py"))
}

/// Writes `text` as `name` in `dir` and returns its path.
fn case_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_node_written_the_maelstrom_way_passes_every_bundled_case_it_fits() {
    // Its msg_ids start at 1, it answers check_lease late from a timer thread, gossips in
    // its own format and exits on a message type it does not know.
    let out = eddy_cases_on(&maelstrom_node(""), &["cases"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let passed = BUNDLED - SEED_ONLY;
    assert!(
        all.contains(&format!("{passed} passed, 0 failed, {SEED_ONLY} skipped")),
        "{all}"
    );
    for case in [
        "PASS cases/protocol/envelope.case#1  init is answered with init_ok and msg_id 0",
        "PASS cases/seed/000-lease-2.case  Check lease shows valid",
        "PASS cases/seed/001-lease-read-2.case  Safe lease configuration",
        "PASS cases/seed/003-heartbeat-1.case  Heartbeat registers server as alive",
        "PASS cases/pn-counter/counter.case#1  adds of both signs sum up",
        "PASS cases/lease/lease.case#4  the lease expires on time",
        "PASS cases/lease/lease.case#8  a node of a cluster that cannot reach a majority refuses with error 11",
        "PASS cases/heartbeat/master.case#3  after a death the lost replica is ordered on a live non-holder",
        "PASS cases/raft/kv.case#4  a cas chain",
        "SKIP cases/seed/004-pn-counter-1.case  Gossip replicates counter state  (needs --contract seed)",
    ] {
        assert!(all.contains(case), "{case}:\n{all}");
    }
}

#[test]
fn a_node_written_the_maelstrom_way_passes_generated_cases_without_seed_steps() {
    // Every workload it serves: all but g-set and broadcast, whose `read` means another
    // thing than a counter's (no one node serves both).
    for workload in
        eddy::workload::Workload::all().filter(|w| !["g-set", "broadcast"].contains(&w.name()))
    {
        let args = ["--generate", "8", "--seed", "21", "-w", workload.name()];
        let out = eddy_cases_on(&maelstrom_node(""), &args);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{workload}: {all}");
        assert!(
            all.contains("8 passed, 0 failed, 0 skipped"),
            "{workload}: {all}"
        );
    }
}

#[test]
fn a_node_written_the_maelstrom_way_breaks_the_seed_contract_with_reasons() {
    let out = eddy_cases_on(&maelstrom_node(""), &["--contract", "seed", "cases/seed"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    // Its numbering starts at 1, not 0.
    assert!(
        all.contains("expected line 1 (`init_ok`) not found"),
        "{all}"
    );
    assert!(all.contains("`body.msg_id`: expected 0, got 1"), "{all}");
    // It exits on gossip_status, an eddy-only request, as Maelstrom's libraries do.
    assert!(
        all.contains("the node exited with code 1 before answering every request"),
        "{all}"
    );
    assert!(all.contains("stderr: No handler for"), "{all}");
    assert!(all.contains("0 passed, 8 failed, 0 skipped"), "{all}");
}

const CONCURRENT_CASE: &str = r#"case: two clients at once
HEADERS
input:
{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}
{"src":"c1","dest":"n1","body":{"type":"check_lease","msg_id":2}}
{"src":"c2","dest":"n1","body":{"type":"read","msg_id":3}}
expected:
{"src": "n1", "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1}}
{"src": "n1", "dest": "c1", "body": {"type": "check_lease_ok", "in_reply_to": 2, "valid": false}}
{"src": "n1", "dest": "c2", "body": {"type": "read_ok", "in_reply_to": 3, "value": 0}}
"#;

#[test]
fn replies_match_in_any_order_unless_the_case_asks_for_order() {
    let dir = tempfile::tempdir().unwrap();
    let node = maelstrom_node("--check-delay-ms 300");
    let run = |name: &str, headers: &str| {
        let path = case_file(&dir, name, &CONCURRENT_CASE.replace("HEADERS", headers));
        let out = eddy_cases_on(&node, &[&path]);
        (out.status.code(), text(&out))
    };
    // Both clients' requests are in flight together; the late check_lease_ok comes after
    // read_ok, and the expected lines match in any order.
    let (code, all) = run("any-order.case", "concurrent: true");
    assert_eq!(code, Some(0), "{all}");
    // Asked for order, the same output fails, showing the line that came.
    let (code, all) = run("ordered.case", "concurrent: true\nordered: true");
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains("expected-line: expected line 3 (`read_ok`) not found after output line 3"),
        "{all}"
    );
    assert!(all.contains("got: no further output"), "{all}");
    // One request in flight at a time (the default), replies come in the case's order.
    let (code, all) = run("sequential.case", "ordered: true");
    assert_eq!(code, Some(0), "{all}");
}

#[test]
fn unordered_failures_show_the_closest_line() {
    let dir = tempfile::tempdir().unwrap();
    let text_of_case = CONCURRENT_CASE
        .replace("HEADERS", "concurrent: true")
        .replace(r#""value": 0"#, r#""value": 7"#);
    let path = case_file(&dir, "wrong.case", &text_of_case);
    let out = eddy_cases_on(&maelstrom_node(""), &[&path]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("expected line 3 (`read_ok`) not found"),
        "{all}"
    );
    assert!(all.contains("closest: output line"), "{all}");
    assert!(all.contains("`body.value`: expected 7, got 0"), "{all}");
}

#[test]
fn a_sleep_window_starts_when_init_is_answered() {
    // The node takes a second to answer init. The window (a 3000 ms lease, checked 1000 ms
    // after it was granted) is measured from then: counted from spawn, the check would
    // come at once and find about 3000 ms left.
    let dir = tempfile::tempdir().unwrap();
    let path = case_file(
        &dir,
        "slow-init.case",
        r#"case: a window after a slow start
input:
{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}
{"src":"c1","dest":"n1","body":{"type":"acquire_lease","msg_id":2,"duration_ms":3000}}
sleep 1000
{"src":"c1","dest":"n1","body":{"type":"check_lease","msg_id":3}}
expected:
{"src": "n1", "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1}}
{"src": "n1", "dest": "c1", "body": {"type": "check_lease_ok", "in_reply_to": 3, "valid": true, "remaining_ms": {"$range": [1000, 2100]}}}
"#,
    );
    let out = eddy_cases_on(
        &maelstrom_node("--init-delay-ms 1000 --check-delay-ms 0"),
        &[&path],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("1 passed, 0 failed"), "{all}");
}

#[test]
fn malformed_cases_exit_64_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let init = r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}"#;
    for (name, text_of_case, want) in [
        (
            "matcher.case",
            format!("case: x\ninput:\n{init}\nexpected:\n{{\"src\": \"n1\", \"body\": {{\"msg_id\": {{\"$positive\": true}}}}}}\n"),
            "matcher.case:5: expected line: `body.msg_id`: unknown matcher `$positive`",
        ),
        (
            "empty.case",
            format!("# nothing expected\ncase: x\ninput:\n{init}\n"),
            "empty.case:2: case \"x\" has no expected lines",
        ),
        (
            "header.case",
            format!("case: x\nretries: 2\ninput:\n{init}\nexpected:\n{{}}\n"),
            "header.case:2: unknown header `retries:`",
        ),
    ] {
        let path = case_file(&dir, name, &text_of_case);
        let out = eddy(&["cases", &path]);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(64), "{name}: {all}");
        assert!(all.contains(want), "{name}: {all}");
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1, "{all}");
        assert!(out.stdout.is_empty(), "nothing ran: {all}");
    }
}

#[test]
fn seed_only_cases_alone_are_a_usage_error_under_maelstrom() {
    let out = eddy(&["cases", "cases/seed/004-pn-counter-1.case"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(64), "{all}");
    assert!(
        all.contains("all 1 cases test seed-only rules and needs --contract seed"),
        "{all}"
    );
}

#[test]
fn skipped_cases_are_counted_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let json = dir.path().join("r.json");
    let out = eddy(&[
        "cases",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "cases/protocol",
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("eddy cases: 7 cases against"), "{all}");
    assert!(
        all.ends_with(
            "\n1 passed, 0 failed, 6 skipped\n\
             6 skipped: they test seed-only rules; --contract seed runs them\n"
        ),
        "{all}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    assert_eq!(report.tests, 7);
    assert_eq!(report.failures, 0);
    assert_eq!(report.test_suites[0].skipped, 6);
    assert!(xml.contains("needs --contract seed"), "{xml}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(record["summary"]["cases"], 7);
    assert_eq!(record["summary"]["passed"], 1);
    assert_eq!(record["summary"]["skipped"], 6);
    assert_eq!(record["summary"]["failed"], 0);
    assert_eq!(record["cases"][1]["status"], "skipped");
}

/// The `source` of every case in a `--json` record, in order.
fn json_sources(path: &std::path::Path) -> Vec<String> {
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    record["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source"].as_str().unwrap().to_owned())
        .collect()
}

/// How many of `total` cases shard `shard` of 3 takes (positions i with i % 3 == shard - 1).
fn mine_count(total: usize, shard: usize) -> usize {
    (0..total).filter(|i| i % 3 == shard - 1).count()
}

#[test]
fn the_shards_of_a_suite_run_each_case_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    // The bundled cases and 3 generated per workload, every one run under the seed
    // contract.
    let suite = [
        "--contract",
        "seed",
        "--generate",
        "3",
        "--seed",
        "9",
        "cases",
    ];
    let everything = dir.path().join("all.json");
    let mut args = vec!["cases", "--json", everything.to_str().unwrap()];
    args.extend(suite);
    let out = eddy(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut all = json_sources(&everything);
    let total = BUNDLED + 3 * workloads();
    assert_eq!(all.len(), total);
    let mut from_shards = Vec::new();
    for (k, partition) in ["1/3", "count:2/3", "3/3"].into_iter().enumerate() {
        let json = dir.path().join(format!("shard-{k}.json"));
        let junit = dir.path().join(format!("shard-{k}.xml"));
        let mut args = vec![
            "cases",
            "--partition",
            partition,
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ];
        args.extend(suite);
        let out = eddy(&args);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(0), "{partition}: {shown}");
        let shard = k + 1;
        assert!(
            shown.contains(&format!(
                "shard {shard}/3: {} of {total} cases\n",
                mine_count(total, shard)
            )),
            "{partition}: {shown}"
        );
        let passed = format!("{} passed, 0 failed, 0 skipped", mine_count(total, shard));
        assert!(shown.contains(&passed), "{shown}");
        // Both reports hold the shard's cases and only those.
        let mine = json_sources(&json);
        assert_eq!(
            mine.len(),
            mine_count(total, shard),
            "{partition}: {mine:?}"
        );
        let xml = std::fs::read_to_string(&junit).unwrap();
        let report = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        assert_eq!(report.tests, mine_count(total, shard));
        let classnames: Vec<String> = report.test_suites[0]
            .test_cases
            .iter()
            .map(|c| c.classname.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(classnames, mine, "{partition}");
        from_shards.extend(mine);
    }
    all.sort();
    from_shards.sort();
    assert_eq!(from_shards, all, "every case once, none twice");
}

#[test]
fn a_shard_of_few_cases_may_be_empty_and_plain_k_n_means_count() {
    let out = eddy(&["cases", "--partition", "9/9", "cases/seed/000-lease-1.case"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("shard 9/9: 0 of 1 cases"), "{shown}");
    assert!(shown.contains("0 passed, 0 failed, 0 skipped"), "{shown}");
    let seed = |partition: &str| {
        let out = eddy(&["cases", "-v", "--partition", partition, "cases/seed"]);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(0), "{shown}");
        let mut run: Vec<String> = shown
            .lines()
            .filter(|l| l.starts_with("PASS ") || l.starts_with("SKIP "))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
            .collect();
        run.sort();
        run
    };
    let plain = seed("2/3");
    assert_eq!(plain, seed("count:2/3"));
    // Sorted by source and dealt round-robin: the 2nd, 5th and 8th of the eight (the
    // last one skipped under Maelstrom's contract, but in the shard all the same).
    assert_eq!(
        plain,
        [
            "cases/seed/000-lease-2.case",
            "cases/seed/003-heartbeat-1.case",
            "cases/seed/004-pn-counter-2.case"
        ]
    );
}

#[test]
fn bad_partitions_are_refused_with_one_line() {
    for partition in ["0/3", "4/3", "a/b", "1/0", "3", "count:0/2", "slice:1/2"] {
        let out = eddy(&["cases", "--partition", partition, "cases/seed"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{partition}: {}", text(&out));
        assert_eq!(stderr.lines().count(), 1, "{partition}: {stderr}");
        assert!(
            stderr.starts_with("eddy cases: --partition"),
            "{partition}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing ran: {}", text(&out));
    }
    // Shards must generate the same cases: --generate with --partition needs --seed.
    let out = eddy(&["cases", "--partition", "1/2", "--generate", "3"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(text(&out).contains("needs --seed"), "{}", text(&out));
}
