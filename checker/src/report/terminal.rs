//! What a person sees: a line per case (failures always, passes and skips when few or
//! asked for), the reasons under each failure, and a closing summary.

use super::Tally;
use crate::cases::suite::CaseResult;
use crate::cases::verdict::{Status, Verdict};
use std::fmt::Write;

/// The line (and explanation) for one finished case.
pub fn case_block(result: &CaseResult) -> String {
    let label = match result.verdict.status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::NodeError => "NODE",
        Status::Skipped => "SKIP",
    };
    let v = &result.verdict;
    if v.status == Status::Skipped {
        return format!(
            "{label} {}  {}  ({})\n",
            result.case.source,
            result.case.name,
            v.notes.join("; ")
        );
    }
    let mut out = format!(
        "{label} {}  {}  [{}/{} lines, {} ms]\n",
        result.case.source,
        result.case.name,
        v.matched,
        v.expected,
        result.transcript.elapsed.as_millis()
    );
    if v.status != Status::Pass {
        for line in describe_failures(v).lines() {
            let _ = writeln!(out, "     {line}");
        }
    }
    for note in &v.notes {
        let _ = writeln!(out, "     note: {note}");
    }
    out
}

/// Every failure of a verdict: `rule: summary`, then its detail lines indented.
pub fn describe_failures(verdict: &Verdict) -> String {
    let mut out = String::new();
    for failure in &verdict.failures {
        let _ = writeln!(out, "{}: {}", failure.rule.name(), failure.summary);
        for line in &failure.detail {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}

/// How many of `results` were skipped (they need another contract).
pub fn skipped(results: &[CaseResult]) -> usize {
    results
        .iter()
        .filter(|r| r.verdict.status == Status::Skipped)
        .count()
}

/// The closing lines: counts and time, then the plain `N passed, N failed, N skipped` line
/// that CI systems read.
pub fn summary(tally: &Tally, results: &[CaseResult], elapsed: std::time::Duration) -> String {
    let skipped = skipped(results);
    format!(
        "{} cases in {:.2} s: {} passed, {} failed, {} skipped, {} could not run the node\n{} passed, {} failed, {} skipped\n",
        tally.cases,
        elapsed.as_secs_f64(),
        tally.passed,
        tally.failed,
        skipped,
        tally.node_errors,
        tally.passed,
        tally.failed + tally.node_errors,
        skipped
    )
}
