//! Reports from one stream of case results: the terminal, a JSON record, JUnit XML.

pub mod faults;
pub mod json;
pub mod junit;
pub mod page;
pub mod run;
pub mod terminal;
pub mod timeline;

use crate::cases::suite::CaseResult;
use crate::cases::verdict::Status;
use crate::exit::Outcome;
use serde::Serialize;

/// Counts over a run of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Cases run.
    pub cases: usize,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases whose node could not be run.
    pub node_errors: usize,
}

impl Tally {
    /// Counts `results`.
    pub fn of(results: &[CaseResult]) -> Tally {
        let count = |s: Status| results.iter().filter(|r| r.verdict.status == s).count();
        Tally {
            cases: results.len(),
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            node_errors: count(Status::NodeError),
        }
    }

    /// The exit outcome: a node that could not be run at all outranks failures.
    pub fn outcome(&self) -> Outcome {
        if self.node_errors > 0 {
            Outcome::NodeError
        } else if self.failed > 0 {
            Outcome::Invalid
        } else {
            Outcome::Valid
        }
    }
}
