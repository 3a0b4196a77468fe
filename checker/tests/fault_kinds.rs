//! The fault kinds on real processes: partitions into halves, majorities rings, bridges and
//! the leader alone, leader pauses and kills and majority kills land as planned and where
//! they are aimed, clock steps against the lease holder skew it against every grantor, and
//! the reference stays valid through all of them. The nemesis plan comes from the seed
//! alone, so which kinds a seed draws does not depend on timing; whom a leader fault hits
//! does, and is checked against the traffic.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs `eddy test -w workload` with `args` on the reference into a fresh store; returns
/// the exit code, and the store (kept while the result lives).
fn run(workload: &str, args: &[&str]) -> (i32, tempfile::TempDir) {
    let store = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(["test", "-w", workload, "--contract", "seed", "--store"])
        .arg(store.path())
        .args(args)
        .output()
        .unwrap();
    assert!(
        store.path().join("latest/results.json").exists(),
        "{}",
        support::text(&out)
    );
    (out.status.code().unwrap(), store)
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn nemesis(store: &Path) -> Vec<Value> {
    lines(&store.join("latest/history.jsonl"))
        .into_iter()
        .filter(|e| e["process"] == "nemesis")
        .collect()
}

/// True when `node` is the leader eddy knew at `ns`: the last node to send `append_entries`
/// before then, which is whom a leader fault hits; or nobody had sent any yet (no leader
/// known: the fault hits the node drawn in advance). Faults here never overlap, so that
/// node is up when the next one fires.
fn led_just_before(net: &[Value], node: &str, ns: u64) -> bool {
    net.iter()
        .filter(|l| l["body"]["type"] == "append_entries")
        .filter(|l| l["send"].as_u64().unwrap_or(0) <= ns)
        .max_by_key(|l| l["send"].as_u64().unwrap_or(0))
        .is_none_or(|last| last["src"] == node)
}

#[test]
fn partitions_of_every_shape_and_leader_faults_land_where_planned() {
    let _turn = support::take_turn();
    let kinds = "partition-halves,partition-ring,partition-bridge,partition-leader,kill-leader,kill-majority,pause-leader";
    let args = |seed| {
        vec![
            "--nemesis",
            kinds,
            "--nemesis-interval",
            "0.4",
            "--time-limit",
            "4",
            "--seed",
            seed,
        ]
    };
    // Seeds 1-3 draw, between them, every shape of partition, pauses and kills of the
    // leader and kills of a majority.
    let runs: Vec<(i32, tempfile::TempDir)> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["1", "2", "3"]
            .map(|seed| scope.spawn(move || run("raft", &args(seed))))
            .into_iter()
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut shapes = std::collections::BTreeSet::new();
    let mut aimed = 0;
    for (code, store) in &runs {
        let results: Value = serde_json::from_str(
            &std::fs::read_to_string(store.path().join("latest/results.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(*code, 0, "{:?}", support::failed(&results));
        let net = lines(&store.path().join("latest/net.jsonl"));
        let events = nemesis(store.path());
        for e in &events {
            let at = e["time"].as_u64().unwrap();
            if e["f"] == "partition" {
                let kind = e["body"]["kind"].as_str().unwrap().to_owned();
                if kind == "leader" {
                    let alone = &e["body"]["groups"][0];
                    assert_eq!(alone.as_array().unwrap().len(), 1, "{e}");
                    assert!(led_just_before(&net, alone[0].as_str().unwrap(), at), "{e}");
                    aimed += 1;
                }
                if let Some(sees) = e["body"]["sees"].as_object() {
                    // Rings and bridges: every node hears itself and at least a majority
                    // (3 of 5) in a ring, and never everyone.
                    for (node, view) in sees {
                        let view = view.as_array().unwrap();
                        assert!(view.iter().any(|n| n == node), "{e}");
                        if kind == "ring" {
                            assert!((3..5).contains(&view.len()), "{e}");
                        }
                    }
                }
                shapes.insert(kind);
            }
        }
        // A pause or kill of one node alone is aimed at the leader (kill-majority takes 3).
        for (i, e) in events.iter().enumerate() {
            let at = e["time"].as_u64().unwrap();
            let alone = events
                .iter()
                .enumerate()
                .filter(|(j, o)| {
                    // The kills of one majority land a few hundred microseconds apart.
                    let then = o["time"].as_u64().unwrap();
                    *j != i && o["f"] == e["f"] && then.abs_diff(at) < 50_000_000
                })
                .count()
                == 0;
            if matches!(e["f"].as_str(), Some("pause" | "kill")) && alone {
                assert!(
                    led_just_before(&net, e["node"].as_str().unwrap(), at),
                    "{e} did not hit the leader"
                );
                aimed += 1;
            }
        }
    }
    for shape in ["halves", "ring", "bridge", "leader"] {
        assert!(shapes.contains(shape), "{shape} not drawn: {shapes:?}");
    }
    assert!(aimed >= 3, "{aimed} faults aimed at the leader");
}

#[test]
fn clock_steps_against_the_holder_skew_it_against_every_grantor() {
    let _turn = support::take_turn();
    let (code, store) = run(
        "lease",
        &[
            "--nemesis",
            "drift-leader",
            "--nemesis-interval",
            "0.5",
            "--time-limit",
            "3",
            "--seed",
            "1",
        ],
    );
    assert_eq!(code, 0);
    let history = lines(&store.path().join("latest/history.jsonl"));
    let drifts: Vec<&Value> = history
        .iter()
        .filter(|e| e["process"] == "nemesis" && e["f"] == "drift")
        .collect();
    assert!(!drifts.is_empty());
    // Each step is three drift events in a row; the last carries the offsets in force: the
    // holder at minus the bound, every other node at plus the bound. (The end of the run
    // steps every clock back to 0.)
    let (mut steps, mut at_holder) = (0, 0);
    for step in drifts.chunks(3).filter(|c| c.len() == 3) {
        let offsets = step[2]["body"]["offsets_ms"].as_object().unwrap();
        if offsets.values().all(|o| o == 0) {
            continue;
        }
        let back: Vec<&String> = offsets
            .iter()
            .filter(|(_, o)| o.as_i64() == Some(-500))
            .map(|(n, _)| n)
            .collect();
        let forward = offsets.values().filter(|o| o.as_i64() == Some(500)).count();
        assert_eq!((back.len(), forward), (1, 2), "{offsets:?}");
        steps += 1;
        // The holder is the node eddy last saw acquire the lease (before any did, a node
        // drawn in advance).
        let at = step[0]["time"].as_u64().unwrap();
        let holder = history
            .iter()
            .filter(|e| e["f"] == "acquire_lease" && e["type"] == "ok")
            .rfind(|e| e["time"].as_u64().unwrap() < at);
        if let Some(holder) = holder {
            assert_eq!(holder["node"], back[0].as_str(), "step at {at}");
            at_holder += 1;
        }
    }
    assert!(
        steps >= 2 && at_holder >= 2,
        "{steps} steps, {at_holder} at a holder"
    );
}
