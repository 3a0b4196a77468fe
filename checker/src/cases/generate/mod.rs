//! Generated cases: random scripts for each workload whose expectations come from an
//! executable model of the workload here in the checker, never from a node's output.
//!
//! Each case talks to a node that has just started, so elapsed real time inside a case is
//! small; fields that depend on time are matched within [`TOLERANCE_MS`] (see
//! [`crate::cases::matcher`]), and the generators avoid states whose expected answer would
//! flip inside that tolerance (a lease about to expire, a server about to be declared dead).

mod heartbeat;
mod kv;
mod lease;
mod pn_counter;

use super::{Case, Step, DEFAULT_TIMEOUT};
use crate::workload::Workload;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

/// Tolerance for time-dependent fields in generated cases, in milliseconds.
pub const TOLERANCE_MS: i64 = 1000;

/// Requests per generated case, at most (besides `init`).
pub const MAX_OPS: usize = 40;

/// `count` cases for each of `workloads`, reproducible from `seed`: case `i` of a workload
/// depends only on the seed, the workload and `i`.
pub fn generate(workloads: &[Workload], count: usize, seed: u64) -> Vec<Case> {
    let mut cases = Vec::new();
    for &workload in workloads {
        for i in 0..count {
            cases.push(generate_one(workload, seed, i));
        }
    }
    cases
}

/// Case `index` of `workload` for `seed`.
pub fn generate_one(workload: Workload, seed: u64, index: usize) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((workload as u64) << 40) | index as u64);
    let ops = rng.random_range(1..=MAX_OPS);
    let script = match workload {
        Workload::Lease => lease::script(&mut rng, ops),
        Workload::LeaseRead => kv::script(&mut rng, ops, true),
        Workload::Raft => kv::script(&mut rng, ops, false),
        Workload::Heartbeat => heartbeat::script(&mut rng, ops),
        Workload::PnCounter => pn_counter::script(&mut rng, ops),
    };
    script.into_case(
        format!("{workload} #{index}"),
        format!("generated/{workload}/seed-{seed}/{index}"),
    )
}

/// A script under construction: input lines and the replies the model expects.
pub struct Script {
    node: String,
    next_msg_id: u64,
    steps: Vec<Step>,
    expected: Vec<Value>,
}

impl Script {
    /// A script for node `n1` of a cluster of `ids`, starting with `init`.
    pub fn new(ids: &[&str]) -> Script {
        let mut script = Script {
            node: ids[0].to_owned(),
            next_msg_id: 1,
            steps: Vec::new(),
            expected: Vec::new(),
        };
        let init = json!({"type": "init", "node_id": ids[0], "node_ids": ids});
        script.request("c0", init, json!({"type": "init_ok"}));
        script
    }

    /// Feeds a request from `src` (a `msg_id` is added) and expects `reply` (a body
    /// pattern; `in_reply_to` is added) back to `src`.
    pub fn request(&mut self, src: &str, mut body: Value, mut reply: Value) {
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        body["msg_id"] = msg_id.into();
        reply["in_reply_to"] = msg_id.into();
        self.feed(src, body);
        self.expected
            .push(json!({"src": self.node, "dest": src, "body": reply}));
    }

    /// Feeds a message that wants no reply (no `msg_id`).
    pub fn notify(&mut self, src: &str, body: Value) {
        self.feed(src, body);
    }

    /// Feeds a request and expects an error with `code` back.
    pub fn bad_request(&mut self, src: &str, body: Value, code: u64) {
        self.request(src, body, json!({"type": "error", "code": code}));
    }

    fn feed(&mut self, src: &str, body: Value) {
        let line = json!({"src": src, "dest": self.node, "body": body});
        self.steps.push(Step::Send(line.to_string()));
    }

    /// The finished case.
    pub fn into_case(self, name: String, source: String) -> Case {
        Case {
            name,
            source,
            timeout: DEFAULT_TIMEOUT,
            steps: self.steps,
            expected: self.expected,
        }
    }
}

/// A request of an unknown type, which every node must answer with error 10.
fn unknown_type(script: &mut Script, rng: &mut ChaCha8Rng) {
    let kind = ["frobnicate", "lease_steal", "read_all", "shutdown"][rng.random_range(0..4)];
    script.bad_request("c1", json!({"type": kind}), 10);
}

/// `{"$range": [lo, hi]}`.
fn range(lo: i64, hi: i64) -> Value {
    json!({"$range": [lo, hi]})
}

/// Builds a body object from `(field, value)` pairs plus `type`.
fn body(kind: &str, fields: &[(&str, Value)]) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), kind.into());
    for (k, v) in fields {
        map.insert((*k).into(), v.clone());
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_cases_and_index_independent_of_count() {
        let a = generate(&Workload::ALL, 3, 7);
        let b = generate(&Workload::ALL, 3, 7);
        assert_eq!(a, b);
        assert_eq!(
            generate(&[Workload::Heartbeat], 5, 7)[2],
            generate(&[Workload::Heartbeat], 3, 7)[2]
        );
        assert_ne!(
            generate(&[Workload::Lease], 1, 7),
            generate(&[Workload::Lease], 1, 8)
        );
    }
}
