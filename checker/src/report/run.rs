//! Reporting a simulated run: `results.json`, the terminal summary, and the [`RunSummary`]
//! every reporter of `eddy test` renders from (the `--test-count` lines and table, JUnit),
//! with the one rendering of a failed check they share.

use crate::check::{merged, CheckResult, Validity};
use crate::exit::Outcome;
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

/// What the report needs to know about the run besides its checks.
pub struct RunFacts<'a> {
    /// The command judging the run, which heads the summary: `eddy test` or `eddy check`.
    pub command: &'a str,
    /// The workload's name.
    pub workload: &'a str,
    /// The seed.
    pub seed: u64,
    /// Node ids.
    pub nodes: &'a [String],
    /// Every option, as stored.
    pub options: Value,
    /// The sandbox: limits and protections in force (null without one).
    pub sandbox: Value,
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
        "sandbox": facts.sandbox,
        "eddy": env!("CARGO_PKG_VERSION"),
    })
}

/// The name of the check that fails a run when a node crashed (exited by itself).
const CRASHES: &str = "crashes";

/// The first crash's `why`, when the `crashes` check failed the run: the failure most
/// likely to cause the others, named before them.
fn crash_first(checks: &[CheckResult]) -> Option<String> {
    let crashes = checks
        .iter()
        .find(|c| c.name == CRASHES && c.valid == Validity::Invalid)?;
    FailedCheck::of(crashes).witnesses.into_iter().next()
}

/// The terminal summary: verdict, the first crash's witness when a node crashed (`start
/// here: ...`), each check in a line under its kind (safety, liveness,
/// protocol, stats), witnesses of failed and unknown checks, the seed, the store, the
/// report page (when written) and the command to reproduce.
pub fn summary(
    facts: &RunFacts,
    checks: &[CheckResult],
    store: &str,
    report: Option<&str>,
) -> String {
    let mut out = String::new();
    let verdict = verdict(facts, checks);
    let _ = writeln!(
        out,
        "{}: {} on {} nodes, seed {}: {}",
        facts.command,
        facts.workload,
        facts.nodes.len(),
        facts.seed,
        verdict.word().to_uppercase()
    );
    if let Some(why) = crash_first(checks) {
        let _ = writeln!(out, "  start here: {why}");
    }
    if let Some(why) = facts.stopped {
        let _ = writeln!(out, "  stopped early: {why}");
    }
    if let Some(line) = crate::sandbox::summary_line(&facts.sandbox) {
        let _ = writeln!(out, "  {line}");
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
            if is_failed(check) {
                out.push_str(&FailedCheck::of(check).render("    ", FailedCheck::WITNESSES));
            } else {
                out.push_str(&check_line(
                    "    ",
                    &check.name,
                    check.valid,
                    &check.summary,
                ));
            }
        }
    }
    for picture in &facts.pictures {
        let _ = writeln!(out, "  picture: {picture}");
    }
    let _ = writeln!(out, "  store: {store}");
    if let Some(report) = report {
        let _ = writeln!(out, "  report: {report}");
    }
    let _ = writeln!(out, "  reproduce: {}", facts.reproduce);
    out
}

/// True for a check that did not pass: invalid or unknown.
fn is_failed(check: &CheckResult) -> bool {
    matches!(check.valid, Validity::Invalid | Validity::Unknown)
}

/// One check in one line after `indent`: name and verdict in columns, then its summary.
fn check_line(indent: &str, name: &str, valid: Validity, summary: &str) -> String {
    format!("{indent}{name:<17} {:<8} {summary}\n", valid.word())
}

/// A check that did not pass, as the run's summary keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedCheck {
    /// The check's name.
    pub name: String,
    /// Invalid or unknown.
    pub valid: Validity,
    /// Its one-line summary.
    pub summary: String,
    /// The `why` of its first witnesses (at most [`FailedCheck::WITNESSES`]), each as one text.
    pub witnesses: Vec<String>,
}

impl FailedCheck {
    /// How many witnesses of a failed check are kept and shown at most.
    pub const WITNESSES: usize = 5;

    /// A check that did not pass, with the `why` of its first witnesses (the whole witness
    /// when it has no `why`).
    pub fn of(check: &CheckResult) -> FailedCheck {
        FailedCheck {
            name: check.name.clone(),
            valid: check.valid,
            summary: check.summary.clone(),
            witnesses: check
                .witnesses
                .iter()
                .take(Self::WITNESSES)
                .map(|w| {
                    w["why"]
                        .as_str()
                        .map_or_else(|| w.to_string(), str::to_owned)
                })
                .collect(),
        }
    }

    /// The one rendering of a failed check, which the run's summary, the `--test-count`
    /// lines and JUnit share: its line (name and verdict in columns, then its summary),
    /// then its first `witnesses` witnesses, one `witness: ...` line each, indented four
    /// more; every line after `indent`.
    pub fn render(&self, indent: &str, witnesses: usize) -> String {
        let mut out = check_line(indent, &self.name, self.valid, &self.summary);
        for witness in self.witnesses.iter().take(witnesses) {
            let _ = writeln!(out, "{indent}    witness: {witness}");
        }
        out
    }
}

/// The checks of `checks` that did not pass, the most causal first (so the first witness
/// of a run, in the `--test-count` table and JUnit, is its cause rather than a follow-on):
/// a failed `crashes` (a node that died explains the requests nobody served), then invalid
/// safety checks, then other invalid ones, then unknown ones; in their order otherwise.
pub fn failed_checks(checks: &[CheckResult]) -> Vec<FailedCheck> {
    let mut failed: Vec<&CheckResult> = checks.iter().filter(|c| is_failed(c)).collect();
    failed.sort_by_key(|c| match (c.valid, c.name.as_str(), c.kind) {
        (Validity::Invalid, CRASHES, _) => 0,
        (Validity::Invalid, _, crate::check::CheckKind::Safety) => 1,
        (Validity::Invalid, _, _) => 2,
        _ => 3,
    });
    failed.into_iter().map(FailedCheck::of).collect()
}

/// What one judged run left: enough for the table of `--test-count`, the JUnit report and
/// the exit status.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The workload.
    pub workload: &'static str,
    /// The run's seed.
    pub seed: u64,
    /// Valid, invalid, unknown, the node could not be run, or interrupted.
    pub outcome: Outcome,
    /// The checks that did not pass, the most causal first ([`failed_checks`]).
    pub failed: Vec<FailedCheck>,
    /// The first witness of the first failed check (its summary when it has none), or why
    /// the node could not be run, or `interrupted`.
    pub first_witness: Option<String>,
    /// The run folder.
    pub store: PathBuf,
    /// The command that runs the same schedule again.
    pub reproduce: String,
    /// The terminal summary of the run, as a single run prints it.
    pub text: String,
    /// Wall time of the run, checks included.
    pub elapsed: Duration,
}

impl RunSummary {
    /// The names of the checks that failed the run: the invalid ones, or when there are
    /// none the unknown ones.
    pub fn failed_names(&self) -> Vec<&str> {
        let invalid: Vec<&str> = self
            .failed
            .iter()
            .filter(|c| c.valid == Validity::Invalid)
            .map(|c| c.name.as_str())
            .collect();
        if invalid.is_empty() {
            self.failed.iter().map(|c| c.name.as_str()).collect()
        } else {
            invalid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckKind;

    /// A check named `name` with verdict `valid` and one witness saying `why`.
    fn check(name: &str, valid: Validity, why: &str) -> CheckResult {
        CheckResult {
            name: name.into(),
            kind: CheckKind::of(name),
            valid,
            summary: format!("{name} summary"),
            witnesses: vec![json!({ "why": why })],
            figures: json!({}),
        }
    }

    fn facts(stopped: Option<&str>) -> RunFacts<'_> {
        RunFacts {
            command: "eddy test",
            workload: "pn-counter",
            seed: 1,
            nodes: &[],
            options: json!({}),
            sandbox: Value::Null,
            reproduce: "eddy test",
            stopped,
            pictures: Vec::new(),
        }
    }

    #[test]
    fn the_crash_comes_first_then_safety_then_other_invalid_then_unknown() {
        let checks = [
            check("convergence", Validity::Unknown, "no quiet moment"),
            check(
                "availability",
                Validity::Invalid,
                "no `acquire_lease` was served",
            ),
            check("final-value", Validity::Invalid, "final read 3, expected 4"),
            check("stats", Validity::Valid, ""),
            check(
                "crashes",
                Validity::Invalid,
                "n0 exited with code 4 at 0.2 s",
            ),
        ];
        let names: Vec<String> = failed_checks(&checks).into_iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            ["crashes", "final-value", "availability", "convergence"]
        );
        let text = summary(&facts(Some("every node has exited")), &checks, "s", None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "  start here: n0 exited with code 4 at 0.2 s");
        assert_eq!(lines[2], "  stopped early: every node has exited");
        // The checks stay listed by kind: `crashes` under protocol, after the others.
        assert!(
            text.find("    final-value").unwrap() < text.find("    crashes").unwrap(),
            "{text}"
        );

        // Without a crash there is no such line, and invalid checks come before unknown.
        let checks = &checks[..4];
        assert_eq!(failed_checks(checks)[0].name, "final-value");
        assert!(!summary(&facts(None), checks, "s", None).contains("start here"));
    }
}
