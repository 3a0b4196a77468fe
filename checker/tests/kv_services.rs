//! Maelstrom's services on real processes: a node written the way Maelstrom's
//! lin_kv_proxy demo writes one (`fixtures/maelstrom_kv_proxy.py`) serves the raft
//! workload's read, write and cas by forwarding each to a service. On `lin-kv` it is
//! linearizable; on `seq-kv` and `lww-kv` the linearizability check catches the stale
//! reads those stores serve, with a witness in words, so the services really serve their
//! models' anomalies. The traffic goes through the network model (latency and loss, never
//! partitions) into `net.jsonl`, and a seed reproduces the services' answers. Ids taken
//! from `lin-tso` never repeat (`fixtures/maelstrom_tso_ids.py`).

mod support;

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// The proxy forwarding to `service`, as a node command.
fn proxy(service: &str) -> String {
    format!(
        "python3 {} --service {service}",
        support::fixture("maelstrom_kv_proxy.py")
    )
}

/// A short run: three nodes, three seconds.
const SHORT: [&str; 4] = ["--node-count", "3", "--time-limit", "3"];

/// The `net.jsonl` lines of the run in `store`.
fn net_lines(store: &Path) -> Vec<Value> {
    std::fs::read_to_string(store.join("latest/net.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_lin_kv_proxy_is_linearizable_and_seq_kv_and_lww_kv_proxies_are_caught() {
    let _turn = support::take_turn();
    for seed in ["1", "2"] {
        let runs: Vec<(String, Vec<&str>, &str)> = ["lin-kv", "seq-kv", "lww-kv"]
            .iter()
            .map(|service| (proxy(service), SHORT.to_vec(), seed))
            .collect();
        let results = support::sim_runs("raft", &runs);
        let (code, fine, _) = &results[0];
        assert_eq!(*code, 0, "seed {seed}: {:?}", support::failed(fine));
        assert_eq!(support::check(fine, "linearizable")["valid"], true);
        for (service, (code, caught, _)) in ["seq-kv", "lww-kv"].iter().zip(&results[1..]) {
            assert_eq!(
                *code,
                1,
                "{service} seed {seed}: {:?}",
                support::failed(caught)
            );
            // The stale reads are the only fault: the proxy itself keeps the protocol.
            let failed = support::failed(caught);
            assert!(
                failed.len() == 1 && failed[0].starts_with("\"linearizable\""),
                "{service} seed {seed}: {failed:?}"
            );
            let why = support::first_why(caught, "linearizable");
            assert!(
                why.starts_with("read of ") && why.contains("completed at"),
                "{service} seed {seed}: {why}"
            );
        }
    }
}

#[test]
fn service_traffic_goes_through_the_network_model_into_net_jsonl() {
    let _turn = support::take_turn();
    let store = tempfile::tempdir().unwrap();
    let args = [
        &SHORT[..],
        &[
            "--latency",
            "5",
            "--latency-dist",
            "constant",
            "--loss",
            "0.1",
            "--timeout",
            "1",
            "--nemesis",
            "partition",
            "--nemesis-interval",
            "0.5",
            "--seed",
            "4",
        ],
    ]
    .concat();
    let (code, results, _) = support::sim_run_in(store.path(), "raft", &proxy("lin-kv"), &args);
    assert_eq!(code, 0, "{:?}", support::failed(&results));
    assert_eq!(support::check(&results, "destinations")["valid"], true);
    let lines = net_lines(store.path());
    // Requests: from the nodes to lin-kv, each 5 ms on the wire or lost.
    let requests: Vec<&Value> = lines.iter().filter(|l| l["dest"] == "lin-kv").collect();
    let replies: Vec<&Value> = lines.iter().filter(|l| l["writer"] == "lin-kv").collect();
    assert!(
        requests.len() > 50 && replies.len() > 50,
        "{} requests, {} replies",
        requests.len(),
        replies.len()
    );
    for line in requests.iter().chain(&replies) {
        match line["deliver"].as_u64() {
            Some(at) => assert!(at - line["send"].as_u64().unwrap() >= 5_000_000, "{line}"),
            None => assert_eq!(line["drop"], "loss", "{line}"),
        }
    }
    // Partitions split only the nodes: no service line is cut off.
    let history = std::fs::read_to_string(store.path().join("latest/history.jsonl")).unwrap();
    assert!(history.contains("\"partition\""), "no partition in the run");
    let lost = |lines: &[&Value]| lines.iter().filter(|l| l["drop"] == "loss").count();
    assert!(
        lost(&requests) > 0 && lost(&replies) > 0,
        "loss never hit service traffic"
    );
    // Every reply answers a request that reached lin-kv, from the node it goes back to.
    let served: HashMap<(String, u64), &Value> = requests
        .iter()
        .filter(|r| r["deliver"].is_u64())
        .map(|r| {
            (
                (
                    r["src"].as_str().unwrap().to_owned(),
                    r["body"]["msg_id"].as_u64().unwrap(),
                ),
                *r,
            )
        })
        .collect();
    assert_eq!(replies.len(), served.len());
    for reply in &replies {
        assert_eq!(reply["src"], "lin-kv");
        assert!(reply["body"].get("msg_id").is_none(), "{reply}");
        let key = (
            reply["dest"].as_str().unwrap().to_owned(),
            reply["body"]["in_reply_to"].as_u64().unwrap(),
        );
        let request = served
            .get(&key)
            .unwrap_or_else(|| panic!("{reply} answers nothing"));
        assert!(
            reply["send"].as_u64() >= request["deliver"].as_u64(),
            "{reply}"
        );
    }
    // Services are no clients: no event of the history is theirs (a node's error reply
    // may well name the service that did not answer it).
    for line in history.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert!(
            event["process"] != "lin-kv" && event["node"] != "lin-kv",
            "a history event of the service: {event}"
        );
    }
}

#[test]
fn a_seed_reproduces_the_services_answers() {
    let _turn = support::take_turn();
    // One client: the services see the same requests in the same order in both runs.
    let args = [&SHORT[..], &["--concurrency", "1", "--seed", "5"]].concat();
    let answers: Vec<Vec<Value>> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let store = tempfile::tempdir().unwrap();
                    let (code, results, _) =
                        support::sim_run_in(store.path(), "raft", &proxy("seq-kv"), &args);
                    assert!(code <= 1, "{:?}", support::failed(&results));
                    net_lines(store.path())
                        .into_iter()
                        .filter(|l| l["writer"] == "seq-kv")
                        .map(|l| serde_json::json!([l["dest"], l["body"]]))
                        .collect::<Vec<Value>>()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    // The runs may end after different numbers of operations (the machine's speed), and
    // the final reads (3 nodes x 5 keys) follow: compare what both ran before those.
    let common = answers[0].len().min(answers[1].len()) - 15;
    assert!(common > 20, "only {common} answers in common");
    assert_eq!(answers[0][..common], answers[1][..common]);
}

#[test]
fn ids_from_lin_tso_are_unique_and_a_seq_kv_counter_hands_out_duplicates() {
    // lin-tso on real processes: timestamps never repeat across nodes, so ids taken from
    // it pass unique-ids under its default partitions; a counter read and written back in
    // seq-kv repeats ids.
    let _turn = support::take_turn();
    let ids = format!("python3 {}", support::fixture("maelstrom_tso_ids.py"));
    let args = vec!["--time-limit", "3", "--nemesis", "partition"];
    let runs = vec![
        (ids.clone(), args.clone(), "1"),
        (format!("{ids} --broken"), args, "1"),
    ];
    let results = support::sim_runs("unique-ids", &runs);
    let (code, fine, _) = &results[0];
    assert_eq!(*code, 0, "{:?}", support::failed(fine));
    let (code, broken, _) = &results[1];
    assert_eq!(*code, 1, "{:?}", support::failed(broken));
    let why = support::first_why(broken, "unique-ids");
    assert!(why.contains("was handed out twice"), "{why}");
}
