//! Reports from one stream of case results: the terminal, a JSON record, JUnit XML.

pub mod failure;
pub mod faults;
pub mod json;
pub mod junit;
pub mod messages;
pub mod page;
pub mod run;
pub mod svg;
pub mod terminal;
pub mod timeline;
pub mod witness_ops;

use crate::cases::suite::CaseResult;
use crate::cases::verdict::Status;
use crate::exit::Outcome;
use serde::Serialize;

/// Counts over a run of cases: every case is counted once, so `cases` is always
/// `passed + failed + skipped`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Cases in the run.
    pub cases: usize,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed (a node error in one case, when others ran, is a failure).
    pub failed: usize,
    /// Cases not run: they need another contract.
    pub skipped: usize,
}

impl Tally {
    /// Counts `results`.
    pub fn of(results: &[CaseResult]) -> Tally {
        let mut tally = Tally::default();
        for result in results {
            tally.add(result.verdict.status);
        }
        tally
    }

    /// Counts one more case.
    pub fn add(&mut self, status: Status) {
        self.cases += 1;
        match status {
            Status::Pass => self.passed += 1,
            Status::Fail | Status::NodeError => self.failed += 1,
            Status::Skipped => self.skipped += 1,
        }
    }

    /// The exit outcome: invalid when a case failed, else valid. (A node that cannot start
    /// stops `eddy cases` before anything is counted.)
    pub fn outcome(&self) -> Outcome {
        if self.failed > 0 {
            Outcome::Invalid
        } else {
            Outcome::Valid
        }
    }
}
