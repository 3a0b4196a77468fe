//! The model of a one-node `lease` cluster (SPEC 3.1) and its script generator.

use crate::cases::generate::{body, range, unknown_type, Script, TOLERANCE_MS};
use crate::contract::Contract;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// The lease as the model sees it, in local-clock milliseconds relative to the case start.
struct Model {
    offset: i64,
    expires: Option<i64>,
}

impl Model {
    fn remaining(&self) -> Option<i64> {
        self.expires.map(|at| at - self.offset)
    }
}

/// A script of `ops` random lease requests, drifts and bad requests.
pub fn script(rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
    let mut script = Script::new(&["n1"], contract);
    let mut model = Model {
        offset: 0,
        expires: None,
    };
    for _ in 0..ops {
        match rng.random_range(0..100) {
            0..=29 => {
                let duration = pick_duration(rng);
                let expires_at = json!({"$clock": model.offset + duration, "$tol": TOLERANCE_MS});
                script.request(
                    "c1",
                    json!({"type": "acquire_lease", "duration_ms": duration}),
                    json!({"type": "acquire_lease_ok", "expires_at": expires_at}),
                );
                model.expires = Some(model.offset + duration);
            }
            30..=59 => {
                let reply = match model.remaining() {
                    Some(left) if left > TOLERANCE_MS => body(
                        "check_lease_ok",
                        &[
                            ("valid", true.into()),
                            ("remaining_ms", range(left - TOLERANCE_MS, left)),
                        ],
                    ),
                    Some(left) if left > 0 => body(
                        "check_lease_ok",
                        &[
                            ("valid", json!({"$type": "boolean"})),
                            ("remaining_ms", range(0, left)),
                        ],
                    ),
                    _ => body(
                        "check_lease_ok",
                        &[("valid", false.into()), ("remaining_ms", 0.into())],
                    ),
                };
                script.request("c1", json!({"type": "check_lease"}), reply);
            }
            60..=79 => {
                let step = if rng.random_bool(0.2) {
                    rng.random_range(-200_000..=200_000)
                } else {
                    rng.random_range(-30_000..=30_000)
                };
                script.request(
                    "c1",
                    json!({"type": "simulate_drift", "offset_ms": step}),
                    json!({"type": "simulate_drift_ok"}),
                );
                model.offset += step;
            }
            80..=94 => {
                let bad = match rng.random_range(0..5) {
                    0 => json!({"type": "acquire_lease"}),
                    1 => json!({"type": "acquire_lease", "duration_ms": "5000"}),
                    2 => {
                        json!({"type": "acquire_lease", "duration_ms": -rng.random_range(0..1000)})
                    }
                    3 => json!({"type": "acquire_lease", "duration_ms": 12.5}),
                    _ => json!({"type": "simulate_drift", "offset_ms": "ten"}),
                };
                script.bad_request("c1", bad, 12);
            }
            _ => unknown_type(&mut script, rng),
        }
    }
    script
}

fn pick_duration(rng: &mut ChaCha8Rng) -> i64 {
    match rng.random_range(0..3) {
        0 => rng.random_range(1..2_000),
        1 => rng.random_range(2_000..20_000),
        _ => rng.random_range(20_000..120_000),
    }
}
