//! Maelstrom's command lines run with `maelstrom` replaced by `eddy`: the flags Maelstrom's
//! guide and the Gossip Glomers exercises use (`--concurrency 2n`, `--log-stderr`,
//! `--log-net-send`, `--availability total`, ...) are accepted and mean what they mean
//! there.

mod support;

/// Runs `eddy ARGS --store <fresh>` and returns the exit status, the output and the run's
/// results.
fn eddy_in_store(args: &[&str]) -> (i32, String, serde_json::Value) {
    let store = tempfile::tempdir().unwrap();
    let mut all = args.to_vec();
    all.extend(["--store", store.path().to_str().unwrap()]);
    let out = support::eddy(&all);
    let results = std::fs::read_to_string(store.path().join("latest/results.json"))
        .unwrap_or_else(|e| panic!("{e}: {}", support::text(&out)));
    (
        out.status.code().unwrap(),
        support::text(&out),
        serde_json::from_str(&results).unwrap(),
    )
}

#[test]
fn the_guides_echo_command_runs_with_per_node_concurrency_and_node_stderr() {
    let _turn = support::take_turn();
    let echo = format!(
        "sh -c 'echo up >&2; exec python3 {}'",
        support::fixture("maelstrom_echo.py")
    );
    let (code, output, results) = eddy_in_store(&[
        "test",
        "-w",
        "echo",
        "--bin",
        &echo,
        "--node-count",
        "2",
        "--time-limit",
        "2",
        "--concurrency",
        "2n",
        "--log-stderr",
        "--log-net-send",
        "--log-net-recv",
        "--availability",
        "total",
    ]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(results["nodes"], serde_json::json!(["n0", "n1"]));
    assert_eq!(results["options"]["concurrency"], 4, "2n on 2 nodes");
    for id in ["n0", "n1"] {
        assert!(output.contains(&format!("{id}: up")), "{output}");
    }
}

#[test]
fn the_raft_tutorials_lin_kv_command_runs_shortened() {
    let _turn = support::take_turn();
    let raft = format!("python3 {}", support::fixture("maelstrom_raft.py"));
    let (code, output, results) = eddy_in_store(&[
        "test",
        "-w",
        "lin-kv",
        "--bin",
        &raft,
        "--node-count",
        "3",
        "--concurrency",
        "4n",
        "--rate",
        "30",
        "--time-limit",
        "6",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "10",
    ]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(results["options"]["concurrency"], 12);
}

#[test]
fn a_concurrency_that_is_neither_a_number_nor_per_node_is_refused_in_one_line() {
    let out = support::eddy(&["test", "-w", "echo", "--concurrency", "2x"]);
    assert_eq!(out.status.code(), Some(64));
    let text = support::text(&out);
    assert!(
        text.contains("`Nn` (N per node, as in `2n`), got `2x`"),
        "{text}"
    );
}
