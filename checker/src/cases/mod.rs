//! Scripted single-node conformance cases (SPEC section 2): case files, running one case
//! against a fresh node process, matching its output, and generated cases from models.

pub mod format;
pub mod generate;
pub mod matcher;
pub mod runner;
pub mod suite;
pub mod verdict;

use serde_json::Value;
use std::time::Duration;

/// The timeout of a case that names none (the seed pages' 5000 ms).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);

/// One scripted case: lines to feed one fresh node, and the lines expected back.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// A short human name.
    pub name: String,
    /// Where it came from: `path` or `path#N` (the N-th case in the file), or `generated/...`.
    pub source: String,
    /// How long the node has to answer every request.
    pub timeout: Duration,
    /// What to feed, in order.
    pub steps: Vec<Step>,
    /// Expected output lines, matched as an ordered subsequence (may hold matchers).
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
    /// The lines the case feeds, in order.
    pub fn input_lines(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|step| match step {
            Step::Send(line) => Some(line.as_str()),
            Step::Sleep(_) => None,
        })
    }
}
