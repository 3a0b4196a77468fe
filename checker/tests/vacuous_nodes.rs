//! Nothing vacuous (SPEC section 6): a node that keeps the protocol's letter but does nothing
//! useful is never judged valid, in any workload. The fixture `vacuous.py` answers `init`
//! and then refuses everything (error 11), answers nothing, forwards every client request
//! to a service that does not exist (`lin-queue`), answers everything with an indefinite error
//! (1000), or answers with the right reply types but ill-typed fields; for heartbeat also a
//! master that takes heartbeats but refuses `server_status`. Each test runs one workload's
//! modes side by side, for three seconds each, and collects every failed expectation
//! before failing, so that one run shows them all. Maelstrom's workloads are run with the
//! refusing and the silent node, all at once.

mod support;

use serde_json::Value;

/// Seconds of client operations in every run, and the clients' reply timeout: short runs,
/// and silent nodes time their requests out well inside them.
const SHORT: [&str; 4] = ["--time-limit", "3", "--timeout", "1"];

/// The seed of every run.
const SEED: &str = "1";

/// The modes every workload runs.
const MODES: [&str; 5] = ["refuse", "silent", "forward", "indefinite", "ill-typed"];

/// The fixture in `mode`, as a node command line.
fn vacuous(mode: &str) -> String {
    format!("python3 {}", support::fixture("vacuous.py")) + " " + mode
}

/// The named check, if the run has it.
fn find<'a>(results: &'a Value, name: &str) -> Option<&'a Value> {
    results["checks"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
}

/// The summary, verdict and first witness of a check, for assertion messages.
fn describe(check: &Value) -> String {
    format!(
        "valid {}, summary {:?}, first witness {:?}",
        check["valid"],
        check["summary"].as_str().unwrap_or_default(),
        first_why(check)
    )
}

/// The `why` of a check's first witness (empty when it has none).
fn first_why(check: &Value) -> &str {
    check["witnesses"][0]["why"].as_str().unwrap_or_default()
}

/// A check's summary and every witness's `why`, together.
fn all_text(check: &Value) -> String {
    let mut text = check["summary"].as_str().unwrap_or_default().to_owned();
    for witness in check["witnesses"].as_array().into_iter().flatten() {
        text.push('\n');
        text.push_str(witness["why"].as_str().unwrap_or_default());
    }
    text
}

/// True when `text` names one of `names` in backticks.
fn names_one(text: &str, names: &[&str]) -> bool {
    names.iter().any(|n| text.contains(&format!("`{n}`")))
}

/// What a workload's vacuous runs must show.
struct Expect<'a> {
    workload: &'a str,
    /// Extra modes beyond [`MODES`].
    extra_modes: &'a [&'a str],
    /// The client operations (`f`) the workload issues.
    kinds: &'a [&'a str],
    /// The reply fields the ill-typed mode gets wrong.
    ill_fields: &'a [&'a str],
    /// eddy flags of this workload beyond [`SHORT`].
    flags: &'a [&'a str],
}

/// Runs every mode of `expect.workload` side by side and returns every expectation that
/// failed, each naming the mode and the check's summary.
fn judge(expect: &Expect) -> Vec<String> {
    let modes: Vec<&str> = MODES.iter().chain(expect.extra_modes).copied().collect();
    let runs: Vec<(String, Vec<&str>, &str)> = modes
        .iter()
        .map(|mode| (vacuous(mode), [&SHORT[..], expect.flags].concat(), SEED))
        .collect();
    let results = {
        let _turn = support::take_turn();
        support::sim_runs(expect.workload, &runs)
    };
    let mut failures = Vec::new();
    for (mode, (code, results, _)) in modes.iter().zip(&results) {
        let mut fail = |what: String| failures.push(format!("{} {mode}: {what}", expect.workload));
        let verdicts: Vec<String> = results["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| format!("{}={}", c["name"].as_str().unwrap_or("?"), c["valid"]))
            .collect();
        let verdicts = verdicts.join(", ");
        if *code == 0 {
            fail(format!("exit code 0 (checks: {verdicts})"));
        }
        if results["valid"] == true {
            fail(format!("results.json valid is true (checks: {verdicts})"));
        }
        // A check that must be `false` and whose first witness names one of `names`.
        let mut must_fail = |name: &str, names: &[&str]| match find(results, name) {
            None => fail(format!("no `{name}` check (checks: {verdicts})")),
            Some(check) => {
                if check["valid"] != false {
                    fail(format!("`{name}` is not false: {}", describe(check)));
                } else if !names_one(first_why(check), names) {
                    fail(format!(
                        "`{name}`'s first witness names none of {names:?}: {}",
                        describe(check)
                    ));
                }
            }
        };
        match *mode {
            "refuse" | "silent" | "forward" | "indefinite" => {
                must_fail("availability", expect.kinds)
            }
            "ill-typed" => must_fail("reply-schema", expect.ill_fields),
            "status-error" => must_fail("availability", &["server_status"]),
            other => unreachable!("mode {other}"),
        }
        if *mode == "forward" {
            match find(results, "destinations") {
                None => fail(format!("no `destinations` check (checks: {verdicts})")),
                Some(check) if check["valid"] == true => {
                    fail(format!("`destinations` is true: {}", describe(check)))
                }
                Some(check) if !all_text(check).contains("lin-queue") => fail(format!(
                    "`destinations` does not mention lin-queue: {}",
                    describe(check)
                )),
                Some(_) => {}
            }
        }
    }
    failures
}

/// Fails with every failed expectation, one a line.
fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} failed expectation(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn vacuous_lease_nodes_are_not_valid() {
    assert_none(judge(&Expect {
        workload: "lease",
        extra_modes: &[],
        kinds: &["acquire_lease", "check_lease"],
        ill_fields: &["expires_at", "valid", "remaining_ms"],
        flags: &[],
    }));
}

#[test]
fn vacuous_lease_read_nodes_are_not_valid() {
    assert_none(judge(&Expect {
        workload: "lease-read",
        extra_modes: &[],
        kinds: &["lease_read_config", "write", "cas", "read", "lease_read"],
        ill_fields: &["safe", "value", "network_round_trips"],
        flags: &[],
    }));
}

#[test]
fn vacuous_raft_nodes_are_not_valid() {
    assert_none(judge(&Expect {
        workload: "raft",
        extra_modes: &[],
        kinds: &["read", "write", "cas"],
        ill_fields: &["value"],
        flags: &[],
    }));
}

#[test]
fn vacuous_heartbeat_masters_are_not_valid() {
    assert_none(judge(&Expect {
        workload: "heartbeat",
        extra_modes: &["status-error"],
        kinds: &["heartbeat", "server_status"],
        ill_fields: &["chunks_to_delete", "servers"],
        flags: &[],
    }));
}

#[test]
fn vacuous_pn_counter_nodes_are_not_valid() {
    assert_none(judge(&Expect {
        workload: "pn-counter",
        extra_modes: &[],
        kinds: &["add", "read", "gossip_status"],
        ill_fields: &["value", "local_value"],
        // Vacuous counters never converge: a 1 s target keeps each probe to 5 s.
        flags: &["--convergence-target-ms", "1000"],
    }));
}

#[test]
fn maelstrom_workloads_are_never_valid_for_nodes_that_refuse_or_stay_silent() {
    // Every workload from Maelstrom, each with a node that refuses every request (error
    // 11) and one that answers nothing: all fourteen clusters side by side (the nodes do
    // next to nothing), none valid.
    let workloads = [
        "echo",
        "unique-ids",
        "broadcast",
        "g-set",
        "g-counter",
        "lin-kv",
        "kafka",
    ];
    let _turn = support::take_turn();
    let results: Vec<(String, support::SimRun)> = std::thread::scope(|scope| {
        let handles: Vec<_> = workloads
            .iter()
            .flat_map(|w| ["refuse", "silent"].map(|mode| (*w, mode)))
            .map(|(workload, mode)| {
                scope.spawn(move || {
                    // Waits nothing can end well are kept short: broadcast's recovery
                    // before the final reads, the counters' and sets' probe timeouts.
                    let quick: &[&str] = match workload {
                        "broadcast" => &["--recovery-s", "1"],
                        "g-set" => &["--g-set-target-ms", "1000"],
                        "g-counter" => &["--g-counter-target-ms", "1000"],
                        _ => &[],
                    };
                    let args = [&SHORT[..], &["--seed", SEED], quick].concat();
                    let run = support::sim_run(workload, &vacuous(mode), &args);
                    (format!("{workload} {mode}"), run)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let valid: Vec<&str> = results
        .iter()
        .filter(|(_, (code, results, _))| *code == 0 || results["valid"] == true)
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(valid.is_empty(), "judged valid: {valid:?}");
}
