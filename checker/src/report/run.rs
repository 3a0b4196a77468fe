//! Reporting a simulated run: `results.json` and the terminal summary.

use crate::check::{merged, CheckResult, Validity};
use serde_json::{json, Value};
use std::fmt::Write;

/// What the report needs to know about the run besides its checks.
pub struct RunFacts<'a> {
    /// The workload's name.
    pub workload: &'a str,
    /// The seed.
    pub seed: u64,
    /// Node ids.
    pub nodes: &'a [String],
    /// Every option, as stored.
    pub options: Value,
    /// The command that runs the same schedule again.
    pub reproduce: &'a str,
    /// Why the run stopped early, if it did.
    pub stopped: Option<&'a str>,
    /// Pictures drawn of the run (paths).
    pub pictures: Vec<String>,
}

/// The verdict of a run: the merged checks, or unknown when the run stopped early.
pub fn verdict(facts: &RunFacts, checks: &[CheckResult]) -> Validity {
    match facts.stopped {
        Some(_) => Validity::Unknown.merge(merged(checks)),
        None => merged(checks),
    }
}

/// The `results.json` document.
pub fn results_json(facts: &RunFacts, checks: &[CheckResult]) -> Value {
    json!({
        "valid": verdict(facts, checks),
        "workload": facts.workload,
        "seed": facts.seed,
        "nodes": facts.nodes,
        "stopped_early": facts.stopped,
        "reproduce": facts.reproduce,
        "checks": checks,
        "pictures": facts.pictures,
        "options": facts.options,
        "eddy": env!("CARGO_PKG_VERSION"),
    })
}

/// The terminal summary: verdict, each check in a line under its kind (safety, liveness,
/// protocol, stats), witnesses of failed and unknown checks, the seed, the store and the
/// command to reproduce.
pub fn summary(facts: &RunFacts, checks: &[CheckResult], store: &str) -> String {
    let word = Validity::word;
    let mut out = String::new();
    let verdict = verdict(facts, checks);
    let _ = writeln!(
        out,
        "eddy test: {} on {} nodes, seed {}: {}",
        facts.workload,
        facts.nodes.len(),
        facts.seed,
        word(verdict).to_uppercase()
    );
    if let Some(why) = facts.stopped {
        let _ = writeln!(out, "  stopped early: {why}");
    }
    use crate::check::CheckKind;
    for kind in [
        CheckKind::Safety,
        CheckKind::Liveness,
        CheckKind::Protocol,
        CheckKind::Stats,
    ] {
        let of_kind: Vec<&CheckResult> = checks.iter().filter(|c| c.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {}", kind.word());
        for check in of_kind {
            let _ = writeln!(
                out,
                "    {:<17} {:<8} {}",
                check.name,
                word(check.valid),
                check.summary
            );
            if matches!(check.valid, Validity::Invalid | Validity::Unknown) {
                for witness in check.witnesses.iter().take(5) {
                    let text = witness["why"]
                        .as_str()
                        .map_or_else(|| witness.to_string(), str::to_owned);
                    let _ = writeln!(out, "        witness: {text}");
                }
            }
        }
    }
    for picture in &facts.pictures {
        let _ = writeln!(out, "  picture: {picture}");
    }
    let _ = writeln!(out, "  store: {store}");
    let _ = writeln!(out, "  reproduce: {}", facts.reproduce);
    out
}
