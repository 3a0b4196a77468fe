//! Generated single-node kafka cases: sends to a few keys, each answered `send_ok` with
//! an offset (the node chooses it: offsets may be sparse), polls, commits and listings
//! answered with their own reply types. Offsets are the node's choice, so the model
//! expects reply types and fields, and leaves their values to the simulated checks.

use crate::cases::generate::{range, Script};
use crate::contract::Contract;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// A script of `ops` kafka requests to one node.
pub fn script(rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
    let mut script = Script::new(&["n1"], contract);
    let keys = ["0", "1", "2"];
    for msg in 0..ops {
        let key = keys[rng.random_range(0..keys.len())];
        match rng.random_range(0..100) {
            0..=49 => script.request(
                "c1",
                json!({"type": "send", "key": key, "msg": msg}),
                json!({"type": "send_ok", "offset": range(0, i64::MAX)}),
            ),
            50..=74 => script.request(
                "c1",
                json!({"type": "poll", "offsets": {key: 0}}),
                json!({"type": "poll_ok"}),
            ),
            75..=87 => script.request(
                "c1",
                json!({"type": "commit_offsets", "offsets": {key: 0}}),
                json!({"type": "commit_offsets_ok"}),
            ),
            _ => script.request(
                "c1",
                json!({"type": "list_committed_offsets", "keys": [key]}),
                json!({"type": "list_committed_offsets_ok"}),
            ),
        }
    }
    script
}
