//! The lease workload's checks, proven both ways on real processes: the reference stays
//! safe under drift inside its guard, partitions and pauses; a guard of 0, drift beyond the
//! guard, and a node that grants locally each show split-brain with a witness and a picture;
//! a node that overstates its lease in `check_lease` fails `lease-answers`.
//! Whether drift lands inside a lease hand-off depends on timing, so each broken mode gets
//! several seeds and must fail on at least one.

mod support;

use support::{check, first_why, reference_with, sim_runs};

#[test]
fn split_brain_is_caught_and_drawn_and_the_reference_is_safe() {
    let faults = [
        "--nemesis",
        "drift,partition,pause",
        "--nemesis-interval",
        "1",
    ];
    let drift = ["--nemesis", "drift", "--nemesis-interval", "1"];
    let short = ["--time-limit", "10"];
    // Drift beyond the default 2000 ms guard: offsets within 3000 ms, so a granter's clock
    // can gain and a holder's lose up to 6000 ms each; hand-offs are fewer, runs longer.
    let wide = ["--max-drift-ms", "3000", "--time-limit", "15"];
    let under_drift = [&drift[..], &short[..]].concat();
    let beyond = [&drift[..], &wide[..]].concat();
    let with_faults = [&faults[..], &short[..]].concat();
    let guard_0 = "--lease-guard-ms 0";
    let cases: Vec<(&str, &str, &[&str], &str)> = vec![
        ("reference", "", &with_faults, "1"),
        ("reference", "", &with_faults, "3"),
        ("guard 0", guard_0, &under_drift, "1"),
        ("guard 0", guard_0, &under_drift, "2"),
        ("guard 0", guard_0, &under_drift, "3"),
        ("beyond guard", "", &beyond, "1"),
        ("beyond guard", "", &beyond, "4"),
        ("beyond guard", "", &beyond, "6"),
        ("local grant", "--bug local-grant", &with_faults, "1"),
        ("stretched check", "--bug stretch-check", &with_faults, "1"),
    ];
    let runs: Vec<(String, Vec<&str>, &str)> = cases
        .iter()
        .map(|(_, flags, args, seed)| (reference_with(flags), args.to_vec(), *seed))
        .collect();
    let results = sim_runs("lease", &runs);
    for ((name, ..), (code, results, picture)) in cases.iter().zip(&results) {
        if *name == "reference" {
            assert_eq!(*code, 0, "{}", check(results, "split-brain"));
            assert_eq!(check(results, "lease-answers")["valid"], true);
            let holders = &check(results, "split-brain")["figures"]["holders"];
            assert!(
                holders.as_array().unwrap().len() >= 2,
                "the lease changed hands: {holders}"
            );
            assert!(picture.contains("no two holders at once"), "{picture:.300}");
        }
    }
    // A node that holds its lease safely but claims a second more in check_lease.
    let (_, (code, stretched, _)) = cases
        .iter()
        .zip(&results)
        .find(|((name, ..), _)| *name == "stretched check")
        .unwrap();
    assert_eq!(*code, 1);
    assert_eq!(check(stretched, "split-brain")["valid"], true);
    assert_eq!(check(stretched, "lease-answers")["valid"], false);
    assert!(
        first_why(stretched, "lease-answers").contains("but the latest lease it could hold"),
        "{}",
        check(stretched, "lease-answers")
    );
    for broken in ["guard 0", "beyond guard", "local grant"] {
        let caught: Vec<&support::SimRun> = cases
            .iter()
            .zip(&results)
            .filter(|((name, ..), (_, r, _))| {
                *name == broken && check(r, "split-brain")["valid"] == false
            })
            .map(|(_, r)| r)
            .collect();
        assert!(!caught.is_empty(), "{broken} was never caught");
        let (code, results, picture) = caught[0];
        assert_eq!(*code, 1);
        let why = first_why(results, "split-brain");
        assert!(
            why.starts_with("split-brain for ") && why.contains("offsets in force"),
            "{why}"
        );
        assert!(picture.contains("overlap(s) of two holders"), "{broken}");
        assert!(
            picture.contains("#DC1E1E"),
            "{broken}: overlaps are drawn in red"
        );
    }
}
