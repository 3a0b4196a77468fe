//! Scripted single-node conformance cases (SPEC section 2): case files, running one case
//! against a fresh node process, matching its output, and generated cases from models.

pub mod bundled;
pub mod format;
pub mod generate;
pub mod matcher;
pub mod runner;
pub mod shard;
pub mod suite;
pub mod verdict;

use crate::contract::Contract;
use crate::schema::Catalogue;
use serde_json::Value;
use std::time::Duration;

/// The timeout of a case that names none (the seed pages' 5000 ms).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);

/// Why a case that needs the seed contract is not run under Maelstrom's.
pub const NEEDS_SEED: &str = "needs --contract seed";

/// How cases are judged: under which contract, and against which message schemas (a case
/// does not say which workload it is for, so every registered workload's apply).
#[derive(Debug, Clone)]
pub struct Rules {
    /// The contract.
    pub contract: Contract,
    /// The schemas replies and node-to-node messages must fit.
    pub schemas: Catalogue,
}

/// One scripted case: lines to feed one fresh node, and the lines expected back.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// A short human name.
    pub name: String,
    /// Where it came from: `path` or `path#N` (the N-th case in the file), or `generated/...`.
    pub source: String,
    /// How long the node has to answer `init`, and then, counted from its answer, every
    /// other request.
    pub timeout: Duration,
    /// The contract whose rules the case tests: [`Contract::Maelstrom`] cases run under
    /// both contracts, [`Contract::Seed`] cases only under `--contract seed`.
    pub contract: Contract,
    /// Match the expected lines as an ordered subsequence of the output (`ordered: true`)
    /// instead of in any order.
    pub ordered: bool,
    /// Write a request as soon as its own client's earlier requests (and `init`) are
    /// answered (`concurrent: true`), instead of once every earlier request is.
    pub concurrent: bool,
    /// The workload a generated case was made for, if any: the bundled reference node
    /// runs it pinned to that workload (`eddy node --workload NAME`), as `eddy test` runs
    /// it, since Maelstrom's workloads give `add` and `read` meanings of their own that a
    /// node serving every workload at once cannot tell apart.
    pub workload: Option<String>,
    /// What to feed, in order.
    pub steps: Vec<Step>,
    /// Expected output lines (may hold matchers).
    pub expected: Vec<Value>,
}

/// One step of a case's input.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Write this line exactly as given.
    Send(String),
    /// Wait before the next step.
    Sleep(Duration),
}

impl Case {
    /// A case with the defaults of a file that names no header: 5000 ms, Maelstrom's
    /// contract, any order, one request in flight.
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Case {
        Case {
            name: name.into(),
            source: source.into(),
            timeout: DEFAULT_TIMEOUT,
            contract: Contract::Maelstrom,
            ordered: false,
            concurrent: false,
            workload: None,
            steps: Vec::new(),
            expected: Vec::new(),
        }
    }

    /// The lines the case feeds, in order.
    pub fn input_lines(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|step| match step {
            Step::Send(line) => Some(line.as_str()),
            Step::Sleep(_) => None,
        })
    }

    /// True when the case belongs to the workload named `workload` (what `eddy cases -w`
    /// selects): the workload its `workload:` header names, if it has one; else a folder of
    /// its source path is named after the workload (`cases/pn-counter/counter.case`), or
    /// its file name is, once a leading number and a trailing one are taken off
    /// (`cases/seed/004-pn-counter-1.case`). Names must match whole: `lease` is not
    /// `lease-read`. A case of neither (`cases/protocol/...`) belongs to no workload.
    pub fn is_of(&self, workload: &str) -> bool {
        if let Some(own) = &self.workload {
            return own == workload;
        }
        let path = self.source.split('#').next().unwrap_or_default();
        path.split('/').any(|part| {
            let stem = part.strip_suffix(".case").unwrap_or(part);
            let stem = stem
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .strip_prefix('-')
                .filter(|_| stem.starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or(stem);
            let stem = match stem.rsplit_once('-') {
                Some((head, tail))
                    if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    head
                }
                _ => stem,
            };
            stem == workload
        })
    }

    /// True when the case runs under `contract` (a seed-only case does not run under
    /// Maelstrom's).
    pub fn runs_under(&self, contract: Contract) -> bool {
        !(self.contract == Contract::Seed && contract == Contract::Maelstrom)
    }
}

#[cfg(test)]
mod tests {
    use super::Case;

    #[test]
    fn a_case_belongs_to_the_workload_of_its_header_folder_or_file_name() {
        let of = |source: &str, workload: &str| Case::new("x", source).is_of(workload);
        assert!(of("cases/seed/004-pn-counter-1.case", "pn-counter"));
        assert!(of("cases/seed/001-lease-read-2.case", "lease-read"));
        assert!(!of("cases/seed/001-lease-read-2.case", "lease"));
        assert!(of("cases/seed/000-lease-1.case", "lease"));
        assert!(of("cases/lease/lease.case#4", "lease"));
        assert!(!of("cases/lease/lease.case#4", "lease-read"));
        assert!(of("cases/pn-counter/counter.case#1", "pn-counter"));
        assert!(!of("cases/protocol/envelope.case#1", "echo"));
        assert!(of("my/echo.case", "echo"));
        let mut pinned = Case::new("x", "cases/lease/saved.case");
        pinned.workload = Some("raft".into());
        assert!(pinned.is_of("raft") && !pinned.is_of("lease"));
    }
}
