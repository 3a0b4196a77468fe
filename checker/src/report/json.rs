//! The machine-readable record of a case run (`--json FILE`).

use super::Tally;
use crate::cases::suite::CaseResult;
use crate::cases::verdict::{Failure, Status};
use crate::contract::Contract;
use serde::Serialize;

#[derive(Serialize)]
struct Record<'a> {
    eddy: &'static str,
    command: &'a str,
    contract: Contract,
    elapsed_ms: u128,
    /// The sandbox (`--sandbox`): its limits and which protections were in force; null
    /// without one.
    sandbox: Option<serde_json::Value>,
    /// The counts: `cases` is `passed + failed + skipped`.
    summary: Tally,
    cases: Vec<CaseRecord<'a>>,
}

#[derive(Serialize)]
struct CaseRecord<'a> {
    name: &'a str,
    source: &'a str,
    status: Status,
    matched: usize,
    expected: usize,
    elapsed_ms: u128,
    init_answered_ms: Option<f64>,
    failures: &'a [Failure],
    notes: &'a [String],
    stderr_tail: &'a [String],
}

/// The JSON text of a run's results under `contract`, in `sandbox` (its `to_json`) if any.
pub fn render(
    results: &[CaseResult],
    command: &str,
    contract: Contract,
    elapsed: std::time::Duration,
    sandbox: Option<serde_json::Value>,
) -> String {
    let record = Record {
        eddy: env!("CARGO_PKG_VERSION"),
        command,
        contract,
        elapsed_ms: elapsed.as_millis(),
        sandbox,
        summary: Tally::of(results),
        cases: results
            .iter()
            .map(|r| CaseRecord {
                name: &r.case.name,
                source: &r.case.source,
                status: r.verdict.status,
                matched: r.verdict.matched,
                expected: r.verdict.expected,
                elapsed_ms: r.transcript.elapsed.as_millis(),
                init_answered_ms: r.transcript.init_answered_ms,
                failures: &r.verdict.failures,
                notes: &r.verdict.notes,
                stderr_tail: &r.transcript.stderr_tail,
            })
            .collect(),
    };
    serde_json::to_string_pretty(&record).expect("the record serializes")
}
