//! Generated cases for the registered workloads: each workload's script generator and
//! model (its folder's `script`), seeded so that case `i` of a workload depends only on the
//! seed, the workload's name, the contract and `i`.

use super::Workload;
use crate::cases::generate::MAX_OPS;
use crate::cases::Case;
use crate::contract::Contract;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `count` cases for each of `workloads` under `contract`, reproducible from `seed`.
pub fn generate(workloads: &[Workload], count: usize, seed: u64, contract: Contract) -> Vec<Case> {
    let mut cases = Vec::new();
    for &workload in workloads {
        for i in 0..count {
            cases.push(generate_one(workload, seed, i, contract));
        }
    }
    cases
}

/// Case `index` of `workload` for `seed` under `contract`.
pub fn generate_one(workload: Workload, seed: u64, index: usize, contract: Contract) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((stream_of(workload.name()) << 40) | index as u64);
    let ops = rng.random_range(1..=MAX_OPS);
    let mut case = workload.script(&mut rng, ops, contract).into_case(
        format!("{workload} #{index}"),
        generated_source(workload, seed, index),
    );
    case.workload = Some(workload.name().to_owned());
    case
}

/// The `source` of case `index` of `workload` for `seed` (what [`generate_one`] gives it),
/// known without generating the case.
pub fn generated_source(workload: Workload, seed: u64, index: usize) -> String {
    format!("generated/{workload}/seed-{seed}/{index}")
}

/// The random stream of a workload's cases, from its name (FNV-1a, 24 bits; the case
/// index takes the 40 bits below): registering a workload never changes another's cases.
fn stream_of(name: &str) -> u64 {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash & 0xff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn all() -> Vec<Workload> {
        Workload::all().collect()
    }

    #[test]
    fn streams_differ_per_workload() {
        let streams: std::collections::BTreeSet<u64> =
            Workload::all().map(|w| stream_of(w.name())).collect();
        assert_eq!(streams.len(), Workload::all().count());
    }

    #[test]
    fn same_seed_same_cases_and_index_independent_of_count() {
        for contract in [Contract::Seed, Contract::Maelstrom] {
            let a = generate(&all(), 3, 7, contract);
            let b = generate(&all(), 3, 7, contract);
            assert_eq!(a, b);
            assert_eq!(
                generate(&[Workload::named("heartbeat").unwrap()], 5, 7, contract)[2],
                generate(&[Workload::named("heartbeat").unwrap()], 3, 7, contract)[2]
            );
            assert_ne!(
                generate(&[Workload::named("lease").unwrap()], 1, 7, contract),
                generate(&[Workload::named("lease").unwrap()], 1, 8, contract)
            );
            let sources = all()
                .into_iter()
                .flat_map(|w| (0..3).map(move |i| generated_source(w, 7, i)));
            assert!(a.iter().map(|c| c.source.clone()).eq(sources));
        }
    }

    const SEED_ONLY_KINDS: [&str; 6] = [
        "gossip_status",
        "replicate",
        "frobnicate",
        "lease_steal",
        "read_all",
        "shutdown",
    ];

    /// Request bodies without their `msg_id`, in order.
    fn bodies(case: &Case) -> Vec<Value> {
        case.input_lines()
            .map(|l| {
                let mut body = serde_json::from_str::<Value>(l).unwrap()["body"].clone();
                body.as_object_mut().unwrap().remove("msg_id");
                body
            })
            .collect()
    }

    /// How many steps only the seed contract asks for: seed-only request types, and
    /// requests expecting error 10 or 12.
    fn seed_only_steps(case: &Case) -> usize {
        let bad: Vec<&Value> = case
            .expected
            .iter()
            .filter(|e| [10, 12].contains(&e["body"]["code"].as_u64().unwrap_or(0)))
            .map(|e| &e["body"]["in_reply_to"])
            .collect();
        case.input_lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["body"].clone())
            .filter(|b| {
                SEED_ONLY_KINDS.contains(&b["type"].as_str().unwrap())
                    || bad.contains(&&b["msg_id"])
            })
            .count()
    }

    #[test]
    fn maelstrom_cases_leave_out_the_seed_steps_and_only_those() {
        let seed = generate(&all(), 40, 5, Contract::Seed);
        let maelstrom = generate(&all(), 40, 5, Contract::Maelstrom);
        let mut marked = 0;
        for (s, m) in seed.iter().zip(&maelstrom) {
            assert_eq!(seed_only_steps(m), 0, "{}", m.source);
            assert_eq!(m.contract, Contract::Maelstrom, "{}", m.source);
            let needs_seed = s.contract == Contract::Seed;
            assert_eq!(needs_seed, seed_only_steps(s) > 0, "{}", s.source);
            marked += usize::from(needs_seed);
            // The Maelstrom case is its seed twin with exactly the seed-only steps left out.
            let kept = bodies(m);
            let twin = bodies(s);
            assert_eq!(twin.len() - kept.len(), seed_only_steps(s), "{}", s.source);
            let mut rest = twin.iter();
            for body in &kept {
                assert!(rest.any(|b| b == body), "{}: {body} out of order", s.source);
            }
        }
        assert!(
            marked > 100,
            "most seed cases hold a seed-only step: {marked} of 200"
        );
    }
}
